"""Tests for cnnlib.train: the loop, evaluation, callbacks and the CLI."""

import gzip
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cnnlib.train as train
from cnnlib.data import load_mnist
from cnnlib.layers import Conv2D, Flatten, Linear, ReLU, Sequential, lenet5, tiny_cnn
from cnnlib.optim import SGD, Adam, cosine
from cnnlib.train import (
    Callback,
    History,
    LivePlot,
    ProgressBar,
    confusion_matrix,
    evaluate,
    fit,
    predict,
    random_affine,
    render_history,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def digits():
    X, y = load_mnist("subset", "train", dtype=np.float32, normalize=True)
    pick = np.random.default_rng(0).permutation(len(X))[:512]  # all classes
    return X[pick], y[pick]


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


def test_callbacks_are_called_in_order(digits):
    X, y = digits[0][:40], digits[1][:40]
    calls = []

    class Spy(Callback):
        def on_train_begin(self, info):
            calls.append(("begin", info["epochs"], info["steps_per_epoch"]))

        def on_epoch_begin(self, epoch):
            calls.append(("epoch", epoch))

        def on_batch_end(self, step, logs):
            calls.append(("batch", step, round(logs["epoch"], 3)))

        def on_epoch_end(self, epoch, logs):
            calls.append(("end", epoch, logs["epoch"]))

        def on_train_end(self, history):
            calls.append(("done", len(history["epoch"])))

    fit(tiny_cnn(), X, y, epochs=2, batch_size=20, callbacks=[Spy()],
        progress=False)
    assert calls == [("begin", 2, 2), ("epoch", 0), ("batch", 1, 0.5),
                     ("batch", 2, 1.0), ("end", 0, 1), ("epoch", 1),
                     ("batch", 3, 1.5), ("batch", 4, 2.0), ("end", 1, 2),
                     ("done", 2)]


def test_progress_bar_in_terminal(digits, capsys):
    X, y = digits[0][:64], digits[1][:64]
    fit(tiny_cnn(), X, y, epochs=2, batch_size=32, val=(X, y))
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "val_acc" in err
    assert "2/2" in err
    # One bar for the whole run (the default in Jupyter).
    fit(tiny_cnn(), X, y, epochs=2, batch_size=32, progress=False,
        callbacks=[ProgressBar(per_epoch=False)])
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "4/4" in err and "epoch 1/2: 100%" not in err


def test_live_plot(digits, tmp_path, monkeypatch):
    X, y = digits[0][:64], digits[1][:64]
    png = tmp_path / "curves.png"
    fit(tiny_cnn(), X, y, epochs=1, batch_size=32, progress=False,
        callbacks=[LivePlot(path=png)])
    assert png.read_bytes()[:4] == b"\x89PNG"
    # In a notebook: one display handle, updated with PNG-only bundles.
    updates = []

    class Handle:
        def update(self, bundle, raw):
            updates.append((sorted(bundle), raw))

    import IPython.display

    monkeypatch.setattr(train, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display",
                        lambda *a, **k: Handle() if k.get("display_id") else None)
    fit(tiny_cnn(), X, y, epochs=2, batch_size=32, progress=False,
        val=(X, y), callbacks=[LivePlot(interval=1e9)])
    assert updates == [(["image/png"], True)] * 3  # two epochs + the end


def test_render_history():
    hist = History()
    hist.steps.update(step=[1, 2], epoch=[0.5, 1.0], loss=[1.0, 0.5],
                      acc=[0.5, 0.8])
    for k, v in dict(epoch=1, loss=0.7, train_acc=0.7, val_loss=0.6,
                     val_acc=0.85, lr=0.1, time=1.0).items():
        hist[k].append(v)
    fig = render_history(hist)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_title() == "validation accuracy 85.00%"


def test_nan_loss_stops_with_a_clear_error(digits, monkeypatch):
    X, y = digits[0][:64], digits[1][:64]

    def diverged(logits, y):
        return np.float32("nan"), np.zeros_like(logits)

    monkeypatch.setattr(train, "softmax_cross_entropy", diverged)
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
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


class _FixedRng:
    """Stands in for a Generator: ``uniform`` returns queued values."""

    def __init__(self, *values):
        self.values = list(values)

    def uniform(self, low, high, size):
        return np.full(size, self.values.pop(0), dtype=float)


def test_random_affine_exact_cases():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 5, 7)).astype(np.float32)
    same = random_affine(0, 0, 0)(x, rng)
    assert same.dtype == np.float32
    np.testing.assert_allclose(same, x, atol=1e-6)
    # Rotation by exactly 90 degrees (square images): out[i, j] = x[H-1-j, i].
    sq = x[:, :, :5, :5]
    turned = random_affine(90, 0, 0)(sq, _FixedRng(90, 0, 0))
    np.testing.assert_allclose(turned, np.rot90(sq, -1, axes=(2, 3)), atol=1e-5)
    # A shift of one pixel down and right samples x[i+1, j+1]; the
    # uncovered border gets each image's smallest value.
    moved = random_affine(0, 0, 1)(x, _FixedRng(0, 0, 1))
    np.testing.assert_allclose(moved[:, :, :-1, :-1], x[:, :, 1:, 1:], atol=1e-6)
    lowest = x.min(axis=(1, 2, 3))
    np.testing.assert_allclose(moved[:, :, -1, :], np.broadcast_to(
        lowest[:, None, None], (3, 2, 7)), atol=1e-6)


def test_random_affine_varies_and_validates(digits):
    x = digits[0][:8]
    out = random_affine()(x, np.random.default_rng(1))
    assert out.shape == x.shape and not np.allclose(out, x)
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6
    with pytest.raises(ValueError, match="random_affine: scale"):
        random_affine(scale=1.5)


@pytest.mark.parametrize("call, err, match", [
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


# ---------------------------------------------------------------- CLI


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cnnlib.train", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def _write_idx(folder, images, labels):
    for name, arr in (("train-images-idx3-ubyte", images),
                      ("train-labels-idx1-ubyte", labels),
                      ("t10k-images-idx3-ubyte", images[:20]),
                      ("t10k-labels-idx1-ubyte", labels[:20])):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(
            int(d).to_bytes(4, "big") for d in arr.shape)
        with gzip.open(folder / (name + ".gz"), "wb") as f:
            f.write(header + arr.astype(np.uint8).tobytes())


def test_cli_trains_on_idx_files_and_saves(tmp_path):
    X, y = load_mnist("subset", "train")
    pick = np.random.default_rng(0).permutation(len(X))[:200]
    _write_idx(tmp_path, X[pick, 0], y[pick])
    ckpt = tmp_path / "tiny.npz"
    r = _cli("--data-dir", str(tmp_path), "--model", "tiny", "--epochs", "1",
             "--save", str(ckpt), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "200 training and 20 test digits" in r.stdout
    assert "test accuracy: " in r.stdout and f"saved {ckpt}" in r.stdout
    assert r.stderr == ""
    train.load(tiny_cnn, ckpt)


@pytest.mark.parametrize("args, match", [
    (["--data-dir", "/nonexistent/mnist"], "is not a directory"),
    (["--batch-size", "0"], "--batch-size: must be a positive int, got '0'"),
    (["--epochs", "two"], "--epochs: must be a positive int"),
    (["--lr", "-1"], "--lr: must be a positive float"),
    (["--model", "vgg"], "invalid choice: 'vgg'"),
    (["--save", "/nonexistent/dir/m.npz"], "--save: directory"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_cli_bad_arguments(args, match):
    r = _cli(*args)
    assert r.returncode == 2, (args, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize("damage", ["truncate", "missing", "garbage"])
def test_cli_corrupt_data_dir(tmp_path, damage):
    X, y = load_mnist("subset", "test")
    _write_idx(tmp_path, X[:30, 0], y[:30])
    target = tmp_path / "train-images-idx3-ubyte.gz"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "missing":
        target.unlink()
    else:
        target.write_bytes(b"\x00\x00\x08\x03garbage")
    r = _cli("--data-dir", str(tmp_path), "--epochs", "1")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "train-images-idx3-ubyte" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_cli_refuses_to_overwrite_a_non_checkpoint(tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    r = _cli("--save", str(precious), "--epochs", "1")
    assert r.returncode == 2 and "not a cnnlib checkpoint" in r.stderr
    assert precious.read_text() == "keep me"
