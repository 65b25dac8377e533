"""A compact PyTorch BERT encoder with the usual PyTorch BERT attribute names.

The attribute tree (``embeddings.word_embeddings``,
``encoder.layer[i].attention.self.query``, ``pooler.dense`` ...) matches the
names that PyTorch ports of BERT use, so the converter can walk TF variable
names to parameters with getattr. Dropout is left out: conversion and parity
only run inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from tui.core.convert.config import MASK_BIAS, BertConfig


@dataclass
class BertOutputs:
    """The embeddings output, every encoder layer's output and the pooled output."""

    hidden_states: list[torch.Tensor]
    pooled: torch.Tensor


class BertEmbeddings(nn.Module):
    """Word, position and token type embeddings, summed and normalized."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, hidden)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, hidden)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        summed = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(positions)[None]
            + self.token_type_embeddings(token_type_ids)
        )
        return self.LayerNorm(summed)


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention over the query, key and value projections."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_size = config.head_size
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def _split_heads(self, states: torch.Tensor) -> torch.Tensor:
        batch, length, _ = states.shape
        return states.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)

    def forward(self, states: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        query = self._split_heads(self.query(states))
        key = self._split_heads(self.key(states))
        value = self._split_heads(self.value(states))

        scores = query @ key.transpose(-1, -2) / math.sqrt(self.head_size)
        probabilities = torch.softmax(scores + mask_bias, dim=-1)
        context = (probabilities @ value).transpose(1, 2)
        return context.reshape(states.shape)


class BertDenseLayerNorm(nn.Module):
    """A projection added to the residual, then normalized (BertSelfOutput, BertOutput)."""

    def __init__(self, in_features: int, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, states: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(states) + residual)


class BertAttention(nn.Module):
    """Self-attention followed by its output projection."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertDenseLayerNorm(config.hidden_size, config)

    def forward(self, states: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(states, mask_bias), states)


class BertIntermediate(nn.Module):
    """The feed-forward expansion with GELU (the exact erf form)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(states))


class BertLayer(nn.Module):
    """One transformer encoder layer."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertDenseLayerNorm(config.intermediate_size, config)

    def forward(self, states: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        attended = self.attention(states, mask_bias)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    """The stack of encoder layers."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


class BertPooler(nn.Module):
    """tanh(dense(first token)), the sentence representation."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(states[:, 0]))


class BertModel(nn.Module):
    """The BERT encoder: embeddings, encoder layers and pooler."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor,
        attention_mask: torch.Tensor,
    ) -> BertOutputs:
        """Run the encoder; `attention_mask` is 1 for real tokens, 0 for padding."""
        mask_bias = (1.0 - attention_mask[:, None, None, :].float()) * MASK_BIAS

        states = self.embeddings(input_ids, token_type_ids)
        hidden_states = [states]
        for layer in self.encoder.layer:
            states = layer(states, mask_bias)
            hidden_states.append(states)
        return BertOutputs(hidden_states, self.pooler(states))
