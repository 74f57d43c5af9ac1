"""A notebook holding every explorer of the course, for the browser tests.

Written fresh for each test run (into a temporary folder), so the layout,
keyboard, accessibility and latency tests do not depend on the teaching
notebooks' other cells, and run in seconds (no training: the digit
explorer gets an untrained LeNet-5, which costs the same to run).
"""

import nbformat

SETUP = """\
import numpy as np

from cnnlib.data import load_mnist
from cnnlib.model import lenet5
from cnnlib.widgets.backprop import explore_backprop_route
from cnnlib.widgets.channels import explore_channels
from cnnlib.widgets.connectivity import explore_connectivity
from cnnlib.widgets.convolution import explore_conv_arithmetic, explore_conv_step
from cnnlib.widgets.demo import explore_wave
from cnnlib.widgets.kernels import explore_kernel_editor
from cnnlib.widgets.nonlinearity import explore_activation, explore_collapse
from cnnlib.widgets.pooling import explore_pooling, explore_receptive_field
from cnnlib.widgets.prediction import explore_digit_prediction

X, y = load_mnist("subset", "test", dtype=np.float32, normalize=True)
digit = load_mnist("subset", "test", dtype="float64")[0][0, 0]
x8 = np.random.default_rng(0).integers(0, 10, size=(8, 8)).astype(float)
model = lenet5()
"""

# name -> the one line a notebook uses (same order as the course)
EXPLORERS = {
    "wave": "explore_wave()",
    "connectivity": "explore_connectivity()",
    "conv_step": "explore_conv_step()",
    "conv_arithmetic": "explore_conv_arithmetic()",
    "kernel_editor": "explore_kernel_editor()",
    "channels": "explore_channels()",
    "collapse": "explore_collapse(digit)",
    "activation": "explore_activation(digit)",
    "pooling": "explore_pooling(digit)",
    "receptive_field": "explore_receptive_field(digit)",
    "backprop": "explore_backprop_route(x8)",
    "digit_prediction": "explore_digit_prediction(model, X[:50], y[:50])",
}
# median control-to-figure latency asked for (reported, not asserted)
TARGET_S = {name: 0.15 for name in EXPLORERS}
TARGET_S["digit_prediction"] = 0.2


def write_gallery(path, names=None):
    """Write the gallery notebook (all explorers, or ``names``) to ``path``."""
    names = list(EXPLORERS) if names is None else list(names)
    cells = [nbformat.v4.new_code_cell(SETUP)]
    for name in names:
        cells.append(nbformat.v4.new_markdown_cell(f"## {name}"))
        cells.append(nbformat.v4.new_code_cell(EXPLORERS[name]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                 "language": "python", "name": "python3"}
    nbformat.write(nb, path)
    return names
