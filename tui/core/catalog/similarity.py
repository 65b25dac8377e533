"""Similarity: cosine similarity, cosine distance and the Keras cosine loss."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.catalog.base import Convention, InputError, InputSpec, Op, View
from tui.core.lazy import F, keras, sklearn_pairwise

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

cosine_similarity = Op(
    id="cosine_similarity",
    title="cosine similarity",
    family="similarity",
    inputs=(
        InputSpec(
            "x",
            "float",
            "[[0.26304135, 0.91725843, 0.61099966, 0.40816231, 0.93606288, 0.52462691]]",
            "one vector per row",
        ),
        InputSpec(
            "y",
            "float",
            "[[0.03756129, 0.50223667, 0.66529424, 0.57392135, 0.20479857, 0.27286363]]",
            "one vector per row, paired with the rows of x",
        ),
    ),
    table={
        "torch": "F.cosine_similarity(x, y, dim=1)",
        "tensorflow": "keras.losses.cosine_similarity (negated)",
        "others": "sklearn cosine_similarity",
    },
    note="""\
Three quantities share the name.

Similarity, x.y / (|x| |y|), in [-1, 1]: torch's F.cosine_similarity pairs row i of x with \
row i of y, while scikit-learn's cosine_similarity returns the matrix of every row of x \
against every row of y; its diagonal is the paired result.

Distance, 1 - similarity, in [0, 2]: scikit-learn's cosine_distances (matrix) and \
paired_distances(metric="cosine") (paired).

Loss: keras.losses.cosine_similarity returns minus the similarity, so that minimising it \
aligns the vectors. Its arguments are (y_true, y_pred), like every Keras loss.

A zero vector has no direction, and each library has its own rule. torch divides by \
max(|x| |y|, eps) and Keras normalises with an epsilon, so both give a similarity of 0. \
scikit-learn leaves zero rows at zero: cosine_similarity gives 0 and cosine_distances 1, \
but paired_distances computes 0.5 |x/|x| - y/|y|| squared and gives 0.5. The reference \
uses a similarity of 0. Vectors that are tiny but not zero hit the same epsilons: torch, \
Keras and scikit-learn report about 0 where the exact similarity may be 1.""",
)


@cosine_similarity.validate
def check_shapes(inputs, params):
    x, y = inputs["x"], inputs["y"]
    if x.ndim != 2:
        raise InputError("x", f"expected a 2-D array of row vectors, got {x.ndim}-D")
    if y.shape != x.shape:
        raise InputError("y", f"expected the shape of x {x.shape}, got {y.shape}")


@cosine_similarity.reference
def reference_cosine_similarity(x, y):
    dot = np.sum(x * y, axis=1)
    norms = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
    # A zero vector has no direction; every library here reports 0 for it. The test is
    # `!= 0`, not `> 0`, so a NaN norm divides and keeps the row NaN, as torch does.
    return np.divide(dot, norms, out=np.zeros_like(dot), where=norms != 0)


@cosine_similarity.diagnose
def warn_zero_vectors(inputs, params):
    rows = np.flatnonzero(zero_rows(inputs))
    if rows.size == 0:
        return []
    listed = ", ".join(str(row) for row in rows[:10])
    return [
        f"zero vector in row {listed}: similarity 0 in torch, Keras and sklearn cosine_similarity; "
        "distance 1 in sklearn cosine_distances but 0.5 in paired_distances"
    ]


MATRIX_SHOWN = 40
"""Rows and columns of the similarity matrix sent for the details panel."""


@cosine_similarity.details
def similarity_tables(inputs, params):
    x, y = inputs["x"], inputs["y"]
    norms_x = np.linalg.norm(x, axis=1)
    norms_y = np.linalg.norm(y, axis=1)
    unit_x = np.divide(x, norms_x[:, None], out=np.zeros_like(x), where=norms_x[:, None] != 0)
    unit_y = np.divide(y, norms_y[:, None], out=np.zeros_like(y), where=norms_y[:, None] != 0)
    # Only a corner of the matrix can be read on screen; the whole one for 3000 rows is 72 MB.
    matrix = unit_x[:MATRIX_SHOWN] @ unit_y[:MATRIX_SHOWN].T
    paired = np.einsum("ij,ij->i", unit_x, unit_y)
    zero = (norms_x == 0) | (norms_y == 0)
    return {
        "norms_x": norms_x,
        "norms_y": norms_y,
        "matrix": matrix,
        "matrix_shape": (len(x), len(y)),
        "paired": paired,
        "paired_distance": 1.0 - paired,
        "sklearn_paired_distance": np.where(zero, 0.5, 1.0 - paired),
    }


def diagonal(matrix: np.ndarray) -> np.ndarray:
    return np.diagonal(matrix)


def negative(values: np.ndarray) -> np.ndarray:
    return np.negative(values)


DIAGONAL = View("matrix of every x row against every y row; its diagonal is compared", diagonal)
NEGATED = Convention("the Keras loss is minus the similarity", negative, maps_gradients=True)
def zero_rows(inputs: dict[str, np.ndarray | None]) -> np.ndarray:
    """Rows where x or y is a zero vector, which has no direction."""
    return (np.linalg.norm(inputs["x"], axis=1) == 0) | (np.linalg.norm(inputs["y"], axis=1) == 0)


def paired_distance_to_similarity(distance: np.ndarray, inputs: dict[str, np.ndarray | None]) -> np.ndarray:
    """1 - distance, except that sklearn's 0.5 for a zero vector stands for the reference's 0."""
    similarity = 1.0 - np.asarray(distance, dtype=np.float64)
    rule_applies = zero_rows(inputs) & np.isclose(distance, 0.5)
    return np.where(rule_applies, 0.0, similarity)


DISTANCE = Convention(
    "cosine distance is 1 - similarity; paired_distances gives 0.5 for a zero vector",
    paired_distance_to_similarity,
    uses_inputs=True,
)


@cosine_similarity.formulation("torch", "torch.nn.functional.cosine_similarity")
def torch_cosine_similarity(x, y):
    return F.cosine_similarity(x, y, dim=1)


@cosine_similarity.formulation("tensorflow", "keras.losses.cosine_similarity", convention=NEGATED)
def keras_cosine_loss(x, y):
    return keras.losses.cosine_similarity(y_true=x, y_pred=y, axis=-1)


@cosine_similarity.formulation("sklearn", "sklearn.metrics.pairwise.cosine_similarity", view=DIAGONAL)
def sklearn_cosine_similarity(x, y):
    return sklearn_pairwise.cosine_similarity(x, y)


@cosine_similarity.formulation(
    "sklearn", "sklearn.metrics.pairwise.paired_distances(metric='cosine')", convention=DISTANCE
)
def sklearn_paired_cosine_distances(x, y):
    return sklearn_pairwise.paired_distances(x, y, metric="cosine")
