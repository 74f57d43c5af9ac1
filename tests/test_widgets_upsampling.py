"""Tests for cnnlib.widgets.upsampling (transposed-conv and latent explorers)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.autoencoder import conv_autoencoder, decode, encode
from cnnlib.shapes import conv_transpose_output_size
from cnnlib.widgets.base import figure_png
from cnnlib.widgets.upsampling import (
    explore_latent,
    explore_transpose_arithmetic,
    interpolate_codes,
    render_latent,
    render_transpose_arithmetic,
    transpose_geometry,
)

matplotlib.use("Agg")


def brute_force_counts(n, k, s, p, op, d):
    """Paints per output cell, by listing every (input, tap) pair."""
    out = conv_transpose_output_size(n, k, s, p, op, d)
    counts = np.zeros((out, out), int)
    for i in range(n):
        for u in range(k):
            r = i * s + u * d - p
            for j in range(n):
                for v in range(k):
                    c = j * s + v * d - p
                    if 0 <= r < out and 0 <= c < out:
                        counts[r, c] += 1
    return counts


def test_geometry_counts_and_painted_cells():
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 60:
        n, k, s, d = (int(v) for v in rng.integers(1, (7, 6, 4, 4)))
        p, op = int(rng.integers(0, 4)), int(rng.integers(0, max(s, d)))
        try:
            g = transpose_geometry(n, k, s, p, op, d, row=n - 1, col=0)
        except ValueError:
            continue
        checked += 1
        assert g["out"] == conv_transpose_output_size(n, k, s, p, op, d)
        assert np.array_equal(g["counts"], brute_force_counts(n, k, s, p, op, d))
        assert len(g["painted"]) == k * k
        assert all(g["canvas"][r, c] >= 1 for r, c in g["painted"])
        assert g["painted"][0] == ((n - 1) * s, 0)
        assert g["formula"].endswith(f"= {g['out']}")


def test_render_arithmetic_figure_and_errors():
    fig = render_transpose_arithmetic(3, 3, 2, 1, 1, 1, row=1, col=1)
    assert isinstance(fig, Figure)
    assert fig.geometry["out"] == 6
    assert "(3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6" in fig._suptitle.get_text()
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("INPUT 3x3") for t in titles)
    assert any(t.startswith("OUTPUT 6x6") for t in titles)
    assert len(figure_png(fig)) > 1000
    # Out-of-range cells are clipped, impossible settings raise ValueError
    # (the explorer shows the message).
    assert render_transpose_arithmetic(2, 2, row=5, col=5).geometry["row"] == 1
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        render_transpose_arithmetic(3, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match="crops away the whole output"):
        render_transpose_arithmetic(1, 1, stride=1, padding=3)


def test_latent_render_decodes_the_interpolated_code():
    enc, dec = conv_autoencoder(code_size=4, seed=0)
    rng = np.random.default_rng(1)
    images = rng.random((5, 1, 28, 28)).astype(np.float32)
    codes = encode(enc, images)
    assert codes.shape == (5, 4)

    def draw(c):
        return decode(dec, c)

    fig = render_latent(draw, codes, images, first=1, second=3, t=0.25)
    want = decode(dec, interpolate_codes(codes[1], codes[3], 0.25)[None])[0, 0]
    assert np.allclose(fig.decoded, want, atol=1e-6)
    assert 0 <= fig.decoded.min() and fig.decoded.max() <= 1
    end = render_latent(draw, codes, images, first=1, second=3, t=1.0)
    assert np.allclose(end.decoded, draw(codes[3:4])[0, 0], atol=1e-6)
    with pytest.raises(ValueError, match="t must be in"):
        render_latent(draw, codes, images, t=1.5)


def test_explorers_build():
    enc, dec = conv_autoencoder(code_size=3, seed=0)
    images = np.zeros((2, 1, 28, 28), np.float32)
    codes = encode(enc, images)
    for box in (explore_transpose_arithmetic(),
                explore_latent(lambda c: decode(dec, c), codes, images)):
        assert "cnnlib-explorer" in box._dom_classes
