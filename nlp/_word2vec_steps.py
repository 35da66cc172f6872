"""The SGD steps of word2vec with negative sampling, batched: skip-gram's and CBOW's, each
as a chunk routine (lay out a chunk's windows) and a step (one batch of centre words).

A mixin of :class:`groundup.nlp.word2vec.Word2Vec`, which owns the tables
(``_W_in``, ``_W_out``, row V the zero padding row), the noise table and the training
loop; see that module's docstring for how the batching follows gensim's recipe.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from groundup.native import load_kernel

_NOISE_GROUP = 4  # CBOW: consecutive centre words that share one draw of noise words
_NATIVE_SOURCE = Path(__file__).with_name("_word2vec_native.c")


def word2vec_kernel() -> ctypes.CDLL | None:
    """The compiled CBOW kernel (``_word2vec_native.c``), or None where it cannot be built."""
    lib = load_kernel(_NATIVE_SOURCE)
    if lib is not None and lib.cbow_chunk.restype is not ctypes.c_int64:
        p, i64, f32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float
        lib.cbow_chunk.argtypes = [p, p, p, i64, p, i64, p, p, i64, f32, ctypes.c_int, p]
        lib.cbow_chunk.restype = i64
    return lib


class NegativeSamplingSteps:
    """Skip-gram's and CBOW's batched steps, on the tables of a Word2Vec being trained."""

    #: sum the loss as the steps go (``fit`` sets it: ``compute_loss`` or a TensorBoard log)
    _track_loss: bool = False

    def _negatives(self, shape: tuple[int, ...], gen: torch.Generator | None = None) -> torch.Tensor:
        """Noise words drawn from the unigram^ns_exponent distribution (with ``gen``, or
        the run's own generator)."""
        table = self._noise_table
        return table[torch.randint(0, table.shape[0], shape, generator=gen or self._gen, device=table.device)]

    # -- skip-gram ---------------------------------------------------------------------------
    def _train_chunk_skipgram(self, ids, left, right, batch, lr, device, rng, gen) -> None:
        """Group the chunk's centres by how far their window reaches (after clipping to the
        sentence), so each group is a dense (centres, 2*width) matrix of context ids with
        little padding, then train it batch by batch.

        Within a group the centres keep their corpus order, the order word2vec.c and gensim
        train in. Shuffling them gave slightly worse analogy accuracy, so they are not
        shuffled."""
        n = ids.shape[0]
        width = np.maximum(np.arange(n) - left, right - np.arange(n))
        for b in range(1, self.window + 1):
            centres = np.flatnonzero(width == b)
            if centres.size == 0:
                continue
            offsets = np.r_[np.arange(-b, 0), np.arange(1, b + 1)]
            pos = centres[:, None] + offsets
            inside = (pos >= left[centres, None]) & (pos <= right[centres, None])
            contexts = np.where(inside, ids[np.clip(pos, 0, n - 1)], self._V)  # V pads
            contexts_t = torch.from_numpy(contexts).to(device)
            centres_t = torch.from_numpy(ids[centres]).to(device)
            noise = self._negatives((centres.size, self.negative), gen)  # one draw for all batches: fewer calls
            for s in range(0, centres.size, batch):
                self._skipgram_step(contexts_t[s : s + batch], centres_t[s : s + batch], lr, noise[s : s + batch])

    def _skipgram_step(
        self, contexts: torch.Tensor, centres: torch.Tensor, lr: float, noise: torch.Tensor | None = None
    ) -> None:
        """One SGD step of skip-gram with negative sampling on a batch of windows.

        For window word c and target t (the centre, label 1, or a noise word, label 0) the
        log-likelihood is log sigmoid(+-v_c . u_t); its gradient is (label - sigmoid(v_c . u_t))
        times the other vector. As in gensim, the context word's input vector v_c predicts
        the centre word's output vector u_t. ``noise`` holds each centre's noise words
        (drawn here when None).
        """
        if noise is None:
            noise = self._negatives((centres.shape[0], self.negative))
        targets = torch.cat([centres[:, None], noise], dim=1)  # (B, 1+K)
        v = F.embedding(contexts, self._W_in)  # (B, 2b, d) input vectors of the window
        u = F.embedding(targets, self._W_out)  # (B, 1+K, d) output vectors of centre and noise
        f = torch.sigmoid(torch.bmm(v, u.transpose(1, 2)))  # (B, 2b, 1+K)
        label = torch.zeros_like(f[:1])
        label[..., 0] = 1.0
        # Padded window slots, and noise words that happen to be the centre, learn nothing.
        mask = (contexts != self._V).unsqueeze(2) & torch.cat([torch.ones_like(noise[:, :1], dtype=torch.bool), noise != centres[:, None]], 1).unsqueeze(1)
        g = (label - f) * mask * lr
        if self._track_loss:
            self._record_loss(f, label, mask)
        self._W_in.index_add_(0, contexts.reshape(-1), torch.bmm(g, u).reshape(-1, v.shape[2]))
        self._W_out.index_add_(0, targets.reshape(-1), torch.bmm(g.transpose(1, 2), v).reshape(-1, v.shape[2]))

    # -- CBOW --------------------------------------------------------------------------------
    def _train_chunk_cbow(self, ids, left, right, batch, lr, device, rng, gen) -> None:
        """Lay the windows of the chunk's centre words end to end in one flat array of
        context ids (a ragged batch: ``offsets[k]`` is where centre k's window starts), then
        train ``batch`` centres at a time."""
        centres = np.flatnonzero(right > left)  # words with at least one context word
        # Shuffled, so that a batch holds few overlapping windows, whose stale updates add up.
        centres = rng.permutation(centres)
        lo, hi = left[centres], right[centres]
        span = hi - lo + 1  # window including the centre
        first = np.cumsum(span) - span  # where each window starts in the flat array
        pos = np.arange(span.sum()) - np.repeat(first - lo, span)  # corpus position of each slot
        not_centre = pos != np.repeat(centres, span)
        contexts = torch.from_numpy(ids[pos[not_centre]]).to(device)
        counts = span - 1
        offsets = np.cumsum(counts) - counts
        words = torch.from_numpy(ids[centres]).to(device)
        # The noise words of every batch of the chunk in one draw (each batch uses
        # ceil(batch / _NOISE_GROUP) rows): one call instead of one per step.
        groups = -(-np.minimum(batch, centres.size - np.arange(0, centres.size, batch)) // _NOISE_GROUP)
        noise = self._negatives((int(groups.sum()), self.negative), gen)
        group_start = np.cumsum(groups) - groups
        for k, s in enumerate(range(0, centres.size, batch)):
            e = min(s + batch, centres.size)
            a, b = offsets[s], offsets[e - 1] + counts[e - 1]
            batch_offsets = torch.from_numpy(offsets[s:e] - a).to(device)
            batch_noise = noise[group_start[k] : group_start[k] + groups[k]]
            self._cbow_step(words[s:e], contexts[a:b], batch_offsets, lr, batch_noise)

    def _train_chunk_cbow_native(self, ids, left, right, batch, lr, device, rng, gen) -> None:
        """The chunk's centre words one at a time, in corpus order, by the C kernel
        (``_word2vec_native.c``: the update of :meth:`_cbow_step` for a single window, as
        word2vec.c runs it). Each centre draws its own ``negative`` noise words. CPU only;
        ``batch`` does not apply."""
        lib = word2vec_kernel()
        noise = self._negatives((ids.shape[0], self.negative), gen).numpy()
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        left = np.ascontiguousarray(left, dtype=np.int64)
        right = np.ascontiguousarray(right, dtype=np.int64)
        loss = ctypes.c_double(0.0)
        trained = lib.cbow_chunk(
            ids.ctypes.data, left.ctypes.data, right.ctypes.data, ids.shape[0], noise.ctypes.data, self.negative,
            self._W_in.data_ptr(), self._W_out.data_ptr(), self._W_in.shape[1], lr, int(bool(self.cbow_mean)),
            ctypes.byref(loss) if self._track_loss else None)
        if self._track_loss:
            self._add_loss(loss.value, int(trained))

    def _cbow_step(
        self, words: torch.Tensor, contexts: torch.Tensor, offsets: torch.Tensor, lr: float, noise: torch.Tensor | None = None
    ) -> None:
        """One SGD step of CBOW with negative sampling on a ragged batch of windows.

        Centre k's window is ``contexts[offsets[k]:offsets[k + 1]]``. Its hidden layer h is
        the mean (or sum) of the window's input vectors -- torch's ``embedding_bag`` -- and
        predicts the centre's output vector against noise words. Every window word then
        receives the gradient with respect to h (gensim does not divide it by the window size
        when averaging, and neither do we). Each group of ``_NOISE_GROUP`` consecutive
        centres shares its ``negative`` noise words (``noise``, one row per group; drawn
        here when None).
        """
        W_in, W_out = self._W_in, self._W_out
        d = W_in.shape[1]
        h = F.embedding_bag(contexts, W_in, offsets, mode="mean" if self.cbow_mean else "sum")  # (B, d)
        count = torch.diff(offsets, append=offsets.new_tensor([contexts.shape[0]]))  # window sizes

        B, G = words.shape[0], _NOISE_GROUP
        pad = -B % G  # fill the last group with zero rows that learn nothing
        h_groups = F.pad(h, (0, 0, 0, pad)).view(-1, G, d)  # (groups, G, d)
        word_groups = F.pad(words, (0, pad), value=-1).view(-1, G)
        if noise is None:
            noise = self._negatives((h_groups.shape[0], self.negative))  # (groups, K)
        u_word = F.embedding(words, W_out)  # (B, d)
        u_noise = F.embedding(noise, W_out)  # (groups, K, d)
        f_word = torch.sigmoid((u_word * h).sum(1))  # (B,)
        f_noise = torch.sigmoid(torch.bmm(h_groups, u_noise.transpose(1, 2)))  # (groups, G, K)
        g_word = (1.0 - f_word) * lr  # label 1 for the centre word ...
        # ... label 0 for noise words; padding rows and noise equal to the centre learn nothing.
        learns = (noise.unsqueeze(1) != word_groups.unsqueeze(2)) & (word_groups >= 0).unsqueeze(2)
        g_noise = (0.0 - f_noise) * lr * learns
        if self._track_loss:
            self._add_loss(float(-torch.log(f_word.clamp_min(1e-7)).sum() - (torch.log((1 - f_noise).clamp_min(1e-7)) * learns).sum()), B)
        grad_h = g_word.unsqueeze(1) * u_word + torch.bmm(g_noise, u_noise).view(-1, d)[:B]  # (B, d)
        if not self.cbow_mean:
            grad_h = grad_h / count.unsqueeze(1)  # gensim divides the summed-window gradient by its size
        W_out.index_add_(0, words, g_word.unsqueeze(1) * h)
        W_out.index_add_(0, noise.view(-1), torch.bmm(g_noise.transpose(1, 2), h_groups).view(-1, d))
        W_in.index_add_(0, contexts, grad_h.repeat_interleave(count, dim=0, output_size=contexts.shape[0]))

    def _record_loss(self, f: torch.Tensor, label: torch.Tensor, mask: torch.Tensor) -> None:
        """Accumulate the negative-sampling loss -log sigmoid(+-score) of the batch."""
        p = torch.where(label > 0, f, 1.0 - f).clamp_min(1e-7)
        m = mask.expand_as(p)
        self._add_loss(float(-(torch.log(p) * m).sum()), int(m[..., 0].sum()))

    def _add_loss(self, total: float, count: int) -> None:
        with self._loss_lock:  # workers' threads add to the same sums
            self._loss_sum += total
            self._loss_count += count
