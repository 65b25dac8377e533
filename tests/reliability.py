"""Counts what the reliability tests survived, written as a Markdown table after the run.

The README's reliability section is copied from build/reliability.md, which
`make test` writes; each count only grows when a test passes with it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

COUNTS: Counter[str] = Counter()

ROWS = (
    ("fuzzed_inputs", "random and generated expressions fuzzed through the parser (hypothesis)"),
    ("bad_inputs", "bad inputs typed into the explorer, each rejected in place with the text kept"),
    ("hostile_inputs", "hostile expressions parsed without running anything"),
    ("worker_failures", "worker crashes, exits and hangs survived, the next run answered"),
    ("package_subsets", "combinations of missing torch / TensorFlow / scikit-learn started"),
    ("saves_interrupted", "saves killed mid-write that left a whole file"),
)


def record(kind: str, count: int = 1) -> None:
    """Add to a count; call only after the checks that earn it passed."""
    COUNTS[kind] += count


def write_report(path: Path) -> None:
    if not COUNTS:
        return
    lines = ["| what | count |", "|---|---|"]
    for kind, description in ROWS:
        lines.append(f"| {description} | {COUNTS[kind]} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
