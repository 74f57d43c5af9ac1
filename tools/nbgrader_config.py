# nbgrader configuration for this course: copy this file into your course
# folder (next to source/, submitted/, ...) as nbgrader_config.py. See
# TEACHING.md, "With nbgrader". tests/test_nbgrader.py grades fake
# submissions with exactly this file.
import ast
import os

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

# Seconds per cell. The longest cell of the course (notebook 07's training of
# LeNet-5, then the check of exercise 3) takes about 25 s on one core of a
# 2020s laptop; 120 s leaves room for a machine five times slower, and a
# student whose code loops forever costs 2 minutes, not 10.
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


c.Autograde.autograde_preprocessors = [
    ExecuteHeadless, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]

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


# Names the test cells and the library use, which an answer has no reason
# to assign: ``check_close = lambda *a: None``, ``def fit(...)``.
SHADOWED = {"ck", "fit", "evaluate", "predict", "np", "numpy", "cnnlib"}


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
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS:
            found.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", "")
                                                    or ""]
            found |= {n for n in names for part in n.split(".")
                      if part in SUSPICIOUS}
    return sorted(found)


class ReportTampering(NbGraderPreprocessor):
    """Log every code cell a student could edit that touches the grading."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        editable = not (meta.get("grade") and not meta.get("solution")) and \
            not meta.get("locked")
        if cell.cell_type == "code" and editable:
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
