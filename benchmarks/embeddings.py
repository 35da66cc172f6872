"""Word embeddings: groundup's Word2Vec (skip-gram, CBOW) and GloVe against gensim's
Word2Vec, on the same corpus, seeds and budget, in the same run.

Corpus: Mikolov's PTB training text (887,521 tokens). Settings: vector_size 100,
window 5, negative 5, min_count 5, 5 epochs; gensim with workers=2, our CBOW too (two
threads updating the shared vectors, one core each) and our skip-gram with one worker
(torch on two threads: as fast as two workers, which share 1024 centres a step, and
reproducible). Quality: accuracy on gensim's questions-words.txt analogies and
Spearman's rho on WordSim-353, mean ± std over seeds. Speed: corpus tokens x epochs / training seconds (vocabulary building
excluded for both), each run timed alone, gensim and ours alternating seed by seed.

    python benchmarks/embeddings.py            # 3 seeds (about 10 minutes on 2 cores)
    python benchmarks/embeddings.py --quick    # 1 seed (a third of the full run)
    python benchmarks/embeddings.py --smoke    # a slice of PTB, seconds (for the tests)
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import log, markdown_table, parse_args, savefig, write_result  # noqa: E402

from groundup.datasets.text import ptb  # noqa: E402
from groundup.nlp import GloVe, Word2Vec  # noqa: E402
from groundup.nlp._keyedvectors import keyed_vectors  # noqa: E402

NEIGHBOUR_WORDS = ["monday", "company", "stock", "president", "billion", "bank"]
ANALOGIES = [("man", "he", "woman"), ("good", "better", "high"), ("year", "years", "company"), ("japan", "japanese", "germany")]
COMMON = {"vector_size": 100, "window": 5, "negative": 5, "min_count": 5}
OUR_WORKERS = {"skip-gram": 1, "CBOW": 2}  # see the docstring
# GloVe settings (its own window and weighting; x_max 10 as glove.c's demo uses on a small corpus).
# The word vectors w alone (vectors="word"): on this corpus w + c halves the analogy accuracy
# (see GloVe's docstring); the table shows w + c from the same fits beside them.
GLOVE_ADAGRAD = {"vector_size": 100, "window": 10, "min_count": 5, "x_max": 10.0, "epochs": 15, "vectors": "word"}
GLOVE_ALS = {"vector_size": 100, "window": 10, "min_count": 5, "x_max": 10.0, "epochs": 12, "regularization": 3.0,
             "vectors": "word"}


def extra_args(parser: Any) -> None:
    parser.add_argument("--smoke", action="store_true", help="a few thousand PTB sentences, one seed (seconds)")
    parser.add_argument("--seeds", type=str, default=None, help="comma-separated seeds (default 0,1,2; 0 with --quick/--smoke)")


def evaluate(wv: Any) -> tuple[float, float, int]:
    """Analogy accuracy, WordSim-353 Spearman rho, and how many analogies were asked."""
    from gensim.test.utils import datapath

    acc, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"))
    n = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections if s["section"] == "Total accuracy")
    rho = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1].statistic
    return float(acc), float(rho), n


def train_gensim(sentences: list[list[str]], sg: int, seed: int, epochs: int) -> tuple[Any, float]:
    from gensim.models import Word2Vec as GensimWord2Vec

    model = GensimWord2Vec(sg=sg, seed=seed, epochs=epochs, workers=2, **COMMON)
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    return model.wv, time.perf_counter() - start


def summarise(rows: list[dict[str, Any]], key: str) -> tuple[float, float]:
    values = [r[key] for r in rows]
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def pm(mean_sd: tuple[float, float], digits: int = 4) -> str:
    mean, sd = mean_sd
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if sd else f"{mean:.{digits}f}"


def plot_projection(wv: Any, args: Any, filename: str, title: str) -> Path:
    """PCA of the 300 most frequent words' vectors, each point labelled with its word."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    words = wv.index_to_key[:300]
    x = wv[words] - wv[words].mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T
    fig, ax = plt.subplots(figsize=(14, 11))
    ax.scatter(xy[:, 0], xy[:, 1], s=6, color="tab:blue", alpha=0.6)
    for (px, py), word in zip(xy, words):
        ax.annotate(word, (px, py), fontsize=7, alpha=0.85)
    ax.set_title(title)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    path = savefig(fig, args, filename)
    plt.close(fig)
    return path


def examples(wv: Any) -> list[str]:
    lines = []
    for word in NEIGHBOUR_WORDS:
        if word in wv:
            near = ", ".join(f"{w} ({s:.2f})" for w, s in wv.most_similar(word, topn=5))
            lines.append(f"- `{word}`: {near}")
    for a, b, c in ANALOGIES:
        if all(w in wv for w in (a, b, c)):
            best = wv.most_similar(positive=[b, c], negative=[a], topn=3)
            lines.append(f"- `{a} : {b} = {c} : ?` → " + ", ".join(f"{w} ({s:.2f})" for w, s in best))
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv, extra=extra_args)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else ([0] if (args.quick or args.smoke) else [0, 1, 2])
    sentences = list(ptb("train"))
    epochs, glove = 5, {"adagrad": GLOVE_ADAGRAD, "als": GLOVE_ALS}
    if args.smoke:
        sentences, epochs = sentences[:4000], 1
        glove = {solver: {**params, "epochs": 2} for solver, params in glove.items()}
    tokens = sum(map(len, sentences))
    log(f"embeddings: {len(sentences)} sentences, {tokens} tokens, seeds {seeds}, {epochs} epochs")

    results: dict[str, list[dict[str, Any]]] = {}
    kept: dict[str, Any] = {}

    def record(name: str, wv: Any, seconds: float, passes: int, **extra: Any) -> None:
        acc, rho, n = evaluate(wv)
        row = dict(acc=acc, rho=rho, n=n, seconds=seconds, wps=tokens * passes / seconds, **extra)
        results.setdefault(name, []).append(row)
        kept.setdefault(name, wv)
        log(f"  {name:16s} acc={acc:.4f} rho={rho:.4f} {row['wps'] / 1e6:.3f}M words/s ({seconds:.2f} s)")

    for seed, sg in itertools.product(seeds, (1, 0)):
        label = "skip-gram" if sg else "CBOW"
        wv, seconds = train_gensim(sentences, sg, seed, epochs)
        record(f"gensim {label}", wv, seconds, epochs)
        model = Word2Vec(sg=sg, seed=seed, epochs=epochs, workers=OUR_WORKERS[label], **COMMON).fit(sentences)
        record(f"groundup {label}", model.wv, model.train_time_, epochs)
    for seed, solver in itertools.product(seeds, ("adagrad", "als")):
        params = glove[solver]
        model = GloVe(solver=solver, seed=seed, **params).fit(sentences)
        record(f"groundup GloVe ({solver})", model.wv, model.train_time_, params["epochs"], count_time=model.count_time_)
        summed = keyed_vectors(model.vocabulary_.words, model.word_vectors_ + model.context_vectors_, model.vocabulary_.counts)
        record(f"groundup GloVe ({solver}, w + c)", summed, model.train_time_, params["epochs"])

    md = [render_table(results, seeds, epochs, tokens, glove)]
    md.append(f"\nNearest neighbours and analogies (groundup skip-gram, seed {seeds[0]}):\n")
    md += examples(kept["groundup skip-gram"])
    md.append("\nThe same for gensim's skip-gram:\n")
    md += examples(kept["gensim skip-gram"])
    png = plot_projection(kept["groundup skip-gram"], args, "embeddings_pca.png", "groundup skip-gram on PTB: PCA of the 300 most frequent words")
    md.append(f"\n![PCA of the 300 most frequent PTB words](benchmarks/results/{png.name})")
    # A smoke run writes its own file, so it can never replace the real table in the README.
    write_result(args, "embeddings_smoke" if args.smoke else "embeddings", "\n".join(md))


def describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items() if k not in ("vector_size", "min_count"))


def render_table(results: dict[str, list[dict[str, Any]]], seeds: list[int], epochs: int, tokens: int, glove: dict[str, dict[str, Any]]) -> str:
    rows = []
    for label in ("skip-gram", "CBOW"):
        ours, base = results[f"groundup {label}"], results[f"gensim {label}"]
        ratios = [o["wps"] / b["wps"] for o, b in zip(ours, base)]
        b_acc, b_rho = summarise(base, "acc"), summarise(base, "rho")
        o_acc, o_rho = summarise(ours, "acc"), summarise(ours, "rho")
        quality_ok = o_acc[0] >= b_acc[0] - b_acc[1] and o_rho[0] >= b_rho[0] - b_rho[1]
        speed_ok = statistics.median(ratios) >= 0.5
        rows.append([f"gensim {label} (workers=2)", pm(b_acc), pm(b_rho), f"{statistics.median(r['wps'] for r in base) / 1e6:.3f}M", "1", ""])
        rows.append([
            f"groundup {label} (workers={OUR_WORKERS[label]})", pm(o_acc), pm(o_rho), f"{statistics.median(r['wps'] for r in ours) / 1e6:.3f}M",
            f"{statistics.median(ratios):.2f}",
            f"quality {'yes' if quality_ok else 'NO'} (≥ gensim − 1 sd), speed {'yes' if speed_ok else 'NO'} (≥ 0.5)",
        ])
    sg_acc = summarise(results["gensim skip-gram"], "acc")[0]
    sg_rho = summarise(results["gensim skip-gram"], "rho")[0]
    for solver in ("adagrad", "als"):
        ours = results[f"groundup GloVe ({solver})"]
        o_acc, o_rho = summarise(ours, "acc"), summarise(ours, "rho")
        ok = o_acc[0] >= 0.9 * sg_acc and o_rho[0] >= 0.9 * sg_rho
        count = statistics.median(r["count_time"] for r in ours)
        rows.append([
            f"groundup GloVe ({solver})", pm(o_acc), pm(o_rho), f"{statistics.median(r['seconds'] for r in ours):.1f} s to train",
            "", f"within 10% of gensim skip-gram: {'yes' if ok else 'NO'}; counting {count:.2f} s ({'yes' if count < 5 else 'NO'}, < 5 s)",
        ])
        summed = results[f"groundup GloVe ({solver}, w + c)"]
        rows.append([f"groundup GloVe ({solver}, w + c)", pm(summarise(summed, "acc")), pm(summarise(summed, "rho")),
                     "same fits", "", "the paper's w + c, for comparison (no target)"])
    n = results["gensim skip-gram"][0]["n"]
    head = (
        f"PTB training text ({tokens:,} tokens), vector_size 100, window 5, negative 5, min_count 5, {epochs} epochs "
        f"(GloVe, AdaGrad: {describe(glove['adagrad'])}; ALS: {describe(glove['als'])}); "
        f"seeds {', '.join(map(str, seeds))} (mean ± sd). Analogies: {n} questions of questions-words.txt in the vocabulary. "
        "Words/s: corpus tokens × epochs / training seconds (median over seeds); ratio: ours / gensim, seed by seed, median.\n\n"
    )
    return head + markdown_table(["model", "analogy accuracy", "WordSim-353 ρ", "words/s", "ratio to gensim", "target"], rows)


if __name__ == "__main__":
    main()
