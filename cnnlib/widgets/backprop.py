"""Explorer: where does the gradient of one output cell go?

`render_backprop_route` puts ``dout = 1`` on one output cell of a max-pool,
average-pool or convolution layer (all other cells 0), runs the layer's
backward pass from `cnnlib`, and shows which inputs (and, for a
convolution, which weights) receive gradient, with the values.

Taught in notebooks/06_backpropagation.ipynb.
"""

import numpy as np
from matplotlib.figure import Figure

from ..conv import conv2d_backward, conv2d_forward
from ..plotting import show_values
from ..pool import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .base import explorer

__all__ = ["LAYERS", "default_kernel", "route_gradient",
           "render_backprop_route", "explore_backprop_route"]

LAYERS = ("max pool", "avg pool", "conv")


def default_kernel(size):
    """A fixed small integer kernel, shape (size, size), float64.

    Notes
    -----
    Taught in notebooks/06_backpropagation.ipynb.
    """
    rng = np.random.default_rng(size)
    return rng.integers(-2, 3, size=(size, size)).astype(np.float64)


def route_gradient(x, layer="max pool", row=0, col=0, size=2, stride=2,
                   kernel=None, all_outputs=False):
    """Backward pass of one layer for ``dout`` = 1 on one output cell.

    Parameters
    ----------
    x : ndarray, shape (H, W)
        One-channel input.
    layer : {'max pool', 'avg pool', 'conv'}
    row, col : int
        The output cell that gets ``dout = 1``.
    size, stride : int
        Window (or kernel) size and stride.
    kernel : ndarray, shape (size, size), optional
        Conv weights; default `default_kernel`.
    all_outputs : bool
        Put ``dout = 1`` on every output cell instead (overlapping windows
        then add up).

    Returns
    -------
    dict with ``out`` (H_out, W_out), ``dout`` (H_out, W_out), ``dx`` (H, W),
    and for a conv ``w`` and ``dw`` (size, size), else None.

    Notes
    -----
    Taught in notebooks/06_backpropagation.ipynb.
    """
    func = "route_gradient"
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{func}: x must be 2-D (H, W), got shape {x.shape}")
    if layer not in LAYERS:
        raise ValueError(
            f"{func}: layer must be one of {LAYERS}, got {layer!r}")
    x4 = x[None, None]
    w = None
    if layer == "conv":
        w = default_kernel(size) if kernel is None else np.asarray(
            kernel, dtype=np.float64)
        out, cache = conv2d_forward(x4, w[None, None], np.zeros(1),
                                    stride=stride)
    elif layer == "max pool":
        out, cache = maxpool2d_forward(x4, size=size, stride=stride)
    else:
        out, cache = avgpool2d_forward(x4, size=size, stride=stride)
    h_out, w_out = out.shape[2:]
    if not all_outputs and not (0 <= row < h_out and 0 <= col < w_out):
        raise ValueError(
            f"{func}: output cell ({row}, {col}) is outside the "
            f"{h_out}x{w_out} output")
    dout = np.ones_like(out) if all_outputs else np.zeros_like(out)
    if not all_outputs:
        dout[0, 0, row, col] = 1.0
    dw = None
    if layer == "conv":
        dx, dw4, _ = conv2d_backward(dout, cache)
        dw = dw4[0, 0]
    elif layer == "max pool":
        dx = maxpool2d_backward(dout, cache)
    else:
        dx = avgpool2d_backward(dout, cache)
    return {"out": out[0, 0], "dout": dout[0, 0], "dx": dx[0, 0], "w": w,
            "dw": dw}


def _window(cell, size, stride):
    """(row, col, height, width) of the input window under an output cell."""
    i, j = cell
    return i * stride, j * stride, size, size


def _fmt(a):
    """Whole numbers without decimals, anything else with two."""
    a = np.asarray(a)
    return "{:.0f}" if np.all(a == np.round(a)) else "{:.2f}"


def _numbers(ax, a, cells):
    """Write the values of ``a`` in the given (row, col) cells only."""
    fmt = _fmt(a)
    for i, j in cells:
        ax.text(j, i, fmt.format(a[i, j] + 0.0), ha="center", va="center",
                fontsize=7, color="C1", weight="bold")


def render_backprop_route(x, layer="max pool", row=0, col=0, size=2,
                          stride=2, kernel=None, all_outputs=False):
    """Which inputs (and weights) receive the gradient of one output cell.

    Parameters
    ----------
    As in `route_gradient`.

    Returns
    -------
    matplotlib.figure.Figure
        Input x with the chosen cell's window outlined, for a conv the
        kernel w, the output with the chosen cell outlined, dx (the gradient
        each input receives; for a conv a copy of the kernel), and for a conv
        dW (the input window).

    Notes
    -----
    Taught in notebooks/06_backpropagation.ipynb.
    """
    r = route_gradient(x, layer, row, col, size, stride, kernel, all_outputs)
    x = np.asarray(x, dtype=np.float64)
    conv = layer == "conv"
    n = 5 if conv else 3
    fig = Figure(figsize=(2.3 * n, 2.7), dpi=80)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.8,
                        wspace=0.08)
    axes = list(fig.subplots(1, n))
    if conv:
        # The kernel gets its own panel after the input; the rest shift.
        show_values(r["w"], ax=axes[1], fontsize=8, fmt=_fmt(r["w"]),
                    signed=bool((r["w"] < 0).any()), title="kernel w")
        del axes[1]
    # Four-character numbers ("0.11") overlap in cells of grids wider than
    # six at 8 pt; 6 pt fits them.
    small = 6 if max(x.shape) > 6 else 8
    one = [] if all_outputs else [(row, col, 1, 1, "C1")]
    win = [] if all_outputs else [(*_window((row, col), size, stride), "C1")]
    # Every number is a text artist, the slow part of a redraw: on maps
    # bigger than 6x6 write only the numbers that matter (the chosen window
    # and the cells that receive gradient).
    every = x.size <= 36 or all_outputs
    show_values(x, ax=axes[0], title="input x", boxes=win,
                fontsize=small if every else None, fmt=_fmt(x))
    if not every:
        i0, j0, h, w = _window((row, col), size, stride)
        cells = [(i, j) for i in range(i0, i0 + h) for j in range(j0, j0 + w)]
        _numbers(axes[0], x, cells)
    few = r["out"].size <= 16 or every
    if not all_outputs:
        title = f"output, dout = 1 at cell ({row}, {col})"
    elif np.all(r["out"] == r["out"].flat[0]):
        v = _fmt(r["out"]).format(r["out"].flat[0])
        title = f"output (all {v}); dout = 1 everywhere"
    else:
        title = "output; dout = 1 everywhere"
    show_values(r["out"], ax=axes[1], boxes=one, fmt=_fmt(r["out"]),
                fontsize=small if few else None, title=title)
    if not few:
        _numbers(axes[1], r["out"], [(row, col)])
    dx = r["dx"] if every else np.where(r["dx"] != 0, r["dx"], np.nan)
    show_values(dx, ax=axes[2], boxes=win, fontsize=small, fmt=_fmt(r["dx"]),
                signed=bool((r["dx"] < 0).any()),
                title="dx" if every else "dx (blank: 0)")
    if conv:
        show_values(r["dw"], ax=axes[3], fontsize=8, fmt=_fmt(r["dw"]),
                    title="dW" if all_outputs else "dW = the input window")
    got = int(np.count_nonzero(r["dx"]))
    fig.suptitle(f"{layer} {size}x{size}, stride {stride}: {got} input "
                 f"cell(s) get a nonzero gradient", fontsize=10)
    return fig


def explore_backprop_route(x):
    """Live `render_backprop_route`: layer, window, stride, output cell.

    Notes
    -----
    Taught in notebooks/06_backpropagation.ipynb.
    """
    import ipywidgets as w

    return explorer(
        lambda **v: render_backprop_route(x, **v),
        {"layer": w.ToggleButtons(options=list(LAYERS), value="max pool",
                                  style={"button_width": "92px"},
                                  # never squeezed by the sliders beside it
                                  layout=w.Layout(flex="0 0 auto")),
         "size": w.IntSlider(value=2, min=1, max=4, description="window"),
         "stride": w.IntSlider(value=2, min=1, max=3, description="stride"),
         "row": w.IntSlider(value=0, min=0, max=7, description="out row"),
         "col": w.IntSlider(value=0, min=0, max=7, description="out col"),
         "all_outputs": w.Checkbox(value=False,
                                   description="dout = 1 everywhere")},
        title="Where does the gradient go?", columns=3,
    )
