"""Metrics: classification accuracy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.catalog.base import InputError, InputSpec, Op
from tui.core.lazy import keras, sklearn_metrics

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

accuracy = Op(
    id="accuracy",
    title="accuracy",
    family="metrics",
    differentiable=False,
    inputs=(
        InputSpec(
            "predictions",
            "float",
            "[[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]]",
            "(N, C) scores, probabilities or logits",
        ),
        InputSpec("labels", "int", "[1, 0, 2, 1]", "(N,) class indices, or (N, C) one-hot rows"),
    ),
    table={
        "torch": "(predictions.argmax(dim=1) == labels).float().mean()",
        "tensorflow": "keras.metrics.SparseCategoricalAccuracy / CategoricalAccuracy",
        "others": "sklearn.metrics.accuracy_score",
    },
    note="""\
Accuracy is the fraction of rows whose argmax is the label. torch has no accuracy function in its \
core, so it is written out; Keras and scikit-learn have one each, with their own argument orders.

Argument order: Keras metrics take update_state(y_true, y_pred) and scikit-learn \
accuracy_score(y_true, y_pred), labels first in both; accuracy_score wants class indices in both \
arguments, so the scores go through argmax first.

Label layout picks the Keras class: SparseCategoricalAccuracy for (N,) class indices, \
CategoricalAccuracy for (N, C) one-hot rows. Swapping them gives a wrong number, not an error. \
accuracy_score cannot mix a one-hot y_true with class-index predictions ("a mix of \
multilabel-indicator and ..." ValueError), so one-hot labels go through argmax too.

Ties: torch, NumPy and TensorFlow all take the first of several equal maxima (tf.math.argmax \
documents "the smallest index"), so tied rows agree.

NaN scores: torch and NumPy treat NaN as the maximum and return its index; tf.argmax, and so the \
Keras metrics, skip NaN. The reference follows NumPy.

Empty input: torch returns NaN (the mean of nothing), Keras returns 0.0 and scikit-learn raises \
ValueError. The reference returns NaN.

Half precision: both Keras metrics cast the class indices to the scores' dtype before comparing, \
so classes above 2048 in float16 or 256 in bfloat16 round, and distinct classes can compare equal.""",
)


@accuracy.validate
def check_shapes(inputs, params):
    predictions, labels = inputs["predictions"], inputs["labels"]
    if predictions.ndim != 2:
        raise InputError("predictions", f"expected a 2-D (N, C) array, got {predictions.ndim}-D {predictions.shape}")
    rows, classes = predictions.shape
    if classes == 0:
        raise InputError("predictions", f"expected at least one class column, got shape {predictions.shape}")
    if labels.ndim not in (1, 2):
        raise InputError(
            "labels", f"expected (N,) class indices or (N, C) one-hot rows, got {labels.ndim}-D {labels.shape}"
        )
    if labels.shape[0] != rows:
        raise InputError("labels", f"expected {rows} labels, one per row of predictions, got {labels.shape[0]}")
    if labels.ndim == 2:
        _check_one_hot(labels, classes)


def _check_one_hot(labels: np.ndarray, classes: int) -> None:
    if labels.shape[1] != classes:
        raise InputError("labels", f"expected one-hot rows of {classes} columns, like predictions, got {labels.shape}")
    outside = labels[(labels != 0) & (labels != 1)]
    if outside.size:
        raise InputError("labels", f"one-hot rows must contain only 0 and 1, got {outside[0]}")


@accuracy.diagnose
def warn_ambiguous_rows(inputs, params):
    predictions, labels = inputs["predictions"], inputs["labels"]
    warnings = []
    if labels.shape[0] == 0:
        warnings.append(
            "no rows: torch returns NaN, Keras 0.0, and scikit-learn raises ValueError; the reference returns NaN"
        )
        return warnings

    nan_rows = np.flatnonzero(np.isnan(predictions).any(axis=1)).tolist()
    if nan_rows:
        warnings.append(
            f"rows {nan_rows} contain NaN: torch and NumPy take the NaN as the maximum, tf.argmax (and Keras) "
            f"skips it, so the predicted classes differ"
        )
    tied_rows = np.flatnonzero((predictions == predictions.max(axis=1, keepdims=True)).sum(axis=1) > 1).tolist()
    if tied_rows:
        warnings.append(f"rows {tied_rows} have tied maxima: every library here takes the first, the smallest index")
    if labels.ndim == 2:
        warnings.extend(_one_hot_warnings(labels))
    else:
        warnings.extend(_index_warnings(labels, predictions.shape[1]))
    if max(predictions.shape[1] - 1, int(labels.max())) > 256:
        warnings.append(
            "class indices above 256: with bfloat16 scores (above 2048 with float16) the Keras metrics round "
            "the indices to the scores' dtype, so neighbouring classes can compare equal"
        )
    return warnings


def _one_hot_warnings(labels: np.ndarray) -> list[str]:
    not_one_hot = np.flatnonzero(labels.sum(axis=1) != 1).tolist()
    if not not_one_hot:
        return []
    return [f"label rows {not_one_hot} do not contain exactly one 1: argmax reads them as their first 1, or class 0"]


def _index_warnings(labels: np.ndarray, classes: int) -> list[str]:
    warnings = []
    outside = sorted(set(labels[(labels < 0) | (labels >= classes)].tolist()))
    if outside:
        warnings.append(
            f"labels {outside} are outside the classes 0..{classes - 1}: those rows count as wrong everywhere"
        )
    return warnings


@accuracy.reference
def reference_accuracy(predictions, labels):
    if labels.ndim == 2:
        labels = np.argmax(labels, axis=1)
    if labels.size == 0:
        return np.array(np.nan)
    # np.argmax takes the first of tied maxima and treats NaN as the maximum.
    predicted = np.argmax(predictions, axis=1)
    return np.mean(predicted == labels)


@accuracy.formulation("torch", "(predictions.argmax(dim=1) == labels).float().mean()")
def torch_accuracy(predictions, labels):
    if labels.ndim == 2:
        labels = labels.argmax(dim=1)
    return (predictions.argmax(dim=1) == labels).float().mean()


@accuracy.formulation("tensorflow", "keras.metrics.SparseCategoricalAccuracy / CategoricalAccuracy")
def keras_accuracy_metric(predictions, labels):
    if labels.ndim == 2:
        metric = keras.metrics.CategoricalAccuracy()
    else:
        metric = keras.metrics.SparseCategoricalAccuracy()
    metric.update_state(labels, predictions)
    return metric.result()


@accuracy.formulation("sklearn", "sklearn.metrics.accuracy_score")
def sklearn_accuracy_score(predictions, labels):
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return sklearn_metrics.accuracy_score(labels, predictions.argmax(axis=1))
