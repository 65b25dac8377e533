"""The whole cross-entropy family on real frameworks: targets, class axis, ignore, weights, smoothing.

Per-sample loss with class indices: logsumexp(logits) - logits[label], times
weight[label]. The comments next to the values work them out by hand. Where a
framework departs from the definition, the test records its own value and a
comment names the difference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.catalog.base import InputError, ParamError
from tui.core.compare import Verdict
from tui.core.run import build_request

TORCH_CE = "torch:torch_cross_entropy_loss"
TORCH_PERMUTED = "torch:torch_cross_entropy_loss_permuted"
TORCH_NLL = "torch:torch_nll_of_log_softmax"
TORCH_CLAMPED = "torch:torch_cross_entropy_of_clamped_log_probabilities"
TF_SPARSE = "tensorflow:tf_sparse_softmax_cross_entropy_with_logits"
TF_SOFTMAX = "tensorflow:tf_softmax_cross_entropy_with_logits"
KERAS_CLASS = "tensorflow:keras_sparse_categorical_crossentropy_class"
KERAS_LOGITS = "tensorflow:keras_sparse_categorical_crossentropy_logits"
KERAS_PROBABILITIES = "tensorflow:keras_sparse_categorical_crossentropy_probabilities"
KERAS_DEFAULT = "tensorflow:keras_sparse_categorical_crossentropy_default"
KERAS_CATEGORICAL = "tensorflow:keras_categorical_crossentropy_logits"
KERAS_CATEGORICAL_PROBABILITIES = "tensorflow:keras_categorical_crossentropy_probabilities"

KERAS_SPARSE = (KERAS_CLASS, KERAS_LOGITS, KERAS_PROBABILITIES, KERAS_DEFAULT)
INDICES_ONLY = (TORCH_NLL, TF_SPARSE, *KERAS_SPARSE)
TARGETS_ONLY = (TF_SOFTMAX, KERAS_CATEGORICAL, KERAS_CATEGORICAL_PROBABILITIES)
TARGET_FORMULATIONS = ("reference", TORCH_CE, TORCH_CLAMPED, *TARGETS_ONLY)
"""Every formulation that takes targets shaped like 2-D logits."""

# log(1 + e^-2): the loss of [2, 0] with label 0; log 2: the loss of [1, 1].
LOG_1P_EXP_M2 = math.log1p(math.exp(-2))
LOG_2 = math.log(2)

C7 = {"logits": [[2.0, 1.0, 0.1]], "labels": [0]}
C7_LOSS = 0.41703001627783376  # log(e^2 + e^1 + e^0.1) - 2
C7_KERAS_DEFAULT = 0.7419373494912824  # -log((1 - 1e-7) / (2 (1 - 1e-7) + 0.1))

C8_LOGITS = [[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [5.0, 0.0, 0.0]]]
C8_LABELS = [[2, 0, 0]]
# Classes on the last axis: log(1 + e^-1 + e^-2), log 3, log(1 + 2 e^-5).
C8_LOSSES = [0.4076059644443804, 1.0986122886681098, 0.013385901721448918]
C8_MEAN = 0.5065347182779797
# torch on the tensor as is takes axis 1 as the classes. So the columns [1, 0, 5], [2, 0, 0] and
# [3, 0, 0] are the rows, and with labels 2, 0, 0 they give log(1 + e^-4 + e^-5),
# log(1 + 2 e^-2) and log(1 + 2 e^-3).
C8_TORCH_AS_IS_LOSSES = [0.02474489013882259, 0.23954476622188453, 0.09492295642096091]
C8_TORCH_AS_IS_MEAN = 0.11973753759388935

C9_LOGITS = [[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
C9_LOSSES = [LOG_1P_EXP_M2, 0.0, LOG_2]
C9_MEAN = (LOG_1P_EXP_M2 + LOG_2) / 2  # 0.410038: the ignored sample is out of the divisor
C9_TORCH = {"logits": C9_LOGITS, "labels": [0, -100, 1]}
C9_KERAS = {"logits": C9_LOGITS, "labels": [0, -1, 1]}

THREE_ROWS = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1]]
THREE_ROW_LOSSES = [0.4170300162778333, 0.22004952302053793, 0.18614078697315772]
ONE_HOT = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
WEIGHT = [1.0, 2.0, 0.5]
# weight[label] * loss: 0.417030 + 2 * 0.220050 + 0.5 * 0.186141 = 0.950199.
WEIGHTED_LOSSES = [0.4170300162778333, 0.44009904604107586, 0.09307039348657886]
WEIGHTED_SUM = 0.950199455805488


def assert_close(actual, expected, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=0, atol=atol)


def assert_error(run, formulation, error_type, message=None):
    error = run[formulation].error
    assert error is not None, f"{formulation} returned {run[formulation].output}"
    assert error.type == error_type, f"{formulation}: {error}"
    if message is not None:
        assert message in error.message, f"{formulation}: {error.message}"


# C7: one row of logits with an integer label.


def test_c7_every_logits_formulation(run_op):
    run = run_op("cross_entropy", C7)

    softmax_first = (TORCH_CE, TORCH_NLL, TORCH_CLAMPED, TF_SPARSE, KERAS_CLASS, KERAS_LOGITS, KERAS_PROBABILITIES)
    for formulation in ("reference", *softmax_first):
        assert_close(run.output(formulation), [C7_LOSS], atol=1e-6)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_c7_keras_default_from_logits_false(run_op):
    run = run_op("cross_entropy", C7)

    assert_close(run.output(KERAS_DEFAULT), [C7_KERAS_DEFAULT])
    assert run.compare(KERAS_DEFAULT).verdict is Verdict.MISMATCH
    assert any("logits are not probabilities" in message for message in run.diagnostics)


def test_c7_target_formulations_not_applicable(run_op):
    run = run_op("cross_entropy", C7)

    for formulation in TARGETS_ONLY:
        assert_error(run, formulation, "NotApplicable", "takes targets shaped like the logits")
    assert_error(run, TORCH_PERMUTED, "NotApplicable", "logits.permute(0, 2, 1) needs 3-D (batch, seq, classes) logits")


# C8: (batch, seq, classes) logits and torch's class axis 1.


def test_c8_last_axis_formulations(run_op):
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": C8_LABELS}, {"reduction": "mean"})

    for formulation in ("reference", TF_SPARSE, KERAS_CLASS, KERAS_LOGITS, KERAS_PROBABILITIES, TORCH_PERMUTED):
        assert_close(run.output(formulation), C8_MEAN)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation


def test_c8_torch_as_is_takes_axis_1(run_op):
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": C8_LABELS}, {"reduction": "mean"})

    for formulation in (TORCH_CE, TORCH_NLL, TORCH_CLAMPED):
        assert run[formulation].error is None, formulation
        assert_close(run.output(formulation), C8_TORCH_AS_IS_MEAN)
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation
    assert_close(run[TORCH_CE].variants["per_sample"].output, [C8_TORCH_AS_IS_LOSSES])


def test_c8_warns_when_seq_equals_classes(run_op):
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": C8_LABELS}, {"reduction": "mean"})

    warnings = [message for message in run.diagnostics if message.startswith("class axis:")]
    assert len(warnings) == 1, run.diagnostics
    assert "the seq length equals the class count (3)" in warnings[0]
    assert "torch's CrossEntropyLoss takes axis 1" in warnings[0]
    assert "logits.permute(0, 2, 1)" in warnings[0]


def test_c8_breakdown_names_class_axes(run_op):
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": C8_LABELS}, {"reduction": "mean"})
    described = run.details["formulations"]

    assert described[TORCH_CE]["classes"] == "axis 1"
    assert described[TORCH_PERMUTED]["classes"] == "last axis, moved to 1"
    assert described[TF_SPARSE]["classes"] == "last axis"
    assert described[KERAS_CLASS]["classes"] == "last axis"
    assert described["reference"]["classes"] == "last axis"
    assert run.details["positions"] == ["0, 0", "0, 1", "0, 2"]
    assert_close(run.details["loss"], C8_LOSSES, atol=1e-12)


def test_c8_per_sample_shape(run_op):
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": C8_LABELS})

    for formulation in ("reference", TORCH_PERMUTED, TF_SPARSE, KERAS_CLASS):
        assert run.output(formulation).shape == (1, 3), formulation
        assert_close(run.output(formulation), [C8_LOSSES])


def test_c8_class_axis_1(run_op):
    # Declaring the layout (batch, classes, seq) makes torch as is right and TF/Keras wrong.
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": C8_LABELS}, {"reduction": "mean", "class_axis": "1"})

    assert_close(run.output("reference"), C8_TORCH_AS_IS_MEAN)
    assert run.compare(TORCH_CE).verdict is Verdict.MATCH
    for formulation in (TF_SPARSE, KERAS_CLASS, TORCH_PERMUTED):
        assert_close(run.output(formulation), C8_MEAN)
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation
    assert any("TensorFlow and Keras take the last axis" in message for message in run.diagnostics)


def test_seq_unlike_classes_torch_raises(run_op):
    # (1, 2, 3) logits: axis 1 has 2 entries, so torch as is expects labels of shape (1, 3).
    run = run_op("cross_entropy", {"logits": [[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]], "labels": [[2, 0]]})

    assert_error(run, TORCH_CE, "RuntimeError", "Expected target size [1, 3], got [1, 2]")
    assert_close(run.output(TORCH_PERMUTED), [C8_LOSSES[:2]])
    assert not any(message.startswith("class axis:") for message in run.diagnostics)


def test_3d_targets_torch_as_is(run_op):
    one_hot = [[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]]
    run = run_op("cross_entropy", {"logits": C8_LOGITS, "labels": one_hot}, {"reduction": "mean"})

    for formulation in ("reference", TORCH_PERMUTED, TF_SOFTMAX, KERAS_CATEGORICAL):
        assert_close(run.output(formulation), C8_MEAN)
    # With axis 1 as the classes, the column [1, 0, 5] with target [0, 1, 1] gives
    # 2 log(e + 1 + e^5) - 0 - 5. The column [2, 0, 0] has no target mass, and [3, 0, 0]
    # with target [1, 0, 0] gives log(1 + 2 e^-3).
    column_0 = 2 * math.log(math.e + 1 + math.exp(5)) - 5
    assert_close(run.output(TORCH_CE), (column_0 + 0.09492295642096091) / 3, atol=1e-5)
    assert any("targets have the logits' shape" in message for message in run.diagnostics)


# C9: ignored labels, torch's ignore_index and Keras' ignore_class.


def test_c9_torch_ignore_index(run_op):
    run = run_op("cross_entropy", C9_TORCH, {"reduction": "mean"})

    for formulation in ("reference", TORCH_CE, TORCH_NLL, TORCH_CLAMPED):
        assert_close(run.output(formulation), C9_MEAN)
        assert_close(run[formulation].variants["per_sample"].output, C9_LOSSES)
    assert_close(C9_MEAN, 0.410038, atol=5e-7)
    described = run.details["formulations"][TORCH_CE]
    assert (described["denominator"], described["divides_by"]) == (2, "labels ≠ -100")


def test_c9_others_on_minus_100(run_op):
    run = run_op("cross_entropy", C9_TORCH, {"reduction": "mean"})

    assert_error(run, TF_SPARSE, "NotSupported")
    assert run[TF_SPARSE].error.message == "not supported by tf.nn.sparse_softmax_cross_entropy_with_logits: ignore_index"
    for formulation in KERAS_SPARSE:
        assert_error(run, formulation, "InvalidArgumentError", "Received a label value of -100")
    assert any("ignored by torch alone" in message for message in run.diagnostics)


def test_c9_keras_ignore_class(run_op):
    run = run_op("cross_entropy", C9_KERAS, {"reduction": "mean", "ignore_class": "-1"})

    assert_close(run.output(KERAS_CLASS), C9_MEAN)
    assert_close(run[KERAS_CLASS].variants["per_sample"].output, C9_LOSSES)
    assert_close(run.output("reference"), C9_MEAN)
    # The loss function zeroes the ignored sample, but keras.ops.mean divides by all 3.
    assert_close(run.output(KERAS_LOGITS), (LOG_1P_EXP_M2 + LOG_2) / 3)
    assert run.compare(KERAS_LOGITS).verdict is Verdict.MISMATCH


def test_c9_keras_sentinel_for_torch(run_op):
    run = run_op("cross_entropy", C9_KERAS, {"reduction": "mean", "ignore_class": "-1"})

    for formulation in (TORCH_CE, TORCH_NLL):
        assert_error(run, formulation, "IndexError", "Target -1 is out of bounds")
    assert run[TF_SPARSE].error.message == "not supported by tf.nn.sparse_softmax_cross_entropy_with_logits: ignore_class"


def test_c9_keras_without_ignore_class(run_op):
    run = run_op("cross_entropy", C9_KERAS, {"reduction": "mean"})

    for formulation in KERAS_SPARSE:
        message = "Received a label value of -1 which is outside the valid range of [0, 2)"
        assert_error(run, formulation, "InvalidArgumentError", message)
    assert_error(run, "reference", "ValueError", "label -1 in row 1 is outside the classes 0..1")


def test_c9_same_sentinel_for_both(run_op):
    run = run_op("cross_entropy", C9_KERAS, {"reduction": "mean", "ignore_index": "-1", "ignore_class": "-1"})

    for formulation in ("reference", TORCH_CE, TORCH_NLL, KERAS_CLASS):
        assert_close(run.output(formulation), C9_MEAN)
    assert not any("alone" in message for message in run.diagnostics)


def test_c9_breakdown_divisors(run_op):
    run = run_op("cross_entropy", C9_KERAS, {"reduction": "mean", "ignore_class": "-1"})
    details = run.details
    described = details["formulations"]

    assert details["numerator"] == pytest.approx(LOG_1P_EXP_M2 + LOG_2, rel=1e-12)
    assert details["denominator"] == 2
    assert details["ignored"].tolist() == [False, True, False]
    assert np.isnan(details["p_label"][1])
    assert details["targets"].tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    assert (described[KERAS_CLASS]["denominator"], described[KERAS_CLASS]["divides_by"]) == (2, "labels ≠ -1")
    assert (described[KERAS_LOGITS]["denominator"], described[KERAS_LOGITS]["divides_by"]) == (3, "samples")
    assert described[TORCH_CE]["sentinel"] == "ignore_index=-100"
    assert described[KERAS_CLASS]["sentinel"] == "ignore_class=-1"
    assert described[TF_SPARSE]["sentinel"] == "none"


def test_fully_ignored_batch(run_op):
    labels = {"logits": C9_LOGITS, "labels": [-100, -100, -100]}
    run = run_op("cross_entropy", labels, {"reduction": "mean", "ignore_class": "-100"})

    # Mean over 0 labels: torch divides 0 by 0; Keras' loss class and keras.ops.mean of zeros give 0.
    for formulation in ("reference", TORCH_CE, TORCH_NLL):
        assert np.isnan(run.output(formulation)), formulation
    for formulation in (KERAS_CLASS, KERAS_LOGITS):
        assert run.output(formulation) == 0.0, formulation
    assert run.details["denominator"] == 0
    assert any("every label is ignored" in message for message in run.diagnostics)


# One-hot and probability targets.


def test_one_hot_integers_become_targets():
    request = build_request(get_op("cross_entropy"), {"logits": np.array(THREE_ROWS), "labels": np.array(ONE_HOT)}, {})

    assert request.inputs["labels"].dtype == np.float64
    assert request.inputs["labels"].tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_whole_float_indices_become_integers():
    inputs = {"logits": np.array(THREE_ROWS), "labels": np.array([0.0, 2.0, 1.0])}
    request = build_request(get_op("cross_entropy"), inputs, {})

    assert request.inputs["labels"].dtype == np.int64
    assert request.inputs["labels"].tolist() == [0, 2, 1]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_one_hot_targets(run_op, reduction):
    run = run_op("cross_entropy", {"logits": THREE_ROWS, "labels": ONE_HOT}, {"reduction": reduction}, dtype="float64")
    expected = {"none": THREE_ROW_LOSSES, "mean": np.mean(THREE_ROW_LOSSES), "sum": np.sum(THREE_ROW_LOSSES)}[reduction]

    for formulation in TARGET_FORMULATIONS:
        assert_close(run.output(formulation), expected, atol=1e-12)
    for formulation in INDICES_ONLY:
        assert_error(run, formulation, "NotApplicable", "takes class indices; targets shaped like the logits go to")


def test_probability_targets(run_op):
    run = run_op("cross_entropy", {"logits": [[2.0, 1.0, 0.1]], "labels": [[0.7, 0.2, 0.1]]}, dtype="float64")

    # -(0.7 log p0 + 0.2 log p1 + 0.1 log p2) with log p = [2, 1, 0.1] - 2.41703.
    for formulation in TARGET_FORMULATIONS:
        assert_close(run.output(formulation), [0.8070300162778333], atol=1e-12)
    assert run.details["kind"] == "targets"
    assert np.isnan(run.details["p_label"][0])


def test_keras_categorical_probabilities_clip_without_renormalising(run_op):
    inputs = {"logits": [[2.0, 1.0, 0.1]], "labels": [[1.0, 0.0, 0.0]]}
    run = run_op("cross_entropy", inputs, {"epsilon": 0.1}, dtype="float64")

    # softmax = [0.659, 0.242, 0.0986]; the clip only moves the third, which has no target mass.
    assert_close(run.output(KERAS_CATEGORICAL_PROBABILITIES), [C7_LOSS], atol=1e-12)
    # torch's clamped path renormalises: -log(0.659 / 1.0014).
    assert_close(run.output(TORCH_CLAMPED), [0.4184630985154637], atol=1e-12)


# Class weights.


def test_weights_with_indices(run_op):
    inputs = {"logits": THREE_ROWS, "labels": [0, 1, 2], "weight": WEIGHT}
    run = run_op("cross_entropy", inputs, {"reduction": "mean"}, dtype="float64")

    # torch's weighted mean: sum(weight[label] * loss) / sum(weight[label]) = 0.950199 / 3.5.
    for formulation in ("reference", TORCH_CE, TORCH_NLL, TORCH_CLAMPED):
        assert_close(run.output(formulation), WEIGHTED_SUM / 3.5, atol=1e-12)
        assert_close(run[formulation].variants["per_sample"].output, WEIGHTED_LOSSES, atol=1e-12)
    described = run.details["formulations"][TORCH_CE]
    assert (described["denominator"], described["divides_by"]) == (3.5, "Σ weight[label], labels ≠ -100")
    assert run.details["sample_weights"].tolist() == WEIGHT


def test_weights_with_targets_divide_by_samples(run_op):
    inputs = {"logits": THREE_ROWS, "labels": ONE_HOT, "weight": WEIGHT}
    run = run_op("cross_entropy", inputs, {"reduction": "mean"}, dtype="float64")

    # The same one-hot rows as targets: torch divides by the 3 samples, not by the weights' 3.5.
    for formulation in ("reference", TORCH_CE, TORCH_CLAMPED):
        assert_close(run.output(formulation), WEIGHTED_SUM / 3, atol=1e-12)
    assert run.details["denominator"] == 3


def test_weights_with_ignore_and_smoothing(run_op):
    inputs = {"logits": THREE_ROWS, "labels": [0, -100, 2], "weight": WEIGHT}
    run = run_op("cross_entropy", inputs, {"reduction": "mean", "label_smoothing": "0.1"}, dtype="float64")

    # Row 0: 0.9 * 1 * 0.417030 + (0.1 / 3) * (1 * 0.417030 + 2 * 1.417030 + 0.5 * 2.317030) = 0.522314;
    # row 2 likewise 0.362146; divisor weight[0] + weight[2] = 1.5, the ignored row left out.
    expected = (0.5223138498824639 + 0.36214644595145606) / 1.5
    for formulation in ("reference", TORCH_CE, TORCH_CLAMPED):
        assert_close(run.output(formulation), expected, atol=1e-12)
    assert run.details["denominator"] == 1.5


# Label smoothing.


def test_label_smoothing_by_hand(run_op):
    run = run_op("cross_entropy", {"logits": [[2.0, 0.0]], "labels": [0]}, {"label_smoothing": "0.2"}, dtype="float64")

    # Targets (1 - 0.2) * [1, 0] + 0.2 / 2 = [0.9, 0.1]; log p = [-log(1 + e^-2), -2 - log(1 + e^-2)]:
    # 0.9 * 0.126928 + 0.1 * 2.126928 = 0.326928.
    expected = 0.9 * LOG_1P_EXP_M2 + 0.1 * (2 + LOG_1P_EXP_M2)
    assert_close(expected, 0.32692801104297264, atol=1e-15)
    for formulation in ("reference", TORCH_CE, TORCH_CLAMPED):
        assert_close(run.output(formulation), [expected], atol=1e-12)
    assert_close(run.details["targets"], [[0.9, 0.1]], atol=1e-15)
    assert run.details["formulations"][TORCH_CE]["targets"] == "0.8·one-hot + 0.1"


def test_torch_builds_the_reference_targets(run_op):
    import torch

    logits, labels = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], [0, 2]
    run = run_op("cross_entropy", {"logits": logits, "labels": labels}, {"label_smoothing": "0.3"}, dtype="float64")

    # (1 - 0.3) * one-hot + 0.3 / 3.
    assert_close(run.details["targets"], [[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]], atol=1e-12)
    # The gradient of the summed loss is softmax(logits) - target, so it shows the target torch built.
    leaf = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.3)
    loss(leaf, torch.tensor(labels)).backward()
    built = torch.softmax(leaf, dim=1).detach().numpy() - leaf.grad.numpy()
    assert_close(built, run.details["targets"], atol=1e-12)


def test_label_smoothing_keras_categorical(run_op):
    inputs = {"logits": [[2.0, 0.0]], "labels": [[1.0, 0.0]]}
    run = run_op("cross_entropy", inputs, {"label_smoothing": "0.2"}, dtype="float64")

    for formulation in ("reference", TORCH_CE, KERAS_CATEGORICAL, KERAS_CATEGORICAL_PROBABILITIES):
        assert_close(run.output(formulation), [0.32692801104297264], atol=1e-9)
    assert run[TF_SOFTMAX].error.message == "not supported by tf.nn.softmax_cross_entropy_with_logits: label_smoothing"


# Options an API lacks: NotSupported, never a quietly different loss.


@pytest.mark.parametrize(
    ("inputs", "params", "formulation", "message"),
    [
        ({"labels": [0], "weight": [1.0, 1.0, 1.0]}, {}, TF_SPARSE, "tf.nn.sparse_softmax_cross_entropy_with_logits: weight"),
        ({"labels": [0], "weight": [1.0, 2.0, 1.0]}, {}, KERAS_LOGITS, "keras.losses.sparse_categorical_crossentropy: weight"),
        (
            {"labels": [0]},
            {"label_smoothing": "0.1"},
            KERAS_CLASS,
            "keras.losses.SparseCategoricalCrossentropy: label_smoothing",
        ),
        ({"labels": [0]}, {"label_smoothing": "0.1"}, TORCH_NLL, "torch.nn.NLLLoss: label_smoothing"),
        ({"labels": [-100]}, {}, TF_SPARSE, "tf.nn.sparse_softmax_cross_entropy_with_logits: ignore_index"),
        (
            {"labels": [[0.7, 0.2, 0.1]], "weight": [1.0, 2.0, 1.0]},
            {"label_smoothing": "0.1"},
            TF_SOFTMAX,
            "tf.nn.softmax_cross_entropy_with_logits: weight, label_smoothing",
        ),
        (
            {"labels": [[0.7, 0.2, 0.1]], "weight": [1.0, 2.0, 1.0]},
            {},
            KERAS_CATEGORICAL,
            "keras.losses.categorical_crossentropy: weight",
        ),
    ],
)
def test_not_supported(run_op, inputs, params, formulation, message):
    run = run_op("cross_entropy", {"logits": [[2.0, 1.0, 0.1]], **inputs}, params)

    assert_error(run, formulation, "NotSupported")
    assert run[formulation].error.message == f"not supported by {message}"
    assert run[formulation].variants["per_sample"].error.type == "NotSupported"


def test_formulation_code_shows_only_the_framework():
    for formulation in get_op("cross_entropy").formulations:
        assert formulation.code.startswith("def "), formulation.id
        assert "contract" not in formulation.code, formulation.id
        assert {"labels", "weight", "label_smoothing", "ignore_index", "ignore_class"} <= set(formulation.arguments)


# Hard cases.


def test_nan_targets_row(run_op):
    inputs = {"logits": [[np.nan, 0.0, 1.0], [2.0, 1.0, 0.1]], "labels": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]}
    run = run_op("cross_entropy", inputs)

    for formulation in TARGET_FORMULATIONS:
        output = run.output(formulation)
        assert np.isnan(output[0]), formulation
        assert_close(output[1], C7_LOSS, atol=1e-6)


def test_minus_inf_logit_without_target_mass(run_op):
    run = run_op("cross_entropy", {"logits": [[-np.inf, 0.0, 1.0]], "labels": [[0.0, 0.5, 0.5]]})

    # The definition counts 0 * log 0 as 0: log(1 + e) - 0.5, that is 0.813262.
    assert_close(run.output("reference"), [0.8132616875182228], atol=1e-12)
    # torch, tf.nn and Keras from logits compute 0 * -inf = nan; the clamped paths stay finite.
    for formulation in (TORCH_CE, TF_SOFTMAX, KERAS_CATEGORICAL):
        assert np.isnan(run.output(formulation)[0]), formulation
        assert run.compare(formulation).verdict is Verdict.MISMATCH, formulation
    for formulation in (TORCH_CLAMPED, KERAS_CATEGORICAL_PROBABILITIES):
        assert_close(run.output(formulation), [0.8132616875182228], atol=1e-6)


def test_huge_logits_with_targets(run_op):
    run = run_op("cross_entropy", {"logits": [[1e4, 0.0, -1e4]], "labels": [[0.0, 0.0, 1.0]]})

    for formulation in ("reference", TORCH_CE, TF_SOFTMAX, KERAS_CATEGORICAL):
        assert_close(run.output(formulation), [2e4], atol=1e-6)
    # Clipping the probability 0 to 1e-7 caps the loss at -log(1e-7 / (1 + 1e-7)) in torch and
    # at -log(1e-7) = 16.118096 in Keras, equal in float32.
    for formulation in (TORCH_CLAMPED, KERAS_CATEGORICAL_PROBABILITIES):
        assert_close(run.output(formulation), [16.118095], atol=1e-5)


@pytest.mark.parametrize(("reduction", "shape"), [("none", (0,)), ("sum", ()), ("mean", ())])
def test_empty_targets(run_op, reduction, shape):
    run = run_op("cross_entropy", {"logits": np.zeros((0, 3)), "labels": np.zeros((0, 3))}, {"reduction": reduction})

    for formulation in TARGET_FORMULATIONS:
        output = run.output(formulation)
        assert output.shape == shape, formulation
        if reduction == "mean":
            assert np.isnan(output), formulation  # 0 / 0 in every library
        else:
            assert np.all(output == 0), formulation


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_empty_indices_keras_class_not_reduced(run_op, reduction):
    inputs = {"logits": np.zeros((0, 3)), "labels": np.zeros(0, dtype=np.int64)}
    run = run_op("cross_entropy", inputs, {"reduction": reduction})

    assert run.output(TORCH_CE).shape == ()
    # Keras' loss classes hand back a (0,) batch of losses unreduced, for every reduction.
    assert run.output(KERAS_CLASS).shape == (0,)
    assert run.compare(KERAS_CLASS).verdict is Verdict.SHAPE


def test_out_of_range_in_sequence(run_op):
    run = run_op("cross_entropy", {"logits": [[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]], "labels": [[2, 3]]})

    assert_error(run, "reference", "ValueError", "label 3 in position (0, 1) is outside the classes 0..2")
    assert_error(run, TORCH_PERMUTED, "IndexError", "Target 3 is out of bounds")
    assert_error(run, TF_SPARSE, "InvalidArgumentError", "Received a label value of 3")
    assert "labels [3] are outside the classes 0..2" in run.diagnostics


def test_bfloat16_targets_within_tolerance(run_op):
    run = run_op("cross_entropy", {"logits": [[2.0, 1.0, 0.1]], "labels": [[0.7, 0.2, 0.1]]}, dtype="bfloat16")

    for formulation in (TORCH_CE, TF_SOFTMAX, KERAS_CATEGORICAL):
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    assert not any("target rows" in message for message in run.diagnostics)


# Input and param checks.


@pytest.mark.parametrize(
    ("inputs", "params", "name", "message"),
    [
        (
            {"labels": [[0.5, 0.5]]},
            {},
            "labels",
            "expected class indices of shape (1,) or targets of the logits' shape (1, 3), got 2-D (1, 2)",
        ),
        ({"labels": [0.5]}, {}, "labels", "expected integers, got fractional or non-finite values"),
        ({"labels": [1e30]}, {}, "labels", "expected integers within int64, got 1e+30"),
        ({"labels": [0], "weight": [1.0, 2.0]}, {}, "weight", "expected (3,) class weights, one per class, got shape (2,)"),
        ({"labels": [0]}, {"label_smoothing": "1"}, "label_smoothing", "1.0 is not below 1: smoothing takes values in [0, 1)"),
        ({"labels": [True]}, {}, "labels", "expected class indices or float targets, got booleans"),
    ],
)
def test_input_checks(inputs, params, name, message):
    arrays = {"logits": np.array([[2.0, 1.0, 0.1]]), **{key: np.array(value) for key, value in inputs.items()}}

    with pytest.raises((InputError, ParamError)) as caught:
        build_request(get_op("cross_entropy"), arrays, params)

    assert caught.value.name == name
    assert caught.value.message == message


def test_empty_class_axis_rejected():
    with pytest.raises(InputError) as caught:
        build_request(get_op("cross_entropy"), {"logits": np.zeros((2, 0)), "labels": np.array([0, 0])}, {})

    assert caught.value.message == "expected at least one class, got shape (2, 0)"
