"""The ``convert`` command: convert a TensorFlow BERT checkpoint to PyTorch.

`add_convert_parser` and `run_convert` plug into the application's argparse
CLI; `main` runs the command on its own (``python -m tui.core.convert.cli``).
torch and TensorFlow are imported only once the command runs, with their
output sent to a log file under the cache directory.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from tui.core.convert.config import ConfigError
from tui.core.convert.events import ErrorEvent
from tui.core.convert.report import JsonLinesReporter, TextReporter
from tui.core.convert.source import CheckpointError, cache_dir
from tui.core.convert.streams import quiet_tensorflow_import, redirected_output

LOG_NAME = "convert.log"

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_ERROR = 2

DESCRIPTION = """\
Convert a TensorFlow BERT checkpoint to a PyTorch BertModel, one variable at a
time, and compare every layer's output with TensorFlow's. Without CHECKPOINT,
a tiny built-in BERT demo is generated in the cache directory and converted.
"""

EPILOG = """\
exit status: 0 when every variable converted and every layer matches,
1 when some variable failed or a layer diverges, 2 when the checkpoint or an
option is invalid (missing, truncated or not a checkpoint, not a BERT layout,
bad --heads, unwritable --out).
"""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the convert command's arguments to `parser`."""
    parser.add_argument(
        "checkpoint",
        nargs="?",
        metavar="CHECKPOINT",
        help="checkpoint prefix, one of its files, or a directory; default: the built-in demo",
    )
    parser.add_argument("--out", metavar="FILE.safetensors", help="write the PyTorch state dict here")
    parser.add_argument(
        "--heads",
        type=int,
        metavar="N",
        help="attention heads; default: hidden size / 64 (the demo's own count for the demo)",
    )
    parser.add_argument(
        "--forget-transpose",
        action="store_true",
        help="load kernels without transposing them, to see how parity catches the mistake",
    )
    parser.add_argument("--json", action="store_true", help="print events as JSON Lines instead of tables")


def add_convert_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``convert`` on an argparse subparsers object; it sets ``handler=run_convert``."""
    parser = subparsers.add_parser(
        "convert",
        help="convert a TensorFlow BERT checkpoint to PyTorch and check parity",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    parser.set_defaults(handler=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    """Run the command with parsed `args` and return the exit status.

    TensorFlow's and torch's own output goes to convert.log in the cache
    directory. An invalid checkpoint or option prints one line on stderr.
    """
    with redirected_output(cache_dir() / LOG_NAME) as stdout:
        code, message = stream_conversion(args, stdout)
    if message is not None:
        print(f"xframe-tui convert: error: {message}", file=sys.stderr)
    return code


def stream_conversion(args: argparse.Namespace, stdout: TextIO) -> tuple[int, str | None]:
    """Run the conversion that `args` describes, reporting to `stdout`.

    Returns the exit status and, for an invalid checkpoint or option, the error message.
    """
    reporter = JsonLinesReporter(stdout) if args.json else TextReporter(stdout)
    quiet_tensorflow_import()
    from tui.core.convert.convert import ConvertRequest, OutputError, convert_checkpoint

    request = ConvertRequest(
        checkpoint=args.checkpoint,
        heads=args.heads,
        forget_transpose=args.forget_transpose,
        out=args.out,
    )
    try:
        result = convert_checkpoint(request, reporter)
    except (CheckpointError, ConfigError, OutputError) as error:
        reporter(ErrorEvent(str(error)))
        return EXIT_ERROR, str(error)
    return (EXIT_OK if result.summary.ok else EXIT_MISMATCH), None


def build_parser() -> argparse.ArgumentParser:
    """Return a stand-alone parser for the convert command."""
    parser = argparse.ArgumentParser(
        prog="xframe-tui convert",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the command."""
    return run_convert(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
