"""Robustness of the default taggers and tree models: less data, other columns, lower case.

DESIGN.md asks for one default per estimator that works across the family of tasks it is
meant for; benchmarks/taggers.py measures tuned taggers on whole splits, this benchmark
measures the defaults where defaults tend to break (issue 21, points 2 and 3). Every model
here is built with its defaults and only ``random_state``, and trained as a user would
train it: ``RNNTagger(random_state=seed).fit(X, y)``, whose early stopping (``"auto"``: from
500 sentences) sets aside its own ``validation_fraction`` of the training sentences (no
extra validation split; below 500 it trains on all of them for ``max_iter`` epochs), and
NLTK's ``PerceptronTagger(load=False).train(...)`` (the helpers of benchmarks/taggers.py,
so both benchmarks compare against one baseline).

Two sections:

* ``tagging``: :class:`groundup.nlp.RNNTagger` against the perceptron on four CoNLL-2003
  tasks, each at 1%, 3%, 10%, 30% and 100% of the training sentences (a random subset per
  seed, the same for both models), scored on the whole test split: ``ner`` (entity F1,
  seqeval), ``pos`` (token accuracy), ``chunk`` (the third column, chunk F1) and
  ``ner-lower`` (the NER task with every word lower-cased, in training and test).
* ``trees``: :class:`groundup.nlp.RecursiveNN` and :class:`groundup.nlp.RNTN` against
  bag-of-words logistic regression (unigrams; unigrams + bigrams) on the generated
  sentiment treebank (:func:`groundup.datasets.trees.make_sentiment_treebank`, the
  treebank of benchmarks/taggers.py) at 100, 250, 1,000 and all 6,000 training trees (a
  random subset per seed): root accuracy on the held-out negated sentences.

The targets, each shown as met or not met from the runs (``TARGETS``):

* never collapse: a tagger scores above its floor (entity F1 0, or for POS the accuracy of
  tagging every token with the most common training tag) wherever the perceptron does,
  seed by seed; a tree model beats every constant prediction on the negated sentences at
  every size, seed by seed;
* from 3% of the data upward, RNNTagger's mean score is at least the perceptron's on every
  task;
* training time grows about linearly with the data: the log-log slope of RNNTagger's
  training seconds against training sentences is at most ``TARGETS["time_slope"]`` (a
  slope below 1 means fixed costs weigh on small sets, which does no harm);
* the 3% NER model trains in under a minute (every seed).

The grid: one engine run per (task, fraction, model, seed), named
``TASK:MODEL:FRACTION`` (``ner:rnn:0.03``, ``ner-lower:perceptron:1``), and one per (model,
size, seed) of the trees, named ``trees:MODEL:SIZE`` (``trees:rntn:100``). Each returns
one JSON record: the score, training seconds, the number of sentences or trees, the epochs
run, the stop reason and the warnings that ``fit`` raised. ``--only`` takes substrings of
these names: ``--only trees`` runs the trees section, ``--only ner:`` the NER curve (not
``ner-lower``), ``--only :0.03`` every task at 3%. Finished runs stay in the results store,
so a later run without ``--only`` writes the whole report without training again.

Cores. Every tagging run asks for all of them, so that its training time is that of a
tagger running alone (two targets are times); the tree runs time nothing and run side by
side, one core each. Run the benchmark on an otherwise idle machine: a tagger's two torch
threads slow down many times over when other work shares the cores, and the time targets
would report that.

    python -m benchmarks.taggers_robustness           # everything, 3 seeds (estimated 1 1/4 to 2 hours on 2 cores)
    python -m benchmarks.taggers_robustness --only trees
    python -m benchmarks.taggers_robustness --quick   # NER at 1%, 3% and 10%; trees at 100 and 250; 1 seed (minutes)
    python -m benchmarks.taggers_robustness --smoke   # a 300-sentence slice, 2 epochs (seconds; the tests)

The full mode's estimate is extrapolated, linearly in the sentences and epochs, from one
default RNNTagger run each on 1%, 3% and 10% of the NER sentences (one thread) and from
the whole-split training times in benchmarks/results/taggers.md; it is longer if many runs
train for all 30 epochs. The full run's own times are in
benchmarks/results/taggers_robustness.md once it has run.
"""

from __future__ import annotations

import functools
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks import common, taggers

RUN_TAGGING = "benchmarks.taggers_robustness:run_tagging"
RUN_TREES = "benchmarks.taggers_robustness:run_trees"

# task -> (the CoNLL-2003 column it tags, whether its words are lower-cased)
TASKS: dict[str, tuple[str, bool]] = {"ner": ("ner", False), "pos": ("pos", False), "chunk": ("chunk", False),
                                      "ner-lower": ("ner", True)}
TAGGERS = ("rnn", "perceptron")
TREE_MODELS = ("recursive_nn", "rntn", "bow", "bow_bigrams")
FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)
# Per mode: the tagging grid and the CoNLL-2003 slices it draws from (None: the whole
# split; fractions are of the training slice), and ``max_iter`` (None: the default). Only
# the smoke mode departs from the defaults, so that the tests run in seconds.
TAGGING: dict[str, dict[str, Any]] = {
    "full": {"tasks": tuple(TASKS), "fractions": FRACTIONS, "data": {"train": None, "test": None, "max_iter": None}},
    "quick": {"tasks": ("ner",), "fractions": (0.01, 0.03, 0.1), "data": {"train": None, "test": None, "max_iter": None}},
    "smoke": {"tasks": tuple(TASKS), "fractions": (0.1, 0.3), "data": {"train": 300, "test": 50, "max_iter": 2}},
}
# Per mode: the training-set sizes of the trees, and the generated treebank: its training
# split is "all", its negated held-out split is scored. Dev and test are not used; they are
# generated only so that the training and negated sentences are those of
# benchmarks/taggers.py (the generator draws the splits one after another).
TREEBANK = {"train": 6000, "dev": 500, "test": 1000, "negated": 1000, "max_iter": None}
TREES: dict[str, dict[str, Any]] = {
    "full": {"sizes": (100, 250, 1000, 6000), "data": TREEBANK},
    "quick": {"sizes": (100, 250), "data": TREEBANK},
    "smoke": {"sizes": (30, 150), "data": {"train": 150, "dev": 0, "test": 0, "negated": 40, "max_iter": 2}},
}
SEEDS = {"full": (0, 1, 2), "quick": (0,), "smoke": (0,)}
# the targets: at least the perceptron from 3% of the data up; training time about
# linear in the data; the NER model on 3% of the sentences trains in under a minute
TARGETS = {"from_fraction": 0.03, "time_slope": 1.2, "fast_ner_fraction": 0.03, "fast_ner_s": 60.0}
METRICS = {"ner": "entity F1", "pos": "accuracy (%)", "chunk": "chunk F1", "ner-lower": "entity F1"}
NAMES = {"rnn": "RNNTagger()", "perceptron": "NLTK perceptron", "recursive_nn": "RecursiveNN()", "rntn": "RNTN()",
         "bow": "bag of words (unigrams)", "bow_bigrams": "bag of words (+ bigrams)"}


def run_name(task: str, model: str, fraction: float) -> str:
    return f"{task}:{model}:{fraction:g}"


# ------------------------------------------------------------------------------ the runs
def subset(n_total: int, size: int, seed: int) -> list[int]:
    """``size`` of ``range(n_total)`` drawn at random from ``seed``, in their original
    order (all of them when ``size >= n_total``)."""
    if size >= n_total:
        return list(range(n_total))
    return sorted(random.Random(seed).sample(range(n_total), size))


@functools.lru_cache(maxsize=None)
def conll2003(split: str) -> tuple[Any, ...]:
    """A CoNLL-2003 split, read once per process: a Ray worker (or the serial backend)
    runs many of this benchmark's runs one after another, and reading the training split
    takes seconds."""
    from groundup.datasets.conll import load_conll2003

    return tuple(load_conll2003(split))


def tagging_score(column: str, predicted: list[list[str]], gold: list[list[str]]) -> float:
    """Entity or chunk F1 (seqeval, in %) for the span columns; token accuracy (in %) for POS."""
    if column == "pos":
        return 100.0 * taggers.token_accuracy(predicted, gold)
    return taggers.entity_f1(predicted, gold)


def tagging_floor(column: str, y: list[Sequence[str]], gold: list[list[str]]) -> float:
    """What tagging every test token with the most common training tag scores: 0 for the
    span F1s (no span is found), that tag's share of the test tokens for POS."""
    if column != "pos":
        return 0.0
    majority = Counter(t for tags in y for t in tags).most_common(1)[0][0]
    tokens = [t for tags in gold for t in tags]
    return 100.0 * sum(t == majority for t in tokens) / len(tokens)


def run_tagging(task: str, model: str, fraction: float, data: dict[str, Any], seed: int) -> dict[str, Any]:
    """One engine run: ``model`` trained on a ``fraction`` of the training sentences
    (drawn from ``seed``) for ``task``, scored on the test split."""
    if task not in TASKS or model not in TAGGERS:
        raise ValueError(f"unknown task/model {task!r}/{model!r}; tasks: {', '.join(TASKS)}; models: {', '.join(TAGGERS)}")
    column, lower = TASKS[task]
    train = conll2003("train")[: data["train"]]
    test = conll2003("test")[: data["test"]]

    def words(sentence: Any) -> list[str]:
        return [w.lower() for w in sentence.words] if lower else list(sentence.words)

    chosen = [train[i] for i in subset(len(train), max(1, round(fraction * len(train))), seed)]
    X, y = [words(s) for s in chosen], [list(getattr(s, column)) for s in chosen]
    Xt, yt = [words(s) for s in test], [list(getattr(s, column)) for s in test]
    common.log(f"[{run_name(task, model, fraction)}, seed {seed}] {len(X)} training sentences, {len(Xt)} test")
    if model == "perceptron":
        (tagger, fit_s), _, names = common.fit_recording_warnings(lambda: taggers.fit_perceptron(X, y, seed))
        start = time.perf_counter()
        predicted = taggers.tag_with_perceptron(tagger, Xt)
        epochs, stop = 5, "nr_iter=5 (NLTK's default; no early stopping)"
    else:
        from groundup.nlp import RNNTagger

        params = {"max_iter": data["max_iter"]} if data["max_iter"] is not None else {}
        tagger, fit_s, names = common.fit_recording_warnings(lambda: RNNTagger(random_state=seed, **params).fit(X, y))
        start = time.perf_counter()
        predicted = tagger.predict(Xt)
        epochs, stop = tagger.n_iter_, tagger.training_log_.stop_reason
    return {"score": tagging_score(column, predicted, yt), "floor": tagging_floor(column, y, yt), "fit_s": fit_s,
            "predict_s": time.perf_counter() - start, "n_sentences": len(X), "n_tokens": sum(map(len, X)),
            "n_test_sentences": len(Xt), "epochs": epochs, "stop_reason": stop, "warnings": names}


def run_trees(model: str, size: int, data: dict[str, Any], seed: int) -> dict[str, Any]:
    """One engine run: ``model`` trained on ``size`` of the generated training trees (drawn
    from ``seed``), scored at the root of the negated held-out sentences."""
    from groundup.datasets.trees import make_sentiment_treebank
    from groundup.nlp import RNTN, RecursiveNN

    # the treebank is the same in every run (data seed 0); the sweep's seed draws the
    # subset and seeds the model
    bank = make_sentiment_treebank(data["train"], data["dev"], data["test"], data["negated"], random_state=0)
    train = [bank.train[i] for i in subset(len(bank.train), size, seed)]
    gold = np.array([t.label() for t in bank.negated])
    common.log(f"[trees:{model}:{size}, seed {seed}] {len(train)} training trees, {len(gold)} negated held-out")
    epochs: int | None = None
    stop = "fits to convergence (scikit-learn's LogisticRegression, max_iter=5000)"
    if model in ("recursive_nn", "rntn"):
        cls = RNTN if model == "rntn" else RecursiveNN
        params = {"max_iter": data["max_iter"]} if data["max_iter"] is not None else {}
        fitted, fit_s, names = common.fit_recording_warnings(lambda: cls(random_state=seed, **params).fit(train))
        predicted = np.asarray(fitted.predict(bank.negated))
        epochs, stop = fitted.n_iter_, fitted.training_log_.stop_reason
    elif model in ("bow", "bow_bigrams"):
        ngrams = (1, 1) if model == "bow" else (1, 2)
        fitted, fit_s, names = common.fit_recording_warnings(lambda: taggers.bag_of_words(train, ngrams))
        predicted = np.asarray(fitted.predict(taggers.sentences(bank.negated)))
    else:
        raise ValueError(f"unknown tree model {model!r}; choose from {', '.join(TREE_MODELS)}")
    # the best that any one label predicted everywhere scores: a model at or below it has collapsed
    floor = max(Counter(gold.tolist()).values()) / len(gold)
    return {"score": 100.0 * float(np.mean(predicted == gold)), "floor": 100.0 * floor, "fit_s": fit_s,
            "n_trees": len(train), "n_available": len(bank.train), "n_negated": len(gold),
            "labels_predicted": len(set(predicted.tolist())), "epochs": epochs, "stop_reason": stop, "warnings": names}


# ------------------------------------------------------------------------------ the report
def pm(values: Sequence[float], digits: int = 1) -> str:
    """Mean ± sample standard deviation over seeds (the value alone for one seed)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def met(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "**not met**")


def loglog_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) against log(x); None with fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([max(p[1], 1e-9) for p in points])
    return float(np.polyfit(x, y, 1)[0])


def grouped(records: list[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    """params[keys] -> the successful runs' metrics, in seed order."""
    out: dict[tuple, list[dict[str, Any]]] = {}
    for r in sorted(records, key=lambda r: r["seed"]):
        if r["status"] == "ok":
            out.setdefault(tuple(r["params"][k] for k in keys), []).append(r["metrics"] | {"seed": r["seed"]})
    return out


def tagging_report(records: list[dict[str, Any]]) -> list[str]:
    runs = grouped(records, "task", "model", "fraction")
    tasks = [t for t in TASKS if any(k[0] == t for k in runs)]
    rows = []
    for task in tasks:
        for fraction in sorted({k[2] for k in runs if k[0] == task}):
            rnn, base = runs.get((task, "rnn", fraction), []), runs.get((task, "perceptron", fraction), [])
            first = (rnn or base)[0]
            rows.append([task, f"{fraction:.0%} ({first['n_sentences']:,})",
                         pm([m["score"] for m in rnn]) if rnn else "—", pm([m["score"] for m in base]) if base else "—",
                         " / ".join(str(m["epochs"]) for m in rnn) or "—",
                         f"{statistics.median(m['fit_s'] for m in rnn):.1f}" if rnn else "—",
                         f"{statistics.median(m['fit_s'] for m in base):.1f}" if base else "—",
                         ", ".join(sorted({w for m in rnn for w in m["warnings"]})) or "—"])
    table = common.markdown_table(["task", "training sentences", "RNNTagger()", "NLTK perceptron", "RNNTagger epochs",
                                   "RNNTagger training (s)", "perceptron training (s)", "RNNTagger's warnings"], rows)
    seeds = sorted({r["seed"] for r in records if r["params"].get("task")})
    first = next(iter(runs.values()))[0]
    targets = common.markdown_table(["target", "task", "measured", "met?"], tagging_targets(runs, tasks))
    return ["### Tagging: RNNTagger() against NLTK's perceptron on CoNLL-2003", "",
            f"Scores on the test split ({first['n_test_sentences']:,} sentences): "
            + "; ".join(f"{t}: {METRICS[t]}" for t in tasks) + "."
            + (" `ner-lower` is the NER task with every word lower-cased in training and test." if "ner-lower" in tasks else "")
            + " Mean ± sd over seeds; times are medians over seeds.", "", table, "",
            "Targets, computed from these runs:", "", targets, "",
            f"Seeds {', '.join(map(str, seeds))}; each seed draws its own random subset of the training sentences, the "
            "same for both models. With its default `early_stopping='auto'`, RNNTagger sets aside 10% of its training "
            "sentences for early stopping (`validation_fraction`) from 500 sentences up, and below that trains on all "
            "of them for `max_iter` epochs; the perceptron trains on all of them. A tagger collapses when it scores no better "
            "than its floor, tagging every token with the most common training tag: F1 0 for entities and chunks, that "
            "tag's share of the tokens for POS. Each run's stop reason is in the results store."]


def time_slope(runs: dict[tuple, list[dict[str, Any]]], task: str, model: str, fractions: Sequence[float],
               per_epoch: bool = False) -> float | None:
    """The log-log slope of ``model``'s training seconds (or seconds per epoch) against its
    training sentences, over every run of ``task``."""
    return loglog_slope([(m["n_sentences"], m["fit_s"] / (m["epochs"] if per_epoch else 1))
                         for f in fractions for m in runs.get((task, model, f), [])])


def tagging_targets(runs: dict[tuple, list[dict[str, Any]]], tasks: list[str]) -> list[list[str]]:
    """One row per (target, task), computed from the runs."""
    rows = []
    for task in tasks:
        fractions = sorted({k[2] for k in runs if k[0] == task})
        # never collapse: seed by seed, above the floor wherever the perceptron is
        pairs = [(f, r, b) for f in fractions for r in runs.get((task, "rnn", f), [])
                 for b in runs.get((task, "perceptron", f), []) if r["seed"] == b["seed"] and b["score"] > b["floor"]]
        collapsed = sorted({f"{f:.0%} (seed {r['seed']})" for f, r, _ in pairs if r["score"] <= r["floor"]})
        rows.append(["never collapses", task, ("collapsed at " + ", ".join(collapsed)) if collapsed else
                     f"above the floor in {len(pairs)} of {len(pairs)} runs" if pairs else "no paired runs",
                     met(not collapsed if pairs else None)])
        # at least the perceptron from 3% upward, on the mean over seeds
        gaps = [(statistics.mean(m["score"] for m in runs[task, "rnn", f]) -
                 statistics.mean(m["score"] for m in runs[task, "perceptron", f]), f)
                for f in fractions if f >= TARGETS["from_fraction"] and (task, "rnn", f) in runs
                and (task, "perceptron", f) in runs]
        worst = min(gaps) if gaps else None
        rows.append([f">= perceptron from {TARGETS['from_fraction']:.0%} of the data", task,
                     f"smallest margin {worst[0]:+.1f} (at {worst[1]:.0%})" if worst else "no runs at these fractions",
                     met(worst[0] >= 0 if worst else None)])
        # training time about linear in the data
        slope = time_slope(runs, task, "rnn", fractions)
        measured = "fewer than two sizes"
        if slope is not None:
            per_epoch = time_slope(runs, task, "rnn", fractions, per_epoch=True)
            base = time_slope(runs, task, "perceptron", fractions)
            measured = f"slope {slope:.2f} (per epoch {per_epoch:.2f}"
            measured += f"; perceptron {base:.2f})" if base is not None else ")"
        rows.append([f"training time ~ linear (log-log slope <= {TARGETS['time_slope']})", task, measured,
                     met(None if slope is None else slope <= TARGETS["time_slope"])])
    fast = runs.get(("ner", "rnn", TARGETS["fast_ner_fraction"]), [])
    rows.append([f"{TARGETS['fast_ner_fraction']:.0%} NER model trains in under {TARGETS['fast_ner_s']:.0f} s", "ner",
                 f"{max(m['fit_s'] for m in fast):.1f} s at most over {len(fast)} seed(s)" if fast else "not run",
                 met(max(m["fit_s"] for m in fast) < TARGETS["fast_ner_s"] if fast else None)])
    return rows


def trees_report(records: list[dict[str, Any]]) -> list[str]:
    runs = grouped(records, "model", "size")
    sizes = sorted({k[1] for k in runs})
    models = [m for m in TREE_MODELS if any(k[0] == m for k in runs)]
    first = next(iter(runs.values()))[0]
    label = {s: ("all " if s >= first["n_available"] else "") + f"{s:,} trees" for s in sizes}
    rows = [[NAMES[m]] + [pm([r["score"] for r in runs[m, s]]) if (m, s) in runs else "—" for s in sizes] for m in models]
    rows.append(["one label everywhere (the floor)"] + [f"{first['floor']:.1f}" for _ in sizes])
    targets = []
    for m in ("recursive_nn", "rntn"):
        if m not in models:
            continue
        done = [(s, r) for s in sizes for r in runs.get((m, s), [])]
        collapsed = [f"{s:,} trees (seed {r['seed']}; labels predicted: {r['labels_predicted']})"
                     for s, r in done if r["score"] <= r["floor"]]
        epochs = "; ".join(f"{s:,}: " + " / ".join(str(r["epochs"]) for r in runs[m, s]) for s in sizes if (m, s) in runs)
        warned = sorted({w for _, r in done for w in r["warnings"]})
        targets.append([f"{NAMES[m]} never collapses", "at or below the floor at " + ", ".join(collapsed) if collapsed else
                        f"above the floor in {len(done)} of {len(done)} runs", met(not collapsed),
                        epochs, ", ".join(warned) or "—"])
    seeds = sorted({r["seed"] for r in records if r["params"].get("size")})
    return ["### Sentiment trees: RecursiveNN() and RNTN() on few trees", "",
            f"Root accuracy (%) on the {first['n_negated']:,} held-out negated sentences of the generated treebank, "
            "whose root label is decided by a negation, against the number of training trees (a random subset per "
            "seed; mean ± sd over seeds):", "", common.markdown_table(["model"] + [label[s] for s in sizes], rows), "",
            common.markdown_table(["target", "measured", "met?", "epochs run, per size", "warnings"], targets), "",
            f"Seeds {', '.join(map(str, seeds))}. With their default `early_stopping='auto'` the tree models set aside "
            "10% of their training trees for early stopping from 500 trees up (`validation_fraction`), and below that "
            "train on every tree for `max_iter` epochs. Collapse: a root accuracy no better than predicting one "
            "label for every sentence."]


def plot(tagging_records: list[dict[str, Any]], tree_records: list[dict[str, Any]], args: Any) -> list[str]:
    """The learning curves, training times and tree curves as PNGs; their markdown links."""
    from groundup.experiments import plot_curves

    links = []
    tagging = grouped(tagging_records, "task", "model", "fraction")
    if tagging:
        scores: dict[str, dict[str, list[list[tuple[float, float]]]]] = {}
        times: dict[str, dict[str, list[list[tuple[float, float]]]]] = {}
        for (task, model, _), ms in sorted(tagging.items(), key=lambda kv: kv[0][2]):
            for i, m in enumerate(ms):
                for out, value in ((scores, m["score"]), (times, m["fit_s"])):
                    curves = out.setdefault(f"{task} ({METRICS[task]})" if out is scores else task, {})
                    seeds = curves.setdefault(NAMES[model], [])
                    if len(seeds) <= i:
                        seeds.append([])
                    seeds[i].append((m["n_sentences"], value))
        for curves, name, ylabel, log_y in ((scores, "taggers_robustness.png", "test score", False),
                                            (times, "taggers_robustness_time.png", "training seconds", True)):
            plot_curves(curves, args.out / name, xlabel="training sentences", ylabel=ylabel, ncols=4, log_x=True,
                        log_y=log_y)
            links.append(f"![{name[:-4]}]({name})")
    trees = grouped(tree_records, "model", "size")
    if trees:
        panel = "negated held-out sentences (dashed: one label everywhere)"
        curves = {panel: {}}
        for (model, _), ms in sorted(trees.items(), key=lambda kv: kv[0][1]):
            seeds = curves[panel].setdefault(NAMES[model], [])
            for i, m in enumerate(ms):
                if len(seeds) <= i:
                    seeds.append([])
                seeds[i].append((m["n_trees"], m["score"]))
        floor = next(iter(trees.values()))[0]["floor"]
        plot_curves(curves, args.out / "taggers_robustness_trees.png", xlabel="training trees",
                    ylabel="root accuracy (%)", thresholds={panel: floor}, log_x=True, panel_size=(5.0, 3.2))
        links.append("![taggers_robustness_trees](taggers_robustness_trees.png)")
    return links


def render(tagging: list[dict[str, Any]], trees: list[dict[str, Any]], args: Any) -> str:
    md = ["## Default taggers and tree models under less data, other columns and lower case"]
    if any(r["status"] == "ok" for r in tagging):
        md += ["", *tagging_report(tagging)]
    if any(r["status"] == "ok" for r in trees):
        md += ["", *trees_report(trees)]
    md += ["", *plot(tagging, trees, args)]
    flag = "" if args.mode == "full" else f" --{args.mode}"
    md += ["", f"One section at a time: `python -m benchmarks.taggers_robustness{flag} --only trees` (or `ner:`, "
           "`pos:`, `chunk:`, `ner-lower:`); finished runs stay in the results store."]
    return "\n".join(md)


# ------------------------------------------------------------------------------ the sweep
def main(argv: list[str] | None = None) -> None:
    args = common.parse_args("taggers_robustness", __doc__.splitlines()[0], argv)
    seeds = common.seeds_for(args, SEEDS[args.mode])
    grid, bank = TAGGING[args.mode], TREES[args.mode]
    tagging: list[dict[str, Any]] = []
    for task in grid["tasks"]:
        for model in TAGGERS:
            fractions = [f for f in grid["fractions"] if common.selected(args, run_name(task, model, f))]
            if fractions:
                common.log(f"taggers_robustness ({args.mode}): {task}:{model} at {fractions}; seeds {seeds}; all cores")
                tagging += common.sweep(args, RUN_TAGGING, {"task": [task], "model": [model], "fraction": fractions,
                                                            "data": [grid["data"]]},
                                        seeds, num_cpus=common.all_cores(), desc=f"{task}:{model}").records
    trees: list[dict[str, Any]] = []
    for model in TREE_MODELS:
        sizes = [s for s in bank["sizes"] if common.selected(args, f"trees:{model}:{s}")]
        if sizes:
            common.log(f"taggers_robustness ({args.mode}): trees:{model} at {sizes} trees; seeds {seeds}; one core a run")
            trees += common.sweep(args, RUN_TREES, {"model": [model], "size": sizes, "data": [bank["data"]]},
                                  seeds, num_cpus=1, desc=f"trees:{model}").records
    records = tagging + trees
    if not records:
        raise SystemExit(f"--only {','.join(args.only)} matches no run; the runs are named TASK:MODEL:FRACTION "
                         f"(tasks {', '.join(TASKS)}; models {', '.join(TAGGERS)}) and trees:MODEL:SIZE "
                         f"(models {', '.join(TREE_MODELS)})")
    common.finish(args, records, lambda: render(tagging, trees, args), lambda r: str(r["params"]))


if __name__ == "__main__":
    main()
