"""Snapshot tests of the probe picker and the behaviour matrix, taken after every worker replied.

Regenerate on purpose with `pytest tests/test_snapshots_probes.py --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.pilot import Pilot

from tui.app.app import XFrameApp
from tui.app.screens.matrix import BehaviourMatrixScreen
from tui.app.screenshots import open_op
from tui.core.workers import WorkerPool

WIDE = (120, 36)


@pytest.fixture
def app(worker_pool: WorkerPool) -> XFrameApp:
    return XFrameApp(pool=worker_pool, show_timings=False, steady=True)


async def wait_for_matrix(pilot: Pilot, timeout: float = 300.0) -> None:
    """Wait until the behaviour matrix on top has every formulation's result for every probe."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (isinstance(pilot.app.screen, BehaviourMatrixScreen) and pilot.app.screen.complete):
        if loop.time() > deadline:
            raise TimeoutError(f"the behaviour matrix was not complete within {timeout:g} s")
        await pilot.pause(0.05)
    await pilot.pause()


def test_one_hot_matrix(snap_compare, app):
    """You should see a result in every one_hot cell, and below the table tf.one_hot's zero rows for [0, -1, 3]."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "one_hot", "f7")
        await wait_for_matrix(pilot)
        await pilot.press("right", "right", "right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_where_matrix_not_applicable(snap_compare, app):
    """You should see where's matrix: per-axis tuples as conventions and '–' where nonzero takes no x and y."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "where", "f7")
        await wait_for_matrix(pilot)
        await pilot.press("right", "right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_probe_picker(snap_compare, app):
    """You should see a modal list of the one-hot probes, each with its description, over the op screen."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "one_hot", "f6")

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)
