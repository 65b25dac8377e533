"""Param parsing and request validation, with the messages a user reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.catalog.base import InputError, InputSpec, Op, ParamError, ParamSpec
from tui.core.run import build_request

DIM = ParamSpec("dim", "int", -1, optional=True)
EPSILON = ParamSpec("epsilon", "float", 1e-7, minimum=0.0, maximum=0.5)
REDUCTION = ParamSpec("reduction", "choice", "none", choices=("none", "mean", "sum"))
FLAG = ParamSpec("flag", "bool", False)

SOFTMAX_X = np.array([[1.0, 2.0], [3.0, 4.0]])
LOGITS = np.array([[2.0, 1.0, 0.1]])


@pytest.mark.parametrize(("text", "expected"), [("3", 3), (" -1 ", -1), (2, 2), (np.int64(-2), -2)])
def test_int_parse(text, expected):
    assert DIM.parse(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "none", "None", None])
def test_optional_empty_is_none(text):
    assert DIM.parse(text) is None


@pytest.mark.parametrize("text", ["1.5", "one", "1e3"])
def test_int_parse_rejects(text):
    with pytest.raises(ParamError) as caught:
        DIM.parse(text)

    assert caught.value.name == "dim"
    assert caught.value.message == f"{text!r} is not an integer"
    assert str(caught.value) == f"dim: {text!r} is not an integer"


@pytest.mark.parametrize(("text", "expected"), [("1e-7", 1e-7), ("0.5", 0.5), ("0", 0.0), (0.25, 0.25)])
def test_float_parse(text, expected):
    assert EPSILON.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("nan", "nan is not a finite number"),
        ("inf", "inf is not a finite number"),
        ("-0.1", "-0.1 is below the minimum 0"),
        ("0.6", "0.6 is above the maximum 0.5"),
        (0.75, "0.75 is above the maximum 0.5"),
        ("", "a value is required"),
        ("none", "a value is required"),
    ],
)
def test_float_parse_rejects(text, message):
    with pytest.raises(ParamError) as caught:
        EPSILON.parse(text)

    assert caught.value.name == "epsilon"
    assert caught.value.message == message


@pytest.mark.parametrize("text", ["none", "mean", " sum "])
def test_choice_parse(text):
    assert REDUCTION.parse(text) == text.strip()


@pytest.mark.parametrize("text", ["avg", "None", "", "MEAN"])
def test_choice_errors_list_allowed_values(text):
    with pytest.raises(ParamError) as caught:
        REDUCTION.parse(text)

    assert caught.value.name == "reduction"
    if text:
        assert "is not one of: none, mean, sum" in caught.value.message
        assert repr(text) in caught.value.message
    else:
        assert caught.value.message == "a value is required"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("Yes", True), ("1", True), ("on", True), (True, True),
     ("false", False), ("NO", False), ("0", False), ("off", False), (False, False)],
)
def test_bool_parse(text, expected):
    assert FLAG.parse(text) is expected


def test_bool_parse_rejects():
    with pytest.raises(ParamError, match=r"flag: 'maybe' is not true or false"):
        FLAG.parse("maybe")


@pytest.mark.parametrize(
    ("x", "dim", "allowed"),
    [
        (SOFTMAX_X, 5, "-2..1"),
        (SOFTMAX_X, -3, "-2..1"),
        (SOFTMAX_X, "2", "-2..1"),
        (np.zeros((2, 2, 2)), 3, "-3..2"),
        (np.array([1.0, 2.0]), 1, "-1..0"),
        (np.array(1.0), 1, "-1..0"),
    ],
)
def test_softmax_dim_out_of_range(x, dim, allowed):
    with pytest.raises(ParamError) as caught:
        build_request(get_op("softmax"), {"x": x}, {"dim": dim})

    assert caught.value.name == "dim"
    assert caught.value.message == f"dim={int(dim)} is out of range for a {x.ndim}-D input (allowed {allowed})"


@pytest.mark.parametrize("dim", [-2, -1, 0, 1, None, "", "1"])
def test_softmax_dim_in_range(dim):
    request = build_request(get_op("softmax"), {"x": SOFTMAX_X}, {"dim": dim})

    expected = None if dim in (None, "") else int(dim)
    assert request.params == {"dim": expected}


def test_params_given_as_values_are_checked():
    op = get_op("cross_entropy")
    inputs = {"logits": LOGITS, "labels": np.array([0])}

    with pytest.raises(ParamError, match="epsilon: 0.9 is above the maximum 0.5"):
        build_request(op, inputs, {"epsilon": 0.9})
    with pytest.raises(ParamError, match="reduction: 'avg' is not one of: none, mean, sum"):
        build_request(op, inputs, {"reduction": "avg"})
    with pytest.raises(ParamError, match="epsilon: nan is not a finite number"):
        build_request(op, inputs, {"epsilon": math.nan})


def test_defaults_fill_missing_params():
    request = build_request(get_op("cross_entropy"), {"logits": LOGITS, "labels": np.array([0])}, {})

    assert request.params == {
        "reduction": "none",
        "epsilon": 1e-7,
        "class_axis": "last",
        "ignore_index": -100,
        "ignore_class": None,
        "label_smoothing": 0.0,
    }
    assert request.dtype == "float32"


def test_inputs_normalised_to_float64_and_int64():
    request = build_request(
        get_op("cross_entropy"),
        {"logits": np.array([[2, 1, 0]], dtype=np.int32), "labels": np.array([2.0])},
        {},
    )

    assert request.inputs["logits"].dtype == np.float64
    assert request.inputs["labels"].dtype == np.int64
    np.testing.assert_array_equal(request.inputs["labels"], [2])


def test_missing_required_input():
    with pytest.raises(InputError) as caught:
        build_request(get_op("cross_entropy"), {"logits": LOGITS}, {})

    assert caught.value.name == "labels"
    assert caught.value.message == "a value is required"


@pytest.mark.parametrize("labels", [[0.5], [np.nan], [np.inf]])
def test_int_input_rejects_fractional_values(labels):
    with pytest.raises(InputError) as caught:
        build_request(get_op("cross_entropy"), {"logits": LOGITS, "labels": np.array(labels)}, {})

    assert caught.value.name == "labels"
    assert caught.value.message == "expected integers, got fractional or non-finite values"


def test_int_input_rejects_booleans():
    with pytest.raises(InputError, match="labels: expected class indices or float targets, got booleans"):
        build_request(get_op("cross_entropy"), {"logits": LOGITS, "labels": np.array([True])}, {})


def test_float_input_rejects_booleans():
    with pytest.raises(InputError, match="x: expected numbers, got booleans"):
        build_request(get_op("softmax"), {"x": np.array([True, False])}, {})


def test_bool_input_kind():
    op = Op("masked", "masked", "testing", inputs=(InputSpec("mask", "bool", "[true]"),))

    from_bools = build_request(op, {"mask": np.array([True, False])}, {})
    from_ints = build_request(op, {"mask": np.array([1, 0, 1])}, {})

    np.testing.assert_array_equal(from_bools.inputs["mask"], [True, False])
    assert from_ints.inputs["mask"].dtype == np.bool_
    np.testing.assert_array_equal(from_ints.inputs["mask"], [True, False, True])
    with pytest.raises(InputError, match=r"mask: expected booleans \(True/False or 1/0\)"):
        build_request(op, {"mask": np.array([2, 0])}, {})


def test_unknown_input_name():
    with pytest.raises(InputError) as caught:
        build_request(get_op("softmax"), {"x": SOFTMAX_X, "y": SOFTMAX_X}, {})

    assert caught.value.name == "y"
    assert caught.value.message == "softmax has no such input"


def test_unknown_param_name():
    with pytest.raises(ParamError) as caught:
        build_request(get_op("softmax"), {"x": SOFTMAX_X}, {"dim": 0, "axis": 1})

    assert caught.value.name == "axis"
    assert caught.value.message == "softmax has no such param"


def test_unknown_dtype():
    with pytest.raises(ParamError) as caught:
        build_request(get_op("softmax"), {"x": SOFTMAX_X}, {}, dtype="int8")

    assert caught.value.name == "dtype"
    assert caught.value.message == "'int8' is not one of: float32, float64, float16, bfloat16"


@pytest.mark.parametrize(
    ("inputs", "name", "message"),
    [
        (
            {"logits": np.array([2.0, 1.0]), "labels": np.array([0])},
            "logits",
            "expected a 2-D (N, C) or 3-D (N, S, C) array, got 1-D (2,)",
        ),
        (
            {"logits": LOGITS, "labels": np.array([[0]])},
            "labels",
            "expected class indices of shape (1,) or targets of the logits' shape (1, 3), got 2-D (1, 1)",
        ),
        ({"logits": LOGITS, "labels": np.array([0, 1])}, "labels", "expected 1 labels, one per row of logits, got 2"),
    ],
)
def test_cross_entropy_shape_checks(inputs, name, message):
    with pytest.raises(InputError) as caught:
        build_request(get_op("cross_entropy"), inputs, {})

    assert caught.value.name == name
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("x", "y", "name", "message"),
    [
        (np.ones(3), np.ones(3), "x", "expected a 2-D array of row vectors, got 1-D"),
        (np.ones((1, 2)), np.ones((1, 3)), "y", "expected the shape of x (1, 2), got (1, 3)"),
    ],
)
def test_cosine_shape_checks(x, y, name, message):
    with pytest.raises(InputError) as caught:
        build_request(get_op("cosine_similarity"), {"x": x, "y": y}, {})

    assert caught.value.name == name
    assert caught.value.message == message
