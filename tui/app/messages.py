"""Messages that carry worker events into the UI's main thread."""

from __future__ import annotations

from textual.message import Message

from typing import TYPE_CHECKING

from tui.core.run import RunReply
from tui.core.workers import WorkerEvent

if TYPE_CHECKING:
    from tui.core.report import RunState


class ResultsArrived(Message):
    """Posted when a worker replied, or failed to, for one revision of an op's inputs."""

    def __init__(self, op_id: str, revision: int, worker: str, reply: RunReply | None, failure: str | None) -> None:
        super().__init__()
        self.op_id = op_id
        self.revision = revision
        self.worker = worker
        self.reply = reply
        self.failure = failure


class WorkerStatusChanged(Message):
    """Posted when a worker starts, becomes ready, restarts or turns out to be unavailable."""

    def __init__(self, event: WorkerEvent) -> None:
        super().__init__()
        self.event = event


class ComparisonsReady(Message):
    """Posted from a thread when the big outputs of a run have been compared with the reference."""

    def __init__(self, state: RunState) -> None:
        super().__init__()
        self.state = state
