"""The frame protocol: arrays of every kind, nested messages and wire conversions."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from tui.core.protocol import (
    LENGTH,
    ProtocolError,
    decode,
    encode,
    read_frame,
    reply_from_wire,
    reply_to_wire,
    request_from_wire,
    request_to_wire,
    write_frame,
)
from tui.core.run import FormulationResult, RunError, RunReply, RunRequest


def round_trip(message):
    stream = io.BytesIO()
    write_frame(stream, message)
    stream.seek(0)
    return read_frame(stream)


def assert_same_array(actual, expected):
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


ARRAYS = {
    "bool": np.array([True, False, True]),
    "int64": np.array([-(2**62), 0, 2**62], dtype=np.int64),
    "uint8": np.array([0, 255], dtype=np.uint8),
    "float16": np.array([0.1, -65504.0, np.inf], dtype=np.float16),
    "float32": np.array([[1.5, -2.25], [np.nan, 3.0]], dtype=np.float32),
    "float64": np.array([1e-300, -0.0, np.nan, -np.inf]),
    "complex128": np.array([1 + 2j, -3j]),
    "zero_d": np.array(2.5),
    "zero_d_int": np.array(7, dtype=np.int64),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "empty_bool": np.zeros((0,), dtype=np.bool_),
    "big_endian": np.arange(6, dtype=">i4").reshape(2, 3),
}


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_array_round_trip(name):
    array = ARRAYS[name]

    decoded = round_trip({"value": array})["value"]

    assert_same_array(decoded, array)


def test_non_contiguous_arrays():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    views = {
        "strided": base[:, ::2],
        "reversed": base[::-1, ::-1],
        "transposed": base.T,
        "fortran": np.asfortranarray(base),
    }

    decoded = round_trip(views)

    for name, view in views.items():
        assert_same_array(decoded[name], view)
        assert decoded[name].flags.c_contiguous, name


def test_decoded_arrays_are_writable_copies():
    decoded = round_trip({"value": np.arange(3.0)})["value"]

    decoded[0] = 10.0

    assert decoded[0] == 10.0


def test_nested_message():
    message = {
        "type": "reply",
        "items": [
            {"outputs": [np.array([1.0, 2.0]), np.array([[True]])], "dtype": "float32"},
            {"outputs": None, "error": {"type": "ValueError", "message": "bad ünïcode ✓"}},
        ],
        "tuple": (1, 2.5, "three", None, True),
        "nested": {"deeper": {"array": np.array([3], dtype=np.int32), "empty": []}},
    }

    decoded = round_trip(message)

    assert decoded["type"] == "reply"
    assert_same_array(decoded["items"][0]["outputs"][0], np.array([1.0, 2.0]))
    assert_same_array(decoded["items"][0]["outputs"][1], np.array([[True]]))
    assert decoded["items"][1] == {"outputs": None, "error": {"type": "ValueError", "message": "bad ünïcode ✓"}}
    assert decoded["tuple"] == [1, 2.5, "three", None, True]
    assert_same_array(decoded["nested"]["deeper"]["array"], np.array([3], dtype=np.int32))
    assert decoded["nested"]["deeper"]["empty"] == []


def test_dict_keys_become_strings():
    assert round_trip({1: "one", 2: "two"}) == {"1": "one", "2": "two"}


def test_numpy_scalars_become_python_values():
    decoded = round_trip({"f": np.float32(2.5), "i": np.int64(-3), "b": np.bool_(True)})

    assert decoded == {"f": 2.5, "i": -3, "b": True}
    assert type(decoded["i"]) is int
    assert type(decoded["b"]) is bool


def test_nan_and_infinity_in_header():
    decoded = round_trip({"elapsed": math.nan, "high": math.inf, "low": -math.inf, "list": [math.nan]})

    assert math.isnan(decoded["elapsed"])
    assert decoded["high"] == math.inf
    assert decoded["low"] == -math.inf
    assert math.isnan(decoded["list"][0])


def test_frame_layout():
    frame = encode({"a": np.array([1, 2], dtype=np.int16)})

    (length,) = LENGTH.unpack(frame[: LENGTH.size])
    body = frame[LENGTH.size :]
    header, data = body.split(b"\n", 1)

    assert length == len(body)
    assert json.loads(header) == {"a": {"__array__": ["<i2", [2], 0, 4]}}
    assert data == np.array([1, 2], dtype="<i2").tobytes()


def test_several_frames_on_one_stream():
    stream = io.BytesIO()
    write_frame(stream, {"n": 1, "x": np.array([1.0])})
    write_frame(stream, {"n": 2, "x": np.zeros((0,))})
    stream.seek(0)

    first = read_frame(stream)
    second = read_frame(stream)

    assert first["n"] == 1
    assert second["n"] == 2
    assert second["x"].shape == (0,)
    with pytest.raises(EOFError):
        read_frame(stream)


def test_truncated_frame_raises_eof():
    frame = encode({"x": np.arange(10.0)})

    with pytest.raises(EOFError, match="stream closed"):
        read_frame(io.BytesIO(frame[:-3]))


@pytest.mark.parametrize("array", [np.array(["text"]), np.array([None, 1], dtype=object)])
def test_unsupported_dtype_raises(array):
    with pytest.raises(ProtocolError, match="cannot send an array of dtype"):
        encode({"value": array})


def test_frame_without_header_raises():
    with pytest.raises(ProtocolError, match="frame has no header"):
        decode(b'{"a": 1}')


def test_request_round_trip():
    request = RunRequest(
        op="cross_entropy",
        inputs={"logits": np.array([[2.0, 1.0, 0.1]]), "labels": np.array([0], dtype=np.int64), "weights": None},
        params={"reduction": "mean", "epsilon": 1e-7, "dim": None},
        dtype="bfloat16",
        revision=42,
        grad=True,
    )

    decoded = request_from_wire(round_trip(request_to_wire(request)))

    assert decoded.op == "cross_entropy"
    assert_same_array(decoded.inputs["logits"], request.inputs["logits"])
    assert_same_array(decoded.inputs["labels"], request.inputs["labels"])
    assert decoded.inputs["weights"] is None
    assert decoded.params == {"reduction": "mean", "epsilon": 1e-7, "dim": None}
    assert decoded.dtype == "bfloat16"
    assert decoded.revision == 42
    assert decoded.grad is True


def test_reply_round_trip():
    variant = FormulationResult("torch:loss", "torch", outputs=[np.array([0.5, np.nan], dtype=np.float32)])
    result = FormulationResult(
        formulation="torch:loss",
        backend="torch",
        outputs=[np.array(0.25, dtype=np.float32), np.array([[1, 2]], dtype=np.int64)],
        dtypes=["torch.float32", "torch.int64"],
        elapsed=0.001,
        warnings=["UserWarning: something"],
        variants={"per_sample": variant},
    )
    failed = FormulationResult("tensorflow:loss", "tensorflow", error=RunError("InvalidArgumentError", "bad label"))
    reply = RunReply(
        worker="torch",
        op="cross_entropy",
        revision=7,
        results=[result, failed],
        diagnostics=["logits are not probabilities"],
        details={"loss": np.array([0.5, math.nan]), "denominator": 3, "error": None},
    )

    decoded = reply_from_wire(round_trip(reply_to_wire(reply)))

    assert (decoded.worker, decoded.op, decoded.revision) == ("torch", "cross_entropy", 7)
    first, second = decoded.results
    assert first.formulation == "torch:loss"
    assert_same_array(first.outputs[0], np.array(0.25, dtype=np.float32))
    assert_same_array(first.outputs[1], np.array([[1, 2]], dtype=np.int64))
    assert first.dtypes == ["torch.float32", "torch.int64"]
    assert first.elapsed == 0.001
    assert first.warnings == ["UserWarning: something"]
    assert first.ok
    assert_same_array(first.variants["per_sample"].outputs[0], variant.outputs[0])
    assert second.error == RunError("InvalidArgumentError", "bad label")
    assert second.outputs is None
    assert not second.ok
    assert decoded.diagnostics == ["logits are not probabilities"]
    assert_same_array(decoded.details["loss"], np.array([0.5, math.nan]))
    assert decoded.details["denominator"] == 3
    assert decoded.details["error"] is None
