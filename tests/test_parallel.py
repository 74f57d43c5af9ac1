"""Tests for cnnlib.parallel: a batch split across worker processes gives the
gradients of the whole batch, and workers end cleanly, also on errors."""

import glob

import numpy as np
import pytest

import cnnlib.train as train
from cnnlib.callbacks import Callback
from cnnlib.layers import Conv2D, Dropout, Flatten, Linear, ReLU
from cnnlib.model import Sequential, lenet5, tiny_cnn
from cnnlib.optim import SGD
from cnnlib.parallel import DataParallel, split_sizes, train_step
from cnnlib.train import fit


def _leftover_files():
    return glob.glob("/dev/shm/cnnlib-parallel-*")


@pytest.mark.parametrize("seed", range(20))
def test_split_sizes_cover_n_evenly(seed):
    rng = np.random.default_rng(seed)
    n, parts = int(rng.integers(0, 200)), int(rng.integers(1, 9))
    sizes = split_sizes(n, parts)
    assert len(sizes) == parts and sum(sizes) == n
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


@pytest.fixture(scope="module")
def three_workers():
    model = lenet5(seed=3, dtype=np.float64)
    with DataParallel(model, 3, 64, (1, 28, 28)) as dp:
        yield model, dp


@pytest.mark.parametrize("n", [1, 2, 3, 7, 37, 64])
def test_step_equals_one_process_step(three_workers, n):
    """float64: the parts' weighted gradients add up to the batch gradient."""
    model, dp = three_workers
    rng = np.random.default_rng(n)
    for p in model.params().values():  # new weights: workers must see them
        p += 0.01 * rng.standard_normal(p.shape)
    x = rng.standard_normal((n, 1, 28, 28))
    y = rng.integers(0, 10, n)
    loss, hits = dp.step(x, y)
    got = {k: g.copy() for k, g in model.grads().items()}
    ref_loss, ref_hits = train_step(model, x, y)
    assert hits == ref_hits
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    for k, g in model.grads().items():
        np.testing.assert_allclose(got[k], g, rtol=1e-10, atol=1e-14,
                                   err_msg=k)


def test_fit_with_workers_matches_fit_without():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 1, 28, 28))
    y = rng.integers(0, 10, 90)
    hist, params = [], []
    for workers in (1, 2):
        model = tiny_cnn(seed=1, dtype=np.float64)
        hist.append(fit(model, X, y, epochs=2, batch_size=32, progress=False,
                        optimizer=SGD(0.05, momentum=0.9), workers=workers))
        params.append(model.params())
    for key in ("loss", "train_acc"):
        np.testing.assert_allclose(hist[0][key], hist[1][key], rtol=1e-10)
    for k in params[0]:
        np.testing.assert_allclose(params[0][k], params[1][k], rtol=1e-9,
                                   atol=1e-12, err_msg=k)
    assert not _leftover_files()


def test_workers_draw_their_own_dropout_masks():
    model = Sequential(Flatten(), Dropout(0.5, seed=0), Linear(4, 2, seed=0))
    dp = DataParallel(model, 1, 8, (4,))  # no processes: only replicas
    a, b = dp._replica(0), dp._replica(1)
    ra, rb = a.layers[1].rng.random(8), b.layers[1].rng.random(8)
    assert not np.allclose(ra, rb)
    assert model.layers[1].rng is not a.layers[1].rng


def test_worker_error_is_reported_and_workers_stay_usable():
    model = tiny_cnn(seed=0)
    with DataParallel(model, 2, 8, (1, 28, 28)) as dp:
        x = np.zeros((8, 1, 28, 28), np.float32)
        bad = np.array([0, 1, 2, 3, 4, 5, 6, 99])  # only worker 1 sees 99
        with pytest.raises(RuntimeError, match=r"worker 1 failed: ValueError"):
            dp.step(x, bad)
        loss, hits = dp.step(x, np.zeros(8, np.int64))
        assert np.isfinite(loss) and 0 <= hits <= 8


def test_dead_worker_gives_a_clear_error():
    with DataParallel(tiny_cnn(seed=0), 2, 8, (1, 28, 28)) as dp:
        dp._procs[0].kill()
        dp._procs[0].wait()
        with pytest.raises(RuntimeError, match="worker 0 ended"):
            dp.step(np.zeros((8, 1, 28, 28), np.float32), np.zeros(8, np.int64))


def test_close_ends_workers_and_leaves_no_files():
    dp = DataParallel(tiny_cnn(seed=0), 2, 8, (1, 28, 28))
    procs = list(dp._procs)
    assert not _leftover_files()  # unlinked once both sides have it open
    dp.close()
    dp.close()  # idempotent
    assert all(p.poll() is not None for p in procs)


def test_interrupted_fit_ends_its_workers(monkeypatch):
    made = []

    class Recording(DataParallel):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    class Stop(Callback):
        def on_batch_end(self, step, logs):
            if step == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(train, "DataParallel", Recording)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    with pytest.raises(KeyboardInterrupt):
        fit(tiny_cnn(seed=0), X, y, batch_size=16, workers=2,
            callbacks=[Stop()], progress=False)
    assert made and made[0]._procs == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(workers=0), "workers must be a positive int, got 0"),
    (dict(workers=1.5), "workers must be a positive int, got 1.5"),
    (dict(workers=True), "workers must be a positive int, got True"),
    (dict(batch_size=0), "batch_size must be a positive int, got 0"),
])
def test_bad_arguments(kwargs, match):
    args = dict(workers=2, batch_size=8)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        DataParallel(tiny_cnn(seed=0), args["workers"], args["batch_size"],
                     (1, 28, 28))


def test_step_refuses_a_batch_that_does_not_fit():
    with DataParallel(tiny_cnn(seed=0), 2, 8, (1, 28, 28)) as dp:
        for x in (np.zeros((9, 1, 28, 28), np.float32),
                  np.zeros((8, 1, 28, 27), np.float32),
                  np.zeros((8, 1, 28, 28), np.float64)):
            with pytest.raises(ValueError, match=r"DataParallel.step: xb must"):
                dp.step(x, np.zeros(len(x), np.int64))


def test_model_with_conv_and_linear_parameters_in_any_order():
    """Parameter names like '0.w', '4.b' map back to the right layers."""
    model = Sequential(Conv2D(1, 2, 3, seed=0), ReLU(), Flatten(),
                       Linear(2 * 6 * 6, 3, seed=1))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 1, 8, 8)).astype(np.float32), np.arange(5) % 3
    with DataParallel(model, 2, 5, (1, 8, 8)) as dp:
        dp.step(x, y)
        got = {k: g.copy() for k, g in model.grads().items()}
    train_step(model, x, y)
    for k, g in model.grads().items():
        np.testing.assert_allclose(got[k], g, rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("workers", [1, 2])
def test_start_and_finish_must_alternate(workers):
    x, y = np.zeros((4, 1, 28, 28), np.float32), np.zeros(4, np.int64)
    with DataParallel(tiny_cnn(seed=0), workers, 4, (1, 28, 28)) as dp:
        with pytest.raises(RuntimeError, match="no step was started"):
            dp.finish()
        dp.start(x, y)
        with pytest.raises(RuntimeError, match="previous step is not finished"):
            dp.start(x, y)
        loss, _ = dp.finish()
        assert loss == pytest.approx(np.log(10), abs=0.3)


class Doubler(ReLU):
    """A layer class the worker processes cannot import (set up below)."""

    def forward(self, x):
        return 2 * super().forward(x)


def test_a_layer_the_workers_cannot_import_gives_advice(monkeypatch):
    import __main__

    # As if defined in a notebook: pickled as __main__.Doubler, which the
    # worker's own __main__ does not have.
    monkeypatch.setattr(Doubler, "__module__", "__main__")
    monkeypatch.setattr(__main__, "Doubler", Doubler, raising=False)
    model = Sequential(Flatten(), Doubler(), Linear(4, 2, seed=0))
    with pytest.raises(RuntimeError, match=r"worker 0 failed: AttributeError.*"
                       r"move it into a module, or train with workers=1"):
        DataParallel(model, 2, 4, (4,))
    assert not _leftover_files()


def test_a_layer_that_cannot_be_pickled_gives_advice():
    class Local(ReLU):
        pass

    model = Sequential(Flatten(), Local(), Linear(4, 2, seed=0))
    with pytest.raises(RuntimeError, match=r"could not copy the model.*"
                       r"train with workers=1"):
        DataParallel(model, 2, 4, (4,))
    assert not _leftover_files()
