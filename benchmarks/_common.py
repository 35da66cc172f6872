"""Helpers every benchmark script shares: arguments, threads, timing, tables, README sync.

Each script in benchmarks/ is run as ``python benchmarks/NAME.py [--quick] [--out DIR]``
(``groundup bench`` runs them all). It writes ``NAME.md`` (and PNGs) into ``--out``
(default ``benchmarks/results/``); when writing to the default folder it also replaces
the block between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in README.md, so
the README always shows the tables of the last full or quick run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"


def parse_args(description: str, argv: Sequence[str] | None = None, extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a small configuration that finishes in minutes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the markdown table and plots (default: benchmarks/results)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GROUNDUP_THREADS", os.cpu_count() or 1)), help="torch/BLAS threads (default: all cores)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    set_threads(args.threads)
    return args


def set_threads(n: int) -> None:
    """Pin torch's thread pool; BLAS pools follow the environment variables set before import."""
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass


def median_time(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Median wall-clock seconds of ``repeats`` calls of ``fn`` and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def mean_std(values: Sequence[float]) -> str:
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line(threads: int | None = None) -> str:
    try:
        import torch

        tv = torch.__version__
        t = threads or torch.get_num_threads()
    except ImportError:  # pragma: no cover
        tv, t = "n/a", threads
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {tv} with {t} threads, Python {platform.python_version()}"


def write_result(args: argparse.Namespace, name: str, markdown: str) -> Path:
    """Write ``NAME.md`` into ``args.out``; sync README when that is the default folder."""
    from groundup.persistence import atomic_write_bytes

    mode = "smoke" if getattr(args, "smoke", False) else "quick" if args.quick else "full"
    command = f"python benchmarks/{name.removesuffix('_smoke')}.py" + ("" if mode == "full" else f" --{mode}")
    body = markdown.rstrip() + f"\n\n_Configuration: {mode}; {machine_line(args.threads)}; command: `{command}`._\n"
    path = args.out / f"{name}.md"
    atomic_write_bytes(path, body.encode())
    if args.out.resolve() == RESULTS.resolve():
        sync_readme(name, body)
    print(body)
    return path


def sync_readme(name: str, body: str) -> bool:
    """Replace the README block for ``name``; returns whether a block was found."""
    from groundup.persistence import atomic_write_bytes

    if not README.is_file():
        return False
    text = README.read_text()
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        return False
    text = text[: i + len(start)] + "\n" + body.rstrip() + "\n" + text[j:]
    atomic_write_bytes(README, text.encode())
    return True


def savefig(fig: Any, args: argparse.Namespace, filename: str) -> Path:
    path = args.out / filename
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
