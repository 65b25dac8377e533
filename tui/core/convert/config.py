"""BERT hyperparameters, inferred from the shapes of a checkpoint's variables.

This module imports neither torch nor TensorFlow, so the UI process may use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

# Every published BERT checkpoint (tiny to large) uses 64-dimensional heads.
PUBLISHED_HEAD_SIZE = 64

# BERT's TensorFlow code builds every variable of the model under this scope.
MODEL_SCOPE = "bert"

# BERT's TensorFlow code adds this to the attention scores of padding tokens.
MASK_BIAS = -10000.0

_LAYER_NAME = re.compile(rf"^{MODEL_SCOPE}/encoder/layer_(\d+)/")


class ConfigError(ValueError):
    """Raised when a checkpoint's shapes do not describe a BERT model."""


@dataclass(frozen=True)
class BertConfig:
    """The hyperparameters that fix every parameter shape of a BertModel."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float = 1e-12

    @property
    def head_size(self) -> int:
        """The width of one attention head."""
        return self.hidden_size // self.num_attention_heads

    def to_dict(self) -> dict[str, int | float]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)

    def describe(self) -> str:
        """Return a one-line summary for step reports."""
        return (
            f"hidden {self.hidden_size}, {self.num_hidden_layers} layers, "
            f"{self.num_attention_heads} heads, intermediate {self.intermediate_size}, "
            f"vocabulary {self.vocab_size}, positions {self.max_position_embeddings}, "
            f"token types {self.type_vocab_size}"
        )


# The built-in demo: small enough to convert in well under a second, with an
# intermediate size unequal to the hidden size so that a forgotten transpose
# shows up both as a shape mismatch and as wrong outputs of square kernels.
DEMO_CONFIG = BertConfig(
    vocab_size=64,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=16,
    type_vocab_size=2,
)


def resolve_heads(hidden_size: int, heads: int | None) -> int:
    """Return the attention head count, defaulting to hidden / 64.

    Raises ConfigError when the count is below 1 or does not divide the hidden size.
    """
    if heads is None:
        if hidden_size % PUBLISHED_HEAD_SIZE != 0:
            raise ConfigError(
                f"cannot infer the attention head count: hidden size {hidden_size} is not "
                f"a multiple of {PUBLISHED_HEAD_SIZE} (the head size of published BERT "
                f"checkpoints); pass --heads N"
            )
        return hidden_size // PUBLISHED_HEAD_SIZE

    if heads < 1:
        raise ConfigError(f"invalid head count {heads}: --heads must be at least 1")
    if hidden_size % heads != 0:
        raise ConfigError(
            f"invalid head count {heads}: it does not divide hidden size {hidden_size}"
        )
    return heads


def infer_config(shapes: Mapping[str, Sequence[int]], heads: int | None) -> BertConfig:
    """Infer a BertConfig from a checkpoint's variable shapes.

    `shapes` maps TF variable names to shapes; `heads` is the user's head count
    or None for the default. Raises ConfigError naming the first missing or
    inconsistent variable.
    """
    vocab_size, hidden_size = _matrix(shapes, f"{MODEL_SCOPE}/embeddings/word_embeddings")
    positions, _ = _matrix(shapes, f"{MODEL_SCOPE}/embeddings/position_embeddings", hidden_size)
    type_vocab, _ = _matrix(shapes, f"{MODEL_SCOPE}/embeddings/token_type_embeddings", hidden_size)

    num_layers = _count_layers(shapes)
    kernel = f"{MODEL_SCOPE}/encoder/layer_0/intermediate/dense/kernel"
    kernel_rows, intermediate_size = _matrix(shapes, kernel)
    if kernel_rows != hidden_size:
        raise ConfigError(
            f"not a BERT checkpoint: {kernel} has shape ({kernel_rows}, {intermediate_size}), "
            f"expected {hidden_size} rows"
        )

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=resolve_heads(hidden_size, heads),
        intermediate_size=intermediate_size,
        max_position_embeddings=positions,
        type_vocab_size=type_vocab,
    )


def _matrix(
    shapes: Mapping[str, Sequence[int]], name: str, columns: int | None = None
) -> tuple[int, int]:
    """Return the two dimensions of a required 2-D variable."""
    if name not in shapes:
        raise ConfigError(f"not a BERT checkpoint: variable {name} is missing")

    shape = tuple(shapes[name])
    if len(shape) != 2 or min(shape) < 1:
        raise ConfigError(f"not a BERT checkpoint: {name} has shape {shape}, expected a matrix")
    if columns is not None and shape[1] != columns:
        raise ConfigError(
            f"not a BERT checkpoint: {name} has shape {shape}, expected {columns} columns"
        )
    return shape[0], shape[1]


def _count_layers(shapes: Mapping[str, Sequence[int]]) -> int:
    """Count the encoder layers, which must be numbered 0 to N-1."""
    indices: set[int] = set()
    for name in shapes:
        match = _LAYER_NAME.match(name)
        if match:
            indices.add(int(match.group(1)))

    if not indices:
        raise ConfigError(f"not a BERT checkpoint: no {MODEL_SCOPE}/encoder/layer_N variables")
    expected = set(range(max(indices) + 1))
    if indices != expected:
        missing = min(expected - indices)
        raise ConfigError(f"not a BERT checkpoint: encoder layer_{missing} is missing")
    return len(indices)
