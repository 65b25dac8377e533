"""Worker processes, one per framework, and the pool the UI and the CLI talk to.

Each worker is a subprocess speaking the frame protocol on its stdin/stdout,
with stderr sent to a log file so framework noise never reaches the terminal.
A channel thread owns each worker: it starts the process, waits for it to
finish importing its framework, and sends it requests one at a time. Only the
newest pending request is kept, so a burst of edits costs one run, not a
backlog. A worker that crashes or passes its deadline is killed and started
again; the request that hit it resolves with the reason.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from tui.core.catalog.base import BACKENDS, WORKERS
from tui.core.protocol import LENGTH, decode, encode_parts, reply_from_wire, request_to_wire
from tui.core.run import RunReply, RunRequest

DEFAULT_DEADLINE = 10.0
"""Seconds a warm worker may take to reply to one request."""
DEFAULT_STARTUP_TIMEOUT = 300.0
"""Seconds a worker may take to import its framework; generous for loaded machines."""
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_ORDER: tuple[str, ...] = ("tensorflow", "numpy", "sklearn", "torch")
"""The order in which workers take a free core when there are fewer cores than workers.

TensorFlow's import is the slowest and every worker is ready only when it
is, so it starts first. The others follow fastest import first, so each
column waits about as long as its own framework's import: NumPy (which
serves the float64 reference), then scikit-learn, then torch. A worker with
a pending request goes before one without.
"""
LIGHT_WORKERS: frozenset[str] = frozenset({"numpy"})
"""Workers that may start while a core is held for the UI. NumPy's import
takes about 0.1 s of CPU, less than the UI's own imports."""
UI_HOLD_SECONDS = 1.0
"""Maximum seconds a core stays held for the UI's first frame, in case the UI never reports it."""


class WorkerStatus(str, Enum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    RESTARTING = "restarting"
    UNAVAILABLE = "unavailable"
    STOPPED = "stopped"


@dataclass(frozen=True)
class WorkerEvent:
    """A change in a worker's state, sent to the pool's listener."""

    worker: str
    status: WorkerStatus
    detail: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    warm_up: float = 0.0
    """Seconds the worker took to import and warm up its framework."""
    cpu: float = 0.0
    """CPU seconds the worker process used until it was ready, its interpreter's start included."""


class WorkerFailed(Exception):
    """Raised for a request that got no reply; the message gives the reason."""

    def __init__(self, worker: str, message: str) -> None:
        super().__init__(message)
        self.worker = worker
        self.message = message


class WorkerCrashed(WorkerFailed):
    """The worker process died while handling the request."""


class WorkerTimedOut(WorkerFailed):
    """The worker passed its deadline and was killed."""


class WorkerUnavailable(WorkerFailed):
    """The worker's framework is not installed or cannot be imported."""


class Superseded(Exception):
    """Raised for a request replaced by a newer one before it was sent."""


class WorkerProcess:
    """One worker subprocess and blocking, deadline-bound I/O with it."""

    def __init__(self, name: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tui.core.worker_main", self.name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                bufsize=0,
                env=env,
                start_new_session=True,
            )

    def send(self, message: Any) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            fd = self.process.stdin.fileno()
            for part in encode_parts(message):
                _write_all(fd, part)
        except (BrokenPipeError, OSError, ValueError):
            # ValueError: close() closed the pipe while this thread was writing.
            raise WorkerCrashed(self.name, self.exit_description()) from None

    def receive(self, timeout: float) -> Any:
        """Read one message, raising WorkerTimedOut or WorkerCrashed."""
        deadline = time.monotonic() + timeout
        prefix = self._read(LENGTH.size, deadline, timeout)
        (length,) = LENGTH.unpack(prefix)
        return decode(self._read(length, deadline, timeout))

    def _read(self, size: int, deadline: float, timeout: float) -> bytearray:
        """Read exactly `size` bytes into one buffer, so a large frame is not copied again."""
        assert self.process is not None and self.process.stdout is not None
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimedOut(self.name, f"no reply within {timeout:g} s; the worker was stopped")
            try:
                fd = self.process.stdout.fileno()
                readable, _, _ = select.select([fd], [], [], left)
                if not readable:
                    continue
                count = os.readv(fd, [view[filled:]])
            except (OSError, ValueError):
                # close() closed the pipe while this thread was waiting on it.
                raise WorkerCrashed(self.name, "the worker was stopped") from None
            if not count:
                raise WorkerCrashed(self.name, self.exit_description())
            filled += count
        return buffer

    def exit_description(self) -> str:
        """Describe how the process ended, with the last lines of its log."""
        if self.process is None:
            return "the worker was not started"
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            description = f"the worker was killed by {name}"
        else:
            description = f"the worker exited with status {code}"
        tail = self.log_tail()
        return f"{description}: {tail}" if tail else description

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [line.strip() for line in text.splitlines() if line.strip()]
        return " | ".join(kept[-lines:])

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of `data` to a blocking file descriptor."""
    view = memoryview(data)
    while view.nbytes:
        written = os.write(fd, view)
        view = view[written:]


Listener = Callable[[WorkerEvent], None]


class StartupGate:
    """Lets at most `slots` workers import their frameworks at the same time.

    Imports are CPU-bound, so more imports than cores only slow each one
    down: on 2 cores, four workers starting together finish TensorFlow last
    and late, while one core for TensorFlow and the other for the rest in
    turn has every worker ready when TensorFlow is. With `hold_for_ui`, one
    slot stays free until `release_ui()` (or UI_HOLD_SECONDS), so the UI
    draws its first frame on a core of its own.
    """

    def __init__(self, slots: int, *, hold_for_ui: bool = False) -> None:
        self.slots = max(1, slots)
        self._waiting: list[WorkerChannel] = []
        self._starting = 0
        self._closed = False
        self._held_until = time.monotonic() + UI_HOLD_SECONDS if hold_for_ui and self.slots > 1 else None
        self._condition = threading.Condition()

    def register(self, channels: Iterable[WorkerChannel]) -> None:
        """Queue every channel before any thread starts, so the order does not depend on thread timing."""
        with self._condition:
            self._waiting.extend(channels)

    def release_ui(self) -> None:
        """Give the slot held for the UI to the workers: the UI has drawn its first frame."""
        with self._condition:
            self._held_until = None
            self._condition.notify_all()

    def enter(self, channel: WorkerChannel) -> bool:
        """Block until `channel` may start its process; False if the gate closed first."""
        with self._condition:
            if channel not in self._waiting:
                self._waiting.append(channel)
            while not self._closed:
                hold_left = self._hold_left()
                startable = [waiting for waiting in self._waiting if self._starting < self._slots_for(waiting, hold_left)]
                if startable and _first(startable) is channel:
                    self._waiting.remove(channel)
                    self._starting += 1
                    # The next channel in line may fit in a slot still free.
                    self._condition.notify_all()
                    return True
                self._condition.wait(hold_left or None)
            self._waiting.remove(channel)
            return False

    def leave(self) -> None:
        """Free the slot of a worker that finished starting, ready or not."""
        with self._condition:
            self._starting -= 1
            self._condition.notify_all()

    def close(self) -> None:
        """Release every waiting channel; they start nothing."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def _hold_left(self) -> float:
        """Return the seconds left of the UI's hold, 0 when no slot is held; an expired hold ends here."""
        if self._held_until is None:
            return 0.0
        left = self._held_until - time.monotonic()
        if left <= 0:
            self._held_until = None
            return 0.0
        return left

    def _slots_for(self, channel: WorkerChannel, hold_left: float) -> int:
        """Slots `channel` may use: all of them, less the UI's while it is held, unless the worker is light."""
        return self.slots - (1 if hold_left and channel.worker not in LIGHT_WORKERS else 0)


def _first(channels: list[WorkerChannel]) -> WorkerChannel:
    """Return the channel to start first: one with a pending request, then by STARTUP_ORDER."""

    def priority(channel: WorkerChannel) -> tuple[bool, int]:
        rank = STARTUP_ORDER.index(channel.worker) if channel.worker in STARTUP_ORDER else len(STARTUP_ORDER)
        return (not channel.has_pending, rank)

    return min(channels, key=priority)


def available_cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkerChannel(threading.Thread):
    """Owns one worker: start, warm-up, the newest pending request, restarts."""

    def __init__(
        self,
        name: str,
        log_path: Path,
        listener: Listener,
        deadline: float,
        startup_timeout: float,
        env: dict[str, str] | None = None,
        gate: StartupGate | None = None,
    ) -> None:
        super().__init__(name=f"worker-{name}", daemon=True)
        self.worker = name
        self.gate = gate
        self.process = WorkerProcess(name, log_path, env)
        self.listener = listener
        self.deadline = deadline
        self.startup_timeout = startup_timeout
        self.status = WorkerStatus.STARTING
        self.versions: dict[str, str] = {}
        self.ready = threading.Event()
        self._condition = threading.Condition()
        self._pending: tuple[RunRequest, Future[RunReply]] | None = None
        self._closing = False
        self._unavailable_reason = ""

    @property
    def has_pending(self) -> bool:
        """Whether a request is waiting to be sent."""
        return self._pending is not None

    def submit(self, request: RunRequest) -> Future[RunReply]:
        """Queue a request, replacing any request not yet sent."""
        future: Future[RunReply] = Future()
        with self._condition:
            if self.status is WorkerStatus.UNAVAILABLE:
                future.set_exception(WorkerUnavailable(self.worker, self._unavailable_reason))
                return future
            if self._pending is not None:
                self._pending[1].set_exception(Superseded())
            self._pending = (request, future)
            self._condition.notify()
        return future

    def close(self) -> None:
        """Stop the worker; a process still starting or busy is killed at once."""
        with self._condition:
            self._closing = True
            if self._pending is not None:
                self._pending[1].set_exception(Superseded())
                self._pending = None
            self._condition.notify()
        if self.status is not WorkerStatus.READY:
            self.process.stop()

    def run(self) -> None:
        if self.gate is None:
            self._start_process(WorkerStatus.STARTING)
        elif self.gate.enter(self):
            try:
                self._start_process(WorkerStatus.STARTING)
            finally:
                self.gate.leave()
        while True:
            with self._condition:
                while self._pending is None and not self._closing:
                    self._condition.wait()
                if self._closing:
                    break
                request, future = self._pending
                self._pending = None
            self._handle(request, future)
        self.process.stop()
        self._set_status(WorkerStatus.STOPPED)

    def _handle(self, request: RunRequest, future: Future[RunReply]) -> None:
        if self.status is WorkerStatus.UNAVAILABLE:
            future.set_exception(WorkerUnavailable(self.worker, self._unavailable_reason))
            return
        self._set_status(WorkerStatus.BUSY)
        started = time.perf_counter()
        try:
            self.process.send(request_to_wire(request))
            message = self.process.receive(self.deadline)
        except WorkerFailed as exc:
            self.process.stop()
            # close() kills a busy worker, which lands here; a closing pool must not restart it.
            if self._closing:
                future.set_exception(exc)
                return
            # Announce the restart before resolving the request, so whoever receives the
            # failure already sees the column restarting.
            self._set_status(WorkerStatus.RESTARTING, exc.message)
            future.set_exception(exc)
            self._launch()
            return

        if message.get("type") == "failure":
            future.set_exception(WorkerFailed(self.worker, f"internal error in the worker: {message['error']}"))
        else:
            reply = reply_from_wire(message)
            reply.round_trip = time.perf_counter() - started
            future.set_result(reply)
        self._set_status(WorkerStatus.READY)

    def _start_process(self, status: WorkerStatus, detail: str = "") -> None:
        self._set_status(status, detail)
        self._launch()

    def _launch(self) -> None:
        """Start the process and wait for its ready message, or mark the worker unavailable."""
        self.ready.clear()
        try:
            self.process.start()
            message = self.process.receive(self.startup_timeout)
        except WorkerFailed as exc:
            self.process.stop()
            if not self._closing:
                self._mark_unavailable(f"could not start: {exc.message}")
            return
        if message.get("type") == "unavailable":
            self.process.stop()
            self._mark_unavailable(f"not installed ({message['error']}); install it with: {self._install_hint()}")
            return
        self.versions = message.get("versions", {})
        self.ready.set()
        self._set_status(WorkerStatus.READY, warm_up=message.get("warm_up", 0.0), cpu=message.get("cpu", 0.0))

    def _install_hint(self) -> str:
        hints = [backend.install for backend in BACKENDS.values() if backend.worker == self.worker]
        return hints[-1] if hints else "pip install"

    def _mark_unavailable(self, reason: str) -> None:
        self._unavailable_reason = reason
        self.ready.set()
        self._set_status(WorkerStatus.UNAVAILABLE, reason)
        with self._condition:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending[1].set_exception(WorkerUnavailable(self.worker, reason))

    def _set_status(self, status: WorkerStatus, detail: str = "", warm_up: float = 0.0, cpu: float = 0.0) -> None:
        self.status = status
        self.listener(WorkerEvent(self.worker, status, detail, dict(self.versions), warm_up, cpu))


class WorkerPool:
    """Starts one worker per framework in parallel and routes requests to them."""

    def __init__(
        self,
        workers: Iterable[str] = WORKERS,
        *,
        deadline: float = DEFAULT_DEADLINE,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        listener: Listener | None = None,
        env: dict[str, str] | None = None,
        hold_core_for_ui: bool = False,
    ) -> None:
        """Create the pool; with `hold_core_for_ui`, one core stays free until `ui_drawn()`."""
        self._log_dir = tempfile.TemporaryDirectory(prefix="xframe-tui-workers-")
        self._listeners: list[Listener] = [listener] if listener else []
        self._gate = StartupGate(available_cores(), hold_for_ui=hold_core_for_ui)
        self.channels = {
            name: WorkerChannel(
                name,
                Path(self._log_dir.name) / f"{name}.log",
                self._notify,
                deadline,
                startup_timeout,
                env,
                self._gate,
            )
            for name in workers
        }
        self._started = False

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` on every worker event; it runs on a channel thread."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, event: WorkerEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def start(self) -> WorkerPool:
        """Start every worker; each imports its framework in parallel with the others."""
        if not self._started:
            self._started = True
            self._gate.register(self.channels.values())
            for channel in self.channels.values():
                channel.start()
        return self

    def ui_drawn(self) -> None:
        """Let workers import on every core: the UI has drawn its first frame."""
        self._gate.release_ui()

    def submit(self, worker: str, request: RunRequest) -> Future[RunReply]:
        """Queue a request for a worker; one this pool did not start resolves as unavailable."""
        channel = self.channels.get(worker)
        if channel is None:
            future: Future[RunReply] = Future()
            future.set_exception(WorkerUnavailable(worker, "not started: this pool runs without that framework"))
            return future
        return channel.submit(request)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every worker is ready or unavailable."""
        end = None if timeout is None else time.monotonic() + timeout
        for channel in self.channels.values():
            left = None if end is None else max(0.0, end - time.monotonic())
            if not channel.ready.wait(left):
                return False
        return True

    def status(self, worker: str) -> WorkerStatus:
        return self.channels[worker].status

    def close(self) -> None:
        self._gate.close()
        for channel in self.channels.values():
            channel.close()
        for channel in self.channels.values():
            if channel.is_alive():
                channel.join(timeout=10)
        self._log_dir.cleanup()

    def __enter__(self) -> WorkerPool:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
