"""Data parallelism: train on every core by splitting every batch.

NumPy runs each operation in one thread (only matrix products use more,
through BLAS), and Python threads take turns on one interpreter lock, so a
small network gets little from a second core. `DataParallel` uses every
core by giving each worker process its own part of every batch::

    this process                           each worker process (one core)
    ------------                           ------------------------------
    write the parameters and each
    worker's images to a shared file  --->  forward + backward on its images
                                            write its gradients to the file
    add the gradients               <---    reply: loss and correct count
    optimizer step

The loss is the mean over the batch, so its gradient is the size-weighted
sum of the parts' gradients: the step equals a one-process step up to
rounding (float64 agrees to ~1e-15), and a run is repeatable for a fixed
number of workers. Parameters, images, labels and gradients travel through
one memory-mapped temporary file (deleted as soon as both sides have it
open); the pipe carries one short line each way per step.

Used by `cnnlib.train.fit` (``workers=2``) and ``python -m cnnlib.train
--workers 2``. Taught in notebooks/07_training_a_cnn.ipynb (mentioned with
the full-MNIST command).
"""

import copy
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .layers import _positive_int
from .losses import softmax_cross_entropy

__all__ = ["DataParallel", "train_step", "split_sizes"]


def train_step(model, xb, yb, scale=1.0):
    """Forward, loss and backward on one batch; fills the model's grads.

    Parameters
    ----------
    model : Sequential
    xb : ndarray, shape (B, C, H, W), the model's dtype
    yb : ndarray of int, shape (B,)
    scale : float
        Multiplies the gradient (a part of a batch of ``n`` images that
        holds ``B`` of them uses ``B / n``, so the parts' gradients add up).

    Returns
    -------
    loss : float
        Mean cross-entropy over ``xb`` (not scaled). If it is NaN or inf,
        backward is skipped.
    hits : int
        How many predictions were correct.
    """
    logits = model.forward(xb)
    loss, dlogits = softmax_cross_entropy(logits, yb)
    hits = int(np.count_nonzero(logits.argmax(axis=1) == yb))
    if np.isfinite(loss):
        if scale != 1.0:
            dlogits *= dlogits.dtype.type(scale)
        model.backward(dlogits, need_dx=False)
    return float(loss), hits


def split_sizes(n, parts):
    """Sizes of ``parts`` consecutive pieces of ``n`` items, as equal as can be.

    >>> split_sizes(64, 2), split_sizes(10, 3), split_sizes(1, 2)
    ([32, 32], [4, 3, 3], [1, 0])
    """
    return [n // parts + (i < n % parts) for i in range(parts)]


def _shared_dir():
    shm = Path("/dev/shm")  # RAM-backed on Linux; elsewhere the temp dir
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _layout(n_params, max_part, sample_size, dtype, workers):
    """Byte offsets in the shared file: params, then per worker grads, x, y."""
    item = np.dtype(dtype).itemsize
    offsets, pos = {"params": 0}, n_params * item
    for k in range(workers):
        for name, count, size in (("grads", n_params, item),
                                  ("x", max_part * sample_size, item),
                                  ("y", max_part, 8)):
            pos = -(-pos // 64) * 64  # 64-byte aligned, as NumPy likes
            offsets[name, k] = pos
            pos += count * size
    return offsets, max(pos, 1)


_NOT_PORTABLE = (
    "DataParallel: could not copy the model to a worker process ({}). "
    "Workers rebuild the model from its classes, so every layer class must "
    "be importable: one defined in a notebook or a script's main file is "
    "not; move it into a module, or train with workers=1")


def _arrays(buf, offset, shapes, dtype):
    """Arrays of the given shapes, one after another in ``buf`` from ``offset``."""
    arrays = []
    for shape in shapes:
        count = int(np.prod(shape))
        arrays.append(np.frombuffer(buf, dtype, count, offset).reshape(shape))
        offset += arrays[-1].nbytes
    return arrays


def _worker_arrays(buf, offsets, k, shapes, dtype, max_part, sample_shape):
    """Worker ``k``'s gradients (list), images and labels in the shared file."""
    grads = _arrays(buf, offsets["grads", k], shapes, dtype)
    (x,) = _arrays(buf, offsets["x", k], [(max_part, *sample_shape)], dtype)
    (y,) = _arrays(buf, offsets["y", k], [(max_part,)], np.int64)
    return grads, x, y


class DataParallel:
    """Run each training step split across ``workers`` processes.

    Parameters
    ----------
    model : Sequential
        Trained in place; the workers hold copies whose parameters are read
        from the shared file before every step.
    workers : int
        Worker processes, one core each (``2`` on a 2-core machine). With
        1 no process is started: `step` trains in this process.
    batch_size : int
        The largest batch `step` will get.
    sample_shape : tuple
        One input's shape, e.g. ``(1, 28, 28)``.

    Use it as a context manager (or call `close`), so the worker processes
    end even when training is interrupted::

        with DataParallel(model, 2, 64, (1, 28, 28)) as dp:
            loss, hits = dp.step(xb, yb)   # fills model's grads
            optimizer.step(model)

    Notes
    -----
    Workers start with ``OPENBLAS_NUM_THREADS=1`` (one core each) and ignore
    Ctrl-C, which interrupts this process; closing ends them. This process
    only copies data, adds gradients and runs the optimizer, so its own BLAS
    threads never compete with the workers. Layers with their own random
    generator (`cnnlib.layers.Dropout`) get an independent stream in each
    worker, drawn from the model's generator.

    Why processes and not threads: measured on a 2-core machine, two Python
    threads each running half a LeNet-5 batch were no faster than one thread
    running all of it (most NumPy calls here are short, and each hands the
    interpreter lock back and forth); two processes were 1.15-1.45x faster.
    """

    def __init__(self, model, workers, batch_size, sample_shape):
        self.workers = _positive_int(workers, "workers", "DataParallel")
        batch_size = _positive_int(batch_size, "batch_size", "DataParallel")
        self.model, self.dtype = model, model.dtype
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.max_part = split_sizes(batch_size, self.workers)[0]
        params = model.params().values()
        self._shapes = [p.shape for p in params]
        self._offsets, nbytes = _layout(
            sum(p.size for p in params), self.max_part,
            int(np.prod(self.sample_shape)), self.dtype, self.workers)
        self._procs, self._file, self._pending = [], None, None
        self._leftover = None
        if self.workers == 1:
            return
        try:
            self._start(nbytes)
        except BaseException:
            self.close()
            raise

    def _start(self, nbytes):
        fd, path = tempfile.mkstemp(prefix="cnnlib-parallel-", dir=_shared_dir())
        try:
            os.ftruncate(fd, nbytes)
            self._file = np.memmap(path, np.uint8, "r+", shape=(nbytes,))
        finally:
            os.close(fd)
        self._params = _arrays(self._file, self._offsets["params"],
                               self._shapes, self.dtype)
        self._grads, self._x, self._y = {}, {}, {}
        for k in range(self.workers):
            self._grads[k], self._x[k], self._y[k] = _worker_arrays(
                self._file, self._offsets, k, self._shapes, self.dtype,
                self.max_part, self.sample_shape)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(
            [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        try:
            for k in range(self.workers):
                proc = subprocess.Popen(
                    [sys.executable, "-c",
                     "from cnnlib.parallel import _worker_main; _worker_main()"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
                self._procs.append(proc)
                try:
                    setup = pickle.dumps(dict(
                        path=path, k=k, model=self._replica(k),
                        offsets=self._offsets, shapes=self._shapes,
                        dtype=self.dtype.str, max_part=self.max_part,
                        sample_shape=self.sample_shape))
                except (pickle.PicklingError, AttributeError, TypeError) as e:
                    raise RuntimeError(_NOT_PORTABLE.format(e)) from None
                self._send_bytes(k, struct.pack("<Q", len(setup)) + setup)
            for k in range(self.workers):
                try:
                    self._reply(k, "ready")
                except RuntimeError as e:
                    raise RuntimeError(_NOT_PORTABLE.format(e)) from None
        finally:  # both sides have it open (or failed): no leftovers
            try:
                os.unlink(path)
            except OSError:  # Windows keeps open files: remove it in close()
                self._leftover = path

    def _replica(self, k):
        """A copy of the model without caches, grads or parameters."""
        layers = []
        for i, layer in enumerate(self.model.layers):
            c = copy.copy(layer)
            c.cache, c.grads = None, {}
            c.params = {name: None for name in layer.params}
            rng = getattr(layer, "rng", None)
            if isinstance(rng, np.random.Generator):
                c.rng = np.random.default_rng(
                    [k, i, int(rng.integers(2**63))])
            layers.append(c)
        replica = copy.copy(self.model)
        replica.layers = layers
        return replica

    def _ended(self, k):
        code = self._procs[k].wait(timeout=10)
        return RuntimeError(
            f"DataParallel: worker {k} ended (exit status {code}) before "
            f"answering; its error, if any, is printed above")

    def _send_bytes(self, k, data):
        try:
            self._procs[k].stdin.write(data)
            self._procs[k].stdin.flush()
        except OSError:  # broken pipe: the worker is gone
            raise self._ended(k) from None

    def _send(self, k, text):
        self._send_bytes(k, text.encode())

    def _reply(self, k, expect):
        line = self._procs[k].stdout.readline().decode().strip()
        if not line:
            raise self._ended(k)
        word, _, rest = line.partition(" ")
        if word != expect:
            raise RuntimeError(f"DataParallel: worker {k} failed: {rest or line}")
        return rest

    def step(self, xb, yb):
        """Forward and backward on ``xb`` split across the workers.

        Parameters
        ----------
        xb : ndarray, shape (B, *sample_shape), the model's dtype
        yb : ndarray of int, shape (B,)

        Returns
        -------
        loss : float
            Mean cross-entropy over the batch (NaN or inf if any part's was).
        hits : int
            Correct predictions in the batch.

        After it returns, the model's grads are those of the whole batch.
        It is `start` then `finish`; between the two this process is free
        (`cnnlib.train.fit` prepares the next batch there).
        """
        self.start(xb, yb)
        return self.finish()

    def start(self, xb, yb):
        """Hand out the parts of a batch (returns at once with workers)."""
        if self._pending is not None:
            raise RuntimeError("DataParallel.start: the previous step is not "
                               "finished; call finish() first")
        n = len(xb)
        if self.workers == 1:
            self._pending = train_step(self.model, xb, yb)
            return
        if xb.shape[1:] != self.sample_shape or xb.dtype != self.dtype or \
                n > self.max_part * self.workers:
            raise ValueError(
                f"DataParallel.step: xb must be {self.dtype} of shape (B, "
                f"{', '.join(map(str, self.sample_shape))}) with B <= "
                f"{self.max_part * self.workers}, got {xb.dtype} {xb.shape}")
        sizes = split_sizes(n, self.workers)
        starts = np.cumsum([0] + sizes)
        for view, p in zip(self._params, self.model.params().values(),
                           strict=True):
            np.copyto(view, p)
        busy = [k for k in range(self.workers) if sizes[k]]
        self._pending = (n, sizes, busy)
        for k in busy:
            m = sizes[k]
            self._x[k][:m] = xb[starts[k]:starts[k + 1]]
            self._y[k][:m] = yb[starts[k]:starts[k + 1]]
            self._send(k, f"step {m} {m / n!r}\n")

    def finish(self):
        """Wait for the workers and add up their gradients; see `step`."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise RuntimeError("DataParallel.finish: no step was started")
        if self.workers == 1:
            return pending
        n, sizes, busy = pending
        replies, error = {}, None
        for k in busy:  # hear every worker out, so the pipes stay in step
            try:
                replies[k] = self._reply(k, "ok").split()
            except RuntimeError as e:
                error = error or e
        if error is not None:
            raise error
        loss, hits = 0.0, 0
        for k in busy:  # add up in a fixed order: repeatable runs
            loss += float(replies[k][0]) * sizes[k]
            hits += int(replies[k][1])
        if not np.isfinite(loss):
            return loss / n, hits
        i = 0  # the shared gradients are in params() order
        for layer in self.model.layers:
            for key in layer.params:
                total = self._grads[busy[0]][i].copy()
                for k in busy[1:]:
                    total += self._grads[k][i]
                layer.grads[key] = total
                i += 1
        return loss / n, hits

    def close(self):
        """End the worker processes and release the shared file (idempotent)."""
        for proc in self._procs:
            try:
                proc.stdin.close()  # the worker reads EOF and exits
            except OSError:
                pass
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        self._procs = []
        self._params = self._grads = self._x = self._y = None
        self._file = None
        if self._leftover:
            try:
                os.unlink(self._leftover)
                self._leftover = None
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_procs", None):
            self.close()

    def __repr__(self):
        return f"DataParallel(workers={self.workers}, max_part={self.max_part})"


def _worker_setup(inp):
    """Read the setup message; return the replica and its shared arrays."""
    (size,) = struct.unpack("<Q", inp.read(8))
    setup = pickle.loads(inp.read(size))  # trusted: written by our parent
    k, dtype = setup["k"], np.dtype(setup["dtype"])
    buf = np.memmap(setup["path"], np.uint8, "r+")
    at, shapes = setup["offsets"], setup["shapes"]
    params = iter(_arrays(buf, at["params"], shapes, dtype))
    model = setup["model"]
    for layer in model.layers:
        for name in layer.params:
            layer.params[name] = next(params)
    grads, x, y = _worker_arrays(buf, at, k, shapes, dtype, setup["max_part"],
                                 setup["sample_shape"])
    return model, x, y, grads


def _worker_main():
    """Worker process: set up from stdin, then run steps until stdin ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints go to stderr, not into the protocol
    inp = sys.stdin.buffer

    def say(text):
        out.write(text.encode() + b"\n")

    try:
        model, x, y, grads = _worker_setup(inp)
    except Exception as e:  # e.g. a layer class defined in a notebook
        say(f"error {type(e).__name__}: {e}".replace("\n", " "))
        return
    say("ready")
    for line in inp:
        try:
            _, m, scale = line.split()
            m = int(m)
            loss, hits = train_step(model, x[:m], y[:m], float(scale))
            if np.isfinite(loss):
                for view, g in zip(grads, model.grads().values(), strict=True):
                    np.copyto(view, g)
            say(f"ok {loss!r} {hits}")
        except Exception as e:  # report, keep serving; the parent decides
            say(f"error {type(e).__name__}: {e}".replace("\n", " "))
