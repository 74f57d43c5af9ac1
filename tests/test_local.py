"""Tests for cnnlib.local: loops vs fast, gradients, cost counters, errors."""

import numpy as np
import pytest

from cnnlib.conv import conv2d_forward
from cnnlib.gradcheck import check_gradients, rel_error
from cnnlib.local import (
    LayerCost,
    count_macs,
    count_params,
    layer_cost,
    local2d_backward,
    local2d_backward_naive,
    local2d_forward,
    local2d_forward_naive,
)
from tests.kernel_checks import assert_fast_matches_naive


def random_config(rng, max_size=7):
    while True:
        N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
        H, W = (int(v) for v in rng.integers(1, max_size + 1, size=2))
        KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        if KH <= H + 2 * padding[0] and KW <= W + 2 * padding[1]:
            break
    H_out = (H + 2 * padding[0] - KH) // stride[0] + 1
    W_out = (W + 2 * padding[1] - KW) // stride[1] + 1
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((H_out, W_out, F, C, KH, KW))
    b = rng.standard_normal((F, H_out, W_out)) if rng.random() < 0.8 else None
    return x, w, b, dict(stride=stride, padding=padding)


def test_fast_matches_naive_random_configs():
    rng = np.random.default_rng(0)
    for trial in range(200):
        x, w, b, cfg = random_config(rng)
        msg = f"trial {trial}: x {x.shape} w {w.shape} b {b is not None} {cfg}"
        assert_fast_matches_naive(
            (local2d_forward, local2d_backward),
            (local2d_forward_naive, local2d_backward_naive), x, w, b, cfg, rng, msg)


@pytest.mark.parametrize("naive", [False, True])
def test_backward_matches_numerical_gradient(naive):
    rng = np.random.default_rng(1 + naive)
    forward = local2d_forward_naive if naive else local2d_forward
    backward = local2d_backward_naive if naive else local2d_backward
    for trial in range(10 if naive else 30):
        x, w, b, cfg = random_config(rng, max_size=5)
        inputs = [x, w] if b is None else [x, w, b]

        def f(x, w, b=None, cfg=cfg):
            return forward(x, w, b, **cfg)

        errors = check_gradients(f, backward, inputs, ["x", "w", "b"], rng=rng)
        msg = f"trial {trial}: x {x.shape} w {w.shape} {cfg}: {errors}"
        assert max(errors.values()) < 1e-7, msg


def test_shared_weights_equal_convolution():
    # A local layer whose positions all hold the same filters is a conv layer.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 8, 7))
    w_conv = rng.standard_normal((4, 3, 3, 2))
    b_conv = rng.standard_normal(4)
    out_conv = conv2d_forward(x, w_conv, b_conv, stride=2, padding=1)[0]
    H_out, W_out = out_conv.shape[2:]
    w = np.broadcast_to(w_conv, (H_out, W_out, *w_conv.shape)).copy()
    b = np.broadcast_to(b_conv[:, None, None], (4, H_out, W_out)).copy()
    out = local2d_forward(x, w, b, stride=2, padding=1)[0]
    assert rel_error(out, out_conv) < 1e-12


def test_float32_stays_float32():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal((2, 3, 3)).astype(np.float32)
    for fwd, bwd in ((local2d_forward, local2d_backward),
                     (local2d_forward_naive, local2d_backward_naive)):
        out, cache = fwd(x, w, b)
        assert out.dtype == np.float32
        assert all(g.dtype == np.float32 for g in bwd(np.ones_like(out), cache))


# ---------------------------------------------------------------- counters


def test_counts_toy_4x4_by_hand():
    # 4x4 input, 3x3 kernel, 1 filter: output 2x2 = 4 units.
    assert layer_cost("dense", (4, 4), 1, 3) == LayerCost(16 * 4 + 4, 64, (1, 2, 2))
    assert layer_cost("local", (4, 4), 1, 3) == LayerCost(9 * 4 + 4, 36, (1, 2, 2))
    assert layer_cost("conv", (4, 4), 1, 3) == LayerCost(9 + 1, 36, (1, 2, 2))
    assert count_params("conv", (4, 4), 1, 3, bias=False) == 9
    assert count_params("local", (1, 4, 4), 1, 3, bias=False) == 36
    assert count_macs("dense", (4, 4), 1, 3) == 64


def test_counts_mnist_28x28():
    # 32 filters 3x3, no padding: 26x26 outputs, 32*676 = 21632 units.
    units = 32 * 26 * 26
    assert count_params("conv", (28, 28), 32, 3) == 32 * 9 + 32
    assert count_params("local", (28, 28), 32, 3) == units * 9 + units
    assert count_params("dense", (28, 28), 32, 3) == units * 784 + units
    assert count_macs("conv", (28, 28), 32, 3) == units * 9
    assert count_macs("dense", (28, 28), 32, 3) == 16_959_488


def test_counts_photo_224x224x3_exact_ints():
    cost = layer_cost("dense", (3, 224, 224), 64, 3, padding=1)
    units = 64 * 224 * 224
    assert cost.out_shape == (64, 224, 224)
    assert cost.params == 150_528 * units + units == 483_388_358_656
    assert type(cost.params) is int and type(cost.macs) is int
    assert layer_cost("conv", (3, 224, 224), 64, 3, padding=1).params == 1792
    assert count_params("local", (3, 224, 224), 64, 3, padding=1) == (
        units * 27 + units)
    assert count_macs("local", (3, 224, 224), 64, 3, 1, 1) == units * 27
    assert count_macs("conv", (3, 224, 224), 64, (5, 3), 2, (2, 1)) == (
        64 * 112 * 112 * 45)


# ---------------------------------------------------------------- bad input

X = np.zeros((2, 3, 5, 5))
W = np.zeros((3, 3, 4, 3, 3, 3))
B = np.zeros((4, 3, 3))


@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((X[0], W, B), {}, ValueError, r"x must have shape \(N, C, H, W\)"),
        ((X, W[0], B), {}, ValueError, r"w must have shape \(H_out, W_out"),
        ((X, W[..., :2, :, :], B), {}, ValueError, "w must have 3 input"),
        ((X, W, B), {"stride": 2}, ValueError, r"w must have shape .* = \(2, 2\)"),
        ((X, W, B), {"stride": 0}, ValueError, "stride"),
        ((X, W, B), {"padding": -1}, ValueError, "padding"),
        ((X, W, B), {"stride": 1.0}, TypeError, "stride"),
        ((X, W, B[0]), {}, ValueError, r"b must have shape \(F, H_out, W_out\)"),
        ((X, W, B[:3]), {}, ValueError, "b must have shape"),
        ((X, W.astype(np.float32), B), {}, TypeError, "w must have the dtype"),
        ((X, W, B.astype(np.float32)), {}, TypeError, "b must have the dtype"),
        ((np.full_like(X, np.nan), W, B), {}, ValueError, "x must be finite"),
        ((X[:0], W, B), {}, ValueError, "x and w must not be empty"),
        ((X[:, :, :2, :2], W, B), {}, ValueError, "kernel 3x3 does not fit"),
    ],
)
def test_forward_rejects_bad_input(naive, args, kwargs, error, match):
    func = local2d_forward_naive if naive else local2d_forward
    with pytest.raises(error, match=f"{func.__name__}: {match}"):
        func(*args, **kwargs)


@pytest.mark.parametrize("naive", [False, True])
def test_backward_rejects_bad_dout(naive):
    fwd, bwd = ((local2d_forward_naive, local2d_backward_naive) if naive
                else (local2d_forward, local2d_backward))
    out, cache = fwd(X, W, B)
    with pytest.raises(ValueError, match=f"{bwd.__name__}: dout must have"):
        bwd(out[:, :2], cache)
    with pytest.raises(TypeError, match=f"{bwd.__name__}: dout must have"):
        bwd(out.astype(np.float32), cache)


def test_backward_rejects_wrong_cache():
    out, cache = local2d_forward(X, W, B)
    _, cache_naive = local2d_forward_naive(X, W, B)
    with pytest.raises(TypeError, match="local2d_backward: cache must be"):
        local2d_backward(out, cache_naive)
    with pytest.raises(TypeError, match="local2d_backward_naive: cache must"):
        local2d_backward_naive(out, cache)
    with pytest.raises(TypeError, match=r"local2d_backward: cache must be the "
                       r"LocalCache returned by local2d_forward \(run the "
                       r"forward pass first\), got None"):
        local2d_backward(out, None)


def test_caches_are_named():
    out, cache = local2d_forward(X, W, B)
    assert cache.w is W and cache.x_shape == X.shape and cache.has_bias
    assert repr(cache).startswith("LocalCache(cols=<float64 array (")
    _, cache = local2d_forward_naive(X, W, None, stride=1)
    assert cache.x is X and cache.b is None and cache.stride == (1, 1)


def test_layer_cost_rejects_bad_input():
    with pytest.raises(ValueError, match="layer_cost: kind must be"):
        layer_cost("pool", (4, 4), 1, 3)
    with pytest.raises(ValueError, match="layer_cost: in_shape must be"):
        layer_cost("conv", (4,), 1, 3)
    with pytest.raises(ValueError, match="layer_cost: out_channels must be"):
        layer_cost("conv", (4, 4), 0, 3)
    with pytest.raises(ValueError, match="layer_cost: kernel 5x5 does not fit"):
        layer_cost("conv", (4, 4), 1, 5)
    with pytest.raises(TypeError, match="layer_cost: stride must be"):
        layer_cost("conv", (4, 4), 1, 3, stride=1.5)
