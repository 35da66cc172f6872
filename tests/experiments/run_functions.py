"""Run functions for the engine tests, importable by Ray workers as
``tests.experiments.run_functions:NAME`` (the repository root is the driver's working
folder, which the engine puts on the workers' path)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _log(log: str | None, line: str) -> None:
    if log:
        with open(log, "a") as fh:  # appends of one short line are atomic on POSIX
            fh.write(line + "\n")


def square(seed: int, x: int, log: str | None = None, sleep: float = 0.0) -> dict:
    """x**2 + seed, logging each execution."""
    _log(log, f"{x} {seed} {os.getpid()}")
    time.sleep(sleep)
    return {"value": x * x + seed, "curve": [[0, 0.0], [1, float(x)]]}


def raises(seed: int, x: int) -> dict:
    if x == 2:
        raise RuntimeError(f"run x={x} seed={seed} broke on purpose")
    return {"value": x}


def not_json(seed: int) -> dict:
    return {"value": object()}


def killed_once(seed: int, marker_dir: str, log: str) -> dict:
    """SIGKILLs its own worker process on the first attempt of each seed."""
    marker = Path(marker_dir) / f"attempted-{seed}"
    _log(log, f"start {seed} {os.getpid()}")
    if not marker.exists():
        marker.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"value": seed}


def where(seed: int, sleep: float = 1.0) -> dict:
    time.sleep(sleep)
    import socket

    return {"seed": seed, "host": socket.gethostname()}


def threads(seed: int) -> dict:
    import torch

    return {"threads": torch.get_num_threads()}
