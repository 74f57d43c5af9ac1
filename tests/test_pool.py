"""Tests for cnnlib.pool: fast vs naive, numerical gradients, references."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage, signal

from cnnlib.gradcheck import check_gradients, rel_error
from cnnlib.pool import (
    avgpool2d_backward,
    avgpool2d_backward_naive,
    avgpool2d_forward,
    avgpool2d_forward_naive,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_forward,
    maxpool2d_forward_naive,
)
from cnnlib.shapes import pool_output_size
from tests.kernel_checks import assert_refused_before_allocating

MAX = (maxpool2d_forward, maxpool2d_backward)
AVG = (avgpool2d_forward, avgpool2d_backward)
MAX_NAIVE = (maxpool2d_forward_naive, maxpool2d_backward_naive)
AVG_NAIVE = (avgpool2d_forward_naive, avgpool2d_backward_naive)


def random_config(rng, max_extra=6):
    """A random pooling problem: window, stride, padding and input shape.

    Returns (shape, kwargs) where kwargs mixes int and pair forms, and
    sometimes leaves stride at its default.
    """
    kh, kw = rng.integers(1, 5, size=2)
    sh, sw = rng.integers(1, 4, size=2)
    ph, pw = rng.integers(0, kh // 2 + 1), rng.integers(0, kw // 2 + 1)
    # Smallest input the window fits (sizes from 1 when the window allows).
    h = int(rng.integers(max(1, kh - 2 * ph), kh + max_extra))
    w = int(rng.integers(max(1, kw - 2 * pw), kw + max_extra))
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), h, w)
    kw_ = {}
    square = kh == kw and sh == sw and ph == pw
    if square and rng.random() < 0.5:
        kw_["size"], kw_["padding"] = int(kh), int(ph)
        kw_["stride"] = None if sh == kh and rng.random() < 0.5 else int(sh)
    else:
        kw_["size"] = (int(kh), int(kw))
        kw_["stride"] = (int(sh), int(sw))
        kw_["padding"] = (int(ph), int(pw))
    return shape, kw_


def distinct_input(rng, shape, spacing=0.1):
    """Values with no ties (a shuffled ramp): argmax is unambiguous."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) * spacing


def _pairs(kw):
    k = kw["size"]
    k = (k, k) if isinstance(k, int) else k
    s = kw["stride"]
    s = k if s is None else ((s, s) if isinstance(s, int) else s)
    p = kw["padding"]
    p = (p, p) if isinstance(p, int) else p
    return k, s, p


# ------------------------------------------------------------- fast vs naive


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_fast_matches_naive_random_configs(kind):
    rng = np.random.default_rng(1 if kind == "max" else 2)
    fast, naive = (MAX, MAX_NAIVE) if kind == "max" else (AVG, AVG_NAIVE)
    for trial in range(220):
        shape, kw = random_config(rng)
        # Every third trial uses small integers, so ties are common and the
        # first-maximum rule is compared too.
        if trial % 3 == 0:
            x = rng.integers(0, 3, size=shape).astype(np.float64)
        else:
            x = rng.standard_normal(shape)
        out, cache = fast[0](x, **kw)
        out_n, cache_n = naive[0](x, **kw)
        msg = f"trial {trial}: {kind} x{shape} {kw}"
        assert out.shape == out_n.shape, msg
        assert rel_error(out, out_n) < 1e-10, msg
        dout = rng.standard_normal(out.shape)
        dx = fast[1](dout, cache)
        dx_n = naive[1](dout, cache_n)
        assert dx.shape == x.shape, msg
        assert rel_error(dx, dx_n) < 1e-10, msg


def _layout(a, channels_last):
    """Same values as a (N, C, H, W), stored NCHW or channels-last."""
    if not channels_last:
        return np.ascontiguousarray(a)
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_any_memory_layout_gives_the_same_numbers(kind):
    # x and dout may be views in any memory order (a transposed array, a
    # slice); the results must not depend on it.
    rng = np.random.default_rng(11 if kind == "max" else 12)
    fast, naive = (MAX, MAX_NAIVE) if kind == "max" else (AVG, AVG_NAIVE)
    for trial in range(60):
        shape, kw = random_config(rng)
        x = rng.standard_normal(shape)
        x_last, dout_last = trial % 2 == 0, trial % 4 < 2
        msg = f"trial {trial}: {kind} x{shape} {kw} x_last={x_last}"
        out, cache = fast[0](_layout(x, x_last), **kw)
        out_n, cache_n = naive[0](x, **kw)
        assert rel_error(out, out_n) < 1e-10, msg
        dout = rng.standard_normal(out.shape)
        dx = fast[1](_layout(dout, dout_last), cache)
        assert rel_error(dx, naive[1](dout, cache_n)) < 1e-10, msg
        assert out.flags.c_contiguous and dx.flags.c_contiguous, msg


# ------------------------------------------------------------- gradients


@pytest.mark.parametrize("kind", ["max", "avg", "max_naive", "avg_naive"])
def test_backward_matches_numerical_gradient(kind):
    ops = {"max": MAX, "avg": AVG, "max_naive": MAX_NAIVE, "avg_naive": AVG_NAIVE}
    forward, backward = ops[kind]
    rng = np.random.default_rng(len(kind))
    for trial in range(40 if "naive" not in kind else 10):
        shape, kw = random_config(rng, max_extra=4)
        # Distinct values 0.1 apart: a 1e-5 step never changes the winner.
        x = distinct_input(rng, shape)
        errors = check_gradients(
            lambda x, kw=kw: forward(x, **kw), backward, [x], ["x"], rng=rng
        )
        assert errors["x"] < 1e-7, f"trial {trial}: {kind} x{shape} {kw}: {errors}"


def test_overlapping_max_backward_by_hand():
    # One big value in the middle of a 5x5 input wins all nine 3x3 windows
    # (stride 1): its gradient is the sum of all nine upstream gradients.
    x = np.zeros((1, 1, 5, 5))
    x[0, 0] = np.arange(25).reshape(5, 5) * 0.01
    x[0, 0, 2, 2] = 10.0
    out, cache = maxpool2d_forward(x, 3, stride=1)
    assert out.shape == (1, 1, 3, 3)
    assert np.all(out == 10.0)
    dout = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    dx = maxpool2d_backward(dout, cache)
    expected = np.zeros((1, 1, 5, 5))
    expected[0, 0, 2, 2] = dout.sum()
    assert rel_error(dx, expected) == 0.0


def test_max_backward_stride_not_equal_size():
    # The classic bug: backward written for stride == size only. 3x3
    # windows with stride 1 and 2 on a ramp: the winner of each window is
    # its bottom-right pixel.
    x = np.arange(49, dtype=np.float64).reshape(1, 1, 7, 7)
    for stride in (1, 2):
        out, cache = maxpool2d_forward(x, 3, stride=stride)
        dx = maxpool2d_backward(np.ones_like(out), cache)
        expected = np.zeros_like(x)
        for r in range(out.shape[2]):
            for q in range(out.shape[3]):
                expected[0, 0, r * stride + 2, q * stride + 2] += 1
        assert np.array_equal(dx, expected), stride
        assert dx.sum() == out.size


# ------------------------------------------------------------- ties


def _first_real_pixel_counts(H, W, k, s, p, o):
    """How many windows have real pixel (i, j) as their first (top-left)."""
    counts = np.zeros((H, W))
    for r in range(o[0]):
        for q in range(o[1]):
            top, left = r * s[0] - p[0], q * s[1] - p[1]
            counts[max(top, 0), max(left, 0)] += 1
    return counts


@pytest.mark.parametrize(
    "size, stride, padding",
    [(2, None, 0), (3, 1, 0), (3, 1, 1), ((2, 3), (1, 2), (1, 1)), (3, 2, 1)],
)
def test_ties_send_gradient_to_first_maximum(size, stride, padding):
    # A constant input: every window is one big tie. The whole gradient of
    # each window goes to exactly one pixel, its first real one in
    # row-major order (padding is -inf and never wins).
    x = np.full((2, 3, 6, 7), 0.5)
    for forward, backward in (MAX, MAX_NAIVE):
        out, cache = forward(x, size, stride, padding)
        assert np.all(out == 0.5)
        dx = backward(np.ones_like(out), cache)
        kw = {"size": size, "stride": stride, "padding": padding}
        k, s, p = _pairs(kw)
        counts = _first_real_pixel_counts(6, 7, k, s, p, out.shape[2:])
        assert np.array_equal(dx, np.broadcast_to(counts, x.shape)), forward
        assert dx.sum() == out.size  # one unit of gradient per window


# ------------------------------------------------------------- references


def _reference(x, kw, kind):
    """Pooling by scipy.ndimage / scipy.signal, then strided sampling."""
    k, s, p = _pairs(kw)
    N, C, H, W = x.shape
    o = pool_output_size((H, W), k, s, p)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])),
                constant_values=fill)
    if kind == "max":
        # maximum_filter centres the window: the window starting at t is
        # centred at t + k // 2.
        full = ndimage.maximum_filter(xp, size=(1, 1) + k, mode="constant",
                                      cval=-np.inf)
        rows = k[0] // 2 + s[0] * np.arange(o[0])
        cols = k[1] // 2 + s[1] * np.arange(o[1])
        return full[:, :, rows][:, :, :, cols]
    ones = np.ones((1, 1) + k) / (k[0] * k[1])
    full = signal.correlate(xp, ones, mode="valid", method="direct")
    return full[:, :, :: s[0], :: s[1]][:, :, : o[0], : o[1]]


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_forward_matches_scipy_reference(kind):
    rng = np.random.default_rng(3)
    forward = maxpool2d_forward if kind == "max" else avgpool2d_forward
    for trial in range(150):
        shape, kw = random_config(rng, max_extra=10)
        x = rng.standard_normal(shape)
        out, _ = forward(x, **kw)
        ref = _reference(x, kw, kind)
        msg = f"trial {trial}: {kind} x{shape} {kw}"
        assert out.shape == ref.shape, msg
        assert np.allclose(out, ref, rtol=1e-12, atol=1e-14), msg


def test_forward_matches_sliding_window_view():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 11, 9))
    windows = sliding_window_view(x, (3, 2), axis=(2, 3))[:, :, ::2, ::1]
    out, _ = maxpool2d_forward(x, (3, 2), (2, 1))
    assert np.array_equal(out, windows.max(axis=(-2, -1)))
    out, _ = avgpool2d_forward(x, (3, 2), (2, 1))
    assert rel_error(out, windows.mean(axis=(-2, -1))) < 1e-12


def test_avg_padding_counts_zeros():
    # count_include_pad=True: a corner 3x3 window with padding 1 holds 4
    # real ones and 5 padded zeros, so it averages to 4/9, not 1.
    x = np.ones((1, 1, 4, 4))
    out, _ = avgpool2d_forward(x, 3, stride=1, padding=1)
    assert out[0, 0, 0, 0] == pytest.approx(4 / 9)
    assert out[0, 0, 1, 1] == pytest.approx(1.0)
    assert out[0, 0, 0, 1] == pytest.approx(6 / 9)


# Agreement with torch.nn.functional (ties included) is checked by
# benchmarks/check_against_torch.py: torch is not a course dependency.


# ------------------------------------------------------------- dtypes, misc


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ops", [MAX, AVG, MAX_NAIVE, AVG_NAIVE])
def test_dtype_preserved(ops, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    for kw in ({"size": 2}, {"size": 3, "stride": 1, "padding": 1}):
        out, cache = ops[0](x, **kw)
        assert out.dtype == dtype
        dx = ops[1](np.ones_like(out), cache)
        assert dx.dtype == dtype and dx.shape == x.shape


@pytest.mark.parametrize("ops", [MAX, AVG, MAX_NAIVE, AVG_NAIVE])
def test_input_unchanged_and_shapes(ops):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 9, 8))
    x0 = x.copy()
    out, cache = ops[0](x, (3, 2), stride=(2, 3), padding=(1, 0))
    assert out.shape == (2, 3, 5, 3)  # (9+2-3)//2+1, (8-2)//3+1
    ops[1](rng.standard_normal(out.shape), cache)
    assert np.array_equal(x, x0)


def test_float32_fast_vs_naive_close():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 2, 13, 11)).astype(np.float32)
    for ops, naive in ((MAX, MAX_NAIVE), (AVG, AVG_NAIVE)):
        out, c = ops[0](x, 3, 2, 1)
        out_n, c_n = naive[0](x, 3, 2, 1)
        assert np.allclose(out, out_n, rtol=1e-6, atol=1e-6)
        d = np.ones_like(out)
        assert np.allclose(ops[1](d, c), naive[1](d, c_n), atol=1e-6)


def test_big_window_more_than_256_offsets():
    # 17x16 = 272 offsets: the winner index no longer fits in uint8.
    rng = np.random.default_rng(8)
    x = distinct_input(rng, (1, 2, 20, 19))
    for stride in (1, 3):
        out, cache = maxpool2d_forward(x, (17, 16), stride=stride, padding=(8, 0))
        out_n, cache_n = maxpool2d_forward_naive(x, (17, 16), stride, (8, 0))
        assert np.array_equal(out, out_n)
        dout = rng.standard_normal(out.shape)
        dx = maxpool2d_backward(dout, cache)
        assert rel_error(dx, maxpool2d_backward_naive(dout, cache_n)) < 1e-12
        assert rel_error(dx.sum(), dout.sum()) < 1e-12


def test_empty_batch():
    x = np.zeros((0, 3, 4, 4), dtype=np.float32)
    for forward, backward in (MAX, AVG):
        out, cache = forward(x)
        assert out.shape == (0, 3, 2, 2)
        assert backward(out, cache).shape == x.shape


def test_default_stride_is_size():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    out, _ = maxpool2d_forward(x, 3)
    assert out.shape == (1, 1, 2, 2)
    assert np.array_equal(out[0, 0], [[14.0, 17.0], [32.0, 35.0]])
    out, _ = avgpool2d_forward(x, (2, 3))
    assert out.shape == (1, 1, 3, 2)


# ------------------------------------------------------------- bad input

FORWARDS = [maxpool2d_forward, avgpool2d_forward, maxpool2d_forward_naive,
            avgpool2d_forward_naive]


@pytest.mark.parametrize("forward", FORWARDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "x, kwargs, exc, words",
    [
        ([[1.0]], {}, TypeError, ["x", "NumPy array"]),
        (np.zeros((4, 4)), {}, ValueError, ["x", "(N, C, H, W)"]),
        (np.zeros((1, 1, 4, 4), dtype=int), {}, TypeError, ["x", "float32"]),
        (np.zeros((1, 1, 4, 4)), {"size": 0}, ValueError, ["size", "positive"]),
        (np.zeros((1, 1, 4, 4)), {"size": 2.0}, TypeError, ["size", "2.0"]),
        (np.zeros((1, 1, 4, 4)), {"size": (2, 2, 2)}, TypeError, ["size"]),
        (np.zeros((1, 1, 4, 4)), {"stride": 0}, ValueError, ["stride"]),
        (np.zeros((1, 1, 4, 4)), {"padding": -1}, ValueError, ["padding"]),
        (np.zeros((1, 1, 4, 4)), {"size": 3, "padding": 2}, ValueError,
         ["padding", "half"]),
        (np.zeros((1, 1, 4, 4)), {"size": 5}, ValueError, ["window", "fit"]),
        (np.zeros((1, 1, 4, 2)), {"size": 3, "padding": 0}, ValueError,
         ["window", "fit"]),
        (np.full((1, 1, 4, 4), np.nan), {}, ValueError, ["x", "finite"]),
        (np.pad(np.zeros((1, 1, 2, 2)), ((0, 0), (0, 0), (1, 1), (1, 1)),
                constant_values=np.inf), {}, ValueError, ["x", "finite"]),
    ],
)
def test_bad_input_raises_clearly(forward, x, kwargs, exc, words):
    with pytest.raises(exc) as info:
        forward(x, **kwargs)
    message = str(info.value)
    assert message.startswith(forward.__name__ + ":"), message
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("ops", [MAX, AVG, MAX_NAIVE, AVG_NAIVE],
                         ids=lambda o: o[1].__name__)
def test_bad_dout_raises_clearly(ops):
    x = np.zeros((2, 3, 4, 4))
    out, cache = ops[0](x)
    name = ops[1].__name__
    with pytest.raises(ValueError, match=f"{name}: dout must have .*shape"):
        ops[1](np.zeros((2, 3, 3, 2)), cache)
    with pytest.raises(TypeError, match=f"{name}: dout must have .*dtype"):
        ops[1](out.astype(np.float32), cache)
    with pytest.raises(TypeError, match=f"{name}: dout must be a NumPy array"):
        ops[1](out.tolist(), cache)


def test_docstring_examples():
    import doctest

    import cnnlib.pool

    result = doctest.testmod(cnnlib.pool, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("ops", [MAX, AVG, MAX_NAIVE, AVG_NAIVE],
                         ids=lambda o: o[1].__name__)
def test_backward_rejects_a_missing_or_wrong_cache(ops):
    x = np.zeros((1, 1, 4, 4))
    out, cache = ops[0](x)
    name = ops[1].__name__
    kind = type(cache).__name__
    with pytest.raises(TypeError, match=f"{name}: cache must be the {kind} "
                       r"returned by .*\(run the forward pass first\), got None"):
        ops[1](out, None)
    with pytest.raises(TypeError, match=f"{name}: cache must be the {kind}"):
        ops[1](out, tuple(cache))


def test_caches_are_named_and_print_shapes():
    x = np.zeros((2, 3, 4, 4), dtype=np.float32)
    _, cache = maxpool2d_forward(x, 2)
    assert cache.size == cache.stride == (2, 2) and cache.x_shape == x.shape
    assert repr(cache).startswith(
        "MaxPoolCache(arg=<uint8 array (2, 3, 2, 2)>, x_shape=(2, 3, 4, 4)")
    _, cache = avgpool2d_forward(x, 3, stride=1, padding=1)
    assert cache.out_shape == (2, 3, 4, 4) and cache.padding == (1, 1)
    _, cache = maxpool2d_forward_naive(x, 2)
    assert cache.x is x and cache.out_shape == (2, 3, 2, 2)


# ------------------------------------------------- issue 13: sizes, overflow


@pytest.mark.parametrize("forward", FORWARDS, ids=lambda f: f.__name__)
def test_huge_window_and_padding_refused_before_allocating(forward):
    x = np.zeros((1, 1, 1, 1))
    assert_refused_before_allocating(
        lambda: forward(x, size=40001, padding=20000),
        [f"{forward.__name__}: the padded input would have shape "
         "(1, 1, 40001, 40001) = 12.8 GB", "MAX_ARRAY_BYTES"])


@pytest.mark.parametrize("dtype, big", [(np.float32, 3e38),
                                        (np.float64, 1.7e308)])
@pytest.mark.parametrize("ops", [AVG, AVG_NAIVE], ids=lambda o: o[0].__name__)
def test_average_of_values_near_the_largest_float_is_finite(ops, dtype, big):
    # The sum of a window overflows; the mean does not.
    x = np.full((1, 2, 4, 4), big, dtype=dtype)
    x[0, 1] = -big
    for kw in ({"size": 2}, {"size": 3, "stride": 1, "padding": 1}):
        out, cache = ops[0](x, **kw)
        assert out.dtype == dtype and np.isfinite(out).all(), (kw, out)
        full = out[:, :, 1:-1, 1:-1] if kw["size"] == 3 else out
        assert np.allclose(full[0, 0], big, rtol=1e-6), kw
        assert np.allclose(full[0, 1], -big, rtol=1e-6), kw
        dx = ops[1](np.ones_like(out), cache)
        assert np.isfinite(dx).all()
    # A real inf or NaN is still refused, and said where.
    x[0, 0, 2, 3] = np.inf
    with pytest.raises(ValueError, match=r"x must be finite, got inf at "
                       r"index \(0, 0, 2, 3\)"):
        ops[0](x)
