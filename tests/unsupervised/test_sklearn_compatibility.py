"""Every estimator behaves as scikit-learn expects: params, clone, Pipeline, NotFittedError."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from groundup.datasets import load_digits_dataset
from groundup.unsupervised import DBN, PCA, RBM, TSNE, Autoencoder, NotFittedError, StackedAutoencoder

SMALL = {
    PCA: dict(n_components=5),
    RBM: dict(n_components=16, n_iter=2, random_state=0, device="cpu"),
    Autoencoder: dict(n_components=5, hidden_layer_sizes=(16,), max_iter=2, random_state=0, device="cpu"),
    DBN: dict(hidden_layer_sizes=(16, 8), pretrain_n_iter=5, pretrain_learning_rate=0.1, max_iter=5, batch_size=10, random_state=0, device="cpu"),
    StackedAutoencoder: dict(hidden_layer_sizes=(16, 8), pretrain_n_iter=2, max_iter=5, batch_size=10, random_state=0, device="cpu"),
    TSNE: dict(perplexity=5.0, max_iter=250, random_state=0, device="cpu"),
}


@pytest.fixture(scope="module")
def data():
    return load_digits_dataset()


@pytest.mark.parametrize("cls", list(SMALL))
def test_params_round_trip_and_clone(cls):
    est = cls(**SMALL[cls])
    params = est.get_params()
    assert params["device"] == SMALL[cls].get("device", "auto")
    assert cls().set_params(**params).get_params() == params
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    assert repr(est).startswith(cls.__name__)


@pytest.mark.parametrize("cls", list(SMALL))
def test_fit_returns_self_and_learned_attributes_end_in_underscore(cls, data):
    est = cls(**SMALL[cls])
    X = data.X_train[:200]
    args = (X, data.y_train[:200]) if cls in (DBN, StackedAutoencoder) else (X,)
    assert est.fit(*args) is est
    assert est.n_features_in_ == 64
    learned = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert learned
    # __init__ stored only the arguments: a fresh instance has no learned attributes
    assert not [k for k in vars(cls(**SMALL[cls])) if k.endswith("_")]
    clone(est)  # cloning a fitted estimator drops what it learned
    assert not [k for k in vars(clone(est)) if k.endswith("_")]


@pytest.mark.parametrize("cls", [PCA, RBM, Autoencoder, DBN, StackedAutoencoder])
def test_fit_transform_equals_fit_then_transform(cls, data):
    X = data.X_train[:300]
    args = (X, data.y_train[:300]) if cls in (DBN, StackedAutoencoder) else (X,)
    np.testing.assert_allclose(cls(**SMALL[cls]).fit_transform(*args), cls(**SMALL[cls]).fit(*args).transform(X), atol=1e-5)


@pytest.mark.parametrize("cls", [PCA, RBM, Autoencoder, DBN, StackedAutoencoder])
def test_transform_before_fit_raises_not_fitted(cls, data):
    with pytest.raises(NotFittedError):
        cls(**SMALL[cls]).transform(data.X_test)


@pytest.mark.parametrize("cls", [PCA, RBM, Autoencoder, DBN, StackedAutoencoder])
def test_as_a_feature_step_in_a_pipeline(cls, data):
    pipe = Pipeline([("features", cls(**SMALL[cls])), ("clf", LogisticRegression(max_iter=200))])
    pipe.fit(data.X_train, data.y_train)
    assert pipe.score(data.X_test, data.y_test) > 0.5
    assert clone(pipe).get_params()["features"].get_params() == cls(**SMALL[cls]).get_params()


@pytest.mark.parametrize("cls", [DBN, StackedAutoencoder])
def test_classifiers_as_the_last_step(cls, data):
    from sklearn.preprocessing import MinMaxScaler

    pipe = Pipeline([("scale", MinMaxScaler()), ("net", cls(**{**SMALL[cls], "max_iter": 15}))])
    pipe.fit(data.X_train, data.y_train)
    assert pipe.score(data.X_test, data.y_test) > 0.5


def test_tsne_fit_transform_in_a_pipeline(data):
    pipe = Pipeline([("pca", PCA(20)), ("tsne", TSNE(**SMALL[TSNE]))])
    Y = pipe.fit_transform(data.X_train[:150])
    assert Y.shape == (150, 2)
    np.testing.assert_array_equal(Y, pipe.named_steps["tsne"].embedding_)


def test_pickle_round_trip(data):
    rbm = RBM(**SMALL[RBM]).fit(data.X_train)
    back = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(back.transform(data.X_test), rbm.transform(data.X_test))
