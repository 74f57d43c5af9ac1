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
from ..conv import convolve2d, correlate2d
from ..kernels import KERNELS
from ..kernels import get_kernel as named_kernel
from .base import DPI, explorer

__all__ = [
    "ACTIVATIONS",
    "collapse_outputs",
    "render_collapse",
    "explore_collapse",
    "render_activation",
    "explore_activation",
]

# name -> (forward, backward); each forward returns (out, cache).
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}


def _kernel(kernel, func):
    """A kernel given by name (`cnnlib.kernels.KERNELS`) or as a 2-D array."""
    if isinstance(kernel, str):
        return named_kernel(kernel, func)
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(
            f"{func}: kernel must be a name or a 2-D array (KH, KW), got "
            f"shape {k.shape}"
        )
    return k


def _image(image, func):
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"{func}: image must be a 2-D array (H, W), got shape {x.shape}"
        )
    return x


def collapse_outputs(image, k1, k2, relu=True):
    """Everything `render_collapse` shows, as arrays.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    k1, k2 : str or ndarray, shape (3, 3)
        First and second kernel (names from `cnnlib.kernels.KERNELS` or
        arrays).
    relu : bool
        Put a ReLU between the two convolutions.

    Returns
    -------
    dict with
        ``hidden`` (H-2, W-2): after the first conv (and ReLU if asked);
        ``stacked`` (H-4, W-4): after the second conv;
        ``kernel`` (5, 5): the one kernel equal to both, the full
        convolution of k1 with k2 (`cnnlib.conv.convolve2d`);
        ``single`` (H-4, W-4): the image correlated once with ``kernel``;
        ``diff`` (H-4, W-4): ``stacked - single``.
    """
    func = "collapse_outputs"
    x = _image(image, func)
    k1 = _kernel(k1, func)
    k2 = _kernel(k2, func)
    hidden = correlate2d(x, k1, mode="valid")
    if relu:
        hidden = np.maximum(hidden, 0.0)
    stacked = correlate2d(hidden, k2, mode="valid")
    # corr(corr(x, k1), k2) sums x[i + u + v] k1[u] k2[v]: one kernel, the
    # full convolution of k1 with k2
    kernel = convolve2d(k1, k2, mode="full")
    single = correlate2d(x, kernel, mode="valid")
    return {"hidden": hidden, "stacked": stacked, "kernel": kernel,
            "single": single, "diff": stacked - single}


_STEP = (1.2, 1.42)  # tile pitch (width, height) in units of one tile


def _tile(ax, pos, img, title, cmap="RdBu_r", vmax=None):
    """Draw ``img`` as a unit square tile at grid position ``(col, row)``."""
    x0, y0 = pos[0] * _STEP[0], pos[1] * _STEP[1]
    if vmax is None:
        vmax = float(np.abs(img).max()) or 1.0
    vmin = -vmax if cmap == "RdBu_r" else None
    ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
              extent=(x0, x0 + 1, y0 + 1, y0))
    ax.add_patch(Rectangle((x0, y0), 1, 1, fill=False, ec="0.3", lw=0.8))
    ax.text(x0 + 0.5, y0 - 0.04, title, ha="center", va="bottom", fontsize=8.5)


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
    """
    r = collapse_outputs(image, k1, k2, relu)
    fig = Figure(figsize=(6.0, 4.0), dpi=DPI)
    # One axes holding eight tiles: drawing cost grows with the number of
    # axes, and this figure is redrawn on every change.
    ax = fig.add_axes((0.0, 0.0, 0.92, 0.92))
    ax.axis("off")
    _tile(ax, (0, 0), _image(image, "render_collapse"), "input", cmap="gray")
    # Each row shares one signed colour scale, shown by the bar on its right.
    func = "render_collapse"
    kmax = max(float(np.abs(k).max()) for k in
               (_kernel(k1, func), _kernel(k2, func), r["kernel"])) or 1.0
    _tile(ax, (1, 0), _kernel(k1, func), "k1 (3x3)", vmax=kmax)
    _tile(ax, (2, 0), _kernel(k2, func), "k2 (3x3)", vmax=kmax)
    _tile(ax, (3, 0), r["kernel"], "5x5 kernel:\nfull conv(k1, k2)",
          vmax=kmax)
    scale = max(float(np.abs(r["stacked"]).max()),
                float(np.abs(r["hidden"]).max())) or 1.0
    mid = "h = ReLU(\nconv(x, k1))" if relu else "h = conv(x, k1)"
    _tile(ax, (0, 1), r["hidden"], mid, vmax=scale)
    _tile(ax, (1, 1), r["stacked"], "conv(h, k2)", vmax=scale)
    _tile(ax, (2, 1), r["single"], "conv(x, 5x5\nkernel)", vmax=scale)
    err = float(np.abs(r["diff"]).max())
    _tile(ax, (3, 1), r["diff"], f"difference,\nmax |d| = {err:.1g}",
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
    """
    import ipywidgets as w

    names = list(KERNELS)
    return explorer(
        lambda **v: render_collapse(image, **v),
        {"k1": w.Dropdown(options=names, value="vertical edge",
                          description="k1", tooltip="k1: first kernel"),
         "k2": w.Dropdown(options=names, value="horizontal edge",
                          description="k2", tooltip="k2: second kernel"),
         "relu": w.Checkbox(value=False, description="ReLU between",
                            tooltip="put a ReLU between the two layers")},
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
    """
    func = "render_activation"
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"{func}: activation must be one of {sorted(ACTIVATIONS)}, got "
            f"{activation!r}"
        )
    forward, backward = ACTIVATIONS[activation]
    z = correlate2d(_image(image, func), _kernel(kernel, func), mode="valid")
    a, cache = forward(z)
    slope = backward(np.ones_like(z), cache)
    fig = Figure(figsize=(6.0, 2.7), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.98, bottom=0.2, top=0.86,
                        wspace=0.3)
    sub = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2.2, 1.3, 1.3]})
    _activation_maps(fig, sub[0], z, a, activation)
    _activation_histogram(sub[1], z, a, activation)
    _activation_curve(sub[2], z, forward, backward, activation,
                      float(slope.mean()))
    return fig


def _activation_maps(fig, ax, z, a, activation):
    """z and f(z) as two tiles on one signed scale, with a colour bar."""
    both = max(float(np.abs(z).max()) or 1.0, float(np.abs(a).max()))
    _tile(ax, (0, 0), z, "z = conv(x, k)", vmax=both)
    _tile(ax, (1, 0), a, f"{activation}(z)", vmax=both)
    ax.set_xlim(-0.05, _STEP[0] + 1.05)
    ax.set_ylim(1.05, -0.05)
    ax.axis("off")
    bar = fig.colorbar(ScalarMappable(Normalize(-both, both), cmap="RdBu_r"),
                       ax=ax, fraction=0.05, pad=0.02)
    bar.locator = MaxNLocator(5)
    bar.update_ticks()
    bar.ax.tick_params(labelsize=8)


def _activation_histogram(ax, z, a, activation):
    """Histograms of z (filled) and f(z) (outline): told apart by style."""
    scale = float(np.abs(z).max()) or 1.0
    # np.histogram + stairs: much cheaper to draw than ax.hist's patches.
    bins = np.linspace(-scale, scale, 41)
    hz, ha = np.histogram(z, bins)[0], np.histogram(a, bins)[0]
    ax.stairs(hz, bins, fill=True, color="0.75")
    ax.stairs(ha, bins, color="C3", lw=1.8)
    # The background piles into one bar; cut it off so the rest is visible
    # (a log axis would too, but its tick labels are slow to draw).
    top = max(np.sort(hz)[-2], np.sort(ha)[-2], 1)
    ax.set_ylim(0, 1.3 * top)
    zero = float(np.mean(a == 0))
    ax.set_title(f"filled: z, outline:\n{activation}(z); {zero:.0%} zeros",
                 fontsize=8.5)
    ax.set_yticks([])  # counts matter only relative to each other
    ax.tick_params(labelsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(4))


def _activation_curve(ax, z, forward, backward, activation, mean_slope):
    """f (solid) and its slope f' (dashed, dots), z's range shaded."""
    scale = float(np.abs(z).max()) or 1.0
    lim = max(4.0, scale)
    t = np.linspace(-lim, lim, 201)
    ft, ct = forward(t)
    ax.axvspan(float(z.min()), float(z.max()), color="0.9")
    ax.plot(t, ft, color="C3", lw=1.8)
    ax.plot(t, backward(np.ones_like(t), ct), color="C0", ls="--",
            marker="o", markevery=20, ms=3)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_title(f"{activation} (solid),\nslope (dashed, dots)", fontsize=8.5)
    ax.set_xlabel(f"mean slope: {mean_slope:.2f}", fontsize=8.5)
    ax.yaxis.set_major_locator(MaxNLocator(3))
    ax.tick_params(labelsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(4))


def explore_activation(image):
    """Live `render_activation`: choose the kernel and the activation.
    """
    import ipywidgets as w

    return explorer(
        lambda **v: render_activation(image, **v),
        {"kernel": w.Dropdown(options=list(KERNELS), value="vertical edge",
                              description="kernel",
                              tooltip="kernel that makes the feature map"),
         "activation": w.ToggleButtons(options=list(ACTIVATIONS),
                                       value="relu", description="activation",
                                       tooltip="activation function applied "
                                               "to the feature map",
                                       style={"button_width": "auto"},
                                       layout={"width": "auto"})},
        title="What does an activation do to a feature map?",
    )
