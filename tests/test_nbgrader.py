"""Real nbgrader grades the course: full points for the solutions, none for stubs.

Builds a throw-away nbgrader course in tmp_path with every notebook that has
exercises (and the classroom tests' small sample) as one assignment, runs
``nbgrader generate_assignment``, submits two students - one hands in the
instructor's solutions, the other the untouched student copy - runs
``nbgrader autograde`` and ``nbgrader export`` and reads the scores per
notebook and per graded cell from the gradebook.

nbgrader comes from requirements-dev.txt. Without it the test is skipped
locally and fails in CI (when the CI environment variable is set).
"""

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
ASSIGNMENT = "cnn"
COURSE_ID = "cnnlib"
STUDENTS = ("solved", "stub")


def _load_classroom():
    spec = importlib.util.spec_from_file_location(
        "classroom_helpers", HERE / "test_classroom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cr = _load_classroom()


def require_nbgrader():
    if importlib.util.find_spec("nbgrader") is not None:
        return
    hint = "nbgrader is not installed: pip install -r requirements-dev.txt"
    if os.environ.get("CI"):
        pytest.fail(hint, pytrace=False)
    pytest.skip(hint)


def nbgrader(root, *args):
    """Run one nbgrader command in course folder ``root``."""
    # nbgrader calls the `alembic` script: put this Python's bin/ on PATH
    # so it is found even when the virtual environment is not activated
    path = os.pathsep.join([str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="agg",
               PATH=path)
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
        capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, (
        f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def make_course(root, notebooks, sockets):
    """An nbgrader course folder with ``notebooks`` as one assignment."""
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in notebooks:
        shutil.copy(path, source / path.name)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root.resolve())!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        "# training cells take longer than nbgrader's default 30 s\n"
        "c.Execute.timeout = 180\n"
        "# Unix sockets, not TCP ports, so kernels started at the same time\n"
        "# by parallel runs cannot race for a port\n"
        "c.KernelManager.transport = 'ipc'\n"
        f"c.KernelManager.ip = {os.path.join(sockets, 'kernel')!r}\n",
        encoding="utf-8")
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--create", "--force")


def submit(root, student, notebooks):
    """Hand in the release copy, with solutions put back for 'solved'."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for path in notebooks:
        release = nbformat.read(root / "release" / ASSIGNMENT / path.name,
                                as_version=4)
        if student == "solved":
            source = root / "source" / ASSIGNMENT / path.name
            release = cr.insert_solutions(release, nbformat.read(
                source, as_version=4))
        nbformat.write(release, folder / path.name)


def grade(root, student, notebooks):
    """Autograde one student in its own course folder; read the gradebook."""
    from nbgrader.api import Gradebook

    # kernel sockets in a short path (the limit is about 100 characters)
    sockets = tempfile.mkdtemp(prefix="nbk")
    try:
        make_course(root, notebooks, sockets)
        submit(root, student, notebooks)
        nbgrader(root, "autograde", ASSIGNMENT, "--force")
        nbgrader(root, "export")
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    with open(root / "grades.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["student_id"] == student]
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for path in notebooks:
            nb = gb.find_submission_notebook(path.stem, ASSIGNMENT, student)
            scores[path.name] = {
                g.name: (g.score, g.max_score, g.cell.cell_type == "code")
                for g in nb.grades}
    return {"csv": rows, "cells": scores}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_nbgrader()
    folder = tmp_path_factory.mktemp("nbgrader")
    sample = folder / "instructor" / "90_sample.ipynb"
    sample.parent.mkdir()
    nbformat.write(cr.sample_notebook(), sample)
    notebooks = [sample]
    for path in cr.course_notebooks():  # one snapshot for both courses
        notebooks.append(Path(shutil.copy(path, sample.parent / path.name)))
    # one course folder (and gradebook) per student, so both autograde runs
    # can go side by side without sharing a SQLite file
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {s: pool.submit(grade, folder / s, s, notebooks)
                for s in STUDENTS}
        results = {s: job.result() for s, job in jobs.items()}
    return notebooks, folder, results


def test_release_matches_make_student(graded, tmp_path):
    """nbgrader's student copy and tools/make_student.py's are the same."""
    notebooks, folder, _ = graded
    course = folder / STUDENTS[0]
    sources = [course / "source" / ASSIGNMENT / p.name for p in notebooks]
    cr.ms.make_student(sources, tmp_path / "ours", log=lambda *a: None)
    for path in notebooks:
        theirs = nbformat.read(course / "release" / ASSIGNMENT / path.name, 4)
        ours = nbformat.read(tmp_path / "ours" / path.name, 4)
        assert [c.cell_type for c in theirs.cells] == [
            c.cell_type for c in ours.cells]
        for i, (a, b) in enumerate(zip(theirs.cells, ours.cells)):
            assert a.source == b.source, f"{path.name} cell {i}"


def test_solutions_get_full_points_and_stubs_none(graded):
    notebooks, _, results = graded
    for path in notebooks:
        solved = results["solved"]["cells"][path.name]
        stub = results["stub"]["cells"][path.name]
        auto = {g for g, (_, _, code) in solved.items() if code}
        assert len(auto) >= 2, f"{path.name}: {solved}"
        assert set(solved) == set(stub)
        for grade_id in sorted(auto):
            score, max_score, _ = solved[grade_id]
            where = f"{path.name} {grade_id}"
            assert max_score > 0 and score == max_score, (
                f"{where}: solution scored {score} of {max_score}")
            assert stub[grade_id][0] == 0, (
                f"{where}: the untouched stub scored {stub[grade_id][0]}")


def test_export_totals(graded):
    """grades.csv: all autograded points for one student, none for the other.

    Written answers (markdown) are graded by hand, so they count in
    max_score but not yet in score.
    """
    _, _, results = graded
    cells = [v for nb in results["solved"]["cells"].values()
             for v in nb.values()]
    auto = sum(m for _, m, code in cells if code)
    total = sum(m for _, m, _ in cells)
    (solved,) = results["solved"]["csv"]
    (stub,) = results["stub"]["csv"]
    assert float(solved["max_score"]) == total
    assert float(solved["score"]) == auto
    assert float(stub["score"]) == 0
