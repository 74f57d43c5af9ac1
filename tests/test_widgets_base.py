"""What every explorer keeps (cnnlib.widgets.base): readable text, figures
that fit a laptop's notebook column, controls that name what they change,
slider ranges that follow the state, no hue-only encodings."""

import matplotlib
import numpy as np
import pytest

from cnnlib.plotting.cell_text import CellText
from cnnlib.widgets import (
    backprop,
    channels,
    connectivity,
    convolution,
    demo,
    kernels,
    nonlinearity,
    pooling,
    prediction,
    upsampling,
)
from cnnlib.widgets.base import DPI, render_frame, smallest_font_px

matplotlib.use("Agg")

DIGIT = np.zeros((28, 28))
DIGIT[6:22, 12:16] = 1.0
DIGIT[6:9, 8:20] = 1.0


class _Uniform:
    """A stand-in model: equal probabilities for ten classes."""

    def predict_proba(self, x):
        return np.full((len(x), 10), 0.1)


IMAGES = np.stack([DIGIT[None]] * 3)
X8 = np.arange(64, dtype=float).reshape(8, 8) % 7

RENDERS = {
    "wave": lambda: demo.render_wave(3, 9),
    "connectivity": lambda: connectivity.render_connectivity(1, 2, 3, 6),
    "conv step": lambda: convolution.render_conv_step(4),
    "conv arithmetic": lambda: convolution.render_conv_arithmetic(9, 3, 3, 1,
                                                                  2),
    "conv arithmetic, impossible": lambda: convolution.render_conv_arithmetic(
        2, 7, 1, 0, 1),
    "kernel editor": lambda: kernels.render_kernel_editor(
        "Sobel x", digit=DIGIT, photo=DIGIT),
    "channels one": lambda: channels.render_channels("one", 2),
    "channels two": lambda: channels.render_channels("two", 0),
    "collapse": lambda: nonlinearity.render_collapse(DIGIT, relu=True),
    "activation": lambda: nonlinearity.render_activation(DIGIT,
                                                         activation="tanh"),
    "pooling": lambda: pooling.render_pooling(DIGIT),
    "receptive field": lambda: pooling.render_receptive_field(
        DIGIT, [("conv", 3, 1), ("pool", 2, 2)]),
    "backprop pool": lambda: backprop.render_backprop_route(X8, "avg pool",
                                                            1, 2),
    "backprop conv": lambda: backprop.render_backprop_route(X8, "conv", 1, 2,
                                                            3, 1),
    "prediction": lambda: prediction.render_digit_prediction(
        _Uniform(), IMAGES, np.array([1, 7, 4]), index=1),
    "transpose arithmetic": lambda: upsampling.render_transpose_arithmetic(
        4, 4, 3, 1, 1, 2, 2, 2),
    "transpose arithmetic, large": lambda: (
        upsampling.render_transpose_arithmetic(8, 5, 3, dilation=3)),
    "latent": lambda: upsampling.render_latent(
        lambda c: np.tile(DIGIT, (len(c), 1, 1, 1)), np.eye(3), IMAGES),
}


@pytest.mark.parametrize("name", list(RENDERS))
def test_figure_text_is_at_least_10_px(name):
    fig = RENDERS[name]()
    fig.canvas.draw()  # tick labels exist only after a draw
    assert fig.dpi == DPI, name
    assert smallest_font_px(fig) >= 10.0, (name, smallest_font_px(fig))


@pytest.mark.parametrize("name", list(RENDERS))
def test_figure_fits_a_laptop_notebook_column(name):
    # 1024 px screen, file browser open: the output column is ~590 px wide
    # (tests/ui measures it); a wider PNG is scaled down, its text with it
    width_px = RENDERS[name]().get_size_inches()[0] * DPI
    assert width_px <= 600, (name, width_px)


def test_smallest_font_px_sees_outlined_text():
    from matplotlib.figure import Figure

    from cnnlib.plotting.cell_text import draw_cell_text

    fig = Figure(dpi=100)
    ax = fig.add_subplot()
    ax.set_xticks([])
    ax.set_yticks([])
    draw_cell_text(ax, [0.5], [0.5], ["7"], fontsize=6)
    assert smallest_font_px(fig) == pytest.approx(6 * 100 / 72)


def test_channels_options_have_the_same_size():
    # switching one/two must not make the page jump
    sizes = {tuple(channels.render_channels(o, 3).get_size_inches())
             for o in ("one", "two")}
    assert len(sizes) == 1


def test_channels_maps_each_on_their_own_scale():
    fig = channels.render_channels("two", 0)
    texts = [t for c in fig.axes[0].collections if isinstance(c, CellText)
             for t in c.get_texts()]
    peaks = [t for t in texts if t.startswith("max ")]
    assert len(peaks) == 8
    assert any("random weights" in t for t in texts)


def test_conv_arithmetic_marks_categories_by_hatch_and_label():
    # 8 wide, k=2, stride 3, dilation 2: taps 0,2 and 3,5; 1 and 4 are
    # skipped, 6 and 7 dropped
    fig = convolution.render_conv_arithmetic(8, 2, 3, 0, 2)
    ax = fig.axes[0]
    hatches = {c.get_hatch() for c in ax.collections if c.get_hatch()}
    assert hatches == {"///", "xxx"}  # skipped and dropped cells
    assert {t.get_text() for t in ax.texts} == {"first", "last"}
    note = [t for c in fig.artists if isinstance(c, CellText)
            for t in c.get_texts()]
    assert any("(red, xxx)" in t and "(orange, ///)" in t for t in note)


def test_render_frame_turns_value_errors_into_messages():
    png, err = render_frame(convolution.render_conv_step, {"step": 99})
    assert png is None and err.startswith("render_conv_step: step must be")
    png, err = render_frame(convolution.render_conv_step, {"step": 1})
    assert err is None and png.startswith(b"\x89PNG")


# ------------------------------------------------------------ controls

EXPLORERS = {
    "wave": demo.explore_wave,
    "connectivity": connectivity.explore_connectivity,
    "conv step": convolution.explore_conv_step,
    "conv arithmetic": convolution.explore_conv_arithmetic,
    "kernel editor": lambda: kernels.explore_kernel_editor(DIGIT, DIGIT),
    "channels": channels.explore_channels,
    "collapse": lambda: nonlinearity.explore_collapse(DIGIT),
    "activation": lambda: nonlinearity.explore_activation(DIGIT),
    "pooling": lambda: pooling.explore_pooling(DIGIT),
    "receptive field": lambda: pooling.explore_receptive_field(DIGIT),
    "backprop": lambda: backprop.explore_backprop_route(X8),
    "prediction": lambda: prediction.explore_digit_prediction(
        _Uniform(), IMAGES, np.array([1, 7, 4])),
}


def controls_of(box):
    import ipywidgets as w

    return [c for row in box.children if isinstance(row, w.HBox)
            for c in row.children if c.layout.display != "none"]


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_every_control_names_what_it_changes(name):
    pytest.importorskip("ipywidgets")
    controls = controls_of(EXPLORERS[name]())
    assert controls, name
    for c in controls:
        # the tooltip becomes the accessible name (see base._A11Y_JS)
        assert c.tooltip and len(c.tooltip) > 3, (name, c)
        assert c.layout.flex == "0 0 auto", (name, c)  # never squeezed


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_slider_tracks_get_at_least_150_px(name):
    import ipywidgets as w

    for c in controls_of(EXPLORERS[name]()):
        if isinstance(c, (w.IntSlider, w.FloatSlider)):
            width = int(c.layout.width.removesuffix("px"))
            label = 7.5 * len(c.description) + 15  # ~13 px font
            assert width - label - 60 >= 150, (name, c.description, width)


def _slider(box, description):
    return next(c for c in controls_of(box)
                if getattr(c, "description", None) == description)


def test_connectivity_unit_range_follows_the_kernel():
    pytest.importorskip("ipywidgets")
    box = connectivity.explore_connectivity(size=6)
    row, col, kernel = (_slider(box, d) for d in ("unit row", "unit col",
                                                   "kernel"))
    assert row.max == col.max == 3  # 4x4 output: 0..3, no dead values
    kernel.value = 5
    assert row.max == col.max == 1
    kernel.value = 1
    assert row.max == col.max == 5


def test_backprop_out_cell_range_follows_window_and_stride():
    pytest.importorskip("ipywidgets")
    box = backprop.explore_backprop_route(X8)
    row, col = _slider(box, "out row"), _slider(box, "out col")
    assert row.max == col.max == 3  # 8x8, window 2, stride 2 -> 4x4
    _slider(box, "stride").value = 1
    assert row.max == 6
    _slider(box, "window").value = 4
    assert row.max == col.max == 4
    _slider(box, "stride").value = 3
    assert row.max == col.max == 1  # (8 - 4) // 3 + 1 = 2 cells


def test_receptive_field_none_disables_its_sliders():
    pytest.importorskip("ipywidgets")
    box = pooling.explore_receptive_field(DIGIT)
    rows = [r for r in box.children if hasattr(r, "children")
            and len(r.children) == 3]
    kind, k, s = rows[1].children
    kind.value = "none"
    assert k.disabled and s.disabled
    kind.value = "pool"
    assert not k.disabled and not s.disabled


@pytest.mark.parametrize("name", list(RENDERS))
def test_figure_repr_is_what_nbval_sanitizes(name):
    # nbval_sanitize.cfg replaces "<Figure size WxH with N Axes>" only for
    # whole-pixel sizes; a fractional height would make nbval fail
    import re

    fig = RENDERS[name]()
    assert re.fullmatch(r"<Figure size \d+x\d+ with \d+ Axes>", repr(fig)), (
        name, repr(fig))
