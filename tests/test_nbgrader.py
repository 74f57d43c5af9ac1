"""Real nbgrader grades a fake class, and cannot be fooled.

Throw-away nbgrader courses in tmp_path, configured with exactly the file a
teacher copies (tools/nbgrader_config.py). Every notebook with exercises
(and the classroom tests' small sample) is one assignment:

- course "honest": a student who hands in the instructor's solutions and one
  who hands in the untouched release (every notebook each);
- course "cheats": students who each try one trick on a few notebooks, with
  the instructor's solutions everywhere else, and one who solves the
  exercises correctly in a different way.

Then ``nbgrader autograde``, ``export`` and ``generate_feedback``, and the
scores per notebook and per graded cell from the gradebook: solutions and
different correct answers score full, untouched stubs 0, every trick 0 on the
exercise it targets; edited and deleted tests are reported in the log, and
untouched submissions log no tampering at all. The score table is printed
(``pytest -s``) for the report.

nbgrader comes from requirements-dev.txt. Without it the test is skipped
locally and fails in CI (when the CI environment variable is set).
"""

import csv
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from tests import test_classroom as cr  # its notebook helpers

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "tools" / "nbgrader_config.py"
ASSIGNMENT = "cnn"


def require_nbgrader():
    if importlib.util.find_spec("nbgrader") is not None:
        return
    hint = "nbgrader is not installed: pip install -r requirements-dev.txt"
    if os.environ.get("CI"):
        pytest.fail(hint, pytrace=False)
    pytest.skip(hint)


# ------------------------------------------------------------ the fake class
# Each trick replaces one solution cell (by grade_id) with the code below,
# or edits / deletes a test cell. "full" means every exercise scores full.

DIFFERENT = {  # correct answers written differently from the instructor's
    "02-size-solution": '''
def output_size(H, k, stride=1, padding=0, dilation=1):
    span = dilation * (k - 1) + 1
    count, start = 0, 0
    while start + span <= H + 2 * padding:
        count += 1
        start += stride
    return count
''',
    "02-step-solution": '''
def conv_step(x, w, b, i, j):
    total = b
    for u in range(w.shape[0]):
        for v in range(w.shape[1]):
            total = total + x[i + u, j + v] * w[u, v]
    return float(total)
''',
    "04-ex1-solution": '''
def combine(k1, k2):
    a, b = k1.shape
    c, d = k2.shape
    out = np.zeros((a + c - 1, b + d - 1))
    for u in range(a):
        for v in range(b):
            for s in range(c):
                for t in range(d):
                    out[u + s, v + t] += k1[u, v] * k2[s, t]
    return out
''',
    "04-ex2-forward-solution": '''
def leaky_relu_forward(x, alpha=0.1):
    slope = np.where(x > 0, 1.0, alpha).astype(x.dtype)
    return x * slope, (x, alpha)
''',
    "04-ex2-backward-solution": '''
def leaky_relu_backward(dout, cache):
    x, alpha = cache
    dx = dout.copy()
    dx[x <= 0] *= alpha
    return dx
''',
    "06-ex1-solution": '''
def dense_backward(x, w, dout):
    dx = np.einsum("nm,dm->nd", dout, w)
    dw = np.einsum("nd,nm->dm", x, dout)
    return dx, dw, np.ones(len(dout)) @ dout
''',
    "06-ex2-solution": '''
def maxpool_backward(x, dout, size, stride):
    dx = np.zeros(x.shape)
    H_out, W_out = dout.shape
    for i in range(H_out):
        for j in range(W_out):
            best, where = -np.inf, None
            for u in range(size):
                for v in range(size):
                    value = x[i * stride + u, j * stride + v]
                    if value > best:
                        best, where = value, (i * stride + u, j * stride + v)
            dx[where] += dout[i, j]
    return dx
''',
    "06-ex3-solution": '''
def conv_dw(x, dout, kh, kw):
    H_out, W_out = dout.shape
    dw = np.zeros((kh, kw))
    for i in range(H_out):
        for j in range(W_out):
            dw += dout[i, j] * x[i:i + kh, j:j + kw]
    return dw
''',
    "07-ex1-solution": '''
def minibatches(n, batch_size, rng):
    order = list(rng.permutation(n))
    batches = []
    while order:
        batches.append(np.array(order[:batch_size]))
        order = order[batch_size:]
    return batches
''',
    "07-ex2-solution": '''
def most_confused(cm):
    best, pair = -1, None
    for t in range(len(cm)):
        for p in range(len(cm)):
            if t != p and cm[t][p] > best:
                best, pair = cm[t][p], (t, p)
    return pair
''',
    "07-ex3-solution": '''
def small_cnn():  # other kernels and widths, no seeds given: 3,826 weights
    return Sequential(Conv2D(1, 6, 5), ReLU(), MaxPool2D(2),
                      Conv2D(6, 12, 3), ReLU(), MaxPool2D(2), Flatten(),
                      Linear(12 * 5 * 5, 10))
''',
}

CHEATS = {
    # student: {notebook prefix: {grade_id: code, or "edit:" / "delete"}},
    # and the graded cells the trick targets (which must score 0)
    "rebind_checker": ({"02": {"02-size-solution": '''
check_equal = check_close = check_true = check_shape = lambda *a, **k: None
ck = None

def output_size(H, k, stride=1, padding=0, dilation=1):
    return 0
'''}}, ["02-size-tests"]),
    "patch_checks": ({"04": {"04-ex1-solution": '''
import cnnlib.checks
import cnnlib.grading

for _name in ("check_close", "check_equal", "check_shape", "check_true"):
    setattr(cnnlib.checks, _name, lambda *a, **k: None)
cnnlib.grading.refuse_calls = lambda *a, **k: None
cnnlib.grading.fresh = lambda *names: cnnlib.checks

def combine(k1, k2):
    return np.zeros((k1.shape[0] + k2.shape[0] - 1, k1.shape[1] + k2.shape[1] - 1))
''', "04-ex2-forward-solution": '''
def leaky_relu_forward(x, alpha=0.1):
    return x, (x, alpha)
'''}}, ["04-ex1-tests", "04-ex2-forward-tests"]),
    "redefine_fit": ({"07": {"07-ex3-solution": '''
import cnnlib.train

def fit(*args, **kwargs):
    return None

def evaluate(*args, **kwargs):
    return 0.0, 1.0

cnnlib.train.fit, cnnlib.train.evaluate = fit, evaluate

def small_cnn():  # far too small to reach 92%
    return Sequential(Conv2D(1, 1, 3, seed=0), ReLU(), MaxPool2D(4), Flatten(),
                      Linear(36, 10, seed=1))
'''}}, ["07-ex3-tests"]),
    "forbidden_call": ({
        "02": {"02-step-solution": '''
def conv_step(x, w, b, i, j):
    return float(correlate2d(x, w)[i, j] + b)
'''},
        "05": {"05-ex1-solution": '''
def max_pool(x, size, stride):
    return maxpool2d_forward(x[None, None], size, stride)[0][0, 0]
'''},
        "06": {"06-ex3-solution": '''
conv_dw = lambda x, dout, kh, kw: correlate2d(x, dout)
'''},
        "07": {"07-ex3-solution": '''
def small_cnn():
    return tiny_cnn(seed=20)
'''},
        "A1": {"A1-conv-solution": '''
from cnnlib.conv import conv2d_forward as _fast


def conv_forward(x, w, b, stride=1, padding=0):
    return _fast(x, w, b, stride=stride, padding=padding)[0], (x, w, b, stride,
                                                              padding)
'''}}, ["02-step-tests", "05-ex1-tests", "06-ex3-tests", "07-ex3-tests",
          "A1-conv-shape-tests", "A1-conv-values-tests", "A1-conv-stride-tests",
          "A1-conv-padding-tests", "A1-train-tests"]),
    "edit_test": ({"03": {"03-value-solution": '''
def conv_value(x, w, b, n, f, i, j):
    return 0.0
''', "03-value-tests": "edit:pass  # nothing to check here"}}, ["03-value-tests"]),
    "delete_test": ({"03": {"03-mix-solution": '''
def mix_channels(x, m):
    return x
''', "03-mix-tests": "delete"}}, ["03-mix-tests"]),
    "hardcode_visible": ({
        "01": {"01-params-conv-solution": '''
def conv_params(C, F, K):
    return {(1, 1, 3): 10, (3, 64, 3): 1792}[(C, F, K)]
'''},
        "02": {"02-size-solution": '''
def output_size(H, k, stride=1, padding=0, dilation=1):
    return {(28, 3, 1, 0, 1): 26, (28, 3, 1, 1, 1): 28, (8, 3, 2, 0, 1): 3,
            (28, 3, 1, 0, 2): 24}[(H, k, stride, padding, dilation)]
'''}}, ["01-params-conv-tests", "02-size-tests"]),
}


def different_answers():
    by_nb = {}
    for grade_id, code in DIFFERENT.items():
        by_nb.setdefault(grade_id[:2], {})[grade_id] = code
    return by_nb, []


STUDENTS = {"solved": None, "stub": None, "different": different_answers(),
            **CHEATS}


def meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def hand_in(release, source, changes, solve=True):
    """A submission: the release, solved (or not), then ``changes`` applied."""
    nb = cr.insert_solutions(release, source) if solve else release
    for grade_id, code in changes.items():
        (i,) = [i for i, c in enumerate(nb.cells)
                if meta(c).get("grade_id") == grade_id]
        if code == "delete":
            del nb.cells[i]
        elif code.startswith("edit:"):
            nb.cells[i].source = code[len("edit:"):]
        else:
            nb.cells[i].source = code.strip("\n")
    return nb


# ---------------------------------------------------------------- nbgrader


def nbgrader(root, *args):
    """Run one nbgrader command in course folder ``root``; return its log."""
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
    return result.stdout + result.stderr


def make_course(root, notebooks):
    """A course folder configured with the teacher's nbgrader_config.py."""
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in notebooks:
        shutil.copy(path, source / path.name)
    shutil.copy(CONFIG, root / "nbgrader_config.py")  # exactly the teacher's
    return nbgrader(root, "generate_assignment", ASSIGNMENT, "--create",
                    "--force")


def grade(root, notebooks, students, parallel=False):
    """Autograde ``students`` ({name: {prefix: changes} or None}) in one course."""
    from nbgrader.api import Gradebook

    logs = {}
    make_course(root, notebooks)
    for student, plan in students.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for path in notebooks:
            prefix = path.name[:2]
            if plan is not None and prefix not in plan[0]:
                continue  # this student hands in only what the trick needs
            release = nbformat.read(
                root / "release" / ASSIGNMENT / path.name, as_version=4)
            source = nbformat.read(root / "source" / ASSIGNMENT / path.name,
                                   as_version=4)
            changes = {} if plan is None else plan[0][prefix]
            nb = hand_in(release, source, changes,
                         solve=student != "stub")
            nbformat.write(nb, folder / path.name)
    # one run per student, so each has its own log; with parallel=True
    # two runs share the course and its gradebook at the same time, as
    # TEACHING.md says a teacher may do for disjoint groups of students
    with ThreadPoolExecutor(max_workers=2 if parallel else 1) as pool:
        runs = {s: pool.submit(nbgrader, root, "autograde", ASSIGNMENT,
                               "--force", "--student", s) for s in students}
        logs.update({s: run.result() for s, run in runs.items()})
    nbgrader(root, "export")
    logs["feedback"] = nbgrader(root, "generate_feedback", ASSIGNMENT,
                                "--force")
    with open(root / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in students:
            for path in notebooks:
                try:
                    nb = gb.find_submission_notebook(path.stem, ASSIGNMENT,
                                                     student)
                except Exception:  # not handed in
                    continue
                scores[student, path.name] = {
                    g.name: (g.score, g.max_score, g.cell.cell_type == "code")
                    for g in nb.grades}
    return {"csv": rows, "cells": scores, "logs": logs, "root": root}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_nbgrader()
    folder = tmp_path_factory.mktemp("nbgrader")
    sample = folder / "instructor" / "90_sample.ipynb"
    sample.parent.mkdir()
    nbformat.write(cr.sample_notebook(), sample)
    notebooks = [sample]
    for path in cr.graded_notebooks():  # one snapshot for every course
        notebooks.append(Path(shutil.copy(path, sample.parent / path.name)))
    honest = {s: STUDENTS[s] for s in ("solved", "stub")}
    others = {s: p for s, p in STUDENTS.items() if s not in honest}
    # two course folders (two gradebooks), graded side by side
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(grade, folder / "honest", notebooks, honest, True),
                pool.submit(grade, folder / "cheats", notebooks[1:], others)]
        courses = [job.result() for job in jobs]
    cells = {**courses[0]["cells"], **courses[1]["cells"]}
    logs = {**courses[0]["logs"], **courses[1]["logs"]}
    print_score_table(cells)
    return notebooks, courses, cells, logs


def print_score_table(cells):
    """The fake class's scores per student and graded cell (pytest -s)."""
    print("\nscores of the fake class (student, notebook: grade_id score/max)")
    for (student, name), grades in sorted(cells.items()):
        shown = ", ".join(f"{g} {s:g}/{m:g}" for g, (s, m, code)
                          in sorted(grades.items()) if code)
        print(f"  {student:17} {name[:2]}: {shown}")


def auto_cells(grades):
    return {g: (s, m) for g, (s, m, code) in grades.items() if code}


# ---------------------------------------------------------------- tests


def test_release_is_byte_identical_to_make_student(graded, tmp_path):
    """nbgrader's student copy and tools/make_student.py's are the same file:
    locked cells, checksums, everything."""
    notebooks, courses, _, _ = graded
    course = courses[0]["root"]
    sources = [course / "source" / ASSIGNMENT / p.name for p in notebooks]
    cr.ms.make_student(sources, tmp_path / "ours", log=lambda *a: None)
    for path in notebooks:
        theirs = (course / "release" / ASSIGNMENT / path.name).read_bytes()
        ours = (tmp_path / "ours" / path.name).read_bytes()
        assert theirs == ours, f"{path.name}: make_student differs from release"
        nb = json.loads(ours)
        tests = [c for c in nb["cells"] if meta(c).get("grade") and
                 c["cell_type"] == "code"]
        assert tests and all(c["metadata"]["editable"] is False and
                             c["metadata"]["deletable"] is False and
                             meta(c)["checksum"] for c in tests), path.name


def test_solutions_get_full_points_and_stubs_none(graded):
    notebooks, _, cells, _ = graded
    for path in notebooks:
        solved = auto_cells(cells["solved", path.name])
        stub = auto_cells(cells["stub", path.name])
        assert len(solved) >= 2 and set(solved) == set(stub), path.name
        for grade_id, (score, max_score) in sorted(solved.items()):
            where = f"{path.name} {grade_id}"
            assert max_score > 0 and score == max_score, (
                f"{where}: solution scored {score} of {max_score}")
            assert stub[grade_id][0] == 0, (
                f"{where}: the untouched stub scored {stub[grade_id][0]}")


def test_correct_answers_written_differently_score_full(graded):
    _, _, cells, _ = graded
    prefixes = sorted({g[:2] for g in DIFFERENT})
    for prefix in prefixes:
        (name,) = [n for s, n in cells if s == "different" and n[:2] == prefix]
        grades = auto_cells(cells["different", name])
        assert grades, name
        for grade_id, (score, max_score) in grades.items():
            assert score == max_score, f"{name} {grade_id}: {score}/{max_score}"


@pytest.mark.parametrize("student", sorted(CHEATS))
def test_every_trick_scores_zero_on_its_exercise(graded, student):
    _, _, cells, _ = graded
    plan, targets = CHEATS[student]
    scored = {}
    for prefix in plan:
        (name,) = [n for s, n in cells if s == student and n[:2] == prefix]
        scored.update(auto_cells(cells[student, name]))
    for grade_id in targets:
        assert grade_id in scored, f"{student}: {grade_id} was not graded"
        assert scored[grade_id][0] == 0, (
            f"{student}: the trick scored {scored[grade_id][0]} on {grade_id}")
    for grade_id, (score, max_score) in scored.items():
        if grade_id not in targets:  # honest work next to the trick still counts
            assert score == max_score, f"{student}: {grade_id} scored {score}"


def test_tampering_is_reported_and_untouched_work_is_not(graded):
    _, _, _, logs = graded
    changed = re.compile(r"Attribute '(\w+)' for cell (\S+) has changed")
    for student in ("solved", "stub", "different"):  # nbgrader issue 1961
        assert not changed.findall(logs[student]), (
            f"{student}: false tampering warnings: {changed.findall(logs[student])}")
        assert "Missing grade cell" not in logs[student]
        assert "Suspicious code" not in logs[student]
    assert ("checksum", "03-value-tests") in changed.findall(logs["edit_test"])
    assert "Missing grade cell 03-mix-tests" in logs["delete_test"]
    for student in ("rebind_checker", "patch_checks", "redefine_fit"):
        assert "Suspicious code" in logs[student], student


def test_export_totals(graded):
    """grades.csv: all autograded points for one student, none for the other.

    Written answers (markdown) are graded by hand, so they count in
    max_score but not yet in score.
    """
    _, courses, cells, _ = graded
    solved_cells = [v for (s, _), nb in cells.items() if s == "solved"
                    for v in nb.values()]
    auto = sum(m for _, m, code in solved_cells if code)
    total = sum(m for _, m, _ in solved_cells)
    rows = {r["student_id"]: r for r in courses[0]["csv"]}
    assert float(rows["solved"]["max_score"]) == total
    assert float(rows["solved"]["score"]) == auto
    assert float(rows["stub"]["score"]) == 0


def hidden_test_lines(path):
    """Lines between the hidden-test markers that appear nowhere else."""
    nb = nbformat.read(path, as_version=4)
    hidden, public, inside = set(), set(), False
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif len(line.strip()) > 15:
                (hidden if inside else public).add(line.strip())
    return hidden - public


def test_feedback_hides_hidden_tests_and_grader_paths(graded):
    notebooks, courses, _, _ = graded
    root = courses[0]["root"]
    hidden = {p.stem: hidden_test_lines(p) for p in notebooks}
    assert sum(map(len, hidden.values())) > 50
    pages = sorted((root / "feedback").rglob("*.html"))
    assert len(pages) == 2 * len(notebooks), pages
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text("utf-8")))
        assert "HIDDEN TESTS" not in text, page
        assert str(root) not in text and "site-packages" not in text, page
        # no traceback frames (they quote hidden tests and name files)
        assert "Cell In[" not in text and "----> " not in text, page
        assert "/tmp/" not in text, page
        leaked = sorted(line for line in hidden[page.stem] if line in text)
        assert not leaked, f"{page}: {leaked[:3]}"
