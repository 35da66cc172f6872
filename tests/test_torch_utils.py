import numpy as np
import pytest
import torch

from groundup.torch_utils import (as_tensor, check_seed, iterate_minibatches, resolve_device, rng_state, set_num_threads,
                                  set_rng_state, set_seed, train_minibatches)


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
