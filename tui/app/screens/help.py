"""The help screen: keys and the tensor language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# xframe-tui

Pick an op, edit its inputs, and every framework runs it again at once.
Each column is one framework, running in its own process; the reference
column is NumPy in float64, written from the op's definition.

## Keys

| key | does |
|---|---|
| Enter | open the selected op |
| Esc | back to the ops table |
| Ctrl+P | command palette: jump to any op |
| Ctrl+R | run again |
| F8 | reset the op's inputs and params to their defaults |
| F2 / F3 / F4 | results / details / notes tab |
| F5 | gradients of each output, torch and TensorFlow against the reference |
| F6 | load an edge-case probe: NaN, empty, out-of-range labels, … |
| F7 | behaviour matrix: every probe on every formulation |
| F1 | this help |
| Ctrl+Q | quit |

The last row of the ops table, or "Convert" in the command palette, opens
the TensorFlow-checkpoint-to-PyTorch conversion of a built-in tiny BERT.

## The tensor language

Inputs are parsed, never executed.

- numbers and nested lists: `[[1, 2], [3, 4.5]]`, `nan`, `inf`, `-inf`, `True`
- arithmetic on numbers and tensors: `2 * ones(3) - 1`, `arange(6) / 10`
- constructors: `arange`, `linspace`, `zeros`, `ones`, `full`, `eye`,
  `randn(2, 3, seed=0)`, `rand`, `randint(0, 5, (4,), seed=1)`,
  `reshape(t, (2, 3))`, `transpose(t)`

Integers give int64, any float gives float64; float inputs are cast to the
chosen dtype before each framework sees them.

## Verdicts

- ✓ match: within tolerance of the reference
- ≈ differs by convention: the difference is by design, and the card says why
- ✗ mismatch: outside tolerance
- ! raised: the framework raised an exception, shown as its result
- – not applicable / not supported: the API has no such form or option

Inputs and params are saved as you type and come back at the next start.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
