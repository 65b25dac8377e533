"""Every framework's cross-entropy, next to the others: the code each card shows.

Each formulation is registered through `loss_formulation` with a Contract
that states which labels its API takes and which options it has. The contract
is checked before the framework runs, so an API without an option reports
NotSupported instead of quietly computing a different loss, and an API for
the other kind of labels reports NotApplicable. The checks live in the
wrapper, so the code shown is only the framework's.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal


from tui.core.catalog.base import NotApplicable
from tui.core.catalog.losses import cross_entropy
from tui.core.lazy import keras, tf, torch

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

SENTINELS = ("ignore_index", "ignore_class")
CHECKED_ARGUMENTS = ("logits", "labels", "weight", "label_smoothing", *SENTINELS)
"""Arguments the contract check reads, whether or not the formulation itself takes them."""

KERAS_REDUCTION = {"none": None, "mean": "sum_over_batch_size", "sum": "sum"}
"""Keras' names for torch's reductions; "sum_over_batch_size" leaves masked samples out."""


class NotSupported(Exception):
    """Raised when an option in use (weight, label_smoothing, an ignored label) is missing from the API."""


@dataclass(frozen=True)
class Contract:
    """The labels and options one cross-entropy API accepts, and the divisor of its mean."""

    function: str
    """The API as errors name it, e.g. "tf.nn.sparse_softmax_cross_entropy_with_logits"."""
    labels: Literal["indices", "targets", "both"]
    options: frozenset[str]
    """Options the API has, among weight, label_smoothing, ignore_index and ignore_class."""
    mean: Literal["torch", "keras", "samples"]
    """The divisor of the mean: torch's sum of weight[label] over labels kept, Keras' count of
    labels that are not ignore_class, or every sample."""
    classes: str
    """The axis of the logits the API takes as the classes, as the breakdown shows it."""
    alternative: str = ""
    """The API to use for the other kind of labels, named in NotApplicable."""
    logits_ndim: int | None = None


def are_targets(labels: Any) -> bool:
    """Return whether labels are float targets: torch, TensorFlow and NumPy float dtype names contain "float"."""
    return "float" in str(labels.dtype)


def check_contract(contract: Contract, arguments: dict[str, Any]) -> None:
    """Raise NotApplicable or NotSupported when the API cannot compute this loss as asked."""
    targets = are_targets(arguments["labels"])
    if contract.labels == "indices" and targets:
        raise NotApplicable(
            f"{contract.function} takes class indices; targets shaped like the logits go to {contract.alternative}"
        )
    if contract.labels == "targets" and not targets:
        raise NotApplicable(
            f"{contract.function} takes targets shaped like the logits (one-hot or probability rows); "
            f"class indices go to {contract.alternative}"
        )
    ndim = len(arguments["logits"].shape)
    if contract.logits_ndim is not None and ndim != contract.logits_ndim:
        raise NotApplicable(
            f"logits.permute(0, 2, 1) needs 3-D (batch, seq, classes) logits; "
            f"{ndim}-D logits already have their classes on axis 1"
        )

    missing = [name for name in options_in_use(contract, arguments, targets) if name not in contract.options]
    if missing:
        raise NotSupported(f"not supported by {contract.function}: {', '.join(missing)}")


def options_in_use(contract: Contract, arguments: dict[str, Any], targets: bool) -> list[str]:
    """List the options that change this loss: a weight, a smoothing, and sentinels some label equals.

    An API with a sentinel of its own treats the other API's sentinel as a
    plain label, so only an API with no sentinel at all counts it as in use.
    """
    used = []
    if arguments["weight"] is not None:
        used.append("weight")
    if arguments["label_smoothing"] > 0:
        used.append("label_smoothing")
    if targets or contract.options.intersection(SENTINELS):
        return used

    values = np.asarray(arguments["labels"])
    for name in SENTINELS:
        sentinel = arguments[name]
        if sentinel is not None and np.any(values == sentinel):
            used.append(name)
    return used


def loss_formulation(backend: str, api: str, contract: Contract) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a cross-entropy formulation whose contract is checked before it runs."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = list(inspect.signature(fn).parameters)
        names = own + [name for name in CHECKED_ARGUMENTS if name not in own]

        @functools.wraps(fn)
        def checked(**arguments: Any) -> Any:
            check_contract(contract, arguments)
            return fn(**{name: arguments[name] for name in own})

        # The runner passes the arguments this signature names: the function's own and the checked ones.
        checked.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in names]
        )
        checked.contract = contract
        return cross_entropy.formulation(backend, api)(checked)

    return register


TORCH_OPTIONS = frozenset({"weight", "label_smoothing", "ignore_index"})
TORCH_AXIS_1 = "axis 1"
LAST_AXIS = "last axis"


@loss_formulation(
    "torch",
    "torch.nn.CrossEntropyLoss, classes on axis 1",
    Contract("torch.nn.CrossEntropyLoss", "both", TORCH_OPTIONS, "torch", TORCH_AXIS_1),
)
def torch_cross_entropy_loss(logits, labels, weight, reduction, ignore_index, label_smoothing):
    loss = torch.nn.CrossEntropyLoss(
        weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )
    return loss(logits, labels)


@loss_formulation(
    "torch",
    "torch.nn.CrossEntropyLoss on logits.permute(0, 2, 1)",
    Contract("torch.nn.CrossEntropyLoss", "both", TORCH_OPTIONS, "torch", "last axis, moved to 1", logits_ndim=3),
)
def torch_cross_entropy_loss_permuted(logits, labels, weight, reduction, ignore_index, label_smoothing):
    loss = torch.nn.CrossEntropyLoss(
        weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )
    if labels.is_floating_point():
        labels = labels.permute(0, 2, 1)  # targets are laid out like the logits
    return loss(logits.permute(0, 2, 1), labels)


@loss_formulation(
    "torch",
    "torch.nn.NLLLoss(LogSoftmax(dim=1))",
    Contract(
        "torch.nn.NLLLoss",
        "indices",
        frozenset({"weight", "ignore_index"}),
        "torch",
        TORCH_AXIS_1,
        alternative="torch.nn.CrossEntropyLoss",
    ),
)
def torch_nll_of_log_softmax(logits, labels, weight, reduction, ignore_index):
    log_probabilities = torch.nn.LogSoftmax(dim=1)(logits)
    loss = torch.nn.NLLLoss(weight=weight, ignore_index=ignore_index, reduction=reduction)
    return loss(log_probabilities, labels)


@loss_formulation(
    "torch",
    "torch.nn.CrossEntropyLoss on log(clamp(softmax, eps, 1 - eps))",
    Contract("torch.nn.CrossEntropyLoss", "both", TORCH_OPTIONS, "torch", TORCH_AXIS_1),
)
def torch_cross_entropy_of_clamped_log_probabilities(
    logits, labels, weight, reduction, ignore_index, label_smoothing, epsilon
):
    probabilities = torch.softmax(logits, dim=1).clamp(epsilon, 1 - epsilon)
    loss = torch.nn.CrossEntropyLoss(
        weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )
    return loss(torch.log(probabilities), labels)


@loss_formulation(
    "tensorflow",
    "tf.nn.sparse_softmax_cross_entropy_with_logits",
    Contract(
        "tf.nn.sparse_softmax_cross_entropy_with_logits",
        "indices",
        frozenset(),
        "samples",
        LAST_AXIS,
        alternative="tf.nn.softmax_cross_entropy_with_logits",
    ),
)
def tf_sparse_softmax_cross_entropy_with_logits(logits, labels, reduction):
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if reduction == "mean":
        return tf.reduce_mean(losses)
    if reduction == "sum":
        return tf.reduce_sum(losses)
    return losses


@loss_formulation(
    "tensorflow",
    "tf.nn.softmax_cross_entropy_with_logits",
    Contract(
        "tf.nn.softmax_cross_entropy_with_logits",
        "targets",
        frozenset(),
        "samples",
        LAST_AXIS,
        alternative="tf.nn.sparse_softmax_cross_entropy_with_logits",
    ),
)
def tf_softmax_cross_entropy_with_logits(logits, labels, reduction):
    losses = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if reduction == "mean":
        return tf.reduce_mean(losses)
    if reduction == "sum":
        return tf.reduce_sum(losses)
    return losses


KERAS_SPARSE = "keras.losses.sparse_categorical_crossentropy"
KERAS_SPARSE_CONTRACT = Contract(
    KERAS_SPARSE,
    "indices",
    frozenset({"ignore_class"}),
    "samples",
    LAST_AXIS,
    alternative="keras.losses.categorical_crossentropy",
)


@loss_formulation(
    "tensorflow",
    "keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
    Contract(
        "keras.losses.SparseCategoricalCrossentropy",
        "indices",
        frozenset({"ignore_class"}),
        "keras",
        LAST_AXIS,
        alternative="keras.losses.CategoricalCrossentropy",
    ),
)
def keras_sparse_categorical_crossentropy_class(logits, labels, reduction, ignore_class):
    loss = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=ignore_class, reduction=KERAS_REDUCTION[reduction]
    )
    return loss(labels, logits)


@loss_formulation(
    "tensorflow", "keras.losses.sparse_categorical_crossentropy(from_logits=True)", KERAS_SPARSE_CONTRACT
)
def keras_sparse_categorical_crossentropy_logits(logits, labels, reduction, ignore_class):
    losses = keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True, ignore_class=ignore_class
    )
    if reduction == "mean":
        return keras.ops.mean(losses)  # divides by every sample, ignored ones (loss 0) included
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


@loss_formulation(
    "tensorflow", "keras.losses.sparse_categorical_crossentropy on tf.nn.softmax(logits)", KERAS_SPARSE_CONTRACT
)
def keras_sparse_categorical_crossentropy_probabilities(logits, labels, reduction, ignore_class, epsilon):
    keras.config.set_epsilon(epsilon)
    # tf.nn.softmax, not keras.ops.softmax: Keras tags the latter's output with
    # its logits and the loss would quietly use those, skipping the clip.
    probabilities = tf.nn.softmax(logits, axis=-1)
    losses = keras.losses.sparse_categorical_crossentropy(
        labels, probabilities, from_logits=False, ignore_class=ignore_class
    )
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


@loss_formulation(
    "tensorflow", "keras.losses.sparse_categorical_crossentropy, default from_logits=False", KERAS_SPARSE_CONTRACT
)
def keras_sparse_categorical_crossentropy_default(logits, labels, reduction, ignore_class, epsilon):
    keras.config.set_epsilon(epsilon)
    # The common slip: logits passed where Keras expects probabilities.
    losses = keras.losses.sparse_categorical_crossentropy(labels, logits, ignore_class=ignore_class)
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


KERAS_CATEGORICAL_CONTRACT = Contract(
    "keras.losses.categorical_crossentropy",
    "targets",
    frozenset({"label_smoothing"}),
    "samples",
    LAST_AXIS,
    alternative="sparse_categorical_crossentropy, or through keras.ops.one_hot(labels, num_classes)",
)


@loss_formulation(
    "tensorflow", "keras.losses.categorical_crossentropy(from_logits=True)", KERAS_CATEGORICAL_CONTRACT
)
def keras_categorical_crossentropy_logits(logits, labels, reduction, label_smoothing):
    losses = keras.losses.categorical_crossentropy(
        labels, logits, from_logits=True, label_smoothing=label_smoothing
    )
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses


@loss_formulation(
    "tensorflow", "keras.losses.categorical_crossentropy on tf.nn.softmax(logits)", KERAS_CATEGORICAL_CONTRACT
)
def keras_categorical_crossentropy_probabilities(logits, labels, reduction, label_smoothing, epsilon):
    keras.config.set_epsilon(epsilon)
    probabilities = tf.nn.softmax(logits, axis=-1)
    # On probabilities Keras divides by their sum, then clips: no second renormalisation.
    losses = keras.losses.categorical_crossentropy(labels, probabilities, label_smoothing=label_smoothing)
    if reduction == "mean":
        return keras.ops.mean(losses)
    if reduction == "sum":
        return keras.ops.sum(losses)
    return losses
