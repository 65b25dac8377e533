"""Gradients: torch autograd and tf.GradientTape against central differences of the float64 reference.

The catalog tests run through the shared worker pool, as the explorer does.
The driver tests call the gradient drivers in this process on real torch and
TensorFlow, with Jacobian-vector products worked out by hand.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.compare import Verdict
from tui.core.gradient_report import GradientCell, gradient_rows, implicit_seed
from tui.core.gradients import (
    MAX_DIFFERENCE_ELEMENTS,
    central_differences,
    float_inputs,
    has_gradients,
    reference_gradients,
    tf_gradients,
    torch_gradients,
)
from tui.core.protocol import read_frame, reply_from_wire, reply_to_wire, write_frame
from tui.core.report import RunState, run_blocking
from tui.core.run import FormulationResult, RunError, RunReply, build_request
from tui.core.workers import WorkerPool

RUN_TIMEOUT = 120.0
C10_LOGITS = [[2.0, 0.0], [0.0, 1.0]]
C10_LABELS = [0, 0]
C10_SUM = [[-0.119203, 0.119203], [-0.731059, 0.731059]]
C10_MEAN = [[-0.0596015, 0.0596015], [-0.3655295, 0.3655295]]
SCALAR_ERROR = "grad can be implicitly created only for scalar outputs"


def run_with_gradients(
    pool: WorkerPool, op_id: str, inputs: dict, params: dict | None = None, dtype: str = "float32"
) -> RunState:
    op = get_op(op_id)
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    request = build_request(op, arrays, params or {}, dtype, grad=True)
    return run_blocking(pool, op, request, timeout=RUN_TIMEOUT)


def cells_by_id(state: RunState, rule: str = "torch") -> dict[str, dict[str, dict[str, GradientCell]]]:
    return {row.formulation.id: row.cells for row in gradient_rows(state, rule)}


def value(cells: dict, formulation_id: str, seed: str, name: str) -> np.ndarray:
    cell = cells[formulation_id][seed][name]
    assert cell.error is None, f"{formulation_id} {seed} d/d{name} raised {cell.error}"
    return cell.value


def verdict(cells: dict, formulation_id: str, seed: str, name: str) -> Verdict:
    comparison = cells[formulation_id][seed][name].comparison
    assert comparison is not None, f"{formulation_id} {seed} d/d{name} has no comparison"
    return comparison.verdict


@pytest.fixture(scope="module")
def c10(worker_pool) -> RunState:
    return run_with_gradients(worker_pool, "cross_entropy", {"logits": C10_LOGITS, "labels": C10_LABELS})


# The field case: per-sample losses, each framework's implicit seed, and sum against mean


def test_c10_per_sample_losses(c10):
    np.testing.assert_allclose(c10.results["reference"].output, [0.126928, 1.313262], atol=1e-6)
    np.testing.assert_allclose(c10.results["torch:torch_cross_entropy_loss"].output, [0.126928, 1.313262], atol=1e-6)


def test_c10_torch_implicit_seed_raises(c10):
    cells = cells_by_id(c10)

    for formulation_id in ("torch:torch_cross_entropy_loss", "torch:torch_nll_of_log_softmax"):
        error = cells[formulation_id]["implicit"]["logits"].error
        assert error is not None, formulation_id
        assert error.type == "RuntimeError"
        assert error.message == SCALAR_ERROR


def test_c10_tensorflow_implicit_seed_is_sum(c10):
    cells = cells_by_id(c10)
    tf_id = "tensorflow:tf_sparse_softmax_cross_entropy_with_logits"

    np.testing.assert_allclose(value(cells, tf_id, "implicit", "logits"), C10_SUM, atol=1e-6)
    np.testing.assert_array_equal(value(cells, tf_id, "implicit", "logits"), value(cells, tf_id, "sum", "logits"))
    assert verdict(cells, tf_id, "implicit", "logits") is Verdict.MATCH


def test_c10_sum_and_mean_seeds(c10):
    cells = cells_by_id(c10)

    for formulation_id in (
        "reference",
        "torch:torch_cross_entropy_loss",
        "tensorflow:tf_sparse_softmax_cross_entropy_with_logits",
        "tensorflow:keras_sparse_categorical_crossentropy_logits",
    ):
        np.testing.assert_allclose(value(cells, formulation_id, "sum", "logits"), C10_SUM, atol=1e-6)
        np.testing.assert_allclose(value(cells, formulation_id, "mean", "logits"), C10_MEAN, atol=1e-6)
    assert verdict(cells, "torch:torch_cross_entropy_loss", "sum", "logits") is Verdict.MATCH
    assert verdict(cells, "torch:torch_cross_entropy_loss", "mean", "logits") is Verdict.MATCH


def test_c10_sum_mean_factor_is_two(c10):
    rows = {row.formulation.id: row for row in gradient_rows(c10)}

    for formulation_id in ("reference", "torch:torch_cross_entropy_loss"):
        assert rows[formulation_id].output_size == 2
        assert rows[formulation_id].sum_mean_ratio() == pytest.approx(2.0, rel=1e-6)


def test_implicit_seed_descriptions():
    assert "raises RuntimeError" in implicit_seed("torch", 2)
    assert "raises RuntimeError" in implicit_seed("torch", 0)
    assert "seeds 1.0" in implicit_seed("torch", 1)
    assert "sum(output)" in implicit_seed("tensorflow", 2)


def test_c10_integer_labels_not_differentiated(c10):
    assert c10.request.grad is True
    assert set(c10.results["reference"].gradients["sum"]) == {"logits"}
    assert set(c10.results["torch:torch_cross_entropy_loss"].gradients["sum"]) == {"logits"}


# Analytic gradients of the catalog ops, through the workers


def test_cross_entropy_gradient_is_softmax_minus_one_hot(worker_pool):
    logits = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1]]
    state = run_with_gradients(worker_pool, "cross_entropy", {"logits": logits, "labels": [0, 1, 2]}, dtype="float64")
    cells = cells_by_id(state)
    expected = [
        [-0.34099886, 0.24243297, 0.09856589],
        [0.10860373, -0.19752094, 0.08891721],
        [0.12416539, 0.0456779, -0.16984329],
    ]

    np.testing.assert_allclose(value(cells, "reference", "sum", "logits"), expected, atol=1e-8)
    np.testing.assert_allclose(value(cells, "torch:torch_cross_entropy_loss", "sum", "logits"), expected, atol=1e-8)
    np.testing.assert_allclose(
        value(cells, "tensorflow:tf_sparse_softmax_cross_entropy_with_logits", "sum", "logits"), expected, atol=1e-8
    )
    assert verdict(cells, "torch:torch_cross_entropy_loss", "sum", "logits") is Verdict.MATCH


def test_scalar_loss_implicit_seed_works_in_torch(worker_pool):
    logits = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1]]
    params = {"reduction": "mean"}
    state = run_with_gradients(worker_pool, "cross_entropy", {"logits": logits, "labels": [0, 1, 2]}, params)
    cells = cells_by_id(state)
    expected = [
        [-0.11366629, 0.08081099, 0.0328553],
        [0.03620124, -0.06584031, 0.02963907],
        [0.04138846, 0.01522597, -0.05661443],
    ]

    implicit = value(cells, "torch:torch_cross_entropy_loss", "implicit", "logits")
    np.testing.assert_allclose(implicit, expected, atol=1e-6)
    np.testing.assert_array_equal(implicit, value(cells, "torch:torch_cross_entropy_loss", "mean", "logits"))
    assert verdict(cells, "torch:torch_cross_entropy_loss", "implicit", "logits") is Verdict.MATCH


def test_softmax_sum_gradient_is_zero(worker_pool):
    # Every row of a softmax sums to 1, so the gradient of the sum of its outputs is 0.
    state = run_with_gradients(worker_pool, "softmax", {"x": [[1.0, 2.0, 3.0], [-2.0, 0.0, 2.0]]}, {"dim": -1})
    cells = cells_by_id(state)

    np.testing.assert_allclose(value(cells, "reference", "sum", "x"), np.zeros((2, 3)), atol=1e-9)
    for formulation_id in ("torch:torch_functional_softmax", "tensorflow:tf_softmax", "tensorflow:keras_softmax_layer"):
        np.testing.assert_allclose(value(cells, formulation_id, "sum", "x"), np.zeros((2, 3)), atol=1e-6)
        assert verdict(cells, formulation_id, "sum", "x") is Verdict.MATCH


def test_cosine_similarity_gradient(worker_pool):
    x = [[1.0, 0.0], [3.0, 4.0]]
    y = [[1.0, 1.0], [4.0, -3.0]]
    state = run_with_gradients(worker_pool, "cosine_similarity", {"x": x, "y": y}, dtype="float64")
    cells = cells_by_id(state)
    # d cos / dx = y / (|x| |y|) - cos * x / |x|^2, and the same with x and y swapped.
    expected_x = [[0.0, 0.70710678], [0.16, -0.12]]
    expected_y = [[0.35355339, -0.35355339], [0.12, 0.16]]

    for formulation_id in ("reference", "torch:torch_cosine_similarity"):
        np.testing.assert_allclose(value(cells, formulation_id, "sum", "x"), expected_x, atol=1e-7)
        np.testing.assert_allclose(value(cells, formulation_id, "sum", "y"), expected_y, atol=1e-7)
    keras = "tensorflow:keras_cosine_loss"
    np.testing.assert_allclose(value(cells, keras, "sum", "x"), np.negative(expected_x), atol=1e-7)
    assert verdict(cells, keras, "sum", "x") is Verdict.CONVENTION
    assert "minus the similarity" in cells[keras]["sum"]["x"].comparison.reason


def test_linear_gradients_follow_the_layouts(worker_pool):
    x = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]
    weight = [[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]]
    state = run_with_gradients(worker_pool, "linear", {"x": x, "weight": weight, "bias": [0.5, -0.5]})
    cells = cells_by_id(state)
    # With seed g = ones (N, out): dx = g @ W, dW = g^T x in torch's (out, in) layout
    # (x^T g in Keras' (in, out) kernel layout), and db = the column sums of g.
    expected = {"x": [[-0.3, 0.7, 0.9], [-0.3, 0.7, 0.9]], "weight": [[1.5, 1.0, 3.0], [1.5, 1.0, 3.0]], "bias": [2.0, 2.0]}

    for formulation_id in ("reference", "torch:torch_functional_linear", "tensorflow:tf_matmul_bias"):
        for name, gradient in expected.items():
            np.testing.assert_allclose(value(cells, formulation_id, "sum", name), gradient, atol=1e-6)
    np.testing.assert_allclose(value(cells, "reference", "mean", "weight"), np.divide(expected["weight"], 4), atol=1e-9)
    np.testing.assert_allclose(np.transpose(expected["weight"]), np.transpose(x) @ np.ones((2, 2)))


def test_copied_weights_get_no_gradient(worker_pool):
    # load_state_dict and set_weights copy the values into the layer's own parameters,
    # so no gradient reaches the tensors passed in; x still gets one.
    state = run_with_gradients(
        worker_pool, "linear", {"x": [[1.0, 2.0]], "weight": [[1.0, 0.0], [0.0, 1.0]], "bias": [0.0, 0.0]}
    )
    cells = cells_by_id(state)

    for formulation_id in ("torch:torch_linear_module", "tensorflow:keras_dense"):
        for name in ("weight", "bias"):
            error = cells[formulation_id]["sum"][name].error
            assert error is not None, (formulation_id, name)
            assert error.type == "NoGradient"
        assert verdict(cells, formulation_id, "sum", "x") is Verdict.MATCH
    assert "weight.grad is None" in cells["torch:torch_linear_module"]["sum"]["weight"].error.message


def test_clip_bounds_are_kinks(worker_pool):
    state = run_with_gradients(worker_pool, "clip", {"x": [-1.5, 0.0, 0.3, 1.0, 2.5]}, {"min": 0.0, "max": 1.0})
    cells = cells_by_id(state)
    reference = state.results["reference"].gradients

    # At x = min and x = max the one-sided derivatives are 0 and 1, and the central difference 0.5.
    np.testing.assert_allclose(reference["sum"]["x"], [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(reference["sum:forward"]["x"], [0.0, 1.0, 1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(reference["sum:backward"]["x"], [0.0, 0.0, 1.0, 1.0, 0.0], atol=1e-9)
    for formulation_id in ("torch:torch_clamp", "tensorflow:tf_clip_by_value", "tensorflow:keras_ops_clip"):
        np.testing.assert_array_equal(value(cells, formulation_id, "sum", "x"), [0.0, 1.0, 1.0, 1.0, 0.0])
        assert verdict(cells, formulation_id, "sum", "x") is Verdict.CONVENTION
        assert "no derivative at 2 elements" in cells[formulation_id]["sum"]["x"].comparison.reason


def test_smooth_clip_has_no_one_sided_entries(worker_pool):
    state = run_with_gradients(worker_pool, "clip", {"x": [-1.5, 0.3, 2.5]}, {"min": 0.0, "max": 1.0})

    assert set(state.results["reference"].gradients) == {"sum", "mean"}
    assert verdict(cells_by_id(state), "torch:torch_clamp", "sum", "x") is Verdict.MATCH


# Half precision: frameworks differentiate in float16, the reference in float64 on rounded inputs


def test_float16_gradients(worker_pool):
    state = run_with_gradients(
        worker_pool, "cross_entropy", {"logits": [[2.0, 1.0, 0.1]], "labels": [0]}, {"reduction": "sum"}, "float16"
    )
    cells = cells_by_id(state)
    # 0.1 rounds to 0.0999755859375 in float16, and the reference differentiates that value.
    expected = [[-0.34099728, 0.24243355, 0.09856372]]

    np.testing.assert_allclose(value(cells, "reference", "sum", "logits"), expected, atol=1e-9)
    assert value(cells, "reference", "sum", "logits").dtype == np.float64
    for formulation_id in ("torch:torch_cross_entropy_loss", "tensorflow:tf_sparse_softmax_cross_entropy_with_logits"):
        gradient = value(cells, formulation_id, "sum", "logits")
        assert gradient.dtype == np.float16, formulation_id
        np.testing.assert_allclose(gradient, expected, rtol=2e-3, atol=1e-3)
        comparison = cells[formulation_id]["sum"]["logits"].comparison
        assert comparison.tolerance.rtol == 1e-3, "compared under float16's tolerance"


def test_bfloat16_gradients_arrive_as_float32(worker_pool):
    state = run_with_gradients(
        worker_pool, "cross_entropy", {"logits": [[2.0, 1.0, 0.1]], "labels": [0]}, {"reduction": "sum"}, "bfloat16"
    )
    cells = cells_by_id(state)

    gradient = value(cells, "torch:torch_cross_entropy_loss", "sum", "logits")
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, [[-0.3410, 0.2424, 0.0986]], atol=5e-3)
    assert cells["torch:torch_cross_entropy_loss"]["sum"]["logits"].comparison.tolerance.rtol == 1.6e-2


# Which ops and inputs get gradients


def test_ops_without_gradients():
    assert has_gradients(get_op("one_hot")) is False
    assert has_gradients(get_op("accuracy")) is False
    for op_id in ("softmax", "cross_entropy", "cosine_similarity", "clip", "linear", "einsum", "where"):
        assert has_gradients(get_op(op_id)) is True, op_id


def test_float_inputs_skip_integer_and_bool_inputs():
    where = get_op("where")
    condition = np.array([True, False])

    assert float_inputs(where, {"condition": condition, "x": np.ones(2), "y": np.zeros(2)}) == ["x", "y"]
    assert float_inputs(where, {"condition": condition, "x": None, "y": None}) == []
    assert float_inputs(get_op("cross_entropy"), {"logits": np.ones((2, 2)), "labels": np.zeros(2)}) == ["logits"]


def test_where_select_gradients_are_masks(worker_pool):
    condition = [[True, False], [False, True]]
    inputs = {"condition": condition, "x": [[1.0, 2.0], [3.0, 4.0]], "y": [[-1.0, -2.0], [-3.0, -4.0]]}
    state = run_with_gradients(worker_pool, "where", inputs)
    cells = cells_by_id(state)

    for formulation_id in ("reference", "torch:torch_where", "tensorflow:tf_where"):
        np.testing.assert_allclose(value(cells, formulation_id, "sum", "x"), [[1.0, 0.0], [0.0, 1.0]], atol=1e-6)
        np.testing.assert_allclose(value(cells, formulation_id, "sum", "y"), [[0.0, 1.0], [1.0, 0.0]], atol=1e-6)
    assert set(state.results["reference"].gradients["sum"]) == {"x", "y"}


def test_where_without_float_inputs_has_no_gradients(worker_pool):
    state = run_with_gradients(worker_pool, "where", {"condition": [[True, False], [False, True]]})

    for formulation_id in ("reference", "torch:torch_where", "tensorflow:tf_where"):
        assert state.results[formulation_id].gradients == {}, formulation_id


def test_failed_forward_has_no_gradients(worker_pool):
    state = run_with_gradients(worker_pool, "cross_entropy", {"logits": [[2.0, 1.0]], "labels": [5]})
    rows = {row.formulation.id: row for row in gradient_rows(state)}

    assert state.results["torch:torch_cross_entropy_loss"].error is not None
    assert rows["torch:torch_cross_entropy_loss"].cells == {}


def test_no_gradients_without_grad_flag(run_op):
    run = run_op("softmax", {"x": [[1.0, 2.0]]})

    assert run["reference"].gradients == {}
    assert run["torch:torch_functional_softmax"].gradients == {}


# Central differences against derivatives known in closed form


def test_central_differences_of_a_cube():
    arguments = {"x": np.array([-2.0, 0.5, 3.0])}

    backward, central, forward = central_differences(lambda x: x**3, arguments, "x", deadline=float("inf"))

    np.testing.assert_allclose(central, [12.0, 0.75, 27.0], rtol=1e-9)
    np.testing.assert_allclose(forward, [12.0, 0.75, 27.0], rtol=1e-4)
    np.testing.assert_allclose(backward, [12.0, 0.75, 27.0], rtol=1e-4)
    np.testing.assert_array_equal(arguments["x"], [-2.0, 0.5, 3.0])


def test_central_differences_of_a_vector_function():
    # d sum(softmax(x) * v) / dx = s * (v - s . v), the softmax Jacobian-vector product.
    v = np.array([0.5, -1.0, 2.0])

    def weighted_softmax(x):
        exp = np.exp(x - x.max())
        return exp / exp.sum() * v

    gradients = reference_gradients(weighted_softmax, {"x": np.array([1.0, 2.0, 3.0])}, ["x"])

    np.testing.assert_allclose(gradients["sum"]["x"], [-0.05678847, -0.52145977, 0.57824824], atol=1e-8)
    np.testing.assert_allclose(gradients["mean"]["x"], np.divide([-0.05678847, -0.52145977, 0.57824824], 3), atol=1e-8)


def test_reference_gradients_hard_inputs():
    square = lambda x: x * x  # noqa: E731

    zero_d = reference_gradients(square, {"x": np.array(3.0)}, ["x"])
    empty = reference_gradients(square, {"x": np.zeros((0, 3))}, ["x"])
    with_nan = reference_gradients(square, {"x": np.array([np.nan, 1.0])}, ["x"])
    with np.errstate(over="ignore"):
        huge = reference_gradients(square, {"x": np.array([1e200])}, ["x"])

    assert zero_d["sum"]["x"] == pytest.approx(6.0, rel=1e-9)
    assert zero_d["sum"]["x"].shape == ()
    assert empty["sum"]["x"].shape == (0, 3)
    assert np.isnan(with_nan["sum"]["x"][0])
    assert with_nan["sum"]["x"][1] == pytest.approx(2.0, rel=1e-9), "a NaN output elsewhere adds nothing"
    # The output overflows to inf on both sides, so no difference is measured there.
    assert huge["sum"]["x"][0] == 0.0


def test_reference_gradients_kink_of_abs():
    gradients = reference_gradients(lambda x: np.abs(x), {"x": np.array([-1.0, 0.0, 2.0])}, ["x"])

    np.testing.assert_allclose(gradients["sum"]["x"], [-1.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(gradients["sum:forward"]["x"], [-1.0, 1.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(gradients["sum:backward"]["x"], [-1.0, -1.0, 1.0], atol=1e-9)


def test_reference_gradients_size_limit():
    arguments = {"x": np.ones(MAX_DIFFERENCE_ELEMENTS + 1)}

    gradients = reference_gradients(lambda x: np.sin(x), arguments, ["x"])

    error = gradients["sum"]["x"]
    assert isinstance(error, RunError)
    assert error.type == "TooLarge"
    assert f"{MAX_DIFFERENCE_ELEMENTS:,}" in error.message


def test_reference_gradients_exception_is_a_result():
    def failing(x):
        if x[0] != 1.0:
            raise ValueError("moved off the point")
        return x

    gradients = reference_gradients(failing, {"x": np.array([1.0])}, ["x"])

    assert gradients["sum"]["x"] == RunError("ValueError", "moved off the point")


# The framework drivers, called in this process


def test_torch_driver_softmax_jacobian_vector_product():
    import torch

    v = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    arguments = {"x": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)}

    def weighted_softmax(x):
        return torch.softmax(x, dim=-1) * v

    gradients = torch_gradients(weighted_softmax, arguments, ["x"], "sum")

    np.testing.assert_allclose(gradients["x"].numpy(), [0.08192507, -0.02203304, -0.05989202], atol=1e-8)
    assert arguments["x"].requires_grad is False
    with pytest.raises(RuntimeError, match=SCALAR_ERROR):
        torch_gradients(weighted_softmax, arguments, ["x"], "implicit")


def test_tensorflow_driver_softmax_jacobian_vector_product():
    import tensorflow as tf

    v = tf.constant([1.0, 0.0, 0.0], dtype=tf.float64)
    arguments = {"x": tf.constant([1.0, 2.0, 3.0], dtype=tf.float64)}

    def weighted_softmax(x):
        return tf.nn.softmax(x) * v

    for seed in ("implicit", "sum"):
        gradients = tf_gradients(weighted_softmax, arguments, ["x"], seed)
        np.testing.assert_allclose(gradients["x"].numpy(), [0.08192507, -0.02203304, -0.05989202], atol=1e-8)
    mean = tf_gradients(weighted_softmax, arguments, ["x"], "mean")
    np.testing.assert_allclose(mean["x"].numpy(), np.divide([0.08192507, -0.02203304, -0.05989202], 3), atol=1e-8)


# Transport and the CLI


def test_gradients_cross_the_protocol():
    gradients = {
        "implicit": {"x": RunError("RuntimeError", SCALAR_ERROR)},
        "sum": {"x": np.array([[1.0, 2.0]], dtype=np.float32)},
        "mean": {"x": np.array([[0.5, 1.0]], dtype=np.float32)},
    }
    result = FormulationResult("torch:f", "torch", [np.ones(2, dtype=np.float32)], ["torch.float32"], gradients=gradients)
    stream = io.BytesIO()

    write_frame(stream, reply_to_wire(RunReply("torch", "softmax", 3, [result])))
    stream.seek(0)
    decoded = reply_from_wire(read_frame(stream)).results[0].gradients

    assert decoded["implicit"]["x"] == RunError("RuntimeError", SCALAR_ERROR)
    np.testing.assert_array_equal(decoded["sum"]["x"], [[1.0, 2.0]])
    assert decoded["mean"]["x"].dtype == np.float32


def xframe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_grad_json_c10():
    completed = xframe("run", "cross_entropy", "-i", "logits=[[2, 0], [0, 1]]", "-i", "labels=[0, 0]", "--grad", "--json")

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    results = {result["id"]: result for result in document["results"]}
    torch_gradients_json = results["torch:torch_cross_entropy_loss"]["gradients"]
    assert torch_gradients_json["implicit"]["logits"]["error"] == {"type": "RuntimeError", "message": SCALAR_ERROR}
    assert torch_gradients_json["implicit"]["logits"]["value"] is None
    np.testing.assert_allclose(torch_gradients_json["sum"]["logits"]["value"], C10_SUM, atol=1e-6)
    assert torch_gradients_json["mean"]["logits"]["comparison"]["verdict"] == "match"
    tf_json = results["tensorflow:tf_sparse_softmax_cross_entropy_with_logits"]["gradients"]
    np.testing.assert_allclose(tf_json["implicit"]["logits"]["value"], C10_SUM, atol=1e-6)
    assert results["tensorflow:tf_sparse_softmax_cross_entropy_with_logits"]["gradient_sum_mean_ratio"] == pytest.approx(2.0)
    np.testing.assert_allclose(results["reference"]["gradients"]["mean"]["logits"]["value"], C10_MEAN, atol=1e-6)
    assert document["gradient_inputs"] == ["logits"]
    assert "raises RuntimeError" in document["gradient_seeds"]["implicit"]["torch"]
    assert "ones_like(output) / 2" in document["gradient_seeds"]["mean"]
    assert "output.backward(torch.ones_like(output))" in document["gradient_drivers"]["torch"]
    assert "tf.GradientTape()" in document["gradient_drivers"]["tensorflow"]


def test_cli_json_without_grad_has_no_gradient_entries():
    completed = xframe("run", "clip", "--json")

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert "gradient_drivers" not in document
    assert all("gradients" not in result for result in document["results"])


def test_cli_grad_rejects_op_without_gradients():
    completed = xframe("run", "one_hot", "--grad")

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "one_hot has no gradients" in completed.stderr


def test_cli_grad_rich_output():
    completed = xframe("run", "cross_entropy", "-i", "logits=[[2, 0], [0, 1]]", "-i", "labels=[0, 0]", "--grad")

    assert completed.returncode == 0, completed.stderr
    assert "Gradients" in completed.stdout
    assert SCALAR_ERROR in " ".join(completed.stdout.split())
    assert "sum ÷ mean = 2" in completed.stdout
    assert "def torch_gradients(fn, arguments, wrt, seed):" in completed.stdout
