"""Tests for cnnlib.inspect_model: fields, top patches and occlusion maps."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.inspect_model import (
    TRAINED_LENET5_PATH,
    covered_predictions,
    feature_maps,
    occlusion_map,
    show_filters,
    show_occlusion,
    show_patches,
    top_patches,
    unit_field,
)
from cnnlib.layers import AvgPool2D, Conv2D, Flatten, Linear, ReLU
from cnnlib.losses import softmax
from cnnlib.model import Sequential, lenet5

matplotlib.use("Agg")


def positive_net(seed=0):
    """All weights and biases positive, average pooling: every pixel of a
    unit's receptive field gets a nonzero gradient (max pooling would route
    it to one pixel per window)."""
    net = Sequential(Conv2D(1, 2, 5, padding=2, seed=seed, dtype=np.float64),
                     ReLU(), AvgPool2D(2),
                     Conv2D(2, 3, 3, padding=1, seed=seed + 1, dtype=np.float64),
                     ReLU(), AvgPool2D(2, stride=1),
                     Conv2D(3, 2, 3, stride=2, seed=seed + 2, dtype=np.float64))
    for p in net.params().values():
        p[...] = np.abs(p) + 0.1
    return net


def gradient_support(net, x, layer, channel, row, col):
    """Input pixels whose change moves unit (channel, row, col) of a layer."""
    a = x
    for m in net.layers[:layer + 1]:
        a = m.forward(a)
    dout = np.zeros_like(a)
    dout[0, channel, row, col] = 1.0
    for m in reversed(net.layers[:layer + 1]):
        dout = m.backward(dout)
    return np.abs(dout[0, 0]) > 0


@pytest.mark.parametrize("layer", [0, 2, 3, 5, 6])
def test_field_and_patch_box_match_the_gradient_support(layer):
    net = positive_net()
    x = np.random.default_rng(1).uniform(0.5, 1.0, (1, 1, 20, 20))
    out = feature_maps(net, x, layer)
    rf = unit_field(net, layer)
    half = (rf.size - 1) / 2
    for row, col in [(0, 0), (out.shape[2] // 2, out.shape[3] - 1)]:
        top = int(round(rf.start + row * rf.jump - half))
        left = int(round(rf.start + col * rf.jump - half))
        box = np.zeros((20, 20), bool)
        box[max(top, 0):top + rf.size, max(left, 0):left + rf.size] = True
        assert np.array_equal(gradient_support(net, x, layer, 0, row, col), box)


def test_lenet5_fields_by_hand():
    net = lenet5()
    # conv 5 pad 2: 5 px; pool 2: 5 + 1 = 6, jump 2; conv 5: 6 + 4*2 = 14;
    # pool 2: 14 + 1*2 = 16, jump 4.
    assert [(unit_field(net, i).size, unit_field(net, i).jump)
            for i in (0, 2, 3, 5)] == [(5, 1), (6, 2), (14, 2), (16, 4)]
    assert unit_field(net, 1) == unit_field(net, 0)  # ReLU adds nothing


def test_feature_maps_match_forward_and_restore_the_mode():
    net = lenet5(seed=3)
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    a = x
    for m in net.layers[:4]:
        a = m.forward(a)
    net.train()
    got = feature_maps(net, x, 3, batch_size=2)
    assert got.shape == (5, 16, 10, 10)
    assert np.allclose(got, a, atol=1e-6)
    assert all(m.training for m in net)
    assert np.allclose(feature_maps(net, x, -1), net.forward(x), atol=1e-5)


def planted():
    """Faint noise images; four of them hold a bright 3x3 cross somewhere."""
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 0.1, (10, 1, 12, 12))
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], float)
    where = {7: (1, 2), 3: (8, 8), 5: (0, 9), 1: (4, 0)}
    for n, (r, c) in where.items():
        X[n, 0, r:r + 3, c:c + 3] += 2 * cross
    net = Sequential(Conv2D(1, 1, 3, seed=0, dtype=np.float64))
    net[0].params["w"][...] = cross
    net[0].params["b"][...] = 0
    return X, net, cross, where


def test_top_patches_find_the_planted_pattern():
    X, net, cross, where = planted()
    res = top_patches(net, X, 0, 0, k=4)
    assert sorted(res.image.tolist()) == sorted(where)
    for p, n, t, left in zip(res.patches, res.image, res.top, res.left):
        assert (t, left) == where[n]
        assert np.array_equal(p[0], X[n, 0, t:t + 3, left:left + 3])
        assert np.abs(p[0] - 2 * cross).max() <= 0.1
    assert np.all(np.diff(res.values) <= 0) and res.size == 3


def test_top_patches_values_against_a_loop():
    X, net, *_ = planted()
    X = X + np.random.default_rng(4).uniform(0, 1, X.shape)
    res = top_patches(net, X, 0, 0, k=6)
    w = net[0].params["w"][0, 0]
    best = [max(np.sum(X[n, 0, i:i + 3, j:j + 3] * w)
                for i in range(10) for j in range(10)) for n in range(10)]
    order = np.argsort(best)[::-1][:6]
    assert np.array_equal(res.image, order)
    assert np.allclose(res.values, np.array(best)[order])


def test_patches_outside_the_image_are_nan():
    net = Sequential(Conv2D(1, 1, 5, padding=2, seed=0, dtype=np.float64))
    net[0].params["w"][...] = 0
    net[0].params["w"][0, 0, 2, 2] = 1  # responds to the centre pixel
    X = np.zeros((1, 1, 6, 6))
    X[0, 0, 0, 5] = 1  # top-right corner
    res = top_patches(net, X, 0, 0, k=1)
    assert (res.top[0], res.left[0]) == (-2, 3)
    p = res.patches[0, 0]
    assert np.isnan(p[:2]).all() and np.isnan(p[:, 3:]).all()
    assert p[2, 2] == 1 and np.nansum(p) == 1


def linear_region_net():
    """Class 0's logit reads pixels of rows 2-4, columns 3-5 only."""
    net = Sequential(Flatten(), Linear(64, 3, seed=0, dtype=np.float64))
    w = np.zeros((8, 8, 3))
    w[2:5, 3:6, 0] = 1.0
    net[1].params["w"][...] = w.reshape(64, 3)
    net[1].params["b"][...] = 0
    return net


def test_occlusion_is_zero_away_from_the_evidence():
    net = linear_region_net()
    image = np.random.default_rng(5).uniform(0.5, 1, (1, 8, 8))
    drop, base = occlusion_map(net, image, 0, patch=2, stride=1, fill=0.0)
    assert drop.shape == (8, 8)
    assert base == pytest.approx(softmax(net.forward(image[None]))[0, 0])
    # a 2x2 cover misses rows 2-4 x cols 3-5 iff it starts outside rows 1-4
    # x cols 2-5; pixels covered only by such squares have drop 0
    assert np.all(drop[6:, :] == 0) and np.all(drop[:, :2] == 0)
    assert np.all(drop[2:5, 3:6] > 0)


def test_occlusion_against_a_loop():
    net = lenet5(seed=1, dtype=np.float64)
    image = np.random.default_rng(6).standard_normal((1, 28, 28))
    drop, base = occlusion_map(net, image, 3, patch=7, stride=3)
    fill = image.min()
    total, count = np.zeros((28, 28)), np.zeros((28, 28))
    for t in range(0, 22, 3):
        for left in range(0, 22, 3):
            x = image.copy()
            x[:, t:t + 7, left:left + 7] = fill
            p = softmax(net.forward(x[None]))[0, 3]
            total[t:t + 7, left:left + 7] += base - p
            count[t:t + 7, left:left + 7] += 1
    assert np.allclose(drop, total / count, atol=1e-12)


def test_covered_predictions_cover_each_square_once():
    net = linear_region_net()
    image = np.random.default_rng(7).uniform(0.5, 1, (1, 8, 8))
    corners, probs, base = covered_predictions(net, image, patch=3, stride=2)
    # rows 0, 2, 4 (6 would not fit): 3 x 3 squares
    assert corners.tolist() == [[t, c] for t in (0, 2, 4) for c in (0, 2, 4)]
    assert np.allclose(base, softmax(net.forward(image[None]))[0])
    x = image.copy()
    x[:, 2:5, 4:7] = image.min()
    assert np.allclose(probs[5], softmax(net.forward(x[None]))[0])
    assert np.allclose(probs.sum(axis=1), 1)


def test_bad_arguments_name_the_function():
    X, net, *_ = planted()
    with pytest.raises(ValueError, match="top_patches: channel"):
        top_patches(net, X, 0, 1)
    with pytest.raises(ValueError, match="top_patches: k must be at most"):
        top_patches(net, X, 0, 0, k=11)
    with pytest.raises(ValueError, match="feature_maps: layer"):
        feature_maps(net, X, 1)
    with pytest.raises(ValueError, match="feature_maps: X"):
        feature_maps(net, X[0], 0)
    with pytest.raises(ValueError, match="covered_predictions: stride"):
        covered_predictions(net, X[0], stride=0)
    with pytest.raises(ValueError, match="occlusion_map: patch 20"):
        occlusion_map(net, X[0], 0, patch=20)
    flat = linear_region_net()
    with pytest.raises(ValueError, match="occlusion_map: label"):
        occlusion_map(flat, np.zeros((1, 8, 8)), 3, patch=2)
    with pytest.raises(ValueError, match="top_patches: layer 1 gives"):
        top_patches(flat, np.zeros((2, 1, 8, 8)), 1, 0, k=1)


def test_drawing_functions_run():
    X, net, *_ = planted()
    fig = show_patches(top_patches(net, X, 0, 0, k=4), Figure(), ncols=3,
                       title="t")
    assert len(fig.axes) == 6
    ax = Figure().add_subplot()
    drop, _ = occlusion_map(linear_region_net(), X[0, :, :8, :8], 0, patch=2)
    im = show_occlusion(X[0, :, :8, :8], drop, ax)
    assert im.get_array().min() >= 0 and im.get_clim()[0] == 0
    axes = Figure().subplots(1, 3)
    w = np.array([np.eye(3), -np.eye(3), np.zeros((3, 3))])
    im = show_filters(w, axes)
    assert im.get_clim() == (-1.0, 1.0) and im.get_cmap().name == "gray"


def test_shipped_checkpoint_loads_into_lenet5():
    from cnnlib.checkpoint import load
    assert TRAINED_LENET5_PATH.is_file(), TRAINED_LENET5_PATH
    assert TRAINED_LENET5_PATH.stat().st_size < 300_000
    net = load(lenet5, TRAINED_LENET5_PATH)
    assert net.num_params() == 61_706
