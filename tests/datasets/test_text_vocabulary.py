"""Vocabulary: counts, ids, pruning, encoding, subsampling and noise in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.datasets.vocabulary import Vocabulary

CORPUS = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"], [], ["a", "cat", "the"]]


def test_build_counts_orders_and_encodes():
    vocab, corpus = Vocabulary.build(CORPUS, min_count=2)
    assert vocab.words == ["the", "cat", "sat"]  # descending count, ties by first appearance
    np.testing.assert_array_equal(vocab.counts, [4, 2, 2])
    assert vocab["cat"] == 1 and "dog" not in vocab and len(vocab) == 3
    # rare words are dropped from the encoded corpus, as gensim drops them
    np.testing.assert_array_equal(corpus.ids, [0, 1, 2, 0, 0, 2, 1, 0])
    np.testing.assert_array_equal(corpus.sentence_ids, [0, 0, 0, 0, 1, 1, 3, 3])
    assert corpus.raw_word_count == 12 and corpus.n_sentences == 4 and len(corpus) == 8
    assert corpus.ids.dtype == np.int32


def test_max_vocab_and_from_counts():
    vocab, corpus = Vocabulary.build(CORPUS, min_count=1, max_vocab=2)
    assert vocab.words == ["the", "cat"] and set(corpus.ids.tolist()) == {0, 1}
    v = Vocabulary.from_counts({"x": 3, "y": 9, "z": 1, "w": 3}, min_count=2)
    assert v.words == ["y", "x", "w"] and v.counts.tolist() == [9, 3, 3]


def test_encode_with_an_existing_vocabulary():
    vocab, _ = Vocabulary.build(CORPUS, min_count=2)
    enc = vocab.encode([["sat", "unknown", "the"], ["nothing"]])
    np.testing.assert_array_equal(enc.ids, [2, 0])
    np.testing.assert_array_equal(enc.sentence_ids, [0, 0])
    assert enc.raw_word_count == 4 and enc.n_sentences == 2


def test_a_generator_is_read_once():
    vocab, corpus = Vocabulary.build((s for s in CORPUS), min_count=1)
    assert len(vocab) == 7 and corpus.raw_word_count == 12


def test_keep_probabilities_closed_form():
    vocab = Vocabulary(["a", "b", "c"], [5000, 400, 10])
    total = 5410
    t = 1e-2 * total
    expected = np.minimum(1, (np.sqrt(np.array([5000, 400, 10]) / t) + 1) * t / np.array([5000, 400, 10]))
    np.testing.assert_allclose(vocab.keep_probabilities(1e-2), expected)
    assert expected[2] == 1.0 and 0.1 < expected[0] < 0.12  # the frequent word is mostly dropped
    np.testing.assert_array_equal(vocab.keep_probabilities(0), [1, 1, 1])
    with pytest.raises(ValueError, match="sample must be in"):
        vocab.keep_probabilities(1.0)
    with pytest.raises(TypeError, match="sample"):
        vocab.keep_probabilities("0.001")


def test_noise_distribution():
    vocab = Vocabulary(["a", "b"], [16, 1])
    np.testing.assert_allclose(vocab.noise_distribution(0.75), [8 / 9, 1 / 9])
    np.testing.assert_allclose(vocab.noise_distribution(1.0), [16 / 17, 1 / 17])


@pytest.mark.parametrize(
    "sentences, kwargs, error, match",
    [
        ([], {}, ValueError, "sentences is empty"),
        ([[]], {}, ValueError, "sentences is empty"),
        ([["a", "b"], ["a"]], {"min_count": 3}, ValueError, r"no word reaches min_count=3: the most frequent word, 'a', occurs 2 times"),
        ([["a", 1.5]], {}, TypeError, "tokens must be strings; got 1.5 of type float"),
        ([["a", None]], {}, TypeError, "tokens must be strings; got None"),
        ([["a", {"b"}]], {}, TypeError, "sentence 0 must be a sequence of string tokens"),
        ([["a"], 5], {}, TypeError, "sentence 1 must be a sequence"),
        ([["a"], "b c"], {}, TypeError, "sentence 1 is a string"),
        ("a b c", {}, TypeError, "got a single string"),
        (None, {}, TypeError, "iterable of token lists; got NoneType"),
        ([["a"]], {"min_count": 0}, ValueError, "min_count must be a positive integer; got 0"),
        ([["a"]], {"max_vocab": 0}, ValueError, "max_vocab"),
        ([["a"]], {"min_count": 1.0}, TypeError, "min_count"),
    ],
)
def test_bad_input(sentences, kwargs, error, match):
    with pytest.raises(error, match=match):
        Vocabulary.build(sentences, **kwargs)


def test_constructor_checks_and_lookup_error():
    with pytest.raises(ValueError, match="same length"):
        Vocabulary(["a"], [1, 2])
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "a"], [1, 2])
    with pytest.raises(KeyError, match="'zebra' not present"):
        Vocabulary(["a"], [1])["zebra"]
