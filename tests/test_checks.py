"""Tests for cnnlib.checks: pass silently, fail with a message that helps."""

import numpy as np
import pytest

from cnnlib.checks import (
    CheckFailed,
    check_close,
    check_equal,
    check_shape,
    check_true,
)


def failure(func, *args, **kwargs):
    """Run a check that must fail; return its message."""
    with pytest.raises(CheckFailed) as info:
        func(*args, **kwargs)
    assert isinstance(info.value, AssertionError)
    return str(info.value)


# ------------------------------------------------------------- passing


def test_passing_checks_return_none_and_print_nothing(capsys):
    x = np.arange(12.0).reshape(3, 4)
    assert check_shape(x, (3, 4), "x") is None
    assert check_shape(x, (None, 4), "x") is None
    assert check_close(x, x + 1e-9, "x") is None
    assert check_close(x.astype(np.float32), x, "x") is None
    assert check_close([1, 2], np.array([1.0, 2.0]), "list") is None
    assert check_close(np.array([np.nan, 1.0]), [np.nan, 1.0], "nan") is None
    assert check_equal(26, 26, "size") is None
    assert check_equal(np.int64(26), 26, "size") is None
    assert check_equal((26, 13), (26, 13), "sizes") is None
    assert check_equal([1, (2, 3)], [1, (2, 3)], "nested") is None
    assert check_equal(np.arange(3), np.arange(3), "idx") is None
    assert check_equal("max", "max", "kind") is None
    assert check_true(True, "never shown") is None
    assert check_true(np.ones(3, bool), "never shown") is None
    assert capsys.readouterr() == ("", "")


def test_property_close_passes_within_tolerance_fails_outside():
    rng = np.random.default_rng(0)
    for trial in range(200):
        shape = tuple(rng.integers(1, 5, size=rng.integers(0, 4)))
        expected = rng.standard_normal(shape)
        got = expected * (1 + 1e-9)
        config = f"trial {trial}, shape {shape}"
        check_close(got, expected, "x")
        if expected.size == 0:
            continue
        bad = got.copy().reshape(-1)
        k = int(rng.integers(bad.size))
        bad[k] += 1.0
        bad = bad.reshape(shape)
        msg = failure(check_close, bad, expected, "x")
        index = np.unravel_index(k, shape) if shape else ()
        if shape:
            shown = "(" + ", ".join(str(int(i)) for i in index)
            shown += ",)" if len(index) == 1 else ")"
            assert f"first mismatch at index {shown}" in msg, config
            assert f"1 of {expected.size} values differ" in msg, config
        assert "got" in msg and "expected" in msg, config


# ------------------------------------------------------------- messages


def test_close_reports_first_mismatch_count_and_largest():
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[0, 2] = 0.5
    got[1, 1] = -2.0
    msg = failure(check_close, got, expected, "out")
    assert msg.splitlines()[0] == "out: values differ"
    assert "first mismatch at index (0, 2): got 0.5, expected 0.0" in msg
    assert "2 of 6 values differ" in msg
    assert "largest difference 2.0 at index (1, 1)" in msg


def test_close_reports_shapes_and_transposes():
    msg = failure(check_close, np.ones((2, 3)), np.ones((3, 2)), "dw")
    assert "expected shape (3, 2), got (2, 3)" in msg
    assert "transposed" in msg
    msg = failure(check_close, np.ones(6), np.ones((2, 3)), "dw")
    assert "expected 2 dimensions, got 1" in msg


def test_close_reports_dtype_and_nan():
    got = np.full(3, np.nan, dtype=np.float32)
    msg = failure(check_close, got, np.ones(3), "dx")
    assert "dtype float32 (expected float64)" in msg
    assert "dx contains NaN" in msg
    msg = failure(check_close, np.ones(3, np.float32), np.ones(3), "out",
                  check_dtype=True)
    assert "wrong dtype" in msg


def test_close_scalars_and_float32_values_read_well():
    msg = failure(check_close, 2.0, 3.0, "loss")
    assert "got 2.0, expected 3.0" in msg
    msg = failure(check_close, np.float32([0.1]), [0.2], "x")
    assert "got 0.1," in msg


def test_close_tolerance_arguments():
    check_close(1.001, 1.0, "x", rtol=1e-2)
    check_close(1e-3, 0.0, "x", atol=1e-2)
    failure(check_close, 1.001, 1.0, "x")


def test_none_and_non_arrays_explain_themselves():
    msg = failure(check_close, None, np.ones(2), "out")
    assert "missing `return`" in msg
    msg = failure(check_close, (np.ones(3), ("cache",)), np.ones(3), "out")
    assert "(out, cache)" in msg
    msg = failure(check_close, "abc", np.ones(3), "out")
    assert "numeric array" in msg
    assert "missing `return`" in failure(check_shape, None, (2,), "out")
    assert "missing `return`" in failure(check_equal, None, 3, "n")


def test_shape_messages():
    msg = failure(check_shape, np.ones((2, 3, 4)), (2, None, 5), "out")
    assert "expected shape (2, any, 5), got (2, 3, 4)" in msg
    check_shape([[1, 2]], (1, 2), "list")


def test_equal_is_strict_about_ints():
    msg = failure(check_equal, 26.0, 26, "H_out")
    assert "expected the int 26, got float 26.0" in msg
    assert "//" in msg
    msg = failure(check_equal, True, 1, "flag")
    assert "bool" in msg


def test_equal_tuples_name_the_item():
    msg = failure(check_equal, (26, 12), (26, 13), "size")
    assert "item 1: got 12, expected 13" in msg
    assert "whole value: got (26, 12), expected (26, 13)" in msg
    msg = failure(check_equal, (26, 13, 1), (26, 13), "size")
    assert "expected length 2, got 3" in msg
    msg = failure(check_equal, 26, (26, 26), "size")
    assert "expected a tuple of length 2" in msg


def test_equal_arrays():
    msg = failure(check_equal, np.array([0, 1, 2, 3]), np.array([0, 1, 3, 3]),
                  "idx")
    assert "first difference at index (2,): got 2, expected 3" in msg
    msg = failure(check_equal, np.arange(3), np.arange(4), "idx")
    assert "expected shape (4,), got (3,)" in msg


def test_true_message_hint_and_arrays():
    msg = failure(check_true, False, "out must be non-negative",
                  hint="ReLU keeps only the positive part")
    assert msg == ("out must be non-negative\n"
                   "Hint: ReLU keeps only the positive part")
    msg = failure(check_true, np.array([True, False, False]), "all positive")
    assert "2 of 3 entries are false" in msg


def test_hint_is_appended_and_stored():
    with pytest.raises(CheckFailed) as info:
        check_equal(3, 4, "n", hint="count the windows")
    assert info.value.hint == "count the windows"
    assert str(info.value).endswith("\nHint: count the windows")


def test_student_not_implemented_error_propagates_unchanged():
    def student_stub(x):
        # YOUR CODE HERE
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check_close(student_stub(np.ones(2)), np.ones(2), "out")
    with pytest.raises(NotImplementedError):
        check_true(student_stub(1) == 1, "never reached")


def test_failures_are_assertion_errors_for_nbgrader():
    assert issubclass(CheckFailed, AssertionError)
