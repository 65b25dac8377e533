"""`xframe-tui probe OP`: every edge-case probe of one op, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from tui.cli import fail


def probe_op(args: argparse.Namespace) -> int:
    """Run the op's probes on the workers it needs and print the behaviour matrix."""
    from tui.core.catalog import UnknownOpError, get_op
    from tui.core.catalog.probes import PROBES

    try:
        op = get_op(args.op)
    except UnknownOpError as exc:
        return fail(str(exc))
    if not PROBES.get(op.id):
        return fail(f"op {op.id!r} has no probes")

    from tui.core.probes import matrix_to_json, run_probes
    from tui.core.workers import WorkerPool

    with WorkerPool(op.workers(), deadline=args.deadline) as pool:
        matrix = run_probes(pool, op, args.dtype, args.tolerance)

    if args.json:
        print(json.dumps(matrix_to_json(matrix), indent=2))
    else:
        from rich.console import Console

        from tui.app.matrix_render import print_matrix

        print_matrix(Console(), matrix)
    return 0
