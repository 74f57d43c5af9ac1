"""Kernel editor: preset or typed kernels applied to a digit and a photograph.

- `PRESETS`: named 3x3 kernels (identity, edges, Sobel, sharpen, blurs).
- `parse_kernel` / `format_kernel`: kernels typed as text and back.
- `render_kernel_editor` / `explore_kernel_editor`: a kernel, an MNIST digit
  and a photograph with their responses.

Taught in notebooks/02_convolution.ipynb.
"""

import re
from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from ..conv import correlate2d
from ..plotting import show_image, show_signed, show_values
from .base import explorer

__all__ = [
    "PRESETS",
    "parse_kernel",
    "format_kernel",
    "sample_digit",
    "sample_photo",
    "render_kernel_editor",
    "explore_kernel_editor",
]

DPI = 80

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
        ax = fig.add_subplot(gs[row, 2])
        title = f"response {resp.shape[0]}x{resp.shape[1]}"
        if positive_only:  # nothing below 0 is left: black to white, as
            # the feature maps of ReLU outputs are drawn elsewhere
            show_image(resp, ax=ax, title=title + " (positive part)",
                       vmin=0.0, vmax=vmax, colorbar=True)
        else:
            show_signed(resp, ax=ax, vmax=vmax, title=title)
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
