"""Progress bars and training logs, shared by every long-running loop."""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "NullBar", "TrainingLog"]


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
    """

    def __init__(self, verbose: int = 0, name: str = "") -> None:
        self.verbose = verbose
        self.name = name
        self.rows: list[dict[str, Any]] = []
        self.stop_reason: str | None = None
        self._start = time.perf_counter()

    def stop(self, reason: str) -> None:
        """Record why training stopped (printed when ``verbose``)."""
        self.stop_reason = reason
        if self.verbose:
            print(f"[{self.name}] stopped: {reason}", file=sys.stderr)

    def append(self, **row: Any) -> None:
        row.setdefault("time_s", round(time.perf_counter() - self._start, 3))
        self.rows.append(row)
        if self.verbose:
            parts = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()]
            print(f"[{self.name}] " + " ".join(parts), file=sys.stderr)

    def column(self, key: str) -> list[Any]:
        return [row[key] for row in self.rows if key in row]

    def __len__(self) -> int:
        return len(self.rows)
