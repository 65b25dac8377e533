"""Count the frames and arrays that cross the process boundary, from the UI's side.

The UI process encodes every request and decodes every reply on the
channel thread of the worker concerned, so protocol.frame_observer gets both
directions and the thread name identifies the worker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tui.core import protocol


@dataclass(frozen=True)
class Frame:
    """One frame: "request" (UI to worker) or "reply" (worker to UI)."""

    direction: str
    worker: str
    size: int
    arrays: list[tuple[str, tuple[int, ...], int]]
    """dtype, shape and size in bytes of each array in the frame."""


def arrays_in(header: Any) -> Iterator[tuple[str, tuple[int, ...], int]]:
    """Yield the dtype, shape and byte size of each array entry of a frame header."""
    if isinstance(header, dict):
        if protocol.ARRAY_KEY in header:
            dtype, shape, _offset, size = header[protocol.ARRAY_KEY]
            yield dtype, tuple(shape), size
            return
        for value in header.values():
            yield from arrays_in(value)
    elif isinstance(header, list):
        for value in header:
            yield from arrays_in(value)


@dataclass
class FrameCounter:
    """Records every frame the UI process encodes or decodes while installed."""

    frames: list[Frame] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, action: str, size: int, header: Any) -> None:
        direction = "request" if action == "encode" else "reply"
        worker = threading.current_thread().name.removeprefix("worker-")
        frame = Frame(direction, worker, size, list(arrays_in(header)))
        with self._lock:
            self.frames.append(frame)

    def __enter__(self) -> FrameCounter:
        protocol.frame_observer = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        protocol.frame_observer = None

    def summary(self, shape: tuple[int, ...]) -> dict[str, dict[str, Any]]:
        """Per worker and direction: frames, bytes and arrays of `shape` that crossed."""
        result: dict[str, dict[str, Any]] = {}
        for frame in self.frames:
            entry = result.setdefault(frame.worker, {}).setdefault(
                frame.direction, {"frames": 0, "bytes": 0, "array_bytes": 0, "arrays_of_shape": 0}
            )
            entry["frames"] += 1
            entry["bytes"] += frame.size
            entry["array_bytes"] += sum(size for _dtype, _shape, size in frame.arrays)
            entry["arrays_of_shape"] += sum(1 for _dtype, item, _size in frame.arrays if item == shape)
        return result
