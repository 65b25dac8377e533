"""The real explorer with timestamps: frames painted, workers ready, keys handled.

ProbedApp is XFrameApp plus hooks that only record. Every timestamp is
seconds since the process was launched (see benchmarks.clock). Frames are
taken at App._display, which Textual calls with each compositor update of the
top screen; headless mode skips turning the update into terminal escape
codes, so the probe does that too, to pay what a real terminal costs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from textual import events
from textual._compositor import CompositorUpdate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input

from benchmarks.clock import since_launch
from tui.app import app as app_module
from tui.app.app import XFrameApp
from tui.app.screens.op import OpScreen
from tui.app.screens.ops import OpsScreen
from tui.app.widgets.input_editor import InputEditor
from tui.core.workers import WorkerEvent, WorkerStatus


@dataclass
class Timeline:
    """What one launch of the app recorded, in seconds since launch."""

    first_frame: float | None = None
    table_frame: float | None = None
    """First frame of the ops table with its rows."""
    worker_started: dict[str, float] = field(default_factory=dict)
    worker_ready: dict[str, float] = field(default_factory=dict)
    worker_warm_up: dict[str, float] = field(default_factory=dict)
    """Seconds each worker reported for importing and warming up its framework."""
    column_values: dict[str, float] = field(default_factory=dict)
    """First frame in which a backend's column shows a result, by backend."""
    frames: int = 0


class ProbedApp(XFrameApp):
    """XFrameApp that records when frames are painted and workers become ready."""

    # Textual resolves a relative CSS_PATH next to the subclass's module.
    CSS_PATH = str(Path(app_module.__file__).with_name(XFrameApp.CSS_PATH))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeline = Timeline()
        self.watched_revision: int | None = None
        self.revision_painted = asyncio.Event()
        self.revision_painted_at: float | None = None
        self.pool.add_listener(self._record_worker_event)

    def _record_worker_event(self, event: WorkerEvent) -> None:
        now = since_launch()
        if event.status is WorkerStatus.STARTING:
            self.timeline.worker_started.setdefault(event.worker, now)
        if event.status in (WorkerStatus.READY, WorkerStatus.UNAVAILABLE):
            self.timeline.worker_ready.setdefault(event.worker, now)
            self.timeline.worker_warm_up.setdefault(event.worker, event.warm_up)

    def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        if renderable is None or self._batch_count:
            return
        if self.is_headless and isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.console)
        self._record_frame(screen)

    def _record_frame(self, screen: Screen) -> None:
        now = since_launch()
        timeline = self.timeline
        timeline.frames += 1
        if timeline.first_frame is None:
            timeline.first_frame = now
        if timeline.table_frame is None and isinstance(screen, OpsScreen):
            if screen.query_one(DataTable).row_count:
                timeline.table_frame = now
        if isinstance(screen, OpScreen):
            self._record_op_frame(screen, now)

    def _record_op_frame(self, screen: OpScreen, now: float) -> None:
        for row in screen.shown.values():
            if row.result is not None:
                self.timeline.column_values.setdefault(row.formulation.backend, now)

        state = screen.state
        watched = self.watched_revision
        if watched is None or state is None:
            return
        if state.request.revision == watched and state.complete:
            self.revision_painted_at = now
            self.watched_revision = None
            self.revision_painted.set()

    def watch_revision(self, revision: int) -> None:
        """Record the first frame that shows every worker's reply to `revision`."""
        self.revision_painted.clear()
        self.revision_painted_at = None
        self.watched_revision = revision


@dataclass
class KeySample:
    """One key press: when it was posted and when its handlers finished."""

    key: str
    posted: float
    handled: float | None = None
    """When the last widget that received the key event finished with it."""
    sent: float | None = None
    """For an edit: when the op screen finished handling the input change,
    which includes parsing the text and sending the request to the workers."""

    @property
    def latency(self) -> float | None:
        end = self.sent if self.sent is not None else self.handled
        return None if end is None else end - self.posted


class KeyProbe:
    """Posts keys to the focused input of an op screen and times their handling.

    A message signal publishes each message after its node finished
    dispatching it. A key that no widget consumes bubbles back to the app,
    which runs the bindings (cursor keys in an Input), so such a key is
    handled when the app publishes it the second time. A printable key is
    consumed by the Input, and the edit it makes is handled when the op
    screen has published InputEditor.Changed.
    """

    def __init__(self, app: ProbedApp, screen: OpScreen, input_widget: Input) -> None:
        self.app = app
        self.samples: list[KeySample] = []
        self._current: events.Key | None = None
        self._sample: KeySample | None = None
        self._finished = asyncio.Event()
        self._is_edit = False
        for node, where in ((app, "app"), (screen, "screen"), (input_widget, "input")):
            node.message_signal.subscribe(screen, partial(self._published, where), immediate=True)

    def _published(self, where: str, message: Message) -> None:
        sample = self._sample
        if sample is None:
            return
        now = time.perf_counter()
        if message is self._current:
            sample.handled = now
            if not self._is_edit and where == "app" and message.is_forwarded:
                self._finished.set()
        elif self._is_edit and where == "screen" and isinstance(message, InputEditor.Changed):
            sample.sent = now
            self._finished.set()

    async def press(self, key: str, character: str | None, *, edit: bool, timeout: float = 10.0) -> KeySample:
        """Post one key and wait until its handling finished, or `timeout` passed."""
        event = events.Key(key, character)
        self._current = event
        self._is_edit = edit
        self._finished.clear()
        sample = KeySample(key, time.perf_counter())
        self._sample = sample
        self.app.post_message(event)
        try:
            await asyncio.wait_for(self._finished.wait(), timeout)
        except TimeoutError:
            pass
        self._sample = None
        self.samples.append(sample)
        return sample
