"""Tests for cnnlib.upsample and the notebook-08 layers and loss."""

import numpy as np
import pytest

from cnnlib.gradcheck import check_gradients, rel_error
from cnnlib.layers import ConvTranspose2D, Linear, ReLU, Sigmoid, Unflatten, Upsample2D
from cnnlib.losses import binary_cross_entropy_with_logits
from cnnlib.model import Sequential
from cnnlib.shapes import conv_transpose_output_size
from cnnlib.upsample import upsample_nearest_backward, upsample_nearest_forward

# ---------------------------------------------------------------- upsample


def test_upsample_repeats_pixels_like_kron():
    rng = np.random.default_rng(0)
    for scale in (1, 2, 3, (2, 3)):
        sh, sw = (scale, scale) if isinstance(scale, int) else scale
        x = rng.standard_normal((2, 3, 4, 5))
        out, _ = upsample_nearest_forward(x, scale)
        ref = np.kron(x, np.ones((sh, sw)))  # an independent construction
        assert out.shape == (2, 3, 4 * sh, 5 * sw)
        assert np.array_equal(out, ref)


def test_upsample_gradient_and_dtype():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 3, 4))
    errors = check_gradients(lambda x: upsample_nearest_forward(x, (2, 3)),
                             upsample_nearest_backward, [x], ["x"], rng=rng)
    assert errors["x"] < 1e-7
    out, cache = upsample_nearest_forward(x.astype(np.float32), 2)
    assert out.dtype == np.float32
    assert upsample_nearest_backward(out.copy(), cache).dtype == np.float32


@pytest.mark.parametrize("x, scale, error, match", [
    (np.zeros((2, 3, 4)), 2, ValueError, r"x must have shape \(N, C, H, W\)"),
    (np.zeros((1, 1, 2, 2)), 0, ValueError, "scale must be"),
    (np.zeros((1, 1, 2, 2)), 1.5, TypeError, "scale must be"),
    (np.zeros((1, 1, 2, 2), int), 2, TypeError, "x must be float32"),
])
def test_upsample_rejects_bad_input(x, scale, error, match):
    with pytest.raises(error, match="upsample_nearest_forward: " + match):
        upsample_nearest_forward(x, scale)


def test_upsample_backward_rejects_bad_dout():
    _, cache = upsample_nearest_forward(np.ones((1, 1, 2, 2)), 2)
    with pytest.raises(ValueError, match=r"shape \(1, 1, 4, 4\)"):
        upsample_nearest_backward(np.ones((1, 1, 4, 3)), cache)


# ---------------------------------------------------------------- shapes


def test_conv_transpose_output_size_formula_and_errors():
    assert conv_transpose_output_size(7, 3, 2, 1, 1) == 14
    assert conv_transpose_output_size(2, 3) == 4
    assert conv_transpose_output_size((4, 5), (3, 2), (2, 1)) == (9, 6)
    assert conv_transpose_output_size(3, 3, 1, 0, 1, 2) == 8  # op < dilation
    for kwargs, match in [
        (dict(size=0, kernel=3), "size must be"),
        (dict(size=3, kernel=0), "kernel must be"),
        (dict(size=3, kernel=3, stride=0), "stride must be"),
        (dict(size=3, kernel=3, padding=-1), "padding must be"),
        (dict(size=3, kernel=3, stride=2, output_padding=2),
         "output_padding must be smaller than stride or dilation"),
        (dict(size=1, kernel=1, padding=1), "padding 1 crops away the whole output"),
    ]:
        with pytest.raises(ValueError, match="conv_transpose_output_size: " + match):
            conv_transpose_output_size(**kwargs)
    with pytest.raises(TypeError, match="stride must be"):
        conv_transpose_output_size(3, 3, stride=2.0)


# ---------------------------------------------------------------- loss


def test_bce_matches_definition_and_gradient():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((3, 1, 4, 4)) * 3
    t = rng.random(z.shape)
    loss, dz = binary_cross_entropy_with_logits(z, t)
    p = 1 / (1 + np.exp(-z))
    ref = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert abs(loss - ref) < 1e-12
    errors = check_gradients(lambda z: binary_cross_entropy_with_logits(z, t),
                             lambda d, c: d * dz, [z], ["z"])
    assert errors["z"] < 1e-7


def test_bce_is_stable_for_huge_logits():
    z = np.array([1e4, -1e4, 1e4, -1e4, 0.0])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    with np.errstate(all="raise"):
        loss, dz = binary_cross_entropy_with_logits(z, t)
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    # Two confident mistakes cost 1e4 each; the right ones cost nothing.
    assert abs(loss - (2e4 + np.log(2)) / 5) < 1e-9
    assert np.allclose(dz, np.array([0, 0, 1, -1, 0]) / 5)
    z32 = z.astype(np.float32)
    loss32, dz32 = binary_cross_entropy_with_logits(z32, t.astype(np.float32))
    assert loss32.dtype == dz32.dtype == np.float32


@pytest.mark.parametrize("z, t, error, match", [
    ([0.0], np.zeros(1), TypeError, "logits must be a NumPy array"),
    (np.zeros(2), np.zeros(3), ValueError, "target must have the shape"),
    (np.zeros(2), np.array([0.0, 1.5]), ValueError,
     r"target must hold values in \[0, 1\]"),
    (np.zeros(0), np.zeros(0), ValueError, "logits must hold at least one element"),
    (np.array([np.inf, 0]), np.zeros(2), ValueError, "logits must be finite"),
])
def test_bce_rejects_bad_input(z, t, error, match):
    with pytest.raises(error, match="binary_cross_entropy_with_logits: " + match):
        binary_cross_entropy_with_logits(z, t)


# ---------------------------------------------------------------- layers


def layer_gradients(layer, x, rng):
    """check_gradients for a layer's input and parameters (float64)."""
    def forward(x, *params):
        for k, p in zip(layer.params, params):
            layer.params[k] = p
        return layer.forward(x), None

    def backward(dout, _):
        dx = layer.backward(dout)
        return (dx, *(layer.grads[k] for k in layer.params))

    inputs = [x, *layer.params.values()]
    return check_gradients(forward, backward, inputs,
                           ["x", *layer.params], rng=rng)


@pytest.mark.parametrize("layer, shape", [
    (ConvTranspose2D(3, 2, 3, stride=2, padding=1, output_padding=1, seed=0,
                     dtype=np.float64), (2, 3, 4, 3)),
    (ConvTranspose2D(2, 4, (2, 3), stride=(1, 2), dilation=2, seed=1,
                     dtype=np.float64), (1, 2, 3, 3)),
    (Upsample2D(2), (2, 3, 3, 4)),
    (Sigmoid(), (2, 3, 3, 4)),
    (Unflatten((2, 3, 2)), (4, 12)),
])
def test_layers_gradients_and_shapes(layer, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    errors = layer_gradients(layer, x, rng)
    assert len(errors) == 1 + len(layer.params)
    assert max(errors.values()) < 1e-7, errors
    out = layer.forward(x)
    assert out.shape[1:] == layer.output_shape(shape[1:])


def test_conv_transpose_layer_repr_dtype_and_errors():
    layer = ConvTranspose2D(32, 16, 3, stride=2, padding=1, output_padding=1, seed=0)
    assert repr(layer) == ("ConvTranspose2D(32, 16, kernel_size=3, stride=2, "
                           "padding=1, output_padding=1)")
    assert layer.params["w"].shape == (32, 16, 3, 3)
    assert layer.params["w"].dtype == np.float32
    assert layer.output_shape((32, 7, 7)) == (16, 14, 14)
    assert repr(Upsample2D(2)) == "Upsample2D(2)"
    assert repr(Sigmoid()) == "Sigmoid()"
    with pytest.raises(ValueError, match="ConvTranspose2D: in_channels"):
        ConvTranspose2D(0, 1, 3)
    with pytest.raises(ValueError, match="ConvTranspose2D: output_padding must be"):
        ConvTranspose2D(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="Upsample2D: mode must be 'nearest'"):
        Upsample2D(2, mode="bilinear")
    with pytest.raises(ValueError, match="ConvTranspose2D.forward: x must have 32"):
        layer.forward(np.zeros((1, 3, 7, 7), np.float32))
    with pytest.raises(ValueError, match="Unflatten.forward: x must have D = 12"):
        Unflatten((3, 4)).forward(np.zeros((2, 10)))


def test_small_autoencoder_learns_with_sequential():
    """A decoder of the new layers trains: the loss falls."""
    from cnnlib.optim import Adam

    rng = np.random.default_rng(4)
    target = (rng.random((8, 1, 8, 8)) > 0.5).astype(np.float32)
    code = rng.standard_normal((8, 6)).astype(np.float32)
    dec = Sequential(Linear(6, 4 * 4 * 4, seed=0), ReLU(), Unflatten((4, 4, 4)),
                     ConvTranspose2D(4, 4, 3, stride=2, padding=1,
                                     output_padding=1, seed=1),
                     ReLU(), Upsample2D(1), ConvTranspose2D(4, 1, 3, padding=1, seed=2))
    opt = Adam(1e-2)
    losses = []
    for _ in range(60):
        loss, dz = binary_cross_entropy_with_logits(dec.forward(code), target)
        dec.backward(dz, need_dx=False)
        opt.step(dec)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    assert rel_error(Sigmoid().forward(np.zeros(3)), np.full(3, 0.5)) == 0
