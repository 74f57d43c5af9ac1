"""The training loop and evaluation.

::

    history = fit(model, X, y, epochs=5, optimizer=Adam(1e-3),
                  val=(X_test, y_test), callbacks=[LivePlot()])
    loss, acc = evaluate(model, X_test, y_test)

Callbacks live in `cnnlib.callbacks`, augmentation in `cnnlib.augment`.
From a terminal, ``python -m cnnlib.train`` trains LeNet-5 on the shipped
digits (see `cnnlib.cli`). Taught in notebooks/07_training_a_cnn.ipynb.
"""

import math
import sys
import time
from numbers import Integral

import numpy as np

from .callbacks import ProgressBar
from .data import iterate_minibatches
from .losses import softmax, softmax_cross_entropy
from .optim import Adam
from .parallel import DataParallel
from .shapes import check_array

__all__ = ["History", "fit", "evaluate", "predict", "confusion_matrix"]


class History(dict):
    """Per-epoch lists, plus ``steps``: the same every ``log_every`` steps.

    Keys: ``epoch`` (1, 2, ...), ``loss`` and ``train_acc`` (averaged over
    the epoch's batches while the weights were changing), ``val_loss`` and
    ``val_acc`` (after the epoch; NaN without validation data), ``lr`` (at
    the epoch's end), ``time`` (seconds of training, validation excluded).
    ``steps`` has ``step``, ``epoch`` (a float: 1.5 = half of epoch two
    done), ``loss`` and ``acc``, each averaged over the last steps.
    """

    KEYS = ("epoch", "loss", "train_acc", "val_loss", "val_acc", "lr", "time")

    def __init__(self):
        super().__init__({k: [] for k in self.KEYS})
        self.steps = {"step": [], "epoch": [], "loss": [], "acc": []}

    def __repr__(self):
        n = len(self["epoch"])
        if not n:
            return "History(0 epochs)"
        last = ", ".join(f"{k} {self[k][-1]:.4f}" for k in
                         ("loss", "train_acc", "val_acc") if not
                         math.isnan(self[k][-1]))
        return f"History({n} epochs, {sum(self['time']):.1f} s; last: {last})"


# ---------------------------------------------------------------- the loop


def _check_data(model, X, y, func, need_y=True):
    check_array(X, "X", func, shape_doc="(N, C, H, W)")
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"{func}: X must have shape (N, ...) with N >= 1, "
                         f"got {X.shape}")
    if need_y:
        if not isinstance(y, np.ndarray) or y.shape != (len(X),) or \
                y.dtype.kind not in "iu":
            got = f"{y.dtype} {y.shape}" if isinstance(y, np.ndarray) else y
            raise ValueError(
                f"{func}: y must be an int array of shape ({len(X)},) to match "
                f"X, got {got}"
            )
    return X.dtype != model.dtype


def _positive(v, name, func):
    if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{func}: {name} must be a positive int, got {v!r}")
    return int(v)


def _prepared(X, y, batch_size, rng, dtype, augment):
    """One epoch of shuffled batches, cast to ``dtype`` and augmented."""
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=True, rng=rng):
        xb = xb.astype(dtype, copy=False)
        yield (xb if augment is None else augment(xb, rng)), yb


def fit(model, X, y, epochs=1, batch_size=64, optimizer=None, val=None,
        callbacks=(), seed=0, lr_schedule=None, log_every=10, progress=True,
        augment=None, workers=1):
    """Train ``model`` with mini-batch gradient descent on softmax cross-entropy.

    Parameters
    ----------
    model : Sequential
        Maps ``X (B, C, H, W)`` to logits ``(B, K)``; trained in place.
    X : ndarray, shape (N, C, H, W), float
        Cast batch by batch to the model's dtype.
    y : ndarray of int, shape (N,)
    epochs, batch_size : int
    optimizer : Optimizer, optional
        Default ``Adam(lr=1e-3)``.
    val : (X_val, y_val), optional
        Evaluated after every epoch.
    callbacks : list of cnnlib.callbacks.Callback
    seed : int or numpy.random.Generator
        Shuffling order (the same seed gives the same run).
    lr_schedule : callable, optional
        ``lr = lr_schedule(t)``, ``t`` = epochs done (fractional), applied
        before every step (see `cnnlib.optim.cosine`).
    log_every : int
        Steps between entries of ``history.steps``.
    progress : bool
        Show a `cnnlib.callbacks.ProgressBar` (unless ``callbacks`` has one).
    augment : callable, optional
        ``X_batch = augment(X_batch, rng)`` before each step, e.g.
        `cnnlib.augment.random_affine` (training batches only).
    workers : int
        1 (default): train in this process. More: split every batch across
        that many worker processes, one core each (`cnnlib.parallel`); the
        same steps up to rounding, faster on a machine with that many cores.

    Returns
    -------
    History

    Notes
    -----
    One step (`cnnlib.parallel.train_step`): forward, loss and its gradient,
    backward (no dx for the input), then the optimizer step. Taught in
    notebooks/07_training_a_cnn.ipynb (first used in
    notebooks/05_pooling_and_downsampling.ipynb).
    """
    func = "fit"
    _check_data(model, X, y, func)
    epochs = _positive(epochs, "epochs", func)
    batch_size = _positive(batch_size, "batch_size", func)
    log_every = _positive(log_every, "log_every", func)
    workers = _positive(workers, "workers", func)
    if val is not None:
        if not (isinstance(val, (tuple, list)) and len(val) == 2):
            raise ValueError(f"{func}: val must be a pair (X_val, y_val), "
                             f"got {type(val).__name__}")
        _check_data(model, val[0], val[1], func)
    optimizer = Adam(1e-3) if optimizer is None else optimizer
    callbacks = list(callbacks)
    if progress and not any(isinstance(c, ProgressBar) for c in callbacks):
        callbacks.insert(0, ProgressBar())
    rng = np.random.default_rng(seed)
    dtype = model.dtype
    history = History()
    steps = math.ceil(len(X) / batch_size)
    info = dict(epochs=epochs, steps_per_epoch=steps, model=model,
                history=history)
    for cb in callbacks:
        cb.on_train_begin(info)
    model.train()
    step = 0
    parallel = None
    try:
        parallel = DataParallel(model, workers, batch_size, X.shape[1:])
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            total = [0.0, 0, 0]  # loss sum, correct, seen: this epoch
            window = [0.0, 0, 0]  # the same since the last log entry
            batches = _prepared(X, y, batch_size, rng, dtype, augment)
            upcoming = next(batches, None)
            for i in range(steps):
                xb, yb = upcoming
                parallel.start(xb, yb)
                # With workers, the next batch is shuffled and augmented
                # while they compute. The random draws come in the same order
                # either way, so a run repeats exactly.
                upcoming = next(batches, None)
                loss, hits = parallel.finish()
                if lr_schedule is not None:
                    optimizer.lr = float(lr_schedule(epoch + i / steps))
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"{func}: the loss became {loss} at epoch {epoch + 1}, "
                        f"step {i + 1}; try a smaller learning rate"
                    )
                optimizer.step(model)
                step += 1
                for acc in (total, window):
                    acc[0] += float(loss) * len(yb)
                    acc[1] += hits
                    acc[2] += len(yb)
                logs = {"loss": window[0] / window[2], "acc": window[1] / window[2],
                        "epoch": epoch + (i + 1) / steps}
                if step % log_every == 0 or i == steps - 1:
                    for k in ("loss", "acc", "epoch"):
                        history.steps[k].append(logs[k])
                    history.steps["step"].append(step)
                    window = [0.0, 0, 0]
                for cb in callbacks:
                    cb.on_batch_end(step, logs)
            seconds = time.perf_counter() - start
            val_loss, val_acc = (math.nan, math.nan) if val is None else \
                evaluate(model, *val)
            row = dict(epoch=epoch + 1, loss=total[0] / total[2],
                       train_acc=total[1] / total[2], val_loss=val_loss,
                       val_acc=val_acc, lr=optimizer.lr, time=seconds)
            for k, v in row.items():
                history[k].append(v)
            for cb in callbacks:
                cb.on_epoch_end(epoch, row)
    finally:  # also on Ctrl-C: end the workers, close the bars, final plot
        if parallel is not None:
            parallel.close()
        for cb in callbacks:
            cb.on_train_end(history)
    return history


def _batched_logits(model, X, batch_size, func):
    batch_size = _positive(batch_size, "batch_size", func)
    was_training = all(getattr(layer, "training", True) for layer in model)
    model.eval()
    try:
        for start in range(0, len(X), batch_size):
            xb = X[start:start + batch_size].astype(model.dtype, copy=False)
            yield start, model.forward(xb)
    finally:
        model.train(was_training)


def evaluate(model, X, y, batch_size=128):
    """Mean cross-entropy loss and accuracy of ``model`` on ``(X, y)``.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, C, H, W), float
    y : ndarray of int, shape (N,)
    batch_size : int
        Images per forward pass (only memory and speed depend on it; batches
        whose im2col columns fit in the CPU cache are fastest).

    Returns
    -------
    loss : float
    accuracy : float
        Fraction of correct predictions, in [0, 1].

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb (first used in
    notebooks/05_pooling_and_downsampling.ipynb).
    """
    _check_data(model, X, y, "evaluate")
    loss_sum, hits = 0.0, 0
    for start, logits in _batched_logits(model, X, batch_size, "evaluate"):
        yb = y[start:start + len(logits)]
        loss_sum += float(softmax_cross_entropy(logits, yb)[0]) * len(yb)
        hits += int(np.count_nonzero(logits.argmax(axis=1) == yb))
    return loss_sum / len(X), hits / len(X)


def predict(model, X, batch_size=128, proba=False):
    """Predicted classes, or class probabilities, for a batch of images.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, C, H, W), float
        One image needs a batch axis: ``X[None]`` or ``X[i:i+1]``.
    batch_size : int
    proba : bool
        False: return classes. True: return softmax probabilities.

    Returns
    -------
    ndarray
        ``proba=False``: shape (N,), int64, the most probable class.
        ``proba=True``: shape (N, K), model dtype, rows summing to 1.

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb.
    """
    _check_data(model, X, None, "predict", need_y=False)
    parts = []
    for _, logits in _batched_logits(model, X, batch_size, "predict"):
        parts.append(softmax(logits) if proba else logits.argmax(axis=1))
    return np.concatenate(parts)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
    num_classes : int, optional
        K; default ``max(y_true.max(), y_pred.max()) + 1``.

    Returns
    -------
    cm : ndarray, shape (K, K), int64
        ``cm[i, j]`` = number of samples of true class i predicted as j;
        the diagonal holds the correct ones.

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb.
    """
    func = "confusion_matrix"
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
            raise ValueError(f"{func}: {name} must be a 1-D array of class "
                             f"labels >= 0, got {a.dtype} {a.shape}")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{func}: y_true and y_pred must have the same shape, "
                         f"got {y_true.shape} and {y_pred.shape}")
    k = max(int(y_true.max(initial=-1)), int(y_pred.max(initial=-1))) + 1
    if num_classes is not None:
        if _positive(num_classes, "num_classes", func) < k:
            raise ValueError(f"{func}: labels go up to {k - 1}, more than "
                             f"num_classes={num_classes} allows")
        k = num_classes
    counts = np.bincount(y_true * k + y_pred, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


if __name__ == "__main__":
    from .cli import main

    sys.exit(main())
