"""A compact field for one op param: a choice list or a validated text box."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select

from tui.core.catalog.base import ParamError, ParamSpec


def param_text(value: Any) -> str:
    """Show a param value as the user would type it; None as an empty field."""
    return "" if value is None else str(value)


class ParamField(Horizontal):
    """Edits one param; `value` holds the last valid value."""

    class Changed(Message):
        """Posted when the param's value changed to a valid one."""

        def __init__(self, field: ParamField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> ParamField:
            return self.field

    def __init__(self, spec: ParamSpec, value: Any, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="param-field")
        self.spec = spec
        self.value = value
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(Text(self.spec.name), classes="param-name")
        if self.spec.kind == "choice":
            options = [(choice, choice) for choice in self.spec.choices]
            yield Select(options, value=self.value, allow_blank=False, compact=True)
        else:
            placeholder = "empty: not passed" if self.spec.optional else ""
            yield Input(param_text(self.value), placeholder=placeholder, compact=True, select_on_focus=False)
        yield Label("", classes="param-error")

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = self.app.cursor_blink

    @property
    def text(self) -> str:
        if self.spec.kind == "choice":
            return str(self.query_one(Select).value)
        return self.query_one(Input).value

    def set_value(self, value: Any) -> None:
        if self.spec.kind == "choice":
            self.query_one(Select).value = value
        else:
            self.query_one(Input).value = param_text(value)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._accept(str(event.value))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._accept(event.value)

    def _accept(self, text: str) -> None:
        try:
            value = self.spec.parse(text)
        except ParamError as exc:
            self.show_problem(exc.message)
            return
        self.show_problem(None)
        self.value = value
        self.post_message(self.Changed(self))

    def show_problem(self, message: str | None) -> None:
        self.error = message
        self.set_class(message is not None, "-error")
        self.query_one(".param-error", Label).update(Text("" if message is None else f"✗ {message}", style="bold red"))
