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
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from tui.core import workers
from tui.core.catalog import get_op
from tui.core.run import RunReply, RunRequest, build_request
from tui.core.workers import (
    PROJECT_ROOT,
    StartupGate,
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


def test_worker_yields_cpu_to_the_ui(worker_pool):
    wait_for_status(worker_pool, "numpy", WorkerStatus.READY)
    pid = worker_pool.channels["numpy"].process.process.pid

    assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
    autogroup = Path(f"/proc/{pid}/autogroup")
    if Path("/proc/self/autogroup").exists():
        # The worker has a session, so an autogroup, of its own: its niceness
        # counts against the UI only through the group's.
        assert autogroup.read_text().split()[-2:] == ["nice", "10"]
        assert autogroup.read_text() != Path("/proc/self/autogroup").read_text()


class QueuedWorker:
    """The two things StartupGate reads from a channel."""

    def __init__(self, worker: str, has_pending: bool = False) -> None:
        self.worker = worker
        self.has_pending = has_pending


def enter_in_thread(gate: StartupGate, channel: QueuedWorker, entered: list[str]) -> threading.Thread:
    def enter() -> None:
        if gate.enter(channel):
            entered.append(channel.worker)

    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    return thread


def wait_until(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the gate never let the worker in"
        time.sleep(0.005)


def test_gate_holds_core_until_ui_drawn():
    gate = StartupGate(2, hold_for_ui=True)
    channels = [QueuedWorker(name) for name in ("torch", "sklearn", "numpy", "tensorflow")]
    gate.register(channels)
    entered: list[str] = []
    threads = [enter_in_thread(gate, channel, entered) for channel in channels]

    wait_until(lambda: len(entered) == 2)
    time.sleep(0.1)
    assert entered == ["tensorflow", "numpy"]  # NumPy's light import may use the held core

    gate.leave()  # NumPy's worker is ready; torch and scikit-learn still wait for the UI
    time.sleep(0.1)
    assert entered == ["tensorflow", "numpy"]

    gate.release_ui()
    wait_until(lambda: len(entered) == 3)
    assert entered[2] == "sklearn"
    gate.leave()
    wait_until(lambda: len(entered) == 4)
    assert entered[3] == "torch"
    for thread in threads:
        thread.join(timeout=5)


def test_gate_puts_pending_requests_first():
    gate = StartupGate(1)
    channels = [QueuedWorker("tensorflow"), QueuedWorker("numpy"), QueuedWorker("torch", has_pending=True)]
    gate.register(channels)
    entered: list[str] = []
    threads = [enter_in_thread(gate, channel, entered) for channel in channels]

    for count in (1, 2, 3):
        wait_until(lambda: len(entered) == count)
        gate.leave()

    assert entered == ["torch", "tensorflow", "numpy"]
    for thread in threads:
        thread.join(timeout=5)


def test_gate_hold_expires_without_the_ui(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(workers, "UI_HOLD_SECONDS", 0.2)
    gate = StartupGate(2, hold_for_ui=True)
    channels = [QueuedWorker("tensorflow"), QueuedWorker("torch")]
    gate.register(channels)
    entered: list[str] = []
    started = time.monotonic()
    threads = [enter_in_thread(gate, channel, entered) for channel in channels]

    wait_until(lambda: len(entered) == 2)

    assert entered == ["tensorflow", "torch"]
    assert time.monotonic() - started >= 0.2
    for thread in threads:
        thread.join(timeout=5)
