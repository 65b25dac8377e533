"""Assemble worker replies into per-formulation rows with their comparisons.

Shared by the explorer and the headless CLI, so both report the same
verdicts for the same run.
"""

from __future__ import annotations

import math
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tui.core.catalog.base import BACKENDS, Formulation, Op
from tui.core.compare import NOT_APPLICABLE_ERRORS, Comparison, Verdict, compare_outputs
from tui.core.gradient_report import gradient_rows, gradient_setup, result_gradients
from tui.core.run import FormulationResult, RunReply, RunRequest
from tui.core.workers import WorkerFailed, WorkerPool


@dataclass
class Row:
    """One formulation's result and how it compares with the reference."""

    formulation: Formulation
    result: FormulationResult | None = None
    comparison: Comparison | None = None
    failure: str | None = None
    """Why the worker gave no result: a crash, a deadline, a missing package."""
    comparing: bool = False
    """Whether the comparison is left for `RunState.compare_all`, off the caller's thread."""
    waiting_for_reference: bool = False
    """Whether the comparison waits for the reference, which has neither replied nor failed yet."""

    @property
    def pending(self) -> bool:
        return self.result is None and self.failure is None


@dataclass(frozen=True)
class Timing:
    """The split of a worker's reply time: inside the worker and around it."""

    framework: float
    """Seconds the worker spent on the request: framework calls, gradients, the reference's tables."""
    transport: float
    """The round trip minus that: encoding, the pipes, decoding, and waiting for a core."""


@dataclass
class RunState:
    """The replies received so far for one revision of the inputs."""

    op: Op
    request: RunRequest
    results: dict[str, FormulationResult] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    """Failure messages by worker name."""
    diagnostics: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    round_trips: dict[str, float] = field(default_factory=dict)
    """Seconds from request to reply, by worker name."""
    handled: dict[str, float] = field(default_factory=dict)
    """Seconds each worker spent on the request itself, by worker name."""
    _comparisons: dict[tuple[str, str, int, int], Comparison] = field(default_factory=dict, repr=False)

    def add_reply(self, reply: RunReply) -> None:
        for result in reply.results:
            self.results[result.formulation] = result
        if reply.worker == "numpy":
            self.diagnostics = reply.diagnostics
            self.details = reply.details
        self.round_trips[reply.worker] = reply.round_trip
        self.handled[reply.worker] = reply.handled
        self.failures.pop(reply.worker, None)

    def add_failure(self, worker: str, message: str) -> None:
        self.failures[worker] = message

    def timing(self, backend: str) -> Timing | None:
        """Return the time in and around the backend's worker, once it replied.

        The reference and NumPy formulations share a worker, so their
        columns show the same split.
        """
        worker = BACKENDS[backend].worker
        if worker not in self.round_trips:
            return None
        handled = self.handled[worker]
        return Timing(handled, max(0.0, self.round_trips[worker] - handled))

    @property
    def reference(self) -> FormulationResult | None:
        return self.results.get("reference")

    def rows(self, rule: str = "torch", *, defer_above: int | None = None) -> list[Row]:
        """Return every formulation of the op, reference first, compared under a tolerance rule.

        With `defer_above`, a comparison not computed yet whose outputs hold
        more elements than that is left out and its row marked `comparing`, so
        a UI thread can draw the values at once and compare on another thread.
        """
        reference = self.reference
        rows = []
        for formulation in self.op.all_formulations():
            row = Row(formulation, self.results.get(formulation.id))
            worker = BACKENDS[formulation.backend].worker
            if row.result is None:
                row.failure = self.failures.get(worker)
            elif formulation.backend == "reference" or not row.result.ok:
                row.comparison = None
            elif reference is None:
                row.waiting_for_reference = BACKENDS["reference"].worker not in self.failures
            elif defer_above is not None and self._deferred(formulation, row.result, reference, rule, defer_above):
                row.comparing = True
            else:
                row.comparison = self._comparison(formulation, row.result, reference, rule)
            rows.append(row)
        return rows

    def compare_all(self, rule: str = "torch") -> None:
        """Compute every comparison `rows` would; the UI calls it on a thread for big outputs."""
        self.rows(rule)

    def _deferred(
        self, formulation: Formulation, result: FormulationResult, reference: FormulationResult, rule: str, limit: int
    ) -> bool:
        if (formulation.id, rule, id(result), id(reference)) in self._comparisons:
            return False
        return _elements(result) + _elements(reference) > limit

    def _comparison(
        self, formulation: Formulation, result: FormulationResult, reference: FormulationResult, rule: str
    ) -> Comparison:
        """Compare once per result, reference and rule, because each reply recomputes every row."""
        key = (formulation.id, rule, id(result), id(reference))
        cached = self._comparisons.get(key)
        if cached is None:
            try:
                cached = compare_outputs(
                    formulation,
                    result.outputs or [],
                    result.dtypes[0] if result.dtypes else "float64",
                    reference.outputs if reference.ok else None,
                    rule,
                    self.request.inputs,
                )
            except Exception as exc:  # a convention that cannot map these outputs must not take the UI down
                cached = Comparison(Verdict.ERROR, f"the comparison failed: {type(exc).__name__}: {exc}")
            self._comparisons[key] = cached
        return cached

    def waiting_backends(self) -> set[str]:
        """Return the backends whose worker has neither replied nor failed for this run."""
        answered = {BACKENDS[result.backend].worker for result in self.results.values()} | set(self.failures)
        return {backend for backend in self.op.backends() if BACKENDS[backend].worker not in answered}

    @property
    def complete(self) -> bool:
        return not self.waiting_backends()


def _elements(result: FormulationResult) -> int:
    return sum(int(output.size) for output in result.outputs or [])


def run_blocking(pool: WorkerPool, op: Op, request: RunRequest, timeout: float = 600.0) -> RunState:
    """Send a request to every worker the op needs and wait for all replies."""
    state = RunState(op, request)
    futures: dict[str, Future[RunReply]] = {worker: pool.submit(worker, request) for worker in op.workers()}
    for worker, future in futures.items():
        try:
            state.add_reply(future.result(timeout=timeout))
        except WorkerFailed as exc:
            state.add_failure(worker, exc.message)
    return state


def verdict_counts(rows: list[Row]) -> dict[Verdict, int]:
    """Count the formulations with each verdict, for the agreement strip."""
    counts: dict[Verdict, int] = {}
    for row in rows:
        if row.comparison is not None:
            counts[row.comparison.verdict] = counts.get(row.comparison.verdict, 0) + 1
        elif row.result is not None and row.result.error is not None and row.formulation.backend != "reference":
            verdict = Verdict.NOT_APPLICABLE if row.result.error.type in NOT_APPLICABLE_ERRORS else Verdict.ERROR
            counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def json_value(value: Any) -> Any:
    """Convert arrays and numbers to JSON, writing NaN and infinities as strings."""
    if isinstance(value, np.ndarray):
        return json_value(value.tolist())
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        return json_value(value.item())
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _single_or_list(values: list[Any] | None) -> Any:
    """Return one output's value as is, and several outputs (np.where's per-axis arrays) as a list."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return values


def row_to_json(row: Row) -> dict[str, Any]:
    """Build one result entry of the `run --json` document."""
    result = row.result
    outputs = result.outputs if result is not None else None
    output = _single_or_list([json_value(item) for item in outputs] if outputs else None)
    shape = _single_or_list([list(item.shape) for item in outputs] if outputs else None)
    dtype = _single_or_list(result.dtypes if result is not None else None)

    if result is not None and result.error is not None:
        error = result.error.to_json()
    elif row.failure is not None:
        error = {"type": "WorkerFailed", "message": row.failure}
    else:
        error = None

    return {
        "backend": row.formulation.backend,
        "formulation": row.formulation.api,
        "id": row.formulation.id,
        "code": row.formulation.code,
        "output": output,
        "shape": shape,
        "dtype": dtype,
        "error": error,
        "warnings": [] if result is None else result.warnings,
        "elapsed": None if result is None else result.elapsed,
        "comparison": None if row.comparison is None else json_value(row.comparison.to_json()),
    }


def _timings_to_json(state: RunState) -> dict[str, dict[str, float]]:
    timings = {}
    for backend in state.op.backends():
        timing = state.timing(backend)
        if timing is not None:
            timings[backend] = {"framework_seconds": timing.framework, "transport_seconds": timing.transport}
    return timings


def state_to_json(state: RunState, rule: str = "torch") -> dict[str, Any]:
    """Build the `xframe-tui run --json` document; a `grad` request adds the gradient entries."""
    document = {
        "op": state.op.id,
        "dtype": state.request.dtype,
        "params": json_value(state.request.params),
        "inputs": {name: None if array is None else json_value(array) for name, array in state.request.inputs.items()},
        "tolerance_rule": rule,
        "diagnostics": state.diagnostics,
        "results": [row_to_json(row) for row in state.rows(rule)],
        "timings": _timings_to_json(state),
    }
    if state.request.grad:
        rows = {row.formulation.id: row for row in gradient_rows(state, rule)}
        for entry in document["results"]:
            entry.update(json_value(result_gradients(rows.get(entry["id"]))))
        document.update(json_value(gradient_setup(state)))
    return document
