"""The ``optimizer=`` choice of Autoencoder, DBN and StackedAutoencoder: each optimiser
takes the steps torch.optim takes, its settings pass through, it applies to fine-tuning
only, it survives get_params/clone/save/load, and bad settings fail before training.

The step checks run the estimator and a hand-written torch.optim loop from the same
start (the initial weights drawn from the same seed, in the estimator's order), on the
same data in the same minibatch order (the shared loop shuffles each epoch with
``torch.randperm`` on the estimator's generator), and compare the weights after every
step of a few epochs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from groundup.persistence import read_metadata
from groundup.unsupervised import DBN, Autoencoder, StackedAutoencoder
from groundup.unsupervised._nets import glorot_weight

LR, N, D, BATCH, EPOCHS, SEED = 0.05, 40, 8, 16, 2, 3
FIXTURES = Path(__file__).parents[1] / "fixtures" / "saved_before_protocol"

#: (estimator settings, the torch.optim optimiser they must build, as a function of the
#: parameters and the step size); every optimiser with settings other than torch's defaults.
CASES = {
    "sgd": (dict(optimizer="sgd", momentum=0.5, nesterov=True, weight_decay=1e-3),
            lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.5, nesterov=True, weight_decay=1e-3)),
    "adagrad": (dict(optimizer="adagrad", optimizer_kwargs={"lr_decay": 0.01, "eps": 1e-6}),
                lambda p, lr: torch.optim.Adagrad(p, lr=lr, lr_decay=0.01, eps=1e-6)),
    "rmsprop": (dict(optimizer="rmsprop", optimizer_kwargs={"alpha": 0.9, "momentum": 0.2, "centered": True}),
                lambda p, lr: torch.optim.RMSprop(p, lr=lr, alpha=0.9, momentum=0.2, centered=True)),
    "adam": (dict(optimizer="adam", weight_decay=1e-3, optimizer_kwargs={"betas": (0.8, 0.95), "amsgrad": True}),
             lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.8, 0.95), weight_decay=1e-3, amsgrad=True)),
}
#: The optimiser each estimator's defaults build (Adam, as scikit-learn's MLPs).
DEFAULTS = {
    Autoencoder: lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=0.0),
    DBN: lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=0.0),
    StackedAutoencoder: lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=0.0),
}


@pytest.fixture(scope="module")
def Xy():
    rng = np.random.default_rng(0)
    return rng.random((N, D), dtype=np.float32), np.arange(N) % 3


def _hand_loop(params, loss_fn, X, y, make_opt, generator, *, lr_at_epoch=lambda e: LR):
    """Minibatch training written out with torch.optim: shuffle, step, set the epoch's rate."""
    opt = make_opt(params, LR)
    for epoch in range(EPOCHS):
        for group in opt.param_groups:
            group["lr"] = lr_at_epoch(epoch)
        order = torch.randperm(N, generator=generator)
        for s in range(0, N, BATCH):
            idx = order[s : s + BATCH]
            opt.zero_grad()
            loss_fn(X[idx], y[idx]).backward()
            opt.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize("case", ["default", *CASES])
def test_autoencoder_takes_torch_optims_steps(Xy, case):
    settings, make_opt = ({}, DEFAULTS[Autoencoder]) if case == "default" else CASES[case]
    X = torch.from_numpy(Xy[0])
    ae = Autoencoder(3, hidden_layer_sizes=(), init="random", output_activation="sigmoid", early_stopping=False,
                     n_iter_no_change=EPOCHS, learning_rate=LR, batch_size=BATCH, max_iter=EPOCHS, random_state=SEED,
                     device="cpu", **settings).fit(Xy[0])
    # The same start: encoder then decoder weights, drawn from the seed; zero biases.
    gen = torch.Generator().manual_seed(SEED)
    W1, W2 = (torch.nn.Parameter(glorot_weight(o, i, gen, torch.device("cpu"))) for i, o in ((D, 3), (3, D)))
    b1, b2 = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(D))

    def squared_error(x, _):  # identity code, sigmoid output
        return ((torch.sigmoid((x @ W1.T + b1) @ W2.T + b2) - x) ** 2).sum(1).mean()

    expected = _hand_loop([W1, b1, W2, b2], squared_error, X, X, make_opt, gen)
    got = [ae.module_.enc_w[0], ae.module_.enc_b[0], ae.module_.dec_w[0], ae.module_.dec_b[0]]
    assert not torch.equal(got[0], glorot_weight(3, D, torch.Generator().manual_seed(SEED), torch.device("cpu")))  # it moved
    for g, e in zip(got, expected):
        torch.testing.assert_close(g.detach(), e)


@pytest.mark.parametrize("cls", [DBN, StackedAutoencoder])
@pytest.mark.parametrize("case", ["default", *CASES])
def test_fine_tuning_takes_torch_optims_steps(Xy, cls, case):
    settings, make_opt = ({}, DEFAULTS[cls]) if case == "default" else CASES[case]
    X, y = torch.from_numpy(Xy[0]), torch.from_numpy(Xy[1])
    model = cls((5,), pretrain=False, learning_rate=LR, batch_size=BATCH, max_iter=EPOCHS, n_iter_no_change=EPOCHS,
                final_lr_fraction=0.5, dropout=0.0, random_state=SEED, device="cpu", **settings).fit(Xy[0], Xy[1])
    gen = torch.Generator().manual_seed(SEED)
    W1, W2 = (torch.nn.Parameter(glorot_weight(o, i, gen, torch.device("cpu"))) for i, o in ((D, 5), (5, 3)))
    b1, b2 = torch.nn.Parameter(torch.zeros(5)), torch.nn.Parameter(torch.zeros(3))

    def cross_entropy(x, t):
        return F.cross_entropy(torch.sigmoid(x @ W1.T + b1) @ W2.T + b2, t)

    # The step size falls linearly, per epoch, from LR towards LR * final_lr_fraction.
    expected = _hand_loop([W1, b1, W2, b2], cross_entropy, X, y, make_opt, gen,
                          lr_at_epoch=lambda e: LR * (1.0 - (1.0 - 0.5) * e / EPOCHS))
    got = [model.module_.weights[0], model.module_.biases[0], model.module_.weights[1], model.module_.biases[1]]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g.detach(), e)


@pytest.mark.parametrize("cls", [DBN, StackedAutoencoder])
def test_the_choice_is_fine_tunings_only(Xy, cls):
    """Pretraining (CD for the RBMs, Adam for the layer autoencoders) is the same whatever
    optimiser fine-tunes: fit(X) alone pretrains only, so its features do not change."""
    kw = dict(hidden_layer_sizes=(6,), pretrain_n_iter=2, batch_size=BATCH, random_state=SEED, device="cpu")
    plain = cls(**kw).fit(Xy[0]).transform(Xy[0])
    np.testing.assert_array_equal(cls(**kw, optimizer="rmsprop", learning_rate=1e-3).fit(Xy[0]).transform(Xy[0]), plain)
    tuned = cls(**kw, optimizer="adam", learning_rate=1e-3, max_iter=1).fit(*Xy)
    assert tuned.pretrained_ and tuned.n_iter_ == 1


@pytest.mark.parametrize("cls", [Autoencoder, DBN, StackedAutoencoder])
def test_params_and_clone(cls):
    est = cls(optimizer="adam", nesterov=True, optimizer_kwargs={"betas": (0.8, 0.9)})
    params = est.get_params()
    assert {k: params[k] for k in ("optimizer", "nesterov", "optimizer_kwargs")} == \
        {"optimizer": "adam", "nesterov": True, "optimizer_kwargs": {"betas": (0.8, 0.9)}}
    twin = clone(est)
    assert twin.get_params() == params and twin.optimizer_kwargs is not est.optimizer_kwargs
    assert cls().set_params(optimizer="adagrad").optimizer == "adagrad"


def test_grid_search_over_optimizers(Xy):
    base = DBN((5,), pretrain=False, max_iter=2, batch_size=BATCH, random_state=SEED, device="cpu")
    grid = [{"optimizer": ["sgd"], "learning_rate": [0.1], "nesterov": [False, True]},
            {"optimizer": ["adam", "rmsprop"], "learning_rate": [1e-2]}]
    search = GridSearchCV(base, grid, cv=2).fit(*Xy)
    assert len(search.cv_results_["params"]) == 4 and search.best_estimator_.optimizer in ("sgd", "adam", "rmsprop")


@pytest.mark.parametrize("cls, settings", [
    (Autoencoder, dict(optimizer="rmsprop", optimizer_kwargs={"alpha": 0.9, "centered": True})),
    (DBN, dict(optimizer="adam", learning_rate=1e-2, optimizer_kwargs={"betas": (0.8, 0.9)})),
    (StackedAutoencoder, dict(optimizer="sgd", momentum=0.5, nesterov=True)),
])
def test_save_and_load_keep_the_choice(tmp_path, Xy, cls, settings):
    kw = dict(max_iter=1, batch_size=BATCH, random_state=SEED, device="cpu")
    if cls is Autoencoder:
        model = cls(3, hidden_layer_sizes=(), **kw, **settings).fit(Xy[0])
    else:
        model = cls((5,), pretrain_n_iter=1, **kw, **settings).fit(*Xy)
    back = cls.load(model.save(tmp_path / "model.safetensors"))
    assert back.get_params() == model.get_params()  # Adam's betas come back a tuple, not JSON's list
    np.testing.assert_array_equal(back.transform(Xy[0]), model.transform(Xy[0]))


def test_files_saved_before_the_choice_load_with_the_optimiser_they_were_trained_with():
    for name, cls, optimizer in (("ae", Autoencoder, "adam"), ("dbn", DBN, "sgd"), ("sae", StackedAutoencoder, "sgd")):
        path = FIXTURES / f"{name}.safetensors"
        assert "optimizer" not in read_metadata(path)["params"]
        params = cls.load(path).get_params()
        assert (params["optimizer"], params["nesterov"], params["optimizer_kwargs"]) == (optimizer, False, None)


@pytest.mark.parametrize("cls", [Autoencoder, DBN, StackedAutoencoder])
@pytest.mark.parametrize("settings, error, message", [
    (dict(optimizer="lbfgs"), ValueError, r"optimizer must be one of 'sgd', 'adagrad', 'rmsprop', 'adam'; got 'lbfgs'"),
    (dict(optimizer="sgd", momentum=1.0), ValueError, r"momentum must be a number in \[0, 1\); got 1.0"),
    (dict(momentum=-0.1), ValueError, r"momentum must be a number in \[0, 1\); got -0.1"),
    (dict(optimizer="sgd", momentum=0.0, nesterov=True), ValueError, r"nesterov=True needs a momentum in \(0, 1\)"),
    (dict(nesterov="yes"), TypeError, r"nesterov must be True or False; got 'yes'"),
    (dict(optimizer="adam", optimizer_kwargs={"alpha": 0.9}), ValueError,
     r"optimizer_kwargs holds 'alpha', which torch.optim.Adam \(optimizer='adam'\) does not take; it takes 'betas'"),
    (dict(optimizer_kwargs={"weight_decay": 0.1}), ValueError, r"must not hold 'weight_decay': it is set by weight_decay"),
    (dict(optimizer="rmsprop", optimizer_kwargs={"eps": -1.0}), ValueError, r"is refused by torch.optim.RMSprop: Invalid epsilon"),
])
def test_bad_optimizer_settings_fail_in_fit_before_training(Xy, cls, settings, error, message):
    est = cls(**settings, max_iter=1, device="cpu")
    with pytest.raises(error, match=message):
        est.fit(*Xy) if cls is not Autoencoder else est.fit(Xy[0])
    assert not [k for k in vars(est) if k.endswith("_") and k != "n_features_in_"]  # nothing was learned
