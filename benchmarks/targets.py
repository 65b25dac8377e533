"""The targets: each one's measurement from a repetition's raw data, its bound and its verdict.

A repetition is one pass over every measurement; ratios are taken within a
repetition, so both sides share that moment's load. A target passes when
the median over repetitions meets its bound.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Repetition = dict[str, Any]


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values` (fraction 0.95 for p95)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def key_latencies(samples: list[dict[str, Any]]) -> list[float]:
    """Latencies of handled keys; a key never handled counts as infinite."""
    return [sample["latency"] if sample["latency"] is not None else math.inf for sample in samples]


@dataclass(frozen=True)
class Target:
    """One row of the results table."""

    name: str
    measurement: str
    bound: float
    unit: str
    """"x" for a ratio, "s", "ms" or "MB"."""
    value: Callable[[Repetition], float]

    def values(self, repetitions: list[Repetition]) -> list[float]:
        found = []
        for repetition in repetitions:
            try:
                found.append(self.value(repetition))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                found.append(math.nan)
        return found

    def verdict(self, repetitions: list[Repetition]) -> tuple[float, bool]:
        """Return the median over repetitions and whether it meets the bound."""
        values = [value for value in self.values(repetitions) if not math.isnan(value)]
        if not values:
            return math.nan, False
        median = statistics.median(values)
        return median, median <= self.bound


def column(repetition: Repetition, session: str, backend: str) -> float:
    return repetition[session]["timeline"]["column_values"][backend]


def all_ready_ratio(repetition: Repetition) -> float:
    ready = max(repetition["softmax"]["timeline"]["worker_ready"].values())
    slowest = max(repetition["imports"][name] for name in ("numpy", "torch", "tensorflow", "sklearn"))
    return ready / slowest


def big_tensor_crossings(repetition: Repetition) -> float:
    """Return the largest number of times the 1000x1000 input or one output crossed a boundary.

    Each request must carry the input once. Each reply carries one array of
    that shape per formulation output, so more arrays than formulations
    would mean that an output crossed twice.
    """
    big = repetition["softmax"]["big"]
    worst = 0.0
    for worker, directions in big["wire"].items():
        request = directions.get("request", {})
        worst = max(worst, request.get("frames", 0), request.get("arrays_of_shape", 0))
        reply = directions.get("reply", {})
        outputs = big["formulations_by_worker"].get(worker, 1)
        worst = max(worst, reply.get("frames", 0), reply.get("arrays_of_shape", 0) / outputs)
    return worst


def big_tensor_unanswered(repetition: Repetition) -> float:
    results = repetition["softmax"]["big"]["results"]
    return float(sum(1 for outcome in results.values() if outcome != "ok"))


TARGETS = [
    Target(
        "first frame",
        "launch to the first frame of the ops table, over launch to the end of `import textual.app`",
        2.0, "x",
        lambda r: r["first_frame"]["timeline"]["table_frame"] / r["imports"]["textual"],
    ),
    Target(
        "first result",
        "launch with --op softmax to the first frame with the float64 reference column's values",
        1.5, "s",
        lambda r: column(r, "softmax", "reference"),
    ),
    Target(
        "first result: PyTorch",
        "launch to the PyTorch column's first values, over launch to the end of `import torch`",
        1.3, "x",
        lambda r: column(r, "softmax", "torch") / r["imports"]["torch"],
    ),
    Target(
        "first result: TensorFlow",
        "launch to the TensorFlow/Keras column's first values, over `import tensorflow` (which imports keras)",
        1.3, "x",
        lambda r: column(r, "softmax", "tensorflow") / r["imports"]["tensorflow"],
    ),
    Target(
        "first result: scikit-learn",
        "launch with --op cosine_similarity to the scikit-learn column's first values, "
        "over `import sklearn.metrics.pairwise`",
        1.3, "x",
        lambda r: column(r, "cosine", "sklearn") / r["imports"]["sklearn"],
    ),
    Target(
        "all frameworks ready",
        "launch to the last of the 4 workers ready, over the slowest single framework import",
        1.2, "x",
        all_ready_ratio,
    ),
    Target(
        "answer to an edit (median)",
        "key press to the frame with every column's new result, default softmax inputs, warm",
        50.0, "ms",
        lambda r: 1000 * statistics.median(r["softmax"]["edits"]["latencies"]),
    ),
    Target(
        "answer to an edit (p95)",
        "as above, 95th percentile of the edits",
        150.0, "ms",
        lambda r: 1000 * percentile(r["softmax"]["edits"]["latencies"], 0.95),
    ),
    Target(
        "keyboard during warm-up",
        "max over cursor keys pressed every 50 ms, from the op screen's mount until every worker is ready, "
        "of key posted to its last handler finished",
        100.0, "ms",
        lambda r: 1000 * max(key_latencies(r["warmup_keys"]["keys"])),
    ),
    Target(
        "big tensor: columns without answer",
        "formulations without a result after softmax of randn(1000, 1000) in float32",
        0.0, "",
        big_tensor_unanswered,
    ),
    Target(
        "big tensor: key latency",
        "max over cursor keys pressed every 50 ms until every column shows the 1000x1000 result",
        100.0, "ms",
        lambda r: 1000 * max(key_latencies(r["softmax"]["big"]["keys"])),
    ),
    Target(
        "big tensor: boundary crossings",
        "most frames or 1000x1000 arrays per worker and direction (outputs per formulation)",
        1.0, "",
        big_tensor_crossings,
    ),
    Target(
        "UI memory",
        "peak RSS of the UI process over the softmax session (startup, edits, big tensor)",
        150.0, "MB",
        lambda r: r["softmax"]["peak_rss_mb"],
    ),
    Target(
        "headless run",
        "`xframe-tui run softmax --json` launch to exit, over `python -c \"import numpy, torch, tensorflow\"`",
        1.3, "x",
        lambda r: r["headless"]["wall"] / r["script_imports"],
    ),
]
