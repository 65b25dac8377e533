"""Checkpoint locations: the cache directory and the resolution of checkpoint paths.

Path checks run before TensorFlow is imported, so a missing path fails fast.
This module imports neither torch nor TensorFlow.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

APP_NAME = "xframe-tui"

_SHARD_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")
_STATE_LINE = re.compile(r'^model_checkpoint_path:\s*"(.*)"\s*$', re.MULTILINE)


class CheckpointError(Exception):
    """A checkpoint path that is missing, unreadable or not a checkpoint.

    The message is one line that names the path and the problem.
    """


def cache_dir() -> Path:
    """Return $XDG_CACHE_HOME/xframe-tui, or ~/.cache/xframe-tui when it is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / APP_NAME


def resolve_prefix(path: str) -> Path:
    """Return the checkpoint prefix that `path` names.

    `path` may be a prefix (``model.ckpt``), one of its files (``model.ckpt.index``,
    ``model.ckpt.data-00000-of-00001``, ``model.ckpt.meta``) or a directory holding
    one checkpoint or a ``checkpoint`` state file. A plain file with none of these
    suffixes is returned as is, because TensorFlow also reads single-file V1
    checkpoints. Raises CheckpointError when nothing is found.
    """
    given = Path(path).expanduser()
    if given.is_dir():
        return _prefix_in_directory(given, path)

    prefix = _strip_checkpoint_suffix(given)
    if _index_file(prefix).is_file():
        return prefix
    if given.is_file() and prefix == given:
        return given
    if given.exists() or prefix.parent.is_dir() and any(_shard_files(prefix)):
        raise CheckpointError(f"{path}: index file {_index_file(prefix).name} is missing")
    raise CheckpointError(f"{path}: checkpoint not found (no such file or directory)")


def _strip_checkpoint_suffix(path: Path) -> Path:
    name = path.name
    for suffix in (".index", ".meta"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)])
    return path.with_name(_SHARD_SUFFIX.sub("", name))


def _index_file(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".index")


def _shard_files(prefix: Path) -> list[Path]:
    """Return the data shards of a V2 checkpoint, sorted by name."""
    pattern = prefix.name + ".data-?????-of-?????"
    return sorted(prefix.parent.glob(glob_escape(pattern)))


def glob_escape(pattern: str) -> str:
    """Escape the glob metacharacters that may occur in a checkpoint name itself."""
    return re.sub(r"([\[\]*])", r"[\1]", pattern)


def data_shards(prefix: Path, display: str) -> list[Path]:
    """Return the data shards of a V2 checkpoint.

    Raises CheckpointError naming `display` (the path as the user gave it) and
    the first missing shard.
    """
    shards = _shard_files(prefix)
    if not shards:
        raise CheckpointError(f"{display}: data file {prefix.name}.data-00000-of-00001 is missing")

    count = int(shards[0].name[-5:])
    for number in range(count):
        expected = prefix.with_name(f"{prefix.name}.data-{number:05d}-of-{count:05d}")
        if not expected.is_file():
            raise CheckpointError(f"{display}: data file {expected.name} is missing")
    return shards


def _prefix_in_directory(directory: Path, path: str) -> Path:
    """Find the checkpoint in a directory: the state file's entry, else the only one."""
    state = directory / "checkpoint"
    if state.is_file():
        match = _STATE_LINE.search(state.read_text(errors="replace"))
        if match:
            listed = Path(match.group(1))
            prefix = listed if listed.is_absolute() else directory / listed
            if _index_file(prefix).is_file():
                return prefix

    indexes = sorted(directory.glob("*.index"))
    if not indexes:
        raise CheckpointError(f"{path}: no checkpoint in this directory (no *.index file)")
    if len(indexes) > 1:
        names = ", ".join(index.name for index in indexes[:3])
        raise CheckpointError(
            f"{path}: several checkpoints in this directory ({names}); pass one prefix"
        )
    return _strip_checkpoint_suffix(indexes[0])
