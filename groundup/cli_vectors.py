"""The word-vector commands of ``groundup``, with word2vec.c's flags so that its scripts port:

    groundup word2vec -train FILE -output FILE [-size 100] [-window 5] [-sample 1e-3] [-negative 5]
                      [-cbow 1] [-min-count 5] [-iter 5] [-alpha A] [-threads N] [-binary 0] [-seed 1]
    groundup glove    -train FILE -output FILE [-size 100] [-window 10] [-min-count 5] [-solver svd]
                      [-iter 25] [-x-max 100] [-eta 0.05] [-binary 0] [-seed 1]
    groundup vectors-eval FILE [-binary auto|0|1]

``-train`` is a plain-text file, one sentence per line, tokens separated by whitespace
(read as ``corpus_file=``: streamed, checked). ``-output`` is written in word2vec's text
format, or its binary format with ``-binary 1``, by gensim's ``save_word2vec_format``, so
``KeyedVectors.load_word2vec_format`` (and word2vec.c's own tools) read it. word2vec.c's
defaults are kept where they differ from the Python class's: ``-cbow 1`` (CBOW) and
``-threads`` all cores. ``vectors-eval`` prints Spearman's rho on WordSim-353 and
SimLex-999 and the accuracy on the Google analogies (gensim's bundled copies).

The models are imported when a command runs, not when ``groundup.cli`` is imported.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["add_vector_commands"]


def _flag(value: str) -> int:
    """word2vec.c's 0/1 switches."""
    if value not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"expected 0 or 1, got {value!r}")
    return int(value)


def _save(wv: Any, path: str, binary: int) -> None:
    wv.save_word2vec_format(path, binary=bool(binary))


def cmd_word2vec(args: argparse.Namespace) -> int:
    from groundup.nlp import Word2Vec

    if args.hs:
        raise ValueError("-hs 1 (hierarchical softmax) is not supported; groundup trains with negative sampling (-hs 0)")
    start = time.perf_counter()
    model = Word2Vec(vector_size=args.size, window=args.window, sample=args.sample, negative=args.negative, sg=1 - args.cbow,
                     min_count=args.min_count, epochs=args.iter, alpha=args.alpha, workers=args.threads, seed=args.seed)
    model.fit(corpus_file=args.train, progress_bar=not args.no_progress)
    _save(model.wv, args.output, args.binary)
    print(f"word2vec ({'CBOW' if args.cbow else 'skip-gram'}): {len(model.wv):,} words x {model.wv.vector_size}, "
          f"{model.corpus_word_count_:,} tokens, {time.perf_counter() - start:.1f} s -> {args.output}", file=sys.stderr)
    return 0


def cmd_glove(args: argparse.Namespace) -> int:
    from groundup.nlp import GloVe

    start = time.perf_counter()
    model = GloVe(vector_size=args.size, window=args.window, min_count=args.min_count, solver=args.solver,
                  epochs=args.iter, x_max=args.x_max, learning_rate=args.eta, seed=args.seed)
    model.fit(corpus_file=args.train, progress_bar=not args.no_progress)
    _save(model.wv, args.output, args.binary)
    print(f"GloVe ({args.solver}): {len(model.wv):,} words x {model.wv.vector_size}, "
          f"{time.perf_counter() - start:.1f} s -> {args.output}", file=sys.stderr)
    return 0


def load_vectors(path: str, binary: str = "auto") -> Any:
    """gensim ``KeyedVectors`` from a word2vec-format file; ``binary="auto"`` tries the
    text format and falls back to the binary one."""
    from pathlib import Path

    from gensim.models import KeyedVectors

    if not Path(path).is_file():
        raise FileNotFoundError(f"vectors file {path!r} does not exist")
    if binary != "auto":
        return KeyedVectors.load_word2vec_format(path, binary=bool(int(binary)))
    try:
        return KeyedVectors.load_word2vec_format(path, binary=False)
    except (UnicodeDecodeError, ValueError):
        try:
            return KeyedVectors.load_word2vec_format(path, binary=True)
        except Exception as exc:
            raise ValueError(f"{path!r} is neither a text nor a binary word2vec-format file ({exc})") from None


def evaluate_vectors(wv: Any) -> dict[str, float]:
    """Spearman's rho on WordSim-353 and SimLex-999, accuracy on the Google analogies, and
    the share of each set's pairs/questions that were in the vocabulary."""
    import warnings

    from gensim.test.utils import datapath

    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # gensim warns when a word's vector has zero norm
        for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
            try:
                _, spearman, oov = wv.evaluate_word_pairs(datapath(file))
                out[f"{name}_rho"], out[f"{name}_oov_percent"] = float(spearman.statistic), float(oov)
            except ValueError:  # fewer than two pairs in the vocabulary: no correlation to compute
                out[f"{name}_rho"], out[f"{name}_oov_percent"] = float("nan"), 100.0
        try:
            accuracy, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"))
            total = next(s for s in sections if s["section"] == "Total accuracy")
            questions = len(total["correct"]) + len(total["incorrect"])
        except (ValueError, ZeroDivisionError, StopIteration):  # no question in the vocabulary
            accuracy, questions = float("nan"), 0
    out["analogy_accuracy"] = float(accuracy) if questions else float("nan")
    out["analogy_questions"] = float(questions)
    return out


def cmd_vectors_eval(args: argparse.Namespace) -> int:
    wv = load_vectors(args.path, args.binary)
    scores = evaluate_vectors(wv)
    print(f"{args.path}: {len(wv):,} words x {wv.vector_size}")
    print(f"WordSim-353  Spearman rho {scores['wordsim353_rho']:.4f}  ({scores['wordsim353_oov_percent']:.1f}% of pairs out of vocabulary)")
    print(f"SimLex-999   Spearman rho {scores['simlex999_rho']:.4f}  ({scores['simlex999_oov_percent']:.1f}% of pairs out of vocabulary)")
    print(f"analogies    accuracy     {scores['analogy_accuracy']:.4f}  ({int(scores['analogy_questions']):,} questions in vocabulary)")
    return 0


def add_vector_commands(sub: Any) -> None:
    """Add ``word2vec``, ``glove`` and ``vectors-eval`` to the ``groundup`` sub-parsers."""
    common = dict(formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    p = sub.add_parser("word2vec", help="train word2vec on a text file (word2vec.c's flags)", **common,
                       epilog="example:\n  groundup word2vec -train text8 -output vectors.bin -cbow 1 -size 200 -window 8 "
                              "-negative 25 -sample 1e-4 -threads 20 -binary 1 -iter 15")
    p.add_argument("-train", required=True, help="text file, one sentence per line, whitespace-separated tokens")
    p.add_argument("-output", required=True, help="where to write the vectors (word2vec format)")
    p.add_argument("-size", type=int, default=100, help="vector size (100)")
    p.add_argument("-window", type=int, default=5, help="largest skip length between words (5)")
    p.add_argument("-sample", type=float, default=1e-3, help="subsampling threshold for frequent words (1e-3; 0 off)")
    p.add_argument("-hs", type=_flag, default=0, help="hierarchical softmax: only 0 (negative sampling) is supported")
    p.add_argument("-negative", type=int, default=5, help="noise words per word (5)")
    p.add_argument("-cbow", type=_flag, default=1, help="1: CBOW (word2vec.c's default), 0: skip-gram")
    p.add_argument("-min-count", dest="min_count", type=int, default=5, help="discard words seen fewer times (5)")
    p.add_argument("-iter", type=int, default=5, help="training epochs (5)")
    p.add_argument("-alpha", type=float, default=None, help="starting learning rate (0.05 CBOW, 0.025 skip-gram)")
    p.add_argument("-threads", type=int, default=None, help="worker threads (all cores; 1 is reproducible)")
    p.add_argument("-binary", type=_flag, default=0, help="1: binary output, 0: text (0)")
    p.add_argument("-seed", type=int, default=1, help="random seed (1)")
    p.add_argument("-no-progress", dest="no_progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_word2vec)

    p = sub.add_parser("glove", help="train GloVe on a text file", **common,
                       epilog="example:\n  groundup glove -train corpus.txt -output vectors.txt -size 100 -window 10")
    p.add_argument("-train", required=True, help="text file, one sentence per line, whitespace-separated tokens")
    p.add_argument("-output", required=True, help="where to write the vectors (word2vec format)")
    p.add_argument("-size", "-vector-size", dest="size", type=int, default=100, help="vector size (100)")
    p.add_argument("-window", "-window-size", dest="window", type=int, default=10, help="context words on each side (10)")
    p.add_argument("-min-count", dest="min_count", type=int, default=5, help="discard words seen fewer times (5)")
    p.add_argument("-solver", choices=("svd", "adagrad", "als"), default="svd",
                   help="svd: shifted PPMI + truncated SVD (default); adagrad/als: GloVe's weighted least squares")
    p.add_argument("-iter", type=int, default=25, help="adagrad/als epochs (25)")
    p.add_argument("-x-max", dest="x_max", type=float, default=100.0, help="adagrad/als weighting cutoff (100)")
    p.add_argument("-eta", type=float, default=0.05, help="adagrad learning rate (0.05)")
    p.add_argument("-binary", type=_flag, default=0, help="1: binary output, 0: text (0)")
    p.add_argument("-seed", type=int, default=1, help="random seed (1)")
    p.add_argument("-no-progress", dest="no_progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_glove)

    p = sub.add_parser("vectors-eval", help="WordSim-353, SimLex-999 and analogy scores of a word2vec-format file")
    p.add_argument("path", help="vectors in word2vec's text or binary format")
    p.add_argument("-binary", "--binary", choices=("auto", "0", "1"), default="auto", help="file format (auto: detect)")
    p.set_defaults(func=cmd_vectors_eval)
