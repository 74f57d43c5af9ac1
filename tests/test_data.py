"""Tests for cnnlib.data: IDX reading, the shipped subset, photo, batches."""

import gzip
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from cnnlib import data
from cnnlib.data import (
    iterate_minibatches,
    load_mnist,
    load_sample_image,
    read_idx,
)
from tests.kernel_checks import assert_refused_before_allocating

FULL_MNIST = Path("/work/shared/data/mnist")


def idx_bytes(arr, code=0x08, dims=None):
    """Serialise ``arr`` as IDX; ``dims`` overrides the header's dimensions."""
    arr = np.asarray(arr)
    dims = arr.shape if dims is None else dims
    big = arr.astype(arr.dtype.newbyteorder(">"))
    header = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + big.tobytes()


def write(path, payload, gz=False):
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def make_mnist_dir(root, n_train=12, n_test=5, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        sfx = ".gz" if gz else ""
        write(root / f"{prefix}-images-idx3-ubyte{sfx}", idx_bytes(images), gz)
        write(root / f"{prefix}-labels-idx1-ubyte{sfx}", idx_bytes(labels), gz)
        arrays[prefix] = images, labels
    return arrays


# ---------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_random_shapes(tmp_path, gz):
    rng = np.random.default_rng(1)
    codes = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
             0x0D: np.float32, 0x0E: np.float64}
    for trial in range(30):
        code = list(codes)[trial % len(codes)]
        shape = tuple(rng.integers(1, 6, size=rng.integers(1, 4)))
        arr = (rng.normal(size=shape) * 100).astype(codes[code])
        path = write(tmp_path / f"a{trial}.idx", idx_bytes(arr, code), gz)
        out = read_idx(path)
        config = f"trial={trial} code=0x{code:02X} shape={shape} gz={gz}"
        assert out.shape == shape, config
        assert out.dtype == np.dtype(codes[code]), config
        assert out.dtype.isnative, config
        np.testing.assert_array_equal(out, arr, err_msg=config)


def test_read_idx_gzip_detected_by_content_not_name(tmp_path):
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path = write(tmp_path / "no_suffix", idx_bytes(arr), gz=True)
    np.testing.assert_array_equal(read_idx(path), arr)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_bad_magic(tmp_path, gz):
    payload = b"\x01\x00" + idx_bytes(np.zeros(3, np.uint8))[2:]
    path = write(tmp_path / "bad", payload, gz)
    with pytest.raises(ValueError, match=r"bad.*not an IDX file.*0x0100"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_unknown_type_code(tmp_path, gz):
    path = write(tmp_path / "code", idx_bytes(np.zeros(3, np.uint8), 0x07), gz)
    with pytest.raises(ValueError, match=r"code.*unknown IDX type code 0x07"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cut", [2, 6, 20])
def test_read_idx_truncated(tmp_path, gz, cut):
    payload = idx_bytes(np.ones((3, 4), np.uint8))  # 12-byte header + 12 data
    path = write(tmp_path / "short", payload[:-cut], gz)
    with pytest.raises(ValueError, match=r"short.*(truncated|cut short|too short)"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_trailing_bytes(tmp_path, gz):
    payload = idx_bytes(np.ones((3, 4), np.uint8)) + b"\x00\x07"
    path = write(tmp_path / "long", payload, gz)
    count = "at least 1" if gz else "2"
    with pytest.raises(ValueError, match=rf"long.*{count} unexpected trailing"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_huge_claim_fails_without_allocating(tmp_path, gz):
    # 10**5 images of 28x28 promised (under the cap), 1 kB present: an
    # error, and the peak traced memory stays tiny (no attempt at 78 MB).
    payload = idx_bytes(np.zeros(1000, np.uint8), dims=(10**5, 28, 28))[:1024]
    path = write(tmp_path / "huge", payload, gz)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"huge.*truncated.*78400000 "):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"peak traced memory {peak} bytes"


def test_read_idx_not_gzip_but_gzip_magic(tmp_path):
    path = write(tmp_path / "broken.gz", b"\x1f\x8b" + b"garbage" * 5)
    with pytest.raises(ValueError, match=r"broken.gz.*corrupt gzip"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


# ---------------------------------------------------------------- IDX dirs


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_idx_dir(tmp_path, gz):
    arrays = make_mnist_dir(tmp_path, gz=gz)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        X, y = load_mnist(tmp_path, split=split)
        images, labels = arrays[prefix]
        assert X.shape == (len(images), 1, 28, 28) and X.dtype == np.uint8
        np.testing.assert_array_equal(X[:, 0], images)
        np.testing.assert_array_equal(y, labels)
        assert y.dtype == np.int64
    X, y = load_mnist(str(tmp_path), split="all")
    assert X.shape == (17, 1, 28, 28) and y.shape == (17,)


def test_load_mnist_count_mismatch_names_both_files(tmp_path):
    make_mnist_dir(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"t10k-images.*5 images.*t10k-labels.*4"):
        load_mnist(tmp_path, split="test")


def test_load_mnist_missing_files_and_dirs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        load_mnist(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_kind_of_file(tmp_path):
    make_mnist_dir(tmp_path)
    labels_as_images = idx_bytes(np.zeros(12, np.uint8))
    write(tmp_path / "train-images-idx3-ubyte", labels_as_images)
    with pytest.raises(ValueError, match=r"train-images.*shape \(N, H, W\)"):
        load_mnist(tmp_path)


# ------------------------------------- issue 13: files it cannot train on


def test_load_mnist_refuses_images_that_are_not_28x28(tmp_path):
    make_mnist_dir(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte",
          idx_bytes(np.zeros((12, 32, 32), np.uint8)))
    with pytest.raises(ValueError, match=r"load_mnist: .*train-images-idx3-ubyte"
                       r" holds 32x32 images; MNIST images .* are 28x28"):
        load_mnist(tmp_path)


def test_load_mnist_judges_the_header_before_reading_the_data(tmp_path):
    # Header (12, 32, 32) and only 10 bytes of data: the shape is what is
    # wrong, and it is said before any data is read.
    make_mnist_dir(tmp_path)
    payload = idx_bytes(np.zeros(10, np.uint8), dims=(12, 32, 32))
    write(tmp_path / "train-images-idx3-ubyte", payload)
    with pytest.raises(ValueError, match="32x32 images"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_refuses_labels_outside_0_to_9(tmp_path, gz):
    make_mnist_dir(tmp_path, gz=gz)
    labels = np.arange(12, dtype=np.uint8) % 10
    labels[7] = 200
    sfx = ".gz" if gz else ""
    write(tmp_path / f"train-labels-idx1-ubyte{sfx}", idx_bytes(labels), gz)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.* holds "
                       r"label 200 at index 7; MNIST labels are the digits 0-9"):
        load_mnist(tmp_path)


def test_load_mnist_refuses_zero_images(tmp_path):
    make_mnist_dir(tmp_path)
    write(tmp_path / "t10k-images-idx3-ubyte",
          idx_bytes(np.zeros((0, 28, 28), np.uint8)))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(0, np.uint8)))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte holds no "
                       r"images \(its header says shape \(0, 28, 28\)\)"):
        load_mnist(tmp_path, split="test")


def _honest_huge_gzip(path, n_images):
    """A gzip IDX whose header is true: n_images zero images of 28x28.

    Built from repeated gzip members (the format allows concatenation), so
    1.57 GB of zeros take 1.5 MB and no time to write.
    """
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", n_images, 28, 28)
    block = 28 * 28 * 1000
    member = gzip.compress(bytes(block))
    assert n_images % 1000 == 0
    with open(path, "wb") as f:
        f.write(gzip.compress(header))
        for _ in range(n_images // 1000):
            f.write(member)
    return path


def test_read_idx_caps_an_honest_huge_gzip_before_decompressing(tmp_path):
    path = _honest_huge_gzip(tmp_path / "big.gz", 2_000_000)
    assert path.stat().st_size < 3_000_000
    assert_refused_before_allocating(
        lambda: read_idx(path),
        ["big.gz: header promises shape (2000000, 28, 28) = 1.57 GB of data",
         "268 MB limit (cnnlib.data.MAX_IDX_BYTES"])


def test_load_mnist_caps_an_honest_huge_gzip(tmp_path):
    make_mnist_dir(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    _honest_huge_gzip(tmp_path / "train-images-idx3-ubyte.gz", 2_000_000)
    write(tmp_path / "train-labels-idx1-ubyte",
          idx_bytes(np.zeros(2_000_000, np.uint8)))
    assert_refused_before_allocating(
        lambda: load_mnist(tmp_path),
        ["train-images-idx3-ubyte.gz: header promises shape (2000000, 28, 28)",
         "MAX_IDX_BYTES"])


def test_idx_cap_can_be_raised(tmp_path, monkeypatch):
    path = write(tmp_path / "x", idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1000)
    with pytest.raises(ValueError, match="more than the 0 MB limit"):
        read_idx(path)
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 3 * 784)
    assert read_idx(path).shape == (3, 28, 28)


def test_read_idx_refuses_what_is_not_a_regular_file(tmp_path):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="fifo: not a regular file"):
        read_idx(fifo)  # opening a FIFO for reading would block forever
    with pytest.raises(ValueError, match="not a regular file"):
        read_idx(tmp_path)


def test_idx_header_reads_only_the_header(tmp_path):
    from cnnlib.data import idx_header

    payload = idx_bytes(np.zeros(3, np.uint8), dims=(10**6, 28, 28))
    dims, dtype = idx_header(write(tmp_path / "h", payload))
    assert dims == (10**6, 28, 28) and dtype == np.uint8


# ---------------------------------------------------------------- subset


def test_subset_shapes_dtypes_balance():
    sizes = {"train": 4000, "test": 1000, "all": 5000}
    for split, n in sizes.items():
        X, y = load_mnist(split=split)
        assert X.shape == (n, 1, 28, 28) and X.dtype == np.uint8, split
        assert y.shape == (n,) and y.dtype == np.int64, split
        np.testing.assert_array_equal(np.bincount(y, minlength=10),
                                      np.full(10, n // 10), err_msg=split)
        assert X.min() == 0 and X.max() == 255, split


def test_subset_split_is_disjoint_and_complete():
    with np.load(data.SUBSET_PATH) as npz:
        train, test = npz["train_index"], npz["test_index"]
        images = npz["images"]
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(5000))
    # and no digit image appears in both halves (no duplicates leaking)
    train_rows = {images[i].tobytes() for i in train}
    assert not any(images[i].tobytes() in train_rows for i in test)


def test_subset_float_and_normalized():
    X8, _ = load_mnist(split="test")
    X32, _ = load_mnist(split="test", dtype="float32")
    assert X32.dtype == np.float32 and 0 <= X32.min() and X32.max() == 1
    np.testing.assert_allclose(X32, X8 / 255.0, rtol=1e-6)
    X64, _ = load_mnist(split="test", dtype=np.float64, normalize=True)
    assert X64.dtype == np.float64
    np.testing.assert_allclose(X64, (X8 / 255.0 - 0.1307) / 0.3081)
    Xn, _ = load_mnist(split="train", normalize=True)
    assert Xn.dtype == np.float32
    assert abs(Xn.mean()) < 0.05 and abs(Xn.std() - 1) < 0.05


def test_subset_looks_like_mnist():
    # Digits are white on black, centred by mass in the 20x20 box: the
    # border rows are almost always blank and the centre is bright on average.
    X, _ = load_mnist(split="all")
    assert X[:, 0, :2, :].max() <= 255 and X[:, 0, 0, :].mean() < 1
    assert X[:, 0, 10:18, 10:18].mean() > 80
    # A "1" is tall and thin: more ink in the middle columns than rows.
    X1, y1 = load_mnist(split="train")
    ones = X1[y1 == 1, 0].astype(float)
    assert ones[:, :, 12:16].mean() > ones[:, 12:16, :].mean() / 2


def test_load_mnist_bad_arguments():
    with pytest.raises(ValueError, match="split must be 'train', 'test' or 'all'"):
        load_mnist(split="valid")
    with pytest.raises(TypeError, match="dtype must be"):
        load_mnist(dtype="int16")
    with pytest.raises(ValueError, match="normalize=True needs a float dtype"):
        load_mnist(dtype="uint8", normalize=True)
    with pytest.raises(TypeError, match="source must be"):
        load_mnist(source=3)


def test_missing_subset_gives_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "SUBSET_PATH", tmp_path / "mnist_5k.npz")
    with pytest.raises(FileNotFoundError, match=r"Reinstall cnnlib"):
        load_mnist()


@pytest.mark.skipif(not FULL_MNIST.is_dir(), reason=f"{FULL_MNIST} not present")
def test_full_mnist_files():
    X, y = load_mnist(FULL_MNIST, split="test")
    assert X.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    X, y = load_mnist(FULL_MNIST, split="train")
    assert X.shape == (60000, 1, 28, 28) and y.shape == (60000,)
    # The shipped subset is pixel-identical to the digits it was taken from.
    with np.load(data.SUBSET_PATH) as npz:
        pos, images = npz["mnist_train_index"], npz["images"]
    np.testing.assert_array_equal(X[pos[:50], 0], images[:50])
    np.testing.assert_array_equal(X[pos, 0], images)


# ---------------------------------------------------------------- photo


def test_sample_image():
    img = load_sample_image()
    assert img.shape == (600, 512) and img.dtype == np.float64
    assert 0 <= img.min() and img.max() <= 1 and img.std() > 0.1
    small = load_sample_image(factor=4)
    assert small.shape == (150, 128)
    np.testing.assert_allclose(small[0, 0], img[:4, :4].mean())
    odd = load_sample_image(factor=7)
    assert odd.shape == (600 // 7, 512 // 7)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="factor must be a positive int"):
            load_sample_image(factor=bad)


# ---------------------------------------------------------------- batches


def test_iterate_minibatches_covers_every_index_once():
    rng = np.random.default_rng(2)
    for trial in range(40):
        n = int(rng.integers(1, 60))
        bs = int(rng.integers(1, 70))
        shuffle = bool(trial % 2)
        drop_last = bool(trial % 3 == 0)
        X = np.arange(n * 2).reshape(n, 2)
        y = np.arange(n)
        batches = list(iterate_minibatches(X, y, bs, shuffle=shuffle, rng=trial,
                                           drop_last=drop_last))
        config = f"n={n} batch_size={bs} shuffle={shuffle} drop_last={drop_last}"
        seen = np.concatenate([yb for _, yb in batches]) if batches else []
        expected = n - n % bs if drop_last else n
        assert len(seen) == expected, config
        assert len(set(seen)) == expected, config
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], 2 * yb, err_msg=config)
        sizes = [len(yb) for _, yb in batches]
        assert all(s == bs for s in sizes[:-1]), config
        if drop_last and sizes:
            assert sizes[-1] == bs, config
        if not shuffle:
            np.testing.assert_array_equal(seen, np.arange(expected), config)


def test_iterate_minibatches_seeded():
    X = np.arange(100)[:, None]
    y = np.arange(100)

    def order(rng):
        return np.concatenate([b for _, b in iterate_minibatches(X, y, 16, rng=rng)])

    np.testing.assert_array_equal(order(7), order(7))
    assert not np.array_equal(order(7), order(8))
    gen_a, gen_b = np.random.default_rng(3), np.random.default_rng(3)
    first_a, second_a = order(gen_a), order(gen_a)
    assert not np.array_equal(first_a, second_a)  # new order each epoch
    np.testing.assert_array_equal(first_a, order(gen_b))
    np.testing.assert_array_equal(second_a, order(gen_b))


def test_iterate_minibatches_bad_arguments():
    X, y = np.zeros((10, 3)), np.zeros(10)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        iterate_minibatches(X, y, 0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        iterate_minibatches(X, y, 2.0)
    with pytest.raises(ValueError, match=r"same number of samples.*\(10, 3\).*\(9,\)"):
        iterate_minibatches(X, y[:9], 4)
    with pytest.raises(TypeError, match="y must be an array"):
        iterate_minibatches(X, [1, 2], 4)
