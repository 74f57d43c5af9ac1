"""Tests for cnnlib.widgets.convolution (step-through, arithmetic, editor)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.conv import correlate2d
from cnnlib.shapes import conv_output_size
from cnnlib.widgets.convolution import (
    PRESETS,
    STEP_INPUT,
    STEP_KERNEL,
    axis_coverage,
    explore_conv_arithmetic,
    explore_conv_step,
    explore_kernel_editor,
    format_kernel,
    parse_kernel,
    render_conv_arithmetic,
    render_conv_step,
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


# ------------------------------------------------------------ conv step


@pytest.mark.parametrize("step", range(9))
def test_conv_step_shows_the_right_sum(step):
    out = correlate2d(STEP_INPUT, STEP_KERNEL) + 1.0
    i, j = divmod(step, 3)
    fig = render_conv_step(step=step, b=1.0)
    assert isinstance(fig, Figure)
    line = fig.texts[0].get_text()
    assert line.startswith(f"out[{i}, {j}] =")
    assert line.endswith(f"= {out[i, j]:g}"), line
    # products panel holds window * kernel
    window = STEP_INPUT[i:i + 3, j:j + 3]
    shown = fig.axes[2].images[0].get_array()
    assert np.array_equal(np.asarray(shown), window * STEP_KERNEL)
    # output panel: filled up to this step, blank after
    filled = np.ma.getmaskarray(fig.axes[3].images[0].get_array())
    assert (~filled).sum() == step + 1


def test_conv_step_custom_input_and_bad_step():
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, size=(4, 6)).astype(float)
    w = rng.integers(-1, 2, size=(2, 3)).astype(float)
    fig = render_conv_step(step=5, x=x, w=w, b=-0.5)
    expected = correlate2d(x, w)[1, 1] - 0.5
    assert fig.texts[0].get_text().endswith(f"= {expected:g}")
    with pytest.raises(ValueError, match="render_conv_step: step must be 0..8"):
        render_conv_step(step=9)


# ------------------------------------------------------------ arithmetic


@pytest.mark.parametrize("seed", range(40))
def test_axis_coverage_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    size, kernel = int(rng.integers(1, 15)), int(rng.integers(1, 6))
    stride, padding = int(rng.integers(1, 5)), int(rng.integers(0, 4))
    dilation = int(rng.integers(1, 4))
    config = dict(size=size, kernel=kernel, stride=stride, padding=padding,
                  dilation=dilation)
    used, n_out, dropped = axis_coverage(**config)
    padded = size + 2 * padding
    span = dilation * (kernel - 1) + 1
    if span > padded:
        assert n_out == 0 and not used.any(), config
        return
    assert n_out == conv_output_size(size, kernel, stride, padding, dilation)
    brute = np.zeros(padded, dtype=bool)
    o = 0
    while o * stride + span <= padded:
        for t in range(kernel):
            brute[o * stride + t * dilation] = True
        o += 1
    assert o == n_out, config
    assert np.array_equal(used, brute), config
    # the floor drops exactly the positions after the last window
    last = np.flatnonzero(brute)[-1]
    assert dropped == padded - 1 - last, config


@pytest.mark.parametrize("seed", range(25))
def test_render_conv_arithmetic_never_raises(seed):
    rng = np.random.default_rng(100 + seed)
    config = dict(size=int(rng.integers(1, 17)), kernel=int(rng.integers(1, 8)),
                  stride=int(rng.integers(1, 5)),
                  padding=int(rng.integers(0, 4)),
                  dilation=int(rng.integers(1, 4)))
    fig = render_conv_arithmetic(**config)
    assert isinstance(fig, Figure), config
    text = all_text(fig)
    try:
        n = conv_output_size(config["size"], config["kernel"], config["stride"],
                             config["padding"], config["dilation"])
    except ValueError:
        assert "Impossible" in text, (config, text)
        return
    assert f"= {n}" in text and f"output {n}x{n}" in text, (config, text)


def test_render_conv_arithmetic_names_dropped_rows():
    fig = render_conv_arithmetic(size=8, kernel=3, stride=2, padding=0)
    text = all_text(fig)
    assert "remainder 1" in text and "[7]" in text, text
    fig = render_conv_arithmetic(size=7, kernel=3, stride=2, padding=0)
    assert "nothing is dropped" in all_text(fig)


def test_render_conv_arithmetic_impossible_is_a_message():
    fig = render_conv_arithmetic(size=3, kernel=5, stride=1, padding=0,
                                 dilation=1)
    assert "Impossible" in all_text(fig)
    assert not fig.axes


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
    fig = render_kernel_editor(preset="identity", values="1 0 -1 1 0 -1 1 0 -1",
                               positive_only=True, digit=digit, photo=photo)
    arrays = [np.asarray(ax.images[0].get_array()) for ax in fig.axes
              if ax.images and ax.get_label() != "<colorbar>"]
    expected = np.maximum(correlate2d(digit, PRESETS["vertical edge"]), 0)
    assert np.allclose(arrays[2], expected)
    assert (arrays[4] >= 0).all()
    assert "your kernel" in all_text(fig)
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


# ------------------------------------------------------------ explorers


def test_explorers_build_and_the_preset_fills_the_values(images):
    ipywidgets = pytest.importorskip("ipywidgets")
    for box in (explore_conv_step(), explore_conv_arithmetic()):
        assert isinstance(box, ipywidgets.VBox)
        assert "cnnlib-explorer" in box._dom_classes
    digit, photo = images
    box = explore_kernel_editor(digit=digit, photo=photo)
    controls = [c for row in box.children for c in getattr(row, "children", ())]
    dropdown = next(c for c in controls if isinstance(c, ipywidgets.Dropdown))
    text = next(c for c in controls if isinstance(c, ipywidgets.Textarea))
    dropdown.value = "Sobel x"
    assert np.array_equal(parse_kernel(text.value), PRESETS["Sobel x"])
    text.value = "1 2 oops"  # the explorer shows the message, no exception
    message = next(c for c in box.children
                   if "cnnlib-explorer-message" in c._dom_classes)
    assert "could not read" in message.value
