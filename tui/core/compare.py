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
    """NaN positions of the output, the first POSITION_LIMIT only."""
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


CHUNK = 1 << 16
"""Elements compared at a time, so comparing an output of any size needs a few
MB of scratch space. Whole-array arithmetic would make several float64 copies
of it (about 50 MB for a 1000x1000 output)."""

POSITION_LIMIT = 100
"""NaN and infinity positions kept per output; the counts cover the rest."""


def _chunks(size: int) -> range:
    return range(0, size, CHUNK)


def _float_chunk(flat: np.ndarray, start: int) -> np.ndarray:
    return np.asarray(flat[start : start + CHUNK], dtype=np.float64)


def _finite_max_abs(flat: np.ndarray) -> float:
    """Return the largest finite |value|, 0.0 when there is none."""
    largest = 0.0
    for start in _chunks(flat.size):
        chunk = _float_chunk(flat, start)
        finite = chunk[np.isfinite(chunk)]
        if finite.size:
            largest = max(largest, float(np.max(np.abs(finite))))
    return largest


class _Cosine:
    """Cosine similarity of the positions finite in both arrays, summed chunk by chunk.

    Values are divided by each array's largest finite |value| first, so the
    sums of squares cannot overflow. The cosine does not depend on scale.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.scale_x = _finite_max_abs(x) or 1.0
        self.scale_y = _finite_max_abs(y) or 1.0
        self.dot = self.norm_x = self.norm_y = 0.0
        self.finite = False

    def add(self, x: np.ndarray, y: np.ndarray, both_finite: np.ndarray | None) -> None:
        """Add a chunk of both arrays. `both_finite` is None when every position is finite."""
        if both_finite is not None:
            x, y = x[both_finite], y[both_finite]
        if x.size == 0:
            return
        self.finite = True
        x = x / self.scale_x
        y = y / self.scale_y
        self.dot += float(np.dot(x, y))
        self.norm_x += float(np.dot(x, x))
        self.norm_y += float(np.dot(y, y))

    def result(self) -> float | None:
        if not self.finite:
            return None
        if self.norm_x == 0 and self.norm_y == 0:
            return 1.0
        if self.norm_x == 0 or self.norm_y == 0:
            return None
        return float(np.clip(self.dot / np.sqrt(self.norm_x * self.norm_y), -1.0, 1.0))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine similarity of the finite elements of two flattened arrays.

    Returns 1.0 when both are all zeros, and None when only one is or when no
    position is finite in both.
    """
    x = np.asarray(a).reshape(-1)
    y = np.asarray(b).reshape(-1)
    if x.shape != y.shape or x.size == 0:
        return None
    cosine = _Cosine(x, y)
    for start in _chunks(x.size):
        chunk_x, chunk_y = _float_chunk(x, start), _float_chunk(y, start)
        cosine.add(chunk_x, chunk_y, np.isfinite(chunk_x) & np.isfinite(chunk_y))
    return cosine.result()


class _Specials:
    """NaN and infinity positions of one array, gathered chunk by chunk as flat indices."""

    def __init__(self) -> None:
        self.nan: list[np.ndarray] = []
        self.inf: list[np.ndarray] = []
        self.nan_count = self.inf_count = 0

    def add(self, chunk: np.ndarray, start: int) -> None:
        nan = np.flatnonzero(np.isnan(chunk))
        inf = np.flatnonzero(np.isinf(chunk))
        self.nan_count += nan.size
        self.inf_count += inf.size
        if sum(map(len, self.nan)) < POSITION_LIMIT:
            self.nan.append(nan[:POSITION_LIMIT] + start)
        if sum(map(len, self.inf)) < POSITION_LIMIT:
            self.inf.append(inf[:POSITION_LIMIT] + start)

    def store(self, comparison: Comparison, shape: tuple[int, ...]) -> None:
        comparison.nan_positions = _positions(self.nan, shape)
        comparison.inf_positions = _positions(self.inf, shape)
        comparison.nan_count = self.nan_count
        comparison.inf_count = self.inf_count


def _positions(flat_parts: list[np.ndarray], shape: tuple[int, ...]) -> list[list[int]]:
    """Turn the first POSITION_LIMIT flat indices into index lists for `shape`."""
    flat = np.concatenate(flat_parts)[:POSITION_LIMIT] if flat_parts else np.zeros(0, dtype=np.intp)
    if flat.size == 0:
        return []
    if len(shape) == 0:
        return [[]]
    return np.stack(np.unravel_index(flat, shape), axis=-1).tolist()


def compare_arrays(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> Comparison:
    """Compare one array with the reference under a tolerance, CHUNK elements at a time."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    comparison = Comparison(Verdict.MATCH, shape=actual.shape, reference_shape=expected.shape, tolerance=tolerance)
    a = actual.reshape(-1)
    b = expected.reshape(-1)
    specials = _Specials()

    if actual.shape != expected.shape:
        for start in _chunks(a.size):
            specials.add(_float_chunk(a, start), start)
        specials.store(comparison, actual.shape)
        comparison.verdict = Verdict.SHAPE
        comparison.reason = f"shape {actual.shape} vs reference {expected.shape}"
        return comparison

    comparison.total = int(a.size)
    if a.size == 0:
        return comparison

    # An exact rule has no atol to fall back on where the reference is 0, so 1 is used.
    floor = tolerance.atol if tolerance.atol > 0 else 1.0
    max_abs = max_rel = 0.0
    mismatched = 0
    cosine = _Cosine(a, b)
    for start in _chunks(a.size):
        x, y = _float_chunk(a, start), _float_chunk(b, start)
        finite_x, finite_y = np.isfinite(x), np.isfinite(y)
        all_finite = bool(finite_x.all() and finite_y.all())
        if not finite_x.all():
            specials.add(x, start)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(x - y)  # a difference of finite values can overflow to inf, never to NaN
            if all_finite:
                scale = np.abs(y)
            else:
                # NaN against NaN and an infinity against the same infinity agree.
                same_special = (np.isnan(x) & np.isnan(y)) | (np.isinf(x) & (x == y))
                diff[same_special] = 0.0
                diff[np.isnan(diff)] = np.inf
                scale = np.abs(np.nan_to_num(y, nan=0.0))
            max_abs = max(max_abs, float(diff.max()))
            max_rel = max(max_rel, float((diff / np.maximum(scale, floor)).max()))
            mismatched += int(np.count_nonzero(diff > tolerance.atol + tolerance.rtol * scale))
        cosine.add(x, y, None if all_finite else finite_x & finite_y)

    specials.store(comparison, actual.shape)
    comparison.max_abs_diff = max_abs
    comparison.max_rel_diff = max_rel
    comparison.mismatched = mismatched
    comparison.cosine = cosine.result()
    if mismatched:
        comparison.verdict = Verdict.MISMATCH
    return comparison


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
