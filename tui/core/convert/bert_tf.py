"""BERT's forward pass written with TensorFlow ops over the checkpoint's variables.

This is the reference side of the parity check. It reads the original BERT
variable names directly (a kernel is used as ``x @ kernel``), so it shares no
naming rule with the converter and catches a wrong rule. Variables are read
when a layer needs them and released after it, so at most one layer's weights
are in memory at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tui.core.convert.config import MASK_BIAS, MODEL_SCOPE, BertConfig

ReadVariable = Callable[[str], np.ndarray]

# tf.Tensor, left unannotated so that importing this module does not import TensorFlow.
Tensor = Any
Variable = Callable[[str], Tensor]


def tf_hidden_states(
    read: ReadVariable,
    config: BertConfig,
    input_ids: np.ndarray,
    token_type_ids: np.ndarray,
    attention_mask: np.ndarray,
) -> list[np.ndarray]:
    """Return the embeddings output, each layer's output and the pooled output.

    `read` returns a checkpoint variable by TF name and raises KeyError or
    CheckpointError when it cannot.
    """
    import tensorflow as tf

    def variable(name: str) -> Tensor:
        return tf.constant(read(f"{MODEL_SCOPE}/{name}"))

    states = _embeddings(variable, config, input_ids, token_type_ids)
    outputs = [states.numpy()]

    mask = tf.constant(attention_mask, dtype=tf.float32)
    mask_bias = (1.0 - mask[:, None, None, :]) * MASK_BIAS
    for index in range(config.num_hidden_layers):
        states = _encoder_layer(variable, config, f"encoder/layer_{index}", states, mask_bias)
        outputs.append(states.numpy())

    pooled = tf.tanh(_dense(variable, "pooler/dense", states[:, 0]))
    outputs.append(pooled.numpy())
    return outputs


def _embeddings(
    variable: Variable, config: BertConfig, input_ids: np.ndarray, token_type_ids: np.ndarray
) -> Tensor:
    import tensorflow as tf

    length = input_ids.shape[1]
    words = tf.gather(variable("embeddings/word_embeddings"), input_ids)
    types = tf.gather(variable("embeddings/token_type_embeddings"), token_type_ids)
    positions = variable("embeddings/position_embeddings")[:length][None]
    return _layer_norm(variable, "embeddings/LayerNorm", words + positions + types, config)


def _encoder_layer(
    variable: Variable, config: BertConfig, scope: str, states: Tensor, mask_bias: Tensor
) -> Tensor:
    import tensorflow as tf

    context = _self_attention(variable, config, f"{scope}/attention/self", states, mask_bias)
    attention_scope = f"{scope}/attention/output"
    attended = _dense(variable, f"{attention_scope}/dense", context) + states
    attended = _layer_norm(variable, f"{attention_scope}/LayerNorm", attended, config)

    expanded = tf.nn.gelu(_dense(variable, f"{scope}/intermediate/dense", attended), approximate=False)
    output = _dense(variable, f"{scope}/output/dense", expanded) + attended
    return _layer_norm(variable, f"{scope}/output/LayerNorm", output, config)


def _self_attention(
    variable: Variable, config: BertConfig, scope: str, states: Tensor, mask_bias: Tensor
) -> Tensor:
    import tensorflow as tf

    batch, length = states.shape[0], states.shape[1]

    def heads(name: str) -> Tensor:
        projected = _dense(variable, f"{scope}/{name}", states)
        split = tf.reshape(projected, [batch, length, config.num_attention_heads, config.head_size])
        return tf.transpose(split, [0, 2, 1, 3])

    query, key, value = heads("query"), heads("key"), heads("value")
    scores = tf.matmul(query, key, transpose_b=True) / math.sqrt(config.head_size)
    probabilities = tf.nn.softmax(scores + mask_bias, axis=-1)
    context = tf.transpose(tf.matmul(probabilities, value), [0, 2, 1, 3])
    return tf.reshape(context, [batch, length, config.hidden_size])


def _dense(variable: Variable, scope: str, inputs: Tensor) -> Tensor:
    import tensorflow as tf

    kernel = variable(f"{scope}/kernel")
    return tf.tensordot(inputs, kernel, axes=1) + variable(f"{scope}/bias")


def _layer_norm(variable: Variable, scope: str, inputs: Tensor, config: BertConfig) -> Tensor:
    import tensorflow as tf

    mean, variance = tf.nn.moments(inputs, axes=[-1], keepdims=True)
    normalized = (inputs - mean) * tf.math.rsqrt(variance + config.layer_norm_eps)
    return normalized * variable(f"{scope}/gamma") + variable(f"{scope}/beta")
