#!/usr/bin/env python3
"""Build the cnnlib wheel from a copy of the sources.

    python tools/build_wheel.py OUT_DIR      # prints the wheel's path

``pip wheel .`` run in the checkout writes ``build/`` and ``*.egg-info``
into it; building from a copy of ``pyproject.toml``, ``README.md`` and
``cnnlib/`` leaves the checkout as it was. `tests/test_install.py` and
`benchmarks/hub_trial.py` install the course from this wheel, as a
JupyterHub would (TEACHING.md).
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(work, env=None):
    """Build into ``work/wheels`` from a copy in ``work/src``; return its path.

    ``env`` is the environment for pip (default: this process's). A failed
    build raises RuntimeError with the end of pip's output.
    """
    work = Path(work)
    src, wheels = work / "src", work / "wheels"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "cnnlib", src / "cnnlib", ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", "*.egg-info"))
    # An absolute path: a bare "src" would be looked up on the package index.
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
           str(wheels), str(src.resolve())]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"build_wheel: pip wheel failed ({done.returncode}):"
                           f"\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    (wheel,) = wheels.glob("cnnlib-*.whl")
    return wheel


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/build_wheel.py OUT_DIR")
    print(build_wheel(sys.argv[1]))
