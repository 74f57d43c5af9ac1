"""Tests for cnnlib.cli (``python -m cnnlib.train``): a run and its errors."""

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnlib.checkpoint import load
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


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_trains_on_idx_files_and_saves(tmp_path, workers):
    X, y = load_mnist("subset", "train")
    pick = np.random.default_rng(0).permutation(len(X))[:200]
    _write_idx(tmp_path, X[pick, 0], y[pick])
    ckpt = tmp_path / "tiny.npz"
    r = _cli("--data-dir", str(tmp_path), "--model", "tiny", "--epochs", "1",
             "--save", str(ckpt), "--no-progress", "--workers", workers)
    assert r.returncode == 0, r.stderr
    assert "200 training and 20 test digits" in r.stdout
    assert "test accuracy: " in r.stdout and f"saved {ckpt}" in r.stdout
    assert r.stderr == ""
    load(tiny_cnn, ckpt)


@pytest.mark.parametrize("args, match", [
    (["--data-dir", "/nonexistent/mnist"], "is not a directory"),
    (["--batch-size", "0"], "--batch-size: must be a positive int, got '0'"),
    (["--epochs", "two"], "--epochs: must be a positive int"),
    (["--lr", "-1"], "--lr: must be a positive float"),
    (["--workers", "0"], "--workers: must be a positive int, got '0'"),
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
