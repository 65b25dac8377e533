"""Compare each formulation's gradients with the reference's, for the gradients view and `run --grad`.

Runs in the UI process and the CLI, on results the workers sent back; no
framework is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tui.core.catalog.base import BACKENDS, Formulation, function_source
from tui.core.compare import Comparison, Tolerance, Verdict, compare_arrays, tolerance_for
from tui.core.gradients import DRIVERS, SEEDS, differentiates, float_inputs, kink_mask
from tui.core.run import FormulationResult, RunError

if TYPE_CHECKING:
    from tui.core.report import RunState


@dataclass
class GradientCell:
    """d(output)/d(one input) for one seed, or the exception raised, and its comparison."""

    value: np.ndarray | None = None
    error: RunError | None = None
    comparison: Comparison | None = None


@dataclass
class GradientRow:
    """One formulation's gradients for every seed and float input."""

    formulation: Formulation
    result: FormulationResult | None
    failure: str | None = None
    """The reason the worker gave no result at all."""
    cells: dict[str, dict[str, GradientCell]] = field(default_factory=dict)
    """By seed, then by input name; empty when the forward run raised."""

    @property
    def output_size(self) -> int | None:
        """Number of elements of the formulation's output: the N of the mean seed."""
        if self.result is None or self.result.output is None:
            return None
        return int(np.size(self.result.output))

    def sum_mean_ratio(self) -> float | None:
        """Return the measured factor between the sum and mean gradients: the median over elements."""
        ratios = []
        for name, cell in self.cells.get("sum", {}).items():
            mean = self.cells.get("mean", {}).get(name)
            if cell.value is None or mean is None or mean.value is None:
                continue
            total = np.asarray(cell.value, dtype=np.float64).ravel()
            average = np.asarray(mean.value, dtype=np.float64).ravel()
            usable = np.isfinite(total) & np.isfinite(average) & (average != 0)
            ratios.extend((total[usable] / average[usable]).tolist())
        return float(np.median(ratios)) if ratios else None


def gradient_rows(state: RunState, rule: str = "torch") -> list[GradientRow]:
    """Compare the gradients of the reference and every differentiated formulation, in column order."""
    reference = state.reference
    reference_gradients = reference.gradients if reference is not None else {}
    tolerance = tolerance_for(state.request.dtype, rule)
    order = list(BACKENDS)
    formulations = sorted(state.op.all_formulations(), key=lambda formulation: order.index(formulation.backend))
    rows = []
    for formulation in formulations:
        if not differentiates(formulation, state.op):
            continue
        result = state.results.get(formulation.id)
        row = GradientRow(formulation, result, state.failures.get(BACKENDS[formulation.backend].worker))
        if result is not None:
            row.cells = _cells(formulation, result, reference_gradients, tolerance, state.request.inputs)
        rows.append(row)
    return rows


def _cells(
    formulation: Formulation,
    result: FormulationResult,
    reference: dict[str, dict[str, np.ndarray | RunError]],
    tolerance: Tolerance,
    inputs: dict[str, np.ndarray | None],
) -> dict[str, dict[str, GradientCell]]:
    cells: dict[str, dict[str, GradientCell]] = {}
    # The reference's keys include the one-sided quotients ("sum:forward") where the op has a kink.
    seeds = list(result.gradients) if formulation.backend == "reference" else SEEDS
    for seed in seeds:
        for name, value in result.gradients.get(seed, {}).items():
            cell = GradientCell(error=value) if isinstance(value, RunError) else GradientCell(value=value)
            if cell.value is not None and formulation.backend != "reference":
                cell.comparison = compare_gradient(formulation, cell.value, seed, name, reference, tolerance, inputs)
            cells.setdefault(seed, {})[name] = cell
    return cells


def compare_gradient(
    formulation: Formulation,
    value: np.ndarray,
    seed: str,
    name: str,
    reference: dict[str, dict[str, np.ndarray | RunError]],
    tolerance: Tolerance,
    inputs: dict[str, np.ndarray | None] | None = None,
) -> Comparison:
    """Compare one gradient with the reference's for the same seed; the implicit seed is compared with the sum's.

    Where the op has a kink, a value between the one-sided derivatives reads
    "differs by convention". So does a gradient that a linear convention, such
    as the Keras cosine loss's negation, maps onto the reference's.
    """
    reference_seed = "sum" if seed == "implicit" else seed
    expected = reference.get(reference_seed, {}).get(name)
    if expected is None or isinstance(expected, RunError):
        return Comparison(Verdict.NO_REFERENCE, "the reference has no gradient here")

    plain = compare_arrays(value, expected, tolerance)
    if plain.verdict is not Verdict.MISMATCH:
        return plain

    one_sided = _compare_one_sided(value, expected, reference, reference_seed, name, tolerance)
    if one_sided is not None:
        return one_sided
    convention = formulation.convention
    if convention is not None and convention.maps_gradients:
        mapped = compare_arrays(convention.apply([value], inputs)[0], expected, tolerance)
        if mapped.verdict is Verdict.MATCH:
            mapped.verdict = Verdict.CONVENTION
            mapped.reason = convention.reason
            return mapped
    return plain


def _compare_one_sided(
    value: np.ndarray,
    expected: np.ndarray,
    reference: dict[str, dict[str, np.ndarray | RunError]],
    seed: str,
    name: str,
    tolerance: Tolerance,
) -> Comparison | None:
    """Accept, at each kink, any value between the one-sided derivatives; None when that does not match."""
    forward = reference.get(f"{seed}:forward", {}).get(name)
    backward = reference.get(f"{seed}:backward", {}).get(name)
    if not isinstance(forward, np.ndarray) or not isinstance(backward, np.ndarray):
        return None

    kinks = kink_mask(backward, forward)
    actual = np.asarray(value, dtype=np.float64)
    low = np.minimum(forward, backward)
    high = np.maximum(forward, backward)
    slack = tolerance.atol + tolerance.rtol * np.maximum(np.abs(low), np.abs(high))
    between = kinks & (actual >= low - slack) & (actual <= high + slack)
    adjusted = np.where(between, actual, expected)

    comparison = compare_arrays(value, adjusted, tolerance)
    if comparison.verdict is not Verdict.MATCH:
        return None
    count = int(np.count_nonzero(between))
    comparison.verdict = Verdict.CONVENTION
    comparison.reason = (
        f"no derivative at {count} element{'s' if count != 1 else ''} (a kink): the reference takes the "
        f"central difference, this framework a one-sided derivative"
    )
    return comparison


def implicit_seed(backend: str, output_size: int | None) -> str:
    """Describe what a framework does when asked for gradients of an output without a seed."""
    if backend == "torch":
        if output_size == 1:
            return "output.backward() seeds 1.0, the gradient of the only element"
        return "output.backward() raises RuntimeError: torch creates the seed only for a scalar output"
    if backend == "tensorflow":
        return "tape.gradient(output, x) seeds ones: the gradient of sum(output)"
    return "no implicit seed: the reference is compared for the sum and mean seeds"


def driver_sources() -> dict[str, str]:
    """Return the source of each backend's gradient driver, shown as the code that ran."""
    return {backend: function_source(driver) for backend, driver in DRIVERS.items()}


def gradient_counts(rows: list[GradientRow]) -> dict[Verdict, int]:
    """Count the framework gradients by verdict; a raised one counts as an error."""
    counts: dict[Verdict, int] = {}
    for row in rows:
        if row.formulation.backend == "reference":
            continue
        for by_input in row.cells.values():
            for cell in by_input.values():
                verdict = cell.comparison.verdict if cell.comparison is not None else Verdict.ERROR
                counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def gradient_setup(state: RunState) -> dict[str, Any]:
    """Build the top-level gradient entries of `run --json --grad`: inputs, seeds and the drivers' code."""
    reference = state.reference
    output_size = int(np.size(reference.output)) if reference is not None and reference.ok else None
    return {
        "gradient_inputs": float_inputs(state.op, state.request.inputs),
        "gradient_seeds": {
            "implicit": {backend: implicit_seed(backend, output_size) for backend in ("torch", "tensorflow")},
            "sum": "ones_like(output): the gradient of sum(output)",
            "mean": f"ones_like(output) / {output_size}: the gradient of mean(output)",
        },
        "gradient_drivers": driver_sources(),
    }


def result_gradients(row: GradientRow | None) -> dict[str, Any]:
    """Build one result's gradient entries: by seed and input, the value, the error and the comparison.

    "gradients" is None for a formulation that is not differentiated or whose forward run raised.
    """
    if row is None or not row.cells:
        return {"gradients": None, "gradient_sum_mean_ratio": None}
    seeds: dict[str, Any] = {}
    for seed, by_input in row.cells.items():
        seeds[seed] = {
            name: {
                "value": cell.value,
                "error": None if cell.error is None else cell.error.to_json(),
                "comparison": None if cell.comparison is None else cell.comparison.to_json(),
            }
            for name, cell in by_input.items()
        }
    return {"gradients": seeds, "gradient_sum_mean_ratio": row.sum_mean_ratio()}
