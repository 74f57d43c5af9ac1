"""Tests for cnnlib.losses: softmax, cross-entropy and mean squared error."""

import numpy as np
import pytest
from scipy import special

from cnnlib.gradcheck import numerical_gradient, rel_error
from cnnlib.losses import log_softmax, mse, softmax, softmax_cross_entropy


def _problem(rng, scale=3.0):
    N, K = (int(n) for n in rng.integers(1, 8, size=2))
    return rng.standard_normal((N, K)) * scale, rng.integers(0, K, size=N)


def test_softmax_matches_scipy():
    rng = np.random.default_rng(0)
    for trial in range(30):
        logits, _ = _problem(rng, scale=10.0)
        p = softmax(logits)
        assert rel_error(p, special.softmax(logits, axis=-1)) < 1e-12, trial
        assert np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-14)
        assert rel_error(log_softmax(logits),
                         special.log_softmax(logits, axis=-1)) < 1e-12, trial


def test_softmax_any_leading_shape():
    rng = np.random.default_rng(1)
    for shape in [(5,), (2, 3, 4)]:
        z = rng.standard_normal(shape)
        assert rel_error(softmax(z), special.softmax(z, axis=-1)) < 1e-12
        assert rel_error(log_softmax(z), special.log_softmax(z, axis=-1)) < 1e-12


def test_cross_entropy_matches_scipy_log_softmax():
    rng = np.random.default_rng(2)
    for trial in range(30):
        logits, y = _problem(rng)
        loss, _ = softmax_cross_entropy(logits, y)
        ref = -special.log_softmax(logits, axis=1)[np.arange(len(y)), y].mean()
        assert rel_error(loss, ref) < 1e-12, (trial, logits.shape)


def test_cross_entropy_gradient_matches_numerical():
    rng = np.random.default_rng(3)
    for trial in range(30):
        # Unit scale: a probability of 1e-7 has a gradient entry that the
        # finite difference only gets to a few digits.
        logits, y = _problem(rng, scale=1.0)
        _, dlogits = softmax_cross_entropy(logits, y)
        num = numerical_gradient(lambda z, y=y: softmax_cross_entropy(z, y)[0],
                                 logits)
        assert rel_error(dlogits, num) < 1e-7, (trial, logits.shape)
        # The closed form: (softmax - onehot) / N.
        onehot = np.eye(logits.shape[1])[y]
        ref = (special.softmax(logits, axis=1) - onehot) / len(y)
        assert rel_error(dlogits, ref) < 1e-12


def test_known_values():
    # Uniform logits: every class has probability 1/K, the loss is log K.
    loss, d = softmax_cross_entropy(np.zeros((4, 10)), np.arange(4))
    assert loss == pytest.approx(np.log(10))
    assert d[0, 0] == pytest.approx((0.1 - 1) / 4)
    assert d[0, 1] == pytest.approx(0.1 / 4)
    # Each row of the gradient sums to zero.
    assert np.allclose(d.sum(axis=1), 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(logits)
        lp = log_softmax(logits)
        loss_right, d_right = softmax_cross_entropy(logits, np.array([0, 1]))
        loss_wrong, d_wrong = softmax_cross_entropy(logits, np.array([1, 0]))
    for arr in (p, lp, d_right, d_wrong):
        assert np.all(np.isfinite(arr)) and arr.dtype == dtype
    assert np.array_equal(p[0], [1.0, 0.0, 0.0])
    assert p[1, 1] == pytest.approx(0.5) and p[1, 2] == pytest.approx(0.5)
    assert loss_right.dtype == dtype
    # Confident and right: loss ~ log 2 / 2 (second row is a 50/50 tie).
    assert loss_right == pytest.approx(np.log(2) / 2, rel=1e-6)
    # Confident and wrong: 2e4 per row (plus the tie), large but finite.
    assert loss_wrong == pytest.approx(2e4 + np.log(2) / 2, rel=1e-6)


def test_no_warnings_for_huge_logits(recwarn):
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]])
    for dtype in (np.float32, np.float64):
        softmax_cross_entropy(logits.astype(dtype), np.array([1, 1]))
        softmax(logits.astype(dtype))
    assert len(recwarn) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((5, 3)).astype(dtype)
    y = np.array([0, 1, 2, 1, 0])
    loss, d = softmax_cross_entropy(logits, y)
    assert loss.dtype == dtype and d.dtype == dtype and d.shape == logits.shape
    assert softmax(logits).dtype == dtype and log_softmax(logits).dtype == dtype
    loss, d = mse(logits, np.zeros((5, 3)))  # float64 target is cast
    assert loss.dtype == dtype and d.dtype == dtype


def test_labels_may_be_list_or_unsigned():
    logits = np.array([[1.0, 2.0], [0.5, -1.0]])
    a, _ = softmax_cross_entropy(logits, [1, 0])
    b, _ = softmax_cross_entropy(logits, np.array([1, 0], dtype=np.uint8))
    assert a == b


def test_input_unchanged():
    logits = np.array([[1.0, 2.0, 3.0]])
    softmax_cross_entropy(logits, np.array([2]))
    softmax(logits)
    assert np.array_equal(logits, [[1.0, 2.0, 3.0]])


# ------------------------------------------------------------- mse


def test_mse_value_and_gradient():
    rng = np.random.default_rng(5)
    for shape in [(3,), (4, 2), (2, 3, 2, 2)]:
        pred = rng.standard_normal(shape)
        target = rng.standard_normal(shape)
        loss, dpred = mse(pred, target)
        # Mean over every element, no factor 1/2 (torch.nn.MSELoss()).
        assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
        num = numerical_gradient(lambda p, t=target: mse(p, t)[0], pred)
        assert rel_error(dpred, num) < 1e-7
        assert rel_error(dpred, 2 * (pred - target) / pred.size) < 1e-14
    assert mse(np.array([1.0, 3.0]), np.array([1.0, 1.0]))[0] == 2.0


def test_mse_bad_input():
    with pytest.raises(ValueError, match=r"mse: target must have pred's shape"):
        mse(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="mse: pred must hold at least one"):
        mse(np.ones((0, 3)), np.ones((0, 3)))
    with pytest.raises(ValueError, match="mse: pred must be finite"):
        mse(np.array([np.nan]), np.ones(1))
    with pytest.raises(ValueError, match="mse: target must be finite"):
        mse(np.ones(1), np.array([np.inf]))
    with pytest.raises(TypeError, match="mse: target must be a NumPy array"):
        mse(np.ones(2), [1.0, 1.0])
    with pytest.raises(TypeError, match="mse: pred must be float32 or float64"):
        mse(np.ones(2, int), np.ones(2))


# ------------------------------------------------------------- bad input

GOOD = np.zeros((3, 4))


@pytest.mark.parametrize(
    "logits, y, exc, words",
    [
        (GOOD, np.array([0, 1, 4]), ValueError, ["y", "[0, 4)", "got 4"]),
        (GOOD, np.array([0, -1, 2]), ValueError, ["y", "[0, 4)", "got -1"]),
        (GOOD, np.array([0.0, 1.0, 2.0]), TypeError, ["y", "integer", "float64"]),
        (GOOD, np.array([True, False, True]), TypeError, ["y", "integer", "bool"]),
        (GOOD, np.array([[0], [1], [2]]), ValueError, ["y", "(N,)", "(3, 1)"]),
        (GOOD, np.array([0, 1]), ValueError, ["y", "(3,)", "(2,)"]),
        (GOOD, 2, TypeError, ["y", "NumPy array", "int"]),
        (np.zeros(4), np.array([0]), ValueError, ["logits", "(N, K)", "1-D"]),
        (np.zeros((3, 0)), np.array([0, 0, 0]), ValueError,
         ["logits", "at least one class"]),
        (np.zeros((0, 4)), np.zeros(0, int), ValueError,
         ["logits", "at least one sample"]),
        (np.array([[0.0, np.nan]]), np.array([0]), ValueError,
         ["logits", "finite", "nan"]),
        (np.array([[0.0, -np.inf]]), np.array([0]), ValueError,
         ["logits", "finite"]),
        ([[0.0, 1.0]], np.array([0]), TypeError, ["logits", "NumPy array"]),
        (np.zeros((1, 2), int), np.array([0]), TypeError, ["logits", "float32"]),
    ],
)
def test_cross_entropy_bad_input_raises_clearly(logits, y, exc, words):
    with pytest.raises(exc) as info:
        softmax_cross_entropy(logits, y)
    message = str(info.value)
    assert message.startswith("softmax_cross_entropy:"), message
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("func", [softmax, log_softmax])
def test_softmax_bad_input(func):
    name = func.__name__
    with pytest.raises(ValueError, match=f"{name}: logits must be finite"):
        func(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=f"{name}: logits must have at least one"):
        func(np.zeros((2, 0)))
    with pytest.raises(TypeError, match=f"{name}: logits must be a NumPy array"):
        func([1.0, 2.0])


def test_docstring_examples():
    import doctest

    import cnnlib.losses

    result = doctest.testmod(cnnlib.losses, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
