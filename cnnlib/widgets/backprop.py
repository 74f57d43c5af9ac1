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
from ..plotting.cell_text import draw_cell_text, draw_title
from ..pool import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .base import DPI, explorer

__all__ = ["LAYERS", "default_kernel", "route_gradient",
           "render_backprop_route", "explore_backprop_route"]

LAYERS = ("max pool", "avg pool", "conv")


def default_kernel(size):
    """A fixed small integer kernel, shape (size, size), float64.
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


def _numbers(ax, a, cells, fontsize):
    """Write the values of ``a`` in the given (row, col) cells only."""
    if not cells:
        return
    fmt = _fmt(a)
    rows, cols = np.array(cells).T
    # show_values draws unsigned values in Greys from min(0, lo) to hi:
    # white text on the dark half, black on the light half
    lo, hi = min(float(np.nanmin(a)), 0.0), float(np.nanmax(a))
    dark = (a[rows, cols] - lo) / ((hi - lo) or 1.0) > 0.5
    draw_cell_text(ax, cols, rows, [fmt.format(a[i, j] + 0.0) for i, j in cells],
                   color=np.where(dark, "white", "black"), fontsize=fontsize)


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
        dW (the input window). Panel widths follow their grid sizes.
    """
    r = route_gradient(x, layer, row, col, size, stride, kernel, all_outputs)
    x = np.asarray(x, dtype=np.float64)
    conv = layer == "conv"
    names = ["x", "w", "out", "dx", "dw"] if conv else ["x", "out", "dx"]
    widths = {"x": x.shape[1], "w": size, "out": r["out"].shape[1],
              "dx": x.shape[1], "dw": size}
    fig = Figure(figsize=(6.0, 2.8), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.78,
                        wspace=0.12)
    axes = dict(zip(names, fig.subplots(1, len(names), gridspec_kw={
        "width_ratios": [max(widths[n], 3.2) for n in names]})))
    # numbers must stay >= 7.5 pt (10 px); on maps bigger than 6x6 only the
    # numbers that matter are written (each number costs drawing time)
    every = x.size <= 36 or all_outputs
    one = [] if all_outputs else [(row, col, 1, 1, "#d95f02")]
    win = [] if all_outputs else [(*_window((row, col), size, stride),
                                   "#d95f02")]
    if conv:
        show_values(r["w"], ax=axes["w"], fontsize=8, fmt=_fmt(r["w"]),
                    signed=bool((r["w"] < 0).any()))
        show_values(r["dw"], ax=axes["dw"], fontsize=8, fmt=_fmt(r["dw"]))
        draw_title(axes["w"], "kernel w", fontsize=8.5)
        draw_title(axes["dw"], "dW" if all_outputs else "dW =\nx window",
                   fontsize=8.5)
    show_values(x, ax=axes["x"], boxes=win, fontsize=7.5 if every else None,
                fmt=_fmt(x))
    if not every:
        i0, j0, h, w = _window((row, col), size, stride)
        _numbers(axes["x"], x, [(i, j) for i in range(i0, i0 + h)
                                for j in range(j0, j0 + w)], 7.5)
    few = r["out"].size <= 16 or every
    title = _output_title(r["out"], row, col, all_outputs)
    show_values(r["out"], ax=axes["out"], boxes=one, fmt=_fmt(r["out"]),
                fontsize=7.5 if few else None)
    if not few:
        _numbers(axes["out"], r["out"], [(row, col)], 7.5)
    dx = r["dx"] if every else np.where(r["dx"] != 0, r["dx"], np.nan)
    show_values(dx, ax=axes["dx"], boxes=win, fontsize=7.5, fmt=_fmt(r["dx"]),
                signed=bool((r["dx"] < 0).any()))
    for name, text in (("x", "input x"), ("out", title),
                       ("dx", "dx" if every else "dx (blank: 0)")):
        draw_title(axes[name], text, fontsize=8.5)
    got = int(np.count_nonzero(r["dx"]))
    fig.suptitle(f"{layer} {size}x{size}, stride {stride}: {got} input "
                 f"cell(s) get a nonzero gradient", fontsize=10)
    return fig


def _output_title(out, row, col, all_outputs):
    """Title of the output panel: where dout = 1 goes."""
    if not all_outputs:
        return f"output;\ndout = 1 at ({row}, {col})"
    if np.all(out == out.flat[0]):
        v = _fmt(out).format(out.flat[0])
        return f"output (all {v});\ndout = 1 everywhere"
    return "output;\ndout = 1 everywhere"


def _out_size(n, size, stride):
    """Output length of a valid window (conv or pool, no padding)."""
    return (n - size) // stride + 1 if size <= n else 0


def explore_backprop_route(x):
    """Live `render_backprop_route`: layer, window, stride, output cell.

    The out row / out col sliders always span exactly the current output.
    """
    import ipywidgets as w

    h, wd = np.asarray(x).shape
    layer = w.ToggleButtons(options=list(LAYERS), value="max pool",
                            description="layer",
                            tooltip="layer: which layer's backward pass",
                            style={"button_width": "auto"},
                            layout=w.Layout(width="auto"))
    size = w.IntSlider(value=2, min=1, max=min(4, h, wd), description="window",
                       tooltip="window: pool window or kernel size")
    stride = w.IntSlider(value=2, min=1, max=3, description="stride",
                         tooltip="stride: step between windows")
    row = w.IntSlider(value=0, min=0, max=_out_size(h, 2, 2) - 1,
                      description="out row",
                      tooltip="out row: row of the output cell given dout = 1")
    col = w.IntSlider(value=0, min=0, max=_out_size(wd, 2, 2) - 1,
                      description="out col",
                      tooltip="out col: column of the output cell given "
                              "dout = 1")

    def follow(_change):
        row.max = _out_size(h, size.value, stride.value) - 1
        col.max = _out_size(wd, size.value, stride.value) - 1

    size.observe(follow, names="value")
    stride.observe(follow, names="value")
    return explorer(
        lambda **v: render_backprop_route(x, **v),
        {"layer": layer, "size": size, "stride": stride, "row": row,
         "col": col,
         "all_outputs": w.Checkbox(value=False,
                                   description="dout = 1 everywhere",
                                   tooltip="put dout = 1 on every output "
                                           "cell")},
        title="Where does the gradient go?", columns=3,
    )
