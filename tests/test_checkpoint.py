"""Tests for cnnlib.checkpoint: exact round trips, atomic writes, refusals."""

import os
import pickle

import numpy as np
import pytest

import cnnlib.checkpoint as ckpt
from cnnlib.checkpoint import is_checkpoint, load, save
from cnnlib.model import lenet5, tiny_cnn


def test_round_trip_is_exact(tmp_path):
    model = lenet5(seed=1)
    path = tmp_path / "m.npz"
    assert save(model, path) == str(path)
    assert is_checkpoint(path)
    other = load(lenet5(seed=2), path)
    for (k, a), (k2, b) in zip(model.params().items(), other.params().items(),
                                     strict=True):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b, err_msg=k)
    # A factory works too, and float64 models get float64 values.
    again = load(lambda: lenet5(dtype=np.float64), path)
    assert again.dtype == np.float64
    np.testing.assert_array_equal(again.params()["0.w"], model.params()["0.w"])


def test_load_is_in_place(tmp_path):
    path = tmp_path / "m.npz"
    save(tiny_cnn(seed=1), path)
    model = tiny_cnn(seed=2)
    w = model.params()["0.w"]
    assert load(model, path) is model
    assert model.params()["0.w"] is w  # optimizer references stay valid


def test_interrupted_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save(tiny_cnn(seed=1), path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save(tiny_cnn(seed=2), path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.npz"], "temporary file left"
    monkeypatch.undo()
    np.testing.assert_array_equal(load(tiny_cnn, path).params()["0.w"],
                                  tiny_cnn(seed=1).params()["0.w"])


def test_mismatched_architecture_lists_names_and_shapes(tmp_path):
    path = tmp_path / "tiny.npz"
    save(tiny_cnn(), path)
    with pytest.raises(ValueError) as err:
        load(lenet5(), path)
    msg = str(err.value)
    assert "does not fit this model" in msg
    assert "shape of 0.w: model (6, 1, 5, 5), file (8, 1, 3, 3)" in msg
    assert "missing in file: 9.w (120, 84)" in msg
    assert "Conv2D(1, 8, kernel_size=3)" in msg  # what the file was saved from


def test_refuses_pickled_content(tmp_path):
    obj = tmp_path / "object.npz"
    np.savez(obj, **{"__cnnlib__": np.array("cnnlib-checkpoint-1"),
                     "0.w": np.array([{"evil": 1}], dtype=object)})
    with pytest.raises(ValueError, match="object array"):
        load(tiny_cnn(), obj)
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps({"0.w": np.zeros(3)}))
    with pytest.raises(ValueError, match="pickled Python objects; refusing"):
        load(tiny_cnn(), pkl)


@pytest.mark.parametrize("content, match", [
    (b"", "not an .npz file"),
    (b"PK\x03\x04 broken", "not a readable .npz"),
    (b"hello world", "not a cnnlib checkpoint"),
])
def test_refuses_non_checkpoints(tmp_path, content, match):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load(tiny_cnn(), path)


def test_plain_npz_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="no '__cnnlib__' entry"):
        load(tiny_cnn(), path)
    # ... and save() will not replace it.
    with pytest.raises(FileExistsError, match="not a cnnlib checkpoint"):
        save(tiny_cnn(), path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tiny_cnn(), tmp_path / "missing.npz")


def test_save_errors(tmp_path):
    path = tmp_path / "m.npz"
    save(tiny_cnn(), path)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        save(tiny_cnn(), path, overwrite=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(tiny_cnn(), tmp_path / "no" / "m.npz")
    with pytest.raises(IsADirectoryError):
        save(tiny_cnn(), tmp_path)
    with pytest.raises(TypeError, match="model must"):
        save(object(), tmp_path / "n.npz")
