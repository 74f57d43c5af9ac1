"""Tests for cnnlib.model: Sequential, summaries, and whole-model gradients."""

import math

import numpy as np
import pytest

from cnnlib.layers import Conv2D, Dropout, Flatten, ReLU
from cnnlib.losses import softmax_cross_entropy
from cnnlib.model import Sequential, lenet5, tiny_cnn


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


def test_sequential_train_eval_and_astype():
    model = Sequential(Conv2D(1, 2, 3, seed=0), Dropout(0.5), Flatten())
    assert model.dtype == np.float32
    model.eval()
    assert not any(layer.training for layer in model)
    model.astype(np.float64)
    assert model.dtype == np.float64
    assert len(model) == 3 and isinstance(model[0], Conv2D)


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match=r"Sequential: layers\[1\] must be a layer"):
        Sequential(ReLU(), "relu")


@pytest.mark.parametrize("shape, match", [
    ((3, 28, 28), r"layer 0 \(Conv2D\(1, 6, kernel_size=5, padding=2\)\) cannot "
     r"take input \(3, 28, 28\): Conv2D: expects one example of shape \(1, H, W\)"),
    ((1, 32, 32), r"layer 7 \(Linear\(400, 120\)\) cannot take input \(576,\)"),
    ((28, 28), r"layer 0 .* got input of shape \(28, 28\)"),
])
def test_summary_refuses_what_forward_refuses(shape, match):
    model = lenet5()
    with pytest.raises(ValueError, match="Sequential.summary: " + match):
        model.summary(shape, file=False)
    with pytest.raises((ValueError, TypeError)):  # forward refuses it too
        model.forward(np.zeros((1, *shape), np.float32))
