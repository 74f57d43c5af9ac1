"""The command line the kernel benchmarks share, and their machine settings.

Import it, and call `parse_args`, before importing NumPy or torch: both
read their thread count and vector kernels when they load. `parse_args`
also tells glibc's malloc to keep freed memory (`keep_heap`); `blas_text`
and `torch_text` say what each library ran with.
"""

import argparse
import ctypes
import ctypes.util
import os
import platform
import sys

#: Per ``--isa``: the variables that pick each library's vector kernels.
#: OpenBLAS (NumPy) takes OPENBLAS_CORETYPE; torch's convolutions run in
#: oneDNN (ONEDNN_MAX_CPU_ISA) and its other kernels in ATen
#: (ATEN_CPU_CAPABILITY). Without ``--isa`` the two libraries may differ:
#: an environment that sets OPENBLAS_CORETYPE=Haswell (as the build machine's
#: did) gives NumPy 256-bit kernels while torch uses 512-bit ones.
ISA = {
    "avx2": {"OPENBLAS_CORETYPE": "Haswell", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "ATEN_CPU_CAPABILITY": "avx2"},
    "avx512": {"OPENBLAS_CORETYPE": "SkylakeX",
               "ATEN_CPU_CAPABILITY": "avx512"},  # and oneDNN unlimited
}


def parse_args(doc, repeats, loops):
    """Parse the shared options; fix the threads, vector kernels and heap.

    Options: ``--threads --repeats --loops --batch --default-heap --isa``.
    Returns ``(args, threads)``; ``args.heap`` says how the heap was set.
    Also puts the repository root on ``sys.path``, so ``cnnlib`` imports
    without an install.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/torch threads (default: OPENBLAS_NUM_THREADS "
                             "or 1)")
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--loops", type=int, default=loops)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--default-heap", action="store_true",
                        help="leave glibc's malloc as it is (see keep_heap)")
    parser.add_argument("--isa", choices=sorted(ISA), default=None,
                        help="vector instructions for both libraries: avx2 or "
                             "avx512 (default: each library's own setting)")
    args = parser.parse_args()
    if args.isa == "avx512" and not _has_avx512():
        parser.error("--isa avx512: no AVX-512 on this CPU (no avx512f in "
                     "/proc/cpuinfo)")
    if args.isa:  # read by OpenBLAS, oneDNN and ATen when they load
        os.environ.pop("ONEDNN_MAX_CPU_ISA", None)
        os.environ.update(ISA[args.isa])
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    threads = args.threads or int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))
    args.heap = "as glibc sets it" if args.default_heap else keep_heap()
    return args, threads


def _has_avx512(cpuinfo="/proc/cpuinfo"):
    try:
        with open(cpuinfo) as f:
            return "avx512f" in f.read().split()
    except OSError:  # not Linux: cannot tell, so trust the caller
        return True


def keep_heap():
    """Let glibc's malloc keep freed memory for the next step; say so.

    A loop that runs one layer again and again frees its big temporary
    arrays at the end of every step. glibc may hand that memory back to
    the operating system, and the next step then takes it again, one page
    fault per 4 KB. Whether it does depends on where the arrays happened
    to land. On the 2-vCPU build VM, in the runs where it did, a step of
    the 32->16 transposed convolution took 1,034 page faults and 2.6 ms
    instead of 1.5 ms (AVX2 kernels).

    A training loop, with many layers between two steps, did not do this:
    notebook 08's autoencoder took 0.30 s per epoch and 0.5 page faults
    per step either way. So the benchmarks switch it off. glibc keeps up
    to 256 MB of freed memory, and serves arrays under 32 MB (its largest
    such setting) from that memory. torch, timed in the same process,
    gets the same setting.
    """
    if platform.libc_ver()[0] != "glibc":
        return "not glibc: left as it is"
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
    if not (libc.mallopt(M_TRIM_THRESHOLD, 256 << 20)
            and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)):
        return "mallopt refused: left as glibc sets it"
    return "glibc keeps freed memory (--default-heap: as glibc sets it)"


def blas_text():
    """Which BLAS NumPy runs, and which kernels: the figures depend on it."""
    import numpy  # noqa: F401  (NumPy loads its BLAS when imported)
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib["user_api"] == "blas":
            arch = lib.get("architecture") or "?"
            forced = os.environ.get("OPENBLAS_CORETYPE")
            how = f" (OPENBLAS_CORETYPE={forced} set)" if forced else ""
            return f"{lib['internal_api']} {lib['version']}, {arch} kernels{how}"
    return "unknown BLAS"


def torch_text(torch):
    """torch's vector instructions (its ATen kernels; oneDNN's limit if set)."""
    text = f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}"
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return text + (f", oneDNN limited to {limit}" if limit else "")
