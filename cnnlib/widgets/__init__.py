"""Interactive explorers, one module per topic.

Each explorer is a pure ``render_*`` function returning a matplotlib figure
and a one-line ``explore_*`` ipywidgets wrapper (see `cnnlib.widgets.base`).
Import from the topic module, e.g.
``from cnnlib.widgets.convolution import explore_conv_arithmetic``.
"""
