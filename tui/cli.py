"""Command line: the explorer by default, and headless `list`, `run` and `convert`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tui.core.catalog.base import DTYPES
from tui.core.compare import TOLERANCE_RULES

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xframe-tui",
        description="Compare what PyTorch, TensorFlow/Keras, NumPy and scikit-learn compute for the same op.",
    )
    parser.add_argument("--op", help="open the explorer on this op")
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds a framework may take per run (default 10)")
    parser.add_argument(
        "--session",
        type=Path,
        metavar="FILE",
        help="load typed inputs from FILE and save them there (default: the user state directory)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("list", help="print the ops table")

    run = commands.add_parser("run", help="run one op on every framework and print the comparison")
    run.add_argument("op", help="op id, as printed by `xframe-tui list`")
    run.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=EXPR",
        help="an input in the tensor language; NAME= with nothing after it leaves an optional input out",
    )
    run.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="a param value")
    run.add_argument("--dtype", choices=DTYPES, default="float32", help="compute dtype of float inputs (default float32)")
    run.add_argument("--tolerance", choices=TOLERANCE_RULES, default="torch", help="tolerance rule (default torch: assert_close's defaults)")
    run.add_argument("--json", action="store_true", help="print JSON instead of tables")
    run.add_argument(
        "--grad",
        action="store_true",
        help="also compute d(output)/d(each float input) in torch and TensorFlow for the implicit, sum and mean seeds",
    )

    probe = commands.add_parser("probe", help="run every edge-case probe of one op and print the behaviour matrix")
    probe.add_argument("op", help="op id, as printed by `xframe-tui list`")
    probe.add_argument("--dtype", choices=DTYPES, default="float32", help="compute dtype of float inputs (default float32)")
    probe.add_argument("--tolerance", choices=TOLERANCE_RULES, default="torch", help="tolerance rule (default torch: assert_close's defaults)")
    probe.add_argument("--json", action="store_true", help="print JSON instead of a table")

    try:
        from tui.core.convert.cli import add_convert_parser
    except ImportError:
        pass
    else:
        add_convert_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return list_ops()
    if args.command == "run":
        return run_op(args)
    if args.command == "probe":
        from tui.cli_probe import probe_op

        return probe_op(args)
    if args.command == "convert":
        from tui.core.convert.cli import run_convert

        return run_convert(args)
    return open_explorer(args)


def open_explorer(args: argparse.Namespace) -> int:
    from tui.core.catalog import UnknownOpError, get_op
    from tui.core.state import default_state_path
    from tui.core.workers import WorkerPool

    if args.op is not None:
        try:
            get_op(args.op)
        except UnknownOpError as exc:
            return fail(str(exc))

    # The frameworks take seconds to import, so their workers start before the
    # UI's own imports; one core stays free for the UI until its first frame.
    pool = WorkerPool(deadline=args.deadline, hold_core_for_ui=True).start()
    try:
        from tui.app.app import XFrameApp

        state_path = args.session if args.session is not None else default_state_path()
        XFrameApp(initial_op=args.op, pool=pool, state_path=state_path).run()
    finally:
        pool.close()
    return 0


def list_ops() -> int:
    from rich.console import Console

    from tui.app.render import ops_table

    Console().print(ops_table())
    return 0


def fail(message: str) -> int:
    """Print a one-line error to stderr and return the usage exit status."""
    print(f"xframe-tui: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def split_assignment(text: str, option: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise ValueError(f"{option} {text!r} is not of the form NAME=VALUE")
    return name.strip(), value


def run_op(args: argparse.Namespace) -> int:
    from tui.core.catalog import UnknownOpError, get_op
    from tui.core.catalog.base import InputError, ParamError
    from tui.core.gradients import has_gradients
    from tui.core.run import build_request
    from tui.core.tensors import TensorSyntaxError, parse_tensor

    try:
        op = get_op(args.op)
    except UnknownOpError as exc:
        return fail(str(exc))

    # Optional inputs start at their defaults, as in the explorer; `-i NAME=` leaves one out.
    texts = {spec.name: spec.default for spec in op.inputs}
    params: dict[str, str] = {}
    try:
        for item in args.input:
            name, value = split_assignment(item, "--input")
            texts[name] = value
        for item in args.param:
            name, value = split_assignment(item, "--param")
            params[name] = value
    except ValueError as exc:
        return fail(str(exc))

    arrays = {}
    for name, text in texts.items():
        if not text.strip():
            arrays[name] = None
            continue
        try:
            arrays[name] = parse_tensor(text)
        except TensorSyntaxError as exc:
            return fail(f"input {name}: {exc}")
    if args.grad and not has_gradients(op):
        return fail(f"--grad: {op.id} has no gradients; its output has no derivative in a float input")
    try:
        request = build_request(op, arrays, params, args.dtype, grad=args.grad)
    except (InputError, ParamError) as exc:
        kind = "input" if isinstance(exc, InputError) else "param"
        return fail(f"{kind} {exc.name}: {exc.message}")

    from tui.core.report import run_blocking, state_to_json
    from tui.core.workers import WorkerPool

    with WorkerPool(op.workers(), deadline=args.deadline) as pool:
        state = run_blocking(pool, op, request)

    if args.json:
        print(json.dumps(state_to_json(state, args.tolerance), indent=2))
    else:
        from rich.console import Console

        from tui.app.render import print_run

        console = Console()
        print_run(console, state, args.tolerance)
        if args.grad:
            from tui.app.render_gradients import print_gradients

            print_gradients(console, state, args.tolerance)
    return 0


if __name__ == "__main__":
    sys.exit(main())
