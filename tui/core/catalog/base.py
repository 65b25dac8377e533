"""The op catalog's building blocks: ops, their inputs and params, formulations.

One op lives in one module with every framework's implementation next to the
others, because the side-by-side code is what users come to read. The code
shown for a formulation is the source of the function that ran, so there is
never a second copy to drift out of date.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np


InputKind = Literal["float", "int", "bool", "labels"]
"""Kinds of tensor input. "labels" hold int64 class indices or float targets: the op's
validate function settles which (cross-entropy by shape), and float ones are cast to
the compute dtype like "float" inputs."""
ParamKind = Literal["int", "float", "choice", "str", "bool"]


@dataclass(frozen=True)
class Backend:
    """A column of the explorer: one framework, run in one worker process."""

    id: str
    title: str
    worker: str
    package: str
    install: str


BACKENDS: dict[str, Backend] = {
    backend.id: backend
    for backend in (
        Backend("reference", "float64 reference", "numpy", "numpy", "pip install numpy"),
        Backend("torch", "PyTorch", "torch", "torch", "pip install 'torch<=2.13.0'"),
        Backend("tensorflow", "TensorFlow / Keras", "tensorflow", "tensorflow", "pip install tensorflow-cpu"),
        Backend("numpy", "NumPy", "numpy", "numpy", "pip install numpy"),
        Backend("sklearn", "scikit-learn", "sklearn", "sklearn", "pip install scikit-learn"),
    )
}
"""Every backend in column order."""

WORKERS: tuple[str, ...] = ("numpy", "torch", "tensorflow", "sklearn")
"""Worker process names; the reference and NumPy formulations share one."""

DTYPES: tuple[str, ...] = ("float32", "float64", "float16", "bfloat16")
"""Compute dtypes a user can choose for float inputs."""


class ParamError(ValueError):
    """Raised for a param value that the op does not accept."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class NotApplicable(Exception):
    """Raised by a formulation whose API has no form for the given inputs.

    The result reads "not applicable", not "error": torch.nonzero takes no
    x and y, and a sparse loss takes no probability targets.
    """


class InputError(ValueError):
    """Raised when an input does not fit the op (wrong rank, kind or shape)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class InputSpec:
    """One tensor input of an op."""

    name: str
    kind: InputKind
    default: str
    """The default value as text in the tensor language."""
    doc: str = ""
    optional: bool = False
    differentiable: bool = True
    """For a float input, whether the gradients view differentiates with respect to it. False
    for constants such as class weights: torch's losses raise when those require grad."""


@dataclass(frozen=True)
class ParamSpec:
    """One scalar param of an op, such as `dim` or `reduction`."""

    name: str
    kind: ParamKind
    default: Any
    doc: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False
    """Whether the param may be left empty, which passes None."""

    def parse(self, text: str | Any) -> Any:
        """Convert a typed value to the param's type, raising ParamError when invalid."""
        if not isinstance(text, str):
            text = str(text)
        text = text.strip()
        if text in self.choices:
            return text
        if text == "" or (text.lower() == "none" and self.kind != "choice"):
            if self.optional:
                return None
            raise ParamError(self.name, "a value is required")

        value = self._convert(text)
        self._check_range(value)
        return value

    def _convert(self, text: str) -> Any:
        if self.kind == "int":
            try:
                return int(text)
            except ValueError:
                raise ParamError(self.name, f"{text!r} is not an integer") from None
        if self.kind == "float":
            try:
                return float(text)
            except ValueError:
                raise ParamError(self.name, f"{text!r} is not a number") from None
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ParamError(self.name, f"{text!r} is not true or false")
        if self.kind == "choice" and text not in self.choices:
            allowed = ", ".join(self.choices)
            hint = ""
            if text.lower() in self.choices:
                hint = f" (values are case-sensitive: {text.lower()!r})"
            raise ParamError(self.name, f"{text!r} is not one of: {allowed}{hint}")
        return text

    def _check_range(self, value: Any) -> None:
        if self.kind not in ("int", "float"):
            return
        if self.kind == "float" and not np.isfinite(value):
            raise ParamError(self.name, f"{value} is not a finite number")
        if self.minimum is not None and value < self.minimum:
            raise ParamError(self.name, f"{value} is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ParamError(self.name, f"{value} is above the maximum {self.maximum:g}")


@dataclass(frozen=True)
class Convention:
    """A difference by design between a formulation and the reference.

    `to_reference` maps the formulation's output onto the reference's
    convention; when the mapped output matches, the verdict reads
    "differs by convention: <reason>" instead of "mismatch". With
    `uses_inputs`, it is called as ``to_reference(output, inputs)`` with the
    request's inputs, for rules that depend on them (a zero vector, say).
    """

    reason: str
    to_reference: Callable[..., Any]
    uses_inputs: bool = False
    whole: bool = False
    """With `whole`, `to_reference` maps the list of all outputs at once, as when
    per-axis index arrays are stacked into the reference's single array."""
    maps_gradients: bool = False
    """Whether `to_reference` is linear and elementwise (a negation, say), so that it
    maps the gradients of the sum and mean seeds the same way it maps outputs."""

    def apply(
        self, outputs: list[np.ndarray], inputs: dict[str, np.ndarray | None] | None
    ) -> list[np.ndarray]:
        """Map a formulation's outputs onto the reference's convention."""
        extra = (inputs or {},) if self.uses_inputs else ()
        if self.whole:
            return list(self.to_reference(outputs, *extra))
        return [self.to_reference(output, *extra) for output in outputs]


@dataclass(frozen=True)
class View:
    """The layout change applied to a formulation's output before comparing.

    A matrix-form API compared with a paired reference uses its diagonal,
    for example. This is a change of layout, not of meaning.
    """

    description: str
    apply: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Formulation:
    """One way a backend computes an op; `fn` is the code that runs and is shown."""

    op_id: str
    id: str
    backend: str
    api: str
    fn: Callable[..., Any]
    convention: Convention | None = None
    view: View | None = None
    dtypes: tuple[str, ...] = DTYPES
    """Compute dtypes this formulation accepts; others get "not supported"."""
    differentiable: bool = True
    """Whether the gradients view differentiates this formulation (torch and TensorFlow only)."""

    @cached_property
    def code(self) -> str:
        """The source of `fn` without its decorators: the code that ran."""
        return function_source(self.fn)

    @cached_property
    def arguments(self) -> tuple[str, ...]:
        """Names of the inputs and params the function takes."""
        return tuple(inspect.signature(self.fn).parameters)


def function_source(fn: Callable[..., Any]) -> str:
    """Return a function's source with decorator lines removed and dedented."""
    source = textwrap.dedent(inspect.getsource(fn))
    lines = source.splitlines()
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
        # A decorator's arguments may span several lines, up to the `def`.
        while lines and not lines[0].lstrip().startswith(("def ", "@")):
            lines.pop(0)
    return "\n".join(lines)


Arrays = dict[str, "np.ndarray | None"]
Diagnose = Callable[[Arrays, dict[str, Any]], list[str]]
Details = Callable[[Arrays, dict[str, Any]], dict[str, Any]]
Validate = Callable[[Arrays, dict[str, Any]], "Arrays | None"]


@dataclass
class Op:
    """An operation that several frameworks claim to compute the same way."""

    id: str
    title: str
    family: str
    inputs: tuple[InputSpec, ...]
    params: tuple[ParamSpec, ...] = ()
    note: str = ""
    """The reasons the frameworks differ here, in a few short paragraphs."""
    table: dict[str, str] = field(default_factory=dict)
    """Ops-table cells by column: "torch", "tensorflow", "others"."""
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Extra runs with param overrides, such as per-sample losses for a breakdown."""
    hidden: bool = False
    """Test-only ops are hidden from the ops table."""
    differentiable: bool = True
    """False for ops with no gradient to show, such as an argmax (accuracy) or integer
    inputs only (one-hot); they get no gradients view."""

    formulations: list[Formulation] = field(default_factory=list)
    reference_fn: Callable[..., Any] | None = None
    diagnose_fn: Diagnose | None = None
    details_fn: Details | None = None
    validate_fn: Validate | None = None

    def formulation(
        self,
        backend: str,
        api: str,
        *,
        convention: Convention | None = None,
        view: View | None = None,
        dtypes: Sequence[str] = DTYPES,
        differentiable: bool = True,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as this op's formulation on a backend."""
        if backend not in BACKENDS or backend == "reference":
            raise ValueError(f"unknown backend {backend!r}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            formulation_id = f"{backend}:{fn.__name__}"
            self.formulations.append(
                Formulation(
                    self.id, formulation_id, backend, api, fn, convention, view, tuple(dtypes), differentiable
                )
            )
            return fn

        return register

    def reference(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Register the float64 NumPy reference, written from the definition."""
        self.reference_fn = fn
        return fn

    def diagnose(self, fn: Diagnose) -> Diagnose:
        """Register a check that returns warnings about the inputs, such as inverted bounds."""
        self.diagnose_fn = fn
        return fn

    def details(self, fn: Details) -> Details:
        """Register a function computing the op's detail tables from float64 inputs."""
        self.details_fn = fn
        return fn

    def validate(self, fn: Validate) -> Validate:
        """Register a check of inputs against params that raises InputError or ParamError.

        The check may return the inputs with their dtypes settled, such as labels
        that turn out to be float targets. Returning None keeps them as they are.
        """
        self.validate_fn = fn
        return fn

    @cached_property
    def reference_formulation(self) -> Formulation:
        """The reference as a formulation, so it is run and shown like the others."""
        if self.reference_fn is None:
            raise ValueError(f"op {self.id!r} has no reference")
        return Formulation(self.id, "reference", "reference", "NumPy float64, from the definition", self.reference_fn)

    def all_formulations(self) -> list[Formulation]:
        """Return the reference first, then every framework's formulations in catalog order."""
        return [self.reference_formulation, *self.formulations]

    def backends(self) -> list[str]:
        """Backends this op has formulations on, in column order, reference first."""
        used = {formulation.backend for formulation in self.all_formulations()}
        return [backend for backend in BACKENDS if backend in used]

    def workers(self) -> list[str]:
        """Worker processes this op needs."""
        names = {BACKENDS[backend].worker for backend in self.backends()}
        return [name for name in WORKERS if name in names]

    def input_spec(self, name: str) -> InputSpec:
        """Return the spec of one input by name."""
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def param_spec(self, name: str) -> ParamSpec:
        """Return the spec of one param by name."""
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def default_params(self) -> dict[str, Any]:
        """Return every param at its default value."""
        return {spec.name: spec.default for spec in self.params}
