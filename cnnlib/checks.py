"""Friendly checks for notebook exercises.

A bare ``assert`` tells a student only that *something* is wrong. These
helpers say what: the shape that was expected and the one that came, the
first element that differs (index and both values), how many differ, and an
optional hint::

    >>> import numpy as np
    >>> check_close(np.array([1.0, 2.5]), np.array([1.0, 2.0]), "out")
    Traceback (most recent call last):
    ...
    cnnlib.checks.CheckFailed: out: values differ
      first mismatch at index (1,): got 2.5, expected 2.0
      1 of 2 values differ (rtol=1e-06, atol=1e-08)
      largest difference 0.5 at index (1,)

Each check returns None and prints nothing when it passes, and raises
`CheckFailed` (an ``AssertionError``, so nbgrader and pytest treat it as a
failed test) when it does not. Exceptions raised while computing the value
being checked, such as the ``NotImplementedError`` of an unsolved exercise,
are never caught: they reach the student unchanged.

Notes
-----
Used by the exercises at the end of every notebook; see TEACHING.md.
"""

from numbers import Integral, Real

import numpy as np

__all__ = [
    "CheckFailed",
    "check_shape",
    "check_close",
    "check_equal",
    "check_true",
]

_MAX_SHOWN = 70  # longest repr shown for one value in a message


class CheckFailed(AssertionError):
    """A check failed; ``str(err)`` is the whole multi-line explanation.

    Attributes
    ----------
    hint : str or None
        The hint passed to the check, also appended to the message.
    """

    def __init__(self, message, hint=None):
        self.hint = hint
        if hint:
            message = f"{message}\nHint: {hint}"
        super().__init__(message)


def _short(value):
    if isinstance(value, np.floating):
        text = str(value)  # float32 0.1 shows as 0.1, not 0.10000000149...
    else:
        text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _index(idx):
    return "(" + ", ".join(str(int(i)) for i in idx) + (",)" if len(idx) == 1
                                                          else ")")


def _none_message(name):
    return (
        f"{name} is None: the code computing it did not return a value "
        "(missing `return`?)"
    )


def _as_array(got, name, expected):
    """``np.asarray(got)``, or a CheckFailed that says why it is not one."""
    if got is None:
        raise CheckFailed(_none_message(name))
    extra = ""
    if isinstance(got, tuple) and not isinstance(expected, tuple):
        extra = (
            f"\n  got a tuple of length {len(got)}; did you return "
            "(out, cache) or several values where one array was expected?"
        )
    try:
        arr = np.asarray(got)
    except (ValueError, TypeError) as err:
        reason = str(err).split(".")[0]
        raise CheckFailed(
            f"{name}: expected an array, got a {type(got).__name__} that is "
            f"not one ({reason}){extra}"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise CheckFailed(
            f"{name}: expected a numeric array, got {type(got).__name__} "
            f"with dtype {arr.dtype}{extra}"
        )
    return arr


def _shape_problem(got_shape, expected):
    """None if ``got_shape`` matches ``expected`` (None entries match any)."""
    expected = tuple(expected)
    if len(got_shape) == len(expected) and all(
        e is None or g == e for g, e in zip(got_shape, expected)
    ):
        return None
    shown = "(" + ", ".join("any" if e is None else str(e) for e in expected)
    shown += ",)" if len(expected) == 1 else ")"
    lines = [f"expected shape {shown}, got {tuple(got_shape)}"]
    if len(got_shape) != len(expected):
        lines.append(
            f"  expected {len(expected)} dimensions, got {len(got_shape)}"
        )
    elif None not in expected and sorted(got_shape) == sorted(expected):
        lines.append("  same sizes in a different order: axes transposed?")
    return "\n".join(lines)


def check_shape(got, expected, name="result", hint=None):
    """Check that ``got`` has shape ``expected``.

    Parameters
    ----------
    got : array_like
        The student's array (anything with a ``shape``, or array-like).
    expected : tuple of int or None
        The shape; a None entry matches any size, e.g. ``(None, 8, 26, 26)``.
    name : str
        What ``got`` is called in the message.
    hint : str, optional
        Added to the message when the check fails.

    Raises
    ------
    CheckFailed
        ``got`` is None, not array-like, or has another shape.
    """
    if got is None:
        raise CheckFailed(_none_message(name), hint)
    shape = got.shape if hasattr(got, "shape") else _as_array(got, name, ()).shape
    problem = _shape_problem(tuple(shape), expected)
    if problem:
        raise CheckFailed(f"{name}: wrong shape\n  {problem}", hint)


def check_close(got, expected, name="result", rtol=1e-6, atol=1e-8,
                check_dtype=False, hint=None):
    """Check that ``got`` equals ``expected`` to floating-point tolerance.

    Passes when ``|got - expected| <= atol + rtol * |expected|`` for every
    element (as `numpy.isclose`), the shapes are equal, and no NaN appears
    in one array where the other has a number.

    Parameters
    ----------
    got : array_like, any shape
        The student's result.
    expected : array_like, same shape as ``got``
        The correct result.
    name : str
        What ``got`` is called in the message.
    rtol, atol : float
        Relative and absolute tolerance.
    check_dtype : bool
        If True, ``got`` must also have ``expected``'s dtype (e.g. float32
        in, float32 out).
    hint : str, optional
        Added to the message when the check fails.

    Raises
    ------
    CheckFailed
        With the shapes, the first mismatching element (index, both values),
        the number of mismatches and the largest difference.
    """
    g = _as_array(got, name, expected)
    e = np.asarray(expected)
    dtypes = f"dtype {g.dtype} (expected {e.dtype})"
    problem = _shape_problem(g.shape, e.shape)
    if problem:
        raise CheckFailed(f"{name}: wrong shape\n  {problem}\n  {dtypes}", hint)
    if check_dtype and g.dtype != e.dtype:
        raise CheckFailed(f"{name}: wrong dtype\n  {dtypes}", hint)
    g64 = g.astype(np.float64) if g.dtype == np.bool_ else g
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isclose(g64, e, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return
    bad = np.argwhere(~ok)
    first = tuple(bad[0])
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(g64.astype(np.float64) - e.astype(np.float64))
    diff = np.where(ok, 0.0, np.nan_to_num(diff, nan=np.inf))
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    if g.ndim == 0:
        raise CheckFailed(
            f"{name}: wrong value\n  got {_short(g[()])}, expected "
            f"{_short(e[()])} (rtol={rtol:g}, atol={atol:g})", hint)
    lines = [
        f"{name}: values differ",
        f"  first mismatch at index {_index(first)}: got {_short(g[first])}, "
        f"expected {_short(e[first])}",
        f"  {len(bad)} of {g.size} values differ (rtol={rtol:g}, atol={atol:g})",
        f"  largest difference {_short(float(diff[worst]))} at index "
        f"{_index(worst)}",
    ]
    if g.dtype != e.dtype:
        lines.append(f"  {dtypes}")
    if np.isnan(g64).any() and not np.isnan(e).any():
        lines.append(f"  {name} contains NaN")
    raise CheckFailed("\n".join(lines), hint)


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def _equal_problem(got, expected, where):
    """Describe the first difference between two (nested) values, or None."""
    if isinstance(expected, np.ndarray):
        g = np.asarray(got)
        if g.shape != expected.shape:
            return f"{where}expected shape {expected.shape}, got {g.shape}"
        diff = np.argwhere(g != expected)
        if len(diff) == 0:
            return None
        i = tuple(diff[0])
        return (
            f"{where}first difference at index {_index(i)}: got "
            f"{_short(g[i])}, expected {_short(expected[i])} "
            f"({len(diff)} of {g.size} differ)"
        )
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return (
                f"{where}expected a {type(expected).__name__} of length "
                f"{len(expected)}, got {type(got).__name__} {_short(got)}"
            )
        if len(got) != len(expected):
            return (
                f"{where}expected length {len(expected)}, got {len(got)}: "
                f"got {_short(got)}, expected {_short(expected)}"
            )
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _equal_problem(g, e, f"{where}item {i}: ")
            if problem:
                return f"{problem}\n  whole value: got {_short(got)}, " \
                    f"expected {_short(expected)}"
        return None
    if _is_int(expected) and isinstance(got, Real) and not _is_int(got):
        # 26.0 == 26 in Python, but a size or a count must be an int
        if isinstance(got, bool):
            return f"{where}expected the int {expected}, got the bool {got}"
        return (
            f"{where}expected the int {expected}, got {type(got).__name__} "
            f"{_short(got)} (use // for integer division, or int(...))"
        )
    try:
        same = bool(got == expected)
    except (ValueError, TypeError):
        same = False
    if same:
        return None
    return f"{where}got {_short(got)}, expected {_short(expected)}"


def check_equal(got, expected, name="result", hint=None):
    """Check that ``got`` equals ``expected`` exactly.

    For ints, strings, tuples and lists (nested too) and integer arrays.
    Where ``expected`` is an int, a float ``got`` fails even when it has the
    same value (``26.0`` for ``26``): sizes and counts are ints.

    Parameters
    ----------
    got : object
        The student's value.
    expected : object
        The correct value.
    name : str
        What ``got`` is called in the message.
    hint : str, optional
        Added to the message when the check fails.

    Raises
    ------
    CheckFailed
        Naming the first differing item (and its position in a tuple).
    """
    if got is None and expected is not None:
        raise CheckFailed(_none_message(name), hint)
    problem = _equal_problem(got, expected, "")
    if problem:
        raise CheckFailed(f"{name}: wrong value\n  {problem}", hint)


def check_true(cond, message, hint=None):
    """Check that ``cond`` is true; otherwise fail with ``message``.

    Parameters
    ----------
    cond : bool or array_like of bool
        An array passes only if all of its elements are true.
    message : str
        What went wrong, in the student's terms.
    hint : str, optional
        Added to the message when the check fails.

    Raises
    ------
    CheckFailed
    """
    if isinstance(cond, np.ndarray):
        ok = bool(cond.all())
        if not ok and cond.size > 1:
            message = (
                f"{message}\n  {int((~cond.astype(bool)).sum())} of "
                f"{cond.size} entries are false"
            )
    else:
        ok = bool(cond)
    if not ok:
        raise CheckFailed(message, hint)
