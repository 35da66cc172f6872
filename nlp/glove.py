"""GloVe (Pennington, Socher & Manning 2014): word vectors from global co-occurrence counts.

1. Count: X[i, j] sums 1/distance over every time word j appears within ``window``
   words of word i in a sentence (:func:`cooccurrence_matrix`, NumPy + scipy.sparse:
   one vectorised pass per distance, duplicates summed by the sparse format).
2. Fit. The default (``solver="svd"``) factorises the counts instead of fitting them:
   shifted positive PMI with context-distribution smoothing, then a truncated SVD with
   the singular values split between word and context vectors (Levy, Goldberg & Dagan
   2015, "Improving distributional similarity with lessons learned from word
   embeddings"). It needs no learning rate, x_max or epochs, so it holds from one
   corpus to the next, and it takes seconds. The classic GloVe objective is the option:
   minimise the weighted least squares over the non-zero counts

       J = sum_ij f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2,
       f(x) = min(1, (x / x_max) ** alpha),

   with AdaGrad on shuffled minibatches of (i, j, X_ij) entries (``solver="adagrad"``,
   glove.c's method), or by alternating least squares (``solver="als"``): with the
   context side fixed, each word's (w_i, b_i) is a small ridge regression, solved for
   all words at once (the matrix-factorisation view of GloVe).
3. The word vectors are w + c, as the paper recommends, or w alone (``vectors="word"``;
   for the least-squares solvers better on small corpora, see the class docstring).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from groundup.nlp._checkpoint import open_checkpoint, resume_tables, save_tables
from groundup.nlp._keyedvectors import EmbeddingModel, keyed_vectors

from groundup.datasets.vocabulary import EncodedCorpus, Vocabulary
from groundup.progress import TrainingLog, progress_bar
from groundup.torch_utils import resolve_device
from groundup.validation import check_choice, check_int, check_learning_rate, check_number, check_positive, check_seed

__all__ = ["GloVe", "cooccurrence_matrix"]


def cooccurrence_matrix(
    corpus: EncodedCorpus, vocab_size: int, window: int = 10, *, symmetric: bool = True, distance_weighting: bool = True
) -> Any:
    """The (vocab_size, vocab_size) ``scipy.sparse.csr_matrix`` of co-occurrence counts.

    For each distance k = 1..window, the pairs (ids[t], ids[t + k]) inside one sentence
    are taken in one vectorised slice and weighted 1/k (or 1 without
    ``distance_weighting``). X[i, j] counts j to the right of i; ``symmetric`` adds the
    transpose, so left contexts count too (GloVe's default).
    """
    import scipy.sparse as sp

    window = check_int("window", window, minimum=1)
    ids = corpus.ids.astype(np.int32, copy=False)
    sent = corpus.sentence_ids
    rows, cols, vals = [], [], []
    for k in range(1, window + 1):
        same = sent[:-k] == sent[k:]  # both words in one sentence
        rows.append(ids[:-k][same])
        cols.append(ids[k:][same])
        vals.append(np.full(rows[-1].shape[0], 1.0 / k if distance_weighting else 1.0))
    x = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(vocab_size, vocab_size)
    ).tocsr()  # sums duplicate (i, j) pairs
    if symmetric:
        x = (x + x.T).tocsr()
    x.sum_duplicates()
    x.sort_indices()
    return x


class GloVe(EmbeddingModel):
    """GloVe word vectors.

    Two ways to train, with the same result for the same seed::

        model = GloVe(sentences, vector_size=50, min_count=1)       # gensim's habit
        model = GloVe(corpus_file="corpus.txt", vector_size=50)     # the same, from a file
        model = GloVe(vector_size=50, min_count=1).fit(sentences)   # scikit-learn's form

    Parameters
    ----------
    sentences : iterable of list of str, optional
        The corpus, an iterable of token lists (read once). Given here, the model trains at
        once, as gensim's models do; left out (None), call ``fit``. Not a hyper-parameter:
        ``get_params``/``clone`` leave it out and the model does not keep it.
    corpus_file : str or path, optional
        Instead of ``sentences``, a plain-text file (``.gz``/``.bz2`` too), one sentence per
        line, tokens separated by whitespace, read as a stream. The parameters below are
        keyword-only.
    vector_size : int, default 100
        Dimensionality of the vectors.
    window : int, default 10
        Co-occurrence window, words on each side.
    min_count : int, default 5
        Ignore words with fewer occurrences.
    max_final_vocab : int, optional
        Keep at most this many of the most frequent words.
    solver : {"svd", "adagrad", "als"}, default "svd"
        How the vectors are obtained from the counts. "svd" factorises the shifted positive
        PMI matrix by truncated SVD (Levy, Goldberg & Dagan 2015): deterministic for a
        seed, no step sizes to tune, and it holds across corpora; on small corpora (under a
        million tokens) the least-squares fits depend strongly on ``x_max`` and ``epochs``
        and can fail outright (the benchmarks page has the comparison). "adagrad" fits
        GloVe's weighted least squares by AdaGrad, as glove.c; "als" fits the same
        objective by alternating least squares.
    context_smoothing : float, default 0.75
        "svd" only: the exponent a of the smoothed context distribution
        P_a(c) = count(c)^a / sum count^a in the PMI (Levy et al.'s and word2vec's).
    shift : float, default 1
        "svd" only: subtract log(shift) from the PMI before clipping at 0 (1: none;
        word2vec with k negative samples factorises the PMI shifted by log k).
    eigenvalue_weighting : float, default 0.5
        "svd" only: word vectors U S^p and context vectors V S^p with p this value (0.5:
        symmetric, so w . c reproduces the matrix; Levy et al. find p below 1 better for
        similarity than the plain SVD's U S).
    x_max, alpha : float, default 100 and 0.75
        "adagrad"/"als": the weighting f(x) = min(1, (x / x_max) ** alpha), the paper's.
    learning_rate : float, default 0.05
        AdaGrad's initial step (glove.c's eta).
    epochs : int, default 25
        AdaGrad passes over the non-zero counts, or ALS sweeps ("svd" has none).
    regularization : float, default 0.1
        ALS only: the ridge penalty on each solved vector.
    batch_size : int, default 8192
        AdaGrad entries per update step.
    symmetric, distance_weighting : bool, default True
        How to count: left and right contexts, weighted 1/distance.
    vectors : {"sum", "word"}, default "sum"
        What ``wv`` holds: w + c (the paper's and glove.c's default) or w alone (glove.c's
        ``-model 1``). For the least-squares solvers on a small corpus "word" can be much
        better: the log-count matrix is symmetric but indefinite, and w_i . c_j can only fit
        a negative eigen-direction with c pointing against w along it, so w + c cancels
        exactly those directions (the benchmarks page compares the two on PTB).
    seed : int, default 1
        Seeds the random starting vectors and the SVD's range finder (gensim's default seed).
    device : str, default "auto"
        Where torch trains: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", ...
    tensorboard_log : str, optional
        A folder where each epoch's loss (for "svd", the residual share as one point) goes
        as the TensorBoard scalar ``train/loss``, in a run sub-folder ``GloVe_<n>`` (None:
        no log). Needs ``pip install groundup[logging]``.

    Attributes
    ----------
    wv : gensim.models.KeyedVectors
        The vectors ``vectors`` names, after ``fit``.
    word_vectors_, context_vectors_ : numpy.ndarray
        w and c.
    bias_ : numpy.ndarray
        The word biases (zeros for "svd").
    vocabulary_ : Vocabulary
        The words kept and their counts.
    cooccurrence_ : scipy.sparse.csr_matrix
        The co-occurrence counts (1/distance weighted).
    count_time_, train_time_ : float
        Seconds spent counting and fitting.
    training_loss_ : list of float
        J / number of non-zero counts, per epoch; for "svd" one value, the share of the
        SPPMI matrix's squared norm that the factorisation leaves out.

    Notes
    -----
    A word that passes ``min_count`` but has no positive PMI with any context (it only
    stands alone, say) keeps small random starting vectors under every solver, so its
    cosine similarities stay defined.
    """

    _class_id = "groundup.nlp.GloVe"

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        *,
        vector_size: int = 100,
        window: int = 10,
        min_count: int = 5,
        max_final_vocab: int | None = None,
        solver: str = "svd",
        context_smoothing: float = 0.75,
        shift: float = 1.0,
        eigenvalue_weighting: float = 0.5,
        x_max: float = 100.0,
        alpha: float = 0.75,
        learning_rate: float = 0.05,
        epochs: int = 25,
        regularization: float = 0.1,
        batch_size: int = 8192,
        symmetric: bool = True,
        distance_weighting: bool = True,
        vectors: str = "sum",
        seed: int = 1,
        device: str = "auto",
        tensorboard_log: str | None = None,
    ) -> None:
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.max_final_vocab = max_final_vocab
        self.solver = solver
        self.context_smoothing = context_smoothing
        self.shift = shift
        self.eigenvalue_weighting = eigenvalue_weighting
        self.x_max = x_max
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.regularization = regularization
        self.batch_size = batch_size
        self.symmetric = symmetric
        self.distance_weighting = distance_weighting
        self.vectors = vectors
        self.seed = seed
        self.device = device
        self.tensorboard_log = tensorboard_log
        self._fit_if_given(sentences, corpus_file)

    def _validate(self) -> None:
        super()._validate()
        check_number("x_max", self.x_max, low=0.0, low_open=True)
        check_number("alpha", self.alpha, low=0.0, low_open=True)
        check_learning_rate(self.learning_rate)
        check_int("epochs", self.epochs, minimum=1)
        check_choice("solver", self.solver, {"svd": "shifted PPMI + truncated SVD", "adagrad": "GloVe by AdaGrad",
                                             "als": "GloVe by alternating least squares"})
        check_number("context_smoothing", self.context_smoothing, low=0.0, low_open=True, high=1.0)
        check_number("shift", self.shift, low=1.0)
        check_number("eigenvalue_weighting", self.eigenvalue_weighting, low=0.0, high=1.0)
        check_positive("regularization", self.regularization, allow_zero=True)
        check_int("batch_size", self.batch_size, minimum=1)
        check_choice("vectors", self.vectors, {"sum": "w + c", "word": "w alone"})

    def fit(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        *,
        corpus_file: str | os.PathLike | None = None,
        progress_bar: bool = False,
        checkpoint_path: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
    ) -> GloVe:
        """Count co-occurrences in ``sentences`` (token lists, read once) or in
        ``corpus_file`` (a text file, one sentence per line, whitespace-separated tokens,
        streamed) and fit the vectors. Returns ``self``.

        ``checkpoint_path``: write the fit's state there after every ``checkpoint_every``-th
        epoch (AdaGrad pass or ALS sweep) and the last, atomically; an existing file is
        resumed after its epoch, and one from another corpus or other settings is refused
        (``CheckpointMismatchError``). The SVD solver has one step: its checkpoint holds
        the finished factors, so a rerun only reloads them."""
        self._validate()
        sentences = self._corpus(sentences, corpus_file)
        vocab, corpus = Vocabulary.build(sentences, min_count=self.min_count, max_vocab=self.max_final_vocab)
        start = time.perf_counter()
        x = cooccurrence_matrix(
            corpus, len(vocab), self.window, symmetric=self.symmetric, distance_weighting=self.distance_weighting
        )
        self.count_time_ = time.perf_counter() - start
        if x.nnz == 0:
            raise ValueError(
                "no two words of the vocabulary co-occur within the window; pass longer sentences or a larger window"
            )
        steps = 1 if self.solver == "svd" else self.epochs  # the SVD is one step
        checkpoint = open_checkpoint(self, checkpoint_path, checkpoint_every, vocab, corpus, steps)
        return self._fit_counts(vocab, x, show_progress=progress_bar, checkpoint=checkpoint)

    def _fit_counts(self, vocab: Vocabulary, x: Any, show_progress: bool = False, checkpoint: Any = None) -> GloVe:
        device = resolve_device(self.device)
        V, d = len(vocab), int(self.vector_size)
        seed = check_seed(self.seed, "seed") or 0
        gen = torch.Generator().manual_seed(seed)
        # glove.c's initialisation: every weight and bias uniform in [-0.5/d, 0.5/d).
        W = ((torch.rand(V, d, generator=gen) - 0.5) / d).to(device)
        C = ((torch.rand(V, d, generator=gen) - 0.5) / d).to(device)
        b = ((torch.rand(V, generator=gen) - 0.5) / d).to(device)
        bc = ((torch.rand(V, generator=gen) - 0.5) / d).to(device)
        coo = x.tocoo()
        i = torch.as_tensor(coo.row.astype(np.int64), device=device)
        j = torch.as_tensor(coo.col.astype(np.int64), device=device)
        counts = torch.as_tensor(coo.data, dtype=torch.float32, device=device)
        log_x = torch.log(counts)
        weight = torch.clamp(counts / self.x_max, max=1.0) ** self.alpha  # f(X_ij)

        steps = 1 if self.solver == "svd" else self.epochs  # the SVD is one step
        with TrainingLog(0, name="GloVe", tensorboard_log=self.tensorboard_log) as log:
            bar = progress_bar(steps, enabled=show_progress, desc=f"GloVe ({self.solver})", unit="epoch" if steps > 1 else "step")
            losses: list[float] = []
            start = time.perf_counter()
            if self.solver == "svd":
                from groundup.nlp._glove_solvers import svd_factors

                b, bc = torch.zeros(V), torch.zeros(V)
                if resume_tables(checkpoint, {"W": W, "C": C}, [], losses) == 0:  # the factors, unless a checkpoint has them
                    w, c, residual = svd_factors(x, d, context_smoothing=self.context_smoothing, shift=self.shift,
                                                 eigenvalue_weighting=self.eigenvalue_weighting, seed=seed)
                    for table, start_values in ((w, W), (c, C)):
                        empty = ~table.any(1)  # no positive PMI: keep the starting values, as the other solvers do
                        table[empty] = start_values.cpu().numpy()[empty]
                    W, C = torch.as_tensor(w, dtype=torch.float32), torch.as_tensor(c, dtype=torch.float32)
                    losses.append(float(residual))
                    log.append(epoch=1, loss=losses[-1])
                    if checkpoint is not None:
                        save_tables(checkpoint, 1, {"W": W, "C": C}, [], losses)
                bar.update(1)
            elif self.solver == "adagrad":
                from groundup.nlp._glove_solvers import adagrad_epoch, adagrad_state, augment

                W_aug, C_aug = augment(W, C, b, bc)
                GW, GC = adagrad_state(W_aug, C_aug)
                perm_gen = torch.Generator(device=device).manual_seed(seed)
                tables = {"W_aug": W_aug, "C_aug": C_aug, "GW": GW, "GC": GC}
                done = resume_tables(checkpoint, tables, [(None, perm_gen)], losses)
                bar.update(done)
                for epoch in range(done, self.epochs):
                    loss = adagrad_epoch(W_aug, C_aug, GW, GC, i, j, log_x, weight, self.learning_rate, self.batch_size, perm_gen)
                    losses.append(self._check_loss(loss, len(losses)))
                    log.append(epoch=len(losses), loss=losses[-1])
                    if checkpoint is not None and checkpoint.due(epoch + 1):
                        save_tables(checkpoint, epoch + 1, tables, [(None, perm_gen)], losses)
                    bar.update(1)
                W, b, C, bc = W_aug[:, :d], W_aug[:, d], C_aug[:, :d], C_aug[:, d + 1]
            else:
                from groundup.nlp._glove_solvers import als_sweep, glove_loss

                xt = x.T.tocsr()
                tables = {"W": W, "C": C, "b": b, "bc": bc}
                done = resume_tables(checkpoint, tables, [], losses)
                bar.update(done)
                for epoch in range(done, self.epochs):
                    als_sweep(x, xt, W, C, b, bc, self.x_max, self.alpha, self.regularization)
                    losses.append(self._check_loss(glove_loss(W, C, b, bc, i, j, log_x, weight), len(losses)))
                    log.append(epoch=len(losses), loss=losses[-1])
                    if checkpoint is not None and checkpoint.due(epoch + 1):
                        save_tables(checkpoint, epoch + 1, tables, [], losses)
                    bar.update(1)
            self.train_time_ = time.perf_counter() - start
            bar.close()

        self.vocabulary_ = vocab
        self.cooccurrence_ = x
        self.training_loss_ = losses
        self.bias_ = (b + bc).cpu().numpy()
        self.word_vectors_, self.context_vectors_ = W.cpu().numpy(), C.cpu().numpy()
        self._wv = keyed_vectors(vocab.words, (W + C if self.vectors == "sum" else W).cpu().numpy(), vocab.counts)
        return self

    @staticmethod
    def _check_loss(loss: float, epoch: int) -> float:
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"GloVe: the loss became {loss} in epoch {epoch + 1}; lower learning_rate (or raise regularization for ALS)"
            )
        return float(loss)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        tensors.update(bias=self.bias_, word_vectors=self.word_vectors_, context_vectors=self.context_vectors_)
        metadata.update(train_time_=float(self.train_time_), training_loss_=[float(v) for v in self.training_loss_])
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        self.bias_ = tensors.get("bias")
        self.word_vectors_, self.context_vectors_ = tensors.get("word_vectors"), tensors.get("context_vectors")
