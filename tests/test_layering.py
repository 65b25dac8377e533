"""Import layering, checked in fresh interpreters.

The UI process must never import a framework: torch, TensorFlow, Keras,
scikit-learn and JAX load only inside worker processes. The engine under
tui.core must not depend on the UI toolkit, Textual.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tui.core.workers import PROJECT_ROOT

FRAMEWORKS = ("torch", "tensorflow", "keras", "sklearn", "jax")

UI_MODULES_SCRIPT = textwrap.dedent(
    """
    import importlib
    import importlib.util
    import json
    import pkgutil
    import sys

    names = ["tui.app"]
    for optional in ("tui.app.app", "tui.cli"):
        if importlib.util.find_spec(optional) is not None:
            names.append(optional)
    import tui.app
    names += [info.name for info in pkgutil.walk_packages(tui.app.__path__, "tui.app.")]
    names += ["tui.core.catalog", "tui.core.run", "tui.core.compare", "tui.core.protocol", "tui.core.workers"]

    for name in names:
        importlib.import_module(name)
    frameworks = sorted(name for name in {frameworks!r} if name in sys.modules)
    print(json.dumps({{"imported": names, "frameworks": frameworks}}))
    """
)

CORE_MODULES_SCRIPT = textwrap.dedent(
    """
    import importlib
    import json
    import pkgutil
    import sys

    import tui.core

    names = [info.name for info in pkgutil.walk_packages(tui.core.__path__, "tui.core.")]
    for name in names:
        importlib.import_module(name)
    print(json.dumps({"imported": names, "textual": "textual" in sys.modules}))
    """
)

FIRST_FRAME_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import json
    import sys
    from pathlib import Path

    import tui.cli
    from tui.app import app as app_module
    from tui.app.app import XFrameApp
    from tui.core.workers import WorkerPool

    loaded = {}

    class FirstFrameApp(XFrameApp):
        # Textual looks for a relative CSS_PATH next to the subclass's file, and this one has none.
        CSS_PATH = str(Path(app_module.__file__).with_name(XFrameApp.CSS_PATH))

        def _display(self, screen, renderable):
            super()._display(screen, renderable)
            if renderable is not None and not loaded:
                loaded["numpy"] = "numpy" in sys.modules
                loaded["screen"] = type(screen).__name__

    async def main():
        app = FirstFrameApp(pool=WorkerPool([]))
        async with app.run_test() as pilot:
            await pilot.pause()

    asyncio.run(main())
    print(json.dumps(loaded))
    """
)


def run_script(script: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_ui_imports_no_framework():
    outcome = run_script(UI_MODULES_SCRIPT.format(frameworks=FRAMEWORKS))

    assert "tui.app" in outcome["imported"]
    assert "tui.core.catalog" in outcome["imported"]
    assert outcome["frameworks"] == [], f"importing the UI loaded {outcome['frameworks']}"


def test_first_frame_needs_no_numpy():
    # Importing numpy takes about as long as the rest of the UI's own imports.
    # So the ops table is drawn first, and numpy loads when an op needs it.
    outcome = run_script(FIRST_FRAME_SCRIPT)

    assert outcome == {"numpy": False, "screen": "OpsScreen"}


def test_core_imports_no_textual():
    outcome = run_script(CORE_MODULES_SCRIPT)

    assert "tui.core.workers" in outcome["imported"]
    assert "tui.core.catalog.activations" in outcome["imported"]
    assert outcome["textual"] is False
