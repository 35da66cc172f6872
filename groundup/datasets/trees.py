"""Sentiment trees: the Stanford Sentiment Treebank's bracket format, and files of it.

A tree in SST's format (Socher et al., 2013) is a binarised parse with a sentiment label
from 0 (very negative) to 4 (very positive) on every node::

    (3 (2 it) (4 (2 is) (4 great)))

A *preterminal* ``(4 great)`` holds one word; every other node holds exactly two subtrees.
:func:`parse_sst_tree` turns one such string into an ``nltk.Tree`` whose labels are
``int``; a malformed string raises :class:`TreeFormatError` with the character position.
:func:`load_sst` reads the real treebank (``train.txt``, ``dev.txt``, ``test.txt`` from
``trainDevTestTrees_PTB.zip``) when a user has it. :func:`make_sentiment_treebank`
generates a compositional treebank in the same format for tests and benchmarks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from groundup.datasets._sources import DatasetNotFoundError, Source, locate

__all__ = [
    "TreeFormatError",
    "parse_sst_tree",
    "read_sst",
    "load_sst",
    "check_sentiment_tree",
    "SentimentTreebank",
    "make_sentiment_treebank",
    "SST",
    "SST_URL",
]

SST_URL = "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"
SST_SPLITS = ("train", "dev", "test")
SST = Source(name="sst", files=[f"{s}.txt" for s in SST_SPLITS])

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class TreeFormatError(ValueError):
    """A bracket string that is not a binarised, fully labelled sentiment tree."""

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text, self.position, self.reason = text, position, reason
        start = max(0, position - 30)
        excerpt = text[start : position + 30].replace("\n", " ")
        pointer = " " * (position - start) + "^"
        super().__init__(f"malformed tree at position {position}: {reason}\n  {excerpt}\n  {pointer}")


def parse_sst_tree(text: str) -> Any:
    """Parse one SST bracket string into an ``nltk.Tree`` with ``int`` labels.

    Accepted: ``(LABEL word)`` or ``(LABEL SUBTREE SUBTREE)``, LABEL an integer, words
    any run of characters other than whitespace and parentheses (SST writes "(" as
    ``-LRB-``). Anything else raises :class:`TreeFormatError` naming the position.
    """
    from nltk import Tree

    if not isinstance(text, str):
        raise TypeError(f"text must be a string in the SST bracket format; got {type(text).__name__}")
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    if not tokens:
        raise TreeFormatError(text, 0, "the string is empty; expected '(LABEL ...)'")
    end = len(text)

    def expect_open(i: int) -> None:
        if i >= len(tokens):
            raise TreeFormatError(text, end, "the string ends where a subtree '(' was expected")
        tok, pos = tokens[i]
        if tok != "(":
            raise TreeFormatError(text, pos, f"expected '(' to start a subtree, found {tok!r}")

    def node(i: int) -> tuple[Any, int]:
        """Parse the subtree starting at token ``i``; return it and the next token index."""
        expect_open(i)
        if i + 1 >= len(tokens):
            raise TreeFormatError(text, end, "the string ends after '('; expected a label")
        label, pos = tokens[i + 1]
        if label in "()":
            raise TreeFormatError(text, pos, f"expected an integer label after '(', found {label!r}")
        try:
            value = int(label)
        except ValueError:
            raise TreeFormatError(text, pos, f"the label {label!r} is not an integer (SST labels are 0 to 4)") from None
        j = i + 2
        if j >= len(tokens):
            raise TreeFormatError(text, end, "the string ends after a label; expected a word or two subtrees")
        tok, pos = tokens[j]
        if tok == ")":
            raise TreeFormatError(text, pos, "a node has no children; expected a word or two subtrees")
        if tok != "(":  # a preterminal: (LABEL word)
            if j + 1 >= len(tokens):
                raise TreeFormatError(text, end, f"the string ends after the word {tok!r}; expected ')'")
            close, cpos = tokens[j + 1]
            if close != ")":
                raise TreeFormatError(text, cpos, f"expected ')' after the word {tok!r}, found {close!r} "
                                      "(a node holds one word or two subtrees)")
            return Tree(value, [tok]), j + 2
        left, j = node(j)
        if j >= len(tokens):
            raise TreeFormatError(text, end, "the string ends after one subtree; expected a second subtree")
        if tokens[j][0] == ")":
            raise TreeFormatError(text, tokens[j][1], "a node has one subtree; binarised trees need two")
        right, j = node(j)
        if j >= len(tokens):
            raise TreeFormatError(text, end, "the string ends before the closing ')'")
        tok, pos = tokens[j]
        if tok != ")":
            raise TreeFormatError(text, pos, f"expected ')' after two subtrees, found {tok!r} (the tree is not binarised)")
        return Tree(value, [left, right]), j + 1

    tree, j = node(0)
    if j < len(tokens):
        raise TreeFormatError(text, tokens[j][1], f"unexpected {tokens[j][0]!r} after the end of the tree")
    return tree


def read_sst(source: str | os.PathLike | Iterable[str]) -> list[Any]:
    """All trees in an SST file (one bracket string per line) or an iterable of lines.

    A malformed line raises :class:`TreeFormatError` whose message starts with the line number.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"SST file {str(path)!r} does not exist")
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
        name = str(path)
    else:
        lines, name = list(source), "<lines>"
    trees = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            trees.append(parse_sst_tree(line.strip()))
        except TreeFormatError as exc:
            raise TreeFormatError(exc.text, exc.position, f"{name}, line {lineno}: {exc.reason}") from None
    return trees


def load_sst(split: str = "train", path: str | os.PathLike | None = None) -> list[Any]:
    """The Stanford Sentiment Treebank ``split`` ("train": 8,544 trees, "dev": 1,101,
    "test": 2,210) from ``path`` or ``$GROUNDUP_DATA/sst/``: the folder ``trees/`` of
    ``trainDevTestTrees_PTB.zip`` (SST's licence keeps it out of the data packages)."""
    if split not in SST_SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SST_SPLITS))}; got {split!r}")
    try:
        folder, _ = locate(SST, path, download_ok=False)
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(
            f"{exc}. Download {SST_URL}, unzip it, and pass path='.../trees' or put train.txt, "
            "dev.txt and test.txt in $GROUNDUP_DATA/sst/"
        ) from None
    return read_sst(folder / f"{split}.txt")


def check_sentiment_tree(tree: Any, name: str = "tree", *, labels: bool = True) -> None:
    """Check that ``tree`` is a binarised ``nltk.Tree`` with a string at every leaf and,
    when ``labels``, an ``int`` label on every node; raise ``TypeError``/``ValueError``
    naming the first problem and where it is (``tree[1][0]``: first child of the second)."""
    from nltk import Tree

    def visit(t: Any, where: str) -> None:
        if not isinstance(t, Tree):
            raise TypeError(f"{where} must be an nltk.Tree; got {type(t).__name__} {t!r:.60}")
        if labels and (isinstance(t.label(), (bool, np.bool_)) or not isinstance(t.label(), (int, np.integer))):
            raise TypeError(f"{where} has the label {t.label()!r}; labels must be integers (parse_sst_tree gives int labels)")
        if len(t) == 1:
            if not isinstance(t[0], str):
                if isinstance(t[0], Tree):
                    raise ValueError(f"{where} has a single subtree; binarised trees have one word or two subtrees")
                raise TypeError(f"{where} has the leaf {t[0]!r} of type {type(t[0]).__name__}; leaves must be word strings")
            return
        if len(t) != 2:
            raise ValueError(f"{where} has {len(t)} children; binarised trees have one word or two subtrees")
        for k in (0, 1):
            if isinstance(t[k], str):
                raise ValueError(f"{where}[{k}] is the bare word {t[k]!r}; a word needs its own labelled node, e.g. (2 {t[k]})")
            visit(t[k], f"{where}[{k}]")

    visit(tree, name)


# --------------------------------------------------------------------------------------
# A generated compositional sentiment treebank
# --------------------------------------------------------------------------------------
# Labels follow SST: 0 very negative, 1 negative, 2 neutral, 3 positive, 4 very positive.
ADJECTIVES = {
    4: ("brilliant", "superb", "wonderful", "masterful", "stunning", "excellent"),
    3: ("good", "enjoyable", "charming", "clever", "funny", "moving", "solid", "fresh"),
    2: ("long", "french", "quiet", "familiar", "new", "short"),
    1: ("dull", "bland", "weak", "tedious", "predictable", "silly", "clumsy", "flat"),
    0: ("awful", "terrible", "dreadful", "unbearable", "horrible", "pathetic"),
}
VERBS = {3: ("works", "succeeds", "delights", "shines", "entertains"), 2: ("ends", "begins", "continues"),
         1: ("fails", "drags", "disappoints", "bores", "falters")}
NOUNS = ("movie", "film", "plot", "story", "script", "cast", "acting", "director", "ending", "soundtrack",
         "dialogue", "performance")
DETERMINERS = ("the", "this", "its")
COPULAS = ("is", "was", "seems", "feels")
INTENSIFIERS = ("very", "really", "truly", "extremely")
NEGATORS = ("not", "never")


def intensify(label: int) -> int:
    """"very good" is very positive, "very dull" very negative, "very long" still neutral."""
    return 4 if label >= 3 else 0 if label <= 1 else 2


def negate(label: int) -> int:
    """Negation flips the polarity and softens it, as SST's annotators judged: "not good"
    and "not brilliant" are negative (1), "not bad" and "not awful" positive (3)."""
    return 1 if label >= 3 else 3 if label <= 1 else 2


class SentimentTreebank(NamedTuple):
    """Splits of :func:`make_sentiment_treebank`; ``negated`` holds only held-out sentences
    whose root label is decided by a negation ("the plot is not very good")."""

    train: list[Any]
    dev: list[Any]
    test: list[Any]
    negated: list[Any]


def make_sentiment_treebank(
    n_train: int = 6000,
    n_dev: int = 500,
    n_test: int = 1000,
    n_negated: int = 1000,
    *,
    negation: float = 0.4,
    intensifier: float = 0.3,
    contrast: float = 0.2,
    random_state: int | None = 0,
) -> SentimentTreebank:
    """Generate binarised sentiment trees with a compositionally computed label at every node.

    Sentences are ``DET [ADJ] NOUN`` + a predicate (``COPULA [not|never] [INTENSIFIER] ADJ``
    or ``[never] VERB``), optionally followed by "but" and a second such clause. Labels:
    words from the lexicon; an intensifier applies :func:`intensify`, a negator
    :func:`negate`; a clause takes its predicate's label unless that is neutral (then its
    subject's); "X but Y" takes Y's label unless Y is neutral. ``negation``,
    ``intensifier`` and ``contrast`` are the probabilities of each construction. The same
    ``random_state`` gives the same treebank; every sentence (as a word string) appears in
    one split only, so the held-out splits test generalisation, not memory.
    """
    from nltk import Tree

    for name, value in (("n_train", n_train), ("n_dev", n_dev), ("n_test", n_test), ("n_negated", n_negated)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    for name, value in (("negation", negation), ("intensifier", intensifier), ("contrast", contrast)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1]; got {value!r}")
    grammar = _TreebankGrammar(Tree, np.random.default_rng(random_state), negation, intensifier, contrast)
    train = grammar.draw(n_train, False)
    dev = grammar.draw(n_dev, False)
    test = grammar.draw(n_test, False)
    if n_negated and negation == 0:
        raise ValueError("negation=0 generates no negated sentences, but n_negated > 0 were asked for")
    negated = grammar.draw(n_negated, True)
    return SentimentTreebank(train, dev, test, negated)


class _TreebankGrammar:
    """The grammar of :func:`make_sentiment_treebank`. Every choice is drawn from the one
    ``rng`` in a fixed order, so that a seed always gives the same treebank."""

    def __init__(self, tree_class: type, rng: np.random.Generator, negation: float, intensifier: float,
                 contrast: float) -> None:
        self.Tree = tree_class  # nltk's, imported by the caller: nltk is an optional dependency
        self.rng = rng
        self.negation, self.intensifier, self.contrast = negation, intensifier, contrast
        self.seen: set[str] = set()  # across splits, so that no sentence is in two of them

    def pick(self, words: tuple[str, ...]) -> str:
        return words[self.rng.integers(len(words))]

    def leaf(self, word: str, label: int = 2) -> Any:
        return self.Tree(label, [word])

    def noun_phrase(self) -> Any:
        """(DET NOUN) or (DET (ADJ NOUN)): the adjective's sentiment is the phrase's."""
        nbar = self.leaf(self.pick(NOUNS))
        if self.rng.random() < 0.3:
            label = int(self.rng.integers(5))
            nbar = self.Tree(label, [self.leaf(self.pick(ADJECTIVES[label]), label), nbar])
        return self.Tree(nbar.label(), [self.leaf(self.pick(DETERMINERS)), nbar])

    def predicate(self, negate_p: float) -> tuple[Any, bool]:
        """(COPULA [NEG] [INTENSIFIER] ADJ) or ([never] VERB), and whether a negation
        decides its label (a negated neutral phrase stays neutral, so it decides nothing)."""
        copular = self.rng.random() < 0.6
        if copular:
            label = int(self.rng.integers(5))
            phrase = self.leaf(self.pick(ADJECTIVES[label]), label)
            if self.rng.random() < self.intensifier:
                phrase = self.Tree(intensify(label), [self.leaf(self.pick(INTENSIFIERS)), phrase])
            negator = self.pick(NEGATORS)
        else:
            label = (3, 2, 1)[self.rng.integers(3)]
            phrase, negator = self.leaf(self.pick(VERBS[label]), label), "never"
        negated = self.rng.random() < negate_p
        if negated:
            phrase = self.Tree(negate(phrase.label()), [self.leaf(negator), phrase])
        if copular:
            phrase = self.Tree(phrase.label(), [self.leaf(self.pick(COPULAS)), phrase])
        return phrase, negated and phrase.label() != 2

    def clause(self, negate_p: float) -> tuple[Any, bool]:
        """(SUBJECT PREDICATE): the predicate's label unless it is neutral."""
        subject, (vp, negated) = self.noun_phrase(), self.predicate(negate_p)
        decided_by_vp = vp.label() != 2
        return self.Tree(vp.label() if decided_by_vp else subject.label(), [subject, vp]), negated and decided_by_vp

    def sentence(self, negate_p: float) -> tuple[Any, bool]:
        """A clause, or (CLAUSE (but CLAUSE)), which takes the second clause's label unless
        that is neutral; returns the tree and whether a negation decides the root."""
        first, negated = self.clause(negate_p)
        if self.rng.random() >= self.contrast:
            return first, negated
        second, negated2 = self.clause(negate_p)
        tail = self.Tree(second.label(), [self.leaf("but"), second])
        if second.label() != 2:
            return self.Tree(second.label(), [first, tail]), negated2
        return self.Tree(first.label(), [first, tail]), negated

    def draw(self, n: int, negated_only: bool) -> list[Any]:
        """``n`` sentences never drawn before (only those a negation decides, if ``negated_only``)."""
        out: list[Any] = []
        for _ in range(1000 * (n + 1)):  # a bound, so that a tiny lexicon cannot loop forever
            if len(out) == n:
                return out
            # The negated split draws negations at least half the time, only to find
            # its sentences faster; which ones it keeps depends only on the sentence.
            tree, negated = self.sentence(max(self.negation, 0.5) if negated_only else self.negation)
            text = " ".join(tree.leaves())
            if text in self.seen or (negated_only and not negated):
                continue
            self.seen.add(text)
            out.append(tree)
        raise ValueError(f"could not generate {n} distinct sentences; lower the split sizes")
