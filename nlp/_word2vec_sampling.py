"""What word2vec samples, apart from the model: corpus chunks, subsampling and reduced
windows, the noise-word table, and one pair of random generators per worker.
(:mod:`groundup.nlp.word2vec` holds the model and its two SGD steps.)"""

from __future__ import annotations

import numpy as np
import torch

from groundup.datasets.vocabulary import EncodedCorpus, Vocabulary

__all__ = ["draw_windows", "random_streams", "sentence_aligned_chunks", "unigram_table"]


def sentence_aligned_chunks(sentence_ids: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Split positions 0..n into runs of about ``size`` that end at sentence ends, so no
    window is cut by a chunk boundary (a sentence longer than ``size`` is cut)."""
    n = sentence_ids.shape[0]
    bounds = [0]
    while bounds[-1] < n:
        a = bounds[-1]
        b = min(a + size, n)
        if b < n:
            first = int(np.searchsorted(sentence_ids, sentence_ids[b], side="left"))  # start of b's sentence
            b = first if first > a else b
        bounds.append(b)
    return list(zip(bounds[:-1], bounds[1:]))


def draw_windows(
    corpus: EncodedCorpus, a: int, b: int, keep_prob: np.ndarray, window: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Subsample positions a..b of the corpus and draw each survivor's reduced window
    (each word's ``b``, uniform in 1..window, as gensim draws it).

    Returns the surviving ids and, for each, the first and last position (inclusive) of
    its window, clipped to its sentence. As in gensim, subsampled words are removed
    before the windows are laid down, so windows reach past them.
    """
    ids = corpus.ids[a:b]
    sent = corpus.sentence_ids[a:b]
    kept = rng.random(ids.shape[0]) < keep_prob[ids]
    ids, sent = ids[kept], sent[kept]
    n = ids.shape[0]
    pos = np.arange(n)
    starts = np.r_[True, sent[1:] != sent[:-1]]  # first word of each sentence
    ends = np.r_[sent[1:] != sent[:-1], True]  # last word of each sentence
    sentence_start = np.maximum.accumulate(np.where(starts, pos, 0))
    sentence_end = np.minimum.accumulate(np.where(ends, pos, n)[::-1])[::-1]
    reduced = rng.integers(1, window + 1, size=n)  # b in 1..window
    left = np.maximum(pos - reduced, sentence_start)
    right = np.minimum(pos + reduced, sentence_end)
    return ids.astype(np.int64), left, right


def unigram_table(vocab: Vocabulary, ns_exponent: float, device: torch.device) -> torch.Tensor:
    """word2vec.c's unigram table: word w fills a share noise(w) of the table's slots,
    so a uniform random slot is a draw from the noise distribution. Slot k holds the
    word whose cumulative probability first exceeds (k + 0.5) / size."""
    size = int(min(2**24, max(2**20, 256 * len(vocab))))
    cdf = np.cumsum(vocab.noise_distribution(ns_exponent))
    table = np.searchsorted(cdf, (np.arange(size) + 0.5) / size).clip(max=len(vocab) - 1)
    return torch.as_tensor(table, device=device)


def random_streams(
    rng: np.random.Generator, gen: torch.Generator, workers: int, device: torch.device
) -> list[tuple[np.random.Generator, torch.Generator]]:
    """One (NumPy, torch) pair of generators per worker; the first is the run's own, so one
    worker draws exactly what a run without workers draws."""
    streams = [(rng, gen)]
    for child in rng.spawn(workers - 1):
        streams.append((child, torch.Generator(device=device).manual_seed(int(child.integers(2**62)))))
    return streams
