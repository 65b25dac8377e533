"""Cross-entropy formulations on real frameworks, against values worked out by hand.

Per-sample loss: logsumexp(logits) - logits[label]. For the row [2.0, 1.0, 0.1]
with label 0 that is log(e^2 + e^1 + e^0.1) - 2 = 0.41703001627783376.
"""

from __future__ import annotations

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.compare import Verdict

LOGITS_FORMULATIONS = (
    "reference",
    "torch:torch_cross_entropy_loss",
    "torch:torch_nll_of_log_softmax",
    "torch:torch_cross_entropy_of_clamped_log_probabilities",
    "tensorflow:tf_sparse_softmax_cross_entropy_with_logits",
    "tensorflow:keras_sparse_categorical_crossentropy_logits",
    "tensorflow:keras_sparse_categorical_crossentropy_probabilities",
)
"""Formulations that apply a softmax to the logits, so all compute the same loss."""

KERAS_DEFAULT = "tensorflow:keras_sparse_categorical_crossentropy_default"
"""Keras with from_logits=False left at its default, fed raw logits."""

OTHER_FORMULATIONS = (
    "torch:torch_cross_entropy_loss_permuted",
    "tensorflow:tf_softmax_cross_entropy_with_logits",
    "tensorflow:keras_sparse_categorical_crossentropy_class",
    "tensorflow:keras_categorical_crossentropy_logits",
    "tensorflow:keras_categorical_crossentropy_probabilities",
)
"""Formulations for 3-D logits, for targets and Keras' loss class, tested in test_ops_cross_entropy_full."""

FRAMEWORK_FORMULATIONS = LOGITS_FORMULATIONS[1:]
TORCH_FORMULATIONS = tuple(name for name in FRAMEWORK_FORMULATIONS if name.startswith("torch:"))
TF_FORMULATIONS = tuple(name for name in FRAMEWORK_FORMULATIONS if name.startswith("tensorflow:")) + (KERAS_DEFAULT,)

ONE_ROW = {"logits": [[2.0, 1.0, 0.1]], "labels": [0]}
ONE_ROW_LOSS = 0.41703001627783376

# Keras clips raw values to [1e-7, 1 - 1e-7], divides by their sum and takes the log:
# -log((1 - 1e-7) / (2 (1 - 1e-7) + 0.1)).
ONE_ROW_KERAS_DEFAULT = 0.7419373494912824

THREE_ROWS = {"logits": [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1]], "labels": [0, 1, 2]}
THREE_ROW_LOSSES = [0.41703001627783376, 0.22004952302053793, 0.18614078697315772]
THREE_ROW_MEAN = 0.2744067754238431
THREE_ROW_SUM = 0.8232203262715294

NOT_PROBABILITIES = "logits are not probabilities"


def test_catalog_lists_every_formulation():
    ids = {formulation.id for formulation in get_op("cross_entropy").all_formulations()}

    assert ids == {*LOGITS_FORMULATIONS, KERAS_DEFAULT, *OTHER_FORMULATIONS}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_row_every_logits_formulation(run_op, dtype):
    run = run_op("cross_entropy", ONE_ROW, dtype=dtype)

    for formulation in LOGITS_FORMULATIONS:
        np.testing.assert_allclose(run.output(formulation), [ONE_ROW_LOSS], rtol=0, atol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_row_keras_default_treats_logits_as_probabilities(run_op, dtype):
    run = run_op("cross_entropy", ONE_ROW, dtype=dtype)

    np.testing.assert_allclose(run.output(KERAS_DEFAULT), [ONE_ROW_KERAS_DEFAULT], rtol=0, atol=1e-6)
    assert run.compare(KERAS_DEFAULT).verdict is Verdict.MISMATCH
    assert any(NOT_PROBABILITIES in message for message in run.diagnostics), run.diagnostics


@pytest.mark.parametrize(
    ("dtype", "torch_dtype", "tf_dtype"),
    [("float32", "torch.float32", "float32"), ("float64", "torch.float64", "float64")],
)
def test_output_dtypes_follow_compute_dtype(run_op, dtype, torch_dtype, tf_dtype):
    run = run_op("cross_entropy", ONE_ROW, dtype=dtype)

    assert run["reference"].dtypes == ["float64"]
    for formulation in TORCH_FORMULATIONS:
        assert run[formulation].dtypes == [torch_dtype], formulation
    for formulation in TF_FORMULATIONS:
        assert run[formulation].dtypes == [tf_dtype], formulation


def test_probability_rows_give_no_warning(run_op):
    run = run_op("cross_entropy", {"logits": [[0.7, 0.2, 0.1]], "labels": [0]})

    assert run.diagnostics == []
    # Keras' probability path on real probabilities is -log(0.7).
    np.testing.assert_allclose(run.output(KERAS_DEFAULT), [0.35667494393873245], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [("none", THREE_ROW_LOSSES), ("mean", THREE_ROW_MEAN), ("sum", THREE_ROW_SUM)],
)
def test_reductions(run_op, reduction, expected):
    run = run_op("cross_entropy", THREE_ROWS, {"reduction": reduction}, dtype="float64")

    for formulation in LOGITS_FORMULATIONS:
        output = run.output(formulation)
        assert output.shape == np.shape(expected), formulation
        np.testing.assert_allclose(output, expected, rtol=1e-12, atol=0, err_msg=formulation)


def test_per_sample_variant_ignores_reduction(run_op):
    run = run_op("cross_entropy", THREE_ROWS, {"reduction": "mean"}, dtype="float64")

    for formulation in LOGITS_FORMULATIONS:
        variant = run[formulation].variants["per_sample"]
        assert variant.ok, f"{formulation}: {variant.error}"
        np.testing.assert_allclose(variant.output, THREE_ROW_LOSSES, rtol=1e-12, atol=0, err_msg=formulation)


def test_details_breakdown(run_op):
    run = run_op("cross_entropy", THREE_ROWS, {"reduction": "mean"}, dtype="float64")
    details = run.details

    np.testing.assert_allclose(details["loss"], THREE_ROW_LOSSES, rtol=1e-12)
    np.testing.assert_allclose(details["p_label"], np.exp(-np.array(THREE_ROW_LOSSES)), rtol=1e-12)
    assert details["numerator"] == pytest.approx(THREE_ROW_SUM, rel=1e-12)
    assert details["denominator"] == 3


def test_epsilon_sets_keras_clip_bound(run_op):
    run = run_op("cross_entropy", ONE_ROW, {"epsilon": 0.1}, dtype="float64")

    # Clipped to [0.1, 0.9]: [0.9, 0.9, 0.1], so the loss is -log(0.9 / 1.9).
    np.testing.assert_allclose(run.output(KERAS_DEFAULT), [0.7472144018302211], rtol=1e-12)

    # softmax([2, 1, 0.1]) = [0.6590, 0.2424, 0.0986], clamped to [0.6590, 0.2424, 0.1];
    # CrossEntropyLoss renormalises: -log(0.6590 / 1.0014) = 0.41846.
    clamped = "torch:torch_cross_entropy_of_clamped_log_probabilities"
    np.testing.assert_allclose(run.output(clamped), [0.4184630985154637], rtol=1e-12)


def test_keras_probabilities_clipped_by_epsilon(run_op):
    run = run_op("cross_entropy", ONE_ROW, {"epsilon": 0.1}, dtype="float64")

    # softmax([2, 1, 0.1]) = [0.659, 0.242, 0.0986]; clipped to [0.1, 0.9] the last
    # becomes 0.1, the sum 1.0014, and -log(0.659 / 1.0014) = 0.418463.
    probabilities = "tensorflow:keras_sparse_categorical_crossentropy_probabilities"
    clamped = "torch:torch_cross_entropy_of_clamped_log_probabilities"
    np.testing.assert_allclose(run.output(probabilities), [0.4184630985154636], rtol=1e-9)
    np.testing.assert_allclose(run.output(clamped), [0.4184630985154636], rtol=1e-9)


def test_nan_inf_and_huge_logits(run_op):
    logits = [[np.nan, 1.0, 0.1], [np.inf, 1.0, 0.0], [1e4, 0.0, -1e4], [-np.inf, 0.0, 1.0]]
    run = run_op("cross_entropy", {"logits": logits, "labels": [0, 0, 1, 2]})

    # Row 2: logsumexp is 1e4 to float precision, so the loss is 1e4 - 0.
    # Row 3: exp(-inf) is 0, so the loss is log(1 + e^-1).
    expected = [np.nan, np.nan, 1e4, 0.31326168751822286]
    stable = [name for name in LOGITS_FORMULATIONS if "clamped" not in name and "probabilities" not in name]
    for formulation in stable:
        np.testing.assert_allclose(run.output(formulation), expected, rtol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_huge_logits_clamped_formulations(run_op):
    run = run_op("cross_entropy", {"logits": [[1e4, 0.0, -1e4]], "labels": [1]})

    # Both clip the probabilities [1, 0, 0] to [1 - 1e-7, 1e-7, 1e-7] and renormalise:
    # -log(1e-7 / (1 + 1e-7)) = 16.118.
    clamped = "torch:torch_cross_entropy_of_clamped_log_probabilities"
    np.testing.assert_allclose(run.output(clamped), [16.118095750958314], rtol=1e-6)
    probabilities = "tensorflow:keras_sparse_categorical_crossentropy_probabilities"
    np.testing.assert_allclose(run.output(KERAS_DEFAULT), [16.118095750958314], rtol=1e-6)
    np.testing.assert_allclose(run.output(probabilities), [16.118095750958314], rtol=1e-6)
    assert run.compare(clamped).verdict is Verdict.MISMATCH
    assert run.compare(probabilities).verdict is Verdict.MISMATCH


@pytest.mark.parametrize(("reduction", "expected_shape"), [("none", (0,)), ("sum", ())])
def test_empty_batch(run_op, reduction, expected_shape):
    run = run_op("cross_entropy", {"logits": np.zeros((0, 3)), "labels": []}, {"reduction": reduction})

    for formulation in (*LOGITS_FORMULATIONS, KERAS_DEFAULT):
        output = run.output(formulation)
        assert output.shape == expected_shape, formulation
        assert np.all(output == 0), formulation
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_empty_batch_mean_is_nan(run_op):
    run = run_op("cross_entropy", {"logits": np.zeros((0, 3)), "labels": []}, {"reduction": "mean"})

    for formulation in LOGITS_FORMULATIONS:
        output = run.output(formulation)
        assert output.shape == (), formulation
        assert np.isnan(output), formulation


@pytest.mark.parametrize("label", [3, -1])
def test_label_out_of_range_raises(run_op, label):
    run = run_op("cross_entropy", {"logits": [[2.0, 1.0, 0.1]], "labels": [label]})

    reference = run["reference"]
    assert reference.error is not None
    assert reference.error.type == "ValueError"
    assert reference.error.message == f"label {label} in row 0 is outside the classes 0..2"

    for formulation in TORCH_FORMULATIONS:
        error = run[formulation].error
        assert error is not None, formulation
        assert error.type == "IndexError", formulation
        assert f"Target {label} is out of bounds" in error.message, formulation

    for formulation in TF_FORMULATIONS:
        error = run[formulation].error
        assert error is not None, formulation
        assert error.type == "InvalidArgumentError", formulation
        assert f"Received a label value of {label} which is outside the valid range of [0, 3)" in error.message

    assert f"labels [{label}] are outside the classes 0..2" in run.diagnostics


@pytest.mark.parametrize(
    ("dtype", "reference_loss", "atol"),
    [
        # Inputs rounded to the dtype first: [2, 1, 0.1] becomes [2, 1, 0.0999755859375]
        # in float16 and [2, 1, 0.10009765625] in bfloat16.
        ("float16", 0.4170276099105039, 1e-3),
        ("bfloat16", 0.4170396422767526, 1.6e-2),
    ],
)
def test_half_precision_within_dtype_tolerance(run_op, dtype, reference_loss, atol):
    run = run_op("cross_entropy", ONE_ROW, dtype=dtype)

    np.testing.assert_allclose(run.output("reference"), [reference_loss], rtol=1e-12)
    assert run["reference"].dtypes == ["float64"]
    for formulation in FRAMEWORK_FORMULATIONS:
        np.testing.assert_allclose(run.output(formulation), [ONE_ROW_LOSS], rtol=0, atol=atol, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
        assert run[formulation].dtypes[0].endswith(dtype), formulation
