"""Run a request's formulations inside a worker process."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tui.core.adapters import ADAPTERS, Adapter, DtypeNotSupported, flatten_outputs
from tui.core.catalog import get_op
from tui.core.catalog.base import BACKENDS, Formulation, Op
from tui.core.gradients import differentiates, float_inputs, framework_gradients, reference_gradients
from tui.core.run import FormulationResult, RunError, RunReply, RunRequest

MAX_OUTPUT_ELEMENTS = 10_000_000
"""Outputs larger than this are reported as an error instead of sent back."""


class _WarningRecorder(logging.Handler):
    """Collects log records of WARNING and above emitted during one call."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def capture_warnings() -> Iterator[list[str]]:
    """Record Python warnings and warning log records raised inside the block."""
    messages: list[str] = []
    recorder = _WarningRecorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        root.removeHandler(recorder)
        messages.extend(f"{item.category.__name__}: {item.message}" for item in caught)
        messages.extend(recorder.messages)


def run_formulation(
    formulation: Formulation,
    adapter: Adapter,
    op: Op,
    request: RunRequest,
    params: dict[str, Any],
) -> FormulationResult:
    """Call one formulation; a framework exception becomes part of the result."""
    result = FormulationResult(formulation.id, formulation.backend)
    if request.dtype not in formulation.dtypes:
        result.error = RunError("NotSupported", f"{formulation.api} does not support {request.dtype}")
        return result

    try:
        arguments = _arguments(formulation, adapter, op, request, params)
    except DtypeNotSupported as exc:
        result.error = RunError("NotSupported", str(exc))
        return result

    with capture_warnings() as messages:
        started = time.perf_counter()
        try:
            value = formulation.fn(**arguments)
            result.elapsed = time.perf_counter() - started
            _store_outputs(result, adapter, value)
        except Exception as exc:  # a framework's exception is a result to show
            result.elapsed = time.perf_counter() - started
            result.error = RunError(type(exc).__name__, str(exc))
        finally:
            adapter.restore_defaults()
    result.warnings = messages
    return result


def _arguments(
    formulation: Formulation,
    adapter: Adapter,
    op: Op,
    request: RunRequest,
    params: dict[str, Any],
) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for name in formulation.arguments:
        if name in params:
            arguments[name] = params[name]
            continue
        array = request.inputs.get(name)
        if array is None:
            arguments[name] = None
        else:
            arguments[name] = adapter.convert_input(array, op.input_spec(name).kind, request.dtype)
    return arguments


def _store_outputs(result: FormulationResult, adapter: Adapter, value: Any) -> None:
    outputs, dtypes = [], []
    for leaf in flatten_outputs(value):
        array, dtype_name = adapter.to_numpy(leaf)
        if array.size > MAX_OUTPUT_ELEMENTS:
            result.error = RunError(
                "OutputTooLarge",
                f"output too large: {array.size:,} elements (limit {MAX_OUTPUT_ELEMENTS:,})",
            )
            return
        outputs.append(array)
        dtypes.append(dtype_name)
    result.outputs = outputs
    result.dtypes = dtypes


def add_gradients(
    formulation: Formulation,
    adapter: Adapter,
    op: Op,
    request: RunRequest,
    result: FormulationResult,
) -> None:
    """Store a formulation's gradients in its result, for a `grad` request whose forward run succeeded."""
    wrt = float_inputs(op, request.inputs)
    if not request.grad or not result.ok or not wrt or not differentiates(formulation, op):
        return

    arguments = _arguments(formulation, adapter, op, request, request.params)
    # The forward run of the same code already recorded its warnings; repeats are dropped.
    with capture_warnings():
        try:
            if formulation.backend == "reference":
                result.gradients = reference_gradients(formulation.fn, arguments, wrt)
            else:
                result.gradients = framework_gradients(
                    formulation.backend, formulation.fn, arguments, wrt, adapter.to_numpy
                )
        finally:
            adapter.restore_defaults()


def execute(request: RunRequest, worker: str, adapters: dict[str, Adapter]) -> RunReply:
    """Run every formulation of the request's op that belongs to this worker."""
    op = get_op(request.op)
    reply = RunReply(worker, op.id, request.revision, [])

    for formulation in op.all_formulations():
        if BACKENDS[formulation.backend].worker != worker:
            continue
        adapter = adapters[formulation.backend]
        result = run_formulation(formulation, adapter, op, request, request.params)
        add_gradients(formulation, adapter, op, request, result)
        for name, overrides in op.variants.items():
            params = {**request.params, **overrides}
            result.variants[name] = run_formulation(formulation, adapter, op, request, params)
        reply.results.append(result)

    if worker == "numpy":
        _add_reference_extras(op, request, reply, adapters["reference"])
    return reply


def _add_reference_extras(op: Op, request: RunRequest, reply: RunReply, adapter: Adapter) -> None:
    """Diagnostics and detail tables are computed on the float64 reference inputs."""
    inputs = {
        spec.name: None
        if request.inputs.get(spec.name) is None
        else adapter.convert_input(request.inputs[spec.name], spec.kind, request.dtype)
        for spec in op.inputs
    }
    with np.errstate(all="ignore"):
        if op.diagnose_fn is not None:
            reply.diagnostics = _guarded(lambda: op.diagnose_fn(inputs, request.params), [])
        if op.details_fn is not None:
            reply.details = _guarded(lambda: op.details_fn(inputs, request.params), {})


def _guarded(compute: Any, fallback: Any) -> Any:
    try:
        return compute()
    except Exception as exc:  # a detail table must not hide the results
        if isinstance(fallback, list):
            return [f"could not check the inputs: {type(exc).__name__}: {exc}"]
        return {"error": f"{type(exc).__name__}: {exc}"}


def make_adapters(worker: str) -> dict[str, Adapter]:
    """Create the adapters for every backend this worker serves."""
    return {backend.id: ADAPTERS[backend.id]() for backend in BACKENDS.values() if backend.worker == worker}
