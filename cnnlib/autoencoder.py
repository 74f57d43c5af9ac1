"""A small convolutional autoencoder for 28x28 digits, and its training loop.

The encoder squeezes a digit into a short code; the decoder, built from
transposed convolutions, paints a digit back from the code. Training asks
only that the output look like the input (or, for a *denoising*
autoencoder, like the clean input when a noisy one came in): no labels.

`cnnlib.train.fit` is built for classifiers (labels, accuracy); the loop
here is the same idea with the image as its own target, written out short
enough to read with ``train_autoencoder??``.

Taught in notebooks/08_upsampling_and_autoencoders.ipynb.
"""

import time

import numpy as np

from .layers import Conv2D, ConvTranspose2D, Flatten, Linear, ReLU, Unflatten
from .losses import binary_cross_entropy_with_logits, mse
from .model import Sequential
from .optim import Adam
from .shapes import check_array, check_number, check_positive_int

__all__ = ["conv_autoencoder", "reconstruction_loss", "train_autoencoder",
           "encode", "decode", "add_noise"]


def conv_autoencoder(code_size=16, seed=0, dtype=np.float32):
    """Encoder and decoder for ``(N, 1, 28, 28)`` images in [0, 1].

    Returns
    -------
    encoder : Sequential
        conv 3x3 stride 2 (16) -> ReLU -> conv 3x3 stride 2 (32) -> ReLU
        -> flatten -> linear to ``code_size``: 1x28x28 -> 16x14x14 ->
        32x7x7 -> code.
    decoder : Sequential
        The mirror image: linear -> ReLU -> 32x7x7 -> transposed conv
        3x3 stride 2 (16) -> ReLU -> transposed conv 3x3 stride 2 (1):
        logits of shape 1x28x28 (``sigmoid`` gives the pixels).
    """
    code_size = check_positive_int(code_size, "code_size", "conv_autoencoder")
    s = seed * 10
    encoder = Sequential(
        Conv2D(1, 16, 3, stride=2, padding=1, seed=s + 1, dtype=dtype), ReLU(),
        Conv2D(16, 32, 3, stride=2, padding=1, seed=s + 2, dtype=dtype), ReLU(),
        Flatten(),
        Linear(32 * 7 * 7, code_size, init="glorot", seed=s + 3, dtype=dtype),
    )
    decoder = Sequential(
        Linear(code_size, 32 * 7 * 7, seed=s + 4, dtype=dtype), ReLU(),
        Unflatten((32, 7, 7)),
        # output_padding=1: 7 -> 14 -> 28 (without it 13 and 25, see
        # conv_transpose_output_size).
        ConvTranspose2D(32, 16, 3, stride=2, padding=1, output_padding=1,
                        seed=s + 5, dtype=dtype), ReLU(),
        ConvTranspose2D(16, 1, 3, stride=2, padding=1, output_padding=1,
                        init="glorot", seed=s + 6, dtype=dtype),
    )
    return encoder, decoder


def _sigmoid(z):
    e = np.exp(-np.abs(z))  # stable for any z
    return np.where(z >= 0, 1, e) / (1 + e)


def reconstruction_loss(logits, target, loss="bce"):
    """Loss between ``sigmoid(logits)`` and ``target``, and d loss / d logits.

    Parameters
    ----------
    logits : ndarray, shape (N, 1, H, W)
    target : ndarray, same shape, values in [0, 1]
    loss : {'bce', 'mse'}
        'bce': binary cross-entropy per pixel; 'mse': mean squared error of
        the pixels ``sigmoid(logits)``.

    Returns
    -------
    loss : scalar
    dlogits : ndarray, like logits

    Notes
    -----
    With 'mse' the chain rule multiplies by the sigmoid's slope
    ``p * (1 - p)``, nearly 0 where a pixel is confidently black or white,
    even if it is wrong; 'bce' cancels that factor, its gradient is
    ``p - target``.
    """
    if loss == "bce":
        return binary_cross_entropy_with_logits(logits, target)
    if loss == "mse":
        p = _sigmoid(logits)
        value, dp = mse(p, target)
        return value, dp * p * (1 - p)
    raise ValueError(f"reconstruction_loss: loss must be 'bce' or 'mse', "
                     f"got {loss!r}")


def add_noise(X, sigma, rng):
    """``X`` plus Gaussian noise of standard deviation ``sigma`` (not clipped)."""
    check_number(sigma, "sigma", "add_noise")
    return X + rng.standard_normal(X.shape).astype(X.dtype) * X.dtype.type(sigma)


def encode(encoder, X, batch_size=500):
    """Codes of images ``X (N, 1, H, W)``, in batches: ``(N, code_size)``."""
    return np.concatenate([encoder.forward(X[i:i + batch_size])
                           for i in range(0, len(X), batch_size)])


def decode(decoder, codes, batch_size=500):
    """Images in [0, 1] decoded from ``codes (N, code_size)``."""
    return np.concatenate([_sigmoid(decoder.forward(codes[i:i + batch_size]))
                           for i in range(0, len(codes), batch_size)])


def train_autoencoder(encoder, decoder, X, epochs=20, batch_size=64, lr=2e-3,
                      loss="bce", noise=0.0, seed=0, progress=True,
                      live_plot=False):
    """Train ``decoder(encoder(input))`` to give back the clean ``X``.

    Parameters
    ----------
    encoder, decoder : Sequential
    X : ndarray, shape (N, 1, H, W), pixels in [0, 1]
    epochs, batch_size : int
    lr : float
        Adam's learning rate.
    loss : {'bce', 'mse'}
        See `reconstruction_loss`.
    noise : float
        If > 0, a denoising autoencoder: every batch gets fresh Gaussian
        noise of this standard deviation on the input; the target is clean.
    seed : int
        Shuffling and noise.
    progress : bool
        A tqdm progress bar (on stderr, or a widget in Jupyter).
    live_plot : bool
        In Jupyter, redraw a plot of the loss after every epoch.

    Returns
    -------
    history : dict
        ``'loss'``: mean training loss of every epoch; ``'time'``: seconds
        spent in each epoch.
    """
    func = "train_autoencoder"
    check_array(X, "X", func, 4, "(N, 1, H, W)")
    epochs = check_positive_int(epochs, "epochs", func)
    batch_size = check_positive_int(batch_size, "batch_size", func)
    noise = check_number(noise, "noise", func)
    reconstruction_loss(np.zeros(1, X.dtype), np.zeros(1, X.dtype), loss)
    model = Sequential(*encoder, *decoder)  # the same layers: trained in place
    opt, rng = Adam(lr), np.random.default_rng(seed)
    history = {"loss": [], "time": []}
    steps = -(-len(X) // batch_size)
    bar = _bar(epochs * steps) if progress else None
    display = _LossPlot() if live_plot else None
    for _ in range(epochs):
        start, total = time.perf_counter(), 0.0
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            target = X[order[i:i + batch_size]]
            x = add_noise(target, noise, rng) if noise else target
            value, dlogits = reconstruction_loss(model.forward(x), target, loss)
            model.backward(dlogits, need_dx=False)
            opt.step(model)
            total += float(value) * len(target)
            if bar is not None:
                bar.set_postfix(loss=f"{float(value):.4f}", refresh=False)
                bar.update(1)
        history["loss"].append(total / len(X))
        history["time"].append(time.perf_counter() - start)
        if display is not None:
            display.update(history, loss)
    if bar is not None:
        bar.close()
    return history


def _bar(total):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="batch", desc="training")


class _LossPlot:
    """A figure in the notebook output, replaced after every epoch."""

    def __init__(self):
        from IPython.display import display

        self.handle = display(None, display_id=True)

    def update(self, history, loss):
        from IPython.display import Image
        from matplotlib.figure import Figure

        from .widgets.base import figure_png

        fig = Figure(figsize=(4.5, 2.4), layout="constrained")
        ax = fig.subplots()
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], "o-")
        ax.set_xticks(epochs[::max(1, len(epochs) // 10)])
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"training loss ({loss})")
        self.handle.update(Image(figure_png(fig)))
