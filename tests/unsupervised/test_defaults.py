"""Defaults sized from the data (issue 22): batch sizes, stopping rules, the autoencoder's
start at PCA, and the bad inputs a small data set brings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA
from sklearn.model_selection import train_test_split

from groundup.early_stopping import ValidationMonitor
from groundup.torch_utils import resolve_batch_size
from groundup.unsupervised import DBN, RBM, Autoencoder, StackedAutoencoder
from groundup.unsupervised._nets import validation_split
from groundup.unsupervised._pretrained_classifier import PRETRAIN_MIN_EPOCHS, PRETRAIN_UPDATES


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split((X / 16.0).astype(np.float32), y, test_size=0.3, stratify=y, random_state=0)


def test_batch_size_auto_is_scikit_learns_rule_and_a_large_size_gives_one_batch():
    assert resolve_batch_size("auto", 1257) == 200 and resolve_batch_size("auto", 37) == 37
    assert resolve_batch_size(128, 50) == 50 and resolve_batch_size(16, 50) == 16
    for bad in ("big", 0, -3, 2.5, True):
        with pytest.raises(ValueError, match=r"batch_size must be 'auto' or a positive integer; got"):
            resolve_batch_size(bad, 10)


def test_pretraining_epochs_follow_the_number_of_updates():
    dbn = DBN()
    # 1,257 rows in batches of 200: 7 batches an epoch, so ceil(1000 / 7) epochs.
    assert dbn._pretrain_epochs(1257) == -(-PRETRAIN_UPDATES // 7) == 143
    assert dbn._pretrain_epochs(60_000) == PRETRAIN_MIN_EPOCHS  # 300 batches an epoch: the minimum rules
    assert DBN(pretrain_n_iter=3)._pretrain_epochs(1257) == 3
    with pytest.raises(ValueError, match="pretrain_n_iter"):
        DBN(pretrain_n_iter="many").fit(np.random.rand(20, 4), np.arange(20) % 2)


def test_validation_split_is_stratified_and_exact():
    y = torch.tensor([0] * 70 + [1] * 20 + [2] * 10)
    train, valid = validation_split(100, 0.1, torch.Generator().manual_seed(0), y=y)
    assert len(valid) == 10 and len(train) == 90 and not set(train.tolist()) & set(valid.tolist())
    assert torch.bincount(y[valid], minlength=3).tolist() == [7, 2, 1]
    again, _ = validation_split(100, 0.1, torch.Generator().manual_seed(0), y=y)
    assert torch.equal(again, train)  # the generator decides


def test_patience_resets_only_on_an_improvement_above_tol():
    m = ValidationMonitor("score", 0.0, "nothing", n_iter_no_change=2, min_epochs=1, early_stopping=True, tol=0.01)
    assert m.update(0.5) and not m.stopped_early
    assert m.update(0.505)  # the best so far (its weights are kept) ...
    assert m.stale == 1  # ... but within tol, so patience keeps counting
    assert not m.update(0.50) and m.stopped_early and m.best_epoch == 2


def test_autoencoder_starts_at_pca_and_beats_it_on_new_data(digits):
    X, Xt, _, _ = digits
    for k in (2, 10):
        pca = SkPCA(k).fit(X)
        pca_error = float(((pca.inverse_transform(pca.transform(Xt)) - Xt) ** 2).mean())
        ae = Autoencoder(k, random_state=0, device="cpu").fit(X)
        assert ae.reconstruction_error(Xt) < 0.9 * pca_error, k  # defaults, digits: the layers learn what PCA misses
        assert ae.training_log_.stop_reason.startswith(("early_stopping", "max_iter"))
    # Before any step the network is PCA of its training part: a step size of 1e-12 moves nothing.
    still = Autoencoder(5, learning_rate=1e-12, max_iter=1, early_stopping=False, random_state=0, device="cpu").fit(X)
    pca = SkPCA(5).fit(X)
    np.testing.assert_allclose(still.reconstruct(Xt), pca.inverse_transform(pca.transform(Xt)), atol=2e-4)


def test_autoencoder_early_stopping_keeps_pca_when_training_only_hurts(digits):
    X, Xt, _, _ = digits
    # A step so large that training wrecks the network: the kept weights are the start, PCA's.
    ae = Autoencoder(10, learning_rate=0.5, max_iter=8, random_state=0, device="cpu").fit(X[:300])
    assert "kept epoch 0" in ae.training_log_.stop_reason
    pca = SkPCA(10).fit(X[:300])  # the start is the PCA of every row given
    assert ae.reconstruction_error(Xt) == pytest.approx(float(((pca.inverse_transform(pca.transform(Xt)) - Xt) ** 2).mean()), rel=1e-3)


def test_autoencoder_code_larger_than_the_input(digits):
    X = digits[0][:200]
    with pytest.raises(ValueError, match=r"n_components=80 is more than min\(n_samples, n_features\) = 64.*init='random'"):
        Autoencoder(80).fit(X)
    with pytest.raises(ValueError, match="init='pca' starts from PCA's linear reconstruction, so it needs"):
        Autoencoder(8, output_activation="sigmoid").fit(X)
    over = Autoencoder(80, init="random", noise=0.3, max_iter=3, random_state=0, device="cpu").fit(X)  # the documented over-complete mode
    assert over.transform(X).shape == (200, 80)
    with pytest.raises(ValueError, match="n_samples=1"):
        Autoencoder(2).fit(X[:1])


@pytest.mark.parametrize("make", [
    lambda: DBN((16,), random_state=0, device="cpu"),
    lambda: StackedAutoencoder((16,), random_state=0, device="cpu"),
])
def test_pretrained_classifiers_on_few_samples_string_labels_and_one_class(digits, make):
    X, Xt, y, yt = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    model = make().set_params(batch_size=128, max_iter=30).fit(X[:40], labels[y[:40]])  # fewer rows than the batch
    assert model.predict(Xt[:5]).dtype.kind == "U" and set(model.classes_) <= set(labels)
    with pytest.raises(ValueError, match="y must contain at least 2 classes; got 1"):
        make().fit(X[:40], np.zeros(40, dtype=int))


def test_early_stopping_sets_a_stratified_share_aside_and_keeps_the_best_epoch(digits):
    X, Xt, y, yt = digits
    dbn = DBN((32,), early_stopping=True, n_iter_no_change=3, max_iter=40, random_state=0, device="cpu").fit(X, y)
    assert dbn.best_validation_score_ > 0.85
    assert dbn.training_log_.stop_reason.startswith(("early_stopping", "max_iter"))
    scores = dbn.training_log_.column("val_accuracy")
    assert max(scores) == dbn.best_validation_score_ and len(scores) == dbn.n_iter_
    plain = DBN((32,), max_iter=40, random_state=0, device="cpu").fit(X, y)
    assert plain.best_validation_score_ is None and "neg_train_loss" in plain.training_log_.rows[-1]


def test_rbm_trains_on_fewer_rows_than_its_batch(digits):
    X = digits[0][:30]
    rbm = RBM(16, batch_size=100, n_iter=2, random_state=0, device="cpu").fit(X)
    assert rbm.transform(X).shape == (30, 16)


def test_a_dbn_with_a_gaussian_first_layer_trains_end_to_end_on_standardised_data():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X, Xt, y, yt = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X)
    X, Xt = scaler.transform(X), scaler.transform(Xt)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DBN((32,)).fit(X, y)
    dbn = DBN((64, 32), visible="gaussian", random_state=0, device="cpu").fit(X, y)
    assert dbn.rbms_[0].visible == "gaussian" and dbn.rbms_[1].visible == "bernoulli"
    assert dbn.rbms_[0].learning_rate == pytest.approx(0.1 * 0.01)
    assert dbn.score(Xt, yt) > 0.93  # logistic regression scores about 0.96 here; chance is 0.63
    with pytest.raises(ValueError, match="visible must be 'bernoulli' or 'gaussian'; got 'poisson'"):
        DBN(visible="poisson").fit(X, y)
