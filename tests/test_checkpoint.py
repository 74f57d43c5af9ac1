"""Tests for cnnlib.checkpoint: exact round trips, atomic writes, refusals."""

import io
import os
import pickle
import signal
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile

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
    with pytest.raises(ValueError, match="entry '0.w' holds Python objects "
                       r"\(pickled data\); refusing"):
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


# ---------------------------------------------------------------- issue 13:
# hostile or wrong files, each with its own true message; nothing lost.

def _finishes(fn, seconds=20):
    """Run ``fn`` in a thread; return what it returned or raised. A call that
    blocks (opening a FIFO nobody writes to) fails the test, not the run."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - handed to the test
            out["error"] = err

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn} blocked for {seconds} s"
    return out


def _npy(header, body=b""):
    """An .npy entry with a hand-written header (version 1.0)."""
    header = header.encode("latin1")
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name + ".npy", data)


def _mark():
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array("cnnlib-checkpoint-1"))
    return buf.getvalue()


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    got = _finishes(lambda: load(tiny_cnn(), fifo))
    assert isinstance(got.get("error"), ValueError), got
    assert "pipe.npz is a named pipe (FIFO), not a checkpoint file" in \
        str(got["error"])
    got = _finishes(lambda: save(tiny_cnn(), fifo))
    assert isinstance(got.get("error"), ValueError), got
    assert "is a named pipe (FIFO); refusing to write" in str(got["error"])
    assert _finishes(lambda: is_checkpoint(fifo)) == {"value": False}
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the user's FIFO


def test_a_directory_is_named_as_such(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory, not a "
                       "checkpoint file"):
        load(tiny_cnn(), tmp_path)


def test_huge_declared_entry_is_refused_before_allocating(tmp_path):
    # 2 GB declared, a few bytes stored: refused from the header alone.
    path = tmp_path / "bomb.npz"
    _zip(path, {"__cnnlib__": _mark(),
                "0.w": _npy("{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (268435456,), }", b"\0" * 64)})
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"entry '0.w' declares float64 "
                           r"\(268435456,\) \(2,147,483,648 bytes\) but holds "
                           r"64 bytes"):
            load(tiny_cnn(), path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB allocated"


def test_entry_larger_than_its_header_declares(tmp_path):
    path = tmp_path / "long.npz"
    entries = {"__cnnlib__": _mark()}
    for k, p in tiny_cnn().params().items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, p)
        entries[k] = buf.getvalue()
    entries["0.b"] += b"\0" * 10**6  # a megabyte more than (8,) float32
    _zip(path, entries)
    with pytest.raises(ValueError, match=r"entry '0.b' declares float32 \(8,\) "
                       r"\(32 bytes\) but holds 1,000,032 bytes"):
        load(tiny_cnn(), path)


@pytest.mark.parametrize("entry, match", [
    (_npy("{'descr': '<f4', (", b""), "entry '0.w' has no valid .npy header"),
    (_npy("[1, 2, 3]", b""), "entry '0.w' has no valid .npy header"),
    (b"\x93NUMPY\x01\x00\xff", r"entry '0.w' has no valid .npy header \(EOF"),
    (b"not numpy at all", "entry '0.w' has no valid .npy header"),
    (_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1, 3, 3), }",
          b"\0" * 100), r"entry '0.w' declares float32 \(8, 1, 3, 3\) \(288 "
                        r"bytes\) but holds 100 bytes"),
    (_npy("{'descr': '|O', 'fortran_order': False, 'shape': (8, 1, 3, 3), }",
          b"\0" * 100), "entry '0.w' holds Python objects"),
    (_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-8, 1, 3, 3), }"),
     r"entry '0.w' declares an impossible shape \(-8, 1, 3, 3\)"),
])
def test_each_broken_entry_gets_its_own_message(tmp_path, entry, match):
    path = tmp_path / "broken.npz"
    _zip(path, {"__cnnlib__": _mark(), "0.w": entry})
    model = tiny_cnn()
    before = model.params()["0.w"].copy()
    with pytest.raises(ValueError, match=match):
        load(model, path)
    np.testing.assert_array_equal(model.params()["0.w"], before)


def test_damaged_data_is_called_corrupt(tmp_path):
    path = tmp_path / "m.npz"
    model = tiny_cnn(seed=1)
    save(model, path)
    data = bytearray(path.read_bytes())
    at = bytes(data).index(model.params()["3.w"].tobytes()) + 100
    data[at] ^= 0xFF  # one flipped byte: the entry's CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"entry '3.w' is corrupt \(Bad CRC-32"):
        load(tiny_cnn(), path)


def test_nan_weights_and_values_beyond_float32_are_refused(tmp_path):
    good = tiny_cnn(dtype=np.float64)
    good.params()["3.w"][1, 2, 0, 1] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, __cnnlib__=np.array("cnnlib-checkpoint-1"),
             **good.params())
    model = tiny_cnn()
    before = model.params()["0.w"].copy()
    with pytest.raises(ValueError, match=r"entry '3.w' holds nan at index "
                       r"\(1, 2, 0, 1\); a checkpoint holds finite weights"):
        load(model, path)
    big = tiny_cnn(dtype=np.float64)
    big.params()["0.w"][0, 0, 0, 0] = 1e300
    np.savez(path, __cnnlib__=np.array("cnnlib-checkpoint-1"), **big.params())
    with pytest.raises(ValueError, match=r"entry '0.w' holds values up to "
                       r"1e\+300, beyond the model's float32 range"):
        load(model, path)
    np.testing.assert_array_equal(model.params()["0.w"], before)  # unchanged
    assert load(tiny_cnn(dtype=np.float64), path).params()["0.w"][0, 0, 0, 0] \
        == 1e300  # a float64 model holds it


def test_save_never_writes_objects_or_nan(tmp_path):
    model = tiny_cnn()
    model[0].params["w"] = model[0].params["w"].astype(object)
    with pytest.raises(TypeError, match="parameter '0.w' must be a float array, "
                       "got dtype object"):
        save(model, tmp_path / "obj.npz")
    model = tiny_cnn()
    model.params()["7.b"][3] = np.inf
    with pytest.raises(ValueError, match="parameter '7.b' holds NaN or inf"):
        save(model, tmp_path / "inf.npz")
    assert os.listdir(tmp_path) == []


def test_saving_through_a_symlink_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.npz"
    save(tiny_cnn(seed=1), target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save(tiny_cnn(seed=2), link)
    assert link.is_symlink() and link.resolve() == target
    np.testing.assert_array_equal(load(tiny_cnn, target).params()["0.w"],
                                  tiny_cnn(seed=2).params()["0.w"])
    assert sorted(os.listdir(tmp_path / "real")) == ["m.npz"]


_KILLED_SAVE = """
import os, signal, sys
import numpy as np
import cnnlib.checkpoint as ckpt
from cnnlib.model import tiny_cnn

def dies_half_way(file, **arrays):
    file.write(b"PK\\x03\\x04 half a zip file")
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)

ckpt.np.savez = dies_half_way
ckpt.save(tiny_cnn(seed=2), sys.argv[1])
"""


def test_temporary_files_of_killed_saves_are_removed(tmp_path):
    path = tmp_path / "m.npz"
    save(tiny_cnn(seed=1), path)
    for _ in range(3):  # kill -9 in the middle of three saves: no pile-up,
        r = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)],
                           timeout=60)
        assert r.returncode == -signal.SIGKILL
        left = [n for n in os.listdir(tmp_path) if n != "m.npz"]
        assert len(left) == 1 and left[0].startswith(".tmp-"), left  # the last
    # A temporary of the old naming, an hour old, and a fresh one.
    old, fresh = tmp_path / ".tmp-abcd1234.npz", tmp_path / ".tmp-efgh5678.npz"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    # One of a save still running (this process's parent is alive).
    running = tmp_path / f".tmp-{os.getppid()}-ijkl9012.npz"
    running.write_bytes(b"x")
    save(tiny_cnn(seed=3), path)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["m.npz", fresh.name, running.name])
    np.testing.assert_array_equal(load(tiny_cnn, path).params()["0.w"],
                                  tiny_cnn(seed=3).params()["0.w"])
