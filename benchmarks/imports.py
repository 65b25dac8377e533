"""Fresh-interpreter baselines and the headless CLI, each timed from its launch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.clock import WORKER_ENVIRONMENT, run_timed

FRAMEWORK_IMPORTS = {
    "textual": "textual.app",
    "numpy": "numpy",
    "torch": "torch",
    # `import tensorflow` also imports keras 3, which the TensorFlow worker uses.
    "tensorflow": "tensorflow",
    # The scikit-learn formulations call sklearn.metrics; `import sklearn` alone skips scipy.
    "sklearn": "sklearn.metrics.pairwise",
}
"""The statement timed as each framework's import alone."""

HEADLESS_FRAMEWORKS = "numpy, torch, tensorflow"
"""Frameworks that `xframe-tui run softmax` needs: its op runs on the numpy, torch and tensorflow workers."""


class BenchmarkError(RuntimeError):
    """Raised when a measured process fails, with the end of its stderr."""


IMPORT_PROBE = """import resource, time
import {modules}
now = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(repr(now), repr(usage.ru_utime + usage.ru_stime))
"""
"""Prints when the import ended and the CPU seconds of all the process's threads until then."""


def time_import(modules: str) -> tuple[float, float]:
    """Return seconds from launching `python -c "import MODULES"` to the end of the import, and its CPU seconds."""
    completed = run_timed([sys.executable, "-c", IMPORT_PROBE.format(modules=modules)], WORKER_ENVIRONMENT)
    if completed.returncode != 0:
        raise BenchmarkError(f"import {modules} failed: {completed.stderr[-2000:]}")
    ended, cpu = (float(value) for value in completed.stdout.strip().splitlines()[-1].split())
    return ended - completed.launched, cpu


def time_script_exit(modules: str) -> float:
    """Return seconds from launch to exit of `python -c "import MODULES"`, as a shell user sees it."""
    completed = run_timed([sys.executable, "-c", f"import {modules}"], WORKER_ENVIRONMENT)
    if completed.returncode != 0:
        raise BenchmarkError(f"import {modules} failed: {completed.stderr[-2000:]}")
    return completed.wall


def time_headless_run(op: str = "softmax") -> dict[str, Any]:
    """Time `xframe-tui run OP --json` from launch to exit and collect the formulations that returned an error."""
    command = str(Path(sys.executable).with_name("xframe-tui"))
    completed = run_timed([command, "run", op, "--json"])
    if completed.returncode != 0:
        raise BenchmarkError(f"xframe-tui run {op} --json failed: {completed.stderr[-2000:]}")
    document = json.loads(completed.stdout)
    errors = {row["id"]: row["error"] for row in document["results"] if row["error"] is not None}
    return {"wall": completed.wall, "results": len(document["results"]), "errors": errors}


CLI_PROBE = """
import contextlib, io, json, sys
import tui.core.workers as workers
started = []
original = workers.WorkerPool.__init__
def record(self, names=workers.WORKERS, **options):
    started.extend(names)
    original(self, names, **options)
workers.WorkerPool.__init__ = record
from tui.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(["run", sys.argv[1], "--json"])
loaded = [name for name in ("torch", "tensorflow", "keras", "sklearn") if name in sys.modules]
print(json.dumps({"status": status, "workers": started, "loaded_in_cli": loaded}))
"""
"""Runs the CLI's main() and reports the workers it started and the frameworks its own process imported."""


def headless_frameworks(op: str = "softmax") -> dict[str, Any]:
    """Return which workers `run OP` started and which frameworks the CLI process itself imported."""
    completed = run_timed([sys.executable, "-c", CLI_PROBE, op])
    if completed.returncode != 0:
        raise BenchmarkError(f"the CLI probe failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
