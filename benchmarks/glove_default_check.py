"""GloVe's default against gensim's skip-gram, given only the corpus, in one process.

The check of issue 16, point 1: ``GloVe()`` (min_count 5, vector_size 100, nothing else)
against gensim's ``Word2Vec(sg=1, min_count=5, vector_size=100, workers=2)`` (gensim's
other defaults: window 5, 5 epochs), on PTB's training text and on gensim's Wikipedia
sample, seeds 0-2, gensim and ours alternating seed by seed. Quality: Spearman's rho on
WordSim-353 and SimLex-999, accuracy on questions-words.txt. Time: the whole call, vocabulary
included, on both sides (GloVe's counting plus fit is reported too). Runs in one process,
without the experiments engine, so that it can run niced beside other work; its times are
then indicative, the ratio being taken seed by seed. ``benchmarks.embeddings`` runs the
same models (and more) on the engine, each run alone.

    python -m benchmarks.glove_default_check [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from typing import Any

CORPORA = {"ptb": "PTB training text", "wiki": "gensim's Wikipedia sample"}


def evaluate(wv: Any) -> dict[str, float]:
    from gensim.test.utils import datapath

    return {"ws353": float(wv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1].statistic),
            "simlex": float(wv.evaluate_word_pairs(datapath("simlex999.txt"))[1].statistic),
            "analogy": float(wv.evaluate_word_analogies(datapath("questions-words.txt"))[0])}


def measure(seeds: tuple[int, ...] = (0, 1, 2)) -> list[dict[str, Any]]:
    from gensim.models import Word2Vec as GensimWord2Vec

    from groundup.datasets.text import ptb, wiki_sample
    from groundup.nlp import GloVe

    out = []
    for corpus in CORPORA:
        sentences = list(ptb("train")) if corpus == "ptb" else list(wiki_sample())
        for seed in seeds:
            start = time.perf_counter()
            g = GensimWord2Vec(sentences, sg=1, vector_size=100, min_count=5, workers=2, seed=seed)
            out.append({"corpus": corpus, "seed": seed, "model": "gensim-sg", "seconds": time.perf_counter() - start,
                        **evaluate(g.wv)})
            start = time.perf_counter()
            m = GloVe(seed=seed).fit(sentences)
            out.append({"corpus": corpus, "seed": seed, "model": "glove-svd", "seconds": time.perf_counter() - start,
                        "count_plus_fit": m.count_time_ + m.train_time_, **evaluate(m.wv)})
            print(json.dumps(out[-2]), json.dumps(out[-1]), sep="\n", flush=True)
    return out


def report(out: list[dict[str, Any]]) -> str:
    lines = []
    for corpus, name in CORPORA.items():
        runs = {model: [r for r in out if r["corpus"] == corpus and r["model"] == model] for model in ("gensim-sg", "glove-svd")}
        if not runs["gensim-sg"]:
            continue
        lines += [f"\n**{name}**\n", "| model | WordSim-353 ρ | SimLex-999 ρ | analogy accuracy | seconds (median) | "
                  "both ρ within 10% of gensim |", "|---|---|---|---|---|---|"]
        for model, label in (("gensim-sg", "gensim skip-gram, workers=2"), ("glove-svd", "groundup GloVe(), defaults")):
            rs = runs[model]

            def cell(key: str) -> str:
                values = [r[key] for r in rs]
                return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"

            seconds = f"{statistics.median(r['seconds'] for r in rs):.1f}"
            verdict = ""
            if model == "glove-svd":
                seconds += f" (count + fit {statistics.median(r['count_plus_fit'] for r in rs):.1f})"
                base = runs["gensim-sg"]
                verdict = "yes" if all(statistics.mean(r[k] for r in rs) >= 0.9 * statistics.mean(r[k] for r in base)
                                       for k in ("ws353", "simlex")) else "NO"
            lines.append(f"| {label} | {cell('ws353')} | {cell('simlex')} | {cell('analogy')} | {seconds} | {verdict} |")
        ratios = [next(r for r in runs["glove-svd"] if r["seed"] == s)["seconds"] /
                  next(r for r in runs["gensim-sg"] if r["seed"] == s)["seconds"] for s in {r["seed"] for r in runs["glove-svd"]}]
        lines.append(f"\nTime, GloVe / gensim skip-gram, seed by seed, median: {statistics.median(ratios):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the runs as JSON here")
    parser.add_argument("--from-json", help="only print the report of runs saved with --out")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    out = json.load(open(args.from_json)) if args.from_json else measure()
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(out, fh, indent=1)
    print(report(out))


if __name__ == "__main__":
    main()
