"""Notebook 08's explorers in real JupyterLab (headless chromium).

Runs notebooks/08_upsampling_and_autoencoders.ipynb top to bottom (it trains
three small autoencoders and a LeNet-5: a few minutes on a busy machine),
then drives its two explorers: every slider of the transposed-convolution
arithmetic explorer must redraw the figure (or, for an impossible setting,
show the explanation instead of a traceback), and the latent explorer's
``t`` slider is moved step by step, each move timed from key press to new
figure. Latencies are printed and saved in build/ui-timings.json (the target
is under 150 ms per redraw; timing is measured, not asserted).

Run alone: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python -m pytest
tests/ui/test_notebook08.py -q -s``. Uses the fixtures of conftest.py and the
helpers of test_jupyterlab.py.
"""

import statistics
import time

import pytest
import test_jupyterlab as lab

NOTEBOOK = lab.NOTEBOOKS / "08_upsampling_and_autoencoders.ipynb"
RUN_TIMEOUT_S = max(lab.RUN_TIMEOUT_S, 900)

pytestmark = pytest.mark.ui


def move_slider(page, ex, slider, key, times):
    """Press ``key`` on a slider ``times`` times; each must redraw a new figure.

    Returns (failures, latencies in seconds).
    """
    handle = slider.locator(".noUi-handle").first
    failures, latencies = [], []
    for i in range(times):
        old = lab.figure_src(ex)
        handle.focus()
        outcome, latency = lab.act_and_wait(page, ex, lambda: page.keyboard.press(key))
        if outcome != "figure":
            msg = ex.locator(".cnnlib-explorer-message").inner_text()
            failures.append(f"move {i} ({key}): no figure, message {msg!r}")
        elif lab.figure_src(ex) == old:
            failures.append(f"move {i} ({key}): figure unchanged")
        else:
            latencies.append(latency)
    return failures, latencies


def test_notebook08_explorers(lab_server, lab_page, ui_timings, ui_screenshots):
    page = lab_page
    before = lab.sha256(NOTEBOOK)
    nonempty, n_cells = lab.code_cells_nonempty(NOTEBOOK)
    timing = ui_timings["notebooks"].setdefault("08 explorers", {})
    lab.open_notebook(page, lab_server, NOTEBOOK.name, n_cells, "nb08")
    lab.click_menu(page, "Edit", "editmenu:clear-all")
    lab.wait_state(page, nonempty, lambda s: s["outputs"] == 0, 10,
                   "outputs to clear")
    t0 = time.perf_counter()
    lab.start_run_all(page, nonempty)
    state = lab.wait_state(
        page, nonempty,
        lambda s: s["running"] == 0 and s["status"] == "idle"
        and (not s["unnumbered"] or s["bad"]),
        RUN_TIMEOUT_S, "Run All of notebook 08")
    timing["run_all_s"] = round(time.perf_counter() - t0, 2)
    assert not state["bad"], "error or stderr output:\n" + "\n---\n".join(state["bad"])
    assert not state["unnumbered"], f"cells {state['unnumbered']} did not run"
    page.wait_for_function(lab.WIDGETS_RENDERED_JS, timeout=20_000)

    explorers = page.locator(".cnnlib-explorer")
    assert explorers.count() == 2, "expected the arithmetic and latent explorers"
    arithmetic, latent = explorers.nth(0), explorers.nth(1)
    assert "Transposed convolution" in arithmetic.inner_text()
    assert "Walk between two digits" in latent.inner_text()

    # 1. Arithmetic explorer: every slider redraws (8 sliders).
    arithmetic.scroll_into_view_if_needed()
    failures, lat_arith, n = lab.exercise_explorer(page, arithmetic, "arithmetic")
    assert n == 8
    # An impossible setting explains itself: output_padding 1 with stride 1.
    sliders = arithmetic.locator(".widget-slider")
    labels = [sliders.nth(i).locator(".widget-label").first.inner_text()
              for i in range(sliders.count())]
    stride = sliders.nth(labels.index("stride"))
    out_pad = sliders.nth(labels.index("output_padding"))
    for slider, key in ((stride, "ArrowLeft"), (stride, "ArrowLeft"),
                        (out_pad, "ArrowRight")):
        slider.locator(".noUi-handle").first.focus()
        outcome, _ = lab.act_and_wait(page, arithmetic,
                                      lambda k=key: page.keyboard.press(k))
    assert outcome == "message"
    message = arithmetic.locator(".cnnlib-explorer-message").inner_text()
    assert "output_padding must be smaller than stride or dilation" in message
    arithmetic.screenshot(path=str(ui_screenshots / "08__arithmetic_message.png"))

    # 2. Latent explorer: move t across the walk, every move timed.
    latent.scroll_into_view_if_needed()
    latent_sliders = latent.locator(".widget-slider")
    t_index = [latent_sliders.nth(i).locator(".widget-label").first.inner_text()
               for i in range(latent_sliders.count())].index("t (A to B)")
    t_slider = latent_sliders.nth(t_index)
    f1, lat_up = move_slider(page, latent, t_slider, "ArrowRight", 6)
    f2, lat_down = move_slider(page, latent, t_slider, "ArrowLeft", 6)
    f3, lat_digit = move_slider(page, latent, latent_sliders.nth(0), "ArrowRight", 3)
    failures += [f"latent {f}" for f in f1 + f2 + f3]
    latent.screenshot(path=str(ui_screenshots / "08__latent.png"))
    lat_latent = lat_up + lat_down + lat_digit

    timing["arithmetic_latencies_s"] = [round(t, 3) for t in lat_arith]
    timing["latent_latencies_s"] = [round(t, 3) for t in lat_latent]
    for name, lat in (("arithmetic", lat_arith), ("latent", lat_latent)):
        if lat:
            print(f"\n{name} explorer: {len(lat)} redraws, median "
                  f"{1e3 * statistics.median(lat):.0f} ms, max {1e3 * max(lat):.0f} ms")
    state = page.evaluate(lab.STATE_JS, nonempty)
    assert not state["bad"], "error output while using the explorers:\n" + \
        "\n---\n".join(state["bad"])
    assert not state["widgetText"], f"widgets shown as text: {state['widgetText']}"
    assert not failures, "\n".join(failures)
    assert lab.sha256(NOTEBOOK) == before, "the notebook changed on disk"
