"""The README's library example prints what the README says it prints.

The examples in cnnlib's docstrings run through ``--doctest-modules``
(pyproject.toml), so every module's are checked, not a chosen few.
"""

import doctest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_example():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
