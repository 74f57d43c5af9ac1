"""The one pattern every explorer follows.

An explorer is a pure ``render_*(**params) -> matplotlib.figure.Figure``
(unit-tested, called once in a plain notebook cell so the static output shows
a real figure) plus an ``explore_*()`` that wraps it with ipywidgets via
`explorer` below. ipywidgets is imported lazily, so ``render_*`` work
anywhere matplotlib does.

Rules every explorer figure keeps (tests/test_widgets_*.py check them):
drawn at `DPI`, no text smaller than `MIN_FONT_PT` (10 px on screen at
100% zoom), and nothing told by hue alone.

The machinery every explorer shares, not taught on its own.
"""

import io

__all__ = ["DPI", "MIN_FONT_PT", "CONTROL_WIDTH", "explorer", "figure_png",
           "message_figure", "control_layout", "render_frame",
           "smallest_font_px"]

# 100 dpi and 7.5 pt: the smallest text is 7.5 * 100 / 72 = 10.4 px.
DPI = 100
MIN_FONT_PT = 7.5
# Every control gets this width and never shrinks: a slider's track is the
# width minus its label and readout (>= 150 px); rows wrap instead.
CONTROL_WIDTH = "330px"

_STALE_NOTE = ("<i style='color:#555'>(no figure for these settings: see "
               "the message above)</i>")

# Accessible names: ipywidgets gives a slider handle, a toggle group and a
# text box no name a screen reader can read. This script (run once per page)
# names each control of a cnnlib explorer after its tooltip or label.
_A11Y_JS = r"""
(function () {
  if (window.cnnlibA11y) { window.cnnlibA11y(); return; }
  const nameOf = (el) => {
    const label = el.querySelector(':scope > .widget-label');
    return ((label && (label.title || label.textContent)) || el.title || '')
      .trim();
  };
  const run = () => document.querySelectorAll('.cnnlib-explorer')
    .forEach((ex) => {
      ex.querySelectorAll('.widget-slider').forEach((s) => {
        const name = nameOf(s);
        s.querySelectorAll('.noUi-handle').forEach((h) => {
          if (name && h.getAttribute('aria-label') !== name)
            h.setAttribute('aria-label', name);
        });
      });
      ex.querySelectorAll('.widget-toggle-buttons').forEach((g) => {
        const name = nameOf(g);
        if (name && g.getAttribute('aria-label') !== name) {
          g.setAttribute('role', 'radiogroup');
          g.setAttribute('aria-label', name);
        }
        g.querySelectorAll('button').forEach((b) => {
          const on = String(b.classList.contains('mod-active'));
          if (b.getAttribute('aria-pressed') !== on)
            b.setAttribute('aria-pressed', on);
        });
      });
      ex.querySelectorAll('.widget-dropdown, .widget-text, .widget-textarea')
        .forEach((w) => {
          const name = nameOf(w);
          const input = w.querySelector('select, input, textarea');
          if (input && name && input.getAttribute('aria-label') !== name)
            input.setAttribute('aria-label', name);
        });
    });
  let queued = false;
  window.cnnlibA11y = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; run(); });
  };
  new MutationObserver(window.cnnlibA11y).observe(
    document.body, {childList: true, subtree: true, attributes: true,
                    attributeFilter: ['class']});
  window.cnnlibA11y();
})();
"""


def figure_png(fig):
    """PNG bytes of ``fig``, drawn once at its own layout and dpi.

    What an explorer shows on every slider move (and what
    benchmarks/bench_widgets.py times). The inline backend's
    ``bbox_inches='tight'`` would draw each frame twice while dragging.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def render_frame(render, values):
    """One explorer frame: ``(png, None)``, or ``(None, message)`` when
    ``render(**values)`` raises ValueError (an impossible setting)."""
    import matplotlib.pyplot as plt

    try:
        fig = render(**values)
    except ValueError as err:
        return None, str(err)
    png = figure_png(fig)
    plt.close(fig)
    return png, None


def control_layout(width=CONTROL_WIDTH):
    """Layout for one control: fixed width, never squeezed by its row."""
    import ipywidgets as widgets

    return widgets.Layout(width=width, flex="0 0 auto")


def explorer(render, controls, title=None, columns=None):
    """Wrap ``render`` in a live widget: controls above, figure below.

    Parameters
    ----------
    render : callable
        ``render(**values) -> Figure``; called again whenever a control moves.
        If it raises ValueError, the message is shown in the widget (in red)
        and the old figure is replaced by a note, so the picture never
        contradicts the controls.
    controls : dict of str -> ipywidgets.ValueWidget
        Keyword name -> control. Their values are passed to ``render``. Each
        gets a fixed width (`CONTROL_WIDTH`, unless its layout sets one) and
        the rows wrap on narrow screens; give each a ``tooltip`` saying what
        it changes: it becomes the control's accessible name.
    title : str, optional
        A line of HTML shown above the controls.
    columns : int, optional
        Group the controls in rows of this many (each row still wraps).

    Returns
    -------
    ipywidgets.VBox
        With CSS class ``cnnlib-explorer`` (the browser tests look for it).
    """
    import ipywidgets as widgets
    from IPython.display import HTML, Image, Javascript, clear_output, display

    message = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
    message.add_class("cnnlib-explorer-message")

    def show(**values):
        png, error = render_frame(render, values)
        message.value = (f"<span style='color:#b00020'>{_escape(error)}</span>"
                         if error else "")
        if png is None:  # never leave a figure the controls contradict
            clear_output()
            display(HTML(_STALE_NOTE))
        else:
            display(Image(png))

    for control in controls.values():
        if control.layout.width is None:
            control.layout.width = CONTROL_WIDTH
        control.layout.flex = "0 0 auto"
        if hasattr(control, "style") and hasattr(control.style,
                                                 "description_width"):
            control.style.description_width = "initial"  # labels never cut
    figure = widgets.interactive_output(show, controls)
    figure.add_class("cnnlib-explorer-figure")
    items = list(controls.values())
    step = columns or len(items)
    wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
    rows = [widgets.HBox(items[i: i + step], layout=wrap)
            for i in range(0, len(items), step)]
    head = [widgets.HTML(f"<b>{title}</b>")] if title else []
    box = widgets.VBox(head + rows + [message, figure])
    box.add_class("cnnlib-explorer")
    display(Javascript(_A11Y_JS))
    return box


def message_figure(text, figsize=(6, 1.2)):
    """A small figure that only says ``text`` (for impossible settings)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI)
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True,
             fontsize=10)
    return fig


def smallest_font_px(fig):
    """Smallest text in ``fig`` in screen pixels at 100% zoom.

    Counts Text artists (titles, tick labels, legends, colour bars) and
    the outlined labels of `cnnlib.plotting.cell_text`. Used by the tests:
    every explorer figure must give at least 10.
    """
    from ..plotting.cell_text import CellText

    sizes = []
    for text in fig.findobj(lambda a: hasattr(a, "get_fontsize")
                            and hasattr(a, "get_text")):
        if text.get_visible() and text.get_text().strip():
            sizes.append(text.get_fontsize())
    for labels in fig.findobj(CellText):
        if labels.get_visible() and any(t.strip() for t in labels.get_texts()):
            sizes.append(labels.fontsize)
    if not sizes:
        return float("inf")
    return min(sizes) * fig.dpi / 72


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
