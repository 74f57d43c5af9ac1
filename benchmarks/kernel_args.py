"""The command line the kernel benchmarks share, and their thread setting.

Import it before NumPy or torch: both read their thread count when they load.
"""

import argparse
import os
import sys


def parse_args(doc, repeats, loops):
    """Parse ``--threads --repeats --loops --batch`` and fix the threads.

    Returns ``(args, threads)``. Also puts the repository root on
    ``sys.path``, so ``cnnlib`` imports without an install.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/torch threads (default: OPENBLAS_NUM_THREADS "
                             "or 1)")
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--loops", type=int, default=loops)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    threads = args.threads or int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))
    return args, threads
