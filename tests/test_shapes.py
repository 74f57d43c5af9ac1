"""Tests for cnnlib.shapes: output sizes, receptive fields, validation."""

from types import SimpleNamespace

import numpy as np
import pytest

from cnnlib.shapes import (
    ReceptiveField,
    as_pair,
    check_array,
    check_dout,
    check_finite,
    conv_output_size,
    pool_output_size,
    receptive_field,
)


def count_positions(size, kernel, stride, padding, dilation=1):
    """Slide a (dilated) window over the padded input and count the stops."""
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * padding
    count, start = 0, 0
    while start + span <= padded:
        count += 1
        start += stride
    return count


# ------------------------------------------------------------- output sizes


def test_conv_output_size_matches_brute_force():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(500):
        n, k = int(rng.integers(1, 40)), int(rng.integers(1, 8))
        s, p, d = (int(rng.integers(1, 5)), int(rng.integers(0, 4)),
                   int(rng.integers(1, 4)))
        expected = count_positions(n, k, s, p, d)
        cfg = dict(input_size=n, kernel=k, stride=s, padding=p, dilation=d)
        if expected == 0:
            with pytest.raises(ValueError, match="does not fit"):
                conv_output_size(**cfg)
        else:
            assert conv_output_size(**cfg) == expected, cfg
            checked += 1
    assert checked > 300


def test_pool_output_size_matches_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(500):
        k = int(rng.integers(1, 7))
        n = int(rng.integers(1, 40))
        s = int(rng.integers(1, 5))
        p = int(rng.integers(0, k // 2 + 1))
        expected = count_positions(n, k, s, p)
        if expected == 0:
            with pytest.raises(ValueError, match="does not fit"):
                pool_output_size(n, k, s, p)
            continue
        assert pool_output_size(n, k, s, p) == expected, (n, k, s, p)
        if s == k:
            assert pool_output_size(n, k, padding=p) == expected  # default


def test_pairs_give_pairs():
    assert conv_output_size((28, 20), (3, 5)) == (26, 16)
    assert conv_output_size(28, 3, stride=(1, 2)) == (26, 13)
    assert conv_output_size((9, 9), 3, padding=(1, 0), dilation=(1, 2)) == (9, 5)
    assert pool_output_size((26, 13), 2) == (13, 6)
    assert pool_output_size(7, (3, 2), stride=(1, 2), padding=(1, 1)) == (7, 4)
    assert pool_output_size((7, 7), (3, 3), stride=[2, 2]) == (3, 3)
    # Each entry of a pair agrees with the scalar call.
    rng = np.random.default_rng(2)
    for _ in range(50):
        n, k = rng.integers(7, 30, size=2), rng.integers(1, 6, size=2)
        s, p = rng.integers(1, 4, size=2), rng.integers(0, 3, size=2)
        pair = conv_output_size(tuple(n), tuple(k), tuple(s), tuple(p))
        single = tuple(conv_output_size(int(n[i]), int(k[i]), int(s[i]), int(p[i]))
                       for i in range(2))
        assert pair == single


def test_floor_behaviour():
    assert conv_output_size(28, 3) == 26
    assert conv_output_size(28, 3, stride=2) == 13  # (28 - 3) // 2 + 1
    assert conv_output_size(28, 5, stride=2, padding=2) == 14
    assert conv_output_size(7, 3, stride=3) == 2  # last column dropped
    assert conv_output_size(5, 3, dilation=2) == 1
    assert pool_output_size(27, 2) == 13  # last row dropped
    assert pool_output_size(5, 3, stride=1) == 3
    assert isinstance(conv_output_size(np.int64(28), 3), int)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(input_size=28, kernel=3, stride=0), ValueError,
         ["stride", "positive", "0"]),
        (dict(input_size=28, kernel=3, padding=-1), ValueError,
         ["padding", "non-negative"]),
        (dict(input_size=28, kernel=3, dilation=0), ValueError,
         ["dilation", "positive"]),
        (dict(input_size=28.0, kernel=3), TypeError, ["input_size", "28.0"]),
        (dict(input_size=28, kernel=2.0), TypeError, ["kernel", "2.0"]),
        (dict(input_size=28, kernel=3, stride=True), TypeError, ["stride", "True"]),
        (dict(input_size=True, kernel=1), TypeError, ["input_size"]),
        (dict(input_size=28, kernel=(3, 3, 3)), TypeError, ["kernel"]),
        (dict(input_size=28, kernel=(3, 0)), ValueError, ["kernel"]),
        (dict(input_size=28, kernel="3"), TypeError, ["kernel"]),
        (dict(input_size=2, kernel=3), ValueError, ["kernel 3", "does not fit", "2"]),
        (dict(input_size=4, kernel=3, dilation=2), ValueError, ["dilated 5", "fit"]),
    ],
)
def test_conv_output_size_errors(kwargs, exc, words):
    with pytest.raises(exc) as info:
        conv_output_size(**kwargs)
    message = str(info.value)
    assert message.startswith("conv_output_size:"), message
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize(
    "args, exc, words",
    [
        ((28, 2, 0), ValueError, ["stride"]),
        ((28, 0), ValueError, ["size must be a positive"]),
        ((28, 2.0), TypeError, ["size", "2.0"]),
        ((28.0, 2), TypeError, ["input_size", "28.0"]),
        ((28, 3, 1, 2), ValueError, ["padding", "half"]),
        ((28, 3, 1, -1), ValueError, ["padding"]),
        ((2, 3), ValueError, ["window 3", "does not fit"]),
        ((28, 2, False), TypeError, ["stride"]),
    ],
)
def test_pool_output_size_errors(args, exc, words):
    with pytest.raises(exc) as info:
        pool_output_size(*args)
    message = str(info.value)
    assert message.startswith("pool_output_size:"), message
    for word in words:
        assert word in message, (word, message)


# ------------------------------------------------------------- receptive field


def test_receptive_field_known_stacks():
    assert receptive_field([(3, 1), (3, 1)])[-1].size == 5
    assert receptive_field([(3,)] * 3)[-1] == ReceptiveField(7, 1, 3.0)
    # LeNet-like: conv5 pad 2, pool2, conv5 pad 2, pool2.
    fields = receptive_field([(5, 1, 2), (2, 2), (5, 1, 2), (2, 2)])
    assert [f.size for f in fields] == [5, 6, 14, 16]
    assert [f.jump for f in fields] == [1, 2, 2, 4]
    # Classic LeNet-5 without padding: conv5, pool2, conv5, pool2 -> 16.
    assert receptive_field([(5,), (2, 2), (5,), (2, 2)])[-1].size == 16
    # A dilated 3x3 (dilation 2) sees 5 pixels, like a 5x5.
    assert receptive_field([(3, 1, 0, 2)])[-1].size == 5
    assert receptive_field([]) == []


def _field_brute_force(layers, unit):
    """Input positions that output ``unit`` of the stack depends on.

    Walk back through the layers: output j of a layer reads inputs
    ``j*stride - padding + t*dilation`` for t = 0..kernel-1. Coordinates are
    not clipped, so positions in the padding (negative, or past the end)
    count, as in the receptive-field formula.
    """
    positions = {unit}
    for k, s, p, d in reversed(layers):
        positions = {j * s - p + t * d for j in positions for t in range(k)}
    return positions


def test_receptive_field_matches_brute_force():
    rng = np.random.default_rng(3)
    for trial in range(200):
        layers = []
        for _ in range(int(rng.integers(1, 6))):
            k = int(rng.integers(1, 6))
            layers.append((k, int(rng.integers(1, 4)), int(rng.integers(0, k)),
                           int(rng.integers(1, 3))))
        field = receptive_field(layers)[-1]
        unit0 = _field_brute_force(layers, 0)
        unit1 = _field_brute_force(layers, 1)
        msg = f"trial {trial}: layers {layers}: {field}"
        assert field.size == max(unit0) - min(unit0) + 1, msg
        assert field.start == (max(unit0) + min(unit0)) / 2, msg
        assert field.jump == min(unit1) - min(unit0), msg


def test_receptive_field_matches_ones_gradient():
    # Without padding or dilation, backpropagating a 1 from output unit 0
    # through all-ones 1-D kernels marks exactly the pixels it sees.
    rng = np.random.default_rng(4)
    for trial in range(50):
        layers = [(int(rng.integers(1, 5)), int(rng.integers(1, 4)))
                  for _ in range(int(rng.integers(1, 5)))]
        length = 1
        for k, s in reversed(layers):  # smallest input giving one output
            length = (length - 1) * s + k
        grad = np.ones(1)
        for k, s in reversed(layers):
            g = np.zeros((len(grad) - 1) * s + k)
            for j, v in enumerate(grad):
                g[j * s : j * s + k] += v
            grad = g
        seen = np.flatnonzero(grad)
        field = receptive_field(layers)[-1]
        assert len(grad) == length
        assert field.size == seen[-1] - seen[0] + 1 == length, (trial, layers)
        assert field.start == (seen[0] + seen[-1]) / 2, (trial, layers)


def test_receptive_field_accepts_dicts_and_layer_objects():
    as_tuples = receptive_field([(3, 1, 1), (2, 2), (3, 2, 0, 2)])
    as_dicts = receptive_field([
        {"kernel": 3, "padding": 1, "kind": "conv"},
        {"kernel": 2, "stride": 2, "kind": "pool"},
        {"kernel": 3, "stride": 2, "dilation": 2},
    ])
    as_objects = receptive_field([
        SimpleNamespace(kernel_size=3, stride=1, padding=1, dilation=1),
        SimpleNamespace(kernel_size=2, stride=2),  # defaults: padding 0
        SimpleNamespace(kernel_size=3, stride=2, padding=0, dilation=2),
    ])
    assert as_tuples == as_dicts == as_objects
    assert as_tuples[-1] == ReceptiveField(12, 4, 4.5)
    assert receptive_field(iter([(3,), (3,)]))[-1].size == 5  # any iterable


@pytest.mark.parametrize(
    "layers, exc, words",
    [
        (5, TypeError, ["layers", "sequence", "int"]),
        ("3x3", TypeError, ["layers", "str"]),
        ([{"stride": 2}], ValueError, ["layers[0]", "'kernel'"]),
        ([{"kernel": 3, "strides": 2}], ValueError, ["layers[0]", "strides"]),
        ([(3,), (3, 1, 0, 1, 9)], TypeError, ["layers[1]"]),
        ([()], TypeError, ["layers[0]"]),
        (["conv"], TypeError, ["layers[0]", "'conv'"]),
        ([(0,)], ValueError, ["layers[0]", "kernel", ">= 1"]),
        ([(3, 0)], ValueError, ["layers[0]", "stride"]),
        ([(3, 1, -1)], ValueError, ["padding", ">= 0"]),
        ([(3, 1, 0, 0)], ValueError, ["dilation"]),
        ([(3.0,)], ValueError, ["kernel", "3.0"]),
        ([(True,)], ValueError, ["kernel"]),
        ([SimpleNamespace(kernel_size=None)], ValueError, ["kernel"]),
    ],
)
def test_receptive_field_bad_layers(layers, exc, words):
    with pytest.raises(exc) as info:
        receptive_field(layers)
    message = str(info.value)
    assert message.startswith("receptive_field:"), message
    for word in words:
        assert word in message, (word, message)


# ------------------------------------------------------------- validation


def test_as_pair():
    assert as_pair(3, "stride", "f") == (3, 3)
    assert as_pair((2, 3), "stride", "f") == (2, 3)
    assert as_pair([np.int64(1), 2], "stride", "f") == (1, 2)
    assert as_pair(0, "padding", "f", minimum=0) == (0, 0)
    with pytest.raises(ValueError, match="f: padding must be a non-negative"):
        as_pair(-1, "padding", "f", minimum=0)
    for bad in (2.0, True, "2", (1,), (1, 2, 3), (1.0, 2), None):
        with pytest.raises(TypeError, match="f: stride must be a positive int"):
            as_pair(bad, "stride", "f")


def test_check_array_and_friends():
    x = np.zeros((2, 3))
    assert check_array(x, "x", "f", ndim=2) is x
    with pytest.raises(TypeError, match="f: x must be a NumPy array, got list"):
        check_array([1.0], "x", "f")
    with pytest.raises(ValueError, match=r"f: x must have shape \(N, C, H, W\)"):
        check_array(x, "x", "f", ndim=4, shape_doc="(N, C, H, W)")
    with pytest.raises(TypeError, match="f: x must be float32 or float64"):
        check_array(np.zeros(2, np.float16), "x", "f")
    assert check_array(np.zeros(2, int), "y", "f", float_only=False).dtype == int
    assert check_finite(x, "x", "f") is x
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"f: x must be finite, got nan at index"
                       r" \(1, 2\)"):
        check_finite(bad, "x", "f")
    big = np.full(4, 1e308)  # the sum overflows, but every value is finite
    with np.errstate(over="raise"):
        assert check_finite(big, "x", "f") is big
    assert check_dout(x, (2, 3), np.float64, "f") is x
    with pytest.raises(ValueError, match=r"f: dout must have .* \(3, 2\), got "
                       r"\(2, 3\)"):
        check_dout(x, (3, 2), np.float64, "f")
    with pytest.raises(TypeError, match="f: dout must have the forward dtype float32"):
        check_dout(x, (2, 3), np.float32, "f")


def test_receptive_field_reads_pairs_along_the_chosen_axis():
    from cnnlib.shapes import receptive_field

    stack = [((3, 5), 1), ((2, 2), (2, 2))]
    assert receptive_field(stack, axis=0)[-1].size == 4
    assert receptive_field(stack, axis=1)[-1].size == 6
    with pytest.raises(ValueError, match="axis"):
        receptive_field(stack, axis=2)


# ------------------------------------------------------------- one vocabulary


def test_pool_window_is_size_and_input_is_input_size():
    assert pool_output_size(input_size=26, size=2) == 13
    assert pool_output_size(input_size=(7, 5), size=3, stride=1,
                            padding=1) == (7, 5)
    assert conv_output_size(input_size=28, kernel=5, padding=2) == 28
    with pytest.raises(TypeError):
        pool_output_size(26, window=2)  # the old name is gone


def test_output_hw_is_the_formula_of_both_sizes():
    from cnnlib.shapes import output_hw

    rng = np.random.default_rng(3)
    for _ in range(200):
        hw, k = tuple(rng.integers(1, 20, 2)), tuple(rng.integers(1, 6, 2))
        s, p = tuple(rng.integers(1, 4, 2)), tuple(rng.integers(0, 3, 2))
        d = tuple(rng.integers(1, 3, 2))
        fits = all(di * (ki - 1) + 1 <= n + 2 * pi
                   for n, ki, pi, di in zip(hw, k, p, d))
        if fits:
            assert output_hw(hw, k, s, p, d) == conv_output_size(hw, k, s, p, d)
        else:
            with pytest.raises(ValueError, match="f: kernel .* does not fit"):
                output_hw(hw, k, s, p, d, func="f")


def test_no_module_writes_the_formula_again():
    # The output-size formula lives in cnnlib.shapes only.
    import pathlib
    import re
    import tokenize

    import cnnlib

    root = pathlib.Path(cnnlib.__file__).parent
    formula = re.compile(r"//\s*(stride|st|s|sh|sw|s\[\d\])\b\s*\+\s*1")
    # (cnnlib/widgets/convolution.py shows the arithmetic step by step.)
    for name in ("conv", "local", "pool", "layers"):
        path = root / f"{name}.py"
        with open(path, "rb") as f:  # code only: docstrings state it
            code = " ".join(t.string for t in tokenize.tokenize(f.readline)
                            if t.type not in (tokenize.STRING, tokenize.COMMENT))
        assert not formula.search(code), path


# ------------------------------------------------------------- caches, memory


def test_check_cache_names_the_forward():
    from cnnlib.shapes import cache_type, check_cache

    Cache = cache_type("DemoCache", ["x", "size"], "doc", __name__)
    cache = Cache(np.zeros((2, 3), np.float32), (2, 2))
    assert check_cache(cache, Cache, "demo_backward") is cache
    assert cache.size == (2, 2) and tuple(cache)[1] == (2, 2)
    assert repr(cache) == "DemoCache(x=<float32 array (2, 3)>, size=(2, 2))"
    with pytest.raises(TypeError, match=r"demo_backward: cache must be the "
                       r"DemoCache returned by demo_forward \(run the forward "
                       r"pass first\), got None"):
        check_cache(None, Cache, "demo_backward")
    with pytest.raises(TypeError, match="got tuple"):
        check_cache((1, 2), Cache, "demo_backward")


def test_check_memory_states_the_size_and_the_limit(monkeypatch):
    import cnnlib.shapes
    from cnnlib.shapes import MAX_ARRAY_BYTES, check_memory

    assert MAX_ARRAY_BYTES == 4 * 2**30
    check_memory({"a": (2**29,)}, np.float64, "f")  # exactly the limit: fine
    with pytest.raises(ValueError, match=r"f: a would have shape \(536870913,\)"
                       r" = 4.3 GB, more than the limit cnnlib.shapes."
                       r"MAX_ARRAY_BYTES = 4.3 GB"):
        check_memory({"a": (2**29 + 1,)}, np.float64, "f")
    # Python ints: a product beyond int64 is not wrapped around to a small one.
    with pytest.raises(ValueError, match="b would have shape"):
        check_memory({"b": (2**40, 2**40)}, np.float32, "f")
    monkeypatch.setattr(cnnlib.shapes, "MAX_ARRAY_BYTES", 100)
    with pytest.raises(ValueError, match=r"= 0.0 MB, more than .* = 0.0 MB"):
        check_memory({"c": (13,)}, np.float64, "f")
