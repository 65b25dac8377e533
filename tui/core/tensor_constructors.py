"""Value-level operations of the tensor expression language.

The evaluator in tui.core.tensors walks the syntax tree and calls the
constructors (zeros, arange, randn, ...) and the arithmetic operators defined
here on already evaluated numpy values. Every value is an ndarray of dtype
bool, int64 or float64. Problems are raised as ArgumentError, which the
evaluator turns into a TensorSyntaxError that points at the right node.

Every operation checks the element count of its result against the caller's
limit before it allocates, and integer arithmetic raises on int64 overflow
instead of wrapping around as numpy does.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

INT64_MIN = int(np.iinfo(np.int64).min)
INT64_MAX = int(np.iinfo(np.int64).max)

# A nested-list literal can be at most this deep, so a larger ndim could not
# be written back as text.
MAX_NDIM = 32


class ArgumentError(ValueError):
    """An operation rejected one of its arguments.

    argument is the index of the positional argument or operand (0 = left,
    1 = right for an operator), the name of a keyword argument, or None when
    the problem belongs to the call or operator as a whole.
    """

    def __init__(self, message: str, argument: int | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument


def format_count(count: int) -> str:
    """Format an element count as 10^k when it is an exact power of ten, else as 12,345.

    Counts of more than 15 digits are only bounded: "more than 10^20".
    """
    digits = str(count)
    if count >= 1000 and digits == "1" + "0" * (len(digits) - 1):
        return f"10^{len(digits) - 1}"
    if len(digits) > 15:
        return f"more than 10^{len(digits) - 1}"
    return f"{count:,}"


def check_count(count: int, max_elements: int, argument: int | str | None = None) -> None:
    """Raise ArgumentError when an array of count elements would exceed max_elements."""
    if count > max_elements:
        message = f"too large: {format_count(count)} elements (limit {format_count(max_elements)})"
        raise ArgumentError(message, argument)


def check_shape_size(shape: tuple[int, ...], max_elements: int, argument: int | str | None = None) -> None:
    """Raise ArgumentError when an array of shape would be too large to create.

    numpy rejects a shape whose nonzero dimensions overflow its index type even
    when another dimension is 0, so those dimensions must also fit the limit.
    """
    check_count(math.prod(shape), max_elements, argument)

    nonzero = math.prod(size for size in shape if size != 0)
    if nonzero > max_elements:
        message = (
            f"too large: the nonzero dimensions of shape {shape} multiply to {format_count(nonzero)} "
            f"(limit {format_count(max_elements)})"
        )
        raise ArgumentError(message, argument)


def kind_name(value: np.ndarray) -> str:
    """Return 'bool', 'int' or 'float' for a value of the language."""
    return {"b": "bool", "i": "int"}.get(value.dtype.kind, "float")


# ---------------------------------------------------------------- arguments


def _read_scalar(value: np.ndarray, index: int | str, label: str) -> np.ndarray:
    if value.ndim != 0:
        raise ArgumentError(f"{label} must be a single number, got an array of shape {value.shape}", index)
    if value.dtype.kind == "b":
        raise ArgumentError(f"{label} must be a number, got bool {bool(value)}", index)
    return value


def _read_int(value: np.ndarray, index: int | str, label: str, minimum: int | None = None) -> int:
    scalar = _read_scalar(value, index, label)
    if scalar.dtype.kind != "i":
        raise ArgumentError(f"{label} must be an integer, got {float(scalar)!r}", index)
    number = int(scalar)
    if minimum is not None and number < minimum:
        raise ArgumentError(f"{label} must be at least {minimum}, got {number}", index)
    return number


def _read_number(value: np.ndarray, index: int | str, label: str) -> int | float:
    scalar = _read_scalar(value, index, label)
    return int(scalar) if scalar.dtype.kind == "i" else float(scalar)


def _read_shape_entries(values: list[np.ndarray], start: int, name: str) -> list[tuple[int, int]]:
    """Return (dimension, argument index) pairs from one shape argument or several int arguments."""
    if len(values) <= start:
        raise ArgumentError(f"{name}: missing shape; write e.g. {name}(3) or {name}((2, 3))")

    if len(values) == start + 1 and values[start].ndim == 1:
        entries = values[start]
        if entries.size == 0:
            return []
        if entries.dtype.kind != "i":
            raise ArgumentError(f"{name}: shape entries must be integers, got {kind_name(entries)} values", start)
        return [(int(size), start) for size in entries]

    pairs = []
    for index in range(start, len(values)):
        value = values[index]
        if value.ndim != 0:
            message = f"{name}: shape must be an int or a tuple of ints, got an array of shape {value.shape}"
            raise ArgumentError(message, index)
        pairs.append((_read_int(value, index, f"{name}: shape entry"), index))
    return pairs


def read_shape(values: list[np.ndarray], start: int, name: str, max_elements: int) -> tuple[int, ...]:
    """Read a shape given as values[start:] and check its element count against max_elements."""
    pairs = _read_shape_entries(values, start, name)
    shape = tuple(size for size, _ in pairs)

    for size, index in pairs:
        if size < 0:
            raise ArgumentError(f"{name}: negative dimension {size} in shape {shape}", index)
    if len(shape) > MAX_NDIM:
        raise ArgumentError(f"{name}: too many dimensions: {len(shape)} (limit {MAX_NDIM})", start)

    check_shape_size(shape, max_elements, start)
    return shape


def _read_seed(keywords: dict[str, np.ndarray]) -> np.random.Generator:
    if "seed" not in keywords:
        return np.random.default_rng(0)
    return np.random.default_rng(_read_int(keywords["seed"], "seed", "seed", minimum=0))


# ---------------------------------------------------------------- constructors

Builder = Callable[[list[np.ndarray], dict[str, np.ndarray], int], np.ndarray]


@dataclass(frozen=True)
class Constructor:
    """A function the language can call: its usage text, arity and keyword names."""

    usage: str
    min_args: int
    max_args: int | None
    keywords: frozenset[str]
    build: Builder


def _arange(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    names = ["stop"] if len(values) == 1 else ["start", "stop", "step"]
    numbers = [_read_number(value, index, f"arange: {names[index]}") for index, value in enumerate(values)]

    if len(numbers) == 1:
        start, stop, step = 0, numbers[0], 1
    elif len(numbers) == 2:
        start, stop, step = numbers[0], numbers[1], 1
    else:
        start, stop, step = numbers

    if step == 0:
        raise ArgumentError("arange: step must not be 0", 2)

    if all(isinstance(number, int) for number in (start, stop, step)):
        count = max(0, -((start - stop) // step))
        check_count(count, max_elements)
        # Wrapping int64 arithmetic still lands on the exact values, which all lie in [start, stop).
        with np.errstate(all="ignore"):
            return np.int64(start) + np.arange(count, dtype=np.int64) * np.int64(step)

    for name, number in zip(("start", "stop", "step"), (start, stop, step)):
        if not math.isfinite(number):
            raise ArgumentError(f"arange: {name} must be finite, got {number}")
    span = (stop - start) / step
    if not math.isfinite(span):
        raise ArgumentError(f"too large: more than {format_count(max_elements)} elements")
    count = max(0, math.ceil(span))
    check_count(count, max_elements)
    if count == 0:
        # np.arange raises for some empty ranges with huge bounds, such as arange(-9e18).
        return np.zeros(0, dtype=np.float64)
    return np.arange(start, stop, step, dtype=np.float64)


def _linspace(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    start = _read_number(values[0], 0, "linspace: start")
    stop = _read_number(values[1], 1, "linspace: stop")
    num = _read_int(values[2], 2, "linspace: num", minimum=0)
    check_count(num, max_elements, 2)

    with np.errstate(all="ignore"):
        return np.linspace(start, stop, num, dtype=np.float64)


def _zeros(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    return np.zeros(read_shape(values, 0, "zeros", max_elements), dtype=np.float64)


def _ones(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    return np.ones(read_shape(values, 0, "ones", max_elements), dtype=np.float64)


def _full(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    shape = read_shape(values[:1], 0, "full", max_elements)
    fill = values[1]
    if fill.ndim != 0:
        raise ArgumentError(f"full: value must be a single number, got an array of shape {fill.shape}", 1)
    return np.full(shape, fill, dtype=fill.dtype)


def _eye(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    rows = _read_int(values[0], 0, "eye: n", minimum=0)
    columns = _read_int(values[1], 1, "eye: m", minimum=0) if len(values) > 1 else rows
    check_shape_size((rows, columns), max_elements)
    return np.eye(rows, columns, dtype=np.float64)


def _randn(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    shape = read_shape(values, 0, "randn", max_elements)
    return _read_seed(keywords).standard_normal(shape)


def _rand(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    shape = read_shape(values, 0, "rand", max_elements)
    return _read_seed(keywords).random(shape)


def _randint(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    low = _read_int(values[0], 0, "randint: low")
    high = _read_int(values[1], 1, "randint: high")
    if low >= high:
        raise ArgumentError(f"randint: low ({low}) must be less than high ({high})", 1)

    shape = read_shape(values, 2, "randint", max_elements)
    return _read_seed(keywords).integers(low, high, size=shape, dtype=np.int64)


def _reshape(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    array = values[0]
    pairs = _read_shape_entries(values, 1, "reshape")
    requested = tuple(size for size, _ in pairs)
    shape = list(requested)

    inferred = [position for position, size in enumerate(shape) if size == -1]
    for size, index in pairs:
        if size < -1 or (size == -1 and len(inferred) > 1):
            message = f"reshape: invalid dimension {size} in shape {requested}; only one -1 is allowed"
            raise ArgumentError(message, index)
    if len(shape) > MAX_NDIM:
        raise ArgumentError(f"reshape: too many dimensions: {len(shape)} (limit {MAX_NDIM})", 1)

    # Like numpy, -1 cannot be inferred next to a 0 dimension, because any size would fit.
    known = math.prod(size for size in shape if size != -1)
    if inferred and known != 0 and array.size % known == 0:
        shape[inferred[0]] = array.size // known
    if -1 in shape or math.prod(shape) != array.size:
        message = f"reshape: cannot reshape {array.size} elements into shape {requested}"
        raise ArgumentError(message, 1)
    check_shape_size(tuple(shape), max_elements, 1)
    return array.reshape(shape)


def _transpose(values: list[np.ndarray], keywords: dict, max_elements: int) -> np.ndarray:
    array = values[0]
    if len(values) == 1:
        return array.transpose()

    axes = tuple(size for size, _ in _read_shape_entries(values, 1, "transpose"))
    normalized = tuple(axis + array.ndim if axis < 0 else axis for axis in axes)
    if sorted(normalized) != list(range(array.ndim)):
        message = f"transpose: axes {axes} are not a permutation of the {array.ndim} axes of shape {array.shape}"
        raise ArgumentError(message, 1)
    return array.transpose(normalized)


_NO_KEYWORDS: frozenset[str] = frozenset()
_SEED = frozenset({"seed"})

CONSTRUCTORS: dict[str, Constructor] = {
    "arange": Constructor("arange(stop) or arange(start, stop[, step])", 1, 3, _NO_KEYWORDS, _arange),
    "linspace": Constructor("linspace(start, stop, num)", 3, 3, _NO_KEYWORDS, _linspace),
    "zeros": Constructor("zeros(shape)", 1, None, _NO_KEYWORDS, _zeros),
    "ones": Constructor("ones(shape)", 1, None, _NO_KEYWORDS, _ones),
    "full": Constructor("full(shape, value)", 2, 2, _NO_KEYWORDS, _full),
    "eye": Constructor("eye(n[, m])", 1, 2, _NO_KEYWORDS, _eye),
    "randn": Constructor("randn(shape, seed=0)", 1, None, _SEED, _randn),
    "rand": Constructor("rand(shape, seed=0)", 1, None, _SEED, _rand),
    "randint": Constructor("randint(low, high, shape, seed=0)", 3, None, _SEED, _randint),
    "reshape": Constructor("reshape(t, shape)", 2, None, _NO_KEYWORDS, _reshape),
    "transpose": Constructor("transpose(t[, axes])", 1, None, _NO_KEYWORDS, _transpose),
}


# ---------------------------------------------------------------- arithmetic

_BOOL_ARITHMETIC = "arithmetic on bool values is not allowed; write 1/0 instead of True/False"


def _overflow(symbol: str) -> ArgumentError:
    message = f"integer overflow: the result of '{symbol}' does not fit int64; use a float operand such as 2.0"
    return ArgumentError(message)


def _wrapping(operation: np.ufunc, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Apply operation in uint64, where overflow wraps modulo 2^64 by definition, and return int64 bits.

    Signed int64 overflow is undefined behavior in the C loops numpy runs, so the
    overflow checks below must not rely on it.
    """
    result = operation(left.astype(np.uint64), right.astype(np.uint64))
    return np.asarray(result).view(np.int64)


def _int_add(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    result = _wrapping(np.add, left, right)
    if np.any(((left ^ result) & (right ^ result)) < 0):
        raise _overflow("+")
    return result


def _int_subtract(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    result = _wrapping(np.subtract, left, right)
    if np.any(((left ^ right) & (left ^ result)) < 0):
        raise _overflow("-")
    return result


def _int_multiply(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    product = _wrapping(np.multiply, left, right)
    nonzero = left != 0

    # Without overflow, product // left recovers right exactly. A wrapped product differs from
    # the true one by a multiple of 2^64, which moves the quotient by at least 2.
    quotient = np.floor_divide(product, np.where(nonzero, left, 1))
    overflow = nonzero & ((quotient != right) | ((left == -1) & (right == INT64_MIN)))
    if np.any(overflow):
        raise _overflow("*")
    return product


def _int_floor_divide(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if np.any(right == 0):
        raise ArgumentError("integer division by zero; use a float operand such as 1.0 to get inf or nan")
    if np.any((left == INT64_MIN) & (right == -1)):
        raise _overflow("//")
    return np.floor_divide(left, right)


def _int_remainder(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if np.any(right == 0):
        raise ArgumentError("integer modulo by zero; use a float operand such as 1.0 to get nan")
    return np.remainder(left, right)


def _int_power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Raise int64 base to int64 exponent, rejecting results outside int64 exactly."""
    if np.any(exponent < 0):
        raise ArgumentError("integers to negative integer powers are not allowed; write a float base such as 2.0 ** -1", 1)
    base, exponent = np.broadcast_arrays(base, exponent)

    # |base| ** exponent needs exponent * log2|base| bits. The float estimate is off by far
    # less than 0.1 bit, so this rejects 10 ** 10 ** 10 before computing anything.
    magnitude = np.absolute(base, dtype=np.float64)
    bits = exponent * np.log2(np.maximum(magnitude, 1.0))
    _raise_too_large(base, exponent, bits > 63.9)

    # Every remaining |result| is below 2^64, and the wrapped result is exact modulo 2^64.
    # So a result overflowed exactly when the sign of the wrapped value is wrong.
    result = _wrapping(np.power, base, exponent)
    negative = (base < 0) & (exponent % 2 == 1)
    _raise_too_large(base, exponent, (result < 0) != negative)
    return result


def _raise_too_large(base: np.ndarray, exponent: np.ndarray, mask: np.ndarray) -> None:
    if np.any(mask):
        position = np.unravel_index(np.argmax(mask), mask.shape)
        base_text = f"({base[position]})" if base[position] < 0 else str(base[position])
        raise ArgumentError(f"number too large: {base_text} ** {exponent[position]} does not fit int64")


_INT_OPERATIONS = {
    "+": _int_add,
    "-": _int_subtract,
    "*": _int_multiply,
    "//": _int_floor_divide,
    "%": _int_remainder,
    "**": _int_power,
}

_FLOAT_OPERATIONS = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
    "//": np.floor_divide,
    "%": np.remainder,
    "**": np.power,
}


def _broadcast_shape(symbol: str, left: tuple[int, ...], right: tuple[int, ...]) -> tuple[int, ...]:
    """Return numpy's broadcast shape; np.broadcast_shapes would raise for huge zero-size results too."""
    ndim = max(len(left), len(right))
    padded_left = (1,) * (ndim - len(left)) + left
    padded_right = (1,) * (ndim - len(right)) + right

    shape = []
    for left_size, right_size in zip(padded_left, padded_right):
        if left_size != right_size and 1 not in (left_size, right_size):
            raise ArgumentError(f"shapes {left} and {right} cannot be broadcast together for '{symbol}'")
        shape.append(right_size if left_size == 1 else left_size)
    return tuple(shape)


def apply_binary(symbol: str, left: np.ndarray, right: np.ndarray, max_elements: int) -> np.ndarray:
    """Apply the arithmetic operator symbol elementwise with numpy broadcasting.

    int op int stays int64 (except '/'), and overflow raises instead of wrapping.
    Any float operand gives float64 with numpy's inf and nan results.
    """
    for index, operand in enumerate((left, right)):
        if operand.dtype.kind == "b":
            raise ArgumentError(_BOOL_ARITHMETIC, index)

    shape = _broadcast_shape(symbol, left.shape, right.shape)
    check_shape_size(shape, max_elements)

    both_int = left.dtype.kind == "i" and right.dtype.kind == "i"
    with np.errstate(all="ignore"):
        if both_int and symbol != "/":
            result = _INT_OPERATIONS[symbol](left, right)
        else:
            result = _FLOAT_OPERATIONS[symbol](left, right)
    return np.asarray(result)


def apply_unary(symbol: str, operand: np.ndarray) -> np.ndarray:
    """Apply unary '+' or '-'; negating int64's minimum raises instead of wrapping."""
    if operand.dtype.kind == "b":
        raise ArgumentError(_BOOL_ARITHMETIC, 0)
    if symbol == "+":
        return operand

    if operand.dtype.kind == "i" and np.any(operand == INT64_MIN):
        raise ArgumentError(f"integer overflow: -({INT64_MIN}) does not fit int64; use a float operand")
    return np.asarray(np.negative(operand))
