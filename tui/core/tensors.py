"""Tensor expression language: parse user text into numpy arrays, and format arrays back.

The text is parsed with ast.parse and the tree is walked against a whitelist.
Nothing is ever evaluated by Python itself: no eval, exec, compiled code or
attribute lookup on user-supplied names. Two passes run over the tree:

1. validation, which is iterative and rejects any disallowed node, unknown
   name, bad call or too deep nesting before any value is computed;
2. evaluation, which recurses at most MAX_DEPTH levels and builds the arrays.

The language has number and bool literals, nested lists or tuples, the names
nan, inf, pi, e, True and False, the operators + - * / // % ** (unary + and -),
and the constructors in tui.core.tensor_constructors.CONSTRUCTORS. Names are
case-sensitive: NaN, Inf and true are rejected with a suggestion of the
lowercase (or True/False) spelling, so that each value has one spelling,
which is also the one format_tensor writes.
"""

import ast
import difflib
import re
import warnings

import numpy as np

from tui.core.tensor_constructors import (
    CONSTRUCTORS,
    INT64_MAX,
    INT64_MIN,
    ArgumentError,
    apply_binary,
    apply_unary,
    check_shape_size,
    format_count,
)

MAX_TEXT_LENGTH = 100_000  # characters
MAX_DEPTH = 32  # nesting depth of lists/calls/operators
MAX_ELEMENTS = 10_000_000  # elements in any intermediate or final array

# Bounds the total work of one expression: the element counts of all arrays it
# creates may add up to this many times max_elements, and a '**' result counts
# _POWER_WORK times because a 10^7-element int power is several times slower than '+'.
# NOTE: both factors are estimates, not a time guarantee. An expression at the
# bound of the default limit took 0.2 to 3 s on a 2-core x86-64 machine.
_WORK_FACTOR = 20
_POWER_WORK = 8

_NAMES = {"nan": np.nan, "inf": np.inf, "pi": np.pi, "e": np.e}

_BINARY_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_REJECTED_BINARY_SYMBOLS = {
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_UNARY_SYMBOLS = {ast.UAdd: "+", ast.USub: "-"}
_REJECTED_UNARY_SYMBOLS = {ast.Invert: "~", ast.Not: "not"}

_DISALLOWED_NODES = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing and slicing are not allowed",
    ast.Slice: "indexing and slicing are not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred expressions (*) are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and' and 'or' are not allowed",
    ast.IfExp: "conditional expressions (if/else) are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONG_INTEGER = re.compile(r"[0-9_]{4000,}")
_LEADING_SPACE = " \t\f\r\n"


class TensorSyntaxError(ValueError):
    """Raised for any text that is not a valid tensor expression.

    message describes the problem, offset is the 0-based character offset into
    the text, and line and column are 1-based. str(error) is
    "line L, col C: message" for text with several lines, else "col C: message".
    """

    def __init__(self, message: str, offset: int, text: str) -> None:
        self.message = message
        self.offset = offset

        before = text[:offset]
        self.line = 1 + before.count("\n") + before.count("\r") - before.count("\r\n")
        line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
        self.column = offset - line_start + 1

        if "\n" in text or "\r" in text:
            super().__init__(f"line {self.line}, col {self.column}: {message}")
        else:
            super().__init__(f"col {self.column}: {message}")


def describe_array(array: np.ndarray) -> str:
    """Return badge text such as "float64 (2, 3)", "int64 (3,)" or "bool ()"."""
    return f"{array.dtype.name} {array.shape}"


def parse_tensor(text: str, *, max_elements: int = MAX_ELEMENTS) -> np.ndarray:
    """Parse a tensor expression into an ndarray of dtype bool, int64 or float64.

    Raises TensorSyntaxError for every text that is not a valid expression,
    including text over MAX_TEXT_LENGTH, nesting deeper than MAX_DEPTH and any
    array (intermediate or final) with more than max_elements elements.
    Raises TypeError if text is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_tensor expects str, got {type(text).__name__}")
    if max_elements < 1:
        raise ValueError(f"max_elements must be at least 1, got {max_elements}")

    _check_characters(text)
    leading = len(text) - len(text.lstrip(_LEADING_SPACE))
    source = _Source(text, leading)
    tree = source.parse()

    _Validator(source).validate(tree.body)
    return _Evaluator(source, max_elements).evaluate(tree.body)


def _check_characters(text: str) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        message = f"text is too long: {len(text):,} characters (limit {MAX_TEXT_LENGTH:,})"
        raise TensorSyntaxError(message, MAX_TEXT_LENGTH, text)
    if not text.strip():
        raise TensorSyntaxError("empty input", 0, text)

    if "\x00" in text:
        raise TensorSyntaxError("null character (U+0000) is not allowed", text.index("\x00"), text)
    surrogate = _SURROGATE.search(text)
    if surrogate:
        message = f"invalid character U+{ord(surrogate.group()):04X} (unpaired surrogate)"
        raise TensorSyntaxError(message, surrogate.start(), text)


class _Source:
    """The text being parsed, and the mapping from ast positions to character offsets."""

    def __init__(self, text: str, leading: int) -> None:
        self.text = text
        self.leading = leading
        self.body = text[leading:]
        self._line_starts: list[int] | None = None

    def parse(self) -> ast.Expression:
        """Run ast.parse on the text with its leading whitespace removed."""
        try:
            # ast.parse warns about things like invalid escapes in strings, which are rejected later anyway.
            # NOTE: catch_warnings swaps process-wide filters, so it is not thread-safe.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.body, mode="eval")
        except SyntaxError as error:
            raise self._convert_syntax_error(error) from None
        except (RecursionError, MemoryError):
            # The C parser gives up on deep nesting with one of these, for example
            # on 100,000 unary minus signs or a few thousand chained '+'.
            raise self.error("expression is nested too deeply", self.leading) from None

    def _convert_syntax_error(self, error: SyntaxError) -> TensorSyntaxError:
        if error.msg.startswith("Exceeds the limit") and "digits" in error.msg:
            match = _LONG_INTEGER.search(self.body)
            offset = match.start() if match else 0
            return self.error("integer literal has too many digits to fit int64", self.leading + offset)

        line_starts = self._starts()
        line_index = min(max((error.lineno or 1) - 1, 0), len(line_starts) - 1)
        offset = line_starts[line_index] + max((error.offset or 1) - 1, 0)
        offset = min(offset, len(self.body))
        return self.error(error.msg, self.leading + offset)

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(self.body)]
        return self._line_starts

    def _offset(self, line: int, column_bytes: int) -> int:
        starts = self._starts()
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.body)
        prefix = self.body[start:end].encode("utf-8")[:column_bytes]
        return self.leading + start + len(prefix.decode("utf-8", errors="ignore"))

    def start(self, node: ast.AST) -> int:
        """Return the character offset in the text where node starts."""
        return self._offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        """Return the character offset in the text just after node."""
        return self._offset(node.end_lineno, node.end_col_offset)

    def find_symbol(self, start: int, end: int, symbol: str) -> int:
        """Return the offset of symbol in text[start:end], skipping comments, or start if absent."""
        position = start
        while position < end:
            if self.text.startswith(symbol, position):
                return position
            if self.text[position] == "#":
                match = _LINE_BREAK.search(self.text, position)
                position = match.start() if match else end
            position += 1
        return start

    def segment(self, node: ast.AST, limit: int = 40) -> str:
        """Return the source text of node, shortened to about limit characters."""
        text = self.text[self.start(node) : self.end(node)]
        if len(text) <= limit:
            return text
        return f"{text[: limit - 10]}... ({len(text):,} characters)"

    def error(self, message: str, offset: int) -> TensorSyntaxError:
        """Return a TensorSyntaxError at offset in the text."""
        return TensorSyntaxError(message, offset, self.text)

    def error_at(self, message: str, node: ast.AST) -> TensorSyntaxError:
        """Return a TensorSyntaxError at the start of node."""
        return self.error(message, self.start(node))


def _quote_name(name: str) -> str:
    return repr(name) if len(name) <= 40 else repr(name[:30] + "...")


def _suggest(name: str, candidates: list[str]) -> str:
    """Return ' (did you mean 'x'?)' for a close allowed name, else ''."""
    if len(name) > 40:
        return ""
    for candidate in candidates:
        if candidate.lower() == name.lower():
            return f" (did you mean '{candidate}'?)"
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def _is_leaf(node: ast.AST) -> bool:
    """Tell whether node adds no nesting level: a literal, a name, or a signed literal or name."""
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, (ast.Constant, ast.Name))


class _Validator:
    """First pass: reject everything outside the whitelist, without computing values."""

    def __init__(self, source: _Source) -> None:
        self.source = source

    def validate(self, root: ast.AST) -> None:
        """Walk the tree iteratively in source order and raise at the first problem."""
        stack: list[tuple[ast.AST, int]] = [(root, 0 if _is_leaf(root) else 1)]
        while stack:
            node, level = stack.pop()
            if level > MAX_DEPTH:
                message = f"nested too deeply: more than {MAX_DEPTH} levels of lists, calls or operators"
                raise self.source.error_at(message, node)

            children = self._check(node)
            for child in reversed(children):
                left_spine = isinstance(node, ast.BinOp) and child is node.left and isinstance(child, ast.BinOp)
                stack.append((child, level if left_spine or _is_leaf(child) else level + 1))

    def _check(self, node: ast.AST) -> list[ast.AST]:
        """Raise if node itself is not allowed, else return its children."""
        if isinstance(node, ast.Constant):
            self._check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self._check_name(node)
            return []
        if isinstance(node, (ast.List, ast.Tuple)):
            return list(node.elts)
        if isinstance(node, ast.UnaryOp):
            if type(node.op) in _REJECTED_UNARY_SYMBOLS:
                raise self.source.error_at(f"operator '{_REJECTED_UNARY_SYMBOLS[type(node.op)]}' is not allowed", node)
            return [node.operand]
        if isinstance(node, ast.BinOp):
            if type(node.op) in _REJECTED_BINARY_SYMBOLS:
                symbol = _REJECTED_BINARY_SYMBOLS[type(node.op)]
                offset = self.source.find_symbol(self.source.end(node.left), self.source.start(node.right), symbol)
                raise self.source.error(f"operator '{symbol}' is not allowed", offset)
            return [node.left, node.right]
        if isinstance(node, ast.Call):
            self._check_call(node)
            return list(node.args) + [keyword.value for keyword in node.keywords]
        raise self._disallowed(node)

    def _disallowed(self, node: ast.AST) -> TensorSyntaxError:
        message = _DISALLOWED_NODES.get(type(node), f"{type(node).__name__} expressions are not allowed")
        if isinstance(node, ast.Attribute):
            offset = max(self.source.start(node), self.source.end(node) - len(node.attr))
            return self.source.error(message, offset)
        if isinstance(node, ast.Subscript):
            bracket = self.source.find_symbol(self.source.end(node.value), self.source.end(node), "[")
            return self.source.error(message, bracket)
        return self.source.error_at(message, node)

    def _check_constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, (bool, int, float)):
            return
        if isinstance(value, (str, bytes)):
            message = "strings are not allowed"
        elif isinstance(value, complex):
            message = "complex numbers are not allowed"
        elif value is None:
            message = "None is not allowed; write nan for a missing value"
        else:
            message = f"{value!r} is not allowed"
        raise self.source.error_at(message, node)

    def _check_name(self, node: ast.Name) -> None:
        if node.id in _NAMES:
            return
        if node.id in CONSTRUCTORS:
            raise self.source.error_at(f"'{node.id}' is a function; call it, as in {CONSTRUCTORS[node.id].usage}", node)
        candidates = [*_NAMES, "True", "False", *CONSTRUCTORS]
        message = f"unknown name {_quote_name(node.id)}{_suggest(node.id, candidates)}"
        raise self.source.error_at(message, node)

    def _check_call(self, node: ast.Call) -> None:
        function = node.func
        if not isinstance(function, ast.Name):
            if type(function) in _DISALLOWED_NODES:
                raise self._disallowed(function)
            raise self.source.error_at("only the listed functions can be called, as in zeros(3)", function)
        if function.id in _NAMES:
            raise self.source.error_at(f"'{function.id}' is a number, not a function", function)
        if function.id not in CONSTRUCTORS:
            names = ", ".join(CONSTRUCTORS)
            suggestion = _suggest(function.id, list(CONSTRUCTORS))
            message = f"unknown name {_quote_name(function.id)}{suggestion}; the functions are {names}"
            raise self.source.error_at(message, function)

        constructor = CONSTRUCTORS[function.id]
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.source.error_at("starred arguments (*) are not allowed", argument)
        self._check_keywords(node, function.id)

        count = len(node.args)
        if count < constructor.min_args or (constructor.max_args is not None and count > constructor.max_args):
            message = f"wrong number of arguments for {function.id}: expected {constructor.usage}, got {count}"
            raise self.source.error_at(message, node)

    def _check_keywords(self, node: ast.Call, name: str) -> None:
        allowed = CONSTRUCTORS[name].keywords
        seen: set[str] = set()
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.source.error_at("keyword argument unpacking (**) is not allowed", keyword)
            if keyword.arg not in allowed:
                known = f"; the only keyword is {', '.join(sorted(allowed))}" if allowed else ""
                message = f"{name} has no keyword argument {_quote_name(keyword.arg)}{known}"
                raise self.source.error_at(message, keyword)
            if keyword.arg in seen:
                raise self.source.error_at(f"keyword argument '{keyword.arg}' is repeated", keyword)
            seen.add(keyword.arg)


class _Evaluator:
    """Second pass: compute the value of a validated tree."""

    def __init__(self, source: _Source, max_elements: int) -> None:
        self.source = source
        self.max_elements = max_elements
        self.work_limit = _WORK_FACTOR * max_elements
        self.work = 0

    def evaluate(self, node: ast.expr, rows: tuple[int, ...] = ()) -> np.ndarray:
        """Return the value of node; rows is its 1-based position inside enclosing list literals."""
        if isinstance(node, ast.Constant):
            return self._constant(node, node.value)
        if isinstance(node, ast.Name):
            return np.array(_NAMES[node.id], dtype=np.float64)
        if isinstance(node, (ast.List, ast.Tuple)):
            return self._count(self._list(node, rows), node)
        if isinstance(node, ast.UnaryOp):
            return self._count(self._unary(node), node)
        if isinstance(node, ast.BinOp):
            return self._binary_chain(node)
        return self._count(self._call(node), node)

    def _count(self, value: np.ndarray, node: ast.AST, weight: int = 1) -> np.ndarray:
        self.work += value.size * weight
        if self.work > self.work_limit:
            message = (
                f"too much computation: more than {format_count(self.work_limit)} elements created in total; "
                "use smaller arrays or fewer operations"
            )
            raise self.source.error_at(message, node)
        return value

    def _constant(self, node: ast.AST, value: bool | int | float) -> np.ndarray:
        if isinstance(value, bool):
            return np.array(value, dtype=bool)
        if isinstance(value, float):
            return np.array(value, dtype=np.float64)
        if not INT64_MIN <= value <= INT64_MAX:
            message = (
                f"integer {self.source.segment(node)} does not fit int64 "
                f"(range {INT64_MIN} to {INT64_MAX}); write it as a float such as 1e20"
            )
            raise self.source.error_at(message, node)
        return np.array(value, dtype=np.int64)

    def _unary(self, node: ast.UnaryOp) -> np.ndarray:
        symbol = _UNARY_SYMBOLS[type(node.op)]
        operand = node.operand
        # Folding the sign into an int literal lets -9223372036854775808 through.
        if symbol == "-" and isinstance(operand, ast.Constant) and type(operand.value) is int:
            return self._constant(node, -operand.value)

        value = self.evaluate(operand)
        try:
            return apply_unary(symbol, value)
        except ArgumentError as error:
            raise self.source.error_at(error.message, node if error.argument is None else operand) from None

    def _binary_chain(self, node: ast.BinOp) -> np.ndarray:
        # A chain like 1 + 2 + ... + n nests to the left. It is folded in a loop, so
        # long chains need no recursion and do not count as nesting.
        chain = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp):
            chain.append(current)
            current = current.left

        value = self.evaluate(current)
        for operation in reversed(chain):
            right = self.evaluate(operation.right)
            weight = _POWER_WORK if isinstance(operation.op, ast.Pow) else 1
            value = self._count(self._binary(operation, value, right), operation.right, weight)
        return value

    def _binary(self, node: ast.BinOp, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        symbol = _BINARY_SYMBOLS[type(node.op)]
        try:
            return apply_binary(symbol, left, right, self.max_elements)
        except ArgumentError as error:
            if error.argument is not None:
                raise self.source.error_at(error.message, (node.left, node.right)[error.argument]) from None
            offset = self.source.find_symbol(self.source.end(node.left), self.source.start(node.right), symbol)
            raise self.source.error(error.message, offset) from None

    def _call(self, node: ast.Call) -> np.ndarray:
        assert isinstance(node.func, ast.Name)
        constructor = CONSTRUCTORS[node.func.id]
        arguments = [self.evaluate(argument) for argument in node.args]
        keywords = {keyword.arg: self.evaluate(keyword.value) for keyword in node.keywords}

        try:
            return constructor.build(arguments, keywords, self.max_elements)
        except ArgumentError as error:
            raise self.source.error_at(error.message, self._argument_node(node, error.argument)) from None

    @staticmethod
    def _argument_node(node: ast.Call, argument: int | str | None) -> ast.AST:
        if isinstance(argument, int) and argument < len(node.args):
            return node.args[argument]
        for keyword in node.keywords:
            if keyword.arg == argument:
                return keyword.value
        return node

    def _list(self, node: ast.List | ast.Tuple, rows: tuple[int, ...]) -> np.ndarray:
        if not node.elts:
            return np.zeros(0, dtype=np.float64)

        items: list[np.ndarray] = []
        for index, element in enumerate(node.elts):
            items.append(self.evaluate(element, rows + (index + 1,)))
            try:
                check_shape_size((len(items),) + items[0].shape, self.max_elements)
            except ArgumentError as error:
                raise self.source.error_at(error.message, node) from None
            if items[-1].shape != items[0].shape:
                raise self._ragged(node, rows, index, items[0].shape, items[-1].shape)

        self._check_kinds(node, items)
        return np.stack(items)

    def _ragged(
        self, node: ast.List | ast.Tuple, rows: tuple[int, ...], index: int, expected: tuple, actual: tuple
    ) -> TensorSyntaxError:
        """Describe where row index first differs from row 1, descending into the first sub-row."""
        path = rows + (index + 1,)
        target: ast.AST = node.elts[index]
        while expected and actual and expected[0] == actual[0]:
            path += (1,)
            if isinstance(target, (ast.List, ast.Tuple)) and target.elts:
                target = target.elts[0]
            expected, actual = expected[1:], actual[1:]

        row = "row " + ", ".join(str(number) for number in path)
        if not actual:
            message = f"{row} is a number, expected a list of {_items(expected[0])}"
        elif not expected:
            message = f"{row} is a list of {_items(actual[0])}, expected a number"
        else:
            message = f"{row} has {_items(actual[0])}, expected {expected[0]}"
        return self.source.error_at(message, target)

    def _check_kinds(self, node: ast.List | ast.Tuple, items: list[np.ndarray]) -> None:
        first_is_bool = items[0].dtype.kind == "b"
        for element, item in zip(node.elts, items):
            if (item.dtype.kind == "b") != first_is_bool:
                message = "list mixes bool and numbers; write 1/0 or True/False throughout"
                raise self.source.error_at(message, element)


def _items(count: int) -> str:
    return "1 item" if count == 1 else f"{count} items"


def format_tensor(array: np.ndarray, *, precision: int = 6) -> str:
    """Format array as text that parse_tensor reads back to an equal array.

    Output is nested lists with numpy-style line breaks, nan/inf/-inf, True/False,
    and floats always carrying a decimal point or an exponent, so the shape and the
    dtype family (bool, int, float) survive. Floats keep at most precision
    significant digits: precision=17 round-trips every float64 exactly. A 0-d
    array prints as a scalar, and an empty array with a non-trivial shape as
    zeros((0, 3)), full((0, 3), 0) or full((0, 3), False).
    Raises TypeError for dtypes other than bool, integer and float, and
    ValueError if precision is less than 1.

    NOTE: some arrays do not read back: more than MAX_DEPTH dimensions, text
    longer than MAX_TEXT_LENGTH, uint64 values above the int64 maximum, and
    floats near the float64 maximum that round up to inf at low precision.
    """
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"format_tensor supports bool, integer and float arrays, got {array.dtype}")
    if precision < 1:
        raise ValueError(f"precision must be at least 1, got {precision}")

    if array.size == 0 and array.ndim > 0:
        return _format_empty(array)

    cells = _format_cells(array, precision)
    if array.ndim == 0:
        return cells[0]
    width = max(len(cell) for cell in cells)
    cells = [cell.rjust(width) for cell in cells]
    return _join_rows(cells, array.shape, 0)


def _format_empty(array: np.ndarray) -> str:
    shape = repr(array.shape)
    if array.dtype.kind == "b":
        return f"full({shape}, False)"
    if array.dtype.kind in "iu":
        return f"full({shape}, 0)"
    return "[]" if array.shape == (0,) else f"zeros({shape})"


def _format_cells(array: np.ndarray, precision: int) -> list[str]:
    """Format every element of array, in C order."""
    kind = array.dtype.kind
    if kind == "b":
        return ["True" if value else "False" for value in array.ravel().tolist()]
    if kind in "iu":
        return [str(value) for value in array.ravel().tolist()]
    if array.dtype == np.float64:
        return [_format_double(value, precision) for value in array.ravel().tolist()]
    return [_format_narrow_float(value, precision) for value in array.ravel()]


def _format_double(value: float, precision: int) -> str:
    # repr gives the shortest text that reads back exactly, and spells nan, inf and -inf
    # as the language does. It is about 7 times faster than np.format_float_positional.
    text = repr(value)
    if text in ("nan", "inf", "-inf"):
        return text

    mantissa = text.split("e")[0].lstrip("-").replace(".", "")
    if len(mantissa.strip("0")) > precision:
        text = f"{value:.{precision}g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _format_narrow_float(value: np.floating, precision: int) -> str:
    """Format a float16, float32 or longdouble with the shortest digits for its own type."""
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"

    magnitude = abs(float(value))
    if magnitude == 0 or 1e-4 <= magnitude < min(1e16, 10.0**precision):
        return np.format_float_positional(value, precision=precision, unique=True, fractional=False, trim="0")
    return np.format_float_scientific(value, precision=precision - 1, unique=True, trim="-")


def _join_rows(cells: list[str], shape: tuple[int, ...], axis: int) -> str:
    """Join the flat cells of an array of shape into nested brackets, numpy style."""
    if axis == len(shape) - 1:
        return "[" + ", ".join(cells) + "]"

    row_size = len(cells) // shape[axis]
    rows = [_join_rows(cells[start : start + row_size], shape, axis + 1) for start in range(0, len(cells), row_size)]
    separator = "," + "\n" * (len(shape) - 1 - axis) + " " * (axis + 1)
    return "[" + separator.join(rows) + "]"
