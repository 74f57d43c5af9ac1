"""The README's library example prints what the README says it prints."""

import doctest
from pathlib import Path

import cnnlib.gradcheck
import cnnlib.parallel
import cnnlib.shapes

ROOT = Path(__file__).resolve().parent.parent


def test_readme_example():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_docstring_examples():
    for module in [cnnlib.shapes, cnnlib.gradcheck, cnnlib.parallel]:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
