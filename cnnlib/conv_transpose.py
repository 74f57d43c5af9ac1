"""Transposed convolution: the convolution's backward pass used forwards.

A convolution maps a big map to a small one; its backward pass (notebook 06)
sends each output gradient back to the window it came from, which maps a
small map to a big one. Run that as a layer of its own and it is the
*transposed convolution* ("deconvolution", "fractionally strided
convolution"): every input value paints a copy of the kernel, scaled by
itself, into the output, ``stride`` cells apart, and overlaps add up. If
``C`` is the matrix of a convolution, the transposed convolution with the
same weights, stride, padding and dilation is ``C.T``.

``conv_transpose2d_forward_naive`` is the painting loop, written to be read;
``conv_transpose2d_forward`` is the same with one matrix multiply per
kernel tap, and its backward pass is an ordinary convolution
(`cnnlib.conv.conv2d_forward`) and that convolution's weight gradient.

Taught in notebooks/08_upsampling_and_autoencoders.ipynb.
"""

from collections import namedtuple

import numpy as np

from .conv import _conv2d, _conv2d_backward, paint_back
from .shapes import (
    as_pair,
    check_array,
    check_bias,
    check_dout,
    check_finite,
    check_memory,
    conv_transpose_output_size,
    output_hw,
)

__all__ = [
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward_naive",
    "ConvTransposeCache",
]

ConvTransposeCache = namedtuple(
    "ConvTransposeCache",
    ["x", "w", "has_b", "stride", "padding", "output_padding", "dilation"])
ConvTransposeCache.__doc__ = """What `conv_transpose2d_backward` needs.

x : the forward input (N, C_in, H, W); w : the weights (C_in, F, KH, KW);
has_b : whether there was a bias; stride, padding, output_padding,
dilation : (int, int) pairs.
"""


def _check(x, w, b, stride, padding, output_padding, dilation, func):
    """Validate; return the four pairs and the output size (H_out, W_out)."""
    check_array(x, "x", func, 4, "(N, C_in, H, W)")
    check_array(w, "w", func, 4, "(C_in, F, KH, KW)")
    if w.dtype != x.dtype:
        raise TypeError(f"{func}: w must have the dtype of x ({x.dtype}), "
                        f"got {w.dtype}")
    if 0 in x.shape:
        raise ValueError(f"{func}: x must have N, C_in, H, W >= 1 (a "
                         f"non-empty batch), got x of shape {x.shape}")
    if 0 in w.shape:
        raise ValueError(f"{func}: w must have C_in, F, KH, KW >= 1, got w "
                         f"of shape {w.shape}")
    if w.shape[0] != x.shape[1]:
        raise ValueError(
            f"{func}: w must have shape (C_in, F, KH, KW) with C_in = "
            f"{x.shape[1]} to match x of shape {x.shape}, got w of shape "
            f"{w.shape} (the layout is PyTorch's ConvTranspose2d: input "
            f"channels first)")
    F = w.shape[1]
    check_bias(b, F, x, w, func)
    stride = as_pair(stride, "stride", func)
    padding = as_pair(padding, "padding", func, minimum=0)
    output_padding = as_pair(output_padding, "output_padding", func, minimum=0)
    dilation = as_pair(dilation, "dilation", func)
    try:  # the size formula lives in cnnlib.shapes only
        out_hw = conv_transpose_output_size(x.shape[2:], w.shape[2:], stride,
                                            padding, output_padding, dilation)
    except ValueError as err:  # its message, named for this function
        raise ValueError(f"{func}: {str(err).split(': ', 1)[1]}") from None
    N = len(x)
    (ph, pw), (KH, KW) = padding, w.shape[2:]
    y_hw = output_hw(out_hw, (KH, KW), stride, padding, dilation, func)
    check_memory({  # refused before anything is allocated
        "the painted map": (N, F, out_hw[0] + 2 * ph, out_hw[1] + 2 * pw),
        "the backward's im2col matrix": (N * y_hw[0] * y_hw[1], KH * KW * F)},
        x.dtype, func)
    check_finite(x, "x", func)
    check_finite(w, "w", func)
    if b is not None:
        check_finite(b, "b", func)
    return stride, padding, output_padding, dilation, out_hw


def conv_transpose2d_forward_naive(x, w, b, stride=1, padding=0,
                                   output_padding=0, dilation=1):
    """Transposed convolution with plain loops (slow; for reading).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_in, F, KH, KW)
        As PyTorch's ``ConvTranspose2d.weight``: input channels first.
    b : ndarray, shape (F,), or None
    stride, padding, output_padding, dilation : int or (int, int)
        ``padding`` cells are cropped from every side of the painted map;
        ``output_padding`` adds cells at the bottom/right only.

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : ConvTransposeCache, consumed by `conv_transpose2d_backward`

    Notes
    -----
    Input cell (i, j) paints ``x[n, c, i, j] * w[c, f]`` into the output
    with its top-left corner at (i*stride, j*stride), kernel taps
    ``dilation`` apart; overlapping paint adds up. Then ``padding`` is
    cropped away. ``H_out = (H - 1)*stride - 2*padding
    + dilation*(KH - 1) + output_padding + 1``.
    """
    func = "conv_transpose2d_forward_naive"
    (sh, sw), (ph, pw), op, (dil_h, dil_w), (H_out, W_out) = _check(
        x, w, b, stride, padding, output_padding, dilation, func)
    N, C, H, W = x.shape
    F, KH, KW = w.shape[1:]
    # The full painted canvas, before cropping `padding` from each side.
    canvas = np.zeros((N, F, H_out + 2 * ph, W_out + 2 * pw), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    rows = slice(i * sh, i * sh + dil_h * (KH - 1) + 1, dil_h)
                    cols = slice(j * sw, j * sw + dil_w * (KW - 1) + 1, dil_w)
                    canvas[n, :, rows, cols] += x[n, c, i, j] * w[c]
    out = canvas[:, :, ph:ph + H_out, pw:pw + W_out].copy()
    if b is not None:
        out += b[:, None, None]
    return out, ConvTransposeCache(x, w, b is not None, (sh, sw), (ph, pw),
                                   op, (dil_h, dil_w))


def conv_transpose2d_forward(x, w, b, stride=1, padding=0, output_padding=0,
                             dilation=1):
    """Transposed convolution, vectorised: one matmul and one add per tap.

    Parameters and returns as `conv_transpose2d_forward_naive` (same
    numbers up to rounding). float32 stays float32, float64 float64.

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out), dtype of x, contiguous
    cache : ConvTransposeCache

    Raises
    ------
    ValueError, TypeError
        Bad shapes or dtypes, NaN/inf, an empty batch, output_padding not
        smaller than stride or dilation, a padding that crops everything,
        an output (or the backward's im2col matrix) over
        `cnnlib.shapes.MAX_ARRAY_BYTES`.

    Notes
    -----
    This is the input gradient of a convolution (`conv2d_backward`'s dx)
    with ``dout = x``, computed by the same code, `cnnlib.conv.paint_back`:
    with x as a matrix of one row per input cell, (H*W*N, C_in), the
    product with ``w[:, :, kh, kw]`` is what every input cell paints at
    kernel tap (kh, kw), added into a strided slice of the canvas.
    """
    func = "conv_transpose2d_forward"
    stride, padding, op, dilation, (H_out, W_out) = _check(
        x, w, b, stride, padding, output_padding, dilation, func)
    # Every input cell paints its kernel: exactly a convolution's input
    # gradient with dout = x (w read as (F', C', KH, KW) = (C_in, F, KH, KW)).
    out = paint_back(x, w, (len(x), H_out, W_out), stride, padding, dilation)
    if b is not None:
        out += b[:, None, None]
    cache = ConvTransposeCache(x, w, b is not None, stride, padding, op,
                               dilation)
    return out, cache


def conv_transpose2d_backward(dout, cache):
    """Backward pass of the transposed convolution.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : ConvTransposeCache from either forward version

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_in, F, KH, KW)
    db : ndarray, shape (F,), or None if the forward had no bias

    Raises
    ------
    ValueError, TypeError
        dout of another shape or dtype than the forward's output, a cache
        that is not the forward's. (Like the other backward passes, it does
        not scan dout for NaN: NaN in gives NaN out.)

    Notes
    -----
    The transposed convolution is the backward of a convolution, so its
    backward is a forward convolution: ``dx = conv2d(dout, w)`` with the
    same stride, padding and dilation (``w`` read as (F', C', KH, KW) =
    (C_in, F, KH, KW)). ``dw`` is that convolution's weight gradient with
    ``x`` as its upstream gradient.
    """
    func = "conv_transpose2d_backward"
    if not isinstance(cache, ConvTransposeCache):
        raise TypeError(f"{func}: cache must be the ConvTransposeCache "
                        f"returned by conv_transpose2d_forward, got "
                        f"{type(cache).__name__}")
    x, w, has_b, stride, padding, op, dilation = cache
    N, C, H, W = x.shape
    F, KH, KW = w.shape[1:]
    out_hw = conv_transpose_output_size((H, W), (KH, KW), stride, padding, op,
                                        dilation)
    check_dout(dout, (N, F, *out_hw), x.dtype, func)
    # The settings were checked by the forward, dout just now: no second
    # round of checks inside the convolution.
    y_hw = output_hw(out_hw, (KH, KW), stride, padding, dilation, func)
    y, conv_cache = _conv2d(dout, w, None, stride, padding, dilation, y_hw)
    # With output_padding >= stride (allowed when dilation is larger) the
    # convolution sees extra rows/columns at the end that x never painted.
    dx = y[:, :, :H, :W]
    grad_y = x
    if y.shape[2:] != (H, W):
        grad_y = np.zeros(y.shape, dtype=x.dtype)
        grad_y[:, :, :H, :W] = x
    _, dw, _ = _conv2d_backward(grad_y, conv_cache, need_dx=False)
    db = None
    if has_b:  # sums over (N, H_out, W_out); a matrix-vector product is
        # several times faster than dout.sum(axis=(0, 2, 3))
        db = (dout.reshape(N * F, -1) @ np.ones(dout[0, 0].size, x.dtype)
              ).reshape(N, F).sum(axis=0)
    return dx, dw, db
