"""Maintainer tools: clean execution and navigation cells."""

import json
import platform
from pathlib import Path

import nbformat
import pytest

from tests.tools import load_tool

ROOT = Path(__file__).resolve().parent.parent

execute_notebooks = load_tool("execute_notebooks")
make_nav = load_tool("make_nav")


def write_nb(path, *cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nbformat.write(nb, path)
    return path


def test_execute_strips_run_metadata_and_widget_views(tmp_path):
    path = write_nb(
        tmp_path / "a.ipynb",
        nbformat.v4.new_markdown_cell("# A"),
        nbformat.v4.new_code_cell("print(6 * 7)"),
        nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider()"),
    )
    path.chmod(0o644)
    assert execute_notebooks.main([str(path)]) == 0
    assert path.stat().st_mode & 0o777 == 0o644
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    # kept as the kernel reports it, so JupyterLab does not mark the file
    # changed just by opening it
    assert nb["metadata"]["language_info"]["version"] == platform.python_version()
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["outputs"][0]["text"]) == "42\n"
    assert all("execution" not in c["metadata"] for c in code)
    data = code[1]["outputs"][0]["data"]
    assert list(data) == ["text/plain"]
    assert "".join(data["text/plain"]) == execute_notebooks.WIDGET_NOTE
    # a second run gives the same bytes
    first = path.read_bytes()
    assert execute_notebooks.main([str(path)]) == 0
    assert path.read_bytes() == first


def test_clean_merges_neighbouring_streams_of_one_name():
    cell = nbformat.v4.new_code_cell("")
    stream = nbformat.v4.new_output
    cell.outputs = [stream("stream", name="stdout", text="a\n"),
                    stream("stream", name="stdout", text=["b\n", "c\n"]),
                    stream("stream", name="stderr", text="warn\n"),
                    stream("stream", name="stdout", text="d\n")]
    nb = execute_notebooks.clean(nbformat.v4.new_notebook(cells=[cell]))
    outs = nb.cells[0].outputs
    assert [(o["name"], "".join(o["text"])) for o in outs] == [
        ("stdout", "a\nb\nc\n"), ("stderr", "warn\n"), ("stdout", "d\n")]


def test_execute_never_writes_a_failed_run(tmp_path, capsys):
    path = write_nb(tmp_path / "b.ipynb",
                    nbformat.v4.new_code_cell("1 / 0"))
    before = path.read_bytes()
    assert execute_notebooks.main([str(path)]) == 1
    assert path.read_bytes() == before
    assert "not changed" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.tmp"))


def test_execute_rejects_a_path_that_is_not_a_notebook(tmp_path):
    with pytest.raises(SystemExit) as err:
        execute_notebooks.main([str(tmp_path / "missing.ipynb")])
    assert err.value.code == 2


def test_make_nav_links_neighbours_and_is_idempotent(tmp_path):
    for name, title in [("00_a", "00 Alpha"), ("01_b", "01 Beta"),
                        ("02_c", "02 Gamma")]:
        write_nb(tmp_path / f"{name}.ipynb",
                 nbformat.v4.new_markdown_cell(f"# {title}\n\ntext"),
                 nbformat.v4.new_code_cell("x = 1"))
    assert make_nav.main(["--dir", str(tmp_path), "--check"]) == 1
    assert make_nav.main(["--dir", str(tmp_path)]) == 0
    assert make_nav.main(["--dir", str(tmp_path), "--check"]) == 0
    nb = nbformat.read(tmp_path / "01_b.ipynb", as_version=4)
    top, bottom = nb.cells[0], nb.cells[-1]
    assert top.source == bottom.source
    assert "[00 Alpha](00_a.ipynb)" in top.source
    assert "[02 Gamma](02_c.ipynb)" in top.source
    assert nb.cells[1].source.startswith("# 01 Beta")
    first = nbformat.read(tmp_path / "00_a.ipynb", as_version=4).cells[0].source
    assert "Alpha" not in first and "02_c" not in first
    before = (tmp_path / "02_c.ipynb").read_bytes()
    make_nav.main(["--dir", str(tmp_path)])
    assert (tmp_path / "02_c.ipynb").read_bytes() == before
