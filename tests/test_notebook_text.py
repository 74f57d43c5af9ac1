"""The text of every notebook: no control characters in markdown cells.

A LaTeX command written from a Python string without an ``r`` prefix loses
its backslash: ``"\\frac"`` becomes a form feed followed by ``rac``,
``"\\approx"`` a bell followed by ``pprox``. JupyterLab then shows "Math
input error" where the formula should be. These tests catch that before a
student does.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Every C0 control character and DEL, except newline and tab.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def control_characters(text):
    """``[(line number, repr of the character, the line)]`` for each one found."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        for match in CONTROL.finditer(line):
            found.append((number, repr(match.group()), line))
    return found


def test_notebooks_are_found():
    assert len(NOTEBOOKS) >= 8, [p.name for p in NOTEBOOKS]


def test_detector_finds_a_lost_backslash():
    assert control_characters("$$\frac{a}{b} \approx 1$$") == [
        (1, repr("\x0c"), "$$\x0crac{a}{b} \x07pprox 1$$"),
        (1, repr("\x07"), "$$\x0crac{a}{b} \x07pprox 1$$"),
    ]
    assert control_characters("line one\n\tindented\r\n") == [
        (2, repr("\r"), "\tindented\r")]
    assert control_characters(r"$$\frac{a}{b} \approx 1$$" + "\n\ttab") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_cells_hold_no_control_characters(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    bad = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        bad += [f"cell {index} line {n}: {char} in {line!r}"
                for n, char, line in control_characters(source)]
    assert not bad, (f"{path.name}: control characters in markdown (a LaTeX "
                     "backslash lost in a Python string?):\n" + "\n".join(bad))
