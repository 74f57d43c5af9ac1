"""Tests for cnnlib.optim against values worked out by hand."""

import math

import numpy as np
import pytest

from cnnlib.layers import Linear
from cnnlib.model import Sequential
from cnnlib.optim import SGD, Adam, constant, cosine, step_decay


def _one(value, grad):
    return {"p": np.array([value])}, {"p": np.array([grad])}


def test_sgd_plain_and_weight_decay():
    params, grads = _one(1.0, 0.5)
    SGD(lr=0.1).step(params, grads)
    assert params["p"][0] == pytest.approx(1.0 - 0.1 * 0.5)
    params, grads = _one(1.0, 0.5)
    SGD(lr=0.1, weight_decay=0.2).step(params, grads)  # g = 0.5 + 0.2 * 1
    assert params["p"][0] == pytest.approx(1.0 - 0.1 * 0.7)


def test_sgd_momentum_three_steps():
    # v1 = g = 1; p = 1 - 0.1*1 = 0.9
    # v2 = 0.9*1 + 2 = 2.9; p = 0.9 - 0.29 = 0.61
    # v3 = 0.9*2.9 - 1 = 1.61; p = 0.61 - 0.161 = 0.449
    params = {"p": np.array([1.0])}
    opt = SGD(lr=0.1, momentum=0.9)
    expected = [0.9, 0.61, 0.449]
    for g, want in zip([1.0, 2.0, -1.0], expected, strict=True):
        opt.step(params, {"p": np.array([g])})
        assert params["p"][0] == pytest.approx(want), (g, params["p"])


def test_sgd_nesterov_two_steps():
    # step 1: v = 1; p -= 0.1 * (1 + 0.9*1) -> 1 - 0.19 = 0.81
    # step 2: v = 0.9 + 2 = 2.9; p -= 0.1 * (2 + 0.9*2.9) = 0.461 -> 0.349
    params = {"p": np.array([1.0])}
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.step(params, {"p": np.array([1.0])})
    assert params["p"][0] == pytest.approx(0.81)
    opt.step(params, {"p": np.array([2.0])})
    assert params["p"][0] == pytest.approx(0.349)


def test_adam_two_steps():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    params = {"p": np.array([1.0, -2.0])}
    opt = Adam(lr=lr, betas=(b1, b2), eps=eps)
    g1, g2 = np.array([0.5, -1.0]), np.array([1.0, 3.0])
    opt.step(params, {"p": g1})
    # Step 1: m_hat = g, v_hat = g**2, so the step is lr * sign(g).
    np.testing.assert_allclose(params["p"], [1.0 - lr, -2.0 + lr], rtol=1e-7)
    opt.step(params, {"p": g2})
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
    p1 = np.array([1.0, -2.0]) - lr * g1 / (np.abs(g1) + eps)
    want = p1 - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(params["p"], want, rtol=1e-10)
    # Worked by hand for the first entry: m = 0.145, v = 0.0014493...
    assert m[0] == pytest.approx(0.145)


def test_step_on_model_updates_in_place_float32():
    model = Sequential(Linear(3, 2, seed=0))
    w = model.params()["0.w"]
    before = w.copy()
    x = np.ones((4, 3), np.float32)
    out = model.forward(x)
    model.backward(np.ones_like(out))
    Adam(1e-2).step(model)
    assert model.params()["0.w"] is w and w.dtype == np.float32
    assert not np.array_equal(w, before)


def test_step_errors():
    model = Sequential(Linear(3, 2, seed=0))
    with pytest.raises(ValueError, match="call backward"):
        SGD(0.1).step(model)
    with pytest.raises(TypeError, match="pass a model"):
        SGD(0.1).step({"p": np.zeros(1)})
    with pytest.raises(ValueError, match="gradient 'p' has shape"):
        SGD(0.1).step({"p": np.zeros(2)}, {"p": np.zeros(3)})


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(lr=0), r"^SGD: lr must be a number > 0, got 0$"),
    (lambda: Adam(betas=(0.9, 1.0)), r"^Adam: betas must be a number >= 0 and "
     r"< 1, got 1.0$"),
    (lambda: SGD(lr=0.1, momentum=1.0), "momentum"),
    (lambda: SGD(lr=0.1, nesterov=True), "nesterov"),
    (lambda: Adam(betas=(0.9,)), "betas must be a pair"),
    (lambda: Adam(eps=0), "eps"),
    (lambda: Adam(lr=float("nan")), "lr"),
    (lambda: cosine(0.1, 0), "epochs"),
])
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_schedules():
    assert constant(0.1)(7.5) == 0.1
    s = step_decay(1.0, step=2, gamma=0.1)
    assert [s(t) for t in (0, 1.9, 2, 4.5)] == pytest.approx([1, 1, 0.1, 0.01])
    c = cosine(1.0, 10, lr_min=0.1)
    assert c(0) == pytest.approx(1.0)
    assert c(5) == pytest.approx(0.55)
    assert c(10) == pytest.approx(0.1) and c(12) == pytest.approx(0.1)
    w = cosine(1.0, 10, warmup=1)
    assert w(0) == pytest.approx(0.1) and w(0.5) == pytest.approx(0.55)
    assert w(1) == pytest.approx(1.0)
    assert w(5.5) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


# ---------------------------------------------------------------- issue 13


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: SGD(0.1, momentum=0.9),
                                  lambda: Adam(0.1)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_gradients_are_refused_and_nothing_moves(make, bad):
    opt = make()
    params = {"a": np.array([1.0, 2.0]), "b": np.array([3.0])}
    grads = {"a": np.array([0.5, 0.5]), "b": np.array([bad])}
    with pytest.raises(ValueError, match=rf"step: gradient 'b' must be finite, "
                       rf"got {bad}; nothing was updated"):
        opt.step(params, grads)
    np.testing.assert_array_equal(params["a"], [1.0, 2.0])  # 'a' untouched too
    assert opt.t == 0 and opt.state == {}


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), "0.1"])
def test_learning_rate_cannot_be_set_negative_or_non_finite(value):
    opt = Adam(1e-3)
    with pytest.raises(ValueError, match=r"^Adam: lr must be a number >= 0, got"):
        opt.lr = value
    assert opt.lr == 1e-3
    opt.lr = 0.0  # a schedule may end at zero
    assert opt.lr == 0.0
