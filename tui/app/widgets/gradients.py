"""The gradients panel: each differentiated formulation's gradients by seed, against the reference."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.app.render_gradients import gradients_view
from tui.core.report import RunState


class GradientsPanel(Static):
    """Gradients of the newest run; shows a waiting line until a run with gradients arrives."""

    DEFAULT_CSS = """
    GradientsPanel {
        padding: 0 1;
    }
    """

    def show_state(self, state: RunState | None, rule: str) -> None:
        """Show the gradients of a run, compared under a tolerance rule."""
        if state is None or not state.request.grad:
            self.update(Text("computing gradients…", style="dim"))
            return
        self.update(gradients_view(state, rule))
