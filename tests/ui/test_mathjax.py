"""No notebook shows a MathJax error in JupyterLab (issue 14, issue 16).

Each committed notebook is opened (not run: markdown renders on opening),
MathJax is given time to typeset every formula, then the page must hold no
``mjx-merror`` element and no "Math input error" text. A formula broken by
a control character (a ``\\f`` of ``\\frac`` written as a form feed) or a
bad macro fails here with the formula's source.

Run: ``.venv/bin/python -m pytest tests/ui/test_mathjax.py -k 06``.
"""

import time

import pytest
from test_jupyterlab import NOTEBOOK_FILES, code_cells_nonempty, open_notebook

pytestmark = pytest.mark.ui

# formulas typeset so far, and every MathJax error with its message
MATH_JS = r"""
() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const errors = [...document.querySelectorAll(panel + 'mjx-merror')]
    .map(e => e.getAttribute('data-mjx-error') || e.getAttribute('title')
              || e.textContent);
  const text = [...document.querySelectorAll(panel + '.jp-RenderedMarkdown')]
    .filter(e => e.innerText.includes('Math input error'))
    .map(e => e.innerText.slice(0, 200));
  const typeset = document.querySelectorAll(panel + 'mjx-container').length;
  const raw = [...document.querySelectorAll(panel + '.jp-RenderedMarkdown')]
    .filter(e => /\$[^$]*\\(frac|sum|partial)/.test(e.innerText)).length;
  return {errors, text, typeset, raw};
}
"""


@pytest.mark.parametrize("nb_path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_no_mathjax_errors(nb_path, lab_server, lab_page):
    page = lab_page
    _, n_cells = code_cells_nonempty(nb_path)
    open_notebook(page, lab_server, nb_path.name, n_cells,
                  f"math-{nb_path.stem}")
    # typesetting is asynchronous: wait until the count of typeset
    # formulas stops changing (and no formula is left as raw TeX)
    last, stable_since, deadline = -1, time.monotonic(), time.monotonic() + 60
    while time.monotonic() < deadline:
        state = page.evaluate(MATH_JS)
        if state["typeset"] != last:
            last, stable_since = state["typeset"], time.monotonic()
        elif time.monotonic() - stable_since > 3 and not state["raw"]:
            break
        time.sleep(0.5)
    state = page.evaluate(MATH_JS)
    assert not state["errors"] and not state["text"], (
        f"{nb_path.name}: MathJax errors {state['errors']} in "
        f"{state['text']}")
