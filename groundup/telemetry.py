"""Telemetry for every training loop, written once: TensorBoard scalars and SB3 monitor files.

Three pieces, used by the agents (:class:`AgentTelemetry`) and by the estimators that train in
epochs (:class:`groundup.progress.TrainingLog`, which writes through :class:`ScalarWriter`):

- :class:`ScalarWriter` writes TensorBoard scalars with ``torch.utils.tensorboard``'s event writer, imported
  only when a log folder is given (the ``[logging]`` extra), so ``import groundup`` never
  needs TensorBoard. Each run gets its own sub-folder, ``DIR/{tb_log_name}_{n}`` with ``n``
  one above the highest already there (:func:`next_run_dir`), as Stable-Baselines3 does, so
  that TensorBoard shows runs side by side and never mixes two runs in one curve.
- :class:`MonitorFile` writes Stable-Baselines3's ``monitor.csv`` format (a JSON comment line,
  the header ``r,l,t``, one row per finished episode), which
  ``stable_baselines3.common.results_plotter.load_results`` and ``plot_results`` read.
- :class:`AgentTelemetry` keeps the last 100 episodes (SB3's ``ep_info_buffer``) and writes
  the ``rollout/``, ``train/`` and ``time/`` scalars at an interval of environment steps, the
  x-axis being the agent's step count.

Logs are streams that grow while training runs and a user watches them, so they are not
written through :func:`groundup.persistence.atomic_write_bytes` (a file renamed into place at
the end could not be watched); instead rows are whole lines, flushed at each logging
interval and closed at the end of ``learn()`` or ``fit()``, also when training raises.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import time
from collections import deque
from pathlib import Path
from typing import Any

from groundup.validation import InvalidArgumentTypeError

__all__ = ["AgentTelemetry", "MonitorFile", "ScalarWriter", "check_log_dir", "env_id_of", "next_run_dir", "DEFAULT_LOG_INTERVAL"]

#: environment steps between two writes of an agent's scalars (SB3's DQN writes every 4
#: episodes; a step count gives every agent, episodic or not, the same x-axis spacing). At
#: 2,048 steps even the fastest tabular loop spends well under 3% of its time logging.
DEFAULT_LOG_INTERVAL = 2048

#: how many finished episodes the ``rollout/ep_*_mean`` scalars average (SB3's
#: ``stats_window_size``)
STATS_WINDOW = 100

_EXTRA = "pip install groundup[logging]"


def check_log_dir(name: str, value: Any) -> str | None:
    """Check a log-folder argument (``tensorboard_log``, ``monitor_dir``): ``None`` (no
    logging) or a path as ``str`` or ``os.PathLike``; returns it as ``str`` (JSON-saveable)."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, str) and path:
            return path
    raise InvalidArgumentTypeError(
        f"{name} must be None or a folder path (str or os.PathLike); got {value!r} ({type(value).__name__})"
    )


def next_run_dir(root: str | os.PathLike, name: str) -> Path:
    """``root/{name}_{n}``, with ``n`` one above the highest run number already in ``root``
    for that name (1 for the first run), as Stable-Baselines3 numbers its runs."""
    if not isinstance(name, str) or not name or os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(f"tb_log_name must be a non-empty folder name (no path separator); got {name!r}")
    root = Path(root)
    pattern = re.compile(re.escape(name) + r"_(\d+)")
    highest = 0
    if root.is_dir():
        for entry in root.iterdir():
            match = pattern.fullmatch(entry.name)
            if match and entry.is_dir():
                highest = max(highest, int(match.group(1)))
    return root / f"{name}_{highest + 1}"


_FILE_COUNTER = itertools.count()  # tells apart event files opened in the same second


class ScalarWriter:
    """TensorBoard scalars in one run folder: an event file written in this thread.

    Each call of :meth:`scalars` writes one event that holds all its scalars, rather than
    one ``SummaryWriter.add_scalar`` event per tag: a log point of five tags then costs one
    message to build and serialise instead of five. The events go straight into the file
    (TensorBoard's ``RecordWriter``, the record format ``SummaryWriter`` writes), not through
    ``SummaryWriter``'s background writer thread: waking that thread hands the interpreter
    lock back and forth, which cost about half a millisecond a log point, several percent
    of a tabular agent's ``learn()``. The file is flushed at each :meth:`flush` (each log
    point of an agent), so TensorBoard shows a run while it trains.

    Parameters
    ----------
    log_dir : str or os.PathLike
        The run's own folder (see :func:`next_run_dir`); created if missing.

    Raises
    ------
    ImportError
        When TensorBoard is not installed; the message names the extra that installs it.
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        try:
            from tensorboard.compat.proto.event_pb2 import Event
            from tensorboard.compat.proto.summary_pb2 import Summary
            from tensorboard.summary.writer.record_writer import RecordWriter
        except ImportError as exc:
            raise ImportError(f"tensorboard_log needs the tensorboard package: {_EXTRA} (or pip install tensorboard)") from exc
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._event, self._summary = Event, Summary
        # TensorBoard's own file name: time, host, process and a counter
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_FILE_COUNTER)}"
        self._writer = RecordWriter(open(self.log_dir / name, "wb"))
        self._write(Event(wall_time=time.time(), file_version="brain.Event:2"))
        self._writer.flush()

    def _write(self, event: Any) -> None:
        self._writer.write(event.SerializeToString())

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Write ``value`` under ``tag`` at x-axis position ``step``."""
        self.scalars({tag: value}, step)

    def scalars(self, values: dict[str, float | None], step: int) -> None:
        """Write every ``tag -> value`` of ``values`` at ``step`` as one event (``None``
        values skipped)."""
        Value = self._summary.Value
        summary = self._summary(value=[Value(tag=tag, simple_value=float(v)) for tag, v in values.items() if v is not None])
        self._write(self._event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self) -> None:
        """Push what is buffered to the event file."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None  # type: ignore[assignment]


class MonitorFile:
    """Stable-Baselines3's ``monitor.csv``: one row ``r,l,t`` per finished episode.

    The first line is ``#{"t_start": ..., "env_id": ...}`` (JSON), then the header ``r,l,t``;
    each row holds the episode's return, its length and the seconds from ``t_start`` to its
    end, so ``stable_baselines3.common.results_plotter.load_results(directory)`` reads it.

    A vector environment writes every sub-environment's episodes into this one file, in the
    order they end, where SB3 wraps each sub-environment in its own ``Monitor`` and so writes
    ``0.monitor.csv``, ``1.monitor.csv``...: ``load_results`` concatenates all files of a
    folder and sorts the rows by ``t``, so one file gives the same table, without the
    thousands of files a bandit testbed of 2,000 runs would otherwise leave.

    Parameters
    ----------
    directory : str or os.PathLike
        The folder (created if missing); the file is ``directory/monitor.csv``.
    env_id : str
        Written in the header line (the environment's spec id, or its class name).
    t_start : float or None
        Unix time the ``t`` column counts from; ``None`` starts now and rewrites the file.
        A number appends to the file (an agent's later ``learn()`` calls continue its file).
    """

    FILENAME = "monitor.csv"

    def __init__(self, directory: str | os.PathLike, env_id: str, t_start: float | None = None) -> None:
        self.path = Path(directory) / self.FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = t_start is None or not self.path.exists()
        self.t_start = time.time() if t_start is None else float(t_start)
        self._file = open(self.path, "w" if fresh else "a", encoding="utf-8", newline="")
        if fresh:
            self._file.write("#" + json.dumps({"t_start": self.t_start, "env_id": env_id}) + "\n")
            self._file.write("r,l,t\n")

    def write(self, episode_return: float, length: int) -> None:
        """Add one finished episode (to 6 decimals, as SB3's ``Monitor`` rounds them; a
        format is cheaper than ``round``, which counts when episodes are a few steps long)."""
        self._file.write(f"{episode_return:.6f},{length},{time.time() - self.t_start:.6f}\n")

    def flush(self) -> None:
        """Push the rows written so far to the file."""
        self._file.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._file.closed:
            self._file.close()


def env_id_of(env: Any) -> str:
    """The id SB3's monitor header shows: the environment's spec id, else its class name."""
    spec = getattr(env, "spec", None)
    return spec.id if getattr(spec, "id", None) else type(getattr(env, "unwrapped", env)).__name__


class AgentTelemetry:
    """One ``learn()`` call's TensorBoard scalars and monitor rows.

    :meth:`episode` is called for every finished episode (cheap: two appends and a line
    of CSV); :meth:`log` writes the scalars when the step count has passed :attr:`next_step`,
    every ``interval`` steps; :meth:`close` writes the last point and closes both files.

    Parameters
    ----------
    run_dir : Path or None
        The TensorBoard run folder (``None``: no TensorBoard).
    monitor : MonitorFile or None
        Where episodes go as CSV rows (``None``: no monitor file).
    num_timesteps : int
        The agent's step count when ``learn()`` starts (``time/fps`` counts from it).
    interval : int
        Steps between two writes of the scalars (default :data:`DEFAULT_LOG_INTERVAL`).
    window : int
        How many recent episodes ``rollout/ep_rew_mean`` and ``ep_len_mean`` average.
    """

    def __init__(self, run_dir: Path | None, monitor: MonitorFile | None, num_timesteps: int,
                 interval: int = DEFAULT_LOG_INTERVAL, window: int = STATS_WINDOW) -> None:
        self.monitor = monitor
        try:
            self.writer = ScalarWriter(run_dir) if run_dir is not None else None
        except BaseException:
            if monitor is not None:
                monitor.close()
            raise
        self.interval = interval
        self.returns: deque[float] = deque(maxlen=window)
        self.lengths: deque[int] = deque(maxlen=window)
        self._start_steps = num_timesteps
        self._start_time = time.perf_counter()
        self._logged_at = num_timesteps
        self.next_step = num_timesteps + interval if self.writer is not None else float("inf")

    def episode(self, episode_return: float, length: int) -> None:
        """Record one finished episode (monitor row; kept for the rolling means)."""
        self.returns.append(episode_return)
        self.lengths.append(length)
        if self.monitor is not None:
            self.monitor.write(episode_return, length)

    def log(self, num_timesteps: int, scalars: dict[str, float | None]) -> None:
        """Write the rolling episode means, ``scalars`` and ``time/fps`` at x = ``num_timesteps``."""
        self._logged_at = num_timesteps
        self.next_step = num_timesteps + self.interval
        if self.monitor is not None:
            self.monitor.flush()
        if self.writer is None:
            return
        values: dict[str, float | None] = {}
        if self.returns:
            values["rollout/ep_rew_mean"] = sum(self.returns) / len(self.returns)
            values["rollout/ep_len_mean"] = sum(self.lengths) / len(self.lengths)
        values.update(scalars)
        elapsed = time.perf_counter() - self._start_time
        if elapsed > 0:
            values["time/fps"] = (num_timesteps - self._start_steps) / elapsed
        self.writer.scalars(values, num_timesteps)
        self.writer.flush()

    def close(self, num_timesteps: int, scalars: dict[str, float | None]) -> None:
        """Write the final point (if steps were taken since the last) and close the files."""
        try:
            if self.writer is not None and num_timesteps > self._logged_at:
                self.log(num_timesteps, scalars)
        finally:
            if self.writer is not None:
                self.writer.close()
            if self.monitor is not None:
                self.monitor.close()
