"""Edge-case probes and the behaviour matrix: declarations, real runs, the CLI and the UI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import numpy as np
import pytest

from tui.app.app import XFrameApp
from tui.app.matrix_render import cell_text
from tui.app.screens.matrix import BehaviourMatrixScreen
from tui.app.screens.probe_picker import ProbePicker
from tui.app.screenshots import open_op, wait_for, wait_until_settled
from tui.core.catalog import get_op, visible_ops
from tui.core.catalog.probes import PROBES, Probe
from tui.core.compare import Verdict
from tui.core.probes import (
    BehaviourMatrix,
    Cell,
    Outcome,
    clean_message,
    column_labels,
    probe_request,
    run_probes,
    summarize_outputs,
)
from tui.core.run import build_request
from tui.core.tensors import parse_tensor
from tui.core.workers import WorkerPool

SIZE = (120, 36)
EVERY_PROBE = [(op_id, probe) for op_id, probes in PROBES.items() for probe in probes]


def find_probe(op_id: str, name: str) -> Probe:
    for probe in PROBES[op_id]:
        if probe.name == name:
            return probe
    raise AssertionError(f"{op_id} has no probe {name!r}")


def cells_by_id(matrix: BehaviourMatrix, name: str) -> dict[str, Cell]:
    """The cells of one probe's row by formulation id."""
    for row in matrix.rows:
        if row.probe.name == name:
            return {cell.formulation.id: cell for cell in row.cells}
    raise AssertionError(f"{matrix.op.id} matrix has no row {name!r}")


# Declarations


def test_probes_cover_every_op():
    assert set(PROBES) == {op.id for op in visible_ops()}
    for op_id, probes in PROBES.items():
        assert len(probes) >= 4, op_id
        names = [probe.name for probe in probes]
        assert len(set(names)) == len(names), f"{op_id} repeats a probe name"


@pytest.mark.parametrize(("op_id", "probe"), EVERY_PROBE, ids=[f"{op}-{probe.name}" for op, probe in EVERY_PROBE])
def test_probe_parses_and_builds_request(op_id, probe):
    op = get_op(op_id)
    assert set(probe.inputs) <= {spec.name for spec in op.inputs}
    assert set(probe.params) <= {spec.name for spec in op.params}
    assert probe.description.strip()

    arrays = {}
    for spec in op.inputs:
        text = probe.inputs.get(spec.name, spec.default)
        arrays[spec.name] = parse_tensor(text) if text.strip() else None
    params = {spec.name: probe.params.get(spec.name, spec.default) for spec in op.params}
    request = build_request(op, arrays, params)

    assert request.op == op_id
    assert probe_request(op, probe).params == request.params


def test_field_cases_declared():
    clip = find_probe("clip", "inverted bounds")
    assert clip.inputs == {"x": "[-1, 0, 0.3, 2]"}
    assert clip.params == {"min": "0.5", "max": "-0.5"}

    one_hot = find_probe("one_hot", "negative and too large")
    assert one_hot.inputs == {"indices": "[0, -1, 3]"}
    assert one_hot.params == {"depth": "3"}

    cosine = find_probe("cosine_similarity", "zero vectors")
    assert cosine.inputs == {"x": "[[1, 1], [0, 0], [1, 0]]", "y": "[[-1, -1], [1, 2], [0, 1]]"}

    einsum = probe_request(get_op("einsum"), find_probe("einsum", "size-1 broadcast"))
    assert einsum.params["equation"] == "ab,ab->ab"
    assert einsum.inputs["a"].shape == (4, 2)
    assert einsum.inputs["b"].shape == (1, 2)

    where = probe_request(get_op("where"), find_probe("where", "one argument, 2-D"))
    assert where.inputs["condition"].ndim == 2
    assert where.inputs["x"] is None
    assert where.inputs["y"] is None

    softmax = probe_request(get_op("softmax"), find_probe("softmax", "implicit dim, 3-D"))
    assert softmax.inputs["x"].ndim == 3
    assert softmax.params["dim"] is None


def test_probe_request_fills_defaults():
    clip = probe_request(get_op("clip"), find_probe("clip", "NaN and inf"))
    assert clip.params == {"min": 0.0, "max": 1.0}
    np.testing.assert_array_equal(clip.inputs["x"], [np.nan, -np.inf, np.inf, 0.5])

    linear = probe_request(get_op("linear"), find_probe("linear", "NaN weight"))
    np.testing.assert_array_equal(linear.inputs["x"], [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    np.testing.assert_array_equal(linear.inputs["bias"], [0.5, -0.5])
    assert linear.params == {"keras_kernel": "transposed"}


# Summaries


def test_summary_of_short_and_long_outputs():
    assert summarize_outputs([np.array(0.5)]) == "0.5"
    assert summarize_outputs([np.array([np.nan, 0.41703])]) == "[nan, 0.417]"
    assert summarize_outputs([np.array([2e4])]) == "[2e+04]"
    assert summarize_outputs([np.zeros((3, 3))]) == "(3, 3)"
    assert summarize_outputs([np.array([[np.nan, np.inf], [1.0, np.nan]])]) == "(2, 2) 2 nan 1 inf"
    assert summarize_outputs([np.arange(3), np.arange(3)]) == "2 arrays (3,)"
    assert summarize_outputs([np.zeros((0, 3))]) == "(0, 3)"


def test_clean_message_drops_node_names_and_colours():
    message = "{{function_node __wrapped__Einsum_N_2_device_/job:localhost/replica:0}} Expected\n dimension 4 [Op:Einsum]"
    assert clean_message(message) == "Expected dimension 4 [Op:Einsum]"
    assert clean_message("\x1b[1mbold\x1b[0m [/x]") == "bold [/x]"


def test_column_labels_number_siblings():
    labels = column_labels(get_op("one_hot"))

    assert labels["reference"] == "reference"
    assert labels["torch:torch_one_hot"] == "torch"
    assert labels["tensorflow:tf_one_hot"] == "tf 1"
    assert labels["tensorflow:keras_to_categorical_array"] == "tf 3"
    assert labels["numpy:numpy_eye_indexing"] == "numpy"


# Every probe on every framework


@pytest.fixture(scope="module")
def matrices(worker_pool: WorkerPool) -> dict[str, BehaviourMatrix]:
    """Every op's behaviour matrix in float32, run once on the session's workers."""
    return {op_id: run_probes(worker_pool, get_op(op_id)) for op_id in PROBES}


def test_every_probe_answered_without_worker_failure(matrices, worker_pool):
    answered = (Outcome.VALUE, Outcome.NAN_INF, Outcome.ERROR, Outcome.NOT_APPLICABLE)
    for op_id, matrix in matrices.items():
        assert len(matrix.rows) == len(PROBES[op_id])
        for row in matrix.rows:
            for cell in row.cells:
                where = f"{op_id} / {row.probe.name} / {cell.formulation.id}: {cell.detail}"
                assert cell.outcome in answered, where
                if cell.outcome is Outcome.ERROR:
                    assert cell.error is not None, where
                    assert cell.error.type, where
                else:
                    assert cell.outcome is Outcome.NOT_APPLICABLE or cell.outputs is not None, where
    for worker in worker_pool.channels:
        assert worker_pool.status(worker).value == "ready", worker


def test_one_hot_out_of_range_matrix(matrices):
    cells = cells_by_id(matrices["one_hot"], "negative and too large")

    tf_cell = cells["tensorflow:tf_one_hot"]
    assert tf_cell.outcome is Outcome.VALUE
    assert tf_cell.verdict is Verdict.MATCH
    np.testing.assert_array_equal(tf_cell.outputs[0], [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    assert cells["torch:torch_one_hot"].error.type == "RuntimeError"
    assert cells["torch:torch_one_hot"].agrees is False
    assert cells["numpy:numpy_eye_indexing"].error.type == "IndexError"
    assert cells["tensorflow:keras_to_categorical_array"].error.type == "IndexError"


def test_one_hot_negative_index_wraps_in_numpy(matrices):
    cells = cells_by_id(matrices["one_hot"], "negative index")

    numpy_cell = cells["numpy:numpy_eye_indexing"]
    assert numpy_cell.verdict is Verdict.MISMATCH
    np.testing.assert_array_equal(numpy_cell.outputs[0], [[1, 0, 0], [0, 0, 1], [0, 0, 1]])


def test_clip_inverted_bounds_matrix(matrices):
    cells = cells_by_id(matrices["clip"], "inverted bounds")

    np.testing.assert_array_equal(cells["torch:torch_clamp"].outputs[0], [-0.5, -0.5, -0.5, -0.5])
    assert cells["torch:torch_clamp"].verdict is Verdict.MATCH
    assert cells["numpy:numpy_clip"].verdict is Verdict.MATCH
    np.testing.assert_array_equal(cells["tensorflow:tf_clip_by_value"].outputs[0], [0.5, 0.5, 0.5, 0.5])
    assert cells["tensorflow:tf_clip_by_value"].verdict is Verdict.MISMATCH
    assert cells["tensorflow:keras_ops_clip"].verdict is Verdict.MISMATCH


def test_clip_without_bounds_matrix(matrices):
    cells = cells_by_id(matrices["clip"], "no bounds")

    assert cells["torch:torch_clamp"].error.type == "RuntimeError"
    np.testing.assert_allclose(cells["numpy:numpy_clip"].outputs[0], [-1.0, 0.0, 0.3, 2.0], rtol=1e-6)


def test_einsum_size_one_broadcast_matrix(matrices):
    cells = cells_by_id(matrices["einsum"], "size-1 broadcast")
    expected = [[0, 2], [2, 6], [4, 10], [6, 14]]

    assert cells["tensorflow:tf_einsum"].error.type == "InvalidArgumentError"
    np.testing.assert_array_equal(cells["torch:torch_einsum"].outputs[0], expected)
    np.testing.assert_array_equal(cells["numpy:numpy_einsum"].outputs[0], expected)
    assert cells_by_id(matrices["einsum"], "ellipsis form")["tensorflow:tf_einsum"].verdict is Verdict.MATCH


def test_where_one_argument_matrix(matrices):
    cells = cells_by_id(matrices["where"], "one argument, 2-D")

    np.testing.assert_array_equal(cells["tensorflow:tf_where"].outputs[0], [[0, 0], [0, 2], [1, 1]])
    assert cells["tensorflow:tf_where"].verdict is Verdict.MATCH
    assert cells["torch:torch_where"].verdict is Verdict.CONVENTION
    assert len(cells["numpy:numpy_where"].outputs) == 2
    assert cells["numpy:numpy_where"].text == "2 arrays (3,)"
    select = cells_by_id(matrices["where"], "broadcast select")
    assert select["numpy:numpy_argwhere"].outcome is Outcome.NOT_APPLICABLE
    assert select["numpy:numpy_argwhere"].agrees is None


def test_cosine_zero_vectors_matrix(matrices):
    cells = cells_by_id(matrices["cosine_similarity"], "zero vectors")

    np.testing.assert_allclose(cells["torch:torch_cosine_similarity"].outputs[0], [-1.0, 0.0, 0.0], atol=1e-6)
    assert cells["torch:torch_cosine_similarity"].verdict is Verdict.MATCH
    paired = cells["sklearn:sklearn_paired_cosine_distances"]
    np.testing.assert_allclose(paired.outputs[0], [2.0, 0.5, 1.0], atol=1e-6)
    assert paired.verdict is Verdict.CONVENTION
    assert cells["tensorflow:keras_cosine_loss"].verdict is Verdict.CONVENTION


def test_cross_entropy_label_matrix(matrices):
    out_of_range = cells_by_id(matrices["cross_entropy"], "label = classes")
    assert out_of_range["reference"].error.type == "ValueError"
    assert out_of_range["torch:torch_cross_entropy_loss"].error.type == "IndexError"
    assert out_of_range["torch:torch_cross_entropy_loss"].agrees is True
    assert out_of_range["tensorflow:tf_sparse_softmax_cross_entropy_with_logits"].error.type == "InvalidArgumentError"

    ignored = cells_by_id(matrices["cross_entropy"], "label -100")
    # Only row 1 counts: -log softmax([0.5, 2.5, 0.3])[1].
    assert float(ignored["torch:torch_cross_entropy_loss"].outputs[0]) == pytest.approx(0.2200503, abs=1e-6)
    assert ignored["tensorflow:keras_sparse_categorical_crossentropy_logits"].error.type == "InvalidArgumentError"

    all_ignored = cells_by_id(matrices["cross_entropy"], "every label ignored")
    assert np.isnan(all_ignored["torch:torch_cross_entropy_loss"].outputs[0])
    assert float(all_ignored["tensorflow:keras_sparse_categorical_crossentropy_logits"].outputs[0]) == 0.0


def test_cross_entropy_huge_and_nan_logits_matrix(matrices):
    huge = cells_by_id(matrices["cross_entropy"], "huge logits")
    assert float(huge["torch:torch_cross_entropy_loss"].outputs[0][0]) == pytest.approx(2e4)
    assert huge["torch:torch_cross_entropy_loss"].verdict is Verdict.MATCH
    clipped = huge["tensorflow:keras_sparse_categorical_crossentropy_default"]
    assert float(clipped.outputs[0][0]) == pytest.approx(-np.log(1e-7), rel=1e-5)
    assert clipped.verdict is Verdict.MISMATCH

    nan_row = cells_by_id(matrices["cross_entropy"], "NaN logits")["torch:torch_cross_entropy_loss"]
    assert nan_row.outcome is Outcome.NAN_INF
    assert nan_row.verdict is Verdict.MATCH
    empty = cells_by_id(matrices["cross_entropy"], "empty batch")["torch:torch_cross_entropy_loss"]
    assert np.isnan(empty.outputs[0])


def test_softmax_implicit_dim_matrix(matrices):
    cells = cells_by_id(matrices["softmax"], "implicit dim, 3-D")

    torch_cell = cells["torch:torch_functional_softmax"]
    assert torch_cell.verdict is Verdict.MISMATCH
    assert any("dim" in warning for warning in torch_cell.warnings)
    assert cell_text(torch_cell).plain.endswith(f"⚠{len(torch_cell.warnings)}")
    np.testing.assert_allclose(torch_cell.outputs[0].sum(axis=0), np.ones((2, 3)), rtol=1e-6)
    assert cells["tensorflow:tf_softmax"].verdict is Verdict.MATCH


def test_accuracy_empty_batch_matrix(matrices):
    cells = cells_by_id(matrices["accuracy"], "empty batch")

    assert np.isnan(cells["torch:torch_accuracy"].outputs[0])
    assert cells["torch:torch_accuracy"].verdict is Verdict.MATCH
    assert float(cells["tensorflow:keras_accuracy_metric"].outputs[0]) == 0.0
    assert cells["sklearn:sklearn_accuracy_score"].error.type == "ValueError"


# CLI


def xframe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_cli_probe_one_hot_json():
    completed = xframe("probe", "one_hot", "--json")

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["op"] == "one_hot"
    assert document["dtype"] == "float32"
    assert [item["label"] for item in document["formulations"]] == ["reference", "torch", "tf 1", "tf 2", "tf 3", "numpy"]
    probe = next(item for item in document["probes"] if item["name"] == "negative and too large")
    assert probe["inputs"] == {"indices": "[0, -1, 3]"}
    assert probe["params"] == {"depth": "3"}
    cells = {cell["formulation"]: cell for cell in probe["cells"]}
    assert cells["tensorflow:tf_one_hot"]["output"] == [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert cells["tensorflow:tf_one_hot"]["verdict"] == "match"
    assert cells["torch:torch_one_hot"]["outcome"] == "error"
    assert cells["torch:torch_one_hot"]["error"]["type"] == "RuntimeError"
    assert cells["numpy:numpy_eye_indexing"]["error"]["type"] == "IndexError"
    assert any("negative indices" in message for message in probe["diagnostics"])


def test_cli_probe_table_shows_every_probe():
    completed = xframe("probe", "clip", "--dtype", "float64")

    assert completed.returncode == 0, completed.stderr
    for probe in PROBES["clip"]:
        assert probe.name in completed.stdout
    assert "dtype float64" in completed.stdout
    assert "! RuntimeError" in completed.stdout
    assert "np.clip" in completed.stdout


def test_cli_probe_unknown_op_exits_2():
    completed = xframe("probe", "softmaxx")

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert "unknown op 'softmaxx'" in completed.stderr


# UI


def test_picker_loads_probe_into_editors(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "clip")
            op_screen = app.screen
            await pilot.press("f6")
            await pilot.pause()
            assert isinstance(app.screen, ProbePicker)
            await pilot.press("enter")
            await wait_for(pilot, lambda: op_screen.state.request.params == {"min": 0.5, "max": -0.5}, "the probe run")
            await wait_until_settled(pilot)

            assert app.screen is op_screen
            assert op_screen.query_one("#input-x").text == "[-1, 0, 0.3, 2]"
            assert op_screen.query_one("#param-min").text == "0.5"
            assert op_screen.query_one("#param-max").text == "-0.5"
            np.testing.assert_array_equal(op_screen.state.results["torch:torch_clamp"].output, [-0.5] * 4)
            np.testing.assert_array_equal(op_screen.state.results["tensorflow:tf_clip_by_value"].output, [0.5] * 4)

    asyncio.run(scenario())


def test_picker_empties_optional_inputs(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "einsum")
            op_screen = app.screen
            await pilot.press("f6")
            await pilot.pause()
            await pilot.press("down", "down", "enter")
            await wait_for(pilot, lambda: op_screen.state.request.params["equation"] == "...i->i", "the probe run")
            await wait_until_settled(pilot)

            assert op_screen.query_one("#input-b").text == ""
            assert op_screen.state.request.inputs["b"] is None
            np.testing.assert_array_equal(op_screen.state.results["torch:torch_einsum"].output, [5.0, 7.0, 9.0])

    asyncio.run(scenario())


def test_picker_escape_changes_nothing(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "clip")
            op_screen = app.screen
            revision = op_screen.revision
            await pilot.press("f6")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()

            assert app.screen is op_screen
            assert op_screen.revision == revision
            assert op_screen.query_one("#input-x").text == get_op("clip").input_spec("x").default

    asyncio.run(scenario())


def test_matrix_screen_fills_every_cell(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            await open_op(pilot, "cross_entropy")
            op_screen = app.screen
            await pilot.press("f7")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, BehaviourMatrixScreen)
            await wait_for(pilot, lambda: screen.complete, "the probe run")

            table = screen.query_one("DataTable")
            assert table.row_count == len(PROBES["cross_entropy"])
            huge = [row.probe.name for row in screen.rows].index("huge logits")
            # A value in brackets is shown as is, not read as markup.
            assert table.get_cell(str(huge), "torch:torch_cross_entropy_loss").plain == "✓ [2e+04]"
            assert table.get_cell("0", "torch:torch_cross_entropy_loss").plain == "! IndexError"

            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is op_screen
            await wait_until_settled(pilot)

    asyncio.run(scenario())


def test_palette_opens_matrix(worker_pool: WorkerPool):
    async def scenario() -> None:
        app = XFrameApp(pool=worker_pool, show_timings=False, steady=True)
        async with app.run_test(size=SIZE) as pilot:
            app.open_matrix("accuracy")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, BehaviourMatrixScreen)
            assert screen.dtype == "float32"
            await wait_for(pilot, lambda: screen.complete, "the probe run")
            app.open_matrix("clip")
            await pilot.pause()
            assert isinstance(app.screen, BehaviourMatrixScreen)
            assert app.screen.op.id == "clip"
            matrices_open = [item for item in app.screen_stack if isinstance(item, BehaviourMatrixScreen)]
            assert matrices_open == [app.screen]
            await wait_for(pilot, lambda: app.screen.complete, "the probe run")

    asyncio.run(scenario())
