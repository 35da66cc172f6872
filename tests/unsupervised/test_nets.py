"""The pieces in unsupervised/_nets.py that the estimators and benchmarks/training.py share:
the classifier training loop, the per-layer gradient norms, He initialisation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from groundup.torch_utils import iterate_minibatches, make_optimizer
from groundup.unsupervised._nets import DenseStack, glorot_weight, he_weight, train_classifier, weight_gradient_norms

CPU = torch.device("cpu")


def small_net(seed: int = 0, sizes: tuple[int, ...] = (6, 5, 3), activation: str = "sigmoid") -> DenseStack:
    gen = torch.Generator().manual_seed(seed)
    weights = [glorot_weight(o, i, gen, CPU) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn(o, generator=gen) for o in sizes[1:]]
    return DenseStack(weights, biases, [activation] * (len(sizes) - 2) + ["identity"])


def data(n: int = 40, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 6, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def test_train_classifier_takes_the_hand_written_loops_steps():
    X, y = data()
    net, twin = small_net(), small_net()
    opt = make_optimizer(net.parameters(), "sgd", learning_rate=0.5, momentum=0.9, nesterov=True)
    ended = []
    losses = train_classifier(net, opt, X, y, epochs=3, batch_size=7, generator=torch.Generator().manual_seed(2),
                              on_epoch_end=lambda epoch, loss: ended.append((epoch, loss)))

    ref = torch.optim.SGD(twin.parameters(), lr=0.5, momentum=0.9, nesterov=True)
    gen, expected = torch.Generator().manual_seed(2), []
    for _ in range(3):
        total = 0.0
        for xb, yb in iterate_minibatches(X, y, batch_size=7, generator=gen):
            ref.zero_grad()
            loss = F.cross_entropy(twin(xb), yb)
            loss.backward()
            ref.step()
            total += float(loss.detach()) * len(xb)
        expected.append(total / len(X))
    for a, b in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert losses == pytest.approx(expected, rel=1e-6)
    assert [e for e, _ in ended] == [0, 1, 2] and [loss for _, loss in ended] == losses


def test_train_classifier_stops_when_the_callback_says_so_and_refuses_a_diverged_loss():
    X, y = data()
    net = small_net()
    opt = make_optimizer(net.parameters(), "adam", learning_rate=1e-3)
    assert len(train_classifier(net, opt, X, y, epochs=5, batch_size=8, on_epoch_end=lambda e, loss: e < 1)) == 2
    X[3, 2] = float("nan")
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1"):
        train_classifier(net, opt, X, y, epochs=3, batch_size=40)


def test_weight_gradient_norms_are_the_gradients_norms_and_change_nothing():
    X, y = data()
    net = small_net()
    before = [p.detach().clone() for p in net.parameters()]
    norms = weight_gradient_norms(net, X, y)

    # the output layer's gradient in closed form: (softmax - one-hot)^T h / n
    with torch.no_grad():
        h = net(X, upto=1)
        p = torch.softmax(net(X), dim=1)
        top = (p - F.one_hot(y, 3).float()).T @ h / len(X)
    assert len(norms) == 2 and norms[1] == pytest.approx(float(top.norm()), rel=1e-5)
    net.zero_grad()
    F.cross_entropy(net(X), y).backward()
    assert norms[0] == pytest.approx(float(net.weights[0].grad.norm()), rel=1e-6)
    for p, b in zip(net.parameters(), before):
        torch.testing.assert_close(p.detach(), b, rtol=0, atol=0)
    fresh = small_net()
    weight_gradient_norms(fresh, X, y)
    assert all(p.grad is None for p in fresh.parameters())  # .grad left alone


def test_sigmoid_gradients_shrink_downwards_and_he_initialised_relu_ones_do_not():
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(256, 100, generator=gen), torch.randint(0, 10, (256,), generator=gen)
    sizes = (100, 100, 100, 100, 100, 10)
    pairs = list(zip(sizes[:-1], sizes[1:]))
    deep_sigmoid = DenseStack([glorot_weight(o, i, gen, CPU) for i, o in pairs], [torch.zeros(o) for _, o in pairs],
                              ["sigmoid"] * 4 + ["identity"])
    deep_relu = DenseStack([he_weight(o, i, gen, CPU) for i, o in pairs[:-1]] + [glorot_weight(10, 100, gen, CPU)],
                           [torch.zeros(o) for _, o in pairs], ["relu"] * 4 + ["identity"])
    sig, relu = weight_gradient_norms(deep_sigmoid, X, y), weight_gradient_norms(deep_relu, X, y)
    assert sig[0] < sig[3] / 10  # each sigmoid layer divides the backward signal by at least 4
    assert relu[0] > relu[3] / 10


def test_he_weight_has_the_variance_that_keeps_relu_activations_steady():
    w = he_weight(400, 250, torch.Generator().manual_seed(0), CPU)
    assert w.shape == (400, 250)
    assert float(w.std()) == pytest.approx(math.sqrt(2 / 250), rel=0.02) and abs(float(w.mean())) < 0.003
    torch.testing.assert_close(w, he_weight(400, 250, torch.Generator().manual_seed(0), CPU), rtol=0, atol=0)
