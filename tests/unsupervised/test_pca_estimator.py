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


# -- data that doesn't fit at once: partial_fit and the randomized solver (issue 17) -------------
@pytest.fixture(scope="module")
def mnist():
    from groundup.datasets import load_mnist

    return load_mnist().X_train[:3000]


def test_partial_fit_equals_sklearns_incremental_pca_on_mnist(mnist):
    from sklearn.decomposition import IncrementalPCA

    ours, ref = PCA(30), IncrementalPCA(30)
    for start in range(0, len(mnist), 500):
        ours.partial_fit(mnist[start : start + 500])
        ref.partial_fit(mnist[start : start + 500])
    assert ours.n_samples_seen_ == ref.n_samples_seen_ == len(mnist)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-4)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-3)
    np.testing.assert_allclose(ours.mean_, ref.mean_, atol=1e-6)
    np.testing.assert_allclose(ours.var_, ref.var_, atol=1e-6)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-3)
    np.testing.assert_allclose(ours.components_[:10], ref.components_[:10], atol=1e-3)  # same signs (svd_flip)
    # and close to the exact PCA of all 3,000 images (the incremental update is approximate)
    exact = SkPCA(30).fit(mnist)
    np.testing.assert_allclose(ours.explained_variance_ratio_[:10], exact.explained_variance_ratio_[:10], atol=1e-3)


def test_partial_fit_continues_a_fit_and_ends_at_the_exact_answer_when_nothing_is_dropped():
    X = np.random.default_rng(3).normal(size=(300, 6)).astype(np.float32) * [3, 2, 1, 1, 0.5, 0.1]
    p = PCA(6).fit(X[:100])
    for start in (100, 200):
        p.partial_fit(X[start : start + 100])
    full = SkPCA(6).fit(X)  # with every component kept, the incremental SVD is exact
    assert p.n_samples_seen_ == 300
    np.testing.assert_allclose(p.explained_variance_, full.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(p.mean_, full.mean_, atol=1e-5)
    np.testing.assert_allclose(np.abs(p.components_), np.abs(full.components_), atol=1e-4)


def test_randomized_solver_equals_sklearn_on_mnist(mnist):
    ours = PCA(50, svd_solver="randomized", random_state=0).fit(mnist)
    ref = SkPCA(50, svd_solver="randomized", random_state=0).fit(mnist)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-4)
    exact = PCA(50).fit(mnist)
    np.testing.assert_allclose(ours.explained_variance_ratio_, exact.explained_variance_ratio_, atol=1e-4)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-3)
    # the leading axes are well separated, so they agree entry by entry (same sign rule)
    np.testing.assert_allclose(ours.components_[:5], ref.components_[:5], atol=1e-3)
    # no power iterations and no oversampling: a worse sketch of the same subspace
    rough = PCA(50, svd_solver="randomized", iterated_power=0, n_oversamples=0, random_state=0).fit(mnist)
    assert rough.explained_variance_ratio_.sum() < ours.explained_variance_ratio_.sum() - 1e-3


def test_randomized_solver_on_wide_data_and_the_other_solvers():
    X = np.random.default_rng(4).normal(size=(40, 500)).astype(np.float32)
    X[:, :3] *= 20  # three strong directions
    exact = SkPCA(5).fit(X)
    for solver in ("randomized", "full", "covariance_eigh"):
        ours = PCA(5, svd_solver=solver, random_state=1).fit(X)
        np.testing.assert_allclose(ours.explained_variance_ratio_[:3], exact.explained_variance_ratio_[:3], atol=1e-4, err_msg=solver)


def test_partial_fit_and_solver_bad_input(mnist):
    p = PCA(10).partial_fit(mnist[:100])
    with pytest.raises(ValueError, match="X has 700 features, but PCA is expecting 784 features"):
        p.partial_fit(mnist[:100, :700])
    with pytest.raises(ValueError, match=r"n_components=10 must be at most the number of samples in each partial_fit batch; this batch has 5"):
        p.partial_fit(mnist[:5])
    with pytest.raises(ValueError, match=r"n_components must be None or a positive integer for partial_fit; got 0.5"):
        PCA(0.5).partial_fit(mnist[:100])
    with pytest.raises(ValueError, match=r"svd_solver must be .*'randomized'.*; got 'arpack'"):
        PCA(5, svd_solver="arpack").fit(mnist[:100])
    with pytest.raises(ValueError, match=r"n_components must be an integer or None with svd_solver='randomized'; got 0.9"):
        PCA(0.9, svd_solver="randomized").fit(mnist[:100])
    with pytest.raises(ValueError, match="iterated_power must be a non-negative integer; got -1"):
        PCA(5, svd_solver="randomized", iterated_power=-1).fit(mnist[:100])


def test_partial_fit_state_survives_save_and_load(tmp_path, mnist):
    p = PCA(8).partial_fit(mnist[:200])
    p.save(tmp_path / "ipca.safetensors")
    q = PCA.load(tmp_path / "ipca.safetensors")
    assert q.n_samples_seen_ == 200
    np.testing.assert_array_equal(q.var_, p.var_)
    p.partial_fit(mnist[200:400])
    q.partial_fit(mnist[200:400])
    np.testing.assert_allclose(q.explained_variance_ratio_, p.explained_variance_ratio_, rtol=1e-6)
