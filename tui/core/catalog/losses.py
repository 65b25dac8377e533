"""Losses: the cross-entropy family."""

from __future__ import annotations

import numpy as np

from tui.core.catalog.base import InputError, InputSpec, Op, ParamSpec
from tui.core.lazy import keras, tf, torch

cross_entropy = Op(
    id="cross_entropy",
    title="cross-entropy / NLL",
    family="losses",
    inputs=(
        InputSpec("logits", "float", "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1]]", "(N, C) unnormalised scores"),
        InputSpec("labels", "int", "[0, 1, 2]", "(N,) class indices in [0, C)"),
    ),
    params=(
        ParamSpec("reduction", "choice", "none", "how per-sample losses are combined", choices=("none", "mean", "sum")),
        ParamSpec(
            "epsilon",
            "float",
            1e-7,
            "clip bound for probabilities before the log",
            minimum=0.0,
            maximum=0.5,
        ),
    ),
    variants={"per_sample": {"reduction": "none"}},
    table={
        "torch": "CrossEntropyLoss, NLLLoss(LogSoftmax)",
        "tensorflow": "tf.nn.sparse_softmax_cross_entropy_with_logits, keras losses",
        "others": "NumPy reference",
    },
    note="""\
Every formulation computes -log softmax(logits)[label] per sample; they differ in what they \
expect to be given and how they say it.

Keras losses take (y_true, y_pred): labels first. tf.nn.sparse_softmax_cross_entropy_with_logits \
takes keyword arguments only, labels= and logits=. torch losses take (input, target): logits first.

Keras' from_logits defaults to False, so sparse_categorical_crossentropy treats its input as \
probabilities: it clips them to [epsilon, 1 - epsilon], divides by their sum and takes the log, \
with no softmax. Handing it raw logits gives a plausible, wrong number and no error.

torch's CrossEntropyLoss is LogSoftmax followed by NLLLoss. Its reduction is a string, \
'none', 'mean' or 'sum' (lower case); reduction='none' replaces the deprecated reduce=False \
and size_average arguments. TensorFlow's tf.nn losses never reduce: call tf.reduce_mean yourself.

Feeding log(clamp(p, epsilon, 1 - epsilon)) to CrossEntropyLoss reproduces Keras' probability \
path in torch: the log-softmax of log-probabilities renormalises them.""",
)


@cross_entropy.validate
def check_shapes(inputs, params):
    logits, labels = inputs["logits"], inputs["labels"]
    if logits.ndim != 2:
        raise InputError("logits", f"expected a 2-D (N, C) array, got {logits.ndim}-D {logits.shape}")
    if labels.ndim != 1:
        raise InputError("labels", f"expected a 1-D (N,) array of class indices, got {labels.ndim}-D {labels.shape}")
    if labels.shape[0] != logits.shape[0]:
        raise InputError("labels", f"expected {logits.shape[0]} labels, one per row of logits, got {labels.shape[0]}")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Stable log-softmax over the last axis: logits - logsumexp(logits)."""
    shift = np.max(logits, axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return logits - shift - np.log(np.sum(np.exp(logits - shift), axis=-1, keepdims=True))


def reduce_losses(losses: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.mean(losses) if losses.size else np.array(np.nan)
    if reduction == "sum":
        return np.sum(losses)
    return losses


def check_labels(labels: np.ndarray, classes: int) -> None:
    outside = np.flatnonzero((labels < 0) | (labels >= classes))
    if outside.size:
        row = int(outside[0])
        raise ValueError(f"label {labels[row]} in row {row} is outside the classes 0..{classes - 1}")


@cross_entropy.reference
def reference_cross_entropy(logits, labels, reduction):
    check_labels(labels, logits.shape[-1])
    rows = np.arange(labels.shape[0])
    losses = -log_softmax(logits)[rows, labels]
    return reduce_losses(losses, reduction)


@cross_entropy.diagnose
def warn_probabilities(inputs, params):
    logits, labels = inputs["logits"], inputs["labels"]
    warnings = []
    if logits.size and (np.any(logits < 0) or np.any(logits > 1) or not np.allclose(logits.sum(axis=-1), 1.0)):
        warnings.append(
            "logits are not probabilities, yet a loss with from_logits=False (Keras' default) "
            "treats them as a probability distribution without an error"
        )
    if labels.size and logits.ndim == 2:
        outside = (labels < 0) | (labels >= logits.shape[-1])
        if np.any(outside):
            warnings.append(f"labels {sorted(set(labels[outside].tolist()))} are outside the classes 0..{logits.shape[-1] - 1}")
    return warnings


@cross_entropy.details
def loss_breakdown(inputs, params):
    logits, labels = inputs["logits"], inputs["labels"]
    log_probabilities = log_softmax(logits)
    rows = np.arange(labels.shape[0])
    valid = (labels >= 0) & (labels < logits.shape[-1])
    safe_labels = np.where(valid, labels, 0)
    picked = np.where(valid, log_probabilities[rows, safe_labels], np.nan)
    losses = -picked
    return {
        "labels": labels,
        "logits": logits,
        "log_softmax": log_probabilities,
        "p_label": np.exp(picked),
        "loss": losses,
        "numerator": np.sum(losses),
        "denominator": {"none": 1, "sum": 1, "mean": int(labels.shape[0])}[params["reduction"]],
    }


@cross_entropy.formulation("tensorflow", "tf.nn.sparse_softmax_cross_entropy_with_logits")
def tf_sparse_softmax_cross_entropy_with_logits(logits, labels, reduction):
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if reduction == "mean":
        return tf.reduce_mean(losses)
    if reduction == "sum":
        return tf.reduce_sum(losses)
    return losses


@cross_entropy.formulation("tensorflow", "keras.losses.sparse_categorical_crossentropy(from_logits=True)")
def keras_sparse_categorical_crossentropy_logits(logits, labels, reduction):
    losses = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


@cross_entropy.formulation("tensorflow", "keras.losses.sparse_categorical_crossentropy on tf.nn.softmax(logits)")
def keras_sparse_categorical_crossentropy_probabilities(logits, labels, reduction, epsilon):
    keras.config.set_epsilon(epsilon)
    # tf.nn.softmax, not keras.ops.softmax: Keras tags the latter's output with
    # its logits and the loss would quietly use those, skipping the clip.
    probabilities = tf.nn.softmax(logits, axis=-1)
    losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities, from_logits=False)
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


@cross_entropy.formulation("tensorflow", "keras.losses.sparse_categorical_crossentropy, default from_logits=False")
def keras_sparse_categorical_crossentropy_default(logits, labels, reduction, epsilon):
    keras.config.set_epsilon(epsilon)
    # The common slip: logits passed where Keras expects probabilities.
    losses = keras.losses.sparse_categorical_crossentropy(labels, logits)
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


@cross_entropy.formulation("torch", "torch.nn.CrossEntropyLoss")
def torch_cross_entropy_loss(logits, labels, reduction):
    loss = torch.nn.CrossEntropyLoss(reduction=reduction)
    return loss(logits, labels)


@cross_entropy.formulation("torch", "torch.nn.NLLLoss(LogSoftmax(dim=-1))")
def torch_nll_of_log_softmax(logits, labels, reduction):
    log_probabilities = torch.nn.LogSoftmax(dim=-1)(logits)
    loss = torch.nn.NLLLoss(reduction=reduction)
    return loss(log_probabilities, labels)


@cross_entropy.formulation("torch", "torch.nn.CrossEntropyLoss on log(clamp(softmax, eps, 1 - eps))")
def torch_cross_entropy_of_clamped_log_probabilities(logits, labels, reduction, epsilon):
    probabilities = torch.softmax(logits, dim=-1).clamp(epsilon, 1 - epsilon)
    loss = torch.nn.CrossEntropyLoss(reduction=reduction)
    return loss(torch.log(probabilities), labels)
