"""Unsupervised deep learning, scikit-learn style, in torch.

Every estimator has ``fit``/``transform`` (or ``fit_transform``), ``get_params``/
``set_params``, learned attributes ending in ``_``, ``device="auto"``, and
``save(path)``/``Class.load(path)`` through :mod:`groundup.persistence`; each works inside
a ``sklearn.pipeline.Pipeline``. Plot helpers live in :mod:`groundup.unsupervised.plots`.
How the estimators fit into groundup: docs/architecture.md, "Estimators".
"""

from groundup.unsupervised._base import NotFittedError
from groundup.unsupervised.autoencoder import Autoencoder
from groundup.unsupervised.dbn import DBN
from groundup.unsupervised.pca import PCA
from groundup.unsupervised.rbm import RBM
from groundup.unsupervised.stacked_autoencoder import StackedAutoencoder
from groundup.unsupervised.tsne import TSNE

__all__ = ["Autoencoder", "DBN", "NotFittedError", "PCA", "RBM", "StackedAutoencoder", "TSNE"]
