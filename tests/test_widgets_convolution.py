"""Tests for cnnlib.widgets.convolution (step-through, arithmetic)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.conv import correlate2d
from cnnlib.plotting.cell_text import CellText
from cnnlib.shapes import conv_output_size
from cnnlib.widgets.convolution import (
    STEP_INPUT,
    STEP_KERNEL,
    axis_coverage,
    explore_conv_arithmetic,
    explore_conv_step,
    render_conv_arithmetic,
    render_conv_step,
)

matplotlib.use("Agg")


def drawn_texts(fig):
    """Strings of the figure-level cell_text collections, in order."""
    return [t for a in fig.artists if isinstance(a, CellText)
            for t in a.get_texts()]


def all_text(fig):
    parts = [t.get_text() for t in fig.texts] + drawn_texts(fig)
    for ax in fig.axes:
        parts += [t.get_text() for t in ax.texts] + [ax.get_title()]
        parts += [t for c in ax.collections if isinstance(c, CellText)
                  for t in c.get_texts()]
    return "\n".join(parts)

# ------------------------------------------------------------ conv step


@pytest.mark.parametrize("step", range(9))
def test_conv_step_shows_the_right_sum(step):
    out = correlate2d(STEP_INPUT, STEP_KERNEL) + 1.0
    i, j = divmod(step, 3)
    fig = render_conv_step(step=step, b=1.0)
    assert isinstance(fig, Figure)
    line = drawn_texts(fig)[0]
    assert line.startswith(f"out[{i}, {j}] =")
    assert line.endswith(f"= {out[i, j]:g}"), line
    assert f"window at ({i}, {j})" in all_text(fig)
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
    assert drawn_texts(fig)[0].endswith(f"= {expected:g}")
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
    assert "the floor drops nothing" in all_text(fig)
    # dilation leaves rows between taps: skipped, not dropped
    text = all_text(render_conv_arithmetic(size=9, kernel=3, stride=3,
                                           padding=1, dilation=2))
    assert "drops nothing" in text and "skipped between taps" in text, text
    assert "dropped by the floor" not in text, text


def test_render_conv_arithmetic_impossible_is_a_message():
    fig = render_conv_arithmetic(size=3, kernel=5, stride=1, padding=0,
                                 dilation=1)
    assert "Impossible" in all_text(fig)
    assert not fig.axes

# ------------------------------------------------------------ explorers


def test_explorers_build():
    ipywidgets = pytest.importorskip("ipywidgets")
    for box in (explore_conv_step(), explore_conv_arithmetic()):
        assert isinstance(box, ipywidgets.VBox)
        assert "cnnlib-explorer" in box._dom_classes


def test_renders_never_open_pyplot_figures():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_conv_step(step=2)
    render_conv_arithmetic(size=6, kernel=3, stride=2, padding=1)
    render_conv_arithmetic(size=2, kernel=5)
    assert plt.get_fignums() == before
