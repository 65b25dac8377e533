"""The explorer driven as a user would: typing, restoring, resetting, crashes."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from textual.app import App, ComposeResult

from tui.app.app import XFrameApp
from tui.app.messages import ResultsArrived
from tui.app.render import result_card
from tui.app.screenshots import open_op, wait_for, wait_until_settled
from tui.app.widgets.details import loss_breakdown, similarity_tables
from tui.app.widgets.results import ResultCard, ResultColumn
from tui.core.catalog import get_op
from tui.core.report import Row, RunState, Timing, run_blocking
from tui.core.run import build_request
from tui.core.state import FORMAT, VERSION
from tui.core.workers import WorkerPool, WorkerStatus

SIZE = (120, 36)


def rendered(card: ResultCard) -> str:
    """The card's text as a terminal would show it, without styles."""
    return rendered_row(card.row)


def rendered_row(row: Row) -> str:
    """A row's card as a terminal would show it, without styles."""
    console = Console(width=60, record=True, file=io.StringIO())
    console.print(result_card(row))
    return console.export_text()


def saved_state(directory: Path, ops: dict) -> Path:
    """Write a session file holding the texts typed for each op, as the app saves them."""
    state = directory / "state.json"
    state.write_text(json.dumps({"format": FORMAT, "version": VERSION, "ops": ops}))
    return state


def find_card(app: XFrameApp, formulation_id: str) -> ResultCard:
    for card in app.screen.query(ResultCard):
        if card.formulation.id == formulation_id:
            return card
    raise AssertionError(f"no card for {formulation_id}")


def test_saved_inputs_restored(worker_pool: WorkerPool, tmp_path):
    state = saved_state(tmp_path, {"softmax": {"inputs": {"x": "[[0.0, 0.0]]"}, "params": {"dim": "0"}, "dtype": "float64"}})

    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True, state_path=state)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            screen = app.screen
            assert screen.query_one("#input-x").text == "[[0.0, 0.0]]"
            assert screen.query_one("#param-dim").value == 0
            assert screen.query_one("#param-dtype").value == "float64"
            reference = screen.state.results["reference"].output
            np.testing.assert_array_equal(reference, [[1.0, 1.0]])

    asyncio.run(scenario())


def test_typing_is_saved_even_when_invalid(worker_pool: WorkerPool, tmp_path):
    state = tmp_path / "deep" / "state.json"

    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True, state_path=state)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            app.screen.query_one("#input-x").set_text("[[1.0, 2.0], [3")
            await wait_for(pilot, lambda: state.exists(), "the save", timeout=60.0)

        document = json.loads(state.read_text())
        assert document["ops"]["softmax"]["inputs"]["x"] == "[[1.0, 2.0], [3"

    asyncio.run(scenario())


def test_unreadable_state_reported_and_set_aside(worker_pool: WorkerPool, tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{half a file")

    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True, state_path=state)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            messages = [notification.message for notification in app._notifications]
            assert any("could not read" in message and "defaults are used" in message for message in messages)
            await open_op(pilot, "softmax")
            assert app.screen.query_one("#input-x").text == "[[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0]]"

    asyncio.run(scenario())
    assert len(list(tmp_path.glob("state.json.unreadable-*"))) == 1


def test_reset_restores_defaults(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "cross_entropy")
            screen = app.screen
            screen.query_one("#input-labels").set_text("[2, 2, 2]")
            screen.query_one("#param-reduction").set_value("sum")
            await pilot.pause()
            await pilot.press("f8")
            await pilot.pause()
            assert screen.query_one("#input-labels").text == "[0, 1, 2]"
            assert screen.query_one("#param-reduction").value == "none"
            await wait_until_settled(pilot)
            np.testing.assert_allclose(screen.state.results["reference"].output, [0.417030, 0.220050, 0.186141], atol=1e-6)

    asyncio.run(scenario())


def test_edit_recomputes_every_formulation(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "cross_entropy")
            screen = app.screen
            screen.query_one("#input-logits").set_text("[[2.0, 1.0, 0.1]]")
            screen.query_one("#input-labels").set_text("[0]")
            await pilot.pause()
            await wait_until_settled(pilot)
            answered = 0
            for formulation_id, result in screen.state.results.items():
                if result.error is not None:
                    # One-hot-target and permuted forms do not apply to class indices.
                    assert result.error.type == "NotApplicable", formulation_id
                    continue
                expected = 0.741937 if formulation_id.endswith("_default") else 0.417030
                np.testing.assert_allclose(result.output, [expected], atol=1e-6, err_msg=formulation_id)
                answered += 1
            assert answered == 9

    asyncio.run(scenario())


def test_reply_for_old_revision_dropped(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            screen = app.screen
            screen.query_one("#input-x").set_text("[[5.0, 5.0]]")
            await pilot.pause()
            await wait_until_settled(pilot)

            screen.post_message(ResultsArrived("softmax", screen.revision - 1, "numpy", None, "stale failure"))
            await pilot.pause()
            assert "numpy" not in screen.state.failures
            np.testing.assert_array_equal(screen.state.results["reference"].output, [[0.5, 0.5]])

    asyncio.run(scenario())


def test_worker_crash_shown_and_recovered(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "test_crash")
            screen = app.screen
            assert "SIGABRT" in screen.state.failures["torch"]
            assert "SIGABRT" in rendered(find_card(app, "torch:abort_worker"))

            app.open_op("softmax")
            await pilot.pause()
            await wait_until_settled(pilot)
            assert app.screen.state.results["torch:torch_functional_softmax"].ok

    asyncio.run(scenario())


def test_typo_keeps_text_and_last_results(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            screen = app.screen
            revision = screen.revision
            editor = screen.query_one("#input-x")
            editor.set_text("[[1.0, 2.0], [3.0, soft]]")
            await pilot.pause()
            assert editor.text == "[[1.0, 2.0], [3.0, soft]]"
            assert editor.error == "col 20: unknown name 'soft'"
            assert editor.has_class("-error")
            assert screen.revision == revision
            assert screen.state.results["reference"].output.shape == (3, 3)

    asyncio.run(scenario())


@pytest.mark.parametrize("text", ["[/bold]", "[[1, 2]][red]", "[link=x]y[/link]"])
def test_markup_shaped_text_shown_verbatim(worker_pool: WorkerPool, text):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            editor = app.screen.query_one("#input-x")
            editor.set_text(text)
            await pilot.pause()
            assert editor.text == text
            assert editor.error is not None

    asyncio.run(scenario())


def test_big_result_compared_on_thread(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            screen = app.screen
            screen.query_one("#input-x").set_text("randn(400, 400, seed=1)")
            await pilot.pause()
            await wait_until_settled(pilot)
            await pilot.pause()

            for formulation_id in ("torch:torch_functional_softmax", "tensorflow:tf_softmax"):
                card = find_card(app, formulation_id)
                assert card.row.comparison is not None
                assert card.row.comparison.total == 160_000
                text = rendered(card)
                assert "✓ match" in text
                assert "comparing" not in text
            assert "4 match" in str(screen.query_one("AgreementStrip").render())

    asyncio.run(scenario())


def test_columns_show_framework_and_transport_time(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "softmax")
            await pilot.pause()

            for backend in ("reference", "torch", "tensorflow"):
                status = str(app.screen.query_one(f"#column-{backend} .column-status").render())
                assert re.search(r"framework\u00a0[\d.]+\u00a0(µs|ms) · transport\u00a0[\d.]+\u00a0(µs|ms)", status), status

    asyncio.run(scenario())


def test_slow_column_dimmed_until_answered(worker_pool: WorkerPool, tmp_path):
    state = saved_state(tmp_path, {"test_sleep": {"inputs": {"x": "[1.0]"}, "params": {"seconds": "0.8"}, "dtype": "float32"}})

    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True, state_path=state)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "test_sleep")
            screen = app.screen
            torch_column = screen.query_one("#column-torch")
            reference_column = screen.query_one("#column-reference")
            assert not torch_column.has_class("-stale")

            screen.query_one("#input-x").set_text("[2.0]")
            await pilot.pause(0.05)
            assert not torch_column.has_class("-stale")  # not before STALE_AFTER has passed
            await wait_for(pilot, lambda: torch_column.has_class("-stale"), "dimming the torch column", 5.0)
            assert not reference_column.has_class("-stale")

            await wait_until_settled(pilot)
            assert not torch_column.has_class("-stale")

    asyncio.run(scenario())


def test_invalid_first_input_no_results(worker_pool: WorkerPool, tmp_path):
    state = saved_state(tmp_path, {"softmax": {"inputs": {"x": "[[1.0, oops]]"}, "params": {}, "dtype": "float32"}})

    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True, state_path=state)
        async with app.run_test(size=SIZE) as pilot:
            app.open_op("softmax")
            await pilot.pause(0.3)
            screen = app.screen

            assert screen.state is None
            assert "no results yet: fix the input marked above" in str(screen.query_one("#agreement").render())
            assert screen.query_one("#input-x").text == "[[1.0, oops]]"

    asyncio.run(scenario())


def test_timing_cleared_on_failure():
    class ColumnApp(App[None]):
        def compose(self) -> ComposeResult:
            formulations = [item for item in get_op("softmax").all_formulations() if item.backend == "torch"]
            yield ResultColumn("torch", formulations)

    async def scenario() -> None:
        app = ColumnApp()
        async with app.run_test() as pilot:
            column = app.query_one(ResultColumn)
            column.show_status(WorkerStatus.READY, "", stale=False)
            column.show_timing(Timing(framework=0.0012, transport=0.0008))
            await pilot.pause()
            assert "framework\u00a01.2\u00a0ms · transport\u00a0800\u00a0µs" in str(column.status_line.render())

            column.show_timing(None)
            assert "framework" in str(column.status_line.render())

            column.show_timing(None, failed=True)
            assert str(column.status_line.render()) == "ready"

    asyncio.run(scenario())


def test_verdict_waits_for_reference(worker_pool: WorkerPool):
    op = get_op("softmax")
    request = build_request(op, {"x": np.array([[1.0, 2.0]])}, {}, "float32")
    state = RunState(op, request)
    state.add_reply(worker_pool.submit("torch", request).result(timeout=120))

    torch_row = next(row for row in state.rows() if row.formulation.backend == "torch")
    assert torch_row.waiting_for_reference
    assert "… waiting for the reference" in rendered_row(torch_row)

    state.add_failure("numpy", "the worker was killed by SIGKILL")
    torch_row = next(row for row in state.rows() if row.formulation.backend == "torch")
    assert not torch_row.waiting_for_reference
    assert "? no reference to compare with" in rendered_row(torch_row)


def rendered_text(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_breakdown_shows_first_samples_of_many(worker_pool: WorkerPool):
    op = get_op("cross_entropy")
    rng = np.random.default_rng(7)
    inputs = {"logits": rng.standard_normal((100, 3)), "labels": rng.integers(0, 3, 100)}
    state = run_blocking(worker_pool, op, build_request(op, inputs, {}, "float32"))

    text = rendered_text(loss_breakdown(state, state.rows()))

    assert "showing the first 25 of 100 samples" in text
    sample_numbers = re.findall(r"^\s*(\d+)\s+\d\s+\[", text, re.MULTILINE)
    assert sample_numbers == [str(index) for index in range(25)]


def test_similarity_matrix_shows_a_corner(worker_pool: WorkerPool):
    op = get_op("cosine_similarity")
    rng = np.random.default_rng(8)
    inputs = {"x": rng.standard_normal((60, 3)), "y": rng.standard_normal((60, 3))}
    state = run_blocking(worker_pool, op, build_request(op, inputs, {}, "float32"))

    text = rendered_text(similarity_tables(state, state.rows()))

    assert "rows 0 to 24 of 60, columns 0 to 7 of 60" in text
