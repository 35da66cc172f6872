"""corpus_file=: streaming, gensim's split of long lines, and clear errors for bad files."""

from __future__ import annotations

import gzip

import pytest

from groundup.datasets.corpus_file import MAX_SENTENCE_LENGTH, CorpusFile, CorpusFileError


def test_reads_lines_and_skips_blank_ones(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("the cat  sat\n\n  \ndog\truns\n", encoding="utf-8")
    corpus = CorpusFile(path)
    assert list(corpus) == [["the", "cat", "sat"], ["dog", "runs"]]
    assert list(corpus) == [["the", "cat", "sat"], ["dog", "runs"]]  # each iter() reads afresh
    assert corpus.tokens_read == 5 and corpus.lines_read == 4


def test_a_line_of_100k_tokens_is_split_as_gensim_splits_it(tmp_path):
    from gensim.models.word2vec import LineSentence

    path = tmp_path / "long.txt"
    path.write_text(" ".join(f"w{k % 997}" for k in range(100_000)) + "\nshort line\n", encoding="utf-8")
    ours = list(CorpusFile(path))
    assert [len(s) for s in ours] == [MAX_SENTENCE_LENGTH] * 10 + [2]
    assert ours == list(LineSentence(str(path)))  # gensim's own reader, the same sentences


def test_gzip_is_read_on_the_fly(tmp_path):
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("a b\nc\n")
    assert list(CorpusFile(path)) == [["a", "b"], ["c"]]


def test_missing_and_empty_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt' does not exist"):
        CorpusFile(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="not a regular file"):
        CorpusFile(tmp_path)
    for text in ("", "\n\n   \n"):
        path = tmp_path / "empty.txt"
        path.write_text(text)
        with pytest.raises(CorpusFileError, match=r"empty.txt': the file holds no tokens"):
            list(CorpusFile(path))


def test_binary_data_is_refused_with_line_and_byte(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"first line\nsecond\x00\x01\x02 line\n")
    with pytest.raises(CorpusFileError, match=r"model.bin': line 2 \(byte 17\) holds a NUL byte: this is binary data"):
        list(CorpusFile(path))


def test_non_utf8_bytes_are_an_error_naming_line_and_byte(tmp_path):
    """The documented policy: non-UTF-8 bytes raise, they are not replaced."""
    path = tmp_path / "latin1.txt"
    path.write_bytes("ok line\nstill ok\ncaf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(CorpusFileError, match=r"latin1.txt': line 3 \(byte 20\) is not valid utf-8"):
        list(CorpusFile(path))
    assert list(CorpusFile(path, encoding="latin-1"))[2] == ["caf\u00e9", "au", "lait"]  # or say its encoding


def test_the_models_report_bad_files(tmp_path):
    from groundup.nlp import GloVe, Word2Vec

    path = tmp_path / "bad.txt"
    path.write_bytes(b"a b c\n\xff\xfe d\n")
    for model in (Word2Vec(min_count=1, workers=1), GloVe(min_count=1)):
        with pytest.raises(ValueError, match=r"bad.txt': line 2 \(byte 6\) is not valid utf-8"):
            model.fit(corpus_file=path)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        Word2Vec(min_count=1).fit(corpus_file=tmp_path / "missing.txt")
