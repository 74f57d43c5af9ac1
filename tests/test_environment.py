import re

from cnnlib import environment
from cnnlib.environment import Check, check_environment, report
from tests import pyproject


def test_this_environment_passes():
    checks = check_environment()
    assert [c for c in checks if not c.ok] == []
    names = [c.name for c in checks]
    for n in ["numpy", "matplotlib", "ipywidgets", "jupyterlab_widgets"]:
        assert n in names


def test_a_missing_or_old_package_gets_one_fix(monkeypatch, capsys):
    real = environment._requirements()
    monkeypatch.setattr(environment, "_requirements", lambda: (
        [("numpy", (999, 0), ""), ("surely-not-installed", (1, 0), "")]
        + real[1:]))
    checks = {c.name: c for c in check_environment()}
    assert not checks["numpy"].ok and "--upgrade 'numpy>=999.0'" in checks["numpy"].fix
    assert not checks["surely-not-installed"].ok
    assert "pip install -r requirements.txt" in checks["surely-not-installed"].fix
    assert report(list(checks.values())) is False
    out = capsys.readouterr().out
    assert out.count("fix:") == 2


def test_report_of_good_checks():
    assert report([Check("numpy", "2.0", True, "")]) is True


def test_a_known_bad_version_is_flagged(monkeypatch):
    monkeypatch.setattr(environment, "_too_new", lambda: [("numpy", 1, "numpy hangs")])
    checks = {c.name: c for c in check_environment()}
    assert not checks["numpy"].ok
    assert "pip install 'numpy<1'" in checks["numpy"].fix


def test_bounds_come_from_pyproject_only():
    """The setup check's floors and caps are pyproject.toml's, not a copy."""
    bounds = {}
    for req in pyproject.requirements():
        name = pyproject.name(req)
        floor = re.search(r">=([0-9.]+)", req)
        cap = re.search(r"<([0-9]+)", req)
        bounds[name.replace("-", "_")] = (
            tuple(int(p) for p in floor.group(1).split(".")) if floor else None,
            int(cap.group(1)) if cap else None)
    for name, minimum, _ in environment._requirements():
        assert name in bounds, f"the setup check looks at undeclared {name}"
        assert minimum == bounds[name][0], name
    assert environment._too_new() == [
        (n, bounds[n][1], why) for n, why in environment.WHY_CAPPED.items()]
    assert ("ipykernel", 7) in [(n, m) for n, m, _ in environment._too_new()]
