"""Losses: softmax cross-entropy (numerically stable) and mean squared error.

A loss turns the network's output into one number to minimise and returns
its gradient too, which starts the backward pass: ``loss, dout = ...``.

Taught in notebooks/06_backpropagation.ipynb.
"""

import numpy as np

from .shapes import check_array, check_finite

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy", "mse",
           "binary_cross_entropy_with_logits"]


def _check_logits(logits, func, ndim=None):
    check_array(logits, "logits", func, ndim=ndim, shape_doc="(N, K)")
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(
            f"{func}: logits must have at least one class along the last axis, "
            f"got shape {logits.shape}"
        )
    return check_finite(logits, "logits", func)


def _shifted(logits):
    # Subtracting the row maximum changes nothing mathematically (it cancels
    # in the ratio) but makes every exponent <= 0: exp cannot overflow, and
    # the largest term is exactly 1, so the sum is >= 1 and log is safe.
    return logits - logits.max(axis=-1, keepdims=True)


def softmax(logits):
    """Softmax along the last axis: ``exp(z) / sum(exp(z))``, stably.

    Parameters
    ----------
    logits : ndarray, shape (N, K) (or any shape; the last axis is classes)

    Returns
    -------
    probs : ndarray, same shape and dtype as logits
        Non-negative, each row sums to 1.
    """
    _check_logits(logits, "softmax")
    with np.errstate(under="ignore"):
        e = np.exp(_shifted(logits))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits):
    """Logarithm of `softmax`, computed without ever taking ``log(0)``.

    Parameters
    ----------
    logits : ndarray, shape (N, K) (or any shape; the last axis is classes)

    Returns
    -------
    logp : ndarray, same shape and dtype as logits, all values <= 0

    Notes
    -----
    ``log_softmax(z) = (z - m) - log(sum(exp(z - m)))`` with ``m`` the row
    maximum: finite even when a probability underflows to 0.
    """
    _check_logits(logits, "log_softmax")
    s = _shifted(logits)
    with np.errstate(under="ignore"):
        return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _check_labels(y, N, K, func):
    if isinstance(y, np.ndarray):
        labels = y
    elif isinstance(y, (list, tuple)):
        labels = np.asarray(y)
    else:
        raise TypeError(
            f"{func}: y must be a NumPy array of integer labels, shape (N,), "
            f"got {type(y).__name__}"
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{func}: y must hold integer class labels, got dtype "
            f"{labels.dtype} (convert with y.astype(int) if the values are "
            f"whole numbers)"
        )
    if labels.shape != (N,):
        raise ValueError(
            f"{func}: y must have shape (N,) = ({N},) to match logits (N, K) = "
            f"({N}, {K}), got {labels.shape}"
        )
    if N and (labels.min() < 0 or labels.max() >= K):
        bad = labels[(labels < 0) | (labels >= K)][0]
        raise ValueError(
            f"{func}: y must hold labels in [0, {K}) for K = {K} classes, "
            f"got {int(bad)}"
        )
    return labels


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax probabilities, and its gradient.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
        Unnormalised class scores, float32 or float64, finite, N >= 1.
    y : ndarray of int, shape (N,)
        True class of each sample, in ``[0, K)``.

    Returns
    -------
    loss : NumPy scalar, dtype of logits
        ``-mean(log softmax(logits)[n, y[n]])`` over the batch.
    dlogits : ndarray, shape (N, K), dtype of logits
        ``(softmax(logits) - onehot(y)) / N``.

    Notes
    -----
    Working in log space (`log_softmax`) keeps logits like 1e4 and -1e4
    finite: no overflow, no ``log(0)``. The gradient's simple form is why
    softmax and cross-entropy are always paired.

    Examples
    --------
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> loss, dlogits = softmax_cross_entropy(logits, np.array([0, 2]))
    >>> print(f"{loss:.4f}")
    0.6691
    >>> bool(np.allclose(dlogits.sum(axis=1), 0))  # each row sums to 0
    True
    """
    func = "softmax_cross_entropy"
    _check_logits(logits, func, ndim=2)
    N, K = logits.shape
    labels = _check_labels(y, N, K, func)
    if N == 0:
        raise ValueError(
            f"{func}: logits must hold at least one sample (a mean over an "
            f"empty batch is undefined), got shape {logits.shape}"
        )
    s = _shifted(logits)
    with np.errstate(under="ignore"):
        e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(N)
    logp_true = s[rows, labels] - np.log(total[:, 0])
    loss = -logp_true.mean()
    dlogits = e / total
    dlogits[rows, labels] -= 1
    dlogits /= N
    return logits.dtype.type(loss), dlogits


def mse(pred, target):
    """Mean squared error over all elements, and its gradient.

    Parameters
    ----------
    pred : ndarray, any shape, float32 or float64
    target : ndarray, same shape as pred (cast to pred's dtype)

    Returns
    -------
    loss : NumPy scalar, dtype of pred
        ``mean((pred - target)**2)`` over *every* element (not per sample,
        and without a factor 1/2), as ``torch.nn.MSELoss()`` does.
    dpred : ndarray, same shape and dtype as pred
        ``2 * (pred - target) / pred.size``.
    """
    func = "mse"
    check_array(pred, "pred", func)
    check_array(target, "target", func)
    if target.shape != pred.shape:
        raise ValueError(
            f"{func}: target must have pred's shape {pred.shape}, got "
            f"{target.shape}"
        )
    if pred.size == 0:
        raise ValueError(
            f"{func}: pred must hold at least one element (a mean over "
            f"nothing is undefined), got shape {pred.shape}"
        )
    check_finite(pred, "pred", func)
    check_finite(target, "target", func)
    diff = pred - target.astype(pred.dtype, copy=False)
    loss = np.mean(diff * diff)
    return pred.dtype.type(loss), diff * (2 / pred.size)


def binary_cross_entropy_with_logits(logits, target):
    """Mean binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1].

    Parameters
    ----------
    logits : ndarray, any shape, float32 or float64
        Unnormalised scores; ``sigmoid(logits)`` is the predicted
        probability (for an image: how bright each pixel is).
    target : ndarray, same shape as logits, values in [0, 1]
        Not only 0 or 1: a grey pixel of 0.3 is a fine target.

    Returns
    -------
    loss : NumPy scalar, dtype of logits
        ``-mean(t*log(p) + (1 - t)*log(1 - p))`` over every element, with
        ``p = sigmoid(logits)``, as ``torch.nn.BCEWithLogitsLoss()``.
    dlogits : ndarray, same shape and dtype as logits
        ``(sigmoid(logits) - target) / logits.size``.

    Notes
    -----
    Written as ``max(z, 0) - z*t + log(1 + exp(-|z|))``, which never takes
    ``log(0)`` and never overflows: logits of +-1e4 give finite losses and
    gradients. As with softmax cross-entropy, the gradient is simply
    "prediction minus target".

    Examples
    --------
    >>> z = np.array([0.0, 1e4, -1e4])
    >>> loss, dz = binary_cross_entropy_with_logits(z, np.array([1.0, 1.0, 0.0]))
    >>> print(f"{loss:.4f}")  # ln 2 / 3: only the first is unsure
    0.2310
    """
    func = "binary_cross_entropy_with_logits"
    check_array(logits, "logits", func)
    check_array(target, "target", func)
    if target.shape != logits.shape:
        raise ValueError(
            f"{func}: target must have the shape of logits {logits.shape}, "
            f"got {target.shape}"
        )
    if logits.size == 0:
        raise ValueError(
            f"{func}: logits must hold at least one element (a mean over "
            f"nothing is undefined), got shape {logits.shape}"
        )
    check_finite(logits, "logits", func)
    check_finite(target, "target", func)
    if target.min() < 0 or target.max() > 1:
        bad = target[(target < 0) | (target > 1)].flat[0]
        raise ValueError(
            f"{func}: target must hold values in [0, 1] (probabilities or "
            f"pixel brightness), got {bad}"
        )
    z = logits
    t = target.astype(z.dtype, copy=False)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(e))
    p = np.where(z >= 0, 1, e) / (1 + e)  # the stable sigmoid
    return z.dtype.type(loss), (p - t) * z.dtype.type(1 / z.size)
