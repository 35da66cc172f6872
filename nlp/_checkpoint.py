"""Epoch-level checkpoints of the embedding models, for resuming after a crash.

``fit(..., checkpoint_path=p, checkpoint_every=k)`` writes the training state to ``p``
after every k-th epoch and after the last one, through :func:`groundup.persistence.save`
(one safetensors file, written to a temporary file and renamed, so a crash mid-write
leaves the previous checkpoint whole; no pickle). A later ``fit`` with the same
``checkpoint_path`` finds the file and carries on from the epoch after it.

A checkpoint is only used for the run it was written by: it stores a fingerprint of the
encoded corpus (vocabulary, counts and every token id and sentence boundary, SHA-256) and
the hyper-parameters. ``fit`` on another corpus or with other settings refuses it with
:class:`CheckpointMismatchError`, naming what differs, rather than silently mixing two
runs. With ``workers=1`` on the CPU a resumed run ends with exactly the vectors of an
uninterrupted one: the random generators are saved with the vectors.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from groundup import persistence
from groundup.datasets.vocabulary import EncodedCorpus, Vocabulary
from groundup.validation import check_int

__all__ = ["CheckpointMismatchError", "EpochCheckpoint", "corpus_fingerprint"]


class CheckpointMismatchError(ValueError):
    """A checkpoint written by another run (another corpus or other hyper-parameters)."""


def corpus_fingerprint(vocab: Vocabulary, corpus: EncodedCorpus) -> str:
    """SHA-256 over the vocabulary, its counts and the encoded corpus (ids and sentence
    boundaries): equal exactly when the two runs would read the same training data."""
    h = hashlib.sha256()
    h.update("\n".join(vocab.words).encode("utf-8"))
    h.update(np.ascontiguousarray(vocab.counts, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(corpus.ids, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(corpus.sentence_ids, dtype=np.int64).tobytes())
    h.update(str(corpus.raw_word_count).encode())
    return h.hexdigest()


def _comparable(params: dict[str, Any]) -> dict[str, Any]:
    """The hyper-parameters a resumed run must share (where it runs, and where it logs, may differ)."""
    return {k: v for k, v in params.items() if k not in ("device", "tensorboard_log")}


def save_tables(checkpoint: EpochCheckpoint, epoch: int, tables: dict[str, torch.Tensor],
                streams: list[tuple[np.random.Generator | None, torch.Generator]], losses: list[float]) -> None:
    """Write ``tables`` (the model's trained tensors), every (NumPy, torch) generator pair
    of ``streams`` (NumPy's may be None) and the losses so far, after ``epoch`` epochs."""
    tensors, numpy_states = generator_states([r for r, _ in streams if r is not None], [g for _, g in streams])
    tensors.update({name: t.detach().cpu() for name, t in tables.items()})
    checkpoint.save(epoch, tensors, {"numpy_rng": numpy_states, "training_loss_": [float(x) for x in losses]})


def resume_tables(checkpoint: EpochCheckpoint | None, tables: dict[str, torch.Tensor],
                  streams: list[tuple[np.random.Generator | None, torch.Generator]], losses: list[float]) -> int:
    """Restore what :func:`save_tables` wrote into ``tables`` (in place), the generators
    and ``losses``; returns the number of epochs already done (0 without a checkpoint)."""
    state = checkpoint.load() if checkpoint is not None else None
    if state is None:
        return 0
    tensors, meta = state
    rngs = [r for r, _ in streams if r is not None]
    if len(meta["numpy_rng"]) != len(rngs) or any(f"torch_rng_{k}" not in tensors for k in range(len(streams))):
        raise CheckpointMismatchError(f"checkpoint {str(checkpoint.path)!r} holds the generators of another number of "
                                      f"workers than this run's {len(streams)}")
    set_generator_states(rngs, [g for _, g in streams], tensors, meta["numpy_rng"])
    for name, table in tables.items():
        saved = torch.from_numpy(np.asarray(tensors[name]))
        if saved.shape != table.shape:
            raise CheckpointMismatchError(f"checkpoint {str(checkpoint.path)!r}: {name} has shape {tuple(saved.shape)}, "
                                          f"this run's {tuple(table.shape)}")
        table.copy_(saved)
    losses[:] = list(meta["training_loss_"])
    return int(meta["epoch"])


def generator_states(rngs: list[np.random.Generator], gens: list[torch.Generator]) -> tuple[dict[str, np.ndarray], list]:
    """The states of NumPy and torch generators: torch's as uint8 arrays, NumPy's as JSON."""
    tensors = {f"torch_rng_{k}": g.get_state().numpy() for k, g in enumerate(gens)}
    return tensors, [r.bit_generator.state for r in rngs]


def set_generator_states(rngs: list[np.random.Generator], gens: list[torch.Generator],
                         tensors: dict[str, np.ndarray], numpy_states: list) -> None:
    for k, g in enumerate(gens):
        g.set_state(torch.from_numpy(np.array(tensors[f"torch_rng_{k}"], dtype=np.uint8)))
    for r, state in zip(rngs, numpy_states):
        r.bit_generator.state = state


class EpochCheckpoint:
    """The checkpoint file of one ``fit``: :meth:`load` what an earlier run left (checked
    against this run), :meth:`save` after an epoch when it is due."""

    def __init__(self, model: Any, path: str | os.PathLike, every: Any, fingerprint: str, epochs: int) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"checkpoint_path must be a file path; got {path!r} of type {type(path).__name__}")
        self.path = Path(path)
        self.every = check_int("checkpoint_every", every, minimum=1)
        self.model = model
        self.fingerprint = fingerprint
        self.epochs = int(epochs)
        self.class_id = f"{model._class_id}.checkpoint"

    def load(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The saved state, or None when there is no file yet. Raises
        :class:`CheckpointMismatchError` for a checkpoint of another run and
        ``ModelFileError`` for a damaged file or one that is not such a checkpoint."""
        if not self.path.exists():
            return None
        tensors, meta = persistence.load(self.path, expected_class=self.class_id)
        name = type(self.model).__name__
        if meta.get("fingerprint") != self.fingerprint:
            raise CheckpointMismatchError(
                f"checkpoint {str(self.path)!r} was written while training on another corpus (its vocabulary, counts "
                f"or token ids differ from this one's); {name} will not resume it. Pass the same corpus, or another "
                "checkpoint_path (or delete the file) to start afresh")
        mine, theirs = _comparable(self.model.get_params()), _comparable(meta.get("params", {}))
        differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        if differ:
            what = ", ".join(f"{k}={theirs.get(k)!r} there, {mine.get(k)!r} here" for k in differ)
            raise CheckpointMismatchError(
                f"checkpoint {str(self.path)!r} was written with other settings ({what}); {name} will not resume it. "
                "Use the same settings, or another checkpoint_path to start afresh")
        return tensors, meta

    def due(self, epoch: int) -> bool:
        """Whether to write after ``epoch`` (counted from 1) epochs: every ``every``-th and the last."""
        return epoch % self.every == 0 or epoch == self.epochs

    def save(self, epoch: int, tensors: dict[str, Any], state: dict[str, Any]) -> None:
        persistence.save(self.path, tensors, {
            "class": self.class_id, "fingerprint": self.fingerprint, "params": self.model.get_params(),
            "epoch": int(epoch), "done": epoch >= self.epochs, **state})


def open_checkpoint(model: Any, path: Any, every: Any, vocab: Vocabulary, corpus: EncodedCorpus,
                    epochs: int) -> EpochCheckpoint | None:
    """The checkpoint of this fit, or None when ``checkpoint_path`` is None."""
    if path is None:
        return None
    every = check_int("checkpoint_every", every, minimum=1)
    return EpochCheckpoint(model, path, every, corpus_fingerprint(vocab, corpus), epochs)
