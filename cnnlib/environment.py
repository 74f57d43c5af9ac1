"""Is this environment ready for the course? Used by notebooks/00_setup_check.

`check_environment()` returns one `Check` per requirement, each with the
version found and, when something is wrong, one concrete fix.
"""

import re
import sys
from collections import namedtuple
from importlib import metadata
from pathlib import Path

__all__ = ["Check", "check_environment", "report"]

Check = namedtuple("Check", ["name", "found", "ok", "fix"])
Check.__doc__ = "One requirement: its name, the version found, ok, and a fix."

INSTALL = "pip install -r requirements.txt  (from the repository root)"

# What each package is for, in the order the setup check prints them. The
# version bounds are not written here: they are read from cnnlib's installed
# metadata, whose one source is pyproject.toml.
WHY = {
    "numpy": "the arrays every kernel works on",
    "matplotlib": "every figure",
    "ipywidgets": "the sliders of the explorers",
    "jupyterlab_widgets": "shows ipywidgets inside JupyterLab",
    "ipykernel": "runs the notebook code",
}
# Why an upper bound is there, for the fix the setup check prints.
WHY_CAPPED = {
    "ipykernel": "ipykernel 7 can hang on a cell until it is restarted "
                 "(ipython/ipykernel#1554)",
}


def _declared():
    """``{name: (floor, first_bad_major)}`` as cnnlib's metadata declares.

    Reads the installed requirements (``dependencies`` and the ``course``
    extra of pyproject.toml); ``floor`` is a version tuple or None, and
    ``first_bad_major`` is the major version of a ``<N`` bound or None.
    """
    try:
        requires = metadata.requires("cnnlib") or []
    except metadata.PackageNotFoundError:
        return {}
    declared = {}
    for req in requires:
        spec, _, marker = req.partition(";")
        if marker and "course" not in marker:
            continue
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*\(?([^)]*)", spec)
        floor = cap = None
        for bound in m.group(2).split(","):
            bound = bound.strip()
            if bound.startswith(">="):
                floor = _version_tuple(bound[2:])
            elif bound.startswith("<") and not bound.startswith("<="):
                cap = _version_tuple(bound[1:])[0]
        declared[m.group(1).lower().replace("-", "_")] = (floor, cap)
    return declared


def _python_floor():
    """The oldest Python cnnlib supports, from its metadata (pyproject.toml)."""
    try:
        text = metadata.metadata("cnnlib")["Requires-Python"] or ""
    except metadata.PackageNotFoundError:
        text = ""
    m = re.search(r">=\s*([0-9.]+)", text)
    return _version_tuple(m.group(1)) if m else (3,)


def _requirements():
    """(name, minimum, why) for each package the setup check looks at."""
    declared = _declared()
    return [(name, declared.get(name, (None, None))[0] or (0,), why)
            for name, why in WHY.items()]


def _too_new():
    """(name, first bad major version, why) for each capped package."""
    declared = _declared()
    return [(name, declared[name][1], why) for name, why in WHY_CAPPED.items()
            if name in declared and declared[name][1] is not None]


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _check_package(name, minimum):
    want = ".".join(map(str, minimum))
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        return Check(name, None, False, f"{name} is missing: {INSTALL}")
    if _version_tuple(found) < minimum:
        return Check(name, found, False,
                     f"{name} {found} is older than {want}: "
                     f"pip install --upgrade '{name}>={want}'")
    return Check(name, found, True, "")


def check_environment():
    """Check Python, the packages the course needs, and the shipped data.

    Returns
    -------
    list of Check
        ``Check(name, found, ok, fix)``; ``fix`` is empty when ``ok``.
    """
    checks = []
    py = ".".join(map(str, sys.version_info[:3]))
    oldest = _python_floor()
    checks.append(Check("python", py, sys.version_info >= oldest,
                        "" if sys.version_info >= oldest else
                        f"Python {'.'.join(map(str, oldest))} or newer is "
                        "needed"))
    checks.extend(_check_package(n, m) for n, m, _ in _requirements())
    for i, c in enumerate(checks):
        for name, major, why in _too_new():
            if c.name == name and c.ok and _version_tuple(c.found)[0] >= major:
                checks[i] = c._replace(ok=False, fix=(
                    f"{why}: pip install '{name}<{major}', then restart "
                    "the kernel"))
    ipyw = {c.name: c for c in checks}
    a, b = ipyw["ipywidgets"], ipyw["jupyterlab_widgets"]
    if a.ok and b.ok and _version_tuple(a.found)[0] - 5 != _version_tuple(
        b.found
    )[0]:
        checks.append(Check(
            "widget versions match", f"{a.found} / {b.found}", False,
            "ipywidgets 8 needs jupyterlab_widgets 3: pip install --upgrade "
            "ipywidgets jupyterlab_widgets, then restart JupyterLab"))
    import cnnlib
    from cnnlib.data import SUBSET_PATH

    here = Path(cnnlib.__file__).resolve().parent
    fix = "" if SUBSET_PATH.is_file() else (
        f"the shipped digits are missing from {SUBSET_PATH.parent}: reinstall "
        "cnnlib, or in a clone run  git checkout -- cnnlib/datasets/")
    checks.append(Check("cnnlib and its data", str(here), not fix, fix))
    return checks


def report(checks=None):
    """Print one line per check and a fix for each problem.

    Returns
    -------
    bool
        True when every check passed.
    """
    checks = check_environment() if checks is None else checks
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok     " if c.ok else "PROBLEM"
        print(f"{mark} {c.name:<{width}}  {c.found or 'not installed'}")
    problems = [c for c in checks if not c.ok]
    for c in problems:
        print(f"  fix: {c.fix}")
    return not problems
