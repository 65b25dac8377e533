"""Rich renderables shared by the explorer and the headless CLI.

Imports Rich and NumPy only. Tensor values, code and exception text always
go through Text objects (never markup strings), because a tensor such as
[[1, 2]] or an exception message containing [/x] would be read as markup.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from tui.core.catalog import visible_ops
from tui.core.catalog.base import BACKENDS
from tui.core.compare import NOT_APPLICABLE_ERRORS, Verdict
from tui.core.report import Row, RunState, Timing

VERDICT_STYLES: dict[Verdict, tuple[str, str]] = {
    Verdict.MATCH: ("✓", "green"),
    Verdict.CONVENTION: ("≈", "cyan"),
    Verdict.MISMATCH: ("✗", "red"),
    Verdict.SHAPE: ("✗", "red"),
    Verdict.ERROR: ("!", "magenta"),
    Verdict.NOT_APPLICABLE: ("–", "dim"),
    Verdict.NO_REFERENCE: ("?", "yellow"),
}


def ops_table() -> Table:
    """Build the ops table: Item | PyTorch | TensorFlow | Others."""
    table = Table(title="xframe-tui ops", expand=False)
    # Ids are typed into `xframe-tui run`, so they are never cut short.
    table.add_column("Op id", style="bold", no_wrap=True, min_width=max(len(op.id) for op in visible_ops()))
    table.add_column("Item")
    table.add_column("PyTorch")
    table.add_column("TensorFlow")
    table.add_column("Others")
    for op in visible_ops():
        table.add_row(
            op.id,
            op.title,
            op.table.get("torch", ""),
            op.table.get("tensorflow", ""),
            op.table.get("others", ""),
        )
    return table


def format_array(array: np.ndarray | None, precision: int = 6, max_chars: int = 2000) -> str:
    """Format an output for display, with the shape kept visible when it is cut short."""
    if array is None:
        return "—"
    with np.printoptions(precision=precision, suppress=True, threshold=200, edgeitems=3, linewidth=60):
        text = np.array2string(np.asarray(array), separator=", ")
    if len(text) > max_chars:
        text = text[:max_chars] + " …"
    return text


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def timing_text(timing: Timing) -> Text:
    """Return one line: seconds inside the worker, then seconds around it; no break inside a number."""
    framework = format_seconds(timing.framework).replace(" ", "\u00a0")
    transport = format_seconds(timing.transport).replace(" ", "\u00a0")
    return Text(f"framework\u00a0{framework} · transport\u00a0{transport}", style="dim")


def verdict_text(row: Row) -> Text:
    """Build the one-line verdict of a result card."""
    if row.formulation.backend == "reference":
        return Text("reference", style="bold blue")
    if row.failure is not None:
        return Text("! no result", style="bold magenta")
    if row.result is None:
        return Text("… running", style="dim")
    if row.result.error is not None and row.result.error.type in NOT_APPLICABLE_ERRORS:
        label = "not supported" if row.result.error.type == "NotSupported" else "not applicable"
        return Text(f"– {label}", style="dim")
    if row.result.error is not None:
        return Text(f"! raised {row.result.error.type}", style="bold magenta")
    if row.comparing:
        return Text("… comparing with the reference", style="dim")
    if row.waiting_for_reference:
        return Text("… waiting for the reference", style="dim")
    if row.comparison is None:
        return Text("? no reference to compare with", style="yellow")
    symbol, style = VERDICT_STYLES[row.comparison.verdict]
    return Text(f"{symbol} {row.comparison.summary}", style=f"bold {style}")


def metrics_text(row: Row) -> Text | None:
    comparison = row.comparison
    if comparison is None or comparison.max_abs_diff is None:
        return None
    parts = [f"max abs {comparison.max_abs_diff:.3g}", f"max rel {comparison.max_rel_diff:.3g}"]
    if comparison.nan_count:
        parts.append(f"NaN {comparison.nan_count}")
    if comparison.inf_count:
        parts.append(f"inf {comparison.inf_count}")
    if comparison.cosine is not None:
        parts.append(f"cos {comparison.cosine:.6f}")
    if comparison.tolerance is not None:
        parts.append(f"tol rtol={comparison.tolerance.rtol:g} atol={comparison.tolerance.atol:g}")
    return Text(" · ".join(parts), style="dim")


@lru_cache(maxsize=512)
def highlighted_code(code: str) -> Text:
    """Return Python source highlighted once; cards share it, because lexing it again on every redraw costs more than the rest of a card."""
    syntax = Syntax(code, "python", theme="ansi_dark", word_wrap=True, background_color="default")
    text = syntax.highlight(code)
    if not code.endswith("\n"):
        text.remove_suffix("\n")  # highlight() ends every text with a newline that Syntax does not draw
    return text


def result_card(row: Row, *, show_code: bool = True, show_timings: bool = True) -> RenderableType:
    """Everything about one formulation's result: API, verdict, output, dtype, code."""
    parts: list[RenderableType] = [Text(row.formulation.api, style="bold"), verdict_text(row)]
    result = row.result

    if row.failure is not None:
        parts.append(Text(row.failure, style="magenta"))
    elif result is not None and result.error is not None:
        parts.append(Text(f"{result.error.type}: {result.error.message}", style="magenta"))
    elif result is not None and result.outputs is not None:
        for index, output in enumerate(result.outputs):
            dtype = result.dtypes[index] if index < len(result.dtypes) else str(output.dtype)
            label = f"output {index}  " if len(result.outputs) > 1 else ""
            parts.append(Text(f"{label}shape {tuple(output.shape)}  dtype {dtype}", style="dim"))
            parts.append(Text(format_array(output)))
        metrics = metrics_text(row)
        if metrics is not None:
            parts.append(metrics)

    if result is not None:
        if show_timings:
            parts.append(Text(f"time {format_seconds(result.elapsed)}", style="dim"))
        for warning in result.warnings:
            parts.append(Text(f"⚠ {warning}", style="yellow"))
    if row.formulation.view is not None:
        parts.append(Text(f"compared as: {row.formulation.view.description}", style="dim italic"))
    if show_code:
        parts.append(highlighted_code(row.formulation.code))
    return Group(*parts)


def print_run(console: Console, state: RunState, rule: str = "torch") -> None:
    """Print a headless run: diagnostics, then one card per formulation, grouped by backend."""
    console.print(Text(f"{state.op.id}  dtype {state.request.dtype}  tolerance {rule}", style="bold"))
    for name, array in state.request.inputs.items():
        console.print(Text(f"{name} = {format_array(array)}"))
    for message in state.diagnostics:
        console.print(Text(f"⚠ {message}", style="yellow"))

    rows = state.rows(rule)
    for backend in state.op.backends():
        console.rule(Text(BACKENDS[backend].title, style="bold"))
        timing = state.timing(backend)
        if timing is not None:
            console.print(timing_text(timing))
        for row in rows:
            if row.formulation.backend == backend:
                console.print(result_card(row))
                console.print()
    counts = _summary(rows)
    console.print(Text(counts, style="bold"))


def _summary(rows: list[Row]) -> str:
    from tui.core.report import verdict_counts

    counts = verdict_counts(rows)
    parts = [f"{count} {verdict.value}" for verdict, count in counts.items()]
    return "agreement: " + (", ".join(parts) if parts else "nothing compared")


def details_value(value: Any, precision: int = 6) -> str:
    """Format one cell of a detail table."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return format_array(value, precision)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{precision}g}"
    return str(value)
