"""Selection: where, in its select form and its one-argument (nonzero) form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.catalog.base import Convention, InputError, InputSpec, NotApplicable, Op
from tui.core.lazy import tf, torch

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np


where = Op(
    id="where",
    title="where / nonzero",
    family="functions",
    inputs=(
        InputSpec("condition", "bool", "[[True, False], [False, True]]", "which elements to take from x"),
        InputSpec(
            "x",
            "float",
            "[[1.0, 2.0], [3.0, 4.0]]",
            "taken where condition is True; leave x and y empty for the one-argument form",
            optional=True,
        ),
        InputSpec("y", "float", "[[-1.0, -2.0], [-3.0, -4.0]]", "taken where condition is False", optional=True),
    ),
    table={
        "torch": "torch.where(condition[, x, y]), torch.nonzero",
        "tensorflow": "tf.where(condition[, x, y])",
        "others": "np.where(condition[, x, y]), np.argwhere",
    },
    note="""\
With x and y, where is an elementwise select: x where condition is True, y elsewhere, with the \
three arguments broadcast together. torch, TensorFlow and NumPy agree. The trap is in \
gradients: the unselected branch gets a zero gradient, and the chain rule multiplies that zero by \
the derivative of whatever computed the branch. where(x > 0, log(x), 0) at x = 0 gives 0 * inf, \
a NaN gradient, in torch and TensorFlow alike.

With the condition alone, where lists the coordinates of the True elements, in row-major \
order, in two layouts:

np.where(condition) (which is np.nonzero) and torch.where(condition) (which is \
torch.nonzero(condition, as_tuple=True)) return a tuple with one index array per axis, ready for \
indexing: x[np.where(condition)].

tf.where(condition), torch.nonzero(condition) and np.argwhere(condition) return one int64 array of \
shape (count, ndim), one row per coordinate: the transpose of the stacked tuple. So torch.nonzero \
matches tf.where, not np.nonzero, despite the name.

The reference returns coordinate rows. The tuple layouts differ from it by convention: stacked as \
columns, the per-axis arrays are the reference. A 0-d condition has no axes: np.where raises \
ValueError, tf.where raises InvalidArgumentError, torch.where treats it as 1-D, and torch.nonzero \
and np.argwhere return (count, 0).""",
)


@where.validate
def check_select_form(inputs, params):
    condition, x, y = inputs["condition"], inputs["x"], inputs["y"]
    if x is None and y is None:
        return
    if x is None or y is None:
        present, missing = ("x", "y") if y is None else ("y", "x")
        raise InputError(
            missing,
            f"{present} is given but {missing} is not; give both for the select form, or neither for the "
            f"one-argument form",
        )
    try:
        np.broadcast_shapes(condition.shape, x.shape, y.shape)
    except ValueError:
        raise InputError(
            "y",
            f"condition {condition.shape}, x {x.shape} and y {y.shape} do not broadcast together; "
            f"each axis must match or be 1",
        ) from None


@where.diagnose
def explain_layouts(inputs, params):
    condition, x = inputs["condition"], inputs["x"]
    if x is not None:
        return _select_warnings(inputs)
    if condition.ndim == 0:
        return [
            "0-d condition: np.where raises ValueError and tf.where raises InvalidArgumentError; "
            "torch.where treats it as 1-D, and torch.nonzero and np.argwhere return (count, 0)"
        ]
    count, ndim = int(np.count_nonzero(condition)), condition.ndim
    arrays = "1 index array" if ndim == 1 else f"{ndim} per-axis index arrays"
    return [
        f"one-argument form: np.where and torch.where return a tuple of {arrays} of length {count}; "
        f"tf.where, torch.nonzero and np.argwhere return one ({count}, {ndim}) int64 array of coordinate rows, "
        f"the transpose of the stacked tuple. torch.nonzero matches tf.where, not np.nonzero"
    ]


def _select_warnings(inputs: dict[str, np.ndarray | None]) -> list[str]:
    condition, x, y = inputs["condition"], inputs["x"], inputs["y"]
    warnings = []
    shape = np.broadcast_shapes(condition.shape, x.shape, y.shape)
    if not condition.shape == x.shape == y.shape:
        warnings.append(
            f"condition {condition.shape}, x {x.shape} and y {y.shape} are broadcast to {shape}, "
            f"which torch, TensorFlow and NumPy all do"
        )
    unselected_x = np.broadcast_to(~condition, shape) & ~np.isfinite(np.broadcast_to(x, shape))
    unselected_y = np.broadcast_to(condition, shape) & ~np.isfinite(np.broadcast_to(y, shape))
    if np.any(unselected_x) or np.any(unselected_y):
        warnings.append(
            "x or y has a NaN or inf where it is not selected: the output hides it, but if an earlier op "
            "made it (log(0), 1/0), that op's gradient there is 0 * inf, which is NaN"
        )
    return warnings


@where.details
def coordinate_layouts(inputs, params):
    condition = inputs["condition"]
    if inputs["x"] is not None or condition.ndim == 0:
        return {}
    rows = reference_where(condition, None, None)
    return {"coordinate_rows": rows, "per_axis_indices": rows.T.copy()}


@where.reference
def reference_where(condition, x, y):
    if x is None:
        # Coordinates of the True elements in row-major order, one row each: (count, ndim).
        grid = np.indices(condition.shape, dtype=np.int64).reshape(condition.ndim, condition.size)
        return grid[:, condition.ravel()].T

    shape = np.broadcast_shapes(condition.shape, x.shape, y.shape)
    selected = np.array(np.broadcast_to(y, shape), dtype=np.float64)
    mask = np.broadcast_to(condition, shape)
    selected[mask] = np.broadcast_to(x, shape)[mask]
    return selected


# NOTE: Convention maps one output at a time, so this stacks a 1-D condition's single index
# array into the reference's (count, 1) column. A condition of 2 or more axes gives one index
# array per axis, and joining them needs a mapping over all outputs at once, which Convention
# does not offer: those read as "N outputs vs 1 in the reference".
PER_AXIS = Convention(
    "a tuple of per-axis index arrays; stacked as columns they are the reference's coordinate rows",
    lambda per_axis: [np.stack(per_axis, axis=-1)],
    whole=True,
)


@where.formulation("torch", "torch.where", convention=PER_AXIS)
def torch_where(condition, x, y):
    if x is None:
        return torch.where(condition)
    return torch.where(condition, x, y)


@where.formulation("torch", "torch.nonzero")
def torch_nonzero(condition, x, y):
    if x is not None:
        raise NotApplicable("torch.nonzero takes no x and y; torch.where(condition, x, y) selects")
    return torch.nonzero(condition)


@where.formulation("tensorflow", "tf.where")
def tf_where(condition, x, y):
    if x is None:
        return tf.where(condition)
    return tf.where(condition, x, y)


@where.formulation("numpy", "np.where", convention=PER_AXIS)
def numpy_where(condition, x, y):
    if x is None:
        return np.where(condition)
    return np.where(condition, x, y)


@where.formulation("numpy", "np.argwhere")
def numpy_argwhere(condition, x, y):
    if x is not None:
        raise NotApplicable("np.argwhere takes no x and y; np.where(condition, x, y) selects")
    return np.argwhere(condition)
