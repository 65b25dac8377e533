"""Snapshot tests of the explorer's screens, taken after every worker replied.

Timings are hidden and the cursor does not blink, so a snapshot only changes
when a screen does. Regenerate on purpose with `pytest --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tui.app.app import XFrameApp
from tui.app.screenshots import open_op, wait_until_settled
from tui.core.workers import WorkerPool

WIDE = (120, 36)
SMALL = (80, 24)


@pytest.fixture
def app(worker_pool: WorkerPool) -> XFrameApp:
    return XFrameApp(pool=worker_pool, show_timings=False, steady=True)


def test_ops_table(snap_compare, app):
    """You should see the ops table with softmax, cross-entropy and cosine similarity rows."""
    assert snap_compare(app, terminal_size=WIDE)


def test_ops_table_small(snap_compare, app):
    """You should see the ops table fitting an 80x24 terminal, footer included."""
    assert snap_compare(app, terminal_size=SMALL)


def test_ops_table_filtered(snap_compare, app):
    """You should see only the cosine similarity row after typing 'cos' in the filter."""
    assert snap_compare(app, press=["slash", "c", "o", "s"], terminal_size=WIDE)


@pytest.mark.parametrize(
    "op_id",
    ["softmax", "cross_entropy", "cosine_similarity", "clip", "one_hot", "linear", "einsum", "where", "accuracy"],
)
def test_op_results(snap_compare, app, op_id):
    """You should see every backend's column filled, with verdicts and the code that ran."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, op_id)

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_cross_entropy_small(snap_compare, app):
    """You should see the cross-entropy screen usable at 80x24: editors, agreement strip, columns."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "cross_entropy")

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_cross_entropy_breakdown(snap_compare, app):
    """You should see per-sample log-softmax and p(label), and each formulation's reduction."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "cross_entropy", "f3")

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_cross_entropy_mean_breakdown(snap_compare, app):
    """You should see the mean reduction: the sum of losses over 3 samples for every formulation."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "cross_entropy")
        screen = pilot.app.screen
        screen.query_one("#param-reduction").set_value("mean")
        await pilot.pause()
        await wait_until_settled(pilot)
        await pilot.press("f3")
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_cosine_tables(snap_compare, app):
    """You should see the similarity matrix and the paired forms of every library."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "cosine_similarity", "f3")

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_invalid_input_keeps_text(snap_compare, app):
    """You should see the typo in logits kept, a column-precise error, and the last results still shown."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "cross_entropy")
        editor = pilot.app.screen.query_one("#input-logits")
        editor.set_text("[[2.0, 1.0, soft]]")
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_notes_tab(snap_compare, app):
    """You should see the softmax note on torch's implicit dim and TensorFlow's last axis."""

    async def run_before(pilot: Pilot) -> None:
        await open_op(pilot, "softmax", "f4")

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_help_screen(snap_compare, app):
    """You should see the help modal listing keys, the tensor language and the verdicts."""
    assert snap_compare(app, press=["f1"], terminal_size=WIDE)


def test_command_palette_lists_ops(snap_compare, app):
    """You should see the command palette offering to open the cosine similarity op."""
    assert snap_compare(app, press=["ctrl+p", "c", "o", "s", "i", "n", "e"], terminal_size=WIDE)
