"""Launch timestamps shared between the benchmark driver and the processes it starts.

On Linux, time.perf_counter() reads CLOCK_MONOTONIC, which is the same clock
in every process, so a child can subtract the parent's timestamp taken just
before the launch and get the time since launch.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCH_VARIABLE = "XFRAME_BENCH_LAUNCHED"
"""Environment variable holding the parent's perf_counter() just before the launch."""

PROJECT_ROOT = Path(__file__).resolve().parents[1]

WORKER_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_BACKEND": "tensorflow",
}
"""The variables tui/core/worker_main.py sets before importing a framework,
so baseline imports run under the same settings as the workers."""


def launched_at() -> float:
    """Return the launch timestamp the parent passed, or this process's start time if none."""
    value = os.environ.get(LAUNCH_VARIABLE)
    if value is not None:
        return float(value)
    return time.perf_counter() - process_age()


def process_age() -> float:
    """Return seconds since this process started, from /proc (10 ms resolution)."""
    stat = Path("/proc/self/stat").read_text()
    # Field 22 is the start time in clock ticks since boot. The command name
    # in field 2 may contain spaces, so fields are counted after its closing bracket.
    fields = stat[stat.rindex(")") + 2 :].split()
    started_ticks = int(fields[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started_ticks / os.sysconf("SC_CLK_TCK")


def since_launch(timestamp: float | None = None) -> float:
    """Return seconds from the launch to `timestamp` (default: now)."""
    if timestamp is None:
        timestamp = time.perf_counter()
    return timestamp - launched_at()


@dataclass(frozen=True)
class Completed:
    """A finished timed process."""

    launched: float
    """perf_counter() just before the launch."""
    wall: float
    """Seconds from launch to exit."""
    stdout: str
    stderr: str
    returncode: int


def run_timed(argv: list[str], extra_env: dict[str, str] | None = None, timeout: float = 900.0) -> Completed:
    """Run a command in PROJECT_ROOT with the launch timestamp in its environment."""
    env = {**os.environ, **(extra_env or {})}
    launched = time.perf_counter()
    env[LAUNCH_VARIABLE] = repr(launched)
    completed = subprocess.run(
        argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    wall = time.perf_counter() - launched
    return Completed(launched, wall, completed.stdout, completed.stderr, completed.returncode)
