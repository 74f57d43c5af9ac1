"""Tests for cnnlib.widgets.prediction (digit editing and the explorer)."""

import matplotlib
import numpy as np
import pytest

from cnnlib.widgets.prediction import (
    ERASERS,
    STROKES,
    class_probabilities,
    edit_digit,
    explore_digit_prediction,
    render_digit_prediction,
)

matplotlib.use("Agg")


class LinearModel:
    """A stand-in for a trained network: scores = flattened x @ W."""

    def __init__(self, rng, dtype=np.float32):
        self.W = rng.normal(size=(28 * 28, 10)).astype(dtype)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x.reshape(len(x), -1) @ self.W


class ProbaModel:
    def predict_proba(self, x):
        p = np.zeros((len(x), 10))
        p[:, 3] = 1.0
        return p


def blob_digits(rng, n=5, dtype=np.float32):
    """Random digit-like images: a few bright rectangles on a dark ground."""
    x = np.zeros((n, 1, 28, 28), dtype=dtype)
    for i in range(n):
        r, c = rng.integers(6, 16, size=2)
        x[i, 0, r:r + 8, c:c + 3] = 1.0
    return x


# ------------------------------------------------------------------ edit_digit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_edit_is_identity_and_keeps_dtype(dtype):
    rng = np.random.default_rng(0)
    for trial in range(20):
        img = rng.random((1, 28, 28)).astype(dtype)
        out = edit_digit(img)
        assert out.dtype == dtype and out.shape == img.shape, trial
        np.testing.assert_allclose(out, img, atol=1e-6, err_msg=f"trial {trial}")
        assert out is not img


def test_integer_shift_moves_pixels():
    rng = np.random.default_rng(1)
    for trial in range(30):
        img = np.zeros((28, 28))
        r, c = rng.integers(6, 22, size=2)
        img[r, c] = 1.0
        dx, dy = rng.integers(-5, 6, size=2)
        out = edit_digit(img, shift_x=int(dx), shift_y=int(dy))
        where = tuple(np.argwhere(out > 0.5)[0])
        assert where == (r + dy, c + dx), (trial, r, c, dx, dy, where)


def test_shift_off_the_edge_gives_background():
    img = np.zeros((28, 28))
    img[10, 26] = 1.0
    out = edit_digit(img, shift_x=5)
    assert out.max() == 0.0


def test_rotation_is_anticlockwise_on_screen():
    img = np.zeros((28, 28))
    img[13:15, 17:25] = 1.0  # a bar right of the centre
    out = edit_digit(img, angle=90)
    rows, cols = np.nonzero(out > 0.5)
    # Turning anticlockwise on screen moves "right of centre" to "above".
    assert rows.max() < 13 and cols.min() >= 12 and cols.max() <= 15, (rows, cols)
    # Four quarter turns return (almost) the original.
    back = img
    for _ in range(4):
        back = edit_digit(back, angle=90)
    np.testing.assert_allclose(back, img, atol=1e-9)


def test_thickness_grows_and_shrinks_ink():
    rng = np.random.default_rng(2)
    x = blob_digits(rng, n=10)
    for i, img in enumerate(x):
        ink = (img > 0.5).sum()
        thick = (edit_digit(img, thickness=1) > 0.5).sum()
        thin = (edit_digit(img, thickness=-1) > 0.5).sum()
        assert thin < ink < thick, (i, thin, ink, thick)


@pytest.mark.parametrize("name", [s for s in STROKES if s != "none"])
def test_stroke_adds_ink_only(name):
    img = np.zeros((1, 28, 28), dtype=np.float32)
    out = edit_digit(img, stroke=name)
    assert out.max() == pytest.approx(1.0) or img.max() == out.max() == 0, name
    assert (out >= img).all(), name
    assert 20 < (out > 0.5).sum() < 120, (name, (out > 0.5).sum())


@pytest.mark.parametrize("name", [s for s in ERASERS if s != "none"])
def test_eraser_clears_half(name):
    img = np.ones((28, 28))
    img[0, 0] = 0.0  # background value
    out = edit_digit(img, erase=name)
    assert (out == 0).sum() == pytest.approx(28 * 14, abs=1), name


def test_values_stay_in_range_for_normalised_input():
    rng = np.random.default_rng(3)
    for trial in range(20):
        img = blob_digits(rng, n=1)[0] * 3.0 - 0.4  # like mean/std scaling
        out = edit_digit(img, shift_x=rng.normal(), angle=rng.normal() * 40,
                         thickness=int(rng.integers(-1, 3)),
                         stroke=rng.choice(list(STROKES)),
                         erase=rng.choice(list(ERASERS)),
                         noise=float(rng.random()), seed=trial)
        assert out.min() >= -0.4 - 1e-6 and out.max() <= 2.6 + 1e-6, trial


def test_noise_is_seeded():
    img = np.zeros((28, 28))
    img[5:20, 10:13] = 1.0
    a = edit_digit(img, noise=0.2, seed=4)
    b = edit_digit(img, noise=0.2, seed=4)
    c = edit_digit(img, noise=0.2, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_edit_digit_rejects_bad_input():
    img = np.zeros((28, 28))
    with pytest.raises(ValueError, match="edit_digit: stroke"):
        edit_digit(img, stroke="zigzag")
    with pytest.raises(ValueError, match="edit_digit: erase"):
        edit_digit(img, erase="middle")
    with pytest.raises(ValueError, match="edit_digit: noise"):
        edit_digit(img, noise=-1)
    with pytest.raises(ValueError, match=r"edit_digit: image must have shape"):
        edit_digit(np.zeros((3, 28, 28)))
    with pytest.raises(TypeError, match="edit_digit: image"):
        edit_digit(np.zeros((28, 28), dtype=np.uint8))


# --------------------------------------------------------- class_probabilities


def test_class_probabilities_is_softmax_of_forward():
    rng = np.random.default_rng(5)
    model = LinearModel(rng, np.float64)
    x = rng.normal(size=(7, 1, 28, 28)) * 30  # large scores: must not overflow
    p = class_probabilities(model, x)
    s = model.forward(x)
    ref = np.exp(s - s.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(p, ref, rtol=1e-12)
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert np.isfinite(p).all()


def test_class_probabilities_prefers_predict_proba_and_rejects_others():
    x = np.zeros((2, 1, 28, 28))
    assert class_probabilities(ProbaModel(), x)[0, 3] == 1.0
    with pytest.raises(TypeError, match="class_probabilities: model"):
        class_probabilities(object(), x)


# ------------------------------------------------------------------- render


def test_render_shows_the_models_probabilities():
    rng = np.random.default_rng(6)
    model = LinearModel(rng)
    x = blob_digits(rng)
    y = np.arange(5)
    for i in range(5):
        fig = render_digit_prediction(model, x, y, index=i, angle=10, noise=0.1)
        edited = edit_digit(x[i], angle=10, noise=0.1, seed=i)
        expected = class_probabilities(model, edited[None])[0]
        np.testing.assert_allclose(fig.probabilities, expected, err_msg=str(i))
        assert len(fig.axes) == 3
        pred = int(np.argmax(expected))
        assert f"predicted {pred}" in fig.axes[2].get_title(), i
        heights = [b.get_height() for b in fig.axes[2].patches]
        np.testing.assert_allclose(heights, expected)


def test_render_without_labels_and_with_proba_model():
    x = blob_digits(np.random.default_rng(7), n=3)
    fig = render_digit_prediction(ProbaModel(), x, index=2)
    assert "predicted 3 (100.0%)" in fig.axes[2].get_title()
    assert "WRONG" not in fig.axes[2].get_title()
    fig = render_digit_prediction(ProbaModel(), x, np.array([1, 2, 4]), index=2)
    assert "WRONG" in fig.axes[2].get_title()
    fig = render_digit_prediction(ProbaModel(), x, np.array([1, 2, 3]), index=2)
    assert fig.axes[2].get_title().endswith("right")
    # An edited digit may be a different digit now: no verdict.
    fig = render_digit_prediction(ProbaModel(), x, np.array([1, 2, 4]), index=2,
                                  stroke="top bar")
    assert "WRONG" not in fig.axes[2].get_title()


def test_render_rejects_bad_index_and_shape():
    x = blob_digits(np.random.default_rng(8), n=3)
    model = ProbaModel()
    with pytest.raises(ValueError, match="render_digit_prediction: index"):
        render_digit_prediction(model, x, index=3)
    with pytest.raises(ValueError, match="render_digit_prediction: images"):
        render_digit_prediction(model, x[:, 0], index=0)


def test_render_does_not_use_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_digit_prediction(ProbaModel(), blob_digits(np.random.default_rng(9)))
    assert plt.get_fignums() == before


def test_explorer_builds_and_reacts():
    pytest.importorskip("ipywidgets")
    rng = np.random.default_rng(10)
    model = LinearModel(rng)
    box = explore_digit_prediction(model, blob_digits(rng), np.arange(5))
    assert "cnnlib-explorer" in box._dom_classes
    calls = model.calls
    sliders = [c for row in box.children[1:-2] for c in row.children]
    index = next(s for s in sliders if s.description == "digit #")
    assert index.max == 4
    index.value = 3
    assert model.calls > calls
    # Labels like "move \u2192" must never be cut off ("move ri...").
    assert all(s.style.description_width == "initial" for s in sliders)


# ------------------------------------------- plotting helpers used by notebook 07


def test_plotting_helpers_for_notebook_07():
    from matplotlib.figure import Figure

    from cnnlib.plotting import (
        show_confusion_matrix,
        show_digits,
        show_digits_with_probabilities,
        show_layer_outputs,
        show_probabilities,
    )

    rng = np.random.default_rng(11)
    x = blob_digits(rng, n=5)
    probs = rng.dirichlet(np.ones(10), size=5)

    ax = Figure().subplots()
    assert show_probabilities(probs[0], ax=ax, true=2) is ax
    assert [b.get_height() for b in ax.patches] == pytest.approx(list(probs[0]))
    assert ax.patches[2].get_linewidth() == 2

    fig = show_digits(x, titles=[str(i) for i in range(5)], ncols=3, fig=Figure())
    assert len(fig.axes) == 6 and fig.axes[4].get_title() == "4"

    fig = show_digits_with_probabilities(x, probs, np.arange(5), fig=Figure())
    assert len(fig.axes) == 10
    assert fig.axes[0].get_title().startswith("true 0")

    cm = rng.integers(0, 5, size=(10, 10)) + np.diag(np.full(10, 90))
    ax = show_confusion_matrix(cm, ax=Figure().subplots())
    assert len(ax.texts) == np.count_nonzero(cm | np.eye(10, dtype=bool))

    outs = [x[0], rng.normal(size=(6, 28, 28)), rng.normal(size=(16, 5, 5)),
            rng.normal(size=120), probs[0]]
    fig = show_layer_outputs(outs, list("abcde"), fig=Figure())
    assert len(fig.axes) == 5 + 3  # plus one colour bar per image panel
    fig = show_layer_outputs(outs, list("abcde"), fig=Figure(), max_cols=2)
    maps = [a for a in fig.axes if a.images]
    top = [a.get_position().y0 for a in maps]
    assert top[0] == pytest.approx(top[1]) and top[2] < top[0] - 0.1, top

    with pytest.raises(ValueError, match="show_probabilities: probs"):
        show_probabilities(probs, ax=Figure().subplots())
    with pytest.raises(ValueError, match="show_confusion_matrix: cm"):
        show_confusion_matrix(np.zeros((2, 3)), ax=Figure().subplots())
    with pytest.raises(ValueError, match="show_layer_outputs"):
        show_layer_outputs(outs, ["a"], fig=Figure())
    with pytest.raises(ValueError, match="show_digits_with_probabilities"):
        show_digits_with_probabilities(x, probs[:3], fig=Figure())
    with pytest.raises(ValueError, match="show_digits: images"):
        show_digits(np.zeros((2, 3, 4, 4)), fig=Figure())


def test_class_probabilities_runs_cnnlib_models_in_eval_mode():
    from cnnlib.layers import Dropout, Flatten, Linear
    from cnnlib.model import Sequential

    rng = np.random.default_rng(12)
    x = blob_digits(rng, n=4)
    model = Sequential(Flatten(), Dropout(0.5, seed=0), Linear(784, 10, seed=0))
    p1 = class_probabilities(model, x)
    p2 = class_probabilities(model, x)
    np.testing.assert_array_equal(p1, p2)  # no dropout noise
    assert all(layer.training for layer in model)  # training mode restored
    model.eval()
    s = model.forward(x).astype(np.float64)
    ref = np.exp(s - s.max(1, keepdims=True))
    np.testing.assert_allclose(p1, ref / ref.sum(1, keepdims=True), rtol=1e-5)
