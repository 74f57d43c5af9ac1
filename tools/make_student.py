#!/usr/bin/env python
"""Make student copies of the course notebooks, as nbgrader would.

Usage::

    python tools/make_student.py --out student/           # all notebooks
    python tools/make_student.py notebooks/02_convolution.ipynb --out hw2/
    python tools/make_student.py notebooks/ --out student/ --force
    python tools/make_student.py notebooks/ --out student/ --keep   # learners

In each copy

- code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
  ``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at the indentation
  of the BEGIN line (a solution cell without markers is replaced whole);
- a markdown solution cell (nbgrader ``solution: true``) becomes
  ``YOUR ANSWER HERE``;
- lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are
  removed, markers included;
- outputs, execution counts and saved widget state are cleared;
- cells are locked as nbgrader's release locks them (test and read-only
  cells ``editable: false``, every nbgrader cell ``deletable: false``), and
  every nbgrader cell gets the checksum nbgrader records, so a copy is
  byte-identical to ``nbgrader generate_assignment``'s release;
- everything else (prose, figure code, visible checks, nbgrader metadata,
  cell ids) is kept as it is.

Only the named notebooks are written, nothing else. The output is
deterministic: running the script twice gives byte-identical files. It never
writes into ``notebooks/`` (the instructor copies), and it refuses a
non-empty output folder unless ``--force`` is given. With ``--keep`` it
writes only the notebooks that are not in the output folder yet, so a
learner's own copies (and their work in them) are never touched: that is how
``make lab`` keeps ``student/``, the learner's edition, up to date. See
TEACHING.md.
"""

import argparse
import copy
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"

# The same markers and stubs as nbgrader's ClearSolutions / ClearHiddenTests
# (a marker counts anywhere in a line), so both tools make the same copies.
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
TEXT_STUB = ["YOUR ANSWER HERE"]


class StudentCopyError(Exception):
    """A problem the teacher must fix; the message is one line."""


def cell_source(cell):
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def replace_region(source, begin, end, stub, where):
    """Replace every ``begin``..``end`` region of ``source`` by ``stub``.

    Marker lines go too; each stub line is indented like the BEGIN line.
    ``stub=[]`` deletes the region. Returns ``(new_source, count)``.
    """
    out, inside, count = [], False, 0
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise StudentCopyError(f"{where}: nested '{begin}'")
            inside, count = True, count + 1
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + s for s in stub)
        elif end in line:
            if not inside:
                raise StudentCopyError(f"{where}: '{end}' without '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise StudentCopyError(f"{where}: '{begin}' without '{end}'")
    return "\n".join(out), count


def _is_locked(meta):
    """nbgrader's rule: test cells, and cells marked locked, not solutions."""
    if meta.get("solution"):
        return False
    return bool(meta.get("grade")) or bool(meta.get("locked"))


def checksum(cell):
    """The MD5 checksum nbgrader 0.9 stores for a cell (utils.compute_checksum).

    Over the source, the cell type, the grade / solution / locked flags, the
    grade_id and, for graded cells, the points.
    """
    meta = _nbgrader(cell)
    parts = [cell_source(cell), cell["cell_type"], str(bool(meta.get("grade"))),
             str(bool(meta.get("solution"))), str(_is_locked(meta)),
             meta["grade_id"]]
    if meta.get("grade"):
        parts.append(str(float(meta["points"])))
    digest = hashlib.md5()
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def lock(cell):
    """Lock and checksum a cell as nbgrader's LockCells/ComputeChecksums do."""
    meta = _nbgrader(cell)
    if not meta:
        return
    if meta.get("solution"):
        cell["metadata"]["deletable"] = False       # editable: the answer
    elif meta.get("grade") or meta.get("locked"):
        cell["metadata"]["deletable"] = False
        cell["metadata"]["editable"] = False
    if meta.get("grade") or meta.get("solution") or meta.get("locked"):
        meta["checksum"] = checksum(cell)
        meta["cell_type"] = cell["cell_type"]


def student_notebook(nb, name="notebook"):
    """Return the student copy of notebook ``nb`` (a dict); ``nb`` is kept.

    Returns
    -------
    student : dict
        The student notebook.
    counts : dict
        ``{"solutions": n, "hidden": m}``: regions or cells replaced.
    """
    nb = copy.deepcopy(nb)
    counts = {"solutions": 0, "hidden": 0}
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"{name}, cell {i}"
        meta = _nbgrader(cell)
        code = cell.get("cell_type") == "code"
        source, n_sol = replace_region(
            cell_source(cell), BEGIN_SOLUTION, END_SOLUTION,
            CODE_STUB if code else TEXT_STUB, where)
        if n_sol and not meta.get("solution"):
            raise StudentCopyError(
                f"{where}: solution region in a cell without nbgrader "
                "metadata solution: true")
        if meta.get("solution") and not n_sol:
            source, n_sol = "\n".join(CODE_STUB if code else TEXT_STUB), 1
        source, n_hidden = replace_region(source, BEGIN_HIDDEN, END_HIDDEN,
                                          [], where)
        if n_hidden and not meta.get("grade"):
            raise StudentCopyError(
                f"{where}: hidden tests in a cell without nbgrader metadata "
                "grade: true")
        counts["solutions"] += n_sol
        counts["hidden"] += n_hidden
        cell["source"] = source.splitlines(keepends=True)
        if code:
            cell["outputs"] = []
            cell["execution_count"] = None
            for field in ("collapsed", "scrolled"):  # as nbconvert's ClearOutput
                cell.get("metadata", {}).pop(field, None)
        cell.get("metadata", {}).pop("execution", None)  # timing
        lock(cell)
    nb.get("metadata", {}).pop("widgets", None)  # saved widget state
    nb.get("metadata", {}).pop("celltoolbar", None)
    return nb, counts


def notebook_text(nb):
    """Deterministic JSON text, formatted as nbformat writes it."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def collect(paths):
    """The notebook files named by ``paths`` (files or folders), in order."""
    if not paths:  # the course and its assignments
        found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(
            (NOTEBOOKS / "assignments").glob("*.ipynb"))
        if not found:
            raise StudentCopyError(f"no notebooks found in {NOTEBOOKS}")
        return found
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(f for f in p.glob("*.ipynb")
                            if not f.name.startswith("."))
            if not inside:
                raise StudentCopyError(f"no .ipynb files in folder {p}")
            files.extend(inside)
        elif p.is_file():
            if p.suffix != ".ipynb":
                raise StudentCopyError(f"{p} is not a notebook (.ipynb)")
            files.append(p)
        else:
            raise StudentCopyError(f"{p} does not exist")
    names = {}
    for f in files:
        if f.name in names and names[f.name] != f.resolve():
            raise StudentCopyError(
                f"two notebooks named {f.name} ({names[f.name]} and {f}) "
                "would be written to the same file")
        names[f.name] = f.resolve()
    return list(dict.fromkeys(files))


def _is_within(path, folder):
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def check_output_folder(out, sources, force):
    """Refuse to write where instructor copies live or over other work."""
    target = out.resolve()
    protected = [NOTEBOOKS.resolve()] + [s.resolve().parent for s in sources]
    for folder in protected:
        if target == folder or (folder == protected[0]
                                and _is_within(target, folder)):
            raise StudentCopyError(
                f"refusing to write into {folder} (instructor notebooks); "
                "choose another --out, e.g. student/")
    if target.exists() and not target.is_dir():
        raise StudentCopyError(f"--out {out} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise StudentCopyError(
            f"--out {out} is not empty; pass --force to overwrite its notebooks")


def make_student(paths, out, force=False, log=print, keep=False):
    """Write student copies of ``paths`` into ``out``; return the new files.

    With ``keep``, notebooks already in ``out`` are left as they are.
    """
    sources = collect(paths)
    out = Path(out)
    check_output_folder(out, sources, force or keep)
    if keep:
        kept = [s for s in sources if (out / s.name).exists()]
        for src in kept:
            log(f"{out / src.name} exists: kept as it is")
        sources = [s for s in sources if s not in kept]
    texts = []
    for src in sources:
        try:
            nb = json.loads(src.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise StudentCopyError(f"cannot read {src}: {err}") from None
        student, counts = student_notebook(nb, src.name)
        texts.append((src, notebook_text(student), counts))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src, text, counts in texts:  # write only once every notebook parsed
        dest = out / src.name
        dest.write_text(text, encoding="utf-8", newline="\n")
        written.append(dest)
        log(f"{src} -> {dest} ({counts['solutions']} solutions, "
            f"{counts['hidden']} hidden tests removed)")
    return written


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"make_student: error: {message} (see --help)\n")


def main(argv=None):
    parser = _Parser(
        prog="make_student",
        description="Make student copies of notebooks: solutions replaced "
        "by stubs, hidden tests removed, outputs cleared.")
    parser.add_argument("paths", nargs="*", metavar="NOTEBOOK_OR_FOLDER",
                        help="default: every notebooks/NN_*.ipynb and "
                        "notebooks/assignments/*.ipynb")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the student copies (not notebooks/)")
    parser.add_argument("--keep", action="store_true",
                        help="write only notebooks not yet in --out; never "
                        "overwrite (a learner's own copies)")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty --out folder")
    args = parser.parse_args(argv)
    try:
        if args.force and args.keep:
            raise StudentCopyError("--force and --keep contradict each other")
        make_student(args.paths, args.out, args.force, keep=args.keep)
    except (StudentCopyError, OSError) as err:
        print(f"make_student: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
