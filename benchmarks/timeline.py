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
    column_values: dict[str, float] = field(default_factory=dict)
    """First frame in which a backend's column shows a result, by backend."""
    frames: int = 0

    def record_worker_event(self, event: WorkerEvent) -> None:
        """Pool listener: called on a worker's channel thread."""
        now = since_launch()
        if event.status is WorkerStatus.STARTING:
            self.worker_started.setdefault(event.worker, now)
        if event.status in (WorkerStatus.READY, WorkerStatus.UNAVAILABLE):
            self.worker_ready.setdefault(event.worker, now)
            self.worker_warm_up.setdefault(event.worker, event.warm_up)
