"""Notebooks are committed clean, linked, and small (nbval runs them)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_MB = {"07": 2.0}


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    path = request.param
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_committed_clean(notebook):
    path, nb = notebook
    assert "widgets" not in nb["metadata"], (
        f"{path.name} holds saved widget state: run tools/execute_notebooks.py")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        assert "execution" not in cell["metadata"], (
            f"{path.name} code cell {i} has timing metadata: run "
            "tools/execute_notebooks.py")
        if "".join(cell["source"]).strip():
            assert cell["execution_count"] is not None, (
                f"{path.name} code cell {i} was never executed: run "
                "tools/execute_notebooks.py")
        for out in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-view+json" not in out.get(
                "data", {}), f"{path.name} cell {i} stores a widget view"
            assert out.get("name") != "stderr", (
                f"{path.name} code cell {i} wrote to stderr: "
                f"{''.join(out.get('text', ''))[:200]}")


def test_small_enough(notebook):
    path, _ = notebook
    limit = MAX_MB.get(path.name[:2], 1.5)
    size = path.stat().st_size / 1e6
    assert size < limit, f"{path.name} is {size:.2f} MB (limit {limit} MB)"


def test_every_relative_link_resolves(notebook):
    path, nb = notebook
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", "".join(cell["source"])):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file_part = target.split("#")[0]
            assert (path.parent / file_part).exists(), (
                f"{path.name} links to {target}, which does not exist")


def test_navigation_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_nav.py"), "--check"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_setup_cell_never_star_imports(notebook):
    path, nb = notebook
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not re.search(r"^from \S+ import \*", "".join(cell["source"]),
                                 flags=re.M), f"{path.name} uses import *"
