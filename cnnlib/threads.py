"""Share the cores fairly when many notebook kernels run on one machine.

NumPy's matrix products run in a BLAS library (OpenBLAS, MKL) that starts one
thread per core in *every* process. One student alone on a laptop gains from
that; forty students on a shared JupyterHub machine do not: each kernel's
threads fight all the others' for the same cores, and training gets several
times slower than with one thread per kernel (`benchmarks/hub_trial.py`
measures it). The same happens to a single kernel on a machine that is
busy with other work: its threads wait for each other while the cores run
something else. `limit_blas_threads`, called once in a notebook's setup
cell, counts the Jupyter kernels running on the machine and gives this one
its share of the cores, ``cores // kernels`` threads, and no more than the
cores left idle by the rest of the machine (its load average); at least one.
Nothing happens on import.

An explicit setting always wins: when ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` is set (a hub administrator's
choice, CI), the thread count is left as it is.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import os
from pathlib import Path

from cnnlib.shapes import check_positive_int

__all__ = ["available_cores", "kernel_pids", "limit_blas_threads"]

#: Variables that fix the BLAS thread count when a process starts.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores(cgroup="/sys/fs/cgroup/cpu.max"):
    """How many cores this process may use.

    The cores it is allowed to run on (``os.sched_getaffinity``), lowered to
    the container's CPU quota when there is one (cgroup v2 ``cpu.max``, e.g.
    ``"150000 100000"`` is 1.5 cores, counted as 1).

    Parameters
    ----------
    cgroup : str or path-like
        The cgroup v2 ``cpu.max`` file; a missing file means no quota.

    Returns
    -------
    int
        At least 1.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = Path(cgroup).read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) // int(period))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota to respect
    return max(1, cores)


def _is_kernel(argv):
    """True for an IPython kernel's command line (``-m ipykernel_launcher``)."""
    for i, arg in enumerate(argv):
        name = os.path.basename(arg)
        if name in ("ipykernel_launcher.py", "ipykernel_launcher"):
            return True
        if arg == "-m" and i + 1 < len(argv) and argv[i + 1] in (
                "ipykernel", "ipykernel_launcher"):
            return True
    return False


def kernel_pids(proc="/proc"):
    """Process ids of the IPython kernels running on this machine.

    Reads each process's command line from ``proc`` (Linux). Processes that
    end while being read, or that this user may not inspect, are skipped.

    Parameters
    ----------
    proc : str or path-like
        The proc file system.

    Returns
    -------
    set of int or None
        None when ``proc`` does not exist (not Linux): the count is unknown.
    """
    proc = Path(proc)
    if not proc.is_dir():
        return None
    pids = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if _is_kernel([a.decode(errors="replace") for a in argv if a]):
            pids.add(int(entry.name))
    return pids


def limit_blas_threads(threads=None):
    """Give this process its share of the cores for NumPy's BLAS.

    Parameters
    ----------
    threads : int or None
        None: ``available_cores() // kernels``, where ``kernels`` counts
        this process and the other IPython kernels running on this machine,
        and at most the idle cores (``available_cores()`` minus the
        one-minute load average, rounded); at least 1. Left unchanged when
        one of ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``,
        ``MKL_NUM_THREADS`` is set. A positive int: exactly that many.

    Returns
    -------
    int
        The BLAS thread count now in force (the largest over the BLAS
        libraries loaded).

    Notes
    -----
    Uses threadpoolctl, which changes the count of an already loaded
    OpenBLAS, MKL or BLIS; environment variables only act before NumPy is
    imported. The count is decided once: call it again (re-run the setup
    cell) after many more kernels have started.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    if threads is not None:
        threads = check_positive_int(threads, "threads", "limit_blas_threads")
    elif not any(os.environ.get(v) for v in THREAD_VARIABLES):
        cores = available_cores()
        others = (kernel_pids() or set()) - {os.getpid()}
        idle = round(cores - _load_average())
        threads = max(1, min(cores // (len(others) + 1), idle))
    if threads is not None:
        threadpool_limits(limits=threads, user_api="blas")
    counts = [i["num_threads"] for i in threadpool_info()
              if i["user_api"] == "blas"]
    return max(counts, default=1)


def _load_average():
    """Processes running or waiting to run, one-minute average (0 if unknown)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not available on Windows
        return 0.0
