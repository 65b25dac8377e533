"""Losses: the cross-entropy family, with its params, input checks, reference and breakdown.

The framework formulations live in cross_entropy_formulations, which this
module imports last so that they register on the op defined here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


from tui.core.catalog.base import InputError, InputSpec, Op, ParamError, ParamSpec
from tui.core.catalog.cross_entropy_maths import (
    are_targets,
    class_axis_index,
    classes_last,
    ignored_labels,
    log_softmax,
    mean_denominator,
    outside_classes,
    per_sample_losses,
    position_text,
    smoothed_targets,
)

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

cross_entropy = Op(
    id="cross_entropy",
    title="cross-entropy / NLL",
    family="losses",
    inputs=(
        InputSpec(
            "logits", "float", "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1]]", "(N, C) or (N, S, C) scores"
        ),
        InputSpec(
            "labels",
            "labels",
            "[0, 1, 2]",
            "(N,) class indices, or float targets shaped like logits (one-hot or probability rows)",
        ),
        InputSpec("weight", "float", "", "(C,) class weights", optional=True),
    ),
    params=(
        ParamSpec("reduction", "choice", "none", "how per-sample losses are combined", choices=("none", "mean", "sum")),
        ParamSpec(
            "class_axis",
            "choice",
            "last",
            "axis of 3-D logits that holds the classes: last for (N, S, C), 1 for (N, C, S)",
            choices=("last", "1"),
        ),
        ParamSpec("ignore_index", "int", -100, "torch's sentinel: labels equal to it are left out"),
        ParamSpec(
            "ignore_class", "int", None, "Keras' sentinel: labels equal to it are left out", optional=True
        ),
        ParamSpec(
            "label_smoothing",
            "float",
            0.0,
            "s in [0, 1): targets become (1 - s) * target + s / C",
            minimum=0.0,
            maximum=1.0,
        ),
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
        "tensorflow": "tf.nn.(sparse_)softmax_cross_entropy_with_logits, keras losses",
        "others": "NumPy reference",
    },
    note="""\
Every formulation computes -sum_c w[c] * t[c] * log softmax(logits)[c] per sample, where t is the \
one-hot row of the label or the given target row; they differ in what they expect to be given and \
how they say it.

Argument order. Keras losses take (y_true, y_pred): labels first. torch losses take \
(input, target): logits first. tf.nn's cross-entropy functions take (labels, logits) too, so pass \
them as labels= and logits=: in TensorFlow 2.21, softmax_cross_entropy_with_logits(logits, \
targets) in torch's order gives 2.94 for logits [2, 1, 0.1] and targets [0.7, 0.2, 0.1], where \
the loss is 0.807, and raises nothing.

Keras' from_logits defaults to False, so its losses treat their input as probabilities: the \
sparse one clips them to [epsilon, 1 - epsilon], divides by their sum and takes the log, with no \
softmax; the categorical one divides by the sum first, then clips. Handing them raw logits gives a \
plausible, wrong number and no error.

Reduction. torch's is a lower-case string, 'none', 'mean' or 'sum'; reduction='None' raises \
ValueError, and it replaced the deprecated size_average and reduce arguments. tf.nn losses never \
reduce: call tf.reduce_mean yourself. The Keras loss classes call their mean \
'sum_over_batch_size'.

Ignored labels. torch leaves out labels equal to ignore_index, which is -100 unless set. Keras \
leaves out labels equal to ignore_class, which is None unless set, and tf.nn has no such option. \
So -100 is ignored by torch and out of range for Keras, which raises InvalidArgumentError. Both \
give an ignored sample a loss of 0 and leave it out of the mean's divisor, but \
keras.losses.sparse_categorical_crossentropy followed by keras.ops.mean still divides by every \
sample. With every label ignored the mean is 0 / 0: torch returns nan, the Keras loss class 0.

Class weights. torch's weighted mean divides by the sum of weight[label] over the labels kept, \
not by the number of samples; with probability targets it divides by the number of samples. Keras' \
losses have no class weights: Model.fit(class_weight=) turns them into sample weights, and \
'sum_over_batch_size' then divides by the batch size.

Label smoothing. torch's label_smoothing and Keras' categorical losses build \
(1 - s) * target + s / C. Keras' sparse losses and tf.nn have no smoothing: one-hot the labels and \
use the categorical loss.

Class axis. torch takes axis 1 as the classes: (N, C) or (N, C, S) logits, so (batch, seq, \
classes) logits need logits.permute(0, 2, 1). TensorFlow and Keras take the last axis. When the \
sequence length equals the class count, the wrong layout raises nothing.

Feeding log(clamp(p, epsilon, 1 - epsilon)) to CrossEntropyLoss reproduces Keras' sparse \
probability path in torch: the log-softmax of log-probabilities renormalises them.

Edge cases. A logit of -inf on a class with no target mass adds nothing by the definition \
(0 * log 0 = 0), but torch, tf.nn and Keras from logits compute 0 * -inf = nan. On an empty batch \
the Keras loss classes (Keras 3.15) return the empty (0,) array of losses for every reduction.""",
)


@cross_entropy.validate
def check_inputs(inputs, params):
    logits, weight = inputs["logits"], inputs["weight"]
    layout = "(N, C, S)" if params["class_axis"] == "1" else "(N, S, C)"
    if logits.ndim not in (2, 3):
        raise InputError("logits", f"expected a 2-D (N, C) or 3-D {layout} array, got {logits.ndim}-D {logits.shape}")
    classes = logits.shape[class_axis_index(logits, params["class_axis"])]
    if classes == 0:
        raise InputError("logits", f"expected at least one class, got shape {logits.shape}")

    smoothing = params["label_smoothing"]
    if smoothing >= 1:
        raise ParamError("label_smoothing", f"{smoothing} is not below 1: smoothing takes values in [0, 1)")
    if weight is not None and weight.shape != (classes,):
        raise InputError("weight", f"expected ({classes},) class weights, one per class, got shape {weight.shape}")
    return {**inputs, "labels": settle_labels(inputs["labels"], logits, params["class_axis"])}


def settle_labels(labels: np.ndarray, logits: np.ndarray, class_axis: str) -> np.ndarray:
    """Return float64 targets for labels shaped like the logits, else checked int64 class indices."""
    if labels.shape == logits.shape:
        return labels.astype(np.float64)

    axis = class_axis_index(logits, class_axis)
    expected = logits.shape[:axis] + logits.shape[axis + 1 :]
    if labels.shape != expected:
        if logits.ndim == 2 and labels.ndim == 1:
            message = f"expected {logits.shape[0]} labels, one per row of logits, got {labels.shape[0]}"
        else:
            message = (
                f"expected class indices of shape {expected} or targets of the logits' shape {logits.shape}, "
                f"got {labels.ndim}-D {labels.shape}"
            )
        raise InputError("labels", message)

    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise InputError("labels", "expected integers, got fractional or non-finite values")
        if np.any(np.abs(labels) >= 2.0**63):
            raise InputError("labels", f"expected integers within int64, got {np.max(np.abs(labels)):g}")
    return labels.astype(np.int64)


def class_weights(weight: np.ndarray | None, classes: int) -> np.ndarray:
    """Return the weight input, or ones when it is not given."""
    return np.ones(classes) if weight is None else weight


@cross_entropy.reference
def reference_cross_entropy(
    logits, labels, weight, reduction, class_axis, ignore_index, ignore_class, label_smoothing
):
    logits, labels = classes_last(logits, labels, class_axis)
    classes = logits.shape[-1]
    weight = class_weights(weight, classes)
    ignored = ignored_labels(labels, ignore_index, ignore_class)
    outside = np.argwhere(outside_classes(labels, ignored, classes))
    if outside.size:
        position = tuple(outside[0])
        where = position_text(position)
        raise ValueError(f"label {labels[position]} in {where} is outside the classes 0..{classes - 1}")

    targets = smoothed_targets(labels, ignored, classes, label_smoothing)
    losses = per_sample_losses(log_softmax(logits), targets, weight)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.sum(losses)
    # Ignored samples are out of the numerator (their loss is 0) and of the divisor; 0 / 0 is nan, as in torch.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.float64(np.sum(losses)) / mean_denominator(labels, ignored, weight)


@cross_entropy.diagnose
def warn_traps(inputs, params):
    logits, labels = classes_last(inputs["logits"], inputs["labels"], params["class_axis"])
    return [
        *probability_warnings(logits, labels),
        *class_axis_warnings(inputs["logits"], inputs["labels"], params["class_axis"]),
        *label_warnings(labels, logits.shape[-1], params),
    ]


def probability_warnings(logits: np.ndarray, labels: np.ndarray) -> list[str]:
    """Warn when logits are not probabilities, or targets not probability rows."""
    warnings = []
    if logits.size and (np.any(logits < 0) or np.any(logits > 1) or not np.allclose(logits.sum(axis=-1), 1.0)):
        warnings.append(
            "logits are not probabilities, yet a loss with from_logits=False (Keras' default) "
            "treats them as a probability distribution without an error"
        )
    if are_targets(labels) and labels.size:
        # atol 1e-2 lets probability rows rounded to bfloat16 (8 significant bits) pass.
        if np.any(labels < 0) or not np.allclose(labels.sum(axis=-1), 1.0, atol=1e-2):
            warnings.append("target rows are not probability distributions; every library uses them as given")
    return warnings


def class_axis_warnings(logits: np.ndarray, labels: np.ndarray, class_axis: str) -> list[str]:
    """Warn when 3-D logits fit the other class axis too, so the wrong one raises nothing."""
    if logits.ndim != 3:
        return []
    _, second, last = logits.shape
    targets = are_targets(labels)
    if not targets and second != last:
        return []

    why = "targets have the logits' shape" if targets else f"the seq length equals the class count ({last})"
    if class_axis == "last":
        return [
            f"class axis: {why}, so torch's CrossEntropyLoss takes axis 1 of these (batch, seq, classes) "
            "logits, the sequence, as the classes and raises no error; use logits.permute(0, 2, 1)"
        ]
    return [
        f"class axis: {why}, so TensorFlow and Keras take the last axis of these (batch, classes, seq) "
        "logits, the sequence, as the classes and raise no error; move the classes last with "
        "tf.transpose(logits, [0, 2, 1])"
    ]


def label_warnings(labels: np.ndarray, classes: int, params: dict[str, Any]) -> list[str]:
    """Warn about labels out of range, ignored by one framework alone, or all ignored."""
    if are_targets(labels) or labels.size == 0:
        return []
    ignore_index, ignore_class = params["ignore_index"], params["ignore_class"]
    ignored = ignored_labels(labels, ignore_index, ignore_class)
    warnings = []

    outside = outside_classes(labels, ignored, classes)
    if np.any(outside):
        warnings.append(f"labels {sorted(set(labels[outside].tolist()))} are outside the classes 0..{classes - 1}")
    if ignore_class != ignore_index and np.any(labels == ignore_index):
        warnings.append(
            f"labels equal to ignore_index ({ignore_index}) are ignored by torch alone: Keras ignores "
            f"ignore_class ({ignore_class}) and tf.nn ignores nothing"
        )
    if ignore_class is not None and ignore_class != ignore_index and np.any(labels == ignore_class):
        warnings.append(
            f"labels equal to ignore_class ({ignore_class}) are ignored by Keras alone: torch ignores "
            f"ignore_index ({ignore_index}) and tf.nn ignores nothing"
        )
    if params["reduction"] == "mean" and np.all(ignored):
        warnings.append("every label is ignored, so the mean divides by 0: torch returns nan, the Keras loss class 0")
    return warnings


@cross_entropy.details
def loss_breakdown(inputs, params):
    logits, labels = classes_last(inputs["logits"], inputs["labels"], params["class_axis"])
    classes = logits.shape[-1]
    weight = class_weights(inputs["weight"], classes)
    ignored = ignored_labels(labels, params["ignore_index"], params["ignore_class"])
    outside = outside_classes(labels, ignored, classes)
    targets = smoothed_targets(labels, ignored, classes, params["label_smoothing"])
    log_probabilities = log_softmax(logits)
    losses = np.where(outside, np.nan, per_sample_losses(log_probabilities, targets, weight))

    count = int(np.prod(logits.shape[:-1]))
    reduction = params["reduction"]
    denominator = mean_denominator(labels, ignored, weight) if reduction == "mean" else 1
    return {
        "kind": "targets" if are_targets(labels) else "indices",
        "weighted": inputs["weight"] is not None,
        "positions": [", ".join(str(index) for index in position) for position in np.ndindex(logits.shape[:-1])],
        "labels": labels.reshape(count, classes) if are_targets(labels) else labels.reshape(count),
        "ignored": ignored.reshape(count),
        "logits": logits.reshape(count, classes),
        "log_softmax": log_probabilities.reshape(count, classes),
        "p_label": label_probabilities(labels, log_probabilities, ignored | outside).reshape(count),
        "targets": targets.reshape(count, classes),
        "sample_weights": sample_weights(labels, weight, ignored | outside).reshape(count),
        "loss": losses.reshape(count),
        "numerator": float(np.sum(losses)),
        "denominator": denominator,
        "formulations": formulation_reductions(labels, inputs["weight"], classes, params),
    }


def label_probabilities(labels: np.ndarray, log_probabilities: np.ndarray, skipped: np.ndarray) -> np.ndarray:
    """Return p(label) per sample: of the class index, or of the 1 in a one-hot target, else nan."""
    if are_targets(labels):
        one_hot = np.all((labels == 0) | (labels == 1), axis=-1) & (np.sum(labels, axis=-1) == 1)
        picked = np.take_along_axis(log_probabilities, np.argmax(labels, axis=-1)[..., np.newaxis], axis=-1)[..., 0]
        return np.where(one_hot, np.exp(picked), np.nan)
    safe = np.where(skipped, 0, labels)
    picked = np.take_along_axis(log_probabilities, safe[..., np.newaxis], axis=-1)[..., 0]
    return np.where(skipped, np.nan, np.exp(picked))


def sample_weights(labels: np.ndarray, weight: np.ndarray, skipped: np.ndarray) -> np.ndarray:
    """Return each sample's share of torch's mean divisor: weight[label], 0 when ignored, 1 for targets."""
    if are_targets(labels):
        return np.ones(labels.shape[:-1])
    return np.where(skipped, 0.0, weight[np.where(skipped, 0, labels)])


def formulation_reductions(
    labels: np.ndarray, weight: np.ndarray | None, classes: int, params: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per formulation id, reference included: its class axis, sentinel, mean divisor and target row."""
    described = {"reference": reference_reduction(labels, weight, classes, params)}
    for formulation in cross_entropy.formulations:
        contract = formulation.fn.contract
        divisor, rule = mean_divisor(contract.mean, labels, weight, classes, params)
        described[formulation.id] = {
            "classes": contract.classes,
            "sentinel": sentinel_text(contract.options, params),
            **reduction_divisor(divisor, rule, params["reduction"]),
            "targets": target_text(contract.options, labels, classes, params["label_smoothing"]),
        }
    return described


def reference_reduction(
    labels: np.ndarray, weight: np.ndarray | None, classes: int, params: dict[str, Any]
) -> dict[str, Any]:
    """Describe the reference: the class_axis param, both sentinels and torch's divisor."""
    ignored = ignored_labels(labels, params["ignore_index"], params["ignore_class"])
    divisor = mean_denominator(labels, ignored, class_weights(weight, classes))
    if are_targets(labels):
        rule = "samples"
    else:
        rule = "labels not ignored" if weight is None else "Σ weight[label], labels not ignored"
    return {
        "classes": "axis 1" if params["class_axis"] == "1" else "last axis",
        "sentinel": f"ignore_index={params['ignore_index']}, ignore_class={params['ignore_class']}",
        **reduction_divisor(divisor, rule, params["reduction"]),
        "targets": target_text(frozenset({"label_smoothing"}), labels, classes, params["label_smoothing"]),
    }


def reduction_divisor(divisor: float, rule: str, reduction: str) -> dict[str, Any]:
    """Return the divisor of a reduction and its rule: the mean's, 1 for a sum, None unreduced."""
    if reduction == "mean":
        return {"denominator": divisor, "divides_by": rule}
    if reduction == "sum":
        return {"denominator": 1.0, "divides_by": "1"}
    return {"denominator": None, "divides_by": "not reduced"}


def mean_divisor(
    rule: str, labels: np.ndarray, weight: np.ndarray | None, classes: int, params: dict[str, Any]
) -> tuple[float, str]:
    """Return the divisor of one API's mean and its rule: torch's, Keras' or every sample."""
    samples = float(np.prod(labels.shape[:-1] if are_targets(labels) else labels.shape))
    if rule == "samples" or are_targets(labels):
        return samples, "samples"
    if rule == "keras":
        sentinel = params["ignore_class"]
        if sentinel is None:
            return samples, "samples"
        return float(np.sum(labels != sentinel)), f"labels ≠ {sentinel}"

    ignored = labels == params["ignore_index"]
    divisor = mean_denominator(labels, ignored, class_weights(weight, classes))
    kept = f"labels ≠ {params['ignore_index']}"
    return divisor, kept if weight is None else f"Σ weight[label], {kept}"


def sentinel_text(options: frozenset[str], params: dict[str, Any]) -> str:
    """Name the ignored-label sentinel an API honours, with its value."""
    if "ignore_index" in options:
        return f"ignore_index={params['ignore_index']}"
    if "ignore_class" in options:
        return f"ignore_class={params['ignore_class']}"
    return "none"


def target_text(options: frozenset[str], labels: np.ndarray, classes: int, smoothing: float) -> str:
    """Write the target row an API builds from the labels as a formula."""
    given = "target" if are_targets(labels) else "one-hot"
    if smoothing == 0:
        return given
    if "label_smoothing" not in options:
        return "no smoothing"
    return f"{1 - smoothing:g}·{given} + {smoothing / classes:.4g}"


from tui.core.catalog import cross_entropy_formulations  # noqa: E402, F401  (registers the formulations)
