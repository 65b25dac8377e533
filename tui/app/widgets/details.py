"""Per-op detail panels: the loss breakdown and the cosine similarity tables."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.app.render import format_array
from tui.core.report import Row, RunState
from tui.core.run import RunError


SAMPLES_SHOWN = 25
"""Rows of the per-sample and matrix tables; a table of thousands of rows takes seconds to build."""


def truncation_note(limit: int, total: int, noun: str) -> Text | None:
    """Return a line saying how much of a table is left out, or None when it shows everything."""
    if total <= limit:
        return None
    return Text(f"showing the first {limit} of {total} {noun}", style="dim")


class LossBreakdown(Static):
    """The cross-entropy breakdown: per sample, then each formulation's reduction and conventions."""

    def show_state(self, state: RunState | None, rows: list[Row]) -> None:
        """Show the breakdown of `state`, whose rows the op screen has just built."""
        if state is None or not state.details:
            self.update(Text("waiting for the reference…", style="dim"))
            return
        self.update(loss_breakdown(state, rows))


NOT_APPLICABLE = "NotApplicable"


def loss_breakdown(state: RunState, rows: list[Row]) -> RenderableType:
    """Per sample: label, logits, log-softmax, p(label), target and loss; then every formulation's reduction."""
    details = state.details
    if "error" in details:
        return Text(f"no breakdown: {details['error']}", style="magenta")

    rows = [row for row in rows if row.result is not None]
    applicable = [row for row in rows if not _not_applicable(row)]
    parts: list[RenderableType] = [_samples_table(details)]
    note = truncation_note(SAMPLES_SHOWN, len(details["positions"]), "samples")
    if note is not None:
        parts.append(note)
    parts.append(_reference_reduction(state))
    parts.append(_reductions_table(state, applicable))
    parts.append(_conventions_table(details, applicable))
    skipped = [row.formulation.api for row in rows if _not_applicable(row)]
    if skipped:
        kind = "targets" if details["kind"] == "targets" else "class indices"
        parts.append(Text(f"not applicable to {kind}: " + "; ".join(skipped), style="dim"))
    return Group(*parts)


def _compact_table(title: str) -> Table:
    """Create a table with a rule under its header and no outer border, to fit more rows on screen."""
    return Table(title=title, expand=False, box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")


def _not_applicable(row: Row) -> bool:
    return row.result is not None and row.result.error is not None and row.result.error.type == NOT_APPLICABLE


def _samples_table(details: dict[str, Any]) -> Table:
    weighted = details["kind"] == "indices" and details["weighted"]
    table = _compact_table("per sample (float64 reference)")
    for column in ("#", "label", "logits", "log-softmax", "p(label)", "target"):
        table.add_column(column)
    if weighted:
        table.add_column("w[label]")
    table.add_column("loss")

    for index, position in enumerate(details["positions"][:SAMPLES_SHOWN]):
        cells = [
            position,
            _label_cell(details, index),
            format_array(details["logits"][index], 4),
            format_array(details["log_softmax"][index], 4),
            _number(details["p_label"][index]),
            format_array(details["targets"][index], 4),
        ]
        if weighted:
            cells.append(_number(details["sample_weights"][index]))
        cells.append(_number(details["loss"][index]))
        table.add_row(*cells)
    return table


def _label_cell(details: dict[str, Any], index: int) -> Text:
    label = details["labels"][index]
    if details["kind"] == "targets":
        return Text(format_array(label, 4))
    if details["ignored"][index]:
        return Text(f"{label} ignored", style="dim")
    return Text(str(label))


def _number(value: Any) -> str:
    value = float(value)
    return "—" if np.isnan(value) else f"{value:.6g}"


def _reference_reduction(state: RunState) -> Text:
    details = state.details
    reduction = state.request.params.get("reduction", "none")
    if reduction != "mean":
        return Text(f"reference: the losses sum to {details['numerator']:.6g}", style="dim")
    reference = details["formulations"]["reference"]
    numerator, denominator = details["numerator"], details["denominator"]
    quotient = numerator / denominator if denominator else float("nan")
    return Text(
        f"reference mean: {numerator:.6g} / {denominator:.6g} ({reference['divides_by']}) = {quotient:.6g}",
        style="dim",
    )


def _reductions_table(state: RunState, rows: list[Row]) -> Table:
    table = _compact_table("per formulation: loss per sample, then its reduction")
    table.add_column("formulation", max_width=46, overflow="fold")
    table.add_column("per sample")
    table.add_column("sum / divisor")
    table.add_column("result")
    described = state.details["formulations"]
    for row in rows:
        denominator = described[row.formulation.id]["denominator"]
        table.add_row(Text(row.formulation.api), *_reduction_cells(row, denominator))
    return table


def _reduction_cells(row: Row, denominator: float | None) -> tuple[str, str, Text]:
    """Per-sample losses from the per_sample variant, their sum over the divisor, and the reduced output."""
    result = row.result
    if result.error is not None:
        return "—", "—", Text(_error_text(result.error), style="magenta")
    variant = result.variants.get("per_sample", result)
    if variant.error is not None or variant.output is None:
        per_sample, total = (variant.error.type if variant.error else "—"), None
    else:
        values = np.asarray(variant.output, dtype=np.float64).ravel()
        per_sample, total = format_array(values, 6), float(np.sum(values))

    if denominator is None:
        quotient = "not reduced"
    else:
        quotient = f"{'?' if total is None else f'{total:.6g}'} / {denominator:.6g}"
    style = "red" if row.comparison is not None and not row.comparison.verdict.agrees else ""
    return per_sample, quotient, Text(format_array(np.asarray(result.output), 6), style=style)


def _error_text(error: RunError) -> str:
    """Return the error type, with the missing options for NotSupported (its message ends with them)."""
    if error.type == "NotSupported":
        return f"{error.type}: {error.message.rsplit(': ', 1)[-1]}"
    return error.type


def _conventions_table(details: dict[str, Any], rows: list[Row]) -> Table:
    table = _compact_table("how each formulation reads the labels")
    table.add_column("formulation", max_width=46, overflow="fold")
    for column in ("classes on", "ignores", "mean divides by", "target row"):
        table.add_column(column)
    for row in rows:
        described = details["formulations"][row.formulation.id]
        cells = (described["classes"], described["sentinel"], described["divides_by"], described["targets"])
        table.add_row(Text(row.formulation.api), *cells)
    return table


class SimilarityTables(Static):
    """The similarity matrix of every x row against every y row, and the paired forms by library."""

    def show_state(self, state: RunState | None, rows: list[Row]) -> None:
        """Show the tables of `state`, whose rows the op screen has just built."""
        if state is None or not state.details:
            self.update(Text("waiting for the reference…", style="dim"))
            return
        self.update(similarity_tables(state, rows))


MATRIX_COLUMNS_SHOWN = 8
"""Columns of y shown in the matrix: eight fit in 100 terminal columns without cutting a value."""


def similarity_tables(state: RunState, rows: list[Row]) -> RenderableType:
    details = state.details
    if "error" in details:
        return Text(f"no tables: {details['error']}", style="magenta")

    matrix = np.asarray(details["matrix"])[:SAMPLES_SHOWN, :MATRIX_COLUMNS_SHOWN]
    x_rows, y_rows = details["matrix_shape"]
    grid = Table(title="similarity matrix (rows of x against rows of y)", expand=False)
    grid.add_column("x \\ y")
    for column in range(matrix.shape[1]):
        grid.add_column(str(column))
    for index, values in enumerate(matrix):
        grid.add_row(str(index), *[f"{value:.6f}" for value in values])
    if x_rows > matrix.shape[0] or y_rows > matrix.shape[1]:
        grid.caption = f"rows 0 to {matrix.shape[0] - 1} of {x_rows}, columns 0 to {matrix.shape[1] - 1} of {y_rows}"

    paired = Table(title="paired rows (row i of x with row i of y), by library", expand=False)
    paired.add_column("library")
    paired.add_column("returns")
    paired.add_column("per row")
    paired.add_row("reference", "similarity", format_array(details["paired"]))
    paired.add_row("reference", "distance", format_array(details["paired_distance"]))
    for row in rows:
        if row.formulation.backend != "reference":
            paired.add_row(Text(row.formulation.api), *_paired_cells(row))
    norms = Text(f"|x| per row: {format_array(details['norms_x'])}   |y| per row: {format_array(details['norms_y'])}", style="dim")
    return Group(grid, paired, norms)


def _paired_cells(row: Row) -> tuple[str, str]:
    result = row.result
    if result is None:
        return "…", ""
    if result.error is not None:
        return "error", f"{result.error.type}: {result.error.message}"
    output = np.asarray(result.output)
    kind = "matrix, diagonal shown" if row.formulation.view is not None else "paired"
    if row.formulation.view is not None:
        output = row.formulation.view.apply(output)
    if row.formulation.convention is not None:
        kind += f" ({row.formulation.convention.reason})"
    return kind, format_array(output)
