"""The real explorer with timestamps: frames painted, workers ready, keys handled.

ProbedApp is XFrameApp plus hooks that only record. Every timestamp is
seconds since the process was launched (see benchmarks.clock). Frames are
taken at App._display, which Textual calls with each compositor update of the
top screen. Headless mode skips turning the update into terminal escape
codes, so the probe does that itself and a frame costs what it would on a
terminal.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from textual import events
from textual._compositor import CompositorUpdate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input

from benchmarks.clock import since_launch
from benchmarks.timeline import Timeline
from tui.app import app as app_module
from tui.app.app import XFrameApp
from tui.app.screens.ops import OpsScreen

if TYPE_CHECKING:
    # Imported where used: the app imports the op screen only when one opens,
    # and the probe must not add those imports to the first frame it times.
    from tui.app.screens.op import OpScreen


class ProbedApp(XFrameApp):
    """XFrameApp that records when frames are painted and workers become ready."""

    # Textual resolves a relative CSS_PATH next to the subclass's module.
    CSS_PATH = str(Path(app_module.__file__).with_name(XFrameApp.CSS_PATH))

    def __init__(self, *args: Any, timeline: Timeline | None = None, **kwargs: Any) -> None:
        """Pass `timeline` when it already listens to a pool started before the app."""
        super().__init__(*args, **kwargs)
        self.watched_revision: int | None = None
        self.revision_painted = asyncio.Event()
        self.revision_painted_at: float | None = None
        if timeline is None:
            timeline = Timeline()
            self.pool.add_listener(timeline.record_worker_event)
        self.timeline = timeline

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
        op_screens = sys.modules.get("tui.app.screens.op")
        if op_screens is not None and isinstance(screen, op_screens.OpScreen):
            self._record_op_frame(screen, now)

    def _record_op_frame(self, screen: OpScreen, now: float) -> None:
        if self.timeline.op_frame is None:
            self.timeline.op_frame = now
            self.timeline.op_frame_cpu = time.process_time()
        for row in screen.shown.values():
            if row.result is not None:
                self.timeline.column_values.setdefault(row.formulation.backend, now)

        state = screen.state
        watched = self.watched_revision
        if watched is None or state is None:
            return
        if state.request.revision == watched and screen.complete_on_screen:
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
    """One key press: when it was posted and when its handlers finished (perf_counter values)."""

    key: str
    edit: bool
    """Whether the key changes the input's text, so the op screen sends a new request."""
    event: events.Key
    posted: float = 0.0
    handled: float | None = None
    """When the key event's last handler finished: the Input's for a printable
    key, the app's for a key that bubbles up to the bindings."""
    sent: float | None = None
    """For an edit: when the op screen finished handling the input change,
    which includes parsing the text and sending the request to the workers."""

    @property
    def done(self) -> bool:
        return self.sent is not None if self.edit else self.handled is not None

    @property
    def latency(self) -> float | None:
        end = self.sent if self.edit else self.handled
        return None if end is None else end - self.posted


class KeyProbe:
    """Posts keys to the app as its terminal driver does, and times their handling.

    Keys may be posted from any thread, through the driver, as the input
    thread of a real terminal driver does, so a key pressed while the event
    loop is blocked waits in the queue and the wait counts. A message signal
    publishes each message after its node finished dispatching it. A key that
    no widget consumes bubbles back to the app, which runs the bindings
    (cursor keys and backspace in an Input), and is published there a second
    time. Every edit produces one InputEditor.Changed, in key order, and the
    edit is handled when the op screen has published it.
    """

    def __init__(self, app: ProbedApp, screen: OpScreen, input_widget: Input) -> None:
        self.app = app
        self.samples: list[KeySample] = []
        self._by_event: dict[int, KeySample] = {}
        self._edits: list[KeySample] = []
        self._changes_seen = 0
        self._lock = threading.Lock()
        for node, where in ((app, "app"), (screen, "screen"), (input_widget, "input")):
            node.message_signal.subscribe(screen, partial(self._published, where), immediate=True)

    def post(self, key: str, character: str | None, *, edit: bool) -> KeySample:
        """Post one key through the driver and return its sample; safe from any thread."""
        event = events.Key(key, character)
        sample = KeySample(key, edit, event)
        with self._lock:
            self._by_event[id(event)] = sample
            self.samples.append(sample)
            if edit:
                self._edits.append(sample)
        assert self.app._driver is not None
        sample.posted = time.perf_counter()
        self.app._driver.send_message(event)
        return sample

    def _published(self, where: str, message: Message) -> None:
        now = time.perf_counter()
        if isinstance(message, events.Key):
            sample = self._by_event.get(id(message))
            if sample is not None and sample.event is message:
                if sample.edit or (where == "app" and message.is_forwarded):
                    sample.handled = now
        elif where == "screen" and isinstance(message, _input_changed()):
            with self._lock:
                if self._changes_seen < len(self._edits):
                    self._edits[self._changes_seen].sent = now
                self._changes_seen += 1

    async def press(self, key: str, character: str | None, *, edit: bool, timeout: float = 10.0) -> KeySample:
        """Post one key and wait until it is handled, or `timeout` passed."""
        sample = self.post(key, character, edit=edit)
        await self.wait_done(timeout)
        return sample

    async def wait_done(self, timeout: float) -> None:
        """Wait until every posted key is handled, or `timeout` passed."""
        deadline = time.perf_counter() + timeout
        while not all(sample.done for sample in self.samples) and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)


class Typist(threading.Thread):
    """Presses keys from a cycle every `period` seconds, from its own thread, until stopped."""

    def __init__(self, probe: KeyProbe, keys: list[tuple[str, str | None, bool]], period: float) -> None:
        super().__init__(name="benchmark-typist", daemon=True)
        self.probe = probe
        self.keys = keys
        self.period = period
        self.stopped = threading.Event()

    def run(self) -> None:
        next_press = time.perf_counter()
        index = 0
        while not self.stopped.is_set():
            key, character, edit = self.keys[index % len(self.keys)]
            self.probe.post(key, character, edit=edit)
            index += 1
            next_press += self.period
            self.stopped.wait(max(0.0, next_press - time.perf_counter()))

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def _input_changed() -> type[Message]:
    from tui.app.widgets.input_editor import InputEditor

    return InputEditor.Changed
