"""Explorers for the convolution notebook.

- `render_conv_step` / `explore_conv_step`: a 3x3 kernel over a 5x5 input,
  one output cell at a time: window, elementwise products, sum plus bias.
- `render_conv_arithmetic` / `explore_conv_arithmetic`: the output-size
  formula with numbers, the padded input, every kernel position, and the
  input rows/columns that a stride which does not divide evenly drops.
- The kernel editor lives in `cnnlib.widgets.kernels`.

Taught in notebooks/02_convolution.ipynb.
"""

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..conv import correlate2d
from ..plotting import axis_numbers, cell_lines, show_values, symmetric_limit
from ..plotting.cell_text import draw_cell_text, draw_title
from .base import DPI, explorer, message_figure

__all__ = [
    "STEP_INPUT",
    "STEP_KERNEL",
    "render_conv_step",
    "explore_conv_step",
    "axis_coverage",
    "render_conv_arithmetic",
    "explore_conv_arithmetic",
]

# Small integers so every product and sum can be checked by hand.
STEP_INPUT = np.array([[1, 0, 2, 1, 0],
                       [0, 1, 3, 1, 1],
                       [2, 1, 0, 0, 2],
                       [1, 3, 1, 2, 0],
                       [0, 2, 1, 1, 1]], dtype=np.float64)
STEP_KERNEL = np.array([[1, 0, -1],
                        [2, 1, 0],
                        [0, -1, 1]], dtype=np.float64)


# ------------------------------------------------------------ one step


def _g(v):
    """A number for a written-out sum: negatives in brackets."""
    return f"({v:g})" if v < 0 else f"{v:g}"


def render_conv_step(step=0, x=None, w=None, b=1.0):
    """One output cell of a valid cross-correlation, shown in full.

    Parameters
    ----------
    step : int
        Which output cell, in reading order (0 .. H_out*W_out - 1).
    x : ndarray, shape (H, W), optional
        Input (default `STEP_INPUT`, 5x5).
    w : ndarray, shape (KH, KW), optional
        Kernel (default `STEP_KERNEL`, 3x3).
    b : float
        Bias added to the sum.

    Returns
    -------
    fig : matplotlib Figure
        Input with the window outlined, kernel, elementwise products, and
        the output map filled in up to this step, over the sum written out.
    """
    x = STEP_INPUT if x is None else np.asarray(x, dtype=np.float64)
    w = STEP_KERNEL if w is None else np.asarray(w, dtype=np.float64)
    out = correlate2d(x, w) + b
    h_out, w_out = out.shape
    if not 0 <= step < out.size:
        raise ValueError(
            f"render_conv_step: step must be 0..{out.size - 1}, got {step}")
    i, j = divmod(int(step), w_out)
    kh, kw = w.shape
    window = x[i:i + kh, j:j + kw]
    products = window * w
    shown = np.full(out.shape, np.nan)
    shown.flat[:step + 1] = out.flat[:step + 1]

    fig = Figure(figsize=(6.0, 3.0), dpi=DPI)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [5, 3, 3, 3]})
    # titles and the sum as outlines (cell_text): Text artists were the
    # slowest part of this figure
    show_values(x, ax=axes[0], boxes=[(i, j, kh, kw, "#ff7f00")],
                axis_labels=True, cmap="Greys", signed=False)
    show_values(w, ax=axes[1], signed=True)
    show_values(products, ax=axes[2], signed=True)
    show_values(shown, ax=axes[3], boxes=[(i, j, 1, 1, "#ff7f00")],
                signed=True, vmax=symmetric_limit(out), axis_labels=True)
    for ax, title in zip(axes, (f"input x, window at ({i}, {j})", "kernel w",
                                "x[window] * w", f"output ({h_out}x{w_out})")):
        draw_title(ax, title)
    terms = [f"{_g(a)}*{_g(c)}" for a, c in zip(window.flat, w.flat)]
    half = (len(terms) + 1) // 2
    lead = f"out[{i}, {j}] = "
    draw_cell_text(axes[0], [0.01], [0.03],
                   [lead + " + ".join(terms[:half]) + " +\n"
                    + " " * len(lead) + " + ".join(terms[half:])
                    + f" + b({b:g})\n" + " " * len(lead)
                    + f"= {products.sum():g} + {b:g} = {out[i, j]:g}"],
                   family="monospace", va="bottom", ha="left",
                   coords="figure", fontsize=8.5)
    fig.subplots_adjust(left=0.04, right=0.99, top=0.9, bottom=0.3,
                        wspace=0.3)
    return fig


def explore_conv_step():
    """Live `render_conv_step`: drag the output cell.
    """
    import ipywidgets as wd

    n = (STEP_INPUT.shape[0] - 2) * (STEP_INPUT.shape[1] - 2)
    return explorer(
        render_conv_step,
        {"step": wd.IntSlider(value=0, min=0, max=n - 1,
                              description="output cell",
                              tooltip="output cell, in reading order"),
         "b": wd.FloatSlider(value=1.0, min=-3, max=3, step=0.5,
                             description="bias b",
                             tooltip="bias b added to the sum")},
        title="One convolution step at a time")


# ------------------------------------------------------------ arithmetic


def axis_coverage(size, kernel, stride=1, padding=0, dilation=1):
    """Which padded positions along one axis some kernel tap reaches.

    Parameters
    ----------
    size, kernel, stride, padding, dilation : int

    Returns
    -------
    used : ndarray of bool, shape (size + 2*padding,)
        True where at least one window puts a kernel tap.
    n_out : int
        Output length; 0 if the kernel does not fit.
    dropped : int
        Padded positions past the last window, ``(P - span) % stride``,
        that the floor in the output-size formula drops.
    """
    padded = size + 2 * padding
    span = dilation * (kernel - 1) + 1
    used = np.zeros(padded, dtype=bool)
    if span > padded:
        return used, 0, 0
    n_out = (padded - span) // stride + 1
    for o in range(n_out):
        used[o * stride: o * stride + span: dilation] = True
    return used, n_out, (padded - span) % stride


# padding, input used, skipped between taps, dropped by the floor: told
# apart by hatching and the legend too, not by hue alone
_ARITH_CMAP = ListedColormap(["#d9d9d9", "#c6dbef", "#fdd49e", "#fb6a4a"])
_ARITH_HATCH = {2: "///", 3: "xxx"}
_FIRST, _LAST = "#6a3d9a", "#1b7837"  # purple and dark green windows


def render_conv_arithmetic(size=7, kernel=3, stride=2, padding=1, dilation=1):
    """The output-size formula with numbers, and the grid it describes.

    Parameters
    ----------
    size, kernel, stride, padding, dilation : int
        Square input and kernel; the same rule holds per axis.

    Returns
    -------
    fig : matplotlib Figure
        Left: the padded input (grey padding, blue input cells some window
        uses, orange ``///`` input cells skipped between taps, red ``xxx``
        ones dropped by the floor), the first window (purple, labelled
        "first") with its taps, the last (green, "last"), a dot where each
        window starts. Right: the output grid. Settings where the kernel
        does not fit give a message figure (not an exception).
    """
    padded = size + 2 * padding
    span = dilation * (kernel - 1) + 1
    head = (f"out = floor((H + 2p - d(k-1) - 1) / s) + 1\n    = "
            f"floor(({size} + 2*{padding} - {dilation}*({kernel}-1) - 1) "
            f"/ {stride}) + 1")
    if span > padded:
        return message_figure(
            head + "\n\nImpossible: the kernel spans "
            f"{span} pixels (k={kernel}, dilation {dilation}) but the padded "
            f"input has only {padded} ({size} + 2*{padding}).\nAdd padding "
            "or use a smaller kernel or dilation.", figsize=(6.0, 2.0))
    used, n_out, dropped = axis_coverage(size, kernel, stride, padding,
                                         dilation)
    num = padded - span
    head += (f"\n    = floor({num}/{stride}) + 1 = {num // stride} + 1 "
             f"= {n_out}")
    cat, note = _arith_categories(size, padding, stride, span, n_out, used,
                                  dropped, num)
    fig = Figure(figsize=(6.0, 5.0), dpi=DPI)
    gs = fig.add_gridspec(1, 2, width_ratios=[max(padded, 4), max(n_out, 3)])
    ax = fig.add_subplot(gs[0])
    _draw_padded_input(ax, cat, padding)
    _draw_windows(ax, kernel, dilation, span, stride, n_out)
    _draw_output_grid(fig.add_subplot(gs[1]), n_out)
    draw_cell_text(ax, [0.02], [0.98], [head], family="monospace", ha="left",
                   va="top", coords="figure", fontsize=9)
    draw_cell_text(ax, [0.5], [0.01], [note], fontsize=8, va="bottom",
                   coords="figure")
    fig.subplots_adjust(left=0.09, right=0.98, top=0.78, bottom=0.22,
                        wspace=0.15)
    return fig


def _arith_categories(size, padding, stride, span, n_out, used, dropped, num):
    """Each padded cell's category, and the note that names them.

    Returns ``(cat, note)``: ``cat`` (P, P) holds 0 padding, 1 input used,
    2 skipped between taps, 3 dropped by the floor.
    """
    padded = size + 2 * padding
    real = np.zeros(padded, dtype=bool)
    real[padding:padding + size] = True
    # an input row no tap reaches is either *skipped* (between the taps of
    # dilated / strided windows) or *dropped* (past the last window: the
    # floor in the formula)
    end = (n_out - 1) * stride + span  # first padded index past all windows
    past = np.arange(padded) >= end
    skipped = [int(r) - padding for r in np.flatnonzero(real & ~used & ~past)]
    lost = [int(r) - padding for r in np.flatnonzero(real & past)]
    if dropped:
        note = (f"{num} is not a multiple of {stride}: remainder {dropped}, "
                f"so the last {dropped} padded row(s)/column(s)\nare "
                "dropped (floor).")
    else:
        note = f"{num} is a multiple of {stride}: the floor drops nothing."
    if lost:
        note += f"\nInput rows/columns dropped by the floor (red, xxx): {lost}."
    if skipped:
        note += (f"\nInput rows/columns skipped between taps (orange, ///): "
                 f"{skipped}.")
    cat = np.zeros((padded, padded))
    inside = real[:, None] & real[None, :]
    cat[inside] = 1
    miss = inside & ~(used[:, None] & used[None, :])
    cat[miss] = 2
    cat[miss & (past[:, None] | past[None, :])] = 3
    return cat, note


def _draw_padded_input(ax, cat, padding):
    """The padded input coloured and hatched by category, numbered rows."""
    padded = cat.shape[0]
    ax.imshow(cat, cmap=_ARITH_CMAP, vmin=0, vmax=3, interpolation="nearest")
    for value, hatch in _ARITH_HATCH.items():
        rows, cols = np.nonzero(cat == value)
        if len(rows):  # one collection per hatch: cheap to draw
            ax.add_collection(PatchCollection(
                [Rectangle((c - 0.5, r - 0.5), 1, 1)
                 for r, c in zip(rows, cols)],
                facecolor="none", edgecolor="0.35", hatch=hatch,
                linewidth=0))
    cell_lines(ax, padded, padded, color="white", linewidth=1)
    # labels and text as outlines (cell_text), not ticks and Text artists:
    # they were most of the drawing time
    ax.set_xticks([])
    ax.set_yticks([])
    axis_numbers(ax, padded, padded, start=-padding, fontsize=8)
    draw_cell_text(ax, [0.5], [0.0], ["input column (negative / past the "
                                      "end: padding)"], fontsize=8, va="top",
                   coords="axes", offset=(0, -17), clip=False)
    ax.set_ylabel("input row", fontsize=8, labelpad=14)


def _draw_windows(ax, kernel, dilation, span, stride, n_out):
    """First and last window with their taps (and a label), window starts."""
    starts = np.arange(n_out) * stride
    windows = (((0, 0), _FIRST, "first", "s", "top"),
               ((starts[-1], starts[-1]), _LAST, "last", "D", "bottom"))
    for (r0, c0), colour, name, marker, where in windows:
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), span, span, fill=False,
                               edgecolor=colour, linewidth=2.5,
                               linestyle="-" if name == "first" else "--"))
        taps = r0 + np.arange(kernel) * dilation
        tc = c0 + np.arange(kernel) * dilation
        ty, tx = np.meshgrid(taps, tc, indexing="ij")
        ax.scatter(tx.ravel(), ty.ravel(), marker=marker, s=30, c=colour)
        y = r0 - 0.5 if where == "top" else r0 + span - 0.5
        # a Text with a white box: readable over any cell colour or hatch
        ax.text(c0 - 0.4, y, name, fontsize=8, color=colour, ha="left",
                va="center", zorder=4, bbox=dict(boxstyle="square,pad=0.1",
                                                 fc="white", ec=colour,
                                                 lw=0.8))
    sy, sx = np.meshgrid(starts, starts, indexing="ij")
    ax.scatter(sx.ravel(), sy.ravel(), s=10, c="k", zorder=3)
    draw_title(ax, "padded input: first window (solid, squares),\nlast "
                   "(dashed, diamonds); dots = window starts", fontsize=8)


def _draw_output_grid(ax, n_out):
    """The output grid, numbered."""
    ax.imshow(np.ones((n_out, n_out)), cmap="Greens", vmin=0, vmax=3,
              interpolation="nearest")
    cell_lines(ax, n_out, n_out, color="white", linewidth=1)
    ax.set_xticks([])
    ax.set_yticks([])
    axis_numbers(ax, n_out, n_out, fontsize=8)
    draw_title(ax, f"output {n_out}x{n_out}")


def explore_conv_arithmetic():
    """Live `render_conv_arithmetic` with one slider per argument.
    """
    import ipywidgets as wd

    def slider(v, lo, hi, name, what):
        return wd.IntSlider(value=v, min=lo, max=hi, description=name,
                            tooltip=f"{name}: {what}")

    return explorer(
        render_conv_arithmetic,
        {"size": slider(7, 1, 16, "input H", "input height = width"),
         "kernel": slider(3, 1, 7, "kernel k", "kernel height = width"),
         "stride": slider(2, 1, 4, "stride s", "step between windows"),
         "padding": slider(1, 0, 3, "padding p", "zeros added per side"),
         "dilation": slider(1, 1, 3, "dilation d", "step between taps")},
        title="Output size: floor((H + 2p - d(k-1) - 1) / s) + 1", columns=3)
