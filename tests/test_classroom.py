"""Classroom assignments: student copies are safe and every exercise is graded.

For each notebook with exercises (plus a small built-in sample, so the
machinery is tested even without the course notebooks):

- the student copy made by tools/make_student.py holds no solution and no
  hidden-test line, and regenerating it gives byte-identical files;
- run in a fresh kernel, the student copy runs every ordinary cell, and every
  graded cell fails (so each exercise is really checked);
- with the instructor's solution and test cells put back (as nbgrader does
  when it grades), every cell runs and every check passes;
- the nbgrader metadata is valid and every notebook 01-07 has at least two
  graded exercises.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from tests.tools import load_tool

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TOOL = ROOT / "tools" / "make_student.py"
TEACHING = ROOT / "TEACHING.md"
COURSE = [f"{i:02d}" for i in range(1, 8)]  # notebooks that must grade
MIN_EXERCISES = 2
TIMEOUT = 180  # seconds per cell; the longest (training) takes well under


ms = load_tool("make_student")


# ---------------------------------------------------------------- the sample


def _code(source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = dict(nbgrader, schema_version=3)
    return cell


def _md(source, **nbgrader):
    cell = nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = dict(nbgrader, schema_version=3)
    return cell


def _solution(grade_id):
    return dict(grade=False, solution=True, locked=False, grade_id=grade_id)


def _tests(grade_id, points):
    return dict(grade=True, solution=False, locked=True, points=points,
                grade_id=grade_id)


def sample_notebook():
    """A small instructor notebook in the course's exercise markup."""
    cells = [
        _md("# Sample exercises\n\nA tiny notebook for the classroom tests."),
        _code("import numpy as np\n\n"
              "from cnnlib.checks import check_close, check_equal\n\n"
              "rng = np.random.default_rng(0)"),
        _code("x = np.arange(6.0).reshape(2, 3)\nprint(f'{x.sum():.1f}')"),
        _md("## Exercise 1: output size\n\nComplete `output_size`."),
        _code('def output_size(H, K, stride=1, padding=0):\n'
              '    """Output length of a convolution."""\n'
              '    ### BEGIN SOLUTION\n'
              '    return (H + 2 * padding - K) // stride + 1\n'
              '    ### END SOLUTION',
              **_solution("sample-ex1-solution")),
        _code('check_equal(output_size(28, 3), 26, "output_size(28, 3)")\n'
              '### BEGIN HIDDEN TESTS\n'
              'check_equal(output_size(28, 5, stride=2, padding=2), 14,\n'
              '            "output_size(28, 5, stride=2, padding=2)")\n'
              '### END HIDDEN TESTS',
              **_tests("sample-ex1-tests", 2)),
        _md("## Exercise 2: ReLU\n\nSet `relu_x` to ReLU of `x - 2.5`."),
        _code("### BEGIN SOLUTION\nrelu_x = np.maximum(x - 2.5, 0)\n"
              "### END SOLUTION",
              **_solution("sample-ex2-solution")),
        _code('check_close(relu_x, [[0, 0, 0], [0.5, 1.5, 2.5]], "relu_x")\n'
              "### BEGIN HIDDEN TESTS\n"
              "assert relu_x.min() >= 0, 'ReLU output is never negative'\n"
              "### END HIDDEN TESTS",
              **_tests("sample-ex2-tests", 3)),
        _md("Why is ReLU's output never negative?"),
        _md("It keeps the positive part and replaces negatives by zero.",
            **dict(_solution("sample-ex3-answer"), grade=True, points=1)),
        _md("## Summary\n\nThat is all."),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language":
                                 "python", "name": "python3"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # fixed ids: the sample is deterministic
    return nb


@pytest.fixture(scope="session")
def sample_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("instructor")
    path = folder / "90_sample.ipynb"
    nbformat.write(sample_notebook(), path)
    return path


# ---------------------------------------------------------------- helpers


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_graded_code(cell):
    meta = nbgrader_meta(cell)
    return cell["cell_type"] == "code" and bool(meta.get("grade")) and not \
        meta.get("solution")


def has_exercises(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return any(is_graded_code(c) for c in nb["cells"])


def course_notebooks():
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
                  if has_exercises(p))


def graded_notebooks():
    """The course notebooks with exercises and the assignments."""
    return course_notebooks() + sorted((NOTEBOOKS / "assignments").glob(
        "*.ipynb"))


def secret_lines(source_nb):
    """Solution/hidden-test lines, and how often each line is public."""
    secret, public = set(), {}
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        text = ms.cell_source(cell)
        has_markers = ms.BEGIN_SOLUTION in text or ms.BEGIN_HIDDEN in text
        inside = bool(meta.get("solution")) and ms.BEGIN_SOLUTION not in text
        for line in text.split("\n"):
            if ms.BEGIN_SOLUTION in line or ms.BEGIN_HIDDEN in line:
                inside = True
            elif ms.END_SOLUTION in line or ms.END_HIDDEN in line:
                inside = False
            elif not is_trivial(line):
                if inside:
                    secret.add(line.strip())
                else:
                    public[line.strip()] = public.get(line.strip(), 0) + 1
        assert not (has_markers and inside), "unbalanced markers"
    return secret, public


def is_trivial(line):
    """Lines too common to count as leaked: blank, pass, closing brackets."""
    return re.fullmatch(r"\s*(pass|[)\]}]+[,:]?)?\s*", line) is not None


def insert_solutions(student_nb, source_nb):
    """The student copy with the instructor's exercise cells put back.

    Solution cells and graded cells are matched by nbgrader grade_id, as
    ``nbgrader autograde`` does for graded cells; the rest stays the
    student's.
    """
    by_id = {nbgrader_meta(c)["grade_id"]: c for c in source_nb.cells
             if nbgrader_meta(c).get("grade_id")}
    nb = nbformat.from_dict(json.loads(json.dumps(student_nb)))
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            cell.source = ms.cell_source(by_id[grade_id])
    return nb


class HeadlessClient(NotebookClient):
    """A NotebookClient that does not imitate Output widgets.

    nbclient's imitation sends on the kernel's shell socket while it waits
    on it for a reply, which now and then stalls a cell until the timeout
    (jupyter/nbclient#312; see tools/nbgrader_config.py).
    """

    def on_comm_open_jupyter_widget(self, msg):
        return None


def execute(nb, cwd):
    """Run every cell in a fresh kernel (errors recorded, not raised).

    Returns the indices of the cells whose output holds an error.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="agg")
    with tempfile.TemporaryDirectory(prefix="nbk") as sockets:
        # Unix sockets, not TCP ports: kernels started at the same moment
        # (here or by other test runs) cannot race for a port
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(sockets, "kernel")
        client = HeadlessClient(nb, timeout=TIMEOUT, allow_errors=True,
                                record_timing=False, kernel_name="python3",
                                config=config,
                                resources={"metadata": {"path": str(cwd)}})
        client.execute(env=env)
    return {i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any(o.output_type == "error" for o in c.outputs)}


def error_text(nb, i):
    for out in nb.cells[i].outputs:
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"[:400]
    return ""


class Classroom:
    """Student copies and their executions, made once per notebook."""

    def __init__(self, folder):
        self.folder = folder
        self.cache = {}
        self.pool = ThreadPoolExecutor(max_workers=2)

    def copy(self, path):
        if path not in self.cache:
            out = self.folder / path.stem
            ms.make_student([path], out, log=lambda *a: None)
            self.cache[path] = {
                "source": nbformat.read(path, as_version=4),
                "student": nbformat.read(out / path.name, as_version=4),
                "file": out / path.name,
            }
        return self.cache[path]

    def executed(self, path):
        """(student nb, its error cells, solved nb, its error cells)."""
        entry = self.copy(path)
        if "runs" not in entry:
            student = nbformat.from_dict(json.loads(json.dumps(
                entry["student"])))
            solved = insert_solutions(student, entry["source"])
            # the two fresh kernels are independent: run them side by side
            jobs = [self.pool.submit(execute, nb, path.parent)
                    for nb in (student, solved)]
            entry["runs"] = (student, jobs[0].result(), solved,
                             jobs[1].result())
        return entry["runs"]


@pytest.fixture(scope="session")
def classroom(tmp_path_factory):
    room = Classroom(tmp_path_factory.mktemp("student"))
    yield room
    room.pool.shutdown()


def pytest_generate_tests(metafunc):
    if "exercise_nb" in metafunc.fixturenames:
        paths = ["sample"] + graded_notebooks()
        ids = [p if p == "sample" else p.name for p in paths]
        metafunc.parametrize("exercise_nb", paths, ids=ids, indirect=True)


@pytest.fixture
def exercise_nb(request, sample_path):
    return sample_path if request.param == "sample" else request.param


# ---------------------------------------------------------------- tests


def test_student_copy_has_no_solution_or_hidden_test(classroom, exercise_nb):
    entry = classroom.copy(exercise_nb)
    secret, public = secret_lines(entry["source"])
    assert secret, f"{exercise_nb.name}: no solution or hidden-test lines"
    text = entry["file"].read_text(encoding="utf-8")
    assert ms.BEGIN_SOLUTION not in text and ms.BEGIN_HIDDEN not in text
    copy_lines = {}
    for cell in entry["student"].cells:
        for line in ms.cell_source(cell).split("\n"):
            copy_lines[line.strip()] = copy_lines.get(line.strip(), 0) + 1
    leaked = sorted(line for line in secret
                    if copy_lines.get(line, 0) > public.get(line, 0))
    assert not leaked, f"{exercise_nb.name}: student copy shows {leaked}"


def test_student_copy_keeps_everything_else(classroom, exercise_nb):
    entry = classroom.copy(exercise_nb)
    source, student = entry["source"], entry["student"]
    assert len(source.cells) == len(student.cells)
    for i, (a, b) in enumerate(zip(source.cells, student.cells)):
        assert a.cell_type == b.cell_type, f"cell {i}"
        assert a.get("id") == b.get("id"), f"cell {i}"
        meta = dict(nbgrader_meta(b))
        if meta:  # locked and checksummed as nbgrader's release does
            assert meta.pop("checksum") == ms.checksum(b), f"cell {i}"
            assert meta.pop("cell_type") == b.cell_type, f"cell {i}"
            assert b.metadata["deletable"] is False, f"cell {i}"
            test_cell = meta.get("grade") and not meta.get("solution")
            assert b.metadata.get("editable", True) is not test_cell, f"cell {i}"
        assert nbgrader_meta(a) == meta, f"cell {i}"
        if b.cell_type == "code":
            assert b.outputs == [] and b.execution_count is None, f"cell {i}"
        if not nbgrader_meta(a):
            assert ms.cell_source(a) == ms.cell_source(b), f"cell {i} changed"
    assert "widgets" not in student.metadata
    nbformat.validate(student)


def test_nbgrader_metadata_is_valid(classroom, exercise_nb):
    nb = classroom.copy(exercise_nb)["source"]
    name = exercise_nb.name
    ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells
           if nbgrader_meta(c)]
    assert None not in ids, f"{name}: an nbgrader cell without grade_id"
    dupes = sorted({g for g in ids if ids.count(g) > 1})
    assert not dupes, f"{name}: grade_id used twice: {dupes}"
    waiting = 0  # code solution cells not yet followed by a graded cell
    solved = False  # a code solution cell came before this graded cell
    for i, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        where = f"{name} cell {i} ({meta['grade_id']})"
        assert meta.get("schema_version") == 3, where
        assert {"grade", "solution", "locked"} <= set(meta), where
        if cell.cell_type == "markdown" and not meta.get("task"):
            # nbgrader: a written answer is graded by hand, so both or neither
            assert bool(meta["grade"]) == bool(meta["solution"]), (
                f"{where}: a markdown cell needs grade and solution both true")
        if meta.get("grade"):
            points = meta.get("points")
            assert isinstance(points, (int, float)) and points > 0, (
                f"{where}: graded cells need points > 0, got {points!r}")
        if is_graded_code(cell):
            assert meta.get("locked") is True, f"{where}: tests must be locked"
            assert solved, f"{where}: graded cell without a solution before it"
            waiting = 0
            student = ms.student_notebook(nb, name)[0]["cells"][i]
            visible = [s for s in ms.cell_source(student).split("\n")
                       if s.strip() and not s.strip().startswith("#")]
            assert visible, f"{where}: no visible check for the student"
        elif meta.get("solution"):
            assert meta.get("locked") is False, f"{where}: must be editable"
            if cell.cell_type == "code":
                assert not waiting, f"{where}: the solution cell before it " \
                    "has no graded cell"
                waiting, solved = 1, True
    assert not waiting, f"{name}: a code solution cell has no graded cell after it"


@pytest.mark.parametrize("prefix", COURSE)
def test_course_notebook_has_graded_exercises(prefix):
    found = sorted(NOTEBOOKS.glob(f"{prefix}_*.ipynb"))
    assert len(found) == 1, f"expected one notebooks/{prefix}_*.ipynb, got {found}"
    nb = json.loads(found[0].read_text(encoding="utf-8"))
    graded = [c for c in nb["cells"] if is_graded_code(c)]
    solutions = [c for c in nb["cells"] if nbgrader_meta(c).get("solution")
                 and c["cell_type"] == "code"]
    assert len(graded) >= MIN_EXERCISES and len(solutions) >= MIN_EXERCISES, (
        f"{found[0].name}: {len(graded)} graded and {len(solutions)} solution "
        f"cells, need at least {MIN_EXERCISES} each")


def test_student_copy_runs_and_every_exercise_fails(classroom, exercise_nb):
    student, errors, _, _ = classroom.executed(exercise_nb)
    graded = {i for i, c in enumerate(student.cells) if is_graded_code(c)}
    solution = {i for i, c in enumerate(student.cells)
                if nbgrader_meta(c).get("solution")}
    unexpected = sorted(errors - graded - solution)
    assert not unexpected, (
        f"{exercise_nb.name}: ordinary cells failed in the student copy: "
        + "; ".join(f"cell {i}: {error_text(student, i)}" for i in unexpected))
    passing = sorted(graded - errors)
    assert not passing, (
        f"{exercise_nb.name}: graded cells {passing} pass without a solution "
        "(they must call the student's code)")


def test_solutions_put_back_pass_every_check(classroom, exercise_nb):
    _, _, solved, errors = classroom.executed(exercise_nb)
    assert not errors, f"{exercise_nb.name}: " + "; ".join(
        f"cell {i}: {error_text(solved, i)}" for i in sorted(errors))


def test_regenerating_is_byte_identical(exercise_nb, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    ms.make_student([exercise_nb], first, log=lambda *a: None)
    ms.make_student([exercise_nb], second, log=lambda *a: None)
    ms.make_student([exercise_nb], first, force=True, log=lambda *a: None)
    name = exercise_nb.name
    assert (first / name).read_bytes() == (second / name).read_bytes()
    assert sorted(p.name for p in first.iterdir()) == [name]


# ---------------------------------------------------------------- the tool


def test_stub_matches_nbgrader_layout():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x\n" \
             "    ### END SOLUTION\n"
    new, n = ms.replace_region(source, ms.BEGIN_SOLUTION, ms.END_SOLUTION,
                               ms.CODE_STUB, "test")
    assert n == 1
    assert new == ("def f(x):\n    y = 1\n    # YOUR CODE HERE\n"
                   "    raise NotImplementedError()\n")


def test_student_notebook_without_markers_and_markdown(sample_path):
    nb = json.loads(sample_path.read_text(encoding="utf-8"))
    nb["cells"][7]["source"] = "relu_x = 1  # whole cell is the answer"
    student, counts = ms.student_notebook(nb)
    assert counts == {"solutions": 3, "hidden": 2}
    assert "".join(student["cells"][7]["source"]) == \
        "# YOUR CODE HERE\nraise NotImplementedError()"
    assert "".join(student["cells"][10]["source"]) == "YOUR ANSWER HERE"
    assert nb["cells"][7]["source"] == "relu_x = 1  # whole cell is the answer"


@pytest.mark.parametrize("source, meta, message", [
    ("### BEGIN SOLUTION\nx = 1", "solution", "without 'END SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "solution",
     "nested"),
    ("x = 1\n### END SOLUTION", "solution", "without 'BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", None, "solution: true"),
    ("### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS", None,
     "grade: true"),
])
def test_bad_markup_is_reported(source, meta, message):
    cell = nbformat.v4.new_code_cell(source)
    if meta == "solution":
        cell.metadata["nbgrader"] = dict(_solution("x"), schema_version=3)
    nb = nbformat.v4.new_notebook(cells=[cell])
    with pytest.raises(ms.StudentCopyError, match=re.escape(message)):
        ms.student_notebook(nb, "bad.ipynb")


def run_tool(*args, cwd):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_cli_writes_only_notebooks(sample_path, tmp_path):
    (sample_path.parent / "data.csv").write_text("1,2\n")
    result = run_tool(sample_path.parent, "--out", tmp_path / "out",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "90_sample.ipynb" in result.stdout
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["90_sample.ipynb"]
    assert result.stderr == ""


@pytest.mark.parametrize("args, message", [
    (["missing.ipynb"], "missing.ipynb does not exist"),
    (["data.csv"], "is not a notebook"),
    (["{nb}", "--out", "{nb}"], "exists and is not a folder"),
    (["{nb}", "--out", "full"], "is not empty; pass --force"),
    (["{nb}", "--out", "{dir}"], "refusing to write into"),
    (["{nb}", "--out", "{dir}", "--force"], "refusing to write into"),
    (["{nb}"], "the following arguments are required: --out"),
])
def test_cli_errors_are_one_line(sample_path, tmp_path, args, message):
    (tmp_path / "data.csv").write_text("1,2\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    args = [a.format(nb=sample_path, dir=sample_path.parent) for a in args]
    if args and args[0] != str(sample_path):
        args += ["--out", "out"]
    result = run_tool(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("make_student: error: ")
    assert message in result.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "out").exists()


def test_never_writes_into_notebooks_folder(sample_path, tmp_path, monkeypatch):
    fake = tmp_path / "notebooks"
    fake.mkdir()
    monkeypatch.setattr(ms, "NOTEBOOKS", fake)
    for out in (fake, fake / "student", fake / "a" / "b"):
        for force in (False, True):
            with pytest.raises(ms.StudentCopyError, match="refusing"):
                ms.make_student([sample_path], out, force=force)
    assert list(fake.iterdir()) == []


def test_force_overwrites_only_its_notebooks(sample_path, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "90_sample.ipynb").write_text("old")
    ms.make_student([sample_path], out, force=True, log=lambda *a: None)
    assert (out / "notes.txt").read_text() == "mine"
    assert "YOUR CODE HERE" in (out / "90_sample.ipynb").read_text()


def test_default_is_every_numbered_notebook_and_assignment():
    names = [p.name for p in ms.collect([])]
    assert names == sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) \
        + sorted(p.name for p in (NOTEBOOKS / "assignments").glob("*.ipynb"))


# ---------------------------------------------------------------- TEACHING.md

ROW = re.compile(r"^\| \[(\d\d) [^]]+\]\((notebooks/[^)]+\.ipynb)\) \| [^|]+ \| "
                 r"(-|\d+) \| (-|\d+(?: \+ \d+ by hand)?) \|$")


def points_of(path):
    """(graded test cells, autograded points, hand-graded points)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    graded = [c for c in nb["cells"] if nbgrader_meta(c).get("grade")]
    auto = [nbgrader_meta(c)["points"] for c in graded if c["cell_type"] == "code"]
    manual = [nbgrader_meta(c)["points"] for c in graded
              if c["cell_type"] != "code"]
    return len(auto), sum(auto), sum(manual)


def test_teaching_points_table_matches_notebooks():
    rows = [ROW.match(line) for line in TEACHING.read_text().splitlines()
            if line.startswith("| [")]
    assert rows and all(rows), "TEACHING.md: a table row is not in the format"
    table = {m[1]: m for m in rows}
    total = re.search(r"In total there are (\d+) autograded exercises worth "
                      r"(\d+)\s+points", TEACHING.read_text())
    assert total, "TEACHING.md: the sentence with the totals is missing"
    counts = [points_of(p) for p in course_notebooks()]
    assert (int(total[1]), int(total[2])) == (
        sum(c[0] for c in counts), sum(c[1] for c in counts)), (
        "TEACHING.md: totals do not match the notebooks")
    numbered = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    missing = sorted(p.name for p in numbered if p.name[:2] not in table)
    assert not missing, f"TEACHING.md: no row for {missing}"
    for prefix, m in sorted(table.items()):
        path = ROOT / m[2]
        assert path.is_file(), f"TEACHING.md links {m[2]}, which does not exist"
        count, auto, manual = points_of(path)
        shown = "-" if not count else str(count)
        points = "-" if not count else f"{auto:g}" + (
            f" + {manual:g} by hand" if manual else "")
        assert (m[3], m[4]) == (shown, points), (
            f"TEACHING.md row {prefix}: says {m[3]} exercises, {m[4]} points; "
            f"{path.name} has {shown}, {points}")


HEADING = re.compile(r"^#+ .*Exercise.*\((\d+(?:\.\d+)?) points?"
                     r"(, graded by hand)?\)\s*$", flags=re.M)


def test_points_in_exercise_headings_match_metadata(exercise_nb):
    """A heading "### Exercise 2: ... (2 points)" tells the truth.

    The points of the graded cells up to the next exercise heading (an
    exercise may be split into several graded parts) add up to the heading's.
    """
    nb = json.loads(exercise_nb.read_text(encoding="utf-8"))
    said, got = [], []  # per exercise heading, in order
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "markdown" and not meta:
            for m in HEADING.finditer(ms.cell_source(cell)):
                said.append(float(m[1]))
                got.append(0.0)
        elif meta.get("grade") and got:
            got[-1] += float(meta["points"])
    if said:
        assert said == got, (
            f"{exercise_nb.name}: headings announce {said} points, the graded "
            f"cells carry {got}")


def test_keep_writes_only_missing_notebooks(sample_path, tmp_path):
    """A learner's edition: new notebooks appear, their work is never touched."""
    out = tmp_path / "student"
    out.mkdir()
    (out / "90_sample.ipynb").write_text("my work")
    other = sample_path.parent / "91_other.ipynb"
    shutil.copy(sample_path, other)
    result = run_tool(sample_path, other, "--out", out, "--keep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "90_sample.ipynb").read_text() == "my work"
    assert "exists: kept as it is" in result.stdout
    assert "YOUR CODE HERE" in (out / "91_other.ipynb").read_text()
    again = run_tool(sample_path, other, "--out", out, "--keep", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.count("kept as it is") == 2
    clash = run_tool(sample_path, "--out", out, "--keep", "--force", cwd=tmp_path)
    assert clash.returncode == 2 and "contradict" in clash.stderr


BARE_CHECK = re.compile(r"(?<![\w.])(check_\w+|fit|evaluate)\(")


def test_test_cells_trust_nothing_from_the_notebook():
    """Every course test cell reloads its helpers and calls no bare checker.

    A bare ``check_close(...)`` or ``fit(...)`` would run whatever the
    student's cells bound to that name (see cnnlib/grading.py).
    """
    for path in graded_notebooks():
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if not is_graded_code(cell):
                continue
            where = f"{path.name} {nbgrader_meta(cell)['grade_id']}"
            assert "grading = importlib.reload(cnnlib.grading)" in cell.source, \
                where
            assert 'ck = grading.fresh("cnnlib.checks")' in cell.source, where
            assert not BARE_CHECK.findall(cell.source), (
                f"{where}: calls {BARE_CHECK.findall(cell.source)} from the "
                "notebook's namespace")
