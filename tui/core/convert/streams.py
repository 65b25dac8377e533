"""Keeping TensorFlow's output away from the terminal and the event stream.

TensorFlow's C++ runtime writes log lines straight to file descriptor 2, some
of them before TF_CPP_MIN_LOG_LEVEL is read (the absl "All log messages before
absl::InitializeLog()" banner, for one). Python-level redirection cannot catch
them, so these helpers move the file descriptors themselves.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def quiet_tensorflow_import() -> None:
    """Ask TensorFlow to drop its C++ info and warning logs; call before importing it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextmanager
def redirected_output(log_path: Path | None) -> Iterator[TextIO]:
    """Point fd 1 (and fd 2 when `log_path` is given) away from the terminal.

    Yields a text stream on the original stdout, the only place where the
    caller's own output should go. With a `log_path`, fd 1 and fd 2 both go to
    that file, truncated first. Without one, fd 1 goes to fd 2, for a child
    process whose parent captures stderr. Everything is restored on exit.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    target = _open_log(log_path) if log_path is not None else os.dup(2)
    saved_stdout, saved_stderr = os.dup(1), os.dup(2)
    stream = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    try:
        os.dup2(target, 1)
        if log_path is not None:
            os.dup2(target, 2)
        yield stream
    finally:
        stream.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_stdout, 1)
        os.dup2(saved_stderr, 2)
        for descriptor in (saved_stdout, saved_stderr, target):
            os.close(descriptor)


def _open_log(log_path: Path) -> int:
    """Open the log file, or /dev/null when the cache directory is not writable."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(log_path, flags, 0o644)
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)
