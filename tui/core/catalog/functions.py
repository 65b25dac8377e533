"""Functions: clip and one-hot encoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.catalog.base import Convention, InputSpec, Op, ParamError, ParamSpec
from tui.core.lazy import F, keras, tf, torch

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

clip = Op(
    id="clip",
    title="clip / clamp",
    family="functions",
    inputs=(InputSpec("x", "float", "[-1.5, -0.2, 0.0, 0.3, 0.7, 1.0, 2.5]", "values to limit"),),
    params=(
        ParamSpec("min", "float", 0.0, "lower bound; empty leaves the lower side open", optional=True),
        ParamSpec("max", "float", 1.0, "upper bound; empty leaves the upper side open", optional=True),
    ),
    table={
        "torch": "torch.clamp(x, min, max)",
        "tensorflow": "tf.clip_by_value(x, min, max), keras.ops.clip",
        "others": "np.clip(x, min, max)",
    },
    note="""\
Every library computes max(x, min) and min(x, max); they differ in which of the two comes last, \
which decides the result when min > max.

torch.clamp and np.clip apply max last: with min=0.5 and max=-0.5 every element becomes -0.5. \
Both document it. tf.clip_by_value applies min last: minimum(x, max) first, then maximum(., min) \
(TensorFlow 2.21 source), so every element becomes 0.5; its docs only say min must not exceed \
max. keras.ops.clip with the TensorFlow backend calls tf.clip_by_value (Keras 3.15 source), so it \
follows TensorFlow; with the torch or NumPy backend it calls their clip and follows them. The reference applies max last, like torch and NumPy, and no \
elementwise map turns TensorFlow's output into it, so inverted bounds read as a mismatch.

Omitted bounds: torch.clamp and np.clip take None for either bound. torch raises RuntimeError when \
both are None, while NumPy 2 returns x unchanged. tf.clip_by_value and keras.ops.clip need both \
bounds, so their formulations pass -inf or inf for a missing one.

The argument names differ: torch uses min= and max=, NumPy a_min= and a_max= (min= and max= since \
NumPy 2.1), TensorFlow clip_value_min= and clip_value_max=, Keras x_min and x_max. NaN passes \
through every one of them unchanged.""",
)


@clip.diagnose
def warn_inverted_bounds(inputs, params):
    low, high = params["min"], params["max"]
    warnings = []
    if low is None and high is None:
        warnings.append(
            "no bounds given: np.clip returns x unchanged, torch.clamp raises RuntimeError, "
            "and the TensorFlow formulations clip to (-inf, inf)"
        )
    if low is not None and high is not None and low > high:
        warnings.append(
            f"inverted bounds: min={low:g} is above max={high:g}. torch.clamp and np.clip apply max last, "
            f"so every element becomes {high:g}; tf.clip_by_value and keras.ops.clip apply min last, "
            f"so every element becomes {low:g}. The reference applies max last, like torch and NumPy"
        )
    if np.any(np.isnan(inputs["x"])):
        warnings.append("x contains NaN: clip passes NaN through unchanged in every library here")
    return warnings


@clip.reference
def reference_clip(x, min, max):
    # The lower bound first and the upper bound last, as torch.clamp and np.clip do.
    clipped = x
    if min is not None:
        clipped = np.maximum(clipped, min)
    if max is not None:
        clipped = np.minimum(clipped, max)
    return clipped


@clip.formulation("torch", "torch.clamp")
def torch_clamp(x, min, max):
    return torch.clamp(x, min=min, max=max)


@clip.formulation("tensorflow", "tf.clip_by_value")
def tf_clip_by_value(x, min, max):
    # tf.clip_by_value takes no None: an infinite bound leaves that side open.
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    return tf.clip_by_value(x, clip_value_min=low, clip_value_max=high)


@clip.formulation("tensorflow", "keras.ops.clip")
def keras_ops_clip(x, min, max):
    # keras.ops.clip takes no None: an infinite bound leaves that side open.
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    return keras.ops.clip(x, low, high)


@clip.formulation("numpy", "np.clip")
def numpy_clip(x, min, max):
    return np.clip(x, min, max)


MAX_ONE_HOT_ELEMENTS = 10_000_000
"""Largest one-hot output accepted; the same element limit the workers put on any output."""

one_hot = Op(
    id="one_hot",
    title="one-hot encoding",
    family="functions",
    differentiable=False,
    inputs=(InputSpec("indices", "int", "[0, 2, 1, 0]", "class indices, any shape"),),
    params=(
        ParamSpec("depth", "int", 3, "number of classes: the length of each one-hot row", minimum=0),
    ),
    table={
        "torch": "F.one_hot(indices, num_classes)",
        "tensorflow": "tf.one_hot(indices, depth), keras.utils.to_categorical",
        "others": "np.eye(depth)[indices]",
    },
    note="""\
All of them append an axis of length depth with a 1 at each index. They disagree on an index \
outside [0, depth) and on the output dtype.

Zero row: tf.one_hot gives an all-zero row, as float32. keras.utils.to_categorical does the same \
when handed a tensor, because it then calls the backend's one_hot. The reference follows this \
rule: an out-of-range index matches no class, so its row is all zeros.

Error: F.one_hot raises RuntimeError, "Class values must be non-negative." or "Class values must \
be smaller than num_classes.". Its output is int64, not float.

Wrap-around: np.eye(depth)[indices] is plain NumPy indexing, so -1 selects the last class and \
depth raises IndexError. keras.utils.to_categorical handed a NumPy array indexes a zero matrix \
the same way and returns float64. A negative index wraps with no error or warning, so that \
mismatch is silent; an index of depth or more at least raises.

Names: torch calls the length num_classes, TensorFlow depth. F.one_hot's num_classes=-1 \
(the default) and to_categorical's num_classes=None both infer max(indices) + 1, which changes \
the width with the data; to_categorical on a NumPy array also infers it for num_classes=0. \
to_categorical squeezes a trailing axis of size 1: (n, 1) indices give (n, depth), not (n, 1, depth).""",
)


@one_hot.validate
def check_depth(inputs, params):
    indices, depth = inputs["indices"], params["depth"]
    # At least one row counts, because the reference builds the range of classes even for no indices.
    elements = max(indices.size, 1) * depth
    if elements > MAX_ONE_HOT_ELEMENTS:
        raise ParamError(
            "depth",
            f"depth={depth} for {indices.size} indices gives {elements:,} elements, above the limit "
            f"of {MAX_ONE_HOT_ELEMENTS:,}; use fewer indices or a smaller depth",
        )


@one_hot.diagnose
def warn_out_of_range(inputs, params):
    indices, depth = inputs["indices"], params["depth"]
    warnings = []
    negative = sorted(set(indices[indices < 0].tolist()))
    if negative:
        warnings.append(
            f"negative indices {negative}: tf.one_hot gives zero rows, F.one_hot raises RuntimeError, "
            f"and NumPy indexing (np.eye, to_categorical on an array) wraps them to class depth + index"
        )
    too_large = sorted(set(indices[indices >= depth].tolist()))
    if too_large:
        warnings.append(
            f"indices {too_large} are >= depth={depth}: tf.one_hot gives zero rows, F.one_hot raises "
            f"RuntimeError, and NumPy indexing raises IndexError"
        )
    if depth == 0:
        warnings.append(
            "depth=0: keras.utils.to_categorical on a NumPy array treats num_classes=0 as not given "
            "and infers max(indices) + 1 classes"
        )
    if indices.ndim > 1 and indices.shape[-1] == 1:
        warnings.append(
            f"indices of shape {indices.shape} end in an axis of size 1: keras.utils.to_categorical "
            f"squeezes it, the others append the class axis after it"
        )
    return warnings


@one_hot.reference
def reference_one_hot(indices, depth):
    # An index outside [0, depth) equals no class, so its row is all zeros, as in tf.one_hot.
    classes = np.arange(depth)
    return (indices[..., np.newaxis] == classes).astype(np.float64)


SQUEEZED = Convention(
    "to_categorical squeezes a trailing axis of size 1 in the indices",
    lambda encoded: np.expand_dims(encoded, -2),
)


@one_hot.formulation("torch", "torch.nn.functional.one_hot")
def torch_one_hot(indices, depth):
    return F.one_hot(indices, num_classes=depth)


@one_hot.formulation("tensorflow", "tf.one_hot")
def tf_one_hot(indices, depth):
    return tf.one_hot(indices, depth=depth)


@one_hot.formulation("tensorflow", "keras.utils.to_categorical on a tensor", convention=SQUEEZED)
def keras_to_categorical_tensor(indices, depth):
    # Handed a tensor, to_categorical calls the backend's one_hot.
    return keras.utils.to_categorical(indices, num_classes=depth)


@one_hot.formulation("tensorflow", "keras.utils.to_categorical on a NumPy array", convention=SQUEEZED)
def keras_to_categorical_array(indices, depth):
    # Handed a NumPy array, to_categorical indexes a zero matrix, like np.eye(depth)[indices].
    return keras.utils.to_categorical(indices.numpy(), num_classes=depth)


@one_hot.formulation("numpy", "np.eye(depth)[indices]")
def numpy_eye_indexing(indices, depth):
    return np.eye(depth)[indices]
