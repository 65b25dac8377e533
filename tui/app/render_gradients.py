"""Rich renderables of the gradients view, shared by the explorer and `xframe-tui run --grad`.

Imports Rich and NumPy only; values, code and exception text go through Text
objects, never markup strings, as in render.py.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from tui.app.render import VERDICT_STYLES, highlighted_code
from tui.core.catalog.base import BACKENDS
from tui.core.compare import Verdict
from tui.core.gradient_report import (
    GradientCell,
    GradientRow,
    driver_sources,
    gradient_counts,
    gradient_rows,
    implicit_seed,
)
from tui.core.gradients import DRIVERS, float_inputs
from tui.core.report import RunState
from tui.core.run import RunError

SIDE_BY_SIDE_WIDTH = 100
"""Narrower than this, a formulation's code goes below its gradients instead of beside them."""
ARRAY_WIDTH = 44
"""Characters per line of a gradient array: its column's width beside the code at 120 columns."""
MAX_CHARS = 2000
HIDDEN_SEEDS = {"mean:forward", "mean:backward"}
"""The one-sided mean quotients are the sum's divided by N; `run --json` still lists them."""
SEED_LABELS = {
    "implicit": "implicit",
    "sum": "sum",
    "mean": "mean",
    "sum:forward": "sum, +h side",
    "sum:backward": "sum, -h side",
    "mean:forward": "mean, +h side",
    "mean:backward": "mean, -h side",
}


def gradients_view(state: RunState, rule: str = "torch", *, show_code: bool = True) -> RenderableType:
    """Build the view: the seeds' explanation, then every differentiated formulation's gradients."""
    names = float_inputs(state.op, state.request.inputs)
    if not names:
        return Text("no float input is given, so there is nothing to differentiate", style="dim")

    rows = gradient_rows(state, rule)
    parts: list[RenderableType] = [seeds_header(state, names), counts_line(rows)]
    for row in rows:
        parts.append(Text(""))
        parts.append(formulation_block(row, names, show_code=show_code))
    if show_code:
        parts.append(Text(""))
        parts.append(drivers_block())
    return Group(*parts)


def seeds_header(state: RunState, names: list[str]) -> RenderableType:
    """Describe each framework's implicit seed and the factor between the sum and mean seeds."""
    reference = state.reference
    output = reference.output if reference is not None else None
    size = None if output is None else int(output.size)
    if output is None:
        described = "waiting for the reference" if reference is None else "the reference raised, so no output size"
    else:
        plural = "" if size == 1 else "s"
        scalar = "a scalar" if size == 1 else "not a scalar"
        described = f"output shape {tuple(output.shape)}, {size} element{plural}, {scalar}"
    wrt = ", ".join(f"d/d {name}" for name in names)

    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("gradients", Text(f"{wrt} · {described}"))
    torch_style = "magenta" if size != 1 else ""
    grid.add_row("implicit seed", Text(f"PyTorch: {implicit_seed('torch', size)}", style=torch_style))
    grid.add_row("", Text(f"TensorFlow: {implicit_seed('tensorflow', size)}"))
    mean_seed = "ones / N" if size is None else f"ones / {size}"
    factor = "" if not size else f", so each mean gradient is the sum gradient divided by {size}"
    grid.add_row("sum, mean", Text(f"seed ones, and seed {mean_seed}{factor}"))
    return grid


def counts_line(rows: list[GradientRow]) -> Text:
    """Count the framework gradients by verdict, in one line."""
    counts = gradient_counts(rows)
    text = Text("gradients vs reference:", style="bold")
    for verdict in Verdict:
        if counts.get(verdict):
            symbol, style = VERDICT_STYLES[verdict]
            label = "raised" if verdict is Verdict.ERROR else verdict.value
            text.append(f"  {symbol} {counts[verdict]} {label}", style=f"bold {style}")
    if not counts:
        text.append("  nothing compared yet", style="dim")
    return text


def formulation_block(row: GradientRow, names: list[str], *, show_code: bool = True) -> RenderableType:
    """Lay out one formulation: its gradients by seed and input, notes on them, and its code."""
    driver = DRIVERS[row.formulation.backend].__name__
    title = Text(row.formulation.api, style="bold")
    if row.formulation.backend != "reference":
        title.append(f" · {BACKENDS[row.formulation.backend].title}", style="dim")
    title.append(f" · gradients by {driver}", style="dim")

    status = _status(row)
    if status is not None:
        return Group(title, status)

    gradients = Group(seed_table(row, names), *block_notes(row))
    if not show_code:
        return Group(title, gradients)
    code = highlighted_code(row.formulation.code)
    return Group(title, SideBySide(gradients, code))


def seed_table(row: GradientRow, names: list[str]) -> Table:
    """Tabulate one row per seed and input: the gradient's verdict and values, or the exception raised.

    A seed that raised the same exception for every input, such as torch's
    implicit seed on a vector, gets one row for all of them.
    """
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
    table.add_column("seed", no_wrap=True)
    table.add_column("input", no_wrap=True)
    table.add_column("d(output)/d(input)")

    for seed, by_input in row.cells.items():
        if seed in HIDDEN_SEEDS:
            continue
        label = SEED_LABELS.get(seed, seed)
        error = _shared_error(by_input)
        if error is not None and len(by_input) > 1:
            table.add_row(label, "all", cell_text(GradientCell(error=error)))
            continue
        for index, name in enumerate(names):
            table.add_row(label if index == 0 else "", name, cell_text(by_input.get(name)))
    return table


def _shared_error(by_input: dict[str, GradientCell]) -> RunError | None:
    """Return the exception every input's cell contains, when it is one and the same."""
    errors = [cell.error for cell in by_input.values()]
    if errors and all(error is not None and error == errors[0] for error in errors):
        return errors[0]
    return None


def block_notes(row: GradientRow) -> list[Text]:
    """List the reasons behind "differs by convention" verdicts, once each, and the measured sum/mean factor."""
    notes = []
    reasons = {
        cell.comparison.reason
        for by_input in row.cells.values()
        for cell in by_input.values()
        if cell.comparison is not None and cell.comparison.verdict is Verdict.CONVENTION
    }
    symbol, style = VERDICT_STYLES[Verdict.CONVENTION]
    for reason in sorted(reasons):
        notes.append(Text(f"{symbol} {reason}", style=style))

    ratio = row.sum_mean_ratio()
    if ratio is not None and row.formulation.backend != "reference":
        notes.append(Text(f"sum ÷ mean = {ratio:.6g} (output of {row.output_size} elements)", style="dim"))
    return notes


class SideBySide:
    """Two renderables in columns when the console is wide enough, else one above the other."""

    def __init__(self, left: RenderableType, right: RenderableType, min_width: int = SIDE_BY_SIDE_WIDTH) -> None:
        self.left = left
        self.right = right
        self.min_width = min_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < self.min_width:
            yield self.left
            yield Text("")
            yield self.right
            return
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(ratio=3)
        grid.add_column(ratio=2)
        grid.add_row(self.left, self.right)
        yield grid


def _status(row: GradientRow) -> Text | None:
    """Why a row has no gradients to show, or None when it has some."""
    result = row.result
    if row.failure is not None and result is None:
        return Text(f"! no result: {row.failure}", style="magenta")
    if result is None:
        return Text("… running", style="dim")
    if result.error is not None:
        return Text(f"no gradients: the forward run raised {result.error.type}", style="magenta")
    if not row.cells:
        return Text("no gradients in this reply", style="dim")
    return None


def cell_text(cell: GradientCell | None, linewidth: int = ARRAY_WIDTH) -> Text:
    """Render a gradient's verdict line and then its values, or the exception raised instead."""
    if cell is None:
        return Text("—", style="dim")
    if cell.error is not None:
        return Text(f"! {cell.error.type}: {cell.error.message}", style="magenta")

    text = Text()
    comparison = cell.comparison
    if comparison is not None:
        symbol, style = VERDICT_STYLES[comparison.verdict]
        # A convention's reason is long and the same in every cell, so the block states it once.
        summary = comparison.verdict.value if comparison.verdict is Verdict.CONVENTION else comparison.summary
        text.append(f"{symbol} {summary}", style=f"bold {style}")
        if comparison.verdict is Verdict.MISMATCH and comparison.max_abs_diff is not None:
            text.append(f" · max abs {comparison.max_abs_diff:.3g}", style="dim")
        text.append("\n")
    text.append(format_gradient(cell.value, linewidth))
    return text


def format_gradient(array: np.ndarray | None, linewidth: int) -> str:
    """Format a gradient to wrap at a column's width, cut short past MAX_CHARS characters."""
    if array is None:
        return "—"
    with np.printoptions(precision=6, suppress=True, threshold=200, edgeitems=3, linewidth=linewidth):
        text = np.array2string(np.asarray(array), separator=", ")
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + " …"


def drivers_block() -> RenderableType:
    """Show the source of every gradient driver: the code that computed the values above."""
    parts: list[RenderableType] = [Text("gradient drivers: the code that ran", style="bold")]
    for backend, source in driver_sources().items():
        parts.append(Text(BACKENDS[backend].title, style="dim"))
        parts.append(highlighted_code(source))
    return Group(*parts)


def print_gradients(console: Console, state: RunState, rule: str = "torch") -> None:
    """Print the gradients view of a headless run, after its results."""
    console.rule(Text("Gradients", style="bold"))
    console.print(gradients_view(state, rule))
