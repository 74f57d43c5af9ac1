"""Save and load model parameters as a plain ``.npz`` file.

A checkpoint holds one float array per parameter, named as in
`cnnlib.model.Sequential.params` (``'0.w'``, ``'0.b'``, ...), plus two
text entries: a format marker and the model's description (its ``repr``).
It never holds pickled objects, and loading reads each entry's declared
shape and dtype before any data, so a hostile file can neither run code nor
make `load` allocate more than the model needs. Saving writes a temporary
file in the same directory and then renames it over the target
(`os.replace`), so an interrupted save leaves the previous checkpoint intact.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import os
import re
import stat
import tempfile
import time
import tokenize
import warnings
import zipfile
import zlib

import numpy as np

__all__ = ["save", "load", "is_checkpoint", "check_save_path"]

_MARK = "__cnnlib__"
_ARCH = "__model__"
_FORMAT = "cnnlib-checkpoint-1"
_MAX_TEXT = 1 << 16  # characters of a text entry (the model's repr)
# Temporary files: ".tmp-<pid>-<random>.npz"; before 2026-12 ".tmp-<random>.npz".
_TEMP = re.compile(r"\.tmp-(?:(\d+)-)?[a-z0-9_]{8}\.npz")
_OLD_TEMP_AGE = 3600.0  # seconds after which an old-style temporary is stale


def _npz_path(path, func):
    try:
        path = os.fspath(path)
    except TypeError:
        path = None
    if not isinstance(path, str) or not path:
        raise TypeError(f"{func}: path must be a file path, got {path!r}")
    return path


def _kind(mode):
    for test, name in ((stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"


def _regular_file(path, func):
    """Raise unless ``path`` is a regular file (opening a FIFO would block)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{func}: {path}: no such file") from None
    except OSError as err:
        raise OSError(f"{func}: cannot read {path}: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{func}: {path} is a directory, not a "
                                f"checkpoint file")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{func}: {path} is {_kind(mode)}, not a checkpoint "
                         f"file")


def is_checkpoint(path):
    """True if ``path`` is a cnnlib checkpoint (checked without loading it)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with zipfile.ZipFile(path) as z:
            return f"{_MARK}.npy" in z.namelist()
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


# ---------------------------------------------------------------- saving


def _target(path, overwrite, func):
    """The file `save` will replace (a symlink's target) after every check."""
    target = os.path.realpath(path)  # saving through a link keeps the link
    if os.path.isdir(target):
        raise IsADirectoryError(f"{func}: {path} is a directory, not a file")
    if os.path.lexists(target):
        mode = os.stat(target).st_mode if os.path.exists(target) else 0
        if not stat.S_ISREG(mode):
            raise ValueError(f"{func}: {path} is {_kind(mode)}; refusing to "
                             f"write a checkpoint there")
        if not overwrite:
            raise FileExistsError(f"{func}: {path} exists (overwrite=False)")
        if not is_checkpoint(target):
            raise FileExistsError(
                f"{func}: {path} exists and is not a cnnlib checkpoint; "
                f"refusing to replace it (delete it or choose another path)"
            )
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{func}: directory {folder} does not exist")
    return target


def _temp_file(folder, func):
    """Create and open ``folder/.tmp-<pid>-<random>.npz``; return (fd, path)."""
    try:
        return tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", suffix=".npz",
                                dir=folder)
    except OSError as err:
        raise PermissionError(f"{func}: cannot write in {folder} "
                              f"({err.strerror})") from None


def check_save_path(path, overwrite=True):
    """Check that `save` could write ``path``, without writing it.

    Run it before a long training whose result goes to ``path``: every
    refusal `save` would make comes now (a missing or read-only folder, a
    FIFO, a file that is not a checkpoint), plus a trial file that proves
    the folder is writable.

    Returns
    -------
    str
        The file that `save` will write (a symbolic link's target).
    """
    func = "save"
    target = _target(_npz_path(path, func), overwrite, func)
    fd, trial = _temp_file(os.path.dirname(target), func)
    os.close(fd)
    os.remove(trial)
    return target


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _remove_stale_temps(folder):
    """Delete temporary files left by saves that were killed (kill -9)."""
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:  # an unlistable folder: the save itself will say more
        return
    for entry in entries:
        m = _TEMP.fullmatch(entry.name)
        if not m or not entry.is_file(follow_symlinks=False):
            continue
        pid = m.group(1)
        stale = (not _pid_alive(int(pid)) if pid is not None else
                 now - entry.stat(follow_symlinks=False).st_mtime > _OLD_TEMP_AGE)
        if stale and (pid is None or int(pid) != os.getpid()):
            try:
                os.remove(entry.path)
            except OSError:  # gone already, or not ours to remove
                pass


def _arrays_to_save(model, func):
    if not hasattr(model, "params"):
        raise TypeError(f"{func}: model must have params(), got {model!r}")
    arrays = {}
    for name, p in model.params().items():
        if name.startswith("__"):
            raise ValueError(f"{func}: parameter name {name!r} is reserved")
        a = np.asarray(p)
        if a.dtype.kind != "f":  # never objects, which would be pickled
            raise TypeError(f"{func}: parameter {name!r} must be a float array, "
                            f"got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise ValueError(f"{func}: parameter {name!r} holds NaN or inf; a "
                             f"checkpoint only stores finite weights")
        arrays[name] = a
    arrays[_MARK] = np.array(_FORMAT)
    arrays[_ARCH] = np.array(repr(model)[:_MAX_TEXT])
    return arrays


def save(model, path, overwrite=True):
    """Write ``model``'s parameters to ``path`` (an ``.npz`` file), atomically.

    Parameters
    ----------
    model : Sequential
        Anything with ``params()`` returning ``{name: float ndarray}``.
    path : str or path-like
        Used exactly as given (no ``.npz`` is appended). A symbolic link
        stays a link: its target is written.
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
    old file is untouched; a failed save removes the temporary file, and
    the next save removes those of saves that were killed.
    """
    func = "save"
    path = _npz_path(path, func)
    arrays = _arrays_to_save(model, func)
    target = _target(path, overwrite, func)
    folder = os.path.dirname(target)
    _remove_stale_temps(folder)
    fd, tmp = _temp_file(folder, func)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


# ---------------------------------------------------------------- loading

_UNREADABLE = (OSError, EOFError, zipfile.BadZipFile, zlib.error)


class _Archive:
    """A checkpoint opened for reading: entry headers first, data on demand."""

    def __init__(self, path, func):
        self.path, self.func = path, func
        _regular_file(path, func)
        with open(path, "rb") as f:
            head = f.read(4)
        if head[:1] == b"\x80":  # the first byte of every binary pickle
            raise ValueError(
                f"{func}: {path} holds pickled Python objects; refusing to load "
                f"it (loading a pickle can run arbitrary code)"
            )
        if head != b"PK\x03\x04":  # an .npz file is a zip archive
            raise ValueError(f"{func}: {path} is not a cnnlib checkpoint (not "
                             f"an .npz file: it starts with {head!r})")
        try:
            self.zip = zipfile.ZipFile(path)
        except (*_UNREADABLE, ValueError) as err:
            raise ValueError(f"{func}: {path} is not a readable .npz file "
                             f"({err})") from None
        try:
            self.infos = self._entries()
            self.headers = {k: self._header(k) for k in self.infos}
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def fail(self, name, what):
        return ValueError(f"{self.func}: {self.path} entry {name!r} {what}")

    def _entries(self):
        infos = {}
        for info in self.zip.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"{self.func}: {self.path} holds "
                                 f"{info.filename!r}, which is not an array; "
                                 f"not a cnnlib checkpoint")
            infos[info.filename[:-4]] = info
        if _MARK not in infos:
            raise ValueError(
                f"{self.func}: {self.path} is an .npz file but not a cnnlib "
                f"checkpoint (no {_MARK!r} entry)"
            )
        return infos

    def _header(self, name):
        """(shape, dtype, fortran_order, data offset), read from the entry."""
        info = self.infos[name]
        try:
            with self.zip.open(info) as f, warnings.catch_warnings():
                warnings.simplefilter("error")  # a Python 2 header: refuse
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"unsupported .npy version {version}")
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read(f, max_header_size=1000)
                offset = f.tell()
        except _UNREADABLE as err:
            raise self.fail(name, f"is corrupt ({err})") from None
        except (ValueError, TypeError, SyntaxError, RecursionError, Warning,
                tokenize.TokenError, UnicodeDecodeError) as err:
            raise self.fail(name, f"has no valid .npy header ({err})") from None
        if dtype.hasobject:
            raise self.fail(name, "holds Python objects (pickled data); "
                                  "refusing to load it")
        if any(d < 0 for d in shape):
            raise self.fail(name, f"declares an impossible shape {shape}")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if info.file_size != offset + nbytes:
            raise self.fail(name, f"declares {dtype} {shape} ({nbytes:,} bytes) "
                                  f"but holds {info.file_size - offset:,} bytes")
        return shape, dtype, fortran, offset

    def array(self, name):
        """The entry's data; reads exactly the bytes its header declared."""
        shape, dtype, fortran, offset = self.headers[name]
        nbytes = int(np.prod(shape)) * dtype.itemsize
        try:
            with self.zip.open(self.infos[name]) as f:
                f.read(offset)
                data = f.read(nbytes)
                extra = f.read(1)  # reaching the end checks the CRC
        except _UNREADABLE as err:
            raise self.fail(name, f"is corrupt ({err})") from None
        if len(data) != nbytes or extra:
            raise self.fail(name, "is corrupt (its size does not match its "
                                  "header)")
        return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran
                                                  else "C")

    def text(self, name):
        """A text entry (the format marker, the model's description)."""
        if name not in self.headers:
            return "unknown"
        shape, dtype, _, _ = self.headers[name]
        if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * _MAX_TEXT:
            raise self.fail(name, f"must be a short text, got {dtype} {shape}")
        return str(self.array(name)[()])


def _mismatches(params, headers):
    """What keeps the file's entries from filling ``params``."""
    entries = {k: v for k, v in headers.items() if k not in (_MARK, _ARCH)}
    problems = [f"missing in file: {k} {tuple(p.shape)}"
                for k, p in params.items() if k not in entries]
    problems += [f"not in model: {k} {entries[k][0]}"
                 for k in entries if k not in params]
    problems += [f"shape of {k}: model {tuple(p.shape)}, file {entries[k][0]}"
                 for k, p in params.items()
                 if k in entries and entries[k][0] != p.shape]
    problems += [f"dtype of {k}: {entries[k][1]}, not float"
                 for k in entries if entries[k][1].kind != "f"]
    return problems


def _check_values(a, dtype, name, path, func):
    """Refuse NaN or inf, and values the model's dtype cannot hold."""
    bad = ~np.isfinite(a)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{func}: {path} entry {name!r} holds {a[index]} at "
                         f"index {index}; a checkpoint holds finite weights")
    biggest = float(np.abs(a).max(initial=0))
    if biggest > float(np.finfo(dtype).max):
        raise ValueError(f"{func}: {path} entry {name!r} holds values up to "
                         f"{biggest:.3g}, beyond the model's {np.dtype(dtype)} "
                         f"range")


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
        Not a checkpoint, pickled content, a damaged entry, NaN or values
        the model's dtype cannot hold, or parameters that do not match: the
        message lists every missing, unexpected and mis-shaped name. The
        model is left unchanged.
    """
    func = "load"
    path = _npz_path(path, func)
    if not hasattr(model, "params") and callable(model):
        model = model()
    if not hasattr(model, "params"):
        raise TypeError(f"{func}: model must be a model or a factory, got {model!r}")
    params = model.params()
    with _Archive(path, func) as archive:
        problems = _mismatches(params, archive.headers)
        if problems:  # found from the headers, before reading any data
            saved_as = " ".join(archive.text(_ARCH).split())
            raise ValueError(f"{func}: {path} does not fit this model: "
                             + "; ".join(problems)
                             + f". The file was saved from {saved_as}")
        arrays = {k: archive.array(k) for k in params}
    for k, p in params.items():
        _check_values(arrays[k], p.dtype, k, path, func)
    for k, p in params.items():
        p[...] = arrays[k]  # in place: an optimizer's references stay valid
    return model
