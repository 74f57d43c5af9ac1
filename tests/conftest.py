"""Fixtures shared by the unit tests, and the `slow` marker for `make check`.

`make check` runs the unit tests and the library's doctests in under a
minute; `make test` runs everything, notebooks and browser included.
"""

from pathlib import Path

import numpy as np
import pytest

from cnnlib.data import load_mnist

# Whole files that start kernels, servers or a browser: `make test` only.
SLOW = {"test_nbgrader.py", "test_classroom.py", "test_install.py", "ui"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "tests" in parts and SLOW & set(parts[parts.index("tests") + 1:]):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def rng():
    """A fresh seeded generator per test, so tests do not depend on order."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def _shipped_digits():
    X, y = load_mnist("subset", "train", dtype=np.float32, normalize=True)
    pick = np.random.default_rng(0).permutation(len(X))[:512]  # all classes
    return X[pick], y[pick]


@pytest.fixture
def digits(_shipped_digits):
    """512 shipped training digits, every class present, float32 in [0, 1].

    Read once per run; each test gets its own copy to change as it likes.
    """
    X, y = _shipped_digits
    return X.copy(), y.copy()
