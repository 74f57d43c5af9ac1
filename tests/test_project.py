"""The project's own promises: one package list, a README that matches the
notebooks, a CI script that runs the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def requirement_names(path):
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-e") or line.startswith("-r"):
            continue
        names.append(re.split(r"[<>=!~\[; ]", line)[0].lower())
    return names


def test_environment_yml_takes_its_packages_from_requirements_txt():
    text = (ROOT / "environment.yml").read_text()
    pip_lines = re.findall(r"^\s+-\s+(-r .+)$", text, flags=re.M)
    assert pip_lines == ["-r requirements.txt"], (
        "environment.yml must install pip packages only via "
        f"'-r requirements.txt', found {pip_lines}")
    deps_block = text.split("dependencies:", 1)[1]
    conda_deps = re.findall(r"^  - ([a-zA-Z][\w.-]*)", deps_block, flags=re.M)
    assert sorted(set(conda_deps)) == ["pip", "python"], (
        "environment.yml lists packages beyond python and pip: "
        f"{conda_deps}; put them in requirements.txt")


def test_requirements_are_lower_bounds_and_install_the_project():
    text = (ROOT / "requirements.txt").read_text()
    assert "-e ." in [line.strip() for line in text.splitlines()]
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        assert "==" not in line, f"requirements.txt pins exactly: {line!r}"
    names = requirement_names(ROOT / "requirements.txt")
    for needed in ["numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval",
                   "pytest", "scipy"]:
        assert needed in names, f"requirements.txt lacks {needed}"
    assert len(names) == len(set(names)), "a package is listed twice"


def test_dev_requirements_extend_the_main_list():
    dev = ROOT / "requirements-dev.txt"
    assert "-r requirements.txt" in dev.read_text()
    overlap = set(requirement_names(dev)) & set(requirement_names(
        ROOT / "requirements.txt"))
    assert not overlap, f"listed in both requirement files: {overlap}"


def test_readme_lists_every_notebook_with_a_working_link():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((notebooks/[^)#]+\.ipynb)\)", readme)
    for path in links:
        assert (ROOT / path).is_file(), f"README links a missing file {path}"
    listed = {Path(p).name for p in links}
    for nb in NOTEBOOKS:
        assert nb.name in listed, f"README's notebook table lacks {nb.name}"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, flags=re.M), ".ci/run must run make test"
    assert "OPENBLAS_NUM_THREADS=1" in ci
