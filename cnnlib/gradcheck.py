"""Numerical gradients and relative error: the habit of checking backprop.

Used by the tests and, visibly, by the notebooks.

Taught in notebooks/06_backpropagation.ipynb.
"""

import inspect

import numpy as np

from .shapes import check_array, check_number

__all__ = ["rel_error", "numerical_gradient", "check_gradients"]


def rel_error(a, b):
    """Largest relative difference between two arrays (or numbers).

    ``max |a - b| / max(1e-8, |a| + |b|)``, elementwise. About 1e-7 or less
    means two float64 computations agree; 1e-2 or more means a bug.

    Returns
    -------
    float
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"rel_error: a and b must have the same shape, got {a.shape} "
            f"and {b.shape}"
        )
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to x.

    Parameters
    ----------
    f : callable
        ``f()`` or ``f(x)`` returning an array or a scalar; ``x`` is changed
        in place, one element at a time, and restored.
    x : ndarray, float64 recommended
        The input to differentiate with respect to (any shape).
    dout : ndarray or None
        Upstream gradient, same shape as ``f``'s output; None means the
        output is a scalar (a loss) and ``dout = 1``.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, same shape and dtype as x

    Notes
    -----
    Cost: two calls of ``f`` per element of ``x``; use tiny inputs.
    """
    check_array(x, "x", "numerical_gradient")
    h = check_number(h, "h", "numerical_gradient", low_open=True)
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be callable, got {f!r}")

    call = (lambda: f(x)) if _takes_argument(f) else f
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        grad[i] = _centred_difference(call, x, i, dout, h)
    return grad


def _takes_argument(f):
    """Whether ``f`` is called as ``f(x)`` (else ``f()``).

    Decided once from the signature: retrying ``f()`` after any TypeError
    from ``f(x)`` would hide a genuine TypeError raised inside f.
    """
    try:
        return any(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
            for p in inspect.signature(f).parameters.values()
        )
    except (TypeError, ValueError):  # no signature (some builtins): pass x
        return True


def _centred_difference(call, x, i, dout, h):
    """``(sum(f(x + h e_i) * dout) - sum(f(x - h e_i) * dout)) / 2h``."""
    old = x[i]
    x[i] = old + h
    plus = np.array(call(), dtype=np.float64, copy=True)
    x[i] = old - h
    minus = np.array(call(), dtype=np.float64, copy=True)
    x[i] = old
    diff = plus - minus
    if dout is None:
        if diff.size != 1:
            raise ValueError(
                "numerical_gradient: f returned an array of shape "
                f"{diff.shape}; pass dout of that shape"
            )
        return diff.item() / (2 * h)
    return np.sum(diff * dout) / (2 * h)


def check_gradients(forward, backward, inputs, names=None, rng=None, h=1e-5):
    """Compare an analytic backward pass with numerical gradients.

    Parameters
    ----------
    forward : callable
        ``out, cache = forward(*inputs)``.
    backward : callable
        ``grads = backward(dout, cache)``: one gradient (or a tuple of them)
        in the same order as ``inputs``; a ``None`` entry is skipped.
    inputs : list of ndarray (float64)
        Arguments of ``forward`` that gradients are taken for.
    names : list of str, optional
        Names for the report, default ``x0, x1, ...``.
    rng : numpy.random.Generator, optional
        Draws the random upstream gradient ``dout`` (seeded default).
    h : float
        Step of the centred differences.

    Returns
    -------
    dict
        ``{name: rel_error}`` for every input with a gradient.

    Examples
    --------
    >>> from cnnlib.activations import tanh_forward, tanh_backward
    >>> x = np.linspace(-2, 2, 5)
    >>> errors = check_gradients(tanh_forward, tanh_backward, [x], ["x"])
    >>> errors["x"] < 1e-8
    True
    """
    rng = np.random.default_rng(0) if rng is None else rng
    names = names or [f"x{i}" for i in range(len(inputs))]
    out, cache = forward(*inputs)
    dout = rng.standard_normal(np.shape(out))
    if np.ndim(out) == 0:
        dout = np.float64(dout)
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    errors = {}
    for name, x, g in zip(names, inputs, grads, strict=False):
        if g is None:
            continue

        def f(_x=x):
            return forward(*inputs)[0]

        num = numerical_gradient(f, x, dout, h=h)
        errors[name] = rel_error(g, num)
    return errors
