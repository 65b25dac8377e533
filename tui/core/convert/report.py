"""Plain-text and JSON Lines reporters for conversion events.

Both are EventCallbacks: the converter calls them with each event as it
happens. This module imports neither torch nor TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from tui.core.convert.events import (
    STEPS,
    ErrorEvent,
    Event,
    ParityEvent,
    ParityRow,
    StepEvent,
    SummaryEvent,
    VariableEvent,
    VariableRow,
    event_to_json,
)

CONVERSION_STEPS = ("build", "list", "map", "fill")


class JsonLinesReporter:
    """Write every event as one JSON line and flush, so a reader sees it at once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: Event) -> None:
        self.stream.write(event_to_json(event) + "\n")
        self.stream.flush()


class TextReporter:
    """Print steps as they finish, then the variable and parity tables and a summary."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.rows: dict[int, VariableRow] = {}
        self.parity: list[ParityRow] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepEvent) and event.status == "finished":
            self._print(f"{_step_label(event.step)}: {event.detail}")
        elif isinstance(event, StepEvent) and event.status == "failed":
            self._print(f"{_step_label(event.step)} failed: {event.detail}")
        elif isinstance(event, VariableEvent):
            self.rows[event.row.index] = event.row
        elif isinstance(event, ParityEvent):
            self.parity.append(event.row)
        elif isinstance(event, SummaryEvent):
            self._print_tables()
            self._print_summary(event)
        elif isinstance(event, ErrorEvent) and self.rows:
            # The caller prints the message itself on stderr; the table of the
            # variables listed so far is still useful, e.g. for a non-BERT checkpoint.
            self._print_tables()

    def _print(self, line: str = "") -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def _print_tables(self) -> None:
        header = (
            "TF name",
            "TF shape",
            "dtype",
            "size",
            "PyTorch name",
            "PyTorch shape",
            "transposed",
            "status",
            "reason",
        )
        lines = [_variable_cells(row) for _, row in sorted(self.rows.items())]
        self._print()
        for line in format_table(header, lines):
            self._print(line)

        if self.parity:
            header = ("layer", "max abs diff", "min cosine", "atol", "rtol", "within tolerance")
            self._print()
            for line in format_table(header, [_parity_cells(row) for row in self.parity]):
                self._print(line)

    def _print_summary(self, summary: SummaryEvent) -> None:
        counts = summary.counts
        self._print()
        self._print(
            f"{summary.checkpoint}: {counts.get('loaded', 0)} loaded, "
            f"{counts.get('skipped', 0)} skipped, {counts.get('failed', 0)} failed "
            f"of {counts.get('total', 0)} variables"
        )
        if summary.unfilled:
            self._print(f"parameters left unfilled: {', '.join(summary.unfilled)}")
        if summary.parity_error:
            self._print(f"parity not checked: {summary.parity_error}")
        elif summary.first_divergent_layer:
            self._print(f"first divergent layer: {summary.first_divergent_layer}")
        else:
            self._print("parity: every layer matches TensorFlow within tolerance")
        if summary.out:
            self._print(f"wrote {summary.out}")


def format_table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    """Align cells into columns separated by two spaces."""
    widths = [len(cell) for cell in header]
    for cells in lines:
        widths = [max(width, len(cell)) for width, cell in zip(widths, cells)]

    def join(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return [join(header), join(["-" * width for width in widths])] + [join(cells) for cells in lines]


def format_shape(shape: Sequence[int] | None) -> str:
    """Format a shape as a tuple, e.g. (3, 2); None (no parameter) as an empty cell."""
    if shape is None:
        return ""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(dim) for dim in shape) + ")"


def _variable_cells(row: VariableRow) -> list[str]:
    transposed = ""
    if row.torch_name:
        transposed = "yes" if row.transposed else "no"
    return [
        row.tf_name,
        format_shape(row.tf_shape),
        row.dtype,
        f"{row.size:,}",
        row.torch_name,
        format_shape(row.torch_shape),
        transposed,
        row.status,
        row.reason,
    ]


def _parity_cells(row: ParityRow) -> list[str]:
    return [
        row.layer,
        f"{row.max_abs_diff:.3g}",
        f"{row.min_cosine:.7f}",
        f"{row.atol:.2g}",
        f"{row.rtol:.2g}",
        "yes" if row.within_tolerance else "NO",
    ]


def _step_label(step: str) -> str:
    label = STEPS.get(step, step)
    if step in CONVERSION_STEPS:
        return f"[{CONVERSION_STEPS.index(step) + 1}/4] {label}"
    return label
