"""groundup.validation: each check accepts what it says, refuses the rest with the right
error type, and names the argument, the value given and what is accepted."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from groundup import validation as v
from groundup.validation import InvalidArgumentTypeError


def test_wrong_type_is_both_a_type_error_and_a_value_error():
    with pytest.raises(TypeError):
        v.check_positive("batch_size", "32", integer=True)
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer; got '32' of type str"):
        v.check_positive("batch_size", "32", integer=True)


@pytest.mark.parametrize("value", [True, np.bool_(False), None, "1", [1], 1 + 0j])
def test_bools_and_non_numbers_are_not_numbers(value):
    assert not v.is_number(value)
    with pytest.raises(InvalidArgumentTypeError):
        v.check_number("x", value)


def test_check_number_returns_the_canonical_type_and_checks_the_interval():
    assert v.check_number("x", np.int64(3), integer=True) == 3 and type(v.check_number("x", np.int64(3), integer=True)) is int
    assert type(v.check_number("x", np.float32(0.5))) is float
    assert v.check_number("x", None, allow_none=True) is None
    with pytest.raises(InvalidArgumentTypeError, match=r"x must be an integer >= 1; got 2.0 of type float"):
        v.check_number("x", 2.0, integer=True, low=1)
    with pytest.raises(ValueError, match=r"x must be a number in \(0, 1\]; got 0"):
        v.check_number("x", 0, low=0, high=1, low_open=True)
    with pytest.raises(ValueError, match=r"x must be a number < 1; got 1"):
        v.check_number("x", 1, high=1, high_open=True)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="x must be a finite number"):
            v.check_number("x", bad)


def test_positive_int_and_interval_messages():
    assert v.check_positive("lr", 0.1) == 0.1
    assert v.check_positive("decay", 0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"hidden_size must be a positive integer; got 0"):
        v.check_positive("hidden_size", 0, integer=True)
    with pytest.raises(ValueError, match=r"decay must be a non-negative finite number; got -1"):
        v.check_positive("decay", -1, allow_zero=True)
    with pytest.raises(ValueError, match="finite"):
        v.check_positive("lr", math.inf)
    assert v.check_int("n", 0, minimum=0) == 0
    with pytest.raises(ValueError, match=r"n must be a positive integer; got 0"):
        v.check_int("n", 0, minimum=1)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 3\]; got 4"):
        v.check_int("n", 4, minimum=1, maximum=3)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\); got 1"):
        v.check_in_interval("dropout", 1, 0, 1, high_open=True)
    with pytest.raises(ValueError, match=r"dropout must be a fraction in \[0, 1\); got 1.5"):
        v.check_in_interval("dropout", 1.5, 0, 1, high_open=True, what="a fraction")


def test_probabilities_discount_factors_learning_rates_and_seeds():
    assert v.check_probability("epsilon", 1) == 1.0
    with pytest.raises(ValueError, match=r"epsilon must be a probability in \[0, 1\]; got 1.1"):
        v.check_probability("epsilon", 1.1)
    assert v.check_gamma(0.99) == 0.99
    with pytest.raises(ValueError, match=r"gamma \(the discount factor\) must be a number in \[0, 1\]; got 2"):
        v.check_gamma(2)
    assert v.check_learning_rate(None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"learning_rate must be a positive finite number; got 0"):
        v.check_learning_rate(0)
    with pytest.raises(ValueError, match=r"or None \(sample averages"):
        v.check_learning_rate(-1, allow_none=True)
    assert v.check_seed(None) is None and v.check_seed(np.uint8(7)) == 7
    with pytest.raises(TypeError, match=r"random_state must be None or a non-negative integer; got 1.5"):
        v.check_seed(1.5, "random_state")
    with pytest.raises(TypeError):
        v.check_seed(True)
    with pytest.raises(ValueError, match=r"seed must be None or a non-negative integer; got -1"):
        v.check_seed(-1)


def test_torch_utils_check_seed_is_the_same_function():
    from groundup import torch_utils

    assert torch_utils.check_seed is v.check_seed


def test_choices():
    assert v.check_choice("cell", "gru", ("rnn", "gru", "lstm")) == "gru"
    with pytest.raises(ValueError, match=r"cell must be one of 'rnn', 'gru', 'lstm'; got 'transformer'"):
        v.check_choice("cell", "transformer", ("rnn", "gru", "lstm"))
    with pytest.raises(ValueError, match=r"optimizer must be 'adagrad' or 'adam'; got 'sgd'"):
        v.check_choice("optimizer", "sgd", ("adagrad", "adam"))
    with pytest.raises(ValueError, match=r"init must be 'pca' or 'random'; got array"):
        v.check_choice("init", np.zeros(2), ("pca", "random"))
    assert v.check_choice("sg", np.int64(1), {1: "skip-gram", 0: "CBOW"}) == 1
    with pytest.raises(ValueError, match=r"sg must be 1 \(skip-gram\) or 0 \(CBOW\); got 1.0"):
        v.check_choice("sg", 1.0, {1: "skip-gram", 0: "CBOW"})
    with pytest.raises(ValueError, match="got 'gru'"):
        v.check_choice("n", "gru", (1, 2))


def test_check_array():
    t = v.check_array([[1, 2], [3, 4]])
    assert t.dtype == torch.float32 and t.shape == (2, 2)
    with pytest.raises(ValueError, match=r"X must be 2-D .* got 1-D .*Reshape your data"):
        v.check_array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"at least one sample and one feature; got 0 sample\(s\)"):
        v.check_array(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(3, 0\)\) while a minimum of 1 is required"):
        v.check_array(np.zeros((3, 0)))
    with pytest.raises(TypeError, match="real numbers"):
        v.check_array([["a", "b"]])
    with pytest.raises(ValueError, match="Complex data not supported"):
        v.check_array(np.ones((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="sparse input is not supported"):
        v.check_array(__import__("scipy.sparse").sparse.csr_matrix(np.eye(2)))
    objects = np.array([[1, 2.5], [3, 4]], dtype=object)
    assert v.check_array(objects).tolist() == [[1.0, 2.5], [3.0, 4.0]]
    objects[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="dtype object .*argument must be"):
        v.check_array(objects)
    with pytest.raises(ValueError, match="X contains NaN; PCA needs finite values"):
        v.check_array([[1.0, np.nan]], owner="PCA")
    with pytest.raises(ValueError, match="Z contains infinity"):
        v.check_array(torch.tensor([[1.0, np.inf]]), name="Z")
    with pytest.raises(ValueError, match="X has 2 features, but RBM is expecting 3 features as input"):
        v.check_array([[1.0, 2.0]], n_features=3, owner="RBM")
    # large finite values whose sum overflows are fine
    assert v.check_array(np.full((2, 2), 3e38)).shape == (2, 2)
    v.check_unit_interval(torch.tensor([[0.0, 1.0 + 1e-7]]))
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*binarise"):
        v.check_unit_interval(torch.tensor([[0.0, 2.0]]), owner="RBM")


class _Model:
    def __init__(self, alpha=1.0):
        self.alpha = alpha


def test_not_fitted():
    from sklearn.exceptions import NotFittedError as SkNotFitted

    assert v.NotFittedError is SkNotFitted  # scikit-learn is installed here
    assert issubclass(v.NotFittedError, ValueError) and issubclass(v.NotFittedError, AttributeError)
    m = _Model()
    with pytest.raises(v.NotFittedError, match=r"this _Model is not fitted yet; call fit\(X\) first"):
        v.check_is_fitted(m, hint="call fit(X) first")
    with pytest.raises(v.NotFittedError):
        v.check_is_fitted(m, "net_")
    m.net_ = object()
    v.check_is_fitted(m)
    v.check_is_fitted(m, ["net_"])
    m.net_ = None
    with pytest.raises(v.NotFittedError):
        v.check_is_fitted(m, "net_")


def test_the_module_loads_no_optional_library_or_family():
    code = ("import sys, groundup.validation; "
            "bad = [m for m in ('sklearn', 'gensim', 'groundup.nlp', 'groundup.unsupervised', 'groundup.agents') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_layer_sizes_one_check_for_agents_and_estimators():
    assert v.check_layer_sizes("net_arch", [64, np.int64(32)]) == (64, 32)
    assert v.check_layer_sizes("hidden_layer_sizes", 100) == (100,)  # one layer, as scikit-learn's MLP
    assert v.check_layer_sizes("hidden_layer_sizes", np.array([5, 3])) == (5, 3)
    with pytest.raises(InvalidArgumentTypeError, match=r"net_arch must be a list of hidden layer sizes such as \[64, 64\]; got '64'"):
        v.check_layer_sizes("net_arch", "64")
    with pytest.raises(ValueError, match="at least one hidden layer size"):
        v.check_layer_sizes("net_arch", [])
    for bad in ([64, 0], [-8], [32.5], [True]):
        with pytest.raises(ValueError, match=r"must hold positive integers \(hidden layer sizes, such as \(500, 500\)\); got"):
            v.check_layer_sizes("hidden_layer_sizes", bad, example="(500, 500)")


def test_momentum_bool_and_learning_rate_grid():
    assert v.check_momentum(0) == 0.0 and v.check_momentum(np.float32(0.5)) == 0.5
    for bad in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\); got"):
            v.check_momentum(bad)
    with pytest.raises(ValueError, match=r"pretrain_momentum must be a number in \[0, 1\); got 1"):
        v.check_momentum(1, "pretrain_momentum")
    assert v.check_bool("nesterov", np.bool_(True)) is True
    for bad in (1, "yes", None):
        with pytest.raises(InvalidArgumentTypeError, match=r"nesterov must be True or False; got"):
            v.check_bool("nesterov", bad)
    assert v.check_learning_rate_grid([0.1, 1]) == (0.1, 1.0)
    assert v.check_learning_rate_grid(np.array([1e-3, 1e-2])) == (1e-3, 1e-2)
    with pytest.raises(ValueError, match=r"learning_rates must be a non-empty sequence of positive finite numbers.*got an empty list"):
        v.check_learning_rate_grid([])
    with pytest.raises(ValueError, match=r"learning_rates\[1\] must be a positive finite number; got 0"):
        v.check_learning_rate_grid([0.1, 0, 1.0])
    with pytest.raises(ValueError, match=r"lrs\[0\] must be a positive finite number; got -0.01"):
        v.check_learning_rate_grid((-0.01,), name="lrs")
    with pytest.raises(InvalidArgumentTypeError, match=r"learning_rates\[0\] must be a positive finite number; got '0.1'"):
        v.check_learning_rate_grid(["0.1"])
    for bad in (0.1, "0.1", {"sgd": 0.1}, None):  # one rate is not a grid: wrap it in a list
        with pytest.raises(InvalidArgumentTypeError, match="learning_rates must be a non-empty sequence"):
            v.check_learning_rate_grid(bad)
