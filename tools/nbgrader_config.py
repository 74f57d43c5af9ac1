# nbgrader configuration for this course: copy this file into your course
# folder (next to source/, submitted/, ...) as nbgrader_config.py. See
# TEACHING.md, "With nbgrader". tests/test_nbgrader.py grades fake
# submissions with exactly this file.
import ast
import copy
import os
import tempfile

import nbformat
from nbconvert.preprocessors import (
    ClearMetadataPreprocessor,
    CSSHTMLHeaderPreprocessor,
)
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

# The course folder is where this file is; change course_id if you like.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "cnn"

# Seconds per cell. The longest cell of the course is notebook 07's training
# of LeNet-5 (15 epochs: 53 s measured on one core of a heavily loaded
# 2-core machine); grading normally skips it (see ExecuteHeadless) and runs
# at most 07's exercise-3 check (about 5 s), but a full run must fit too.
# 120 s covers both with room for a slower machine, and a student whose code
# loops forever costs 2 minutes, not 10.
c.Execute.timeout = 120


class ExecuteHeadless(Execute):
    """nbgrader's Execute without nbclient's imitation of an Output widget.

    To fill Output widgets as a browser would, nbclient answers the kernel
    with comm messages sent on the shell socket while it is waiting on that
    same socket for the cell's reply (jupyter/nbclient#312). Now and then the
    reply then arrives without waking the wait, and the cell sits idle until
    the timeout: about one autograde of notebook 02 in five, just after
    ``explore_kernel_editor()``. Grading needs no widget frontend: the
    figure an explorer draws simply lands in the cell's own output.
    """

    def on_comm_open_jupyter_widget(self, msg):
        return None

    def preprocess(self, nb, resources=None, km=None):
        """Run only the cells grading needs; everything if that went wrong.

        `cnnlib.autograde.cells_needed` keeps the imports, every exercise and
        test cell, every cell the student added or changed, and every cell
        that binds a name those read; figures, sliders and training runs no
        answer uses are skipped (notebook 07 runs 7 of its 25 code cells). If a graded
        cell then fails with anything but a failed check or an unsolved
        stub, the notebook runs again in full, and that result counts.
        """
        from cnnlib.autograde import cells_needed

        needed = set(cells_needed(nb, instructor_notebook(resources)))
        trial = copy.deepcopy(nb)
        code = [i for i, cell in enumerate(trial.cells)
                if cell.cell_type == "code"]
        for i in code:
            if i not in needed:
                tags = trial.cells[i].metadata.setdefault("tags", [])
                tags.append(SKIP)
        self.log.info("Running %d of %d code cells (the rest no answer uses)",
                      len(needed & set(code)), len(code))
        trial, resources = super().preprocess(trial, resources, km)
        if any(unexpected_error(cell) for cell in trial.cells):
            self.log.warning("A graded cell failed unexpectedly with cells "
                             "skipped: running the whole notebook")
            return super().preprocess(nb, resources, km)
        for i in set(code) - needed:  # as handed in: no trace of the tag
            trial.cells[i].metadata["tags"].remove(SKIP)
            if not trial.cells[i].metadata["tags"]:
                del trial.cells[i].metadata["tags"]
        return trial, resources


SKIP = "skip-execution"  # nbclient's tag for a cell it must not run
EXPECTED = {"CheckFailed", "AssertionError", "NotImplementedError"}


def unexpected_error(cell):
    """A graded cell that failed with something else than a failed check."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and any(
        out.get("output_type") == "error" and out.get("ename") not in EXPECTED
        for out in cell.get("outputs", []))


c.Autograde.autograde_preprocessors = [
    ExecuteHeadless, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]

# Kernels talk to nbgrader over Unix sockets in a folder of this run's own
# (not TCP ports on localhost), so several autogrades at once on one machine
# cannot pick the same port or socket (TEACHING.md, "Grading many students
# at once"). Windows has no Unix sockets: it keeps TCP.
if os.name != "nt":
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(
        tempfile.mkdtemp(prefix="nbgrader-kernels-"), "kernel")

# A test cell the student deleted is put back (with a note in the cell) and
# logged as "Missing grade cell ...", so it is graded, not silently scored 0.
c.OverwriteCells.add_missing_cells = True

# Hidden tests are cut out of the release copy; nbgrader compares a returned
# test cell with the checksum of the *instructor's* cell (hidden tests
# included), so every untouched submission used to log "Attribute 'checksum'
# for cell ... has changed!" for every cell with hidden tests (nbgrader issue
# 1961), drowning real tampering. A cell that is exactly the released text is
# now put back silently; any other change is still logged (and undone).
def released(source):
    """The text students received: hidden-test regions removed, as nbgrader."""
    lines, inside = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


class RestoreHiddenTests(OverwriteCells):
    """OverwriteCells that knows a released test cell lacks its hidden tests."""

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            try:
                source = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id)
            except Exception:  # unknown cell: OverwriteCells reports it
                source = None
            if (source is not None and source.locked
                    and cell.cell_type == source.cell_type
                    and cell.source == released(source.source)):
                cell.source = source.source  # untouched: restore quietly
        return super().preprocess_cell(cell, resources, cell_index)


# Names that only code attacking the grading would use in an answer. The
# test cells do not trust the kernel (see cnnlib/grading.py); this report is
# the second line, read outside the kernel, where a notebook cannot hide.
SUSPICIOUS = {"importlib", "sys", "builtins", "__builtins__", "grading",
              "checks", "setattr", "delattr", "__code__", "__globals__",
              "__class__", "__dict__", "globals", "locals", "exec", "eval",
              "compile", "__import__", "reload", "modules", "get_ipython",
              "monkeypatch"}


MODULES = {"checks", "grading", "modules", "importlib", "builtins", "reload"}

# Names the test cells and the library use, which an answer has no reason
# to assign: ``check_close = lambda *a: None``, ``def fit(...)``.
SHADOWED = {"ck", "fit", "evaluate", "np", "numpy", "cnnlib"}


def suspicious_names(source):
    """Names in ``source`` that touch the grading machinery (sorted)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = set()
    for node in ast.walk(tree):
        assigned = [node.id] if isinstance(node, ast.Name) and isinstance(
            node.ctx, ast.Store) else [node.name] if isinstance(
            node, (ast.FunctionDef, ast.ClassDef)) else []
        found |= {f"{n} (assigned)" for n in assigned
                  if n in SHADOWED or n.startswith("check_")}
        if isinstance(node, ast.Name) and node.id in SUSPICIOUS:
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS and (
                node.attr.startswith("__") or node.attr in MODULES):
            found.add(node.attr)  # cnnlib.checks, sys.modules, f.__code__
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", "")
                                                    or ""]
            found |= {n for n in names for part in n.split(".")
                      if part in SUSPICIOUS}
    return sorted(found)


def instructor_notebook(resources):
    """The instructor's copy of the notebook being graded, or None."""
    info = (resources or {}).get("nbgrader", {})
    path = os.path.join(c.CourseDirectory.root, "source",
                        info.get("assignment", ""),
                        info.get("notebook", "") + ".ipynb")
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None


class ReportTampering(NbGraderPreprocessor):
    """Log every code cell of the student's that touches the grading.

    Solution cells, cells the student added and instructor cells the
    student changed are read; locked test cells are restored anyway.
    """

    def preprocess(self, nb, resources):
        source = instructor_notebook(resources)
        self.instructor = {cell.get("id"): cell.source
                           for cell in (source.cells if source else [])}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        locked = meta.get("grade") and not meta.get("solution") or \
            meta.get("locked")
        theirs = meta.get("solution") or \
            self.instructor.get(cell.get("id")) != cell.source
        if cell.cell_type == "code" and theirs and not locked:
            names = suspicious_names(cell.source)
            if names:
                where = meta.get("grade_id", f"cell {cell_index}")
                self.log.warning(
                    "Suspicious code in %s of %s: uses %s; read it before "
                    "trusting this grade", where,
                    resources.get("nbgrader", {}).get("notebook", "?"),
                    ", ".join(names))
        return cell, resources


c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreHiddenTests,
    ReportTampering, CheckCellMetadata,
]


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback without the hidden tests or the grader's file paths.

    Hidden-test regions are cut from the test cells again, and an error shows
    only its message (the check's explanation), not the traceback, whose
    lines quote the hidden tests and name files on the grader's machine.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            cell.source = released(cell.source)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename')}: {out.get('evalue')}"]
        return cell, resources


c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests,
                                    CSSHTMLHeaderPreprocessor]
