"""Every notebook, run in real JupyterLab in a headless chromium.

For each ``notebooks/*.ipynb``: open it, clear the saved outputs, Run All
from the menu, wait for the last cell, and check that no cell wrote an error
or stderr, that no widget is left as text ("Loading widget...", "Error
displaying widget", a text fallback), that every interactive explorer
(``.cnnlib-explorer``) redraws its figure when each control moves (sliders
by keyboard, dropdowns, toggle buttons, checkboxes) with a readout that
matches the slider, and that the file on disk is byte-identical afterwards.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python -m pytest tests/ui -q``.
See conftest.py for requirements, screenshots and timings.
"""

import hashlib
import json
import os
import statistics
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("CNNLIB_UI_NOTEBOOKS", REPO / "notebooks"))
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
RUN_TIMEOUT_S = float(os.environ.get("CNNLIB_UI_RUN_TIMEOUT", 300))
CONTROL_TIMEOUT_MS = 15_000

pytestmark = pytest.mark.ui

# State of the open notebook, read in one round trip. ``nonempty`` says which
# code cells have source (JupyterLab does not number empty cells).
STATE_JS = r"""
(nonempty) => {
  const WIDGET_TEXT = [/Loading widget\.\.\.|Error displaying widget/,
    /run this cell in JupyterLab|^\w*(Box|interactive|Slider|Output)\(/];
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const nb = document.querySelector(panel + '.jp-Notebook');
  const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(e => e.innerText.trim());
  const indicator = document.querySelector(
    panel + '.jp-Notebook-ExecutionIndicator');
  const outputs = [...nb.querySelectorAll('.jp-OutputArea-output')];
  const bad = outputs
    .filter(e => /stderr|error/.test(e.dataset.mimeType || ''))
    .map(e => e.innerText.slice(0, 2000));
  const widgetText = outputs.map(e => e.innerText)
    .filter(t => WIDGET_TEXT.some(r => r.test(t))).map(t => t.slice(0, 300));
  const unnumbered = prompts
    .map((p, i) => [p, i])
    .filter(([p, i]) => nonempty[i] && !/^\[\d+\]:?$/.test(p))
    .map(([p, i]) => i);
  return {
    running: prompts.filter(p => p.includes('*')).length,
    unnumbered, bad, widgetText, outputs: outputs.length,
    status: indicator ? indicator.dataset.status : null,
  };
}
"""

WIDGETS_RENDERED_JS = """
() => [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type*="widget-view"]')]
  .every(o => o.querySelector('.jupyter-widgets'))
"""

# Has the explorer redrawn: a figure <img> or a message element that we have
# not marked yet? 'figure', 'message' (render raised ValueError) or null.
CHANGED_JS = """
(ex) => {
  const fresh = [...ex.querySelectorAll('.cnnlib-explorer-message *')]
    .filter(e => !e.dataset.uiOld && e.innerText.trim());
  if (fresh.length) return 'message';
  const imgs = [...ex.querySelectorAll('.cnnlib-explorer-figure img')];
  if (imgs.length && imgs.every(i => !i.dataset.uiOld && i.complete))
    return 'figure';
  return null;
}
"""


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code_cells_nonempty(path):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        bool("".join(c["source"]).strip())
        for c in nb["cells"] if c["cell_type"] == "code"
    ], len(nb["cells"])


def open_notebook(page, server, name, n_cells, workspace=None):
    """Open notebook ``name`` (reset layout); wait for its kernel and cells.

    ``workspace`` gives it a workspace of its own, so tabs and widgets of
    earlier pages do not pile up.
    """
    where = f"workspaces/{workspace}/tree" if workspace else "tree"
    page.goto(f"{server.url}/lab/{where}/{name}?token={server.token}&reset")
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-Notebook .jp-Cell').length === n",
        arg=n_cells, timeout=60_000)


def click_menu(page, menu, command, timeout_s=20):
    """Click ``menu`` in the menu bar, then its item ``command`` once enabled.

    Menu items are disabled (class, not attribute) while the notebook or its
    kernel is not ready; clicking one then silently does nothing.
    """
    item = page.locator(f".lm-Menu-item[data-command='{command}']")
    deadline = time.monotonic() + timeout_s
    while True:
        page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        item.wait_for(state="visible")
        if "lm-mod-disabled" not in (item.get_attribute("class") or ""):
            item.click()
            return
        page.keyboard.press("Escape")
        if time.monotonic() > deadline:
            pytest.fail(f"menu {menu} > {command} stayed disabled", pytrace=False)
        time.sleep(0.3)


def start_run_all(page, nonempty, attempts=3):
    """Click Run > Run All Cells until the run visibly starts.

    A click right after the page settles is occasionally lost; with cleared
    outputs a started run shows "[*]" prompts or numbered cells.
    """
    for attempt in range(attempts):
        if attempt:
            print(f"\nRun All did not start; click {attempt + 1}")
        click_menu(page, "Run", "runmenu:run-all")
        # Queued cells show "[*]" at once, so a few seconds is plenty.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            s = page.evaluate(STATE_JS, nonempty)
            if s["running"] or len(s["unnumbered"]) < sum(nonempty):
                return
            time.sleep(0.1)
    pytest.fail(f"Run All did not start after {attempts} clicks", pytrace=False)


def wait_state(page, nonempty, done, timeout_s, what):
    """Poll the notebook state until ``done(state)``; fail after timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = page.evaluate(STATE_JS, nonempty)
        if done(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}; "
                        f"last state {state}", pytrace=False)
        time.sleep(0.2)


def figure_src(ex):
    return ex.locator(".cnnlib-explorer-figure img").evaluate_all(
        "els => els.map(e => e.src).join('|')"
    )


def act_and_wait(page, ex, action):
    """Mark the current figure, do ``action()``, wait for a redraw.

    Returns (outcome, latency_s) with outcome 'figure' or 'message'.
    """
    ex.locator(".cnnlib-explorer-figure img, .cnnlib-explorer-message *"
               ).evaluate_all("els => els.forEach(e => { e.dataset.uiOld = '1'; })")
    t0 = time.perf_counter()
    action()
    handle = ex.element_handle()
    page.wait_for_function(CHANGED_JS, arg=handle, timeout=CONTROL_TIMEOUT_MS)
    latency = time.perf_counter() - t0
    return page.evaluate(CHANGED_JS, handle), latency


def readout_matches(readout, value):
    """Does a slider's readout text show ``value`` (to its own precision)?"""
    try:
        shown = float(readout.replace("\u2212", "-"))
    except ValueError:
        return False
    decimals = len(readout.split(".")[1]) if "." in readout else 0
    return abs(shown - value) <= 0.51 * 10.0 ** -decimals + 1e-12


SLIDER_JS = """
(el) => {
  const api = el.querySelector('.noUi-target').noUiSlider;
  const value = api.get(true);
  return {value: Array.isArray(value) ? value[0] : value,
          step: api.options.step, min: api.options.range.min,
          max: api.options.range.max};
}
"""


def exercise_slider(page, ex, slider, label):
    """ArrowRight on the handle (ArrowLeft at the maximum, or if the step
    right is an impossible setting that shows a message): the figure must
    change and the readout must show the new value."""
    handle = slider.locator(".noUi-handle").first
    readout = slider.locator(".widget-readout")
    failures, latencies = [], []
    start = slider.evaluate(SLIDER_JS)
    at_max = start["value"] + start["step"] > start["max"] + 1e-9
    keys = ["ArrowLeft"] if at_max else ["ArrowRight", "ArrowLeft"]
    outcome = None
    for key in keys:
        before = slider.evaluate(SLIDER_JS)["value"]
        old_src = figure_src(ex)
        handle.focus()
        outcome, latency = act_and_wait(page, ex, lambda k=key: page.keyboard.press(k))
        value = round(slider.evaluate(SLIDER_JS)["value"], 9)
        moved = value - before
        if abs(abs(moved) - start["step"]) > 1e-6 * max(1, start["step"]):
            failures.append(f"{label}: {key} moved the value by {moved}, "
                            f"not one step of {start['step']}")
            break
        if readout.count() and readout.first.is_visible():
            text = readout.first.inner_text().strip()
            if not readout_matches(text, value):
                failures.append(f"{label}: readout {text!r} != value {value}")
        if outcome == "figure":
            latencies.append(latency)
            if figure_src(ex) == old_src:
                failures.append(f"{label}: figure redrawn but unchanged after "
                                f"{key} ({before} -> {value})")
            break
        if key == "ArrowRight":
            # The step right is an impossible setting: go back first.
            handle.focus()
            act_and_wait(page, ex, lambda: page.keyboard.press("ArrowLeft"))
    if outcome != "figure":
        msg = ex.locator(".cnnlib-explorer-message").inner_text()
        failures.append(f"{label}: no new figure in either direction ({msg!r})")
    return failures, latencies


def exercise_choice(page, ex, label, actions, may_be_identical=False):
    """Try ``actions`` in turn until one redraws a different figure.

    ``may_be_identical``: a redraw with an identical picture also passes (a
    checkbox can be a no-op at some settings, e.g. "positive part only" for
    a kernel whose response is never negative).
    """
    latencies, identical = [], False
    for action in actions:
        old_src = figure_src(ex)
        outcome, latency = act_and_wait(page, ex, action)
        if outcome == "figure":
            latencies.append(latency)
            if figure_src(ex) != old_src:
                return [], latencies
            identical = True
    if identical and may_be_identical:
        print(f"\nnote: {label}: figure redrawn but identical")
        return [], latencies
    what = "redrew an identical figure" if identical else "drew no new figure"
    return [f"{label}: every choice tried {what}"], latencies


def exercise_explorer(page, ex, name):
    """Move every control of one explorer; return (failures, latencies, n)."""
    failures, latencies, n = [], [], 0
    sliders = ex.locator(".widget-slider")
    for i in range(sliders.count()):
        n += 1
        desc = sliders.nth(i).locator(".widget-label").first.inner_text()
        f, lat = exercise_slider(page, ex, sliders.nth(i),
                                 f"{name} slider {i} {desc!r}")
        failures += f
        latencies += lat
    dropdowns = ex.locator(".widget-dropdown select")
    for i in range(dropdowns.count()):
        n += 1
        sel = dropdowns.nth(i)
        options = sel.locator("option").evaluate_all("os => os.map(o => o.value)")
        current = sel.input_value()
        others = [o for o in options if o != current][:3]
        f, lat = exercise_choice(page, ex, f"{name} dropdown {i}", [
            (lambda o=o: sel.select_option(o)) for o in others])
        failures += f
        latencies += lat
    toggles = ex.locator(".widget-toggle-buttons")
    for i in range(toggles.count()):
        n += 1
        buttons = toggles.nth(i).locator("button:not(.mod-active)")
        actions = [(lambda b=buttons.nth(j): b.click())
                   for j in range(min(3, buttons.count()))]
        f, lat = exercise_choice(page, ex, f"{name} toggle buttons {i}", actions)
        failures += f
        latencies += lat
    boxes = ex.locator(".widget-checkbox input[type=checkbox]")
    for i in range(boxes.count()):
        n += 1
        f, lat = exercise_choice(page, ex, f"{name} checkbox {i}",
                                 [lambda b=boxes.nth(i): b.click()],
                                 may_be_identical=True)
        failures += f
        latencies += lat
    return failures, latencies, n


@pytest.mark.parametrize("nb_path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_notebook_in_jupyterlab(nb_path, lab_server, lab_page, ui_timings,
                                ui_screenshots):
    page = lab_page
    before = sha256(nb_path)
    files_before = set(NOTEBOOKS.iterdir())
    nonempty, n_cells = code_cells_nonempty(nb_path)
    timing = ui_timings["notebooks"].setdefault(nb_path.name, {})
    name = nb_path.stem
    for pattern in (f"{name}__explorer*.png", f"FAILED__*{name}*.png"):
        for old_shot in ui_screenshots.glob(pattern):
            old_shot.unlink()

    # Every request that could change a file (checkpoints, which this
    # server keeps in a temporary folder, excepted).
    writes = []
    page.on("request", lambda r: r.method in ("PUT", "PATCH", "POST", "DELETE")
            and "/api/contents" in r.url and "/checkpoints" not in r.url
            and writes.append(f"{r.method} {r.url.split('?')[0]}"))
    t0 = time.perf_counter()
    open_notebook(page, lab_server, nb_path.name, n_cells)
    timing["open_s"] = round(time.perf_counter() - t0, 2)

    # Clear the saved outputs first, so that everything checked below was
    # produced by this run (and "[ ]" prompts tell unrun cells apart).
    click_menu(page, "Edit", "editmenu:clear-all")
    wait_state(page, nonempty, lambda s: s["outputs"] == 0, 10, "outputs to clear")
    t0 = time.perf_counter()
    start_run_all(page, nonempty)
    state = wait_state(
        page, nonempty,
        lambda s: s["running"] == 0 and s["status"] == "idle"
        and (not s["unnumbered"] or s["bad"]),
        RUN_TIMEOUT_S, f"Run All of {nb_path.name}")
    timing["run_all_s"] = round(time.perf_counter() - t0, 2)

    assert not state["bad"], (
        f"{nb_path.name}: error or stderr output after Run All:\n"
        + "\n---\n".join(state["bad"]))
    assert not state["unnumbered"], (
        f"{nb_path.name}: code cells {state['unnumbered']} did not run")

    # Widget views render just after their cell finishes: wait until every
    # widget output holds a rendered widget before counting explorers.
    try:
        page.wait_for_function(WIDGETS_RENDERED_JS, timeout=20_000)
    except Exception:
        pass  # reported below as widgets shown as text / missing figures
    failures = []
    explorers = page.locator(".cnnlib-explorer")
    timing["explorers"] = []
    for k in range(explorers.count()):
        ex = explorers.nth(k)
        ex.scroll_into_view_if_needed()
        label = f"{nb_path.name} explorer {k}"
        try:
            page.wait_for_function(
                "ex => [...ex.querySelectorAll('.cnnlib-explorer-figure img')]"
                ".some(i => i.complete)", arg=ex.element_handle(),
                timeout=CONTROL_TIMEOUT_MS)
        except Exception:
            failures.append(f"{label}: no figure shown")
            continue
        msg = ex.locator(".cnnlib-explorer-message").inner_text().strip()
        if msg:
            failures.append(f"{label}: message at its defaults: {msg!r}")
        f, latencies, n_controls = exercise_explorer(page, ex, label)
        failures += f
        shot = ui_screenshots / f"{name}__explorer{k}.png"
        ex.screenshot(path=str(shot))
        timing["explorers"].append({
            "index": k,
            "controls": n_controls,
            "latencies_s": [round(t, 3) for t in latencies],
            "median_latency_s": round(statistics.median(latencies), 3)
            if latencies else None,
            "screenshot": str(shot.relative_to(REPO)),
        })

    state = page.evaluate(STATE_JS, nonempty)
    assert not state["widgetText"], (
        f"{nb_path.name}: widgets shown as text: {state['widgetText']}")
    assert not state["bad"], (
        f"{nb_path.name}: error output while using the explorers:\n"
        + "\n---\n".join(state["bad"]))
    assert not failures, "\n".join(failures)

    page.context.close()
    lab_server.shutdown_kernels()
    assert not writes, f"JupyterLab wrote to the server's files: {writes}"
    assert sha256(nb_path) == before, (
        f"{nb_path.name} changed on disk during the test, although the browser "
        f"sent no write request: another process rewrote it")
    # Not a failure (other notebooks may be written meanwhile), but a notebook
    # that leaves files next to itself litters a student's clone.
    new_files = sorted(p.name for p in set(NOTEBOOKS.iterdir()) - files_before)
    if new_files:
        timing["new_files"] = new_files
        print(f"\nWARNING: {nb_path.name} left new files in {NOTEBOOKS}: "
              f"{new_files}")
