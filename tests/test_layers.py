"""Tests for cnnlib.layers: shapes, dtypes, gradients and errors per layer."""

import math

import numpy as np
import pytest

from cnnlib.gradcheck import numerical_gradient, rel_error
from cnnlib.layers import (
    AvgPool2D,
    Conv2D,
    ConvTranspose2D,
    Dropout,
    Flatten,
    Linear,
    LocallyConnected2D,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Unflatten,
    Upsample2D,
)
from cnnlib.model import Sequential, lenet5
from cnnlib.shapes import receptive_field


def _x(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


LAYERS = [
    (lambda: Conv2D(3, 4, 3, seed=0), (2, 3, 7, 6), (2, 4, 5, 4)),
    (lambda: Conv2D(3, 4, (3, 2), stride=2, padding=1, dilation=(1, 2), seed=0),
     (2, 3, 7, 6), (2, 4, 4, 3)),
    (lambda: ReLU(), (2, 3, 4, 4), (2, 3, 4, 4)),
    (lambda: MaxPool2D(2), (2, 3, 7, 6), (2, 3, 3, 3)),
    (lambda: MaxPool2D(3, stride=1, padding=1), (2, 3, 5, 5), (2, 3, 5, 5)),
    (lambda: AvgPool2D(2), (2, 3, 6, 6), (2, 3, 3, 3)),
    (lambda: Flatten(), (2, 3, 4, 5), (2, 60)),
    (lambda: Linear(60, 7, seed=0), (2, 3, 4, 5), (2, 7)),
    (lambda: LocallyConnected2D(2, 3, (6, 5), 3, seed=0), (2, 2, 6, 5),
     (2, 3, 4, 3)),
    (lambda: Dropout(0.5, seed=0), (2, 3, 4, 4), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("make, in_shape, out_shape", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_shapes_and_dtypes(make, in_shape, out_shape, dtype):
    layer = make()
    if dtype == np.float64:
        layer.astype(np.float64)
    rng = np.random.default_rng(1)
    x = _x(rng, in_shape, dtype)
    out = layer.forward(x)
    assert out.shape == out_shape, f"{layer!r}: {out.shape} != {out_shape}"
    assert out.dtype == dtype, f"{layer!r}: dtype {out.dtype}"
    assert layer.output_shape(in_shape[1:]) == out_shape[1:], repr(layer)
    dx = layer.backward(_x(rng, out_shape, dtype))
    assert dx.shape == in_shape and dx.dtype == dtype, repr(layer)
    for k, p in layer.params.items():
        assert p.dtype == dtype, f"{layer!r} param {k}"
        assert layer.grads[k].shape == p.shape, f"{layer!r} grad {k}"


@pytest.mark.parametrize("make, in_shape, out_shape", LAYERS[:2] + LAYERS[7:9])
def test_layer_gradients_float64(make, in_shape, out_shape):
    layer = make().astype(np.float64)
    rng = np.random.default_rng(2)
    x = _x(rng, in_shape)
    dout = _x(rng, out_shape)
    layer.forward(x)
    dx = layer.backward(dout)

    def f():
        return layer.forward(x)

    assert rel_error(dx, numerical_gradient(f, x, dout)) < 1e-7, repr(layer)
    for k, p in layer.params.items():
        layer.forward(x)
        layer.backward(dout)
        analytic = layer.grads[k].copy()
        num = numerical_gradient(f, p, dout)
        assert rel_error(analytic, num) < 1e-7, f"{layer!r} param {k}"


def test_conv_first_layer_skips_dx():
    layer = Conv2D(1, 2, 3, seed=0)
    x = np.ones((2, 1, 5, 5), np.float32)
    out = layer.forward(x)
    assert layer.backward(np.ones_like(out), need_dx=False) is None
    assert layer.grads["w"].shape == (2, 1, 3, 3)


def test_default_init_is_seeded_he_float32():
    a, b = Conv2D(4, 64, 3, seed=5), Conv2D(4, 64, 3, seed=5)
    assert a.params["w"].dtype == np.float32
    np.testing.assert_array_equal(a.params["w"], b.params["w"])
    std = a.params["w"].std()
    assert abs(std - math.sqrt(2 / 36)) < 0.03, std
    assert not a.params["b"].any()
    lin = Linear(100, 10, rng=np.random.default_rng(0), dtype=np.float64)
    assert lin.params["w"].dtype == np.float64


def test_receptive_field_reads_layers():
    model = lenet5()
    # Conv and pool layers are read directly; a pool's window is its `size`.
    stack = [layer for layer in model if isinstance(layer, (Conv2D, MaxPool2D))]
    assert len(stack) == 4 and not hasattr(model[2], "kernel_size")
    rf = receptive_field(stack)[-1]
    assert (rf.size, rf.jump) == (16, 4), rf
    tuples = [layer if isinstance(layer, Conv2D) else (layer.size, layer.stride)
              for layer in stack]
    assert receptive_field(tuples)[-1] == rf


def test_dropout_modes():
    layer = Dropout(0.25, seed=0)
    x = np.ones((200, 50), np.float32)
    out = layer.forward(x)
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, out)
    model = Sequential(layer).eval()
    assert model.forward(x) is x
    model.train()
    assert layer.training


@pytest.mark.parametrize("call, err, match", [
    (lambda: Conv2D(0, 4, 3), ValueError, "Conv2D: in_channels must be a "
     "positive int, got 0"),
    (lambda: Conv2D(1, 4, 3, stride=0), ValueError, "Conv2D: stride"),
    (lambda: Conv2D(1, 4, 3, dtype=np.int32), TypeError, "float32 or float64"),
    (lambda: Linear(4, 2, init="xavier"), ValueError, "init must be"),
    (lambda: Dropout(1.0), ValueError, "Dropout: p must be a number >= 0 and "
     "< 1, got 1.0"),
    (lambda: Conv2D(3, 4, 3).forward(np.ones((1, 1, 5, 5), np.float32)),
     ValueError, "must have 3 channels"),
    (lambda: Conv2D(1, 4, 3).forward(np.ones((1, 1, 5, 5))), TypeError,
     "x is float64 but the layer's parameters are float32"),
    (lambda: Linear(10, 2).forward(np.ones((2, 12), np.float32)), ValueError,
     "Linear.forward: x must have 10 features"),
    (lambda: LocallyConnected2D(1, 2, 6, 3).forward(
        np.ones((1, 1, 5, 5), np.float32)), ValueError, "must be 6x6"),
])
def test_bad_arguments(call, err, match):
    with pytest.raises(err, match=match):
        call()


# ---------------------------------------------------------------- issue 13


@pytest.mark.parametrize("make", [ReLU, MaxPool2D, AvgPool2D, Flatten,
                                  lambda: Linear(4, 2), lambda: Conv2D(1, 2, 3),
                                  lambda: Dropout(0.5),
                                  lambda: ConvTranspose2D(1, 2, 3), Upsample2D,
                                  Sigmoid, lambda: Unflatten((2, 1))])
def test_backward_before_forward_says_so(make):
    layer = make()
    name = type(layer).__name__
    with pytest.raises(RuntimeError, match=f"{name}.backward: no forward pass "
                       r"to go back through; call forward\(x\) before"):
        layer.backward(np.ones((2, 2), np.float32))


def test_sequential_backward_before_forward_says_so():
    with pytest.raises(RuntimeError, match="Sequential.backward: no forward"):
        lenet5().backward(np.ones((1, 10), np.float32))


@pytest.mark.parametrize("training", [True, False])
def test_dropout_backward_refuses_a_wrong_shaped_dout(training):
    layer = Dropout(0.5, seed=0)
    layer.training = training
    layer.forward(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"Dropout.backward: dout must have "
                       r"the forward output's shape \(4, 3\), got \(1, 3\)"):
        layer.backward(np.ones((1, 3), np.float32))
    assert layer.backward(np.ones((4, 3), np.float32)).shape == (4, 3)
