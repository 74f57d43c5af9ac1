"""Tests for cnnlib.activations: values, gradients, stability, errors."""

import numpy as np
import pytest
from scipy.special import expit

from cnnlib.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from cnnlib.gradcheck import check_gradients, rel_error

PAIRS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}
REFERENCE = {
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "sigmoid": expit,
    "tanh": np.tanh,
}
DERIVATIVE = {
    "relu": lambda x: (x > 0).astype(float),
    "sigmoid": lambda x: expit(x) * (1 - expit(x)),
    "tanh": lambda x: 1 / np.cosh(x) ** 2,
}


def _away_from_zero(rng, shape):
    # ReLU has a kink at 0: keep every value at least 0.01 away from it, so
    # a finite-difference step never crosses it.
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.01, 0.5, x)


@pytest.mark.parametrize("name", PAIRS)
def test_forward_matches_reference(name):
    rng = np.random.default_rng(0)
    for shape in [(5,), (3, 4), (2, 3, 4, 5), ()]:
        x = np.asarray(rng.standard_normal(shape) * 5)
        out, _ = PAIRS[name][0](x)
        assert out.shape == x.shape
        assert rel_error(out, REFERENCE[name](x)) < 1e-14, shape


@pytest.mark.parametrize("name", PAIRS)
def test_backward_matches_numerical_gradient(name):
    rng = np.random.default_rng(1)
    forward, backward = PAIRS[name]
    for _ in range(20):
        ndim = int(rng.integers(1, 5))
        shape = tuple(int(n) for n in rng.integers(1, 5, size=ndim))
        # Unit scale: deep in the flat tails of sigmoid/tanh the derivative
        # is tiny and the finite difference has few correct digits.
        x = _away_from_zero(rng, shape)
        errors = check_gradients(forward, backward, [x], ["x"], rng=rng)
        assert errors["x"] < 1e-7, (name, shape, errors)


@pytest.mark.parametrize("name", PAIRS)
def test_backward_is_dout_times_local_derivative(name):
    rng = np.random.default_rng(2)
    x = _away_from_zero(rng, (4, 6))
    dout = rng.standard_normal(x.shape)
    out, cache = PAIRS[name][0](x)
    dx = PAIRS[name][1](dout, cache)
    assert rel_error(dx, dout * DERIVATIVE[name](x)) < 1e-12


def test_relu_gradient_is_zero_at_exactly_zero():
    x = np.array([-1.0, 0.0, 1.0])
    out, cache = relu_forward(x)
    assert np.array_equal(out, [0.0, 0.0, 1.0])
    dx = relu_backward(np.ones(3), cache)
    assert np.array_equal(dx, [0.0, 0.0, 1.0])


def test_relu_keeps_negative_zero_out_of_the_way():
    # -0.0 is not > 0 either: no gradient, output 0.
    out, cache = relu_forward(np.array([-0.0]))
    assert out[0] == 0.0
    assert relu_backward(np.ones(1), cache)[0] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_stable_at_extremes(dtype):
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, cache = sigmoid_forward(x)
        ds = sigmoid_backward(np.ones_like(x), cache)
        t, cache = tanh_forward(x)
        dt = tanh_backward(np.ones_like(x), cache)
    for arr in (s, ds, t, dt):
        assert np.all(np.isfinite(arr)) and arr.dtype == dtype
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert t[0] == -1.0 and t[-1] == 1.0
    assert ds[0] == 0.0 and ds[-1] == 0.0 and ds[3] == 0.25
    # Far from the ends, agree with scipy's expit to float precision.
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert rel_error(s, expit(x.astype(np.float64))) < tol


def test_sigmoid_no_warnings(recwarn):
    x = np.array([-1000.0, 1000.0])
    sigmoid_forward(x)
    sigmoid_forward(x.astype(np.float32))
    assert len(recwarn) == 0


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(name, dtype):
    forward, backward = PAIRS[name]
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    out, cache = forward(x)
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == dtype and dx.dtype == dtype
    assert np.array_equal(x, np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4))


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize(
    "x, exc, words",
    [
        ([1.0, 2.0], TypeError, ["x", "NumPy array", "list"]),
        (np.arange(3), TypeError, ["x", "float32 or float64", "int"]),
        (np.array([1.0, np.nan]), ValueError, ["x", "finite", "nan"]),
        (np.array([np.inf]), ValueError, ["x", "finite", "inf"]),
    ],
)
def test_bad_input_raises_clearly(name, x, exc, words):
    forward = PAIRS[name][0]
    with pytest.raises(exc) as info:
        forward(x)
    message = str(info.value)
    assert message.startswith(f"{forward.__name__}:"), message
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("name", PAIRS)
def test_bad_dout_raises_clearly(name):
    forward, backward = PAIRS[name]
    out, cache = forward(np.ones((2, 3)))
    fn = backward.__name__
    with pytest.raises(ValueError, match=f"{fn}: dout must have .*shape"):
        backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match=f"{fn}: dout must have .*dtype"):
        backward(np.ones((2, 3), dtype=np.float32), cache)
    with pytest.raises(TypeError, match=f"{fn}: dout must be a NumPy array"):
        backward([[1.0] * 3] * 2, cache)


@pytest.mark.parametrize("name", list(PAIRS))
def test_backward_before_forward_says_so(name):
    # Issue 13: this was "cannot unpack non-iterable NoneType object".
    forward, backward = PAIRS[name]
    x = np.linspace(-1, 1, 6)
    out, cache = forward(x)
    kind = type(cache).__name__
    assert kind == {"relu": "ReluCache", "sigmoid": "SigmoidCache",
                    "tanh": "TanhCache"}[name]
    with pytest.raises(TypeError, match=rf"{name}_backward: cache must be the "
                       rf"{kind} returned by {name}_forward \(run the forward "
                       r"pass first\), got None"):
        backward(np.ones_like(out), None)
    with pytest.raises(TypeError, match="got tuple"):
        backward(np.ones_like(out), tuple(cache))
    assert repr(cache) == f"{kind}({cache._fields[0]}=<float64 array (6,)>)"
