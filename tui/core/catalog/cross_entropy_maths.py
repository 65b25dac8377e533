"""Cross-entropy from its definition, in float64 NumPy: the reference's building blocks.

Shared by the reference, the input checks and the loss breakdown. Logits are
(N, C), (N, S, C) or, with class_axis "1", (N, C, S). Labels are int64 class
indices shaped like the logits without their class axis, or float targets
shaped like the logits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np



def are_targets(labels: np.ndarray) -> bool:
    """Return whether labels are float targets (probability rows) rather than int class indices."""
    return labels.dtype.kind == "f"


def class_axis_index(logits: np.ndarray, class_axis: str) -> int:
    """Return the axis of the logits that contains the classes: 1 with class_axis "1", else the last."""
    return 1 if class_axis == "1" else logits.ndim - 1


def classes_last(logits: np.ndarray, labels: np.ndarray, class_axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Move the class axis of (N, C, S) logits, and of targets laid out like them, to the end."""
    axis = class_axis_index(logits, class_axis)
    if axis == logits.ndim - 1:
        return logits, labels
    if are_targets(labels):
        labels = np.moveaxis(labels, axis, -1)
    return np.moveaxis(logits, axis, -1), labels


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Stable log-softmax over the last axis: logits - logsumexp(logits)."""
    shift = np.max(logits, axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return logits - shift - np.log(np.sum(np.exp(logits - shift), axis=-1, keepdims=True))


def ignored_labels(labels: np.ndarray, ignore_index: int, ignore_class: int | None) -> np.ndarray:
    """Mark the class indices equal to torch's ignore_index or Keras' ignore_class (none for targets)."""
    if are_targets(labels):
        return np.zeros(labels.shape[:-1], dtype=bool)
    ignored = labels == ignore_index
    if ignore_class is not None:
        ignored |= labels == ignore_class
    return ignored


def outside_classes(labels: np.ndarray, ignored: np.ndarray, classes: int) -> np.ndarray:
    """Mark the class indices that are not ignored and lie outside 0..classes - 1."""
    if are_targets(labels):
        return np.zeros(labels.shape[:-1], dtype=bool)
    return ~ignored & ((labels < 0) | (labels >= classes))


def position_text(position: tuple[int, ...]) -> str:
    """Name a sample as errors do: "row 2" in a batch, "position (0, 1)" in a sequence batch."""
    if len(position) == 1:
        return f"row {position[0]}"
    return f"position {tuple(int(index) for index in position)}"


def smoothed_targets(labels: np.ndarray, ignored: np.ndarray, classes: int, smoothing: float) -> np.ndarray:
    """Build the target rows torch uses: (1 - s) * target + s / C, and zero rows for ignored labels.

    Class indices become one-hot rows first. Indices outside the classes give
    zero rows too, but the reference raises for them before using these rows.
    """
    if are_targets(labels):
        return (1.0 - smoothing) * labels + smoothing / classes

    valid = ~ignored & (labels >= 0) & (labels < classes)
    one_hot = (np.where(valid, labels, 0)[..., np.newaxis] == np.arange(classes)).astype(np.float64)
    targets = (1.0 - smoothing) * one_hot + smoothing / classes
    return np.where(valid[..., np.newaxis], targets, 0.0)


def per_sample_losses(log_probabilities: np.ndarray, targets: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Compute -sum_c weight[c] * target[c] * log p[c] per sample.

    A class with no target mass adds 0 even where log p is -inf, the usual
    0 * log 0 = 0 of cross-entropy.
    """
    mass = weight * targets
    with np.errstate(invalid="ignore"):
        terms = np.where(mass != 0, mass * log_probabilities, 0.0)
    # 0.0 - sum, not -sum: an ignored sample's loss reads 0, not -0.
    return 0.0 - np.sum(terms, axis=-1)


def mean_denominator(labels: np.ndarray, ignored: np.ndarray, weight: np.ndarray) -> float:
    """Compute torch's divisor for reduction="mean".

    With class indices it is the sum of weight[label] over the labels not
    ignored; with targets it is the number of samples, weights or not.
    """
    if are_targets(labels):
        return float(np.prod(labels.shape[:-1]))
    kept = labels[~ignored]
    inside = (kept >= 0) & (kept < weight.shape[0])
    return float(np.sum(weight[kept[inside]]))
