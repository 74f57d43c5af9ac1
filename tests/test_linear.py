"""Tests for cnnlib.linear: fully-connected layer and flatten."""

import numpy as np
import pytest

from cnnlib.gradcheck import check_gradients, rel_error
from cnnlib.linear import (
    flatten_backward,
    flatten_forward,
    linear_backward,
    linear_forward,
)


def _random_problem(rng):
    ndim = int(rng.integers(2, 5))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    D = int(np.prod(shape[1:]))
    M = int(rng.integers(1, 5))
    return (rng.standard_normal(shape), rng.standard_normal((D, M)),
            rng.standard_normal(M))


def test_forward_matches_loops():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 2, 2))
    w = rng.standard_normal((12, 4))
    b = rng.standard_normal(4)
    out, _ = linear_forward(x, w, b)
    expected = np.zeros((2, 4))
    for n in range(2):
        features = [x[n, c, i, j] for c in range(3) for i in range(2)
                    for j in range(2)]  # row-major: channel slowest
        for m in range(4):
            expected[n, m] = sum(f * w[d, m] for d, f in enumerate(features)) + b[m]
    assert rel_error(out, expected) < 1e-12
    out_nob, _ = linear_forward(x, w)
    assert rel_error(out_nob, expected - b) < 1e-12


def test_backward_matches_numerical_gradient():
    rng = np.random.default_rng(1)
    for trial in range(30):
        x, w, b = _random_problem(rng)
        errors = check_gradients(linear_forward, linear_backward, [x, w, b],
                                 ["x", "w", "b"], rng=rng)
        assert max(errors.values()) < 1e-7, (trial, x.shape, w.shape, errors)


def test_backward_without_bias():
    rng = np.random.default_rng(2)
    x, w, _ = _random_problem(rng)
    errors = check_gradients(linear_forward, linear_backward, [x, w], ["x", "w"])
    assert set(errors) == {"x", "w"} and max(errors.values()) < 1e-7
    out, cache = linear_forward(x, w)
    dx, dw, db = linear_backward(np.ones_like(out), cache)
    assert db is None and dx.shape == x.shape and dw.shape == w.shape


def test_gradient_formulas():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3))
    w = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    dout = rng.standard_normal((5, 2))
    _, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(dout, cache)
    assert rel_error(dx, dout @ w.T) < 1e-14
    assert rel_error(dw, x.T @ dout) < 1e-14
    assert rel_error(db, dout.sum(0)) < 1e-14


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 2, 3, 3)).astype(dtype)
    w = rng.standard_normal((18, 5)).astype(dtype)
    b = np.zeros(5, dtype)
    out, cache = linear_forward(x, w, b)
    grads = linear_backward(np.ones_like(out), cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    out, cache = flatten_forward(x)
    assert out.dtype == dtype
    assert flatten_backward(out, cache).dtype == dtype


def test_empty_batch():
    x = np.zeros((0, 3, 2), dtype=np.float32)
    w = np.ones((6, 4), dtype=np.float32)
    out, cache = linear_forward(x, w, np.zeros(4, np.float32))
    assert out.shape == (0, 4)
    dx, dw, db = linear_backward(out, cache)
    assert dx.shape == x.shape and np.all(dw == 0) and np.all(db == 0)


def test_flatten_roundtrip_and_order():
    rng = np.random.default_rng(5)
    for shape in [(2, 3), (2, 3, 4), (1, 2, 3, 4), (3, 1, 1, 1, 2)]:
        x = rng.standard_normal(shape)
        out, cache = flatten_forward(x)
        assert out.shape == (shape[0], int(np.prod(shape[1:])))
        assert np.array_equal(out[-1], x[-1].ravel())  # row-major order
        assert np.array_equal(flatten_backward(out, cache), x)
        errors = check_gradients(flatten_forward, flatten_backward, [x], ["x"])
        assert errors["x"] < 1e-7


@pytest.mark.parametrize(
    "args, exc, words",
    [
        (([1.0, 2.0], np.ones((1, 1))), TypeError, ["x", "NumPy array"]),
        ((np.ones(3), np.ones((3, 1))), ValueError, ["x", "(N, ...)", "1-D"]),
        ((np.ones((2, 3), int), np.ones((3, 1))), TypeError, ["x", "int"]),
        ((np.ones((2, 3)), np.ones(3)), ValueError, ["w", "(D, M)"]),
        ((np.ones((2, 3, 2)), np.ones((3, 4))), ValueError,
         ["w", "D = 6", "(3, 4)"]),
        ((np.ones((2, 3)), np.ones((3, 4), np.float32)), TypeError,
         ["w", "float64", "float32"]),
        ((np.ones((2, 3)), np.ones((3, 4)), np.ones(3)), ValueError,
         ["b", "(4,)", "(3,)"]),
        ((np.ones((2, 3)), np.ones((3, 4)), np.ones((1, 4))), ValueError,
         ["b", "(M,)"]),
        ((np.ones((2, 3)), np.ones((3, 4)), np.ones(4, np.float32)), TypeError,
         ["b", "float32"]),
        ((np.ones((2, 3)), np.ones((3, 4)), [0.0] * 4), TypeError,
         ["b", "NumPy array"]),
        ((np.full((2, 3), np.nan), np.ones((3, 4))), ValueError, ["x", "finite"]),
        ((np.ones((2, 3)), np.full((3, 4), np.inf)), ValueError, ["w", "finite"]),
    ],
)
def test_linear_bad_input_raises_clearly(args, exc, words):
    with pytest.raises(exc) as info:
        linear_forward(*args)
    message = str(info.value)
    assert message.startswith("linear_forward:"), message
    for word in words:
        assert word in message, (word, message)


def test_flatten_bad_input_raises_clearly():
    with pytest.raises(ValueError, match="flatten_forward: x must have shape"):
        flatten_forward(np.ones(4))
    with pytest.raises(TypeError, match="flatten_forward: x must be a NumPy"):
        flatten_forward([[1.0]])
    out, cache = flatten_forward(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"flatten_backward: dout .*\(2, 12\)"):
        flatten_backward(np.ones((2, 11)), cache)
    with pytest.raises(TypeError, match="flatten_backward: dout .*dtype"):
        flatten_backward(out.astype(np.float32), cache)


def test_linear_bad_dout_raises_clearly():
    out, cache = linear_forward(np.ones((2, 3)), np.ones((3, 4)), np.ones(4))
    with pytest.raises(ValueError, match=r"linear_backward: dout .*\(2, 4\)"):
        linear_backward(np.ones((4, 2)), cache)
    with pytest.raises(TypeError, match="linear_backward: dout .*dtype"):
        linear_backward(out.astype(np.float32), cache)


@pytest.mark.parametrize("ops, kind", [
    ((linear_forward, linear_backward), "LinearCache"),
    ((flatten_forward, flatten_backward), "FlattenCache")])
def test_backward_before_forward_says_so(ops, kind):
    # Issue 13: this was "cannot unpack non-iterable NoneType object".
    x, w = np.ones((2, 3, 2)), np.ones((6, 4))
    out, cache = ops[0](x, w) if kind == "LinearCache" else ops[0](x)
    assert type(cache).__name__ == kind
    name = ops[1].__name__
    with pytest.raises(TypeError, match=rf"{name}: cache must be the {kind} "
                       r"returned by .*_forward \(run the forward pass first\),"
                       r" got None"):
        ops[1](np.ones_like(out), None)


def test_caches_are_named():
    x, w = np.ones((2, 3, 2)), np.ones((6, 4))
    _, cache = linear_forward(x, w, np.zeros(4))
    assert cache.x2d.shape == (2, 6) and cache.w is w and cache.has_bias
    assert cache.x_shape == (2, 3, 2)
    _, cache = flatten_forward(x)
    assert cache == ((2, 3, 2), np.float64)
    assert repr(cache) == "FlattenCache(x_shape=(2, 3, 2), dtype=dtype('float64'))"
