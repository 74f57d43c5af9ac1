"""The training loop and evaluation.

::

    history = fit(model, X, y, epochs=5, optimizer=Adam(1e-3),
                  val=(X_test, y_test), callbacks=[LivePlot()])
    loss, acc = evaluate(model, X_test, y_test)

`fit` repeats `train_step` (forward, loss, backward, optimizer step) over
shuffled mini-batches. Callbacks live in `cnnlib.callbacks`, augmentation in
`cnnlib.augment`. From a terminal, ``python -m cnnlib.train`` trains LeNet-5
(see `cnnlib.cli`).

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import math
import sys
import time
from contextlib import contextmanager

import numpy as np

from .callbacks import ProgressBar
from .data import iterate_minibatches
from .losses import softmax, softmax_cross_entropy
from .optim import Adam
from .shapes import check_array, check_finite, check_number, check_positive_int

__all__ = ["History", "TrainingDiverged", "train_step", "fit", "evaluate",
           "predict", "confusion_matrix"]


class TrainingDiverged(FloatingPointError):
    """Raised by `fit` when the loss, the gradients or the weights blow up."""


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


def train_step(model, X_batch, y_batch, optimizer):
    """One step of mini-batch gradient descent; updates ``model`` in place.

    Parameters
    ----------
    model : Sequential
    X_batch : ndarray, shape (B, C, H, W), the model's dtype
    y_batch : ndarray of int, shape (B,)
    optimizer : cnnlib.optim.Optimizer

    Returns
    -------
    loss : float
        Mean cross-entropy of the batch, before the update.
    hits : int
        How many of the batch's predictions were correct.
    """
    logits = model.forward(X_batch)
    loss, dlogits = softmax_cross_entropy(logits, y_batch)
    model.backward(dlogits, need_dx=False)  # fills model.grads(); no dx needed
    optimizer.step(model)
    hits = int(np.count_nonzero(logits.argmax(axis=1) == y_batch))
    return float(loss), hits


def fit(model, X, y, epochs=1, batch_size=64, optimizer=None, val=None,
        callbacks=(), seed=0, lr_schedule=None, log_every=10, progress=True,
        augment=None):
    """Train ``model`` with mini-batch gradient descent on softmax cross-entropy.

    Parameters
    ----------
    model : Sequential
        Maps ``X (B, C, H, W)`` to logits ``(B, K)``; trained in place.
    X : ndarray, shape (N, C, H, W), float
        Cast batch by batch to the model's dtype.
    y : ndarray of int, shape (N,)
    epochs, batch_size : int
    optimizer : cnnlib.optim.Optimizer, optional
        Default ``Adam(lr=1e-3)``.
    val : (X_val, y_val), optional
        Evaluated after every epoch.
    callbacks : list of cnnlib.callbacks.Callback
    seed : int or numpy.random.Generator
        Shuffling and augmentation (the same seed gives the same run).
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

    Returns
    -------
    History

    Raises
    ------
    TrainingDiverged
        The loss became NaN, inf or larger than ``LOSS_LIMIT`` (1e4), or a
        gradient, weight or activation stopped being finite: the message
        names the epoch and batch. Usually the learning rate is too large.
    """
    optimizer = _check_fit(model, X, y, epochs, batch_size, optimizer, val,
                           log_every)
    callbacks = _with_progress_bar(callbacks, progress)
    rng = np.random.default_rng(seed)
    steps = math.ceil(len(X) / batch_size)
    meter = _Meter(steps, log_every)
    watch = _Watch(model, X, optimizer, steps)
    for cb in callbacks:
        cb.on_train_begin(dict(epochs=epochs, steps_per_epoch=steps,
                               model=model, history=meter.history))
    model.train()
    try:
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            meter.start_epoch()
            for i, (xb, yb) in enumerate(
                    _batches(X, y, batch_size, rng, model.dtype, augment)):
                if lr_schedule is not None:
                    optimizer.lr = _scheduled_lr(lr_schedule, epoch + i / steps)
                with watch.step(epoch, i):  # a blow-up stops the run here
                    loss, hits = train_step(model, xb, yb, optimizer)
                    watch.check(loss)
                logs = meter.add_batch(epoch, i, loss, hits, len(yb))
                for cb in callbacks:
                    cb.on_batch_end(meter.step, logs)
            scores = (math.nan, math.nan) if val is None else evaluate(model, *val)
            row = meter.end_epoch(epoch, scores, optimizer.lr)
            for cb in callbacks:
                cb.on_epoch_end(epoch, row)
    finally:  # also on Ctrl-C or divergence: close the bars, final plot
        for cb in callbacks:
            cb.on_train_end(meter.history)
    return meter.history


# ---------------------------------------------------------------- its helpers


def _check_data(model, X, y, func, need_y=True):
    check_array(X, "X", func, shape_doc="(N, C, H, W)")
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"{func}: X must have shape (N, ...) with N >= 1, "
                         f"got {X.shape}")
    # A NaN is reported here at its index in X, not later inside a batch.
    check_finite(X, "X", func)
    if need_y:
        if not isinstance(y, np.ndarray) or y.shape != (len(X),) or \
                y.dtype.kind not in "iu":
            got = f"{y.dtype} {y.shape}" if isinstance(y, np.ndarray) else y
            raise ValueError(
                f"{func}: y must be an int array of shape ({len(X)},) to match "
                f"X, got {got}"
            )


def _check_fit(model, X, y, epochs, batch_size, optimizer, val, log_every):
    """Validate fit's arguments; return the optimizer (default Adam)."""
    func = "fit"
    _check_data(model, X, y, func)
    check_positive_int(epochs, "epochs", func)
    check_positive_int(batch_size, "batch_size", func)
    check_positive_int(log_every, "log_every", func)
    if val is not None:
        if not (isinstance(val, (tuple, list)) and len(val) == 2):
            raise ValueError(f"{func}: val must be a pair (X_val, y_val), "
                             f"got {type(val).__name__}")
        _check_data(model, val[0], val[1], func)
    if optimizer is None:
        return Adam(1e-3)
    if not (callable(getattr(optimizer, "step", None))
            and hasattr(optimizer, "lr")):
        raise TypeError(f"{func}: optimizer must be an optimizer object such "
                        f"as Adam(1e-3) or SGD(0.1) from cnnlib.optim, got "
                        f"{optimizer!r}")
    return optimizer


def _with_progress_bar(callbacks, progress):
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"fit: callbacks must be a list of callbacks, got "
                        f"{type(callbacks).__name__}")
    callbacks = list(callbacks)
    if progress and not any(isinstance(c, ProgressBar) for c in callbacks):
        callbacks.insert(0, ProgressBar())
    return callbacks


def _batches(X, y, batch_size, rng, dtype, augment):
    """One epoch of shuffled batches, cast to ``dtype`` and augmented."""
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=True, rng=rng):
        xb = xb.astype(dtype, copy=False)
        yield (xb if augment is None else augment(xb, rng)), yb


def _scheduled_lr(lr_schedule, t):
    lr = lr_schedule(t)
    return check_number(lr, f"lr_schedule({t:g})", "fit")


class _Meter:
    """Running averages of loss and accuracy, written into a `History`."""

    def __init__(self, steps_per_epoch, log_every):
        self.history, self.steps, self.log_every = History(), steps_per_epoch, \
            log_every
        self.step = 0

    def start_epoch(self):
        self.start = time.perf_counter()
        self.total = [0.0, 0, 0]  # loss sum, correct, seen: this epoch
        self.window = [0.0, 0, 0]  # the same since the last log entry

    def add_batch(self, epoch, i, loss, hits, n):
        """Count one batch; return the logs passed to ``on_batch_end``."""
        self.step += 1
        for acc in (self.total, self.window):
            acc[0] += loss * n
            acc[1] += hits
            acc[2] += n
        logs = {"loss": self.window[0] / self.window[2],
                "acc": self.window[1] / self.window[2],
                "epoch": epoch + (i + 1) / self.steps}
        if self.step % self.log_every == 0 or i == self.steps - 1:
            for k in ("loss", "acc", "epoch"):
                self.history.steps[k].append(logs[k])
            self.history.steps["step"].append(self.step)
            self.window = [0.0, 0, 0]
        return logs

    def end_epoch(self, epoch, scores, lr):
        """Append the epoch's row to the history and return it."""
        seconds = time.perf_counter() - self.start
        loss, hits, seen = self.total
        row = dict(epoch=epoch + 1, loss=loss / seen, train_acc=hits / seen,
                   val_loss=scores[0], val_acc=scores[1], lr=lr, time=seconds)
        for k, v in row.items():
            self.history[k].append(v)
        return row


#: A mean cross-entropy above this (in nats) means the run has diverged: the
#: right class would get a probability below exp(-10000).
LOSS_LIMIT = 1e4


class _Watch:
    """Stops a run whose numbers blow up, with a message naming the step."""

    def __init__(self, model, X, optimizer, steps):
        self.model, self.X, self.optimizer, self.steps = model, X, optimizer, steps

    @contextmanager
    def step(self, epoch, i):
        self.where = (epoch, i)
        # Overflow is expected once a run diverges: we report it ourselves.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                yield
            except ValueError as err:
                # X and the weights were finite, so a non-finite value the
                # layers or the optimizer refuse was made by overflow.
                if "must be finite" not in str(err):
                    raise
                raise self.diverged(f"numbers overflowed ({err})") from None
            # one cheap sum; only if it is not finite, look at each weight
            params = self.model.params()
            total = sum(float(np.add.reduce(p, axis=None))
                        for p in params.values())
        if not math.isfinite(total):
            bad = [k for k, p in params.items() if not np.isfinite(p).all()]
            if bad:
                raise self.diverged(f"the weights {bad} are no longer finite")

    def check(self, loss):
        if not math.isfinite(loss) or loss > LOSS_LIMIT:
            raise self.diverged(f"the loss is {loss:.4g}")

    def diverged(self, what):
        epoch, i = self.where
        hint = f"try a smaller learning rate (it is {self.optimizer.lr:g})"
        scale = max(float(self.X.max()), -float(self.X.min()))  # no |X| copy
        if scale > 1e3:
            hint += (f", and scale the inputs: |X| reaches {scale:.3g} (e.g. "
                     f"load_mnist(..., dtype=np.float32, normalize=True))")
        return TrainingDiverged(
            f"fit: training diverged at epoch {epoch + 1}, batch {i + 1} of "
            f"{self.steps}: {what}; {hint}")


# ---------------------------------------------------------------- evaluation


def _batched_logits(model, X, batch_size, func):
    batch_size = check_positive_int(batch_size, "batch_size", func)
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
    # int64 first: y_true * k would wrap around in uint8 or int8.
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    k = max(int(y_true.max(initial=-1)), int(y_pred.max(initial=-1))) + 1
    if num_classes is not None:
        if check_positive_int(num_classes, "num_classes", func) < k:
            raise ValueError(f"{func}: labels go up to {k - 1}, more than "
                             f"num_classes={num_classes} allows")
        k = num_classes
    counts = np.bincount(y_true * k + y_pred, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


if __name__ == "__main__":
    from .cli import main  # only here: cli imports this module, not back

    sys.exit(main())
