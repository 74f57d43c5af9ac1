"""Tests for cnnlib.layers: shapes, summaries, and whole-model gradients."""

import math

import numpy as np
import pytest

from cnnlib.gradcheck import numerical_gradient, rel_error
from cnnlib.layers import (
    AvgPool2D,
    Conv2D,
    Dropout,
    Flatten,
    Linear,
    LocallyConnected2D,
    MaxPool2D,
    ReLU,
    Sequential,
    lenet5,
    tiny_cnn,
)
from cnnlib.losses import softmax_cross_entropy
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
    stack = [layer for layer in model if hasattr(layer, "kernel_size")]
    assert [type(layer).__name__ for layer in stack] == [
        "Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D"]
    rf = receptive_field(stack)[-1]
    assert (rf.size, rf.jump) == (16, 4), rf


def test_sequential_names_summary_and_repr():
    model = lenet5()
    names = list(model.params())
    assert names == ["0.w", "0.b", "3.w", "3.b", "7.w", "7.b", "9.w", "9.b",
                     "11.w", "11.b"]
    assert model.num_params() == 61706
    text = model.summary((1, 28, 28), file=False)
    lines = text.splitlines()
    assert lines[0].split() == ["#", "layer", "output", "shape", "params"]
    assert "(6, 28, 28)" in text and "(16, 5, 5)" in text and "48,120" in text
    assert lines[-1] == "total parameters: 61,706"
    assert "Conv2D(1, 6, kernel_size=5, padding=2)" in repr(model)
    assert tiny_cnn().num_params() == 5258
    with pytest.raises(ValueError, match="Linear: expects 400 input features"):
        model.summary((1, 32, 32), file=False)


def test_summary_prints(capsys):
    tiny_cnn().summary()
    out = capsys.readouterr().out
    assert "total parameters: 5,258" in out


def test_lenet5_whole_model_gradient_float64():
    """Backprop through every layer vs centred differences (random entries)."""
    rng = np.random.default_rng(3)
    model = lenet5(seed=1, dtype=np.float64)
    # Bigger logits weights than the default 0.01: stronger signal to check.
    model[11].params["w"][...] = rng.standard_normal((84, 10)) * 0.3
    x = rng.standard_normal((3, 1, 28, 28))
    y = np.array([3, 7, 1])

    def loss():
        return softmax_cross_entropy(model.forward(x), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    grads = {k: g.copy() for k, g in model.grads().items()}
    params = model.params()
    h = 1e-5
    for name, p in list(params.items()) + [("x", x)]:
        g = dx if name == "x" else grads[name]
        flat = rng.choice(p.size, size=min(p.size, 6), replace=False)
        for i in flat:
            idx = np.unravel_index(i, p.shape)
            old = p[idx]
            p[idx] = old + h
            plus = loss()
            p[idx] = old - h
            minus = loss()
            p[idx] = old
            num = (plus - minus) / (2 * h)
            err = abs(num - g[idx]) / max(1e-8, abs(num) + abs(g[idx]))
            assert err < 1e-5 or abs(num - g[idx]) < 1e-9, (
                f"{name}{idx}: analytic {g[idx]:.6e} numeric {num:.6e}")


def test_initial_loss_near_log10():
    from cnnlib.data import load_mnist

    X, y = load_mnist("subset", "test", dtype=np.float32, normalize=True)
    for factory in (lenet5, tiny_cnn):
        loss, _ = softmax_cross_entropy(factory().forward(X[:500]), y[:500])
        assert abs(loss - math.log(10)) < 0.15, f"{factory.__name__}: {loss}"


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


def test_sequential_train_eval_and_astype():
    model = Sequential(Conv2D(1, 2, 3, seed=0), Dropout(0.5), Flatten())
    assert model.dtype == np.float32
    model.eval()
    assert not any(layer.training for layer in model)
    model.astype(np.float64)
    assert model.dtype == np.float64
    assert len(model) == 3 and isinstance(model[0], Conv2D)


@pytest.mark.parametrize("call, err, match", [
    (lambda: Conv2D(0, 4, 3), ValueError, "Conv2D: in_channels must be a "
     "positive int, got 0"),
    (lambda: Conv2D(1, 4, 3, stride=0), ValueError, "Conv2D: stride"),
    (lambda: Conv2D(1, 4, 3, dtype=np.int32), TypeError, "float32 or float64"),
    (lambda: Linear(4, 2, init="xavier"), ValueError, "init must be"),
    (lambda: Dropout(1.0), ValueError, "Dropout: p must be"),
    (lambda: Sequential(ReLU(), "relu"), TypeError, r"layers\[1\]"),
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
