"""Reading TensorFlow checkpoints one variable at a time.

`tf.train.load_checkpoint` returns a CheckpointReader, which lists names,
shapes and dtypes from the index file alone and reads a single tensor per
`get_tensor` call. Name-based (tf.compat.v1 Saver) and object-based
(tf.train.Checkpoint) checkpoints are both read this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui.core.convert.rules import canonical_name
from tui.core.convert.source import CheckpointError, data_shards


@dataclass(frozen=True)
class VariableInfo:
    """A checkpoint variable as the index lists it; no tensor data is read."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    size: int
    nbytes: int | None


class CheckpointFile:
    """An open checkpoint: its variable table and a per-variable reader.

    `display` is the path as the user gave it; every error message names it.
    Raises CheckpointError when the files are missing, truncated or not a
    checkpoint.
    """

    def __init__(self, prefix: Path, display: str) -> None:
        import tensorflow as tf

        self.prefix = prefix
        self.display = display
        try:
            self._reader = tf.train.load_checkpoint(str(prefix))
            shapes = self._reader.get_variable_to_shape_map()
            dtypes = self._reader.get_variable_to_dtype_map()
        except (tf.errors.OpError, ValueError) as error:
            raise CheckpointError(f"{display}: not a readable checkpoint ({_first_line(error)})")

        self.variables = [
            _variable_info(name, shapes[name], dtypes[name]) for name in sorted(shapes, key=_natural)
        ]
        self._check_data_size()

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Map each variable name to its shape."""
        return {variable.name: variable.shape for variable in self.variables}

    @property
    def canonical_names(self) -> dict[str, str]:
        """Map each variable's canonical path (see rules.canonical_name) to its stored name.

        Name-based checkpoints store ``bert/pooler/dense/kernel`` as is, and
        object-based ones as ``bert/pooler/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE``.
        """
        return {canonical_name(variable.name): variable.name for variable in self.variables}

    def read(self, name: str) -> np.ndarray:
        """Read one variable's tensor from the data file.

        Raises CheckpointError when the data cannot be read.
        """
        import tensorflow as tf

        try:
            return np.asarray(self._reader.get_tensor(name))
        except (tf.errors.OpError, IndexError, ValueError, RuntimeError) as error:
            raise CheckpointError(
                f"{self.display}: reading variable {name} failed ({_first_line(error)})"
            )

    def _check_data_size(self) -> None:
        """Reject V2 checkpoints whose data shards are shorter than the index lists.

        Numeric tensors are stored back to back, so the shards contain at least
        the sum of their sizes. Checking this up front turns a truncated file
        into one error before any step runs, instead of a failure halfway.
        """
        index = self.prefix.with_name(self.prefix.name + ".index")
        if not index.is_file():
            return

        shards = data_shards(self.prefix, self.display)
        found = sum(shard.stat().st_size for shard in shards)
        expected = sum(variable.nbytes or 0 for variable in self.variables)
        if found < expected:
            raise CheckpointError(
                f"{self.display}: data file is truncated ({found} bytes, "
                f"the index lists {expected} bytes of tensors)"
            )


def _variable_info(name: str, shape: list[int], dtype: object) -> VariableInfo:
    dims = tuple(int(dim) for dim in shape)
    size = int(np.prod(dims, dtype=np.int64))
    dtype_name = getattr(dtype, "name", str(dtype))
    try:
        itemsize = np.dtype(dtype.as_numpy_dtype).itemsize  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        itemsize = 0
    numeric = dtype_name != "string" and itemsize > 0
    return VariableInfo(name, dims, dtype_name, size, size * itemsize if numeric else None)


def _natural(name: str) -> list[object]:
    """Sort key that puts layer_2 before layer_10."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
