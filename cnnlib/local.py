"""Locally connected layers (unshared weights) and the cost of three layer kinds.

A locally connected layer looks at the same small windows as a convolution,
but every output position has its own filters; a convolution shares one set
of filters across all positions; a dense (fully connected) layer connects
every output unit to every input pixel. `layer_cost` counts the parameters
and multiply-adds of each kind.

Taught in notebooks/01_local_connectivity.ipynb.
"""

from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .shapes import (
    as_pair,
    cache_type,
    check_array,
    check_cache,
    check_dout,
    check_finite,
    check_memory,
    check_positive_int,
    output_hw,
)

__all__ = [
    "local2d_forward",
    "local2d_backward",
    "local2d_forward_naive",
    "local2d_backward_naive",
    "LocalCache",
    "NaiveLocalCache",
    "LayerCost",
    "layer_cost",
    "count_params",
    "count_macs",
]


def _check_local(x, w, b, stride, padding, func):
    """Validate arguments; return (stride, padding, (H_out, W_out))."""
    _check_arrays(x, w, func)
    N, C, H, W = x.shape
    H_w, W_w, F, _, KH, KW = w.shape
    stride = as_pair(stride, "stride", func)
    padding = as_pair(padding, "padding", func, minimum=0)
    out_hw = output_hw((H, W), (KH, KW), stride, padding, func=func)
    (ph, pw) = padding
    check_memory({"the padded input": (N, C, H + 2 * ph, W + 2 * pw),
                  "the window matrix": (N * out_hw[0] * out_hw[1],
                                        C * KH * KW)}, x.dtype, func)
    if (H_w, W_w) != out_hw:
        raise ValueError(f"{func}: w must have shape (H_out, W_out, F, C, KH, "
                         f"KW) with (H_out, W_out) = {out_hw} for this input, "
                         f"got w of shape {w.shape}")
    if b is not None:
        _check_bias(b, (F, *out_hw), x.dtype, func)
    check_finite(x, "x", func)
    check_finite(w, "w", func)
    return stride, padding, out_hw


def _check_arrays(x, w, func):
    """x (N, C, H, W) and w (H_out, W_out, F, C, KH, KW): ranks, dtypes, C."""
    check_array(x, "x", func, 4, "(N, C, H, W)")
    check_array(w, "w", func, 6, "(H_out, W_out, F, C, KH, KW)")
    if w.dtype != x.dtype:
        raise TypeError(f"{func}: w must have the dtype of x ({x.dtype}), "
                        f"got {w.dtype}")
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"{func}: x and w must not be empty, got x of shape "
                         f"{x.shape} and w of shape {w.shape}")
    C = x.shape[1]
    if w.shape[3] != C:
        raise ValueError(f"{func}: w must have {C} input channels to match x "
                         f"(N, C={C}, H, W), got w of shape {w.shape}")


def _check_bias(b, shape, dtype, func):
    check_array(b, "b", func, 3, "(F, H_out, W_out)")
    if b.shape != shape:
        raise ValueError(f"{func}: b must have shape (F, H_out, W_out) = "
                         f"{shape}, got {b.shape}")
    if b.dtype != dtype:
        raise TypeError(f"{func}: b must have the dtype of x ({dtype}), "
                        f"got {b.dtype}")
    check_finite(b, "b", func)


LocalCache = cache_type(
    "LocalCache", ["cols", "w", "has_bias", "x_shape", "stride", "padding"],
    """What `local2d_backward` needs from `local2d_forward`.

cols     : (H_out*W_out, N, C*KH*KW) windows of x, one block per position
w        : (H_out, W_out, F, C, KH, KW) weights
has_bias : whether the forward added a bias
x_shape  : (N, C, H, W);  stride, padding : (h, w) pairs
""", __name__)

NaiveLocalCache = cache_type(
    "NaiveLocalCache", ["x", "w", "b", "stride", "padding"],
    """What `local2d_backward_naive` needs: the forward's inputs.
""", __name__)


def local2d_forward_naive(x, w, b, stride=1, padding=0):
    """Locally connected layer forward pass with plain loops (for reading).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (H_out, W_out, F, C, KH, KW)
        ``w[i, j]`` holds the F filters used only at output position (i, j).
        Position axes come first so ``w[i, j]`` looks like a conv weight.
    b : ndarray, shape (F, H_out, W_out), or None
        One bias per output unit.
    stride, padding : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : NaiveLocalCache, consumed by `local2d_backward_naive`

    Notes
    -----
    Same as `cnnlib.conv.conv2d_forward_naive` except ``w[i, j, f]`` replaces
    ``w[f]``.
    """
    func = "local2d_forward_naive"
    (sh, sw), (ph, pw), (H_out, W_out) = _check_local(
        x, w, b, stride, padding, func)
    N, F, KH, KW = x.shape[0], w.shape[2], w.shape[4], w.shape[5]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    out[n, f, i, j] = np.sum(window * w[i, j, f])
                    if b is not None:
                        out[n, f, i, j] += b[f, i, j]
    return out, NaiveLocalCache(x, w, b, (sh, sw), (ph, pw))


def local2d_backward_naive(dout, cache):
    """Locally connected layer backward pass with plain loops.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : NaiveLocalCache from `local2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (H_out, W_out, F, C, KH, KW)
    db : ndarray, shape (F, H_out, W_out), or None

    Notes
    -----
    Like `cnnlib.conv.conv2d_backward_naive`, but each position's gradient
    goes to its own filters ``dw[i, j]`` instead of being summed into one.
    """
    func = "local2d_backward_naive"
    x, w, b, (sh, sw), (ph, pw) = check_cache(cache, NaiveLocalCache, func)
    H_out, W_out, F, C, KH, KW = w.shape
    N, _, H, W = x.shape
    check_dout(dout, (N, F, H_out, W_out), x.dtype, func)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * sh, i * sh + KH)
                    cols = slice(j * sw, j * sw + KW)
                    dxp[n, :, rows, cols] += w[i, j, f] * dout[n, f, i, j]
                    dw[i, j, f] += xp[n, :, rows, cols] * dout[n, f, i, j]
    db = None if b is None else dout.sum(axis=0)
    return dxp[:, :, ph:ph + H, pw:pw + W], dw, db


def local2d_forward(x, w, b, stride=1, padding=0):
    """Locally connected layer forward pass, vectorised.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
    w : ndarray, shape (H_out, W_out, F, C, KH, KW), same dtype as x
        ``w[i, j]`` holds the F filters used only at output position (i, j).
    b : ndarray, shape (F, H_out, W_out), or None
    stride, padding : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : LocalCache, consumed by `local2d_backward`

    Notes
    -----
    The windows of all positions are copied into ``cols`` of shape
    (H_out*W_out, N, C*KH*KW); one batched matrix multiply with the
    per-position weights (H_out*W_out, C*KH*KW, F) gives every output.
    """
    func = "local2d_forward"
    (sh, sw), (ph, pw), (H_out, W_out) = _check_local(
        x, w, b, stride, padding, func)
    N, C = x.shape[:2]
    F, KH, KW = w.shape[2], w.shape[4], w.shape[5]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[
        :, :, :sh * (H_out - 1) + 1:sh, :sw * (W_out - 1) + 1:sw]
    cols = win.transpose(2, 3, 0, 1, 4, 5).reshape(H_out * W_out, N, -1)
    w_mat = w.reshape(H_out * W_out, F, -1).transpose(0, 2, 1)
    out = np.matmul(cols, w_mat).reshape(H_out, W_out, N, F)
    out = out.transpose(2, 3, 0, 1)
    if b is not None:
        out = out + b
    cache = LocalCache(cols, w, b is not None, x.shape, (sh, sw), (ph, pw))
    return out, cache


def local2d_backward(dout, cache):
    """Locally connected layer backward pass, vectorised.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : LocalCache from `local2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (H_out, W_out, F, C, KH, KW)
    db : ndarray, shape (F, H_out, W_out), or None

    Notes
    -----
    The transposes of the forward's batched product give dw and the window
    gradients; each kernel offset's share of the window gradients is added
    back onto a strided sub-grid of the padded input gradient.
    """
    func = "local2d_backward"
    cols, w, has_b, (N, C, H, W), (sh, sw), (ph, pw) = check_cache(
        cache, LocalCache, func)
    H_out, W_out, F, _, KH, KW = w.shape
    check_dout(dout, (N, F, H_out, W_out), w.dtype, func)
    dout_r = dout.transpose(2, 3, 0, 1).reshape(H_out * W_out, N, F)
    dw = np.matmul(dout_r.transpose(0, 2, 1), cols).reshape(w.shape)
    db = dout.sum(axis=0) if has_b else None
    w_mat = w.reshape(H_out * W_out, F, -1)
    dcols = np.matmul(dout_r, w_mat).reshape(H_out, W_out, N, C, KH, KW)
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=w.dtype)
    # Each kernel offset (u, v) sends its gradients to one strided sub-grid.
    for u in range(KH):
        for v in range(KW):
            dxp[:, :, u:u + sh * (H_out - 1) + 1:sh,
                v:v + sw * (W_out - 1) + 1:sw] += dcols[..., u, v].transpose(
                    2, 3, 0, 1)
    return dxp[:, :, ph:ph + H, pw:pw + W], dw, db


# ---------------------------------------------------------------- costs

LayerCost = namedtuple("LayerCost", ["params", "macs", "out_shape"])
LayerCost.__doc__ = """Size and cost of one layer (Python ints, exact).

params    : learnable numbers (weights + biases)
macs      : multiply-adds for one input image
out_shape : (F, H_out, W_out)
"""


def _chw(in_shape, func):
    """(C, H, W) from an (H, W) or (C, H, W) shape of positive ints."""
    shape = tuple(in_shape) if isinstance(in_shape, (tuple, list)) else ()
    try:
        dims = [check_positive_int(v, "in_shape", func) for v in shape]
    except ValueError:
        dims = []
    if len(dims) not in (2, 3):
        raise ValueError(f"{func}: in_shape must be (H, W) or (C, H, W) of "
                         f"positive ints, got {in_shape!r}")
    return tuple([1] + dims)[-3:]


def layer_cost(kind, in_shape, out_channels, kernel, stride=1, padding=0,
               bias=True):
    """Parameters and multiply-adds of a dense, local or conv layer.

    All three kinds produce the same output shape (F, H_out, W_out) as a
    convolution with this kernel, stride and padding, so they compare fairly.

    Parameters
    ----------
    kind : {'dense', 'local', 'conv'}
        'dense': every output unit sees every input pixel (own weights);
        'local': each output unit sees its KH x KW x C window (own weights);
        'conv': like 'local' but all positions share the F filters.
    in_shape : (H, W) or (C, H, W)
    out_channels : int
        Number of filters F.
    kernel, stride, padding : int or (int, int)
    bias : bool
        Count biases: one per filter for conv, one per output unit for
        dense and local.

    Returns
    -------
    LayerCost
        ``(params, macs, out_shape)``, exact Python ints (no overflow even
        for a dense layer on a 224x224x3 photo).

    Notes
    -----
    With ``K = C*KH*KW`` and ``U = F*H_out*W_out`` output units:
    dense ``params = C*H*W*U (+ U)``, ``macs = C*H*W*U``;
    local ``params = K*U (+ U)``, ``macs = K*U``;
    conv ``params = K*F (+ F)``, ``macs = K*U``. Padded zeros count as
    inputs of local/conv windows (the computation multiplies them).

    Examples
    --------
    >>> layer_cost('conv', (4, 4), 1, 3)
    LayerCost(params=10, macs=36, out_shape=(1, 2, 2))
    >>> layer_cost('dense', (4, 4), 1, 3).params
    68
    """
    func = "layer_cost"
    if kind not in ("dense", "local", "conv"):
        raise ValueError(f"{func}: kind must be 'dense', 'local' or 'conv', "
                         f"got {kind!r}")
    C, H, W = _chw(in_shape, func)
    F = check_positive_int(out_channels, "out_channels", func)
    KH, KW = as_pair(kernel, "kernel", func)
    stride = as_pair(stride, "stride", func)
    padding = as_pair(padding, "padding", func, minimum=0)
    H_out, W_out = output_hw((H, W), (KH, KW), stride, padding, func=func)
    units = F * H_out * W_out
    fan_in = C * H * W if kind == "dense" else C * KH * KW
    macs = fan_in * units
    if kind == "conv":
        params = fan_in * F + (F if bias else 0)
    else:
        params = macs + (units if bias else 0)
    return LayerCost(params, macs, (F, H_out, W_out))


def count_params(kind, in_shape, out_channels, kernel, stride=1, padding=0,
                 bias=True):
    """Number of learnable parameters; see `layer_cost`."""
    return layer_cost(kind, in_shape, out_channels, kernel, stride, padding,
                      bias).params


def count_macs(kind, in_shape, out_channels, kernel, stride=1, padding=0):
    """Multiply-adds for one input image; see `layer_cost`."""
    return layer_cost(kind, in_shape, out_channels, kernel, stride,
                      padding).macs
