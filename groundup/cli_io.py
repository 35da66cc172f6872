"""What the family commands of ``groundup`` share: reading data files with errors that
name the file and the line, writing outputs atomically, a progress bar over a model's
epochs, and warnings on one line.

Every reader raises :class:`CliFileError` (a ``ValueError``), whose message is one line
that starts with the file's name and, where there is one, the line number: ``groundup``
prints it to stderr and exits with status 2, without a traceback. Nothing here imports a
family or a heavy library at import time.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from groundup.persistence import atomic_write_bytes
from groundup.progress import follow_training, progress_bar

__all__ = ["CliFileError", "check_input_file", "check_not_an_input", "read_matrix", "read_labels", "write_text", "write_matrix",
           "epoch_progress", "one_line_warnings", "add_training_options", "early_stopping_setting"]


class CliFileError(ValueError):
    """A data file that cannot be read as the command needs: the message names the file
    and, where the problem sits on one line, that line."""


def check_input_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` when it is a non-empty file.

    Parameters
    ----------
    path : str or PathLike
        The file the user named.
    what : str
        What the file should hold, for the message ("CoNLL file", "tree file", ...).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist or is a folder.
    CliFileError
        When the file is empty (a zero-length file is almost always a failed earlier step).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} {str(p)!r} does not exist" + (" (it is a folder)" if p.is_dir() else ""))
    if p.stat().st_size == 0:
        raise CliFileError(f"{p}: the file is empty; expected a {what}")
    return p


# ------------------------------------------------------------------------------ matrices
def read_matrix(path: str | os.PathLike) -> np.ndarray:
    """A 2-D float array (rows = samples) from a ``.npy`` file or a comma-separated file.

    A ``.npy`` file must hold a 2-D numeric array; it is read with ``allow_pickle=False``,
    so a file of Python objects is refused, never unpickled. Any other file is read as CSV:
    one row per line, the same number of comma-separated numbers on every line; the first
    line is a header, and skipped, when none of its fields is a number. Every value must
    be finite.

    Parameters
    ----------
    path : str or PathLike
        The data file.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_rows, n_columns)``, float64 for CSV, the file's dtype as float for ``.npy``.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    CliFileError
        For an empty file, a CSV line with a non-number or another number of columns (the
        message gives the line and column), a ``.npy`` file that is not a 2-D numeric array,
        or a value that is NaN or infinite.
    """
    p = check_input_file(path, "data file (.npy or .csv)")
    if p.suffix.lower() == ".npy":
        return _read_npy(p)
    return _read_csv(p)


def _read_npy(p: Path) -> np.ndarray:
    try:
        X = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CliFileError(f"{p}: holds Python objects (a pickle), not a numeric array; groundup never loads "
                               "pickles: save the data with np.save(path, array.astype(float))") from None
        raise CliFileError(f"{p}: not a readable .npy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise CliFileError(f"{p}: not a readable .npy file ({exc})") from None
    if not isinstance(X, np.ndarray):  # an .npz archive saved under a .npy name
        raise CliFileError(f"{p}: holds an archive of several arrays, not one array; save one 2-D array with np.save")
    if X.dtype.kind not in "biuf":
        raise CliFileError(f"{p}: holds an array of dtype {X.dtype}, not numbers; expected a 2-D array of real numbers")
    if X.ndim != 2:
        raise CliFileError(f"{p}: holds an array of shape {X.shape}; expected a 2-D array (rows x features)"
                           + (": reshape it with X.reshape(-1, 1) for one feature" if X.ndim == 1 else ""))
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise CliFileError(f"{p}: holds an array of shape {X.shape}, which has no data")
    X = X.astype(np.float64, copy=False)
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise CliFileError(f"{p}: row {row + 1}, column {col + 1} holds {X[row, col]}; every value must be a finite number")
    return X


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(p: Path) -> np.ndarray:
    with open(p, encoding="utf-8", newline="") as fh:
        first = fh.readline()
    header = 1 if first.strip() and not any(_is_number(f) for f in next(csv.reader([first]))) else 0
    try:
        # numpy's C reader is fast; the line-by-line scan below only runs to word an error
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": the scan says it better
            X = np.loadtxt(p, delimiter=",", skiprows=header, ndmin=2, comments=None, dtype=np.float64,
                           encoding="utf-8")
    except ValueError:
        X = None
    if X is None or X.size == 0 or not np.isfinite(X).all():
        _scan_csv(p, header)  # raises with the line and column
    if X is None or X.size == 0:  # pragma: no cover - the scan raises for every such file
        raise CliFileError(f"{p}: could not be read as comma-separated numbers")
    return X


def _scan_csv(p: Path, header: int) -> None:
    """Find the first bad line of a CSV file that numpy refused, and raise naming it."""
    width = None
    rows = 0
    with open(p, encoding="utf-8", newline="") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            if lineno <= header or not fields or all(not f.strip() for f in fields):
                continue
            if width is None:
                width = len(fields)
            elif len(fields) != width:
                raise CliFileError(f"{p}, line {lineno}: {len(fields)} columns, but the first data line has {width}")
            for col, field in enumerate(fields, start=1):
                try:
                    value = float(field)
                except ValueError:
                    raise CliFileError(f"{p}, line {lineno}, column {col}: {field.strip()!r} is not a number "
                                       "(labels go in a separate file: --labels FILE)") from None
                if not math.isfinite(value):
                    raise CliFileError(f"{p}, line {lineno}, column {col}: {field.strip()!r} is not a finite number")
            rows += 1
    if rows == 0:
        raise CliFileError(f"{p}: no data lines" + (" after the header on line 1" if header else ""))


def read_labels(path: str | os.PathLike, n_rows: int, data_path: str | os.PathLike) -> list[str]:
    """One label per line from ``path``, exactly ``n_rows`` of them (one per data row).

    Parameters
    ----------
    path : str or PathLike
        The labels file: one label per line, in the order of the data's rows; a last
        empty line (the file's final newline) is ignored.
    n_rows : int
        The number of rows of the data the labels describe.
    data_path : str or PathLike
        The data file, named in the message when the counts differ.

    Raises
    ------
    FileNotFoundError, CliFileError
        A missing or empty file, an empty line (naming it), or a count other than ``n_rows``.
    """
    p = check_input_file(path, "labels file")
    with open(p, encoding="utf-8") as fh:
        labels = fh.read().splitlines()
    for lineno, label in enumerate(labels, start=1):
        if not label.strip():
            raise CliFileError(f"{p}, line {lineno}: empty label; expected one label per line, one line per data row")
        if lineno > n_rows:
            raise CliFileError(f"{p}, line {lineno}: more labels than {data_path} has rows ({n_rows})")
    if len(labels) < n_rows:
        raise CliFileError(f"{p}: {len(labels)} labels (lines 1-{len(labels)}), but {data_path} has {n_rows} rows; "
                           "expected one label per row")
    return [label.strip() for label in labels]


# ------------------------------------------------------------------------------ outputs
def check_not_an_input(output: str | os.PathLike | None, *inputs: str | os.PathLike) -> None:
    """Raise ``ValueError`` when ``output`` names one of the ``inputs`` (checked before any work,
    so that a command never writes its results over the file it reads).

    Parameters
    ----------
    output : str, PathLike or None
        The ``--output`` file; None (stdout) always passes.
    *inputs : str or PathLike
        The files the command reads.
    """
    if output is not None and Path(output).resolve() in {Path(p).resolve() for p in inputs}:
        raise ValueError(f"--output {str(output)!r} would overwrite an input file; name another output file")


def write_text(path: str | os.PathLike | None, text: str) -> None:
    """Write ``text`` to ``path`` atomically (never half a file), or to stdout when ``path`` is None.

    Parameters
    ----------
    path : str, PathLike or None
        The output file (its folder must exist), or None for stdout.
    text : str
        Written as UTF-8.
    """
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write_bytes(path, text.encode("utf-8"))


def write_matrix(path: str | os.PathLike, X: np.ndarray, header: list[str]) -> None:
    """Write a 2-D array atomically: ``.npy`` by that suffix, else CSV with ``header`` as its first line.

    CSV values are written with 9 significant digits, enough to give back every float32
    exactly.

    Parameters
    ----------
    path : str or PathLike
        The output file; ``.npy`` writes NumPy's format, anything else CSV.
    X : numpy.ndarray
        The 2-D array, one row per sample.
    header : list of str
        The column names, the CSV's first line.
    """
    if Path(path).suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(X), allow_pickle=False)
        atomic_write_bytes(path, buffer.getvalue())
        return
    buffer = io.StringIO()
    np.savetxt(buffer, np.asarray(X, dtype=np.float64), delimiter=",", fmt="%.9g", header=",".join(header), comments="")
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))


# ------------------------------------------------------------------------------ training
@contextlib.contextmanager
def epoch_progress(total: int, *, desc: str, unit: str = "epoch", step: str = "epoch",
                   enabled: bool = True) -> Iterator[Any]:
    """A progress bar over the training of a model that logs with ``TrainingLog``.

    The estimators take no ``progress_bar`` argument; each keeps its per-epoch rows in a
    :class:`groundup.progress.TrainingLog`, and :func:`groundup.progress.follow_training`
    hands those rows to this bar for the length of the ``with`` block: it moves to the
    row's ``step`` (epoch or iteration) and shows the row's numbers (loss, validation
    score); the rows are kept as before but not printed, since the bar shows them.

    Parameters
    ----------
    total : int
        The most steps training can run (``max_iter``); early stopping leaves the bar short.
    desc, unit : str
        The bar's label and unit.
    step : str
        The key of the log row that counts steps.
    enabled : bool
        False gives a bar that shows nothing (``--no-progress``).
    """
    bar = progress_bar(total, enabled=enabled, desc=desc, unit=unit)

    def show(row: dict[str, Any]) -> None:
        if isinstance(row.get(step), int):
            bar.update(row[step] - bar.n)
        shown = {k: f"{v:.4g}" for k, v in row.items()
                 if isinstance(v, float) and k not in ("time_s", "learning_rate", "grad_norm")}
        bar.set_postfix(shown, refresh=False)

    try:
        with follow_training(show):
            yield bar
    finally:
        bar.close()


@contextlib.contextmanager
def one_line_warnings(prefix: str) -> Iterator[None]:
    """Print each warning raised inside the block as one line, ``PREFIX: warning: message``,
    instead of Python's file-and-source-line format (meant for a command line's users).

    Parameters
    ----------
    prefix : str
        What starts the line, the command's name (``"groundup tagger train"``).
    """

    from tqdm.auto import tqdm

    def show(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        # tqdm.write clears an open progress bar's line first, so the two do not mix
        tqdm.write(f"{prefix}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def add_training_options(parser: Any, examples: str) -> None:
    """The options every training command shares: ``--early-stopping``, ``--seed``,
    ``--device`` and ``--no-progress``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    examples : str
        What training counts in, for the help of ``--early-stopping`` ("sentences", "trees").
    """
    parser.add_argument("--early-stopping", choices=("auto", "on", "off"), default="auto",
                        help=f"auto: on with --valid or 500+ training {examples} (see the estimator's docs)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0): the same seed gives the same model on one machine")
    parser.add_argument("--device", default="auto", help="cpu, cuda, mps or auto (auto)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def early_stopping_setting(choice: str) -> str | bool:
    """``--early-stopping auto|on|off`` as the estimators' ``early_stopping`` value."""
    return {"auto": "auto", "on": True, "off": False}[choice]
