"""Per-op detail panels: the loss breakdown and the cosine similarity tables."""

from __future__ import annotations

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.app.render import details_value, format_array
from tui.core.report import Row, RunState


class LossBreakdown(Static):
    """Per sample: label, logits, log-softmax, p(label) and each formulation's loss; then the reduction."""

    def show_state(self, state: RunState | None) -> None:
        if state is None or not state.details:
            self.update(Text("waiting for the reference…", style="dim"))
            return
        self.update(loss_breakdown(state))


def loss_breakdown(state: RunState) -> RenderableType:
    details = state.details
    if "error" in details:
        return Text(f"no breakdown: {details['error']}", style="magenta")

    samples = Table(title="per sample (float64 reference)", expand=False)
    for column in ("#", "label", "logits", "log-softmax", "p(label)", "loss"):
        samples.add_column(column)
    labels = np.asarray(details["labels"])
    for index in range(labels.shape[0]):
        samples.add_row(
            str(index),
            str(labels[index]),
            format_array(details["logits"][index], 4),
            format_array(details["log_softmax"][index], 4),
            details_value(details["p_label"][index]),
            details_value(details["loss"][index]),
        )

    formulations = Table(title="per formulation: loss per sample, then the reduction", expand=False)
    formulations.add_column("formulation")
    formulations.add_column("per sample")
    formulations.add_column("sum / count")
    formulations.add_column("result")
    reduction = state.request.params.get("reduction", "none")
    for api, per_sample, output in _per_sample_losses(state):
        formulations.add_row(Text(api), *_reduction_cells(per_sample, output, reduction))
    return Group(samples, formulations)


def _per_sample_losses(state: RunState) -> list[tuple[str, object, object]]:
    """(API, per-sample losses or an error type, the reduced output) for each formulation."""
    rows = []
    for row in state.rows():
        result = row.result
        if result is None:
            continue
        variant = result.variants.get("per_sample", result)
        per_sample = variant.error.type if variant.error is not None else variant.output
        output = result.error.type if result.error is not None else result.output
        if row.formulation.backend == "reference":
            per_sample = state.details.get("loss")
        rows.append((row.formulation.api, per_sample, output))
    return rows


def _reduction_cells(per_sample: object, output: object, reduction: str) -> tuple[str, str, str]:
    if isinstance(per_sample, str) or per_sample is None:
        return str(per_sample or "—"), "—", str(output)
    values = np.asarray(per_sample, dtype=np.float64).ravel()
    total = float(np.sum(values))
    if reduction == "mean":
        quotient = f"{total:.6g} / {values.size}"
    elif reduction == "sum":
        quotient = f"{total:.6g} / 1"
    else:
        quotient = "not reduced"
    shown = output if isinstance(output, str) else format_array(np.asarray(output), 6)
    return format_array(values, 6), quotient, shown


class SimilarityTables(Static):
    """The similarity matrix of every x row against every y row, and the paired forms by library."""

    def show_state(self, state: RunState | None) -> None:
        if state is None or not state.details:
            self.update(Text("waiting for the reference…", style="dim"))
            return
        self.update(similarity_tables(state))


def similarity_tables(state: RunState) -> RenderableType:
    details = state.details
    if "error" in details:
        return Text(f"no tables: {details['error']}", style="magenta")

    matrix = np.asarray(details["matrix"])
    grid = Table(title="similarity matrix (rows of x against rows of y)", expand=False)
    grid.add_column("x \\ y")
    for column in range(matrix.shape[1]):
        grid.add_column(str(column))
    for index, values in enumerate(matrix):
        grid.add_row(str(index), *[f"{value:.6f}" for value in values])

    paired = Table(title="paired rows (row i of x with row i of y), by library", expand=False)
    paired.add_column("library")
    paired.add_column("returns")
    paired.add_column("per row")
    paired.add_row("reference", "similarity", format_array(details["paired"]))
    paired.add_row("reference", "distance", format_array(details["paired_distance"]))
    for row in state.rows():
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
