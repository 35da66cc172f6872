"""``groundup sentiment``: train a recursive sentiment model on bracketed trees, and label trees with it.

    groundup sentiment train --train FILE [--valid FILE] --model rnn|rntn --save PATH [--epochs 50] [--seed 0] ...
    groundup sentiment predict PATH FILE [--all-nodes] [--output FILE]

Trees are in the Stanford Sentiment Treebank's bracket format, one tree per line, a label
(0 very negative .. 4 very positive) on every node, binarised::

    (3 (2 it) (4 (2 is) (4 great)))

``predict`` ignores the labels in its input (any integers will do) and writes one line per
tree: the root's predicted label, or with ``--all-nodes`` the tree with a predicted label at
every node. The models are imported when a command runs, not when ``groundup.cli`` is.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from groundup.cli_io import (CliFileError, add_training_options, check_input_file, check_not_an_input,
                              early_stopping_setting, epoch_progress, one_line_warnings, write_text)

__all__ = ["add_sentiment_commands", "read_trees"]


def read_trees(path: str | os.PathLike) -> list[Any]:
    """The ``nltk.Tree``\\ s of a file in SST's bracket format, one tree per line.

    Parameters
    ----------
    path : str or PathLike
        The tree file; blank lines are skipped.

    Raises
    ------
    FileNotFoundError, CliFileError
        A missing or empty file, a file with no trees, or a malformed tree (an unbalanced
        bracket, a label that is not an integer, a node with three children...): the
        message names the file, the line and the character where the problem starts.
    """
    from groundup.datasets.trees import TreeFormatError, read_sst

    p = check_input_file(path, "tree file")
    try:
        trees = read_sst(p)
    except TreeFormatError as exc:
        # read_sst's reason starts with "FILE, line N: "; the character keeps the message on one line
        raise CliFileError(f"{exc.reason} (at character {exc.position + 1} of the line)") from None
    if not trees:
        raise CliFileError(f"{p}: no trees (only blank lines)")
    return trees


def _flat(tree: Any) -> str:
    """A tree on one line, in the bracket format it was read in."""
    return tree.pformat(margin=sys.maxsize)


def cmd_sentiment_train(args: argparse.Namespace) -> int:
    """Run ``groundup sentiment train``: read the tree files, fit a ``RecursiveNN`` or
    ``RNTN`` with a progress bar over its epochs, save it and print a summary to stderr.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (errors raise, and ``groundup.cli.main`` turns them into status 2).
    """
    from groundup.nlp import RecursiveNN
    from groundup.nlp.rntn import RNTN

    trees = read_trees(args.train)
    validation = read_trees(args.valid) if args.valid else None
    cls = RNTN if args.model == "rntn" else RecursiveNN
    model = cls(vector_size=args.vector_size, optimizer=args.optimizer, learning_rate=args.learning_rate,
                alpha=args.alpha, batch_size=args.batch_size, max_iter=args.epochs,
                early_stopping=early_stopping_setting(args.early_stopping),
                random_state=args.seed, device=args.device)
    start = time.perf_counter()
    with one_line_warnings("groundup sentiment train"), \
            epoch_progress(args.epochs, desc=cls.__name__, enabled=not args.no_progress):
        model.fit(trees, validation_data=validation)
    model.save(args.save)
    scored = validation if validation is not None else trees
    which = "validation" if validation is not None else "training"
    epochs = f"{model.n_iter_} epoch{'s' if model.n_iter_ != 1 else ''}"
    print(f"{cls.__name__}: {len(trees):,} trees, labels {model.classes_}, {epochs}, "
          f"{which} root accuracy {model.score(scored):.4f} (all nodes {model.score(scored, nodes='all'):.4f}), "
          f"{time.perf_counter() - start:.1f} s -> {args.save}", file=sys.stderr)
    print(f"stopped: {model.training_log_.stop_reason}", file=sys.stderr)
    return 0


def _load_model(path: str, device: str | None) -> Any:
    """A RecursiveNN or RNTN file, whichever class the file says it holds."""
    from groundup.nlp import RecursiveNN
    from groundup.nlp.rntn import RNTN
    from groundup.persistence import read_metadata

    check_input_file(path, "sentiment model file")
    saved = read_metadata(path).get("class")
    cls = RNTN if saved == RNTN._class_id else RecursiveNN  # any other class: RecursiveNN.load says what it found
    return cls.load(path, device=device)


def cmd_sentiment_predict(args: argparse.Namespace) -> int:
    """Run ``groundup sentiment predict``: load a saved model and write each tree's
    predicted root label, or the tree labelled at every node with ``--all-nodes``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (errors raise, and ``groundup.cli.main`` turns them into status 2).
    """
    check_not_an_input(args.output, args.file, args.path)
    model = _load_model(args.path, args.device)
    trees = read_trees(args.file)
    if args.all_nodes:
        lines = [_flat(t) for t in model.predict_nodes(trees)]
    else:
        lines = [str(label) for label in model.predict(trees).tolist()]
    write_text(args.output, "\n".join(lines) + "\n")
    if args.score:
        print(f"against the file's labels: root accuracy {model.score(trees):.4f}, "
              f"all nodes {model.score(trees, nodes='all'):.4f}", file=sys.stderr)
    return 0


def add_sentiment_commands(sub: Any) -> None:
    """Add ``sentiment train`` and ``sentiment predict`` to the ``groundup`` sub-parsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the ``groundup`` parser (``groundup.cli.build_parser``).
    """
    fmt = argparse.RawDescriptionHelpFormatter
    top = sub.add_parser("sentiment", help="train a recursive net (RNN or RNTN) on sentiment trees, label trees",
                         description=__doc__, formatter_class=fmt)
    commands = top.add_subparsers(dest="sentiment_command", required=True)
    p = commands.add_parser(
        "train", help="train a RecursiveNN or RNTN on a file of bracketed trees and save it", formatter_class=fmt,
        epilog="example (the Stanford Sentiment Treebank, trainDevTestTrees_PTB.zip unzipped into trees/):\n"
               "  groundup sentiment train --train trees/train.txt --valid trees/dev.txt --model rntn \\\n"
               "      --save rntn.safetensors\n"
               "  groundup sentiment predict rntn.safetensors trees/test.txt --score")
    p.add_argument("--train", required=True, help="one bracketed tree per line, e.g. (3 (2 it) (4 (2 is) (4 great)))")
    p.add_argument("--valid", help="trees for early stopping and the reported score")
    p.add_argument("--model", choices=("rnn", "rntn"), default="rntn",
                   help="rnn: tanh(W[a;b]) composition; rntn: adds the bilinear tensor term (rntn)")
    p.add_argument("--save", required=True, help="the .safetensors file to write")
    p.add_argument("--epochs", type=int, default=50, help="most training epochs (50; early stopping may end sooner)")
    p.add_argument("--vector-size", type=int, default=25, help="word and phrase vector size (25)")
    p.add_argument("--optimizer", choices=("adagrad", "adam"), default="adagrad", help="adagrad (Socher et al.) or adam")
    p.add_argument("--learning-rate", type=float, default=0.05, help="learning rate (0.05)")
    p.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty (1e-4)")
    p.add_argument("--batch-size", type=int, default=32, help="trees per step (32)")
    add_training_options(p, "trees")
    p.set_defaults(func=cmd_sentiment_train)

    p = commands.add_parser(
        "predict", help="print each tree's predicted root label (or every node's)", formatter_class=fmt,
        epilog="example:\n  groundup sentiment predict rntn.safetensors reviews.txt              # one label per line\n"
               "  groundup sentiment predict rntn.safetensors reviews.txt --all-nodes  # labelled trees")
    p.add_argument("path", help="a model saved by `groundup sentiment train` (RecursiveNN or RNTN)")
    p.add_argument("file", help="bracketed trees, one per line (their labels are ignored)")
    p.add_argument("--all-nodes", action="store_true", help="write each tree with a predicted label at every node")
    p.add_argument("--output", help="where to write the predictions (default: stdout)")
    p.add_argument("--score", action="store_true", help="also print the accuracy against the file's own labels (stderr)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps or auto (default: auto)")
    p.set_defaults(func=cmd_sentiment_predict)
