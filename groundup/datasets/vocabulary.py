"""A word vocabulary shared by the embedding models: counts, pruning, subsampling, noise.

:class:`Vocabulary` maps words to integer ids, most frequent first, and knows what
word2vec needs from the counts: the keep-probabilities of frequent-word subsampling
(Mikolov et al. 2013, in gensim's form) and the unigram^0.75 noise distribution of
negative sampling. :meth:`Vocabulary.build` reads a corpus once and returns the
vocabulary with the corpus encoded as one compact ``int32`` array of ids
(:class:`EncodedCorpus`), so even a one-shot generator can be trained on for many epochs
without keeping its strings twice.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from groundup.validation import check_int

__all__ = ["EncodedCorpus", "Vocabulary"]


@dataclass(frozen=True)
class EncodedCorpus:
    """A corpus as word ids: ``ids[i]`` is the id of the i-th kept token and
    ``sentence_ids[i]`` the index of the sentence it came from.

    ``raw_word_count`` counts every token read, out-of-vocabulary ones included (what
    gensim counts for the learning-rate schedule and for words per second).
    """

    ids: np.ndarray
    sentence_ids: np.ndarray
    raw_word_count: int
    n_sentences: int

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def _read_ids(sentences: Iterable[Sequence[str]]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """One pass over ``sentences``: provisional ids in order of first appearance, the id of
    every token, and the length of every sentence. The only per-token Python work in
    groundup's embedding pipeline; training itself runs on the id array."""
    if isinstance(sentences, (str, bytes)):
        raise TypeError(
            "sentences must be an iterable of token lists (e.g. [['the', 'cat'], ...]); got a single string"
        )
    try:
        iterator = iter(sentences)
    except TypeError:
        raise TypeError(
            f"sentences must be an iterable of token lists; got {type(sentences).__name__}"
        ) from None
    index: dict[str, int] = {}
    ids = array("i")
    lengths = array("q")
    for k, sentence in enumerate(iterator):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(
                f"sentences must be an iterable of token lists; sentence {k} is a string "
                f"({str(sentence)[:40]!r}); split it into tokens first"
            )
        try:
            row = [index.setdefault(word, len(index)) for word in sentence]
        except TypeError as exc:  # an unhashable token (a list, a dict) or a non-iterable sentence
            raise TypeError(
                f"sentence {k} must be a sequence of string tokens; got {type(sentence).__name__} ({exc})"
            ) from None
        ids.extend(row)
        lengths.append(len(row))
    # Unique words are few: checking their types here is cheap and catches every bad token.
    for word in index:
        if not isinstance(word, str):
            raise TypeError(f"tokens must be strings; got {word!r} of type {type(word).__name__}")
    return index, np.frombuffer(ids, dtype=np.int32), np.frombuffer(lengths, dtype=np.int64)


def _remapped(ids: np.ndarray, lengths: np.ndarray, remap: np.ndarray) -> EncodedCorpus:
    """The corpus with provisional ids mapped through ``remap`` (-1: dropped word).

    Everything per token is int32 (4 bytes) and each temporary is freed as soon as the
    next is made, so that encoding a corpus of N tokens peaks near 17 N bytes (the
    provisional ids included), not the 40 N of int64 temporaries: on a 50M-token
    ``corpus_file`` that is the difference between 0.85 and 2 GB."""
    raw_word_count, n_sentences = int(ids.size), int(lengths.size)
    new_ids = remap[ids]
    keep = new_ids >= 0
    kept_ids = new_ids[keep]
    del new_ids
    sentence_ids = np.repeat(np.arange(n_sentences, dtype=np.int32), lengths)[keep]
    return EncodedCorpus(kept_ids, sentence_ids, raw_word_count, n_sentences)


class Vocabulary:
    """Words and their corpus counts, ids ordered by descending count.

    Parameters
    ----------
    words:
        The words, id order.
    counts:
        How often each word occurs in the corpus (same order).
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray) -> None:
        counts = np.asarray(counts, dtype=np.int64)
        if len(words) != counts.shape[0]:
            raise ValueError(f"words and counts must have the same length; got {len(words)} and {counts.shape[0]}")
        self.words: list[str] = list(words)
        self.counts: np.ndarray = counts
        self.index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("words must be unique")

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, min_count: int = 5, max_vocab: int | None = None) -> Vocabulary:
        """Keep the words seen at least ``min_count`` times, at most the ``max_vocab`` most
        frequent (ties keep the order of ``counts``)."""
        words = list(counts)
        values = np.fromiter((counts[w] for w in words), dtype=np.int64, count=len(words))
        min_count = check_int("min_count", min_count, minimum=1)
        max_vocab = check_int("max_vocab", max_vocab, minimum=1, allow_none=True)
        order = cls._prune(values, words, min_count, max_vocab)
        return cls([words[i] for i in order], values[order])

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], *, min_count: int = 5, max_vocab: int | None = None
    ) -> tuple[Vocabulary, EncodedCorpus]:
        """Read ``sentences`` once; return the vocabulary and the corpus encoded with it.

        Tokens of words below ``min_count`` (or beyond ``max_vocab``) are dropped from the
        encoded corpus, as gensim drops them. Raises ``ValueError`` for an empty corpus or
        one where no word reaches ``min_count``, ``TypeError`` for tokens that are not
        strings.
        """
        min_count = check_int("min_count", min_count, minimum=1)
        max_vocab = check_int("max_vocab", max_vocab, minimum=1, allow_none=True)
        index, ids, lengths = _read_ids(sentences)
        if ids.size == 0:
            raise ValueError(
                f"sentences is empty: read {lengths.size} sentences and 0 tokens; "
                "pass an iterable of non-empty token lists"
            )
        counts = np.bincount(ids, minlength=len(index))
        words = list(index)  # insertion order = provisional id order
        order = cls._prune(counts, words, min_count, max_vocab)
        vocab = cls([words[i] for i in order], counts[order])
        # Remap provisional ids to final ids; -1 marks dropped words.
        remap = np.full(len(words), -1, dtype=np.int32)
        remap[order] = np.arange(order.size, dtype=np.int32)
        del index, words
        return vocab, _remapped(ids, lengths, remap)

    @staticmethod
    def _prune(counts: np.ndarray, words: Sequence[str], min_count: int, max_vocab: int | None) -> np.ndarray:
        """Indices of the kept words, most frequent first (stable for ties)."""
        if counts.size == 0:
            raise ValueError("the corpus has no words; pass an iterable of non-empty token lists")
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] >= min_count]
        if order.size == 0:
            best = int(np.argmax(counts))
            raise ValueError(
                f"no word reaches min_count={min_count}: the most frequent word, {words[best]!r}, "
                f"occurs {int(counts[best])} times; lower min_count or pass a larger corpus"
            )
        if max_vocab is not None:
            order = order[:max_vocab]
        return order

    # -- queries ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"Key '{word}' not present in vocabulary") from None

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, {int(self.counts.sum())} tokens)"

    def encode(self, sentences: Iterable[Sequence[str]]) -> EncodedCorpus:
        """Encode another corpus with this vocabulary (unknown words are dropped)."""
        index, ids, lengths = _read_ids(sentences)
        remap = np.fromiter((self.index.get(w, -1) for w in index), dtype=np.int32, count=len(index))
        return _remapped(ids, lengths, remap)

    def keep_probabilities(self, sample: float = 1e-3) -> np.ndarray:
        """Probability of keeping each occurrence of each word under subsampling.

        gensim's formula (word2vec.c's, in closed form): with ``t = sample * total``,
        ``p(w) = min(1, (sqrt(count / t) + 1) * t / count)``, so a word that makes up more
        than about ``sample`` of the corpus is dropped in proportion to its excess.
        ``sample=0`` keeps everything.
        """
        if isinstance(sample, bool) or not isinstance(sample, (int, float, np.floating, np.integer)):
            raise TypeError(f"sample must be a number in [0, 1); got {sample!r}")
        if not 0 <= sample < 1:
            raise ValueError(f"sample must be in [0, 1); got {sample}")
        if sample == 0:
            return np.ones(len(self), dtype=np.float64)
        threshold = sample * float(self.counts.sum())
        counts = self.counts.astype(np.float64)
        return np.minimum(1.0, (np.sqrt(counts / threshold) + 1.0) * threshold / counts)

    def noise_distribution(self, power: float = 0.75) -> np.ndarray:
        """The negative-sampling distribution: ``count ** power``, normalised to sum to 1."""
        weights = self.counts.astype(np.float64) ** float(power)
        return weights / weights.sum()
