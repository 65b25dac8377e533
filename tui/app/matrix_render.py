"""Rich renderables of the behaviour matrix, shared by its screen and `xframe-tui probe`.

Every cell and label is a Text object, never a markup string, because a
value such as [1, 2] or an exception message containing [/x] would be read
as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tui.app.render import VERDICT_STYLES
from tui.core.compare import Verdict
from tui.core.probes import BehaviourMatrix, Cell, Outcome, column_labels

OUTCOME_STYLES: dict[Outcome, tuple[str, str]] = {
    Outcome.NOT_APPLICABLE: ("–", "dim"),
    Outcome.NO_RESULT: ("!", "bold magenta"),
    Outcome.PENDING: ("…", "dim"),
}
"""Symbols of cells that have no verdict."""

LEGEND: tuple[tuple[str, str, str], ...] = (
    ("✓", "green", "match"),
    ("≈", "cyan", "convention"),
    ("✗", "red", "mismatch"),
    ("!", "magenta", "error"),
    ("?", "yellow", "value where the reference raised"),
    ("–", "dim", "not applicable"),
    ("⚠n", "yellow", "n warnings"),
)


def cell_text(cell: Cell) -> Text:
    """Render a cell as its verdict symbol, a short value or exception type, and its warning count."""
    text = Text(no_wrap=True)
    if cell.outcome in OUTCOME_STYLES:
        symbol, style = OUTCOME_STYLES[cell.outcome]
        text.append(f"{symbol} {cell.text}", style=style)
    elif cell.formulation.backend == "reference" and cell.outcome is Outcome.ERROR:
        text.append(f"! {cell.text}", style="magenta")
    elif cell.formulation.backend == "reference":
        text.append(cell.text, style="bold blue")
    else:
        symbol, colour = VERDICT_STYLES[cell.verdict or Verdict.NO_REFERENCE]
        text.append(f"{symbol} ", style=f"bold {colour}")
        text.append(cell.text, style=colour)
    if cell.warnings:
        text.append(f" ⚠{len(cell.warnings)}", style="yellow")
    return text


def legend_text() -> Text:
    """Return one line naming every symbol a cell can show."""
    text = Text()
    for symbol, style, meaning in LEGEND:
        text.append(f"{symbol} ", style=f"bold {style}")
        text.append(f"{meaning}   ", style="dim")
    text.rstrip()
    return text


def columns_text(labels: dict[str, str], apis: dict[str, str]) -> Text:
    """Return one line per column with its short title and the API it calls, both by formulation id."""
    width = max(len(label) for label in labels.values())
    text = Text()
    for formulation_id, label in labels.items():
        text.append(f"{label:<{width}}  ", style="bold")
        text.append(f"{apis[formulation_id]}\n")
    text.rstrip()
    return text


def matrix_table(matrix: BehaviourMatrix, columns: list[int] | None = None, *, titled: bool = True) -> Table:
    """Build the table of probes as rows and formulations as columns, reference first.

    `columns` picks formulations by index, all of them when it is None.
    """
    labels = column_labels(matrix.op)
    formulations = matrix.op.all_formulations()
    picked = list(range(len(formulations))) if columns is None else columns
    title = f"{matrix.op.id} behaviour matrix  ·  dtype {matrix.dtype}  ·  tolerance {matrix.rule}"
    table = Table(title=Text(title) if titled else None)
    table.add_column("probe", style="bold", no_wrap=True)
    for index in picked:
        table.add_column(Text(labels[formulations[index].id]), no_wrap=True)
    for row in matrix.rows:
        table.add_row(Text(row.probe.name), *(cell_text(row.cells[index]) for index in picked))
    return table


def column_groups(matrix: BehaviourMatrix, width: int) -> list[list[int]]:
    """Split the formulation columns into groups whose tables fit `width` terminal cells."""
    labels = column_labels(matrix.op)
    formulations = matrix.op.all_formulations()
    probe_width = max((len(row.probe.name) for row in matrix.rows), default=5) + 3
    groups: list[list[int]] = [[]]
    used = probe_width + 1
    for index, formulation in enumerate(formulations):
        # Each column takes its widest cell, one space of padding on each side and a border.
        cells = [cell_text(row.cells[index]).cell_len for row in matrix.rows]
        needed = max([len(labels[formulation.id]), *cells]) + 3
        if groups[-1] and used + needed > width:
            groups.append([])
            used = probe_width + 1
        groups[-1].append(index)
        used += needed
    return groups


def print_matrix(console: Console, matrix: BehaviourMatrix) -> None:
    """Print the matrix, split into several tables when it is wider than the console, then the legend."""
    for position, columns in enumerate(column_groups(matrix, console.width)):
        console.print(matrix_table(matrix, columns, titled=position == 0))
    console.print(legend_text())
    apis = {formulation.id: formulation.api for formulation in matrix.op.all_formulations()}
    console.print(columns_text(column_labels(matrix.op), apis))
