"""Entry point of a worker process: ``python -m tui.core.worker_main NAME``.

The worker imports its framework once, reports that it is ready, then replies to run
requests on stdin/stdout until stdin closes. Anything the framework prints,
on stdout or stderr, goes to the stderr the parent gave it (a log file), so
no stray line can reach the user's terminal or corrupt a reply frame.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
import time
import traceback
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# TensorFlow reads these while importing; they must be set before any import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

HIDE_PACKAGES_VARIABLE = "XFRAME_TUI_HIDE_PACKAGES"
"""Comma-separated top-level package names this worker must fail to import."""

NICENESS_VARIABLE = "XFRAME_TUI_WORKER_NICENESS"
"""Overrides WORKER_NICENESS; 0 keeps the worker at the UI's priority."""
WORKER_NICENESS = 10
"""How far a worker lowers its CPU priority (see `nice`). The UI process then
gets a core as soon as it needs one, so keys are handled while frameworks
import. A worker still gets every cycle that the UI leaves idle."""


class HiddenPackageFinder(importlib.abc.MetaPathFinder):
    """Makes imports of some top-level packages fail as if they were not installed.

    Tests use it to check how the app handles a missing framework without
    uninstalling one.
    """

    def __init__(self, packages: set[str]) -> None:
        self.packages = packages

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.split(".")[0] in self.packages:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} ({HIDE_PACKAGES_VARIABLE} hides it)", name=fullname
            )
        return None


def hide_packages(names: str) -> None:
    """Install a HiddenPackageFinder ahead of every other finder for these packages."""
    packages = {name.strip() for name in names.split(",") if name.strip()}
    if packages:
        sys.meta_path.insert(0, HiddenPackageFinder(packages))


hide_packages(os.environ.get(HIDE_PACKAGES_VARIABLE, ""))


def _take_protocol_streams() -> tuple[object, object]:
    """Keep private copies of stdin/stdout for frames and point fd 1 at stderr."""
    protocol_out = os.fdopen(os.dup(1), "wb")
    protocol_in = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    return protocol_in, protocol_out


AUTOGROUP = "/proc/self/autogroup"


def lower_priority() -> None:
    """Raise this process's niceness by WORKER_NICENESS, or by the variable's value.

    A worker runs in a session of its own. Where Linux schedules each
    session as a group (autogroup), niceness only orders processes within a
    group, and the UI competes with the group's own niceness. So that is
    raised as well.
    """
    try:
        increment = int(os.environ.get(NICENESS_VARIABLE, WORKER_NICENESS))
        if increment <= 0:
            return
        niceness = os.nice(increment)
    except (ValueError, OSError):
        return  # an invalid value or a platform without nice(): keep the priority
    try:
        with open(AUTOGROUP, "w") as autogroup:
            autogroup.write(str(niceness))
    except OSError:
        pass  # no autogroup here: the process's niceness is all there is


def main(worker: str) -> int:
    lower_priority()
    protocol_in, protocol_out = _take_protocol_streams()

    from tui.core.protocol import read_frame, reply_to_wire, request_from_wire, write_frame

    started = time.perf_counter()
    try:
        from tui.core.execute import execute, make_adapters

        adapters = make_adapters(worker)
        for adapter in adapters.values():
            adapter.warm_up()
    except ImportError as exc:
        write_frame(protocol_out, {"type": "unavailable", "error": f"{type(exc).__name__}: {exc}"})
        return 0

    versions: dict[str, str] = {}
    for adapter in adapters.values():
        versions.update(adapter.versions())
    ready = {
        "type": "ready",
        "versions": versions,
        "warm_up": time.perf_counter() - started,
        "cpu": time.process_time(),  # the interpreter's start included
    }
    write_frame(protocol_out, ready)

    while True:
        try:
            message = read_frame(protocol_in)
        except EOFError:
            return 0
        try:
            request = request_from_wire(message)
            started = time.perf_counter()
            reply = execute(request, worker, adapters)
            reply.handled = time.perf_counter() - started
            write_frame(protocol_out, reply_to_wire(reply))
        except Exception as exc:  # a bug in our own code: report it and stay up
            failure = {"type": "failure", "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            write_frame(protocol_out, failure)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
