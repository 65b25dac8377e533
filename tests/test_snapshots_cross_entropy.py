"""Snapshot of the cross-entropy breakdown for ignored labels, taken once every worker replied.

Regenerate on purpose with `pytest --snapshot-update` and look at the report
before committing.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tui.app.app import XFrameApp
from tui.app.screenshots import open_op, wait_until_settled
from tui.core.workers import WorkerPool

WIDE = (120, 36)


@pytest.fixture
def app(worker_pool: WorkerPool) -> XFrameApp:
    return XFrameApp(pool=worker_pool, show_timings=False, steady=True)


def test_cross_entropy_ignored_label_breakdown(snap_compare, app):
    """You should see label -100 marked ignored, a mean of 0.820075 / 2 = 0.410038 for torch,
    NotSupported for tf.nn and InvalidArgumentError for Keras, then each API's sentinel and divisor."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "cross_entropy")
        screen = pilot.app.screen
        screen.query_one("#input-logits").set_text("[[2, 0], [0, 2], [1, 1]]")
        screen.query_one("#input-labels").set_text("[0, -100, 1]")
        screen.query_one("#param-reduction").set_value("mean")
        await pilot.pause()
        await wait_until_settled(pilot)
        await pilot.press("f3")
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)
