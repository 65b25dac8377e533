"""One editor per op input: live parsing, a shape/dtype badge and errors in place."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from tui.core.catalog.base import InputSpec
from tui.core.tensors import TensorSyntaxError, describe_array, parse_tensor


class InputEditor(Vertical):
    """Edits one tensor input; keeps the last valid value while the text is invalid."""

    class Changed(Message):
        """Posted when the text changed; `array` is None while the text is invalid."""

        def __init__(self, editor: InputEditor, array: np.ndarray | None) -> None:
            super().__init__()
            self.editor = editor
            self.array = array

        @property
        def control(self) -> InputEditor:
            return self.editor

    def __init__(self, spec: InputSpec, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="input-editor")
        self.spec = spec
        self.initial_text = text
        self.last_valid: np.ndarray | None = None
        self.error: str | None = None
        self._parsed_text: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="input-heading"):
            label = f"{self.spec.name}{' (optional)' if self.spec.optional else ''}"
            yield Label(Text(label), classes="input-name")
            yield Static("", classes="input-badge")
        yield Input(self.initial_text, placeholder=self._placeholder(), compact=True, select_on_focus=False)

    def _placeholder(self) -> str:
        if self.spec.optional:
            return "empty: not passed"
        return self.spec.doc or "a tensor, e.g. [[1.0, 2.0]]"

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = self.app.cursor_blink
        self._parse(self.initial_text)

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    def set_text(self, text: str) -> None:
        """Replace the text, as a probe or a reset does."""
        self.query_one(Input).value = text

    @property
    def valid(self) -> bool:
        return self.error is None

    @property
    def value(self) -> np.ndarray | None:
        """The value to run with: the current one, or None for an empty optional input."""
        return self.last_valid

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self._parsed_text:
            return  # the Input reports its first value on mount too
        self._parse(event.value)
        self.post_message(self.Changed(self, self.last_valid if self.valid else None))

    def _parse(self, text: str) -> None:
        self._parsed_text = text
        badge = self.query_one(".input-badge", Static)
        if self.spec.optional and not text.strip():
            self.error = None
            self.last_valid = None
            self.set_class(False, "-error")
            badge.update(Text("not passed", style="dim"))
            return
        try:
            array = parse_tensor(text)
        except TensorSyntaxError as exc:
            self.error = str(exc)
            self.set_class(True, "-error")
            kept = "" if self.last_valid is None else " · results are for the last valid value"
            badge.update(Text(f"✗ {exc}{kept}", style="bold red"))
            return
        self.error = None
        self.last_valid = array
        self.set_class(False, "-error")
        badge.update(Text(describe_array(array), style="dim"))

    def show_problem(self, message: str | None) -> None:
        """Show a problem found when checking the value against the op, such as a wrong rank."""
        badge = self.query_one(".input-badge", Static)
        if message is None:
            if self.valid and self.last_valid is not None:
                badge.update(Text(describe_array(self.last_valid), style="dim"))
                self.set_class(False, "-error")
            return
        self.set_class(True, "-error")
        badge.update(Text(f"✗ {message}", style="bold red"))
