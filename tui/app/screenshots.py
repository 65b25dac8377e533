"""Write SVG screenshots of each screen, as the README shows them: ``python -m tui.app.screenshots DIR``.

The app runs headless with its real workers; each shot is taken once every
worker has replied, with timings hidden so the images only change when the
screens do.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from tui.app.app import XFrameApp
from tui.app.screens.op import OpScreen
from tui.core.workers import WorkerPool

SIZE = (120, 36)


async def wait_until_settled(pilot: Pilot, timeout: float = 300.0) -> None:
    """Wait until the op screen on top has every worker's reply to its newest inputs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        screen = pilot.app.screen
        if isinstance(screen, OpScreen) and screen.settled:
            await pilot.pause()
            return
        if loop.time() > deadline:
            raise TimeoutError(f"the workers did not reply within {timeout:g} s")
        await pilot.pause(0.05)


async def open_op(pilot: Pilot, op_id: str, tab: str | None = None) -> None:
    """Open an op, wait for every result, then optionally switch tab (f3 details, f4 notes)."""
    pilot.app.open_op(op_id)
    await pilot.pause()
    await wait_until_settled(pilot)
    if tab:
        await pilot.press(tab)
        await pilot.pause()
        # The gradients tab sends a new request; wait for its replies too. Keys
        # that open another screen (F6, F7) leave nothing to wait for here.
        if isinstance(pilot.app.screen, OpScreen):
            await wait_until_settled(pilot)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str, timeout: float = 300.0) -> None:
    """Wait until `condition()` holds, failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} did not finish within {timeout:g} s")
        await pilot.pause(0.05)
    await pilot.pause()


Shot = Callable[[Pilot], Awaitable[None]]


def shots() -> dict[str, Shot]:
    async def ops_table(pilot: Pilot) -> None:
        await pilot.pause()

    def op(op_id: str, tab: str | None = None) -> Shot:
        async def take(pilot: Pilot) -> None:
            await open_op(pilot, op_id, tab)

        return take

    async def matrix(pilot: Pilot) -> None:
        from tui.app.screens.matrix import BehaviourMatrixScreen

        pilot.app.open_matrix("one_hot")
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, BehaviourMatrixScreen) and pilot.app.screen.complete,
            "the behaviour matrix",
        )

    async def convert(pilot: Pilot) -> None:
        from tui.app.screens.convert import ConvertScreen

        pilot.app.open_convert()
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, ConvertScreen) and pilot.app.screen.finished,
            "the conversion",
        )

    return {
        "ops": ops_table,
        "softmax": op("softmax"),
        "cross_entropy": op("cross_entropy"),
        "cross_entropy_breakdown": op("cross_entropy", "f3"),
        "cosine_similarity": op("cosine_similarity"),
        "cosine_similarity_tables": op("cosine_similarity", "f3"),
        "gradients": op("cross_entropy", "f5"),
        "behaviour_matrix": matrix,
        "convert": convert,
    }


async def write_screenshots(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with WorkerPool() as pool:
        for name, take in shots().items():
            app = XFrameApp(pool=pool, show_timings=False, steady=True)
            async with app.run_test(size=SIZE) as pilot:
                await take(pilot)
                path = directory / f"{name}.svg"
                app.save_screenshot(filename=path.name, path=str(directory))
                written.append(path)
    return written


def main() -> int:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    for path in asyncio.run(write_screenshots(directory)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
