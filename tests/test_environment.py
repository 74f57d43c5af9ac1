from cnnlib import environment
from cnnlib.environment import Check, check_environment, report


def test_this_environment_passes():
    checks = check_environment()
    assert [c for c in checks if not c.ok] == []
    names = [c.name for c in checks]
    for n in ["numpy", "matplotlib", "ipywidgets", "jupyterlab_widgets"]:
        assert n in names


def test_a_missing_or_old_package_gets_one_fix(monkeypatch, capsys):
    monkeypatch.setattr(environment, "REQUIREMENTS",
                        [("numpy", (999, 0), ""), ("surely-not-installed", (1, 0), "")]
                        + environment.REQUIREMENTS[1:])
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
    monkeypatch.setattr(environment, "TOO_NEW", [("numpy", 1, "numpy hangs")])
    checks = {c.name: c for c in check_environment()}
    assert not checks["numpy"].ok
    assert "pip install 'numpy<1'" in checks["numpy"].fix


def test_version_floors_come_from_requirements_txt():
    from pathlib import Path

    text = (Path(environment.__file__).parent.parent
            / "requirements.txt").read_text()
    floors = dict((n, m) for n, m, _ in environment.REQUIREMENTS)
    for name in ("numpy", "matplotlib", "ipywidgets", "ipykernel"):
        want = ".".join(map(str, floors[name]))
        assert f"{name}>={want}" in text, (name, want)
    assert ("ipykernel", 7) in [(n, c) for n, c, _ in environment.TOO_NEW]
