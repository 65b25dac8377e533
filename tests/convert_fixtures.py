"""Checkpoints shared by the convert tests, each written once per test session.

Fixtures defined here would be separate per test module, so each module wraps
these functions in its own session fixture and the cache below makes every
checkpoint get written only once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui.core.convert.config import DEMO_CONFIG

TINY_HEADS = DEMO_CONFIG.num_attention_heads
UNKNOWN_NAME = "bert/encoder/layer_0/attention/self/rotary/kernel"
MIDDLE_SLOT_NAME = "bert/adam_m/xxx"

# The pooler probe: kernel (3, 2), x = [[1, 1, 1]] -> x @ kernel + bias.
PROBE_KERNEL = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
PROBE_BIAS = np.array([0.1, 0.2], dtype=np.float32)
PROBE_X = np.array([[1.0, 1.0, 1.0]], dtype=np.float32)
PROBE_EXPECTED = np.array([[9.1, 12.2]], dtype=np.float32)

_written: dict[str, Path] = {}


def _once(key: str, factory: pytest.TempPathFactory, write) -> Path:
    if key not in _written:
        _written[key] = write(factory.mktemp(key))
    return _written[key]


def tiny_bert_prefix(factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT (hidden 32) with Adam slots, global_step and cls heads."""
    from tui.core.convert.demo import write_bert_checkpoint

    return _once("tiny-bert", factory, lambda directory: write_bert_checkpoint(directory, DEMO_CONFIG))


def tiny_bert_with_extras_prefix(factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT plus an unknown variable and a slot in a middle path component."""
    from tui.core.convert.demo import write_bert_checkpoint

    extra = {
        UNKNOWN_NAME: np.ones((32, 32), dtype=np.float32),
        MIDDLE_SLOT_NAME: np.zeros(3, dtype=np.float32),
    }
    return _once(
        "tiny-bert-extras",
        factory,
        lambda directory: write_bert_checkpoint(directory, DEMO_CONFIG, extra=extra),
    )


def probe_prefix(factory: pytest.TempPathFactory) -> Path:
    """The pooler probe checkpoint: kernel, bias, their Adam slots and global_step = 1000."""
    from tui.core.convert.demo import write_checkpoint

    arrays = {
        "bert/pooler/dense/kernel": PROBE_KERNEL,
        "bert/pooler/dense/bias": PROBE_BIAS,
        "bert/pooler/dense/kernel/adam_m": np.zeros((3, 2), dtype=np.float32),
        "bert/pooler/dense/kernel/adam_v": np.zeros((3, 2), dtype=np.float32),
        "global_step": np.array(1000, dtype=np.int64),
    }
    return _once("probe", factory, lambda directory: write_checkpoint(directory / "model.ckpt", arrays))
