"""Each numeric module names, once, the notebook that teaches it (issue 12)."""

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The kernel-side modules; other modules can join this list.
MODULES = ["shapes", "conv", "local", "pool", "activations", "linear",
           "losses", "gradcheck", "data"]
LINE = re.compile(r"^Taught in (notebooks/\d\d_\w+\.ipynb)\.$", re.MULTILINE)


@pytest.mark.parametrize("name", MODULES)
def test_one_taught_in_line_naming_a_notebook_that_uses_the_module(name):
    module = importlib.import_module(f"cnnlib.{name}")
    source = Path(module.__file__).read_text()
    assert source.count("Taught in") == 1, f"cnnlib/{name}.py"
    found = LINE.findall(module.__doc__)
    assert len(found) == 1, f"cnnlib/{name}.py module docstring: {found}"
    notebook = ROOT / found[0]
    assert notebook.is_file(), notebook
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells
                     if c["cell_type"] == "code")
    uses = re.search(rf"\bcnnlib\.{name}\b", code)
    assert uses, f"{found[0]} never imports cnnlib.{name}"
