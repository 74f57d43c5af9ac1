"""Root pytest configuration: found from any working directory.

nbval compares every notebook's stored outputs with a fresh run. Figure
sizes and memory addresses are sanitized with nbval_sanitize.cfg (nbval reads
the path relative to the working directory, so it is set absolute here).
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# Kernels started by nbval inherit this: one BLAS thread gives the same last
# bits as the committed outputs. Debugger warnings on stderr would fail nbval.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def pytest_configure(config):
    if hasattr(config.option, "nbval_sanitize_with"):
        if not config.option.nbval_sanitize_with:
            config.option.nbval_sanitize_with = str(ROOT / "nbval_sanitize.cfg")
