"""Property-based tests for tui.core.tensors.

The default run draws 12,500 examples in total. Each property also has a
variant marked slow with ten times as many examples (run with pytest -m slow).
"""

import math
import sys
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.reliability import record
from tui.core.tensors import TensorSyntaxError, format_tensor, parse_tensor

# A smaller limit than the default keeps random constructor calls cheap.
FUZZ_MAX_ELEMENTS = 100_000

DEFAULT = settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = {"b": np.dtype(bool), "i": np.dtype(np.int64), "f": np.dtype(np.float64)}


def check_parse_contract(text: str) -> None:
    """Check that parse_tensor returns a bool, int64 or float64 array that round-trips, or raises TensorSyntaxError."""
    try:
        value = parse_tensor(text, max_elements=FUZZ_MAX_ELEMENTS)
    except TensorSyntaxError as error:
        event("rejected")
        assert 0 <= error.offset <= len(text)
        assert error.line >= 1
        assert error.column >= 1
        assert error.message
        record("fuzzed_inputs")
        return

    event("parsed")
    assert isinstance(value, np.ndarray)
    assert value.dtype in DTYPES.values()
    if value.size <= 2000:
        check_round_trip(value)
    record("fuzzed_inputs")


def check_round_trip(value: np.ndarray) -> None:
    again = parse_tensor(format_tensor(value, precision=17))

    assert again.shape == value.shape
    assert again.dtype == value.dtype
    np.testing.assert_array_equal(again, value)

    rounded = parse_tensor(format_tensor(value))
    assert rounded.shape == value.shape
    assert rounded.dtype == value.dtype


# ---------------------------------------------------------------- random text

TEXT_CHARACTERS = list("0123456789.,()[]{}+-*/%=:@~<>!&|^eEjxTrunaif_ \n\t\r#'\"")
random_text = st.text(
    alphabet=st.one_of(st.sampled_from(TEXT_CHARACTERS), st.characters()),
    max_size=80,
)

TOKENS = [
    "zeros", "ones", "arange", "linspace", "full", "eye", "randn", "rand", "randint",
    "reshape", "transpose", "(", ")", "[", "]", ",", ", ", " ", "+", "-", "*", "/", "//",
    "%", "**", "nan", "inf", "pi", "e", "True", "False", "0", "1", "2", "3", "7", "10",
    "99", "1.5", "1e3", "-1", "seed=", "=", "\n", ".", "__import__", "x", "'s'", "lambda",
    ":", " for ", " in ", " if ", " else ", "None", "1j", "@", "...", "9223372036854775807",
]
token_text = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


@DEFAULT
@given(text=random_text)
def test_random_text_raises_only_syntax_error(text):
    check_parse_contract(text)


@DEFAULT
@given(text=token_text)
def test_token_soup_raises_only_syntax_error(text):
    check_parse_contract(text)


@pytest.mark.slow
@SLOW
@given(text=random_text)
def test_random_text_raises_only_syntax_error_slow(text):
    check_parse_contract(text)


@pytest.mark.slow
@SLOW
@given(text=token_text)
def test_token_soup_raises_only_syntax_error_slow(text):
    check_parse_contract(text)


CONSTRUCTOR_NAMES = ["arange", "linspace", "zeros", "ones", "full", "eye", "randn", "rand", "randint", "reshape", "transpose"]
int64_texts = st.integers(-(2**63), 2**63 - 1).map(str)
argument_texts = st.one_of(
    st.integers(-3, 6).map(str),
    int64_texts,
    st.floats(width=64).map(repr),
    st.sampled_from(["0", "-1", "10**18", "nan", "inf", "True", "()", "[]", "[[]]", "arange(0)", "zeros((0, 3))"]),
    st.lists(st.one_of(st.integers(-2, 6), st.integers(0, 2**63 - 1)), max_size=4).map(
        lambda sizes: "(" + "".join(f"{size}, " for size in sizes) + ")"
    ),
)
keyword_texts = st.one_of(st.just(""), int64_texts.map(lambda seed: f"seed={seed}"), st.just("seed=1.5"))


@st.composite
def constructor_texts(draw) -> str:
    arguments = draw(st.lists(argument_texts, max_size=4))
    keyword = draw(keyword_texts)
    if keyword:
        arguments.append(keyword)
    call = f"{draw(st.sampled_from(CONSTRUCTOR_NAMES))}({', '.join(arguments)})"
    if draw(st.booleans()):
        call = f"{draw(st.sampled_from(['reshape', 'transpose']))}({call}, {draw(argument_texts)})"
    return call


@DEFAULT
@given(text=constructor_texts())
def test_constructor_arguments_raise_only_syntax_error(text):
    check_parse_contract(text)


@pytest.mark.slow
@SLOW
@given(text=constructor_texts())
def test_constructor_arguments_raise_only_syntax_error_slow(text):
    check_parse_contract(text)


# ---------------------------------------------------------------- exact int64 arithmetic

INT_OPERATIONS = {
    "+": lambda left, right: left + right,
    "-": lambda left, right: left - right,
    "*": lambda left, right: left * right,
    "//": lambda left, right: left // right,
    "%": lambda left, right: left % right,
    "**": lambda left, right: left**right,
}
int64_values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-70, 70),
    st.sampled_from([2**31, 3037000499, 3037000500, -(2**63), 2**63 - 1, 2**62, -(2**62)]),
)


def check_int_operation(left: int, operator: str, right: int) -> None:
    text = f"({left}) {operator} ({right})"
    if operator in ("//", "%") and right == 0:
        with pytest.raises(TensorSyntaxError, match="by zero"):
            parse_tensor(text)
        return
    if operator == "**" and right < 0:
        with pytest.raises(TensorSyntaxError, match="negative integer powers"):
            parse_tensor(text)
        return

    expected = INT_OPERATIONS[operator](left, right)
    if -(2**63) <= expected < 2**63:
        value = parse_tensor(text)
        assert value.dtype == np.int64
        assert int(value) == expected
        return
    with pytest.raises(TensorSyntaxError, match="overflow|too large"):
        parse_tensor(text)


int_operations = st.tuples(
    int64_values,
    st.sampled_from(list(INT_OPERATIONS)),
    int64_values,
).map(lambda case: case if case[1] != "**" else (case[0], "**", case[2] % 70 - 3))


@DEFAULT
@given(case=int_operations)
def test_int_arithmetic_matches_python(case):
    check_int_operation(*case)


@pytest.mark.slow
@SLOW
@given(case=int_operations)
def test_int_arithmetic_matches_python_slow(case):
    check_int_operation(*case)


# ---------------------------------------------------------------- well-formed expressions

# Integer bounds stay below this, so generated int arithmetic never overflows int64.
INT_BOUND = 2**62


@dataclass(frozen=True)
class Expr:
    """A generated expression with the shape and dtype kind it must evaluate to."""

    text: str
    shape: tuple[int, ...]
    kind: str  # "b", "i" or "f"
    bound: int = 0  # maximum absolute value, for kind "i"


def literal_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Return the shape that a nested list literal of this shape parses to, because [] ends the nesting."""
    for axis, size in enumerate(shape):
        if size == 0:
            return shape[: axis + 1]
    return shape


def nested_text(cells: list[str], shape: tuple[int, ...]) -> str:
    if not shape:
        return cells[0]
    if shape[0] == 0:
        return "[]"
    row_size = math.prod(shape[1:])
    rows = [nested_text(cells[row * row_size : (row + 1) * row_size], shape[1:]) for row in range(shape[0])]
    return "[" + ", ".join(rows) + "]"


def shape_text(draw, shape: tuple[int, ...]) -> str:
    forms = [repr(shape), repr(list(shape))]
    if shape:
        forms.append(", ".join(str(size) for size in shape))
    if len(shape) == 1:
        forms.append(str(shape[0]))
    return draw(st.sampled_from(forms))


small_shapes = st.lists(st.integers(0, 3), max_size=3).map(tuple)
ints = st.integers(-1000, 1000)
floats = st.floats(width=64)


@st.composite
def scalar_literals(draw, kind: str) -> Expr:
    if kind == "b":
        return Expr(repr(draw(st.booleans())), (), "b")
    if kind == "i":
        number = draw(ints)
        return Expr(str(number), (), "i", abs(number))
    if draw(st.booleans()):
        return Expr(draw(st.sampled_from(["pi", "e", "nan", "inf", "-inf"])), (), "f")
    return Expr(repr(draw(floats)), (), "f")


@st.composite
def list_literals(draw) -> Expr:
    kind = draw(st.sampled_from("bif"))
    shape = literal_shape(draw(small_shapes))
    cells = [draw(scalar_literals(kind)) for _ in range(math.prod(shape))]

    bound = max((cell.bound for cell in cells), default=0)
    actual_kind = kind if math.prod(shape) > 0 else "f"
    return Expr(nested_text([cell.text for cell in cells], shape), shape, actual_kind, bound)


@st.composite
def constructor_calls(draw) -> Expr:
    name = draw(st.sampled_from(["zeros", "ones", "full", "eye", "arange", "linspace", "randn", "rand", "randint"]))
    shape = draw(small_shapes)
    seed = f", seed={draw(st.integers(0, 2**32))}" if draw(st.booleans()) else ""

    if name in ("zeros", "ones"):
        return Expr(f"{name}({shape_text(draw, shape)})", shape, "f")
    if name == "full":
        fill = draw(scalar_literals(draw(st.sampled_from("bif"))))
        return Expr(f"full({repr(shape)}, {fill.text})", shape, fill.kind, fill.bound)
    if name == "eye":
        rows, columns = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        return Expr(f"eye({rows}, {columns})", (rows, columns), "f")
    if name == "arange":
        start, stop = draw(ints), draw(ints)
        step = draw(st.integers(1, 7)) * draw(st.sampled_from([1, -1]))
        count = len(range(start, stop, step))
        if count > 50:
            return Expr(f"arange({start}, {start + 5})", (5,), "i", abs(start) + 5)
        return Expr(f"arange({start}, {stop}, {step})", (count,), "i", max(abs(start), abs(stop)))
    if name == "linspace":
        number = draw(st.integers(0, 6))
        return Expr(f"linspace({draw(ints)}, {draw(floats)!r}, {number})", (number,), "f")
    if name in ("randn", "rand"):
        return Expr(f"{name}({shape_text(draw, shape)}{seed})", shape, "f")

    low = draw(ints)
    high = low + draw(st.integers(1, 100))
    return Expr(f"randint({low}, {high}, {shape_text(draw, shape)}{seed})", shape, "i", max(abs(low), abs(high)))


def combined_kind(left: Expr, right: Expr) -> str:
    return "i" if left.kind == right.kind == "i" else "f"


@st.composite
def combine(draw, children: st.SearchStrategy[Expr]) -> Expr:
    left = draw(children)
    action = draw(st.sampled_from(["binary", "binary", "negate", "list", "reshape", "transpose"]))

    if action == "reshape":
        size = math.prod(left.shape)
        target = draw(st.sampled_from(["-1", f"({size},)", f"(1, {size})", f"{size}, 1"]))
        shape = {"-1": (size,), f"({size},)": (size,), f"(1, {size})": (1, size), f"{size}, 1": (size, 1)}[target]
        return Expr(f"reshape({left.text}, {target})", shape, left.kind, left.bound)
    if action == "transpose":
        return Expr(f"transpose({left.text})", left.shape[::-1], left.kind, left.bound)
    if action == "list":
        right = draw(children)
        if right.shape != left.shape or (right.kind == "b") != (left.kind == "b"):
            right = left
        kind = "b" if left.kind == "b" else combined_kind(left, right)
        return Expr(f"[{left.text}, {right.text}]", (2,) + left.shape, kind, max(left.bound, right.bound))
    if left.kind == "b":
        return left
    if action == "negate":
        return Expr(f"-({left.text})", left.shape, left.kind, left.bound)
    return draw(binary(left, children))


@st.composite
def binary(draw, left: Expr, children: st.SearchStrategy[Expr]) -> Expr:
    right = draw(children)
    if right.kind == "b" or right.shape not in ((), left.shape):
        right = draw(scalar_literals(draw(st.sampled_from("if"))))

    kind = combined_kind(left, right)
    operator = draw(st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]))

    if kind == "i" and operator in ("//", "%"):
        divisor = draw(st.integers(1, 9))
        return Expr(f"({left.text}) {operator} {divisor}", left.shape, "i", left.bound)
    if kind == "i" and operator == "**":
        exponent = draw(st.integers(0, 3))
        if left.bound**exponent >= INT_BOUND:
            exponent = 1
        return Expr(f"({left.text}) ** {exponent}", left.shape, "i", left.bound**exponent)

    bound = left.bound * right.bound if operator == "*" else left.bound + right.bound
    if operator == "/" or bound >= INT_BOUND:
        operator, kind = "/", "f"
    return Expr(f"({left.text}) {operator} ({right.text})", left.shape, kind, bound if kind == "i" else 0)


leaves = st.one_of(
    st.sampled_from("bif").flatmap(scalar_literals),
    list_literals(),
    constructor_calls(),
)
expressions = st.recursive(leaves, combine, max_leaves=8)


def check_expression(expr: Expr) -> None:
    value = parse_tensor(expr.text)

    assert value.shape == expr.shape
    assert value.dtype == DTYPES[expr.kind]
    check_round_trip(value)


@DEFAULT
@given(expr=expressions)
def test_expressions_parse_and_round_trip(expr):
    check_expression(expr)
    record("fuzzed_inputs")


@pytest.mark.slow
@SLOW
@given(expr=expressions)
def test_expressions_parse_and_round_trip_slow(expr):
    check_expression(expr)


# ---------------------------------------------------------------- hostile input side effects

HOSTILE = [
    "__import__('os')",
    "__import__('os').system('touch pwned')",
    "open('x', 'w')",
    "open('x', 'w').write('1')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "[x for x in range(9)]",
    "exec('import socket')",
    "eval('1')",
    "compile('1', 'f', 'eval')",
    "globals()['__builtins__']",
    "breakpoint()",
    "help()",
    "zeros.__globals__",
    "10**10**10",
    "9**9**9",
    "zeros(10**9)",
    '"a"*10**9',
    "[" * 200 + "]" * 200,
    "[" * 50_000 + "]" * 50_000,
    "-" * 99_999 + "1",
    "import os",
    "__builtins__",
    "(__import__ := 1)",
    "f'{__import__(\"os\")}'",
]


def test_hostile_input_has_no_side_effects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    # Warm up the code paths that valid and invalid input take.
    parse_tensor("[1, 2.5] * randn(2, seed=1)")
    with pytest.raises(TensorSyntaxError):
        parse_tensor("sofmax(1)")

    modules_before = set(sys.modules)
    for text in HOSTILE:
        with pytest.raises(TensorSyntaxError):
            parse_tensor(text)

    assert set(sys.modules) - modules_before == set()
    assert list(tmp_path.iterdir()) == []
