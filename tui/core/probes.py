"""The behaviour matrix: every probe of an op run on every formulation.

A cell sums up one formulation's result for one probe: a value (finite, or
with NaN or inf), a captured exception, a worker failure, or "not
applicable", with its verdict against the reference and its warning count.
The explorer fills the matrix as replies arrive, and `run_probes` fills it
headless for the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from tui.core.catalog.base import Formulation, Op
from tui.core.catalog.probes import PROBES, Probe
from tui.core.compare import NOT_APPLICABLE_ERRORS, Verdict
from tui.core.report import Row, RunState, json_value, run_blocking
from tui.core.run import RunError, RunRequest, build_request
from tui.core.tensors import parse_tensor
from tui.core.workers import WorkerPool

"""Exception types a formulation raises for inputs it has no form for, rather than rejecting them."""
MAX_VALUE_TEXT = 24
"""Maximum characters of the values shown in a cell. Longer values are shown as their shape."""
MAX_DETAIL_TEXT = 400
"""Maximum characters of an exception message in a cell's detail. The JSON error keeps all of it."""
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TF_NODE_NAME = re.compile(r"\{\{function_node [^}]*\}\}\s*")
"""TensorFlow puts the name of the graph node that raised in front of an op's error."""
BACKEND_LABELS = {"reference": "reference", "torch": "torch", "tensorflow": "tf", "numpy": "numpy", "sklearn": "sklearn"}


class Outcome(str, Enum):
    """The kind of result a formulation returned for a probe."""

    VALUE = "value"
    NAN_INF = "nan/inf"
    ERROR = "error"
    NOT_APPLICABLE = "not applicable"
    NO_RESULT = "no result"
    """The worker crashed, timed out or is not installed."""
    PENDING = "pending"


@dataclass
class Cell:
    """One formulation's result for one probe."""

    formulation: Formulation
    outcome: Outcome = Outcome.PENDING
    verdict: Verdict | None = None
    """The comparison with the reference, or None for the reference itself and for cells without a value."""
    agrees: bool | None = None
    """Whether the result is the reference's: a matching value, or an error where the reference raised too."""
    text: str = "…"
    """A short summary: a few values, a shape, or an exception type."""
    detail: str = ""
    """The verdict, exception message or failure reason, in one line."""
    error: RunError | None = None
    warnings: list[str] = field(default_factory=list)
    outputs: list[np.ndarray] | None = None


@dataclass
class ProbeRow:
    """One probe's results, one cell per formulation in catalog order."""

    probe: Probe
    cells: list[Cell]
    diagnostics: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(cell.outcome is not Outcome.PENDING for cell in self.cells)


@dataclass
class BehaviourMatrix:
    """Every probe of an op against every formulation."""

    op: Op
    dtype: str
    rule: str
    rows: list[ProbeRow]


def probe_input_texts(op: Op, probe: Probe) -> dict[str, str]:
    """Return every input's text for a probe: the probe's own, or the op's default."""
    return {spec.name: probe.inputs.get(spec.name, spec.default) for spec in op.inputs}


def probe_param_texts(op: Op, probe: Probe) -> dict[str, str]:
    """Return every param's text for a probe: the probe's own, or the op's default as typed."""
    texts = {}
    for spec in op.params:
        default = "" if spec.default is None else str(spec.default)
        texts[spec.name] = probe.params.get(spec.name, default)
    return texts


def probe_request(op: Op, probe: Probe, dtype: str = "float32") -> RunRequest:
    """Parse a probe's texts and build its request.

    Raises TensorSyntaxError, InputError or ParamError for a probe that does
    not fit its op. tests/test_probes.py checks that every probe fits.
    """
    arrays: dict[str, np.ndarray | None] = {}
    for name, text in probe_input_texts(op, probe).items():
        arrays[name] = parse_tensor(text) if text.strip() else None
    return build_request(op, arrays, probe_param_texts(op, probe), dtype)


def probe_row(probe: Probe, state: RunState, rule: str = "torch") -> ProbeRow:
    """Sum up the replies received so far for one probe."""
    rows = state.rows(rule)
    reference = rows[0]
    cells = [make_cell(row, reference) for row in rows]
    return ProbeRow(probe, cells, list(state.diagnostics))


def pending_row(op: Op, probe: Probe) -> ProbeRow:
    """Return the row of a probe that no worker has replied to yet."""
    return ProbeRow(probe, [Cell(formulation) for formulation in op.all_formulations()])


def run_probes(
    pool: WorkerPool, op: Op, dtype: str = "float32", rule: str = "torch", timeout: float = 600.0
) -> BehaviourMatrix:
    """Run every probe of an op, one after another, and return the filled matrix."""
    rows = []
    for probe in PROBES.get(op.id, ()):
        state = run_blocking(pool, op, probe_request(op, probe, dtype), timeout)
        rows.append(probe_row(probe, state, rule))
    return BehaviourMatrix(op, dtype, rule, rows)


def make_cell(row: Row, reference: Row) -> Cell:
    """Classify one formulation's result and compare it with the reference's."""
    cell = Cell(row.formulation)
    if row.failure is not None:
        cell.outcome, cell.text, cell.detail = Outcome.NO_RESULT, "no result", row.failure
        return cell
    result = row.result
    if result is None:
        return cell

    cell.warnings = list(result.warnings)
    if result.error is not None:
        return _error_cell(cell, result.error, reference)

    cell.outputs = result.outputs or []
    cell.outcome = Outcome.NAN_INF if _has_nan_or_inf(cell.outputs) else Outcome.VALUE
    cell.text = summarize_outputs(cell.outputs)
    if row.formulation.backend == "reference":
        cell.detail = "the reference value"
        return cell
    if row.comparison is not None:
        cell.verdict = row.comparison.verdict
        cell.agrees = cell.verdict.agrees
        cell.detail = row.comparison.summary
    if reference.result is not None and reference.result.error is not None:
        cell.verdict, cell.agrees = Verdict.NO_REFERENCE, False
        cell.detail = f"returns a value where the reference raised {reference.result.error.type}"
    return cell


def _error_cell(cell: Cell, error: RunError, reference: Row) -> Cell:
    cell.error = error
    cell.text = error.type
    cell.detail = f"{error.type}: {clean_message(error.message)}"
    if error.type in NOT_APPLICABLE_ERRORS:
        cell.outcome = Outcome.NOT_APPLICABLE
        return cell

    cell.outcome = Outcome.ERROR
    if cell.formulation.backend == "reference":
        return cell
    cell.verdict = Verdict.ERROR
    if reference.result is not None:
        cell.agrees = reference.result.error is not None
    if cell.agrees:
        cell.detail = f"raises, as the reference does: {cell.detail}"
    return cell


def clean_message(message: str) -> str:
    """Put an exception message on one line, without terminal colour codes or TensorFlow's node name."""
    text = ANSI_ESCAPE.sub("", message)
    text = TF_NODE_NAME.sub("", text)
    text = " ".join(text.split())
    if len(text) > MAX_DETAIL_TEXT:
        text = text[:MAX_DETAIL_TEXT] + " …"
    return text


def _has_nan_or_inf(outputs: list[np.ndarray]) -> bool:
    for output in outputs:
        if output.dtype.kind in "fc" and not np.all(np.isfinite(output)):
            return True
    return False


def summarize_outputs(outputs: list[np.ndarray]) -> str:
    """Summarize outputs in a few characters: the values when they are short, else the shape."""
    if len(outputs) != 1:
        shapes = list(dict.fromkeys(_shape_text(output) for output in outputs))
        return f"{len(outputs)} arrays {', '.join(shapes)}"
    output = outputs[0]
    if output.ndim == 0:
        return _number_text(output.item())
    values = "[" + ", ".join(_number_text(value) for value in output.ravel().tolist()) + "]"
    if output.ndim == 1 and len(values) <= MAX_VALUE_TEXT:
        return values
    return _shape_text(output) + _special_counts(output)


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _shape_text(output: np.ndarray) -> str:
    return str(tuple(output.shape))


def _special_counts(output: np.ndarray) -> str:
    if output.dtype.kind not in "fc":
        return ""
    nan, inf = int(np.isnan(output).sum()), int(np.isinf(output).sum())
    parts = [f"{nan} nan" if nan else "", f"{inf} inf" if inf else ""]
    return "".join(f" {part}" for part in parts if part)


def column_labels(op: Op) -> dict[str, str]:
    """Return short column titles by formulation id: the backend, numbered when it has several formulations."""
    formulations = op.all_formulations()
    labels = {}
    for formulation in formulations:
        siblings = [item.id for item in formulations if item.backend == formulation.backend]
        label = BACKEND_LABELS.get(formulation.backend, formulation.backend)
        if len(siblings) > 1:
            label = f"{label} {siblings.index(formulation.id) + 1}"
        labels[formulation.id] = label
    return labels


def cell_to_json(cell: Cell) -> dict[str, Any]:
    outputs = cell.outputs
    if outputs is None:
        output = None
    elif len(outputs) == 1:
        output = json_value(outputs[0])
    else:
        output = json_value(outputs)
    return {
        "formulation": cell.formulation.id,
        "outcome": cell.outcome.value,
        "verdict": None if cell.verdict is None else cell.verdict.value,
        "agrees": cell.agrees,
        "text": cell.text,
        "detail": cell.detail,
        "error": None if cell.error is None else cell.error.to_json(),
        "warnings": cell.warnings,
        "output": output,
    }


def matrix_to_json(matrix: BehaviourMatrix) -> dict[str, Any]:
    """Return the `xframe-tui probe --json` document."""
    labels = column_labels(matrix.op)
    return {
        "op": matrix.op.id,
        "dtype": matrix.dtype,
        "tolerance_rule": matrix.rule,
        "formulations": [
            {"id": item.id, "backend": item.backend, "api": item.api, "label": labels[item.id]}
            for item in matrix.op.all_formulations()
        ],
        "probes": [
            {
                "name": row.probe.name,
                "description": row.probe.description,
                "inputs": probe_input_texts(matrix.op, row.probe),
                "params": probe_param_texts(matrix.op, row.probe),
                "diagnostics": row.diagnostics,
                "cells": [cell_to_json(cell) for cell in row.cells],
            }
            for row in matrix.rows
        ],
    }
