"""Writing BERT checkpoints with TensorFlow's own saver.

The built-in demo, the tests and the memory benchmark all use
`write_bert_checkpoint`: random weights under the original BERT variable
names, written by tf.compat.v1.train.Saver as a name-based (TF1-style)
checkpoint, with the Adam slots and global_step that training leaves behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from tui.core.convert.config import DEMO_CONFIG, MODEL_SCOPE, BertConfig
from tui.core.convert.source import cache_dir

CHECKPOINT_NAME = "model.ckpt"

# Bump when the demo's variables change, so an old cached copy is not reused.
DEMO_DIRECTORY = "demo-bert-v1"
DEMO_SEED = 0
DEMO_GLOBAL_STEP = 1000


def bert_arrays(
    config: BertConfig, rng: np.random.Generator, pretraining_heads: bool = True
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (TF name, float32 array) for every variable of a BERT checkpoint.

    Kernels are scaled by 1/sqrt(fan_in) so activations keep unit scale
    through the layers, which makes a wrong weight visible in every output.
    """
    hidden = config.hidden_size

    def dense(scope: str, fan_in: int, fan_out: int) -> Iterator[tuple[str, np.ndarray]]:
        kernel = rng.standard_normal((fan_in, fan_out), dtype=np.float32) / np.sqrt(fan_in)
        yield f"{scope}/kernel", kernel.astype(np.float32)
        yield f"{scope}/bias", 0.1 * rng.standard_normal(fan_out, dtype=np.float32)

    def layer_norm(scope: str) -> Iterator[tuple[str, np.ndarray]]:
        yield f"{scope}/gamma", 1 + 0.1 * rng.standard_normal(hidden, dtype=np.float32)
        yield f"{scope}/beta", 0.1 * rng.standard_normal(hidden, dtype=np.float32)

    embeddings = f"{MODEL_SCOPE}/embeddings"
    for table, rows in (
        ("word_embeddings", config.vocab_size),
        ("token_type_embeddings", config.type_vocab_size),
        ("position_embeddings", config.max_position_embeddings),
    ):
        yield f"{embeddings}/{table}", rng.standard_normal((rows, hidden), dtype=np.float32)
    yield from layer_norm(f"{embeddings}/LayerNorm")

    for index in range(config.num_hidden_layers):
        layer = f"{MODEL_SCOPE}/encoder/layer_{index}"
        for projection in ("query", "key", "value"):
            yield from dense(f"{layer}/attention/self/{projection}", hidden, hidden)
        yield from dense(f"{layer}/attention/output/dense", hidden, hidden)
        yield from layer_norm(f"{layer}/attention/output/LayerNorm")
        yield from dense(f"{layer}/intermediate/dense", hidden, config.intermediate_size)
        yield from dense(f"{layer}/output/dense", config.intermediate_size, hidden)
        yield from layer_norm(f"{layer}/output/LayerNorm")

    yield from dense(f"{MODEL_SCOPE}/pooler/dense", hidden, hidden)
    if pretraining_heads:
        yield from _pretraining_head_arrays(config, rng)


def _pretraining_head_arrays(
    config: BertConfig, rng: np.random.Generator
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield the masked-LM and next-sentence head variables, which BertModel does not contain."""
    hidden = config.hidden_size
    yield "cls/predictions/output_bias", np.zeros(config.vocab_size, dtype=np.float32)
    kernel = rng.standard_normal((hidden, hidden), dtype=np.float32) / np.sqrt(hidden)
    yield "cls/predictions/transform/dense/kernel", kernel.astype(np.float32)
    yield "cls/predictions/transform/dense/bias", np.zeros(hidden, dtype=np.float32)
    yield "cls/predictions/transform/LayerNorm/gamma", np.ones(hidden, dtype=np.float32)
    yield "cls/predictions/transform/LayerNorm/beta", np.zeros(hidden, dtype=np.float32)
    weights = 0.02 * rng.standard_normal((2, hidden), dtype=np.float32)
    yield "cls/seq_relationship/output_weights", weights
    yield "cls/seq_relationship/output_bias", np.zeros(2, dtype=np.float32)


def write_checkpoint(prefix: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write arrays under their names with tf.compat.v1.train.Saver; return the prefix."""
    import tensorflow as tf

    variables = {name: tf.Variable(array, name="v") for name, array in arrays.items()}
    saver = tf.compat.v1.train.Saver(var_list=variables, write_version=tf.compat.v1.train.SaverDef.V2)
    saver.save(None, str(prefix), write_meta_graph=False)
    return prefix


def write_bert_checkpoint(
    directory: Path,
    config: BertConfig,
    *,
    seed: int = DEMO_SEED,
    optimizer_slots: bool = True,
    pretraining_heads: bool = True,
    extra: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write a random BERT checkpoint into `directory` and return its prefix.

    With `optimizer_slots`, every weight gets zero ``adam_m`` and ``adam_v``
    slots and the checkpoint gets ``global_step``, as BERT's training leaves
    them. `extra` adds arbitrary variables, for example unknown names.
    """
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for name, array in bert_arrays(config, rng, pretraining_heads):
        arrays[name] = array
        if optimizer_slots:
            arrays[f"{name}/adam_m"] = np.zeros_like(array)
            arrays[f"{name}/adam_v"] = np.zeros_like(array)

    if optimizer_slots:
        arrays["global_step"] = np.array(DEMO_GLOBAL_STEP, dtype=np.int64)
    arrays.update(extra or {})

    directory.mkdir(parents=True, exist_ok=True)
    return write_checkpoint(directory / CHECKPOINT_NAME, arrays)


def ensure_demo_checkpoint(cache: Path | None = None) -> Path:
    """Return the demo checkpoint's prefix, generating it on first use.

    The demo is written to a temporary directory and renamed into place, so
    a concurrent or interrupted run never reads half a checkpoint.
    """
    root = cache or cache_dir()
    target = root / DEMO_DIRECTORY
    prefix = target / CHECKPOINT_NAME
    if prefix.with_name(CHECKPOINT_NAME + ".index").is_file():
        return prefix

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=root))
    try:
        write_bert_checkpoint(staging, DEMO_CONFIG)
        # The saver's "checkpoint" state file contains the absolute staging path.
        (staging / "checkpoint").unlink(missing_ok=True)
        if target.exists() and not prefix.with_name(CHECKPOINT_NAME + ".index").is_file():
            shutil.rmtree(target)
        staging.rename(target)
    except OSError:
        if not prefix.with_name(CHECKPOINT_NAME + ".index").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return prefix
