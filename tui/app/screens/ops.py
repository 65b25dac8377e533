"""The ops table: pick an op to open it."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from tui.core.catalog import visible_ops
from tui.core.catalog.base import Op


MODEL_ROW_KEY = "convert"
MODEL_ROW = (
    "Model: TF checkpoint to PyTorch",
    "BertModel, load weights by name",
    "tf.train.load_checkpoint",
    "safetensors",
)
"""The last row of the table opens the Convert screen instead of an op."""
MODEL_ROW_TEXT = " ".join([*MODEL_ROW, "convert bert checkpoint"])


def matches(op: Op, query: str) -> bool:
    """Return whether every word of the filter appears in the op's row."""
    haystack = " ".join([op.id, op.title, op.family, *op.table.values()]).lower()
    return all(word in haystack for word in query.lower().split())


class OpsScreen(Screen[None]):
    """The table of ops, with a filter box above it."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("f1", "app.help", "Help"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text("xframe-tui: the same op in PyTorch, TensorFlow/Keras, NumPy and scikit-learn", style="bold"), id="ops-title")
        yield Input(placeholder="filter ops (/)", id="ops-filter", compact=True)
        yield DataTable(id="ops-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text("Enter opens the op. Ctrl+P jumps to any op.", style="dim"), id="ops-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.query_one("#ops-filter", Input).cursor_blink = self.app.cursor_blink
        table.add_columns("Item", "PyTorch", "TensorFlow", "Others")
        self.fill_table("")
        table.focus()

    def fill_table(self, query: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for op in visible_ops():
            if matches(op, query):
                cells = (op.title, op.table.get("torch", ""), op.table.get("tensorflow", ""), op.table.get("others", ""))
                table.add_row(*(Text(cell) for cell in cells), key=op.id)
        if all(word in MODEL_ROW_TEXT.lower() for word in query.lower().split()):
            table.add_row(*(Text(cell) for cell in MODEL_ROW), key=MODEL_ROW_KEY)

    @on(Input.Changed, "#ops-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.fill_table(event.value)

    @on(Input.Submitted, "#ops-filter")
    def filter_submitted(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.focus()

    @on(DataTable.RowSelected, "#ops-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value == MODEL_ROW_KEY:
            self.app.open_convert()
        elif event.row_key.value is not None:
            self.app.open_op(event.row_key.value)

    def action_focus_filter(self) -> None:
        self.query_one("#ops-filter", Input).focus()

    def action_clear_filter(self) -> None:
        filter_box = self.query_one("#ops-filter", Input)
        filter_box.value = ""
        self.query_one(DataTable).focus()
