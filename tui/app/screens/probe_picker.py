"""A modal list of an op's edge-case probes. Choosing one returns it to the op screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.core.catalog.base import Op
from tui.core.catalog.probes import PROBES, Probe


class ProbePicker(ModalScreen[Probe | None]):
    """Lists the probes of one op with their descriptions. Enter picks one and Esc picks none."""

    DEFAULT_CSS = """
    ProbePicker {
        align: center middle;
    }
    ProbePicker #probe-picker {
        width: 80%;
        max-width: 100;
        height: auto;
        max-height: 80%;
        background: $surface;
        border: round $primary;
        padding: 0 1;
    }
    ProbePicker #probe-picker-title {
        height: auto;
        margin-bottom: 1;
    }
    ProbePicker OptionList, ProbePicker OptionList:focus {
        height: auto;
        max-height: 100%;
        border: none;
        padding: 0;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, op: Op) -> None:
        super().__init__()
        self.op = op
        self.probes = PROBES.get(op.id, ())

    def compose(self) -> ComposeResult:
        with Vertical(id="probe-picker"):
            title = Text(f"Probes of {self.op.title}", style="bold")
            title.append("\nEnter loads its inputs and params into the editors, Esc closes", style="dim")
            yield Static(title, id="probe-picker-title")
            yield OptionList(*(self._option(index, probe) for index, probe in enumerate(self.probes)))

    @staticmethod
    def _option(index: int, probe: Probe) -> Option:
        prompt = Text(probe.name, style="bold")
        prompt.append(f"\n{probe.description}", style="dim")
        return Option(prompt, id=str(index))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.probes[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
