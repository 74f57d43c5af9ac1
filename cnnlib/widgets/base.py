"""The one pattern every explorer follows.

An explorer is a pure ``render_*(**params) -> matplotlib.figure.Figure``
(unit-tested, called once in a plain notebook cell so the static output shows
a real figure) plus an ``explore_*()`` that wraps it with ipywidgets via
`explorer` below. ipywidgets is imported lazily, so ``render_*`` work
anywhere matplotlib does.
"""

import io

__all__ = ["explorer", "figure_png", "message_figure"]


def figure_png(fig):
    """PNG bytes of ``fig``, drawn once at its own layout and dpi.

    What an explorer shows on every slider move (and what
    benchmarks/bench_widgets.py times). The inline backend's
    ``bbox_inches='tight'`` would draw each frame twice while dragging.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def explorer(render, controls, title=None, columns=None):
    """Wrap ``render`` in a live widget: controls above, figure below.

    Parameters
    ----------
    render : callable
        ``render(**values) -> Figure``; called again whenever a control moves.
        If it raises ValueError, the message is shown in the widget (in red)
        instead of a traceback: a student's bad entry is not a crash.
    controls : dict of str -> ipywidgets.ValueWidget
        Keyword name -> control. Their values are passed to ``render``.
    title : str, optional
        A line of HTML shown above the controls.
    columns : int, optional
        Lay the controls out in rows of this many (default: one row).

    Returns
    -------
    ipywidgets.VBox
        With CSS class ``cnnlib-explorer`` (the browser tests look for it).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    message = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
    message.add_class("cnnlib-explorer-message")

    def show(**values):
        try:
            fig = render(**values)
        except ValueError as err:
            message.value = (
                f"<span style='color:#b00020'>{_escape(str(err))}</span>"
            )
            return
        message.value = ""
        png = figure_png(fig)
        plt.close(fig)
        display(Image(png))

    figure = widgets.interactive_output(show, controls)
    figure.add_class("cnnlib-explorer-figure")
    items = list(controls.values())
    if columns:
        rows = [widgets.HBox(items[i : i + columns])
                for i in range(0, len(items), columns)]
    else:
        rows = [widgets.HBox(items, layout=widgets.Layout(flex_flow="row wrap"))]
    head = [widgets.HTML(f"<b>{title}</b>")] if title else []
    box = widgets.VBox(head + rows + [message, figure])
    box.add_class("cnnlib-explorer")
    return box


def message_figure(text, figsize=(6, 1.2)):
    """A small figure that only says ``text`` (for impossible settings)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
