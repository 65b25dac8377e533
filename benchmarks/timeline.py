"""The timeline of one launch of the app, importable before the UI so an early pool can report to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.clock import since_launch
from tui.core.workers import WorkerEvent, WorkerStatus


@dataclass
class Timeline:
    """Events of one launch of the app, in seconds since launch."""

    first_frame: float | None = None
    table_frame: float | None = None
    """First frame of the ops table with its rows."""
    worker_started: dict[str, float] = field(default_factory=dict)
    worker_ready: dict[str, float] = field(default_factory=dict)
    worker_warm_up: dict[str, float] = field(default_factory=dict)
    """Seconds each worker reported for importing and warming up its framework."""
    worker_cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each worker reported using until it was ready."""
    column_values: dict[str, float] = field(default_factory=dict)
    """First frame in which a backend's column shows a result, by backend."""
    op_frame: float | None = None
    """First frame of the op screen."""
    op_frame_cpu: float | None = None
    """CPU seconds the UI process had used by the op screen's first frame, all threads."""
    frames: int = 0

    def record_worker_event(self, event: WorkerEvent) -> None:
        """Pool listener: called on a worker's channel thread."""
        now = since_launch()
        if event.status is WorkerStatus.STARTING:
            self.worker_started.setdefault(event.worker, now)
        if event.status in (WorkerStatus.READY, WorkerStatus.UNAVAILABLE):
            self.worker_ready.setdefault(event.worker, now)
            self.worker_warm_up.setdefault(event.worker, event.warm_up)
            self.worker_cpu.setdefault(event.worker, event.cpu)
