"""The installed ``xframe-tui convert`` command and ``python -m tui.core.convert``, as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from convert_fixtures import TINY_HEADS, tiny_bert_prefix
from tui.core.convert.events import ErrorEvent, SummaryEvent, event_from_json

XFRAME_TUI = Path(sys.executable).with_name("xframe-tui")
TIMEOUT = 120


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return tiny_bert_prefix(tmp_path_factory)


def run(arguments: list[str], cache: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, XDG_CACHE_HOME=str(cache))
    return subprocess.run(
        arguments, capture_output=True, text=True, env=environment, cwd=cwd, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )


def test_xframe_tui_convert_demo_json(tmp_path):
    cache = tmp_path / "cache"

    finished = run([str(XFRAME_TUI), "convert", "--json"], cache)

    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""
    events = [event_from_json(line) for line in finished.stdout.splitlines()]
    summary = events[-1]
    assert isinstance(summary, SummaryEvent)
    assert summary.checkpoint == "built-in demo"
    assert summary.ok
    assert summary.counts["loaded"] == 39
    assert (cache / "xframe-tui" / "demo-bert-v1" / "model.ckpt.index").is_file()
    assert (cache / "xframe-tui" / "convert.log").is_file()


def test_xframe_tui_convert_missing_path(tmp_path):
    finished = run([str(XFRAME_TUI), "convert", "no/such/model.ckpt"], tmp_path / "cache")

    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr == (
        "xframe-tui convert: error: no/such/model.ckpt: checkpoint not found (no such file or directory)\n"
    )


def test_module_streams_error_event(tiny_bert, tmp_path):
    data = tiny_bert.with_name("model.ckpt.data-00000-of-00001").read_bytes()
    (tmp_path / "model.ckpt.index").write_bytes(tiny_bert.with_name("model.ckpt.index").read_bytes())
    (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(data[:1000])

    finished = run(
        [sys.executable, "-m", "tui.core.convert", "model.ckpt", "--heads", str(TINY_HEADS)],
        tmp_path / "cache",
        cwd=tmp_path,
    )

    assert finished.returncode == 2
    lines = finished.stdout.splitlines()
    assert len(lines) == 1
    event = event_from_json(lines[0])
    assert isinstance(event, ErrorEvent)
    assert event.message == (
        f"model.ckpt: data file is truncated (1000 bytes, the index lists {len(data)} bytes of tensors)"
    )
    assert finished.stderr.splitlines()[-1] == f"error: {event.message}"
    assert json.loads(lines[0])["kind"] == "error"
