"""Worker processes: crashes, deadlines, superseded requests, missing frameworks, quiet terminals.

Crash and deadline tests use a small pool of their own, since they kill its
worker; the others share the session pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.run import RunReply, RunRequest, build_request
from tui.core.workers import (
    PROJECT_ROOT,
    Superseded,
    WorkerCrashed,
    WorkerEvent,
    WorkerPool,
    WorkerStatus,
    WorkerTimedOut,
    WorkerUnavailable,
)

REPLY_TIMEOUT = 120.0


def request(op_id: str, inputs: dict, params: dict | None = None, revision: int = 0) -> RunRequest:
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    return build_request(get_op(op_id), arrays, params or {}, revision=revision)


def softmax_request(x: list[float], revision: int = 0) -> RunRequest:
    return request("softmax", {"x": [x]}, {"dim": -1}, revision)


def result(reply: RunReply, formulation: str):
    return next(item for item in reply.results if item.formulation == formulation)


def wait_for_status(pool: WorkerPool, worker: str, status: WorkerStatus, timeout: float = REPLY_TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while pool.status(worker) is not status:
        assert time.monotonic() < end, f"{worker} never became {status.value}; it is {pool.status(worker).value}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def torch_pool() -> Iterator[tuple[WorkerPool, list[WorkerEvent]]]:
    """A torch-only pool with a 1 s deadline, and the events it sent."""
    events: list[WorkerEvent] = []
    pool = WorkerPool(["torch"], deadline=1.0, listener=events.append).start()
    yield pool, events
    pool.close()


def test_crash_resolves_with_signal_and_restarts(torch_pool):
    pool, events = torch_pool

    future = pool.submit("torch", request("test_crash", {"x": [1.0]}))
    with pytest.raises(WorkerCrashed) as caught:
        future.result(timeout=REPLY_TIMEOUT)

    assert caught.value.worker == "torch"
    assert "the worker was killed by SIGABRT" in caught.value.message
    restarts = [event for event in events if event.status is WorkerStatus.RESTARTING]
    assert restarts, events
    assert "SIGABRT" in restarts[-1].detail

    reply = pool.submit("torch", softmax_request([0.0, 0.0])).result(timeout=REPLY_TIMEOUT)
    np.testing.assert_allclose(result(reply, "torch:torch_functional_softmax").output, [[0.5, 0.5]])


def test_deadline_resolves_with_timeout_and_restarts(torch_pool):
    pool, _ = torch_pool
    wait_for_status(pool, "torch", WorkerStatus.READY)

    started = time.monotonic()
    future = pool.submit("torch", request("test_sleep", {"x": [1.0]}, {"seconds": 30}))
    with pytest.raises(WorkerTimedOut) as caught:
        future.result(timeout=REPLY_TIMEOUT)
    elapsed = time.monotonic() - started

    assert caught.value.message == "no reply within 1 s; the worker was stopped"
    assert elapsed < 10, f"the deadline fired after {elapsed:.1f} s"

    reply = pool.submit("torch", softmax_request([0.0, 0.0])).result(timeout=REPLY_TIMEOUT)
    np.testing.assert_allclose(result(reply, "torch:torch_functional_softmax").output, [[0.5, 0.5]])


def test_latest_request_wins(worker_pool):
    busy = worker_pool.submit("torch", request("test_sleep", {"x": [1.0]}, {"seconds": 1.0}, revision=1))
    wait_for_status(worker_pool, "torch", WorkerStatus.BUSY)

    second = worker_pool.submit("torch", softmax_request([1.0, 2.0], revision=2))
    third = worker_pool.submit("torch", softmax_request([0.0, 0.0], revision=3))

    with pytest.raises(Superseded):
        second.result(timeout=REPLY_TIMEOUT)
    assert busy.result(timeout=REPLY_TIMEOUT).revision == 1
    reply = third.result(timeout=REPLY_TIMEOUT)
    assert reply.revision == 3
    np.testing.assert_allclose(result(reply, "torch:torch_functional_softmax").output, [[0.5, 0.5]])


def test_output_too_large(run_op):
    run = run_op("test_huge_output", {"x": [1.0]})

    error = run["numpy:huge_output"].error
    assert error is not None
    assert error.type == "OutputTooLarge"
    assert error.message == "output too large: 100,000,000 elements (limit 10,000,000)"
    np.testing.assert_array_equal(run.output("reference"), [1.0])


def test_numpy_backend_rejects_bfloat16(run_op):
    run = run_op("test_huge_output", {"x": [1.0]}, dtype="bfloat16")

    error = run["numpy:huge_output"].error
    assert error is not None
    assert error.type == "NotSupported"
    assert error.message == "NumPy has no bfloat16 dtype"
    np.testing.assert_array_equal(run.output("reference"), [1.0])


def test_hidden_packages_make_workers_unavailable():
    events: list[WorkerEvent] = []
    pool = WorkerPool(
        ["numpy", "torch", "sklearn"],
        env={"XFRAME_TUI_HIDE_PACKAGES": "torch,sklearn"},
        listener=events.append,
    )
    with pool:
        # Sent before the workers finish starting, so it waits and then resolves.
        early: Future[RunReply] = pool.submit("torch", softmax_request([0.0, 0.0]))
        assert pool.wait_ready(timeout=REPLY_TIMEOUT)

        assert pool.status("torch") is WorkerStatus.UNAVAILABLE
        assert pool.status("sklearn") is WorkerStatus.UNAVAILABLE
        assert pool.status("numpy") is WorkerStatus.READY

        with pytest.raises(WorkerUnavailable) as torch_error:
            early.result(timeout=REPLY_TIMEOUT)
        assert "ModuleNotFoundError" in torch_error.value.message
        assert "install it with: pip install 'torch<=2.13.0'" in torch_error.value.message

        later = pool.submit("sklearn", request("cosine_similarity", {"x": [[1.0, 0.0]], "y": [[0.0, 1.0]]}))
        with pytest.raises(WorkerUnavailable) as sklearn_error:
            later.result(timeout=REPLY_TIMEOUT)
        assert "install it with: pip install scikit-learn" in sklearn_error.value.message

        reply = pool.submit("numpy", softmax_request([0.0, 0.0])).result(timeout=REPLY_TIMEOUT)
        np.testing.assert_allclose(result(reply, "reference").output, [[0.5, 0.5]])

    unavailable = {event.worker for event in events if event.status is WorkerStatus.UNAVAILABLE}
    assert unavailable == {"torch", "sklearn"}


def test_close_while_busy_does_not_restart():
    events: list[WorkerEvent] = []
    pool = WorkerPool(["torch"], listener=events.append).start()
    future = pool.submit("torch", request("test_sleep", {"x": [1.0]}, {"seconds": 30}))
    wait_for_status(pool, "torch", WorkerStatus.BUSY)
    channel = pool.channels["torch"]

    started = time.monotonic()
    pool.close()
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"close took {elapsed:.1f} s"
    assert not channel.is_alive()
    assert channel.process.process is not None
    assert channel.process.process.poll() is not None
    assert future.done()
    assert WorkerStatus.RESTARTING not in [event.status for event in events]
    assert events[-1].status is WorkerStatus.STOPPED


QUIET_SCRIPT = textwrap.dedent(
    """
    import json
    import os
    import sys

    os.environ["XFRAME_TUI_TEST_OPS"] = "1"

    import numpy as np

    from tui.core.catalog import get_op
    from tui.core.run import build_request
    from tui.core.workers import WorkerCrashed, WorkerPool

    RUNS = [
        ("softmax", {"x": np.array([[[1.0, 2.0], [3.0, 4.0]]])}, {"dim": None}),
        ("cross_entropy", {"logits": np.array([[2.0, 1.0, 0.1]]), "labels": np.array([5])}, {}),
        ("cosine_similarity", {"x": np.array([[0.0, 0.0]]), "y": np.array([[1.0, 2.0]])}, {}),
    ]

    # TF_CPP_MIN_LOG_LEVEL=0 makes TensorFlow write its C++ log lines to stderr.
    with WorkerPool(env={"TF_CPP_MIN_LOG_LEVEL": "0"}) as pool:
        for op_id, inputs, params in RUNS:
            op = get_op(op_id)
            request = build_request(op, inputs, params)
            for worker in op.workers():
                pool.submit(worker, request).result(timeout=120)
        crash = build_request(get_op("test_crash"), {"x": np.array([1.0])}, {})
        try:
            pool.submit("torch", crash).result(timeout=120)
        except WorkerCrashed:
            pass
        logs = {name: channel.process.log_path.read_text() for name, channel in pool.channels.items()}

    with open(sys.argv[1], "w") as handle:
        json.dump(logs, handle)
    """
)


def test_workers_never_write_to_terminal(tmp_path: Path):
    script = tmp_path / "quiet.py"
    script.write_text(QUIET_SCRIPT)
    logs_path = tmp_path / "logs.json"
    env = {key: value for key, value in os.environ.items() if key != "XFRAME_TUI_TEST_OPS"}

    completed = subprocess.run(
        [sys.executable, str(script), str(logs_path)],
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    assert completed.stdout == b""
    assert completed.stderr == b""
    logs = json.loads(logs_path.read_text())
    assert logs["tensorflow"].strip(), "TensorFlow wrote no log lines; the check above proves nothing"
