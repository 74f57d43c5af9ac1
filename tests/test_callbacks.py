"""Tests for cnnlib.callbacks: hook order, progress bars and the live plot."""


import cnnlib.callbacks as callbacks
from cnnlib.callbacks import Callback, LivePlot, ProgressBar, render_history
from cnnlib.model import tiny_cnn
from cnnlib.train import History, fit


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

    monkeypatch.setattr(callbacks, "_in_notebook", lambda: True)
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
