"""``python -m tui.core.convert [CHECKPOINT] [--heads N] [--forget-transpose] [--out FILE]``.

Runs one conversion and streams its events as JSON Lines on stdout. The
Convert screen starts this process, so the UI never imports torch or
TensorFlow. Anything the frameworks print, on stdout or stderr, goes to this
process's stderr, which the parent captures. The exit status is the CLI's:
0 matched, 1 mismatch, 2 invalid input.
"""

from __future__ import annotations

import os
import sys

# TensorFlow reads this while importing, so it must be set before any import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tui.core.convert.cli import build_parser, stream_conversion  # noqa: E402
from tui.core.convert.streams import redirected_output  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the conversion that `argv` describes, writing JSON Lines events."""
    parser = build_parser()
    parser.prog = "python -m tui.core.convert"
    args = parser.parse_args(argv)
    args.json = True

    with redirected_output(None) as events:
        code, message = stream_conversion(args, events)
    if message is not None:
        print(f"error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
