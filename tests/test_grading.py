"""cnnlib.grading: fresh modules, refused calls, designs rebuilt with our seeds.

The student's functions here are made with exec in a namespace whose
__name__ is "__main__", as a notebook cell's are.
"""

import linecache
import sys
import types

import numpy as np
import pytest

import cnnlib.checks
from cnnlib import grading


def notebook(code, **names):
    """Run ``code`` as a notebook cell would; return its namespace."""
    ns = {"__name__": "__main__", "np": np, **names}
    filename = f"<cell {len(linecache.cache)}>"
    # IPython keeps every cell's text in linecache, so inspect finds it
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), ns)
    return ns


def refused(func, *args, ns=None, **kwargs):
    """The message of refuse_calls, called from the notebook's namespace."""
    ns = dict(ns or {"__name__": "__main__"}, grading=grading, _func=func,
              _args=args, _kwargs=kwargs)
    with pytest.raises(AssertionError) as info:
        exec("grading.refuse_calls(_func, *_args, **_kwargs)", ns)
    assert type(info.value).__name__ == "CheckFailed"
    return str(info.value)


def test_fresh_ignores_patches_and_leaves_the_notebook_alone(monkeypatch):
    monkeypatch.setattr(cnnlib.checks, "check_close", lambda *a, **k: None)
    before = dict(sys.modules)
    checks = grading.fresh("cnnlib.checks")
    assert checks is not cnnlib.checks
    with pytest.raises(AssertionError, match="values differ"):
        checks.check_close(np.ones(2), np.zeros(2), "x")
    assert sys.modules["cnnlib.checks"] is cnnlib.checks  # untouched
    assert {k: v for k, v in sys.modules.items() if k.startswith("cnnlib")} \
        == {k: v for k, v in before.items() if k.startswith("cnnlib")}


def test_fresh_modules_of_one_call_share_one_fresh_package():
    layers, model = grading.fresh("cnnlib.layers", "cnnlib.model")
    assert model.Sequential(layers.ReLU())  # the fresh Sequential accepts them
    with pytest.raises(ValueError, match="only cnnlib modules"):
        grading.fresh("numpy")


def test_own_code_passes():
    ns = notebook(
        "def helper(x, i):\n    return x[i:i + 2].sum()\n"
        "def step(x, w, i):\n    return float(np.sum(x[i:i + 2] * w)) + helper(x, i)\n")
    assert grading.refuse_calls(ns["step"], ["correlate2d"],
                                modules=["cnnlib", "scipy"]) is None


@pytest.mark.parametrize("code, expected", [
    ("from cnnlib.conv import correlate2d\n"
     "def f(x, w):\n    return correlate2d(x, w)\n", "calls correlate2d"),
    ("import cnnlib.conv\n"
     "def f(x, w):\n    return cnnlib.conv.correlate2d(x, w)\n", "correlate2d"),
    ("from cnnlib.conv import correlate2d as c2\n"
     "def f(x, w):\n    return c2(x, w)\n", "c2 is cnnlib.conv.correlate2d"),
    ("from cnnlib.conv import correlate2d\n"
     "def helper(x, w):\n    return correlate2d(x, w)\n"
     "def f(x, w):\n    return helper(x, w)\n", "calls correlate2d"),
    ("from cnnlib.conv import correlate2d\n"
     "def f(x, w, g=correlate2d):\n    return g(x, w)\n", "a default argument"),
    ("def f(x, w):\n    from scipy.signal import correlate2d\n"
     "    return correlate2d(x, w)\n", "correlate2d"),
    ("import cnnlib.conv\n"
     "def f(x, w):\n    return getattr(cnnlib.conv, 'correlate' + '2d')(x, w)\n",
     "uses getattr"),
    ("from cnnlib.conv import correlate2d\nf = correlate2d\n", "not code you wrote"),
    ("f = lambda x, w: cnnlib.conv.correlate2d(x, w)\n", "correlate2d"),
])
def test_forbidden_calls_are_refused(code, expected):
    import cnnlib.conv

    ns = notebook(code, cnnlib=sys.modules["cnnlib"], _=cnnlib.conv)
    message = refused(ns["f"], ["correlate2d"], modules=["cnnlib", "scipy"],
                      ns=ns)
    assert expected in message
    assert message.startswith(("f: ", "correlate2d: it is"))


def test_message_quotes_the_line():
    ns = notebook("from cnnlib.shapes import conv_output_size\n"
                  "def size(H, k):\n    n = H\n"
                  "    return conv_output_size(n, k)\n")
    message = refused(ns["size"], ["conv_output_size"], modules=["cnnlib"],
                      ns=ns)
    assert "line 3: return conv_output_size(n, k)" in message
    assert "asks you not to use" in message


def test_not_a_function_is_refused():
    assert "must be a function" in refused(np.sum, ["x"])
    assert "must be a function" in refused(None, ["x"])


def test_network_spec_and_rebuild():
    from cnnlib.layers import Conv2D, Flatten, Linear, MaxPool2D, ReLU
    from cnnlib.model import Sequential

    net = Sequential(Conv2D(1, 2, 3, seed=5), ReLU(), MaxPool2D(2), Flatten(),
                     Linear(2 * 13 * 13, 10, seed=6))
    spec = grading.network_spec(net)
    assert [kind for kind, _ in spec] == ["Conv2D", "ReLU", "MaxPool2D",
                                          "Flatten", "Linear"]
    a, b = grading.rebuild_network(spec, 1), grading.rebuild_network(spec, 1)
    c = grading.rebuild_network(spec, 2)
    pa, pb, pc = (list(m.params().values()) for m in (a, b, c))
    assert all(np.array_equal(u, v) for u, v in zip(pa, pb))
    assert not np.array_equal(pa[0], pc[0])
    assert not np.array_equal(pa[0], net.params()["0.w"])  # not the student's
    x = np.zeros((2, 1, 28, 28), np.float32)
    assert a.forward(x).shape == (2, 10)


def test_network_spec_refuses_other_layers():
    from cnnlib.layers import Layer
    from cnnlib.model import Sequential

    class Cheat(Layer):
        def forward(self, x):
            return x

        def backward(self, dout, need_dx=True):
            return dout

    with pytest.raises(AssertionError, match="layer 0 is Cheat"):
        grading.network_spec(Sequential(Cheat()))
    with pytest.raises(AssertionError, match="expected a cnnlib Sequential"):
        grading.network_spec(types.SimpleNamespace(layers=[]))
