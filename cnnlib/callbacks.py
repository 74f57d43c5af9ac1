"""Callbacks for `cnnlib.train.fit`: progress bars and a live loss plot.

::

    history = fit(model, X, y, epochs=5, callbacks=[LivePlot()])
    render_history(history)  # the same figure, drawn once

A callback overrides the hooks of `Callback` it needs; `fit` calls them at
the start, after every batch and epoch, and at the end.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import math
import sys
import time

__all__ = ["Callback", "ProgressBar", "LivePlot", "render_history"]


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
    in a terminal. `cnnlib.train.fit` adds one unless ``progress=False``.
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
