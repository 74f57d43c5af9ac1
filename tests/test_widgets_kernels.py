"""Tests for cnnlib.widgets.kernels (presets, typed kernels, the editor)."""

import matplotlib
import numpy as np
import pytest

from cnnlib.conv import correlate2d
from cnnlib.kernels import KERNELS as PRESETS
from cnnlib.widgets.kernels import (
    explore_kernel_editor,
    format_kernel,
    parse_kernel,
    render_kernel_editor,
)

matplotlib.use("Agg")


def all_text(fig):
    return "\n".join([t.get_text() for t in fig.texts]
                     + [t.get_text() for ax in fig.axes for t in ax.texts]
                     + [ax.get_title() for ax in fig.axes])


# ------------------------------------------------------------ parse_kernel


@pytest.mark.parametrize("text", ["1 0 -1\n2 0 -2\n1 0 -1",
                                  "1,0,-1,2,0,-2,1,0,-1",
                                  " 1, 0 ,-1;2 0 -2\t1 0 -1 ",
                                  "1.0 0 -1e0 2 0. -2 1 0 -1"])
def test_parse_kernel_accepts_spaces_commas_and_newlines(text):
    expected = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
    assert np.array_equal(parse_kernel(text), expected)


def test_parse_kernel_reads_fractions_and_other_square_sizes():
    k = parse_kernel("1/9 " * 9)
    assert k.shape == (3, 3) and np.allclose(k, 1 / 9)
    assert parse_kernel("2").shape == (1, 1)
    assert parse_kernel(" ".join(["1"] * 25)).shape == (5, 5)


@pytest.mark.parametrize("text, match", [
    ("1 2 3 4 5 6 7 8", "expected 9 numbers"),
    ("", "expected 9 numbers"),
    ("1 2 3 4 5 6 7 8 x", "could not read 'x'"),
    ("1 2 3 4 5 6 7 8 1/0", "'1/0' divides by zero"),
    ("1 2 3 4 5 6 7 8 nan", "'nan' is not a finite number"),
    ("1 2 3 4 5 6 7 8 inf", "'inf' is not a finite number"),
    ("__import__('os').getcwd()", "could not read"),
    ("2**3 1 1 1 1 1 1 1 1", "could not read '2\\*\\*3'"),
])
def test_parse_kernel_rejects_bad_text_with_a_message(text, match):
    with pytest.raises(ValueError, match="parse_kernel: " + match):
        parse_kernel(text)


def test_parse_kernel_needs_a_string():
    with pytest.raises(TypeError, match="parse_kernel: text must be a str"):
        parse_kernel([1, 2, 3])


@pytest.mark.parametrize("name", list(PRESETS))
def test_format_kernel_round_trips_every_preset(name):
    assert np.allclose(parse_kernel(format_kernel(PRESETS[name])), PRESETS[name])


def test_presets_sum_as_expected():
    for name in ("identity", "box blur", "Gaussian blur", "sharpen"):
        assert PRESETS[name].sum() == pytest.approx(1.0), name
    for name in ("vertical edge", "horizontal edge", "Sobel x", "Sobel y"):
        assert PRESETS[name].sum() == 0.0, name

# ------------------------------------------------------------ kernel editor


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    digit = np.zeros((12, 12))
    digit[3:9, 5:7] = 1.0
    return digit, rng.random((20, 16))


@pytest.mark.parametrize("preset", list(PRESETS))
def test_kernel_editor_applies_each_preset(preset, images):
    digit, photo = images
    fig = render_kernel_editor(preset=preset, digit=digit, photo=photo)
    # axes: kernel, digit, its colour bar..., response images in order
    arrays = [np.asarray(ax.images[0].get_array()) for ax in fig.axes
              if ax.images and ax.get_label() != "<colorbar>"]
    kernel, d_in, d_out, p_in, p_out = arrays
    assert np.allclose(kernel, PRESETS[preset])
    assert np.allclose(d_out, correlate2d(digit, PRESETS[preset]))
    assert np.allclose(p_out, correlate2d(photo, PRESETS[preset]))
    assert preset in all_text(fig)


def test_kernel_editor_typed_values_and_positive_part(images):
    digit, photo = images
    fig = render_kernel_editor(preset="identity", values="1 0 -1 1 0 -1 1 0 -2",
                               positive_only=True, digit=digit, photo=photo)
    arrays = [np.asarray(ax.images[0].get_array()) for ax in fig.axes
              if ax.images and ax.get_label() != "<colorbar>"]
    typed = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -2]], dtype=float)
    expected = np.maximum(correlate2d(digit, typed), 0)
    assert np.allclose(arrays[2], expected)
    assert (arrays[4] >= 0).all()
    assert "kernel: custom" in all_text(fig)
    for ax in fig.axes:  # responses zero-centred
        if (ax.images and ax.get_label() != "<colorbar>"
                and ax.images[0].cmap.name == "RdBu_r"):
            lo, hi = ax.images[0].get_clim()
            assert lo == -hi


def test_kernel_editor_bad_values_raise_value_error(images):
    digit, photo = images
    with pytest.raises(ValueError, match="parse_kernel"):
        render_kernel_editor(values="1 2 three", digit=digit, photo=photo)
    with pytest.raises(ValueError, match="render_kernel_editor: preset"):
        render_kernel_editor(preset="nope", digit=digit, photo=photo)


def test_kernel_editor_default_images_are_real_data():
    fig = render_kernel_editor(preset="Sobel y")
    titles = all_text(fig)
    assert "digit 28x28" in titles and "response 26x26" in titles
    assert "photo 200x170" in titles

# ------------------------------------------------------------ explorer


def _editor_parts(box):
    import ipywidgets

    controls = [c for row in box.children for c in getattr(row, "children", ())]
    dropdown = next(c for c in controls if isinstance(c, ipywidgets.Dropdown))
    text = next(c for c in controls if isinstance(c, ipywidgets.Text))
    button = next(c for c in controls if isinstance(c, ipywidgets.Button))
    message = next(c for c in box.children
                   if "cnnlib-explorer-message" in c._dom_classes)
    figure = box.children[-1]
    return dropdown, text, button, message, figure


def test_explorer_builds_and_the_preset_fills_the_values(images):
    pytest.importorskip("ipywidgets")
    box = explore_kernel_editor(digit=images[0], photo=images[1])
    assert "cnnlib-explorer" in box._dom_classes
    dropdown, text, button, message, _ = _editor_parts(box)
    dropdown.value = "Sobel x"
    assert np.array_equal(parse_kernel(text.value), PRESETS["Sobel x"])
    assert ";" in text.value and "\n" not in text.value  # one line: Enter applies


def test_typing_shows_custom_and_applies_only_on_enter_or_apply(images):
    pytest.importorskip("ipywidgets")
    box = explore_kernel_editor(digit=images[0], photo=images[1])
    dropdown, text, button, message, figure = _editor_parts(box)
    applied = box.children[1].children  # preset, text, Apply, checkbox
    text.value = "1 2 3; 4 5 6; 7 8 9"
    assert dropdown.value == "custom"
    text.value = "-1 0 1; -2 0 2; -1 0 1"  # typed, equal to a named kernel
    assert dropdown.value == "Sobel x"
    text.value = "1 2 oops"
    assert dropdown.value == "custom" and message.value == ""  # not applied
    text._handle_msg({"content": {"data": {"method": "custom",
                                            "content": {"event": "submit"}}},
                      "buffers": []})
    assert "could not read" in message.value  # Enter applied it
    text.value = "0 0 0; 0 2 0; 0 0 0"
    button.click()
    assert message.value == ""
    assert len(applied) == 4


def test_an_impossible_setting_gives_a_message_and_no_figure(images):
    from cnnlib.widgets.base import render_frame

    png, error = render_frame(render_kernel_editor,
                              {"values": "1 2 oops", "digit": images[0],
                               "photo": images[1]})
    assert png is None and "could not read 'oops'" in error
    png, error = render_frame(render_kernel_editor,
                              {"values": "1 2 3 4 5 6 7 8 9",
                               "digit": images[0], "photo": images[1]})
    assert error is None and png.startswith(b"\x89PNG")


def test_render_never_opens_pyplot_figures(images):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_kernel_editor(digit=images[0], photo=images[1])
    assert plt.get_fignums() == before
