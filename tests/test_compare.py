"""Comparison maths: tolerances, differences, special values, views and conventions."""

from __future__ import annotations

import numpy as np
import pytest

from tui.core.catalog.base import Convention, Formulation, View
from tui.core.compare import (
    Tolerance,
    Verdict,
    compare_arrays,
    compare_outputs,
    cosine_similarity,
    tolerance_for,
)

FLOAT32 = Tolerance(1.3e-6, 1e-5)
FLOAT64 = Tolerance(1e-7, 1e-7)
EXACT = Tolerance(0.0, 0.0)

ONE_MINUS = Convention("distance is 1 - similarity", lambda output: 1.0 - output)
DIAGONAL = View("diagonal of the matrix", np.diagonal)


def formulation(convention: Convention | None = None, view: View | None = None) -> Formulation:
    return Formulation("op", "torch:fn", "torch", "fn", lambda x: x, convention, view)


@pytest.mark.parametrize(
    ("dtype", "rtol", "atol"),
    [
        ("float16", 1e-3, 1e-5),
        ("bfloat16", 1.6e-2, 1e-5),
        ("float32", 1.3e-6, 1e-5),
        ("float64", 1e-7, 1e-7),
        ("torch.float16", 1e-3, 1e-5),
        ("torch.bfloat16", 1.6e-2, 1e-5),
        ("torch.float32", 1.3e-6, 1e-5),
        ("torch.float64", 1e-7, 1e-7),
        ("int64", 0.0, 0.0),
        ("int32", 0.0, 0.0),
        ("torch.int64", 0.0, 0.0),
        ("bool", 0.0, 0.0),
    ],
)
def test_tolerance_torch_rule(dtype, rtol, atol):
    assert tolerance_for(dtype) == Tolerance(rtol, atol)


def test_tolerance_numpy_rule():
    assert tolerance_for("float32", "numpy") == Tolerance(1e-5, 1e-8)
    assert tolerance_for("float16", "numpy") == Tolerance(1e-5, 1e-8)
    assert tolerance_for("int64", "numpy") == EXACT


def test_tolerance_exact_rule():
    assert tolerance_for("float32", "exact") == EXACT


def test_tolerance_unknown_rule():
    with pytest.raises(ValueError, match="unknown tolerance rule 'loose'"):
        tolerance_for("float32", "loose")


def test_max_abs_and_rel_diff():
    comparison = compare_arrays(np.array([1.0, 2.0 + 1e-5]), np.array([1.0, 2.0]), FLOAT32)

    assert comparison.max_abs_diff == pytest.approx(1e-5, rel=1e-6)
    assert comparison.max_rel_diff == pytest.approx(5e-6, rel=1e-6)
    assert comparison.total == 2


def test_inside_and_outside_tolerance():
    # Allowed: atol + rtol * |expected| = 1e-5 + 1.3e-6 * 100 = 1.4e-4.
    inside = compare_arrays(np.array([100.0 + 1.3e-4]), np.array([100.0]), FLOAT32)
    outside = compare_arrays(np.array([100.0 + 1.5e-4]), np.array([100.0]), FLOAT32)

    assert inside.verdict is Verdict.MATCH
    assert inside.mismatched == 0
    assert outside.verdict is Verdict.MISMATCH
    assert outside.mismatched == 1


def test_reference_zero_gives_finite_rel_diff():
    # The relative difference divides by max(|expected|, atol), here atol = 1e-5.
    small = compare_arrays(np.array([1e-6, 1.0]), np.array([0.0, 1.0]), FLOAT32)
    large = compare_arrays(np.array([1e-4]), np.array([0.0]), FLOAT32)

    assert small.verdict is Verdict.MATCH
    assert small.max_rel_diff == pytest.approx(0.1)
    assert np.isfinite(small.max_rel_diff)
    assert large.verdict is Verdict.MISMATCH
    assert large.max_rel_diff == pytest.approx(10.0)


def test_nan_at_same_positions_matches():
    comparison = compare_arrays(np.array([[1.0, np.nan], [np.nan, 2.0]]), np.array([[1.0, np.nan], [np.nan, 2.0]]), FLOAT32)

    assert comparison.verdict is Verdict.MATCH
    assert comparison.max_abs_diff == 0.0
    assert comparison.nan_positions == [[0, 1], [1, 0]]


def test_nan_where_reference_is_finite_mismatches():
    comparison = compare_arrays(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), FLOAT32)

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.mismatched == 1
    assert comparison.max_abs_diff == np.inf
    assert comparison.nan_positions == [[0]]


def test_finite_where_reference_is_nan_mismatches():
    comparison = compare_arrays(np.array([0.0, 1.0]), np.array([np.nan, 1.0]), FLOAT32)

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.mismatched == 1
    assert comparison.nan_positions == []


def test_nan_positions_capped_and_counted():
    actual = np.zeros((300, 4))
    actual[::2, 1] = np.nan
    actual[-1, -1] = np.inf

    comparison = compare_arrays(actual, np.zeros((300, 4)), FLOAT64)

    assert comparison.nan_count == 150
    assert len(comparison.nan_positions) == 100
    assert comparison.nan_positions[:2] == [[0, 1], [2, 1]]
    assert comparison.nan_positions[-1] == [198, 1]
    assert comparison.inf_positions == [[299, 3]]
    assert comparison.inf_count == 1
    assert comparison.mismatched == 151


def test_nan_scalar_position_is_empty_index():
    comparison = compare_arrays(np.array(np.nan), np.array(np.nan), FLOAT64)

    assert comparison.verdict is Verdict.MATCH
    assert comparison.nan_positions == [[]]
    assert comparison.nan_count == 1


def test_overflowing_difference_mismatches():
    comparison = compare_arrays(np.array([1e308, 1.0]), np.array([-1e308, 1.0]), FLOAT64)

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.mismatched == 1
    assert comparison.max_abs_diff == np.inf
    assert comparison.cosine == -1.0


def test_same_infinity_matches():
    comparison = compare_arrays(np.array([np.inf, -np.inf, 1.0]), np.array([np.inf, -np.inf, 1.0]), FLOAT32)

    assert comparison.verdict is Verdict.MATCH
    assert comparison.max_abs_diff == 0.0
    assert comparison.inf_positions == [[0], [1]]


@pytest.mark.parametrize(
    ("actual", "expected"),
    [([np.inf], [-np.inf]), ([1.0], [np.inf]), ([np.inf], [1.0]), ([np.nan], [np.inf])],
)
def test_infinity_differences_mismatch(actual, expected):
    comparison = compare_arrays(np.array(actual), np.array(expected), FLOAT32)

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.mismatched == 1
    assert comparison.max_abs_diff == np.inf


def test_shape_mismatch():
    comparison = compare_arrays(np.array([1.0, np.nan, 3.0]), np.array([[1.0, 2.0, 3.0]]), FLOAT32)

    assert comparison.verdict is Verdict.SHAPE
    assert comparison.reason == "shape (3,) vs reference (1, 3)"
    assert comparison.summary == "shape mismatch: shape (3,) vs reference (1, 3)"
    assert comparison.shape == (3,)
    assert comparison.reference_shape == (1, 3)
    assert comparison.nan_positions == [[1]]
    assert comparison.max_abs_diff is None


def test_empty_arrays_match():
    comparison = compare_arrays(np.zeros((0, 3)), np.zeros((0, 3)), FLOAT32)

    assert comparison.verdict is Verdict.MATCH
    assert comparison.total == 0
    assert comparison.max_abs_diff is None
    assert comparison.cosine is None


def test_empty_arrays_of_different_shape():
    comparison = compare_arrays(np.zeros((0, 3)), np.zeros((0,)), FLOAT32)

    assert comparison.verdict is Verdict.SHAPE


def test_scalar_arrays():
    comparison = compare_arrays(np.array(0.5, dtype=np.float32), np.array(0.5), FLOAT32)

    assert comparison.verdict is Verdict.MATCH
    assert comparison.total == 1
    assert comparison.shape == ()


def test_integer_outputs_compare_exactly():
    comparison = compare_arrays(np.array([1, 2, 3]), np.array([1, 2, 4]), tolerance_for("int64"))

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.mismatched == 1
    assert comparison.max_abs_diff == 1.0


def test_bool_outputs_compare_exactly():
    same = compare_arrays(np.array([True, False]), np.array([True, False]), tolerance_for("bool"))
    different = compare_arrays(np.array([True, False]), np.array([True, True]), tolerance_for("bool"))

    assert same.verdict is Verdict.MATCH
    assert different.verdict is Verdict.MISMATCH


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1.0, 2.0], [2.0, 4.0], 1.0),
        ([1.0, 2.0], [-1.0, -2.0], -1.0),
        ([1.0, 0.0], [0.0, 3.0], 0.0),
        ([[1.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], 1.0),
        ([0.0, 0.0], [0.0, 0.0], 1.0),
        ([np.nan, 3.0, 4.0], [5.0, 3.0, 4.0], 1.0),
        ([np.inf, 1.0, 0.0], [1.0, 0.0, 1.0], 0.0),
    ],
)
def test_cosine_of_flattened_outputs(a, b, expected):
    assert cosine_similarity(np.array(a), np.array(b)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([0.0, 0.0], [1.0, 2.0]),
        ([1.0, 2.0], [0.0, 0.0]),
        ([1.0, 2.0], [1.0, 2.0, 3.0]),
        ([], []),
        ([np.nan, np.inf], [1.0, 2.0]),
    ],
)
def test_cosine_undefined(a, b):
    assert cosine_similarity(np.array(a), np.array(b)) is None


def test_cosine_not_reported_when_nothing_is_finite():
    comparison = compare_arrays(np.array([1.0]), np.array([np.inf]), FLOAT32)

    assert comparison.cosine is None


def test_cosine_stays_in_range():
    value = cosine_similarity(np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3]))

    assert -1.0 <= value <= 1.0


def test_compare_outputs_without_reference():
    comparison = compare_outputs(formulation(), [np.array([1.0])], "float32", None)

    assert comparison.verdict is Verdict.NO_REFERENCE
    assert comparison.summary == "no reference: the reference did not produce a value"


def test_compare_outputs_uses_output_dtype_tolerance():
    # A float16 output 4e-4 away from 1.0 is inside float16's 1e-3 but outside float32's 1.3e-6.
    outputs = [np.array([1.0004])]

    assert compare_outputs(formulation(), outputs, "float16", [np.array([1.0])]).verdict is Verdict.MATCH
    assert compare_outputs(formulation(), outputs, "float32", [np.array([1.0])]).verdict is Verdict.MISMATCH


def test_compare_outputs_tolerance_rules():
    # 5e-3 away from 1000: torch's float32 rule allows 1.31e-3, np.allclose's allows 1e-2.
    outputs = [np.array([1000.005])]
    reference = [np.array([1000.0])]

    assert compare_outputs(formulation(), outputs, "float32", reference, "torch").verdict is Verdict.MISMATCH
    assert compare_outputs(formulation(), outputs, "float32", reference, "numpy").verdict is Verdict.MATCH
    assert compare_outputs(formulation(), [np.array([1000.0])], "float32", reference, "exact").verdict is Verdict.MATCH


def test_convention_not_applied_when_raw_output_matches():
    # 1 - 0.5 = 0.5, so the raw output and the mapped one both match; raw wins.
    comparison = compare_outputs(formulation(ONE_MINUS), [np.array([0.5])], "float64", [np.array([0.5])])

    assert comparison.verdict is Verdict.MATCH
    assert comparison.reason == ""


def test_convention_applied_when_raw_output_differs():
    comparison = compare_outputs(formulation(ONE_MINUS), [np.array([0.25, 1.0])], "float64", [np.array([0.75, 0.0])])

    assert comparison.verdict is Verdict.CONVENTION
    assert comparison.reason == "distance is 1 - similarity"
    assert comparison.summary == "differs by convention: distance is 1 - similarity"
    assert comparison.verdict.agrees


def test_convention_that_does_not_explain_reports_raw_mismatch():
    # Raw: |0.3 - 0.2| = 0.1. Mapped: |0.7 - 0.2| = 0.5. The raw numbers are reported.
    comparison = compare_outputs(formulation(ONE_MINUS), [np.array([0.3])], "float64", [np.array([0.2])])

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.max_abs_diff == pytest.approx(0.1)
    assert comparison.summary == "mismatch: 1 of 1 outside tolerance"
    assert not comparison.verdict.agrees


def test_view_compares_matrix_diagonal():
    matrix = np.array([[0.5, 9.0], [9.0, -0.25]])

    comparison = compare_outputs(formulation(view=DIAGONAL), [matrix], "float64", [np.array([0.5, -0.25])])

    assert comparison.verdict is Verdict.MATCH
    assert comparison.shape == (2,)


def test_view_then_convention():
    matrix = np.array([[0.25, 9.0], [9.0, 1.0]])

    comparison = compare_outputs(formulation(ONE_MINUS, DIAGONAL), [matrix], "float64", [np.array([0.75, 0.0])])

    assert comparison.verdict is Verdict.CONVENTION


def test_multi_output_merge_keeps_worst_verdict():
    outputs = [np.array([1.0, 2.0]), np.array([3.0, 5.0, np.nan])]
    reference = [np.array([1.0, 2.0]), np.array([3.0, 4.0, np.nan])]

    comparison = compare_outputs(formulation(), outputs, "float64", reference)

    assert comparison.verdict is Verdict.MISMATCH
    assert comparison.mismatched == 1
    assert comparison.total == 5
    assert comparison.max_abs_diff == pytest.approx(1.0)
    assert comparison.max_rel_diff == pytest.approx(0.25)
    assert comparison.shape == (2,)
    # The smallest cosine of the outputs: (9 + 20) / (5 * sqrt(34)).
    assert comparison.cosine == pytest.approx(29 / (5 * np.sqrt(34)))


def test_multi_output_all_matching():
    outputs = [np.array([1.0]), np.array([2, 3])]
    reference = [np.array([1.0]), np.array([2, 3])]

    comparison = compare_outputs(formulation(), outputs, "float64", reference)

    assert comparison.verdict is Verdict.MATCH
    assert comparison.total == 3


def test_multi_output_shape_mismatch_wins():
    outputs = [np.array([1.0, 2.0]), np.array([9.0])]
    reference = [np.array([1.0]), np.array([3.0])]

    comparison = compare_outputs(formulation(), outputs, "float64", reference)

    assert comparison.verdict is Verdict.SHAPE
    assert comparison.reason == "shape (2,) vs reference (1,)"


def test_output_count_differs():
    comparison = compare_outputs(formulation(), [np.array([1.0]), np.array([2.0])], "float64", [np.array([1.0])])

    assert comparison.verdict is Verdict.SHAPE
    assert comparison.reason == "2 outputs vs 1 in the reference"


def test_to_json():
    comparison = compare_arrays(np.array([1.0, np.nan]), np.array([1.5, 2.0]), FLOAT64)

    assert comparison.to_json() == {
        "verdict": "mismatch",
        "reason": "",
        "shape": [2],
        "reference_shape": [2],
        "max_abs_diff": np.inf,
        "max_rel_diff": np.inf,
        "mismatched": 2,
        "total": 2,
        "nan_positions": [[1]],
        "inf_positions": [],
        "nan_count": 1,
        "inf_count": 0,
        "cosine": 1.0,
        "rtol": 1e-7,
        "atol": 1e-7,
    }
