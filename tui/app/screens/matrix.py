"""The behaviour matrix screen: every probe of an op against every formulation.

The probes run on the app's worker pool. Each worker keeps only its newest
pending request, so every worker gets one probe at a time and is sent the
next when it replies, while the workers run in parallel with each other.
Replies arrive on channel threads, which only post messages, and the table
is filled on the main thread.
"""

from __future__ import annotations

from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.app.matrix_render import cell_text, columns_text, legend_text
from tui.app.render import format_array
from tui.core.catalog.base import Op
from tui.core.catalog.probes import PROBES
from tui.core.probes import Cell, ProbeRow, column_labels, pending_row, probe_request, probe_row
from tui.core.report import RunState
from tui.core.run import RunReply
from tui.core.workers import Superseded, WorkerFailed

if TYPE_CHECKING:
    from tui.app.app import XFrameApp

MAX_SUBMISSIONS = 3
"""Times one probe is sent to one worker when another screen's request replaces it before it is sent."""
MAX_OUTPUT_TEXT = 300
"""Characters of a cell's output shown on the detail line."""


class ProbeAnswered(Message):
    """Posted when a worker replied to a probe, failed to, or dropped it for a newer request."""

    def __init__(
        self, index: int, worker: str, reply: RunReply | None, failure: str | None, superseded: bool = False
    ) -> None:
        super().__init__()
        self.index = index
        self.worker = worker
        self.reply = reply
        self.failure = failure
        self.superseded = superseded


class BehaviourMatrixScreen(Screen[None]):
    """Runs every probe of one op and shows each formulation's result in a table."""

    DEFAULT_CSS = """
    BehaviourMatrixScreen #matrix-title {
        height: 1;
        padding: 0 1;
        background: $primary-background;
    }
    BehaviourMatrixScreen #matrix-legend {
        height: auto;
        padding: 0 1;
    }
    BehaviourMatrixScreen #matrix-table {
        height: auto;
        max-height: 60%;
        margin: 1 1 0 1;
    }
    BehaviourMatrixScreen #matrix-detail {
        height: auto;
        min-height: 3;
        margin: 1 1 0 1;
        padding: 0 1;
        border-left: outer $primary;
    }
    BehaviourMatrixScreen #matrix-columns {
        height: 1fr;
        margin: 1 1 0 1;
    }
    """

    BINDINGS = [Binding("escape", "back", "Back")]

    app: XFrameApp

    def __init__(self, op: Op, dtype: str = "float32", rule: str = "torch") -> None:
        """Create the screen; the probes run once it is mounted, with `dtype` and tolerance `rule`."""
        super().__init__(classes="matrix-screen")
        self.op = op
        self.dtype = dtype
        self.rule = rule
        probes = PROBES.get(op.id, ())
        self.requests = [probe_request(op, probe, dtype) for probe in probes]
        self.states = [RunState(op, request) for request in self.requests]
        self.rows: list[ProbeRow] = [pending_row(op, probe) for probe in probes]
        self.submissions: dict[tuple[int, str], int] = {}
        """How often each (probe index, worker) pair was sent."""

    def compose(self) -> ComposeResult:
        yield Static("", id="matrix-title")
        yield Static(legend_text(), id="matrix-legend")
        yield DataTable(id="matrix-table", cursor_type="cell", fixed_columns=1)
        yield Static("", id="matrix-detail")
        apis = {formulation.id: formulation.api for formulation in self.op.all_formulations()}
        yield Static(columns_text(column_labels(self.op), apis), id="matrix-columns")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        labels = column_labels(self.op)
        table.add_column(Text("probe"), key="probe")
        for formulation in self.op.all_formulations():
            table.add_column(Text(labels[formulation.id]), key=formulation.id)
        for index, row in enumerate(self.rows):
            table.add_row(Text(row.probe.name, style="bold"), *(cell_text(cell) for cell in row.cells), key=str(index))
        self.show_title()
        if not self.rows:
            self.query_one("#matrix-detail", Static).update(Text(f"{self.op.id} has no probes"))
            return
        for worker in self.op.workers():
            self.submit(0, worker)

    # Running

    def submit(self, index: int, worker: str) -> None:
        """Send one probe to one worker; the reply comes back as a ProbeAnswered message."""
        key = (index, worker)
        self.submissions[key] = self.submissions.get(key, 0) + 1
        future = self.app.pool.submit(worker, self.requests[index])
        future.add_done_callback(partial(self._deliver, index, worker))

    def _deliver(self, index: int, worker: str, future: Future[RunReply]) -> None:
        """Called on a worker's channel thread; hands the outcome to the main thread as a message."""
        try:
            message = ProbeAnswered(index, worker, future.result(), None)
        except Superseded:
            message = ProbeAnswered(index, worker, None, None, superseded=True)
        except WorkerFailed as exc:
            message = ProbeAnswered(index, worker, None, exc.message)
        self.post_message(message)

    def on_probe_answered(self, message: ProbeAnswered) -> None:
        index, worker = message.index, message.worker
        if message.superseded and self.submissions[(index, worker)] < MAX_SUBMISSIONS:
            self.submit(index, worker)
            return

        state = self.states[index]
        if message.reply is not None:
            state.add_reply(message.reply)
        else:
            state.add_failure(worker, message.failure or "another request replaced this probe before it ran")
        self.show_row(index)
        self.show_title()
        if index + 1 < len(self.requests):
            self.submit(index + 1, worker)

    @property
    def complete(self) -> bool:
        """Whether every formulation has a result for every probe. Tests wait for this."""
        return all(row.complete for row in self.rows)

    # Showing

    def show_row(self, index: int) -> None:
        """Rebuild one probe's cells from the replies received so far."""
        row = probe_row(self.rows[index].probe, self.states[index], self.rule)
        self.rows[index] = row
        table = self.query_one(DataTable)
        for cell in row.cells:
            table.update_cell(str(index), cell.formulation.id, cell_text(cell), update_width=True)
        if table.cursor_coordinate.row == index:
            self.show_detail(index, table.cursor_coordinate.column)

    def show_title(self) -> None:
        answered = sum(1 for row in self.rows if row.complete)
        progress = f"all {answered} probes answered" if self.complete else f"{answered} of {len(self.rows)} probes answered"
        title = f"{self.op.title}  ·  behaviour matrix  ·  dtype {self.dtype}  ·  tolerance {self.rule}  ·  {progress}"
        self.query_one("#matrix-title", Static).update(Text(title, style="bold"))

    @on(DataTable.CellHighlighted)
    def cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self.show_detail(event.coordinate.row, event.coordinate.column)

    def show_detail(self, row_index: int, column: int) -> None:
        """Describe the probe and the highlighted cell below the table."""
        if not 0 <= row_index < len(self.rows):
            return
        row = self.rows[row_index]
        text = Text()
        text.append(f"{row.probe.name}: ", style="bold")
        text.append(row.probe.description)
        if column == 0:
            for diagnostic in row.diagnostics:
                text.append(f"\n⚠ {diagnostic}", style="yellow")
        else:
            text.append("\n")
            text.append_text(cell_detail(row.cells[column - 1], column_labels(self.op)))
        self.query_one("#matrix-detail", Static).update(text)

    def action_back(self) -> None:
        self.dismiss()


def cell_detail(cell: Cell, labels: dict[str, str]) -> Text:
    """Describe the highlighted cell in full: column, API, verdict or exception, output and warnings."""
    text = Text()
    text.append(f"{labels[cell.formulation.id]}  ", style="bold")
    text.append(cell.formulation.api, style="bold")
    text.append("  ")
    text.append_text(cell_text(cell))
    if cell.detail:
        text.append(f"\n{cell.detail}")
    if cell.outputs is not None:
        output_text = " ; ".join(" ".join(format_array(output).split()) for output in cell.outputs)
        if len(output_text) > MAX_OUTPUT_TEXT:
            output_text = output_text[:MAX_OUTPUT_TEXT] + " …"
        text.append(f"\noutput {output_text}", style="dim")
    for warning in cell.warnings[:2]:
        text.append(f"\n⚠ {' '.join(warning.split())}", style="yellow")
    if len(cell.warnings) > 2:
        text.append(f"\n⚠ {len(cell.warnings) - 2} more warnings", style="yellow")
    return text
