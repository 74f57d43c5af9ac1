"""Many short labels (the numbers in grid cells) drawn as ONE artist.

Matplotlib lays out and rasterises every `Text` separately, about half a
millisecond each: a 5x5 grid of numbers costs more than the rest of its
figure. Here each distinct string becomes a vector outline once (cached),
and all labels of a grid go into one `PathCollection`, drawn in a single
call. They look the same as ordinary text and stay sharp at any dpi.

A helper of the number grids (`cnnlib.plotting.value_grids`), not taught
on its own.
"""

from functools import lru_cache

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D, Bbox

__all__ = ["CellText", "draw_cell_text", "draw_title"]

_SHIFT_X = {"center": 0.5, "left": 0.0, "right": 1.0}


@lru_cache(maxsize=2048)
def _outline(text, size, ha, va, family):
    """Outline of ``text`` in points, placed so (0, 0) is its anchor.

    Lines split at "\\n" are stacked 1.25 font sizes apart, each aligned
    by ``ha``.
    """
    prop = FontProperties(family=family, size=size)
    # vertical placement from the digit height, not this string's ink, so
    # "-" and "8" in one row share a baseline
    digit = TextPath((0, 0), "0", size=size, prop=prop).get_extents()
    lines = text.split("\n")
    step = 1.25 * size
    block = digit.y1 + (len(lines) - 1) * step  # first top to last baseline
    dy = {"center": block / 2, "bottom": 0.0, "top": block}[va]
    verts, codes = [], []
    for k, line in enumerate(lines):
        if not line.strip():  # blank: no ink (and TextPath fails on "")
            continue
        path = TextPath((0, 0), line, size=size, prop=prop)
        ink = path.get_extents()
        # left: from the pen's start, so leading spaces indent
        dx = 0.0 if ha == "left" else ink.x0 + _SHIFT_X[ha] * (ink.x1 - ink.x0)
        base = (len(lines) - 1 - k) * step
        verts.append(path.vertices - (dx, dy - base))
        codes.append(path.codes)
    if not verts:
        return Path(np.zeros((0, 2)))
    return Path(np.concatenate(verts), np.concatenate(codes))


class CellText(PathCollection):
    """A `PathCollection` of labels that remembers their strings.

    ``get_texts()`` returns the strings in drawing order (tests and readers
    can check what a grid shows, as with ``ax.texts``).
    """

    def __init__(self, texts, *args, fontsize=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._texts = list(texts)
        self.fontsize = fontsize  # points, for checks of readable sizes

    def get_texts(self):
        return list(self._texts)

    def get_window_extent(self, renderer=None):
        # the inherited extent ignores outlines sized in points
        where = self.get_offset_transform().transform(self.get_offsets())
        size = self.get_transform()
        boxes = [path.get_extents(size).translated(x, y)
                 for path, (x, y) in zip(self.get_paths(), where)
                 if len(path.vertices)]
        return Bbox.union(boxes) if boxes else Bbox.null()


def draw_cell_text(ax, x, y, texts, color="black", fontsize=9, ha="center",
                   va="center", family=None, clip=True, in_layout=None,
                   coords="data", offset=(0, 0)):
    """Write ``texts[k]`` at data point ``(x[k], y[k])`` of ``ax``, as one artist.

    Parameters
    ----------
    ax : matplotlib Axes
    x, y : array_like, shape (M,)
        Anchor points, in ``coords``.
    texts : sequence of str, length M
        Line breaks ("\\n") are kept.
    color : colour or sequence of M colours
    fontsize : float
        In points, as for `Axes.text`.
    ha : {'center', 'left', 'right'}
    va : {'center', 'bottom', 'top'}
    family : str, optional
        Font family (default: rcParams["font.family"]).
    clip : bool
        Clip to the axes (False for labels outside it).
    in_layout : bool, optional
        Count the labels in ``bbox_inches='tight'`` (default: when they may
        lie outside the axes, i.e. ``clip`` is False or ``coords`` is
        'figure').
    coords : {'data', 'axes', 'figure'}
        What ``x, y`` are measured in: data, or fractions of the axes or
        of the figure (as for titles).
    offset : (float, float)
        Shift of every label, in points (e.g. a title's gap above the axes).

    Returns
    -------
    labels : CellText
    """
    import matplotlib

    texts = [str(t) for t in texts]
    xy = np.column_stack([np.ravel(x), np.ravel(y)]).astype(np.float64)
    if len(xy) != len(texts):
        raise ValueError(
            f"draw_cell_text: need one (x, y) per text, got {len(xy)} points "
            f"and {len(texts)} texts")
    family = family or tuple(matplotlib.rcParams["font.family"])
    if isinstance(family, list):
        family = tuple(family)
    paths = [_outline(t, float(fontsize), ha, va, family) for t in texts]
    colors = color if isinstance(color, str) else list(color)
    fig = ax.figure
    where = {"data": ax.transData, "axes": ax.transAxes,
             "figure": fig.transFigure}[coords]
    labels = CellText(texts, paths, fontsize=float(fontsize),
                      offsets=xy, offset_transform=where,
                      facecolors=colors, edgecolors="none", linewidths=0)
    # outlines are in points: points -> inches -> pixels at the figure's dpi
    labels.set_transform(Affine2D().translate(*offset).scale(1 / 72)
                         + fig.dpi_scale_trans)
    if coords == "figure":
        clip = False
    if in_layout is None:
        in_layout = not clip
    labels.set_clip_on(clip)
    labels.set_in_layout(in_layout)
    labels.set_zorder(3)
    if coords == "figure":
        fig.add_artist(labels)
    else:
        ax.add_collection(labels, autolim=False)
    return labels


def draw_title(ax, text, fontsize=9):
    """A title above ``ax`` drawn as outlines (see `draw_cell_text`).

    Looks like ``ax.set_title(text, fontsize=fontsize)`` at a fraction of
    its drawing time; ``ax.get_title()`` stays empty.

    Returns
    -------
    title : CellText
    """
    return draw_cell_text(ax, [0.5], [1.0], [text], fontsize=fontsize,
                          va="bottom", clip=False, in_layout=True,
                          coords="axes", offset=(0, 6))
