"""Flatten and the fully-connected (affine) layer, forward and backward.

A fully-connected layer computes ``out = x @ w + b`` on each sample's
features flattened into one row: it is where a CNN turns feature maps into
class scores.

Taught in notebooks/06_backpropagation.ipynb.
"""

import numpy as np

from .shapes import cache_type, check_array, check_cache, check_dout, check_finite

__all__ = [
    "linear_forward",
    "linear_backward",
    "flatten_forward",
    "flatten_backward",
    "LinearCache",
    "FlattenCache",
]

LinearCache = cache_type(
    "LinearCache", ["x2d", "w", "has_bias", "x_shape"],
    """What `linear_backward` needs from `linear_forward`.

x2d      : (N, D) the input, each sample flattened
w        : (D, M) the weights
has_bias : whether the forward added a bias
x_shape  : the input's shape, restored in dx
""", __name__)
FlattenCache = cache_type("FlattenCache", ["x_shape", "dtype"],
                          """The input's shape and dtype, restored by
`flatten_backward`.""", __name__)


def _check_batch(x, func):
    check_array(x, "x", func)
    if x.ndim < 2:
        raise ValueError(
            f"{func}: x must have shape (N, ...) with a batch axis first "
            f"(at least 2-D), got {x.ndim}-D array of shape {x.shape}"
        )
    return check_finite(x, "x", func)


def _check_weights(w, b, D, x, func):
    """w (D, M) and b (M,) or None, matching x flattened to (N, D)."""
    N = x.shape[0]
    check_array(w, "w", func, ndim=2, shape_doc="(D, M)")
    if w.shape[0] != D:
        raise ValueError(
            f"{func}: w must have D = {D} rows to match x of shape {x.shape} "
            f"(flattened to ({N}, {D})), got w of shape {w.shape}"
        )
    if w.dtype != x.dtype:
        raise TypeError(f"{func}: w must have x's dtype {x.dtype}, got {w.dtype}")
    check_finite(w, "w", func)
    M = w.shape[1]
    if b is not None:
        check_array(b, "b", func, ndim=1, shape_doc="(M,)")
        if b.shape != (M,):
            raise ValueError(
                f"{func}: b must have shape (M,) = ({M},) to match w of shape "
                f"{w.shape}, got {b.shape}"
            )
        if b.dtype != x.dtype:
            raise TypeError(
                f"{func}: b must have x's dtype {x.dtype}, got {b.dtype}"
            )
        check_finite(b, "b", func)


def linear_forward(x, w, b=None):
    """Fully-connected layer: ``out = x.reshape(N, D) @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Any shape with the batch first; each sample is flattened to
        ``D = d_1 * ... * d_k`` features (row-major, as `flatten_forward`).
    w : ndarray, shape (D, M)
        Same dtype as x.
    b : ndarray, shape (M,), or None
        Same dtype as x; None means no bias.

    Returns
    -------
    out : ndarray, shape (N, M), dtype of x
    cache : LinearCache, consumed by `linear_backward`
    """
    func = "linear_forward"
    _check_batch(x, func)
    N = x.shape[0]
    D = int(np.prod(x.shape[1:]))
    _check_weights(w, b, D, x, func)
    # An explicit D (not -1) also works for an empty batch.
    x2 = x.reshape(N, D)
    out = x2 @ w
    if b is not None:
        out += b
    return out, LinearCache(x2, w, b is not None, x.shape)


def linear_backward(dout, cache):
    """Gradients of the fully-connected layer.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
    cache : LinearCache from `linear_forward`

    Returns
    -------
    dx : ndarray, same shape as the forward x (N, d_1, ..., d_k)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,), or None if the forward had no bias

    Notes
    -----
    ``dx = dout @ w.T``, ``dw = x.T @ dout``, ``db = dout.sum(0)``: each
    weight's gradient sums its contribution over the batch.
    """
    x2, w, has_bias, x_shape = check_cache(cache, LinearCache,
                                           "linear_backward")
    check_dout(dout, (x2.shape[0], w.shape[1]), w.dtype, "linear_backward")
    dx = (dout @ w.T).reshape(x_shape)
    dw = x2.T @ dout
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


def flatten_forward(x):
    """Flatten each sample into one row: (N, C, H, W) -> (N, C*H*W).

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)

    Returns
    -------
    out : ndarray, shape (N, d_1 * ... * d_k), dtype of x
        Row-major order, so for NCHW input the channel changes slowest.
    cache : FlattenCache, consumed by `flatten_backward`

    Notes
    -----
    No arithmetic happens; the backward pass only restores the shape.
    """
    _check_batch(x, "flatten_forward")
    D = int(np.prod(x.shape[1:]))
    return x.reshape(x.shape[0], D), FlattenCache(x.shape, x.dtype)


def flatten_backward(dout, cache):
    """Reshape the gradient back to the forward input's shape.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : FlattenCache from `flatten_forward`

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k)
    """
    x_shape, dtype = check_cache(cache, FlattenCache, "flatten_backward")
    D = int(np.prod(x_shape[1:]))
    check_dout(dout, (x_shape[0], D), dtype, "flatten_backward")
    return dout.reshape(x_shape)
