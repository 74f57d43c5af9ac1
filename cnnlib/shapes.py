"""Output sizes, receptive fields, and the argument checks every op shares.

The output-size formula lives here and nowhere else; every operation
validates its arguments with the helpers here, so bad input fails early
with one kind of message::

    ValueError: conv2d_forward: stride must be a positive int or a pair of
    positive ints, got 0

Taught in notebooks/02_convolution.ipynb.
"""

import math
from collections import namedtuple
from numbers import Integral, Real

import numpy as np

__all__ = [
    "MAX_ARRAY_BYTES",
    "conv_output_size",
    "pool_output_size",
    "output_hw",
    "receptive_field",
    "ReceptiveField",
    "as_pair",
    "check_array",
    "check_finite",
    "check_dout",
    "check_bias",
    "check_cache",
    "check_memory",
    "check_pool_padding",
    "check_output_padding",
    "cache_type",
    "check_positive_int",
    "check_number",
    "conv_transpose_output_size",
]

#: Largest array, in bytes, that a cnnlib operation agrees to allocate
#: (4 GiB). A padding of 20000 or a kernel of 10**6 is almost always a
#: slip that would otherwise freeze the machine; the operation refuses it
#: before allocating. Raise it (``cnnlib.shapes.MAX_ARRAY_BYTES = ...``)
#: if you really have the memory and mean it.
MAX_ARRAY_BYTES = 4 * 2**30


# ---------------------------------------------------------------- validation


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def check_positive_int(value, name, func):
    """Return ``value`` as an int if it is a positive int, else raise.

    The one check for counts (epochs, batch size, channels, sizes) used by
    every module. NumPy ints are accepted; ``True`` and ``2.0`` are not.

    >>> check_positive_int(3, "epochs", "fit")
    3
    >>> check_positive_int(0, "epochs", "fit")
    Traceback (most recent call last):
    ...
    ValueError: fit: epochs must be a positive int, got 0
    """
    if not _is_int(value) or value < 1:
        raise ValueError(f"{func}: {name} must be a positive int, got {value!r}")
    return int(value)


def check_number(value, name, func, low=0.0, high=math.inf, low_open=False):
    """Return ``value`` as a float if it is a finite number in range, else raise.

    The range is ``[low, high)``, or ``(low, high)`` with ``low_open=True``.

    >>> check_number(0.1, "lr", "SGD", low_open=True)
    0.1
    >>> check_number(-1, "lr", "SGD", low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: SGD: lr must be a number > 0, got -1
    """
    ok = isinstance(value, (Real, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value < high
    if not ok:
        where = f"> {low:g}" if low_open else f">= {low:g}"
        if high != math.inf:
            where += f" and < {high:g}"
        raise ValueError(f"{func}: {name} must be a number {where}, got {value!r}")
    return float(value)


def as_pair(value, name, func, minimum=1):
    """Return ``value`` as an ``(h, w)`` pair of ints, each ``>= minimum``.

    Accepts an int or a length-2 tuple/list of ints (NumPy ints too).

    Raises
    ------
    TypeError
        not an int or a pair of ints (a float such as ``2.0`` included).
    ValueError
        an entry below ``minimum``.
    """
    what = "non-negative" if minimum == 0 else "positive"
    expected = f"a {what} int or a pair of {what} ints"
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        _is_int(v) for v in value
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{func}: {name} must be {expected}, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{func}: {name} must be {expected}, got {value!r}")
    return pair


def check_array(x, name, func, ndim=None, shape_doc=None, float_only=True):
    """Check that ``x`` is a NumPy array of the right rank and dtype.

    Parameters
    ----------
    x : object
        The argument to check.
    name, func : str
        Argument and function names used in the error message.
    ndim : int, optional
        Required number of dimensions.
    shape_doc : str, optional
        Human-readable expected shape, e.g. ``"(N, C, H, W)"``.
    float_only : bool
        If True (default) the dtype must be float32 or float64.

    Returns
    -------
    x : ndarray
        The same object (never copied or cast).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{func}: {name} must be a NumPy array, got {type(x).__name__}"
        )
    if ndim is not None and x.ndim != ndim:
        doc = shape_doc or f"{ndim} dimensions"
        raise ValueError(
            f"{func}: {name} must have shape {doc} ({ndim}-D), "
            f"got {x.ndim}-D array of shape {x.shape}"
        )
    if float_only and x.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{func}: {name} must be float32 or float64, got {x.dtype} "
            f"(convert with {name}.astype(np.float64))"
        )
    return x


def check_finite(x, name, func):
    """Raise ValueError if ``x`` holds NaN or inf.

    A sum is one cheap pass; only if it is not finite (NaN/inf present, or
    an overflow) do we pay for the exact elementwise test.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(x, axis=None)
    if not np.isfinite(total) and not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"{func}: {name} must be finite, got {x[tuple(bad)]} at index "
            f"{tuple(int(i) for i in bad)}"
        )
    return x


def check_bias(b, F, x, w, func):
    """Check a conv bias: None, or shape ``(F,)`` with the dtype of ``x``."""
    if b is None:
        return None
    check_array(b, "b", func, 1, "(F,)")
    if b.shape != (F,):
        raise ValueError(f"{func}: b must have shape (F,) = ({F},) to "
                         f"match w of shape {w.shape}, got {b.shape}")
    if b.dtype != x.dtype:
        raise TypeError(f"{func}: b must have the dtype of x ({x.dtype}), "
                        f"got {b.dtype}")
    return b


def check_dout(dout, expected_shape, dtype, func):
    """Check the upstream gradient of a backward pass against its forward."""
    check_array(dout, "dout", func)
    if dout.shape != tuple(expected_shape):
        raise ValueError(
            f"{func}: dout must have the forward output's shape "
            f"{tuple(expected_shape)}, got {dout.shape}"
        )
    if dout.dtype != dtype:
        raise TypeError(
            f"{func}: dout must have the forward dtype {np.dtype(dtype)}, "
            f"got {dout.dtype}"
        )
    return dout


def _bytes_text(n):
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def check_memory(shapes, dtype, func):
    """Refuse, before allocating, arrays larger than `MAX_ARRAY_BYTES`.

    Parameters
    ----------
    shapes : dict of str -> tuple of int
        What the operation is about to allocate, e.g.
        ``{"the padded input": (N, C, H + 2*ph, W + 2*pw)}``.
    dtype : dtype
    func : str
        Function name for the message.

    Raises
    ------
    ValueError
        Naming the array, its shape and its size in bytes.

    Examples
    --------
    >>> check_memory({"the padded input": (1, 1, 40001, 40001)},
    ...              np.float64, "f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: f: the padded input would have shape (1, 1, 40001, 40001) = 12.8 GB, ...
    """
    itemsize = np.dtype(dtype).itemsize
    for what, shape in shapes.items():
        nbytes = math.prod(int(n) for n in shape) * itemsize  # exact ints
        if nbytes > MAX_ARRAY_BYTES:
            raise ValueError(
                f"{func}: {what} would have shape {tuple(shape)} = "
                f"{_bytes_text(nbytes)}, more than the limit "
                f"cnnlib.shapes.MAX_ARRAY_BYTES = "
                f"{_bytes_text(MAX_ARRAY_BYTES)}; use a smaller padding, "
                f"kernel or batch"
            )


# ---------------------------------------------------------------- caches


def _brief(value):
    if isinstance(value, np.ndarray):
        return f"<{value.dtype} array {value.shape}>"
    return repr(value)


def cache_type(name, fields, doc, module):
    """A named tuple class for the cache of one forward/backward pair.

    It unpacks like a tuple, and prints arrays as their dtype and shape, so
    ``print(cache)`` in a notebook says what the backward pass will use.
    """
    base = namedtuple(name, fields)

    def __repr__(self):
        parts = ", ".join(f"{f}={_brief(v)}" for f, v in zip(fields, self))
        return f"{name}({parts})"

    return type(name, (base,), {"__slots__": (), "__doc__": doc,
                                "__repr__": __repr__, "__module__": module})


def check_cache(cache, kind, func):
    """Check that ``cache`` is the ``kind`` cache its forward pass returned.

    The forward's name is the backward's with ``backward`` -> ``forward``
    (``conv2d_backward`` <- ``conv2d_forward``), a rule every op follows.
    """
    if not isinstance(cache, kind):
        forward = func.replace("backward", "forward")
        got = "None" if cache is None else type(cache).__name__
        raise TypeError(
            f"{func}: cache must be the {kind.__name__} returned by "
            f"{forward} (run the forward pass first), got {got}"
        )
    return cache


# ---------------------------------------------------------------- sizes


def _out_length(length, kernel, stride, padding, dilation):
    """The output-size formula along one axis; None if the kernel does not fit.

    ``(length + 2*padding - dilation*(kernel - 1) - 1) // stride + 1``
    """
    span = dilation * (kernel - 1) + 1
    if span > length + 2 * padding:
        return None
    return (length + 2 * padding - span) // stride + 1


def output_hw(input_hw, kernel_hw, stride, padding, dilation=(1, 1),
              func="output_hw", what="kernel"):
    """``(H_out, W_out)`` of a conv or pool on validated ``(h, w)`` pairs.

    The operations call this once they have checked their arguments; a
    kernel (``what``) that does not fit raises ValueError naming ``func``.
    """
    out = [_out_length(*axis) for axis in
           zip(input_hw, kernel_hw, stride, padding, dilation)]
    if None in out:
        (H, W), (KH, KW) = input_hw, kernel_hw
        dil = ""
        if max(dilation) > 1:
            dil = (f" (dilated {dilation[0] * (KH - 1) + 1}x"
                   f"{dilation[1] * (KW - 1) + 1})")
        pad = padding[0] if padding[0] == padding[1] else tuple(padding)
        raise ValueError(f"{func}: {what} {KH}x{KW}{dil} does not fit input "
                         f"{H}x{W} with padding {pad}")
    return tuple(out)


def check_output_padding(output_padding, stride, dilation, func):
    """A transposed convolution's ``output_padding`` as an (h, w) pair.

    Each must be smaller than its axis's stride or dilation (as in
    PyTorch): any more would add cells that no input cell paints.
    ``stride`` and ``dilation`` are checked (h, w) pairs.
    """
    pads = as_pair(output_padding, "output_padding", func, minimum=0)
    for op, s, d in zip(pads, stride, dilation):
        if op >= max(s, d):
            raise ValueError(
                f"{func}: output_padding must be smaller than stride or "
                f"dilation, got output_padding {op} with stride {s} and "
                f"dilation {d}"
            )
    return pads


def check_pool_padding(size, padding, func):
    """Pool padding is at most half the window (as in PyTorch), so every
    window holds at least one real input value."""
    if 2 * padding[0] > size[0] or 2 * padding[1] > size[1]:
        pad = padding[0] if padding[0] == padding[1] else tuple(padding)
        raise ValueError(f"{func}: padding must be at most half the window "
                         f"size, got padding {pad} for size {size[0]}x{size[1]}")


def _size_1d(length, kernel, stride, padding, dilation, func, what):
    out = _out_length(length, kernel, stride, padding, dilation)
    if out is None:
        span, padded = dilation * (kernel - 1) + 1, length + 2 * padding
        dil = f" (dilated {span})" if dilation > 1 else ""
        raise ValueError(
            f"{func}: {what} {kernel}{dil} does not fit input {length} with "
            f"padding {padding} (padded size {padded})"
        )
    return out


def conv_output_size(input_size, kernel, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one or two axes.

    Parameters
    ----------
    input_size, kernel : int or (int, int)
        Input length H (or (H, W)) and kernel length KH (or (KH, KW)).
    stride, padding, dilation : int or (int, int)
        ``padding`` counts zeros per side.

    Returns
    -------
    int, or (int, int) if any argument is a pair

    Notes
    -----
    ``H_out = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1``.
    The floor drops the last positions when the stride does not divide the
    remaining length evenly.

    Examples
    --------
    >>> conv_output_size(28, 3)
    26
    >>> conv_output_size(28, 5, stride=2, padding=2)
    14
    """
    func = "conv_output_size"
    args = (input_size, kernel, stride, padding, dilation)
    scalar = all(_is_int(a) for a in args)
    sizes = as_pair(input_size, "input_size", func)
    kernels = as_pair(kernel, "kernel", func)
    strides = as_pair(stride, "stride", func)
    pads = as_pair(padding, "padding", func, minimum=0)
    dils = as_pair(dilation, "dilation", func)
    out = tuple(_size_1d(sizes[i], kernels[i], strides[i], pads[i], dils[i],
                         func, "kernel") for i in range(2))
    return out[0] if scalar else out


def pool_output_size(input_size, size, stride=None, padding=0):
    """Output length of a pooling layer with window ``size``.

    Parameters
    ----------
    input_size : int or (int, int)
        Input length H (or (H, W)).
    size : int or (int, int)
        The pooling window KH (or (KH, KW)), as in `cnnlib.pool`.
    stride : int or (int, int), optional
        Default ``size`` (windows side by side).
    padding : int or (int, int)
        Per side, at most half the window (as in PyTorch), so every window
        holds at least one real input value.

    Returns
    -------
    int, or (int, int) if any argument is a pair

    Notes
    -----
    Same floor rule as `conv_output_size`, with dilation 1.

    Examples
    --------
    >>> pool_output_size(26, 2)
    13
    >>> pool_output_size(5, 3, stride=1)
    3
    """
    func = "pool_output_size"
    scalar = all(_is_int(a) for a in (input_size, size, padding)) and (
        stride is None or _is_int(stride)
    )
    sizes = as_pair(input_size, "input_size", func)
    windows = as_pair(size, "size", func)
    strides = windows if stride is None else as_pair(stride, "stride", func)
    pads = as_pair(padding, "padding", func, minimum=0)
    check_pool_padding(windows, pads, func)
    out = tuple(_size_1d(sizes[i], windows[i], strides[i], pads[i], 1, func,
                         "window") for i in range(2))
    return out[0] if scalar else out


# ---------------------------------------------------------------- fields

ReceptiveField = namedtuple("ReceptiveField", ["size", "jump", "start"])
ReceptiveField.__doc__ = """Receptive field of one unit after a layer stack.

size  : how many input pixels (along one axis) one output unit sees
jump  : distance in input pixels between two neighbouring output units
start : input coordinate of the centre of the first output unit's field
        (can be negative when padding puts it outside the image)
"""


def _layer_params(layer, i, axis):
    """Read (kernel, stride, padding, dilation) along ``axis`` from a layer."""
    func = "receptive_field"
    if isinstance(layer, dict):
        unknown = set(layer) - {"kernel", "stride", "padding", "dilation", "kind"}
        if "kernel" not in layer or unknown:
            raise ValueError(
                f"{func}: layers[{i}] must be a dict with 'kernel' and optional "
                f"'stride', 'padding', 'dilation', got keys {sorted(layer)}"
            )
        k = layer["kernel"]
        s = layer.get("stride", 1)
        p = layer.get("padding", 0)
        d = layer.get("dilation", 1)
    elif isinstance(layer, (tuple, list)) and 1 <= len(layer) <= 4:
        k, s, p, d = (tuple(layer) + (1, 0, 1)[len(layer) - 1 :])[:4]
    elif hasattr(layer, "kernel_size") or hasattr(layer, "size"):
        # a conv layer names its kernel `kernel_size`, a pool layer `size`
        k = layer.kernel_size if hasattr(layer, "kernel_size") else layer.size
        s = getattr(layer, "stride", 1)
        p = getattr(layer, "padding", 0)
        d = getattr(layer, "dilation", 1)
    else:
        raise TypeError(
            f"{func}: layers[{i}] must be a dict, a (kernel, stride, padding, "
            f"dilation) tuple or a layer with kernel_size or size, got {layer!r}"
        )
    name = f"layers[{i}]"
    k, s, p, d = (v[axis] if isinstance(v, (tuple, list)) and len(v) == 2 else v
                  for v in (k, s, p, d))
    for v, what, m in ((k, "kernel", 1), (s, "stride", 1), (p, "padding", 0),
                       (d, "dilation", 1)):
        if not _is_int(v) or v < m:
            raise ValueError(
                f"{func}: {name} {what} must be an int >= {m}, got {v!r}"
            )
    return int(k), int(s), int(p), int(d)


def receptive_field(layers, axis=0):
    """Receptive field after each layer of a stack of conv/pool layers.

    Parameters
    ----------
    layers : sequence
        Each item is a ``(kernel, stride, padding, dilation)`` tuple (trailing
        items optional: stride 1, padding 0, dilation 1), a dict with those
        keys, or a layer object with ``kernel_size`` or, for pooling,
        ``size`` (and ``stride``,
        ``padding``, ``dilation``) attributes. One axis; square layers are
        the same along both.

    Returns
    -------
    list of ReceptiveField
        ``(size, jump, start)`` after each layer; the last item describes the
        whole stack.

    Notes
    -----
    With effective kernel ``k' = dilation*(kernel - 1) + 1``::

        size  <- size + (k' - 1) * jump
        start <- start + ((k' - 1) / 2 - padding) * jump
        jump  <- jump * stride

    Examples
    --------
    >>> receptive_field([(3, 1), (3, 1)])[-1]
    ReceptiveField(size=5, jump=1, start=2.0)
    >>> receptive_field([(5, 1, 2), (2, 2), (5, 1, 2), (2, 2)])[-1].size
    16
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(
            f"receptive_field: layers must be a sequence of layers, got "
            f"{type(layers).__name__}"
        )
    if axis not in (0, 1):
        raise ValueError(f"receptive_field: axis must be 0 or 1, got {axis!r}")
    size, jump, start = 1, 1, 0.0
    result = []
    for i, layer in enumerate(layers):
        k, s, p, d = _layer_params(layer, i, axis)
        span = d * (k - 1) + 1
        size = size + (span - 1) * jump
        start = start + ((span - 1) / 2 - p) * jump
        jump = jump * s
        result.append(ReceptiveField(size, jump, start))
    return result


# ---------------------------------------------------------------- transposed


def conv_transpose_output_size(size, kernel, stride=1, padding=0,
                               output_padding=0, dilation=1):
    """Output length of a transposed convolution along one or two axes.

    Parameters
    ----------
    size, kernel : int or (int, int)
        Input length and kernel length (pairs give (height, width)).
    stride, padding, output_padding, dilation : int or (int, int)
        ``padding`` is cropped from each side; ``output_padding`` (smaller
        than ``stride`` or ``dilation``) is added at one end.

    Returns
    -------
    int, or (int, int) if any argument is a pair

    Notes
    -----
    ``out = (size - 1)*stride - 2*padding + dilation*(kernel - 1)
    + output_padding + 1``: the inverse of `conv_output_size` with the same
    settings, which floors, so several sizes map to one; ``output_padding``
    picks which.

    Examples
    --------
    >>> conv_transpose_output_size(7, 3, stride=2, padding=1, output_padding=1)
    14
    >>> conv_output_size(14, 3, stride=2, padding=1)
    7
    """
    func = "conv_transpose_output_size"
    args = (size, kernel, stride, padding, output_padding, dilation)
    scalar = all(_is_int(a) for a in args)
    sizes = as_pair(size, "size", func)
    kernels = as_pair(kernel, "kernel", func)
    strides = as_pair(stride, "stride", func)
    pads = as_pair(padding, "padding", func, minimum=0)
    dils = as_pair(dilation, "dilation", func)
    extras = check_output_padding(output_padding, strides, dils, func)
    out = []
    for n, k, s, p, op, d in zip(sizes, kernels, strides, pads, extras, dils):
        length = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if length < 1:
            raise ValueError(
                f"{func}: padding {p} crops away the whole output: input {n} "
                f"with kernel {k} and stride {s} gives {length}"
            )
        out.append(length)
    return out[0] if scalar else tuple(out)
