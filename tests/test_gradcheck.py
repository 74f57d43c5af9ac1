"""Tests for cnnlib.gradcheck: rel_error, numerical_gradient, check_gradients."""

import numpy as np
import pytest

from cnnlib.gradcheck import check_gradients, numerical_gradient, rel_error


def test_rel_error_basics():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, a.copy()) == 0.0
    assert rel_error(1.0, 1.0 + 1e-9) == pytest.approx(1e-9 / (2 + 1e-9))
    # Largest elementwise relative difference, not an average.
    assert rel_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 201)
    assert rel_error(a, -a) == 1.0  # opposite signs: the maximum
    # Near zero the denominator is floored at 1e-8: no division by zero.
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-4)
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    assert isinstance(rel_error(np.float32(1), np.float32(2)), float)
    # float32 inputs are compared in float64 (no float32 rounding).
    x32 = np.float32(1.0)
    assert rel_error(x32, 1.0 + 1e-10) < 1e-9


def test_rel_error_shape_mismatch():
    with pytest.raises(ValueError, match=r"rel_error: .*same shape.*\(3,\).*\(2,\)"):
        rel_error(np.ones(3), np.ones(2))


def test_numerical_gradient_of_square():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    x0 = x.copy()
    grad = numerical_gradient(lambda x: np.sum(x**2), x)
    assert rel_error(grad, 2 * x) < 1e-9
    assert np.array_equal(x, x0)  # every element restored
    assert grad.shape == x.shape and grad.dtype == x.dtype


def test_numerical_gradient_of_sin_with_dout():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2))
    dout = rng.standard_normal(x.shape)
    grad = numerical_gradient(np.sin, x, dout)
    assert rel_error(grad, np.cos(x) * dout) < 1e-8


def test_numerical_gradient_zero_argument_function():
    # f() closing over x also works (the common notebook pattern).
    x = np.array([1.0, 2.0, 3.0])
    w = np.array([0.5, -1.0, 2.0])
    grad = numerical_gradient(lambda: float(w @ x), x)
    assert rel_error(grad, w) < 1e-9


def test_numerical_gradient_matrix_product():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    ga = numerical_gradient(lambda: a @ b, a, dout)
    gb = numerical_gradient(lambda: a @ b, b, dout)
    assert rel_error(ga, dout @ b.T) < 1e-8
    assert rel_error(gb, a.T @ dout) < 1e-8


def test_numerical_gradient_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="numerical_gradient: .*pass dout"):
        numerical_gradient(lambda x: x * 2, x)
    with pytest.raises(TypeError, match="numerical_gradient: f must be callable"):
        numerical_gradient(3, x)
    with pytest.raises(TypeError, match="numerical_gradient: x must be float32"):
        numerical_gradient(np.sum, np.ones(3, int))
    with pytest.raises(TypeError, match="numerical_gradient: x must be a NumPy"):
        numerical_gradient(np.sum, [1.0, 2.0])


def _square_forward(x):
    return x * x, x


def _square_backward(dout, cache):
    return 2 * cache * dout


def _wrong_backward(dout, cache):
    return cache * dout  # forgot the factor 2


def test_check_gradients_passes_right_backward():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    errors = check_gradients(_square_forward, _square_backward, [x], ["x"])
    assert set(errors) == {"x"} and errors["x"] < 1e-8


def test_check_gradients_catches_wrong_backward():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5))
    errors = check_gradients(_square_forward, _wrong_backward, [x], ["x"])
    assert errors["x"] > 0.1


def test_check_gradients_several_inputs_and_none():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))

    def forward(a, b):
        return a @ b, (a, b)

    def backward(dout, cache):
        a, b = cache
        return dout @ b.T, a.T @ dout

    errors = check_gradients(forward, backward, [a, b], ["a", "b"])
    assert set(errors) == {"a", "b"} and max(errors.values()) < 1e-8

    def backward_b_wrong(dout, cache):
        a, b = cache
        return dout @ b.T, -(a.T @ dout)

    errors = check_gradients(forward, backward_b_wrong, [a, b])
    assert errors["x0"] < 1e-8 and errors["x1"] > 0.1  # default names

    def backward_skip_b(dout, cache):
        return dout @ cache[1].T, None

    assert set(check_gradients(forward, backward_skip_b, [a, b])) == {"x0"}


def test_check_gradients_scalar_output():
    x = np.array([0.3, -1.2, 2.0])

    def forward(x):
        return np.sum(np.tanh(x)), x

    def backward(dout, x):
        return dout * (1 - np.tanh(x) ** 2)

    errors = check_gradients(forward, backward, [x], ["x"])
    assert errors["x"] < 1e-8


def test_numerical_gradient_keeps_errors_raised_inside_f():
    # A TypeError from inside f must surface as itself, not as a confusing
    # "missing argument" from retrying f without x.
    def f(x):
        raise TypeError("inner problem")

    with pytest.raises(TypeError, match="inner problem"):
        numerical_gradient(f, np.ones(2))

    def g():
        raise TypeError("inner problem too")

    with pytest.raises(TypeError, match="inner problem too"):
        numerical_gradient(g, np.ones(2))


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), "1e-5"])
def test_numerical_gradient_refuses_a_step_that_is_not_positive(h):
    with pytest.raises(ValueError, match="numerical_gradient: h must be a "
                       "number > 0"):
        numerical_gradient(lambda x: x.sum(), np.zeros(3), h=h)
