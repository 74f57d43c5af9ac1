"""Max and average pooling: any window, stride (overlapping too) and padding.

Each comes as a readable loop version (``*_naive``, one window at a time,
for the notebooks) and a fast version for training. The fast version loops
only over the KH*KW offsets inside the window: for offset ``(i, j)`` the
strided slice ``x[:, :, i::sh, j::sw]`` (cut to H_out x W_out) holds that
offset's pixel of *every* window at once. The backward pass adds into the
same slices, one offset at a time, so overlapping windows (stride < size)
accumulate correctly.

Conventions
-----------
- ``size`` (the window), ``stride``, ``padding``: an int or an ``(h, w)``
  pair; ``stride`` defaults to ``size``; padding (per side) is at most half
  the window. Letters, in both versions: window ``(KH, KW)``, stride
  ``(sh, sw)``, padding ``(ph, pw)``, output ``(H_out, W_out)``.
- Max pooling pads with ``-inf``, so padding is never selected.
- Ties: the whole gradient goes to ONE element, the first maximum in
  row-major order inside the window (PyTorch's rule). A constant window
  sends its gradient to its top-left element.
- Average pooling counts padded zeros in the average: the divisor is always
  KH*KW (PyTorch's default ``count_include_pad=True``).

Taught in notebooks/05_pooling_and_downsampling.ipynb.
"""

import numpy as np

from .shapes import (
    as_pair,
    cache_type,
    check_array,
    check_cache,
    check_dout,
    check_finite,
    check_memory,
    check_pool_padding,
    output_hw,
)

__all__ = [
    "maxpool2d_forward",
    "maxpool2d_backward",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "maxpool2d_forward_naive",
    "maxpool2d_backward_naive",
    "avgpool2d_forward_naive",
    "avgpool2d_backward_naive",
    "MaxPoolCache",
    "AvgPoolCache",
    "NaiveMaxPoolCache",
    "NaiveAvgPoolCache",
]

_SETTINGS = ["size", "stride", "padding"]
MaxPoolCache = cache_type(
    "MaxPoolCache", ["arg", "x_shape", "dtype"] + _SETTINGS,
    """What `maxpool2d_backward` needs from `maxpool2d_forward`.

arg     : (N, C, H_out, W_out) row-major index of each window's winner
x_shape : (N, C, H, W);  dtype : of x
size, stride, padding : (h, w) pairs
""", __name__)
AvgPoolCache = cache_type(
    "AvgPoolCache", ["x_shape", "dtype", "out_shape"] + _SETTINGS,
    """What `avgpool2d_backward` needs: only shapes and settings.
""", __name__)
NaiveMaxPoolCache = cache_type(
    "NaiveMaxPoolCache", ["x", "out_shape"] + _SETTINGS,
    """What `maxpool2d_backward_naive` needs: the input, to find each max.
""", __name__)
NaiveAvgPoolCache = cache_type(
    "NaiveAvgPoolCache", ["x_shape", "dtype", "out_shape"] + _SETTINGS,
    """What `avgpool2d_backward_naive` needs: only shapes and settings.
""", __name__)


def _params(x, size, stride, padding, func, finite=True):
    """Validate the arguments; return size, stride, padding, (H_out, W_out).

    Refuses, before allocating, a padded input or an output larger than
    `cnnlib.shapes.MAX_ARRAY_BYTES`.
    """
    check_array(x, "x", func, ndim=4, shape_doc="(N, C, H, W)")
    size = as_pair(size, "size", func)
    stride = size if stride is None else as_pair(stride, "stride", func)
    padding = as_pair(padding, "padding", func, minimum=0)
    check_pool_padding(size, padding, func)
    N, C, H, W = x.shape
    out_hw = output_hw((H, W), size, stride, padding, func=func,
                       what="window")
    (ph, pw) = padding
    check_memory({"the padded input": (N, C, H + 2 * ph, W + 2 * pw),
                  "the output": (N, C, *out_hw)}, x.dtype, func)
    if finite:
        check_finite(x, "x", func)
    return size, stride, padding, out_hw


def _finite_total(out):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.isfinite(np.add.reduce(out, axis=None))


# ---------------------------------------------------------------- fast


def _pad(x, padding, value):
    (ph, pw) = padding
    if ph == pw == 0:
        return x
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * ph, W + 2 * pw), value, dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    return xp


def _unpad(dxp, padding, x_shape):
    (ph, pw), (H, W) = padding, x_shape[2:]
    if ph == pw == 0:
        return dxp
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()


def _windows(a, size, stride, out_hw):
    """Yield (index, slice of ``a``) for each window offset, row-major.

    The slice for offset (i, j) has shape (N, C, H_out, W_out): element
    [n, c, r, q] is pixel (i, j) of the window of output (r, q).
    """
    (KH, KW), (sh, sw), (H_out, W_out) = size, stride, out_hw
    for i in range(KH):
        for j in range(KW):
            yield i * KW + j, a[:, :, i:i + sh * (H_out - 1) + 1:sh,
                                j:j + sw * (W_out - 1) + 1:sw]


def _grad_buffer(x_shape, size, stride, padding, out_hw, dtype):
    """The padded dx, zeroed where the slice writes will not reach.

    When the windows tile the input exactly (stride == size), every covered
    pixel is written once, so only the rows/columns dropped by the floor
    need zeros; otherwise start from all zeros and add.
    """
    N, C, H, W = x_shape
    (KH, KW), (ph, pw), (H_out, W_out) = size, padding, out_hw
    shape = (N, C, H + 2 * ph, W + 2 * pw)
    if stride != size:
        return np.zeros(shape, dtype=dtype)
    dxp = np.empty(shape, dtype=dtype)
    dxp[:, :, H_out * KH:, :] = 0
    dxp[:, :, :, W_out * KW:] = 0
    return dxp


def maxpool2d_forward(x, size=2, stride=None, padding=0):
    """Max pooling over each window of each channel (fast version).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size : int or (int, int)
        Window (KH, KW).
    stride : int or (int, int), optional
        Step between windows; default ``size`` (non-overlapping).
    padding : int or (int, int)
        Per side, at most half the window; padded cells are ``-inf``.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out), dtype of x
    cache : MaxPoolCache, consumed by `maxpool2d_backward`

    Notes
    -----
    ``H_out = (H + 2*padding - KH) // stride + 1`` (floor: a window that
    does not fit is dropped). The cache records which offset won in each
    window; ties go to the first maximum in row-major order.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, cache = maxpool2d_forward(x)
    >>> out[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> maxpool2d_forward(x, 3, stride=1)[0].shape
    (1, 1, 2, 2)
    """
    func = "maxpool2d_forward"
    size, stride, padding, out_hw = _params(x, size, stride, padding, func,
                                            finite=False)
    windows = _windows(_pad(x, padding, -np.inf), size, stride, out_hw)
    _, first = next(windows)
    out = first.copy()
    # arg[n, c, r, q] = row-major index of the winning offset in its window.
    itype = np.uint8 if size[0] * size[1] <= 256 else np.int32
    arg = np.zeros_like(out, dtype=itype)
    for idx, view in windows:
        # Strict '>' keeps the earlier offset on ties: the first max wins.
        better = view > out
        # arg = where(better, idx, arg), as integer arithmetic: np.where
        # and np.copyto(where=) are several times slower here.
        step = np.subtract(idx, arg, dtype=itype)
        step *= better
        arg += step
        np.maximum(out, view, out=out)
    # A NaN or inf in a window reaches its output, so a finite output means
    # every input used is finite; only then is x searched, to say where.
    if not _finite_total(out):
        check_finite(x, "x", func)
    return out, MaxPoolCache(arg, x.shape, x.dtype, size, stride, padding)


def maxpool2d_backward(dout, cache):
    """Route each output gradient to the input that won its window.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : MaxPoolCache from `maxpool2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of x
        Zero except at each window's (first) maximum; a pixel that wins
        several overlapping windows receives the sum of their gradients.

    Notes
    -----
    One strided slice-add per window offset: overlap-safe, no loop over
    samples or pixels.
    """
    func = "maxpool2d_backward"
    arg, x_shape, dtype, size, stride, padding = check_cache(
        cache, MaxPoolCache, func)
    check_dout(dout, arg.shape, dtype, func)
    out_hw = arg.shape[2:]
    dxp = _grad_buffer(x_shape, size, stride, padding, out_hw, dtype)
    overlap = stride[0] < size[0] or stride[1] < size[1]
    for idx, dst in _windows(dxp, size, stride, out_hw):
        if overlap:  # a pixel may win several windows: add
            dst += dout * (arg == idx)
        else:  # each pixel is in at most one window: write in place
            np.multiply(dout, arg == idx, out=dst)
    return _unpad(dxp, padding, x_shape)


def _window_sum(xp, size, stride, out_hw, scale=None):
    """Sum over each window of xp, each term times ``scale`` if given."""
    windows = _windows(xp, size, stride, out_hw)
    _, first = next(windows)
    out = first.copy() if scale is None else first * scale
    for _, view in windows:
        out += view if scale is None else view * scale
    return out


def avgpool2d_forward(x, size=2, stride=None, padding=0):
    """Average pooling over each window of each channel (fast version).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size : int or (int, int)
        Window (KH, KW).
    stride : int or (int, int), optional
        Step between windows; default ``size`` (non-overlapping).
    padding : int or (int, int)
        Per side, at most half the window; padded zeros count in the mean.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out), dtype of x
    cache : AvgPoolCache, consumed by `avgpool2d_backward`

    Notes
    -----
    Every window is divided by KH*KW, padded cells included (PyTorch's
    default ``count_include_pad=True``), so a window partly in the padding
    averages to less than the mean of its real values. Sums first, divides
    once; only if a sum overflows (values near the dtype's largest, such as
    3e38 in float32) are the values divided before they are added.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> avgpool2d_forward(x)[0][0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    func = "avgpool2d_forward"
    size, stride, padding, out_hw = _params(x, size, stride, padding, func,
                                            finite=False)
    xp = _pad(x, padding, 0)
    count = size[0] * size[1]
    with np.errstate(over="ignore", invalid="ignore"):
        out = _window_sum(xp, size, stride, out_hw)
        out /= count
    if not _finite_total(out):
        check_finite(x, "x", func)  # a NaN/inf in x: say where
        # x is finite, so a sum overflowed: divide first (this is rare).
        out = _window_sum(xp, size, stride, out_hw, x.dtype.type(1 / count))
    cache = AvgPoolCache(x.shape, x.dtype, out.shape, size, stride, padding)
    return out, cache


def avgpool2d_backward(dout, cache):
    """Spread each output gradient evenly over its window.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : AvgPoolCache from `avgpool2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of x
        Each input pixel gets ``dout / (KH*KW)`` from every window it is in.
    """
    func = "avgpool2d_backward"
    x_shape, dtype, out_shape, size, stride, padding = check_cache(
        cache, AvgPoolCache, func)
    check_dout(dout, out_shape, dtype, func)
    out_hw = out_shape[2:]
    dxp = _grad_buffer(x_shape, size, stride, padding, out_hw, dtype)
    share = dout / (size[0] * size[1])
    overlap = stride[0] < size[0] or stride[1] < size[1]
    for _, dst in _windows(dxp, size, stride, out_hw):
        if overlap:
            dst += share
        else:
            dst[...] = share
    return _unpad(dxp, padding, x_shape)


# ---------------------------------------------------------------- naive
# One window at a time, exactly as the definition reads. Same arguments,
# results and conventions as the fast versions; very slow, tiny inputs only.


def maxpool2d_forward_naive(x, size=2, stride=None, padding=0):
    """Max pooling with plain loops (for reading; see `maxpool2d_forward`).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size, stride, padding : int or (int, int)
        As in `maxpool2d_forward`.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : NaiveMaxPoolCache, consumed by `maxpool2d_backward_naive`
    """
    (KH, KW), (sh, sw), (ph, pw), (H_out, W_out) = _params(
        x, size, stride, padding, "maxpool2d_forward_naive")
    N, C, H, W = x.shape
    pad = ((0, 0), (0, 0), (ph, ph), (pw, pw))
    xp = np.pad(x, pad, constant_values=-np.inf)  # -inf never wins
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * sh, q * sw
                    window = xp[n, c, top:top + KH, left:left + KW]
                    out[n, c, r, q] = window.max()
    cache = NaiveMaxPoolCache(x, out.shape, (KH, KW), (sh, sw), (ph, pw))
    return out, cache


def maxpool2d_backward_naive(dout, cache):
    """Backward of max pooling with plain loops (for reading).

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : NaiveMaxPoolCache from `maxpool2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Notes
    -----
    Each output's gradient goes to the maximum of its window; ``np.argmax``
    scans row-major and returns the first maximum, which is the tie rule.
    Overlapping windows that share a winner add up there.
    """
    func = "maxpool2d_backward_naive"
    x, out_shape, (KH, KW), (sh, sw), (ph, pw) = check_cache(
        cache, NaiveMaxPoolCache, func)
    check_dout(dout, out_shape, x.dtype, func)
    N, C, H_out, W_out = out_shape
    pad = ((0, 0), (0, 0), (ph, ph), (pw, pw))
    xp = np.pad(x, pad, constant_values=-np.inf)
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * sh, q * sw
                    window = xp[n, c, top:top + KH, left:left + KW]
                    i, j = np.unravel_index(np.argmax(window), window.shape)
                    dxp[n, c, top + i, left + j] += dout[n, c, r, q]
    H, W = x.shape[2:]
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()  # drop the padding


def avgpool2d_forward_naive(x, size=2, stride=None, padding=0):
    """Average pooling with plain loops (for reading; see `avgpool2d_forward`).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size, stride, padding : int or (int, int)
        As in `avgpool2d_forward`; padded zeros count in the mean.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : NaiveAvgPoolCache, consumed by `avgpool2d_backward_naive`

    Notes
    -----
    Each value contributes ``1 / (KH*KW)`` of itself: dividing before
    adding cannot overflow, even for values near the dtype's largest.
    """
    (KH, KW), (sh, sw), (ph, pw), (H_out, W_out) = _params(
        x, size, stride, padding, "avgpool2d_forward_naive")
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # zeros
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * sh, q * sw
                    window = xp[n, c, top:top + KH, left:left + KW]
                    out[n, c, r, q] = np.sum(window / (KH * KW))
    cache = NaiveAvgPoolCache(x.shape, x.dtype, out.shape, (KH, KW), (sh, sw),
                              (ph, pw))
    return out, cache


def avgpool2d_backward_naive(dout, cache):
    """Backward of average pooling with plain loops (for reading).

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : NaiveAvgPoolCache from `avgpool2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Notes
    -----
    Every pixel of a window receives ``1 / (KH*KW)`` of that window's
    gradient.
    """
    func = "avgpool2d_backward_naive"
    (N, C, H, W), dtype, out_shape, (KH, KW), (sh, sw), (ph, pw) = check_cache(
        cache, NaiveAvgPoolCache, func)
    check_dout(dout, out_shape, dtype, func)
    H_out, W_out = out_shape[2:]
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * sh, q * sw
                    share = dout[n, c, r, q] / (KH * KW)
                    dxp[n, c, top:top + KH, left:left + KW] += share
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()  # drop the padding
