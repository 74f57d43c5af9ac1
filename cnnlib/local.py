"""Locally connected layers (unshared weights) and the cost of three layer kinds.

A locally connected layer looks at the same small windows as a convolution,
but every output position has its own filters; a convolution shares one set
of filters across all positions; a dense (fully connected) layer connects
every output unit to every input pixel. `layer_cost` counts the parameters
and multiply-adds of each kind.

Taught in notebooks/01_local_connectivity.ipynb.
"""

from collections import namedtuple
from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .shapes import as_pair, check_array, check_dout, check_finite

__all__ = [
    "local2d_forward",
    "local2d_backward",
    "local2d_forward_naive",
    "local2d_backward_naive",
    "LayerCost",
    "layer_cost",
    "count_params",
    "count_macs",
]


def _check_local(x, w, b, stride, padding, func):
    """Validate arguments; return (stride, padding, (H_out, W_out))."""
    check_array(x, "x", func, 4, "(N, C, H, W)")
    check_array(w, "w", func, 6, "(H_out, W_out, F, C, KH, KW)")
    if w.dtype != x.dtype:
        raise TypeError(f"{func}: w must have the dtype of x ({x.dtype}), "
                        f"got {w.dtype}")
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"{func}: x and w must not be empty, got x of shape "
                         f"{x.shape} and w of shape {w.shape}")
    N, C, H, W = x.shape
    H_w, W_w, F, C_w, KH, KW = w.shape
    if C_w != C:
        raise ValueError(f"{func}: w must have {C} input channels to match x "
                         f"(N, C={C}, H, W), got w of shape {w.shape}")
    stride = as_pair(stride, "stride", func)
    padding = as_pair(padding, "padding", func, minimum=0)
    if KH > H + 2 * padding[0] or KW > W + 2 * padding[1]:
        raise ValueError(f"{func}: kernel {KH}x{KW} does not fit input "
                         f"{H}x{W} with padding {padding}")
    out_hw = tuple((n + 2 * p - k) // s + 1
                   for n, p, k, s in zip((H, W), padding, (KH, KW), stride))
    if (H_w, W_w) != out_hw:
        raise ValueError(f"{func}: w must have shape (H_out, W_out, F, C, KH, "
                         f"KW) with (H_out, W_out) = {out_hw} for this input, "
                         f"got w of shape {w.shape}")
    if b is not None:
        check_array(b, "b", func, 3, "(F, H_out, W_out)")
        if b.shape != (F, *out_hw):
            raise ValueError(f"{func}: b must have shape (F, H_out, W_out) = "
                             f"{(F, *out_hw)}, got {b.shape}")
        if b.dtype != x.dtype:
            raise TypeError(f"{func}: b must have the dtype of x ({x.dtype}), "
                            f"got {b.dtype}")
        check_finite(b, "b", func)
    check_finite(x, "x", func)
    check_finite(w, "w", func)
    return stride, padding, out_hw


def _check_cache(cache, length, func, forward):
    if not (isinstance(cache, tuple) and len(cache) == length):
        raise TypeError(f"{func}: cache must be the tuple returned by "
                        f"{forward}, got {type(cache).__name__}")


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
    cache : tuple, consumed by `local2d_backward_naive`

    Notes
    -----
    Same as `cnnlib.conv.conv2d_forward_naive` except ``w[i, j, f]`` replaces
    ``w[f]``. Taught in notebooks/01_local_connectivity.ipynb.
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
    return out, (x, w, b, (sh, sw), (ph, pw))


def local2d_backward_naive(dout, cache):
    """Locally connected layer backward pass with plain loops.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : tuple from `local2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (H_out, W_out, F, C, KH, KW)
    db : ndarray, shape (F, H_out, W_out), or None

    Notes
    -----
    Like `cnnlib.conv.conv2d_backward_naive`, but each position's gradient
    goes to its own filters ``dw[i, j]`` instead of being summed into one.
    Taught in notebooks/01_local_connectivity.ipynb.
    """
    _check_cache(cache, 5, "local2d_backward_naive", "local2d_forward_naive")
    x, w, b, (sh, sw), (ph, pw) = cache
    H_out, W_out, F, C, KH, KW = w.shape
    N, _, H, W = x.shape
    check_dout(dout, (N, F, H_out, W_out), x.dtype, "local2d_backward_naive")
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
    cache : tuple, consumed by `local2d_backward`

    Notes
    -----
    The windows of all positions are copied into ``cols`` of shape
    (H_out*W_out, N, C*KH*KW); one batched matrix multiply with the
    per-position weights (H_out*W_out, C*KH*KW, F) gives every output.
    Taught in notebooks/01_local_connectivity.ipynb.
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
    return out, (cols, w, b is not None, x.shape, (sh, sw), (ph, pw))


def local2d_backward(dout, cache):
    """Locally connected layer backward pass, vectorised.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : tuple from `local2d_forward`

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
    Taught in notebooks/01_local_connectivity.ipynb.
    """
    _check_cache(cache, 6, "local2d_backward", "local2d_forward")
    cols, w, has_b, (N, C, H, W), (sh, sw), (ph, pw) = cache
    H_out, W_out, F, _, KH, KW = w.shape
    check_dout(dout, (N, F, H_out, W_out), w.dtype, "local2d_backward")
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
    Taught in notebooks/01_local_connectivity.ipynb.

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
    shape = tuple(in_shape) if isinstance(in_shape, (tuple, list)) else None
    if (shape is None or len(shape) not in (2, 3) or not all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 1
            for v in shape)):
        raise ValueError(f"{func}: in_shape must be (H, W) or (C, H, W) of "
                         f"positive ints, got {in_shape!r}")
    C, H, W = (int(v) for v in ((1,) + shape)[-3:])
    if (not isinstance(out_channels, Integral) or isinstance(out_channels, bool)
            or out_channels < 1):
        raise ValueError(f"{func}: out_channels must be a positive int, got "
                         f"{out_channels!r}")
    F = int(out_channels)
    KH, KW = as_pair(kernel, "kernel", func)
    sh, sw = as_pair(stride, "stride", func)
    ph, pw = as_pair(padding, "padding", func, minimum=0)
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(f"{func}: kernel {KH}x{KW} does not fit input "
                         f"{H}x{W} with padding {padding}")
    H_out, W_out = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
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
