"""Word2Vec from 1M to 50M tokens read from a file: words per second and peak memory, groundup against gensim.

The corpora. No machine here reaches the internet, so the large corpora are assembled from
the English text installed offline: Mikolov's PTB training text (887,521 tokens), gensim's
bundled Wikipedia sample (about 453k tokens, one article per line), gensim's Lee news
corpus (``lee_background.cor``) and the CoNLL-2003 English news text (train, valid and test,
about 300k tokens, lowercased), about 1.7M distinct tokens in all. A corpus of N tokens
is that text written again and again, each copy's lines in a fresh order (a NumPy
permutation seeded by the copy's number), cut at exactly N tokens. Each corpus is written
once to ``benchmarks/output/corpora/`` (ignored by git) as plain text, one sentence per line.
Repeating the text costs nothing in throughput (the work per token is the same), but from
10M tokens on the models see the same sentences many times over, so the quality figures
at 10M and 50M say little about what 10M or 50M tokens of new text would give.

The runs. At every size, four models read the same file: gensim's
``Word2Vec(corpus_file=..., workers=cores)`` and groundup's ``Word2Vec(corpus_file=...)``
(its default ``workers=None``: one per core), skip-gram and CBOW, vector_size 100, window 5,
negative 5, min_count 5. Five epochs at 1M tokens, one at 10M and 50M (five would take an
hour per model at 50M on two cores; the issue asks for words per second, which one epoch
measures). Each fit runs alone in a fresh process, so that its peak memory is its own, and
reports:

* words/s (training): corpus tokens x epochs / training seconds, vocabulary building
  excluded, as ``benchmarks/embeddings.py`` defines it; and words/s (vocabulary +
  training): the same tokens over the whole fit, both passes over the file included;
* peak memory: the process's peak resident set during the fit (Linux's ``VmHWM``, reset
  just before it), how much the fit added to what the process held before it (the
  interpreter and the libraries), and how much that is beyond the model's two tables
  (input and output vectors, 2 x V x 100 x 4 bytes, the same for both libraries);
* WordSim-353 and SimLex-999 Spearman rho and questions-words analogy accuracy, mean ±
  sd over the seeds (three at every size in the full run, one in the quick run).

The targets (issue 16): at every size, groundup's words/s at least gensim's (ratio >= 1.0)
and each quality score's mean at least gensim's mean minus one standard deviation of
gensim's seeds;
at 50M tokens, at most 1.5 GB (1,536 MB here, 1 MB = 2^20 bytes) beyond the tables;
throughput flat from the smallest size to the largest, "flat" meaning the largest size's
words/s at least 0.8 x the smallest size's. Every fit asks for every core, so the runs go
one at a time and the figures are only worth something on a machine with nothing else
running.

    python -m benchmarks.embeddings_scaling                    # 1M, 10M, 50M tokens, 3 seeds each (about 45 minutes on 2 cores)
    python -m benchmarks.embeddings_scaling --only groundup    # one library (finished runs stay in the store)
    python -m benchmarks.embeddings_scaling --quick            # 1M and 3M tokens, one epoch (a few minutes)
    python -m benchmarks.embeddings_scaling --smoke            # 20k and 50k tokens (seconds; the tests)
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.embeddings import evaluate, pm

RUN = "benchmarks.embeddings_scaling:run"
MODELS = ("gensim-sg", "groundup-sg", "gensim-cbow", "groundup-cbow")
ARCHS = {"sg": "skip-gram", "cbow": "CBOW"}
# Per mode: the corpus sizes in tokens, the epochs at each size, and the seeds at each size.
CONFIGS: dict[str, dict[str, tuple]] = {
    # three seeds at every size: the quality target compares means against gensim's seed-to-seed spread
    "full": dict(sizes=(1_000_000, 10_000_000, 50_000_000), epochs=(5, 1, 1), seeds=((0, 1, 2), (0, 1, 2), (0, 1, 2))),
    "quick": dict(sizes=(1_000_000, 3_000_000), epochs=(1, 1), seeds=((0,), (0,))),
    "smoke": dict(sizes=(20_000, 50_000), epochs=(1, 1), seeds=((0,), (0,))),
}
COMMON = {"vector_size": 100, "window": 5, "negative": 5, "min_count": 5}
SPEED_TARGET = 1.0  # words/s at least gensim's
FLAT = 0.8  # the largest corpus's words/s at least this fraction of the smallest's
MEMORY_TARGET_MB = 1.5 * 1024  # beyond the tables, at the largest size
CORPORA = common.OUTPUT / "corpora"
CORPUS_RECIPE = 1  # in the file names: a change to the recipe writes new files
CHILD_TIMEOUT = 3 * 3600  # seconds a single fit may take


# -- the corpora --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)  # read once per process, however many corpora it writes
def source_sentences() -> list[list[str]]:
    """Every sentence of the offline English text, lowercased (see the module docstring)."""
    from groundup.datasets.conll import load_conll2003
    from groundup.datasets.text import lee, ptb, wiki_sample

    sentences = [list(s) for s in ptb("train")] + [list(s) for s in wiki_sample()] + [list(s) for s in lee()]
    for split in ("train", "valid", "test"):
        sentences += [[w.lower() for w in s.words] for s in load_conll2003(split, download_ok=False)]
    return sentences


def corpus_path(tokens: int, folder: Path = CORPORA) -> Path:
    """The corpus of exactly ``tokens`` tokens, written on the first call (atomically: a
    temporary file renamed into place, so a run stopped half-way leaves no half corpus)."""
    path = folder / f"scaling-r{CORPUS_RECIPE}-{tokens}.txt"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    source = source_sentences()
    written, copy = 0, 0
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            while written < tokens:
                # each copy in its own order, so that no two copies repeat the same sequence of lines
                for i in np.random.default_rng(copy).permutation(len(source)):
                    line = source[i][: tokens - written]
                    fh.write(" ".join(line) + "\n")
                    written += len(line)
                    if written == tokens:
                        break
                copy += 1
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- one fit, in a process of its own ---------------------------------------------------------------------
def fit_one(model: str, path: str, epochs: int, seed: int) -> dict[str, Any]:
    """Train ``model`` on the file at ``path``; return its seconds, peak memory and scores."""
    family, _, arch = model.partition("-")
    if family not in ("gensim", "groundup") or arch not in ARCHS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    sg = int(arch == "sg")
    if family == "gensim":
        from gensim.models import Word2Vec as GensimWord2Vec

        workers = common.all_cores()
        m = GensimWord2Vec(sg=sg, seed=seed, epochs=epochs, workers=workers, **COMMON)
        common.reset_peak_memory()
        before = common.memory_mb("VmRSS")
        start = time.perf_counter()
        m.build_vocab(corpus_file=path)
        vocab_seconds = time.perf_counter() - start
        m.train(corpus_file=path, total_words=m.corpus_total_words, epochs=epochs)
        total = time.perf_counter() - start
        train_seconds, corpus_words = total - vocab_seconds, int(m.corpus_total_words)
    else:
        from gensim.models import KeyedVectors  # noqa: F401 - the fit returns one; import it before the clock, as gensim's side has

        from groundup.nlp import Word2Vec

        m = Word2Vec(sg=sg, seed=seed, epochs=epochs, **COMMON)
        common.reset_peak_memory()
        before = common.memory_mb("VmRSS")
        start = time.perf_counter()
        m.fit(corpus_file=path)
        total = time.perf_counter() - start
        train_seconds, corpus_words, workers = m.train_time_, int(m.corpus_word_count_), m.workers_
        vocab_seconds = total - train_seconds
    peak = common.memory_mb("VmHWM")
    vocab = len(m.wv.index_to_key)
    tables_mb = 2 * vocab * COMMON["vector_size"] * 4 / 2**20
    added = max(0.0, peak - before)
    return dict(evaluate(m.wv), vocab=vocab, workers=int(workers), corpus_words=corpus_words, epochs=epochs,
                vocab_seconds=vocab_seconds, train_seconds=train_seconds, seconds=total,
                words_per_second=corpus_words * epochs / train_seconds, end_to_end_words_per_second=corpus_words * epochs / total,
                peak_mb=peak, added_mb=added, tables_mb=tables_mb, beyond_tables_mb=added - tables_mb)


def _child(model: str, path: str, epochs: int, seed: int, queue: Any) -> None:
    try:
        queue.put(("ok", fit_one(model, path, epochs, seed)))
    except BaseException as err:  # noqa: BLE001 - the parent re-raises it
        queue.put(("error", f"{type(err).__name__}: {err}"))


def run(tokens: int, model: str, epochs: int, seed: int) -> dict[str, Any]:
    """One engine run: ``model`` on the corpus of ``tokens`` tokens, in a fresh process."""
    path = corpus_path(tokens)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(model, str(path), epochs, seed, queue))
    proc.start()
    status, out = queue.get(timeout=CHILD_TIMEOUT)
    proc.join()
    if status != "ok":
        raise RuntimeError(f"{model} on {tokens:,} tokens failed: {out}")
    return dict(out, tokens=tokens, model=model)


# -- the report -----------------------------------------------------------------------------------------------
def tokens_label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from a model's seeds at one size: speeds as medians, memory as the largest."""
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    top = lambda key: max(r[key] for r in runs)  # noqa: E731
    return dict(seeds=len(runs), vocab=runs[0]["vocab"], epochs=runs[0]["epochs"], wps=med("words_per_second"),
                e2e=med("end_to_end_words_per_second"), peak=top("peak_mb"), added=top("added_mb"),
                tables=runs[0]["tables_mb"], beyond=top("beyond_tables_mb"),
                quality={k: [r[k] for r in runs] for k in ("rho", "simlex", "accuracy")})


def draw(table: dict[tuple[int, str], dict[str, Any]], args: Any) -> str:
    """Words/s (training) and memory beyond the tables against corpus tokens, log x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (speed, memory) = plt.subplots(1, 2, figsize=(12, 4.5))
    for model in MODELS:
        family, _, arch = model.partition("-")
        pts = sorted((n, row) for (n, m), row in table.items() if m == model)
        if not pts:
            continue
        style = dict(color="tab:blue" if arch == "sg" else "tab:orange", linestyle="-" if family == "groundup" else "--",
                     marker="o" if family == "groundup" else "s", label=f"{family} {ARCHS[arch]}")
        speed.semilogx([n for n, _ in pts], [row["wps"] / 1e6 for _, row in pts], **style)
        memory.semilogx([n for n, _ in pts], [row["beyond"] for _, row in pts], **style)
    memory.axhline(MEMORY_TARGET_MB, color="grey", linestyle=":", label="target at 50M (1.5 GB)")
    speed.set(title="training throughput", xlabel="corpus tokens", ylabel="million words / s")
    memory.set(title="peak memory added by the fit, beyond the two tables", xlabel="corpus tokens", ylabel="MB")
    sizes = sorted({n for n, _ in table})
    for ax in (speed, memory):
        ax.set_xticks(sizes, [tokens_label(n) for n in sizes])
        ax.set_xticks([], minor=True)
        ax.set_ylim(bottom=0)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Word2Vec from a corpus file: groundup (default workers) against gensim (workers = cores)")
    fig.tight_layout()
    name = "embeddings_scaling.png"
    common.savefig(fig, args, name)
    plt.close(fig)
    return name


QUALITY = {"rho": "WordSim-353 ρ", "simlex": "SimLex-999 ρ", "accuracy": "analogies"}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(records: list[dict[str, Any]], args: Any) -> str:
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in sorted((r for r in records if r["status"] == "ok"), key=lambda r: r["seed"]):
        runs.setdefault((r["params"]["tokens"], r["params"]["model"]), []).append(r["metrics"])
    table = {key: summarise(v) for key, v in runs.items()}
    sizes = sorted({n for n, _ in table})
    rows = []
    for n in sizes:
        for model in MODELS:
            row = table.get((n, model))
            if row is None:
                continue
            family, _, arch = model.partition("-")
            base = table.get((n, f"gensim-{arch}"))
            ratio = lambda key: f"{row[key] / base[key]:.2f}" if base else "—"  # noqa: E731
            q = row["quality"]
            rows.append([tokens_label(n), f"{family} {ARCHS[arch]}", row["epochs"], row["seeds"], f"{row['vocab']:,}",
                         f"{row['wps'] / 1e6:.3f}M", ratio("wps"), f"{row['e2e'] / 1e6:.3f}M", ratio("e2e"),
                         f"{row['peak']:.0f} (+{row['added']:.0f})", f"{row['tables']:.1f}", f"{row['beyond']:.0f}",
                         pm(q["rho"], 3), pm(q["simlex"], 3), pm(q["accuracy"], 3)])
    lines = ["### Word2Vec from a corpus file, by corpus size: groundup against gensim", "",
             common.markdown_table(["tokens", "model", "epochs", "seeds", "vocabulary", "words/s (training)", "ratio",
                                    "words/s (vocabulary + training)", "ratio", "peak MB (+fit)", "tables MB",
                                    "beyond tables MB", "WordSim-353 ρ", "SimLex-999 ρ", "analogies"], rows), ""]
    lo, hi = (min(sizes), max(sizes)) if sizes else (0, 0)
    checks = []
    for arch, label in ARCHS.items():
        ours = {n: table[(n, m)] for (n, m) in table if m == f"groundup-{arch}"}
        theirs = {n: table[(n, m)] for (n, m) in table if m == f"gensim-{arch}"}
        both = [n for n in sizes if n in ours and n in theirs]
        for key, what in (("wps", "training"), ("e2e", "vocabulary + training")):
            if both:
                worst = min(both, key=lambda n: ours[n][key] / theirs[n][key])
                r = ours[worst][key] / theirs[worst][key]
                checks.append([label, f"words/s ({what}) ≥ {SPEED_TARGET:.1f}x gensim's at every size",
                               f"lowest {r:.2f}x at {tokens_label(worst)}", verdict(r >= SPEED_TARGET)])
        # quality: at every size with two seeds or more on both sides, each score's mean at
        # least gensim's mean minus one (sample) standard deviation of gensim's seeds
        margins = []
        for n in both:
            for key, name in QUALITY.items():
                mine, base = ours[n]["quality"][key], theirs[n]["quality"][key]
                if len(mine) >= 2 and len(base) >= 2:
                    margins.append(((statistics.mean(mine) - statistics.mean(base)) / max(statistics.stdev(base), 1e-12),
                                    name, n, statistics.mean(mine), statistics.mean(base), statistics.stdev(base)))
        if margins:
            z, name, n, mine, base, sd = min(margins)
            checks.append([label, "quality: mean ≥ gensim's mean − 1 sd (3 seeds), every score and size",
                           f"closest: {name} at {tokens_label(n)}, {mine:.3f} vs {base:.3f} ± {sd:.3f} ({z:+.1f} sd)",
                           verdict(z >= -1.0)])
        if lo in ours and hi in ours and lo != hi:
            flat = ours[hi]["wps"] / ours[lo]["wps"]
            ref = f"; gensim {theirs[hi]['wps'] / theirs[lo]['wps']:.2f}x" if lo in theirs and hi in theirs else ""
            checks.append([label, f"flat: words/s at {tokens_label(hi)} ≥ {FLAT:g}x at {tokens_label(lo)}",
                           f"{flat:.2f}x{ref}", verdict(flat >= FLAT)])
        if hi in ours:
            ref = f"; gensim {theirs[hi]['beyond']:.0f} MB" if hi in theirs else ""
            checks.append([label, f"memory beyond the tables at {tokens_label(hi)} ≤ {MEMORY_TARGET_MB:.0f} MB",
                           f"{ours[hi]['beyond']:.0f} MB (tables {ours[hi]['tables']:.0f} MB){ref}",
                           verdict(ours[hi]["beyond"] <= MEMORY_TARGET_MB)])
    if checks:
        lines += ["Targets (issue 16; the memory target is set at 50M tokens, checked here at the largest size run):", "",
                  common.markdown_table(["model", "target", "measured", ""], checks), ""]
    lines += [
        "Corpora: PTB's training text, gensim's Wikipedia sample, gensim's Lee corpus and the CoNLL-2003 English text "
        "(about 1.7M distinct tokens, lowercased), repeated with each copy's lines shuffled and cut at exactly N tokens, "
        "one sentence per line; both libraries read the same file (`corpus_file=`). From 10M tokens on the text repeats, "
        "so throughput and memory are what a corpus of that size costs, but the quality columns say little about new "
        "text of that size. Settings: vector_size 100, window 5, negative 5, min_count 5; gensim with workers = cores, "
        "groundup with its default (workers=None: one per core). Words/s: corpus tokens x epochs / seconds, median over "
        "seeds; 'training' excludes building the vocabulary (as benchmarks/embeddings.py), 'vocabulary + training' is "
        "the whole fit; ratio: groundup / gensim at the same size. Peak MB: the fit's process's peak resident set; "
        "(+fit): how much the fit raised it above what the process held before (interpreter and libraries); tables: "
        "input and output vectors, 2 x V x 100 x 4 bytes; beyond tables: (+fit) minus tables, the largest over seeds. "
        "Quality: mean ± sample sd over the seeds (the value alone for one seed). Each fit ran alone in a fresh "
        "process; the seconds are wall-clock."]
    if table:
        lines += ["", f"![Word2Vec words/s and memory against corpus size]({draw(table, args)})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = common.parse_args("embeddings_scaling", __doc__.splitlines()[0], argv)
    cfg = CONFIGS[args.mode]
    models = [m for m in MODELS if common.selected(args, m)]
    if not models:
        raise SystemExit(f"--only {','.join(args.only)} matches no run; the runs are {', '.join(MODELS)}")
    common.log(f"embeddings_scaling ({args.mode}): {', '.join(models)} at {cfg['sizes']} tokens; one run at a time, all cores")
    records: list[dict[str, Any]] = []
    for tokens, epochs, seeds in zip(cfg["sizes"], cfg["epochs"], cfg["seeds"]):
        common.log(f"corpus of {tokens:,} tokens: {corpus_path(tokens)}")
        for seed in common.seeds_for(args, seeds):  # seed by seed, so that gensim and ours alternate
            records += common.sweep(args, RUN, {"tokens": [tokens], "model": models, "epochs": [epochs]}, [seed],
                                    num_cpus=common.all_cores()).records
    common.finish(args, records, lambda: report(records, args),
                  lambda r: f"{r['params']['model']} at {r['params']['tokens']:,} tokens")


if __name__ == "__main__":
    main()
