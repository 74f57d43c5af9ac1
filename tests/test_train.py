"""Tests for cnnlib.train: the loop and evaluation."""

import math

import numpy as np
import pytest

import cnnlib.train as train
from cnnlib.layers import Conv2D, Flatten, Linear, ReLU
from cnnlib.model import Sequential, lenet5, tiny_cnn
from cnnlib.optim import SGD, Adam, cosine
from cnnlib.train import (
    History,
    TrainingDiverged,
    confusion_matrix,
    evaluate,
    fit,
    predict,
    train_step,
)


def test_overfits_64_examples(digits):
    X, y = digits[0][:64], digits[1][:64]
    model = lenet5(seed=0)
    hist = fit(model, X, y, epochs=25, batch_size=16, optimizer=Adam(2e-3),
               progress=False, seed=0)
    assert evaluate(model, X, y)[1] == 1.0, hist["train_acc"]
    assert hist["loss"][-1] < 0.05, hist["loss"]


def test_history_and_steps(digits):
    X, y = digits
    model = tiny_cnn(seed=0)
    opt = SGD(0.05, momentum=0.9)
    hist = fit(model, X, y, epochs=2, batch_size=100, optimizer=opt,
               val=(X[:100], y[:100]), log_every=2, progress=False,
               lr_schedule=cosine(0.05, 2))
    assert isinstance(hist, History) and set(hist) == set(History.KEYS)
    assert hist["epoch"] == [1, 2]
    assert all(len(v) == 2 for v in hist.values())
    # 6 steps per epoch (the last batch has 12): logged at 2, 4, 6 each.
    assert hist.steps["step"] == [2, 4, 6, 8, 10, 12]
    assert hist.steps["epoch"][:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert hist["loss"][1] < hist["loss"][0]
    assert 0 <= hist["val_acc"][1] <= 1 and not math.isnan(hist["val_loss"][1])
    assert hist["lr"][1] < 0.05 * 0.2  # the cosine schedule ran
    assert "2 epochs" in repr(hist)
    # The same seed gives the same run.
    again = tiny_cnn(seed=0)
    fit(again, X, y, epochs=2, batch_size=100, optimizer=SGD(0.05, momentum=0.9),
        val=(X[:100], y[:100]), log_every=2, progress=False,
        lr_schedule=cosine(0.05, 2))
    np.testing.assert_array_equal(again.params()["7.w"], model.params()["7.w"])


def test_nan_loss_stops_with_a_clear_error(digits, monkeypatch):
    X, y = digits[0][:64], digits[1][:64]

    def diverged(logits, y):
        return np.float32("nan"), np.zeros_like(logits)

    monkeypatch.setattr(train, "softmax_cross_entropy", diverged)
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        fit(tiny_cnn(), X, y, epochs=3, optimizer=SGD(1e12), progress=False)


def test_evaluate_predict_confusion(digits):
    X, y = digits
    model = Sequential(Flatten(), Linear(784, 10, seed=0))
    fit(model, X, y, epochs=3, batch_size=32, optimizer=Adam(1e-2),
        progress=False)
    loss, acc = evaluate(model, X, y, batch_size=100)
    classes = predict(model, X, batch_size=77)
    probs = predict(model, X, proba=True)
    assert classes.shape == (512,) and classes.dtype == np.int64
    assert probs.shape == (512, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(probs.argmax(axis=1), classes)
    assert acc == pytest.approx(np.mean(classes == y)) and acc > 0.8
    logp = -np.log(probs[np.arange(512), y].astype(np.float64)).mean()
    assert loss == pytest.approx(logp, rel=1e-4)
    cm = confusion_matrix(y, classes)
    assert cm.shape == (10, 10) and cm.sum() == 512
    assert np.trace(cm) == int(np.sum(classes == y))
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y, minlength=10))


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]))
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
    assert confusion_matrix(np.array([1]), np.array([1]), num_classes=4).shape \
        == (4, 4)
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError, match="num_classes=2"):
        confusion_matrix(np.array([3]), np.array([1]), num_classes=2)


def test_eval_mode_is_restored():
    from cnnlib.layers import Dropout

    model = Sequential(Flatten(), Dropout(0.5, seed=0), Linear(4, 2, seed=0))
    X = np.ones((3, 1, 2, 2), np.float32)
    np.testing.assert_array_equal(predict(model, X, proba=True)[0],
                                  predict(model, X, proba=True)[1])
    assert all(layer.training for layer in model)


@pytest.mark.parametrize("call, err, match", [
    (lambda m, X, y: fit(m, X, y, optimizer="adam"), TypeError,
     "fit: optimizer must be an optimizer object such as Adam"),
    (lambda m, X, y: fit(m, X, y, batch_size=0), ValueError,
     "fit: batch_size must be a positive int, got 0"),
    (lambda m, X, y: fit(m, X, y[:-1]), ValueError, r"y must be an int array"),
    (lambda m, X, y: fit(m, X.astype(np.uint8), y), TypeError, "float32 or"),
    (lambda m, X, y: fit(m, X, y, val=X), ValueError, "val must be a pair"),
    (lambda m, X, y: predict(m, X[0]), ValueError, r"\(N, C, H, W\) \(4-D\)"),
    (lambda m, X, y: evaluate(m, X, y.astype(float)), ValueError, "int array"),
])
def test_bad_arguments(digits, call, err, match):
    with pytest.raises(err, match=match):
        call(tiny_cnn(), digits[0][:10], digits[1][:10])


def test_float64_model_trains_on_float32_data(digits):
    model = Sequential(Conv2D(1, 2, 3, seed=0, dtype=np.float64), ReLU(),
                       Flatten(), Linear(2 * 26 * 26, 10, seed=0,
                                         dtype=np.float64))
    hist = fit(model, digits[0][:32], digits[1][:32], epochs=1, progress=False)
    assert model.dtype == np.float64 and len(hist["loss"]) == 1


def test_train_step_is_one_step_of_gradient_descent(digits):
    X, y = digits[0][:16], digits[1][:16]
    model, by_hand = tiny_cnn(seed=3), tiny_cnn(seed=3)
    loss, hits = train_step(model, X, y, SGD(0.1))
    # The same step written out: forward, loss, backward, p -= lr * g.
    from cnnlib.losses import softmax_cross_entropy

    logits = by_hand.forward(X)
    want, dlogits = softmax_cross_entropy(logits, y)
    by_hand.backward(dlogits)
    for p, g in zip(by_hand.params().values(), by_hand.grads().values()):
        p -= np.float32(0.1) * g
    assert loss == pytest.approx(float(want))
    assert hits == int(np.sum(logits.argmax(axis=1) == y))
    for k, p in model.params().items():
        np.testing.assert_allclose(p, by_hand.params()[k], rtol=1e-6, err_msg=k)


def test_fit_is_train_step_over_shuffled_batches(digits):
    """fit = shuffle with the seed, then train_step on each batch in order."""
    X, y = digits[0][:100], digits[1][:100]
    model, by_hand = tiny_cnn(seed=1), tiny_cnn(seed=1)
    fit(model, X, y, epochs=2, batch_size=32, optimizer=SGD(0.05), seed=7,
        progress=False)
    rng, opt = np.random.default_rng(7), SGD(0.05)
    for _ in range(2):
        order = rng.permutation(len(X))
        for s in range(0, len(X), 32):
            train_step(by_hand, X[order[s:s + 32]], y[order[s:s + 32]], opt)
    for k, p in model.params().items():
        np.testing.assert_array_equal(p, by_hand.params()[k], err_msg=k)


# ---------------------------------------------------------------- issue 13:
# a diverging run stops with one message naming the step and the remedy.

@pytest.mark.parametrize("make", [
    pytest.param(lambda X: (lenet5(), X, SGD(1e3)), id="SGD(1e3)"),
    pytest.param(lambda X: (lenet5(), X, SGD(1e6)), id="SGD(1e6)"),
    pytest.param(lambda X: (lenet5(dtype=np.float64), X, Adam(1e6)),
                 id="float64-Adam(1e6)"),
])
def test_divergence_names_the_step_and_the_learning_rate(digits, make):
    model, X, opt = make(digits[0][:256])
    with pytest.raises(TrainingDiverged) as err:
        fit(model, X, digits[1][:256], epochs=3, optimizer=opt, progress=False)
    msg = str(err.value)
    assert msg.startswith("fit: training diverged at epoch 1, batch ")
    assert "of 4" in msg and "try a smaller learning rate" in msg, msg
    assert f"(it is {opt.lr:g})" in msg, msg


def test_huge_inputs_are_named_as_a_cause(digits):
    X = digits[0][:128] * np.float32(1e30)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 1 of 2: .*"
                       r"scale the inputs: \|X\| reaches 2.8\de\+30"):
        fit(lenet5(), X, digits[1][:128], progress=False)


def test_overflow_inside_the_forward_pass_is_divergence(digits):
    # Finite weights whose product overflows float32: the logits are inf.
    model = Sequential(Flatten(), Linear(784, 32, init=1e20, seed=0), ReLU(),
                       Linear(32, 10, init=1e20, seed=1))
    with pytest.raises(TrainingDiverged, match=r"batch 1 of 1: numbers "
                       r"overflowed \(softmax_cross_entropy: logits must be "
                       r"finite"):
        fit(model, digits[0][:64], digits[1][:64], progress=False)


def test_weights_that_overflow_stop_the_run(digits):
    # A finite gradient times lr 1e38 overflows float32 weights in one step.
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 1 of 1: the "
                       r"weights \['.*'\] are no longer finite"):
        fit(tiny_cnn(), digits[0][:64] * np.float32(100), digits[1][:64],
            optimizer=SGD(1e38), progress=False)


def test_a_negative_scheduled_learning_rate_is_refused(digits):
    model = tiny_cnn()
    before = model.params()["0.w"].copy()
    with pytest.raises(ValueError, match=r"fit: lr_schedule\(0\) must be a "
                       r"number >= 0, got -1.0"):
        fit(model, digits[0][:64], digits[1][:64], progress=False,
            lr_schedule=lambda t: -1.0)
    np.testing.assert_array_equal(model.params()["0.w"], before)


def test_nan_in_the_data_is_reported_at_its_index_in_X(digits):
    X = digits[0][:256].copy()
    X[100, 0, 7, 9] = np.nan
    with pytest.raises(ValueError, match=r"fit: X must be finite, got nan at "
                       r"index \(100, 0, 7, 9\)"):
        fit(tiny_cnn(), X, digits[1][:256], progress=False)
    with pytest.raises(ValueError, match=r"evaluate: X must be finite, got nan "
                       r"at index \(100, 0, 7, 9\)"):
        evaluate(tiny_cnn(), X, digits[1][:256])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int64])
def test_confusion_matrix_with_small_int_labels(dtype):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 100, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 100, 500))
    want = np.zeros((100, 100), np.int64)
    for t, p in zip(y_true, y_pred):  # the definition, one sample at a time
        want[t, p] += 1
    got = confusion_matrix(y_true.astype(dtype), y_pred.astype(dtype))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int64
