"""The xframe-tui App: owns the worker pool and moves between the ops table and op screens."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.timer import Timer

from tui.app.messages import WorkerStatusChanged
from tui.app.screens.ops import OpsScreen
from tui.core.catalog import get_op, visible_ops
from tui.core.catalog.base import BACKENDS
from tui.core.catalog.probes import PROBES
from tui.core.state import OpEdits, SessionStore, atomic_write
from tui.core.workers import DEFAULT_DEADLINE, WorkerEvent, WorkerPool, WorkerStatus

SAVE_DELAY = 0.5
"""Seconds after the last keystroke before typed inputs are written to disk."""


class OpCommands(Provider):
    """Command palette entries that open each op, and the behaviour matrix of each op with probes."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        entries = [
            (f"Open {op.title} ({op.id})", partial(self.app.open_op, op.id), op.table.get("torch", ""))
            for op in visible_ops()
        ]
        entries.append(
            ("Convert a TensorFlow checkpoint to PyTorch", self.app.open_convert, "the built-in tiny BERT, step by step")
        )
        for op in visible_ops():
            if PROBES.get(op.id):
                help_text = "run every edge-case probe on every formulation"
                entries.append((f"Behaviour matrix of {op.title} ({op.id})", partial(self.app.open_matrix, op.id), help_text))
        return entries

    async def discover(self) -> Hits:
        for text, command, help_text in self._entries():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)


class XFrameApp(App[None]):
    """The explorer. Imports no framework: every framework runs in a worker process."""

    TITLE = "xframe-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {OpCommands}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        initial_op: str | None = None,
        *,
        deadline: float = DEFAULT_DEADLINE,
        pool: WorkerPool | None = None,
        show_timings: bool = True,
        steady: bool = False,
        state_path: Path | None = None,
    ) -> None:
        """Create the app.

        Args:
            initial_op: open this op's screen over the ops table.
            deadline: seconds a framework may take per run.
            pool: a started or unstarted pool to share; by default the app owns one.
            show_timings: show each result's time; off for snapshots.
            steady: no cursor blink and no animations, for snapshots.
            state_path: where typed inputs are saved and restored; None saves nothing.
        """
        super().__init__()
        self.initial_op = initial_op
        self.show_timings = show_timings
        """Timings are hidden in snapshot tests, where they would change every run."""
        self.cursor_blink = not steady
        """Off in snapshot tests and screenshots, with animations, so each frame is reproducible."""
        if steady:
            self.animation_level = "none"
        self._owns_pool = pool is None
        self.pool = pool if pool is not None else WorkerPool(deadline=deadline)
        self._statuses: dict[str, tuple[WorkerStatus, str]] = {}
        self.store = SessionStore.open(state_path) if state_path is not None else None
        self._save_timer: Timer | None = None

    def on_mount(self) -> None:
        self.pool.add_listener(self._on_worker_event)
        for name, channel in self.pool.channels.items():
            self._statuses[name] = (channel.status, "")
        self.push_screen(OpsScreen())
        if self.store is not None and self.store.problem:
            self.notify(self.store.problem, title="Saved inputs not restored", severity="warning", timeout=15)
        if self.initial_op:
            self.open_op(self.initial_op)
        self.call_after_refresh(self._first_frame_drawn)

    def _first_frame_drawn(self) -> None:
        """Start the workers if the CLI did not, and let them import on every core."""
        self.pool.start()
        self.pool.ui_drawn()

    def on_unmount(self) -> None:
        self.save_edits()
        self.pool.remove_listener(self._on_worker_event)
        if self._owns_pool:
            self.pool.close()

    def _on_worker_event(self, event: WorkerEvent) -> None:
        """Called on a worker's channel thread; only posts a message."""
        self.post_message(WorkerStatusChanged(event))

    def on_worker_status_changed(self, message: WorkerStatusChanged) -> None:
        event = message.event
        if event.status is WorkerStatus.BUSY:
            return
        self._statuses[event.worker] = (event.status, event.detail)
        for screen in self.screen_stack:
            if screen.has_class("op-screen"):
                screen.show_statuses()

    def worker_status(self, backend: str) -> tuple[WorkerStatus, str]:
        """Return the last known state of the worker that serves a backend."""
        worker = BACKENDS[backend].worker
        return self._statuses.get(worker, (WorkerStatus.STARTING, ""))

    def open_op(self, op_id: str) -> None:
        """Show the op's screen, creating it on first use so its inputs survive leaving it."""
        from tui.app.screens.op import OpScreen

        op = get_op(op_id)
        name = f"op:{op.id}"
        if not self.is_screen_installed(name):
            saved = self.store.edits.get(op.id) if self.store is not None else None
            self.install_screen(OpScreen(op, saved), name)
        if self.screen.has_class("op-screen"):
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def open_matrix(self, op_id: str) -> None:
        """Show the behaviour matrix of an op's probes in float32, in place of one already on top."""
        from tui.app.screens.matrix import BehaviourMatrixScreen

        screen = BehaviourMatrixScreen(get_op(op_id))
        if isinstance(self.screen, BehaviourMatrixScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def remember_edits(self, op_id: str, edits: OpEdits) -> None:
        """Keep an op's typed texts and save them shortly after typing pauses."""
        if self.store is None:
            return
        self.store.edits[op_id] = edits
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._save_in_thread)

    def _save_in_thread(self) -> None:
        document = self.store.to_json() if self.store is not None else None
        if document is not None:
            self.run_worker(partial(self._write, document), thread=True, group="save", exclusive=True)

    def _write(self, document: dict) -> None:
        """Write the state file; runs on a thread worker so typing never waits for the disk."""
        assert self.store is not None
        try:
            atomic_write(self.store.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            self.call_from_thread(self.notify, f"could not save inputs to {self.store.path}: {exc}", severity="error")

    def save_edits(self) -> None:
        """Save now, on the calling thread; used when the app exits."""
        if self._save_timer is not None:
            self._save_timer.stop()
        if self.store is None:
            return
        try:
            self.store.save()
        except OSError:
            pass  # NOTE: the app is closing, so there is no screen left to report this on.

    def open_convert(self) -> None:
        """Show the Convert screen on the built-in demo checkpoint."""
        from tui.app.screens.convert import ConvertScreen

        self.push_screen(ConvertScreen())

    def action_help(self) -> None:
        from tui.app.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
