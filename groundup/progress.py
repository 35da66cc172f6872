"""Progress bars and training logs, shared by every long-running loop.

A :class:`TrainingLog` given ``tensorboard_log`` also writes its rows as TensorBoard
scalars through :mod:`groundup.telemetry`: the one place where every estimator that trains
in epochs gets its TensorBoard log. :func:`follow_training` hands the rows of every
``TrainingLog`` to a caller while a block runs (the command line's progress bars), so a
caller can watch an estimator's epochs without the estimator taking an argument for it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from groundup.telemetry import ScalarWriter, check_log_dir, next_run_dir

__all__ = ["progress_bar", "NullBar", "TrainingLog", "follow_training"]

_FOLLOWERS: ContextVar[tuple[Callable[[dict[str, Any]], None], ...]] = ContextVar("groundup_training_followers", default=())


@contextlib.contextmanager
def follow_training(callback: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """While the block runs, every row that a :class:`TrainingLog` records in this thread
    (any estimator's ``fit``) is also given to ``callback(row)``, and rows and the stop
    reason are not printed, whatever the log's ``verbose``: the follower shows them.

    Parameters
    ----------
    callback : callable
        Called with each row (a dict: ``epoch`` or ``iteration``, the numbers, ``time_s``).
    """
    token = _FOLLOWERS.set(_FOLLOWERS.get() + (callback,))
    try:
        yield
    finally:
        _FOLLOWERS.reset(token)


class NullBar:
    """A stand-in for a tqdm bar that does nothing, so loops need no ``if bar`` checks."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "NullBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_bar(total: int | None, *, enabled: bool = True, desc: str = "", unit: str = "it") -> Any:
    """A tqdm bar on stderr when ``enabled``, else a :class:`NullBar`."""
    if not enabled:
        return NullBar()
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.2)


class TrainingLog:
    """Per-epoch or per-episode records (``dict`` rows), printed when ``verbose``.

    ``log.append(epoch=1, loss=0.3)`` stores the row; ``log.column("loss")`` returns the
    values in order. Times are seconds since the log was created. ``log.stop(reason)``
    records why training ended in ``log.stop_reason`` (None until then), a sentence that
    starts with what stopped it: ``"max_iter: ..."`` (every epoch ran) or
    ``"early_stopping: ..."`` (the validation score stopped improving).

    With ``tensorboard_log``, every float value of a row is also written as the
    TensorBoard scalar ``train/<key>`` (``<phase>/<key>`` for a row with a ``phase``), at x =
    the row's ``epoch`` (or ``iteration``, else the row count), in a run folder
    ``tensorboard_log/{tb_log_name}_{n}`` (:func:`groundup.telemetry.next_run_dir`; the
    name defaults to ``name``). Each row is flushed at once, since epochs are few and long,
    so a run that raises leaves every finished epoch on disk; :meth:`stop` or :meth:`close`
    (or leaving a ``with`` block) closes the file.
    """

    #: keys that place a row on the x-axis rather than being plotted
    STEP_KEYS = ("epoch", "iteration")

    def __init__(self, verbose: int = 0, name: str = "", tensorboard_log: str | None = None,
                 tb_log_name: str | None = None) -> None:
        self.verbose = verbose
        self.name = name
        self.rows: list[dict[str, Any]] = []
        self.stop_reason: str | None = None
        self._start = time.perf_counter()
        tensorboard_log = check_log_dir("tensorboard_log", tensorboard_log)
        self._writer: ScalarWriter | None = None
        if tensorboard_log is not None:
            self._writer = ScalarWriter(next_run_dir(tensorboard_log, tb_log_name or name or "run"))

    @property
    def log_dir(self) -> str | None:
        """The TensorBoard run folder this log writes to (None without ``tensorboard_log``)."""
        return None if self._writer is None else str(self._writer.log_dir)

    def stop(self, reason: str) -> None:
        """Record why training stopped (printed when ``verbose``) and close the TensorBoard file."""
        self.stop_reason = reason
        if self.verbose and not _FOLLOWERS.get():
            print(f"[{self.name}] stopped: {reason}", file=sys.stderr)
        self.close()

    def append(self, **row: Any) -> None:
        """Store one row (``time_s`` is added), print it when ``verbose``, write its numbers
        to TensorBoard when the log has a ``tensorboard_log``."""
        row.setdefault("time_s", round(time.perf_counter() - self._start, 3))
        self.rows.append(row)
        followers = _FOLLOWERS.get()
        if self.verbose and not followers:
            parts = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()]
            print(f"[{self.name}] " + " ".join(parts), file=sys.stderr)
        for follow in followers:
            follow(row)
        if self._writer is not None:
            self._write(row)

    def _write(self, row: dict[str, Any]) -> None:
        step = next((row[k] for k in self.STEP_KEYS if k in row), len(self.rows))
        prefix = row["phase"] if isinstance(row.get("phase"), str) else "train"
        # floats only: the integers in a row count or describe (a layer's number, its units)
        values = {f"{prefix}/{key}": float(value) for key, value in row.items()
                  if key not in self.STEP_KEYS and key != "time_s" and isinstance(value, (float, np.floating))}
        self._writer.scalars(values, int(step))
        self._writer.flush()

    def close(self) -> None:
        """Close the TensorBoard file, if any (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "TrainingLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def column(self, key: str) -> list[Any]:
        """The values of ``key`` in row order (rows without it skipped)."""
        return [row[key] for row in self.rows if key in row]

    def __len__(self) -> int:
        return len(self.rows)

    def __getstate__(self) -> dict[str, Any]:
        # an open event file cannot be copied (sklearn.clone, deepcopy): copies keep the rows only
        state = dict(self.__dict__)
        state["_writer"] = None
        return state
