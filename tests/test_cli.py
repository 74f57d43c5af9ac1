"""Tests for cnnlib.cli (``python -m cnnlib.train``): a run and its errors."""

import gzip
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cnnlib.cli as cli
from cnnlib.checkpoint import load, save
from cnnlib.data import load_mnist
from cnnlib.model import tiny_cnn

ROOT = Path(__file__).resolve().parent.parent


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
    load(tiny_cnn, ckpt)


@pytest.mark.parametrize("args, match", [
    (["--data-dir", "/nonexistent/mnist"], "is not a directory"),
    (["--batch-size", "0"], "--batch-size: must be a positive int, got 0"),
    (["--epochs", "two"], "--epochs: invalid int value: 'two'"),
    (["--lr", "-1"], "--lr: must be a number > 0, got -1.0"),
    (["--lr", "nan"], "--lr: must be a number > 0, got nan"),
    (["--seed", "-3"], "--seed: must be a number >= 0, got -3"),
    (["--workers", "2"], "unrecognized arguments: --workers 2"),
    (["--model", "vgg"], "invalid choice: 'vgg'"),
    (["--save", "/nonexistent/dir/m.npz"], "--save: save: directory "
     "/nonexistent/dir does not exist"),
    (["--save", "/proc/m.npz"], "--save: save: cannot write in /proc"),
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


# ---------------------------------------------------------------- issue 13


def _one_line_error(r, status=2):
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("python -m cnnlib.train: "), lines[0]
    assert "Traceback" not in r.stderr
    return lines[0]


def test_cli_diverging_run_is_one_line_and_keeps_the_old_checkpoint(tmp_path):
    ckpt = tmp_path / "m.npz"
    save(tiny_cnn(seed=4), ckpt)
    before = ckpt.read_bytes()
    r = _cli("--lr", "1e6", "--model", "tiny", "--epochs", "1", "--no-progress",
             "--save", str(ckpt))
    line = _one_line_error(r)
    assert "fit: training diverged at epoch 1, batch " in line, line
    assert "try a smaller learning rate (it is " in line, line
    assert line.endswith("; the peak was --lr 1e+06"), line
    assert ckpt.read_bytes() == before


@pytest.mark.parametrize("images, labels, word", [
    (np.zeros((30, 32, 32)), np.arange(30) % 10, "32"),  # not 28x28
    (np.zeros((30, 28, 28)), np.full(30, 200), "200"),  # not a digit
    (np.zeros((0, 28, 28)), np.zeros(0), "image"),  # no images at all
])
def test_cli_idx_files_that_are_not_mnist(tmp_path, images, labels, word):
    _write_idx(tmp_path, images, labels)
    line = _one_line_error(_cli("--data-dir", str(tmp_path), "--epochs", "1",
                                "--no-progress"))
    assert word in line, line


def _as_unprivileged():
    """A command prefix under which a folder's permissions hold, even for root
    (which can write anywhere unless it gives up CAP_DAC_OVERRIDE)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root: setpriv (util-linux) is needed"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]


def test_cli_read_only_save_folder_is_found_before_training(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        r = subprocess.run(
            [*_as_unprivileged(), sys.executable, "-m", "cnnlib.train",
             "--save", str(folder / "m.npz"), "--epochs", "1"],
            capture_output=True, text=True, cwd=ROOT, timeout=120)
    finally:
        folder.chmod(0o755)
    line = _one_line_error(r)
    assert f"--save: save: cannot write in {folder} (Permission denied)" in line
    assert r.stdout == ""  # refused before loading data or training
    assert os.listdir(folder) == []


def test_cli_save_onto_a_fifo_is_refused_before_training(tmp_path):
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    line = _one_line_error(_cli("--save", str(fifo), "--epochs", "1"))
    assert "is a named pipe (FIFO); refusing to write a checkpoint" in line
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_cli_ctrl_c_during_training_saves_what_was_trained(tmp_path):
    ckpt = tmp_path / "m.npz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnlib.train", "--model", "tiny", "--epochs",
         "100", "--no-progress", "--save", str(ckpt)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert "tiny:" in proc.stdout.readline()  # data loaded, training begins
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.fullmatch(r"python -m cnnlib.train: interrupted during training; "
                        r"saved the model after [1-9][\d,]* training steps "
                        r"\(\d+ full epochs?\) to " + re.escape(str(ckpt)),
                        lines[0]), lines[0]
    assert "test accuracy" not in out
    load(tiny_cnn, ckpt)


def _main(monkeypatch, capsys, *args, **replace):
    for name, fn in replace.items():
        monkeypatch.setattr(cli, name, fn)
    status = cli.main(["--model", "tiny", "--epochs", "1", "--no-progress",
                       *args])
    out, err = capsys.readouterr()
    return status, out, err


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_cli_ctrl_c_during_the_final_evaluation_saves(tmp_path, monkeypatch,
                                                       capsys):
    ckpt = tmp_path / "m.npz"
    status, out, err = _main(monkeypatch, capsys, "--save", str(ckpt),
                             evaluate=_interrupt)
    assert status == 130
    assert err == (f"python -m cnnlib.train: interrupted during the final "
                   f"evaluation; saved the model after 63 training steps "
                   f"(1 full epoch) to {ckpt}\n")
    load(tiny_cnn, ckpt)


def test_cli_ctrl_c_before_training_saves_nothing(tmp_path, monkeypatch, capsys):
    ckpt = tmp_path / "m.npz"
    status, out, err = _main(monkeypatch, capsys, "--save", str(ckpt),
                             load_mnist=_interrupt)
    assert status == 130 and out == ""
    assert err == ("python -m cnnlib.train: interrupted before training; "
                   "nothing was trained, nothing saved\n")
    assert not ckpt.exists()


def test_cli_ctrl_c_without_save_says_nothing_was_saved(monkeypatch, capsys):
    status, out, err = _main(monkeypatch, capsys, evaluate=_interrupt)
    assert status == 130
    assert err.endswith("after 63 training steps (1 full epoch); not saved "
                        "(no --save)\n"), err
