"""einsum: one equation language, with different rules for broadcasting a size-1 axis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import math
from collections import Counter
from dataclasses import dataclass


from tui.core.catalog.base import InputError, InputSpec, Op, ParamError, ParamSpec
from tui.core.lazy import tf, torch

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

ELLIPSIS = "..."
OPERAND_NAMES = ("a", "b", "c")
MAX_ITERATION_ELEMENTS = 10_000_000
"""Largest product of every subscript's size: the reference materialises that many float64 products."""

einsum = Op(
    id="einsum",
    title="einsum",
    family="functions",
    inputs=(
        InputSpec("a", "float", "[[1.0, 2.0], [3.0, 4.0]]", "first operand"),
        InputSpec("b", "float", "[[5.0, 6.0], [7.0, 8.0]]", "second operand, if the equation has one", optional=True),
        InputSpec("c", "float", "", "third operand, if the equation has one", optional=True),
    ),
    params=(
        ParamSpec("equation", "str", "ij,jk->ik", "subscripts per operand, then -> and the output's"),
    ),
    table={
        "torch": "torch.einsum(equation, *operands)",
        "tensorflow": "tf.einsum(equation, *operands)",
        "others": "np.einsum(equation, *operands)",
    },
    note="""\
einsum sums the product of its operands over every subscript missing from the output: \
"ij,jk->ik" is a matrix product, "ii->" a trace, "ij->ji" a transpose. NumPy, torch and \
TensorFlow parse the same language and agree whenever every shared subscript has one size.

Size-1 axes: NumPy and torch broadcast a subscript that is 1 in one operand and n in another, \
as elementwise ops do, so "ab,ab->ab" multiplies a (4, 2) by a (1, 2). tf.einsum broadcasts only \
the axes under "...", and raises InvalidArgumentError for a named subscript whose sizes differ. \
Putting the broadcast axes under the ellipsis works in all three: "...b,...b->...b".

"..." missing from the output: when "..." covers axes in an operand but the output has no "...", \
torch sums over those axes, while NumPy raises ValueError and TensorFlow InvalidArgumentError. \
The reference sums, because every axis missing from the output is summed.

Without "->" the output is every subscript that appears exactly once, in alphabetical order \
(upper case first), with the "..." axes in front, in all three: "ba" alone is a transpose.

The reference is written out from this definition with NumPy broadcasting, in float64, without \
calling np.einsum; it broadcasts size-1 axes like NumPy and torch. The NumPy formulation runs \
np.einsum in the input dtype.""",
)


@dataclass(frozen=True)
class Equation:
    """An einsum equation split into its subscripts, with spaces removed."""

    terms: tuple[str, ...]
    """Subscripts of each operand, in order."""
    output: str | None
    """Subscripts of the output, or None in implicit mode (no "->")."""


def parse_equation(text: str) -> Equation:
    """Split an equation into subscripts, raising ParamError for anything einsum rejects."""
    compact = text.replace(" ", "")
    if compact.count("->") > 1:
        raise ParamError("equation", f"{text!r} has more than one '->'")

    left, arrow, right = compact.partition("->")
    equation = Equation(tuple(left.split(",")), right if arrow else None)
    for term in equation.terms + ((equation.output,) if arrow else ()):
        _check_subscripts(text, term)
    return equation


def _check_subscripts(text: str, term: str) -> None:
    if term.count(ELLIPSIS) > 1:
        raise ParamError("equation", f"{text!r}: {term!r} has more than one '...'")
    for character in term.replace(ELLIPSIS, ""):
        if not (character.isascii() and character.isalpha()):
            raise ParamError(
                "equation",
                f"{text!r}: {character!r} is not a subscript; use the letters a-z and A-Z, ',' between "
                f"operands, '->' before the output and at most one '...' per operand",
            )


def collect_operands(inputs: dict[str, np.ndarray | None]) -> list[tuple[str, np.ndarray]]:
    """Return the operands in order as (name, array), raising InputError for a gap such as c without b."""
    operands = []
    for position, name in enumerate(OPERAND_NAMES):
        array = inputs[name]
        if array is None:
            continue
        missing = [earlier for earlier in OPERAND_NAMES[:position] if inputs[earlier] is None]
        if missing:
            raise InputError(name, f"{name} is given but {missing[0]} is not; fill the operands in order a, b, c")
        operands.append((name, array))
    return operands


def axis_labels(term: str, ndim: int) -> list[str]:
    """Label each axis of an operand: its letters, and "...-k" .. "...-1" for the axes under "..."."""
    before, ellipsis, after = term.partition(ELLIPSIS)
    if not ellipsis:
        return list(term)
    covered = ndim - len(before) - len(after)
    # Numbered from the right, so the "..." axes of different ranks line up as in broadcasting.
    return [*before, *(f"...{position}" for position in range(-covered, 0)), *after]


def output_labels(equation: Equation, labels: list[list[str]]) -> list[str]:
    """Labels of the output axes, in implicit mode as every subscript that appears once, sorted."""
    broadcast = sorted(
        {label for operand in labels for label in operand if label.startswith(ELLIPSIS)},
        key=lambda label: int(label[len(ELLIPSIS) :]),
    )
    if equation.output is None:
        counts = Counter(letter for term in equation.terms for letter in term.replace(ELLIPSIS, ""))
        return [*broadcast, *sorted(letter for letter, count in counts.items() if count == 1)]

    before, ellipsis, after = equation.output.partition(ELLIPSIS)
    return [*before, *(broadcast if ellipsis else []), *after]


def subscript_sizes(equation: Equation, operands: list[tuple[str, np.ndarray]]) -> dict[str, dict[str, int]]:
    """Return each subscript's size in each operand, raising InputError for sizes no library accepts."""
    sizes: dict[str, dict[str, int]] = {}
    for (name, array), term in zip(operands, equation.terms):
        own: dict[str, int] = {}
        for label, size in zip(axis_labels(term, array.ndim), array.shape):
            if own.get(label, size) != size:
                raise InputError(
                    name,
                    f"{describe_label(label)} repeats in {term!r} over axes of sizes {own[label]} and {size}; "
                    f"a repeated subscript takes a diagonal, which needs equal sizes",
                )
            own[label] = size
        for label, size in own.items():
            sizes.setdefault(label, {})[name] = size

    for label, by_operand in sizes.items():
        if len(set(by_operand.values()) - {1}) > 1:
            occurrences = [f"{size} in {name}" for name, size in by_operand.items()]
            listed = ", ".join(occurrences[:-1]) + " and " + occurrences[-1]
            rule = "or be 1" if label.startswith(ELLIPSIS) else "or be 1 where NumPy and torch broadcast"
            message = f"{describe_label(label)} has sizes {listed}; sizes must match, {rule}"
            raise InputError(list(by_operand)[-1], message)
    return sizes


def describe_label(label: str) -> str:
    """Name a subscript in a message; an axis under "..." is counted from the right."""
    if label.startswith(ELLIPSIS):
        return f"axis {label[len(ELLIPSIS):]} under '...'"
    return f"subscript {label!r}"


def broadcast_size(sizes: dict[str, int]) -> int:
    """Return the size a subscript takes once its size-1 occurrences are broadcast."""
    other = set(sizes.values()) - {1}
    return other.pop() if other else 1


@einsum.validate
def check_equation(inputs, params):
    equation = parse_equation(params["equation"])
    operands = collect_operands(inputs)
    _check_operand_count(params["equation"], equation, operands)
    for (name, array), term in zip(operands, equation.terms):
        _check_rank(name, array, term)
    _check_output(params["equation"], equation)

    sizes = subscript_sizes(equation, operands)
    elements = math.prod(broadcast_size(by_operand) for by_operand in sizes.values())
    if elements > MAX_ITERATION_ELEMENTS:
        raise ParamError(
            "equation",
            f"the subscripts span {elements:,} index combinations, above the reference's limit of "
            f"{MAX_ITERATION_ELEMENTS:,}; use smaller operands",
        )


def _check_operand_count(text: str, equation: Equation, operands: list[tuple[str, np.ndarray]]) -> None:
    if len(equation.terms) == len(operands):
        return
    terms = "1 operand term" if len(equation.terms) == 1 else f"{len(equation.terms)} operand terms"
    names = ", ".join(name for name, _ in operands)
    given = f"1 operand ({names}) is" if len(operands) == 1 else f"{len(operands)} operands ({names}) are"
    raise ParamError("equation", f"{text!r} has {terms}, but {given} given")


def _check_rank(name: str, array: np.ndarray, term: str) -> None:
    letters = term.replace(ELLIPSIS, "")
    if ELLIPSIS in term and len(letters) > array.ndim:
        raise ParamError(
            "equation",
            f"{term!r} names {len(letters)} axes besides '...', but {name} is {array.ndim}-D {array.shape}",
        )
    if ELLIPSIS not in term and len(letters) != array.ndim:
        raise ParamError(
            "equation",
            f"{term!r} names {len(letters)} axes, but {name} is {array.ndim}-D {array.shape}; "
            f"give one subscript per axis, or '...' for the rest",
        )


def _check_output(text: str, equation: Equation) -> None:
    if equation.output is None:
        return
    letters = equation.output.replace(ELLIPSIS, "")
    repeated = sorted(letter for letter, count in Counter(letters).items() if count > 1)
    if repeated:
        raise ParamError("equation", f"{text!r}: the output repeats the subscript {repeated[0]!r}")
    known = set("".join(equation.terms))
    unknown = [letter for letter in letters if letter not in known]
    if unknown:
        raise ParamError("equation", f"{text!r}: the output subscript {unknown[0]!r} appears in no operand")


@einsum.reference
def reference_einsum(equation, a, b, c):
    # Written from the definition: broadcast every operand over all subscripts, multiply, and
    # sum the subscripts the output lacks. Size-1 axes broadcast, as in NumPy and torch.
    parsed = parse_equation(equation)
    operands = [operand for operand in (a, b, c) if operand is not None]
    labelled = [
        take_diagonals(operand, axis_labels(term, operand.ndim)) for operand, term in zip(operands, parsed.terms)
    ]
    every_label = list(dict.fromkeys(label for _, labels in labelled for label in labels))

    product = np.ones((), dtype=np.float64)
    for operand, labels in labelled:
        product = product * align_axes(operand, labels, every_label)

    output_axes = output_labels(parsed, [labels for _, labels in labelled])
    summed_axes = tuple(axis for axis, label in enumerate(every_label) if label not in output_axes)
    remaining = [label for label in every_label if label in output_axes]
    return np.transpose(product.sum(axis=summed_axes), [remaining.index(label) for label in output_axes])


def take_diagonals(array: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Collapse each repeated subscript of one operand ("ii") to its diagonal, moved to the last axis."""
    labels = list(labels)
    repeated = [label for label, count in Counter(labels).items() if count > 1]
    for label in repeated:
        while labels.count(label) > 1:
            first = labels.index(label)
            second = labels.index(label, first + 1)
            array = np.diagonal(array, axis1=first, axis2=second)
            labels = [other for axis, other in enumerate(labels) if axis not in (first, second)] + [label]
    return array, labels


def align_axes(array: np.ndarray, labels: list[str], every_label: list[str]) -> np.ndarray:
    """Order an operand's axes as every_label and insert size-1 axes for the subscripts it lacks."""
    order = sorted(range(len(labels)), key=lambda axis: every_label.index(labels[axis]))
    shape = [array.shape[labels.index(label)] if label in labels else 1 for label in every_label]
    return np.transpose(array, order).reshape(shape)


@einsum.diagnose
def warn_broadcasting(inputs, params):
    equation = parse_equation(params["equation"])
    operands = collect_operands(inputs)
    sizes = subscript_sizes(equation, operands)
    warnings = []

    broadcast = [label for label, by_operand in sizes.items() if _is_broadcast(label, by_operand)]
    if broadcast:
        warnings.append(_broadcast_warning(equation, broadcast, sizes))
    if equation.output is not None and ELLIPSIS not in equation.output:
        covered = sorted({label for label in sizes if label.startswith(ELLIPSIS)})
        if covered:
            axes = "1 axis" if len(covered) == 1 else f"{len(covered)} axes"
            warnings.append(
                f"'...' covers {axes} but the output has no '...': torch sums over them, "
                f"np.einsum raises ValueError and tf.einsum InvalidArgumentError"
            )
    if equation.output is None:
        implicit = "".join(label for label in output_labels(equation, []) if not label.startswith(ELLIPSIS))
        warnings.append(
            f"no '->': the output is the subscripts that appear exactly once, sorted alphabetically: "
            f"'{implicit}'. Write '->' and the output to choose the order"
        )
    return warnings


def _is_broadcast(label: str, by_operand: dict[str, int]) -> bool:
    values = set(by_operand.values())
    return not label.startswith(ELLIPSIS) and 1 in values and len(values) > 1


def _broadcast_warning(equation: Equation, broadcast: list[str], sizes: dict[str, dict[str, int]]) -> str:
    details = "; ".join(
        f"'{label}' is " + " and ".join(f"{size} in {name}" for name, size in sizes[label].items())
        for label in broadcast
    )
    rewritten = ellipsis_form(equation, broadcast)
    remedy = (
        f"'{rewritten}' works in all three"
        if rewritten
        else "put the broadcast axes under '...' (as in '...b,...b->...b') or broadcast the operand first"
    )
    return (
        f"size-1 subscripts ({details}): np.einsum and torch.einsum broadcast them, but tf.einsum broadcasts "
        f"only axes under '...' and raises InvalidArgumentError. {remedy}"
    )


def ellipsis_form(equation: Equation, broadcast: list[str]) -> str | None:
    """Rewrite the equation with the broadcast subscripts under "...", or None when they are not a shared prefix.

    "ab,ab->ab" with 'a' broadcast becomes "...b,...b->...b": the leading subscripts every term
    shares, up to the last broadcast one, become the ellipsis.
    """
    if equation.output is None or any(ELLIPSIS in term for term in (*equation.terms, equation.output)):
        return None
    terms = [*equation.terms, equation.output]
    shared = 0
    while all(len(term) > shared and term[shared] == terms[0][shared] for term in terms):
        shared += 1
    prefix = terms[0][:shared]
    if not set(broadcast) <= set(prefix):
        return None

    length = max(prefix.index(label) for label in broadcast) + 1
    rewritten = [ELLIPSIS + term[length:] for term in terms]
    return ",".join(rewritten[:-1]) + "->" + rewritten[-1]


@einsum.formulation("torch", "torch.einsum")
def torch_einsum(equation, a, b, c):
    operands = [operand for operand in (a, b, c) if operand is not None]
    return torch.einsum(equation, *operands)


@einsum.formulation("tensorflow", "tf.einsum")
def tf_einsum(equation, a, b, c):
    operands = [operand for operand in (a, b, c) if operand is not None]
    return tf.einsum(equation, *operands)


@einsum.formulation("numpy", "np.einsum")
def numpy_einsum(equation, a, b, c):
    operands = [operand for operand in (a, b, c) if operand is not None]
    return np.einsum(equation, *operands)
