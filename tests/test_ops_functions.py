"""clip, one_hot, linear, einsum and where on real frameworks, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tui.core.catalog import OPS, get_op
from tui.core.catalog.base import InputError, ParamError
from tui.core.catalog.einsum import reference_einsum
from tui.core.compare import Tolerance, Verdict
from tui.core.run import build_request

DTYPES = ["float32", "float64"]


def diagnostics_mention(run, text: str) -> bool:
    return any(text in message for message in run.diagnostics)


def validate(op_id: str, inputs: dict, params: dict | None = None):
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    return build_request(get_op(op_id), arrays, params or {})


def test_catalog_order_and_formulations():
    assert list(OPS)[:9] == [
        "softmax",
        "cross_entropy",
        "cosine_similarity",
        "clip",
        "one_hot",
        "linear",
        "einsum",
        "where",
        "accuracy",
    ]
    assert [formulation.id for formulation in get_op("where").all_formulations()] == [
        "reference",
        "torch:torch_where",
        "torch:torch_nonzero",
        "tensorflow:tf_where",
        "numpy:numpy_where",
        "numpy:numpy_argwhere",
    ]


# clip

CLIP_FORMULATIONS = (
    "reference",
    "torch:torch_clamp",
    "tensorflow:tf_clip_by_value",
    "tensorflow:keras_ops_clip",
    "numpy:numpy_clip",
)
MAX_LAST = ("reference", "torch:torch_clamp", "numpy:numpy_clip")
MIN_LAST = ("tensorflow:tf_clip_by_value", "tensorflow:keras_ops_clip")


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_every_formulation(run_op, dtype):
    run = run_op("clip", {"x": [-1.5, -0.2, 0.0, 0.3, 0.7, 1.0, 2.5]}, {"min": 0.0, "max": 1.0}, dtype=dtype)

    expected = np.array([0.0, 0.0, 0.0, 0.3, 0.7, 1.0, 1.0], dtype=dtype)
    for formulation in CLIP_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), expected, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert run["torch:torch_clamp"].dtypes == [f"torch.{dtype}"]
    assert run["tensorflow:tf_clip_by_value"].dtypes == [dtype]
    assert run["numpy:numpy_clip"].dtypes == [dtype]
    assert run.diagnostics == []


def test_clip_inverted_bounds(run_op):
    run = run_op("clip", {"x": [-1.0, 0.0, 0.3, 2.0]}, {"min": 0.5, "max": -0.5})

    for formulation in MAX_LAST:
        np.testing.assert_array_equal(run.output(formulation), [-0.5, -0.5, -0.5, -0.5], err_msg=formulation)
    for formulation in MIN_LAST:
        np.testing.assert_array_equal(run.output(formulation), [0.5, 0.5, 0.5, 0.5], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation
    assert run.compare("torch:torch_clamp").verdict is Verdict.MATCH
    assert run.compare("numpy:numpy_clip").verdict is Verdict.MATCH
    assert diagnostics_mention(run, "inverted bounds: min=0.5 is above max=-0.5")
    assert diagnostics_mention(run, "torch.clamp and np.clip apply max last, so every element becomes -0.5")
    assert diagnostics_mention(run, "tf.clip_by_value and keras.ops.clip apply min last, so every element becomes 0.5")


def test_clip_one_bound_omitted(run_op):
    run = run_op("clip", {"x": [-1.0, 0.0, 0.3, 2.0]}, {"min": None, "max": 1.0})

    for formulation in CLIP_FORMULATIONS:
        np.testing.assert_allclose(run.output(formulation), [-1.0, 0.0, 0.3, 1.0], rtol=1e-7, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_clip_both_bounds_omitted(run_op):
    run = run_op("clip", {"x": [-1.0, 2.0]}, {"min": "", "max": ""})

    assert run["torch:torch_clamp"].error.type == "RuntimeError"
    assert "At least one of 'min' or 'max' must not be None" in run["torch:torch_clamp"].error.message
    for formulation in ("reference", "numpy:numpy_clip", *MIN_LAST):
        np.testing.assert_array_equal(run.output(formulation), [-1.0, 2.0], err_msg=formulation)
    assert diagnostics_mention(run, "no bounds given")


def test_clip_nan_and_infinities(run_op):
    run = run_op("clip", {"x": [np.nan, np.inf, -np.inf, 0.5]}, {"min": 0.0, "max": 1.0})

    for formulation in CLIP_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [np.nan, 1.0, 0.0, 0.5], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert diagnostics_mention(run, "x contains NaN")


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_huge_values(run_op, dtype):
    run = run_op("clip", {"x": [3e38, -3e38, 1e-30]}, {"min": -1e30, "max": 1e30}, dtype=dtype)

    for formulation in CLIP_FORMULATIONS:
        np.testing.assert_allclose(run.output(formulation), [1e30, -1e30, 1e-30], rtol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_clip_empty(run_op):
    run = run_op("clip", {"x": np.zeros(0)}, {"min": 0.0, "max": 1.0})

    for formulation in CLIP_FORMULATIONS:
        assert run.output(formulation).shape == (0,), formulation


def test_clip_rejects_invalid_bounds():
    with pytest.raises(ParamError, match="min: 'low' is not a number"):
        validate("clip", {"x": [1.0]}, {"min": "low"})
    with pytest.raises(ParamError, match="max: inf is not a finite number"):
        validate("clip", {"x": [1.0]}, {"max": "inf"})
    with pytest.raises(ParamError, match="min: nan is not a finite number"):
        validate("clip", {"x": [1.0]}, {"min": float("nan")})


# one_hot

ONE_HOT_FORMULATIONS = (
    "reference",
    "torch:torch_one_hot",
    "tensorflow:tf_one_hot",
    "tensorflow:keras_to_categorical_tensor",
    "tensorflow:keras_to_categorical_array",
    "numpy:numpy_eye_indexing",
)
ONE_HOT_DTYPES = {
    "reference": ["float64"],
    "torch:torch_one_hot": ["torch.int64"],
    "tensorflow:tf_one_hot": ["float32"],
    "tensorflow:keras_to_categorical_tensor": ["float32"],
    "tensorflow:keras_to_categorical_array": ["float64"],
    "numpy:numpy_eye_indexing": ["float64"],
}


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_every_formulation(run_op, dtype):
    run = run_op("one_hot", {"indices": [0, 2, 1, 0]}, {"depth": 3}, dtype=dtype)

    expected = [[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]
    for formulation in ONE_HOT_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), expected, err_msg=formulation)
        assert run[formulation].dtypes == ONE_HOT_DTYPES[formulation], formulation
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_one_hot_integer_output_compares_exactly(run_op):
    run = run_op("one_hot", {"indices": [1]}, {"depth": 2})

    assert run.compare("torch:torch_one_hot").tolerance == Tolerance(0.0, 0.0)
    assert run.compare("tensorflow:tf_one_hot").tolerance == Tolerance(1.3e-6, 1e-5)


def test_one_hot_out_of_range_conventions(run_op):
    run = run_op("one_hot", {"indices": [0, -1, 3]}, {"depth": 3})

    zero_rows = [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    for formulation in ("reference", "tensorflow:tf_one_hot", "tensorflow:keras_to_categorical_tensor"):
        np.testing.assert_array_equal(run.output(formulation), zero_rows, err_msg=formulation)
    assert run["tensorflow:tf_one_hot"].dtypes == ["float32"]
    assert run.compare("tensorflow:tf_one_hot").verdict is Verdict.MATCH

    torch_error = run["torch:torch_one_hot"].error
    assert (torch_error.type, torch_error.message) == ("RuntimeError", "Class values must be non-negative.")
    for formulation in ("numpy:numpy_eye_indexing", "tensorflow:keras_to_categorical_array"):
        assert run[formulation].error.type == "IndexError", formulation
        assert "index 3 is out of bounds" in run[formulation].error.message, formulation

    assert diagnostics_mention(run, "negative indices [-1]: tf.one_hot gives zero rows, F.one_hot raises RuntimeError")
    assert diagnostics_mention(run, "indices [3] are >= depth=3")


def test_one_hot_negative_index_wraps_in_numpy(run_op):
    run = run_op("one_hot", {"indices": [0, -1]}, {"depth": 3})

    for formulation in ("numpy:numpy_eye_indexing", "tensorflow:keras_to_categorical_array"):
        np.testing.assert_array_equal(run.output(formulation), [[1, 0, 0], [0, 0, 1]], err_msg=formulation)
        assert run[formulation].dtypes == ["float64"], formulation
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation
    np.testing.assert_array_equal(run.output("tensorflow:tf_one_hot"), [[1, 0, 0], [0, 0, 0]])


def test_one_hot_too_large_index_in_torch(run_op):
    run = run_op("one_hot", {"indices": [2**40]}, {"depth": 3})

    np.testing.assert_array_equal(run.output("tensorflow:tf_one_hot"), [[0, 0, 0]])
    assert run["torch:torch_one_hot"].error.message == "Class values must be smaller than num_classes."
    assert run["numpy:numpy_eye_indexing"].error.type == "IndexError"


def test_one_hot_to_categorical_squeezes_trailing_axis(run_op):
    run = run_op("one_hot", {"indices": [[0], [2]]}, {"depth": 3})

    assert run.output("reference").shape == (2, 1, 3)
    assert run.output("torch:torch_one_hot").shape == (2, 1, 3)
    for formulation in ("tensorflow:keras_to_categorical_tensor", "tensorflow:keras_to_categorical_array"):
        np.testing.assert_array_equal(run.output(formulation), [[1, 0, 0], [0, 0, 1]], err_msg=formulation)
        comparison = run.compare(formulation)
        assert comparison.verdict is Verdict.CONVENTION, formulation
        assert "squeezes a trailing axis of size 1" in comparison.reason
    assert diagnostics_mention(run, "keras.utils.to_categorical squeezes it")


def test_one_hot_depth_zero(run_op):
    run = run_op("one_hot", {"indices": [0, 1]}, {"depth": 0})

    assert run.output("reference").shape == (2, 0)
    assert run.output("tensorflow:tf_one_hot").shape == (2, 0)
    assert run["torch:torch_one_hot"].error.type == "RuntimeError"
    np.testing.assert_array_equal(run.output("tensorflow:keras_to_categorical_array"), [[1, 0], [0, 1]])
    assert run.compare("tensorflow:keras_to_categorical_array").verdict is Verdict.SHAPE
    assert diagnostics_mention(run, "treats num_classes=0 as not given")


def test_one_hot_empty_indices(run_op):
    run = run_op("one_hot", {"indices": np.zeros(0, dtype=np.int64)}, {"depth": 3})

    for formulation in ONE_HOT_FORMULATIONS:
        assert run.output(formulation).shape == (0, 3), formulation


def test_one_hot_rejects_invalid_depth():
    with pytest.raises(ParamError, match="depth: -1 is below the minimum 0"):
        validate("one_hot", {"indices": [0]}, {"depth": "-1"})
    with pytest.raises(ParamError, match="depth: '2.5' is not an integer"):
        validate("one_hot", {"indices": [0]}, {"depth": 2.5})
    with pytest.raises(ParamError, match="gives 20,000,000 elements, above the limit of 10,000,000"):
        validate("one_hot", {"indices": np.zeros(20, dtype=np.int64)}, {"depth": 1_000_000})
    with pytest.raises(ParamError, match="depth=20000000 for 0 indices gives 20,000,000 elements"):
        validate("one_hot", {"indices": np.zeros(0, dtype=np.int64)}, {"depth": 20_000_000})


# linear

LINEAR_FORMULATIONS = (
    "reference",
    "torch:torch_linear_module",
    "torch:torch_functional_linear",
    "tensorflow:keras_dense",
    "tensorflow:tf_matmul_bias",
)
SQUARE = {"x": [[1.0, 0.0]], "weight": [[1.0, 2.0], [3.0, 4.0]], "bias": [0.0, 0.0]}


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_every_formulation(run_op, dtype):
    inputs = {
        "x": [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]],
        "weight": [[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]],
        "bias": [0.5, -0.5],
    }
    run = run_op("linear", inputs, dtype=dtype)

    # Row 1: 0.1 + 0.4 + 0.9 + 0.5 and -0.4 + 1.0 + 1.8 - 0.5; row 2: 0.05 - 0.2 + 0.5 and -0.2 - 0.5 - 0.5.
    expected = [[1.9, 1.9], [0.35, -1.2]]
    for formulation in LINEAR_FORMULATIONS:
        np.testing.assert_allclose(run.output(formulation), expected, rtol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert run["torch:torch_linear_module"].dtypes == [f"torch.{dtype}"]
    assert run["tensorflow:keras_dense"].dtypes == [dtype]
    assert run.diagnostics == []


def test_linear_square_weight_transposed(run_op):
    run = run_op("linear", SQUARE, {"keras_kernel": "transposed"})

    for formulation in LINEAR_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[1.0, 3.0]], err_msg=formulation)
    assert run.details["torch_weight_layout"] == "nn.Linear.weight: (out, in) = (2, 2)"
    assert run.details["keras_kernel_layout"] == "Dense.kernel: (in, out) = (2, 2)"
    np.testing.assert_array_equal(run.details["kernel_given_to_keras"], [[1.0, 3.0], [2.0, 4.0]])


def test_linear_square_weight_untransposed_is_silent(run_op):
    run = run_op("linear", SQUARE, {"keras_kernel": "as_is"})

    np.testing.assert_array_equal(run.output("tensorflow:keras_dense"), [[1.0, 2.0]])
    assert run["tensorflow:keras_dense"].error is None
    assert run.compare("tensorflow:keras_dense").verdict is Verdict.MISMATCH
    np.testing.assert_array_equal(run.output("torch:torch_linear_module"), [[1.0, 3.0]])
    assert diagnostics_mention(run, "SILENT WRONG RESULT: keras_kernel=as_is with a square (2, 2) weight")
    assert diagnostics_mention(run, "a square matrix passes every shape check")
    np.testing.assert_array_equal(run.details["kernel_given_to_keras"], [[1.0, 2.0], [3.0, 4.0]])


def test_linear_symmetric_weight_agrees_by_chance(run_op):
    inputs = {"x": [[1.0, 0.0]], "weight": [[1.0, 2.0], [2.0, 1.0]], "bias": [0.0, 0.0]}
    run = run_op("linear", inputs, {"keras_kernel": "as_is"})

    np.testing.assert_array_equal(run.output("tensorflow:keras_dense"), [[1.0, 2.0]])
    assert run.compare("tensorflow:keras_dense").verdict is Verdict.MATCH
    assert diagnostics_mention(run, "symmetric, so the results agree here by chance")


def test_linear_rectangular_weight_untransposed_raises(run_op):
    inputs = {"x": [[1.0, 0.0, 0.0]], "weight": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "bias": [0.0, 0.0]}
    run = run_op("linear", inputs, {"keras_kernel": "as_is"})

    error = run["tensorflow:keras_dense"].error
    assert error.type == "ValueError"
    assert "weight shape (3, 2) is not compatible with provided weight shape (2, 3)" in error.message
    np.testing.assert_array_equal(run.output("torch:torch_functional_linear"), [[1.0, 4.0]])
    assert diagnostics_mention(run, "so set_weights raises ValueError")


def test_linear_nan_inf_and_empty(run_op):
    run = run_op("linear", {"x": [[np.inf, 1.0]], "weight": [[1.0, 0.0], [0.0, 1.0]], "bias": [0.0, 0.0]})

    # inf * 0 is NaN, so the second output is NaN everywhere.
    for formulation in LINEAR_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[np.inf, np.nan]], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation

    empty = run_op("linear", {"x": np.zeros((0, 2)), "weight": [[1.0, 2.0], [3.0, 4.0]], "bias": [0.0, 0.0]})
    for formulation in LINEAR_FORMULATIONS:
        assert empty.output(formulation).shape == (0, 2), formulation


def test_linear_float32_overflow(run_op):
    run = run_op("linear", {"x": [[3e38, 3e38]], "weight": [[1.0, 1.0]], "bias": [0.0]})

    np.testing.assert_allclose(run.output("reference"), [[6e38]], rtol=1e-6)
    assert np.isinf(run.output("torch:torch_functional_linear")).all()
    assert run.compare("torch:torch_functional_linear").verdict is Verdict.MISMATCH


def test_linear_rejects_keras_layout_weight():
    with pytest.raises(InputError, match=r"weight: expected \(out, 3\).*got \(3, 2\); it looks like a Keras"):
        validate("linear", {"x": [[1.0, 2.0, 3.0]], "weight": np.ones((3, 2)), "bias": [0.0, 0.0]})
    with pytest.raises(InputError, match=r"bias: expected shape \(2,\)"):
        validate("linear", {"x": [[1.0, 2.0]], "weight": np.ones((2, 2)), "bias": [0.0]})
    with pytest.raises(ParamError, match="keras_kernel: 'flipped' is not one of: transposed, as_is"):
        validate("linear", SQUARE, {"keras_kernel": "flipped"})


# einsum

EINSUM_FORMULATIONS = ("reference", "torch:torch_einsum", "tensorflow:tf_einsum", "numpy:numpy_einsum")
TALL = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
ROW = [[10.0, 100.0]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_einsum_every_formulation(run_op, dtype):
    inputs = {"a": [[1.0, 2.0], [3.0, 4.0]], "b": [[5.0, 6.0], [7.0, 8.0]]}
    run = run_op("einsum", inputs, {"equation": "ij,jk->ik"}, dtype=dtype)

    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[19.0, 22.0], [43.0, 50.0]], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert run["numpy:numpy_einsum"].dtypes == [dtype]


def test_einsum_size_one_broadcast_fails_in_tensorflow(run_op):
    run = run_op("einsum", {"a": TALL, "b": ROW}, {"equation": "ab,ab->ab"})

    expected = [[10.0, 200.0], [30.0, 400.0], [50.0, 600.0], [70.0, 800.0]]
    for formulation in ("reference", "torch:torch_einsum", "numpy:numpy_einsum"):
        np.testing.assert_array_equal(run.output(formulation), expected, err_msg=formulation)
    assert run["tensorflow:tf_einsum"].error.type == "InvalidArgumentError"
    assert diagnostics_mention(run, "'a' is 4 in a and 1 in b")
    assert diagnostics_mention(run, "'...b,...b->...b' works in all three")

    fixed = run_op("einsum", {"a": TALL, "b": ROW}, {"equation": "...b,...b->...b"})
    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(fixed.output(formulation), expected, err_msg=formulation)
    assert fixed.diagnostics == []


def test_einsum_three_operands_and_trace(run_op):
    run = run_op("einsum", {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0], "c": [7.0, 8.0, 9.0]}, {"equation": "i,i,i->"})
    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), 270.0, err_msg=formulation)

    trace = run_op("einsum", {"a": [[1.0, 2.0], [3.0, 4.0]]}, {"equation": "ii->"})
    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(trace.output(formulation), 5.0, err_msg=formulation)


def test_einsum_implicit_output_transposes(run_op):
    run = run_op("einsum", {"a": [[1.0, 2.0], [3.0, 4.0]]}, {"equation": "ba"})

    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[1.0, 3.0], [2.0, 4.0]], err_msg=formulation)
    assert diagnostics_mention(run, "sorted alphabetically: 'ab'")

    # Upper case sorts first, so "bA" is also a transpose.
    upper = run_op("einsum", {"a": [[1.0, 2.0, 3.0]]}, {"equation": "bA"})
    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(upper.output(formulation), [[1.0], [2.0], [3.0]], err_msg=formulation)
    assert diagnostics_mention(upper, "sorted alphabetically: 'Ab'")


def test_einsum_ellipsis_missing_from_output(run_op):
    run = run_op("einsum", {"a": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}, {"equation": "...i->i"})

    for formulation in ("reference", "torch:torch_einsum"):
        np.testing.assert_array_equal(run.output(formulation), [5.0, 7.0, 9.0], err_msg=formulation)
    assert run["numpy:numpy_einsum"].error.type == "ValueError"
    assert run["tensorflow:tf_einsum"].error.type == "InvalidArgumentError"
    assert diagnostics_mention(run, "'...' covers 1 axis but the output has no '...'")


def test_einsum_nan_inf_and_empty(run_op):
    run = run_op("einsum", {"a": [np.inf, 1.0], "b": [0.0, 1.0]}, {"equation": "i,i->i"})
    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [np.nan, 1.0], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation

    empty = run_op("einsum", {"a": np.zeros(0), "b": np.zeros(0)}, {"equation": "i,i->"})
    for formulation in EINSUM_FORMULATIONS:
        np.testing.assert_array_equal(empty.output(formulation), 0.0, err_msg=formulation)


def test_einsum_float32_overflow(run_op):
    run = run_op("einsum", {"a": [1e20, 1e20], "b": [1e20, 1e20]}, {"equation": "i,i->"})

    np.testing.assert_allclose(run.output("reference"), 2e40, rtol=1e-6)
    for formulation in EINSUM_FORMULATIONS[1:]:
        assert np.isinf(run.output(formulation)), formulation
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ii->i", [(3, 3)]),
        ("iij->ij", [(3, 3, 2)]),
        ("bA", [(2, 3)]),
        ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
        ("...i,...i->...", [(2, 1, 3), (4, 3)]),
        ("ab,ab->ab", [(4, 2), (1, 2)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
        (",->", [(), ()]),
        ("a b , b c -> a c", [(2, 3), (3, 2)]),
    ],
)
def test_einsum_reference_agrees_with_numpy(equation, shapes):
    operands = [np.random.default_rng(7).standard_normal(shape) for shape in shapes]
    padded = operands + [None] * (3 - len(operands))

    reference = reference_einsum(equation, *padded)

    expected = np.einsum(equation, *operands, optimize=False)
    assert np.shape(reference) == expected.shape
    np.testing.assert_allclose(reference, expected, rtol=1e-12, atol=1e-12)


def test_einsum_rejects_mismatched_equation():
    two = {"a": np.ones((2, 3)), "b": np.ones((3, 4))}
    with pytest.raises(ParamError, match=r"'ij' has 1 operand term, but 2 operands \(a, b\) are given"):
        validate("einsum", two, {"equation": "ij"})
    with pytest.raises(ParamError, match=r"'ijk' names 3 axes, but a is 2-D \(2, 3\)"):
        validate("einsum", two, {"equation": "ijk,jk->ik"})
    with pytest.raises(InputError, match="b: subscript 'j' has sizes 3 in a and 4 in b"):
        validate("einsum", {"a": np.ones((2, 3)), "b": np.ones((4, 4))}, {"equation": "ij,jk->ik"})
    with pytest.raises(InputError, match="c: c is given but b is not"):
        validate("einsum", {"a": np.ones(2), "c": np.ones(2)}, {"equation": "i,i->"})
    with pytest.raises(ParamError, match=r"'\$' is not a subscript"):
        validate("einsum", {"a": np.ones(2)}, {"equation": "$->"})
    with pytest.raises(ParamError, match="the output subscript 'k' appears in no operand"):
        validate("einsum", {"a": np.ones(2)}, {"equation": "i->k"})
    with pytest.raises(ParamError, match="above the reference's limit of 10,000,000"):
        validate("einsum", {"a": np.ones(4000), "b": np.ones(4000)}, {"equation": "i,j->ij"})


# where

ROWS_FORMULATIONS = ("reference", "tensorflow:tf_where", "torch:torch_nonzero", "numpy:numpy_argwhere")
TUPLE_FORMULATIONS = ("torch:torch_where", "numpy:numpy_where")
SELECT_FORMULATIONS = ("reference", "torch:torch_where", "tensorflow:tf_where", "numpy:numpy_where")
DIAGONAL = [[True, False], [False, True]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_select_every_formulation(run_op, dtype):
    inputs = {"condition": DIAGONAL, "x": [[1.0, 2.0], [3.0, 4.0]], "y": [[-1.0, -2.0], [-3.0, -4.0]]}
    run = run_op("where", inputs, dtype=dtype)

    for formulation in SELECT_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[1.0, -2.0], [-3.0, 4.0]], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert run["tensorflow:tf_where"].dtypes == [dtype]
    for formulation in ("torch:torch_nonzero", "numpy:numpy_argwhere"):
        assert run[formulation].error.type == "NotApplicable", formulation


def test_where_condition_only_layouts(run_op):
    run = run_op("where", {"condition": DIAGONAL})

    for formulation in ROWS_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[0, 0], [1, 1]], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert run["tensorflow:tf_where"].dtypes == ["int64"]
    assert run["torch:torch_nonzero"].dtypes == ["torch.int64"]
    for formulation in TUPLE_FORMULATIONS:
        outputs = run[formulation].outputs
        assert len(outputs) == 2, formulation
        np.testing.assert_array_equal(outputs[0], [0, 1], err_msg=formulation)
        np.testing.assert_array_equal(outputs[1], [0, 1], err_msg=formulation)
    np.testing.assert_array_equal(run.details["per_axis_indices"], run.details["coordinate_rows"].T)
    assert diagnostics_mention(run, "tf.where, torch.nonzero and np.argwhere return one (2, 2) int64 array")
    assert diagnostics_mention(run, "torch.nonzero matches tf.where, not np.nonzero")


def test_where_tuple_convention_1d(run_op):
    run = run_op("where", {"condition": [True, False, True]})

    np.testing.assert_array_equal(run.output("reference"), [[0], [2]])
    for formulation in TUPLE_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [0, 2], err_msg=formulation)
        comparison = run.compare(formulation)
        assert comparison.verdict is Verdict.CONVENTION, formulation
        assert "per-axis index arrays" in comparison.reason


def test_where_tuple_convention_2d(run_op):
    run = run_op("where", {"condition": DIAGONAL})

    for formulation in TUPLE_FORMULATIONS:
        assert run.compare(formulation).verdict is Verdict.CONVENTION, formulation


def test_where_zero_d_and_empty_condition(run_op):
    scalar = run_op("where", {"condition": np.array(True)})
    assert scalar.output("reference").shape == (1, 0)
    assert scalar.output("numpy:numpy_argwhere").shape == (1, 0)
    assert scalar.output("torch:torch_nonzero").shape == (1, 0)
    assert scalar["numpy:numpy_where"].error.type == "ValueError"
    assert scalar["tensorflow:tf_where"].error.type == "InvalidArgumentError"
    assert diagnostics_mention(scalar, "0-d condition")

    empty = run_op("where", {"condition": np.zeros((0, 2), dtype=bool)})
    for formulation in ROWS_FORMULATIONS:
        assert empty.output(formulation).shape == (0, 2), formulation


def test_where_select_broadcasts_and_keeps_nan(run_op):
    inputs = {"condition": DIAGONAL, "x": [np.nan, np.inf], "y": [[0.0], [-1.0]]}
    run = run_op("where", inputs)

    for formulation in SELECT_FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), [[np.nan, 0.0], [-1.0, np.inf]], err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert diagnostics_mention(run, "are broadcast to (2, 2)")


def test_where_select_huge_values(run_op):
    # 1e39 is beyond float32's max (about 3.4e38), so it is inf before where runs, in the reference too.
    inputs = {"condition": [True, False], "x": [3e38, 0.0], "y": [0.0, 1e39]}
    run = run_op("where", inputs)

    for formulation in SELECT_FORMULATIONS:
        np.testing.assert_allclose(run.output(formulation), [3e38, np.inf], rtol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_where_rejects_half_select_form():
    with pytest.raises(InputError, match="y: x is given but y is not"):
        validate("where", {"condition": [True], "x": [1.0]})
    with pytest.raises(InputError, match="do not broadcast together"):
        validate("where", {"condition": [True, False], "x": [1.0, 2.0, 3.0], "y": [0.0]})
