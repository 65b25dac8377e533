"""Scenarios run inside one fresh process of the real app: ``python -m benchmarks.sessions NAME OUT.json``.

Each scenario drives ProbedApp headless with app.run_test() and writes what
it measured as JSON. Times are seconds since the parent launched this
process (benchmarks.clock).
"""

from __future__ import annotations

import sys

from benchmarks.clock import since_launch

INTERPRETER_READY = since_launch()

EARLY_POOL = None
EARLY_TIMELINE = None
if "--late-pool" not in sys.argv:
    # As `xframe-tui` does: start the workers before the UI's own imports.
    # --late-pool lets the app start them after its first frame, as it did before.
    from benchmarks.timeline import Timeline
    from tui.core.workers import WorkerPool

    EARLY_TIMELINE = Timeline()
    EARLY_POOL = WorkerPool(listener=EARLY_TIMELINE.record_worker_event, hold_core_for_ui=True).start()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from benchmarks.probe import KeyProbe, KeySample, ProbedApp, Typist  # noqa: E402

if TYPE_CHECKING:
    # The op screen and what it needs are imported where used, as the app does.
    from textual.widgets import Input

    from tui.app.screens.op import OpScreen

APP_IMPORTED = since_launch()

SIZE = (120, 36)
STARTUP_TIMEOUT = 300.0
KEY_PERIOD = 0.05
"""Seconds between key presses sampled while something else is running."""
EDIT_CURSOR = 5
"""Cursor position in the default softmax input just after "1.0" of "[[1.0, ..."."""
BIG_INPUT = "randn(1000, 1000, seed=0)"
BIG_SHAPE = (1000, 1000)


async def wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll `condition()` every 10 ms; raise TimeoutError naming `what`."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.01)


def all_workers_ready(app: ProbedApp) -> bool:
    return set(app.timeline.worker_ready) >= set(app.pool.channels)


def all_columns_shown(app: ProbedApp, screen: OpScreen) -> bool:
    return set(app.timeline.column_values) >= set(screen.op.backends())


async def op_screen(app: ProbedApp) -> tuple[OpScreen, Input]:
    """Wait for the op screen and focus its first input, cursor at EDIT_CURSOR."""
    from textual.widgets import Input

    from tui.app.screens.op import OpScreen
    from tui.app.widgets.input_editor import InputEditor

    await wait_for(lambda: isinstance(app.screen, OpScreen) and app.screen.is_mounted, 30.0, "the op screen")
    screen = app.screen
    assert isinstance(screen, OpScreen)
    input_widget = screen.query(InputEditor).first().query_one(Input)
    input_widget.focus()
    input_widget.cursor_position = EDIT_CURSOR
    await asyncio.sleep(0)
    return screen, input_widget


TYPING = [("5", "5", True), ("left", None, False), ("right", None, False), ("backspace", None, True)]
"""Keys typed during warm-up: two edits and two cursor moves that leave the text as it was."""
CURSOR_KEYS = [("left", None, False), ("right", None, False)]


def sample_json(sample: KeySample) -> dict[str, Any]:
    return {
        "key": sample.key,
        "edit": sample.edit,
        "posted": since_launch(sample.posted),
        "latency": sample.latency,
    }


async def type_until(probe: KeyProbe, keys: list[tuple[str, str | None, bool]], done: Any, limit: float) -> list[dict[str, Any]]:
    """Press `keys` in a cycle every KEY_PERIOD seconds from a thread until `done()`, then collect the samples."""
    typist = Typist(probe, keys, KEY_PERIOD)
    typist.start()
    try:
        await wait_for(done, limit, "the end of the typing")
    finally:
        typist.stop()
    await probe.wait_done(30.0)
    return [sample_json(sample) for sample in probe.samples]


async def first_frame(app: ProbedApp, options: argparse.Namespace) -> dict[str, Any]:
    await wait_for(lambda: app.timeline.table_frame is not None, 60.0, "the ops table frame")
    return {}


async def first_results(app: ProbedApp, options: argparse.Namespace) -> dict[str, Any]:
    """Launch to each column's first values and to every worker ready; then warm edits and the big tensor."""
    screen, input_widget = await op_screen(app)
    await wait_for(lambda: all_columns_shown(app, screen) and all_workers_ready(app), STARTUP_TIMEOUT, "every result")
    measured: dict[str, Any] = {}
    with profiled(options.profile):
        if options.edits:
            measured["edits"] = await warm_edits(app, screen, input_widget, options.edits)
        if options.big:
            measured["big"] = await big_tensor(app, screen, input_widget)
    return measured


@contextmanager
def profiled(output: Path | None) -> Iterator[None]:
    """Profile the block with pyinstrument, a profiling-only tool the project does not depend on."""
    if output is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        output.write_text(profiler.output_text(unicode=True, show_all=False))


async def warmup_keys(app: ProbedApp, options: argparse.Namespace) -> dict[str, Any]:
    """Press a key every KEY_PERIOD seconds while the workers import their frameworks.

    With --typing cursor the keys move the cursor, which measures how long
    the event loop keeps a key waiting. With --typing edits, every other key
    changes the input, so it also parses the text and sends a request.
    """
    screen, input_widget = await op_screen(app)
    probe = KeyProbe(app, screen, input_widget)
    keys = TYPING if options.typing == "edits" else CURSOR_KEYS
    with profiled(options.profile):
        samples = await type_until(probe, keys, lambda: all_workers_ready(app), STARTUP_TIMEOUT)
    return {"keys": samples}


async def warm_edits(app: ProbedApp, screen: OpScreen, input_widget: Input, count: int) -> dict[str, Any]:
    """Time `count` edits from the key press to the frame showing every column's new result."""
    probe = KeyProbe(app, screen, input_widget)
    input_widget.cursor_position = EDIT_CURSOR
    latencies, round_trips = [], []
    for index in range(count):
        key, character = ("5", "5") if index % 2 == 0 else ("backspace", None)
        app.watch_revision(screen.revision + 1)
        sample = await probe.press(key, character, edit=True)
        await asyncio.wait_for(app.revision_painted.wait(), 60.0)
        latencies.append(app.revision_painted_at - since_launch(sample.posted))
        if screen.state is not None:
            round_trips.append(dict(screen.state.round_trips))
        await asyncio.sleep(0.02)
    return {
        "latencies": latencies,
        "key_latencies": [sample.latency for sample in probe.samples],
        "round_trips": round_trips,
        "median": statistics.median(latencies),
    }


async def big_tensor(app: ProbedApp, screen: OpScreen, input_widget: Input) -> dict[str, Any]:
    """Set the input to a 1000x1000 tensor and press cursor keys until every column shows its result."""
    from benchmarks.wire import FrameCounter
    from tui.core.catalog.base import BACKENDS

    probe = KeyProbe(app, screen, input_widget)
    app.watch_revision(screen.revision + 1)
    with FrameCounter() as counter:
        started = time.perf_counter()
        input_widget.value = BIG_INPUT
        samples = await type_until(probe, CURSOR_KEYS, app.revision_painted.is_set, 120.0)
    answered = app.revision_painted_at - since_launch(started)

    rows = screen.state.rows(screen.tolerance_rule) if screen.state else []
    results = {
        row.formulation.id: ("ok" if row.result is not None and row.result.ok else str(row.failure or row.result.error))
        for row in rows
    }
    formulations_by_worker: dict[str, int] = {}
    for row in rows:
        worker = BACKENDS[row.formulation.backend].worker
        formulations_by_worker[worker] = formulations_by_worker.get(worker, 0) + 1
    return {
        "answered": answered,
        "keys": samples,
        "results": results,
        "wire": counter.summary(BIG_SHAPE),
        "round_trips": dict(screen.state.round_trips) if screen.state else {},
        "formulations_by_worker": formulations_by_worker,
    }


SCENARIOS = {"first_frame": first_frame, "first_results": first_results, "warmup_keys": warmup_keys}


async def run(options: argparse.Namespace) -> dict[str, Any]:
    if EARLY_POOL is not None:
        app = ProbedApp(initial_op=options.op, pool=EARLY_POOL, timeline=EARLY_TIMELINE)
    else:
        app = ProbedApp(initial_op=options.op)
    measured: dict[str, Any] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            measured = await SCENARIOS[options.scenario](app, options)
            await pilot.pause()
    finally:
        if EARLY_POOL is not None:
            EARLY_POOL.close()
    measured["timeline"] = asdict(app.timeline)
    measured["interpreter_ready"] = INTERPRETER_READY
    measured["app_imported"] = APP_IMPORTED
    measured["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("output", type=Path, help="where to write the JSON measurements")
    parser.add_argument("--op", default=None, help="op the explorer opens on")
    parser.add_argument("--edits", type=int, default=0, help="warm edits to time after every result arrived")
    parser.add_argument("--big", action="store_true", help="also run the 1000x1000 softmax")
    parser.add_argument(
        "--late-pool", action="store_true", help="let the app start the workers after its first frame (the old way)"
    )
    parser.add_argument("--typing", choices=("cursor", "edits"), default="cursor", help="keys pressed during warm-up")
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument profile of the warm phase here")
    options = parser.parse_args(argv)
    measured = asyncio.run(run(options))
    options.output.write_text(json.dumps(measured, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
