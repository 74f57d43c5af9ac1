"""Pick a test digit, change it, and watch the trained network's answer.

`edit_digit` moves, turns, thickens, over-paints, erases or adds noise to one
28x28 digit (pure NumPy, so it runs anywhere); `render_digit_prediction`
shows the original, the edited digit and the class probabilities the model
gives it; `explore_digit_prediction` wraps that in sliders.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

from functools import partial

import numpy as np

from ..plotting import show_probabilities
from ..shapes import check_array
from .base import DPI, explorer

__all__ = [
    "STROKES",
    "ERASERS",
    "edit_digit",
    "class_probabilities",
    "render_digit_prediction",
    "explore_digit_prediction",
]

# Strokes as straight lines (row0, col0, row1, col1) on the 28x28 grid. Chosen
# so that a student can turn one digit into another: a top bar makes 1 -> 7,
# a middle bar makes 1 -> 4-ish, a vertical bar closes a 3 into an 8-ish.
STROKES = {
    "none": None,
    "top bar": (6, 7, 6, 21),
    "middle bar": (14, 6, 14, 22),
    "bottom bar": (21, 7, 21, 21),
    "left bar": (6, 9, 22, 9),
    "vertical bar": (5, 14, 23, 14),
    "diagonal": (22, 8, 6, 20),
}

# Which pixels an eraser clears (rows, cols) as slices.
ERASERS = {
    "none": None,
    "top half": (slice(0, 14), slice(None)),
    "bottom half": (slice(14, None), slice(None)),
    "left half": (slice(None), slice(0, 14)),
    "right half": (slice(None), slice(14, None)),
}


def edit_digit(image, shift_x=0.0, shift_y=0.0, angle=0.0, thickness=0,
               stroke="none", erase="none", noise=0.0, seed=0):
    """Return an edited copy of one grey-scale digit.

    The edits are applied in this order: move and turn, thicken or thin,
    erase, paint a stroke, add noise. Pixel values stay between the image's
    own background (its minimum) and ink (its maximum), so a normalised digit
    stays normalised.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (1, H, W)
        float32 or float64.
    shift_x, shift_y : float
        Move right / down by this many pixels (fractions interpolate).
    angle : float
        Turn anticlockwise by this many degrees about the centre.
    thickness : int
        ``> 0`` thickens the strokes by that many pixels (grey dilation with
        a 3x3 cross), ``< 0`` thins them (erosion).
    stroke : str
        One of `STROKES`: a 2-pixel-wide line painted in full ink.
    erase : str
        One of `ERASERS`: sets that part to background.
    noise : float
        Standard deviation of added Gaussian noise, as a fraction of the
        ink - background range (0.3 is a lot).
    seed : int
        Seed for the noise, so the same settings give the same picture.

    Returns
    -------
    edited : ndarray, same shape and dtype as ``image``
    """
    func = "edit_digit"
    image = check_array(image, "image", func)
    if image.ndim == 3 and image.shape[0] == 1:
        plane = image[0]
    elif image.ndim == 2:
        plane = image
    else:
        raise ValueError(
            f"{func}: image must have shape (H, W) or (1, H, W), got "
            f"{image.shape}"
        )
    if stroke not in STROKES:
        raise ValueError(f"{func}: stroke must be one of {list(STROKES)}, "
                         f"got {stroke!r}")
    if erase not in ERASERS:
        raise ValueError(f"{func}: erase must be one of {list(ERASERS)}, "
                         f"got {erase!r}")
    if not noise >= 0:
        raise ValueError(f"{func}: noise must be >= 0, got {noise!r}")
    # Work in [0, 1] ink units so the edits mean the same for any scaling.
    lo, hi = float(plane.min()), float(plane.max())
    span = hi - lo if hi > lo else 1.0
    u = (plane.astype(np.float64) - lo) / span

    u = _move_and_turn(u, shift_x, shift_y, angle)
    for _ in range(abs(int(thickness))):
        u = _grey_morph(u, np.maximum if thickness > 0 else np.minimum)
    if ERASERS[erase] is not None:
        u[ERASERS[erase]] = 0.0
    if STROKES[stroke] is not None:
        u = np.maximum(u, _line(u.shape, *STROKES[stroke]))
    if noise > 0:
        u = u + np.random.default_rng(seed).normal(0.0, noise, u.shape)
    u = np.clip(u, 0.0, 1.0)

    out = (lo + span * u).astype(image.dtype)
    return out.reshape(image.shape)


def _move_and_turn(u, shift_x, shift_y, angle):
    """Resample ``u`` (H, W) moved by (shift_x, shift_y) and turned by angle.

    Each output pixel looks up where it came from (the inverse map) and
    interpolates bilinearly; pixels from outside the image are background.
    """
    if shift_x == 0 and shift_y == 0 and angle == 0:
        return u.copy()
    H, W = u.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    rows, cols = np.mgrid[0:H, 0:W].astype(np.float64)
    y, x = rows - cy - shift_y, cols - cx - shift_x
    # Screen rows point down, so an anticlockwise turn on screen is a
    # clockwise one in (x, y); undo it to find the source pixel.
    t = np.deg2rad(angle)
    src_x = np.cos(t) * x - np.sin(t) * y + cx
    src_y = np.sin(t) * x + np.cos(t) * y + cy
    padded = np.pad(u, 1)  # a ring of background for out-of-range lookups
    src_x = np.clip(src_x + 1, 0, W + 1 - 1e-9)
    src_y = np.clip(src_y + 1, 0, H + 1 - 1e-9)
    x0, y0 = np.floor(src_x).astype(int), np.floor(src_y).astype(int)
    x1, y1 = np.minimum(x0 + 1, W + 1), np.minimum(y0 + 1, H + 1)
    fx, fy = src_x - x0, src_y - y0
    top = padded[y0, x0] * (1 - fx) + padded[y0, x1] * fx
    bottom = padded[y1, x0] * (1 - fx) + padded[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _grey_morph(u, pick):
    """One step of grey dilation (pick=np.maximum) or erosion (np.minimum)."""
    p = np.pad(u, 1)
    out = u.copy()
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        out = pick(out, p[1 + dy:1 + dy + u.shape[0], 1 + dx:1 + dx + u.shape[1]])
    return out


def _line(shape, r0, c0, r1, c1, width=2.0):
    """Soft line from (r0, c0) to (r1, c1): 1 on the line, 0 beyond ``width``."""
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    d = np.array([r1 - r0, c1 - c0], dtype=np.float64)
    t = ((rows - r0) * d[0] + (cols - c0) * d[1]) / max(d @ d, 1e-12)
    t = np.clip(t, 0.0, 1.0)
    dist = np.hypot(rows - (r0 + t * d[0]), cols - (c0 + t * d[1]))
    return np.clip(width - dist, 0.0, 1.0)


def class_probabilities(model, x):
    """Softmax of the model's scores for a batch of images.

    Parameters
    ----------
    model : object
        A cnnlib ``Sequential`` (run by `cnnlib.train.predict` in
        evaluation mode), anything with ``predict_proba(x) -> (N, K)``, or
        anything with ``forward(x) -> scores (N, K)``.
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    probs : ndarray, shape (N, K), float64, rows sum to 1
    """
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(x), dtype=np.float64)
    if hasattr(model, "params") and hasattr(model, "eval"):
        # A cnnlib model: `predict` runs it in evaluation mode (no dropout).
        from ..train import predict

        return np.asarray(predict(model, x, proba=True), dtype=np.float64)
    if not hasattr(model, "forward"):
        raise TypeError(
            "class_probabilities: model must have a forward(x) or "
            f"predict_proba(x) method, got {type(model).__name__}"
        )
    scores = np.asarray(model.forward(x), dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != x.shape[0]:
        raise ValueError(
            "class_probabilities: model.forward must return scores of shape "
            f"(N={x.shape[0]}, K), got {scores.shape}"
        )
    # Subtracting the row maximum keeps exp() from overflowing.
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def render_digit_prediction(model, images, labels=None, index=0, shift_x=0.0,
                            shift_y=0.0, angle=0.0, thickness=0, stroke="none",
                            erase="none", noise=0.0, figsize=(6.0, 2.4)):
    """Figure: the chosen digit, the edited digit and the model's probabilities.

    Parameters
    ----------
    model : object
        See `class_probabilities`.
    images : ndarray, shape (N, 1, H, W)
        Digits to choose from, scaled as the model was trained.
    labels : ndarray of int, shape (N,), optional
        True classes; the true class's bar is outlined in red. The title
        says "right" or "WRONG" only while the digit is unedited.
    index : int
        Which digit, ``0 <= index < N``.
    shift_x, shift_y, angle, thickness, stroke, erase, noise
        Edits, see `edit_digit` (noise is seeded by ``index``).
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.probabilities`` holds the (K,) probabilities shown.
    """
    from matplotlib.figure import Figure

    func = "render_digit_prediction"
    images = check_array(images, "images", func, ndim=4, shape_doc="(N, 1, H, W)")
    n = images.shape[0]
    if not 0 <= int(index) < n:
        raise ValueError(f"{func}: index must be in 0..{n - 1}, got {index}")
    index = int(index)
    original = images[index]
    edited = edit_digit(original, shift_x, shift_y, angle, thickness, stroke,
                        erase, noise, seed=index)
    probs = class_probabilities(model, edited[None])[0]
    pred = int(np.argmax(probs))
    true = None if labels is None else int(labels[index])
    # An edit may turn the digit into another one (1 + top bar = 7), so
    # "right" and "wrong" only make sense for the unedited digit.
    unedited = np.array_equal(edited, original)

    fig = Figure(figsize=figsize, layout="constrained", dpi=DPI)
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 2.2])
    lo, hi = float(original.min()), float(original.max())
    for k, (img, name) in enumerate([(original, "original"), (edited, "edited")]):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(img[0], cmap="gray", vmin=lo, vmax=hi)
        ax.set_xticks([])
        ax.set_yticks([])
        head = f"#{index}" + ("" if true is None else f", true {true}")
        ax.set_title(f"{name}\n{head}" if k == 0 else f"{name}\n(network input)",
                     fontsize=9)
    ax = fig.add_subplot(grid[0, 2])
    show_probabilities(probs, ax=ax, true=true)
    verdict = ""
    if true is not None and unedited:
        verdict = "  right" if pred == true else "  WRONG"
    ax.set_title(f"predicted {pred} ({100 * probs[pred]:.1f}%){verdict}",
                 fontsize=10)
    fig.probabilities = probs
    return fig


def explore_digit_prediction(model, images, labels=None):
    """Sliders over `render_digit_prediction`: pick a digit, then edit it.

    Parameters
    ----------
    model : object
        See `class_probabilities`.
    images : ndarray, shape (N, 1, H, W)
    labels : ndarray of int, shape (N,), optional

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as w

    # "initial" sizes each label to its text, so none is cut off.
    style = {"description_width": "initial"}

    def slider(cls, desc, lo, hi, step, what, value=0):
        return cls(value=value, min=lo, max=hi, step=step, description=desc,
                   continuous_update=False, style=style,
                   tooltip=f"{desc}: {what}")

    controls = {
        "index": slider(w.IntSlider, "digit #", 0, images.shape[0] - 1, 1,
                        "which test digit"),
        "shift_x": slider(w.IntSlider, "move \u2192", -6, 6, 1,
                          "pixels to move right"),
        "shift_y": slider(w.IntSlider, "move \u2193", -6, 6, 1,
                          "pixels to move down"),
        "angle": slider(w.IntSlider, "turn \u00b0", -180, 180, 5,
                        "degrees to turn anticlockwise"),
        "thickness": slider(w.IntSlider, "thicker", -1, 3, 1,
                            "pixels to thicken (negative: thin)"),
        "noise": slider(w.FloatSlider, "noise", 0.0, 0.6, 0.05,
                        "amount of random noise"),
        "stroke": w.Dropdown(options=list(STROKES), value="none",
                             description="add stroke", style=style,
                             tooltip="add stroke: a line painted in ink"),
        "erase": w.Dropdown(options=list(ERASERS), value="none",
                            description="erase", style=style,
                            tooltip="erase: part of the digit to clear"),
    }
    render = partial(render_digit_prediction, model, images, labels)
    return explorer(render, controls, columns=3,
                    title="Pick a test digit, change it, watch the prediction")
