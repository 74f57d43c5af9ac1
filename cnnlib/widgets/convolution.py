"""Explorers for the convolution notebook.

- `render_conv_step` / `explore_conv_step`: a 3x3 kernel over a 5x5 input,
  one output cell at a time: window, elementwise products, sum plus bias.
- `render_conv_arithmetic` / `explore_conv_arithmetic`: the output-size
  formula with numbers, the padded input, every kernel position, and the
  input rows/columns that a stride which does not divide evenly drops.
- `render_kernel_editor` / `explore_kernel_editor`: preset or typed 3x3
  kernels applied to an MNIST digit and to a photograph.

Taught in notebooks/02_convolution.ipynb.
"""

import re
from functools import lru_cache

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..conv import correlate2d
from ..plotting import (cell_lines, show_image, show_signed, show_values,
                        symmetric_limit)
from .base import explorer, message_figure

__all__ = [
    "STEP_INPUT",
    "STEP_KERNEL",
    "PRESETS",
    "parse_kernel",
    "format_kernel",
    "render_conv_step",
    "explore_conv_step",
    "axis_coverage",
    "render_conv_arithmetic",
    "explore_conv_arithmetic",
    "sample_digit",
    "sample_photo",
    "render_kernel_editor",
    "explore_kernel_editor",
]

DPI = 80

# Small integers so every product and sum can be checked by hand.
STEP_INPUT = np.array([[1, 0, 2, 1, 0],
                       [0, 1, 3, 1, 1],
                       [2, 1, 0, 0, 2],
                       [1, 3, 1, 2, 0],
                       [0, 2, 1, 1, 1]], dtype=np.float64)
STEP_KERNEL = np.array([[1, 0, -1],
                        [2, 1, 0],
                        [0, -1, 1]], dtype=np.float64)

# Edge kernels follow cnnlib's notebooks: "vertical edge" is positive where
# the image is bright on the left and dark on the right (the right edge of a
# bright stroke); Sobel x/y are the textbook derivative estimates.
PRESETS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "vertical edge": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float),
    "horizontal edge": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
                                dtype=float),
    "Sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "Sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
}
_PRESET_TEXT = {
    "box blur": "1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9",
    "Gaussian blur": "1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16",
}


# ------------------------------------------------------------ kernel text


def _number(token):
    """float(token), also 'a/b'; never eval."""
    try:
        if "/" in token:
            num, den = token.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(token)
    except ZeroDivisionError:
        raise ValueError(f"parse_kernel: {token!r} divides by zero") from None
    except ValueError:
        raise ValueError(
            f"parse_kernel: could not read {token!r} as a number "
            f"(write numbers like 1, -0.5 or 1/9)") from None
    if not np.isfinite(value):
        raise ValueError(f"parse_kernel: {token!r} is not a finite number")
    return value


def parse_kernel(text):
    """Read a square kernel typed as numbers separated by spaces or commas.

    Parameters
    ----------
    text : str
        e.g. ``"1 0 -1\\n2 0 -2\\n1 0 -1"``; fractions like ``1/9`` are
        allowed. Line breaks are optional: the values fill rows in order.

    Returns
    -------
    kernel : ndarray, shape (K, K), float64
        K = 3 for nine numbers (1, 4, 16, 25, 36 or 49 numbers also work).

    Raises
    ------
    ValueError
        A token that is not a number, or a count that is not a square.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"parse_kernel: text must be a str, got {type(text).__name__}")
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    values = [_number(t) for t in tokens]
    k = int(round(np.sqrt(len(values))))
    if len(values) == 0 or k * k != len(values) or k > 7:
        raise ValueError(
            f"parse_kernel: expected 9 numbers for a 3x3 kernel (or another "
            f"square count up to 49), got {len(values)}")
    return np.array(values, dtype=np.float64).reshape(k, k)


def format_kernel(kernel):
    """Text for a kernel, one row per line, that `parse_kernel` reads back.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    for name, text in _PRESET_TEXT.items():
        if kernel.shape == PRESETS[name].shape and np.allclose(
                kernel, PRESETS[name]):
            return text
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in kernel)


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

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
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

    fig = Figure(figsize=(9.6, 3.2), dpi=DPI)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [5, 3, 3, 3]})
    show_values(x, ax=axes[0], title=f"input x, window at ({i}, {j})",
                boxes=[(i, j, kh, kw, "#ff7f00")], axis_labels=True,
                cmap="Greys", signed=False)
    show_values(w, ax=axes[1], title="kernel w", signed=True)
    show_values(products, ax=axes[2], title="x[window] * w", signed=True)
    show_values(shown, ax=axes[3], title=f"output ({h_out}x{w_out})",
                boxes=[(i, j, 1, 1, "#ff7f00")], signed=True,
                vmax=symmetric_limit(out), axis_labels=True)
    terms = " + ".join(f"{_g(a)}*{_g(c)}" for a, c in zip(window.flat, w.flat))
    fig.text(0.5, 0.04,
             f"out[{i}, {j}] = {terms}  + b({b:g})  =  "
             f"{products.sum():g} + {b:g} = {out[i, j]:g}",
             ha="center", fontsize=9, family="monospace")
    fig.subplots_adjust(left=0.03, right=0.99, top=0.88, bottom=0.16,
                        wspace=0.25)
    return fig


def explore_conv_step():
    """Live `render_conv_step`: drag the output cell.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    import ipywidgets as wd

    n = (STEP_INPUT.shape[0] - 2) * (STEP_INPUT.shape[1] - 2)
    return explorer(
        render_conv_step,
        {"step": wd.IntSlider(value=0, min=0, max=n - 1,
                              description="output cell"),
         "b": wd.FloatSlider(value=1.0, min=-3, max=3, step=0.5,
                             description="bias b")},
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

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
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


_ARITH_CMAP = ListedColormap(["#d9d9d9", "#c6dbef", "#fb6a4a"])


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
        uses, red input cells that no window reaches), the first window in
        orange with its taps, the last in green, a dot where each window
        starts. Right: the output grid. Settings where the kernel does not
        fit give a message figure (not an exception).

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
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
            "or use a smaller kernel or dilation.", figsize=(8, 1.6))
    used, n_out, dropped = axis_coverage(size, kernel, stride, padding,
                                         dilation)
    num = padded - span
    head += (f"\n    = floor({num}/{stride}) + 1 = {num // stride} + 1 "
             f"= {n_out}")
    real = np.zeros(padded, dtype=bool)
    real[padding:padding + size] = True
    unused = [int(r) - padding for r in np.flatnonzero(real & ~used)]
    if dropped:
        note = (f"{num} is not a multiple of {stride}: remainder {dropped}, "
                f"so the last {dropped} padded row(s)/column(s) are dropped "
                "(floor).")
    else:
        note = f"{num} is a multiple of {stride}: nothing is dropped."
    if unused:
        note += f"\nInput rows/columns no window uses (red): {unused}."

    # 0 padding, 1 input used, 2 input never reached
    cat = np.zeros((padded, padded))
    inside = real[:, None] & real[None, :]
    cat[inside] = 1
    cat[inside & ~(used[:, None] & used[None, :])] = 2

    fig = Figure(figsize=(8, 5), dpi=DPI)
    gs = fig.add_gridspec(1, 2, width_ratios=[max(padded, 4), max(n_out, 3)])
    ax = fig.add_subplot(gs[0])
    ax.imshow(cat, cmap=_ARITH_CMAP, vmin=0, vmax=2, interpolation="nearest")
    cell_lines(ax, padded, padded, color="white", linewidth=1)
    ax.tick_params(length=0, labelsize=7)
    ticks = range(padded)
    ax.set_xticks(list(ticks))
    ax.set_xticklabels([str(t - padding) for t in ticks])
    ax.set_yticks(list(ticks))
    ax.set_yticklabels([str(t - padding) for t in ticks])
    ax.set_xlabel("input column (negative / past the end: padding)", fontsize=8)
    ax.set_ylabel("input row", fontsize=8)
    starts = np.arange(n_out) * stride
    for (r0, c0), colour in (((0, 0), "#ff7f00"),
                             ((starts[-1], starts[-1]), "#2ca02c")):
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), span, span, fill=False,
                               edgecolor=colour, linewidth=2.5))
        taps = r0 + np.arange(kernel) * dilation
        tc = c0 + np.arange(kernel) * dilation
        ty, tx = np.meshgrid(taps, tc, indexing="ij")
        ax.scatter(tx.ravel(), ty.ravel(), marker="s", s=30, c=colour)
    sy, sx = np.meshgrid(starts, starts, indexing="ij")
    ax.scatter(sx.ravel(), sy.ravel(), s=10, c="k", zorder=3)
    ax.set_title(f"padded input {padded}x{padded}: orange first window, "
                 "green last, dots = window starts", fontsize=8)

    ax2 = fig.add_subplot(gs[1])
    ax2.imshow(np.ones((n_out, n_out)), cmap="Greens", vmin=0, vmax=3,
               interpolation="nearest")
    cell_lines(ax2, n_out, n_out, color="white", linewidth=1)
    ax2.tick_params(length=0, labelsize=7)
    ax2.set_xticks(range(n_out))
    ax2.set_yticks(range(n_out))
    ax2.set_title(f"output {n_out}x{n_out}", fontsize=9)
    fig.text(0.02, 0.98, head, ha="left", va="top", fontsize=9,
             family="monospace")
    fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.8, bottom=0.17,
                        wspace=0.15)
    return fig


def explore_conv_arithmetic():
    """Live `render_conv_arithmetic` with one slider per argument.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    import ipywidgets as wd

    def slider(v, lo, hi, name):
        return wd.IntSlider(value=v, min=lo, max=hi, description=name)

    return explorer(
        render_conv_arithmetic,
        {"size": slider(7, 1, 16, "input H"),
         "kernel": slider(3, 1, 7, "kernel k"),
         "stride": slider(2, 1, 4, "stride s"),
         "padding": slider(1, 0, 3, "padding p"),
         "dilation": slider(1, 1, 3, "dilation d")},
        title="Output size: floor((H + 2p - d(k-1) - 1) / s) + 1", columns=3)


# ------------------------------------------------------------ kernel editor


@lru_cache(maxsize=4)
def sample_digit(index=0, label=4):
    """The ``index``-th test digit with this label, float64 (28, 28) in [0, 1].

    Loaded on first use (not at import) from the shipped MNIST subset.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    from ..data import load_mnist

    X, y = load_mnist(split="test")
    digit = X[np.flatnonzero(y == label)[index], 0] / 255.0
    digit.flags.writeable = False  # cached: shared between calls
    return digit


@lru_cache(maxsize=4)
def sample_photo(factor=3):
    """The grayscale photo, downscaled ``factor`` times (fast to redraw).

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    from ..data import load_sample_image

    photo = load_sample_image(factor=factor)
    photo.flags.writeable = False  # cached: shared between calls
    return photo


def render_kernel_editor(preset="vertical edge", values="", positive_only=False,
                         digit=None, photo=None):
    """A 3x3 (or other square) kernel applied to a digit and a photograph.

    Parameters
    ----------
    preset : str
        A key of `PRESETS`; used when ``values`` is empty.
    values : str
        Kernel typed as numbers (see `parse_kernel`); overrides ``preset``.
    positive_only : bool
        Show only the positive part of the responses (what a ReLU keeps):
        an edge detector then sees only one side of each stroke.
    digit, photo : ndarray, shape (H, W), optional
        Default: `sample_digit()` and `sample_photo()`.

    Returns
    -------
    fig : matplotlib Figure
        Kernel, digit and response, photo and response; responses use a
        zero-centred colour map with a colour bar.

    Raises
    ------
    ValueError
        Unreadable ``values`` or unknown ``preset`` (the explorer shows the
        message instead of a traceback).

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    if values.strip():
        k = parse_kernel(values)
        same = (preset in PRESETS and k.shape == PRESETS[preset].shape
                and np.allclose(k, PRESETS[preset]))
        name = preset if same else "your kernel"
    elif preset in PRESETS:
        k, name = PRESETS[preset], preset
    else:
        raise ValueError(f"render_kernel_editor: preset must be one of "
                         f"{list(PRESETS)}, got {preset!r}")
    digit = sample_digit() if digit is None else digit
    photo = sample_photo() if photo is None else photo
    fig = Figure(figsize=(7.6, 5.2), dpi=DPI)
    gs = fig.add_gridspec(2, 3, width_ratios=[0.9, 1, 1.2])
    show_values(k, ax=fig.add_subplot(gs[:, 0]), title=f"kernel: {name}",
                signed=True, fontsize=9 if k.shape[0] <= 5 else 6,
                fmt="{:.2g}")
    for row, (img, what) in enumerate(((digit, "digit"), (photo, "photo"))):
        resp = correlate2d(img, k)
        if positive_only:
            resp = np.maximum(resp, 0.0)
        h, w = img.shape
        show_image(img, ax=fig.add_subplot(gs[row, 1]),
                   title=f"{what} {h}x{w}")
        # a few extreme pixels would wash out the photo: limit at the
        # 99.5th percentile of |response| (the colour bar says so)
        vmax = max(float(np.percentile(np.abs(resp), 99.5)), 1e-12)
        show_signed(resp, ax=fig.add_subplot(gs[row, 2]), vmax=vmax,
                    title=f"response {resp.shape[0]}x{resp.shape[1]}"
                          + (" (positive part)" if positive_only else ""))
    fig.subplots_adjust(left=0.01, right=0.93, top=0.94, bottom=0.03,
                        wspace=0.08, hspace=0.18)
    return fig


def explore_kernel_editor(digit=None, photo=None):
    """Live `render_kernel_editor`: pick a preset, then edit its numbers.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    import ipywidgets as wd

    first = "vertical edge"
    preset = wd.Dropdown(options=list(PRESETS), value=first,
                         description="preset")
    # apply typed numbers when the box loses focus, not at every keystroke
    # (half-typed numbers would only flash error messages)
    values = wd.Textarea(value=format_kernel(PRESETS[first]),
                         description="values", continuous_update=False,
                         layout=wd.Layout(width="260px", height="80px"))
    positive = wd.Checkbox(value=False, description="positive part only")

    def load_preset(change):
        values.value = format_kernel(PRESETS[change["new"]])

    preset.observe(load_preset, names="value")
    return explorer(
        lambda **v: render_kernel_editor(digit=digit, photo=photo, **v),
        {"preset": preset, "values": values, "positive_only": positive},
        title="Kernel editor: choose a preset or type 9 numbers (spaces or "
              "commas; 1/9 works), then click outside the box")
