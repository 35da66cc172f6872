"""RBM: free energy and pseudo-likelihood against brute force, training, sampling, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM

from groundup.unsupervised import RBM, NotFittedError


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


def tiny_rbm(n_visible=5, n_hidden=3, seed=0) -> RBM:
    rng = np.random.default_rng(seed)
    rbm = RBM(n_hidden, device="cpu", random_state=seed)
    rbm.n_features_in_ = n_visible
    rbm.components_ = rng.normal(size=(n_hidden, n_visible)).astype(np.float32)
    rbm.intercept_hidden_ = rng.normal(size=n_hidden).astype(np.float32)
    rbm.intercept_visible_ = rng.normal(size=n_visible).astype(np.float32)
    rbm.h_samples_ = np.zeros((10, n_hidden), np.float32)
    rbm.loss_curve_ = []
    return rbm


def energy(v, h, rbm):
    W, b, c = rbm.components_.astype(np.float64), rbm.intercept_visible_, rbm.intercept_hidden_
    return -(b @ v) - (c @ h) - h @ W @ v


def test_free_energy_equals_brute_force_sum_over_hidden_states():
    rbm = tiny_rbm()
    V = np.array(list(itertools.product([0, 1], repeat=5)), dtype=np.float32)
    H = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
    brute = np.array([-np.log(sum(np.exp(-energy(v, h, rbm)) for h in H)) for v in V])
    np.testing.assert_allclose(rbm.free_energy(V), brute, rtol=1e-5, atol=1e-5)


def test_pseudo_likelihood_equals_brute_force():
    rbm = tiny_rbm(seed=1)
    V = np.array(list(itertools.product([0, 1], repeat=5)), dtype=np.float32)
    # P(v) up to Z from the free energy; log P(v_i | v_-i) by enumerating both values of v_i
    F = dict(zip(map(tuple, V.astype(int)), rbm.free_energy(V).astype(np.float64)))
    brute = []
    for v in V.astype(int):
        total = 0.0
        for i in range(5):
            u = v.copy()
            u[i] = 1 - u[i]
            total += -F[tuple(v)] - np.logaddexp(-F[tuple(v)], -F[tuple(u)])
        brute.append(total)
    np.testing.assert_allclose(rbm.pseudo_likelihood(V, batch_size=7), brute, rtol=1e-5, atol=1e-5)


def test_matches_sklearn_free_energy_and_transform(digits):
    sk = BernoulliRBM(n_components=16, n_iter=2, random_state=0).fit(digits)
    ours = RBM(16, device="cpu")
    ours.n_features_in_ = 64
    ours.components_, ours.intercept_hidden_, ours.intercept_visible_ = (a.astype(np.float32) for a in (sk.components_, sk.intercept_hidden_, sk.intercept_visible_))
    ours.h_samples_, ours.loss_curve_ = np.zeros((10, 16), np.float32), []
    np.testing.assert_allclose(ours.free_energy(digits[:20]), sk._free_energy(digits[:20]), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours.transform(digits[:20]), sk.transform(digits[:20]), atol=1e-5)


@pytest.mark.parametrize("persistent", [False, True])
def test_training_lowers_reconstruction_error_and_raises_pseudo_likelihood(digits, persistent):
    untrained = RBM(32, n_iter=1, learning_rate=1e-9, random_state=0, device="cpu").fit(digits)
    rbm = RBM(32, learning_rate=0.05, batch_size=20, n_iter=10, momentum=0.5, persistent=persistent, random_state=0, device="cpu").fit(digits)
    assert rbm.loss_curve_[-1] < rbm.loss_curve_[0]
    assert rbm.loss_curve_[-1] < 0.6 * untrained.loss_curve_[0]
    assert rbm.pseudo_likelihood(digits[:300]).mean() > untrained.pseudo_likelihood(digits[:300]).mean() + 10
    assert rbm.transform(digits[:5]).shape == (5, 32)


def test_cd_k_and_weight_decay(digits):
    plain = RBM(16, n_iter=3, k=3, random_state=0, device="cpu").fit(digits)
    decayed = RBM(16, n_iter=3, k=3, weight_decay=0.05, random_state=0, device="cpu").fit(digits)
    assert np.abs(decayed.components_).mean() < np.abs(plain.components_).mean()


def test_same_seed_same_model(digits):
    a = RBM(8, n_iter=2, random_state=4, device="cpu").fit(digits)
    b = RBM(8, n_iter=2, random_state=4, device="cpu").fit(digits)
    np.testing.assert_array_equal(a.components_, b.components_)


def test_gibbs_and_sampling(digits):
    rbm = RBM(16, n_iter=2, random_state=0, device="cpu").fit(digits)
    v = rbm.gibbs(digits[:10])
    assert set(np.unique(v)) <= {0.0, 1.0} and v.shape == (10, 64)
    s = rbm.sample(6, n_steps=20)
    assert s.shape == (6, 64) and (s >= 0).all() and (s <= 1).all()
    s2 = rbm.sample(n_steps=5, init=digits[:3])
    assert s2.shape == (3, 64)
    assert rbm.score_samples(digits[:10]).shape == (10,)


def test_partial_fit(digits):
    rbm = RBM(8, random_state=0, device="cpu")
    for start in range(0, 200, 20):
        rbm.partial_fit(digits[start : start + 20])
    assert len(rbm.loss_curve_) == 10 and rbm.components_.shape == (8, 64)


def test_bad_input(digits):
    with pytest.raises(NotFittedError):
        RBM(4).transform(digits)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*binarise"):
        RBM(4, device="cpu").fit(digits * 16)
    rbm = RBM(4, n_iter=1, device="cpu").fit(digits)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        rbm.transform(digits - 0.5)
    with pytest.raises(ValueError, match="X has 63 features, but RBM is expecting 64 features"):
        rbm.transform(digits[:, 1:])
    bad = digits.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        RBM(4, device="cpu").fit(bad)
    with pytest.raises(ValueError, match="momentum must be"):
        RBM(4, momentum=1.0).fit(digits)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        RBM(4, k=0).fit(digits)


def test_save_load_round_trip(tmp_path, digits):
    rbm = RBM(8, n_iter=2, persistent=True, random_state=0, device="cpu").fit(digits)
    rbm.save(tmp_path / "rbm.safetensors")
    back = RBM.load(tmp_path / "rbm.safetensors")
    np.testing.assert_array_equal(back.transform(digits[:7]), rbm.transform(digits[:7]))
    np.testing.assert_array_equal(back.h_samples_, rbm.h_samples_)
    assert back.loss_curve_ == pytest.approx(rbm.loss_curve_)
    back.partial_fit(digits[:10])  # training continues from the loaded state
    assert len(back.loss_curve_) == len(rbm.loss_curve_) + 1


def _rbm_with(components, hidden, visible):
    """An RBM holding the given weights (as if fitted)."""
    rbm = RBM(components.shape[0], device="cpu")
    rbm.n_features_in_ = components.shape[1]
    rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_ = (
        np.asarray(a, dtype=np.float32) for a in (components, hidden, visible))
    rbm.h_samples_, rbm.loss_curve_ = np.zeros((1, components.shape[0]), np.float32), []
    return rbm


def test_score_samples_is_sklearns_free_energy_closed_form(digits):
    sk = BernoulliRBM(n_components=16, n_iter=2, random_state=0).fit(digits)
    ours = _rbm_with(sk.components_, sk.intercept_hidden_, sk.intercept_visible_)
    X = (digits[:40] > 0.5).astype(np.float64)
    # Each score flips one random bit: n_features * log sigmoid(F(v with bit i flipped) - F(v)).
    # Every candidate i, from scikit-learn's free energy with the same weights:
    n = X.shape[1]
    candidates = np.empty((len(X), n))
    for i in range(n):
        flipped = X.copy()
        flipped[:, i] = 1 - flipped[:, i]
        candidates[:, i] = -n * np.logaddexp(0, -(sk._free_energy(flipped) - sk._free_energy(X)))
    ours_scores, sk_scores = ours.score_samples(X), sk.score_samples(X)
    for row in range(len(X)):
        assert np.isclose(candidates[row], sk_scores[row], rtol=1e-9).any()  # the candidates are scikit-learn's
        assert np.isclose(candidates[row], ours_scores[row], rtol=1e-4, atol=1e-3).any(), row
    # With one feature the flipped bit is always that one: both scores are deterministic
    # and must agree exactly (up to float32).
    sk1 = BernoulliRBM(n_components=3, random_state=0)
    sk1.components_ = np.array([[0.5], [-1.0], [2.0]])
    sk1.intercept_hidden_, sk1.intercept_visible_ = np.array([0.1, -0.2, 0.3]), np.array([-0.4])
    sk1.n_features_in_ = 1
    one = _rbm_with(sk1.components_, sk1.intercept_hidden_, sk1.intercept_visible_)
    V = np.array([[0.0], [1.0], [1.0], [0.0]])
    np.testing.assert_allclose(one.score_samples(V), sk1.score_samples(V), rtol=1e-5)


def test_k_is_the_number_of_gibbs_steps_and_changes_the_update(digits, monkeypatch):
    batch = (digits[:20] > 0.5).astype(np.float32)
    steps = []
    visible_probs = RBM._visible_probs

    def counting(self, h):
        steps.append(1)
        return visible_probs(self, h)

    monkeypatch.setattr(RBM, "_visible_probs", counting)
    for k in (1, 2, 5):
        for persistent in (False, True):
            steps.clear()
            RBM(8, k=k, persistent=persistent, batch_size=20, random_state=0, device="cpu").partial_fit(batch)
            # k negative-phase steps (PCD also reconstructs the data once, for the reported error)
            assert len(steps) == k + persistent, (k, persistent)
    monkeypatch.undo()
    one = RBM(8, k=1, random_state=0, device="cpu").partial_fit(batch).components_
    three = RBM(8, k=3, random_state=0, device="cpu").partial_fit(batch).components_
    three_again = RBM(8, k=3, random_state=0, device="cpu").partial_fit(batch).components_
    np.testing.assert_array_equal(three, three_again)
    assert not np.array_equal(one, three)


def test_sample_returns_the_visible_probabilities_of_the_last_gibbs_step():
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.01, (3, 4))
    c = np.array([50.0, -50.0, 50.0])  # whatever v is, h = (1, 0, 1)
    b = np.array([-1.0, 0.0, 1.0, 2.0])
    rbm = _rbm_with(W, c, b)
    expected = 1 / (1 + np.exp(-(b + np.array([1.0, 0.0, 1.0]) @ W)))
    np.testing.assert_allclose(rbm.sample(5, n_steps=7), np.tile(expected, (5, 1)), rtol=1e-6)
    np.testing.assert_allclose(rbm.sample(n_steps=1, init=np.zeros((2, 4))), np.tile(expected, (2, 1)), rtol=1e-6)


# -- Gaussian visible units (issue 17) -------------------------------------------------------------
def tiny_gaussian_rbm(n_visible=4, n_hidden=3, seed=0) -> RBM:
    rbm = tiny_rbm(n_visible, n_hidden, seed)
    rbm.set_params(visible="gaussian")
    return rbm


def gaussian_energy(v, h, rbm):
    W, b, c = (np.asarray(a, np.float64) for a in (rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_))
    return 0.5 * np.sum((v - b) ** 2) - c @ h - h @ W @ v


def test_gaussian_free_energy_equals_brute_force_sum_over_hidden_states():
    rbm = tiny_gaussian_rbm()
    V = np.random.default_rng(5).normal(scale=2.0, size=(20, 4)).astype(np.float32)
    H = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
    brute = np.array([-np.log(sum(np.exp(-gaussian_energy(v, h, rbm)) for h in H)) for v in V.astype(np.float64)])
    np.testing.assert_allclose(rbm.free_energy(V), brute, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(rbm.score_samples(V), -brute, rtol=1e-5, atol=1e-4)  # log-density up to log Z


def test_log_partition_against_brute_force_for_both_kinds():
    rbm = tiny_rbm(5, 3, seed=2)
    V = np.array(list(itertools.product([0, 1], repeat=5)), dtype=np.float64)
    H = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
    brute = np.log(sum(np.exp(-energy(v, h, rbm)) for v in V for h in H))
    assert rbm.log_partition() == pytest.approx(brute, rel=1e-9)
    # Gaussian: integrate exp(-F(v)) over a fine grid of the plane (2 visible units)
    g = tiny_gaussian_rbm(2, 3, seed=3)
    step = 0.02
    axis = np.arange(-14, 14, step)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2).astype(np.float32)
    log_integral = np.log(np.exp(-g.free_energy(grid).astype(np.float64)).sum() * step**2)
    assert g.log_partition() == pytest.approx(log_integral, abs=1e-3)
    with pytest.raises(ValueError, match="at most 20"):
        RBM(21, n_iter=1, batch_size=10, device="cpu").fit(np.zeros((10, 3))).log_partition()


def test_gaussian_conditionals_and_sampling():
    rbm = tiny_gaussian_rbm(4, 3, seed=4)
    rbm.intercept_hidden_ = np.array([60.0, -60.0, 60.0], np.float32)  # h = (1, 0, 1) whatever v is
    mean = rbm.intercept_visible_ + rbm.components_[0] + rbm.components_[2]
    v = rbm.gibbs(np.zeros((20000, 4), np.float32))
    np.testing.assert_allclose(v.mean(0), mean, atol=0.04)
    np.testing.assert_allclose(v.var(0), np.ones(4), atol=0.05)  # unit variance
    np.testing.assert_allclose(rbm.sample(3, n_steps=5), np.tile(mean, (3, 1)), rtol=1e-5, atol=1e-5)  # the mean at the end


@pytest.fixture(scope="module")
def wine():
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr).astype(np.float32), ytr, scaler.transform(Xte).astype(np.float32), yte


@pytest.mark.slow
def test_gaussian_rbm_features_match_logistic_regression_on_standardised_inputs(wine):
    from sklearn.linear_model import LogisticRegression

    Xtr, ytr, Xte, yte = wine
    raw = LogisticRegression().fit(Xtr, ytr).score(Xte, yte)
    rbm = RBM(visible="gaussian", random_state=0, device="cpu").fit(Xtr)
    ours = LogisticRegression().fit(rbm.transform(Xtr), ytr).score(rbm.transform(Xte), yte)
    assert ours >= raw, (ours, raw)


def test_gaussian_warnings_errors_and_round_trip(tmp_path, wine):
    Xtr = wine[0]
    with pytest.warns(UserWarning, match=r"unit variance.*StandardScaler"):
        RBM(8, visible="gaussian", n_iter=1, device="cpu").fit(Xtr * 10 + 3)
    with pytest.raises(ValueError, match=r"visible must be 'bernoulli' .* or 'gaussian' .*; got 'normal'"):
        RBM(8, visible="normal").fit(Xtr)
    rbm = RBM(8, visible="gaussian", n_iter=20, random_state=0, device="cpu").fit(Xtr)  # values outside [0, 1] are fine
    with pytest.raises(ValueError, match="pseudo_likelihood flips binary visible units"):
        rbm.pseudo_likelihood(Xtr)
    rbm.save(tmp_path / "g.safetensors")
    back = RBM.load(tmp_path / "g.safetensors")
    assert back.visible == "gaussian"
    np.testing.assert_array_equal(back.transform(Xtr[:5]), rbm.transform(Xtr[:5]))
    np.testing.assert_array_equal(back.free_energy(Xtr[:5]), rbm.free_energy(Xtr[:5]))


# -- defaults that scale with the data, small data (issue 22) ------------------------------------
def test_auto_schedule_scales_with_the_number_of_samples():
    rbm = RBM()
    assert rbm._resolve_schedule(50_000) == (100, 10, 0.3)  # MNIST: 500 updates an epoch, 10 epochs
    batch, epochs, _ = rbm._resolve_schedule(1257)  # digits: 13 batches an epoch, at least 4,000 updates
    assert batch == 100 and epochs * 13 >= RBM.MIN_UPDATES and (epochs - 1) * 13 < RBM.MIN_UPDATES
    assert rbm._resolve_schedule(30)[0] == 30  # fewer samples than a batch: one batch
    assert RBM(visible="gaussian")._resolve_schedule(100)[2] == pytest.approx(0.003)
    assert RBM(batch_size=7, n_iter=3, learning_rate=0.01)._resolve_schedule(100) == (7, 3, 0.01)


def test_fewer_samples_than_the_batch_size_train_as_one_batch(digits):
    rbm = RBM(16, batch_size=200, n_iter=3, persistent=True, random_state=0, device="cpu").fit(digits[:30])
    assert rbm.batch_size_ == 200 and len(rbm.loss_curve_) == 3 and rbm.h_samples_.shape == (30, 16)
    auto = RBM(16, n_iter=2, random_state=0, device="cpu").fit(digits[:30])
    assert auto.batch_size_ == 30


def test_persistent_partial_fit_on_a_batch_larger_than_batch_size(digits):
    rbm = RBM(16, batch_size=10, persistent=True, random_state=0, device="cpu").fit(digits[:50])
    rbm.partial_fit(digits[:64])  # failed before: 64 chains needed, 10 kept
    assert rbm.h_samples_.shape == (64, 16) and np.isfinite(rbm.components_).all()
    rbm.partial_fit(digits[:5])  # smaller batches use the first chains
    fresh = RBM(16, persistent=True, random_state=0, device="cpu").partial_fit(digits[:40])
    assert fresh.h_samples_.shape == (40, 16)


@pytest.mark.slow
def test_default_rbm_features_match_logistic_regression_on_digits():
    """Issue 22: RBM() + LogisticRegression() >= LogisticRegression() on digits in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split((X / 16).astype(np.float32), y, test_size=0.3, stratify=y, random_state=0)
    raw = LogisticRegression().fit(Xtr, ytr).score(Xte, yte)
    rbm = RBM(random_state=0, device="cpu").fit(Xtr)
    ours = LogisticRegression().fit(rbm.transform(Xtr), ytr).score(rbm.transform(Xte), yte)
    assert ours >= raw, (ours, raw)
