"""Explorers for transposed convolution and for an autoencoder's code.

- `transpose_geometry` / `render_transpose_arithmetic` /
  `explore_transpose_arithmetic`: which output cells one input cell of a
  transposed convolution paints, the output-size formula with the chosen
  numbers, and how many paints every output cell receives (uneven counts
  are the checkerboard artifact).
- `render_latent` / `explore_latent`: walk in a straight line between the
  codes of two digits and watch the decoder redraw the digit.

Taught in notebooks/08_upsampling_and_autoencoders.ipynb.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..conv_transpose import conv_transpose2d_forward_naive
from ..plotting import show_image, show_values
from ..shapes import conv_transpose_output_size
from .base import DPI, MIN_FONT_PT, explorer

__all__ = [
    "transpose_geometry",
    "render_transpose_arithmetic",
    "explore_transpose_arithmetic",
    "interpolate_codes",
    "render_latent",
    "explore_latent",
]

INPUT_COLOUR = "#e6550d"   # the chosen input cell and what it paints
OUTPUT_COLOUR = "#3182bd"  # the output region (what is kept)


def transpose_geometry(size, kernel, stride=1, padding=0, output_padding=0,
                       dilation=1, row=0, col=0):
    """Everything the arithmetic explorer draws, as numbers (square maps).

    Parameters
    ----------
    size, kernel, stride, padding, output_padding, dilation : int
        A square input of ``size x size`` and a square kernel.
    row, col : int
        The input cell to follow (clipped into the input).

    Returns
    -------
    dict with keys
        ``out`` (output size), ``canvas`` (counts of paints on the whole
        painted canvas, before ``padding`` is cropped, shape (L, L)),
        ``counts`` (the same inside the output, shape (out, out)),
        ``painted`` (canvas (r, c) cells painted by input (row, col)),
        ``row``, ``col``, ``formula`` (the size formula with the numbers).

    Notes
    -----
    Counts come from `cnnlib.conv_transpose.conv_transpose2d_forward_naive`
    with an input and a kernel of ones: each output cell adds one for every
    (input cell, kernel tap) pair that paints it.
    """
    out = conv_transpose_output_size(size, kernel, stride, padding,
                                     output_padding, dilation)
    full = (size - 1) * stride + dilation * (kernel - 1) + 1
    ones = np.ones((1, 1, size, size))
    painted_all, _ = conv_transpose2d_forward_naive(
        ones, np.ones((1, 1, kernel, kernel)), None, stride=stride,
        dilation=dilation)
    side = max(full, padding + out)  # output_padding may reach past the paint
    canvas = np.zeros((side, side))
    canvas[:full, :full] = painted_all[0, 0]
    row, col = min(max(row, 0), size - 1), min(max(col, 0), size - 1)
    painted = [(row * stride + i * dilation, col * stride + j * dilation)
               for i in range(kernel) for j in range(kernel)]
    formula = (f"({size} - 1)*{stride} - 2*{padding} + {dilation}*({kernel} - 1)"
               f" + {output_padding} + 1 = {out}")
    return {"out": out, "canvas": canvas,
            "counts": canvas[padding:padding + out, padding:padding + out],
            "painted": painted, "row": row, "col": col, "formula": formula}


def render_transpose_arithmetic(size=3, kernel=3, stride=2, padding=0,
                                output_padding=0, dilation=1, row=1, col=1):
    """Input grid (left) and painted output grid (right) of a transposed conv.

    Left: the small input, the followed cell in orange. Right: the painted
    canvas; each number counts how many (input cell, kernel tap) pairs add
    into that cell, the orange outlines are the cells the followed input
    cell paints, and the blue frame is the output that is kept (``padding``
    crops the grey rim; ``output_padding`` adds rows and columns at the
    bottom and right).

    Returns
    -------
    Figure, with attribute ``geometry`` (the dict of `transpose_geometry`).

    Raises
    ------
    ValueError
        Impossible settings (output_padding too big, everything cropped).
    """
    g = transpose_geometry(size, kernel, stride, padding, output_padding,
                           dilation, row, col)
    canvas, side = g["canvas"], len(g["canvas"])
    # 600 px wide at DPI, text >= MIN_FONT_PT: fits a laptop's notebook
    # column (see cnnlib.widgets.base). Cells too small for a readable number
    # are shaded only.
    fig = Figure(figsize=(6.0, 5.6), dpi=DPI, layout="constrained")
    ax_in, ax_out = fig.subplots(
        1, 2, gridspec_kw={"width_ratios": [max(size, 0.3 * side, 2.5),
                                            max(side, 3)]})
    labels = np.arange(1, size * size + 1).reshape(size, size)
    show_values(labels, ax=ax_in, cmap="Greys", vmax=4 * labels.max(),
                fontsize=9 if size <= 4 else MIN_FONT_PT,
                boxes=[(g["row"], g["col"], 1, 1, INPUT_COLOUR)])
    ax_in.add_patch(Rectangle((g["col"] - 0.5, g["row"] - 0.5), 1, 1,
                              color=INPUT_COLOUR, alpha=0.45, linewidth=0))
    followed = labels[g["row"], g["col"]]
    ax_in.set_title(f"INPUT {size}x{size}\ncell {followed}:\nrow {g['row']}, "
                    f"col {g['col']}", fontsize=9)
    numbers = side <= 18
    show_values(canvas, ax=ax_out, cmap="Greys", vmax=max(canvas.max(), 1) * 1.6,
                fontsize=(9 if side <= 12 else MIN_FONT_PT) if numbers else None,
                boxes=[(r, c, 1, 1, INPUT_COLOUR) for r, c in g["painted"]])
    for r, c in g["painted"]:
        ax_out.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color=INPUT_COLOUR,
                                   alpha=0.35, linewidth=0))
    # Grey out the cropped rim: everything outside the kept output.
    p, out = padding, g["out"]
    keep = np.zeros((side, side), bool)
    keep[p:p + out, p:p + out] = True
    for r, c in zip(*np.nonzero(~keep)):
        ax_out.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="white",
                                   alpha=0.6, hatch="///", edgecolor="0.55",
                                   linewidth=0))
    ax_out.add_patch(Rectangle((p - 0.5, p - 0.5), out, out, fill=False,
                               edgecolor=OUTPUT_COLOUR, linewidth=2.5))
    counts = g["counts"]
    ax_out.set_title(
        f"OUTPUT {out}x{out}: blue frame (hatched: cropped by padding)\n"
        f"orange: painted by input cell {labels[g['row'], g['col']]}\n"
        f"{'numbers' if numbers else 'shade'}: paints per cell, "
        f"{int(counts.min())} to {int(counts.max())}"
        + (" (uneven: checkerboard)" if counts.min() != counts.max()
           else " (even)"), fontsize=9)
    fig.suptitle("H_out = (H - 1)*stride - 2*padding + dilation*(K - 1)"
                 f" + output_padding + 1\n= {g['formula']}", fontsize=10)
    fig.geometry = g
    return fig


def explore_transpose_arithmetic():
    """Live `render_transpose_arithmetic`: every size argument and the cell.
    """
    import ipywidgets as w

    def slider(value, low, high, name):
        return w.IntSlider(value=value, min=low, max=high, description=name,
                           style={"description_width": "initial"})

    return explorer(
        render_transpose_arithmetic,
        {"size": slider(3, 1, 6, "input size"),
         "kernel": slider(3, 1, 5, "kernel"),
         "stride": slider(2, 1, 3, "stride"),
         "padding": slider(0, 0, 3, "padding"),
         "output_padding": slider(0, 0, 2, "output_padding"),
         "dilation": slider(1, 1, 3, "dilation"),
         "row": slider(1, 0, 5, "input row"),
         "col": slider(1, 0, 5, "input column")},
        title="Transposed convolution: which input cell paints which output "
              "cells", columns=4)


def interpolate_codes(code_a, code_b, t):
    """``(1 - t) * code_a + t * code_b``: a straight line between two codes."""
    return (1 - t) * np.asarray(code_a) + t * np.asarray(code_b)


def render_latent(decode, codes, images, first=0, second=1, t=0.5, steps=7):
    """Two digits, their decoded mixture at ``t``, and the path between them.

    Parameters
    ----------
    decode : callable
        ``decode(codes (M, D)) -> images (M, 1, H, W)`` in [0, 1].
    codes : ndarray, shape (N, D)
        The encoder's codes of ``images``.
    images : ndarray, shape (N, 1, H, W)
    first, second : int
        Indices of the two digits.
    t : float in [0, 1]
        Position on the line from the first code (0) to the second (1).
    steps : int
        Evenly spaced points drawn along the path (bottom row).

    Returns
    -------
    Figure, with attribute ``decoded`` (the image at ``t``, shape (H, W)).
    """
    if not 0 <= t <= 1:
        raise ValueError(f"render_latent: t must be in [0, 1], got {t!r}")
    n = len(codes)
    first, second = min(max(first, 0), n - 1), min(max(second, 0), n - 1)
    ts = np.linspace(0, 1, steps)
    path = np.stack([interpolate_codes(codes[first], codes[second], s)
                     for s in (t, *ts)])
    decoded = decode(path.astype(codes.dtype))[:, 0]
    # One image axes holding every panel: a redraw on each slider move must
    # stay well under 150 ms, and each extra axes costs more than its pixels.
    h, w = decoded.shape[1:]
    gap, big = 4, 2  # the top row is drawn twice as large
    width = steps * (w + gap) - gap
    top_y, strip_y = 12, 12 + big * h + 16
    sheet = np.ones((strip_y + h, width))
    lefts = [0, (width - big * w) // 2, width - big * w]
    panels = (images[first, 0], decoded[0], images[second, 0])
    for left, img in zip(lefts, panels):
        sheet[top_y:top_y + big * h, left:left + big * w] = np.kron(
            np.clip(img, 0, 1), np.ones((big, big)))
    for i in range(steps):
        sheet[strip_y:, i * (w + gap):i * (w + gap) + w] = decoded[1 + i]
    # whole pixels, so the figure's repr is one nbval can sanitize
    height_px = round(6.0 * DPI * sheet.shape[0] / width)
    fig = Figure(figsize=(6.0, height_px / DPI), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    show_image(sheet, ax=ax, vmin=0, vmax=1)
    ax.axis("off")
    for left, title in zip(lefts, (f"digit #{first}", f"decoded at t = {t:.2f}",
                                   f"digit #{second}")):
        ax.text(left + big * w / 2, top_y - 2, title, ha="center", va="bottom",
                fontsize=9)
    for i, s in enumerate(ts):
        ax.text(i * (w + gap) + w / 2, strip_y - 2, f"{s:.2f}", ha="center",
                va="bottom", fontsize=MIN_FONT_PT)
    near = int(round(t * (steps - 1)))
    ax.add_patch(Rectangle((near * (w + gap) - 1, strip_y - 0.5), w + 1, h,
                           fill=False, edgecolor=INPUT_COLOUR, linewidth=2))
    fig.decoded = decoded[0]
    return fig


def explore_latent(decode, codes, images, first=0, second=1):
    """Live `render_latent`: pick two digits and slide between their codes.
    """
    import ipywidgets as w

    n = len(codes) - 1
    return explorer(
        lambda **v: render_latent(decode, codes, images, **v),
        {"first": w.IntSlider(value=first, min=0, max=n, description="digit A"),
         "second": w.IntSlider(value=second, min=0, max=n, description="digit B"),
         "t": w.FloatSlider(value=0.5, min=0, max=1, step=0.05,
                            description="t (A to B)")},
        title="Walk between two digits' codes; the decoder draws each point",
        columns=3)
