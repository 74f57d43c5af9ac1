"""Explorers for why a CNN needs a nonlinearity between its convolutions.

- `render_collapse` / `explore_collapse`: two stacked 3x3 convolutions, with
  or without a ReLU between them, against the one 5x5 kernel they are
  equivalent to when nothing sits between them.
- `render_activation` / `explore_activation`: an edge-filtered image through
  ReLU, sigmoid or tanh; the values before and after, and the local slope.

Taught in notebooks/04_relu_and_nonlinearity.ipynb.
"""

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from ..conv import conv2d_forward
from .base import explorer

__all__ = [
    "KERNELS",
    "ACTIVATIONS",
    "get_kernel",
    "compose_kernels",
    "correlate_valid",
    "collapse_outputs",
    "render_collapse",
    "explore_collapse",
    "render_activation",
    "explore_activation",
]

# Named 3x3 kernels for the explorers (float64, so the comparisons are exact
# to ~1e-15 when the algebra says they should be equal).
KERNELS = {
    "vertical edge": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]) / 4.0,
    "horizontal edge": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]) / 4.0,
    "diagonal edge": np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]) / 4.0,
    "blur": np.full((3, 3), 1 / 9.0),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "random": np.random.default_rng(4).standard_normal((3, 3)) / 3.0,
}

# name -> (forward, backward); each forward returns (out, cache).
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}


def get_kernel(kernel, func="get_kernel"):
    """A kernel given by name (a key of `KERNELS`) or as a 2-D array.

    Returns
    -------
    ndarray, shape (KH, KW), float64

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(
                f"{func}: kernel must be one of {sorted(KERNELS)} or a 2-D "
                f"array, got {kernel!r}"
            )
        return KERNELS[kernel]
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(
            f"{func}: kernel must be a 2-D array (KH, KW), got shape {k.shape}"
        )
    return k


def _image(image, func):
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"{func}: image must be a 2-D array (H, W), got shape {x.shape}"
        )
    return x


def correlate_valid(image, kernel):
    """One-channel 'valid' cross-correlation through `cnnlib.conv`.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    kernel : ndarray, shape (KH, KW)

    Returns
    -------
    ndarray, shape (H - KH + 1, W - KW + 1)

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    x = image[None, None]
    w = kernel[None, None].astype(image.dtype)
    out, _ = conv2d_forward(x, w, np.zeros(1, dtype=image.dtype))
    return out[0, 0]


def compose_kernels(k1, k2):
    """The one kernel equal to correlating with ``k1`` and then with ``k2``.

    Parameters
    ----------
    k1 : ndarray, shape (A, B)
    k2 : ndarray, shape (C, D)

    Returns
    -------
    ndarray, shape (A + C - 1, B + D - 1)

    Notes
    -----
    ``corr(corr(x, k1), k2)[i] = sum_t x[i + t] * sum_{u + v = t} k1[u] k2[v]``
    so the combined kernel is the *full convolution* of ``k1`` with ``k2``:
    each weight of ``k2`` adds a shifted copy of ``k1``.
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    k1 = np.asarray(k1, dtype=np.float64)
    k2 = np.asarray(k2, dtype=np.float64)
    a, b = k1.shape
    c, d = k2.shape
    out = np.zeros((a + c - 1, b + d - 1))
    for v0 in range(c):
        for v1 in range(d):
            out[v0 : v0 + a, v1 : v1 + b] += k2[v0, v1] * k1
    return out


def collapse_outputs(image, k1, k2, relu=True):
    """Everything `render_collapse` shows, as arrays.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    k1, k2 : str or ndarray, shape (3, 3)
        First and second kernel (names from `KERNELS` or arrays).
    relu : bool
        Put a ReLU between the two convolutions.

    Returns
    -------
    dict with
        ``hidden`` (H-2, W-2): after the first conv (and ReLU if asked);
        ``stacked`` (H-4, W-4): after the second conv;
        ``kernel`` (5, 5): `compose_kernels` of k1 and k2;
        ``single`` (H-4, W-4): the image correlated once with ``kernel``;
        ``diff`` (H-4, W-4): ``stacked - single``.

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    func = "collapse_outputs"
    x = _image(image, func)
    k1 = get_kernel(k1, func)
    k2 = get_kernel(k2, func)
    hidden = correlate_valid(x, k1)
    if relu:
        hidden = np.maximum(hidden, 0.0)
    stacked = correlate_valid(hidden, k2)
    kernel = compose_kernels(k1, k2)
    single = correlate_valid(x, kernel)
    return {"hidden": hidden, "stacked": stacked, "kernel": kernel,
            "single": single, "diff": stacked - single}


_STEP = (1.2, 1.3)  # tile pitch (width, height) in units of one tile


def _tile(ax, pos, img, title, cmap="RdBu_r", vmax=None):
    """Draw ``img`` as a unit square tile at grid position ``(col, row)``."""
    x0, y0 = pos[0] * _STEP[0], pos[1] * _STEP[1]
    if vmax is None:
        vmax = float(np.abs(img).max()) or 1.0
    vmin = -vmax if cmap == "RdBu_r" else None
    ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
              extent=(x0, x0 + 1, y0 + 1, y0))
    ax.add_patch(Rectangle((x0, y0), 1, 1, fill=False, ec="0.3", lw=0.8))
    ax.text(x0 + 0.5, y0 - 0.04, title, ha="center", va="bottom", fontsize=9)


def _row_colorbar(fig, rect, vmax):
    """A colour bar for a signed scale [-vmax, vmax] in figure box ``rect``."""
    bar = fig.colorbar(ScalarMappable(Normalize(-vmax, vmax), cmap="RdBu_r"),
                       cax=fig.add_axes(rect))
    bar.locator = MaxNLocator(5)
    bar.update_ticks()
    bar.ax.tick_params(labelsize=8)
    return bar


def render_collapse(image, k1="vertical edge", k2="horizontal edge",
                    relu=False):
    """Two stacked 3x3 convolutions vs the single equivalent 5x5 kernel.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    k1, k2 : str or ndarray, shape (3, 3)
    relu : bool
        Put a ReLU between the two convolutions.

    Returns
    -------
    matplotlib.figure.Figure
        Top row: image, k1, k2, composed 5x5 kernel. Bottom row: after the
        first layer, the two-layer result, the one-kernel result, and their
        difference on the same colour scale (blank means equal).

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    r = collapse_outputs(image, k1, k2, relu)
    fig = Figure(figsize=(8.4, 4.3), dpi=80)
    # One axes holding eight tiles: drawing cost grows with the number of
    # axes, and this figure is redrawn on every change.
    ax = fig.add_axes((0.0, 0.0, 0.92, 0.92))
    ax.axis("off")
    _tile(ax, (0, 0), _image(image, "render_collapse"), "input", cmap="gray")
    # Each row shares one signed colour scale, shown by the bar on its right.
    kmax = max(float(np.abs(k).max()) for k in
               (get_kernel(k1), get_kernel(k2), r["kernel"])) or 1.0
    _tile(ax, (1, 0), get_kernel(k1), "k1 (3x3)", vmax=kmax)
    _tile(ax, (2, 0), get_kernel(k2), "k2 (3x3)", vmax=kmax)
    _tile(ax, (3, 0), r["kernel"], "5x5 kernel = full conv of k1, k2",
          vmax=kmax)
    scale = max(float(np.abs(r["stacked"]).max()),
                float(np.abs(r["hidden"]).max())) or 1.0
    mid = "ReLU(conv(x, k1))" if relu else "conv(x, k1)"
    _tile(ax, (0, 1), r["hidden"], mid, vmax=scale)
    _tile(ax, (1, 1), r["stacked"], f"conv({mid}, k2)", vmax=scale)
    _tile(ax, (2, 1), r["single"], "conv(x, 5x5 kernel)", vmax=scale)
    err = float(np.abs(r["diff"]).max())
    _tile(ax, (3, 1), r["diff"], f"difference, max |d| = {err:.1g}",
          vmax=scale)
    ax.set_xlim(-0.1, 4 * _STEP[0] - 0.1)
    ax.set_ylim(2 * _STEP[1] - 0.25, -0.25)
    _row_colorbar(fig, (0.925, 0.52, 0.015, 0.33), kmax)
    _row_colorbar(fig, (0.925, 0.06, 0.015, 0.33), scale)
    verdict = ("with the ReLU between them, the 5x5 kernel no longer matches"
               if relu and err > 1e-9 * scale else
               "two linear convolutions = one convolution")
    fig.suptitle(verdict, fontsize=10)
    return fig


def explore_collapse(image):
    """Live `render_collapse`: choose both kernels and the ReLU.

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    import ipywidgets as w

    names = list(KERNELS)
    return explorer(
        lambda **v: render_collapse(image, **v),
        {"k1": w.Dropdown(options=names, value="vertical edge",
                          description="k1"),
         "k2": w.Dropdown(options=names, value="horizontal edge",
                          description="k2"),
         "relu": w.Checkbox(value=False, description="ReLU between")},
        title="Do two convolutions collapse into one?",
    )


def render_activation(image, kernel="vertical edge", activation="relu"):
    """An edge map before and after an activation function.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    kernel : str or ndarray, shape (KH, KW)
    activation : {'relu', 'sigmoid', 'tanh'}

    Returns
    -------
    matplotlib.figure.Figure
        Feature map z, activation f(z), histogram of both, and the curves
        f and f' with the mean slope over the map (how much gradient passes).

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    func = "render_activation"
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"{func}: activation must be one of {sorted(ACTIVATIONS)}, got "
            f"{activation!r}"
        )
    forward, backward = ACTIVATIONS[activation]
    z = correlate_valid(_image(image, func), get_kernel(kernel, func))
    a, cache = forward(z)
    slope = backward(np.ones_like(z), cache)
    fig = Figure(figsize=(10, 2.8), dpi=80)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.17, top=0.88,
                        wspace=0.25)
    sub = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2.2, 1.3, 1.3]})
    axes = [None, *sub]  # axes[1] holds both maps as tiles (cheaper to draw)
    scale = float(np.abs(z).max()) or 1.0
    both = max(scale, float(np.abs(a).max()))
    _tile(sub[0], (0, 0), z, "feature map z = conv(x, k)", vmax=both)
    _tile(sub[0], (1, 0), a, f"{activation}(z)", vmax=both)
    sub[0].set_xlim(-0.05, _STEP[0] + 1.05)
    sub[0].set_ylim(1.05, -0.05)
    sub[0].axis("off")
    bar = fig.colorbar(ScalarMappable(Normalize(-both, both), cmap="RdBu_r"),
                       ax=sub[0], fraction=0.05, pad=0.02)
    bar.locator = MaxNLocator(5)
    bar.update_ticks()
    bar.ax.tick_params(labelsize=8)
    # np.histogram + stairs: much cheaper to draw than ax.hist's patches.
    bins = np.linspace(-scale, scale, 41)
    hz, ha = np.histogram(z, bins)[0], np.histogram(a, bins)[0]
    axes[2].stairs(hz, bins, fill=True, color="0.7")
    axes[2].stairs(ha, bins, color="C3", lw=1.5)
    # The background piles into one bar; cut it off so the rest is visible
    # (a log axis would too, but its tick labels are slow to draw).
    top = max(np.sort(hz)[-2], np.sort(ha)[-2], 1)
    axes[2].set_ylim(0, 1.3 * top)
    zero = float(np.mean(a == 0))
    axes[2].set_title(f"grey: z, red: {activation}(z); {zero:.0%} zeros",
                      fontsize=9)
    lim = max(4.0, scale)
    t = np.linspace(-lim, lim, 201)
    ft, ct = forward(t)
    axes[3].axvspan(float(z.min()), float(z.max()), color="0.9")
    axes[3].plot(t, ft, color="C3")
    axes[3].plot(t, backward(np.ones_like(t), ct), color="C0", ls="--")
    axes[3].axhline(0, color="0.6", lw=0.8)
    axes[3].set_title(f"{activation} (red), slope (dashed)",
                      fontsize=9)
    axes[3].set_xlabel(f"mean slope over the map: {float(slope.mean()):.2f}",
                       fontsize=9)
    axes[2].set_yticks([])  # counts matter only relative to each other
    axes[3].yaxis.set_major_locator(MaxNLocator(3))
    for ax in axes[2:]:
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(5))
    return fig


def explore_activation(image):
    """Live `render_activation`: choose the kernel and the activation.

    Notes
    -----
    Taught in notebooks/04_relu_and_nonlinearity.ipynb.
    """
    import ipywidgets as w

    return explorer(
        lambda **v: render_activation(image, **v),
        {"kernel": w.Dropdown(options=list(KERNELS), value="vertical edge",
                              description="kernel"),
         "activation": w.ToggleButtons(options=list(ACTIVATIONS),
                                       value="relu")},
        title="What does an activation do to a feature map?",
    )
