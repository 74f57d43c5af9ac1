"""Max and average pooling: any window, stride (overlapping too) and padding.

Each comes as a readable loop version (``*_naive``, one window at a time,
for the notebooks) and a fast version for training. The fast version loops
only over the KH*KW offsets inside the window: for offset ``(i, j)`` the
strided slice ``x[:, :, i::stride, j::stride]`` (cut to H_out x W_out) holds
that offset's pixel of *every* window at once. The backward pass adds into
the same slices, one offset at a time, so overlapping windows (stride <
window) accumulate correctly.

Conventions
-----------
- ``size``, ``stride``, ``padding``: an int or an ``(h, w)`` pair; ``stride``
  defaults to ``size``; padding (per side) is at most half the window.
- Max pooling pads with ``-inf``, so padding is never selected.
- Ties: the whole gradient goes to ONE element, the first maximum in
  row-major order inside the window (PyTorch's rule). A constant window
  sends its gradient to its top-left element.
- Average pooling counts padded zeros in the average: the divisor is always
  KH*KW (PyTorch's default ``count_include_pad=True``).
- Memory layout: the fast versions store ``out`` and ``dx`` like ``x``. If x
  is an NCHW-shaped view of channels-last memory (as a conv returns), so are
  they; indexing is NCHW either way.

Taught in notebooks/05_pooling_and_downsampling.ipynb and
notebooks/06_backpropagation.ipynb (backward).
"""

import numpy as np

from .shapes import as_pair, check_array, check_dout, check_finite, pool_output_size

__all__ = [
    "maxpool2d_forward",
    "maxpool2d_backward",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "maxpool2d_forward_naive",
    "maxpool2d_backward_naive",
    "avgpool2d_forward_naive",
    "avgpool2d_backward_naive",
]


def _params(x, size, stride, padding, func, finite=True):
    """Validate the arguments; return (KH, KW), (SH, SW), (PH, PW), (HO, WO)."""
    check_array(x, "x", func, ndim=4, shape_doc="(N, C, H, W)")
    k = as_pair(size, "size", func)
    s = k if stride is None else as_pair(stride, "stride", func)
    p = as_pair(padding, "padding", func, minimum=0)
    H, W = x.shape[2:]
    for n, kk, pp, axis in ((H, k[0], p[0], "H"), (W, k[1], p[1], "W")):
        if 2 * pp > kk:
            raise ValueError(
                f"{func}: padding must be at most half the window size, got "
                f"padding {padding} for size {size}"
            )
        if kk > n + 2 * pp:
            raise ValueError(
                f"{func}: window {k[0]}x{k[1]} does not fit x of shape "
                f"{x.shape} ({axis} = {n}) with padding {padding}"
            )
    if finite:
        check_finite(x, "x", func)
    return k, s, p, pool_output_size((H, W), k, s, p)


def _check_result(out, x, func):
    """Reject NaN/inf in x by looking at the (smaller) output first.

    Max and mean both carry a NaN or inf of a window into its output, so a
    finite output means every input that was used is finite (an unused one,
    in rows dropped by the floor, does no harm). Only then is x searched,
    to report where the bad value is.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(out, axis=None)
    if not np.isfinite(total):
        check_finite(x, "x", func)


def _channels_last(a):
    """True if a (N, C, H, W) is a view of (N, H, W, C) memory, as after a conv.

    Pooling then works and answers in that layout: mixing layouts in one
    elementwise operation (here, or in the ReLU next to it) is several times
    slower than either layout alone.
    """
    return not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous


def _empty(shape, dtype, channels_last):
    """Uninitialised (N, C, H, W) array, stored channels-last if asked."""
    if not channels_last:
        return np.empty(shape, dtype=dtype)
    N, C, H, W = shape
    return np.empty((N, H, W, C), dtype=dtype).transpose(0, 3, 1, 2)


def _like(a, channels_last):
    """a in the given memory layout (no copy if it is already)."""
    if _channels_last(a) == channels_last:
        return a
    out = _empty(a.shape, a.dtype, channels_last)
    out[...] = a  # one transposing copy instead of several mixed operations
    return out


def _pad(x, p, value, channels_last):
    if p == (0, 0):
        return x
    N, C, H, W = x.shape
    xp = _empty((N, C, H + 2 * p[0], W + 2 * p[1]), x.dtype, channels_last)
    xp.fill(value)
    xp[:, :, p[0] : p[0] + H, p[1] : p[1] + W] = x
    return xp


def _unpad(dxp, p, shape):
    if p == (0, 0):
        return dxp
    # order="K" keeps the memory layout of dxp (NCHW or channels-last).
    return dxp[:, :, p[0] : p[0] + shape[2], p[1] : p[1] + shape[3]].copy(order="K")


def _windows(a, k, s, o):
    """Yield (index, slice of ``a``) for each window offset, row-major.

    The slice for offset (i, j) has shape (N, C, HO, WO): element
    [n, c, r, q] is pixel (i, j) of the window of output (r, q).
    """
    for i in range(k[0]):
        for j in range(k[1]):
            yield i * k[1] + j, a[
                :, :, i : i + s[0] * (o[0] - 1) + 1 : s[0],
                j : j + s[1] * (o[1] - 1) + 1 : s[1],
            ]


def _grad_buffer(shape, k, s, p, o, dtype, channels_last):
    """The padded dx, zeroed where the slice writes will not reach.

    When the windows tile the input exactly (stride == size), every covered
    pixel is written once, so only the rows/columns dropped by the floor
    need zeros; otherwise start from all zeros and add.
    """
    N, C, H, W = shape
    dxp = _empty((N, C, H + 2 * p[0], W + 2 * p[1]), dtype, channels_last)
    if s != k:
        dxp.fill(0)
        return dxp
    dxp[:, :, o[0] * k[0] :, :] = 0
    dxp[:, :, :, o[1] * k[1] :] = 0
    return dxp


# ---------------------------------------------------------------- fast


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
    cache : tuple, consumed by `maxpool2d_backward`

    Notes
    -----
    ``H_out = (H + 2*padding - KH) // stride + 1`` (floor: a window that
    does not fit is dropped). The cache records which offset won in each
    window; ties go to the first maximum in row-major order.
    Taught in notebooks/05_pooling_and_downsampling.ipynb.

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
    k, s, p, o = _params(x, size, stride, padding, func, finite=False)
    last = _channels_last(x)  # out, arg and later dx keep the layout of x
    win = _windows(_pad(x, p, -np.inf, last), k, s, o)
    _, first = next(win)
    out = first.copy(order="K" if last else "C")
    # arg[n, c, r, q] = row-major index of the winning offset in its window.
    itype = np.uint8 if k[0] * k[1] <= 256 else np.int32
    arg = np.zeros_like(out, dtype=itype)
    for idx, view in win:
        # Strict '>' keeps the earlier offset on ties: the first max wins.
        better = view > out
        # arg = where(better, idx, arg), as integer arithmetic: np.where
        # and np.copyto(where=) are several times slower here.
        step = np.subtract(idx, arg, dtype=itype)
        step *= better
        arg += step
        np.maximum(out, view, out=out)
    _check_result(out, x, func)
    return out, (arg, k, s, p, x.shape, x.dtype, last)


def maxpool2d_backward(dout, cache):
    """Route each output gradient to the input that won its window.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : tuple from `maxpool2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of x
        Zero except at each window's (first) maximum; a pixel that wins
        several overlapping windows receives the sum of their gradients.

    Notes
    -----
    One strided slice-add per window offset: overlap-safe, no loop over
    samples or pixels. Taught in notebooks/06_backpropagation.ipynb.
    """
    arg, k, s, p, shape, dtype, last = cache
    check_dout(dout, arg.shape, dtype, "maxpool2d_backward")
    o = arg.shape[2:]
    dout = _like(dout, last)
    dxp = _grad_buffer(shape, k, s, p, o, dtype, last)
    overlap = s[0] < k[0] or s[1] < k[1]
    for idx, dst in _windows(dxp, k, s, o):
        if overlap:  # a pixel may win several windows: add
            dst += dout * (arg == idx)
        else:  # each pixel is in at most one window: write in place
            np.multiply(dout, arg == idx, out=dst)
    return _unpad(dxp, p, shape)


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
    cache : tuple, consumed by `avgpool2d_backward`

    Notes
    -----
    Every window is divided by KH*KW, padded cells included (PyTorch's
    default ``count_include_pad=True``), so a window partly in the padding
    averages to less than the mean of its real values. Taught in
    notebooks/05_pooling_and_downsampling.ipynb.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> avgpool2d_forward(x)[0][0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    func = "avgpool2d_forward"
    k, s, p, o = _params(x, size, stride, padding, func, finite=False)
    last = _channels_last(x)  # out and later dx keep the layout of x
    win = _windows(_pad(x, p, 0, last), k, s, o)
    _, first = next(win)
    out = first.copy(order="K" if last else "C")
    for _, view in win:
        out += view
    out /= k[0] * k[1]
    _check_result(out, x, func)
    return out, (k, s, p, x.shape, x.dtype, out.shape, last)


def avgpool2d_backward(dout, cache):
    """Spread each output gradient evenly over its window.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : tuple from `avgpool2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of x
        Each input pixel gets ``dout / (KH*KW)`` from every window it is in.

    Notes
    -----
    Taught in notebooks/06_backpropagation.ipynb.
    """
    k, s, p, shape, dtype, out_shape, last = cache
    check_dout(dout, out_shape, dtype, "avgpool2d_backward")
    o = out_shape[2:]
    dxp = _grad_buffer(shape, k, s, p, o, dtype, last)
    share = _like(dout / (k[0] * k[1]), last)
    overlap = s[0] < k[0] or s[1] < k[1]
    for _, dst in _windows(dxp, k, s, o):
        if overlap:
            dst += share
        else:
            dst[...] = share
    return _unpad(dxp, p, shape)


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
    cache : tuple, consumed by `maxpool2d_backward_naive`

    Notes
    -----
    Taught in notebooks/05_pooling_and_downsampling.ipynb.
    """
    (KH, KW), (SH, SW), (PH, PW), (H_out, W_out) = _params(
        x, size, stride, padding, "maxpool2d_forward_naive"
    )
    N, C, H, W = x.shape
    pad = ((0, 0), (0, 0), (PH, PH), (PW, PW))
    xp = np.pad(x, pad, constant_values=-np.inf)  # -inf never wins
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * SH, q * SW
                    window = xp[n, c, top : top + KH, left : left + KW]
                    out[n, c, r, q] = window.max()
    return out, (x, (KH, KW), (SH, SW), (PH, PW), out.shape)


def maxpool2d_backward_naive(dout, cache):
    """Backward of max pooling with plain loops (for reading).

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : tuple from `maxpool2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Notes
    -----
    Each output's gradient goes to the maximum of its window; ``np.argmax``
    scans row-major and returns the first maximum, which is the tie rule.
    Overlapping windows that share a winner add up there.
    Taught in notebooks/06_backpropagation.ipynb.
    """
    x, (KH, KW), (SH, SW), (PH, PW), out_shape = cache
    check_dout(dout, out_shape, x.dtype, "maxpool2d_backward_naive")
    N, C, H_out, W_out = out_shape
    pad = ((0, 0), (0, 0), (PH, PH), (PW, PW))
    xp = np.pad(x, pad, constant_values=-np.inf)
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * SH, q * SW
                    window = xp[n, c, top : top + KH, left : left + KW]
                    i, j = np.unravel_index(np.argmax(window), window.shape)
                    dxp[n, c, top + i, left + j] += dout[n, c, r, q]
    H, W = x.shape[2:]
    return dxp[:, :, PH : PH + H, PW : PW + W].copy()  # drop the padding


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
    cache : tuple, consumed by `avgpool2d_backward_naive`

    Notes
    -----
    Taught in notebooks/05_pooling_and_downsampling.ipynb.
    """
    (KH, KW), (SH, SW), (PH, PW), (H_out, W_out) = _params(
        x, size, stride, padding, "avgpool2d_forward_naive"
    )
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))  # zeros
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * SH, q * SW
                    window = xp[n, c, top : top + KH, left : left + KW]
                    out[n, c, r, q] = window.sum() / (KH * KW)
    return out, (x.shape, x.dtype, (KH, KW), (SH, SW), (PH, PW), out.shape)


def avgpool2d_backward_naive(dout, cache):
    """Backward of average pooling with plain loops (for reading).

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : tuple from `avgpool2d_forward_naive`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Notes
    -----
    Every pixel of a window receives ``1 / (KH*KW)`` of that window's
    gradient. Taught in notebooks/06_backpropagation.ipynb.
    """
    (N, C, H, W), dtype, (KH, KW), (SH, SW), (PH, PW), out_shape = cache
    check_dout(dout, out_shape, dtype, "avgpool2d_backward_naive")
    H_out, W_out = out_shape[2:]
    dxp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H_out):
                for q in range(W_out):
                    top, left = r * SH, q * SW
                    share = dout[n, c, r, q] / (KH * KW)
                    dxp[n, c, top : top + KH, left : left + KW] += share
    return dxp[:, :, PH : PH + H, PW : PW + W].copy()  # drop the padding
