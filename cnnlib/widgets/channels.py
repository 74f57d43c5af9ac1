"""Explorer: how a second conv layer combines the feature maps of the first.

Layer 1 has 4 filters, so it makes 4 maps; layer 2 has 8 filters. Two ways
to apply layer 2:

- option one: every 2-D filter on every map separately, 4 x 8 = 32 maps
  that never combine information from different maps;
- option two (what CNNs do): 8 filters of shape (4, 3, 3), each spanning all
  4 input maps and summing over them, giving 8 maps that mix all inputs.

A left-edge map and a top-edge map added together peak where both edges
meet: with a bias and a ReLU, a corner detector. Option one's maps each
read one map, so none can ask "a left edge AND a top edge here".

Taught in notebooks/03_channels_and_feature_maps.ipynb.
"""

import numpy as np
from matplotlib.figure import Figure

from ..conv import conv2d_forward
from ..plotting import mosaic, symmetric_limit
from ..plotting.cell_text import draw_cell_text
from .base import explorer
from .canvas import colour_bar, place_image, place_values

__all__ = [
    "LAYER1",
    "LAYER1_NAMES",
    "LAYER2",
    "LAYER2_NAMES",
    "CORNER_BIAS",
    "FILTERS_2D",
    "FILTERS_2D_NAMES",
    "square_image",
    "layer1_maps",
    "option_one",
    "option_two",
    "render_channels",
    "explore_channels",
]

DPI = 80

_V = np.array([[-1, 0, 1]] * 3, dtype=np.float64)  # + where dark -> bright
_H = _V.T.copy()                                  # going right / down
_BLUR = np.full((3, 3), 1 / 9)
_DIAG = np.array([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]], dtype=np.float64)
_CENTRE = np.zeros((3, 3))
_CENTRE[1, 1] = 1.0

# Layer 1: 4 filters on a 1-channel image, shape (F=4, C=1, 3, 3).
LAYER1 = np.stack([_V, _H, _DIAG, _BLUR])[:, None]
LAYER1_NAMES = ("left edges", "top edges", "diagonal", "blur")


def _layer2():
    """8 filters of shape (4, 3, 3): four hand-made, four random."""
    w = np.zeros((8, 4, 3, 3))
    # "left edge AND top edge": the centre of the left-edge map plus the
    # centre of the top-edge map. Each map alone is 3 along its whole edge
    # and only 2 at the corner; the sum is 3 along the edges and 4 at the
    # top-left corner only, so a bias of -3 and a ReLU keep just the corner
    # (CORNER_BIAS, applied in the notebook: ReLU is taught in 04).
    w[0, 0], w[0, 1] = _CENTRE, _CENTRE
    # "an edge starts here": on the left-edge map, edge below minus edge
    # above; on the top-edge map, edge to the right minus edge to the left.
    down = np.array([[0, -1, 0], [0, 0, 0], [0, 1, 0]], dtype=np.float64)
    w[1, 0], w[1, 1] = down, down.T
    w[2, 0], w[2, 1] = down, -down.T
    w[3, 0] = _CENTRE                    # one map only: option one inside two
    rng = np.random.default_rng(3)
    w[4:] = np.round(rng.normal(size=(4, 4, 3, 3)), 1) / 3
    return w


LAYER2 = _layer2()
LAYER2_NAMES = ("left + top edge", "edge ends", "edge ends, other sign",
                "copy of map 0", "random 1", "random 2", "random 3",
                "random 4")
# Bias that turns filter 0 into a top-left corner detector (after a ReLU).
CORNER_BIAS = -3.0

# Option one's 2-D filters (8, 3, 3): one 2-D kernel each, no channel axis.
FILTERS_2D = np.stack([_CENTRE, _BLUR, _V, _H, _DIAG, -_V, -_H,
                       np.round(np.random.default_rng(5).normal(size=(3, 3)),
                                1)])
FILTERS_2D_NAMES = ("identity", "blur", "left edges", "top edges", "diagonal",
                    "right edges", "bottom edges", "random")


def square_image(size=16, lo=4, hi=11):
    """A bright square on a dark ground: four edges and four corners.

    Returns
    -------
    image : ndarray, shape (size, size), float64
        1.0 inside rows and columns ``lo..hi`` (inclusive), else 0.

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
    """
    image = np.zeros((size, size))
    image[lo:hi + 1, lo:hi + 1] = 1.0
    return image


def layer1_maps(image):
    """The 4 layer-1 feature maps of a grayscale image (zero padding 1).

    Parameters
    ----------
    image : ndarray, shape (H, W)

    Returns
    -------
    maps : ndarray, shape (4, H, W)

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
    """
    x = np.asarray(image, dtype=np.float64)[None, None]
    out, _ = conv2d_forward(x, LAYER1, None, padding=1)
    return out[0]


def option_one(maps, filters=FILTERS_2D):
    """Every 2-D filter on every map separately (no summing over maps).

    Parameters
    ----------
    maps : ndarray, shape (C, H, W)
    filters : ndarray, shape (F, KH, KW)

    Returns
    -------
    out : ndarray, shape (C, F, H, W)
        ``out[c, f]`` is filter f on map c alone: C*F maps in all.

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
    """
    maps = np.asarray(maps, dtype=np.float64)
    filters = np.asarray(filters, dtype=np.float64)
    # treat each map as its own 1-channel image (a batch of C)
    out, _ = conv2d_forward(maps[:, None], filters[:, None], None,
                            padding=filters.shape[-1] // 2)
    return out


def option_two(maps, w=LAYER2, b=None):
    """An ordinary conv layer: each 3-D filter sums over all input maps.

    Parameters
    ----------
    maps : ndarray, shape (C, H, W)
    w : ndarray, shape (F, C, KH, KW)
    b : ndarray, shape (F,), optional

    Returns
    -------
    out : ndarray, shape (F, H, W)

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
    """
    x = np.asarray(maps, dtype=np.float64)[None]
    out, _ = conv2d_forward(x, np.asarray(w, dtype=np.float64), b,
                            padding=w.shape[-1] // 2)
    return out[0]


def render_channels(option="two", filter_index=0, image=None):
    """One layer-2 filter at work under option one or option two.

    Parameters
    ----------
    option : {'one', 'two'}
        'one': the 2-D filter ``FILTERS_2D[filter_index]`` on each of the 4
        maps separately; 'two': the (4, 3, 3) filter
        ``LAYER2[filter_index]``, one slice per map, slices' outputs summed.
    filter_index : int
        0..7.
    image : ndarray, shape (H, W), optional
        Default: `square_image()`.

    Returns
    -------
    fig : matplotlib Figure
        Row 1: image and its 4 layer-1 maps. Row 2: the filter slice used
        on each map. Row 3: each map's response, and (option two) their sum.
        Bottom: all 32 (option one) or 8 (option two) output maps.

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
    """
    if option not in ("one", "two"):
        raise ValueError(
            f"render_channels: option must be 'one' or 'two', got {option!r}")
    if not 0 <= filter_index < 8:
        raise ValueError(
            f"render_channels: filter_index must be 0..7, got {filter_index}")
    image = square_image() if image is None else np.asarray(image, float)
    maps = layer1_maps(image)
    if option == "one":
        slices = np.repeat(FILTERS_2D[filter_index][None], 4, axis=0)
        every = option_one(maps)  # (4, 8, H, W)
        name = f"2-D filter '{FILTERS_2D_NAMES[filter_index]}'"
        all_maps = every.reshape(-1, *maps.shape[1:])
        ncols, what = 8, "all 4 x 8 = 32 output maps (row = input map)"
    else:
        slices = LAYER2[filter_index]
        every = option_two(maps)  # (8, H, W)
        name = f"3-D filter '{LAYER2_NAMES[filter_index]}' (4, 3, 3)"
        all_maps, ncols, what = every, 8, "all 8 output maps"
    parts = np.stack([option_one(maps[c:c + 1], slices[c:c + 1])[0, 0]
                      for c in range(4)])

    row3 = parts if option == "one" else np.concatenate([parts,
                                                         parts.sum(0)[None]])
    h, w = maps.shape[1:]
    gap = max(2, w // 8)
    slot = w + gap  # one map and the gap after it
    scale = slot / 4  # a 3x3 slice and a one-cell gap fill one slot
    y1, y2 = 2.0, h + 6.0  # tops of rows 1 and 2 (room for labels)
    y3 = y2 + 3 * scale + 3.5
    # row 4: all output maps, as large as fits in 26 map cells of height
    # and the width left by the colour bar
    tiles = mosaic(all_maps, ncols=ncols, pad=1)
    width = 5 * slot - gap + 1.0
    # row labels (option one: which input map) need room on the left
    left = 9.0 if option == "one" else 0.0
    s4 = (width - 6 - left) / tiles.shape[1]
    lab = 2.4  # height of a line of small labels, in map cells
    y4 = y3 + h + 4.0 + 2 * lab
    x4 = left
    height = y4 + tiles.shape[0] * s4 + 0.5
    # everything on ONE axes, placed in data units (a cell of a map is one
    # unit), all text as outlines (cell_text): axes, ticks and Text artists
    # are what makes a figure slow to build and draw
    fig = Figure(figsize=(8.4, 8.4 * 0.98 * height / width + 0.1), dpi=DPI)
    top = fig.add_axes((0.01, 0.005, 0.98, 0.99))
    top.set_axis_off()
    place_image(top, image, 0, y1, cmap="gray")
    place_image(top, mosaic(maps, ncols=4, pad=gap), slot, y1,
           vmax=symmetric_limit(maps))
    place_values(top, slices, slot + w / 2 - 1.5 * scale, y2, scale)
    place_image(top, mosaic(row3, ncols=5, pad=gap), 0, y3,
           vmax=symmetric_limit(row3))
    what_slice = "slice for map" if option == "two" else "same filter on map"
    labels = (["input image"]
              + [f"map {c}: {n}" for c, n in enumerate(LAYER1_NAMES)]
              + [f"{what_slice} {c}" for c in range(4)]
              + [f"on map {c}" for c in range(4)]
              + ["sum = output map" if option == "two" else ""])
    xs = np.r_[np.arange(5) * slot, np.arange(1, 5) * slot, np.arange(5) * slot]
    ys = np.r_[np.full(5, y1), np.full(4, y2), np.full(5, y3)] - 0.4
    draw_cell_text(top, xs + (w - 1) / 2, ys, labels, fontsize=8, va="bottom")
    draw_cell_text(top, [(w - 1) / 2], [y2 + 1.5 * scale],
                   [f"filter {filter_index}:\n" + name.replace(" (", "\n(")],
                   fontsize=8)
    if option == "one":
        draw_cell_text(top, [4 * slot + (w - 1) / 2], [y3 + h / 2],
                       ["4 separate\noutput maps,\nnever added"])
    v = symmetric_limit(all_maps)
    cell = (h + 1) * s4  # one tile (map + pad) in data units
    place_image(top, tiles, x4, y4, s4, vmax=v)
    draw_cell_text(top, [x4 + tiles.shape[1] * s4 / 2], [y4 - 1.6 * lab],
                   [what + ", one colour scale (bar at right)"],
                   fontsize=9, va="bottom")
    cols = np.arange(ncols) * cell + x4 + (h - 1) * s4 / 2
    col_names = FILTERS_2D_NAMES if option == "one" else LAYER2_NAMES
    draw_cell_text(top, cols, np.full(ncols, y4 - 0.3),
                   [n.replace(", ", ",\n").replace(" + ", " +\n")
                    for n in col_names], fontsize=7, va="bottom")
    if option == "one":
        draw_cell_text(top, np.full(4, x4 - 0.8),
                       y4 + (np.arange(4) + 0.45) * cell,
                       [f"map {c}:\n{n}" for c, n in enumerate(LAYER1_NAMES)],
                       fontsize=7, ha="right")
    colour_bar(top, x4 + tiles.shape[1] * s4 + 2, y4, tiles.shape[0] * s4, v)
    top.set_xlim(-0.5, width - 0.5)
    top.set_ylim(height, 0.0)
    return fig


def explore_channels(image=None):
    """Live `render_channels`: option one or two, and which filter.

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
    """
    import ipywidgets as wd

    return explorer(
        lambda **v: render_channels(image=image, **v),
        {"option": wd.ToggleButtons(options=[("one: 2-D filters", "one"),
                                             ("two: 3-D filters", "two")],
                                    value="two"),
         "filter_index": wd.IntSlider(value=0, min=0, max=7,
                                      description="filter")},
        title="Layer 2 on 4 input maps: separately (one) or summed (two)")
