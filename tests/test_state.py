"""Typed inputs survive restarts, crashes mid-save and unreadable files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.core.state import FORMAT, VERSION, OpEdits, SessionStore, atomic_write, state_directory


def write_session(path: Path, ops: dict) -> None:
    path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "ops": ops}))


def test_round_trip(tmp_path):
    path = tmp_path / "state.json"
    store = SessionStore.open(path)
    store.edits["softmax"] = OpEdits(inputs={"x": "[[1, 2], [3"}, params={"dim": "0"}, dtype="float16")
    store.save()

    loaded = SessionStore.open(path)

    assert loaded.problem is None
    assert loaded.edits["softmax"].inputs == {"x": "[[1, 2], [3"}
    assert loaded.edits["softmax"].params == {"dim": "0"}
    assert loaded.edits["softmax"].dtype == "float16"


def test_missing_file_starts_empty(tmp_path):
    store = SessionStore.open(tmp_path / "nothing.json")

    assert store.edits == {}
    assert store.problem is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "Expecting property name enclosed in double quotes"),
        ('{"format": "something-else", "version": 1, "ops": {}}', "not an xframe-tui session file"),
        (f'{{"format": "{FORMAT}", "version": 99, "ops": {{}}}}', "written by a newer xframe-tui (format version 99"),
        (f'{{"format": "{FORMAT}", "version": 1, "ops": {{"softmax": {{"inputs": {{"x": 5}}}}}}}}', "inputs of op 'softmax'"),
        ("\udcff", "could not read"),
    ],
)
def test_unreadable_file_set_aside(tmp_path, content, reason):
    path = tmp_path / "state.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))

    store = SessionStore.open(path)

    assert store.edits == {}
    assert reason in store.problem
    assert not path.exists()
    kept = list(tmp_path.glob("state.json.unreadable-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == content.encode("utf-8", "surrogateescape")


def test_set_aside_file_never_overwritten(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{broken")
    store = SessionStore.open(path)
    store.edits["softmax"] = OpEdits(inputs={"x": "[1.0]"})
    store.save()

    path.write_text("{broken again")
    SessionStore.open(path)

    kept = sorted(item.read_text() for item in tmp_path.glob("state.json.unreadable-*"))
    assert kept == ["{broken", "{broken again"]


def test_failed_rename_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    path.write_text("old")

    def fail_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, "new")

    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


WRITER = """
import sys
from pathlib import Path
from tui.core.state import atomic_write
path = Path(sys.argv[1])
big = "x" * 2_000_000
n = 0
print("ready", flush=True)
while True:
    n += 1
    atomic_write(path, '{"n": %d, "pad": "%s"}' % (n, big))
"""


def test_killed_mid_save_leaves_whole_file(tmp_path):
    path = tmp_path / "state.json"
    atomic_write(path, '{"n": 0, "pad": ""}')

    for attempt in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.03 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()

        document = json.loads(path.read_text())
        assert isinstance(document["n"], int)


def test_state_directory_follows_xdg(monkeypatch, tmp_path):
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_STATE_HOME applies on Linux and other Unix systems")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    assert state_directory() == tmp_path / "xframe-tui"
