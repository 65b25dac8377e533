"""Write RESULTS.md: the targets table, then the raw numbers of every repetition.

The analysis in benchmarks/notes.md (causes, fixes, before/after numbers,
proposed changes) is appended as written, so a new run keeps it.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from benchmarks.targets import TARGETS, Repetition, key_latencies, percentile

NOTES = Path(__file__).resolve().parent / "notes.md"


def number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "never"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.2f} s"
    if unit in ("ms", "MB"):
        return f"{value:.0f} {unit}"
    return f"{value:g}"


def targets_table(repetitions: list[Repetition]) -> list[str]:
    lines = [
        "| target | measurement | bound | median | min | max | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for target in TARGETS:
        values = [value for value in target.values(repetitions) if not math.isnan(value)]
        median, passed = target.verdict(repetitions)
        low = min(values) if values else math.nan
        high = max(values) if values else math.nan
        bound = f"<= {number(target.bound, target.unit)}"
        cells = [target.name, target.measurement, bound, number(median, target.unit), number(low, target.unit)]
        cells += [number(high, target.unit), "pass" if passed else "**fail**"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def startup_rows(repetitions: list[Repetition]) -> list[str]:
    """Per repetition: plain imports, then the app's timeline, all in seconds since launch."""
    lines = [
        "| rep | load 1 min | import textual.app | numpy | torch | tensorflow | sklearn | "
        "ops table frame | workers started | reference | torch column | tensorflow column | "
        "sklearn column (cosine) | ready: numpy / torch / tensorflow / sklearn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for index, repetition in enumerate(repetitions):
        imports = repetition["imports"]
        softmax = repetition["softmax"]["timeline"]
        started = min(softmax["worker_started"].values(), default=None)
        ready = " / ".join(seconds(softmax["worker_ready"].get(name)) for name in ("numpy", "torch", "tensorflow", "sklearn"))
        columns = softmax["column_values"]
        cells = [str(index), f"{repetition['load_before'][0]:.2f}"]
        cells += [seconds(imports[name]) for name in ("textual", "numpy", "torch", "tensorflow", "sklearn")]
        cells += [seconds(repetition["first_frame"]["timeline"]["table_frame"]), seconds(started)]
        cells += [seconds(columns.get(name)) for name in ("reference", "torch", "tensorflow")]
        cells += [seconds(repetition["cosine"]["timeline"]["column_values"].get("sklearn")), ready]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def budget_rows(repetitions: list[Repetition], cores: int) -> list[str]:
    """Format the CPU budget of the torch and scikit-learn column targets, next to "all ready".

    For a framework F and its target time T = 1.3 x F's import alone: before
    T the cores must run the UI up to the op screen's first frame, F's
    worker until it is ready, and as much of TensorFlow's worker as keeps
    every worker ready by 1.2 x the slowest import. After T, TensorFlow can
    spend at most its own CPU rate (CPU seconds over wall seconds when
    imported alone) times the time left. Two cores supply 2T CPU seconds;
    when the need is larger, the column target and "all ready" cannot both
    be met. Workers report their CPU seconds, interpreter start included.
    """
    lines = [
        "| rep | column (launch) | target time T (s) | UI CPU to the op screen (s) | worker CPU (s) | "
        "TensorFlow CPU needed before T (s) | CPU needed (s) | cores x T (s) | both targets possible |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    frameworks = ("numpy", "torch", "tensorflow", "sklearn")
    for index, repetition in enumerate(repetitions):
        if "import_cpu" not in repetition:
            continue
        imports, cpu = repetition["imports"], repetition["import_cpu"]
        all_ready = 1.2 * max(imports[name] for name in frameworks)
        tensorflow_rate = cpu["tensorflow"] / imports["tensorflow"]
        for framework, launch in (("torch", "softmax"), ("sklearn", "cosine")):
            timeline = repetition[launch]["timeline"]
            ui_cpu, worker_cpu = timeline.get("op_frame_cpu"), timeline.get("worker_cpu", {})
            if ui_cpu is None or framework not in worker_cpu or "tensorflow" not in worker_cpu:
                continue
            target = 1.3 * imports[framework]
            tensorflow = max(0.0, worker_cpu["tensorflow"] - tensorflow_rate * (all_ready - target))
            needed = ui_cpu + worker_cpu[framework] + tensorflow
            supply = cores * target
            cells = [str(index), f"{framework} ({launch})", f"{target:.2f}", f"{ui_cpu:.2f}", f"{worker_cpu[framework]:.2f}"]
            cells += [f"{tensorflow:.2f}", f"{needed:.2f}", f"{supply:.2f}", "yes" if needed <= supply else "**no**"]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def early_pool_rows(repetitions: list[Repetition]) -> list[str]:
    """Format the comparison run: workers started by the app after its first frame, the old way."""
    lines = [
        "| rep | first frame (s) | reference (s) | torch column / import torch | "
        "tensorflow column / import tensorflow | all ready / slowest import |",
        "|---|---|---|---|---|---|",
    ]
    for index, repetition in enumerate(repetitions):
        if "early_pool" not in repetition:
            continue
        imports = repetition["imports"]
        timeline = repetition["early_pool"]["timeline"]
        columns = timeline["column_values"]
        slowest = max(imports[name] for name in ("numpy", "torch", "tensorflow", "sklearn"))
        cells = [str(index), seconds(timeline["first_frame"]), seconds(columns.get("reference"))]
        cells.append(f"{columns['torch'] / imports['torch']:.2f}x" if "torch" in columns else "n/a")
        cells.append(f"{columns['tensorflow'] / imports['tensorflow']:.2f}x" if "tensorflow" in columns else "n/a")
        cells.append(f"{max(timeline['worker_ready'].values()) / slowest:.2f}x")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def warm_up_rows(repetitions: list[Repetition]) -> list[str]:
    """Per repetition: each worker's own import-and-warm-up time, as it reported it."""
    lines = ["| rep | numpy | torch | tensorflow | sklearn | UI modules imported | UI peak RSS (MB) |", "|---|---|---|---|---|---|---|"]
    for index, repetition in enumerate(repetitions):
        softmax = repetition["softmax"]
        warm = softmax["timeline"]["worker_warm_up"]
        cells = [str(index)] + [seconds(warm.get(name)) for name in ("numpy", "torch", "tensorflow", "sklearn")]
        cells += [seconds(softmax["app_imported"]), f"{softmax['peak_rss_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def milliseconds(values: list[float]) -> str:
    if not values:
        return "n/a"
    finite = [value for value in values if math.isfinite(value)]
    text = f"{1000 * statistics.median(values):.0f} / {1000 * percentile(values, 0.95):.0f} / {1000 * max(values):.0f}"
    if len(finite) < len(values):
        text += f" ({len(values) - len(finite)} never handled)"
    return text


def latency_rows(repetitions: list[Repetition]) -> list[str]:
    """Per repetition: edits, keys during warm-up and the big tensor (median / p95 / max in ms)."""
    lines = [
        "| rep | warm edits answered | edit keys handled (warm) | worker round trips (median ms) | "
        "cursor keys during warm-up (n) | typing during warm-up: edits (n) | typing: cursor keys (n) | "
        "big tensor answered (s) | keys during big tensor (n) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for index, repetition in enumerate(repetitions):
        edits = repetition["softmax"]["edits"]
        trips = {}
        for worker in ("numpy", "torch", "tensorflow"):
            values = [item[worker] for item in edits["round_trips"] if worker in item]
            trips[worker] = f"{1000 * statistics.median(values):.1f}" if values else "n/a"
        warm_keys = key_latencies(repetition["warmup_keys"]["keys"])
        typing = repetition["warmup_typing"]["keys"]
        typed_edits = key_latencies([sample for sample in typing if sample["edit"]])
        typed_moves = key_latencies([sample for sample in typing if not sample["edit"]])
        big = repetition["softmax"]["big"]
        big_keys = key_latencies(big["keys"])
        cells = [
            str(index),
            milliseconds(edits["latencies"]),
            milliseconds([value for value in edits["key_latencies"] if value is not None]),
            ", ".join(f"{name} {value}" for name, value in trips.items()),
            f"{milliseconds(warm_keys)} ({len(warm_keys)})",
            f"{milliseconds(typed_edits)} ({len(typed_edits)})",
            f"{milliseconds(typed_moves)} ({len(typed_moves)})",
            f"{big['answered']:.2f}",
            f"{milliseconds(big_keys)} ({len(big_keys)})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def wire_rows(repetitions: list[Repetition]) -> list[str]:
    """Frames and bytes of the big-tensor run, from the last repetition."""
    big = repetitions[-1]["softmax"]["big"]
    lines = [
        "| worker | direction | frames | bytes | array bytes | 1000x1000 arrays | formulations |",
        "|---|---|---|---|---|---|---|",
    ]
    for worker, directions in sorted(big["wire"].items()):
        for direction, entry in sorted(directions.items(), reverse=True):
            cells = [worker, direction, str(entry["frames"]), f"{entry['bytes']:,}", f"{entry['array_bytes']:,}"]
            cells += [str(entry["arrays_of_shape"]), str(big["formulations_by_worker"].get(worker, ""))]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def headless_rows(facts: dict[str, Any], repetitions: list[Repetition]) -> list[str]:
    frameworks = facts["headless_frameworks"]
    lines = [
        f"`xframe-tui run softmax` started the workers {', '.join(frameworks['workers'])}; "
        f"frameworks imported by the CLI process itself: {', '.join(frameworks['loaded_in_cli']) or 'none'}.",
        "",
        "| rep | `run softmax --json` (s) | `import numpy, torch, tensorflow` (s) | formulations | errors |",
        "|---|---|---|---|---|",
    ]
    for index, repetition in enumerate(repetitions):
        headless = repetition["headless"]
        cells = [str(index), f"{headless['wall']:.2f}", f"{repetition['script_imports']:.2f}"]
        cells += [str(headless["results"]), str(len(headless["errors"]))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(path: Path, facts: dict[str, Any], repetitions: list[Repetition]) -> None:
    """Write the whole report to `path`."""
    machine = facts["machine"]
    loads = [f"{item['load_before'][0]:.2f} to {item['load_after'][0]:.2f}" for item in repetitions]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks.run`); the notes at the end are kept from "
        "benchmarks/notes.md. Every time is measured from the launch of a fresh process, and each ratio "
        "divides two measurements of the same repetition. A target passes when the median over "
        f"repetitions meets its bound. Run started {facts['started']}.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, Linux {machine['kernel']}.  ",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in facts["versions"].items()) + ".  ",
        f"Load average (1 min) during each repetition: {'; '.join(loads)}.",
        "",
        "## Targets",
        "",
        *targets_table(repetitions),
        "",
        "## Raw numbers",
        "",
        "### Startup (seconds since launch)",
        "",
        *startup_rows(repetitions),
        "",
        "Import and warm-up time each worker reported for itself (seconds), and the UI process:",
        "",
        *warm_up_rows(repetitions),
        "",
        f"CPU budget on {machine['cores']} cores of the framework-column targets (1.3x) together with "
        "\"all frameworks ready\" (1.2x). Before the target time T the cores must run the UI up to the op "
        "screen's first frame, the framework's worker, and the part of TensorFlow's worker that cannot "
        "wait until after T if every worker is to be ready in time. Workers report the CPU seconds they "
        "used until ready (interpreter start, import and warm-up).",
        "",
        *budget_rows(repetitions, int(machine["cores"])),
        "",
        "For comparison, not the shipped app: the same softmax launch with the worker pool started "
        "by the app after its first frame (`--late-pool`), as the app did before `xframe-tui` "
        "started the pool ahead of the UI's imports.",
        "",
        *early_pool_rows(repetitions),
        "",
        "### Latency (median / p95 / max, ms)",
        "",
        *latency_rows(repetitions),
        "",
        "### Big tensor on the wire (last repetition)",
        "",
        *wire_rows(repetitions),
        "",
        "### Headless run",
        "",
        *headless_rows(facts, repetitions),
        "",
    ]
    if "convert_memory" in facts:
        lines += ["### convert_memory", "", "```", facts["convert_memory"], "```", ""]
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))
