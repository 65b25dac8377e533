"""The headless CLI: `list` and `run`, as a user calls them, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def xframe(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def by_id(document: dict) -> dict[str, dict]:
    return {result["id"]: result for result in document["results"]}


def test_list_prints_every_op():
    completed = xframe("list")

    assert completed.returncode == 0
    for op_id in ("softmax", "cross_entropy", "cosine_similarity"):
        assert op_id in completed.stdout
    assert "test_crash" not in completed.stdout


def test_run_cosine_json_default_inputs():
    completed = xframe("run", "cosine_similarity", "--json")

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    document = json.loads(completed.stdout)
    assert document["op"] == "cosine_similarity"
    assert document["dtype"] == "float32"
    assert document["inputs"]["x"] == [[0.26304135, 0.91725843, 0.61099966, 0.40816231, 0.93606288, 0.52462691]]
    results = by_id(document)
    assert results["reference"]["output"] == pytest.approx([0.83893446], abs=1e-8)
    assert results["torch:torch_cosine_similarity"]["output"] == pytest.approx([0.83893446], abs=1e-6)
    assert results["sklearn:sklearn_cosine_similarity"]["output"][0] == pytest.approx([0.83893446], abs=1e-6)
    assert results["tensorflow:keras_cosine_loss"]["output"] == pytest.approx([-0.83893446], abs=1e-6)
    assert results["sklearn:sklearn_paired_cosine_distances"]["output"] == pytest.approx([0.16106554], abs=1e-6)
    assert results["torch:torch_cosine_similarity"]["comparison"]["verdict"] == "match"
    assert results["tensorflow:keras_cosine_loss"]["comparison"]["verdict"] == "differs by convention"
    assert "minus the similarity" in results["tensorflow:keras_cosine_loss"]["comparison"]["reason"]
    assert set(document["timings"]) == {"reference", "torch", "tensorflow", "sklearn"}
    for timing in document["timings"].values():
        assert timing["framework_seconds"] > 0
        assert timing["transport_seconds"] >= 0


def test_run_json_result_fields():
    completed = xframe("run", "cross_entropy", "-i", "logits=[[2.0, 1.0, 0.1]]", "-i", "labels=[0]", "--json")

    assert completed.returncode == 0, completed.stderr
    results = by_id(json.loads(completed.stdout))
    torch_result = results["torch:torch_cross_entropy_loss"]
    assert set(torch_result) >= {"backend", "formulation", "code", "output", "shape", "dtype", "error", "warnings", "comparison"}
    assert torch_result["backend"] == "torch"
    assert torch_result["formulation"] == "torch.nn.CrossEntropyLoss, classes on axis 1"
    assert "loss = torch.nn.CrossEntropyLoss(" in torch_result["code"]
    assert "return loss(logits, labels)" in torch_result["code"]
    assert torch_result["output"] == pytest.approx([0.417030], abs=1e-6)
    assert torch_result["shape"] == [1]
    assert torch_result["dtype"] == "torch.float32"
    assert torch_result["error"] is None
    keras_default = results["tensorflow:keras_sparse_categorical_crossentropy_default"]
    assert keras_default["output"] == pytest.approx([0.741937], abs=1e-6)
    assert keras_default["comparison"]["verdict"] == "mismatch"
    one_hot_only = results["tensorflow:tf_softmax_cross_entropy_with_logits"]
    assert one_hot_only["output"] is None
    assert one_hot_only["error"]["type"] == "NotApplicable"


def test_run_framework_error_is_a_result():
    completed = xframe("run", "cross_entropy", "-i", "logits=[[2.0, 1.0, 0.1]]", "-i", "labels=[3]", "--json")

    assert completed.returncode == 0, completed.stderr
    results = by_id(json.loads(completed.stdout))
    assert results["torch:torch_cross_entropy_loss"]["error"]["type"] == "IndexError"
    assert results["torch:torch_cross_entropy_loss"]["output"] is None
    assert results["tensorflow:tf_sparse_softmax_cross_entropy_with_logits"]["error"]["type"] == "InvalidArgumentError"
    assert "outside the classes 0..2" in results["reference"]["error"]["message"]


def test_run_nan_written_as_string():
    completed = xframe("run", "softmax", "-i", "x=[[1.0, nan]]", "--json")

    assert completed.returncode == 0, completed.stderr
    results = by_id(json.loads(completed.stdout))
    assert results["reference"]["output"] == [["nan", "nan"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "softmax", "-i", "x=[[1, 2], [3]]"], "input x: col 10: row 2 has 1 item, expected 2"),
        (["run", "softmax", "-i", "x=soft(3)"], "input x: col 1: unknown name 'soft'"),
        (["run", "softmax", "-p", "dim=5"], "param dim: dim=5 is out of range for a 2-D input (allowed -2..1)"),
        (["run", "cross_entropy", "-p", "reduction=None"], "param reduction: 'None' is not one of: none, mean, sum"),
        (["run", "cross_entropy", "-i", "labels=[0.5, 1, 2]"], "input labels: expected integers"),
        (["run", "nosuchop"], "unknown op 'nosuchop'"),
        (["run", "softmax", "-i", "x"], "--input 'x' is not of the form NAME=VALUE"),
    ],
)
def test_run_invalid_input_exits_2(args, message):
    completed = xframe(*args)

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1
    assert message in completed.stderr


def test_run_rich_output_has_every_backend():
    completed = xframe("run", "softmax")

    assert completed.returncode == 0, completed.stderr
    for title in ("float64 reference", "PyTorch", "TensorFlow / Keras"):
        assert title in completed.stdout
    assert "agreement:" in completed.stdout
