"""The wire format between the UI process and the workers.

A frame is an 8-byte big-endian length, then a JSON header, a newline and the
raw bytes of every array in the message. Arrays cross the process boundary
once, as bytes, never pickled; the header lists each array's dtype, shape and
offset into the byte section.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO


from tui.core.run import FormulationResult, RunError, RunReply, RunRequest

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

LENGTH = struct.Struct(">Q")
ARRAY_KEY = "__array__"

FrameObserver = Callable[[str, int, Any], None]
frame_observer: FrameObserver | None = None
"""When set, called with "encode" or "decode", the frame's size in bytes
(length prefix included) and its JSON header, whose ARRAY_KEY entries list
each array's dtype, shape, offset and size. Benchmarks use it to count what
crosses a process boundary; it is None otherwise, which costs one check."""


class ProtocolError(Exception):
    """Raised for a frame that cannot be decoded."""


def encode(message: Any) -> bytes:
    """Encode nested dicts, lists, scalars and arrays as one frame."""
    return b"".join(encode_parts(message))


def encode_parts(message: Any) -> list[bytes | memoryview]:
    """Encode a message as the pieces of one frame, to be written in order.

    The first piece contains the length prefix and the header. Each array
    follows as a view of its own memory, so a large array is not copied
    before it is written (a non-contiguous one is copied once).
    """
    chunks: list[memoryview] = []
    packed = _pack(message, chunks)
    header = json.dumps(packed).encode()
    size = len(header) + 1 + sum(chunk.nbytes for chunk in chunks)
    if frame_observer is not None:
        frame_observer("encode", LENGTH.size + size, packed)
    return [LENGTH.pack(size) + header + b"\n", *chunks]


# _pack and _unpack are module functions, not closures: a recursive closure is
# a reference cycle, which kept each frame's arrays alive until the next
# garbage collection.


def _pack(value: Any, chunks: list[memoryview]) -> Any:
    """Return `value` with each array replaced by its header entry, its bytes appended to `chunks`."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise ProtocolError(f"cannot send an array of dtype {value.dtype}")
        offset = sum(chunk.nbytes for chunk in chunks)
        data = memoryview(np.ascontiguousarray(value).reshape(-1).view(np.uint8))
        chunks.append(data)
        return {ARRAY_KEY: [value.dtype.str, list(value.shape), offset, data.nbytes]}
    if isinstance(value, dict):
        return {str(key): _pack(item, chunks) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack(item, chunks) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode(body: bytes | bytearray) -> Any:
    """Decode a frame body (without its length prefix); arrays are copied out of it."""
    split = body.find(b"\n")
    if split < 0:
        raise ProtocolError("frame has no header")
    header = json.loads(body[:split])
    if frame_observer is not None:
        frame_observer("decode", LENGTH.size + len(body), header)
    return _unpack(header, memoryview(body)[split + 1 :])


def _unpack(value: Any, data: memoryview) -> Any:
    if isinstance(value, dict):
        if ARRAY_KEY in value:
            dtype, shape, start, size = value[ARRAY_KEY]
            flat = np.frombuffer(data[start : start + size], dtype=np.dtype(dtype))
            return flat.reshape(shape).copy()
        return {key: _unpack(item, data) for key, item in value.items()}
    if isinstance(value, list):
        return [_unpack(item, data) for item in value]
    return value


def write_frame(stream: BinaryIO, message: Any) -> None:
    """Write one message and flush it."""
    for part in encode_parts(message):
        stream.write(part)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one message; raises EOFError when the stream closed."""
    prefix = _read_exactly(stream, LENGTH.size)
    (length,) = LENGTH.unpack(prefix)
    return decode(_read_exactly(stream, length))


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def request_to_wire(request: RunRequest) -> dict[str, Any]:
    return {
        "type": "run",
        "op": request.op,
        "inputs": request.inputs,
        "params": request.params,
        "dtype": request.dtype,
        "revision": request.revision,
        "grad": request.grad,
    }


def request_from_wire(message: dict[str, Any]) -> RunRequest:
    return RunRequest(
        message["op"],
        message["inputs"],
        message["params"],
        message["dtype"],
        message["revision"],
        message["grad"],
    )


def result_to_wire(result: FormulationResult) -> dict[str, Any]:
    return {
        "formulation": result.formulation,
        "backend": result.backend,
        "outputs": result.outputs,
        "dtypes": result.dtypes,
        "elapsed": result.elapsed,
        "warnings": result.warnings,
        "error": None if result.error is None else result.error.to_json(),
        "variants": {name: result_to_wire(variant) for name, variant in result.variants.items()},
        "gradients": {
            seed: {name: _gradient_to_wire(value) for name, value in by_input.items()}
            for seed, by_input in result.gradients.items()
        },
    }


def result_from_wire(message: dict[str, Any]) -> FormulationResult:
    error = message["error"]
    return FormulationResult(
        formulation=message["formulation"],
        backend=message["backend"],
        outputs=message["outputs"],
        dtypes=message["dtypes"],
        elapsed=message["elapsed"],
        warnings=message["warnings"],
        error=None if error is None else RunError(error["type"], error["message"]),
        variants={name: result_from_wire(variant) for name, variant in message["variants"].items()},
        gradients={
            seed: {name: _gradient_from_wire(value) for name, value in by_input.items()}
            for seed, by_input in message["gradients"].items()
        },
    )


def _gradient_to_wire(value: np.ndarray | RunError) -> np.ndarray | dict[str, str]:
    return value.to_json() if isinstance(value, RunError) else value


def _gradient_from_wire(value: np.ndarray | dict[str, str]) -> np.ndarray | RunError:
    if isinstance(value, dict):
        return RunError(value["type"], value["message"])
    return value


def reply_to_wire(reply: RunReply) -> dict[str, Any]:
    return {
        "type": "reply",
        "worker": reply.worker,
        "op": reply.op,
        "revision": reply.revision,
        "results": [result_to_wire(result) for result in reply.results],
        "diagnostics": reply.diagnostics,
        "details": reply.details,
        "handled": reply.handled,
    }


def reply_from_wire(message: dict[str, Any]) -> RunReply:
    return RunReply(
        worker=message["worker"],
        op=message["op"],
        revision=message["revision"],
        results=[result_from_wire(result) for result in message["results"]],
        diagnostics=message["diagnostics"],
        details=message["details"],
        handled=message.get("handled", 0.0),
    )
