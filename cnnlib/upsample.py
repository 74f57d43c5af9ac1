"""Nearest-neighbour upsampling: every pixel becomes a ``scale x scale`` block.

The simplest way to make a map bigger, and no weights to learn. Followed by
an ordinary convolution it is the usual cure for the checkerboard pattern of
transposed convolutions: every output pixel is then computed from the same
number of inputs.

Taught in notebooks/08_upsampling_and_autoencoders.ipynb.
"""

import numpy as np

from .shapes import as_pair, check_array, check_dout, check_finite

__all__ = ["upsample_nearest_forward", "upsample_nearest_backward"]


def upsample_nearest_forward(x, scale=2):
    """Repeat every pixel ``scale`` times down and across.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
    scale : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, C, H*sh, W*sw)
        ``out[n, c, i, j] = x[n, c, i // sh, j // sw]``.
    cache : tuple, consumed by `upsample_nearest_backward`
    """
    func = "upsample_nearest_forward"
    check_array(x, "x", func, 4, "(N, C, H, W)")
    sh, sw = as_pair(scale, "scale", func)
    check_finite(x, "x", func)
    N, C, H, W = x.shape
    blocks = np.broadcast_to(x[:, :, :, None, :, None], (N, C, H, sh, W, sw))
    return blocks.reshape(N, C, H * sh, W * sw), (x.shape, x.dtype, (sh, sw))


def upsample_nearest_backward(dout, cache):
    """Gradient of `upsample_nearest_forward`: each block's sum.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H*sh, W*sw)
    cache : tuple from `upsample_nearest_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Notes
    -----
    An input pixel was copied into ``sh*sw`` outputs, so it collects the
    gradient of all of them (the same rule as average pooling, without the
    division).
    """
    func = "upsample_nearest_backward"
    if not (isinstance(cache, tuple) and len(cache) == 3):
        raise TypeError(f"{func}: cache must be the tuple returned by "
                        f"upsample_nearest_forward, got {type(cache).__name__}")
    (N, C, H, W), dtype, (sh, sw) = cache
    check_dout(dout, (N, C, H * sh, W * sw), dtype, func)
    return dout.reshape(N, C, H, sh, W, sw).sum(axis=(3, 5))
