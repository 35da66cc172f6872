import numpy as np
import pytest
import torch

from groundup.torch_utils import (OPTIMIZERS, as_tensor, check_optimizer, check_seed, iterate_minibatches, make_optimizer,
                                  resolve_device, rng_state, set_num_threads, set_rng_state, set_seed, train_minibatches)
from groundup.validation import InvalidArgumentTypeError


def test_resolve_device_auto_is_cpu_here_and_env_overrides(monkeypatch):
    monkeypatch.delenv("GROUNDUP_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type in (expected, "mps")
    monkeypatch.setenv("GROUNDUP_DEVICE", "cpu")
    assert resolve_device().type == "cpu"
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_resolve_device_errors():
    with pytest.raises(ValueError, match="not a device"):
        resolve_device("gpu0")
    with pytest.raises(TypeError, match="device must be"):
        resolve_device(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_set_seed_repeats_every_generator():
    set_seed(7)
    a = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    set_seed(7)
    b = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    assert a == b
    with pytest.raises(ValueError):
        check_seed(-1)
    with pytest.raises(TypeError):
        check_seed(1.5)


def test_rng_state_round_trip():
    set_seed(1)
    state = rng_state()
    x = torch.rand(3)
    set_rng_state(state)
    assert torch.equal(torch.rand(3), x)


def test_minibatches_cover_every_row_once():
    x = torch.arange(10)
    y = torch.arange(10) * 2
    seen = []
    for bx, by in iterate_minibatches(x, y, batch_size=3, generator=torch.Generator().manual_seed(0)):
        assert torch.equal(by, bx * 2)
        seen += bx.tolist()
    assert sorted(seen) == list(range(10))
    with pytest.raises(ValueError, match="same first dimension"):
        list(iterate_minibatches(x, torch.arange(3), batch_size=2))


def test_train_minibatches_fits_a_line_and_stops_on_nan():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 3 * x + 1
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)

    def step(bx, by):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(bx), by)
        loss.backward()
        opt.step()
        return loss

    history = train_minibatches(step, [x, y], epochs=60, batch_size=16)
    assert history[-1] < 1e-4 < history[0]
    assert abs(model.weight.item() - 3) < 0.01
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1"):
        train_minibatches(lambda bx, by: torch.tensor(float("nan")), [x, y], epochs=1, batch_size=16)


def test_as_tensor_and_threads():
    t = as_tensor(np.arange(3), dtype=torch.float32)
    assert t.dtype == torch.float32
    n = torch.get_num_threads()
    assert set_num_threads(1) == 1 and torch.get_num_threads() == 1
    torch.set_num_threads(n)
    with pytest.raises(ValueError):
        set_num_threads(0)


def _quadratic_steps(opt_factory, steps=5):
    """Weights after ``steps`` steps on 0.5 * ||A w - b||^2 from a fixed start."""
    gen = torch.Generator().manual_seed(0)
    A, b = torch.randn(6, 3, generator=gen), torch.randn(6, generator=gen)
    w = torch.nn.Parameter(torch.randn(3, generator=gen))
    opt = opt_factory([w])
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((A @ w - b) ** 2).sum()).backward()
        opt.step()
    return w.detach()


@pytest.mark.parametrize("name, kwargs, reference", [
    ("sgd", dict(momentum=0.5, nesterov=True, weight_decay=0.01, optimizer_kwargs={"dampening": 0.0}),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.01)),
    ("adagrad", dict(momentum=0.9, optimizer_kwargs={"lr_decay": 0.1, "initial_accumulator_value": 0.5}),
     lambda p: torch.optim.Adagrad(p, lr=0.05, lr_decay=0.1, initial_accumulator_value=0.5)),
    ("rmsprop", dict(optimizer_kwargs={"alpha": 0.9, "momentum": 0.3, "centered": True}),
     lambda p: torch.optim.RMSprop(p, lr=0.05, alpha=0.9, momentum=0.3, centered=True)),
    ("adam", dict(weight_decay=0.1, optimizer_kwargs={"betas": (0.8, 0.9), "amsgrad": True}),
     lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
])
def test_make_optimizer_builds_torch_optim_with_every_setting_passed_through(name, kwargs, reference):
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(2))], name, learning_rate=0.05, **kwargs)
    assert type(opt) is OPTIMIZERS[name]
    ours = _quadratic_steps(lambda p: make_optimizer(p, name, learning_rate=0.05, **kwargs))
    torch.testing.assert_close(ours, _quadratic_steps(reference), rtol=0, atol=0)


def test_optimizer_choice_errors_name_the_argument_the_value_and_what_is_accepted():
    p = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match=r"optimizer must be one of 'sgd', 'adagrad', 'rmsprop', 'adam'; got 'adamw'"):
        make_optimizer(p, "adamw", learning_rate=0.1)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\); got 1.0"):
        check_optimizer("sgd", momentum=1.0)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\); got -0.5"):
        check_optimizer("adam", momentum=-0.5)  # checked whatever the optimiser, as scikit-learn's MLP does
    with pytest.raises(ValueError, match=r"nesterov=True needs a momentum in \(0, 1\) for optimizer='sgd'.*got momentum=0.0"):
        check_optimizer("sgd", momentum=0.0, nesterov=True)
    assert check_optimizer("adam", momentum=0.0, nesterov=True) == {}  # SGD's settings, unused by Adam
    with pytest.raises(ValueError, match=r"optimizer_kwargs holds 'beta', which torch.optim.Adam .* takes 'betas', 'eps', 'amsgrad'"):
        check_optimizer("adam", optimizer_kwargs={"beta": (0.9, 0.99)})
    with pytest.raises(ValueError, match=r"optimizer_kwargs must not hold 'lr': it is set by learning_rate"):
        check_optimizer("rmsprop", optimizer_kwargs={"lr": 0.1})
    with pytest.raises(ValueError, match=r"optimizer_kwargs must not hold 'momentum': it is set by momentum"):
        check_optimizer("sgd", optimizer_kwargs={"momentum": 0.1})
    with pytest.raises(ValueError, match=r"optimizer_kwargs\['momentum'\] must be a number in \[0, 1\)"):
        check_optimizer("rmsprop", optimizer_kwargs={"momentum": 1.5})
    with pytest.raises(ValueError, match=r"optimizer_kwargs=\{'betas': \(1.5, 0.9\)\} is refused by torch.optim.Adam: Invalid beta"):
        check_optimizer("adam", optimizer_kwargs={"betas": (1.5, 0.9)})
    with pytest.raises(InvalidArgumentTypeError, match=r"optimizer_kwargs must be None or a dict"):
        check_optimizer("adam", optimizer_kwargs=[("betas", (0.9, 0.99))])
    with pytest.raises(ValueError, match=r"learning_rate must be a positive finite number; got 0"):
        make_optimizer(p, "sgd", learning_rate=0)
