"""Result columns, one per backend, and the agreement strip above them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.app.render import VERDICT_STYLES, result_card, timing_text
from tui.core.catalog.base import BACKENDS, Formulation
from tui.core.compare import NOT_APPLICABLE_ERRORS, Verdict
from tui.core.report import Row, Timing, verdict_counts
from tui.core.workers import WorkerStatus

STATUS_TEXT = {
    WorkerStatus.STARTING: "loading {title}…",
    WorkerStatus.RESTARTING: "restarting {title}…",
    WorkerStatus.BUSY: "running…",
    WorkerStatus.READY: "ready",
    WorkerStatus.UNAVAILABLE: "unavailable",
    WorkerStatus.STOPPED: "stopped",
}


def _same_row(shown: Row, row: Row) -> bool:
    """Return whether a card would draw `row` exactly as it draws `shown`."""
    return (
        shown.result is row.result
        and shown.failure == row.failure
        and shown.comparison is row.comparison
        and shown.comparing == row.comparing
        and shown.waiting_for_reference == row.waiting_for_reference
    )


class ResultCard(Static):
    """One formulation's result."""

    def __init__(self, formulation: Formulation) -> None:
        super().__init__(classes="result-card")
        self.formulation = formulation
        self.row: Row | None = None
        """The row on show, kept for tests and for copying its values."""

    def show(self, row: Row, *, show_timings: bool) -> None:
        if self.row is not None and _same_row(self.row, row):
            return  # rendering the code again costs more than the comparison
        self.row = row
        self.set_class(row.pending, "-pending")
        verdict = row.comparison.verdict if row.comparison is not None else None
        self.set_class(verdict in (Verdict.MISMATCH, Verdict.SHAPE), "-mismatch")
        error = row.result.error if row.result is not None else None
        not_applicable = error is not None and error.type in NOT_APPLICABLE_ERRORS
        self.set_class(row.failure is not None or (error is not None and not not_applicable), "-error")
        self.set_class(not_applicable, "-not-applicable")
        self.update(result_card(row, show_timings=show_timings))


class ResultColumn(VerticalScroll):
    """Every formulation of one backend, under a heading with the worker's state."""

    def __init__(self, backend: str, formulations: list[Formulation]) -> None:
        super().__init__(id=f"column-{backend}", classes="result-column")
        self.backend = backend
        self.formulations = formulations
        self.status_line = Static("", classes="column-status")
        self.cards = [ResultCard(formulation) for formulation in formulations]
        self._status = Text()
        self._timing: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(BACKENDS[self.backend].title, style="bold"), classes="column-title")
        yield self.status_line
        yield from self.cards

    def show_rows(self, rows: list[Row], *, show_timings: bool) -> None:
        by_id = {row.formulation.id: row for row in rows}
        for card in self.cards:
            row = by_id.get(card.formulation.id)
            if row is not None:
                card.show(row, show_timings=show_timings)

    def show_timing(self, timing: Timing | None, failed: bool = False) -> None:
        """Show the time in the worker apart from the time around it.

        None keeps the last split shown while a reply is pending; `failed`
        clears it, since it belonged to older inputs.
        """
        if timing is None and not failed:
            return
        self._timing = None if timing is None else timing_text(timing)
        self._show_status_lines()

    def _show_status_lines(self) -> None:
        lines = [self._status] if self._timing is None else [self._status, self._timing]
        self.status_line.update(Text("\n").join(lines))

    def show_status(self, status: WorkerStatus, detail: str, stale: bool) -> None:
        """Show the worker's state; `stale` marks cards computed from older inputs."""
        title = BACKENDS[self.backend].title
        text = STATUS_TEXT[status].format(title=title)
        if detail and status in (WorkerStatus.RESTARTING, WorkerStatus.UNAVAILABLE):
            text = f"{text}: {detail}"
        style = {"unavailable": "magenta", "restarting": "yellow"}.get(status.value, "dim")
        self._status = Text(text, style=style)
        self._show_status_lines()
        self.set_class(stale, "-stale")


class AgreementStrip(Static):
    """One line: how many formulations agree with the reference, and how."""

    def show_rows(self, rows: list[Row]) -> None:
        counts = verdict_counts(rows)
        pending = sum(1 for row in rows if row.pending)
        failed = sum(1 for row in rows if row.failure is not None)
        comparing = sum(1 for row in rows if row.comparing)
        text = Text()
        for verdict in Verdict:
            if counts.get(verdict):
                symbol, style = VERDICT_STYLES[verdict]
                text.append(f" {symbol} {counts[verdict]} {verdict.value} ", style=f"bold {style}")
        if failed:
            text.append(f" ! {failed} without result ", style="bold magenta")
        if pending:
            text.append(f" … {pending} running ", style="dim")
        if comparing:
            text.append(f" … {comparing} comparing ", style="dim")
        if not text:
            text.append(" waiting for the reference ", style="dim")
        self.update(text)
