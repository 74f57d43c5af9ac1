"""2-D convolution (cross-correlation): loop version, fast version, backward.

``conv2d_forward_naive`` / ``conv2d_backward_naive`` are plain loops written
to be read; ``conv2d_forward`` / ``conv2d_backward`` compute the same numbers
with one matrix multiply per layer (im2col) and are what training uses.
``correlate2d`` and ``convolve2d`` work on single 2-D arrays, like
``scipy.signal.correlate2d`` / ``convolve2d``.

Letters: stride ``(sh, sw)``, padding ``(ph, pw)``, dilation
``(dil_h, dil_w)``, output ``(H_out, W_out)``; ``dw`` is always the weight
gradient.

Taught in notebooks/02_convolution.ipynb.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .shapes import (
    as_pair,
    cache_type,
    check_array,
    check_bias,
    check_cache,
    check_dout,
    check_finite,
    check_memory,
    output_hw,
)

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
    "ConvCache",
    "NaiveConvCache",
    "im2col",
    "correlate2d",
    "convolve2d",
]

ConvCache = cache_type(
    "ConvCache",
    ["cols", "w", "has_bias", "x_shape", "out_shape", "stride", "padding",
     "dilation"],
    """What `conv2d_backward` needs from `conv2d_forward`.

cols      : the im2col matrix of x, (N*H_out*W_out, KH*KW*C), see `im2col`
            (for few channels with a bias: one more column, of ones)
w         : the weights (F, C, KH, KW)
has_bias  : whether the forward added a bias (then db is computed)
x_shape   : (N, C, H, W);  out_shape : (N, F, H_out, W_out)
stride, padding, dilation : (h, w) pairs
""", __name__)

NaiveConvCache = cache_type(
    "NaiveConvCache",
    ["x", "w", "b", "out_shape", "stride", "padding", "dilation"],
    """What `conv2d_backward_naive` needs: the forward's inputs and settings.
""", __name__)


def _check_arrays(x, w, b, func):
    """Check x (N, C, H, W), w (F, C, KH, KW) and b (F,) or None."""
    check_array(x, "x", func, 4, "(N, C, H, W)")
    check_array(w, "w", func, 4, "(F, C, KH, KW)")
    if w.dtype != x.dtype:
        raise TypeError(f"{func}: w must have the dtype of x ({x.dtype}), "
                        f"got {w.dtype}")
    _check_batch(x, func)
    F, C_w, KH, KW = w.shape
    if F == 0 or KH == 0 or KW == 0:
        raise ValueError(f"{func}: w must have F, KH, KW >= 1, got w of "
                         f"shape {w.shape}")
    if C_w != x.shape[1]:
        C = x.shape[1]
        raise ValueError(f"{func}: w must have {C} input channels to match x "
                         f"(N, C={C}, H, W), got w of shape {w.shape}")
    check_bias(b, F, x, w, func)


def _check_batch(x, func):
    if 0 in x.shape:
        raise ValueError(f"{func}: x must have N, C, H, W >= 1 (a non-empty "
                         f"batch), got x of shape {x.shape}")


def _geometry(x, kernel_hw, F, stride, padding, dilation, func):
    """Validate the settings; return (stride, padding, dilation, out_hw).

    Refuses, before anything is allocated, a layer whose padded input,
    column matrix or output would exceed `cnnlib.shapes.MAX_ARRAY_BYTES`.
    """
    stride = as_pair(stride, "stride", func)
    padding = as_pair(padding, "padding", func, minimum=0)
    dilation = as_pair(dilation, "dilation", func)
    N, C, H, W = x.shape
    H_out, W_out = output_hw((H, W), kernel_hw, stride, padding, dilation,
                             func)
    (KH, KW), (ph, pw) = kernel_hw, padding
    arrays = {"the padded input": (N, C, H + 2 * ph, W + 2 * pw),
              "the im2col matrix": (N * H_out * W_out, KH * KW * C)}
    if F is not None:
        arrays["the output"] = (N, F, H_out, W_out)
    check_memory(arrays, x.dtype, func)
    return stride, padding, dilation, (H_out, W_out)


def _check_conv(x, w, b, stride, padding, dilation, func):
    """Validate a conv layer's arguments; return its geometry (see above)."""
    _check_arrays(x, w, b, func)
    geometry = _geometry(x, w.shape[2:], w.shape[0], stride, padding,
                         dilation, func)
    check_finite(x, "x", func)
    check_finite(w, "w", func)
    if b is not None:
        check_finite(b, "b", func)
    return geometry


# ---------------------------------------------------------------- loops


def conv2d_forward_naive(x, w, b, stride=1, padding=0, dilation=1):
    """Convolution layer forward pass with plain loops (slow; for reading).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, KH, KW)
    b : ndarray, shape (F,), or None
    stride, padding, dilation : int or (int, int)
        ``padding`` zeros are added on every side.

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : NaiveConvCache, consumed by `conv2d_backward_naive`

    Notes
    -----
    ``out[n, f, i, j] = sum(window * w[f]) + b[f]``, where ``window`` is the
    (C, KH, KW) patch of the padded input under output position (i, j).
    ``H_out = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1``.
    """
    func = "conv2d_forward_naive"
    (sh, sw), (ph, pw), (dil_h, dil_w), (H_out, W_out) = _check_conv(
        x, w, b, stride, padding, dilation, func)
    N, F, KH, KW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * sh, j * sw
                    window = xp[n, :, top:top + dil_h * (KH - 1) + 1:dil_h,
                                left:left + dil_w * (KW - 1) + 1:dil_w]
                    out[n, f, i, j] = np.sum(window * w[f])
                    if b is not None:
                        out[n, f, i, j] += b[f]
    cache = NaiveConvCache(x, w, b, out.shape, (sh, sw), (ph, pw),
                           (dil_h, dil_w))
    return out, cache


def conv2d_backward_naive(dout, cache):
    """Convolution layer backward pass with plain loops (slow; for reading).

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : NaiveConvCache from `conv2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, KH, KW)
    db : ndarray, shape (F,), or None if the forward had no bias

    Notes
    -----
    Every output value used one window and one filter, so it sends
    ``dout * w[f]`` back to that window and ``dout * window`` to the filter;
    shared weights add up the contributions of all positions.
    """
    func = "conv2d_backward_naive"
    x, w, b, out_shape, (sh, sw), (ph, pw), (dil_h, dil_w) = check_cache(
        cache, NaiveConvCache, func)
    check_dout(dout, out_shape, x.dtype, func)
    N, F, H_out, W_out = dout.shape
    KH, KW = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * sh, i * sh + dil_h * (KH - 1) + 1, dil_h)
                    cols = slice(j * sw, j * sw + dil_w * (KW - 1) + 1, dil_w)
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    db = None if b is None else dout.sum(axis=(0, 2, 3))
    return dx, dw, db


# ---------------------------------------------------------------- fast
#
# The layout trick lives here and only here. Inside the fast versions the
# activations are channels-last, (N, H, W, C), so the column matrix is
# copied in long contiguous runs of KW*C numbers; what goes in and what
# comes out is ordinary contiguous NCHW.

# Shorter runs than this (few channels: grayscale or RGB input) are slow to
# copy, so such layers stay NCHW and build the transposed matrix from
# image-sized blocks instead. Crossover measured on batch 64.
_SHORT_RUN = 28


def _few_channels(C, KW):
    return C * KW < _SHORT_RUN


def _offsets(KH, KW, stride, dilation, out_hw):
    """(kh, kw, rows, cols): the padded-input slices seen by each offset."""
    (sh, sw), (dil_h, dil_w), (H_out, W_out) = stride, dilation, out_hw
    for kh in range(KH):
        rows = slice(kh * dil_h, kh * dil_h + sh * (H_out - 1) + 1, sh)
        for kw in range(KW):
            yield kh, kw, rows, slice(kw * dil_w,
                                      kw * dil_w + sw * (W_out - 1) + 1, sw)


def _pad(x, padding, channels_last):
    """Zero-padded copy of x (N, C, H, W), as NCHW or as (N, H, W, C)."""
    N, C, H, W = x.shape
    ph, pw = padding
    if channels_last:
        x = x.transpose(0, 2, 3, 1)
        if ph == pw == 0:
            return np.ascontiguousarray(x)
        shape = (N, H + 2 * ph, W + 2 * pw, C)
        inner = (slice(None), slice(ph, ph + H), slice(pw, pw + W))
    else:
        shape = (N, C, H + 2 * ph, W + 2 * pw)
        inner = (slice(None), slice(None), slice(ph, ph + H), slice(pw, pw + W))
    xp = np.zeros(shape, dtype=x.dtype)
    xp[inner] = x
    return xp


def _columns(x, KH, KW, stride, padding, dilation, out_hw, ones=False):
    """The im2col matrix, shape (N*H_out*W_out, KH*KW*C); see `im2col`.

    With few channels it is the transpose (a view) of a C-ordered array of
    shape (KH*KW*C, N*H_out*W_out), with a last row of ones if ``ones``.
    """
    N, C = x.shape[:2]
    K = KH * KW * C
    if _few_channels(C, KW):
        xp = _pad(x, padding, channels_last=False)
        cols_t = np.empty((K + ones, N * out_hw[0] * out_hw[1]), dtype=x.dtype)
        blocks = cols_t[:K].reshape(KH, KW, C, N, *out_hw)
        for kh, kw, rows, cols in _offsets(KH, KW, stride, dilation, out_hw):
            blocks[kh, kw] = xp[:, :, rows, cols].transpose(1, 0, 2, 3)
        cols_t[K:] = 1
        return cols_t.T
    (sh, sw), (dil_h, dil_w), (H_out, W_out) = stride, dilation, out_hw
    view = sliding_window_view(_pad(x, padding, channels_last=True),
                               (dil_h * (KH - 1) + 1, dil_w * (KW - 1) + 1),
                               axis=(1, 2))
    view = view[:, :sh * (H_out - 1) + 1:sh, :sw * (W_out - 1) + 1:sw,
                :, ::dil_h, ::dil_w]  # (N, H_out, W_out, C, KH, KW): no copy
    return view.transpose(0, 1, 2, 4, 5, 3).reshape(-1, K)


def im2col(x, kernel, stride=1, padding=0, dilation=1):
    """Copy every receptive-field window of x into one row of a matrix.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel : int or (int, int)
        Kernel size (KH, KW).
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    cols : ndarray, shape (N*H_out*W_out, KH*KW*C)
        Row ``(n*H_out + i)*W_out + j`` is the window under output (i, j) of
        sample n, flattened in (kernel row, kernel col, channel) order.

    Notes
    -----
    With ``w_mat = w.transpose(2, 3, 1, 0).reshape(KH*KW*C, F)`` (same order),
    the whole layer is one matrix multiply: ``cols @ w_mat`` is the output
    in (N, H_out, W_out, F) order. The copy, not the multiply, decides the
    speed, so it is arranged to copy long contiguous runs: with channels
    last each run is KW*C numbers; for few channels the matrix is built
    transposed, one image-sized block per kernel offset.
    """
    func = "im2col"
    check_array(x, "x", func, 4, "(N, C, H, W)")
    _check_batch(x, func)
    kernel_hw = as_pair(kernel, "kernel", func)
    stride, padding, dilation, out_hw = _geometry(
        x, kernel_hw, None, stride, padding, dilation, func)
    check_finite(x, "x", func)
    return _columns(x, *kernel_hw, stride, padding, dilation, out_hw)


def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1):
    """Convolution layer forward pass, vectorised (im2col + one matmul).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
    w : ndarray, shape (F, C, KH, KW), same dtype as x
    b : ndarray, shape (F,), or None
    stride, padding, dilation : int or (int, int)
        ``padding`` zeros are added on every side.

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out), dtype of x, C-contiguous
    cache : ConvCache, consumed by `conv2d_backward`

    Raises
    ------
    ValueError, TypeError
        Bad shapes, dtypes, NaN/inf, empty batch, a kernel that does not
        fit, arrays over `cnnlib.shapes.MAX_ARRAY_BYTES`.

    Notes
    -----
    Same numbers as `conv2d_forward_naive` (up to rounding).
    ``H_out = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1``.
    """
    stride, padding, dilation, out_hw = _check_conv(
        x, w, b, stride, padding, dilation, "conv2d_forward")
    return _conv2d(x, w, b, stride, padding, dilation, out_hw)


def _conv2d(x, w, b, stride, padding, dilation, out_hw):
    """`conv2d_forward` on checked arguments (pairs and the output size)."""
    C, KW = x.shape[1], w.shape[3]
    forward = _forward_few_channels if _few_channels(C, KW) else \
        _forward_channels_last
    out, cols = forward(x, w, b, stride, padding, dilation, out_hw)
    cache = ConvCache(cols, w, b is not None, x.shape, out.shape, stride,
                      padding, dilation)
    return out, cache


def _forward_few_channels(x, w, b, stride, padding, dilation, out_hw):
    """`conv2d_forward` in NCHW: per sample (F, K) @ (K, H_out*W_out).

    Wide products whose results are already NCHW. The bias rides along as
    a weight column against the column of ones, saving a pass over out.
    """
    N = x.shape[0]
    F, _, KH, KW = w.shape
    cols = _columns(x, KH, KW, stride, padding, dilation, out_hw,
                    ones=b is not None)
    cols_t = cols.T  # C-ordered (K [+ 1], N*H_out*W_out)
    w_mat = w.transpose(0, 2, 3, 1).reshape(F, -1)
    if b is not None:
        w_mat = np.concatenate([w_mat, b[:, None]], axis=1)
    out = np.matmul(w_mat, cols_t.reshape(len(cols_t), N, -1).transpose(
        1, 0, 2)).reshape(N, F, *out_hw)
    return out, cols


def _forward_channels_last(x, w, b, stride, padding, dilation, out_hw):
    """`conv2d_forward` with the columns channels-last: one big product."""
    N = x.shape[0]
    F, _, KH, KW = w.shape
    cols = _columns(x, KH, KW, stride, padding, dilation, out_hw)
    out_mat = cols @ w.transpose(2, 3, 1, 0).reshape(-1, F)
    # out_mat is channels-last, (N, H_out*W_out, F): one pass turns it NCHW
    # and adds the bias.
    out = np.empty((N, F, *out_hw), dtype=x.dtype)
    nchw = out_mat.reshape(N, -1, F).transpose(0, 2, 1)
    if b is None:
        out.reshape(N, F, -1)[...] = nchw
    else:
        np.add(nchw, b[:, None], out=out.reshape(N, F, -1))
    return out, cols


def conv2d_backward(dout, cache, need_dx=True):
    """Convolution layer backward pass, vectorised.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : ConvCache from `conv2d_forward`
    need_dx : bool
        False skips dx (returns None): a network's first layer never needs
        the gradient with respect to the images.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None if ``need_dx`` is False
    dw : ndarray, shape (F, C, KH, KW)
    db : ndarray, shape (F,), or None if the forward had no bias

    Notes
    -----
    With ``dout_mat`` of shape (N*H_out*W_out, F): ``dw = cols.T @ dout_mat``,
    ``db`` sums dout_mat's rows, and ``dout_mat @ w_mat.T`` holds each
    window's gradient, which is added back where the window came from
    (`paint_back`, one kernel offset at a time).
    """
    check_cache(cache, ConvCache, "conv2d_backward")
    check_dout(dout, cache.out_shape, cache.w.dtype, "conv2d_backward")
    return _conv2d_backward(dout, cache, need_dx)


def _conv2d_backward(dout, cache, need_dx):
    """`conv2d_backward` on a checked dout and cache."""
    C, KW = cache.x_shape[1], cache.w.shape[3]
    backward = _backward_few_channels if _few_channels(C, KW) else \
        _backward_channels_last
    return backward(dout, cache, need_dx)


def _backward_few_channels(dout, cache, need_dx):
    """`conv2d_backward` in NCHW, as the forward: per-sample products."""
    cols, w, has_bias, (N, C, H, W), _, stride, (ph, pw), dilation = cache
    F, _, KH, KW = w.shape
    K = KH * KW * C
    cols_t = cols.T  # C-ordered (K [+ 1 row of ones], N*H_out*W_out)
    out_hw = dout.shape[2:]
    dout3 = dout.reshape(N, F, -1)
    dw_mat = np.matmul(dout3, cols_t.reshape(len(cols_t), N, -1).transpose(
        1, 2, 0)).sum(axis=0)  # (F, K), plus db as column K
    db = dw_mat[:, K].copy() if has_bias else None
    dw = np.ascontiguousarray(
        dw_mat[:, :K].reshape(F, KH, KW, C).transpose(0, 3, 1, 2))
    if not need_dx:
        return None, dw, db
    w_mat = w.transpose(2, 3, 1, 0).reshape(K, F)
    dcols = np.matmul(w_mat, dout3).reshape(N, KH, KW, C, *out_hw)
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=w.dtype)
    for kh, kw, rows, cols in _offsets(KH, KW, stride, dilation, out_hw):
        dxp[:, :, rows, cols] += dcols[:, kh, kw]
    return dxp[:, :, ph:ph + H, pw:pw + W], dw, db


def _backward_channels_last(dout, cache, need_dx):
    """`conv2d_backward` with the columns channels-last: one big product."""
    cols, w, has_bias, (N, C, H, W), _, stride, (ph, pw), dilation = cache
    F, _, KH, KW = w.shape
    dout_mat = dout.transpose(0, 2, 3, 1).reshape(-1, F)
    dw = np.ascontiguousarray(
        (cols.T @ dout_mat).reshape(KH, KW, C, F).transpose(3, 2, 0, 1))
    db = None
    if has_bias:  # a matrix-vector product is much faster than .sum(axis=0)
        db = np.ones(dout_mat.shape[0], dtype=w.dtype) @ dout_mat
    if not need_dx:
        return None, dw, db
    dx = paint_back(dout, w, (N, H, W), stride, (ph, pw), dilation)
    return dx, dw, db


def paint_back(dout, w, size, stride, padding, dilation):
    """Add each output value's ``dout * w`` back onto the input: conv's dx.

    The input gradient of a convolution, and equally the forward pass of a
    transposed convolution (`cnnlib.conv_transpose`): each of the
    ``N*H_out*W_out`` positions paints its kernel, scaled channel by channel,
    onto the window it came from; overlapping windows add up.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
        The values to paint.
    w : ndarray, shape (F, C, KH, KW)
    size : (N, H, W)
        The painted map's batch and size once ``padding`` is cropped away.
    stride, padding, dilation : (h, w) pairs

    Returns
    -------
    ndarray, shape (N, C, H, W), contiguous NCHW
    """
    (N, H, W), (ph, pw) = size, padding
    F, C = w.shape[:2]
    out_hw = dout.shape[2:]
    # One row per output position, the batch innermost: (H_out, W_out, N)
    # rows. Each kernel offset's share, dout_mat @ w[:, :, kh, kw], is then
    # added at that offset in runs of N*C numbers, which numpy does faster
    # than the C-long runs of a batch-first (N, H, W, C) canvas.
    dout_mat = dout.transpose(2, 3, 0, 1).reshape(-1, F)
    canvas = np.zeros((H + 2 * ph, W + 2 * pw, N, C), dtype=w.dtype)
    for kh, kw, rows, cols in _offsets(*w.shape[2:], stride, dilation, out_hw):
        canvas[rows, cols] += (dout_mat @ w[:, :, kh, kw]).reshape(
            *out_hw, N, C)
    # Batch first (a copy of C-long runs), then channels first (the usual
    # channels-last to NCHW copy): faster than one copy that gathers every
    # number from far apart.
    nhwc = np.ascontiguousarray(canvas[ph:ph + H, pw:pw + W].transpose(
        2, 0, 1, 3))
    return np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))


# ---------------------------------------------------------------- 2-D signals


def _as_float_2d(a, name, func):
    a = np.asarray(a)
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float64)
    check_array(a, name, func, 2, "(H, W)")
    if 0 in a.shape:
        raise ValueError(f"{func}: {name} must not be empty, got shape "
                         f"{a.shape}")
    return a


def _slide(image, kernel, mode, same_start, func):
    """Sum of kernel-weighted shifted copies of the zero-padded image."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"{func}: mode must be 'valid', 'same' or 'full', "
                         f"got {mode!r}")
    (H, W), (KH, KW) = image.shape, kernel.shape
    if mode == "valid" and (KH > H or KW > W):
        raise ValueError(f"{func}: kernel {KH}x{KW} does not fit image "
                         f"{H}x{W} in mode 'valid'; use 'same' or 'full'")
    if mode == "valid":
        pads = ((0, 0), (0, 0))
    elif mode == "full":
        pads = ((KH - 1, KH - 1), (KW - 1, KW - 1))
    else:  # 'same' is the part of 'full' that starts at same_start
        pads = tuple((k - 1 - s, s) for k, s in zip((KH, KW), same_start))
    dtype = np.result_type(image, kernel)
    padded = np.pad(image.astype(dtype, copy=False), pads)
    H_out, W_out = padded.shape[0] - KH + 1, padded.shape[1] - KW + 1
    out = np.zeros((H_out, W_out), dtype=dtype)
    for u in range(KH):
        for v in range(KW):
            out += kernel[u, v] * padded[u:u + H_out, v:v + W_out]
    return out


def correlate2d(image, kernel, mode="valid"):
    """2-D cross-correlation of one image with one kernel (what CNNs compute).

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
    mode : {'valid', 'same', 'full'}
        'valid': only where the kernel fits, shape (H-KH+1, W-KW+1);
        'same': shape (H, W); 'full': every overlap, (H+KH-1, W+KW-1).

    Returns
    -------
    out : ndarray, float32 if both inputs are float32, else float64

    Notes
    -----
    ``out[i, j] = sum_{u,v} image[i+u, j+v] * kernel[u, v]`` (zero padding
    outside the image). Integer or bool inputs are converted to float64.
    Same numbers and the same 'same' alignment (even kernels too) as
    ``scipy.signal.correlate2d``.
    """
    func = "correlate2d"
    image = _as_float_2d(image, "image", func)
    kernel = _as_float_2d(kernel, "kernel", func)
    return _slide(image, kernel, mode, (kernel.shape[0] // 2,
                                        kernel.shape[1] // 2), func)


def convolve2d(image, kernel, mode="valid"):
    """True 2-D convolution: cross-correlation with the kernel flipped.

    Parameters and returns as `correlate2d`.

    Notes
    -----
    ``out[i, j] = sum_{u,v} image[i-u, j-v] * kernel[u, v]``. Same numbers
    as ``scipy.signal.convolve2d``.
    """
    func = "convolve2d"
    image = _as_float_2d(image, "image", func)
    kernel = _as_float_2d(kernel, "kernel", func)
    flipped = kernel[::-1, ::-1]  # the only difference from correlate2d
    # For 'same' with an even kernel scipy keeps the other middle row/column
    # than for correlation; match it.
    start = ((kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2)
    return _slide(image, flipped, mode, start, func)
