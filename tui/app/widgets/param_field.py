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
    """Edits one param; `value` is the last valid value."""

    class Changed(Message):
        """Posted when the param's text changed; check `error` before using `value`."""

        def __init__(self, field: ParamField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> ParamField:
            return self.field

    def __init__(self, spec: ParamSpec, text: str | None = None, *, id: str | None = None) -> None:
        """Create the field showing `text`, a saved entry, or the default when it is None."""
        super().__init__(id=id, classes="param-field")
        self.spec = spec
        self.initial_text = param_text(spec.default) if text is None else text
        self.value: Any = spec.default
        """The last valid value; `error` is set while the text is invalid."""
        self.error: str | None = None
        try:
            self.value = spec.parse(self.initial_text)
        except ParamError as exc:
            self.error = exc.message
        if spec.kind == "choice" and self.error is not None:
            # A choice list cannot show an invalid entry, so it falls back to the default.
            self.initial_text, self.error = param_text(spec.default), None
        self._accepted_text = self.initial_text

    def compose(self) -> ComposeResult:
        yield Label(Text(self.spec.name), classes="param-name")
        if self.spec.kind == "choice":
            options = [(choice, choice) for choice in self.spec.choices]
            yield Select(options, value=self.initial_text, allow_blank=False, compact=True)
        else:
            placeholder = "empty: not passed" if self.spec.optional else ""
            yield Input(self.initial_text, placeholder=placeholder, compact=True, select_on_focus=False)
        yield Label("", classes="param-error")

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = self.app.cursor_blink
        self.show_problem(self.error)

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
        """Parse the text and post Changed, unless it is the text already shown."""
        if text == self._accepted_text:
            return  # the widget reports its first value on mount too
        self._accepted_text = text
        try:
            self.value = self.spec.parse(text)
        except ParamError as exc:
            self.show_problem(exc.message)
        else:
            self.show_problem(None)
        self.post_message(self.Changed(self))

    def show_problem(self, message: str | None) -> None:
        self.error = message
        self.set_class(message is not None, "-error")
        self.query_one(".param-error", Label).update(Text("" if message is None else f"✗ {message}", style="bold red"))
