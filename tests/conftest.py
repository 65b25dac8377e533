"""Shared fixtures: one worker pool for the whole session and a helper that runs an op on it.

XFRAME_TUI_TEST_OPS is set before anything imports the catalog, so the
test-only ops (test_crash, test_sleep, test_huge_output) are registered here
and in every worker the tests start, which inherit this environment.
"""

from __future__ import annotations

import os

os.environ["XFRAME_TUI_TEST_OPS"] = "1"

from collections.abc import Callable, Iterator, Mapping  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tui.core.catalog import get_op  # noqa: E402
from tui.core.catalog.base import Formulation  # noqa: E402
from tui.core.compare import Comparison, compare_outputs  # noqa: E402
from tui.core.run import FormulationResult, RunRequest, build_request  # noqa: E402
from tui.core.workers import WorkerFailed, WorkerPool  # noqa: E402

RUN_TIMEOUT = 120.0
"""Seconds run_op waits for each worker's reply, including the worker's startup."""


@dataclass
class OpRun(Mapping[str, FormulationResult]):
    """Every worker's reply to one request, merged; indexing gives a result by formulation id."""

    request: RunRequest
    results: dict[str, FormulationResult] = field(default_factory=dict)
    diagnostics: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, WorkerFailed] = field(default_factory=dict)
    """Workers that raised instead of replying, by worker name."""

    def __getitem__(self, formulation_id: str) -> FormulationResult:
        if formulation_id not in self.results:
            raise KeyError(
                f"no result for {formulation_id!r}; results: {sorted(self.results)}; "
                f"worker failures: {self.failures}"
            )
        return self.results[formulation_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def output(self, formulation_id: str) -> np.ndarray:
        """Return a formulation's first output, failing the test with its error if it has none."""
        result = self[formulation_id]
        assert result.ok, f"{formulation_id} raised {result.error}"
        return result.output

    def formulation(self, formulation_id: str) -> Formulation:
        """Return the catalog formulation that produced a result."""
        by_id = {formulation.id: formulation for formulation in get_op(self.request.op).all_formulations()}
        return by_id[formulation_id]

    def compare(self, formulation_id: str, rule: str = "torch") -> Comparison:
        """Compare a formulation's outputs with the reference's, as the explorer does."""
        result = self[formulation_id]
        assert result.ok, f"{formulation_id} raised {result.error}"
        reference = self["reference"]
        reference_outputs = reference.outputs if reference.ok else None
        return compare_outputs(
            self.formulation(formulation_id),
            result.outputs,
            result.dtypes[0],
            reference_outputs,
            rule,
            self.request.inputs,
        )


@pytest.fixture(scope="session")
def worker_pool() -> Iterator[WorkerPool]:
    """One pool with every worker, started when the first test requests it."""
    pool = WorkerPool().start()
    yield pool
    pool.close()


RunOp = Callable[..., OpRun]


@pytest.fixture(scope="session")
def run_op(worker_pool: WorkerPool) -> RunOp:
    """Return a function that runs an op on every worker it needs and merges the replies."""

    def run(
        op_id: str,
        inputs: dict[str, Any],
        params: dict[str, Any] | None = None,
        dtype: str = "float32",
    ) -> OpRun:
        op = get_op(op_id)
        arrays = {name: np.asarray(value) for name, value in inputs.items()}
        request = build_request(op, arrays, params or {}, dtype)
        futures = {worker: worker_pool.submit(worker, request) for worker in op.workers()}

        outcome = OpRun(request)
        for worker, future in futures.items():
            try:
                reply = future.result(timeout=RUN_TIMEOUT)
            except WorkerFailed as exc:
                outcome.failures[worker] = exc
                continue
            outcome.results.update({result.formulation: result for result in reply.results})
            outcome.diagnostics.extend(reply.diagnostics)
            outcome.details.update(reply.details)
        return outcome

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the reliability table that the README's reliability section shows."""
    from tests.reliability import write_report

    write_report(Path(session.config.rootpath) / "build" / "reliability.md")
