#!/usr/bin/env python3
"""Write the navigation cells (previous / contents / next) of every notebook.

    python tools/make_nav.py           # rewrite the cells where they changed
    python tools/make_nav.py --check   # exit 1 if any notebook is out of date

Every ``notebooks/NN_*.ipynb`` gets one navigation cell at the top and one at
the bottom, built from the notebooks' own titles (the first ``# `` heading),
so the links stay right when a notebook is added or renamed. The cells are
marked with the cell tag ``navigation``; nothing else in a notebook changes,
and a notebook whose cells are already right is not rewritten.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TAG = "navigation"
CONTENTS = "../README.md#the-notebooks"


def notebook_paths(folder=NOTEBOOKS):
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def title_of(nb, path):
    for cell in nb.cells:
        if cell.cell_type == "markdown" and TAG not in cell.metadata.get("tags", []):
            m = re.search(r"^# (.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    raise SystemExit(f"make_nav: {path.name} has no '# Title' heading in its "
                     "first markdown cells")


def nav_source(i, paths, titles):
    parts = []
    if i > 0:
        parts.append(f"&larr; [{titles[i - 1]}]({paths[i - 1].name})")
    parts.append(f"[Contents]({CONTENTS})")
    if i + 1 < len(paths):
        parts.append(f"[{titles[i + 1]}]({paths[i + 1].name}) &rarr;")
    return " | ".join(parts)


def with_nav(nb, source):
    import nbformat

    body = [c for c in nb.cells if TAG not in c.metadata.get("tags", [])]
    cells = []
    for _ in range(2):
        cell = nbformat.v4.new_markdown_cell(source)
        cell.metadata["tags"] = [TAG]
        cell.pop("id", None)
        cells.append(cell)
    return [cells[0]] + body + [cells[1]]


def same(a, b):
    return [(c.cell_type, c.source) for c in a] == [(c.cell_type, c.source) for c in b]


def main(argv=None):
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only report notebooks whose navigation is stale")
    parser.add_argument("--dir", type=Path, default=NOTEBOOKS,
                        help="folder of NN_*.ipynb notebooks (default notebooks/)")
    args = parser.parse_args(argv)
    paths = notebook_paths(args.dir)
    nbs = [nbformat.read(p, as_version=4) for p in paths]
    titles = [title_of(nb, p) for nb, p in zip(nbs, paths)]
    stale = []
    for i, (path, nb) in enumerate(zip(paths, nbs)):
        new_cells = with_nav(nb, nav_source(i, paths, titles))
        if same(nb.cells, new_cells):
            continue
        stale.append(path.name)
        if not args.check:
            # keep the ids of cells that stay; give the new cells fresh ones
            nb.cells = new_cells
            for cell in nb.cells:
                if "id" not in cell:
                    cell["id"] = f"nav-{'top' if cell is new_cells[0] else 'bottom'}"
            nbformat.validate(nb)
            nbformat.write(nb, path)
            print(f"updated {path.name}")
    if args.check and stale:
        print("navigation out of date in: " + ", ".join(stale)
              + "\nrun: python tools/make_nav.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
