"""Tests for cnnlib.conv: loops vs fast, numerical gradients, scipy, errors."""

import numpy as np
import pytest
from scipy import signal

import cnnlib.conv
from cnnlib.conv import (
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
    convolve2d,
    correlate2d,
    im2col,
)
from cnnlib.gradcheck import check_gradients, rel_error
from tests.kernel_checks import (
    assert_fast_matches_naive,
    assert_refused_before_allocating,
)


def random_config(rng, max_size=7):
    """A random layer config whose kernel fits, and its arrays (float64)."""
    while True:
        N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
        H, W = (int(v) for v in rng.integers(1, max_size + 1, size=2))
        KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        if (dilation[0] * (KH - 1) + 1 <= H + 2 * padding[0]
                and dilation[1] * (KW - 1) + 1 <= W + 2 * padding[1]):
            break
    cfg = dict(stride=stride, padding=padding, dilation=dilation)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, KH, KW))
    b = rng.standard_normal(F) if rng.random() < 0.8 else None
    return x, w, b, cfg


# The fast path builds its column matrix one of two ways depending on the
# channel count (NCHW or channels-last); tests run both by moving the
# threshold.
both_paths = pytest.mark.parametrize("short_run", [0, 1000])


@both_paths
def test_fast_matches_naive_random_configs(short_run, monkeypatch):
    monkeypatch.setattr(cnnlib.conv, "_SHORT_RUN", short_run)
    rng = np.random.default_rng(0)
    for trial in range(200):
        x, w, b, cfg = random_config(rng)
        msg = f"trial {trial}: x {x.shape} w {w.shape} b {b is not None} {cfg}"
        assert_fast_matches_naive(
            (conv2d_forward, conv2d_backward),
            (conv2d_forward_naive, conv2d_backward_naive), x, w, b, cfg, rng, msg)


@pytest.mark.parametrize("naive, short_run", [(False, 0), (False, 1000),
                                                  (True, 0)])
def test_backward_matches_numerical_gradient(naive, short_run, monkeypatch):
    monkeypatch.setattr(cnnlib.conv, "_SHORT_RUN", short_run)
    rng = np.random.default_rng(1 + naive)
    forward = conv2d_forward_naive if naive else conv2d_forward
    backward = conv2d_backward_naive if naive else conv2d_backward
    for trial in range(12 if naive else 40):
        x, w, b, cfg = random_config(rng, max_size=5)
        inputs = [x, w] if b is None else [x, w, b]

        def f(x, w, b=None, cfg=cfg):
            return forward(x, w, b, **cfg)

        errors = check_gradients(f, backward, inputs, ["x", "w", "b"], rng=rng)
        msg = f"trial {trial}: x {x.shape} w {w.shape} {cfg}: {errors}"
        assert max(errors.values()) < 1e-7, msg
        assert len(errors) == len(inputs), msg


@both_paths
def test_need_dx_false_skips_dx(short_run, monkeypatch):
    monkeypatch.setattr(cnnlib.conv, "_SHORT_RUN", short_run)
    rng = np.random.default_rng(3)
    x, w, b, cfg = random_config(rng)
    out, cache = conv2d_forward(x, w, b, **cfg)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache, need_dx=False)
    _, dw2, db2 = conv2d_backward(dout, cache)
    assert dx is None
    assert np.array_equal(dw, dw2)
    assert (db is None and db2 is None) or np.array_equal(db, db2)


def test_forward_matches_scipy_single_and_multi_channel():
    rng = np.random.default_rng(4)
    for trial in range(30):
        N, C, F = rng.integers(1, 4, size=3)
        H, W = rng.integers(3, 10, size=2)
        KH, KW = rng.integers(1, 4, size=2)
        x = rng.standard_normal((N, C, H, W))
        w = rng.standard_normal((F, C, KH, KW))
        b = rng.standard_normal(F)
        ref = np.empty((N, F, H - KH + 1, W - KW + 1))
        for n in range(N):
            for f in range(F):
                # multi-channel: 3-D valid correlation = sum over channels
                ref[n, f] = signal.correlate(x[n], w[f], mode="valid")[0] + b[f]
                per_channel = sum(signal.correlate2d(x[n, c], w[f, c], "valid")
                                  for c in range(C))
                assert rel_error(ref[n, f], per_channel + b[f]) < 1e-12
        msg = f"trial {trial}: x {x.shape} w {w.shape}"
        assert rel_error(conv2d_forward(x, w, b)[0], ref) < 1e-10, msg
        assert rel_error(conv2d_forward_naive(x, w, b)[0], ref) < 1e-10, msg


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate2d_convolve2d_match_scipy(mode):
    rng = np.random.default_rng(5)
    for trial in range(40):
        H, W = rng.integers(1, 9, size=2)
        KH, KW = rng.integers(1, 6, size=2)
        if mode == "valid" and (KH > H or KW > W):
            continue
        image = rng.standard_normal((H, W))
        kernel = rng.standard_normal((KH, KW))
        msg = f"trial {trial}: image {image.shape} kernel {kernel.shape} {mode}"
        ref_c = signal.correlate2d(image, kernel, mode)
        ref_v = signal.convolve2d(image, kernel, mode)
        assert rel_error(correlate2d(image, kernel, mode), ref_c) < 1e-12, msg
        assert rel_error(convolve2d(image, kernel, mode), ref_v) < 1e-12, msg


def test_convolve_is_correlate_with_flipped_kernel():
    rng = np.random.default_rng(6)
    image, kernel = rng.standard_normal((6, 7)), rng.standard_normal((3, 3))
    assert np.allclose(convolve2d(image, kernel),
                       correlate2d(image, kernel[::-1, ::-1]))


def test_integer_inputs_become_float64():
    image = np.arange(16).reshape(4, 4)
    out = correlate2d(image, np.ones((2, 2), dtype=int))
    assert out.dtype == np.float64
    assert out[0, 0] == 0 + 1 + 4 + 5
    assert convolve2d([[1, 2], [3, 4]], [[1]], "full").dtype == np.float64


@both_paths
def test_float32_stays_float32(short_run, monkeypatch):
    monkeypatch.setattr(cnnlib.conv, "_SHORT_RUN", short_run)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    ref = conv2d_forward(x.astype(np.float64), w.astype(np.float64),
                         b.astype(np.float64), padding=1)[0]
    for fwd, bwd in ((conv2d_forward, conv2d_backward),
                     (conv2d_forward_naive, conv2d_backward_naive)):
        out, cache = fwd(x, w, b, padding=1, stride=2)
        assert out.dtype == np.float32
        grads = bwd(np.ones_like(out), cache)
        assert all(g.dtype == np.float32 for g in grads)
        out, _ = fwd(x, w, b, padding=1)
        assert rel_error(out, ref) < 1e-4
    assert im2col(x, 3).dtype == np.float32
    for f in (correlate2d, convolve2d):
        for mode in ("valid", "same", "full"):
            assert f(x[0, 0], w[0, 0], mode).dtype == np.float32


@both_paths
def test_im2col_gives_conv_as_one_matmul(short_run, monkeypatch):
    monkeypatch.setattr(cnnlib.conv, "_SHORT_RUN", short_run)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 7, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    cfg = dict(stride=2, padding=1, dilation=(1, 2))
    cols = im2col(x, (3, 2), **cfg)
    out = conv2d_forward(x, w, None, **cfg)[0]
    N, F, H_out, W_out = out.shape
    assert cols.shape == (N * H_out * W_out, 3 * 2 * 3)
    w_mat = w.transpose(2, 3, 1, 0).reshape(-1, F)
    by_matmul = (cols @ w_mat).reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)
    assert rel_error(by_matmul, out) < 1e-12


def test_output_size_and_floor():
    x = np.zeros((1, 1, 28, 28))
    assert conv2d_forward(x, np.zeros((1, 1, 3, 3)), None)[0].shape[2:] == (26, 26)
    assert conv2d_forward(x, np.zeros((1, 1, 5, 5)), None, stride=2,
                          padding=2)[0].shape[2:] == (14, 14)
    assert conv2d_forward(x, np.zeros((1, 1, 3, 3)), None, stride=3,
                          dilation=2)[0].shape[2:] == (8, 8)


# ---------------------------------------------------------------- bad input

X = np.zeros((2, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))
B = np.zeros(4)


@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((X[0], W, B), {}, ValueError, r"x must have shape \(N, C, H, W\)"),
        ((X, W[0], B), {}, ValueError, r"w must have shape \(F, C, KH, KW\)"),
        ((X, W[:, :2], B), {}, ValueError, "w must have 3 input channels"),
        ((X, np.zeros((1, 3, 5, 5)), None), {"dilation": 2}, ValueError,
         "kernel 5x5 \\(dilated 9x9\\) does not fit input 5x5 with padding 0"),
        ((X, W, B), {"stride": 0}, ValueError, "stride"),
        ((X, W, B), {"stride": -1}, ValueError, "stride"),
        ((X, W, B), {"stride": 2.0}, TypeError, "stride"),
        ((X, W, B), {"padding": -1}, ValueError, "padding"),
        ((X, W, B), {"dilation": 0}, ValueError, "dilation"),
        ((X, W, np.zeros(3)), {}, ValueError, r"b must have shape \(F,\)"),
        ((X, W, np.zeros((4, 1))), {}, ValueError, "b must have shape"),
        ((X, W.astype(np.float32), B), {}, TypeError, "w must have the dtype"),
        ((X, W, B.astype(np.float32)), {}, TypeError, "b must have the dtype"),
        ((X.astype(int), W, B), {}, TypeError, "x must be float32 or float64"),
        ((X.tolist(), W, B), {}, TypeError, "x must be a NumPy array"),
        ((np.full_like(X, np.nan), W, B), {}, ValueError, "x must be finite"),
        ((X, np.full_like(W, np.inf), B), {}, ValueError, "w must be finite"),
        ((X[:0], W, B), {}, ValueError, "x must have N, C, H, W >= 1"),
    ],
)
def test_forward_rejects_bad_input(naive, args, kwargs, error, match):
    func = conv2d_forward_naive if naive else conv2d_forward
    with pytest.raises(error, match=f"{func.__name__}: {match}"):
        func(*args, **kwargs)


def test_kernel_too_big_message():
    x = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d_forward: kernel 5x5 \(dilated "
                       r"9x9\) does not fit input 3x3 with padding 0"):
        conv2d_forward(x, np.zeros((1, 1, 5, 5)), None, dilation=2)


@pytest.mark.parametrize("naive", [False, True])
def test_backward_rejects_bad_dout(naive):
    fwd, bwd = ((conv2d_forward_naive, conv2d_backward_naive) if naive
                else (conv2d_forward, conv2d_backward))
    out, cache = fwd(X, W, B)
    name = bwd.__name__
    with pytest.raises(ValueError, match=f"{name}: dout must have the forward"):
        bwd(np.zeros((2, 4, 3, 2)), cache)
    with pytest.raises(TypeError, match=f"{name}: dout must have the forward "
                       "dtype"):
        bwd(np.zeros(out.shape, dtype=np.float32), cache)


def test_backward_rejects_wrong_cache():
    _, cache_naive = conv2d_forward_naive(X, W, B)
    out, cache = conv2d_forward(X, W, B)
    with pytest.raises(TypeError, match="conv2d_backward: cache must be the "
                       "ConvCache returned by conv2d_forward .*got "
                       "NaiveConvCache"):
        conv2d_backward(np.zeros_like(out), cache_naive)
    with pytest.raises(TypeError, match="conv2d_backward_naive: cache must be "
                       "the NaiveConvCache returned by conv2d_forward_naive"):
        conv2d_backward_naive(np.zeros_like(out), cache)
    # Backward before forward (a layer's cache is still None).
    with pytest.raises(TypeError, match=r"conv2d_backward: .*\(run the forward "
                       r"pass first\), got None"):
        conv2d_backward(np.zeros_like(out), None)
    with pytest.raises(TypeError, match="got tuple"):
        conv2d_backward(np.zeros_like(out), tuple(cache))


def test_caches_are_named_and_print_shapes():
    out, cache = conv2d_forward(X, W, B)
    assert cache.w is W and cache.out_shape == out.shape
    assert cache.x_shape == X.shape and cache.has_bias
    # cols is always the im2col matrix, one row per output position (few
    # channels with a bias: plus a column of ones for the bias).
    assert cache.cols.shape == (2 * 3 * 3, 3 * 3 * 3 + 1)
    assert np.array_equal(cache.cols[:, :-1], im2col(X, 3))
    x10, w10 = np.ones((1, 10, 4, 4)), np.ones((2, 10, 3, 3))
    assert conv2d_forward(x10, w10, None)[1].cols.shape == (4, 90)
    text = repr(cache)
    assert text.startswith("ConvCache(cols=<float64 array (")
    assert f"x_shape={X.shape}" in text and "stride=(1, 1)" in text
    _, cache_n = conv2d_forward_naive(X, W, None, stride=2)
    assert cache_n.b is None and cache_n.stride == (2, 2)
    assert repr(cache_n).startswith(f"NaiveConvCache(x=<float64 array {X.shape}>")


@pytest.mark.parametrize("func", [correlate2d, convolve2d])
def test_correlate_rejects_bad_input(func):
    name = func.__name__
    with pytest.raises(ValueError, match=f"{name}: image must have shape"):
        func(np.zeros((2, 3, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=f"{name}: kernel must have shape"):
        func(np.zeros((3, 3)), np.ones(2))
    with pytest.raises(ValueError, match=f"{name}: mode must be"):
        func(np.zeros((3, 3)), np.ones((2, 2)), "wrap")
    with pytest.raises(ValueError, match=f"{name}: kernel 4x2 does not fit"):
        func(np.zeros((3, 3)), np.ones((4, 2)))
    with pytest.raises(TypeError, match=f"{name}: image must be float32"):
        func(np.zeros((3, 3), dtype=complex), np.ones((2, 2)))


def test_im2col_rejects_bad_input():
    with pytest.raises(ValueError, match="im2col: x must have shape"):
        im2col(np.zeros((3, 3)), 2)
    with pytest.raises(ValueError, match="im2col: kernel"):
        im2col(np.zeros((1, 1, 3, 3)), 0)


def _channels_last_view(a):
    """a's values as an NCHW-shaped view of channels-last memory."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@both_paths
def test_any_memory_layout_of_x_and_dout(short_run, monkeypatch):
    # In a network x and dout arrive NCHW or as channels-last views (from a
    # conv, a pool or a ReLU); the numbers must not depend on the layout.
    monkeypatch.setattr(cnnlib.conv, "_SHORT_RUN", short_run)
    rng = np.random.default_rng(21)
    for trial in range(60):
        x, w, b, cfg = random_config(rng)
        out_n, cache_n = conv2d_forward_naive(x, w, b, **cfg)
        dout = rng.standard_normal(out_n.shape)
        dx_n, dw_n, db_n = conv2d_backward_naive(dout, cache_n)
        xl = _channels_last_view(x) if trial % 2 else x
        dl = _channels_last_view(dout) if trial % 4 < 2 else dout
        msg = f"trial {trial}: x{x.shape} w{w.shape} {cfg} x_last={trial % 2}"
        out, cache = conv2d_forward(xl, w, b, **cfg)
        assert rel_error(out, out_n) < 1e-9, msg
        assert out.flags.c_contiguous, msg  # NCHW out, whatever came in
        dx, dw, db = conv2d_backward(dl, cache)
        assert rel_error(dx, dx_n) < 1e-9, msg
        strides = [st for st, n in zip(dx.strides, dx.shape) if n > 1]
        assert strides == sorted(strides, reverse=True), msg  # NCHW order
        assert rel_error(dw, dw_n) < 1e-9, msg
        if b is not None:
            assert rel_error(db, db_n) < 1e-9, msg


def test_conv_pool_conv_chain_matches_loops():
    # conv -> max pool -> conv, and back: the fast chain must equal the loop
    # chain, and the fast conv hands ordinary NCHW arrays to the pool (its
    # channels-last working layout stays inside cnnlib.conv).
    from cnnlib.pool import (
        maxpool2d_backward,
        maxpool2d_backward_naive,
        maxpool2d_forward,
        maxpool2d_forward_naive,
    )
    rng = np.random.default_rng(22)
    x = rng.standard_normal((2, 12, 10, 10))
    w1, b1 = rng.standard_normal((16, 12, 3, 3)), rng.standard_normal(16)
    w2, b2 = rng.standard_normal((4, 16, 3, 3)), rng.standard_normal(4)
    results = []
    for conv_f, conv_b, pool_f, pool_b in (
            (conv2d_forward, conv2d_backward, maxpool2d_forward,
             maxpool2d_backward),
            (conv2d_forward_naive, conv2d_backward_naive,
             maxpool2d_forward_naive, maxpool2d_backward_naive)):
        h1, c1 = conv_f(x, w1, b1, padding=1)
        h2, c2 = pool_f(h1, 2)
        h3, c3 = conv_f(h2, w2, b2)
        dh2, dw2, _ = conv_b(np.ones_like(h3), c3)
        dx, dw1, _ = conv_b(pool_b(dh2, c2), c1)
        results.append((h3, dw2, dx, dw1))
        if conv_f is conv2d_forward:
            assert h1.flags.c_contiguous and h3.flags.c_contiguous
            assert dx.flags.c_contiguous and dh2.flags.c_contiguous
    for fast, naive in zip(*results):
        assert rel_error(fast, naive) < 1e-9


# ------------------------------------------------- sizes refused (issue 13)
# Each of these tried to allocate about 12.8 GB (or 8 TB) before this check.


def test_im2col_huge_kernel_refused_before_allocating():
    x = np.zeros((1, 1, 4, 4))
    assert_refused_before_allocating(lambda: im2col(x, 10**6),
             ["im2col: kernel 1000000x1000000 does not fit input 4x4"])


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_naive])
def test_conv_huge_padding_refused_before_allocating(forward):
    x, w = np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1))
    assert_refused_before_allocating(lambda: forward(x, w, None, padding=20000),
             [f"{forward.__name__}: the padded input would have shape "
              "(1, 1, 40001, 40001) = 12.8 GB", "MAX_ARRAY_BYTES"])


def test_im2col_huge_column_matrix_refused():
    # The input is small (2 MB) but its 51x51 windows would fill 5.2 GB.
    x = np.zeros((1, 1, 500, 500))
    assert_refused_before_allocating(lambda: im2col(x, 51, padding=25),
             ["im2col: the im2col matrix would have shape (250000, 2601)"])


def test_memory_limit_can_be_raised(monkeypatch):
    import cnnlib.shapes

    x = np.zeros((1, 1, 100, 100))
    monkeypatch.setattr(cnnlib.shapes, "MAX_ARRAY_BYTES", 10**4)
    with pytest.raises(ValueError, match="the padded input would have shape"):
        conv2d_forward(x, np.zeros((1, 1, 1, 1)), None)
    monkeypatch.setattr(cnnlib.shapes, "MAX_ARRAY_BYTES", 10**6)
    assert conv2d_forward(x, np.zeros((1, 1, 1, 1)), None)[0].shape == x.shape
