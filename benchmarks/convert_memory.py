"""Peak memory of converting a bert-base-shaped TensorFlow checkpoint to PyTorch.

    python benchmarks/convert_memory.py [--keep DIR] [--no-slots]

Writes a checkpoint with bert-base's shapes (110M parameters, random weights,
with Adam slots and global_step unless --no-slots) using TensorFlow's saver,
then converts it in a child process, once without and once with --out. The
child records ru_maxrss after importing torch and TensorFlow and running one
op in each (the baseline), runs the whole conversion including the parity
check, and records ru_maxrss again. Each run prints one Markdown table row:
the peak growth over the baseline, and that growth divided by the size of the
model's float32 weights. The conversion's goal is at most about 2 copies.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BERT_BASE = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
}
HEADER = (
    "| checkpoint | --out | parameters | weights (MiB) | baseline RSS (MiB) "
    "| peak RSS (MiB) | peak − baseline (MiB) | × weights | seconds | parity error / tolerance |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)
MIB = 1024 * 1024


def max_rss_bytes() -> int:
    """Return this process's peak resident set size; Linux reports ru_maxrss in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(prefix: str, out: str | None) -> None:
    """Convert `prefix` in this process and print one JSON line of measurements."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import torch

    from tui.core.convert.convert import ConvertRequest, convert_checkpoint

    # Both frameworks allocate thread pools and kernels on their first op.
    (tf.constant([1.0]) + 1.0).numpy()
    (torch.ones(2, 2) @ torch.ones(2, 2)).sum().item()
    baseline = max_rss_bytes()

    started = time.perf_counter()
    request = ConvertRequest(prefix, heads=BERT_BASE["num_attention_heads"], out=out)
    result = convert_checkpoint(request, lambda event: None)
    seconds = time.perf_counter() - started

    parameters = sum(parameter.numel() for parameter in result.model.parameters())
    measurements = {
        "baseline": baseline,
        "peak": max_rss_bytes(),
        "parameters": parameters,
        "weights": 4 * parameters,
        "seconds": seconds,
        "ok": result.summary.ok,
        "error_ratio": max(row.error_ratio for row in result.parity),
    }
    print(json.dumps(measurements))


def write_checkpoint(directory: Path, optimizer_slots: bool) -> Path:
    """Write the bert-base-shaped checkpoint with TensorFlow's saver."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tui.core.convert.config import BertConfig
    from tui.core.convert.demo import write_bert_checkpoint

    return write_bert_checkpoint(directory, BertConfig(**BERT_BASE), optimizer_slots=optimizer_slots)


def measure(prefix: Path, out: Path | None) -> dict:
    """Run the conversion in a child process and return its measurements."""
    command = [sys.executable, __file__, "--child", str(prefix)]
    if out is not None:
        command += ["--out", str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise SystemExit(f"the conversion child failed:\n{finished.stderr[-2000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def table_row(label: str, out: bool, result: dict) -> str:
    """Format one Markdown table row."""
    growth = result["peak"] - result["baseline"]
    cells = [
        label,
        "yes" if out else "no",
        f"{result['parameters']:,}",
        f"{result['weights'] / MIB:.0f}",
        f"{result['baseline'] / MIB:.0f}",
        f"{result['peak'] / MIB:.0f}",
        f"{growth / MIB:.0f}",
        f"{growth / result['weights']:.2f}",
        f"{result['seconds']:.1f}",
        f"{result['error_ratio']:.2f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", metavar="PREFIX", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--keep", metavar="DIR", help="write the checkpoint here and keep it")
    parser.add_argument("--no-slots", action="store_true", help="leave out the Adam slots and global_step")
    args = parser.parse_args()

    if args.child:
        run_child(args.child, args.out)
        return 0

    with tempfile.TemporaryDirectory(prefix="convert-memory-") as scratch:
        directory = Path(args.keep) if args.keep else Path(scratch)
        prefix = directory / "model.ckpt"
        if not prefix.with_name("model.ckpt.index").is_file():
            print(f"writing a bert-base-shaped checkpoint to {directory} ...", file=sys.stderr)
            subprocess.run(
                [sys.executable, "-c", _WRITER.format(directory=str(directory), slots=not args.no_slots)],
                check=True,
            )

        label = "bert-base" + ("" if args.no_slots else " + Adam slots")
        print(HEADER)
        for out in (None, Path(scratch) / "bert-base.safetensors"):
            result = measure(prefix, out)
            if not result["ok"]:
                print("warning: a layer is outside the parity tolerance", file=sys.stderr)
            print(table_row(label, out is not None, result))
    return 0


# The writer runs in its own process, so the weights never sit in the benchmark's parent.
_WRITER = (
    "import sys; sys.path.insert(0, {here!r}); "
    "from pathlib import Path; import convert_memory; "
    "convert_memory.write_checkpoint(Path({{directory!r}}), {{slots}})"
).format(here=str(Path(__file__).resolve().parent))


if __name__ == "__main__":
    sys.exit(main())
