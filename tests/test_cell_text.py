"""Tests for cnnlib.plotting.cell_text (many labels drawn as one artist)."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.plotting.cell_text import CellText, draw_cell_text, draw_title

matplotlib.use("Agg")


def test_one_artist_holds_every_label_in_order():
    ax = Figure().add_subplot()
    ax.imshow(np.zeros((2, 3)))
    labels = draw_cell_text(ax, [0, 1, 2], [0, 0, 1], ["1", "-2", "0.5"],
                            color=["black", "white", "black"])
    assert isinstance(labels, CellText) and labels in ax.collections
    assert labels.get_texts() == ["1", "-2", "0.5"]
    assert len(labels.get_paths()) == 3 and not ax.texts
    assert np.array_equal(labels.get_offsets(), [[0, 0], [1, 0], [2, 1]])


@pytest.mark.parametrize("ha", ["left", "center", "right"])
@pytest.mark.parametrize("va", ["bottom", "center", "top"])
def test_alignment_puts_the_anchor_where_asked(ha, va):
    fig = Figure(dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    labels = draw_cell_text(ax, [5], [5], ["88"], fontsize=20, ha=ha, va=va)
    box = labels.get_window_extent()
    x, y = ax.transData.transform((5, 5))
    config = (ha, va, box)
    assert box.width > 10 and box.height > 10, config
    near = 2.0  # pixels: ink overshoot
    side = {"left": box.x0, "center": (box.x0 + box.x1) / 2, "right": box.x1}
    assert abs(side[ha] - x) < near, config
    rows = {"bottom": box.y0, "center": (box.y0 + box.y1) / 2, "top": box.y1}
    assert abs(rows[va] - y) < near, config


def test_lines_stack_and_blank_strings_are_allowed():
    ax = Figure().add_subplot()
    one = draw_cell_text(ax, [0.5], [0.5], ["a"], coords="axes")
    two = draw_cell_text(ax, [0.5], [0.5], ["a\nb\n"], coords="axes")
    empty = draw_cell_text(ax, [0.5], [0.5], [""], coords="axes")
    assert two.get_window_extent().height > 1.8 * one.get_window_extent().height
    assert empty.get_window_extent().width <= 0 or not np.isfinite(
        empty.get_window_extent().width)


def test_titles_and_figure_text_draw_and_count_in_tight_bbox():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    title = draw_title(ax, "a title")
    note = draw_cell_text(ax, [0.5], [0.0], ["a note"], coords="figure",
                          va="bottom")
    assert note in fig.artists and title in ax.collections
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight")
    assert out.getvalue()[:4] == b"\x89PNG"
    assert title.get_window_extent().y0 > ax.get_window_extent().y1


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="draw_cell_text: need one"):
        draw_cell_text(Figure().add_subplot(), [0, 1], [0, 1], ["a"])
