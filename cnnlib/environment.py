"""Is this environment ready for the course? Used by notebooks/00_setup_check.

`check_environment()` returns one `Check` per requirement, each with the
version found and, when something is wrong, one concrete fix.
"""

import sys
from collections import namedtuple
from importlib import metadata
from pathlib import Path

__all__ = ["Check", "check_environment", "report"]

Check = namedtuple("Check", ["name", "found", "ok", "fix"])
Check.__doc__ = "One requirement: its name, the version found, ok, and a fix."

_WHY = {
    "numpy": "the arrays every kernel works on",
    "matplotlib": "every figure",
    "ipywidgets": "the sliders of the explorers",
    "jupyterlab_widgets": "shows ipywidgets inside JupyterLab",
    "ipykernel": "runs the notebook code",
}
INSTALL = "pip install -r requirements.txt  (from the repository root)"
_CAUSE = {"ipykernel": "ipykernel 7 can hang on a cell until it is restarted "
                       "(ipython/ipykernel#1554)"}


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _declared():
    """``{name: (minimum, first bad major or None)}`` from the one list.

    The repository's requirements.txt when cnnlib runs from a clone, else
    the installed package's own requirements: the version floors are never
    written twice.
    """
    import re

    root = Path(__file__).resolve().parent.parent
    lines = []
    if (root / "requirements.txt").is_file():
        lines = (root / "requirements.txt").read_text().splitlines()
    else:
        try:
            lines = metadata.requires("cnnlib") or []
        except metadata.PackageNotFoundError:
            lines = []
    found = {}
    for line in lines:
        line = line.split("#")[0].split(";")[0].strip()
        m = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", line)
        if not m or line.startswith("-"):
            continue
        name = m.group(1).lower().replace("-", "_")
        low = re.search(r">=\s*([\d.]+)", m.group(2))
        cap = re.search(r"<\s*(\d+)", m.group(2))
        found[name] = (_version_tuple(low.group(1)) if low else (0,),
                       int(cap.group(1)) if cap else None)
    return found


_DECLARED = _declared()
# ipywidgets 8 ships with (and needs) jupyterlab_widgets 3
_DECLARED.setdefault("jupyterlab_widgets", ((3, 0), None))
_DECLARED.setdefault("ipykernel", ((6, 0), None))
# (distribution, minimum version, why it matters)
REQUIREMENTS = [(name, _DECLARED.get(name, ((0,), None))[0], why)
                for name, why in _WHY.items()]
# (distribution, first bad major version, why): known to break the course
TOO_NEW = [(name, cap, _CAUSE.get(name, f"{name} {cap} is not supported yet"))
           for name, (_, cap) in _DECLARED.items()
           if cap is not None and name in _WHY]


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
    checks.append(Check("python", py, sys.version_info >= (3, 10),
                        "" if sys.version_info >= (3, 10)
                        else "Python 3.10 or newer is needed"))
    checks.extend(_check_package(n, m) for n, m, _ in REQUIREMENTS)
    for i, c in enumerate(checks):
        for name, major, why in TOO_NEW:
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

    here = Path(cnnlib.__file__).resolve().parent
    data = here.parent / "data"
    if not data.is_dir():
        fix = ("this cnnlib is not the repository's copy: from the repository "
               "root run  pip install -e .")
    elif not any(data.glob("mnist*.npz")):
        fix = (f"the shipped digits are missing from {data}: restore them "
               "with  git checkout -- data/")
    else:
        fix = ""
    checks.append(Check("cnnlib and its data", str(here.parent), not fix, fix))
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
