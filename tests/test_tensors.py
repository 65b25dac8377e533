"""Tests for the tensor expression language in tui.core.tensors."""

import math
import time

import numpy as np
import pytest

from tui.core.tensors import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_TEXT_LENGTH,
    TensorSyntaxError,
    describe_array,
    format_tensor,
    parse_tensor,
)


def check_array(actual: np.ndarray, expected: list | float | bool, dtype: str, shape: tuple) -> None:
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == np.dtype(dtype)
    assert actual.shape == shape
    np.testing.assert_array_equal(actual, np.array(expected, dtype=dtype))


def parse_error(text: str, **kwargs) -> TensorSyntaxError:
    with pytest.raises(TensorSyntaxError) as info:
        parse_tensor(text, **kwargs)
    return info.value


# ---------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("text", "expected", "dtype", "shape"),
    [
        ("1", 1, "int64", ()),
        ("-7", -7, "int64", ()),
        ("+7", 7, "int64", ()),
        ("2.5", 2.5, "float64", ()),
        ("1e-7", 1e-7, "float64", ()),
        ("1E3", 1000.0, "float64", ()),
        (".5", 0.5, "float64", ()),
        ("1_000", 1000, "int64", ()),
        ("0x1F", 31, "int64", ()),
        ("True", True, "bool", ()),
        ("False", False, "bool", ()),
        ("[1, 2, 3]", [1, 2, 3], "int64", (3,)),
        ("[1, 2.0]", [1.0, 2.0], "float64", (2,)),
        ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]], "int64", (2, 2)),
        ("[[1, 2], [3, 4.5]]", [[1.0, 2.0], [3.0, 4.5]], "float64", (2, 2)),
        ("[True, False]", [True, False], "bool", (2,)),
        ("(1, 2)", [1, 2], "int64", (2,)),
        ("1, 2", [1, 2], "int64", (2,)),
        ("[(1, 2), [3, 4]]", [[1, 2], [3, 4]], "int64", (2, 2)),
        ("[]", [], "float64", (0,)),
        ("()", [], "float64", (0,)),
        ("[[], []]", np.zeros((2, 0)), "float64", (2, 0)),
        ("[[[1], [2]]]", [[[1], [2]]], "int64", (1, 2, 1)),
        ("9223372036854775807", 9223372036854775807, "int64", ()),
        ("-9223372036854775808", -9223372036854775808, "int64", ()),
        ("[-1, +2, --3]", [-1, 2, 3], "int64", (3,)),
        ("  [1,\n   2]  ", [1, 2], "int64", (2,)),
        ("\t\n[1, 2]", [1, 2], "int64", (2,)),
        ("[1, # first\n 2]", [1, 2], "int64", (2,)),
        ("[1,\r\n 2,\r 3]", [1, 2, 3], "int64", (3,)),
    ],
)
def test_literal_values(text, expected, dtype, shape):
    check_array(parse_tensor(text), expected, dtype, shape)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nan", math.nan),
        ("inf", math.inf),
        ("-inf", -math.inf),
        ("pi", math.pi),
        ("e", math.e),
    ],
)
def test_named_constants(text, expected):
    value = parse_tensor(text)

    assert value.dtype == np.float64
    assert value.shape == ()
    np.testing.assert_array_equal(value, np.array(expected))


def test_list_of_names_is_float():
    check_array(parse_tensor("[nan, inf, -inf, 1]"), [math.nan, math.inf, -math.inf, 1.0], "float64", (4,))


def test_negative_zero_keeps_sign():
    value = parse_tensor("-0.0")

    assert value.dtype == np.float64
    assert np.signbit(value)


def test_huge_float_literal_is_inf():
    check_array(parse_tensor("[1e999, -1e999]"), [math.inf, -math.inf], "float64", (2,))


def test_list_of_arrays_stacks():
    check_array(parse_tensor("[zeros(2), [1, 2]]"), [[0.0, 0.0], [1.0, 2.0]], "float64", (2, 2))


def test_nesting_at_max_depth_parses():
    text = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH

    assert parse_tensor(text).shape == (1,) * MAX_DEPTH


def test_max_depth_allows_negative_leaves():
    text = "[" * MAX_DEPTH + "-1, -inf" + "]" * MAX_DEPTH

    assert parse_tensor(text).shape == (1,) * (MAX_DEPTH - 1) + (2,)


def test_long_addition_chain_is_not_nesting():
    value = parse_tensor(" + ".join(["1"] * 1000))

    check_array(value, 1000, "int64", ())


def test_large_list_parses_quickly():
    text = "[" + "1.5, " * 19_999 + "1.5]"

    started = time.perf_counter()
    value = parse_tensor(text)
    elapsed = time.perf_counter() - started

    assert value.shape == (20_000,)
    assert elapsed < 2.0


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("text", "expected", "dtype", "shape"),
    [
        ("1 + 2", 3, "int64", ()),
        ("7 - 10", -3, "int64", ()),
        ("6 * 7", 42, "int64", ()),
        ("7 / 2", 3.5, "float64", ()),
        ("7 // 2", 3, "int64", ()),
        ("-7 // 2", -4, "int64", ()),
        ("7 % 3", 1, "int64", ()),
        ("-7 % 3", 2, "int64", ()),
        ("2 ** 10", 1024, "int64", ()),
        ("2 ** 3 ** 2", 512, "int64", ()),
        ("2.0 ** -1", 0.5, "float64", ()),
        ("2 ** 62", 2**62, "int64", ()),
        ("(-2) ** 63", -(2**63), "int64", ()),
        ("3037000499 ** 2", 3037000499**2, "int64", ()),
        ("(-1) ** 1000000000000000001", -1, "int64", ()),
        ("0 ** 0", 1, "int64", ()),
        ("1 + 2.5", 3.5, "float64", ()),
        ("1 / 0", math.inf, "float64", ()),
        ("-1 / 0", -math.inf, "float64", ()),
        ("0 / 0", math.nan, "float64", ()),
        ("1.0 // 0", math.inf, "float64", ()),
        ("1.0 % 0", math.nan, "float64", ()),
        ("10.0 ** 400", math.inf, "float64", ()),
        ("10.0 ** 10 ** 10", math.inf, "float64", ()),
        ("(-8.0) ** 0.5", math.nan, "float64", ()),
        ("[1, 2] + 1", [2, 3], "int64", (2,)),
        ("[1, 2] * [3, 4]", [3, 8], "int64", (2,)),
        ("[[1], [2]] + [10, 20]", [[11, 21], [12, 22]], "int64", (2, 2)),
        ("2 * ones(3) - 1", [1.0, 1.0, 1.0], "float64", (3,)),
        ("arange(6) / 10", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], "float64", (6,)),
        ("-[1, -2]", [-1, 2], "int64", (2,)),
        ("(1 + 2) * 3", 9, "int64", ()),
        ("1 + 2 * 3", 7, "int64", ()),
        ("-2 ** 2", -4, "int64", ()),
        ("[2, 3] ** [62, 39]", [2**62, 3**39], "int64", (2,)),
        ("9223372036854775807 + 0", 9223372036854775807, "int64", ()),
        ("-9223372036854775807 - 1", -9223372036854775808, "int64", ()),
        ("-9223372036854775808 % -1", 0, "int64", ()),
        ("4611686018427387904 * -2", -9223372036854775808, "int64", ()),
    ],
)
def test_arithmetic(text, expected, dtype, shape):
    check_array(parse_tensor(text), expected, dtype, shape)


def test_division_matches_numpy():
    value = parse_tensor("[1, 2, 3] / 3")

    np.testing.assert_array_equal(value, np.array([1, 2, 3]) / 3)


# ---------------------------------------------------------------- constructors


@pytest.mark.parametrize(
    ("text", "expected", "dtype", "shape"),
    [
        ("arange(4)", [0, 1, 2, 3], "int64", (4,)),
        ("arange(2, 5)", [2, 3, 4], "int64", (3,)),
        ("arange(10, 0, -3)", [10, 7, 4, 1], "int64", (4,)),
        ("arange(0)", [], "int64", (0,)),
        ("arange(5, 2)", [], "int64", (0,)),
        ("arange(0, 1, 0.25)", [0.0, 0.25, 0.5, 0.75], "float64", (4,)),
        ("arange(2.0)", [0.0, 1.0], "float64", (2,)),
        ("arange(-9223372036854775808, 9223372036854775807, 4611686018427387904)",
         [-(2**63), -(2**62), 0, 2**62], "int64", (4,)),
        ("linspace(0, 1, 5)", [0.0, 0.25, 0.5, 0.75, 1.0], "float64", (5,)),
        ("linspace(0, 1, 0)", [], "float64", (0,)),
        ("zeros(3)", [0.0, 0.0, 0.0], "float64", (3,)),
        ("zeros((2, 1))", [[0.0], [0.0]], "float64", (2, 1)),
        ("zeros([1, 2])", [[0.0, 0.0]], "float64", (1, 2)),
        ("zeros(2, 1)", [[0.0], [0.0]], "float64", (2, 1)),
        ("zeros(())", 0.0, "float64", ()),
        ("zeros((0, 3))", np.zeros((0, 3)), "float64", (0, 3)),
        ("zeros(1000, 0, 1000)", np.zeros((1000, 0, 1000)), "float64", (1000, 0, 1000)),
        ("arange(-9.2e18)", [], "float64", (0,)),
        ("reshape(zeros((0, 5)), 5, -1)", np.zeros((5, 0)), "float64", (5, 0)),
        ("ones(2)", [1.0, 1.0], "float64", (2,)),
        ("ones(1, 2)", [[1.0, 1.0]], "float64", (1, 2)),
        ("full(2, 7)", [7, 7], "int64", (2,)),
        ("full((2, 1), 1.5)", [[1.5], [1.5]], "float64", (2, 1)),
        ("full(2, True)", [True, True], "bool", (2,)),
        ("full((1, 2), nan)", [[math.nan, math.nan]], "float64", (1, 2)),
        ("eye(2)", [[1.0, 0.0], [0.0, 1.0]], "float64", (2, 2)),
        ("eye(2, 3)", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "float64", (2, 3)),
        ("eye(0)", np.zeros((0, 0)), "float64", (0, 0)),
        ("reshape(arange(6), (2, 3))", [[0, 1, 2], [3, 4, 5]], "int64", (2, 3)),
        ("reshape(arange(6), 3, 2)", [[0, 1], [2, 3], [4, 5]], "int64", (3, 2)),
        ("reshape(arange(6), (-1, 2))", [[0, 1], [2, 3], [4, 5]], "int64", (3, 2)),
        ("reshape([[1, 2]], -1)", [1, 2], "int64", (2,)),
        ("reshape(5, ())", 5, "int64", ()),
        ("transpose([[1, 2, 3], [4, 5, 6]])", [[1, 4], [2, 5], [3, 6]], "int64", (3, 2)),
        ("transpose(zeros((1, 2, 3)), (2, 0, 1))", np.zeros((3, 1, 2)), "float64", (3, 1, 2)),
        ("transpose(zeros((1, 2, 3)), 1, 0, 2)", np.zeros((2, 1, 3)), "float64", (2, 1, 3)),
        ("transpose(zeros((1, 2)), -1, -2)", np.zeros((2, 1)), "float64", (2, 1)),
        ("transpose(7)", 7, "int64", ()),
    ],
)
def test_constructors(text, expected, dtype, shape):
    check_array(parse_tensor(text), expected, dtype, shape)


def test_randn_seeded_values():
    value = parse_tensor("randn(3)")

    assert value.dtype == np.float64
    np.testing.assert_allclose(value, [0.1257302210933933, -0.1321048632913019, 0.6404226504432821])


def test_randn_seed_keyword():
    value = parse_tensor("randn(3, seed=1)")

    np.testing.assert_allclose(value, [0.345584192064786, 0.8216181435011584, 0.33043707618338714])


def test_randn_shape_forms_agree():
    first = parse_tensor("randn(2, 3, seed=4)")
    second = parse_tensor("randn((2, 3), seed=4)")

    assert first.shape == (2, 3)
    np.testing.assert_array_equal(first, second)


def test_rand_seeded_values():
    value = parse_tensor("rand((2, 2))")

    assert value.dtype == np.float64
    expected = [[0.6369616873214543, 0.2697867137638703], [0.04097352393619469, 0.016527635528529094]]
    np.testing.assert_allclose(value, expected)


def test_randint_seeded_values():
    check_array(parse_tensor("randint(0, 10, (2, 3))"), [[8, 6, 5], [2, 3, 0]], "int64", (2, 3))
    check_array(parse_tensor("randint(-3, 3, 5, seed=5)"), [1, 1, -3, 1, -1], "int64", (5,))


def test_random_results_repeat():
    first = parse_tensor("rand(4, seed=9)")
    second = parse_tensor("rand(4, seed=9)")

    np.testing.assert_array_equal(first, second)


def test_constructor_in_arithmetic():
    check_array(parse_tensor("reshape(arange(4), 2, 2) * eye(2)"), [[0.0, 0.0], [0.0, 3.0]], "float64", (2, 2))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "empty input", 1),
        ("   ", "empty input", 1),
        ("[[1, 2], [3]]", "row 2 has 1 item, expected 2", 10),
        ("[[1, 2], [3, 4, 5]]", "row 2 has 3 items, expected 2", 10),
        ("[[[1, 2], [3, 4]], [[1, 2], [3]]]", "row 2, 2 has 1 item, expected 2", 29),
        ("[[[1]], [[1, 2]]]", "row 2, 1 has 2 items, expected 1", 10),
        ("[1, [2, 3]]", "row 2 is a list of 2 items, expected a number", 5),
        ("[[2, 3], 1]", "row 2 is a number, expected a list of 2 items", 10),
        ("[zeros((2, 3)), zeros((2, 4))]", "row 2, 1 has 4 items, expected 3", 17),
        ("[True, 1]", "list mixes bool and numbers; write 1/0 or True/False throughout", 8),
        ("[[1.5], [False]]", "list mixes bool and numbers; write 1/0 or True/False throughout", 9),
        ("99999999999999999999",
         "integer 99999999999999999999 does not fit int64 (range -9223372036854775808 to "
         "9223372036854775807); write it as a float such as 1e20", 1),
        ("[1, -9223372036854775809]", "integer -9223372036854775809 does not fit int64", 5),
        ("1" * 5000, "integer literal has too many digits to fit int64", 1),
        ("[1, 2] + [1, 2, 3]", "shapes (2,) and (3,) cannot be broadcast together for '+'", 8),
        ("([1, 2] *\n  [1, 2, 3])", "shapes (2,) and (3,) cannot be broadcast together for '*'", 9),
        ("True + 1", "arithmetic on bool values is not allowed; write 1/0 instead of True/False", 1),
        ("1 + False", "arithmetic on bool values is not allowed", 5),
        ("-True", "arithmetic on bool values is not allowed", 2),
        ("10**10**10", "number too large: 10 ** 10000000000 does not fit int64", 3),
        ("9**9**9", "number too large: 9 ** 387420489 does not fit int64", 2),
        ("2 ** 63", "number too large: 2 ** 63 does not fit int64", 3),
        ("(-3) ** 40", "number too large: (-3) ** 40 does not fit int64", 6),
        ("2 ** -1", "integers to negative integer powers are not allowed; write a float base such as 2.0 ** -1", 6),
        ("2 ** 62 * 2", "integer overflow: the result of '*' does not fit int64", 9),
        ("9223372036854775807 + 1", "integer overflow: the result of '+' does not fit int64", 21),
        ("-9223372036854775808 - 1", "integer overflow: the result of '-' does not fit int64", 22),
        ("-9223372036854775808 // -1", "integer overflow: the result of '//' does not fit int64", 22),
        ("-(-9223372036854775808)", "integer overflow: -(-9223372036854775808) does not fit int64", 1),
        ("-1 * -9223372036854775808", "integer overflow: the result of '*' does not fit int64", 4),
        ("1 // 0", "integer division by zero", 3),
        ("[1, 2] % [1, 0]", "integer modulo by zero", 8),
        ("nan1", "unknown name 'nan1' (did you mean 'nan'?)", 1),
        ("NaN", "unknown name 'NaN' (did you mean 'nan'?)", 1),
        ("Inf", "unknown name 'Inf' (did you mean 'inf'?)", 1),
        ("true", "unknown name 'true' (did you mean 'True'?)", 1),
        ("[1, x]", "unknown name 'x'", 5),
        ("zero(3)", "unknown name 'zero' (did you mean 'zeros'?); the functions are arange, linspace", 1),
        ("zeros", "'zeros' is a function; call it, as in zeros(shape)", 1),
        ("pi(2)", "'pi' is a number, not a function", 1),
        ("(1)(2)", "only the listed functions can be called, as in zeros(3)", 2),
        ("zeros()", "wrong number of arguments for zeros: expected zeros(shape), got 0", 1),
        ("linspace(0, 1)", "wrong number of arguments for linspace: expected linspace(start, stop, num), got 2", 1),
        ("eye(1, 2, 3)", "wrong number of arguments for eye: expected eye(n[, m]), got 3", 1),
        ("zeros(2, dtype=1)", "zeros has no keyword argument 'dtype'", 10),
        ("randn(2, sed=1)", "randn has no keyword argument 'sed'; the only keyword is seed", 10),
        ("randn(2, seed=1, seed=2)", "keyword argument 'seed' is repeated", 18),
        ("randn(2, **{})", "keyword argument unpacking (**) is not allowed", 10),
        ("zeros(*[2])", "starred arguments (*) are not allowed", 7),
        ("randn(2, seed=-1)", "seed must be at least 0, got -1", 15),
        ("randn(2, seed=1.5)", "seed must be an integer, got 1.5", 15),
        ("zeros(-2)", "zeros: negative dimension -2 in shape (-2,)", 7),
        ("zeros((2, -1))", "zeros: negative dimension -1 in shape (2, -1)", 7),
        ("zeros(2.0)", "zeros: shape entry must be an integer, got 2.0", 7),
        ("zeros([2.0, 3])", "zeros: shape entries must be integers, got float values", 7),
        ("zeros(True)", "zeros: shape entry must be a number, got bool True", 7),
        ("zeros(eye(2))", "zeros: shape must be an int or a tuple of ints, got an array of shape (2, 2)", 7),
        ("zeros(10**9)", "too large: 10^9 elements (limit 10^7)", 7),
        ("zeros(12345678)", "too large: 12,345,678 elements (limit 10^7)", 7),
        ("zeros((10**5, 10**5))", "too large: 10^10 elements (limit 10^7)", 7),
        ("ones(10**4, 10**4)", "too large: 10^8 elements (limit 10^7)", 6),
        ("eye(10**4)", "too large: 10^8 elements (limit 10^7)", 1),
        ("arange(10**9)", "too large: 10^9 elements (limit 10^7)", 1),
        ("arange(0, 1, 1e-9)", "too large: 10^9 elements (limit 10^7)", 1),
        ("arange(0, 1e300, 1e-300)", "too large: more than 10^7 elements", 1),
        ("arange(0, inf)", "arange: stop must be finite, got inf", 1),
        ("arange(1, 5, 0)", "arange: step must not be 0", 14),
        ("arange([1, 2])", "arange: stop must be a single number, got an array of shape (2,)", 8),
        ("linspace(0, 1, 10**8)", "too large: 10^8 elements (limit 10^7)", 16),
        ("linspace(0, 1, -1)", "linspace: num must be at least 0, got -1", 16),
        ("full(2, [1, 2])", "full: value must be a single number, got an array of shape (2,)", 9),
        ("randint(5, 5, 3)", "randint: low (5) must be less than high (5)", 12),
        ("randint(0, 1.5, 3)", "randint: high must be an integer, got 1.5", 12),
        ("randn(10**8)", "too large: 10^8 elements (limit 10^7)", 7),
        ("reshape(arange(6), (4,))", "reshape: cannot reshape 6 elements into shape (4,)", 20),
        ("reshape(arange(6), -1, -1)", "reshape: invalid dimension -1 in shape (-1, -1); only one -1 is allowed", 20),
        ("reshape(arange(6), (2, -3))", "reshape: invalid dimension -3 in shape (2, -3)", 20),
        ("reshape(arange(5), (-1, 2))", "reshape: cannot reshape 5 elements into shape (-1, 2)", 20),
        ("transpose(zeros((1, 2)), (0, 0))", "transpose: axes (0, 0) are not a permutation of the 2 axes", 26),
        ("zeros((1,) * 0 + ones(33))", "zeros: shape entries must be integers", 7),
        ("[zeros(6 * 10**6), zeros(6 * 10**6)]", "too large: 12,000,000 elements (limit 10^7)", 1),
        ("arange(0, 10, 1e-300)", "too large: more than 10^300 elements (limit 10^7)", 1),
        ("arange(-9223372036854775808, 9223372036854775807)", "too large: more than 10^19 elements (limit 10^7)", 1),
        ("zeros(10**18, 10**18, 0)",
         "too large: the nonzero dimensions of shape (1000000000000000000, 1000000000000000000, 0) multiply to "
         "10^36 (limit 10^7)", 7),
        ("eye(0, 10**18)", "too large: the nonzero dimensions of shape (0, 1000000000000000000)", 1),
        ("reshape([], 10**18, 0)", "too large: the nonzero dimensions of shape (1000000000000000000, 0)", 13),
        ("reshape([], 0, -1)", "reshape: cannot reshape 0 elements into shape (0, -1)", 13),
        ("zeros((10**4, 1)) + zeros((1, 10**4))", "too large: 10^8 elements (limit 10^7)", 19),
    ],
)
def test_error_message_and_column(text, message, column):
    error = parse_error(text)

    assert message in error.message
    assert error.column == column


def test_error_too_many_dimensions():
    error = parse_error("zeros(" + ", ".join(["1"] * 33) + ")")

    assert error.message == "zeros: too many dimensions: 33 (limit 32)"


def test_error_attributes_and_str_single_line():
    error = parse_error("[1, 2] + [1, 2, 3]")

    assert isinstance(error, ValueError)
    assert error.offset == 7
    assert error.line == 1
    assert error.column == 8
    assert str(error) == "col 8: shapes (2,) and (3,) cannot be broadcast together for '+'"


def test_error_str_multi_line():
    error = parse_error("[[1, 2],\n [3]]")

    assert error.offset == 10
    assert error.line == 2
    assert error.column == 2
    assert str(error) == "line 2, col 2: row 2 has 1 item, expected 2"


def test_error_position_after_carriage_returns():
    error = parse_error("[1,\r\n 2,\r x]")

    assert error.message == "unknown name 'x'"
    assert error.offset == 10
    assert (error.line, error.column) == (3, 2)


def test_error_position_counts_characters_not_bytes():
    error = parse_error("[1, # é€ comment\n 2, €]")

    assert error.message == "invalid character '€' (U+20AC)"
    assert (error.line, error.column) == (2, 5)

    # Python normalizes the fullwidth name to nan, and its column offsets count UTF-8 bytes.
    error = parse_error("[ｎａｎ, 1] + [1, 2, 3]")
    assert error.message == "shapes (2,) and (3,) cannot be broadcast together for '+'"
    assert error.column == 10


def test_error_position_with_leading_whitespace():
    error = parse_error("   \n  [1, y]")

    assert error.message == "unknown name 'y'"
    assert (error.line, error.column) == (2, 7)


def test_error_deeper_row_offset_points_at_row():
    text = "[[1, 2],\n [3, 4],\n [5, 6, 7]]"

    error = parse_error(text)

    assert error.message == "row 3 has 3 items, expected 2"
    assert text[error.offset :].startswith("[5, 6, 7]")
    assert (error.line, error.column) == (3, 2)


def test_python_syntax_errors_convert():
    cases = {
        "[1, 2": (1, "'[' was never closed"),
        "[1, 2]]": (7, "unmatched ']'"),
        "[1 2]": (2, "invalid syntax. Perhaps you forgot a comma?"),
        "1 +\n": (4, "invalid syntax"),
        "x = 1": (3, "invalid syntax"),
        "[1, $]": (5, "invalid syntax"),
        "# only a comment": (1, "invalid syntax"),
    }
    for text, (column, message) in cases.items():
        error = parse_error(text)
        assert error.message == message, text
        assert error.column == column, text


def test_null_character_error():
    error = parse_error("[1,\x002]")

    assert error.message == "null character (U+0000) is not allowed"
    assert error.column == 4


def test_unpaired_surrogate_error():
    error = parse_error("[1, \ud800]")

    assert error.message == "invalid character U+D800 (unpaired surrogate)"
    assert error.column == 5


def test_max_elements_argument():
    assert parse_tensor("zeros(10)", max_elements=10).shape == (10,)

    error = parse_error("zeros(11)", max_elements=10)
    assert error.message == "too large: 11 elements (limit 10)"

    error = parse_error("[1, 2, 3]", max_elements=2)
    assert error.message == "too large: 3 elements (limit 2)"


def test_max_elements_must_be_positive():
    with pytest.raises(ValueError, match="max_elements must be at least 1"):
        parse_tensor("1", max_elements=0)


def test_non_string_input_raises_type_error():
    with pytest.raises(TypeError, match="parse_tensor expects str, got bytes"):
        parse_tensor(b"[1]")


def test_too_much_computation_stops():
    text = " + ".join(["zeros(10**6)"] * 30)

    error = parse_error(text, max_elements=10**6)

    assert error.message == (
        "too much computation: more than 20,000,000 elements created in total; use smaller arrays or fewer operations"
    )


def test_power_counts_as_more_work():
    text = " + ".join(["zeros(10**6) ** 2"] * 3)

    error = parse_error(text, max_elements=10**6)

    assert error.message.startswith("too much computation")


# ---------------------------------------------------------------- hostile input

HOSTILE = [
    ("__import__('os')", "unknown name '__import__'", 1),
    ("__import__('os').system('ls')", "attribute access is not allowed", 18),
    ("().__class__.__bases__[0]", "indexing and slicing are not allowed", 23),
    ("().__class__", "attribute access is not allowed", 4),
    ("lambda: 0", "lambda expressions are not allowed", 1),
    ("open('x','w')", "unknown name 'open'", 1),
    ("[x for x in range(9)]", "comprehensions are not allowed", 1),
    ("(x for x in [1])", "comprehensions are not allowed", 1),
    ("{1: 2}", "dicts are not allowed", 1),
    ("{1, 2}", "sets are not allowed", 1),
    ("'abc'", "strings are not allowed", 1),
    ("b'abc'", "strings are not allowed", 1),
    ("f'{1}'", "f-strings are not allowed", 1),
    ('"a"*10**9', "strings are not allowed", 1),
    ("(y := 3)", "assignment expressions (:=) are not allowed", 2),
    ("[*[1, 2]]", "starred expressions (*) are not allowed", 2),
    ("1 if True else 2", "conditional expressions (if/else) are not allowed", 1),
    ("1 < 2", "comparisons are not allowed", 1),
    ("1 and 2", "'and' and 'or' are not allowed", 1),
    ("not 1", "operator 'not' is not allowed", 1),
    ("~1", "operator '~' is not allowed", 1),
    ("1 @ 2", "operator '@' is not allowed", 3),
    ("1 << 2", "operator '<<' is not allowed", 3),
    ("1 | 2", "operator '|' is not allowed", 3),
    ("1j", "complex numbers are not allowed", 1),
    ("None", "None is not allowed; write nan for a missing value", 1),
    ("...", "Ellipsis is not allowed", 1),
    ("[1][0]", "indexing and slicing are not allowed", 4),
    ("await x", "'await' is not allowed", 1),
    ("(yield)", "'yield' is not allowed", 2),
    ("globals()", "unknown name 'globals'", 1),
    ("zeros.__globals__", "attribute access is not allowed", 7),
    ("zeros(3).T", "attribute access is not allowed", 10),
    ("eval('1')", "unknown name 'eval'", 1),
    ("exec", "unknown name 'exec'", 1),
    ("zeros(10**9)", "too large: 10^9 elements (limit 10^7)", 7),
    ("10**10**10", "number too large", 3),
    ("9**9**9", "number too large", 2),
]


@pytest.mark.parametrize(("text", "message", "column"), HOSTILE)
def test_hostile_input_rejected(text, message, column):
    error = parse_error(text)

    assert message in error.message
    assert error.column == column


def test_hostile_power_fails_fast():
    started = time.perf_counter()
    for text in ("10**10**10", "9**9**9", "2**2**2**2**2**2", "(10**18)**(10**18)"):
        error = parse_error(text)
        assert "number too large" in error.message
    assert time.perf_counter() - started < 1.0


def test_nesting_one_past_max_depth():
    text = "[" * (MAX_DEPTH + 1) + "1" + "]" * (MAX_DEPTH + 1)

    error = parse_error(text)

    assert error.message == "nested too deeply: more than 32 levels of lists, calls or operators"
    assert error.column == MAX_DEPTH + 1


def test_nesting_200_deep():
    error = parse_error("[" * 200 + "]" * 200)

    assert error.message.startswith("nested too deeply")


def test_nesting_100000_deep_is_too_long():
    error = parse_error("[" * 100_000 + "]" * 100_000)

    assert error.message == "text is too long: 200,000 characters (limit 100,000)"


def test_nesting_50000_deep_fails_in_python_parser():
    error = parse_error("[" * 50_000 + "]" * 50_000)

    assert error.message == "too many nested parentheses"


@pytest.mark.parametrize(
    "text",
    [
        "-" * 99_999 + "1",
        "~" * 99_999 + "1",
        "+".join(["1"] * 40_000),
        "**".join(["2"] * 30_000),
        "a" + ".b" * 40_000,
        "a" + "[0]" * 30_000,
        "a" + "()" * 45_000,
        "lambda:" * 12_000 + "1",
        "1 if 1 else " * 8_000 + "1",
    ],
)
def test_deep_python_nesting_converts(text):
    error = parse_error(text)

    assert error.message in {
        "expression is nested too deeply",
        "too many nested parentheses",
    } or error.message.startswith("nested too deeply")


def test_text_length_limit():
    count = (MAX_TEXT_LENGTH - 3) // 2
    text = "[" + "1," * count + "1]" + " " * ((MAX_TEXT_LENGTH - 3) % 2)

    assert len(text) == MAX_TEXT_LENGTH
    assert parse_tensor(text).shape == (count + 1,)

    error = parse_error("1" + " " * MAX_TEXT_LENGTH)
    assert error.message == "text is too long: 100,001 characters (limit 100,000)"
    assert error.offset == MAX_TEXT_LENGTH


def test_hex_literal_too_large_names_value_briefly():
    error = parse_error("0x" + "f" * 90_000)

    assert error.message.startswith("integer 0xffffffffffffffffffffffffffff... (90,002 characters) does not fit int64")


def test_long_unknown_name_is_shortened():
    error = parse_error("a" * 5000)

    assert error.message == "unknown name '" + "a" * 30 + "...'"


def test_default_limits():
    assert MAX_TEXT_LENGTH == 100_000
    assert MAX_DEPTH == 32
    assert MAX_ELEMENTS == 10_000_000


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("array", "text"),
    [
        (np.array(5), "5"),
        (np.array(-9223372036854775808), "-9223372036854775808"),
        (np.array(2.5), "2.5"),
        (np.array(3.0), "3.0"),
        (np.array(-0.0), "-0.0"),
        (np.array(np.nan), "nan"),
        (np.array(np.inf), "inf"),
        (np.array(-np.inf), "-inf"),
        (np.array(True), "True"),
        (np.array(1e-7), "1e-07"),
        (np.array(1e20), "1e+20"),
        (np.array(1234567.0), "1.23457e+06"),
        (np.array(0.1234567), "0.123457"),
        (np.array([1, 2, 3]), "[1, 2, 3]"),
        (np.array([1, -20]), "[  1, -20]"),
        (np.array([1.0, np.nan, -np.inf]), "[ 1.0,  nan, -inf]"),
        (np.array([True, False]), "[ True, False]"),
        (np.array([[1, 2], [3, 4]]), "[[1, 2],\n [3, 4]]"),
        (np.arange(8).reshape(2, 2, 2), "[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]"),
        (np.zeros(0), "[]"),
        (np.zeros((0, 3)), "zeros((0, 3))"),
        (np.zeros((2, 0)), "zeros((2, 0))"),
        (np.zeros(0, dtype=np.int64), "full((0,), 0)"),
        (np.zeros((2, 0, 1), dtype=np.int32), "full((2, 0, 1), 0)"),
        (np.zeros((0,), dtype=bool), "full((0,), False)"),
        (np.array([0.5], dtype=np.float32), "[0.5]"),
        (np.array([7], dtype=np.uint8), "[7]"),
    ],
)
def test_format_tensor_text(array, text):
    assert format_tensor(array) == text


def test_format_precision():
    assert format_tensor(np.array(1 / 3), precision=3) == "0.333"
    assert format_tensor(np.array(1 / 3), precision=17) == "0.3333333333333333"
    assert format_tensor(np.array(0.1), precision=17) == "0.1"


def test_format_rejects_other_dtypes():
    with pytest.raises(TypeError, match="complex128"):
        format_tensor(np.array([1j]))
    with pytest.raises(ValueError, match="precision must be at least 1"):
        format_tensor(np.array(1.0), precision=0)


ROUND_TRIP = [
    np.array(5),
    np.array(-0.0),
    np.array(np.nan),
    np.array(True),
    np.array([1.5, np.nan, np.inf, -np.inf, -0.0, 0.0]),
    np.array([[1, -2], [3, 4]]),
    np.array([[True, False], [False, True]]),
    np.array([1e-300, 5e-324, 1.7976931348623157e308, 123456789.125, 0.1]),
    np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max]),
    np.arange(24.0).reshape(2, 3, 4) / 7,
    np.zeros(0),
    np.zeros((0, 3)),
    np.zeros((3, 0, 2)),
    np.zeros((0, 2), dtype=np.int64),
    np.zeros((0,), dtype=bool),
    np.ones((1,) * MAX_DEPTH),
    np.random.default_rng(3).standard_normal((4, 5)),
]


@pytest.mark.parametrize("array", ROUND_TRIP, ids=lambda array: describe_array(array))
def test_format_round_trip_exact(array):
    text = format_tensor(array, precision=17)
    again = parse_tensor(text)

    assert again.shape == array.shape
    assert again.dtype == array.dtype
    np.testing.assert_array_equal(again, array)
    np.testing.assert_array_equal(np.signbit(again), np.signbit(array))


@pytest.mark.parametrize("array", ROUND_TRIP, ids=lambda array: describe_array(array))
def test_format_round_trip_default_precision(array):
    again = parse_tensor(format_tensor(array))

    assert again.shape == array.shape
    assert again.dtype == array.dtype
    # Rounding to 6 significant digits moves a value by at most 5e-6 of itself.
    np.testing.assert_allclose(again, array, rtol=5e-6)


def test_format_round_trip_float32_keeps_family():
    array = np.array([0.1, 1 / 3], dtype=np.float32)

    again = parse_tensor(format_tensor(array, precision=17))

    assert again.dtype == np.float64
    np.testing.assert_array_equal(again.astype(np.float32), array)


# ---------------------------------------------------------------- describe_array


@pytest.mark.parametrize(
    ("array", "text"),
    [
        (np.zeros((2, 3)), "float64 (2, 3)"),
        (np.arange(3), "int64 (3,)"),
        (np.array(True), "bool ()"),
        (np.zeros((0,), dtype=np.float32), "float32 (0,)"),
    ],
)
def test_describe_array(array, text):
    assert describe_array(array) == text
