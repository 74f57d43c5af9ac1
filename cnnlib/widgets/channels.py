"""Explorer: how a second conv layer combines the feature maps of the first.

Layer 1 has 4 filters, so it makes 4 maps; layer 2 has 8 filters. Two ways
to apply layer 2:

- option one: every 2-D filter on every map separately, 4 x 8 = 32 maps
  that never combine information from different maps;
- option two (what CNNs do): 8 filters of shape (4, 3, 3), each spanning all
  4 input maps and summing over them, giving 8 maps that mix all inputs.

A vertical-edge map and a horizontal-edge map added together peak where
both edges meet: with a bias and a ReLU, a corner detector. Option one's
maps each read one map, so none can ask "a vertical edge AND a horizontal
edge here". The kernels are the named ones of `cnnlib.kernels`.

Taught in notebooks/03_channels_and_feature_maps.ipynb.
"""

import numpy as np
from matplotlib.figure import Figure

from ..conv import conv2d_forward
from ..kernels import get_kernel
from ..plotting import mosaic, symmetric_limit
from ..plotting.cell_text import draw_cell_text
from .base import DPI, explorer
from .canvas import place_image, place_values

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

_CENTRE = get_kernel("identity")

# Layer 1: 4 named filters on a 1-channel image, shape (F=4, C=1, 3, 3).
# (Not "diagonal edge": on a bright square it peaks at the top-left corner
# by itself, which would blur the point of option two.)
LAYER1_NAMES = ("vertical edge", "horizontal edge", "sharpen", "box blur")
LAYER1 = np.stack([get_kernel(n) for n in LAYER1_NAMES])[:, None]


def _layer2():
    """8 filters of shape (4, 3, 3): four hand-made, four random."""
    w = np.zeros((8, 4, 3, 3))
    # "vertical edge AND horizontal edge": the centre of map 0 plus the
    # centre of map 1. On a bright square each map alone is 3 along its
    # whole edge and only 2 at the corner; the sum is 3 along the edges and
    # 4 at the top-left corner only, so a bias of -3 and a ReLU keep just
    # the corner (CORNER_BIAS, applied in the notebook: ReLU is taught in 04).
    w[0, 0], w[0, 1] = _CENTRE, _CENTRE
    # "an edge starts here": on the vertical-edge map, edge below minus
    # edge above; on the horizontal-edge map, edge to the right minus edge
    # to the left.
    down = np.array([[0, -1, 0], [0, 0, 0], [0, 1, 0]], dtype=np.float64)
    w[1, 0], w[1, 1] = down, down.T
    w[2, 0], w[2, 1] = down, -down.T
    w[3, 0] = _CENTRE                    # one map only: option one inside two
    # filters 4-7: random weights, as every filter of an untrained layer
    rng = np.random.default_rng(3)
    w[4:] = np.round(rng.normal(size=(4, 4, 3, 3)), 1) / 3
    return w


LAYER2 = _layer2()
LAYER2_NAMES = ("corner (V + H)", "edge ends", "edge ends, other sign",
                "copy of map 0", "random 1", "random 2", "random 3",
                "random 4")
# Bias that turns filter 0 into a top-left corner detector (after a ReLU).
CORNER_BIAS = -3.0

# Option one's 2-D filters (8, 3, 3): one 2-D kernel each, no channel axis.
FILTERS_2D_NAMES = ("identity", "box blur", "vertical edge", "horizontal edge",
                    "sharpen", "-vertical edge", "-horizontal edge", "random")
FILTERS_2D = np.stack(
    [get_kernel(n.lstrip("-")) * (-1 if n.startswith("-") else 1)
     for n in FILTERS_2D_NAMES[:-1]]
    + [np.round(np.random.default_rng(5).normal(size=(3, 3)), 1)])


def square_image(size=16, lo=4, hi=11):
    """A bright square on a dark ground: four edges and four corners.

    Returns
    -------
    image : ndarray, shape (size, size), float64
        1.0 inside rows and columns ``lo..hi`` (inclusive), else 0.
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
        Bottom: all 32 (option one) or 8 (option two) output maps, each on
        its own colour scale (its largest |value| written under it), so a
        weak map is not washed out by a strong one. Both options give a
        figure of the same size: switching does not move the page.
    """
    if option not in ("one", "two"):
        raise ValueError(
            f"render_channels: option must be 'one' or 'two', got {option!r}")
    if not 0 <= filter_index < 8:
        raise ValueError(
            f"render_channels: filter_index must be 0..7, got {filter_index}")
    image = square_image() if image is None else np.asarray(image, float)
    d = _channel_data(option, filter_index, image)
    lay = _channel_layout(*d["maps"].shape[1:])
    # everything on ONE axes, placed in data units (a cell of a map is one
    # unit), all text as outlines (cell_text): axes, ticks and Text artists
    # are what makes a figure slow to build and draw
    # a whole number of pixels: "<Figure size 600x839 ...>" is what nbval's
    # sanitizer recognises
    fig = Figure(figsize=(6.0, round(6.0 * lay["height"] / lay["width"], 2)),
                 dpi=DPI)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    _draw_layer_one(ax, image, d, lay, option, filter_index)
    _draw_all_outputs(ax, d, lay, option)
    ax.set_xlim(-0.5, lay["width"] - 0.5)
    ax.set_ylim(lay["height"], 0.0)
    return fig


def _channel_data(option, filter_index, image):
    """The arrays `render_channels` shows, as a dict."""
    maps = layer1_maps(image)
    if option == "one":
        slices = np.repeat(FILTERS_2D[filter_index][None], 4, axis=0)
        all_maps = option_one(maps).reshape(-1, *maps.shape[1:])  # 32
        name = f"2-D filter\n'{FILTERS_2D_NAMES[filter_index]}'"
    else:
        slices = LAYER2[filter_index]
        all_maps = option_two(maps)  # 8
        name = ("3-D filter (4, 3, 3)\n"
                + LAYER2_NAMES[filter_index].replace(" (", "\n("))
    parts = np.stack([option_one(maps[c:c + 1], slices[c:c + 1])[0, 0]
                      for c in range(4)])
    row3 = parts if option == "one" else np.concatenate([parts,
                                                         parts.sum(0)[None]])
    return {"maps": maps, "slices": slices, "all_maps": all_maps,
            "row3": row3, "name": name}


def _channel_layout(h, w):
    """Positions (data units) of every row; the same for both options."""
    gap = max(2, w // 8)
    slot = w + gap  # one map and the gap after it
    width = 5 * slot - gap + 1.0
    scale = slot / 4  # a 3x3 slice and a one-cell gap fill one slot
    y1 = 4.0  # room for two lines of labels above each row
    y2 = y1 + h + 6.5
    y3 = y2 + 3 * scale + 5.0
    left = 11.0  # room for the row labels of option one
    pitch = (width - left) / 8  # one tile of the bottom rows and its gap
    s4 = 0.85 * pitch / w  # data units per map cell in the bottom rows
    y4 = y3 + h + 15.0  # below row 3, its labels, the heading, the names
    row_pitch = h * s4 + 3.2  # a tile and the line under it
    height = y4 + 4 * row_pitch + 2.5
    return dict(h=h, w=w, gap=gap, slot=slot, scale=scale, y1=y1, y2=y2,
                y3=y3, y4=y4, left=left, pitch=pitch, s4=s4,
                row_pitch=row_pitch, width=width, height=height)


def _draw_layer_one(ax, image, d, lay, option, filter_index):
    """Rows 1-3: the image and its 4 maps, the slices, each map's response."""
    h, w, slot, scale = lay["h"], lay["w"], lay["slot"], lay["scale"]
    y1, y2, y3 = lay["y1"], lay["y2"], lay["y3"]
    maps, row3 = d["maps"], d["row3"]
    place_image(ax, image, 0, y1, cmap="gray")
    place_image(ax, mosaic(maps, ncols=4, pad=lay["gap"]), slot, y1,
                vmax=symmetric_limit(maps))
    place_values(ax, d["slices"], slot + w / 2 - 1.5 * scale, y2, scale,
                 fontsize=8)
    place_image(ax, mosaic(row3, ncols=5, pad=lay["gap"]), 0, y3,
                vmax=symmetric_limit(row3))
    what_slice = "slice for\nmap" if option == "two" else "same filter\non map"
    labels = (["input image"]
              + [f"map {c}:\n{n}" for c, n in enumerate(LAYER1_NAMES)]
              + [f"{what_slice} {c}" for c in range(4)]
              + [f"on map {c}" for c in range(4)]
              + ["sum = output map" if option == "two" else ""])
    xs = np.r_[np.arange(5) * slot, np.arange(1, 5) * slot, np.arange(5) * slot]
    ys = np.r_[np.full(5, y1), np.full(4, y2), np.full(5, y3)] - 0.4
    draw_cell_text(ax, xs + (w - 1) / 2, ys, labels, fontsize=8, va="bottom")
    draw_cell_text(ax, [(w - 1) / 2], [y2 + 1.5 * scale],
                   [f"filter {filter_index}:\n" + d["name"]], fontsize=8)
    if option == "one":
        draw_cell_text(ax, [4 * slot + (w - 1) / 2], [y3 + h / 2],
                       ["4 separate\noutput maps,\nnever added"], fontsize=8)


def _draw_all_outputs(ax, d, lay, option):
    """Bottom: every output map, each on its own colour scale."""
    all_maps = d["all_maps"]
    ncols = 8
    h, s4, pitch = lay["h"], lay["s4"], lay["pitch"]
    peaks = np.array([symmetric_limit(m) for m in all_maps])
    rows, cols = np.divmod(np.arange(len(all_maps)), ncols)
    xs = lay["left"] + cols * pitch
    ys = lay["y4"] + rows * lay["row_pitch"]
    # one image per tile would be slow: scale each map to -1..1 and draw
    # them all as one mosaic-like image with NaN gaps
    tile = int(round(pitch / s4))
    line = int(round(lay["row_pitch"] / s4))
    canvas = np.full((rows.max() * line + h, ncols * tile), np.nan)
    for m, r, c, p in zip(all_maps, rows, cols, peaks):
        canvas[r * line:r * line + h, c * tile:c * tile + h] = m / p
    place_image(ax, canvas, lay["left"], lay["y4"], s4, vmax=1.0)
    centre = (h - 1) * s4 / 2
    draw_cell_text(ax, xs + centre, ys + h * s4 + 0.4,
                   [f"max {p:.2g}" for p in peaks], fontsize=7.5, va="top")
    names = FILTERS_2D_NAMES if option == "one" else LAYER2_NAMES
    draw_cell_text(ax, lay["left"] + np.arange(ncols) * pitch + centre,
                   np.full(ncols, lay["y4"] - 0.4),
                   [n.replace(" (", "\n(").replace("l edge", "l\nedge")
                    .replace(", ", ",\n").replace(" of ", " of\n")
                    for n in names],
                   fontsize=7.5, va="bottom")
    what = ("all 4 x 8 = 32 output maps (row = input map)" if option == "one"
            else "all 8 output maps, each summed over the 4 input maps")
    draw_cell_text(ax, [lay["width"] / 2], [lay["y4"] - 8.5],
                   [what + ";\neach on its own colour scale (red +, blue -)"],
                   fontsize=8.5, va="bottom")
    if option == "one":
        draw_cell_text(ax, np.full(4, lay["left"] - 0.8),
                       lay["y4"] + (np.arange(4) * lay["row_pitch"]
                                    + h * s4 / 2),
                       [f"map {c}:\n" + n.replace(" ", "\n", 1)
                        for c, n in enumerate(LAYER1_NAMES)],
                       fontsize=7.5, ha="right")
    else:
        draw_cell_text(ax, [lay["left"]], [lay["y4"] + 1.6 * lay["row_pitch"]],
                       ["Filters 0-3 are made by hand (see the notebook);\n"
                        "random 1-4 have random weights, as every\nfilter "
                        "of a layer has before training."],
                       fontsize=8, ha="left")


def explore_channels(image=None):
    """Live `render_channels`: option one or two, and which filter."""
    import ipywidgets as wd

    return explorer(
        lambda **v: render_channels(image=image, **v),
        {"option": wd.ToggleButtons(options=[("one: 2-D filters", "one"),
                                             ("two: 3-D filters", "two")],
                                    value="two", description="option",
                                    tooltip="option: filters applied to "
                                            "each map alone (one) or "
                                            "summed over maps (two)",
                                    style={"button_width": "auto"},
                                    layout={"width": "auto"}),
         "filter_index": wd.IntSlider(value=0, min=0, max=7,
                                      description="filter",
                                      tooltip="filter: which layer-2 filter "
                                              "is shown in rows 2 and 3")},
        title="Layer 2 on 4 input maps: separately (one) or summed (two)")
