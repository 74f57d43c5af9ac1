"""Elementwise nonlinearities: ReLU, and sigmoid and tanh for comparison.

Each is a forward/backward pair; none has learnable parameters. The cache
holds what the local derivative needs: the input for ReLU, the output for
sigmoid and tanh (their derivatives are cheapest written with the output).

Taught in notebooks/04_relu_and_nonlinearity.ipynb.
"""

import numpy as np

from .shapes import cache_type, check_array, check_cache, check_dout, check_finite

__all__ = [
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "ReluCache",
    "SigmoidCache",
    "TanhCache",
]

ReluCache = cache_type("ReluCache", ["x"], """The input: ReLU passes the
gradient where x > 0.""", __name__)
SigmoidCache = cache_type("SigmoidCache", ["out"], """The output s: the
derivative is s * (1 - s).""", __name__)
TanhCache = cache_type("TanhCache", ["out"], """The output t: the derivative
is 1 - t**2.""", __name__)


def _check_x(x, func):
    check_array(x, "x", func)
    return check_finite(x, "x", func)


def relu_forward(x):
    """Rectified linear unit, ``max(0, x)`` elementwise.

    Parameters
    ----------
    x : ndarray, any shape, float32 or float64

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ReluCache, consumed by `relu_backward`
    """
    _check_x(x, "relu_forward")
    # np.maximum with a Python 0 keeps x's dtype (NumPy 2 weak scalars).
    out = np.maximum(x, 0)
    return out, ReluCache(x)


def relu_backward(dout, cache):
    """Gradient of ReLU: ``dout`` where ``x > 0``, zero elsewhere.

    Parameters
    ----------
    dout : ndarray, same shape and dtype as the forward input
    cache : ReluCache from `relu_forward`

    Returns
    -------
    dx : ndarray, same shape and dtype as dout

    Notes
    -----
    ReLU has no derivative at exactly 0; we use 0 there (the subgradient
    PyTorch also picks), so a unit sitting at 0 passes no gradient.
    """
    (x,) = check_cache(cache, ReluCache, "relu_backward")
    check_dout(dout, x.shape, x.dtype, "relu_backward")
    return dout * (x > 0)


def sigmoid_forward(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    Parameters
    ----------
    x : ndarray, any shape, float32 or float64

    Returns
    -------
    out : ndarray, same shape and dtype as x, values in [0, 1]
    cache : SigmoidCache, consumed by `sigmoid_backward`

    Notes
    -----
    ``exp(-x)`` overflows for x = -1000. With ``z = exp(-|x|)``, which is in
    (0, 1], ``sigmoid(x) = 1 / (1 + z)`` for x >= 0 and ``z / (1 + z)`` for
    x < 0: both are safe, and only harmless underflow to 0 can happen.
    """
    _check_x(x, "sigmoid_forward")
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1, z) / (1 + z)
    return out, SigmoidCache(out)


def sigmoid_backward(dout, cache):
    """Gradient of the sigmoid: ``dout * s * (1 - s)`` with ``s`` the output.

    Parameters
    ----------
    dout : ndarray, same shape and dtype as the forward output
    cache : SigmoidCache from `sigmoid_forward`

    Returns
    -------
    dx : ndarray, same shape and dtype as dout

    Notes
    -----
    The factor ``s * (1 - s)`` is at most 0.25, which is why deep sigmoid
    stacks shrink gradients.
    """
    (out,) = check_cache(cache, SigmoidCache, "sigmoid_backward")
    check_dout(dout, out.shape, out.dtype, "sigmoid_backward")
    return dout * out * (1 - out)


def tanh_forward(x):
    """Hyperbolic tangent, elementwise (``np.tanh`` never overflows).

    Parameters
    ----------
    x : ndarray, any shape, float32 or float64

    Returns
    -------
    out : ndarray, same shape and dtype as x, values in [-1, 1]
    cache : TanhCache, consumed by `tanh_backward`
    """
    _check_x(x, "tanh_forward")
    out = np.tanh(x)
    return out, TanhCache(out)


def tanh_backward(dout, cache):
    """Gradient of tanh: ``dout * (1 - t**2)`` with ``t`` the output.

    Parameters
    ----------
    dout : ndarray, same shape and dtype as the forward output
    cache : TanhCache from `tanh_forward`

    Returns
    -------
    dx : ndarray, same shape and dtype as dout

    Notes
    -----
    The factor is at most 1 (at x = 0).
    """
    (out,) = check_cache(cache, TanhCache, "tanh_backward")
    check_dout(dout, out.shape, out.dtype, "tanh_backward")
    return dout * (1 - out * out)
