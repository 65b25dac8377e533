"""The Convert screen: a TensorFlow BERT checkpoint converted to PyTorch, live.

The conversion runs in a child process (``python -m tui.core.convert``) that
streams JSON Lines events; this screen imports neither torch nor TensorFlow.
An async worker reads the child's stdout and posts one message per event, and
the message handlers update the widgets. Everything that comes from the
checkpoint or the child is rendered as rich Text, never as markup.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, ProgressBar, Static

from tui.core.convert.events import (
    STEPS,
    ErrorEvent,
    Event,
    ParityEvent,
    ParityRow,
    ProgressEvent,
    StepEvent,
    SummaryEvent,
    VariableEvent,
    VariableRow,
    event_from_json,
)
from tui.core.convert.report import format_shape

SCREEN_STEPS = ("build", "list", "map", "fill", "parity")
STEP_MARKS = {"pending": "·", "started": "…", "finished": "✓", "failed": "✗"}
STATUS_STYLES = {"loaded": "green", "skipped": "dim", "failed": "bold red", "mapped": "cyan"}
DIVERGENT_STYLE = "bold red"

# Events are one JSON line each; a summary that lists hundreds of unfilled
# parameters can exceed asyncio's default 64 KiB line limit.
LINE_LIMIT = 16 * 1024 * 1024
STDERR_TAIL_LINES = 3

VARIABLE_COLUMNS = (
    ("status", "status"),
    ("tf_name", "TF name"),
    ("tf_shape", "TF shape"),
    ("torch_name", "PyTorch name"),
    ("torch_shape", "PyTorch shape"),
    ("transposed", "T"),
    ("reason", "reason"),
)
PARITY_COLUMNS = ("layer", "max |Δ|", "min cosine", "atol", "within tolerance")


@dataclass
class _RunState:
    """The state of the run on screen.

    Messages that carry another `run_id` come from an older run and are ignored.
    """

    run_id: int = 0
    first_divergent: str | None = None
    outcome_received: bool = False


class ConvertScreen(Screen[None]):
    """Convert a TensorFlow BERT checkpoint to PyTorch and show each step, row and layer.

    `checkpoint` is a path (None for the built-in demo) and `heads` the
    attention head count (None for the default). Only the path's basename is
    shown. With `autostart` False the conversion waits for the ``r`` key.
    """

    BINDINGS = [
        Binding("r", "run", "Run again"),
        Binding("t", "toggle_transpose", "Forget transpose"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    DEFAULT_CSS = """
    ConvertScreen { layout: vertical; }
    ConvertScreen #convert-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    ConvertScreen #convert-steps { height: auto; padding: 0 1; }
    ConvertScreen .convert-step { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ConvertScreen .convert-step.-started { color: $warning; }
    ConvertScreen .convert-step.-finished { color: $success; }
    ConvertScreen .convert-step.-failed { color: $error; text-style: bold; }
    ConvertScreen #convert-progress-row { height: 1; padding: 0 1; }
    ConvertScreen #convert-progress-label { width: 24; }
    ConvertScreen #convert-message { height: auto; max-height: 3; padding: 0 1; }
    ConvertScreen #convert-message.-error { color: $error; text-style: bold; }
    ConvertScreen #convert-variables { height: 1fr; min-height: 4; }
    ConvertScreen #convert-parity { height: auto; max-height: 8; }
    """

    class EventReceived(Message):
        """The child process reported a conversion event."""

        def __init__(self, run_id: int, event: Event) -> None:
            super().__init__()
            self.run_id = run_id
            self.event = event

    class RunFinished(Message):
        """The child process exited; `stderr_tail` contains its last stderr lines."""

        def __init__(self, run_id: int, returncode: int, stderr_tail: str) -> None:
            super().__init__()
            self.run_id = run_id
            self.returncode = returncode
            self.stderr_tail = stderr_tail

    def __init__(
        self, checkpoint: str | None = None, heads: int | None = None, *, autostart: bool = True
    ) -> None:
        super().__init__()
        self.checkpoint = checkpoint
        self.heads = heads
        self.autostart = autostart
        self.forget_transpose = False
        self.finished = False
        self.state = _RunState()

    @property
    def checkpoint_label(self) -> str:
        """The checkpoint as shown: its basename, or "built-in demo"."""
        if self.checkpoint is None:
            return "built-in demo"
        return Path(self.checkpoint.rstrip("/")).name or self.checkpoint

    def compose(self) -> ComposeResult:
        yield Static(id="convert-title")
        with Vertical(id="convert-steps"):
            for step in SCREEN_STEPS:
                yield Static(id=f"convert-step-{step}", classes="convert-step -pending")
        with Horizontal(id="convert-progress-row"):
            yield Static("", id="convert-progress-label")
            yield ProgressBar(total=1, show_eta=False, id="convert-progress")
        yield Static(id="convert-message")
        yield DataTable(id="convert-variables", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="convert-parity", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        variables = self.query_one("#convert-variables", DataTable)
        for key, label in VARIABLE_COLUMNS:
            variables.add_column(label, key=key)
        parity = self.query_one("#convert-parity", DataTable)
        for label in PARITY_COLUMNS:
            parity.add_column(label, key=label)

        self._reset()
        if self.autostart:
            self.action_run()
        else:
            self._show_message(Text("Press r to run the conversion, t to run it forgetting the transpose."))

    def action_run(self) -> None:
        """Start the conversion again, cancelling a run in progress."""
        self._reset()
        self.state.run_id += 1
        self._show_message(Text("Starting the converter process (imports TensorFlow and PyTorch)…"))
        self._run_converter(self.state.run_id, self._converter_arguments())

    def action_toggle_transpose(self) -> None:
        """Toggle "forget to transpose" and run again."""
        self.forget_transpose = not self.forget_transpose
        self.action_run()

    def _converter_arguments(self) -> tuple[list[str], str | None]:
        """Return the child's arguments and working directory.

        The child runs in the checkpoint's directory and gets the basename, so
        its messages name the file without the directories above it. A path
        whose directory does not exist is passed whole, for the child to report.
        """
        arguments = [sys.executable, "-m", "tui.core.convert"]
        directory = None
        if self.checkpoint is not None:
            path = Path(self.checkpoint).expanduser()
            if path.name and path.parent.is_dir():
                directory = str(path.parent)
                arguments.append(path.name)
            else:
                arguments.append(self.checkpoint)
        if self.heads is not None:
            arguments += ["--heads", str(self.heads)]
        if self.forget_transpose:
            arguments.append("--forget-transpose")
        return arguments, directory

    @work(exclusive=True, group="convert", exit_on_error=False)
    async def _run_converter(self, run_id: int, command: tuple[list[str], str | None]) -> None:
        arguments, directory = command
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        with tempfile.TemporaryFile() as stderr:
            try:
                process = await asyncio.create_subprocess_exec(
                    *arguments,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=stderr,
                    cwd=directory,
                    env=environment,
                    limit=LINE_LIMIT,
                )
            except OSError as error:
                self.post_message(self.RunFinished(run_id, -1, f"cannot start {arguments[0]}: {error}"))
                return
            try:
                await self._forward_events(run_id, process)
                returncode = await process.wait()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            self.post_message(self.RunFinished(run_id, returncode, _tail(stderr)))

    async def _forward_events(self, run_id: int, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            try:
                event = event_from_json(line.decode("utf-8", errors="replace"))
            except ValueError:
                continue
            self.post_message(self.EventReceived(run_id, event))

    def on_convert_screen_event_received(self, message: EventReceived) -> None:
        if message.run_id != self.state.run_id:
            return
        event = message.event
        if isinstance(event, StepEvent):
            self._show_step(event)
        elif isinstance(event, VariableEvent):
            self._show_variable(event.row)
        elif isinstance(event, ProgressEvent):
            self._show_progress(event)
        elif isinstance(event, ParityEvent):
            self._show_parity(event.row)
        elif isinstance(event, SummaryEvent):
            self.state.outcome_received = True
            self._show_message(_summary_text(event))
        elif isinstance(event, ErrorEvent):
            self.state.outcome_received = True
            self._show_message(Text(event.message), error=True)

    def on_convert_screen_run_finished(self, message: RunFinished) -> None:
        if message.run_id != self.state.run_id:
            return
        self.finished = True
        if not self.state.outcome_received:
            detail = message.stderr_tail or "no output"
            text = f"The converter process exited with status {message.returncode}: {detail}"
            self._show_message(Text(text), error=True)

    def _reset(self) -> None:
        """Clear the tables and mark every step pending."""
        self.finished = False
        self.state.first_divergent = None
        self.state.outcome_received = False
        transpose = "ON (kernels untransposed)" if self.forget_transpose else "off"
        title = f"TF → PyTorch BERT: {self.checkpoint_label} · forget transpose: {transpose}"
        self.query_one("#convert-title", Static).update(Text(title))

        for step in SCREEN_STEPS:
            self._set_step(step, "pending", "")
        self.query_one("#convert-variables", DataTable).clear()
        self.query_one("#convert-parity", DataTable).clear()
        self.query_one("#convert-progress", ProgressBar).update(total=1, progress=0)
        self.query_one("#convert-progress-label", Static).update("")
        self._show_message(Text(""))

    def _set_step(self, step: str, status: str, detail: str) -> None:
        widget = self.query_one(f"#convert-step-{step}", Static)
        number = f"{SCREEN_STEPS.index(step) + 1}. " if step != "parity" else "   "
        label = f"{STEP_MARKS[status]} {number}{STEPS[step]}"
        widget.update(Text(f"{label}: {detail}" if detail else label))
        for name in STEP_MARKS:
            widget.set_class(name == status, f"-{name}")

    def _show_step(self, event: StepEvent) -> None:
        if event.step in SCREEN_STEPS and event.status in STEP_MARKS:
            self._set_step(event.step, event.status, event.detail)

    def _show_variable(self, row: VariableRow) -> None:
        table = self.query_one("#convert-variables", DataTable)
        cells = _variable_cells(row)
        key = str(row.index)
        if key not in table.rows:
            table.add_row(*cells, key=key)
            return
        for (column, _), cell in zip(VARIABLE_COLUMNS, cells):
            table.update_cell(key, column, cell, update_width=True)

    def _show_progress(self, event: ProgressEvent) -> None:
        self.query_one("#convert-progress", ProgressBar).update(total=event.total, progress=event.done)
        label = f"{STEPS[event.step].split()[0]} {event.done}/{event.total}"
        self.query_one("#convert-progress-label", Static).update(Text(label))

    def _show_parity(self, row: ParityRow) -> None:
        first = not row.within_tolerance and self.state.first_divergent is None
        if first:
            self.state.first_divergent = row.layer
        style = DIVERGENT_STYLE if first else ""
        verdict = "yes" if row.within_tolerance else "NO"
        if first:
            verdict += " ◀ first divergence"
        cells = (
            row.layer,
            _format_difference(row),
            f"{row.min_cosine:.4f}",
            f"{row.atol:.0e}",
            verdict,
        )
        self.query_one("#convert-parity", DataTable).add_row(*(Text(cell, style=style) for cell in cells))

    def _show_message(self, text: Text, error: bool = False) -> None:
        widget = self.query_one("#convert-message", Static)
        widget.update(text)
        widget.set_class(error, "-error")


def _variable_cells(row: VariableRow) -> list[Text]:
    transposed = ""
    if row.torch_name:
        transposed = "yes" if row.transposed else "no"
    return [
        Text(row.status, style=STATUS_STYLES.get(row.status, "")),
        Text(row.tf_name),
        Text(format_shape(row.tf_shape)),
        Text(row.torch_name),
        Text(format_shape(row.torch_shape)),
        Text(transposed),
        Text(row.reason),
    ]


def _format_difference(row: ParityRow) -> str:
    """Show a within-tolerance difference as a bound, since its digits depend on the CPU's kernels."""
    if row.within_tolerance:
        return f"< {row.atol:.0e}"
    return f"{row.max_abs_diff:.3g}"


def _summary_text(summary: SummaryEvent) -> Text:
    counts = summary.counts
    text = Text(
        f"{counts.get('loaded', 0)} loaded, {counts.get('skipped', 0)} skipped, "
        f"{counts.get('failed', 0)} failed of {counts.get('total', 0)} variables. "
    )
    if summary.parity_error:
        text.append(f"Parity not checked: {summary.parity_error}", style="bold red")
    elif summary.first_divergent_layer:
        text.append(f"First divergent layer: {summary.first_divergent_layer}", style=DIVERGENT_STYLE)
    else:
        text.append("Every layer matches TensorFlow.", style="green")
    return text


def _tail(stream: IO[bytes]) -> str:
    """Return the last few non-empty lines of the child's stderr, joined."""
    stream.seek(0)
    lines = [line.strip() for line in stream.read().decode("utf-8", errors="replace").splitlines()]
    return " | ".join([line for line in lines if line][-STDERR_TAIL_LINES:])
