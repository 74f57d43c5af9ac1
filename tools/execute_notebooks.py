#!/usr/bin/env python3
"""Re-execute notebooks in place, cleanly, so `git diff` shows only real changes.

    python tools/execute_notebooks.py                 # every notebooks/*.ipynb
    python tools/execute_notebooks.py notebooks/02_convolution.ipynb

Each notebook runs top to bottom in a fresh kernel started in its own folder,
with OPENBLAS_NUM_THREADS=1 (as under nbval in CI). Then:

- no per-cell timing metadata is recorded, and no saved widget state
  (``metadata.widgets``) is kept;
- the kernelspec is set to the stable default, and ``language_info`` is
  exactly what the kernel reported (with its Python version): JupyterLab
  then finds nothing to update when the notebook is opened, so opening it
  does not mark it changed and autosave does not rewrite it;
- a widget's output (a live view that needs a running kernel) is replaced by
  a short plain-text note, so the saved file holds no random model ids, and
  the explorers' accessibility script (`cnnlib.widgets.base`) is dropped;
- the file is written only if every cell ran without error, and atomically
  (temporary file + rename): a failed run never damages the notebook.

Run it before every commit that touches a notebook or a kernel one uses.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "Live widget: run this cell in JupyterLab to see it."
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python",
              "name": "python3"}
A11Y_MARK = "cnnlibA11y"


def clean(nb, language_info=None):
    """Strip run-specific metadata from an executed notebook (in place).

    ``language_info``: what the kernel reported (kept verbatim, see above).
    """
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    if language_info is not None:
        nb.metadata["language_info"] = dict(language_info)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if cell.cell_type != "code":
            continue
        if "outputs" in cell:
            cell["outputs"] = [
                out for out in cell["outputs"]
                if A11Y_MARK not in str(out.get("data", {}).get(
                    "application/javascript", ""))]
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                out["data"] = {"text/plain": WIDGET_NOTE}
        # One print can arrive as one or two stream messages, depending on
        # when the kernel flushed; merge neighbours so the file does not churn.
        merged = []
        for out in cell.get("outputs", []):
            prev = merged[-1] if merged else None
            if (out.get("output_type") == "stream" and prev is not None
                    and prev.get("output_type") == "stream"
                    and prev.get("name") == out.get("name")):
                prev["text"] = "".join(prev["text"]) + "".join(out["text"])
            else:
                merged.append(out)
        if "outputs" in cell:
            cell["outputs"] = merged
    return nb


def execute(path, timeout):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        print(f"FAILED {path.name}: a cell raised; the notebook was not "
              f"changed.\n{err}", file=sys.stderr)
        return False
    seconds = time.perf_counter() - start
    # nbclient stored the kernel's kernel_info reply in the metadata
    clean(nb, language_info=nb.metadata.get("language_info"))
    nbformat.validate(nb)
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".ipynb.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(nb, fh)
        os.chmod(tmp, mode)  # mkstemp makes 0600; keep the file's own mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    size = path.stat().st_size / 1e6
    print(f"ok {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
          f"  {seconds:.1f} s  {size:.2f} MB")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds allowed per cell (default 600)")
    args = parser.parse_args(argv)
    paths = args.notebooks or (sorted((ROOT / "notebooks").glob("*.ipynb"))
                               + sorted((ROOT / "notebooks" / "assignments")
                                        .glob("*.ipynb")))
    for p in paths:
        if not p.is_file() or p.suffix != ".ipynb":
            parser.exit(2, f"execute_notebooks: not a notebook file: {p}\n")
    # Kernels inherit the environment: one BLAS thread gives the same last
    # bits as CI, so stored outputs match under nbval.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    ok = [execute(p, args.timeout) for p in paths]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
