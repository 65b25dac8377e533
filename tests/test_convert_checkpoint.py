"""Converting real TensorFlow checkpoints (written by tf.compat.v1 Saver) to PyTorch."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from convert_fixtures import (
    MIDDLE_SLOT_NAME,
    PROBE_BIAS,
    PROBE_EXPECTED,
    PROBE_KERNEL,
    PROBE_X,
    TINY_HEADS,
    UNKNOWN_NAME,
    probe_prefix,
    tiny_bert_prefix,
    tiny_bert_with_extras_prefix,
)
from tui.core.convert.bert_torch import BertModel
from tui.core.convert.checkpoint import CheckpointFile
from tui.core.convert.cli import build_parser, run_convert
from tui.core.convert.config import DEMO_CONFIG, ConfigError
from tui.core.convert.convert import (
    ConvertRequest,
    convert_checkpoint,
    fill_parameters,
    list_variables,
    map_variables,
)
from tui.core.convert.demo import ensure_demo_checkpoint, write_checkpoint
from tui.core.convert.events import ParityEvent, StepEvent, VariableEvent
from tui.core.convert.parity import compare, layer_names, probe_inputs
from tui.core.convert.source import CheckpointError


@pytest.fixture(scope="session")
def probe(tmp_path_factory) -> Path:
    return probe_prefix(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return tiny_bert_prefix(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_bert_extras(tmp_path_factory) -> Path:
    return tiny_bert_with_extras_prefix(tmp_path_factory)


@pytest.fixture(scope="module")
def converted(tiny_bert):
    events = []
    result = convert_checkpoint(ConvertRequest(str(tiny_bert), heads=TINY_HEADS), events.append)
    return result, events


@pytest.fixture(scope="module")
def converted_forgetting_transpose(tiny_bert):
    request = ConvertRequest(str(tiny_bert), heads=TINY_HEADS, forget_transpose=True)
    return convert_checkpoint(request, lambda event: None)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Keep the CLI's log file and any demo out of the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


class PoolerProbe(nn.Module):
    """Just a pooler.dense of 3 inputs and 2 outputs, the shape of the probe checkpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(3, 2)


def convert_probe(prefix: Path, forget_transpose: bool = False):
    checkpoint = CheckpointFile(prefix, "probe")
    model = PoolerProbe()
    rows = list_variables(checkpoint, lambda event: None)
    targets = map_variables(model, rows, forget_transpose, lambda event: None)
    fill_parameters(checkpoint, rows, targets, lambda event: None)
    return model, {row.tf_name: row for row in rows}


def test_probe_rows(probe):
    _, rows = convert_probe(probe)

    kernel = rows["bert/pooler/dense/kernel"]
    assert (kernel.tf_shape, kernel.torch_name, kernel.torch_shape) == ([3, 2], "pooler.dense.weight", [2, 3])
    assert kernel.transposed is True
    assert kernel.status == "loaded"

    bias = rows["bert/pooler/dense/bias"]
    assert (bias.tf_shape, bias.torch_name, bias.torch_shape) == ([2], "pooler.dense.bias", [2])
    assert bias.transposed is False
    assert bias.status == "loaded"

    for slot in ("adam_m", "adam_v"):
        row = rows[f"bert/pooler/dense/kernel/{slot}"]
        assert (row.status, row.reason) == ("skipped", f"optimizer slot ({slot})")
        assert row.torch_name == ""

    step = rows["global_step"]
    assert (step.status, step.reason) == ("skipped", "step counter (global_step)")
    assert (step.tf_shape, step.dtype) == ([], "int64")


def test_probe_parity(probe):
    model, _ = convert_probe(probe)
    reader = tf.train.load_checkpoint(str(probe))

    with torch.no_grad():
        actual = model.pooler.dense(torch.from_numpy(PROBE_X)).numpy()
    kernel = reader.get_tensor("bert/pooler/dense/kernel")
    bias = reader.get_tensor("bert/pooler/dense/bias")
    expected = (tf.constant(PROBE_X) @ kernel + bias).numpy()

    np.testing.assert_array_equal(model.pooler.dense.weight.detach().numpy(), PROBE_KERNEL.T)
    np.testing.assert_array_equal(model.pooler.dense.bias.detach().numpy(), PROBE_BIAS)
    np.testing.assert_allclose(actual, PROBE_EXPECTED, rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(expected, PROBE_EXPECTED, rtol=1.3e-6, atol=1e-5)
    row = compare("pooler", actual, expected, depth=0)
    assert row.within_tolerance
    assert row.min_cosine == pytest.approx(1.0)


def test_probe_forgetting_transpose_fails_row(probe):
    model, rows = convert_probe(probe, forget_transpose=True)

    kernel = rows["bert/pooler/dense/kernel"]
    assert kernel.status == "failed"
    assert kernel.transposed is False
    assert kernel.reason == "shape mismatch: PyTorch expects (2, 3), the checkpoint gives (3, 2)"
    assert rows["bert/pooler/dense/bias"].status == "loaded"


def test_tiny_bert_every_layer_matches(converted):
    result, _ = converted

    assert [row.layer for row in result.parity] == ["embeddings", "layer 0", "layer 1", "pooler"]
    for row in result.parity:
        assert row.within_tolerance, row
        assert row.max_abs_diff < 1e-4, row
        assert row.min_cosine > 0.999999, row
    assert result.summary.first_divergent_layer is None
    assert result.summary.ok


def test_tiny_bert_counts(converted):
    result, _ = converted
    model_variables = 5 + 16 * DEMO_CONFIG.num_hidden_layers + 2
    head_variables = 7

    assert result.summary.counts["loaded"] == model_variables
    assert result.summary.counts["failed"] == 0
    assert result.summary.counts["skipped"] == 2 * (model_variables + head_variables) + head_variables + 1
    assert result.summary.unfilled == []
    assert result.config == DEMO_CONFIG


def test_tiny_bert_skips_heads_and_slots(converted):
    result, _ = converted
    rows = {row.tf_name: row for row in result.rows}

    assert rows["cls/predictions/output_bias"].reason == "not part of the model (outside the bert/ scope)"
    assert rows["bert/encoder/layer_1/output/dense/kernel/adam_v"].reason == "optimizer slot (adam_v)"
    assert rows["global_step"].reason == "step counter (global_step)"
    intermediate = rows["bert/encoder/layer_1/intermediate/dense/kernel"]
    assert (intermediate.tf_shape, intermediate.torch_shape) == ([32, 64], [64, 32])
    assert intermediate.transposed is True


def test_tiny_bert_event_order(converted):
    _, events = converted
    steps = [(event.step, event.status) for event in events if isinstance(event, StepEvent)]

    assert steps == [
        ("build", "started"),
        ("build", "finished"),
        ("list", "started"),
        ("list", "finished"),
        ("map", "started"),
        ("map", "finished"),
        ("fill", "started"),
        ("fill", "finished"),
        ("parity", "started"),
        ("parity", "finished"),
    ]
    assert events[-1].kind == "summary"
    kernel_events = [
        event for event in events if isinstance(event, VariableEvent) and event.row.tf_name == "bert/pooler/dense/kernel"
    ]
    statuses = [event.row.status for event in kernel_events]
    assert statuses == ["listed", "mapped", "loaded"]
    assert sum(isinstance(event, ParityEvent) for event in events) == 4


def test_forget_transpose_diverges_at_layer_0(converted_forgetting_transpose):
    result = converted_forgetting_transpose
    parity = {row.layer: row for row in result.parity}

    assert result.summary.first_divergent_layer == "layer 0"
    assert parity["embeddings"].within_tolerance
    assert not parity["layer 0"].within_tolerance
    assert parity["layer 0"].max_abs_diff > 0.1
    assert parity["layer 0"].min_cosine < 0.9
    assert not result.summary.ok


def test_forget_transpose_square_kernels_load(converted_forgetting_transpose):
    rows = {row.tf_name: row for row in converted_forgetting_transpose.rows}

    query = rows["bert/encoder/layer_0/attention/self/query/kernel"]
    assert (query.status, query.transposed, query.torch_shape) == ("loaded", False, [32, 32])
    intermediate = rows["bert/encoder/layer_0/intermediate/dense/kernel"]
    assert intermediate.status == "failed"
    assert intermediate.reason == "shape mismatch: PyTorch expects (64, 32), the checkpoint gives (32, 64)"
    output = rows["bert/encoder/layer_1/output/dense/kernel"]
    assert output.reason == "shape mismatch: PyTorch expects (32, 64), the checkpoint gives (64, 32)"
    assert converted_forgetting_transpose.summary.counts["failed"] == 4
    assert "encoder.layer.0.intermediate.dense.weight" in converted_forgetting_transpose.summary.unfilled


def test_unknown_name_is_failed_row(tiny_bert_extras):
    result = convert_checkpoint(ConvertRequest(str(tiny_bert_extras), heads=TINY_HEADS))
    rows = {row.tf_name: row for row in result.rows}

    unknown = rows[UNKNOWN_NAME]
    assert unknown.status == "failed"
    assert unknown.torch_name == "encoder.layer.0.attention.self.rotary.weight"
    assert unknown.reason == "no such attribute 'rotary' in encoder.layer.0.attention.self (BertSelfAttention)"
    assert rows[MIDDLE_SLOT_NAME].status == "skipped"
    assert rows[MIDDLE_SLOT_NAME].reason == "optimizer slot (adam_m)"
    assert result.summary.counts["failed"] == 1
    assert result.summary.first_divergent_layer is None


def test_out_round_trip(tiny_bert, tmp_path, converted):
    from safetensors.torch import load_file

    out = tmp_path / "bert.safetensors"
    result = convert_checkpoint(ConvertRequest(str(tiny_bert), heads=TINY_HEADS, out=str(out)))
    fresh = BertModel(result.config).eval()
    missing, unexpected = fresh.load_state_dict(load_file(str(out)), strict=True)

    inputs = [torch.from_numpy(array) for array in probe_inputs(result.config)]
    with torch.no_grad():
        reloaded = fresh(*inputs)
        original = converted[0].model(*inputs)
    assert (missing, unexpected) == ([], [])
    before = original.hidden_states + [original.pooled]
    after = reloaded.hidden_states + [reloaded.pooled]
    for name, expected, actual in zip(layer_names(result.config), before, after):
        assert torch.equal(expected, actual), name


def test_demo_generated_when_missing(tmp_path):
    cache = tmp_path / "demo-cache"

    prefix = ensure_demo_checkpoint(cache)
    index = prefix.with_name("model.ckpt.index")
    written = index.stat().st_mtime_ns
    again = ensure_demo_checkpoint(cache)

    assert prefix == cache / "demo-bert-v1" / "model.ckpt"
    assert index.is_file()
    assert again == prefix
    assert index.stat().st_mtime_ns == written
    assert [path.name for path in cache.iterdir()] == ["demo-bert-v1"]


def test_demo_converts_with_default_heads(tmp_path):
    result = convert_checkpoint(ConvertRequest(cache=tmp_path))

    assert result.summary.checkpoint == "built-in demo"
    assert result.config.num_attention_heads == DEMO_CONFIG.num_attention_heads
    assert result.summary.ok


def test_explicit_path_needs_heads(tiny_bert):
    with pytest.raises(ConfigError, match="hidden size 32 is not a multiple of 64"):
        convert_checkpoint(ConvertRequest(str(tiny_bert)))


def test_object_based_checkpoint_lists(tmp_path):
    checkpoint = tf.train.Checkpoint(weights=tf.Variable(np.ones((2, 3), dtype=np.float32)))
    prefix = checkpoint.write(str(tmp_path / "object" / "ckpt"))
    events = []

    with pytest.raises(ConfigError, match="variable bert/embeddings/word_embeddings is missing"):
        convert_checkpoint(ConvertRequest(prefix), events.append)

    rows = {event.row.tf_name: event.row for event in events if isinstance(event, VariableEvent)}
    assert rows["weights/.ATTRIBUTES/VARIABLE_VALUE"].tf_shape == [2, 3]
    assert rows["weights/.ATTRIBUTES/VARIABLE_VALUE"].size == 6
    assert rows["_CHECKPOINTABLE_OBJECT_GRAPH"].dtype == "string"


def run_cli(*arguments: str) -> int:
    return run_convert(build_parser().parse_args(list(arguments)))


def test_cli_corrupt_index(tmp_path, capfd):
    (tmp_path / "model.ckpt.index").write_bytes(np.random.default_rng(0).bytes(512))
    path = str(tmp_path / "model.ckpt")

    code = run_cli(path)

    out, err = capfd.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"xframe-tui convert: error: {path}: not a readable checkpoint (")


def test_cli_missing_path(tmp_path, capfd):
    path = str(tmp_path / "missing" / "model.ckpt")

    code = run_cli(path)

    out, err = capfd.readouterr()
    assert code == 2
    assert out == ""
    assert err == f"xframe-tui convert: error: {path}: checkpoint not found (no such file or directory)\n"


@pytest.fixture
def truncated(tiny_bert, tmp_path) -> Path:
    for source in tiny_bert.parent.glob("model.ckpt.*"):
        data = source.read_bytes()
        if source.name.startswith("model.ckpt.data"):
            data = data[: len(data) // 2]
        (tmp_path / source.name).write_bytes(data)
    return tmp_path / "model.ckpt"


def test_cli_truncated_data(truncated, capfd):
    code = run_cli(str(truncated), "--heads", "4")

    out, err = capfd.readouterr()
    size = os.path.getsize(f"{truncated}.data-00000-of-00001")
    assert code == 2
    assert out == ""
    assert err == (
        f"xframe-tui convert: error: {truncated}: data file is truncated "
        f"({size} bytes, the index lists {2 * size} bytes of tensors)\n"
    )


def test_reading_truncated_tensor_raises(truncated):
    reader = tf.train.load_checkpoint(str(truncated))
    checkpoint = CheckpointFile.__new__(CheckpointFile)
    checkpoint.display, checkpoint._reader = "truncated", reader

    with pytest.raises(CheckpointError, match="truncated: reading variable global_step failed"):
        checkpoint.read("global_step")


def test_cli_invalid_heads(tiny_bert, capfd):
    code = run_cli(str(tiny_bert), "--heads", "5")

    out, err = capfd.readouterr()
    assert code == 2
    assert "[2/4] List the checkpoint variables: 139 variables" in out
    expected = f"{tiny_bert}: invalid head count 5: it does not divide hidden size 32"
    assert err == f"xframe-tui convert: error: {expected}\n"


def test_cli_tables_and_exit_status(tiny_bert, capfd):
    code = run_cli(str(tiny_bert), "--heads", "4")

    out, err = capfd.readouterr()
    assert code == 0
    assert err == ""
    assert "[4/4] Fill the parameters: 39 parameters, 20,832 values" in out
    assert "parity: every layer matches TensorFlow within tolerance" in out
    kernel_line = next(line for line in out.splitlines() if line.startswith("bert/pooler/dense/kernel "))
    assert kernel_line.split() == [
        "bert/pooler/dense/kernel",
        "(32,",
        "32)",
        "float32",
        "1,024",
        "pooler.dense.weight",
        "(32,",
        "32)",
        "yes",
        "loaded",
    ]


def test_cli_forget_transpose_exit_status(tiny_bert, capfd):
    code = run_cli(str(tiny_bert), "--heads", "4", "--forget-transpose")

    out, _ = capfd.readouterr()
    assert code == 1
    assert "first divergent layer: layer 0" in out


def test_cli_unwritable_out(tiny_bert, tmp_path, capfd):
    out_path = str(tmp_path / "no-such-dir" / "bert.safetensors")

    code = run_cli(str(tiny_bert), "--heads", "4", "--out", out_path)

    _, err = capfd.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert f"{out_path}: cannot write the safetensors file (no directory" in err


def test_write_checkpoint_keeps_names(tmp_path):
    prefix = write_checkpoint(tmp_path / "model.ckpt", {"a/b/kernel": np.ones((2, 2), dtype=np.float32)})

    assert CheckpointFile(prefix, "x").shapes == {"a/b/kernel": (2, 2)}


def test_parser_accepts_all_options():
    arguments = ["ckpt", "--out", "x.safetensors", "--heads", "2", "--forget-transpose", "--json"]

    args = build_parser().parse_args(arguments)

    assert vars(args) == {
        "checkpoint": "ckpt",
        "out": "x.safetensors",
        "heads": 2,
        "forget_transpose": True,
        "json": True,
    }


def test_parser_subcommand_handler():
    from tui.core.convert.cli import add_convert_parser

    parser = argparse.ArgumentParser()
    add_convert_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["convert", "--heads", "3"])

    assert args.handler is run_convert
    assert args.heads == 3
    assert args.checkpoint is None


def test_compare_tolerance_grows_with_depth():
    expected = np.ones((2, 3, 4), dtype=np.float32)
    actual = expected + np.float32(1.2e-5)

    shallow = compare("embeddings", actual, expected, depth=0)
    deeper = compare("layer 0", actual, expected, depth=1)

    assert not shallow.within_tolerance
    assert shallow.error_ratio == pytest.approx(1.2e-5 / (1e-5 + 1.3e-6), rel=1e-2)
    assert deeper.within_tolerance
    assert (deeper.atol, deeper.rtol) == pytest.approx((2e-5, 2.6e-6))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_compare_non_finite_fails(bad):
    expected = np.zeros((1, 2, 3), dtype=np.float32)
    actual = expected.copy()
    actual[0, 1, 2] = bad

    row = compare("layer 0", actual, expected, depth=1)

    assert not row.within_tolerance
    assert np.isnan(row.max_abs_diff)
    assert np.isnan(row.error_ratio)


def test_compare_cosine_of_zero_vectors():
    expected = np.array([[[0.0, 0.0], [1.0, 0.0]]], dtype=np.float32)
    actual = np.array([[[0.0, 0.0], [0.0, 0.0]]], dtype=np.float32)

    both_zero = compare("embeddings", expected[:, :1], actual[:, :1], depth=0)
    one_zero = compare("embeddings", actual, expected, depth=0)

    assert both_zero.min_cosine == 1.0
    assert both_zero.within_tolerance
    assert one_zero.min_cosine == 0.0
    assert not one_zero.within_tolerance


def test_compare_huge_equal_values():
    expected = np.full((1, 2, 8), 3e38, dtype=np.float32)

    row = compare("pooler", expected.copy(), expected, depth=3)

    assert row.within_tolerance
    assert row.max_abs_diff == 0.0
    assert row.min_cosine == pytest.approx(1.0)


def test_compare_opposite_vectors():
    expected = np.array([[[1.0, 2.0, 3.0]]], dtype=np.float32)

    row = compare("layer 1", -expected, expected, depth=2)

    assert row.min_cosine == pytest.approx(-1.0)
    assert row.max_abs_diff == pytest.approx(6.0)


def test_object_based_bert_converts(tmp_path):
    from tui.core.convert.demo import bert_arrays

    root = tf.Module()
    for name, array in bert_arrays(DEMO_CONFIG, np.random.default_rng(3), pretraining_heads=False):
        *scopes, leaf = name.split("/")
        parent = root
        for scope in scopes:
            if not hasattr(parent, scope):
                setattr(parent, scope, tf.Module())
            parent = getattr(parent, scope)
        setattr(parent, leaf, tf.Variable(array))
    prefix = tf.train.Checkpoint(bert=root.bert).write(str(tmp_path / "object" / "ckpt"))

    result = convert_checkpoint(ConvertRequest(prefix, heads=TINY_HEADS))
    rows = {row.tf_name: row for row in result.rows}

    kernel = rows["bert/pooler/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert (kernel.torch_name, kernel.transposed, kernel.status) == ("pooler.dense.weight", True, "loaded")
    assert rows["_CHECKPOINTABLE_OBJECT_GRAPH"].status == "skipped"
    assert result.summary.counts["loaded"] == 39
    assert result.summary.unfilled == []
    assert result.summary.first_divergent_layer is None
