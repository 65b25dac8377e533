"""Run every benchmark a few times and write benchmarks/RESULTS.md: ``python -m benchmarks.run``.

One repetition launches the real app headless in fresh processes, each
launch next to the plain imports it is compared with: the ops table;
softmax with warm edits and the big tensor; cosine similarity for the
scikit-learn column; softmax with keys pressed during warm-up; softmax with
the workers started before the UI, as an experiment. Then it times the
headless CLI. Other people's processes share this machine, so each
repetition records the load average. ``--report-only`` rebuilds RESULTS.md
from the raw numbers of the last run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.clock import run_timed
from benchmarks.imports import (
    FRAMEWORK_IMPORTS,
    HEADLESS_FRAMEWORKS,
    BenchmarkError,
    headless_frameworks,
    time_headless_run,
    time_import,
    time_script_exit,
)
from benchmarks.machine import load, machine, versions
from benchmarks.report import write_report

HERE = Path(__file__).resolve().parent
CONVERT_MEMORY = HERE / "convert_memory.py"
CONVERT_MEMORY_TIMEOUT = 900.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def session(scenario: str, *arguments: str) -> dict[str, Any]:
    """Launch the app in a fresh process for one scenario and return what it measured."""
    with tempfile.TemporaryDirectory(prefix="xframe-bench-") as directory:
        output = Path(directory) / "session.json"
        command = [sys.executable, "-m", "benchmarks.sessions", scenario, str(output), *arguments]
        completed = run_timed(command)
        if completed.returncode != 0 or not output.exists():
            raise BenchmarkError(f"session {scenario} {arguments} failed: {completed.stderr[-3000:]}")
        measured = json.loads(output.read_text())
    measured["wall"] = completed.wall
    return measured


def repetition(index: int, edits: int) -> dict[str, Any]:
    """Run every measurement once and return the raw numbers."""
    measured: dict[str, Any] = {"load_before": load()}

    # Each baseline is timed just before the launch it is compared with,
    # because the load from other processes changes within a minute.
    log(f"repetition {index}: import textual.app, then the first frame")
    timed = {"textual": time_import(FRAMEWORK_IMPORTS["textual"])}
    measured["first_frame"] = session("first_frame")

    log(f"repetition {index}: framework imports, then softmax ({edits} warm edits, big tensor)")
    for name in ("numpy", "torch", "tensorflow", "sklearn"):
        timed[name] = time_import(FRAMEWORK_IMPORTS[name])
    measured["imports"] = {name: wall for name, (wall, _cpu) in timed.items()}
    measured["import_cpu"] = {name: cpu for name, (_wall, cpu) in timed.items()}
    measured["softmax"] = session("first_results", "--op", "softmax", "--edits", str(edits), "--big")
    log(f"repetition {index}: cosine similarity (scikit-learn column)")
    measured["cosine"] = session("first_results", "--op", "cosine_similarity")
    log(f"repetition {index}: keys during warm-up")
    measured["warmup_keys"] = session("warmup_keys", "--op", "softmax")
    log(f"repetition {index}: typing edits during warm-up")
    measured["warmup_typing"] = session("warmup_keys", "--op", "softmax", "--typing", "edits")
    log(f"repetition {index}: softmax with the workers started after the first frame (the old way)")
    measured["early_pool"] = session("first_results", "--op", "softmax", "--late-pool")
    log(f"repetition {index}: headless run")
    measured["script_imports"] = time_script_exit(HEADLESS_FRAMEWORKS)
    measured["headless"] = time_headless_run("softmax")
    measured["load_after"] = load()
    return measured


def convert_memory() -> str:
    """Run benchmarks/convert_memory.py, which another benchmark owns, and return its output."""
    if not CONVERT_MEMORY.exists():
        return "benchmarks/convert_memory.py does not exist."
    try:
        completed = run_timed([sys.executable, str(CONVERT_MEMORY)], timeout=CONVERT_MEMORY_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"benchmarks/convert_memory.py did not finish within {CONVERT_MEMORY_TIMEOUT:g} s."
    return (completed.stdout + completed.stderr).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of every measurement (default 5)")
    parser.add_argument("--edits", type=int, default=50, help="warm edits timed per repetition (default 50)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="report to write")
    parser.add_argument("--raw", type=Path, default=HERE / "results.json", help="raw numbers to write as JSON")
    parser.add_argument("--convert-memory", action="store_true", help="also run benchmarks/convert_memory.py")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from --raw without measuring")
    options = parser.parse_args(argv)

    if options.report_only:
        raw = json.loads(options.raw.read_text())
        write_report(options.output, raw["facts"], raw["repetitions"])
        log(f"wrote {options.output}")
        return 0

    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    log("checking which workers `xframe-tui run softmax` starts")
    facts: dict[str, Any] = {
        "started": started,
        "machine": machine(),
        "versions": versions(),
        "headless_frameworks": headless_frameworks("softmax"),
    }
    repetitions = [repetition(index, options.edits) for index in range(options.repeat)]
    if options.convert_memory:
        log("convert_memory")
        facts["convert_memory"] = convert_memory()

    options.raw.write_text(json.dumps({"facts": facts, "repetitions": repetitions}, indent=1))
    write_report(options.output, facts, repetitions)
    log(f"wrote {options.output} and {options.raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
