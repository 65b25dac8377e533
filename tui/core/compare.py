"""Comparison of each formulation's output with the float64 reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any


from tui.core.catalog.base import Formulation

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


TORCH_DEFAULTS: dict[str, Tolerance] = {
    "float16": Tolerance(1e-3, 1e-5),
    "bfloat16": Tolerance(1.6e-2, 1e-5),
    "float32": Tolerance(1.3e-6, 1e-5),
    "float64": Tolerance(1e-7, 1e-7),
}
"""torch.testing.assert_close's default tolerances by dtype (torch 2.x docs)."""

TOLERANCE_RULES = ("torch", "numpy", "exact")
"""torch: assert_close's defaults for the dtype; numpy: np.allclose's rtol=1e-5, atol=1e-8."""


def tolerance_for(dtype: str, rule: str = "torch") -> Tolerance:
    """Return the tolerance of a rule for an output dtype; integer and bool outputs are exact."""
    base = dtype.split(".")[-1]
    if rule == "exact" or base not in TORCH_DEFAULTS:
        return Tolerance(0.0, 0.0)
    if rule == "numpy":
        return Tolerance(1e-5, 1e-8)
    if rule == "torch":
        return TORCH_DEFAULTS[base]
    raise ValueError(f"unknown tolerance rule {rule!r} (choose from {', '.join(TOLERANCE_RULES)})")


NOT_APPLICABLE_ERRORS = ("NotApplicable", "NotSupported")
"""Error types that mean "this API has no such form or option", not a failure."""


class Verdict(str, Enum):
    MATCH = "match"
    CONVENTION = "differs by convention"
    MISMATCH = "mismatch"
    SHAPE = "shape mismatch"
    ERROR = "error"
    NOT_APPLICABLE = "not applicable"
    NO_REFERENCE = "no reference"

    @property
    def agrees(self) -> bool:
        return self in (Verdict.MATCH, Verdict.CONVENTION)


@dataclass
class Comparison:
    """The comparison of one output with the reference.

    `max_rel_diff` divides by ``max(|reference|, atol)`` (by ``max(|reference|, 1)``
    under an exact rule), so elements where the reference is zero stay finite.
    NaN positions are compared as positions: NaN where the reference has NaN
    agrees, NaN anywhere else counts as out of tolerance.
    """

    verdict: Verdict
    reason: str = ""
    shape: tuple[int, ...] = ()
    reference_shape: tuple[int, ...] = ()
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    mismatched: int = 0
    total: int = 0
    nan_positions: list[list[int]] = field(default_factory=list)
    """Where the output is NaN, the first POSITION_LIMIT positions only."""
    inf_positions: list[list[int]] = field(default_factory=list)
    nan_count: int = 0
    inf_count: int = 0
    cosine: float | None = None
    tolerance: Tolerance | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "shape": list(self.shape),
            "reference_shape": list(self.reference_shape),
            "max_abs_diff": self.max_abs_diff,
            "max_rel_diff": self.max_rel_diff,
            "mismatched": self.mismatched,
            "total": self.total,
            "nan_positions": self.nan_positions,
            "inf_positions": self.inf_positions,
            "nan_count": self.nan_count,
            "inf_count": self.inf_count,
            "cosine": self.cosine,
            "rtol": None if self.tolerance is None else self.tolerance.rtol,
            "atol": None if self.tolerance is None else self.tolerance.atol,
        }

    @property
    def summary(self) -> str:
        """One line for a result column: the verdict and its reason or numbers."""
        if self.verdict is Verdict.CONVENTION:
            return f"differs by convention: {self.reason}"
        if self.verdict in (Verdict.SHAPE, Verdict.ERROR, Verdict.NO_REFERENCE):
            return f"{self.verdict.value}: {self.reason}" if self.reason else self.verdict.value
        if self.verdict is Verdict.MISMATCH:
            return f"mismatch: {self.mismatched} of {self.total} outside tolerance"
        return "match"


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine similarity of the finite elements of two flattened arrays.

    Returns 1.0 when both are all zeros, and None when only one is or when no
    position is finite in both.
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size == 0:
        return None
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.all():
        if not finite.any():
            return None
        x, y = x[finite], y[finite]
    with np.errstate(over="ignore"):
        norm_x, norm_y = np.linalg.norm(x), np.linalg.norm(y)
    if not (np.isfinite(norm_x) and np.isfinite(norm_y)):
        # Squares of values near the float64 limit overflow; the cosine does not depend on scale.
        x = x / np.abs(x).max()
        y = y / np.abs(y).max()
        norm_x, norm_y = np.linalg.norm(x), np.linalg.norm(y)
    if norm_x == 0 and norm_y == 0:
        return 1.0
    if norm_x == 0 or norm_y == 0:
        return None
    return float(np.clip(np.dot(x, y) / (norm_x * norm_y), -1.0, 1.0))


POSITION_LIMIT = 100
"""NaN and infinity positions kept per output; the counts cover the rest."""


def _positions(mask: np.ndarray) -> tuple[list[list[int]], int]:
    """Return the first POSITION_LIMIT positions where `mask` is true, and how many there are."""
    count = int(np.count_nonzero(mask))
    if count == 0:
        return [], 0
    if mask.ndim == 0:
        return [[]], count
    flat = np.flatnonzero(mask)[:POSITION_LIMIT]
    return np.stack(np.unravel_index(flat, mask.shape), axis=-1).tolist(), count


def compare_arrays(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> Comparison:
    """Compare one array with the reference under a tolerance."""
    a = _as_float(actual)
    b = _as_float(expected)
    comparison = Comparison(Verdict.MATCH, shape=a.shape, reference_shape=b.shape, tolerance=tolerance)
    a_finite = np.isfinite(a)
    all_finite = bool(a_finite.all())
    if not all_finite:
        comparison.nan_positions, comparison.nan_count = _positions(np.isnan(a))
        comparison.inf_positions, comparison.inf_count = _positions(np.isinf(a))
    if a.shape != b.shape:
        comparison.verdict = Verdict.SHAPE
        comparison.reason = f"shape {a.shape} vs reference {b.shape}"
        return comparison

    comparison.total = int(a.size)
    if a.size == 0:
        return comparison

    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        if all_finite and np.isfinite(b).all():
            scale = np.abs(b)  # a difference of finite values can overflow to inf, never to NaN
        else:
            # NaN against NaN and an infinity against the same infinity agree.
            same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
            diff = np.where(same_special, 0.0, diff)
            diff = np.where(np.isnan(diff), np.inf, diff)
            scale = np.abs(np.nan_to_num(b, nan=0.0))
        # An exact rule has no atol to fall back on where the reference is 0, so 1 is used.
        floor = tolerance.atol if tolerance.atol > 0 else 1.0
        rel = diff / np.maximum(scale, floor)
        out_of_tolerance = diff > tolerance.atol + tolerance.rtol * scale

    comparison.max_abs_diff = float(diff.max())
    comparison.max_rel_diff = float(rel.max())
    comparison.mismatched = int(np.count_nonzero(out_of_tolerance))
    comparison.cosine = cosine_similarity(a, b)
    if comparison.mismatched:
        comparison.verdict = Verdict.MISMATCH
    return comparison


def _as_float(array: np.ndarray) -> np.ndarray:
    """Return `array` as float64, without a copy when it already is."""
    return np.asarray(array, dtype=np.float64)


def compare_outputs(
    formulation: Formulation,
    outputs: list[np.ndarray],
    output_dtype: str,
    reference: list[np.ndarray] | None,
    rule: str = "torch",
    inputs: dict[str, np.ndarray | None] | None = None,
) -> Comparison:
    """Compare a formulation's outputs with the reference's, applying its view and convention.

    `inputs` are the request's inputs, for conventions whose rule depends on them.

    The raw outputs are compared first. The declared convention is applied
    only when they disagree, so a formulation that matches the reference as
    it is reads "match".
    """
    if reference is None:
        return Comparison(Verdict.NO_REFERENCE, "the reference did not produce a value")
    tolerance = tolerance_for(output_dtype, rule)
    viewed = [formulation.view.apply(output) for output in outputs] if formulation.view else outputs

    plain = _compare_all(viewed, reference, tolerance)
    if plain.verdict is Verdict.MATCH or formulation.convention is None:
        return plain

    mapped = formulation.convention.apply(viewed, inputs)
    converted = _compare_all(mapped, reference, tolerance)
    if converted.verdict is Verdict.MATCH:
        converted.verdict = Verdict.CONVENTION
        converted.reason = formulation.convention.reason
        return converted
    return plain


def _compare_all(outputs: list[np.ndarray], reference: list[np.ndarray], tolerance: Tolerance) -> Comparison:
    if len(outputs) != len(reference):
        return Comparison(Verdict.SHAPE, f"{len(outputs)} outputs vs {len(reference)} in the reference")
    comparisons = [compare_arrays(output, expected, tolerance) for output, expected in zip(outputs, reference)]
    if len(comparisons) == 1:
        return comparisons[0]
    return _merge(comparisons)


def _merge(comparisons: list[Comparison]) -> Comparison:
    """Fold the comparisons of a multi-output result into one, keeping the worst verdict."""
    order = [Verdict.SHAPE, Verdict.MISMATCH, Verdict.MATCH]
    worst = min(comparisons, key=lambda item: order.index(item.verdict) if item.verdict in order else 0)
    merged = Comparison(worst.verdict, worst.reason, tolerance=worst.tolerance)
    merged.shape = tuple(comparisons[0].shape)
    merged.reference_shape = tuple(comparisons[0].reference_shape)
    diffs = [item.max_abs_diff for item in comparisons if item.max_abs_diff is not None]
    rels = [item.max_rel_diff for item in comparisons if item.max_rel_diff is not None]
    merged.max_abs_diff = max(diffs) if diffs else None
    merged.max_rel_diff = max(rels) if rels else None
    merged.mismatched = sum(item.mismatched for item in comparisons)
    merged.nan_count = sum(item.nan_count for item in comparisons)
    merged.inf_count = sum(item.inf_count for item in comparisons)
    merged.total = sum(item.total for item in comparisons)
    cosines = [item.cosine for item in comparisons if item.cosine is not None]
    merged.cosine = min(cosines) if cosines else None
    return merged
