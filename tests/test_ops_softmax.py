"""Softmax formulations on real frameworks, against values worked out by hand.

softmax(v)_i = exp(v_i - max v) / sum_j exp(v_j - max v); for example
softmax([1, 2]) = [0.2689414213699951, 0.7310585786300049].
"""

from __future__ import annotations

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.compare import Verdict

TORCH = ("torch:torch_functional_softmax", "torch:torch_softmax_module")
KERAS_LAYER = "tensorflow:keras_softmax_layer"
TENSORFLOW = ("tensorflow:tf_softmax", KERAS_LAYER)
ALL = ("reference", *TORCH, *TENSORFLOW)

X = [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0]]

ROW_SOFTMAX = [
    [0.09003057317038046, 0.24472847105479764, 0.6652409557748218],
    [1 / 3, 1 / 3, 1 / 3],
    [0.015876239976466765, 0.11731042782619838, 0.8668133321973349],
]
"""softmax of each row of X (dim 1 or -1)."""

COLUMN_SOFTMAX = [
    [0.4878555511603684, 0.6652409557748218, 0.6652409557748218],
    [0.4878555511603684, 0.24472847105479764, 0.09003057317038046],
    [0.024288897679263205, 0.09003057317038046, 0.24472847105479764],
]
"""softmax of each column of X (dim 0)."""

ATOL = {"float32": 1e-6, "float64": 1e-12}

CUBE = [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [0.0, 0.0]]]
CUBE_LAST_AXIS = [[[0.2689414213699951, 0.7310585786300049], [0.2689414213699951, 0.7310585786300049]], [[0.5, 0.5], [0.5, 0.5]]]
# Along dim 0 the pairs are (1, 1), (2, 1), (3, 0) and (4, 0).
CUBE_DIM_0 = [
    [[0.5, 0.7310585786300049], [0.9525741268224334, 0.9820137900379085]],
    [[0.5, 0.2689414213699951], [0.04742587317756678, 0.01798620996209156]],
]
IMPLICIT_DIM_WARNING = "Implicit dimension choice for softmax has been deprecated"


def test_catalog_lists_every_formulation():
    ids = {formulation.id for formulation in get_op("softmax").all_formulations()}

    assert ids == set(ALL)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("dim", "expected"), [(-1, ROW_SOFTMAX), (1, ROW_SOFTMAX), (0, COLUMN_SOFTMAX)])
def test_explicit_dim(run_op, dtype, dim, expected):
    run = run_op("softmax", {"x": X}, {"dim": dim}, dtype=dtype)

    for formulation in ALL:
        # The Keras layer computes in float32 whatever the input dtype (see below).
        atol = ATOL["float32"] if formulation == KERAS_LAYER else ATOL[dtype]
        np.testing.assert_allclose(run.output(formulation), expected, rtol=0, atol=atol, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
        assert run[formulation].warnings == [], formulation
    assert run.diagnostics == []


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_output_dtypes(run_op, dtype):
    run = run_op("softmax", {"x": X}, {"dim": -1}, dtype=dtype)

    assert run["reference"].dtypes == ["float64"]
    for formulation in TORCH:
        assert run[formulation].dtypes == [f"torch.{dtype}"], formulation
    assert run["tensorflow:tf_softmax"].dtypes == [dtype]
    # A Keras layer autocasts its inputs to its dtype policy, float32 by default.
    assert run[KERAS_LAYER].dtypes == ["float32"]


def test_dim_as_text_is_parsed(run_op):
    run = run_op("softmax", {"x": X}, {"dim": " 0 "})

    np.testing.assert_allclose(run.output("tensorflow:tf_softmax"), COLUMN_SOFTMAX, atol=1e-6)


def test_implicit_dim_on_3d_input(run_op):
    run = run_op("softmax", {"x": CUBE}, {"dim": None})

    for formulation in TORCH:
        np.testing.assert_allclose(run.output(formulation), CUBE_DIM_0, atol=1e-6, err_msg=formulation)
        assert any(IMPLICIT_DIM_WARNING in message for message in run[formulation].warnings), formulation
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation

    for formulation in ("reference", *TENSORFLOW):
        np.testing.assert_allclose(run.output(formulation), CUBE_LAST_AXIS, atol=1e-6, err_msg=formulation)
        assert run[formulation].warnings == [], formulation
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation

    assert run.diagnostics == [
        "no dim given: torch picks dim 0 for a 3-D input while TensorFlow and Keras use the last axis (2); "
        "the results normalise different axes"
    ]


def test_implicit_dim_on_2d_input_is_last_axis(run_op):
    run = run_op("softmax", {"x": X}, {"dim": ""})

    for formulation in ALL:
        np.testing.assert_allclose(run.output(formulation), ROW_SOFTMAX, atol=1e-6, err_msg=formulation)
    for formulation in TORCH:
        assert any(IMPLICIT_DIM_WARNING in message for message in run[formulation].warnings), formulation
    assert run.diagnostics == ["no dim given: torch picks dim 1, which is also the last axis TensorFlow uses"]


def test_nan_inf_and_huge_values(run_op):
    x = [[np.nan, 1.0, 2.0], [np.inf, 0.0, 0.0], [-np.inf, 0.0, 0.0], [1e4, 0.0, -1e4]]
    run = run_op("softmax", {"x": x}, {"dim": -1})

    # A NaN poisons its row; +inf gives inf - inf = NaN once the max is subtracted;
    # -inf contributes exp(-inf) = 0; 1e4 stays finite because the max is subtracted.
    expected = [[np.nan] * 3, [np.nan] * 3, [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]
    for formulation in ALL:
        np.testing.assert_allclose(run.output(formulation), expected, atol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_empty_input(run_op):
    run = run_op("softmax", {"x": np.zeros((0, 3))}, {"dim": -1})

    for formulation in ALL:
        assert run.output(formulation).shape == (0, 3), formulation
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_scalar_input(run_op):
    run = run_op("softmax", {"x": 5.0}, {"dim": 0})

    for formulation in ("reference", *TORCH):
        output = run.output(formulation)
        assert output.shape == (), formulation
        assert output == 1.0, formulation
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation

    for formulation in TENSORFLOW:
        error = run[formulation].error
        assert error is not None, formulation
        assert error.type == "InvalidArgumentError", formulation
        assert "must be in the range [0, 0)" in error.message, formulation


@pytest.mark.parametrize(("dtype", "atol"), [("float16", 1e-3), ("bfloat16", 1.6e-2)])
def test_half_precision_within_dtype_tolerance(run_op, dtype, atol):
    run = run_op("softmax", {"x": X}, {"dim": 0}, dtype=dtype)

    for formulation in ALL:
        np.testing.assert_allclose(run.output(formulation), COLUMN_SOFTMAX, rtol=0, atol=atol, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_huge_values_in_float16(run_op):
    run = run_op("softmax", {"x": [[1e4, 0.0, -1e4]]}, {"dim": -1}, dtype="float16")

    for formulation in ALL:
        np.testing.assert_allclose(run.output(formulation), [[1.0, 0.0, 0.0]], atol=1e-3, err_msg=formulation)


@pytest.mark.parametrize("shape", [(4, 0), (0, 4)])
def test_empty_axis_gives_empty_output(run_op, shape):
    run = run_op("softmax", {"x": np.zeros(shape)}, {"dim": -1})

    for formulation in ["reference", *ALL]:
        assert run[formulation].error is None, formulation
        assert run.output(formulation).shape == shape, formulation
    for formulation in ALL:
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
