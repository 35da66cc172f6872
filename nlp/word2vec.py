"""word2vec (Mikolov et al. 2013): skip-gram and CBOW with negative sampling, in torch.

The recipe is gensim's (and word2vec.c's): frequent words are subsampled, each centre
word gets a *reduced* window ``b`` drawn uniformly from 1..``window``, the output layer
is trained with ``negative`` noise words drawn from the unigram^0.75 distribution, and
the learning rate falls linearly from ``alpha`` to ``min_alpha`` over all epochs.

What differs is how the work is batched, so that no Python loop runs per word:

- the corpus is read once into an array of word ids (:class:`Vocabulary.build`);
- each epoch walks it in chunks; subsampling and the reduced windows of a chunk are
  drawn with NumPy, and the (centre, window) index arrays are built by broadcasting;
- ``batch_size`` centre words are trained at once: rows are gathered from the two
  embedding tables, the gradients computed with batched matrix products, and written
  back with ``index_add_`` (sparse SGD). Rows shared by several centres in a batch get
  the sum of their updates, as the parallel threads of word2vec.c/gensim do (Hogwild).

Skip-gram shares one draw of ``negative`` noise words among the context words of a
centre (Ji et al. 2016, "Parallelizing Word2Vec in Shared and Distributed Memory"):
the input vectors of the window then meet the centre's output vector and its noise
vectors in one small matrix product instead of ``2b`` separate ones. CBOW lays its
windows end to end as a ragged batch, takes their means with ``embedding_bag`` (which
is exactly CBOW's hidden layer), and lets each small group of consecutive centre words
share one draw of noise words, so the noise vectors are gathered once per group.

On the CPU, CBOW trains word by word instead, in a small C kernel
(``nlp/_word2vec_native.c``, compiled on first use by :mod:`groundup.native`): CBOW's
work per word is so small (one window sum, ``1 + negative`` dot products) that torch's
per-operation cost dominates any batch of it, and the kernel is the same update without
that cost. Where no C compiler is found the torch batch runs instead (``kernel_`` says which
ran); on a GPU the torch batch always runs.

With ``workers`` > 1, threads take every workers-th chunk of each epoch and update the
shared tables without locks (Hogwild, as word2vec.c and gensim do). The chunks, windows and
noise words are drawn in :mod:`groundup.nlp._word2vec_sampling`; the SGD steps of
skip-gram and CBOW are in :mod:`groundup.nlp._word2vec_steps`.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from groundup.nlp._checkpoint import open_checkpoint, resume_tables, save_tables
from groundup.nlp._keyedvectors import EmbeddingModel, keyed_vectors

from groundup.datasets.vocabulary import EncodedCorpus, Vocabulary
from groundup.nlp._word2vec_sampling import draw_windows, random_streams, sentence_aligned_chunks, unigram_table
from groundup.nlp._word2vec_steps import _NOISE_GROUP, NegativeSamplingSteps, word2vec_kernel  # noqa: F401  (_NOISE_GROUP: tests read it here)
from groundup.progress import TrainingLog, progress_bar
from groundup.torch_utils import available_cores, resolve_device
from groundup.validation import check_choice, check_in_interval, check_int, check_number, check_seed

__all__ = ["Word2Vec"]

_CHUNK = 65_536  # corpus positions whose windows are built at once (NumPy); bounds memory


class Word2Vec(NegativeSamplingSteps, EmbeddingModel):
    """Skip-gram (``sg=1``) or CBOW (``sg=0``) word vectors with negative sampling.

    Two ways to train, with the same result for the same seed (``workers=1``)::

        model = Word2Vec(sentences, vector_size=50, min_count=1)        # gensim's form
        model = Word2Vec(corpus_file="corpus.txt", vector_size=50)      # gensim's form, from a file
        model = Word2Vec(vector_size=50, min_count=1).fit(sentences)    # scikit-learn's form

    Parameters (gensim's names and defaults where gensim has them)
    ----------
    sentences: the corpus, an iterable of token lists (read once). Given here, the model
        trains at once, as gensim's does; left out (None), call ``fit``. Not a
        hyper-parameter: ``get_params``/``clone`` leave it out and the model does not keep it.
    corpus_file: instead of ``sentences``, a plain-text file (``.gz``/``.bz2`` too), one
        sentence per line, tokens separated by whitespace, read as a stream (None).
    The hyper-parameters below are keyword-only (their order is not gensim's):
    vector_size: dimensionality of the word vectors (100).
    window: largest distance between the centre word and a context word (5); each centre
        uses a window drawn uniformly from 1..window, as gensim does.
    min_count: ignore words with fewer occurrences (5).
    max_final_vocab: keep at most this many of the most frequent words (None: all).
    sg: 1 for skip-gram, 0 for CBOW (0).
    negative: noise words per centre word (5).
    ns_exponent: exponent of the noise distribution, count**ns_exponent (0.75).
    cbow_mean: 1 to average the context vectors in CBOW, 0 to sum them (1).
    sample: subsampling threshold; words more frequent than this fraction are dropped at
        random (1e-3; 0 disables).
    alpha, min_alpha: the learning rate falls linearly from alpha to min_alpha over the
        whole run (None: word2vec.c's starting rates, 0.025 for skip-gram and 0.05 for
        CBOW; gensim uses 0.025 for both, which is too low for our batched CBOW;
        min_alpha 0.0001).
    epochs: passes over the corpus (5).
    batch_size: centre words per update step of each worker, for skip-gram and for CBOW's
        torch path (None: 1024, fewer on a small vocabulary or with several workers; CBOW
        on the CPU trains word by word in its C kernel and ignores it).
        Larger batches are faster but apply more stale, summed updates; batches much
        larger than the default can make training collapse or diverge.
    seed: seed for initialisation, subsampling, windows and noise words (1).
    workers: threads that train on different chunks of the corpus at the same time,
        updating the shared vectors without locks (Hogwild, as gensim's ``workers``).
        None (default): one per core this process may use
        (:func:`groundup.torch_utils.available_cores`), which is fastest, but, as in
        gensim, several workers are not reproducible: the order in which their updates land
        varies from run to run. **workers=1 gives the same vectors, bit for bit, for the
        same seed (on the CPU)**; pass it wherever results must be reproducible. More
        workers than cores are allowed (a warning says they only add contention).
    device: "auto", "cpu", "cuda", ... (see groundup.torch_utils.resolve_device).
    compute_loss: record the mean negative-sampling loss of each epoch in
        ``training_loss_`` (False; costs a little time).
    tensorboard_log: a folder where each epoch's loss goes as the TensorBoard scalar
        ``train/loss``, in a run sub-folder ``Word2Vec_<n>`` (None: no log). The loss is
        then computed whatever ``compute_loss`` says. Needs ``pip install groundup[logging]``.

    After ``fit``: ``wv`` (gensim KeyedVectors of the input vectors), ``vocabulary_``,
    ``syn1neg_`` (output vectors, numpy), ``corpus_word_count_`` (tokens read),
    ``workers_`` (the number of workers used), ``kernel_`` ("native": CBOW's C kernel
    on the CPU; "torch": the batched torch steps),
    ``train_time_`` (seconds spent in the epochs), ``training_loss_``.
    """

    _class_id = "groundup.nlp.Word2Vec"

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        *,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        max_final_vocab: int | None = None,
        sg: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        sample: float = 1e-3,
        alpha: float | None = None,
        min_alpha: float = 0.0001,
        epochs: int = 5,
        batch_size: int | None = None,
        seed: int = 1,
        workers: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
        compute_loss: bool = False,
    ) -> None:
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.max_final_vocab = max_final_vocab
        self.sg = sg
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.cbow_mean = cbow_mean
        self.sample = sample
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.workers = workers
        self.device = device
        self.tensorboard_log = tensorboard_log
        self.compute_loss = compute_loss
        self._fit_if_given(sentences, corpus_file)

    # -- checks ------------------------------------------------------------------------------
    def _validate(self) -> None:
        super()._validate()
        check_choice("sg", self.sg, {1: "skip-gram", 0: "CBOW"})
        check_choice("cbow_mean", self.cbow_mean, {1: "average", 0: "sum"})
        check_int("negative", self.negative, minimum=1)
        check_number("ns_exponent", self.ns_exponent)
        check_in_interval("sample", self.sample, 0.0, 1.0)
        if self.alpha is not None:
            check_number("alpha", self.alpha, low=0.0, low_open=True)
        check_in_interval("min_alpha", self.min_alpha, 0.0, self._start_alpha())
        check_int("epochs", self.epochs, minimum=1)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_int("workers", self.workers, minimum=1, allow_none=True)

    # -- training ----------------------------------------------------------------------------
    def fit(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        *,
        corpus_file: str | os.PathLike | None = None,
        progress_bar: bool = False,
        checkpoint_path: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
    ) -> Word2Vec:
        """Build the vocabulary from ``sentences`` (an iterable of token lists, read once)
        or from ``corpus_file`` (a text file, one sentence per line, whitespace-separated
        tokens, streamed), and train for ``epochs`` passes. Returns ``self``.

        ``checkpoint_path``: write the training state there after every
        ``checkpoint_every``-th epoch and the last (atomically, groundup.persistence). If
        the file exists, training resumes after its epoch; a checkpoint of another corpus
        or other hyper-parameters is refused (``CheckpointMismatchError``, naming what
        differs). With ``workers=1`` on the CPU the resumed run ends with exactly the
        vectors of an uninterrupted one (see :mod:`groundup.nlp._checkpoint`)."""
        self._validate()
        sentences = self._corpus(sentences, corpus_file)
        vocab, corpus = Vocabulary.build(sentences, min_count=self.min_count, max_vocab=self.max_final_vocab)
        checkpoint = open_checkpoint(self, checkpoint_path, checkpoint_every, vocab, corpus, self.epochs)
        return self._train(vocab, corpus, show_progress=progress_bar, checkpoint=checkpoint)

    def _init_state(self, vocab: Vocabulary, device: torch.device) -> None:
        """Fresh vectors, random generators and noise table for a run on ``vocab``."""
        V, d = len(vocab), int(self.vector_size)
        seed = check_seed(self.seed, "seed") or 0
        self._rng = np.random.default_rng(seed)  # subsampling and window sizes (NumPy side)
        self._gen = torch.Generator(device=device).manual_seed(seed)  # noise words
        self._loss_lock = threading.Lock()
        # Input vectors start small and random (word2vec.c's (rand - 0.5) / size), output
        # vectors at zero. Row V is a padding row for windows cut short by a sentence end:
        # it stays zero, so padded slots add nothing. Drawn on the CPU so that every device
        # starts from the same vectors.
        w_in = (torch.rand(V + 1, d, generator=torch.Generator().manual_seed(seed)) - 0.5) / d
        w_in[V] = 0.0
        self._W_in = w_in.to(device)
        self._W_out = torch.zeros(V + 1, d, device=device)
        self._noise_table = unigram_table(vocab, self.ns_exponent, device)
        self._V = V

    def _n_workers(self, warn: bool = False) -> int:
        """``workers``, or the cores this process may use when it is None. With ``warn``,
        more workers than cores give a ``UserWarning``: allowed
        (gensim allows it too), but the extra threads only take turns on the cores."""
        cores = available_cores()
        if self.workers is None:
            return cores
        workers = int(self.workers)
        if warn and workers > cores:
            warnings.warn(
                f"Word2Vec: workers={workers} is more than the {cores} cores this process may use; the extra "
                f"threads only take turns on them (workers=None uses one per core)", UserWarning, stacklevel=4)
        return workers

    def _default_batch_size(self, vocab: Vocabulary) -> int:
        """1024 centre words, but at most an eighth (skip-gram) or half (CBOW) of the
        vocabulary: on a vocabulary of a few dozen words every row would otherwise collect
        dozens of stale updates in one step and overshoot. With several workers the updates
        in flight add up, so skip-gram's 1024 and CBOW's 2048 are shared among them (a full
        batch per worker can make skip-gram collapse)."""
        in_flight = (1024 if self.sg else 2048) // self._n_workers()
        return max(8, min(1024, in_flight, len(vocab) // (8 if self.sg else 2)))

    def _start_alpha(self) -> float:
        """``alpha``, or word2vec.c's default for the architecture when it is None."""
        if self.alpha is None:
            return 0.025 if self.sg else 0.05
        return float(self.alpha)

    def _learning_rate(self, progress: float) -> float:
        """gensim's schedule: linear from alpha (progress 0) to min_alpha (progress 1)."""
        alpha = self._start_alpha()
        return alpha - (alpha - self.min_alpha) * min(max(progress, 0.0), 1.0)

    def _train(self, vocab: Vocabulary, corpus: EncodedCorpus, show_progress: bool = False, checkpoint: Any = None) -> Word2Vec:
        device = resolve_device(self.device)
        self._init_state(vocab, device)
        keep_prob = vocab.keep_probabilities(self.sample)
        batch = self.batch_size or self._default_batch_size(vocab)
        chunks = sentence_aligned_chunks(corpus.sentence_ids, _CHUNK)
        n = len(corpus)
        total = n * self.epochs
        losses: list[float] = []
        bar = progress_bar(self.epochs, enabled=show_progress, desc="word2vec" if self.sg else "word2vec (CBOW)", unit="epoch")
        self.workers_ = self._n_workers(warn=True)
        streams = random_streams(self._rng, self._gen, self.workers_, device)
        self.kernel_ = "torch" if self.sg or device.type != "cpu" or word2vec_kernel() is None else "native"
        if self.sg:
            train_chunk = self._train_chunk_skipgram
        else:
            train_chunk = self._train_chunk_cbow_native if self.kernel_ == "native" else self._train_chunk_cbow
        tables = {"W_in": self._W_in, "W_out": self._W_out}  # what a checkpoint holds, with the generators
        first_epoch = resume_tables(checkpoint, tables, streams, losses)
        bar.update(first_epoch)

        def train_chunks(epoch: int, worker: int) -> None:
            rng, gen = streams[worker]
            for a, b in chunks[worker :: len(streams)]:
                ids, left, right = self._draw_windows(corpus, a, b, keep_prob, rng)
                # gensim lowers the rate every 10,000 words; once per chunk is as smooth.
                lr = self._learning_rate((epoch * n + (a + b) / 2) / total)
                train_chunk(ids, left, right, batch, lr, device, rng, gen)

        pool = ThreadPoolExecutor(len(streams)) if len(streams) > 1 else None
        torch_threads = torch.get_num_threads()
        if pool is not None and device.type == "cpu":
            # The workers share torch's threads rather than oversubscribe them: on a few
            # cores, several one-thread workers train faster than one worker with them all.
            torch.set_num_threads(max(1, torch_threads // len(streams)))
        start = time.perf_counter()
        log = TrainingLog(0, name="Word2Vec", tensorboard_log=self.tensorboard_log)
        self._track_loss = self.compute_loss or log.log_dir is not None
        try:
            for epoch in range(first_epoch, self.epochs):
                self._loss_sum, self._loss_count = 0.0, 0
                if pool is None:
                    train_chunks(epoch, 0)
                else:  # each worker takes every workers-th chunk; .result() re-raises its errors
                    for future in [pool.submit(train_chunks, epoch, w) for w in range(len(streams))]:
                        future.result()
                if not bool(torch.isfinite(self._W_in).all()) or not bool(torch.isfinite(self._W_out).all()):
                    raise FloatingPointError(
                        f"word2vec: the vectors became non-finite in epoch {epoch + 1}; lower alpha or batch_size"
                    )
                if self._track_loss:
                    losses.append(self._loss_sum / max(self._loss_count, 1))
                    log.append(epoch=epoch + 1, loss=losses[-1])
                if checkpoint is not None and checkpoint.due(epoch + 1):
                    save_tables(checkpoint, epoch + 1, tables, streams, losses)
                bar.update(1)
        finally:
            log.close()
            torch.set_num_threads(torch_threads)
            if pool is not None:
                pool.shutdown()
        if self._W_in.device.type == "cuda":
            torch.cuda.synchronize()
        self.train_time_ = time.perf_counter() - start
        bar.close()

        V = len(vocab)
        self.vocabulary_ = vocab
        self.corpus_word_count_ = corpus.raw_word_count
        self.training_loss_ = losses
        self.syn1neg_ = self._W_out[:V].cpu().numpy()
        self._wv = keyed_vectors(vocab.words, self._W_in[:V].cpu().numpy(), vocab.counts)
        del self._W_in, self._W_out, self._noise_table, self._loss_lock
        return self

    def _draw_windows(
        self, corpus: EncodedCorpus, a: int, b: int, keep_prob: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`draw_windows` with this model's ``window``."""
        return draw_windows(corpus, a, b, keep_prob, self.window, rng)

    # -- persistence -------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        tensors["syn1neg"] = self.syn1neg_
        metadata.update(
            corpus_word_count_=int(self.corpus_word_count_),
            train_time_=float(self.train_time_),
            training_loss_=[float(x) for x in self.training_loss_],
        )
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        self.syn1neg_ = tensors.get("syn1neg")
