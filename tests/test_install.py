"""The course works from an installed wheel, away from the repository.

What a JupyterHub administrator does (TEACHING.md, "Running the course on
JupyterHub"): build the wheel, install it into an environment that has never
seen this repository, and give students the student copies of the notebooks
in a folder of their own. This test does exactly that:

1. builds the wheel from a copy of the project's sources (``pip wheel
   --no-deps``, so nothing is written into the repository);
2. installs it, with the ``widgets`` extra and the kernel, into a fresh
   virtual environment (no system site-packages; pip's cache makes it take
   about 15 s);
3. makes the student copies with ``tools/make_student.py`` into a temporary
   folder outside the repository and runs every one of them there, top to
   bottom, in that environment's kernel (nbclient from the same environment).

Every notebook runs, not only the six that call ``load_mnist``: notebook 00
is what students run first to check their installation, 02 loads the photo
from matplotlib's sample data, and all of them import the widgets. The whole
run takes about 100 s on one core (notebook 07 trains LeNet-5 for about
15 s); a shorter subset would leave exactly those gaps.

In a student copy the exercise cells hold stubs that raise, so errors are
expected there and only there: every other cell must run cleanly.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pyproject
from tests.tools import load_tool

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TIMEOUT = 900  # seconds for any one step; the whole test takes ~100 s

# Runs inside the fresh environment: where cnnlib and its data came from.
WHERE = """
import json, sys
import cnnlib, cnnlib.data as d
X, y = d.load_mnist(split="test")
photo = d.load_sample_image(factor=4)
print(json.dumps({"prefix": sys.prefix, "cnnlib": cnnlib.__file__,
                  "subset": str(d.SUBSET_PATH), "test_shape": list(X.shape),
                  "photo_shape": list(photo.shape)}))
"""

# Runs inside the fresh environment: each notebook, every cell, in one kernel.
DRIVER = """
import json, sys, time
import nbformat
from nbclient import NotebookClient

report = {}
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, allow_errors=True, record_timing=False,
                   resources={"metadata": {"path": "."}}).execute()
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grading = cell.metadata.get("nbgrader", {})
        errors = [f"{o.ename}: {o.evalue}"[:300] for o in cell.outputs
                  if o.output_type == "error"]
        cells.append({"index": i, "ran": cell.execution_count is not None,
                      "exercise": bool(grading.get("solution")
                                       or grading.get("grade")),
                      "errors": errors})
    report[path] = {"seconds": round(time.perf_counter() - start, 1),
                    "cells": cells}
print(json.dumps(report))
"""


def requirement(name):
    """The requirement for ``name`` in pyproject.toml (the one list of bounds)."""
    for req in pyproject.requirements():
        if re.match(rf"{re.escape(name)}\b(?![-_])", req, flags=re.I):
            return req
    raise LookupError(f"pyproject.toml has no requirement for {name}")


def run(cmd, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=TIMEOUT, **kwargs)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def clean_env(**extra):
    """This process's environment without anything pointing at the repo."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", OPENBLAS_NUM_THREADS="1",
               **extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed; returns (python, workdir)."""
    work = tmp_path_factory.mktemp("install")
    wheel = load_tool("build_wheel").build_wheel(work, env=clean_env())

    venv = work / "venv"
    run([sys.executable, "-m", "venv", venv], env=clean_env())
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", str(wheel),
         requirement("ipykernel"), requirement("nbclient")], env=clean_env())
    return python, work, wheel


def test_data_the_code_reads_lives_in_the_package():
    # data/ is the provenance record; a data file there would be missing
    # from every installed copy (it is not inside the cnnlib package).
    stray = sorted(p.name for p in (ROOT / "data").iterdir()
                   if p.name != "README.md")
    assert not stray, (
        f"data/ holds {stray}: an installed cnnlib would not have them; move "
        "them to cnnlib/datasets/ (package data) and keep their provenance in "
        "data/README.md")
    assert (ROOT / "cnnlib" / "datasets" / "mnist_5k.npz").is_file()


def test_the_wheel_carries_the_shipped_data(installed):
    import zipfile

    _, _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(f"cnnlib/datasets/{p.name}" for p in
                     (ROOT / "cnnlib" / "datasets").iterdir())
    assert "cnnlib/datasets/mnist_5k.npz" in shipped
    for name in shipped:
        assert name in names, f"the wheel lacks {name}"
    assert not any(n.startswith(("data/", "tests/", "notebooks/")) for n in names)


def test_installed_cnnlib_loads_digits_and_photo_outside_the_repo(installed):
    python, work, _ = installed
    elsewhere = work / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    info = json.loads(run([python, "-c", WHERE], cwd=elsewhere,
                          env=clean_env()).strip().splitlines()[-1])
    venv = (work / "venv").resolve()
    assert Path(info["prefix"]).resolve() == venv
    # The package and its data come from the fresh environment, not the repo.
    for key in ("cnnlib", "subset"):
        assert Path(info[key]).resolve().is_relative_to(venv), info[key]
        assert not Path(info[key]).resolve().is_relative_to(ROOT), info[key]
    assert info["test_shape"] == [1000, 1, 28, 28]
    assert info["photo_shape"] == [150, 128]


def test_student_notebooks_run_from_an_installed_wheel(installed, tmp_path):
    python, work, _ = installed
    course = tmp_path / "course"  # what a student has in their hub folder
    assert not course.resolve().is_relative_to(ROOT)
    run([sys.executable, ROOT / "tools" / "make_student.py", *NOTEBOOKS,
         "--out", course])
    home = tmp_path / "home"  # no ~/.jupyter, ~/.ipython or kernelspec of ours
    home.mkdir()
    out = run([python, "-c", DRIVER, *[nb.name for nb in NOTEBOOKS]],
              cwd=course, env=clean_env(HOME=str(home)))
    report = json.loads(out.strip().splitlines()[-1])

    assert sorted(report) == [nb.name for nb in NOTEBOOKS]
    problems = []
    for name, result in report.items():
        cells = result["cells"]
        assert cells and all(c["ran"] for c in cells), f"{name}: not every cell ran"
        for cell in cells:
            if cell["errors"] and not cell["exercise"]:
                problems.append(f"{name} cell {cell['index']}: {cell['errors']}")
    assert not problems, "cells failed in the installed course:\n" + "\n".join(
        problems)
    # The stubs are really there: each notebook with exercises fails on them.
    for name, result in report.items():
        exercise_errors = [c for c in result["cells"] if c["exercise"]
                           and c["errors"]]
        has_exercises = any(c["exercise"] for c in result["cells"])
        assert bool(exercise_errors) == has_exercises, name


def test_the_hub_recipe_is_the_configuration_the_hub_trial_ran():
    # TEACHING.md's jupyterhub_config.py lines are the ones
    # benchmarks/hub_trial.py measured with a real JupyterHub.
    import ast

    teaching = (ROOT / "TEACHING.md").read_text()
    section = teaching.split("## Running the course on JupyterHub", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    recipe = [b for b in blocks if "c.Spawner.environment" in b]
    assert len(recipe) == 1, "one jupyterhub_config.py block in the section"
    assert '"OPENBLAS_NUM_THREADS": "1"' in recipe[0]
    tree = ast.parse((ROOT / "benchmarks" / "hub_trial.py").read_text())
    (trial,) = [ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == "RECIPE"]
    assert recipe[0].strip() == trial.strip()
