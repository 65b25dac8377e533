"""Gradient drivers: d(output)/d(input) by torch autograd, tf.GradientTape and central differences.

The drivers run inside the worker processes, and the gradients view shows
their source as the code that ran, next to each formulation's own code.
Importing this module loads no framework: `torch` and `tf` are lazy proxies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tui.core.catalog.base import Formulation, Op
from tui.core.lazy import tf, torch
from tui.core.run import RunError

SEEDS = ("implicit", "sum", "mean")
"""implicit: the framework's own choice when given no seed; sum: ones; mean: ones / N."""
REFERENCE_SEEDS = ("sum", "mean")
"""The reference has no implicit seed: the implicit gradients are compared with the sum's."""
SIDES = ("forward", "backward")
"""One-sided difference quotients, sent as "sum:forward" and so on where the op has a kink."""
GRADIENT_BACKENDS = ("torch", "tensorflow")
"""Backends with automatic differentiation; NumPy and scikit-learn formulations get no gradients."""

STEP = float(np.finfo(np.float64).eps ** (1 / 3))
"""Relative step of the central differences, about 6e-6, which balances the truncation
error (about h^2) against rounding (about eps / h)."""
KINK_RATIO = 1e-2
"""Largest gap between the one-sided quotients, relative to max(1, |quotient|), at a point
where the op has a derivative. A wider gap marks a kink (clip at a bound). A smooth op
passes it only with a second derivative above about KINK_RATIO / STEP (1.6e3)."""
MAX_DIFFERENCE_ELEMENTS = 5_000
"""Largest total size of the inputs differentiated by central differences, which run the
reference twice per element."""
DIFFERENCE_SECONDS = 4.0
"""Time the central differences may take in one request, within the worker's deadline."""


def torch_gradients(fn, arguments, wrt, seed):
    """Run fn with autograd on the inputs named in wrt, then backpropagate one seed."""
    leaves = {name: arguments[name].detach().requires_grad_() for name in wrt}
    output = fn(**{**arguments, **leaves})
    if seed == "implicit":
        output.backward()  # seeds 1.0, and raises RuntimeError unless the output has one element
    elif seed == "sum":
        output.backward(torch.ones_like(output))
    elif seed == "mean":
        output.backward(torch.ones_like(output) / output.numel())
    return {name: leaf.grad for name, leaf in leaves.items()}


def tf_gradients(fn, arguments, wrt, seed):
    """Run fn under a tf.GradientTape watching the inputs named in wrt, then take one seed's gradient."""
    watched = {name: arguments[name] for name in wrt}
    with tf.GradientTape() as tape:
        tape.watch(list(watched.values()))
        output = fn(**{**arguments, **watched})
        if seed == "sum":
            output = tf.reduce_sum(output)
        elif seed == "mean":
            output = tf.reduce_mean(output)
    # With seed "implicit", tape.gradient seeds ones: the gradient of the sum.
    return tape.gradient(output, watched)


def central_differences(fn, arguments, name, deadline):
    """Differentiate sum(fn) with respect to each element of one float64 input, moving it by ±h.

    Returns the backward, central and forward difference quotients, in the input's shape.
    """
    x = arguments[name].copy()
    moved = {**arguments, name: x}
    output = np.asarray(fn(**moved), dtype=np.float64)
    quotients = {side: np.zeros_like(x) for side in ("backward", "central", "forward")}

    for index in np.ndindex(x.shape):
        if time.monotonic() > deadline:
            raise TimeoutError(f"central differences took longer than {DIFFERENCE_SECONDS:g} s")
        value = x[index]
        if not np.isfinite(value):
            for quotient in quotients.values():
                quotient[index] = np.nan  # no step can be taken from NaN or infinity
            continue
        h = STEP * max(1.0, abs(value))
        x[index] = value + h
        above = np.sum(output_difference(fn(**moved), output))
        step_up = x[index] - value  # the step as stored, which is exact
        x[index] = value - h
        below = np.sum(output_difference(output, fn(**moved)))
        step_down = value - x[index]
        x[index] = value

        quotients["forward"][index] = above / step_up
        quotients["backward"][index] = below / step_down
        quotients["central"][index] = (above + below) / (step_up + step_down)
    return quotients["backward"], quotients["central"], quotients["forward"]


def output_difference(after: Any, before: Any) -> np.ndarray:
    """Subtract two outputs elementwise, with 0 where an element is the same NaN or infinity in both.

    So a NaN in one row leaves the other rows' differences intact, as it does
    in autograd.
    """
    # NOTE: an element that stays NaN or infinite adds 0 even where it depends on the moved
    # input, as in a softmax row holding a NaN or a square that overflows. Torch and
    # TensorFlow backpropagate NaN or a finite value through such an element.
    after = np.asarray(after, dtype=np.float64)
    before = np.asarray(before, dtype=np.float64)
    unchanged = (np.isnan(after) & np.isnan(before)) | (np.isinf(after) & (after == before))
    with np.errstate(invalid="ignore"):
        return np.where(unchanged, 0.0, after - before)


DRIVERS: dict[str, Callable[..., Any]] = {
    "torch": torch_gradients,
    "tensorflow": tf_gradients,
    "reference": central_differences,
}
"""The function that computes each backend's gradients; its source is shown as the code that ran."""

Gradients = dict[str, dict[str, np.ndarray | RunError]]
"""By seed, then by input name: a gradient, or the exception raised instead."""


def has_gradients(op: Op) -> bool:
    """Return whether the op has a gradients view: a differentiable op with a torch or TensorFlow formulation."""
    return any(differentiates(formulation, op) for formulation in op.formulations)


def differentiates(formulation: Formulation, op: Op) -> bool:
    """Return whether gradients are computed for a formulation; the reference's are."""
    if not op.differentiable or not formulation.differentiable:
        return False
    return formulation.backend in (*GRADIENT_BACKENDS, "reference")


def float_inputs(op: Op, inputs: dict[str, np.ndarray | None]) -> list[str]:
    """Return the names of the differentiable float inputs given in a request, in the op's order.

    Integer, boolean and label inputs are never differentiated, nor float inputs
    declared constant (class weights).
    """
    return [
        spec.name
        for spec in op.inputs
        if spec.kind == "float" and spec.differentiable and inputs.get(spec.name) is not None
    ]


def framework_gradients(
    backend: str, fn: Callable[..., Any], arguments: dict[str, Any], wrt: list[str], to_numpy: Callable[[Any], Any]
) -> Gradients:
    """Run a torch or TensorFlow driver once per seed; an exception is the result for that seed."""
    gradients: Gradients = {}
    for seed in SEEDS:
        try:
            found = DRIVERS[backend](fn, arguments, wrt, seed)
        except Exception as exc:  # a framework's exception is a result to show
            gradients[seed] = {name: RunError(type(exc).__name__, str(exc)) for name in wrt}
            continue
        gradients[seed] = {name: _gradient_array(backend, name, found[name], to_numpy) for name in wrt}
    return gradients


def _gradient_array(backend: str, name: str, value: Any, to_numpy: Callable[[Any], Any]) -> np.ndarray | RunError:
    if value is None and backend == "torch":
        return RunError("NoGradient", f"{name}.grad is None: no autograd path leads from {name} to the output")
    if value is None:
        return RunError("NoGradient", f"tape.gradient returned None: the tape recorded no path from {name} to the output")
    if type(value).__name__ == "IndexedSlices":
        value = tf.convert_to_tensor(value)  # the sparse gradient of a gather, made dense
    array, _ = to_numpy(value)
    return array


def reference_gradients(fn: Callable[..., Any], arguments: dict[str, Any], wrt: list[str]) -> Gradients:
    """Differentiate the float64 reference by central differences, for the sum and mean seeds.

    Where some element sits on a kink, the one-sided quotients are added as
    "sum:forward", "sum:backward", "mean:forward" and "mean:backward", so the
    comparison can accept a framework that picks one side.
    """
    total = sum(int(np.size(arguments[name])) for name in wrt)
    if total > MAX_DIFFERENCE_ELEMENTS:
        error = RunError(
            "TooLarge",
            f"central differences run the reference twice per input element; {total:,} elements "
            f"is above the limit of {MAX_DIFFERENCE_ELEMENTS:,}",
        )
        return {seed: {name: error for name in wrt} for seed in REFERENCE_SEEDS}

    output_size = int(np.size(fn(**arguments)))
    deadline = time.monotonic() + DIFFERENCE_SECONDS
    gradients: Gradients = {seed: {} for seed in _reference_keys()}
    kinks = False
    for name in wrt:
        try:
            backward, central, forward = central_differences(fn, arguments, name, deadline)
        except Exception as exc:  # the reference's own exception, or the time limit
            for seed in REFERENCE_SEEDS:
                gradients[seed][name] = RunError(type(exc).__name__, str(exc))
            continue
        kinks = kinks or bool(np.any(kink_mask(backward, forward)))
        with np.errstate(divide="ignore", invalid="ignore"):
            for seed, scale in (("sum", 1), ("mean", output_size)):
                gradients[seed][name] = central / scale
                gradients[f"{seed}:forward"][name] = forward / scale
                gradients[f"{seed}:backward"][name] = backward / scale

    if not kinks:
        return {seed: gradients[seed] for seed in REFERENCE_SEEDS}
    return gradients


def _reference_keys() -> list[str]:
    return [*REFERENCE_SEEDS, *(f"{seed}:{side}" for seed in REFERENCE_SEEDS for side in SIDES)]


def kink_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Mark the elements where the one-sided quotients disagree, because the op has no derivative there."""
    with np.errstate(invalid="ignore"):
        scale = np.maximum(1.0, np.maximum(np.abs(backward), np.abs(forward)))
        return np.abs(forward - backward) > KINK_RATIO * scale
