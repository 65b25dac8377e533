"""What the user typed, per op, saved between runs of the explorer.

The state file and `--session` files share one versioned JSON format:

    {"format": "xframe-tui-session", "version": 1,
     "ops": {"<op id>": {"inputs": {"<name>": "<text>"},
                         "params": {"<name>": "<text>"},
                         "dtype": "float32"}}}

Texts are stored exactly as typed, invalid ones included, so nothing is lost.
Writes are atomic: a temporary file in the same folder is written, flushed to
disk and renamed over the old one, so a crash leaves the old file or the new
one, never a mix. A file that cannot be read (corrupt, or written by a newer
version) is set aside under a new name and never overwritten.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "xframe-tui-session"
VERSION = 1
MAX_FILE_BYTES = 50_000_000
"""Larger files are set aside unread; typed inputs are far smaller."""


def state_directory() -> Path:
    """Return the platform's folder for per-user application state."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "xframe-tui"


def default_state_path() -> Path:
    return state_directory() / "state.json"


@dataclass
class OpEdits:
    """The texts typed for one op."""

    inputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    dtype: str | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"inputs": self.inputs, "params": self.params}
        if self.dtype is not None:
            document["dtype"] = self.dtype
        return document


class SessionFileError(Exception):
    """Raised when a session file cannot be used; the message gives the reason."""


def _parse(document: Any) -> dict[str, OpEdits]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SessionFileError("not an xframe-tui session file")
    version = document.get("version")
    if not isinstance(version, int):
        raise SessionFileError("the version is missing")
    if version > VERSION:
        raise SessionFileError(f"written by a newer xframe-tui (format version {version}, this one reads {VERSION})")
    ops = document.get("ops")
    if not isinstance(ops, dict):
        raise SessionFileError("'ops' is missing or not an object")

    edits = {}
    for op_id, entry in ops.items():
        if not isinstance(entry, dict):
            raise SessionFileError(f"the entry of op {op_id!r} is not an object")
        edits[op_id] = OpEdits(
            inputs=_texts(entry.get("inputs", {}), op_id, "inputs"),
            params=_texts(entry.get("params", {}), op_id, "params"),
            dtype=entry.get("dtype") if isinstance(entry.get("dtype"), str) else None,
        )
    return edits


def _texts(value: Any, op_id: str, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(text, str) for text in value.values()):
        raise SessionFileError(f"{key} of op {op_id!r} must map names to texts")
    return dict(value)


@dataclass
class SessionStore:
    """Loads and saves the edits of every op in one file."""

    path: Path
    edits: dict[str, OpEdits] = field(default_factory=dict)
    problem: str | None = None
    """The reason the file could not be loaded, if it could not; shown to the user once."""

    @classmethod
    def open(cls, path: Path) -> SessionStore:
        """Load the file if it exists; set an unreadable one aside and start empty."""
        store = cls(path)
        if not path.exists():
            return store
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise SessionFileError(f"larger than {MAX_FILE_BYTES:,} bytes")
            store.edits = _parse(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, SessionFileError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            aside = set_aside(path)
            store.problem = f"could not read {path}: {reason}; it was moved to {aside.name} and defaults are used"
        return store

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "ops": {op_id: edits.to_json() for op_id, edits in sorted(self.edits.items())},
        }

    def save(self) -> None:
        """Write the file atomically."""
        atomic_write(self.path, json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")


def set_aside(path: Path) -> Path:
    """Rename an unreadable file so it is kept for the user and never overwritten."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.unreadable-{stamp}")
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.name}.unreadable-{stamp}-{counter}")
    os.replace(path, candidate)
    return candidate


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` so a crash leaves either the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Flush the rename itself to disk; not possible on every platform."""
    if sys.platform == "win32":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
