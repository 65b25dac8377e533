"""Failure paths, driven on purpose: bad input, dying workers, missing packages."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.reliability import record
from tui.app.app import XFrameApp
from tui.app.screenshots import open_op
from tui.core.catalog import get_op
from tui.core.run import build_request
from tui.core.tensors import TensorSyntaxError, parse_tensor
from tui.core.workers import WorkerFailed, WorkerPool, WorkerStatus

REPLY_TIMEOUT = 120.0
FRAMEWORK_WORKERS = ("torch", "tensorflow", "sklearn")
HIDDEN_PACKAGE = {"torch": "torch", "tensorflow": "tensorflow", "sklearn": "sklearn"}

BAD_INPUTS = [
    "",
    "[[1, 2], [3]]",
    "[1, 2",
    "soft(3)",
    "[1, True]",
    "[[1, 2], 3]",
    "zeros(10**9)",
    "10**10**10",
    "[1, 2][0]",
    "x.T",
    "lambda: 1",
    "'text'",
    "[1, 2] @ [3, 4]",
    "randn(-1)",
    "reshape(arange(6), (4, 2))",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "[/bold]",
    "[1, 2,, 3]",
    "ones(3) + ones(4)",
    "[1, 2];[3]",
]

HOSTILE_INPUTS = [
    "__import__('os').system('touch pwned')",
    "open('pwned', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "exec('1')",
    "eval('1')",
    "globals()",
    "(lambda: open('pwned', 'w'))()",
    "[x for x in ().__class__.__mro__]",
    "getattr(zeros, '__globals__')",
    "__builtins__",
]


def test_bad_inputs_rejected_in_place(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await open_op(pilot, "softmax")
            screen = app.screen
            editor = screen.query_one("#input-x")
            revision = screen.revision
            for text in BAD_INPUTS:
                editor.set_text(text)
                await pilot.pause()
                assert editor.text == text
                assert editor.error or editor.has_class("-error"), text
                assert screen.revision == revision, f"{text!r} started a run"
                record("bad_inputs")

    asyncio.run(scenario())


def test_hostile_inputs_run_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    modules_before = set(sys.modules)

    for text in HOSTILE_INPUTS:
        with pytest.raises(TensorSyntaxError):
            parse_tensor(text)
        record("hostile_inputs")

    assert list(tmp_path.iterdir()) == []
    assert set(sys.modules) - modules_before == set()


@pytest.mark.parametrize(
    ("op_id", "params", "expected"),
    [
        ("test_crash", {}, "killed by SIGABRT"),
        ("test_segfault", {}, "killed by SIGSEGV"),
        ("test_exit", {}, "exited with status 3"),
        ("test_sleep", {"seconds": 60}, "no reply within 2 s; the worker was stopped"),
    ],
)
def test_dying_worker_restarts(op_id, params, expected):
    pool = WorkerPool(["torch"], deadline=2.0).start()
    try:
        request = build_request(get_op(op_id), {"x": np.array([1.0])}, params)
        with pytest.raises(WorkerFailed) as caught:
            pool.submit("torch", request).result(timeout=REPLY_TIMEOUT)
        assert expected in caught.value.message

        softmax = build_request(get_op("softmax"), {"x": np.array([[0.0, 0.0]])}, {})
        reply = pool.submit("torch", softmax).result(timeout=REPLY_TIMEOUT)
        outputs = {result.formulation: result.output for result in reply.results}
        np.testing.assert_allclose(outputs["torch:torch_functional_softmax"], [[0.5, 0.5]])
        record("worker_failures")
    finally:
        pool.close()


SUBSETS = [
    hidden
    for size in range(len(FRAMEWORK_WORKERS) + 1)
    for hidden in itertools.combinations(FRAMEWORK_WORKERS, size)
]


@pytest.mark.parametrize("hidden", SUBSETS, ids=lambda hidden: "hide-" + ("-".join(hidden) or "none"))
def test_any_subset_of_frameworks_starts(hidden):
    """A missing framework's column shows "not installed" and the install command; the rest run.

    The frameworks that are present are proven by the session pool, so each
    subset starts only the reference worker and the hidden ones.
    """
    env = {"XFRAME_TUI_HIDE_PACKAGES": ",".join(HIDDEN_PACKAGE[name] for name in hidden)}
    pool = WorkerPool(["numpy", *hidden], env=env)

    async def scenario() -> None:
        app = XFrameApp(pool=pool, show_timings=False, steady=True)
        async with app.run_test(size=(120, 36)) as pilot:
            app.open_op("cosine_similarity")
            await pilot.pause()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + REPLY_TIMEOUT
            screen = app.screen
            while screen.state is None or "reference" not in screen.state.results or not all(
                name in screen.state.failures for name in hidden
            ):
                assert loop.time() < deadline, "the workers never answered"
                await pilot.pause(0.05)

            np.testing.assert_allclose(screen.state.results["reference"].output, [0.83893446], atol=1e-7)
            for name in hidden:
                assert pool.status(name) is WorkerStatus.UNAVAILABLE
                assert "not installed" in screen.state.failures[name]
                assert "pip install" in screen.state.failures[name]

    try:
        asyncio.run(scenario())
    finally:
        pool.close()
    record("package_subsets")


def test_interrupted_saves_counted():
    """Counts the kill-mid-save runs of test_state, which this module re-checks quickly."""
    import json
    import signal
    import subprocess
    import tempfile
    import time

    from tests.test_state import WRITER

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        path.write_text('{"n": 0, "pad": ""}')
        for attempt in range(10):
            writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
            assert writer.stdout.readline().strip() == "ready"
            time.sleep(0.02 + 0.02 * attempt)
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            assert isinstance(json.loads(path.read_text())["n"], int)
            record("saves_interrupted")
        leftovers = [item.name for item in Path(folder).iterdir() if item.name != "state.json"]
        assert all(name.startswith(".state.json.") for name in leftovers)
    assert os.path.exists(folder) is False
