"""The op screen: input editors and params, then one result column per backend."""

from __future__ import annotations

from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.app.messages import ComparisonsReady, ResultsArrived
from tui.app.widgets.details import LossBreakdown, SimilarityTables
from tui.app.widgets.gradients import GradientsPanel
from tui.app.widgets.input_editor import InputEditor
from tui.app.widgets.param_field import ParamField
from tui.app.widgets.results import AgreementStrip, ResultColumn
from tui.core.catalog.base import BACKENDS, DTYPES, InputError, Op, ParamError, ParamSpec
from tui.core.catalog.probes import PROBES, Probe
from tui.core.compare import TOLERANCE_RULES
from tui.core.gradients import has_gradients
from tui.core.probes import probe_input_texts, probe_param_texts
from tui.core.report import Row, RunState
from tui.core.run import RunReply, RunRequest, build_request
from tui.core.state import OpEdits
from tui.core.workers import Superseded, WorkerFailed, WorkerStatus

if TYPE_CHECKING:
    from tui.app.app import XFrameApp

MIN_COLUMN_WIDTH = 40
"""Columns narrower than this wrap every line of code."""
DTYPE_PARAM = ParamSpec("dtype", "choice", "float32", "compute dtype of float inputs", choices=DTYPES)
TOLERANCE_PARAM = ParamSpec("tolerance", "choice", "torch", "tolerance rule", choices=TOLERANCE_RULES)
DETAIL_PANELS = {"cross_entropy": ("Breakdown", LossBreakdown), "cosine_similarity": ("Similarity", SimilarityTables)}


STALE_AFTER = 0.15
"""Seconds a column may wait for the newest inputs' results before it is dimmed.
Faster replies never restyle it, because restyling a column costs more than the reply itself."""

COMPARE_ON_THREAD_ABOVE = 100_000
"""Results with more output elements than this (with the reference's) are compared on a thread:
the four outputs of a 1000x1000 softmax take 25 to 50 ms to compare, longer than a key should wait."""


class OpScreen(Screen[None]):
    """Edit one op's inputs and see every framework's result side by side."""

    BINDINGS = [
        Binding("escape", "back", "Ops"),
        Binding("ctrl+r", "run", "Run again"),
        # Not Ctrl+D: the focused Input takes it to delete the character to the right.
        Binding("f8", "reset", "Defaults"),
        Binding("f2", "show_tab('tab-results')", "Results"),
        Binding("f3", "show_tab('tab-details')", "Details", show=False),
        Binding("f4", "show_tab('tab-notes')", "Notes"),
        Binding("f5", "show_tab('tab-gradients')", "Gradients"),
        Binding("f6", "probes", "Probes"),
        Binding("f7", "matrix", "Matrix"),
        Binding("f1", "app.help", "Help"),
    ]

    AUTO_FOCUS = ".input-editor Input"
    """Typing goes straight into the first input when the screen opens."""

    app: XFrameApp

    def __init__(self, op: Op, saved: OpEdits | None = None) -> None:
        """Create the screen; `saved` contains the texts typed in an earlier session."""
        super().__init__(name=f"op:{op.id}", classes="op-screen")
        self.op = op
        self.saved = saved or OpEdits()
        self.revision = 0
        self.state: RunState | None = None
        self._comparing: tuple[RunState, str] | None = None
        """The run and rule a thread is comparing, so one thread works on them at a time."""
        self.complete_on_screen = False
        """Whether the last refresh drew every worker's reply to the newest inputs, compared."""
        self.shown: dict[str, Row] = {}
        """The row on screen for each formulation, kept while a newer run is pending."""
        self._stale_timer: Timer | None = None
        # The widgets every edit reads or updates, built here so that no edit searches the DOM.
        self.editors = [
            InputEditor(spec, self.saved.inputs.get(spec.name, spec.default), id=f"input-{spec.name}")
            for spec in op.inputs
        ]
        self.op_fields = [ParamField(spec, self.saved.params.get(spec.name), id=f"param-{spec.name}") for spec in op.params]
        """The op's own params, without the dtype and tolerance switches."""
        self.dtype_field = ParamField(DTYPE_PARAM, self.saved.dtype, id="param-dtype")
        self.tolerance_field = ParamField(TOLERANCE_PARAM, id="param-tolerance")
        self.columns = [
            ResultColumn(backend, [item for item in op.all_formulations() if item.backend == backend])
            for backend in op.backends()
        ]
        self.strip = AgreementStrip("", id="agreement")
        self.diagnostics = Static("", id="diagnostics")
        self.details_panel: LossBreakdown | SimilarityTables | None = None
        self.gradients_panel: GradientsPanel | None = None
        self.tabs = TabbedContent(id="tabs", initial="tab-results")

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.op.title}  ·  {self.op.id}", style="bold"), id="op-title")
        with Horizontal(id="editors"):
            with VerticalScroll(id="inputs"):
                yield from self.editors
            with VerticalScroll(id="params"):
                yield from self.op_fields
                yield self.dtype_field
                yield self.tolerance_field
        yield self.diagnostics
        yield self.strip
        with self.tabs:
            with TabPane("Results", id="tab-results"):
                with HorizontalScroll(id="columns"):
                    yield from self.columns
            if self.op.id in DETAIL_PANELS:
                title, panel = DETAIL_PANELS[self.op.id]
                with TabPane(title, id="tab-details"):
                    with VerticalScroll():
                        self.details_panel = panel(id="details-panel")
                        yield self.details_panel
            with TabPane("Notes", id="tab-notes"):
                with VerticalScroll():
                    yield Static(Text(self.op.note), id="notes-text")
            if has_gradients(self.op):
                with TabPane("Gradients", id="tab-gradients"):
                    with VerticalScroll():
                        self.gradients_panel = GradientsPanel(id="gradients-panel")
                        yield self.gradients_panel
        yield Footer()

    def on_mount(self) -> None:
        self.show_statuses()
        self.call_after_refresh(self.action_run)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_columns(event.size.width)

    def fit_columns(self, width: int) -> None:
        """Share the width among the result columns, never narrower than MIN_COLUMN_WIDTH.

        Columns that do not fit scroll sideways. CSS fr units cannot express
        this: inside a scrolling container whose children overflow, each
        fr column took the whole width.
        """
        if not self.columns:
            return
        share = max(MIN_COLUMN_WIDTH, (width - 1) // len(self.columns))
        for column in self.columns:
            column.styles.width = share

    def on_screen_resume(self) -> None:
        self.show_statuses()

    # Running

    def collect(self) -> tuple[dict[str, np.ndarray | None], dict[str, Any], str] | None:
        """Return the current inputs, params and dtype, or None while any of them is invalid."""
        fields = [*self.op_fields, self.dtype_field, self.tolerance_field]
        if any(not editor.valid for editor in self.editors) or any(field.error for field in fields):
            return None
        arrays = {editor.spec.name: editor.value for editor in self.editors}
        params = {field.spec.name: field.value for field in self.op_fields}
        return arrays, params, self.dtype_field.value

    @property
    def tolerance_rule(self) -> str:
        return self.tolerance_field.value

    def action_run(self) -> None:
        """Send the current inputs to every worker the op needs, as a new revision."""
        collected = self.collect()
        if collected is None:
            if self.state is None:
                self.strip.update(Text(" no results yet: fix the input marked above ", style="yellow"))
            return
        arrays, params, dtype = collected
        request = self._build(arrays, params, dtype, self.revision + 1)
        if request is None:
            return

        self.revision = request.revision
        self.state = RunState(self.op, request)
        for worker in self.op.workers():
            future = self.app.pool.submit(worker, request)
            future.add_done_callback(partial(self._deliver, self.revision, worker))
        self.refresh_results()

    def _build(
        self, arrays: dict[str, np.ndarray | None], params: dict[str, Any], dtype: str, revision: int
    ) -> RunRequest | None:
        """Build the request, or show the problem next to the input or param at fault and return None."""
        for editor in self.editors:
            editor.show_problem(None)
        try:
            request = build_request(self.op, arrays, params, dtype, revision, grad=self.wants_gradients)
        except InputError as exc:
            self.query_one(f"#input-{exc.name}", InputEditor).show_problem(exc.message)
            return None
        except ParamError as exc:
            self.query_one(f"#param-{exc.name}", ParamField).show_problem(exc.message)
            return None
        for field in [*self.op_fields, self.dtype_field, self.tolerance_field]:
            if field.error is None:
                field.show_problem(None)
        return request

    def _deliver(self, revision: int, worker: str, future: Future[RunReply]) -> None:
        """Called on a worker's channel thread; hands the reply to the main thread as a message."""
        try:
            reply, failure = future.result(), None
        except Superseded:
            return
        except WorkerFailed as exc:
            reply, failure = None, exc.message
        self.post_message(ResultsArrived(self.op.id, revision, worker, reply, failure))

    def on_results_arrived(self, message: ResultsArrived) -> None:
        if message.revision != self.revision or self.state is None:
            return  # a reply for older inputs never overwrites newer results
        if message.reply is not None:
            self.state.add_reply(message.reply)
        else:
            self.state.add_failure(message.worker, message.failure or "no reply")
        # Widgets repaint once per frame however many replies updated them, and
        # waiting for the next frame to update them would show every reply a frame late.
        self.refresh_results()

    # Showing

    def refresh_results(self) -> None:
        if self.state is None:
            return
        rows = self.state.rows(self.tolerance_rule, defer_above=COMPARE_ON_THREAD_ABOVE)
        comparing = any(row.comparing for row in rows)
        self.complete_on_screen = self.state.complete and not comparing
        if comparing:
            self._compare_on_thread(self.state, self.tolerance_rule)
        for row in rows:
            if not row.pending or row.formulation.id not in self.shown:
                self.shown[row.formulation.id] = row
        waiting = self.state.waiting_backends()

        visible = list(self.shown.values())
        for column in self.columns:
            column.show_rows(visible, show_timings=self.app.show_timings)
            if self.app.show_timings:
                failed = BACKENDS[column.backend].worker in self.state.failures
                column.show_timing(self.state.timing(column.backend), failed)
            if column.backend not in waiting:
                column.set_class(False, "-stale")
        if waiting and self._stale_timer is None:
            self._stale_timer = self.set_timer(STALE_AFTER, self._mark_stale)
        self.strip.show_rows(rows)
        self._show_diagnostics()
        self._show_open_panel(rows)

    def _show_open_panel(self, rows: list[Row]) -> None:
        """Redraw the details or gradients panel if its tab is open. A hidden panel is drawn when its tab opens."""
        if self.details_panel is not None and self.tabs.active == "tab-details":
            self.details_panel.show_state(self.state, rows)
        if self.gradients_panel is not None and self.tabs.active == "tab-gradients":
            self.gradients_panel.show_state(self.state, self.tolerance_rule)

    def _mark_stale(self) -> None:
        """Dim the columns still waiting for the newest inputs' results."""
        self._stale_timer = None
        if self.state is None:
            return
        waiting = self.state.waiting_backends()
        for column in self.columns:
            column.set_class(column.backend in waiting, "-stale")

    def _compare_on_thread(self, state: RunState, rule: str) -> None:
        """Compare big outputs on a thread, so keys are handled while it runs."""
        if self._comparing is not None and self._comparing[0] is state and self._comparing[1] == rule:
            return  # the thread posts when it is done, and the refresh then starts any comparison still missing
        self._comparing = (state, rule)

        def compare() -> None:
            state.compare_all(rule)
            self.post_message(ComparisonsReady(state))

        self.run_worker(compare, thread=True, group="compare", name=f"compare {self.op.id}")

    def on_comparisons_ready(self, message: ComparisonsReady) -> None:
        if self._comparing is not None and self._comparing[0] is message.state:
            self._comparing = None
        if message.state is self.state:
            self.refresh_results()

    def _show_diagnostics(self) -> None:
        diagnostics = self.state.diagnostics if self.state else []
        box = self.diagnostics
        box.set_class(bool(diagnostics), "-visible")
        box.update(Text("\n".join(f"⚠ {item}" for item in diagnostics), style="yellow"))

    def show_statuses(self) -> None:
        """Show each column's worker state, as the app last heard it."""
        for column in self.columns:
            status, detail = self.app.worker_status(column.backend)
            column.show_status(status, detail, stale=column.has_class("-stale"))

    # Events from the editors

    @on(InputEditor.Changed)
    @on(ParamField.Changed)
    def inputs_changed(self, event: InputEditor.Changed | ParamField.Changed) -> None:
        if isinstance(event, ParamField.Changed) and event.field.id == "param-tolerance":
            self.refresh_results()
            return
        self.app.remember_edits(self.op.id, self.edits())
        self.action_run()

    def edits(self) -> OpEdits:
        """Return the texts on screen exactly as typed, invalid ones included."""
        return OpEdits(
            inputs={editor.spec.name: editor.text for editor in self.editors},
            params={field.spec.name: field.text for field in self.op_fields},
            dtype=self.dtype_field.text,
        )

    # Actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reset(self) -> None:
        """Put every input and param back to the op's defaults."""
        for editor in self.query(InputEditor):
            editor.set_text(editor.spec.default)
        for field in self.query(ParamField):
            field.set_value(field.spec.default)
        self.notify(f"{self.op.id}: inputs and params reset to their defaults", timeout=3)

    def action_probes(self) -> None:
        """Offer the op's edge-case probes; the chosen one replaces the inputs and params."""
        if not PROBES.get(self.op.id):
            self.notify(f"{self.op.id} has no probes", severity="warning", timeout=3)
            return
        from tui.app.screens.probe_picker import ProbePicker

        self.app.push_screen(ProbePicker(self.op), self.load_probe)

    def load_probe(self, probe: Probe | None) -> None:
        """Put a probe's texts in every editor and param field, which runs it."""
        if probe is None:
            return
        inputs = probe_input_texts(self.op, probe)
        params = probe_param_texts(self.op, probe)
        for editor in self.query(InputEditor):
            editor.set_text(inputs[editor.spec.name])
        for field in self.query(ParamField):
            if field.spec.name in params:
                field.set_value(params[field.spec.name])
        self.notify(f"probe {probe.name!r}: {probe.description}", timeout=6)

    def action_matrix(self) -> None:
        """Run every probe of the op and show each formulation's result in the behaviour matrix."""
        dtype = self.dtype_field.value
        from tui.app.screens.matrix import BehaviourMatrixScreen

        self.app.push_screen(BehaviourMatrixScreen(self.op, dtype, self.tolerance_rule), self._matrix_closed)

    def _matrix_closed(self, result: None) -> None:
        # The matrix shares the workers, so it may have replaced a run of these inputs that was not yet sent.
        if self.state is None or not self.state.complete:
            self.action_run()

    def action_show_tab(self, tab: str) -> None:
        if self.tabs.query(f"#{tab}"):
            self.tabs.active = tab
            self._run_gradients_if_missing()

    @property
    def wants_gradients(self) -> bool:
        """Whether runs compute gradients: only while the Gradients tab is open, since they cost time."""
        return self.tabs.active == "tab-gradients"

    @on(TabbedContent.TabActivated)
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._run_gradients_if_missing()
        self.refresh_results()

    def _run_gradients_if_missing(self) -> None:
        # Opening the Gradients tab, by key or mouse, runs the current inputs again with gradients.
        if self.wants_gradients and (self.state is None or not self.state.request.grad):
            self.action_run()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the Gradients key for ops that have no gradients tab."""
        if action == "show_tab" and parameters == ("tab-gradients",):
            return has_gradients(self.op)
        return True

    @property
    def settled(self) -> bool:
        """Whether every worker replied to the newest revision and its results are compared; tests wait for this."""
        return self.state is not None and self.complete_on_screen and all(
            self.app.worker_status(column.backend)[0] not in (WorkerStatus.STARTING, WorkerStatus.RESTARTING)
            for column in self.columns
        )
