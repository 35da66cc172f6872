"""``groundup tsne`` and ``groundup pca``: embed a data file, write the coordinates and a map.

    groundup tsne DATA.npy|.csv --out map.png [--labels FILE] [--perplexity 30] [--coords FILE.csv] ...
    groundup pca  DATA.npy|.csv --n-components K --out map.png|coords.csv [--labels FILE] [--whiten] ...

DATA is a 2-D ``.npy`` array or a comma-separated file (one row per sample, an optional
header line), read by :func:`groundup.cli_io.read_matrix`. ``--out`` ending in ``.png``
draws the first two coordinates, coloured by ``--labels`` (one label per line), and
writes the coordinates to ``--coords`` (default: ``map.coords.csv`` for ``map.png``); ``--out``
ending in ``.csv`` or ``.npy`` writes only the coordinates. Row ``i`` of the coordinates
is row ``i`` of DATA. matplotlib (the ``[unsupervised]`` extra) is imported only to draw.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from groundup.cli_io import CliFileError, epoch_progress, one_line_warnings, read_labels, read_matrix, write_matrix

__all__ = ["add_unsupervised_commands", "output_paths"]

_COORD_SUFFIXES = (".csv", ".npy")


def output_paths(out: str, coords: str | None) -> tuple[Path | None, Path]:
    """``(png, coordinates)`` from ``--out`` and ``--coords``.

    ``--out map.png`` draws a map and writes the coordinates to ``--coords`` or, without it,
    ``map.coords.csv``; ``--out coords.csv`` (or ``.npy``) writes only the coordinates.

    Raises
    ------
    ValueError
        For an ``--out`` that ends in neither ``.png``, ``.csv`` nor ``.npy``, or a
        ``--coords`` that ends in neither ``.csv`` nor ``.npy``.
    """
    out_path = Path(out)
    suffix = out_path.suffix.lower()
    if suffix not in (".png", *_COORD_SUFFIXES):
        raise ValueError(f"--out must end in .png (a map and its coordinates), .csv or .npy (the coordinates); got {out!r}")
    if suffix != ".png":
        if coords is not None:
            raise ValueError(f"--coords is for --out FILE.png; --out {out!r} already names the coordinates file")
        return None, out_path
    coords_path = Path(coords) if coords is not None else out_path.with_suffix(".coords.csv")
    if coords_path.suffix.lower() not in _COORD_SUFFIXES:
        raise ValueError(f"--coords must end in .csv or .npy; got {coords!r}")
    return out_path, coords_path


def _check_outputs(outputs: tuple[Path | None, ...], inputs: tuple[str | None, ...]) -> None:
    """Fail before the work, not after it, when an output's folder does not exist or an
    output would overwrite an input file."""
    read = {Path(p).resolve() for p in inputs if p is not None}
    for path in outputs:
        if path is None:
            continue
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
        if path.resolve() in read:
            raise ValueError(f"writing {str(path)!r} would overwrite an input file; name another output "
                             "(--out, or --coords for the coordinates)")


def _draw(Y: np.ndarray, labels: list[str] | None, path: Path, title: str, axes: tuple[str, str]) -> None:
    """Scatter the first two coordinates into a png, written atomically."""
    import matplotlib

    matplotlib.use("Agg")  # a command line may have no display
    import matplotlib.pyplot as plt

    from groundup.persistence import atomic_write_bytes
    from groundup.unsupervised.plots import plot_embedding

    size = float(np.clip(3000.0 / max(len(Y), 1), 1.0, 30.0))  # small maps get visible dots, large ones no blot
    fig = plot_embedding(Y[:, :2], labels, title=title, s=size)
    fig.axes[0].set_xlabel(axes[0])
    fig.axes[0].set_ylabel(axes[1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _read_inputs(args: argparse.Namespace) -> tuple[np.ndarray, list[str] | None, Path | None, Path]:
    png, coords = output_paths(args.out, args.coords)
    _check_outputs((png, coords), (args.data, args.labels))
    X = read_matrix(args.data)
    labels = read_labels(args.labels, len(X), args.data) if args.labels else None
    if labels is not None and png is None:
        print(f"groundup {args.command}: note: --labels only colours the map; --out {args.out} draws none",
              file=sys.stderr)
    return X, labels, png, coords


def cmd_tsne(args: argparse.Namespace) -> int:
    """Run ``groundup tsne``: embed the data file with ``TSNE`` (a progress bar over its
    iterations), write the coordinates and, for ``--out FILE.png``, the map.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (errors raise, and ``groundup.cli.main`` turns them into status 2).
    """
    from groundup.unsupervised import TSNE

    X, labels, png, coords = _read_inputs(args)
    if len(X) < 3:
        raise CliFileError(f"{args.data}: {len(X)} rows; t-SNE needs at least 3")
    if not 0 < args.perplexity < len(X):
        raise ValueError(f"--perplexity must be above 0 and below the number of rows ({len(X)} in {args.data}); "
                         f"got {args.perplexity}")
    if png is not None and args.n_components < 2:
        raise ValueError(f"a map needs --n-components 2 or more; got {args.n_components}: give --out FILE.csv instead")
    # verbose=1 makes TSNE log every 50 iterations, which is what moves the progress bar
    model = TSNE(n_components=args.n_components, perplexity=args.perplexity, max_iter=args.max_iter,
                 learning_rate=args.learning_rate, init=args.init, random_state=args.seed,
                 device=args.device, verbose=1)
    start = time.perf_counter()
    with one_line_warnings("groundup tsne"), epoch_progress(args.max_iter, desc="t-SNE", unit="it",
                                                             step="iteration", enabled=not args.no_progress):
        Y = np.asarray(model.fit_transform(X))
    write_matrix(coords, Y, [f"tsne{k + 1}" for k in range(Y.shape[1])])
    if png is not None:
        _draw(Y, labels, png, args.title or f"t-SNE of {Path(args.data).name} (perplexity {args.perplexity:g})",
              ("t-SNE 1", "t-SNE 2"))
    written = f"{png} and {coords}" if png is not None else str(coords)
    print(f"t-SNE ({model.method_}): {X.shape[0]:,} x {X.shape[1]:,} -> {Y.shape[1]} dimensions, "
          f"KL divergence {model.kl_divergence_:.4f}, {time.perf_counter() - start:.1f} s -> {written}", file=sys.stderr)
    return 0


def _n_components(text: str) -> int | float:
    """``--n-components``: an integer count, or a fraction in (0, 1) of the variance to keep."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count such as 2 or a variance fraction such as 0.95; got {text!r}") from None
    if value.is_integer() and value >= 1:
        return int(value)
    if 0 < value < 1:
        return value
    raise argparse.ArgumentTypeError(f"expected a count >= 1 or a variance fraction in (0, 1); got {text!r}")


def cmd_pca(args: argparse.Namespace) -> int:
    """Run ``groundup pca``: project the data file on its principal axes, write the
    coordinates and, for ``--out FILE.png``, the map; print the explained-variance ratios.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (errors raise, and ``groundup.cli.main`` turns them into status 2).
    """
    from groundup.unsupervised import PCA

    X, labels, png, coords = _read_inputs(args)
    if isinstance(args.n_components, int) and args.n_components > min(X.shape):
        raise ValueError(f"--n-components must be at most min(rows, columns) = {min(X.shape)} for {args.data} "
                         f"({X.shape[0]} x {X.shape[1]}); got {args.n_components}")
    model = PCA(n_components=args.n_components, whiten=args.whiten, svd_solver=args.svd_solver,
                random_state=args.seed, device=args.device)
    Y = np.asarray(model.fit_transform(X))
    if png is not None and Y.shape[1] < 2:
        raise ValueError(f"a map needs 2 or more components; this fit kept {Y.shape[1]}: give --out FILE.csv instead")
    write_matrix(coords, Y, [f"pc{k + 1}" for k in range(Y.shape[1])])
    ratios = model.explained_variance_ratio_
    if png is not None:
        _draw(Y, labels, png, args.title or f"PCA of {Path(args.data).name}",
              (f"PC1 ({ratios[0]:.1%} of the variance)", f"PC2 ({ratios[1]:.1%})"))
    print("explained variance ratio: " + ", ".join(f"PC{k + 1} {r:.4f}" for k, r in enumerate(ratios))
          + f" (total {float(np.sum(ratios)):.4f})")
    written = f"{png} and {coords}" if png is not None else str(coords)
    print(f"PCA: {X.shape[0]:,} x {X.shape[1]:,} -> {Y.shape[1]} components -> {written}", file=sys.stderr)
    return 0


def _learning_rate(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive number; got {text!r}") from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="2-D .npy array or CSV file (one row per sample, optional header line)")
    p.add_argument("--out", required=True, help="map.png (a map and its coordinates) or coords.csv / coords.npy")
    p.add_argument("--coords", help="with --out FILE.png: where the coordinates go (default: FILE.coords.csv)")
    p.add_argument("--labels", help="one label per line, one line per data row: colours the map")
    p.add_argument("--title", help="the map's title")
    p.add_argument("--device", default="auto", help="cpu, cuda, mps or auto (auto)")


def add_unsupervised_commands(sub: Any) -> None:
    """Add ``tsne`` and ``pca`` to the ``groundup`` sub-parsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the ``groundup`` parser (``groundup.cli.build_parser``).
    """
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("tsne", help="t-SNE map of a .npy or CSV file: a png and the coordinates", formatter_class=fmt,
                       description=__doc__,
                       epilog="example:\n  groundup tsne digits.csv --labels digits_labels.txt --out digits.png\n"
                              "  (writes digits.png and digits.coords.csv, one row of coordinates per input row)")
    _common(p)
    p.add_argument("--perplexity", type=float, default=30.0, help="effective number of neighbours (30)")
    p.add_argument("--n-components", type=int, default=2, help="dimensions of the embedding (2)")
    p.add_argument("--max-iter", type=int, default=750, help="gradient steps, the 250 exaggerated ones included (750)")
    p.add_argument("--learning-rate", type=_learning_rate, default="auto", help="step size or auto (auto)")
    p.add_argument("--init", choices=("pca", "random"), default="pca", help="starting positions (pca)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_tsne)

    p = sub.add_parser("pca", help="PCA of a .npy or CSV file: the coordinates, a png, the explained variance",
                       formatter_class=fmt, description=__doc__,
                       epilog="example:\n  groundup pca digits.csv --n-components 10 --labels digits_labels.txt --out pca.png\n"
                              "  (writes pca.png, the first two components, and pca.coords.csv, all ten)\n"
                              "  groundup pca data.npy --n-components 0.95 --out reduced.npy   # 95% of the variance")
    _common(p)
    p.add_argument("--n-components", type=_n_components, required=True,
                   help="components to keep: a count K, or a fraction in (0, 1) of the variance")
    p.add_argument("--whiten", action="store_true", help="scale every component to unit variance")
    p.add_argument("--svd-solver", choices=("auto", "covariance_eigh", "full", "randomized"), default="auto",
                   help="auto: exact, the fastest way for the data's shape (auto)")
    p.add_argument("--seed", type=int, default=0, help="seed of the randomized solver (0)")
    p.set_defaults(func=cmd_pca)
