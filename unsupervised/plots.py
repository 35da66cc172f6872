"""Pictures of what the models learned: embeddings coloured by label, images as grids.

Every function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and
returns the figure, so a caller can ``fig.savefig(...)``. matplotlib is imported only
when a function is called; scripts without a display should select the "Agg" backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.torch_utils import to_numpy

__all__ = ["image_grid", "plot_embedding", "plot_images", "plot_filters", "plot_reconstructions"]


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def image_grid(images: Any, image_shape: Sequence[int], *, n_cols: int | None = None, pad: int = 1, normalize: bool = False) -> np.ndarray:
    """Tile flattened images (n, h*w) into one 2-D array, row-major, ``pad`` pixels apart.

    ``normalize=True`` rescales each image to [0, 1] on its own (for filters, whose
    weights have no common scale). Unused cells and the padding are left at the minimum.
    """
    imgs = to_numpy(images).astype(np.float32)
    h, w = int(image_shape[0]), int(image_shape[1])
    if imgs.ndim != 2 or imgs.shape[1] != h * w:
        raise ValueError(f"images must have shape (n, {h * w}) for image_shape {tuple(image_shape)}; got {imgs.shape}")
    if normalize:
        lo = imgs.min(1, keepdims=True)
        span = imgs.max(1, keepdims=True) - lo
        imgs = (imgs - lo) / np.where(span > 0, span, 1.0)
    n = imgs.shape[0]
    cols = n_cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), imgs.min() if n else 0.0, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = imgs[k].reshape(h, w)
    return grid


def plot_images(images: Any, image_shape: Sequence[int], *, n_cols: int | None = None, normalize: bool = False, title: str | None = None, ax: Any = None, cmap: str = "gray") -> Any:
    """Show flattened images as one grid."""
    grid = image_grid(images, image_shape, n_cols=n_cols, normalize=normalize)
    fig, ax = _axes(ax, (6, 6 * grid.shape[0] / max(grid.shape[1], 1)))
    ax.imshow(grid, cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def plot_filters(weights: Any, image_shape: Sequence[int], *, n: int = 100, title: str | None = None, ax: Any = None) -> Any:
    """The first ``n`` rows of a weight matrix (n_units, n_pixels) as images, each rescaled."""
    W = to_numpy(weights)[:n]
    return plot_images(W, image_shape, normalize=True, title=title, ax=ax)


def plot_reconstructions(originals: Any, reconstructions: Any, image_shape: Sequence[int], *, title: str | None = None, ax: Any = None) -> Any:
    """Originals (top row) above their reconstructions (bottom row)."""
    X, R = to_numpy(originals), to_numpy(reconstructions)
    if X.shape != R.shape:
        raise ValueError(f"originals and reconstructions must have the same shape; got {X.shape} and {R.shape}")
    return plot_images(np.concatenate([X, R]), image_shape, n_cols=X.shape[0], title=title, ax=ax)


def plot_embedding(embedding: Any, labels: Any = None, *, title: str | None = None, ax: Any = None, s: float = 2.0) -> Any:
    """Scatter a 2-D embedding, coloured by ``labels`` (one colour and legend entry per class)."""
    Y = to_numpy(embedding)
    if Y.ndim != 2 or Y.shape[1] != 2:
        raise ValueError(f"embedding must have shape (n, 2); got {Y.shape}")
    fig, ax = _axes(ax, (6, 6))
    if labels is None:
        ax.scatter(Y[:, 0], Y[:, 1], s=s, linewidths=0)
    else:
        lab = np.asarray(labels)
        if lab.shape[0] != Y.shape[0]:
            raise ValueError(f"labels must have one entry per point ({Y.shape[0]}); got {lab.shape[0]}")
        import matplotlib.pyplot as plt

        classes = np.unique(lab)
        cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for c_idx, c in enumerate(classes):
            m = lab == c
            ax.scatter(Y[m, 0], Y[m, 1], s=s, color=cmap(c_idx % cmap.N), label=str(c), linewidths=0)
        ax.legend(markerscale=max(1.0, 12.0 / max(s, 1e-3)) ** 0.5 * 2, fontsize="small", loc="best", frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig
