"""MNIST digits, a sample photograph, and mini-batches.

Two sources of MNIST (LeCun, Cortes and Burges), both returned as
``X (N, 1, 28, 28)`` and ``y (N,)``:

- ``source="subset"`` (default): 5,000 real MNIST digits (500 per class) that
  ship inside the package (``cnnlib/datasets/mnist_5k.npz``; provenance in
  the repository's ``data/README.md``), with a fixed stratified
  split of 4,000 training and 1,000 test digits. Nothing is downloaded.
- ``source="<directory>"``: the four standard IDX files of the full set
  (60,000 + 10,000 digits), gzipped or not, read by `read_idx`.

See ``data/README.md`` for provenance, licence and the split.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import gzip
import math
import os
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .shapes import check_positive_int

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "SUBSET_PATH",
    "MAX_IDX_BYTES",
    "idx_header",
    "read_idx",
    "load_mnist",
    "load_sample_image",
    "iterate_minibatches",
]

#: Mean and standard deviation of the full MNIST training pixels (scaled to
#: [0, 1]); the usual standardisation constants.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

#: The shipped subset. It is package data (``cnnlib/datasets/``), so a wheel
#: or ``pip install`` carries it; provenance and licence: ``data/README.md``.
SUBSET_PATH = Path(__file__).resolve().parent / "datasets" / "mnist_5k.npz"

# The standard file names of the full set, without the optional ".gz".
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# IDX type codes (third magic byte); all multi-byte types are big-endian.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_CHUNK = 1 << 20

#: Most data bytes `read_idx` agrees to read from one file (256 MiB). The
#: full MNIST training images are 47 MB; a header promising more is refused
#: before anything is decompressed (a 1.5 MB gzip file can honestly hold
#: 1.57 GB of zeros). Raise it (``cnnlib.data.MAX_IDX_BYTES = ...``) to read
#: bigger IDX files on purpose.
MAX_IDX_BYTES = 256 * 2**20

#: What `load_mnist` can train on: 28x28 images, labels 0-9.
MNIST_IMAGE_SHAPE = (28, 28)
MNIST_CLASSES = 10


# ---------------------------------------------------------------- IDX files


@contextmanager
def _open_idx(path, func):
    """Open an IDX file, plain or gzip (told by its first two bytes)."""
    path = Path(path)
    where = f"{func}: {path}"
    if not path.exists():
        raise FileNotFoundError(f"{where}: no such file")
    if not path.is_file():  # a directory, a FIFO, a device: never read
        raise ValueError(f"{where}: not a regular file")
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open if is_gzip else open)(path, "rb") as f:
            yield f, where, is_gzip
    except (OSError, EOFError, zlib.error) as err:
        # BadGzipFile is an OSError; real I/O errors on plain files pass.
        if not is_gzip or isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{where}: corrupt gzip data ({err})") from None


def idx_header(path):
    """Shape and dtype an IDX file's header promises (the data is not read).

    Returns
    -------
    dims : tuple of int
    dtype : numpy.dtype
        As stored (big-endian for multi-byte types).
    """
    with _open_idx(path, "idx_header") as (f, where, _):
        return _read_header(f, where)


def read_idx(path):
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    Parameters
    ----------
    path : str or path-like
        The file. Gzip is detected from its first two bytes, not its name.

    Returns
    -------
    ndarray, shape given by the header, e.g. (N, 28, 28) or (N,)
        In native byte order; uint8 for MNIST.

    Raises
    ------
    ValueError
        Not a regular file, bad magic number, unknown type code, a header
        cut short, a data length that differs from what the header
        promises (too short or trailing bytes), or more than
        `MAX_IDX_BYTES` promised. The message names the file.

    Notes
    -----
    Header: two zero bytes, a type code (0x08 = unsigned byte, 0x09 signed
    byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
    dimensions, then each dimension as a big-endian uint32. The data length
    is checked *before* any large allocation: against `MAX_IDX_BYTES`, then
    a plain file by its size on disk, a gzip file by streaming at most the
    promised length plus one byte, so a header that claims 10**9 images in
    a 1 kB file is an error, not a 784 GB allocation.
    """
    with _open_idx(path, "read_idx") as (f, where, is_gzip):
        dims, dtype = _read_header(f, where)
        expected = math.prod(dims) * dtype.itemsize
        _check_cap(expected, dims, where)
        if not is_gzip:
            have = os.path.getsize(path) - (4 + 4 * len(dims))
            _check_length(have, expected, dims, where)
        buf = _read_at_most(f, expected + 1)
    _check_length(len(buf), expected, dims, where, exact=not is_gzip)
    data = np.frombuffer(buf, dtype=dtype).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=False)


def _read_header(f, where):
    magic = f.read(4)
    if len(magic) < 4:
        raise ValueError(f"{where}: file too short for an IDX header "
                         f"({len(magic)} bytes)")
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(
            f"{where}: not an IDX file: magic number must start with two zero "
            f"bytes, got 0x{magic.hex()}"
        )
    code, ndim = magic[2], magic[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(
            f"{where}: unknown IDX type code 0x{code:02X} (expected one of "
            f"{known}; MNIST uses 0x08)"
        )
    if ndim == 0:
        raise ValueError(f"{where}: IDX header has 0 dimensions")
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(
            f"{where}: header cut short: {ndim} dimensions need {4 * ndim} "
            f"bytes, got {len(raw_dims)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    return dims, _IDX_DTYPES[code]


def _check_cap(expected, dims, where):
    if expected > MAX_IDX_BYTES:
        raise ValueError(
            f"{where}: header promises shape {dims} = {expected / 1e9:.2f} GB "
            f"of data, more than the {MAX_IDX_BYTES / 1e6:.0f} MB limit "
            f"(cnnlib.data.MAX_IDX_BYTES; the full MNIST training images are "
            f"47 MB). Raise the limit only if you mean to read such a file"
        )


def _read_at_most(f, limit):
    """Read until EOF or ``limit`` bytes, growing only as data arrives."""
    buf = bytearray()
    while len(buf) < limit:
        chunk = f.read(min(_CHUNK, limit - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def _check_length(have, expected, dims, where, exact=True):
    if have < expected:
        raise ValueError(
            f"{where}: truncated: header promises shape {dims} = {expected} "
            f"data bytes, the file holds {have}"
        )
    if have > expected:
        # A gzip stream is read only up to expected + 1 bytes: count unknown.
        extra = f"{have - expected}" if exact else "at least 1"
        raise ValueError(
            f"{where}: {extra} unexpected trailing byte(s) after the "
            f"{expected} data bytes of shape {dims}"
        )


# ---------------------------------------------------------------- MNIST files


def _find_idx(directory, name):
    for candidate in (directory / name, directory / (name + ".gz")):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"load_mnist: {directory} has neither {name} nor {name}.gz "
        f"(expected the four standard MNIST IDX files)"
    )


def _check_mnist_headers(images_path, labels_path):
    """Refuse, from the headers alone, files `load_mnist` cannot train on."""
    (dims, dtype), (label_dims, label_dtype) = (
        idx_header(images_path), idx_header(labels_path))
    if len(dims) != 3 or dtype != np.uint8:
        raise ValueError(
            f"load_mnist: {images_path} must hold uint8 images of shape "
            f"(N, H, W), got {dtype.newbyteorder('=')} of shape {dims}"
        )
    if dims[1:] != MNIST_IMAGE_SHAPE:
        raise ValueError(
            f"load_mnist: {images_path} holds {dims[1]}x{dims[2]} images; "
            f"MNIST images (and the networks here) are 28x28. Resize them "
            f"to 28x28 first"
        )
    if dims[0] == 0:
        raise ValueError(f"load_mnist: {images_path} holds no images (its "
                         f"header says shape {dims})")
    if len(label_dims) != 1 or label_dtype != np.uint8:
        raise ValueError(
            f"load_mnist: {labels_path} must hold uint8 labels of shape (N,), "
            f"got {label_dtype.newbyteorder('=')} of shape {label_dims}"
        )
    if dims[0] != label_dims[0]:
        raise ValueError(
            f"load_mnist: {images_path} holds {dims[0]} images but "
            f"{labels_path} holds {label_dims[0]} labels"
        )


def _check_mnist_labels(labels, labels_path):
    bad = np.flatnonzero(labels >= MNIST_CLASSES)
    if len(bad):
        raise ValueError(
            f"load_mnist: {labels_path} holds label {int(labels[bad[0]])} at "
            f"index {int(bad[0])}; MNIST labels are the digits 0-9"
        )


def _load_idx_split(directory, split):
    """Images (N, 28, 28) and labels (N,) of one split, checked."""
    images_path, labels_path = (_find_idx(directory, name)
                                for name in _IDX_FILES[split])
    _check_mnist_headers(images_path, labels_path)
    labels = read_idx(labels_path)
    _check_mnist_labels(labels, labels_path)
    return read_idx(images_path), labels


def _load_subset(split):
    if not SUBSET_PATH.is_file():
        raise FileNotFoundError(
            f"load_mnist: the shipped MNIST subset was not found at "
            f"{SUBSET_PATH}. Reinstall cnnlib (pip install --force-reinstall "
            f"cnnlib, or in a clone: git checkout -- cnnlib/datasets/), or "
            f"pass source=<directory with the MNIST IDX files>"
        )
    with np.load(SUBSET_PATH) as npz:
        images, labels = npz["images"], npz["labels"]
        if split == "all":
            return images, labels
        index = npz[f"{split}_index"]
    return images[index], labels[index]


# ---------------------------------------------------------------- MNIST


def _pixel_dtype(dtype, normalize, func):
    """The dtype `load_mnist` returns: uint8, float32 or float64."""
    if dtype is None:
        dtype = np.float32 if normalize else np.uint8
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.uint8, np.float32, np.float64):
        raise TypeError(
            f"{func}: dtype must be None, uint8, float32 or float64, got "
            f"{dtype!r}"
        )
    if normalize and dtype == np.uint8:
        raise ValueError(
            f"{func}: normalize=True needs a float dtype (float32 or "
            f"float64), got dtype uint8"
        )
    return dtype


def _read_digits(source, split, func):
    """Raw uint8 images (N, 28, 28) and labels (N,) from either source."""
    if isinstance(source, str) and source == "subset":
        return _load_subset(split)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"{func}: source must be 'subset' or a directory path, got "
            f"{type(source).__name__}"
        )
    directory = Path(source)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{func}: source must be 'subset' or a directory with the MNIST "
            f"IDX files, got {str(source)!r} (no such directory)"
        )
    splits = ("train", "test") if split == "all" else (split,)
    parts = [_load_idx_split(directory, s) for s in splits]
    return (np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]))


def _to_pixels(images, dtype, normalize):
    """(N, H, W) uint8 -> (N, 1, H, W) in dtype, scaled to [0, 1] if float."""
    X = images[:, None, :, :]
    if dtype == np.uint8:
        return np.ascontiguousarray(X)
    # Scale in the target dtype: float32 end to end halves the memory.
    X = X.astype(dtype) / dtype.type(255)
    if normalize:
        X -= dtype.type(MNIST_MEAN)
        X /= dtype.type(MNIST_STD)
    return X


def load_mnist(source="subset", split="train", dtype=None, normalize=False):
    """Load MNIST digits as ``X (N, 1, 28, 28)`` and labels ``y (N,)``.

    Parameters
    ----------
    source : "subset" or str or path-like
        ``"subset"``: the 5,000 digits shipped in `SUBSET_PATH`.
        Otherwise a directory holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte`` (each may end in ``.gz``).
    split : {"train", "test", "all"}
        Subset: 4,000 / 1,000 / 5,000 digits (stratified, fixed; see
        ``data/README.md``). Full set: 60,000 / 10,000 / 70,000 ("all" is
        train followed by test).
    dtype : None or {"uint8", "float32", "float64"}
        None or uint8: raw pixels 0-255. A float dtype: pixels / 255, in
        [0, 1]; use float32 for training (about twice as fast as float64).
    normalize : bool
        If True, standardise with the full MNIST training mean and standard
        deviation: ``(x / 255 - 0.1307) / 0.3081`` (mean ~0, std ~1). Needs
        a float dtype; ``dtype=None`` then means float32.

    Returns
    -------
    X : ndarray, shape (N, 1, 28, 28)
        uint8, float32 or float64 as asked.
    y : ndarray, shape (N,), int64
        Digit labels 0-9.

    Raises
    ------
    ValueError
        IDX files it cannot train on, said when they are read and before
        their data is: images that are not 28x28 uint8, no images, image
        and label counts that differ, labels outside 0-9, more data than
        `MAX_IDX_BYTES`, or a file `read_idx` refuses.

    Examples
    --------
    >>> X, y = load_mnist(split="test")
    >>> X.shape, X.dtype, y[:3]
    ((1000, 1, 28, 28), dtype('uint8'), array([0, 0, 0]))
    """
    func = "load_mnist"
    if split not in ("train", "test", "all"):
        raise ValueError(
            f"{func}: split must be 'train', 'test' or 'all', got {split!r}"
        )
    dtype = _pixel_dtype(dtype, normalize, func)
    images, labels = _read_digits(source, split, func)
    return _to_pixels(images, dtype, normalize), labels.astype(np.int64)


# ---------------------------------------------------------------- photo


def load_sample_image(factor=1):
    """Matplotlib's photograph of Grace Hopper, grayscale in [0, 1].

    Parameters
    ----------
    factor : int
        Downscale by averaging ``factor x factor`` blocks (edges that do not
        fill a block are cropped). 1 keeps the full 600 x 512 image; 4 gives
        150 x 128, quick for the loop version of convolution.

    Returns
    -------
    image : ndarray, shape (H, W), float64
        Luminance ``0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601), in [0, 1].

    Notes
    -----
    The photo ships with matplotlib
    (``matplotlib.cbook.get_sample_data("grace_hopper.jpg")``), so no
    download and no new dependency.
    """
    factor = check_positive_int(factor, "factor", "load_sample_image")
    import matplotlib.cbook
    import matplotlib.image

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    rgb = matplotlib.image.imread(path)[..., :3].astype(np.float64) / 255.0
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    if factor > 1:
        h, w = (s // factor for s in gray.shape)
        gray = gray[: h * factor, : w * factor]
        gray = gray.reshape(h, factor, w, factor).mean(axis=(1, 3))
    return gray


# ---------------------------------------------------------------- batches


def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None,
                        drop_last=False):
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    Parameters
    ----------
    X : ndarray, shape (N, ...)
    y : ndarray, shape (N,)
    batch_size : int
        Positive. The last batch is smaller when it does not divide N.
    shuffle : bool
        Visit the samples in a random order (a new one per call).
    rng : numpy.random.Generator or int or None
        Source of the order: a Generator (advanced by each call, so epochs
        differ but the whole run is reproducible), a seed, or None for
        fresh OS entropy (not reproducible).
    drop_last : bool
        Skip the final partial batch, so every batch has ``batch_size`` rows.

    Yields
    ------
    X_batch : ndarray, shape (B, ...)
    y_batch : ndarray, shape (B,)
        Copies (fancy indexing) when shuffled, views otherwise.
    """
    func = "iterate_minibatches"
    batch_size = check_positive_int(batch_size, "batch_size", func)
    for name, a in (("X", X), ("y", y)):
        if not hasattr(a, "shape") or len(a.shape) == 0:
            raise TypeError(
                f"{func}: {name} must be an array with a first (sample) axis, "
                f"got {type(a).__name__}"
            )
    if len(X) != len(y):
        raise ValueError(
            f"{func}: X and y must have the same number of samples, got "
            f"X of shape {X.shape} and y of shape {y.shape}"
        )
    return _batches(X, y, batch_size, shuffle, rng, drop_last)


def _batches(X, y, batch_size, shuffle, rng, drop_last):
    # A generator of its own, so the checks above run at call time.
    n = len(X)
    order = np.random.default_rng(rng).permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            sl = slice(start, start + batch_size)
        else:
            sl = order[start : start + batch_size]
        yield X[sl], y[sl]
