"""Parity between the TensorFlow forward over the checkpoint and the converted model.

Both models run on the same probe batch. Every hidden state (embeddings
output, each encoder layer, pooler) is compared element-wise with

    |torch - tf| <= atol + rtol * |tf|

where (atol, rtol) = (1e-5, 1.3e-6) * (1 + depth). The depth is 0 for the
embeddings output, i + 1 for encoder layer i and N + 1 for the pooler of an
N-layer model. The base pair is torch.testing's float32 default. It widens
linearly with depth because every layer adds rounding error of its own, as
TensorFlow's and PyTorch's CPU kernels sum in different orders. On a
bert-base-shaped checkpoint with random weights the largest error was 0.09 of
this tolerance (benchmarks/convert_memory.py prints it; run on a 2-core AMD
EPYC). A converted model with a wrong weight misses it by orders of magnitude.
"""

from __future__ import annotations

import numpy as np
import torch

from tui.core.convert.bert_tf import tf_hidden_states
from tui.core.convert.bert_torch import BertModel
from tui.core.convert.checkpoint import CheckpointFile
from tui.core.convert.config import BertConfig
from tui.core.convert.events import EventCallback, ParityEvent, ParityRow

FLOAT32_ATOL = 1e-5
FLOAT32_RTOL = 1.3e-6
PROBE_LENGTH = 8
PROBE_SEED = 1


class ParityError(Exception):
    """The TensorFlow reference cannot run, for example because a variable is missing."""


def probe_inputs(config: BertConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (input_ids, token_type_ids, attention_mask), each of shape (2, length).

    The second sequence ends in padding, so the attention mask is exercised.
    """
    length = min(PROBE_LENGTH, config.max_position_embeddings)
    rng = np.random.default_rng(PROBE_SEED)
    input_ids = rng.integers(0, config.vocab_size, size=(2, length), dtype=np.int64)

    token_type_ids = np.zeros((2, length), dtype=np.int64)
    if config.type_vocab_size > 1:
        token_type_ids[:, length // 2 :] = 1

    attention_mask = np.ones((2, length), dtype=np.int64)
    attention_mask[1, length - length // 4 :] = 0
    return input_ids, token_type_ids, attention_mask


def layer_names(config: BertConfig) -> list[str]:
    """Name the compared hidden states: embeddings, layer 0 ... layer N-1, pooler."""
    layers = [f"layer {index}" for index in range(config.num_hidden_layers)]
    return ["embeddings", *layers, "pooler"]


def tolerance(depth: int) -> tuple[float, float]:
    """Return (atol, rtol) for an output `depth` encoder layers deep."""
    scale = 1 + depth
    return FLOAT32_ATOL * scale, FLOAT32_RTOL * scale


def compare(layer: str, actual: np.ndarray, expected: np.ndarray, depth: int) -> ParityRow:
    """Compare one PyTorch output (`actual`) with the TensorFlow one (`expected`).

    The cosine is taken per token over the last axis; its minimum is reported.
    Any NaN or infinity in either output fails the comparison.
    """
    atol, rtol = tolerance(depth)
    actual = actual.astype(np.float64)
    expected = expected.astype(np.float64)

    finite = bool(np.isfinite(actual).all() and np.isfinite(expected).all())
    with np.errstate(invalid="ignore"):
        difference = np.abs(actual - expected)
        ratios = difference / (atol + rtol * np.abs(expected))
    max_abs_diff = float(difference.max()) if difference.size else 0.0
    error_ratio = float(ratios.max()) if ratios.size else 0.0
    if not finite:
        max_abs_diff = error_ratio = float("nan")
    within = finite and error_ratio <= 1.0
    return ParityRow(layer, max_abs_diff, _min_cosine(actual, expected), atol, rtol, error_ratio, within)


def _min_cosine(actual: np.ndarray, expected: np.ndarray) -> float:
    """Return the minimum per-token cosine similarity.

    Two zero vectors count as 1, one zero vector against a nonzero one as 0,
    and a token with NaN or infinity gives NaN.
    """
    if actual.size == 0:
        return 1.0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        dot = (actual * expected).sum(axis=-1)
        actual_norm = np.linalg.norm(actual, axis=-1)
        expected_norm = np.linalg.norm(expected, axis=-1)
        denominator = actual_norm * expected_norm
        cosine = np.where(denominator == 0, 0.0, dot / np.where(denominator == 0, 1.0, denominator))
    cosine = np.where((actual_norm == 0) & (expected_norm == 0), 1.0, cosine)
    return float(np.min(cosine))


def run_parity(
    model: BertModel, checkpoint: CheckpointFile, config: BertConfig, emit: EventCallback
) -> list[ParityRow]:
    """Run both models on the probe batch and emit one ParityEvent per hidden state.

    Raises ParityError when the checkpoint lacks a variable the reference needs.
    """
    input_ids, token_type_ids, attention_mask = probe_inputs(config)
    with torch.no_grad():
        outputs = model(
            torch.from_numpy(input_ids),
            torch.from_numpy(token_type_ids),
            torch.from_numpy(attention_mask),
        )
    actual = [state.numpy() for state in outputs.hidden_states] + [outputs.pooled.numpy()]

    stored_names = checkpoint.canonical_names

    def read(name: str) -> np.ndarray:
        if name not in stored_names:
            raise ParityError(f"the TensorFlow reference needs {name}, which the checkpoint lacks")
        return checkpoint.read(stored_names[name])

    expected = tf_hidden_states(read, config, input_ids, token_type_ids, attention_mask)

    rows = []
    for depth, layer in enumerate(layer_names(config)):
        row = compare(layer, actual[depth], expected[depth], depth)
        rows.append(row)
        emit(ParityEvent(row))
    return rows


def first_divergent_layer(rows: list[ParityRow]) -> str | None:
    """Return the first layer outside tolerance, or None when all match."""
    for row in rows:
        if not row.within_tolerance:
            return row.layer
    return None

