"""Edge-case probes: named inputs that show where the frameworks part ways.

Each probe is texts in the tensor language and param texts, exactly as a user
would type them into the explorer, so loading one into the editors and
running it headless give the same request. An input or param a probe leaves
out takes the op's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Probe:
    """One named edge case of an op."""

    name: str
    description: str
    """The edge the inputs probe and what to look for, in a sentence or two."""
    inputs: dict[str, str] = field(default_factory=dict)
    """Input texts by name. An empty text leaves an optional input out."""
    params: dict[str, str] = field(default_factory=dict)
    """Param texts by name, as typed. An empty text passes None to an optional param."""


SOFTMAX = (
    Probe(
        "implicit dim, 3-D",
        "No dim on a (2, 2, 3) input: torch falls back to dim 0 with a UserWarning, TensorFlow and Keras use the last axis.",
        {"x": "randn(2, 2, 3, seed=0)"},
        {"dim": ""},
    ),
    Probe(
        "huge logits",
        "Scores of ±1e4: exp overflows unless the max is subtracted first.",
        {"x": "[[1e4, 0, -1e4], [1000, 1000, -1000]]"},
    ),
    Probe(
        "NaN score",
        "One NaN in a row: the whole row of every softmax becomes NaN.",
        {"x": "[[1.0, nan, 2.0], [1.0, 2.0, 3.0]]"},
    ),
    Probe(
        "inf score",
        "A +inf score: inf - inf in the max shift gives NaN, where the limit is a one-hot row.",
        {"x": "[[inf, 0.0, 1.0], [1.0, 2.0, 3.0]]"},
    ),
    Probe(
        "fully masked row",
        "A row of -inf, as an attention mask leaves it: 0/0, so NaN in every library.",
        {"x": "[[-inf, -inf, -inf], [0.0, -inf, 1.0]]"},
    ),
    Probe("empty batch", "No rows: a (0, 3) input gives a (0, 3) output.", {"x": "zeros(0, 3)"}),
    Probe(
        "0-d input",
        "A scalar with no dim: torch takes dim 0 of a 0-d tensor, the others axis -1.",
        {"x": "3.0"},
        {"dim": ""},
    ),
)

CROSS_ENTROPY = (
    Probe(
        "label = classes",
        "Label 3 with 3 classes: the formulations that take class indices raise, torch IndexError, "
        "TensorFlow and Keras InvalidArgumentError.",
        {"logits": "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]", "labels": "[0, 3]"},
    ),
    Probe(
        "negative label",
        "Label -1: out of range, and not torch's ignore_index (-100), so every formulation raises.",
        {"logits": "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]", "labels": "[-1, 1]"},
    ),
    Probe(
        "label -100",
        "torch's default ignore_index: torch gives that row a loss of 0 and leaves it out of the mean; "
        "Keras raises InvalidArgumentError unless ignore_class is -100, and tf.nn has no such option.",
        {"logits": "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]", "labels": "[-100, 1]"},
        {"reduction": "mean"},
    ),
    Probe(
        "every label ignored",
        "Both labels are the ignore value -100 for torch and Keras, with reduction=mean: torch divides 0 by 0 "
        "and returns NaN, while the Keras losses return 0.",
        {"logits": "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]", "labels": "[-100, -100]"},
        {"reduction": "mean", "ignore_class": "-100"},
    ),
    Probe(
        "huge logits",
        "Logits of ±1e4 with the label on -1e4: the loss is 2e4, exact only with log-softmax; "
        "a clipped probability caps it at -log(epsilon).",
        {"logits": "[[1e4, 0, -1e4]]", "labels": "[2]"},
    ),
    Probe(
        "NaN logits",
        "A NaN logit makes the whole row's loss NaN.",
        {"logits": "[[nan, 0.0, 1.0], [2.0, 1.0, 0.1]]", "labels": "[1, 0]"},
    ),
    Probe(
        "fully masked row",
        "A row of -inf logits has no distribution: NaN, or a clipped finite loss.",
        {"logits": "[[-inf, -inf, -inf], [2.0, 1.0, 0.1]]", "labels": "[0, 0]"},
    ),
    Probe(
        "empty batch",
        "No samples with reduction=mean: the mean of nothing is 0 / 0.",
        {"logits": "zeros(0, 3)", "labels": "[]"},
        {"reduction": "mean"},
    ),
)

COSINE_SIMILARITY = (
    Probe(
        "zero vectors",
        "Row 1 of x is a zero vector: similarity 0 in torch, Keras and sklearn; paired_distances gives 0.5.",
        {"x": "[[1, 1], [0, 0], [1, 0]]", "y": "[[-1, -1], [1, 2], [0, 1]]"},
    ),
    Probe(
        "tiny vectors",
        "Parallel vectors of norm 1e-30: the exact similarity is 1, but the norms' product underflows "
        "in float32 and the epsilons take over.",
        {"x": "[[1e-30, 1e-30], [1.0, 2.0]]", "y": "[[2e-30, 2e-30], [2.0, 4.0]]"},
    ),
    Probe(
        "huge vectors",
        "Elements of 1e20: squares overflow float32, so the libraries report 0 where the similarity is 1.",
        {"x": "[[1e20, 1e20], [1.0, 0.0]]", "y": "[[1e20, 1e20], [0.0, 1.0]]"},
    ),
    Probe(
        "NaN element",
        "A NaN in one row: torch and Keras give NaN for that row, scikit-learn raises ValueError.",
        {"x": "[[nan, 1.0], [1.0, 0.0]]", "y": "[[1.0, 1.0], [1.0, 0.0]]"},
    ),
    Probe(
        "inf element",
        "An inf element: inf / inf is NaN in torch and Keras, scikit-learn raises ValueError.",
        {"x": "[[inf, 1.0], [1.0, 0.0]]", "y": "[[1.0, 1.0], [1.0, 0.0]]"},
    ),
    Probe("empty batch", "No rows: (0, 3) inputs; sklearn rejects an empty array.", {"x": "zeros(0, 3)", "y": "zeros(0, 3)"}),
)

CLIP = (
    Probe(
        "inverted bounds",
        "min 0.5 above max -0.5: torch and NumPy give -0.5 everywhere, TensorFlow and Keras 0.5.",
        {"x": "[-1, 0, 0.3, 2]"},
        {"min": "0.5", "max": "-0.5"},
    ),
    Probe(
        "no bounds",
        "Both bounds left out: torch.clamp raises RuntimeError, np.clip returns x.",
        {"x": "[-1, 0, 0.3, 2]"},
        {"min": "", "max": ""},
    ),
    Probe("upper bound only", "min left out: only the upper side is clipped.", {"x": "[-1, 0, 0.3, 2]"}, {"min": "", "max": "0.5"}),
    Probe("equal bounds", "min = max = 0.5: every element becomes 0.5.", {"x": "[-1, 0, 0.3, 2]"}, {"min": "0.5", "max": "0.5"}),
    Probe("NaN and inf", "NaN passes through every clip; ±inf is clipped to the bounds.", {"x": "[nan, -inf, inf, 0.5]"}),
    Probe("empty input", "No elements: an empty output.", {"x": "[]"}),
)

ONE_HOT = (
    Probe(
        "negative and too large",
        "Indices -1 and 3 with depth 3: tf.one_hot gives zero rows, F.one_hot raises RuntimeError, "
        "np.eye(3)[indices] wraps -1 and raises IndexError for 3.",
        {"indices": "[0, -1, 3]"},
        {"depth": "3"},
    ),
    Probe(
        "negative index",
        "Index -1 only: NumPy indexing wraps it to the last class with no error, tf.one_hot gives a zero row.",
        {"indices": "[0, -1, 2]"},
        {"depth": "3"},
    ),
    Probe(
        "depth 0",
        "depth=0: a (1, 0) output from tf.one_hot; F.one_hot and np.eye raise, to_categorical on an array infers 1 class.",
        {"indices": "[0]"},
        {"depth": "0"},
    ),
    Probe(
        "trailing axis of 1",
        "(2, 1) indices: to_categorical squeezes the last axis, the others give (2, 1, 3).",
        {"indices": "[[0], [2]]"},
        {"depth": "3"},
    ),
    Probe("empty indices", "No indices: a (0, 3) output.", {"indices": "[]"}, {"depth": "3"}),
)

LINEAR = (
    Probe(
        "square kernel as is",
        "A square weight passed to Dense untransposed: every shape check passes and Keras computes x @ W, not x @ W.T.",
        {"x": "[[1.0, 2.0], [3.0, 4.0]]", "weight": "[[1.0, 2.0], [3.0, 4.0]]", "bias": "[0.0, 0.0]"},
        {"keras_kernel": "as_is"},
    ),
    Probe(
        "kernel as is",
        "A (2, 3) torch weight passed to Dense untransposed: set_weights raises ValueError.",
        {},
        {"keras_kernel": "as_is"},
    ),
    Probe(
        "float32 overflow",
        "Products of 1e20 overflow float32 to inf.",
        {"x": "[[1e20, 1e20]]", "weight": "[[1e20, 1e20]]", "bias": "[0.0]"},
    ),
    Probe(
        "NaN weight",
        "A NaN in the weight spreads to that output unit in every row.",
        {"weight": "[[0.1, nan, 0.3], [-0.4, 0.5, 0.6]]"},
    ),
    Probe("empty batch", "No rows: a (0, 2) output.", {"x": "zeros(0, 3)"}),
)

EINSUM = (
    Probe(
        "size-1 broadcast",
        "'ab,ab->ab' with a (4, 2) and b (1, 2): NumPy and torch broadcast b, tf.einsum raises InvalidArgumentError.",
        {"a": "reshape(arange(8.0), 4, 2)", "b": "[[1.0, 2.0]]", "c": ""},
        {"equation": "ab,ab->ab"},
    ),
    Probe(
        "ellipsis form",
        "'...b,...b->...b' with the same operands: the broadcast under '...' works in all three.",
        {"a": "reshape(arange(8.0), 4, 2)", "b": "[[1.0, 2.0]]", "c": ""},
        {"equation": "...b,...b->...b"},
    ),
    Probe(
        "'...' summed away",
        "'...i->i' on a (2, 3): torch sums the '...' axes, NumPy raises ValueError, TensorFlow InvalidArgumentError.",
        {"a": "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]", "b": "", "c": ""},
        {"equation": "...i->i"},
    ),
    Probe(
        "implicit output",
        "'ba' with no '->': the output is sorted alphabetically, so this is a transpose.",
        {"a": "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]", "b": "", "c": ""},
        {"equation": "ba"},
    ),
    Probe(
        "trace",
        "'ii->' sums the diagonal.",
        {"a": "[[1.0, 2.0], [3.0, 4.0]]", "b": "", "c": ""},
        {"equation": "ii->"},
    ),
    Probe(
        "float32 overflow",
        "Products of 1e20 overflow float32 to inf.",
        {"a": "[[1e20]]", "b": "[[1e20]]", "c": ""},
        {"equation": "ij,jk->ik"},
    ),
    Probe(
        "empty operand",
        "A (0, 2) by (2, 2) product: a (0, 2) output.",
        {"a": "zeros(0, 2)", "b": "[[1.0, 2.0], [3.0, 4.0]]", "c": ""},
        {"equation": "ij,jk->ik"},
    ),
)

WHERE = (
    Probe(
        "one argument, 2-D",
        "A 2-D condition alone: np.where and torch.where give a tuple of per-axis indices, "
        "tf.where, torch.nonzero and np.argwhere (count, 2) coordinate rows.",
        {"condition": "[[True, False, True], [False, True, False]]", "x": "", "y": ""},
    ),
    Probe(
        "one argument, 0-d",
        "A 0-d condition: np.where raises ValueError, tf.where InvalidArgumentError, torch.where treats it as 1-D.",
        {"condition": "True", "x": "", "y": ""},
    ),
    Probe(
        "one argument, none True",
        "No True element: empty index arrays, (0, 2) coordinate rows.",
        {"condition": "[[False, False], [False, False]]", "x": "", "y": ""},
    ),
    Probe(
        "NaN not selected",
        "NaN and inf in the branches that are not taken: the output is finite.",
        {"condition": "[True, False, True]", "x": "[1.0, nan, 3.0]", "y": "[inf, 2.0, nan]"},
    ),
    Probe(
        "broadcast select",
        "A (2, 1) condition, a (3,) x and a 0-d y broadcast to (2, 3).",
        {"condition": "[[True], [False]]", "x": "[1.0, 2.0, 3.0]", "y": "0.0"},
    ),
    Probe(
        "empty condition",
        "A (0,) condition with (0,) branches: an empty output.",
        {"condition": "[]", "x": "[]", "y": "[]"},
    ),
)

ACCURACY = (
    Probe(
        "tied scores",
        "Rows with equal maxima: every library takes the first, so the predictions agree.",
        {"predictions": "[[0.5, 0.5, 0.0], [0.3, 0.3, 0.3]]", "labels": "[1, 0]"},
    ),
    Probe(
        "NaN score",
        "A NaN score: torch and NumPy take the NaN as the maximum, tf.argmax skips it.",
        {"predictions": "[[nan, 0.9, 0.1], [0.2, 0.8, 0.0]]", "labels": "[1, 1]"},
    ),
    Probe(
        "labels out of range",
        "Labels 3 and -1 with 3 classes: no prediction equals them, so those rows count as wrong.",
        {"predictions": "[[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4]]", "labels": "[3, -1, 2]"},
    ),
    Probe(
        "one-hot labels",
        "(N, C) one-hot labels: the categorical Keras metric and argmax of the labels.",
        {"predictions": "[[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]]", "labels": "[[0, 1, 0], [0, 0, 1]]"},
    ),
    Probe(
        "empty batch",
        "No rows: torch returns NaN, Keras 0.0, scikit-learn raises ValueError.",
        {"predictions": "zeros(0, 3)", "labels": "[]"},
    ),
)

PROBES: dict[str, tuple[Probe, ...]] = {
    "softmax": SOFTMAX,
    "cross_entropy": CROSS_ENTROPY,
    "cosine_similarity": COSINE_SIMILARITY,
    "clip": CLIP,
    "one_hot": ONE_HOT,
    "linear": LINEAR,
    "einsum": EINSUM,
    "where": WHERE,
    "accuracy": ACCURACY,
}
"""Every op's probes by op id, in the order the picker and the matrix list them."""
