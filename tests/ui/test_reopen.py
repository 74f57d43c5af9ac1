"""A student's JupyterLab, set up as `make lab` sets it up (issue 16).

The server reads the repository's jupyter/overrides.json as its environment
defaults (as `make lab` installs it) and keeps JupyterLab's own defaults
otherwise: autosave on, no switches on the command line. Then:

- opening any committed notebook does not mark it changed (autosave would
  rewrite it: a student could not pull course updates without conflicts),
  and no news pop-up appears;
- run all, save, close, reopen: the explorers show their last figures from
  the saved widget state, never "Error displaying widget: model not found".

Known limit (jupyterlab_widgets 3.0, not ours): restoring saved widget
state marks the notebook changed (its manager calls setDirty when it
registers each saved model), so a notebook a student saved *after running
it* is marked changed when reopened. Committed notebooks hold no widget
state and open clean (first test). The reopen test records the flag in
build/ui-timings.json instead of asserting it.

Run: ``.venv/bin/python -m pytest tests/ui/test_reopen.py -k NAME``.
"""

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from gallery import write_gallery
from test_explorers import wait_kernel_idle
from test_jupyterlab import (
    NOTEBOOK_FILES,
    STATE_JS,
    WIDGETS_RENDERED_JS,
    click_menu,
    code_cells_nonempty,
    start_run_all,
    wait_state,
)

from conftest import REPO, LabServer, require_tools

pytestmark = pytest.mark.ui
OVERRIDES = REPO / "jupyter" / "overrides.json"
# user settings: only keep every cell in the DOM (for the checks); autosave
# and everything else stay as a student gets them
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}
SETTLE_S = 4  # after the kernel is idle: JupyterLab's metadata updates land

DIRTY_JS = """() => !!document.querySelector(
  '.lm-TabBar-tab.jp-mod-current.jp-mod-dirty, .jp-mod-current .jp-mod-dirty')"""
NEWS_JS = """() => [...document.querySelectorAll('.Toastify__toast, .jp-toast')]
  .map(t => t.innerText).filter(t => /news|update/i.test(t))"""


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def student_lab():
    """(server, root): the committed notebooks copied into a temporary
    folder, served with the project's overrides.json."""
    require_tools()
    with tempfile.TemporaryDirectory(prefix="cnnlib-reopen-") as tmp:
        tmp = Path(tmp)
        root, app_settings = tmp / "root", tmp / "app-settings"
        root.mkdir()
        app_settings.mkdir()
        shutil.copy(OVERRIDES, app_settings / "overrides.json")
        for nb in NOTEBOOK_FILES:
            shutil.copy(nb, root / nb.name)
        write_gallery(root / "explorers.ipynb", ["wave", "conv_arithmetic",
                                                 "channels", "backprop"])
        server = LabServer(root, tmp, lab_settings=USER_SETTINGS,
                           app_settings_dir=app_settings, stock=True)
        try:
            server.wait_ready()
            yield server, root
        finally:
            server.stop()


def open_notebook(browser, server, name, workspace):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    writes = []
    page.on("request", lambda r: r.method in ("PUT", "PATCH", "POST")
            and "/api/contents" in r.url and "/checkpoints" not in r.url
            and writes.append(f"{r.method} {r.url.split('?')[0]}"))
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{name}"
              f"?token={server.token}&reset")
    wait_kernel_idle(page)
    time.sleep(SETTLE_S)
    return page, writes


@pytest.mark.parametrize("nb_path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_opening_a_notebook_does_not_change_it(nb_path, student_lab,
                                               browser):
    server, root = student_lab
    before = sha256(root / nb_path.name)
    page, writes = open_notebook(browser, server, nb_path.name,
                                 f"open-{nb_path.stem}")
    try:
        dirty = page.evaluate(DIRTY_JS)
        news = page.evaluate(NEWS_JS)
    finally:
        page.context.close()
        server.shutdown_kernels()
    assert not dirty, (
        f"{nb_path.name} is marked changed just by opening it (autosave "
        "would rewrite it): re-execute it with tools/execute_notebooks.py so "
        "its language_info matches the kernel's")
    assert not writes and sha256(root / nb_path.name) == before, writes
    assert not news, f"news / update pop-up shown: {news}"


@pytest.mark.parametrize("name", ["00_setup_check.ipynb", "explorers.ipynb"])
def test_run_save_close_reopen_shows_figures(name, student_lab, browser,
                                             ui_screenshots, ui_timings):
    server, root = student_lab
    path = root / name
    nonempty, _ = code_cells_nonempty(path)
    page, _ = open_notebook(browser, server, name, "run")
    try:
        start_run_all(page, nonempty)
        state = wait_state(
            page, nonempty, lambda s: s["running"] == 0
            and (not s["unnumbered"] or s["bad"]), 300, f"Run All of {name}")
        assert not state["bad"], state["bad"]
        page.wait_for_function(WIDGETS_RENDERED_JS, timeout=30_000)
        n_explorers = page.locator(".cnnlib-explorer").count()
        assert n_explorers, "no explorer ran"
        click_menu(page, "File", "docmanager:save")
        page.wait_for_function(f"!({DIRTY_JS})()", timeout=20_000)
    finally:
        page.context.close()
        server.shutdown_kernels()  # closed: the kernel is gone
    saved = sha256(path)

    page, writes = open_notebook(browser, server, name, "reopen")
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.cnnlib-explorer').length === n",
            arg=n_explorers, timeout=30_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.cnnlib-explorer')].every("
            "e => e.querySelector('.cnnlib-explorer-figure img'))",
            timeout=30_000)
        state = page.evaluate(STATE_JS, nonempty)
        page.locator(".cnnlib-explorer").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ui_screenshots / f"reopened__{path.stem}.png"))
        dirty = page.evaluate(DIRTY_JS)
    finally:
        page.context.close()
        server.shutdown_kernels()
    assert not state["widgetText"], state["widgetText"]  # no "model not found"
    ui_timings.setdefault("reopen", {})[name] = {
        "explorers_with_figures": n_explorers,
        "marked_changed_after_reopen": dirty,
        "file_written_while_open": bool(writes) or sha256(path) != saved}
