"""Tests for cnnlib.conv_transpose: loop vs fast, gradients, adjoint, scipy."""

import numpy as np
import pytest
from scipy import signal

from cnnlib.conv import conv2d_backward, conv2d_forward, conv2d_forward_naive
from cnnlib.conv_transpose import (
    ConvTransposeCache,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    conv_transpose2d_forward_naive,
)
from cnnlib.gradcheck import check_gradients, rel_error
from cnnlib.shapes import conv_output_size, conv_transpose_output_size
from tests.kernel_checks import assert_refused_before_allocating


def random_config(rng, max_size=6):
    """Random arrays (float64) and settings of a valid transposed conv."""
    while True:
        N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
        H, W = (int(v) for v in rng.integers(1, max_size + 1, size=2))
        KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        output_padding = tuple(int(rng.integers(0, max(s, d)))
                               for s, d in zip(stride, dilation))
        cfg = dict(stride=stride, padding=padding,
                   output_padding=output_padding, dilation=dilation)
        try:
            conv_transpose_output_size((H, W), (KH, KW), **cfg)
        except ValueError:  # padding cropped everything: draw again
            continue
        break
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((C, F, KH, KW))
    b = rng.standard_normal(F) if rng.random() < 0.8 else None
    return x, w, b, cfg


def scatter_reference(x, w, b, stride, padding, output_padding, dilation):
    """Transposed convolution by zero-stuffing and scipy's full convolution.

    Put x's values ``stride`` apart (zeros between), put the kernel taps
    ``dilation`` apart, and the painting is a true 'full' convolution of the
    two; then crop ``padding`` and extend by ``output_padding``.
    """
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    N, C, H, W = x.shape
    F, KH, KW = w.shape[1:]
    H_out = (H - 1) * sh - 2 * ph + dh * (KH - 1) + oh + 1
    W_out = (W - 1) * sw - 2 * pw + dw * (KW - 1) + ow + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            full = 0
            for c in range(C):
                stuffed = np.zeros(((H - 1) * sh + 1, (W - 1) * sw + 1))
                stuffed[::sh, ::sw] = x[n, c]
                kernel = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
                kernel[::dh, ::dw] = w[c, f]
                full = full + signal.convolve2d(stuffed, kernel, mode="full")
            grown = np.zeros((full.shape[0] + oh, full.shape[1] + ow))
            grown[:full.shape[0], :full.shape[1]] = full
            out[n, f] = grown[ph:ph + H_out, pw:pw + W_out]
            if b is not None:
                out[n, f] += b[f]
    return out


def gather_backward(dout, x, w, stride, padding, dilation):
    """Loop gradients written from the chain rule, independently of cnnlib."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    F, KH, KW = w.shape[1:]
    canvas = np.zeros((N, F, (H - 1) * sh + dh * (KH - 1) + 1 + 2 * ph,
                       (W - 1) * sw + dw * (KW - 1) + 1 + 2 * pw))
    rows = min(dout.shape[2], canvas.shape[2] - ph)
    cols = min(dout.shape[3], canvas.shape[3] - pw)
    canvas[:, :, ph:ph + rows, pw:pw + cols] = dout[:, :, :rows, :cols]
    dx, dw_ = np.zeros_like(x), np.zeros_like(w)
    for i in range(H):
        for j in range(W):
            for kh in range(KH):
                for kw in range(KW):
                    g = canvas[:, :, i * sh + kh * dh, j * sw + kw * dw]  # (N, F)
                    dx[:, :, i, j] += g @ w[:, :, kh, kw].T
                    dw_[:, :, kh, kw] += x[:, :, i, j].T @ g
    return dx, dw_


def test_fast_matches_loop_and_references_random_configs():
    rng = np.random.default_rng(0)
    for trial in range(250):
        x, w, b, cfg = random_config(rng)
        msg = f"trial {trial}: x {x.shape} w {w.shape} b {b is not None} {cfg}"
        out, cache = conv_transpose2d_forward(x, w, b, **cfg)
        out_n, cache_n = conv_transpose2d_forward_naive(x, w, b, **cfg)
        ref = scatter_reference(x, w, b, **cfg)
        assert out.shape == out_n.shape == ref.shape, msg
        assert out.shape[2:] == conv_transpose_output_size(
            x.shape[2:], w.shape[2:], **cfg), msg
        assert rel_error(out, out_n) < 1e-10, msg
        assert rel_error(out, ref) < 1e-10, msg
        dout = rng.standard_normal(out.shape)
        dx, dw, db = conv_transpose2d_backward(dout, cache)
        dx_n, dw_n, db_n = conv_transpose2d_backward(dout, cache_n)
        dx_ref, dw_ref = gather_backward(dout, x, w, cfg["stride"],
                                         cfg["padding"], cfg["dilation"])
        assert rel_error(dx, dx_ref) < 1e-10, msg
        assert rel_error(dw, dw_ref) < 1e-10, msg
        assert np.array_equal(dx, dx_n) and np.array_equal(dw, dw_n), msg
        if b is None:
            assert db is None and db_n is None, msg
        else:
            assert rel_error(db, dout.sum(axis=(0, 2, 3))) < 1e-12, msg


@pytest.mark.parametrize("naive", [False, True])
def test_backward_matches_numerical_gradient(naive):
    rng = np.random.default_rng(1 + naive)
    forward = conv_transpose2d_forward_naive if naive else conv_transpose2d_forward
    for trial in range(10 if naive else 30):
        x, w, b, cfg = random_config(rng, max_size=4)
        inputs = [x, w] if b is None else [x, w, b]

        def f(x, w, b=None, cfg=cfg):
            return forward(x, w, b, **cfg)

        errors = check_gradients(f, conv_transpose2d_backward, inputs,
                                 ["x", "w", "b"], rng=rng)
        msg = f"trial {trial}: x {x.shape} w {w.shape} {cfg}: {errors}"
        assert len(errors) == len(inputs), msg
        assert max(errors.values()) < 1e-7, msg


def test_adjoint_of_convolution():
    """<conv2d(z, w), y> == <z, conv_transpose2d(y, w)>: C and C.T."""
    rng = np.random.default_rng(2)
    for trial in range(100):
        y, w, _, cfg = random_config(rng)
        out_t, _ = conv_transpose2d_forward(y, w, None, **cfg)
        z = rng.standard_normal(out_t.shape)  # the convolution's input
        conv_cfg = {k: cfg[k] for k in ("stride", "padding", "dilation")}
        conv_out, _ = conv2d_forward(z, w, None, **conv_cfg)
        # output_padding >= stride: the convolution sees more than y covers.
        H, W = y.shape[2:]
        assert conv_out.shape[2:] >= (H, W)
        lhs = np.sum(conv_out[:, :, :H, :W] * y)
        rhs = np.sum(z * out_t)
        msg = f"trial {trial}: y {y.shape} w {w.shape} {cfg}"
        assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs)), msg


def test_is_the_input_gradient_of_a_convolution():
    rng = np.random.default_rng(3)
    checked = 0
    for trial in range(80):
        dout, w, _, cfg = random_config(rng)
        if max(cfg["output_padding"]) >= min(cfg["stride"]):
            continue  # the convolution would give a bigger output than dout
        out_t, _ = conv_transpose2d_forward(dout, w, None, **cfg)
        conv_cfg = {k: cfg[k] for k in ("stride", "padding", "dilation")}
        z = rng.standard_normal(out_t.shape)
        conv_out, cache = conv2d_forward(z, w, None, **conv_cfg)
        assert conv_out.shape == dout.shape
        dz, _, _ = conv2d_backward(dout, cache)
        assert rel_error(out_t, dz) < 1e-10, f"trial {trial}: {cfg}"
        checked += 1
    assert checked >= 20


def test_matrix_of_a_small_convolution():
    """3x3 kernel on a 4x4 input: C (4, 16); C.T is the transposed conv."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((1, 1, 3, 3))
    C = np.stack([conv2d_forward_naive(e.reshape(1, 1, 4, 4), w, None)[0].ravel()
                  for e in np.eye(16)], axis=1)
    assert C.shape == (4, 16)
    assert np.count_nonzero(C) == 4 * 9
    y = rng.standard_normal(4)
    out_t, _ = conv_transpose2d_forward(y.reshape(1, 1, 2, 2), w, None)
    assert out_t.shape == (1, 1, 4, 4)
    assert rel_error(out_t.ravel(), C.T @ y) < 1e-12


def test_sizes_invert_the_convolution():
    for n in range(1, 12):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(0, 2):
                    try:
                        m = conv_output_size(n, k, s, p)
                    except ValueError:
                        continue
                    op = (n + 2 * p - k) % s  # the floor's remainder
                    assert conv_transpose_output_size(m, k, s, p, op) == n


def test_float32_stays_float32_and_any_layout():
    rng = np.random.default_rng(5)
    for _ in range(20):
        x, w, b, cfg = random_config(rng)
        x32, w32 = x.astype(np.float32), w.astype(np.float32)
        b32 = None if b is None else b.astype(np.float32)
        out, cache = conv_transpose2d_forward(x32, w32, b32, **cfg)
        out_n, _ = conv_transpose2d_forward_naive(x32, w32, b32, **cfg)
        assert out.dtype == out_n.dtype == np.float32
        ref, _ = conv_transpose2d_forward(x, w, b, **cfg)
        assert np.allclose(out, ref, rtol=1e-5, atol=1e-5)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        grads = conv_transpose2d_backward(dout, cache)
        assert all(g is None or g.dtype == np.float32 for g in grads)
    # Channels-last and Fortran-ordered inputs give the same numbers.
    x, w, b, cfg = random_config(np.random.default_rng(6))
    base, _ = conv_transpose2d_forward(x, w, b, **cfg)
    for xv in (np.asfortranarray(x),
               np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)):
        assert np.array_equal(conv_transpose2d_forward(xv, w, b, **cfg)[0], base)


X = np.zeros((1, 2, 3, 3))
Wt = np.zeros((2, 4, 3, 3))


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((X.tolist(), Wt, None), {}, TypeError, "x must be a NumPy array"),
    ((X[0], Wt, None), {}, ValueError, r"x must have shape \(N, C_in, H, W\)"),
    ((X, Wt[0], None), {}, ValueError, r"w must have shape \(C_in, F, KH, KW\)"),
    ((X, np.zeros((4, 2, 3, 3)), None), {}, ValueError, "C_in = 2"),
    ((X.astype(int), Wt, None), {}, TypeError, "x must be float32 or float64"),
    ((X, Wt.astype(np.float32), None), {}, TypeError, "w must have the dtype"),
    ((X, Wt, np.zeros(3)), {}, ValueError, r"b must have shape \(F,\) = \(4,\)"),
    ((X, Wt, None), {"stride": 0}, ValueError, "stride must be"),
    ((X, Wt, None), {"stride": 1.5}, TypeError, "stride must be"),
    ((X, Wt, None), {"padding": -1}, ValueError, "padding must be"),
    ((X, Wt, None), {"dilation": 0}, ValueError, "dilation must be"),
    ((X, Wt, None), {"stride": 2, "output_padding": 2}, ValueError,
     "output_padding must be smaller than stride or dilation"),
    ((X, Wt, None), {"output_padding": -1}, ValueError, "output_padding must be"),
    ((X, Wt, None), {"padding": 3}, ValueError, "crops away the whole output"),
    ((np.zeros((0, 2, 3, 3)), Wt, None), {}, ValueError, "non-empty batch"),
    ((np.full((1, 2, 3, 3), np.nan), Wt, None), {}, ValueError, "x must be finite"),
])
@pytest.mark.parametrize("naive", [False, True])
def test_forward_rejects_bad_input(naive, args, kwargs, error, match):
    forward = conv_transpose2d_forward_naive if naive else conv_transpose2d_forward
    name = forward.__name__
    with pytest.raises(error, match=match) as info:
        forward(*args, **kwargs)
    assert str(info.value).startswith(name + ":")


def test_backward_rejects_bad_dout_and_cache():
    x = np.ones((1, 2, 3, 3))
    out, cache = conv_transpose2d_forward(x, Wt + 1, None, stride=2)
    assert isinstance(cache, ConvTransposeCache)
    with pytest.raises(ValueError, match=r"dout must have the forward output's "
                       r"shape \(1, 4, 7, 7\)"):
        conv_transpose2d_backward(np.ones((1, 4, 6, 6)), cache)
    with pytest.raises(TypeError, match="dout must have the forward dtype"):
        conv_transpose2d_backward(np.ones(out.shape, np.float32), cache)
    with pytest.raises(TypeError, match="cache must be the ConvTransposeCache"):
        conv_transpose2d_backward(np.ones(out.shape), tuple(cache))


@pytest.mark.parametrize("forward", [conv_transpose2d_forward,
                                     conv_transpose2d_forward_naive])
def test_huge_output_refused_before_allocating(forward):
    # 2x2 input values painted 50000 cells apart: a 20 GB output.
    x, w = np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 1, 1))
    assert_refused_before_allocating(
        lambda: forward(x, w, None, stride=50000),
        [f"{forward.__name__}: the painted map would have shape "
         "(1, 1, 50001, 50001) = 20.0 GB", "MAX_ARRAY_BYTES"])
