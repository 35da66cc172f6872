"""Autoencoder, StackedAutoencoder and DBN on scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from groundup.datasets import load_digits_dataset
from groundup.unsupervised import DBN, PCA, Autoencoder, NotFittedError, StackedAutoencoder
from groundup.unsupervised._nets import DenseStack


@pytest.fixture(scope="module")
def data():
    return load_digits_dataset()


def test_linear_autoencoder_finds_the_pca_subspace(data):
    """Baldi & Hornik: a linear autoencoder with squared error reaches PCA's error (no better)."""
    X = data.X_train
    ae = Autoencoder(5, hidden_layer_sizes=(), activation="identity", output_activation="identity", init="random", early_stopping=False,
                     n_iter_no_change=60, learning_rate=0.02, max_iter=60, batch_size=128, random_state=0, device="cpu").fit(X)
    pca = PCA(5).fit(X)
    err_ae, err_pca = ae.reconstruction_error(X), pca.reconstruction_error(X)
    assert err_pca * 0.999 <= err_ae < err_pca * 1.05


def test_nonlinear_autoencoder_beats_pca_at_the_same_code_size(data):
    ae = Autoencoder(6, hidden_layer_sizes=(128,), loss="bce", output_activation="sigmoid", init="random", early_stopping=False,
                     n_iter_no_change=60, max_iter=60, batch_size=64, random_state=0, device="cpu").fit(data.X_train)
    pca = PCA(6).fit(data.X_train)
    assert ae.reconstruction_error(data.X_test) < pca.reconstruction_error(data.X_test)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    Z = ae.transform(data.X_test)
    assert Z.shape == (len(data.X_test), 6)
    np.testing.assert_allclose(ae.inverse_transform(Z), ae.reconstruct(data.X_test), atol=1e-6)


def test_tied_weights_halve_the_parameters_and_denoising_trains(data):
    untied = Autoencoder(8, hidden_layer_sizes=(32,), init="random", max_iter=1, device="cpu", random_state=0).fit(data.X_train)
    tied = Autoencoder(8, hidden_layer_sizes=(32,), init="random", tied_weights=True, max_iter=1, device="cpu", random_state=0).fit(data.X_train)
    n_w = lambda m: sum(p.numel() for n, p in m.module_.named_parameters() if "_w" in n)  # noqa: E731
    assert n_w(tied) * 2 == n_w(untied)
    for noise_type, noise in (("mask", 0.3), ("gaussian", 0.1)):
        ae = Autoencoder(8, hidden_layer_sizes=(32,), init="random", early_stopping=False, noise=noise, noise_type=noise_type, max_iter=20,
                         random_state=0, device="cpu").fit(data.X_train)
        assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_noise_corrupts_the_inputs_as_specified_and_changes_what_is_learned(data):
    ones = torch.ones(400, 500)
    gen = torch.Generator().manual_seed(0)
    masked = Autoencoder(noise=0.3, noise_type="mask")._corrupt(ones, gen)
    assert set(masked.unique().tolist()) == {0.0, 1.0} and abs(float((masked == 0).float().mean()) - 0.3) < 0.005
    shift = Autoencoder(noise=0.1, noise_type="gaussian")._corrupt(ones, gen) - ones
    assert abs(float(shift.std()) - 0.1) < 0.002 and abs(float(shift.mean())) < 0.002
    assert Autoencoder(noise=0.0)._corrupt(ones, gen) is ones
    # One fixed-seed epoch: the noise level changes the weights (and the same level does not).
    X = data.X_train[:256]

    def weights(noise, noise_type="mask"):
        ae = Autoencoder(8, hidden_layer_sizes=(), init="random", early_stopping=False, noise=noise, noise_type=noise_type, max_iter=1,
                         random_state=0, device="cpu")
        return ae.fit(X).module_.enc_w[0].detach().numpy()

    w = {noise: weights(noise) for noise in (0.0, 0.3, 0.6)}
    np.testing.assert_array_equal(w[0.3], weights(0.3))
    assert not np.array_equal(w[0.0], w[0.3]) and not np.array_equal(w[0.3], w[0.6])
    assert not np.array_equal(weights(0.3, "gaussian"), w[0.3])
    # The stacked autoencoder passes its noise to every layer's pretraining.
    sae = lambda noise: StackedAutoencoder((8,), noise=noise, pretrain_n_iter=1, random_state=0, device="cpu").fit(X)  # noqa: E731
    assert not np.array_equal(sae(0.0).module_.weights[0].detach().numpy(), sae(0.3).module_.weights[0].detach().numpy())


def test_any_activation_and_errors(data):
    X = data.X_train[:200]
    Xt = torch.as_tensor(X, dtype=torch.float32)
    codes = {}
    for act in ("tanh", "elu", "gelu", "sigmoid", "softplus"):
        ae = Autoencoder(4, hidden_layer_sizes=(8,), activation=act, init="random", max_iter=1, random_state=0, device="cpu").fit(X)
        (W0, W1), (b0, b1) = ae.module_.enc_w, ae.module_.enc_b
        with torch.no_grad():  # the hidden layer uses the named activation, the code layer none
            expected = getattr(torch.nn.functional, act)(Xt @ W0.T + b0) @ W1.T + b1
        np.testing.assert_allclose(ae.transform(X), expected.numpy(), rtol=1e-5, atol=1e-5)
        codes[act] = ae.transform(X)
    assert not np.allclose(codes["tanh"], codes["softplus"])
    with pytest.raises(ValueError, match="activation must be one of"):
        Autoencoder(4, activation="linearish").fit(X)
    with pytest.raises(ValueError, match="loss='bce' needs output_activation='sigmoid'"):
        Autoencoder(4, loss="bce", output_activation="identity").fit(X)
    with pytest.raises(ValueError, match="noise is a masking probability"):
        Autoencoder(4, noise=1.0).fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        Autoencoder(4, hidden_layer_sizes=(0,)).fit(X)
    with pytest.raises(NotFittedError):
        Autoencoder(4).transform(X)
    ae = Autoencoder(4, hidden_layer_sizes=(8,), max_iter=1, device="cpu").fit(X)
    with pytest.raises(ValueError, match="Z has 5 features"):
        ae.inverse_transform(np.zeros((2, 5)))
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ae.transform(bad)


def test_autoencoder_save_load(tmp_path, data):
    for settings in (dict(tied_weights=True, init="random"), dict()):  # the classic network, and the default with PCA's path
        ae = Autoencoder(4, hidden_layer_sizes=(16, 8), max_iter=2, random_state=0, device="cpu", **settings).fit(data.X_train)
        ae.save(tmp_path / "ae.safetensors")
        back = Autoencoder.load(tmp_path / "ae.safetensors")
        assert back.hidden_layer_sizes == (16, 8) and back.get_params() == ae.get_params()
        np.testing.assert_array_equal(back.transform(data.X_test), ae.transform(data.X_test))
        np.testing.assert_array_equal(back.reconstruct(data.X_test), ae.reconstruct(data.X_test))


@pytest.mark.parametrize("cls", [DBN, StackedAutoencoder])
def test_pretrained_classifiers_learn_digits(data, cls):
    kw = dict(hidden_layer_sizes=(64, 64), max_iter=25, n_iter_no_change=25, batch_size=32, optimizer="sgd", learning_rate=0.1,
              random_state=0, device="cpu")
    model = cls(**kw, pretrain_n_iter=10).fit(data.X_train, data.y_train)
    assert model.score(data.X_test, data.y_test) > 0.9
    proba = model.predict_proba(data.X_test)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert (model.classes_[proba.argmax(1)] == model.predict(data.X_test)).all()
    assert model.transform(data.X_test).shape == (len(data.X_test), 64)
    assert model.pretrained_ and len(model.loss_curve_) == 25


def test_pretraining_only_then_features(data):
    dbn = DBN((32, 16), pretrain_n_iter=2, random_state=0, device="cpu").fit(data.X_train)
    F = dbn.transform(data.X_test)
    assert F.shape == (len(data.X_test), 16)
    # The features are the sigmoid layers of the pretrained RBMs, exactly: each layer's
    # weights are its RBM's learned components_ and hidden biases.
    assert len(dbn.rbms_) == 2
    H = torch.as_tensor(data.X_test, dtype=torch.float32)
    for rbm, W, b in zip(dbn.rbms_, dbn.module_.weights, dbn.module_.biases):
        np.testing.assert_array_equal(W.detach().numpy(), rbm.components_)
        np.testing.assert_array_equal(b.detach().numpy(), rbm.intercept_hidden_)
        H = torch.sigmoid(H @ W.detach().T + b.detach())
    np.testing.assert_allclose(F, H.numpy(), rtol=1e-5, atol=1e-6)
    # Checking bad data does not touch what fit learned
    rbms = list(dbn.rbms_)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        dbn.fit(data.X_test * 16)
    assert dbn.rbms_ == rbms
    with pytest.raises(NotFittedError, match="without labels"):
        dbn.predict(data.X_test)
    with pytest.raises(ValueError, match="needs labels"):
        DBN((8,), pretrain=False).fit(data.X_train)


def test_pretrain_false_is_the_same_network_from_random_weights(data):
    a = DBN((16,), pretrain=False, max_iter=2, random_state=0, device="cpu").fit(data.X_train, data.y_train)
    b = StackedAutoencoder((16,), pretrain=False, max_iter=2, random_state=0, device="cpu").fit(data.X_train, data.y_train)
    for wa, wb in zip(a.module_.weights, b.module_.weights):
        torch.testing.assert_close(wa, wb)
    assert not a.pretrained_


def test_deep_bad_input_and_round_trip(tmp_path, data):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DBN((8,)).fit(data.X_train * 2, data.y_train)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        StackedAutoencoder((8,)).fit(data.X_train - 1, data.y_train)
    with pytest.raises(ValueError, match="one label per row"):
        DBN((8,), device="cpu").fit(data.X_train, data.y_train[:-1])
    with pytest.raises(NotFittedError):
        DBN().predict(data.X_test)
    model = DBN((16, 8), pretrain_n_iter=1, max_iter=2, random_state=0, device="cpu").fit(data.X_train, np.array(list("abcdefghij"))[data.y_train])
    with pytest.raises(ValueError, match="X has 10 features"):
        model.predict(data.X_test[:, :10])
    model.save(tmp_path / "dbn.safetensors")
    back = DBN.load(tmp_path / "dbn.safetensors")
    np.testing.assert_array_equal(back.predict(data.X_test), model.predict(data.X_test))
    assert back.predict(data.X_test[:3]).dtype.kind == "U"


def test_dropout_in_fine_tuning_only(data):
    kw = dict(hidden_layer_sizes=(32,), pretrain=False, max_iter=3, random_state=0, device="cpu")
    plain = DBN(**kw, dropout=0.0).fit(data.X_train, data.y_train)
    dropped = DBN(**kw, dropout=0.5).fit(data.X_train, data.y_train)
    again = DBN(**kw, dropout=0.5).fit(data.X_train, data.y_train)
    assert dropped.loss_curve_ != plain.loss_curve_ and dropped.loss_curve_ == again.loss_curve_  # masks come from random_state
    np.testing.assert_array_equal(dropped.predict_proba(data.X_test), again.predict_proba(data.X_test))  # none at prediction
    # Inverted dropout: a quarter of the inputs zeroed, the rest scaled by 4/3, the mean kept.
    identity = DenseStack([torch.eye(64)], [torch.zeros(64)], ["identity"])
    out = identity(torch.ones(20000, 64), drop=[0.25], generator=torch.Generator().manual_seed(0)).detach()
    assert abs(float((out == 0).float().mean()) - 0.25) < 0.005  # binomial sd 0.0007
    torch.testing.assert_close(out[out != 0], torch.full_like(out[out != 0], 4 / 3))
    assert abs(float(out.mean()) - 1.0) < 0.01
    with pytest.raises(ValueError, match="dropout must be a fraction"):
        DBN(dropout=1.0).fit(data.X_train, data.y_train)
    with pytest.raises(ValueError, match="dropout must be a fraction"):
        StackedAutoencoder(dropout=-0.1).fit(data.X_train, data.y_train)
