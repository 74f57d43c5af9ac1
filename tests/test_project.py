"""The project's own promises: one package list, a README that matches the
notebooks, a CI script that runs the README's test command."""

import ast
import json
import re
import sys
from pathlib import Path

from tests import pyproject

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


def test_requirements_txt_installs_the_project_and_its_course_extra():
    lines = [line.split("#")[0].strip()
             for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert [line for line in lines if line] == ["-e .[course]"], (
        "requirements.txt must only install the project with its course "
        "extra: the package list lives in pyproject.toml")


def test_pyproject_lists_lower_bounds_once():
    listed = pyproject.requirements()
    for req in listed:
        assert "==" not in req, f"pyproject.toml pins exactly: {req!r}"
        assert ">=" in req, f"{req!r} has no lower bound"
    names = [pyproject.name(r) for r in listed]
    assert len(names) == len(set(names)), "a package is listed twice"
    for needed in ["numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval",
                   "pytest", "scipy", "tqdm"]:
        assert needed in names, f"pyproject.toml lacks {needed}"
    assert "version" in pyproject.project().get("dynamic", []), (
        "the version is written once, in cnnlib/__init__.py")


# import name -> distribution name, where they differ
DIST = {"IPython": "ipython"}


def _third_party_imports():
    found = {}
    for path in sorted((ROOT / "cnnlib").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "cnnlib" and top not in sys.stdlib_module_names:
                    found.setdefault(top, path.relative_to(ROOT))
    return found


def test_every_third_party_import_of_cnnlib_is_a_declared_dependency():
    declared = {pyproject.name(r) for r in pyproject.project()["dependencies"]}
    imports = _third_party_imports()
    assert "numpy" in imports and "tqdm" in imports
    for module, where in imports.items():
        dist = DIST.get(module, module).lower()
        assert dist in declared, (
            f"{where} imports {module}, but pyproject.toml's dependencies "
            f"lack {dist}: `pip install .` then using it would fail")


def test_dev_requirements_extend_the_main_list():
    dev = ROOT / "requirements-dev.txt"
    assert "-r requirements.txt" in dev.read_text()
    listed = {pyproject.name(r) for r in pyproject.requirements()}
    overlap = set(requirement_names(dev)) & listed
    assert not overlap, f"listed in both pyproject.toml and {dev.name}: {overlap}"


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


def _modules():
    for path in sorted((ROOT / "cnnlib").rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_each_module_says_once_where_it_is_taught():
    """One "Taught in" line per module, never per function."""
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node) or ""
                assert "Taught in" not in doc, (
                    f"{path.relative_to(ROOT)}: {node.name}'s docstring says "
                    "where it is taught; say it once, in the module docstring")
        doc = ast.get_docstring(tree) or ""
        assert doc.count("Taught in") <= 1, path.relative_to(ROOT)


def _public_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def _notebook_imports(nb):
    """(module, name) for every ``from module import name`` in code cells."""
    cells = json.loads((ROOT / nb).read_text(encoding="utf-8"))["cells"]
    found = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        lines = [line for line in "".join(cell["source"]).splitlines()
                 if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.update((node.module, a.name) for a in node.names)
            elif isinstance(node, ast.Import):
                found.update((a.name, None) for a in node.names)
    return found


def test_taught_in_names_notebooks_that_use_the_module():
    """A module's notebook imports it, or imports its names from its package."""
    for path, tree in _modules():
        doc = " ".join((ast.get_docstring(tree) or "").split())
        if "Taught in" not in doc:
            continue
        sentence = doc.split("Taught in", 1)[1].split(".ipynb")[0] + ".ipynb"
        named = re.findall(r"notebooks/[\w.-]+\.ipynb", sentence)
        where = path.relative_to(ROOT)
        assert named, f"{where}: 'Taught in' names no notebook"
        parts = where.with_suffix("").parts
        dotted = ".".join(p for p in parts if p != "__init__")
        parent, _, leaf = dotted.rpartition(".")
        public = _public_names(tree)
        for nb in named:
            assert (ROOT / nb).is_file(), f"{where} names {nb}"
            imports = _notebook_imports(nb)
            uses = any(module == dotted
                       or (module == parent and (name == leaf or name in public))
                       for module, name in imports)
            assert uses, (f"{where} says it is taught in {nb}, but no code "
                          f"cell there imports {dotted} or its names")
