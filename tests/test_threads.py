"""cnnlib.threads: counting kernels and cores, and limiting BLAS threads."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cnnlib import threads
from cnnlib.threads import available_cores, kernel_pids, limit_blas_threads

KERNEL = ["/srv/venv/bin/python", "-m", "ipykernel_launcher", "-f",
          "/home/ada/.local/share/jupyter/runtime/kernel-1.json"]


def blas_threads():
    return max(i["num_threads"] for i in threadpool_info()
               if i["user_api"] == "blas")


@pytest.fixture
def restore_blas():
    """Put the BLAS thread count back after a test changed it."""
    with threadpool_limits(limits=None):  # remembers the current limits
        yield


def fake_proc(root, processes):
    """A /proc with one folder per pid holding that process's cmdline."""
    for pid, argv in processes.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "cmdline").write_bytes(
            b"\0".join(a.encode() for a in argv) + b"\0")
    (root / "self").mkdir()  # not a pid: ignored
    (root / "meminfo").write_text("MemTotal: 1 kB\n")
    return root


def test_kernel_pids_finds_kernels_only(tmp_path):
    proc = fake_proc(tmp_path, {
        11: KERNEL,
        12: ["python3", "/srv/venv/lib/python3.11/site-packages/"
             "ipykernel_launcher.py", "-f", "k.json"],
        13: ["python", "-m", "ipykernel", "-f", "k.json"],
        20: ["/srv/venv/bin/python", "/srv/venv/bin/jupyterhub-singleuser"],
        21: ["bash", "-c", "echo ipykernel_launcher is a word here"],
        22: ["python", "-m", "pip", "install", "ipykernel"],
        23: [],  # a kernel thread: empty command line
    })
    assert kernel_pids(proc) == {11, 12, 13}


def test_kernel_pids_without_proc_is_unknown(tmp_path):
    assert kernel_pids(tmp_path / "no-proc") is None


def test_kernel_pids_sees_a_real_kernel_process(tmp_path):
    # A process started the way Jupyter starts a kernel, on the real /proc.
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)",
         "-m", "ipykernel_launcher"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(50):  # its cmdline is readable once exec has run
            if child.pid in kernel_pids():
                break
            time.sleep(0.1)
        found = kernel_pids()
    finally:
        child.kill()
        child.wait()
    assert child.pid in found
    assert os.getpid() not in found  # pytest is not a kernel


@pytest.mark.parametrize("text, cores, expected", [
    ("max 100000\n", 8, 8),
    ("150000 100000\n", 8, 1),
    ("400000 100000\n", 8, 4),
    ("400000 100000\n", 2, 2),
    ("50000 100000\n", 8, 1),
    ("garbage", 3, 3),
])
def test_available_cores_respects_a_cgroup_quota(tmp_path, monkeypatch, text,
                                                 cores, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(text)
    assert available_cores(cpu_max) == expected
    assert available_cores(tmp_path / "missing") == cores


@pytest.mark.parametrize("cores, others, load, expected", [
    (2, 0, 0.0, 2), (2, 1, 0.0, 1), (2, 5, 0.0, 1), (8, 3, 0.0, 2),
    (8, 0, 0.0, 8), (16, 3, 0.0, 4),
    # A busy machine: no more threads than idle cores, at least one.
    (2, 0, 1.7, 1), (2, 0, 10.0, 1), (8, 0, 3.2, 5), (8, 1, 3.2, 4),
    (8, 0, 7.6, 1),
])
def test_limit_shares_the_cores_among_kernels(monkeypatch, restore_blas, cores,
                                              others, load, expected):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    me = os.getpid()
    monkeypatch.setattr(threads, "available_cores", lambda: cores)
    monkeypatch.setattr(threads, "_load_average", lambda: load)
    # This process is counted once, whether or not it is itself a kernel.
    monkeypatch.setattr(threads, "kernel_pids",
                        lambda: {me} | {me + 1 + i for i in range(others)})
    with threadpool_limits(limits=7, user_api="blas"):  # not the answer
        assert limit_blas_threads() == expected == blas_threads()
        a = np.random.default_rng(0).standard_normal((200, 200))
        assert np.allclose(a @ np.eye(200), a)  # BLAS still works


def test_an_explicit_environment_setting_wins(monkeypatch, restore_blas):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(threads, "kernel_pids", lambda: set(range(100)))
    # Sharing would give 1 thread (100 kernels); the count is left at 3.
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    with threadpool_limits(limits=3, user_api="blas"):
        assert limit_blas_threads() == 3 == blas_threads()


@pytest.mark.parametrize("n", [1, 3])
def test_an_explicit_count(monkeypatch, restore_blas, n):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")  # an explicit call wins
    assert limit_blas_threads(n) == n == blas_threads()


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="limit_blas_threads: threads must be "
                       "a positive int"):
        limit_blas_threads(bad)
