"""The training loop, evaluation, callbacks, and the command line.

::

    history = fit(model, X, y, epochs=5, optimizer=Adam(1e-3),
                  val=(X_test, y_test), callbacks=[LivePlot()])
    loss, acc = evaluate(model, X_test, y_test)

From a terminal, ``python -m cnnlib.train`` trains LeNet-5 on the shipped
digits (``--help`` lists the options; ``--data-dir DIR`` uses the full MNIST
IDX files). Taught in notebooks/07_training_a_cnn.ipynb.
"""

import argparse
import math
import sys
import time
from numbers import Integral

import numpy as np

from .checkpoint import load, save  # noqa: F401  (part of this module's API)
from .data import iterate_minibatches
from .losses import softmax, softmax_cross_entropy
from .optim import Adam
from .shapes import check_array

__all__ = ["History", "Callback", "ProgressBar", "LivePlot", "render_history",
           "fit", "random_affine", "evaluate", "predict", "confusion_matrix",
           "save", "load", "main"]


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


class Callback:
    """Hooks called by `fit`; override the ones you need.

    ``on_train_begin(info)`` gets ``{'epochs', 'steps_per_epoch', 'model',
    'history'}``; ``on_batch_end(step, logs)`` gets the running ``loss``,
    ``acc`` and fractional ``epoch``; ``on_epoch_end(epoch, logs)`` gets
    that epoch's entries of the history.
    """

    def on_train_begin(self, info):
        self.info = info

    def on_epoch_begin(self, epoch):
        pass

    def on_batch_end(self, step, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self, history):
        pass


class ProgressBar(Callback):
    """tqdm progress bars with the running loss and accuracy.

    Parameters
    ----------
    per_epoch : bool, optional
        One bar per epoch (a log that stays in a terminal) or one bar for the
        whole run. Default: per epoch in a terminal, one bar in Jupyter.
    **tqdm_kwargs
        Passed to ``tqdm``.

    Notes
    -----
    ``tqdm.auto`` draws a widget bar in Jupyter and a text bar (on stderr)
    in a terminal.
    """

    def __init__(self, per_epoch=None, **tqdm_kwargs):
        self.per_epoch, self.kwargs = per_epoch, tqdm_kwargs
        self.bar = None

    def _open(self, total, desc):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, unit="batch", desc=desc, leave=True,
                        **self.kwargs)

    def on_train_begin(self, info):
        super().on_train_begin(info)
        if self.per_epoch is None:
            self.per_epoch = not _in_notebook()
        if not self.per_epoch:
            self._open(info["epochs"] * info["steps_per_epoch"], "training")

    def on_epoch_begin(self, epoch):
        desc = f"epoch {epoch + 1}/{self.info['epochs']}"
        if self.per_epoch:
            self._open(self.info["steps_per_epoch"], desc)
        else:
            self.bar.set_description(desc, refresh=False)

    def on_batch_end(self, step, logs):
        self.bar.set_postfix(loss=f"{logs['loss']:.4f}",
                             acc=f"{logs['acc']:.4f}", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs):
        post = {"loss": f"{logs['loss']:.4f}", "acc": f"{logs['train_acc']:.4f}"}
        if not math.isnan(logs["val_acc"]):
            post["val_acc"] = f"{logs['val_acc']:.4f}"
        self.bar.set_postfix(post)
        if self.per_epoch:
            self.on_train_end(None)

    def on_train_end(self, history):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def render_history(history, figsize=(8, 3)):
    """Figure of loss (left) and accuracy (right) against epochs.

    Parameters
    ----------
    history : History
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot, so it never displays twice or leaks.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    s, ep = history.steps, history["epoch"]
    ax_loss.plot(s["epoch"], s["loss"], color="C0", lw=1, alpha=0.6,
                 label="train (running)")
    ax_acc.plot(s["epoch"], s["acc"], color="C0", lw=1, alpha=0.6,
                label="train (running)")
    if ep and not all(math.isnan(v) for v in history["val_acc"]):
        ax_loss.plot(ep, history["val_loss"], "o-", color="C1", label="validation")
        ax_acc.plot(ep, history["val_acc"], "o-", color="C1", label="validation")
    for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if s["step"]:
            ax.legend(loc="upper right" if name == "loss" else "lower right")
    if history["val_acc"] and not math.isnan(history["val_acc"][-1]):
        ax_acc.set_title(f"validation accuracy {history['val_acc'][-1]:.2%}")
    if s["loss"]:
        ax_loss.set_title(f"loss {s['loss'][-1]:.4f}")
    ax_loss.set_yscale("log")
    return fig


class LivePlot(Callback):
    """Redraw `render_history` during training in a Jupyter notebook.

    Parameters
    ----------
    interval : float
        Seconds between redraws (drawing costs ~0.1 s), plus one at each
        epoch's end. The last drawing stays in the cell as a static image.
    path : str, optional
        Also save the final figure there as a PNG (works in a terminal).
    figsize : (float, float)

    Notes
    -----
    Updates one output in place through an IPython display handle, sending
    only ``image/png`` (no ``<Figure ...>`` text). Outside a notebook it
    draws nothing until the end, and then only if ``path`` is given.
    """

    def __init__(self, interval=1.0, path=None, figsize=(8, 3)):
        self.interval, self.path, self.figsize = interval, path, figsize
        self.handle, self.last = None, 0.0

    def _png(self):
        import io

        fig = render_history(self.info["history"], self.figsize)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
        return buf.getvalue(), fig

    def _draw(self):
        if self.handle is None:
            return
        import base64

        png = base64.b64encode(self._png()[0]).decode("ascii")
        self.handle.update({"image/png": png}, raw=True)
        self.last = time.perf_counter()

    def on_train_begin(self, info):
        super().on_train_begin(info)
        if _in_notebook():
            from IPython.display import display

            self.handle = display({"text/plain": ""}, raw=True, display_id=True)
        self.last = time.perf_counter()

    def on_batch_end(self, step, logs):
        if time.perf_counter() - self.last > self.interval:
            self._draw()

    def on_epoch_end(self, epoch, logs):
        self._draw()

    def on_train_end(self, history):
        self._draw()
        if self.path:
            self._png()[1].savefig(self.path, dpi=100)


def _in_notebook():
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and hasattr(shell, "kernel")


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
    optimizer : Optimizer, optional
        Default ``Adam(lr=1e-3)``.
    val : (X_val, y_val), optional
        Evaluated after every epoch.
    callbacks : list of Callback
    seed : int or numpy.random.Generator
        Shuffling order (the same seed gives the same run).
    lr_schedule : callable, optional
        ``lr = lr_schedule(t)``, ``t`` = epochs done (fractional), applied
        before every step (see `cnnlib.optim.cosine`).
    log_every : int
        Steps between entries of ``history.steps``.
    progress : bool
        Show a `ProgressBar` (unless ``callbacks`` has one).
    augment : callable, optional
        ``X_batch = augment(X_batch, rng)`` before each step, e.g.
        `random_affine` (training batches only).

    Returns
    -------
    History

    Notes
    -----
    One step: forward, loss and its gradient, backward (no dx for the
    input), optimizer step. Taught in notebooks/07_training_a_cnn.ipynb.
    """
    func = "fit"
    _check_data(model, X, y, func)
    epochs = _positive(epochs, "epochs", func)
    batch_size = _positive(batch_size, "batch_size", func)
    log_every = _positive(log_every, "log_every", func)
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
    try:
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            total = [0.0, 0, 0]  # loss sum, correct, seen: this epoch
            window = [0.0, 0, 0]  # the same since the last log entry
            batches = iterate_minibatches(X, y, batch_size, shuffle=True, rng=rng)
            for i, (xb, yb) in enumerate(batches):
                if lr_schedule is not None:
                    optimizer.lr = float(lr_schedule(epoch + i / steps))
                xb = xb.astype(dtype, copy=False)
                if augment is not None:
                    xb = augment(xb, rng)
                logits = model.forward(xb)
                loss, dlogits = softmax_cross_entropy(logits, yb)
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"{func}: the loss became {loss} at epoch {epoch + 1}, "
                        f"step {i + 1}; try a smaller learning rate"
                    )
                model.backward(dlogits, need_dx=False)
                optimizer.step(model)
                step += 1
                hits = int(np.count_nonzero(logits.argmax(axis=1) == yb))
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
    finally:  # also on Ctrl-C: close the bars, draw the final plot
        for cb in callbacks:
            cb.on_train_end(history)
    return history


def random_affine(rotate=10.0, scale=0.1, shift=2.0):
    """Augmentation for `fit`: a random rotation, scaling and shift per image.

    Parameters
    ----------
    rotate : float
        Largest rotation in degrees (uniform in [-rotate, rotate]).
    scale : float
        Largest relative change of size (uniform in [1-scale, 1+scale]).
    shift : float
        Largest shift in pixels, along each axis.

    Returns
    -------
    augment : callable
        ``augment(x, rng)`` with ``x (N, C, H, W)`` returns new images of
        the same shape and dtype, bilinearly resampled; what comes from
        outside the image is the image's smallest value (the background).

    Notes
    -----
    With 4,000 training digits a network soon memorises them; moving the
    digits a little each epoch makes it learn shapes instead (about +1% test
    accuracy on the shipped subset). Costs ~1.5 ms per batch of 64 28x28.
    """
    for name, v in (("rotate", rotate), ("scale", scale), ("shift", shift)):
        if not isinstance(v, (int, float)) or not 0 <= v < (1 if name ==
                                                            "scale" else 1e3):
            raise ValueError(f"random_affine: {name} must be a number >= 0, "
                             f"got {v!r}")

    def augment(x, rng):
        n, c, h, w = x.shape
        f = x.dtype.type
        turn = np.deg2rad(rng.uniform(-rotate, rotate, (n, 1)))
        inv = 1 / (1 + rng.uniform(-scale, scale, (n, 1)))
        cos = (np.cos(turn) * inv).astype(x.dtype)
        sin = (np.sin(turn) * inv).astype(x.dtype)
        ty, tx = rng.uniform(-shift, shift, (2, n, 1)).astype(x.dtype)
        # Where each output pixel samples the input (inverse mapping), in
        # coordinates of the image padded by one background pixel.
        ii = (np.arange(h, dtype=x.dtype) - f((h - 1) / 2)).repeat(w)
        jj = np.tile(np.arange(w, dtype=x.dtype) - f((w - 1) / 2), h)
        si = np.clip(cos * ii - sin * jj + (f((h + 1) / 2) + ty), 0, h + 1)
        sj = np.clip(sin * ii + cos * jj + (f((w + 1) / 2) + tx), 0, w + 1)
        # floor (all >= 0), but keep the 2x2 neighbourhood inside the image
        i0 = np.minimum(si.astype(np.intp), h)
        j0 = np.minimum(sj.astype(np.intp), w)
        si -= i0
        sj -= j0
        w2 = w + 2
        k = i0 * w2 + j0 + (np.arange(n) * ((h + 2) * w2))[:, None]
        xp = np.empty((n, c, h + 2, w2), x.dtype)
        xp[...] = x.min(axis=(1, 2, 3)).reshape(n, 1, 1, 1)
        xp[:, :, 1:-1, 1:-1] = x
        out = np.empty((n, c, h * w), x.dtype)
        for ch in range(c):
            flat = xp[:, ch].ravel()
            top = flat[k] + sj * (flat[k + 1] - flat[k])
            bottom = flat[k + w2] + sj * (flat[k + w2 + 1] - flat[k + w2])
            out[:, ch] = top + si * (bottom - top)
        return out.reshape(n, c, h, w)

    return augment


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
    k = max(int(y_true.max(initial=-1)), int(y_pred.max(initial=-1))) + 1
    if num_classes is not None:
        if _positive(num_classes, "num_classes", func) < k:
            raise ValueError(f"{func}: labels go up to {k - 1}, more than "
                             f"num_classes={num_classes} allows")
        k = num_classes
    counts = np.bincount(y_true * k + y_pred, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


# ---------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    """argparse, but every error is one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser():
    p = _Parser(prog="python -m cnnlib.train",
                description="Train a CNN on MNIST and print its test accuracy.")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the four MNIST IDX files (default: "
                        "the 5,000 digits shipped in data/)")
    p.add_argument("--model", choices=["lenet5", "tiny"], default="lenet5")
    p.add_argument("--epochs", type=_arg(int),
                   help="default 20 on the shipped digits, 8 on full MNIST")
    p.add_argument("--batch-size", type=_arg(int), default=64)
    p.add_argument("--lr", type=_arg(float),
                   help="peak learning rate of Adam, which decays along a "
                        "cosine (default 3e-3 shipped, 2e-3 full)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   default=True, help="random_affine on the training digits "
                                      "(default: on)")
    p.add_argument("--seed", type=_arg(int, positive=False), default=0)
    p.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars")
    return p


def _arg(kind, positive=True):
    """An argparse type: a finite int/float, > 0 (or >= 0 if not positive)."""
    rule = "a positive" if positive else "a non-negative"

    def convert(text):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not math.isfinite(v) or v < 0 or (positive and v == 0):
            raise argparse.ArgumentTypeError(
                f"must be {rule} {kind.__name__}, got {text!r}")
        return v

    return convert


def _models():
    from .layers import lenet5, tiny_cnn

    return {"lenet5": lenet5, "tiny": tiny_cnn}


def main(argv=None):
    """Entry point of ``python -m cnnlib.train``; returns the exit status."""
    import os

    from .checkpoint import is_checkpoint
    from .data import load_mnist
    from .optim import cosine

    parser = _parser()
    args = parser.parse_args(argv)
    source = "subset" if args.data_dir is None else args.data_dir
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        parser.error(f"--data-dir: {args.data_dir} is not a directory")
    if args.save:
        folder = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(folder):
            parser.error(f"--save: directory {folder} does not exist")
        if os.path.exists(args.save) and not is_checkpoint(args.save):
            parser.error(f"--save: {args.save} exists and is not a cnnlib "
                         f"checkpoint; not overwriting it")
    try:
        X, y = load_mnist(source, "train", dtype=np.float32, normalize=True)
        Xt, yt = load_mnist(source, "test", dtype=np.float32, normalize=True)
    except (OSError, ValueError) as err:
        parser.error(" ".join(str(err).split()))
    # Defaults measured in benchmarks/train_mnist.py: 97.6-98.0% on the
    # shipped digits in ~15 s of CPU, 99.2-99.4% on full MNIST in ~80 s.
    small = source == "subset"
    epochs = args.epochs or (20 if small else 8)
    lr = args.lr or (3e-3 if small else 2e-3)
    augment = args.augment
    model = _models()[args.model](seed=args.seed)
    print(f"{args.model}: {model.num_params():,} parameters; {len(X):,} "
          f"training and {len(Xt):,} test digits; {epochs} epochs, Adam lr {lr}"
          f"{', augmented' if augment else ''}", flush=True)
    try:
        history = fit(model, X, y, epochs=epochs, batch_size=args.batch_size,
                      optimizer=Adam(lr), seed=args.seed,
                      lr_schedule=cosine(lr, epochs),
                      augment=random_affine() if augment else None,
                      progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    _, acc = evaluate(model, Xt, yt)
    print(f"test accuracy: {acc:.2%} ({len(Xt):,} digits); training took "
          f"{sum(history['time']):.1f} s")
    if args.save:
        try:
            save(model, args.save)
        except (OSError, ValueError) as err:
            print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 1
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
