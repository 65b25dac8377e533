"""accuracy on real frameworks, against values counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.catalog.base import InputError
from tui.core.compare import Verdict
from tui.core.run import build_request

FORMULATIONS = (
    "reference",
    "torch:torch_accuracy",
    "tensorflow:keras_accuracy_metric",
    "sklearn:sklearn_accuracy_score",
)
KERAS = "tensorflow:keras_accuracy_metric"

# Row argmaxes 1, 0, 2, 0 against labels 1, 0, 2, 1: three of four are right.
PREDICTIONS = [[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]]
LABELS = [1, 0, 2, 1]
ONE_HOT_LABELS = [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]]


def diagnostics_mention(run, text: str) -> bool:
    return any(text in message for message in run.diagnostics)


def validate(inputs: dict) -> None:
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    build_request(get_op("accuracy"), arrays, {})


def test_catalog_lists_every_formulation():
    ids = [formulation.id for formulation in get_op("accuracy").all_formulations()]

    assert ids == list(FORMULATIONS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_accuracy_every_formulation(run_op, dtype):
    run = run_op("accuracy", {"predictions": PREDICTIONS, "labels": LABELS}, dtype=dtype)

    for formulation in FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), 0.75, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    # torch's .float() and Keras' floatx make float32 whatever the inputs are.
    assert run["torch:torch_accuracy"].dtypes == ["torch.float32"]
    assert run[KERAS].dtypes == ["float32"]
    assert run["sklearn:sklearn_accuracy_score"].dtypes == ["float64"]
    assert run.diagnostics == []


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_accuracy_one_hot_labels(run_op, dtype):
    run = run_op("accuracy", {"predictions": PREDICTIONS, "labels": ONE_HOT_LABELS}, dtype=dtype)

    for formulation in FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), 0.75, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_accuracy_ties_take_first_maximum(run_op):
    predictions = [[0.5, 0.5, 0.0], [0.1, 0.9, 0.9]]

    first = run_op("accuracy", {"predictions": predictions, "labels": [0, 1]})
    later = run_op("accuracy", {"predictions": predictions, "labels": [1, 2]})

    for formulation in FORMULATIONS:
        np.testing.assert_array_equal(first.output(formulation), 1.0, err_msg=formulation)
        np.testing.assert_array_equal(later.output(formulation), 0.0, err_msg=formulation)
    assert diagnostics_mention(first, "rows [0, 1] have tied maxima")


def test_accuracy_nan_scores_split_the_libraries(run_op):
    # torch and NumPy pick the NaN (classes 1 and 0); tf.argmax skips it (classes 2 and 1).
    predictions = [[0.5, np.nan, 0.9], [np.nan, 0.2, 0.1]]
    run = run_op("accuracy", {"predictions": predictions, "labels": [1, 0]})

    for formulation in ("reference", "torch:torch_accuracy", "sklearn:sklearn_accuracy_score"):
        np.testing.assert_array_equal(run.output(formulation), 1.0, err_msg=formulation)
    np.testing.assert_array_equal(run.output(KERAS), 0.0)
    assert run.compare(KERAS).verdict is Verdict.MISMATCH
    assert diagnostics_mention(run, "rows [0, 1] contain NaN")


def test_accuracy_infinite_scores(run_op):
    predictions = [[np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf]]
    run = run_op("accuracy", {"predictions": predictions, "labels": [0, 0]})

    for formulation in FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), 1.0, err_msg=formulation)


def test_accuracy_empty(run_op):
    run = run_op("accuracy", {"predictions": np.zeros((0, 3)), "labels": np.zeros(0, dtype=np.int64)})

    assert np.isnan(run.output("reference"))
    assert np.isnan(run.output("torch:torch_accuracy"))
    assert run.compare("torch:torch_accuracy").verdict is Verdict.MATCH
    np.testing.assert_array_equal(run.output(KERAS), 0.0)
    assert run.compare(KERAS).verdict is Verdict.MISMATCH
    error = run["sklearn:sklearn_accuracy_score"].error
    assert error.type == "ValueError"
    assert "Found empty input array" in error.message
    assert diagnostics_mention(run, "no rows")


def test_accuracy_out_of_range_labels(run_op):
    run = run_op("accuracy", {"predictions": PREDICTIONS[:2], "labels": [5, -1]})

    for formulation in FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), 0.0, err_msg=formulation)
    assert diagnostics_mention(run, "labels [-1, 5] are outside the classes 0..2")


def test_accuracy_one_hot_rows_not_one_hot(run_op):
    # argmax reads [0, 0, 0] as class 0 and [1, 1, 0] as class 0.
    run = run_op("accuracy", {"predictions": [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0]], "labels": [[0, 0, 0], [1, 1, 0]]})

    for formulation in FORMULATIONS:
        np.testing.assert_array_equal(run.output(formulation), 0.5, err_msg=formulation)
    assert diagnostics_mention(run, "label rows [0, 1] do not contain exactly one 1")


def test_accuracy_keras_rounds_huge_class_indices_in_bfloat16(run_op):
    # bfloat16 has 8 significant bits: 257 rounds to 256, so Keras counts class 257 as label 256.
    predictions = np.zeros((1, 300))
    predictions[0, 257] = 1.0
    run = run_op("accuracy", {"predictions": predictions, "labels": [256]}, dtype="bfloat16")

    np.testing.assert_array_equal(run.output("reference"), 0.0)
    np.testing.assert_array_equal(run.output("torch:torch_accuracy"), 0.0)
    np.testing.assert_array_equal(run.output(KERAS), 1.0)
    assert run.compare(KERAS).verdict is Verdict.MISMATCH
    assert run["sklearn:sklearn_accuracy_score"].error.type == "NotSupported"
    assert diagnostics_mention(run, "class indices above 256")


def test_accuracy_rejects_bad_shapes():
    with pytest.raises(InputError, match=r"predictions: expected a 2-D \(N, C\) array, got 1-D"):
        validate({"predictions": [0.1, 0.9], "labels": [1]})
    with pytest.raises(InputError, match="labels: expected 2 labels, one per row of predictions, got 3"):
        validate({"predictions": PREDICTIONS[:2], "labels": [0, 1, 2]})
    with pytest.raises(InputError, match="labels: one-hot rows must contain only 0 and 1, got 2"):
        validate({"predictions": PREDICTIONS[:1], "labels": [[0, 2, 0]]})
    with pytest.raises(InputError, match=r"labels: expected one-hot rows of 3 columns"):
        validate({"predictions": PREDICTIONS[:1], "labels": [[0, 1]]})
    with pytest.raises(InputError, match="predictions: expected at least one class column"):
        validate({"predictions": np.zeros((2, 0)), "labels": [0, 0]})
