"""Save and load model parameters as a plain ``.npz`` file.

A checkpoint holds one array per parameter, named as in
`cnnlib.model.Sequential.params` (``'0.w'``, ``'0.b'``, ...), plus two
text entries: a format marker and the model's description (its ``repr``).
It never holds pickled objects and is read with ``allow_pickle=False``, so
loading a checkpoint cannot run code. Saving writes a temporary file in the
same directory and then renames it over the target (`os.replace`), so an
interrupted save leaves the previous checkpoint intact.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save", "load", "is_checkpoint"]

_MARK = "__cnnlib__"
_ARCH = "__model__"
_FORMAT = "cnnlib-checkpoint-1"


def _npz_path(path, func):
    path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise TypeError(f"{func}: path must be a file path, got {path!r}")
    return path


def is_checkpoint(path):
    """True if ``path`` is a cnnlib checkpoint (checked without loading it)."""
    try:
        with zipfile.ZipFile(path) as z:
            return f"{_MARK}.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def save(model, path, overwrite=True):
    """Write ``model``'s parameters to ``path`` (an ``.npz`` file), atomically.

    Parameters
    ----------
    model : Sequential
        Anything with ``params()`` returning ``{name: ndarray}``.
    path : str or path-like
        Used exactly as given (no ``.npz`` is appended).
    overwrite : bool
        If False, an existing file is an error. Even if True, a file that is
        not a cnnlib checkpoint is never replaced (FileExistsError).

    Returns
    -------
    path : str

    Notes
    -----
    The data goes to a temporary file next to ``path``, which is flushed to
    disk and then renamed over ``path`` in one step. Until that rename the
    old file is untouched; a failed save removes the temporary file.
    """
    func = "save"
    path = _npz_path(path, func)
    if not hasattr(model, "params"):
        raise TypeError(f"{func}: model must have params(), got {model!r}")
    params = model.params()
    for name in params:
        if name.startswith("__"):
            raise ValueError(f"{func}: parameter name {name!r} is reserved")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{func}: {path} is a directory, not a file")
    if os.path.exists(path):
        if not overwrite:
            raise FileExistsError(f"{func}: {path} exists (overwrite=False)")
        if not is_checkpoint(path):
            raise FileExistsError(
                f"{func}: {path} exists and is not a cnnlib checkpoint; "
                f"refusing to replace it (delete it or choose another path)"
            )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{func}: directory {folder} does not exist")
    arrays = {name: np.asarray(p) for name, p in params.items()}
    arrays[_MARK] = np.array(_FORMAT)
    arrays[_ARCH] = np.array(repr(model))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _read(path, func):
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise FileNotFoundError(f"{func}: {path}: no such file") from None
    if head[:1] == b"\x80":  # the first byte of every binary pickle
        raise ValueError(
            f"{func}: {path} holds pickled Python objects; refusing to load "
            f"it (loading a pickle can run arbitrary code)"
        )
    if head != b"PK\x03\x04":  # an .npz file is a zip archive
        raise ValueError(f"{func}: {path} is not a cnnlib checkpoint (not an "
                         f".npz file: it starts with {head!r})")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{func}: {path} is not a readable .npz file ({err})") \
            from None
    arrays = {}
    with data:
        for name in data.files:
            try:
                arrays[name] = data[name]
            except ValueError:
                raise ValueError(
                    f"{func}: {path} entry {name!r} is an object array (pickled "
                    f"data); refusing to load it"
                ) from None
            except (OSError, EOFError, zipfile.BadZipFile) as err:
                raise ValueError(
                    f"{func}: {path} entry {name!r} is corrupt ({err})"
                ) from None
    if _MARK not in arrays:
        raise ValueError(
            f"{func}: {path} is an .npz file but not a cnnlib checkpoint "
            f"(no {_MARK!r} entry)"
        )
    return arrays


def load(model, path):
    """Load parameters saved by `save` into a model, in place.

    Parameters
    ----------
    model : Sequential or callable
        The model to fill, or a factory (``lenet5``) called with no
        arguments to build it. Its architecture must match the file's.
    path : str or path-like

    Returns
    -------
    model : Sequential
        The same object (or the factory's new model), parameters replaced;
        values are cast to the model's dtype.

    Raises
    ------
    ValueError
        Not a checkpoint, pickled content, or parameters that do not match:
        the message lists every missing, unexpected and mis-shaped name.
    """
    func = "load"
    path = _npz_path(path, func)
    if not hasattr(model, "params") and callable(model):
        model = model()
    if not hasattr(model, "params"):
        raise TypeError(f"{func}: model must be a model or a factory, got {model!r}")
    arrays = _read(path, func)
    saved_as = str(arrays.pop(_ARCH, "unknown"))
    arrays.pop(_MARK)
    params = model.params()
    problems = [f"missing in file: {k} {tuple(p.shape)}"
                for k, p in params.items() if k not in arrays]
    problems += [f"not in model: {k} {arrays[k].shape}"
                 for k in arrays if k not in params]
    problems += [f"shape of {k}: model {tuple(p.shape)}, file {arrays[k].shape}"
                 for k, p in params.items()
                 if k in arrays and arrays[k].shape != p.shape]
    bad_dtype = [k for k in arrays if arrays[k].dtype.kind != "f"]
    problems += [f"dtype of {k}: {arrays[k].dtype}" for k in bad_dtype]
    if problems:
        raise ValueError(
            f"{func}: {path} does not fit this model: " + "; ".join(problems)
            + f". The file was saved from {' '.join(saved_as.split())}"
        )
    for k, p in params.items():
        p[...] = arrays[k]  # in place: an optimizer's references stay valid
    return model
