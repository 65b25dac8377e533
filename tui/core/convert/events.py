"""Progress events of a conversion and their JSON Lines form.

The converter reports each step, each variable row, progress counts, parity
rows and a final summary or error through a callback. ``python -m
tui.core.convert`` writes the same events as JSON Lines, which the Convert
screen reads back with `event_from_json`. This module imports neither torch
nor TensorFlow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# The conversion steps in order, with the labels the CLI and the UI show.
STEPS: dict[str, str] = {
    "build": "Build the PyTorch model",
    "list": "List the checkpoint variables",
    "map": "Map variables to parameters",
    "fill": "Fill the parameters",
    "parity": "Compare TensorFlow and PyTorch outputs",
    "save": "Save the state dict",
}

# Variable row statuses. A row is "listed" after step 2, then "mapped",
# "skipped" or "failed" after step 3, then "loaded" or "failed" after step 4.
LISTED = "listed"
MAPPED = "mapped"
LOADED = "loaded"
SKIPPED = "skipped"
FAILED = "failed"


@dataclass
class VariableRow:
    """One checkpoint variable and what the conversion did with it."""

    index: int
    tf_name: str
    tf_shape: list[int]
    dtype: str
    size: int
    torch_name: str = ""
    torch_shape: list[int] | None = None
    transposed: bool = False
    status: str = LISTED
    reason: str = ""


@dataclass
class ParityRow:
    """The comparison of one hidden state between TensorFlow and PyTorch.

    `error_ratio` is the largest |torch - tf| / (atol + rtol * |tf|) over all
    elements: within tolerance means at most 1.
    """

    layer: str
    max_abs_diff: float
    min_cosine: float
    atol: float
    rtol: float
    error_ratio: float
    within_tolerance: bool


@dataclass
class StepEvent:
    """A step started, finished or failed; `detail` is a one-line summary."""

    step: str
    status: str
    detail: str = ""
    kind: str = field(default="step", init=False)


@dataclass
class VariableEvent:
    """A variable row was listed or changed status."""

    row: VariableRow
    kind: str = field(default="variable", init=False)


@dataclass
class ProgressEvent:
    """`done` of `total` items of a step are processed."""

    step: str
    done: int
    total: int
    kind: str = field(default="progress", init=False)


@dataclass
class ParityEvent:
    """One layer of the parity comparison."""

    row: ParityRow
    kind: str = field(default="parity", init=False)


@dataclass
class SummaryEvent:
    """The outcome of a finished conversion."""

    checkpoint: str
    config: dict[str, Any]
    counts: dict[str, int]
    unfilled: list[str]
    first_divergent_layer: str | None
    parity_error: str | None = None
    out: str | None = None
    kind: str = field(default="summary", init=False)

    @property
    def ok(self) -> bool:
        """Whether every variable converted and every layer matched."""
        return (
            self.counts.get(FAILED, 0) == 0
            and not self.unfilled
            and self.first_divergent_layer is None
            and self.parity_error is None
        )


@dataclass
class ErrorEvent:
    """The conversion stopped; `message` is one line naming the cause."""

    message: str
    kind: str = field(default="error", init=False)


Event = StepEvent | VariableEvent | ProgressEvent | ParityEvent | SummaryEvent | ErrorEvent
EventCallback = Callable[[Event], None]


def event_to_json(event: Event) -> str:
    """Serialize an event as one JSON line (without the newline)."""
    return json.dumps(asdict(event), allow_nan=True)


def event_from_json(line: str) -> Event:
    """Parse a line written by `event_to_json`.

    Raises ValueError for a line that is not such an event.
    """
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError(f"not a conversion event: {line!r}")

    kind = data.pop("kind", None)
    try:
        if kind == "step":
            return StepEvent(**data)
        if kind == "variable":
            return VariableEvent(VariableRow(**data["row"]))
        if kind == "progress":
            return ProgressEvent(**data)
        if kind == "parity":
            return ParityEvent(ParityRow(**data["row"]))
        if kind == "summary":
            return SummaryEvent(**data)
        if kind == "error":
            return ErrorEvent(**data)
    except (TypeError, KeyError) as error:
        raise ValueError(f"malformed {kind} event: {error}") from error
    raise ValueError(f"unknown event kind {kind!r}")
