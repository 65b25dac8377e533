"""The conversion's pure-Python parts: name rules, config inference, events, paths.

None of these tests imports torch or TensorFlow.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui.core.convert.config import DEMO_CONFIG, ConfigError, infer_config, resolve_heads
from tui.core.convert.events import (
    ErrorEvent,
    ParityEvent,
    ParityRow,
    ProgressEvent,
    StepEvent,
    SummaryEvent,
    VariableEvent,
    VariableRow,
    event_from_json,
    event_to_json,
)
from tui.core.convert.report import format_shape, format_table
from tui.core.convert.rules import plan_variable
from tui.core.convert.source import CheckpointError, resolve_prefix

MAPPED_NAMES = [
    ("bert/embeddings/word_embeddings", "embeddings.word_embeddings.weight", False),
    ("bert/embeddings/position_embeddings", "embeddings.position_embeddings.weight", False),
    ("bert/embeddings/token_type_embeddings", "embeddings.token_type_embeddings.weight", False),
    ("bert/embeddings/LayerNorm/gamma", "embeddings.LayerNorm.weight", False),
    ("bert/embeddings/LayerNorm/beta", "embeddings.LayerNorm.bias", False),
    (
        "bert/encoder/layer_0/attention/self/query/kernel",
        "encoder.layer.0.attention.self.query.weight",
        True,
    ),
    ("bert/encoder/layer_11/attention/self/key/bias", "encoder.layer.11.attention.self.key.bias", False),
    (
        "bert/encoder/layer_1/attention/output/dense/kernel",
        "encoder.layer.1.attention.output.dense.weight",
        True,
    ),
    (
        "bert/encoder/layer_1/attention/output/LayerNorm/gamma",
        "encoder.layer.1.attention.output.LayerNorm.weight",
        False,
    ),
    ("bert/encoder/layer_2/intermediate/dense/kernel", "encoder.layer.2.intermediate.dense.weight", True),
    ("bert/encoder/layer_2/output/dense/bias", "encoder.layer.2.output.dense.bias", False),
    ("bert/encoder/layer_2/output/LayerNorm/beta", "encoder.layer.2.output.LayerNorm.bias", False),
    ("bert/pooler/dense/kernel", "pooler.dense.weight", True),
    ("bert/pooler/dense/output_weights", "pooler.dense.weight", False),
    ("bert/pooler/dense/output_bias", "pooler.dense.bias", False),
    (
        "bert/pooler/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE",
        "pooler.dense.weight",
        True,
    ),
]

SKIPPED_NAMES = [
    ("bert/pooler/dense/kernel/adam_m", "optimizer slot (adam_m)"),
    ("bert/pooler/dense/kernel/adam_v", "optimizer slot (adam_v)"),
    ("bert/adam_m/xxx", "optimizer slot (adam_m)"),
    ("adam_v/bert/pooler/dense/kernel", "optimizer slot (adam_v)"),
    ("bert/encoder/layer_0/output/dense/kernel/Adam_1", "optimizer slot (Adam_1)"),
    ("bert/pooler/dense/bias/Momentum", "optimizer slot (Momentum)"),
    ("global_step", "step counter (global_step)"),
    ("bert/global_step/value", "step counter (global_step)"),
    ("save_counter/.ATTRIBUTES/VARIABLE_VALUE", "step counter (save_counter)"),
    ("cls/predictions/output_bias", "not part of the model (outside the bert/ scope)"),
    ("cls/seq_relationship/output_weights", "not part of the model (outside the bert/ scope)"),
    ("bert", "not part of the model (outside the bert/ scope)"),
    ("_CHECKPOINTABLE_OBJECT_GRAPH", "not part of the model (object graph of the checkpoint)"),
]


@pytest.mark.parametrize(("tf_name", "torch_name", "transpose"), MAPPED_NAMES)
def test_rules_map_bert_names(tf_name, torch_name, transpose):
    plan = plan_variable(tf_name)

    assert plan.skip_reason is None
    assert plan.torch_name == torch_name
    assert plan.transpose is transpose


@pytest.mark.parametrize(("tf_name", "reason"), SKIPPED_NAMES)
def test_rules_skip_in_any_position(tf_name, reason):
    plan = plan_variable(tf_name)

    assert plan.skip_reason == reason
    assert plan.steps == ()


def test_rules_index_step_is_int():
    plan = plan_variable("bert/encoder/layer_10/output/dense/bias")

    assert plan.steps == ("encoder", "layer", 10, "output", "dense", "bias")


def test_rules_unknown_component_kept():
    plan = plan_variable("bert/encoder/layer_0/attention/self/rotary/kernel")

    assert plan.skip_reason is None
    assert plan.torch_name == "encoder.layer.0.attention.self.rotary.weight"


DEMO_SHAPES = {
    "bert/embeddings/word_embeddings": (64, 32),
    "bert/embeddings/position_embeddings": (16, 32),
    "bert/embeddings/token_type_embeddings": (2, 32),
    "bert/encoder/layer_0/intermediate/dense/kernel": (32, 64),
    "bert/encoder/layer_0/output/dense/bias": (32,),
    "bert/encoder/layer_1/output/dense/bias": (32,),
    "global_step": (),
}


def test_infer_config_from_shapes():
    config = infer_config(DEMO_SHAPES, heads=4)

    assert config == DEMO_CONFIG


def test_infer_config_missing_word_embeddings():
    shapes = {name: shape for name, shape in DEMO_SHAPES.items() if "word" not in name}

    with pytest.raises(ConfigError, match="bert/embeddings/word_embeddings is missing"):
        infer_config(shapes, heads=4)


def test_infer_config_gap_in_layers():
    shapes = dict(DEMO_SHAPES)
    shapes["bert/encoder/layer_3/output/dense/bias"] = (32,)

    with pytest.raises(ConfigError, match="layer_2 is missing"):
        infer_config(shapes, heads=4)


def test_infer_config_wrong_embedding_width():
    shapes = dict(DEMO_SHAPES)
    shapes["bert/embeddings/position_embeddings"] = (16, 31)

    with pytest.raises(ConfigError, match=r"position_embeddings has shape \(16, 31\)"):
        infer_config(shapes, heads=4)


@pytest.mark.parametrize(("hidden", "heads", "expected"), [(768, None, 12), (128, None, 2), (32, 4, 4), (32, 1, 1)])
def test_resolve_heads_valid(hidden, heads, expected):
    assert resolve_heads(hidden, heads) == expected


@pytest.mark.parametrize(
    ("hidden", "heads", "message"),
    [
        (32, None, "hidden size 32 is not a multiple of 64"),
        (100, None, "hidden size 100 is not a multiple of 64"),
        (32, 0, "invalid head count 0: --heads must be at least 1"),
        (32, -4, "invalid head count -4"),
        (32, 5, "invalid head count 5: it does not divide hidden size 32"),
        (768, 1000, "invalid head count 1000"),
    ],
)
def test_resolve_heads_invalid(hidden, heads, message):
    with pytest.raises(ConfigError, match=message):
        resolve_heads(hidden, heads)


EVENTS = [
    StepEvent("build", "finished", "hidden 32"),
    VariableEvent(
        VariableRow(3, "bert/pooler/dense/kernel", [3, 2], "float32", 6, "pooler.dense.weight", [2, 3], True, "loaded")
    ),
    ProgressEvent("fill", 5, 39),
    ParityEvent(ParityRow("layer 0", 2.5, 0.25, 2e-5, 2.6e-6, 9.9e4, False)),
    SummaryEvent("model.ckpt", {"hidden_size": 32}, {"loaded": 1, "failed": 0}, [], None),
    ErrorEvent("model.ckpt: checkpoint not found (no such file or directory)"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.kind)
def test_events_json_round_trip(event):
    line = event_to_json(event)

    assert "\n" not in line
    assert event_from_json(line) == event


def test_events_nan_difference_round_trip():
    event = ParityEvent(ParityRow("pooler", float("nan"), 0.0, 4e-5, 5.2e-6, float("nan"), False))

    parsed = event_from_json(event_to_json(event))

    assert parsed.row.max_abs_diff != parsed.row.max_abs_diff


@pytest.mark.parametrize("line", ['"text"', '{"kind": "nope"}', '{"kind": "step"}', "not json"])
def test_events_reject_malformed(line):
    with pytest.raises(ValueError):
        event_from_json(line)


def test_summary_ok_requires_everything():
    clean = SummaryEvent("x", {}, {"failed": 0}, [], None)
    failed_row = SummaryEvent("x", {}, {"failed": 1}, [], None)
    diverged = SummaryEvent("x", {}, {"failed": 0}, [], "layer 0")
    unfilled = SummaryEvent("x", {}, {"failed": 0}, ["pooler.dense.bias"], None)

    assert clean.ok
    assert not failed_row.ok
    assert not diverged.ok
    assert not unfilled.ok


def test_format_shape_forms():
    assert format_shape([3, 2]) == "(3, 2)"
    assert format_shape([32]) == "(32,)"
    assert format_shape([]) == "()"
    assert format_shape(None) == ""


def test_format_table_aligns_columns():
    lines = format_table(("name", "n"), [("a", "10"), ("long name", "2")])

    assert lines == ["name       n", "---------  --", "a          10", "long name  2"]


def test_resolve_prefix_missing_path(tmp_path):
    missing = str(tmp_path / "nope" / "model.ckpt")

    with pytest.raises(CheckpointError) as raised:
        resolve_prefix(missing)

    assert str(raised.value) == f"{missing}: checkpoint not found (no such file or directory)"


def test_resolve_prefix_file_forms(tmp_path):
    (tmp_path / "model.ckpt.index").write_bytes(b"")
    (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(b"")
    prefix = tmp_path / "model.ckpt"

    assert resolve_prefix(str(prefix)) == prefix
    assert resolve_prefix(str(tmp_path / "model.ckpt.index")) == prefix
    assert resolve_prefix(str(tmp_path / "model.ckpt.data-00000-of-00001")) == prefix
    assert resolve_prefix(str(tmp_path)) == prefix


def test_resolve_prefix_state_file_wins(tmp_path):
    for name in ("model.ckpt-1", "model.ckpt-2"):
        (tmp_path / f"{name}.index").write_bytes(b"")
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-2"\n')

    assert resolve_prefix(str(tmp_path)) == tmp_path / "model.ckpt-2"


def test_resolve_prefix_ambiguous_directory(tmp_path):
    for name in ("a.ckpt", "b.ckpt"):
        (tmp_path / f"{name}.index").write_bytes(b"")

    with pytest.raises(CheckpointError, match="several checkpoints in this directory"):
        resolve_prefix(str(tmp_path))


def test_resolve_prefix_empty_directory(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint in this directory \(no \*.index file\)"):
        resolve_prefix(str(tmp_path))


def test_resolve_prefix_data_without_index(tmp_path):
    (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(b"x")

    with pytest.raises(CheckpointError, match="index file model.ckpt.index is missing"):
        resolve_prefix(str(tmp_path / "model.ckpt"))


def test_pure_modules_import_no_framework():
    code = (
        "import sys; import tui.core.convert.rules, tui.core.convert.events, "
        "tui.core.convert.config, tui.core.convert.source, tui.core.convert.report, "
        "tui.core.convert.cli; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'textual') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert output.stdout.strip() == "[]"
