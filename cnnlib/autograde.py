"""Which cells of a submitted notebook an autograder has to run.

Grading a notebook does not need its figures, sliders or a 15-epoch
training run that no answer uses; running them made autograding the course
take about 85 s per student. `cells_needed` reads the cells (without running
them) and keeps the imports, every exercise and test cell, every cell the
student added or changed, and, again and again, every earlier cell that
binds a name one of those reads. ``tools/nbgrader_config.py`` runs only
those, and the whole notebook again if a test then fails unexpectedly.

Used by tools/nbgrader_config.py (see TEACHING.md, "With nbgrader"); not
taught in a notebook.
"""

import ast

__all__ = ["cells_needed"]


def _bindings(node):
    """Names a statement binds or changes (``x[...] =`` and ``x.a =`` too)."""
    bound = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(
                sub.ctx, (ast.Store, ast.Del)):
            base = sub.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                bound.add(base.id)
    return bound


def _loads(node):
    """Names ``node`` reads, without comprehension variables or lambda args."""
    reads, local = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            reads.add(sub.id)
        elif isinstance(sub, ast.comprehension):
            local |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
        elif isinstance(sub, ast.Lambda):
            local |= {a.arg for a in ast.walk(sub.args) if isinstance(a, ast.arg)}
    return reads - local


def _scan(statements, bound, needs, later):
    """Walk statements in order: what they need from before, what they bind.

    ``later`` holds every name the cell binds at its top level: a function
    body runs when called, by which time those exist.
    """
    for st in statements:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = {a.arg for a in ast.walk(st.args) if isinstance(a, ast.arg)}
            inner = set().union(*(_bindings(b) for b in st.body)) if st.body \
                else set()
            heads = st.decorator_list + st.args.defaults + [
                d for d in st.args.kw_defaults if d is not None]
            for head in heads:
                needs |= _loads(head) - bound
            body = set().union(*(_loads(b) for b in st.body)) if st.body else set()
            needs |= body - params - inner - later
        elif isinstance(st, ast.ClassDef):
            needs |= _loads(st) - bound - later
        elif isinstance(st, (ast.For, ast.AsyncFor)):
            needs |= _loads(st.iter) - bound
            bound |= _bindings(st.target)
            _scan(st.body + st.orelse, bound, needs, later)
        elif isinstance(st, (ast.While, ast.If)):
            needs |= _loads(st.test) - bound
            _scan(st.body + st.orelse, bound, needs, later)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            for item in st.items:
                needs |= _loads(item.context_expr) - bound
                if item.optional_vars is not None:
                    bound |= _bindings(item.optional_vars)
            _scan(st.body, bound, needs, later)
        elif isinstance(st, ast.Try):
            _scan(st.body, bound, needs, later)
            for handler in st.handlers:
                if handler.type is not None:
                    needs |= _loads(handler.type) - bound
                if handler.name:
                    bound.add(handler.name)
                _scan(handler.body, bound, needs, later)
            _scan(st.orelse + st.finalbody, bound, needs, later)
        else:
            needs |= _loads(st) - bound
        bound |= _bindings(st)


def _bound_and_read(source):
    """(names a cell binds or changes, names it needs from earlier cells).

    None if the cell cannot be parsed. IPython magics (``%...``) are ignored.
    """
    lines = [line for line in source.split("\n")
             if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    later = set()
    for st in tree.body:
        later |= _bindings(st)
    bound, needs = set(), set()
    _scan(tree.body, bound, needs, later)
    return later, needs


def cells_needed(nb, instructor=None):
    """Indices of the code cells an autograder must run, in order.

    Parameters
    ----------
    nb : dict
        The submitted notebook (nbformat 4).
    instructor : dict, optional
        The instructor's notebook. Cells found there unchanged (same id,
        same text) may be skipped; without it every cell without nbgrader
        metadata counts as the student's and runs.

    Returns
    -------
    list of int
        The first code cell (the imports), every nbgrader cell, every cell
        the student added or changed, and, again and again, every earlier
        cell that binds a name one of those reads: figures, sliders and
        training runs that no answer uses are left out.
    """
    known = {}
    for cell in (instructor or {}).get("cells", []):
        known[cell.get("id")] = _text(cell)
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    info = {i: _bound_and_read(_text(nb["cells"][i])) for i in code}
    must = set(code[:1])
    for i in code:
        cell = nb["cells"][i]
        ours = known.get(cell.get("id")) == _text(cell)
        if cell.get("metadata", {}).get("nbgrader") or not ours or info[i] is None:
            must.add(i)
    last = max(must) if must else -1
    needed, todo = set(), sorted(must)
    while todo:
        i = todo.pop()
        if i in needed:
            continue
        needed.add(i)
        reads = info[i][1] if info[i] else set()
        for j in code:
            if j < max(i, last) and j not in needed and info[j] and \
                    info[j][0] & reads:
                todo.append(j)
    return sorted(needed)


def _text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source
