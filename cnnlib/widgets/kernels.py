"""Kernel editor: named or typed kernels applied to a digit and a photograph.

- `parse_kernel` / `format_kernel`: kernels typed as text and back.
- `render_kernel_editor` / `explore_kernel_editor`: a kernel, an MNIST digit
  and a photograph with their responses.

The named kernels are `cnnlib.kernels.KERNELS` (one vocabulary for the whole
course).

Taught in notebooks/02_convolution.ipynb.
"""

import re
from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from ..conv import correlate2d
from ..kernels import KERNEL_TEXT, KERNELS
from ..plotting import show_image, show_signed, show_values
from .base import DPI, explorer

__all__ = [
    "parse_kernel",
    "format_kernel",
    "kernel_name",
    "sample_digit",
    "sample_photo",
    "render_kernel_editor",
    "explore_kernel_editor",
]

CUSTOM = "custom"


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


def format_kernel(kernel, sep="\n"):
    """Text for a kernel, one row per line, that `parse_kernel` reads back.

    Parameters
    ----------
    kernel : ndarray, shape (K, K)
    sep : str
        Between rows ("; " gives one line, as the kernel editor's box).
    """
    name = kernel_name(kernel)
    if name is not None:
        text = KERNEL_TEXT[name]  # keeps fractions such as 1/9
    else:
        text = "\n".join(" ".join(f"{v:g}" for v in row) for row in kernel)
    return text.replace("\n", sep)


def kernel_name(kernel):
    """The name of ``kernel`` in `cnnlib.kernels.KERNELS`, or None."""
    kernel = np.asarray(kernel, dtype=np.float64)
    for name, k in KERNELS.items():
        if kernel.shape == k.shape and np.allclose(kernel, k):
            return name
    return None


# ------------------------------------------------------------ kernel editor


@lru_cache(maxsize=4)
def sample_digit(index=0, label=4):
    """The ``index``-th test digit with this label, float64 (28, 28) in [0, 1].

    Loaded on first use (not at import) from the shipped MNIST subset.
    """
    from ..data import load_mnist

    X, y = load_mnist(split="test")
    digit = X[np.flatnonzero(y == label)[index], 0] / 255.0
    digit.flags.writeable = False  # cached: shared between calls
    return digit


@lru_cache(maxsize=4)
def sample_photo(factor=3):
    """The grayscale photo, downscaled ``factor`` times (fast to redraw).
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
        A key of `cnnlib.kernels.KERNELS`; used when ``values`` is empty.
    values : str
        Kernel typed as numbers (see `parse_kernel`); overrides ``preset``.
        Titled by its name if it equals a named kernel, else "custom".
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
    """
    if values.strip():
        k = parse_kernel(values)
        name = kernel_name(k) or CUSTOM
    elif preset in KERNELS:
        k, name = KERNELS[preset], preset
    else:
        raise ValueError(f"render_kernel_editor: preset must be one of "
                         f"{list(KERNELS)}, got {preset!r}")
    digit = sample_digit() if digit is None else digit
    photo = sample_photo() if photo is None else photo
    fig = Figure(figsize=(6.0, 4.3), dpi=DPI)
    gs = fig.add_gridspec(2, 3, width_ratios=[0.9, 1, 1.25])
    show_values(k, ax=fig.add_subplot(gs[:, 0]), title=f"kernel: {name}",
                signed=True, fontsize=9 if k.shape[0] <= 5 else 7.5,
                fmt="{:.2g}")
    for row, (img, what) in enumerate(((digit, "digit"), (photo, "photo"))):
        _response_row(fig, gs, row, img, what, k, positive_only)
    fig.subplots_adjust(left=0.01, right=0.91, top=0.93, bottom=0.03,
                        wspace=0.12, hspace=0.22)
    return fig


def _response_row(fig, gs, row, img, what, k, positive_only):
    """One image and its response to ``k`` in row ``row`` of ``gs``."""
    resp = correlate2d(img, k)
    if positive_only:
        resp = np.maximum(resp, 0.0)
    h, w = img.shape
    show_image(img, ax=fig.add_subplot(gs[row, 1]), title=f"{what} {h}x{w}")
    # a few extreme pixels would wash out the photo: limit at the
    # 99.5th percentile of |response| (the colour bar says so)
    vmax = max(float(np.percentile(np.abs(resp), 99.5)), 1e-12)
    ax = fig.add_subplot(gs[row, 2])
    title = f"response {resp.shape[0]}x{resp.shape[1]}"
    if positive_only:  # nothing below 0 is left: black to white, as
        # the feature maps of ReLU outputs are drawn elsewhere
        show_image(resp, ax=ax, title=title + " (> 0 only)",
                   vmin=0.0, vmax=vmax, colorbar=True)
    else:
        show_signed(resp, ax=ax, vmax=vmax, title=title)


def explore_kernel_editor(digit=None, photo=None):
    """Live `render_kernel_editor`: pick a named kernel, or type one.

    Typing switches the name box to "custom"; Enter or the Apply button
    draws the typed kernel (a half-typed one is never drawn).
    """
    import ipywidgets as wd

    from .base import control_layout

    first = "vertical edge"
    preset = wd.Dropdown(options=[*KERNELS, CUSTOM], value=first,
                         layout=control_layout("250px"),
                         style={"description_width": "initial"},
                         description="kernel",
                         tooltip="named kernel from cnnlib.kernels")
    text = format_kernel(KERNELS[first], sep="; ")
    values = wd.Text(value=text, description="values",
                     continuous_update=True,
                     tooltip="kernel values, rows separated by ';' "
                             "(press Enter to apply)",
                     layout=control_layout("360px"))
    apply = wd.Button(description="Apply", tooltip="draw the typed kernel",
                      layout=control_layout("80px"))
    # what the figure shows: changes only on a preset, Enter or Apply
    applied = wd.Text(value=text, layout=wd.Layout(display="none"))
    positive = wd.Checkbox(value=False, description="positive part only",
                           tooltip="keep only the positive part (a ReLU)")

    _wire_editor(preset, values, apply, applied)
    box = explorer(
        lambda **v: render_kernel_editor(digit=digit, photo=photo, **v),
        {"values": applied, "positive_only": positive},
        title="Kernel editor: choose a named kernel or type 9 numbers "
              "(rows separated by ';', 1/9 works), then press Enter or Apply")
    # the visible controls: name, text box, Apply (the hidden `applied`
    # box drives the figure)
    wrap = wd.Layout(flex_flow="row wrap", align_items="center")
    box.children = (box.children[0],
                    wd.HBox([preset, values, apply, positive], layout=wrap),
                    *box.children[2:])
    return box


def _wire_editor(preset, values, apply, applied):
    """Connect the editor's controls: a named kernel fills the box; typing
    shows its name (or "custom"); Enter or Apply copies the box into
    ``applied``, the hidden value the figure follows."""

    def load_preset(change):
        if change["new"] != CUSTOM:
            values.value = format_kernel(KERNELS[change["new"]], sep="; ")
            applied.value = values.value

    def typed(change):
        try:
            name = kernel_name(parse_kernel(change["new"])) or CUSTOM
        except ValueError:
            name = CUSTOM
        if preset.value != name:
            preset.unobserve(load_preset, names="value")
            preset.value = name
            preset.observe(load_preset, names="value")

    def submit(_widget, content, _buffers):
        if content.get("event") == "submit":
            applied.value = values.value

    preset.observe(load_preset, names="value")
    values.observe(typed, names="value")
    values.on_msg(submit)  # Enter in the box
    apply.on_click(lambda _: setattr(applied, "value", values.value))
