"""The op catalog: every op the explorer compares, by id."""

from __future__ import annotations

import os

from tui.core.catalog.activations import softmax
from tui.core.catalog.base import BACKENDS, WORKERS, Op
from tui.core.catalog.einsum import einsum
from tui.core.catalog.functions import clip, one_hot
from tui.core.catalog.linear import linear
from tui.core.catalog.losses import cross_entropy
from tui.core.catalog.metrics import accuracy
from tui.core.catalog.selection import where
from tui.core.catalog.similarity import cosine_similarity

OPS: dict[str, Op] = {
    op.id: op
    for op in (softmax, cross_entropy, cosine_similarity, clip, one_hot, linear, einsum, where, accuracy)
}

if os.environ.get("XFRAME_TUI_TEST_OPS") == "1":
    from tui.core.catalog import testing

    OPS.update({op.id: op for op in testing.OPS})


class UnknownOpError(KeyError):
    """Raised for an op id that is not in the catalog."""

    def __str__(self) -> str:
        known = ", ".join(op.id for op in visible_ops())
        return f"unknown op {self.args[0]!r} (known ops: {known})"


def get_op(op_id: str) -> Op:
    """Return the op with this id, raising UnknownOpError."""
    try:
        return OPS[op_id]
    except KeyError:
        raise UnknownOpError(op_id) from None


def visible_ops() -> list[Op]:
    """Ops shown in the ops table, in catalog order."""
    return [op for op in OPS.values() if not op.hidden]


__all__ = ["BACKENDS", "OPS", "WORKERS", "Op", "UnknownOpError", "get_op", "visible_ops"]
