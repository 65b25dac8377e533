"""The Gradients tab of the explorer: snapshots, and when the screen requests gradients from the workers.

Snapshots are taken once every worker answered the run with gradients, with
timings hidden and the cursor steady. Regenerate on purpose with
`pytest --snapshot-update` and look at the report before committing.
"""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from tui.app.app import XFrameApp
from tui.app.screenshots import open_op, wait_until_settled
from tui.app.widgets.gradients import GradientsPanel
from tui.core.compare import Verdict
from tui.core.gradient_report import gradient_counts, gradient_rows
from tui.core.workers import WorkerPool

WIDE = (120, 36)
SMALL = (80, 24)


@pytest.fixture
def app(worker_pool: WorkerPool) -> XFrameApp:
    return XFrameApp(pool=worker_pool, show_timings=False, steady=True)


async def open_gradients(pilot: Pilot, op_id: str, texts: dict[str, str] | None = None) -> None:
    """Open an op, type its inputs, wait for the results, then press F5 and wait for the gradients."""
    await open_op(pilot, op_id)
    for name, text in (texts or {}).items():
        pilot.app.screen.query_one(f"#input-{name}").set_text(text)
    await pilot.pause()
    await wait_until_settled(pilot)
    await pilot.press("f5")
    await pilot.pause()
    await wait_until_settled(pilot)


C10 = {"logits": "[[2, 0], [0, 1]]", "labels": "[0, 0]"}


def test_gradients_tab_cross_entropy(snap_compare, app):
    """You should see torch's implicit seed raise RuntimeError, TensorFlow's give the sum, and mean = sum / 2."""

    async def run_before(pilot: Pilot) -> None:
        await open_gradients(pilot, "cross_entropy", C10)

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_gradients_tab_cross_entropy_small(snap_compare, app):
    """You should see the same gradients at 80x24, the code below each table instead of beside it."""

    async def run_before(pilot: Pilot) -> None:
        await open_gradients(pilot, "cross_entropy", C10)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_gradients_tab_linear(snap_compare, app):
    """You should see one row per seed and input: x, weight and bias, with the reference's sums and means."""

    async def run_before(pilot: Pilot) -> None:
        await open_gradients(pilot, "linear")

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def run_scenario(worker_pool: WorkerPool, scenario) -> None:
    async def main() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=WIDE) as pilot:
            await scenario(app, pilot)

    asyncio.run(main())


def test_gradients_only_while_tab_open(worker_pool):
    async def scenario(app: XFrameApp, pilot: Pilot) -> None:
        await open_op(pilot, "softmax")
        screen = app.screen
        assert screen.state.request.grad is False

        await pilot.press("f5")
        await wait_until_settled(pilot)
        assert screen.query_one(TabbedContent).active == "tab-gradients"
        assert screen.state.request.grad is True
        assert screen.state.results["torch:torch_functional_softmax"].gradients["sum"]["x"].shape == (3, 3)

        await pilot.press("f2")
        screen.query_one("#input-x").set_text("[[1.0, 2.0]]")
        await pilot.pause()
        await wait_until_settled(pilot)
        assert screen.state.request.grad is False

    run_scenario(worker_pool, scenario)


def panel_text(app: XFrameApp) -> str:
    """The gradients panel as plain text, 120 columns wide."""
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(app.screen.query_one(GradientsPanel).content)
    return console.export_text()


def test_gradients_panel_follows_tolerance(worker_pool):
    async def scenario(app: XFrameApp, pilot: Pilot) -> None:
        await open_gradients(pilot, "cross_entropy", C10)
        screen = app.screen
        revision = screen.revision
        matches = gradient_counts(gradient_rows(screen.state, "torch"))[Verdict.MATCH]
        assert f"✓ {matches} match" in panel_text(app)

        screen.query_one("#param-tolerance").set_value("exact")
        await pilot.pause()

        assert screen.revision == revision, "a new tolerance compares again without running"
        assert f"✓ {matches} match" not in panel_text(app)
        assert "mismatch" in panel_text(app)

    run_scenario(worker_pool, scenario)


def test_no_gradients_tab_for_accuracy(worker_pool):
    async def scenario(app: XFrameApp, pilot: Pilot) -> None:
        await open_op(pilot, "accuracy")
        screen = app.screen

        assert not screen.query("#tab-gradients")
        assert screen.check_action("show_tab", ("tab-gradients",)) is False
        await pilot.press("f5")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "tab-results"
        assert screen.state.request.grad is False

    run_scenario(worker_pool, scenario)
