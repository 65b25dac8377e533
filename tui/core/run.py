"""Requests sent to workers and the results they send back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any


from tui.core.catalog.base import DTYPES, InputError, Op, ParamError

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np


@dataclass(frozen=True)
class RunRequest:
    """One run of an op on every formulation a worker has.

    `inputs` hold float inputs as float64 and integer inputs as int64; each
    worker casts float inputs to `dtype` in its own framework. `revision`
    identifies the state of the user's inputs, so a late reply for an older
    revision can be recognised and dropped.
    """

    op: str
    inputs: dict[str, np.ndarray | None]
    params: dict[str, Any]
    dtype: str = "float32"
    revision: int = 0
    grad: bool = False


@dataclass(frozen=True)
class RunError:
    """An exception raised by a framework, kept as its type name and message."""

    type: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message}


@dataclass
class FormulationResult:
    """The result of one formulation: its outputs, or the framework's exception."""

    formulation: str
    backend: str
    outputs: list[np.ndarray] | None = None
    dtypes: list[str] = field(default_factory=list)
    """Output dtypes as the framework names them, e.g. "torch.float32"."""
    elapsed: float = 0.0
    """Seconds spent in the framework call alone."""
    warnings: list[str] = field(default_factory=list)
    error: RunError | None = None
    variants: dict[str, FormulationResult] = field(default_factory=dict)
    """Results of the op's extra runs, such as per-sample losses."""
    gradients: dict[str, dict[str, np.ndarray | RunError]] = field(default_factory=dict)
    """With a `grad` request: by seed ("implicit", "sum", "mean"), then by float input name,
    d(output)/d(input) or the exception the framework raised. Empty otherwise."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.outputs is not None

    @property
    def output(self) -> np.ndarray | None:
        """The first output, which is the only one for most ops."""
        if not self.outputs:
            return None
        return self.outputs[0]


@dataclass
class RunReply:
    """A worker's reply to one RunRequest."""

    worker: str
    op: str
    revision: int
    results: list[FormulationResult]
    diagnostics: list[str] = field(default_factory=list)
    """Warnings about the inputs themselves, computed with the reference."""
    details: dict[str, Any] = field(default_factory=dict)
    """Op-specific tables, such as a loss breakdown."""
    round_trip: float = 0.0
    """Seconds from sending the request to reading the whole reply."""
    handled: float = 0.0
    """Seconds the worker spent on the decoded request: every framework call, gradient and table."""


def prepare_input(op: Op, name: str, array: np.ndarray | None) -> np.ndarray | None:
    """Check one parsed input against its spec and normalise its dtype.

    Float inputs become float64 and integer inputs int64; an integer input
    given as whole floats (``[0.0, 2.0]``) is accepted, a fractional one is not.
    Labels keep integers as int64 and anything else as float64.
    """
    spec = op.input_spec(name)
    if array is None:
        if spec.optional:
            return None
        raise InputError(name, "a value is required")

    if spec.kind == "float":
        if array.dtype == np.bool_:
            raise InputError(name, "expected numbers, got booleans")
        # No copy when the parser already gave float64: a 1000x1000 input stays one array.
        return array.astype(np.float64, copy=False)

    if spec.kind == "labels":
        # Class indices or float targets: the op's validate function settles which.
        if array.dtype == np.bool_:
            raise InputError(name, "expected class indices or float targets, got booleans")
        return array.astype(np.int64 if array.dtype.kind in "iu" else np.float64, copy=False)

    if spec.kind == "int":
        if array.dtype == np.bool_:
            raise InputError(name, "expected integers, got booleans")
        if array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise InputError(name, "expected integers, got fractional or non-finite values")
        return array.astype(np.int64, copy=False)

    if array.dtype != np.bool_:
        if np.all((array == 0) | (array == 1)):
            return array.astype(np.bool_)
        raise InputError(name, "expected booleans (True/False or 1/0)")
    return array


def build_request(
    op: Op,
    inputs: dict[str, np.ndarray | None],
    params: dict[str, Any],
    dtype: str = "float32",
    revision: int = 0,
    grad: bool = False,
) -> RunRequest:
    """Validate parsed inputs and params against the op and build a request.

    Raises InputError or ParamError naming the input or param at fault.
    """
    if dtype not in DTYPES:
        raise ParamError("dtype", f"{dtype!r} is not one of: {', '.join(DTYPES)}")

    prepared = {spec.name: prepare_input(op, spec.name, inputs.get(spec.name)) for spec in op.inputs}
    unknown = set(inputs) - {spec.name for spec in op.inputs}
    if unknown:
        raise InputError(sorted(unknown)[0], f"{op.id} has no such input")

    parsed_params = {}
    for spec in op.params:
        # Values that are already numbers are parsed too, so every caller gets the
        # range and choice checks; parse() accepts its own output unchanged.
        parsed_params[spec.name] = spec.parse(params.get(spec.name, spec.default))
    unknown = set(params) - {spec.name for spec in op.params}
    if unknown:
        raise ParamError(sorted(unknown)[0], f"{op.id} has no such param")

    if op.validate_fn is not None:
        settled = op.validate_fn(prepared, parsed_params)
        if settled is not None:
            prepared = settled
    return RunRequest(op.id, prepared, parsed_params, dtype, revision, grad)
