"""The Convert screen, driven by a real converter process on a tiny BERT checkpoint.

Snapshots are taken before a run and after the converter process exited.
The screen shows only the checkpoint's basename, and differences within
tolerance as a bound, so nothing in them depends on the machine.
Regenerate on purpose with `pytest --snapshot-update` and look at the report.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from convert_fixtures import TINY_HEADS, tiny_bert_prefix
from tui.app.screens.convert import ConvertScreen

WIDE = (100, 32)
SMALL = (80, 24)
RUN_TIMEOUT = 120.0
POLL_INTERVAL = 0.1


class ConvertTestApp(App[None]):
    """An app whose only job is to push one ConvertScreen."""

    def __init__(self, screen: ConvertScreen) -> None:
        super().__init__()
        self.convert_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.convert_screen)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return tiny_bert_prefix(tmp_path_factory)


async def wait_for_converter(pilot: Pilot) -> None:
    """Pause until the screen's converter process exited, for at most RUN_TIMEOUT seconds."""
    screen = pilot.app.convert_screen
    for _ in range(int(RUN_TIMEOUT / POLL_INTERVAL)):
        if screen.finished:
            break
        await pilot.pause(POLL_INTERVAL)
    assert screen.finished, "the converter process did not finish in time"
    await pilot.pause()


async def press_t_and_wait(pilot: Pilot) -> None:
    await pilot.press("t")
    await wait_for_converter(pilot)


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["100x32", "80x24"])
def test_convert_screen_before_run(snap_compare, tiny_bert, size):
    """You should see five pending steps, empty tables and the hint to press r."""
    screen = ConvertScreen(str(tiny_bert), heads=TINY_HEADS, autostart=False)

    assert snap_compare(ConvertTestApp(screen), terminal_size=size)


async def wait_and_check_rows(pilot: Pilot) -> None:
    """Wait for the converter, then check the tables' contents cell by cell."""
    await wait_for_converter(pilot)
    screen = pilot.app.convert_screen
    variables = screen.query_one("#convert-variables", DataTable)
    parity = screen.query_one("#convert-parity", DataTable)

    assert variables.row_count == 139
    kernel = [cell.plain for cell in variables.get_row("114")]
    assert kernel == ["loaded", "bert/pooler/dense/kernel", "(32, 32)", "pooler.dense.weight", "(32, 32)", "yes", ""]
    step = [cell.plain for cell in variables.get_row("138")]
    assert step == ["skipped", "global_step", "()", "", "", "", "step counter (global_step)"]
    assert [cell.plain for cell in parity.get_column("layer")] == ["embeddings", "layer 0", "layer 1", "pooler"]
    assert screen.state.first_divergent is None


def test_convert_screen_after_run(snap_compare, tiny_bert):
    """You should see every step done, 39 loaded rows and four parity rows within tolerance."""
    screen = ConvertScreen(str(tiny_bert), heads=TINY_HEADS)

    assert snap_compare(ConvertTestApp(screen), terminal_size=WIDE, run_before=wait_and_check_rows)


def test_convert_screen_after_run_small(snap_compare, tiny_bert):
    """You should see the finished conversion fitting 80x24, footer included."""
    screen = ConvertScreen(str(tiny_bert), heads=TINY_HEADS)

    assert snap_compare(ConvertTestApp(screen), terminal_size=SMALL, run_before=wait_for_converter)


def test_convert_screen_forget_transpose(snap_compare, tiny_bert):
    """You should see 4 failed rows and layer 0 highlighted as the first divergence."""
    screen = ConvertScreen(str(tiny_bert), heads=TINY_HEADS, autostart=False)

    assert snap_compare(ConvertTestApp(screen), terminal_size=WIDE, run_before=press_t_and_wait)


def test_convert_screen_bad_path_escaped(tmp_path):
    path = tmp_path / "[bold]weights" / "model[red].ckpt"
    screen = ConvertScreen(str(path))
    observed: dict[str, object] = {}

    async def run() -> None:
        async with ConvertTestApp(screen).run_test(size=SMALL) as pilot:
            await wait_for_converter(pilot)
            message = screen.query_one("#convert-message", Static)
            observed["error class"] = message.has_class("-error")
            observed["message"] = message.content
            observed["rows"] = screen.query_one("#convert-variables", DataTable).row_count
            observed["build pending"] = screen.query_one("#convert-step-build", Static).has_class("-pending")
            observed["title"] = screen.query_one("#convert-title", Static).content

    asyncio.run(run())

    assert observed["error class"] is True
    assert isinstance(observed["message"], Text)
    assert observed["message"].plain == f"{path}: checkpoint not found (no such file or directory)"
    assert observed["rows"] == 0
    assert observed["build pending"] is True
    assert observed["title"].plain.startswith("TF → PyTorch BERT: model[red].ckpt ·")


def test_screen_module_imports_no_framework():
    code = (
        "import sys, tui.app.screens.convert; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert output.stdout.strip() == "[]"
