"""pyproject.toml's package lists, read once for the tests that check them."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def project():
    """The ``[project]`` table."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements():
    """Every requirement string: the dependencies, then the course extra."""
    table = project()
    return table["dependencies"] + table["optional-dependencies"]["course"]


def name(requirement):
    """The distribution name a requirement string starts with, lower case."""
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
