"""PCA against scikit-learn, closed forms and round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA

from groundup.unsupervised import PCA, NotFittedError
from groundup.persistence import ModelFileError


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


def test_matches_sklearn_on_tall_data(digits):
    ours, ref = PCA(10).fit(digits), SkPCA(10).fit(digits)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-6)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-4)
    # same sign convention, so the axes agree entry by entry
    np.testing.assert_allclose(ours.components_, ref.components_, atol=2e-4)
    np.testing.assert_allclose(ours.transform(digits[:50]), ref.transform(digits[:50]), atol=2e-3)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-3)


def test_matches_sklearn_on_wide_data():
    X = np.random.default_rng(0).normal(size=(20, 60)).astype(np.float32)
    ours, ref = PCA(5).fit(X), SkPCA(5).fit(X)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-5)
    np.testing.assert_allclose(np.abs(ours.components_), np.abs(ref.components_), atol=1e-4)


def test_variance_fraction_and_all_components(digits):
    ours = PCA(0.9).fit(digits)
    cum = np.cumsum(SkPCA().fit(digits).explained_variance_ratio_)
    assert ours.n_components_ == int(np.searchsorted(cum, 0.9) + 1)
    full = PCA().fit(digits)
    assert full.n_components_ == 64
    assert full.explained_variance_ratio_.sum() == pytest.approx(1.0, abs=1e-5)


def test_closed_form_two_dimensional_gaussian():
    # Variance 9 along (1, 1)/sqrt(2) and 1 along (1, -1)/sqrt(2).
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20000, 2)) * [3.0, 1.0]
    R = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    X = z @ R.T + [5.0, -2.0]
    p = PCA(2).fit(X)
    np.testing.assert_allclose(p.explained_variance_, [9.0, 1.0], rtol=0.03)
    assert abs(abs(p.components_[0] @ R[:, 0]) - 1) < 1e-3
    np.testing.assert_allclose(p.mean_, [5.0, -2.0], atol=0.05)


def test_full_rank_round_trip_and_whitening(digits):
    X = digits[:, :20] + np.random.default_rng(2).normal(scale=0.01, size=(len(digits), 20)).astype(np.float32)
    p = PCA(20).fit(X)
    np.testing.assert_allclose(p.inverse_transform(p.transform(X)), X, atol=1e-4)
    w = PCA(5, whiten=True).fit(X)
    Z = w.transform(X)
    np.testing.assert_allclose(Z.std(0, ddof=1), np.ones(5), rtol=1e-3)
    np.testing.assert_allclose(w.inverse_transform(Z), PCA(5).fit(X).inverse_transform(PCA(5).fit(X).transform(X)), atol=1e-4)


def test_reconstruction_error_decreases_with_components(digits):
    errs = [PCA(k).fit(digits).reconstruction_error(digits) for k in (5, 20, 40)]
    assert errs[0] > errs[1] > errs[2] > 0


def test_tensor_in_tensor_out(digits):
    p = PCA(3, device="cpu").fit(torch.from_numpy(digits))
    out = p.transform(torch.from_numpy(digits[:4]))
    assert isinstance(out, torch.Tensor) and out.shape == (4, 3)
    assert isinstance(p.transform(digits[:4]), np.ndarray)


def test_bad_input(digits):
    with pytest.raises(NotFittedError):
        PCA(2).transform(digits)
    p = PCA(2).fit(digits)
    with pytest.raises(ValueError, match="X has 10 features, but PCA is expecting 64 features as input"):
        p.transform(digits[:, :10])
    bad = digits.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        PCA(2).fit(bad)
    bad[3, 4] = np.inf
    with pytest.raises(ValueError, match="X contains infinity"):
        p.transform(bad)
    with pytest.raises(ValueError, match="must be 2-D"):
        PCA(2).fit(digits[0])
    with pytest.raises(ValueError, match="n_components must be"):
        PCA(65).fit(digits)
    with pytest.raises(ValueError, match="n_components must be"):
        PCA(1.5).fit(digits)
    with pytest.raises(TypeError, match="real numbers"):
        PCA(2).fit([["a", "b"], ["c", "d"]])


def test_save_load_round_trip(tmp_path, digits):
    p = PCA(7, whiten=True).fit(digits)
    p.save(tmp_path / "pca.safetensors")
    q = PCA.load(tmp_path / "pca.safetensors")
    assert q.get_params() == p.get_params()
    np.testing.assert_array_equal(q.transform(digits[:5]), p.transform(digits[:5]))
    with pytest.raises(ModelFileError, match="expected"):
        from groundup.unsupervised import RBM

        RBM.load(tmp_path / "pca.safetensors")


@pytest.mark.parametrize("d", [1, 2, 3, 5, 13, 64])
def test_panelled_gram_equals_the_full_product(d):
    from groundup.unsupervised.pca import _gram

    X = torch.from_numpy(np.random.default_rng(d).normal(size=(40, d))).double()
    torch.testing.assert_close(_gram(X), X.T @ X, rtol=1e-12, atol=1e-12)
