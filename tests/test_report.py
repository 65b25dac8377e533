"""Rows of a run: comparisons left for a thread when outputs are big, and failures kept as results."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from tui.app.render import result_card
from tui.core import report
from tui.core.catalog import get_op
from tui.core.compare import Verdict
from tui.core.report import RunState, run_blocking
from tui.core.run import build_request
from tui.core.workers import WorkerPool


def softmax_state(worker_pool: WorkerPool, shape: tuple[int, int]) -> RunState:
    op = get_op("softmax")
    x = np.random.default_rng(0).standard_normal(shape)
    return run_blocking(worker_pool, op, build_request(op, {"x": x}, {}, "float32"))


def test_big_outputs_deferred_until_compared(worker_pool: WorkerPool):
    state = softmax_state(worker_pool, (300, 300))

    deferred = state.rows(defer_above=100_000)

    waiting = {row.formulation.id for row in deferred if row.comparing}
    assert waiting == {
        "torch:torch_functional_softmax",
        "torch:torch_softmax_module",
        "tensorflow:tf_softmax",
        "tensorflow:keras_softmax_layer",
    }
    assert all(row.comparison is None for row in deferred)
    assert all(row.result is not None for row in deferred)

    state.compare_all()
    compared = state.rows(defer_above=100_000)

    assert not any(row.comparing for row in compared)
    verdicts = {row.formulation.id: row.comparison.verdict for row in compared if row.comparison is not None}
    assert verdicts == dict.fromkeys(waiting, Verdict.MATCH)


def test_small_outputs_compared_at_once(worker_pool: WorkerPool):
    state = softmax_state(worker_pool, (3, 4))

    rows = state.rows(defer_above=100_000)

    assert not any(row.comparing for row in rows)
    assert [row.comparison.verdict for row in rows if row.comparison is not None] == [Verdict.MATCH] * 4


def test_deferred_and_immediate_comparisons_agree(worker_pool: WorkerPool):
    state = softmax_state(worker_pool, (300, 300))
    state.compare_all("exact")
    immediate = softmax_state(worker_pool, (300, 300))

    for deferred_row, row in zip(state.rows("exact", defer_above=10), immediate.rows("exact")):
        assert not deferred_row.comparing
        assert (deferred_row.comparison is None) == (row.comparison is None)
        if row.comparison is not None:
            assert deferred_row.comparison.verdict == row.comparison.verdict
            assert deferred_row.comparison.mismatched == row.comparison.mismatched
            assert deferred_row.comparison.max_abs_diff == row.comparison.max_abs_diff


def test_raising_comparison_gives_error_verdict(worker_pool: WorkerPool, monkeypatch: pytest.MonkeyPatch):
    state = softmax_state(worker_pool, (2, 3))

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(report, "compare_outputs", broken)
    rows = state.rows()

    compared = [row.comparison for row in rows if row.comparison is not None]
    assert len(compared) == 4
    for comparison in compared:
        assert comparison.verdict is Verdict.ERROR
        assert comparison.reason == "the comparison failed: ValueError: operands could not be broadcast together"


def test_timing_splits_round_trip(worker_pool: WorkerPool):
    op = get_op("clip")
    request = build_request(op, {"x": np.array([-2.0, 0.5, 3.0])}, {}, "float32")
    state = run_blocking(worker_pool, op, request)

    reference, numpy, torch = state.timing("reference"), state.timing("numpy"), state.timing("torch")
    numpy_calls = sum(result.elapsed for result in state.results.values() if result.backend in ("reference", "numpy"))

    assert reference == numpy  # one worker serves both columns
    assert numpy.framework >= numpy_calls > 0
    assert numpy.framework + numpy.transport == pytest.approx(state.round_trips["numpy"])
    assert torch.framework + torch.transport == pytest.approx(state.round_trips["torch"])
    assert torch.transport > 0


def test_gradients_count_as_worker_time(worker_pool: WorkerPool):
    op = get_op("softmax")
    x = np.random.default_rng(5).standard_normal((40, 40))
    plain = run_blocking(worker_pool, op, build_request(op, {"x": x}, {}, "float32"))
    graded = run_blocking(worker_pool, op, build_request(op, {"x": x}, {}, "float32", grad=True))

    torch_calls = sum(result.elapsed for result in graded.results.values() if result.backend == "torch")

    assert graded.timing("torch").framework > torch_calls
    assert graded.handled["numpy"] > plain.handled["numpy"]  # central differences of the reference


def test_timing_unknown_before_reply(worker_pool: WorkerPool):
    op = get_op("clip")
    state = RunState(op, build_request(op, {"x": np.array([1.0])}, {}, "float32"))

    assert state.timing("torch") is None


def test_comparing_card_shows_values(worker_pool: WorkerPool):
    state = softmax_state(worker_pool, (300, 300))
    row = next(row for row in state.rows(defer_above=1) if row.formulation.id == "torch:torch_softmax_module")

    console = Console(width=60, record=True, file=io.StringIO())
    console.print(result_card(row))
    text = console.export_text()

    assert row.comparing
    assert "… comparing with the reference" in text
    assert "shape (300, 300)  dtype torch.float32" in text
    assert "max abs" not in text
