"""How long each explorer takes to redraw: build the figure and render the PNG.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_widgets.py [--repeat 7]
    python benchmarks/bench_widgets.py --only kernel

That is what a student waits for after moving a slider: the figure is built
and rendered to PNG the way the notebook's inline backend does it, then the
front end only swaps an image. Targets: < 100 ms for an explorer on a 28x28
digit or a small grid, < 300 ms for one on the photograph.

To add an explorer, append a ``Case`` to ``CASES`` (below the marker): a
name, a zero-argument callable returning a matplotlib Figure, and its target
in milliseconds. Each case runs once to warm up (imports, data loading,
caches), then ``--repeat`` times; the median is reported.
"""

import argparse
import statistics
import sys
import time
from collections import namedtuple
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

Case = namedtuple("Case", ["name", "render", "target_ms"])


def _connectivity():
    from cnnlib.widgets.connectivity import render_connectivity

    return render_connectivity(row=2, col=1, kernel=3, size=6)


def _conv_step():
    from cnnlib.widgets.convolution import render_conv_step

    return render_conv_step(step=4)


def _conv_arithmetic():
    from cnnlib.widgets.convolution import render_conv_arithmetic

    return render_conv_arithmetic(size=9, kernel=3, stride=2, padding=1,
                                  dilation=1)


def _kernel_editor():
    from cnnlib.widgets.kernels import render_kernel_editor

    return render_kernel_editor(preset="Sobel x", values="-1 0 1 -2 0 2 -1 0 1")


def _channels_two():
    from cnnlib.widgets.channels import render_channels

    return render_channels(option="two", filter_index=0)


def _channels_one():
    from cnnlib.widgets.channels import render_channels

    return render_channels(option="one", filter_index=2)


CASES = [
    Case("connectivity (6x6 grid)", _connectivity, 100),
    Case("conv step (5x5)", _conv_step, 100),
    Case("conv arithmetic (9x9)", _conv_arithmetic, 100),
    Case("kernel editor (digit + photo)", _kernel_editor, 300),
    Case("channels option two (16x16)", _channels_two, 100),
    Case("channels option one (16x16)", _channels_one, 100),
]
# ---- more cases below (append to CASES) ----
def _digit():
    """One test digit (a 2), float64, loaded once per run."""
    global _DIGIT
    if "_DIGIT" not in globals():
        from cnnlib.data import load_mnist

        X, _ = load_mnist(split="test", dtype="float64")
        _DIGIT = X[200, 0]
    return _DIGIT


def _collapse():
    from cnnlib.widgets.nonlinearity import render_collapse

    return render_collapse(_digit(), "vertical edge", "horizontal edge",
                           relu=True)


def _activation():
    from cnnlib.widgets.nonlinearity import render_activation

    return render_activation(_digit(), "vertical edge", "sigmoid")


def _pooling():
    from cnnlib.widgets.pooling import render_pooling

    return render_pooling(_digit(), size=3, stride=2, mode="max", shift=1)


def _receptive_field():
    from cnnlib.widgets.pooling import render_receptive_field

    return render_receptive_field(_digit(), [("conv", 3, 1), ("pool", 2, 2),
                                             ("conv", 3, 1), ("pool", 2, 2)])


def _route_pool():
    import numpy as np

    from cnnlib.widgets.backprop import render_backprop_route

    x = np.round(_digit()[8:16, 8:16] * 9)
    return render_backprop_route(x, "max pool", row=1, col=2, size=2, stride=2)


def _route_conv():
    import numpy as np

    from cnnlib.widgets.backprop import render_backprop_route

    x = np.round(_digit()[8:16, 8:16] * 9)
    return render_backprop_route(x, "conv", row=1, col=2, size=3, stride=1)


CASES += [
    Case("collapse with ReLU (digit)", _collapse, 100),
    Case("activation sigmoid (digit)", _activation, 100),
    Case("pooling 3x3/2 + shift (digit)", _pooling, 100),
    Case("receptive field, 4 layers (digit)", _receptive_field, 100),
    Case("backprop route max pool (8x8)", _route_pool, 100),
    Case("backprop route conv (8x8)", _route_conv, 100),
]


def _wave():
    from cnnlib.widgets.demo import render_wave

    return render_wave(frequency=3, kernel_size=9)


def _prediction():
    import numpy as np

    from cnnlib.data import load_mnist
    from cnnlib.model import lenet5
    from cnnlib.widgets.prediction import render_digit_prediction

    global _MODEL
    if "_MODEL" not in globals():
        _MODEL = (lenet5(), *load_mnist("subset", "test", dtype=np.float32,
                                        normalize=True))
    model, X, y = _MODEL
    return render_digit_prediction(model, X[:50], y[:50], index=3, angle=20)


CASES += [
    Case("setup check wave", _wave, 150),
    Case("digit prediction (LeNet-5)", _prediction, 200),
]


def time_case(case, repeat):
    """Median wall and CPU seconds of ``case.render()`` and its PNG.

    CPU time (this process only) is the steadier number on a busy shared
    machine; wall time is what the student feels on an idle one.
    """
    from cnnlib.widgets.base import figure_png

    def once():
        wall, cpu = time.perf_counter(), time.process_time()
        figure_png(case.render())  # exactly what the live explorer does
        return time.perf_counter() - wall, time.process_time() - cpu

    once()  # warm-up
    runs = [once() for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", default="",
                        help="run only cases whose name contains this")
    args = parser.parse_args(argv)
    rows = []
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        wall, cpu = time_case(case, args.repeat)
        rows.append((case.name, 1000 * wall, 1000 * cpu, case.target_ms))
    width = max((len(r[0]) for r in rows), default=10)
    print(f"{'explorer':<{width}}  wall ms  cpu ms  target ms  ok (cpu)")
    for name, wall, cpu, target in rows:
        ok = "yes" if cpu < target else "NO"
        print(f"{name:<{width}}  {wall:7.0f}  {cpu:6.0f}  {target:9.0f}  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
