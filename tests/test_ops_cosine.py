"""Cosine similarity, cosine distance and the Keras cosine loss on real frameworks.

Similarity is x.y / (|x| |y|); distance is 1 - similarity; the Keras loss is
minus the similarity. For the vectors X and Y below the similarity, worked out
in float64 from the definition, is 0.8389344633305431.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui.core.catalog import get_op
from tui.core.compare import Verdict

TORCH = "torch:torch_cosine_similarity"
KERAS = "tensorflow:keras_cosine_loss"
SKLEARN_MATRIX = "sklearn:sklearn_cosine_similarity"
SKLEARN_PAIRED = "sklearn:sklearn_paired_cosine_distances"
ALL = ("reference", TORCH, KERAS, SKLEARN_MATRIX, SKLEARN_PAIRED)

X = [[0.26304135, 0.91725843, 0.61099966, 0.40816231, 0.93606288, 0.52462691]]
Y = [[0.03756129, 0.50223667, 0.66529424, 0.57392135, 0.20479857, 0.27286363]]
SIMILARITY = 0.8389344633305431

ZERO_X = [[1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
ZERO_Y = [[-1.0, -1.0], [1.0, 2.0], [0.0, 1.0]]
# Every row of ZERO_X against every row of ZERO_Y; the zero row of x gives zeros.
ZERO_MATRIX = [
    [-1.0, 3 / math.sqrt(10), 1 / math.sqrt(2)],
    [0.0, 0.0, 0.0],
    [-1 / math.sqrt(2), 1 / math.sqrt(5), 0.0],
]

ATOL = {"float32": 1e-6, "float64": 1e-12}


def test_catalog_lists_every_formulation():
    ids = {formulation.id for formulation in get_op("cosine_similarity").all_formulations()}

    assert ids == set(ALL)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_field_case_values(run_op, dtype):
    run = run_op("cosine_similarity", {"x": X, "y": Y}, dtype=dtype)
    atol = ATOL[dtype]

    np.testing.assert_allclose(run.output("reference"), [SIMILARITY], rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(TORCH), [SIMILARITY], rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(SKLEARN_MATRIX), [[SIMILARITY]], rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(SKLEARN_PAIRED), [1 - SIMILARITY], rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(KERAS), [-SIMILARITY], rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_field_case_verdicts(run_op, dtype):
    run = run_op("cosine_similarity", {"x": X, "y": Y}, dtype=dtype)

    assert run.compare(TORCH).verdict is Verdict.MATCH
    assert run.compare(SKLEARN_MATRIX).verdict is Verdict.MATCH

    keras = run.compare(KERAS)
    assert keras.verdict is Verdict.CONVENTION
    assert keras.summary == "differs by convention: the Keras loss is minus the similarity"

    paired = run.compare(SKLEARN_PAIRED)
    assert paired.verdict is Verdict.CONVENTION
    assert paired.summary == (
        "differs by convention: cosine distance is 1 - similarity; paired_distances gives 0.5 for a zero vector"
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_vectors_values(run_op, dtype):
    run = run_op("cosine_similarity", {"x": ZERO_X, "y": ZERO_Y}, dtype=dtype)
    atol = ATOL[dtype]

    np.testing.assert_allclose(run.output("reference"), [-1.0, 0.0, 0.0], rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(TORCH), [-1.0, 0.0, 0.0], rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(SKLEARN_MATRIX), ZERO_MATRIX, rtol=0, atol=atol)
    np.testing.assert_allclose(run.output(KERAS), [1.0, -0.0, -0.0], rtol=0, atol=atol)

    # paired_distances computes 0.5 |x/|x| - y/|y||^2 with a zero row left at zero, so a
    # zero x against a unit y gives 0.5, not the 1 - 0 = 1 of the similarity route.
    np.testing.assert_allclose(run.output(SKLEARN_PAIRED), [2.0, 0.5, 1.0], rtol=0, atol=atol)


def test_zero_vectors_verdicts(run_op):
    run = run_op("cosine_similarity", {"x": ZERO_X, "y": ZERO_Y}, dtype="float64")

    assert run.compare(TORCH).verdict is Verdict.MATCH
    assert run.compare(SKLEARN_MATRIX).verdict is Verdict.MATCH
    assert run.compare(KERAS).verdict is Verdict.CONVENTION

    # 1 - 0.5 = 0.5 against the reference's 0 on the zero row: the declared rule maps
    # paired_distances' 0.5 for a zero vector onto the reference's similarity of 0.
    paired = run.compare(SKLEARN_PAIRED)
    assert paired.verdict is Verdict.CONVENTION
    assert run.diagnostics == [
        "zero vector in row 1: similarity 0 in torch, Keras and sklearn cosine_similarity; "
        "distance 1 in sklearn cosine_distances but 0.5 in paired_distances"
    ]


def test_zero_vectors_details(run_op):
    run = run_op("cosine_similarity", {"x": ZERO_X, "y": ZERO_Y}, dtype="float64")
    details = run.details

    np.testing.assert_allclose(details["norms_x"], [math.sqrt(2), 0.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(details["norms_y"], [math.sqrt(2), math.sqrt(5), 1.0], rtol=1e-12)
    np.testing.assert_allclose(details["matrix"], ZERO_MATRIX, atol=1e-12)
    np.testing.assert_allclose(details["paired"], [-1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(details["paired_distance"], [2.0, 1.0, 1.0], atol=1e-12)


def test_nan_row_stays_nan(run_op):
    run = run_op("cosine_similarity", {"x": [[np.nan, 1.0], [3.0, 4.0]], "y": [[1.0, 1.0], [4.0, 3.0]]})

    # Row 1: (12 + 12) / (5 * 5) = 0.96.
    for formulation in ("reference", TORCH):
        np.testing.assert_allclose(run.output(formulation), [np.nan, 0.96], atol=1e-6, err_msg=formulation)
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    np.testing.assert_allclose(run.output(KERAS), [np.nan, -0.96], atol=1e-6)
    assert run.compare(KERAS).verdict is Verdict.CONVENTION

    for formulation in (SKLEARN_MATRIX, SKLEARN_PAIRED):
        error = run[formulation].error
        assert error is not None, formulation
        assert error.type == "ValueError", formulation
        assert "Input contains NaN" in error.message, formulation


def test_tiny_vectors_hit_framework_epsilons(run_op):
    run = run_op("cosine_similarity", {"x": [[1.0, 0.0]], "y": [[1e-30, 0.0]]}, dtype="float64")

    # Parallel vectors: the true similarity is 1. torch divides y by max(|y|, 1e-8),
    # Keras by max(|y|, keras.config.epsilon() = 1e-7), and scikit-learn's normalize
    # divides by 1 when |y| is below 10 machine epsilons, so all three report nearly 0.
    np.testing.assert_allclose(run.output("reference"), [1.0], rtol=1e-12)
    np.testing.assert_allclose(run.output(TORCH), [1e-22], rtol=1e-6)
    np.testing.assert_allclose(run.output(KERAS), [-1e-23], rtol=1e-6)
    np.testing.assert_allclose(run.output(SKLEARN_MATRIX), [[1e-30]], rtol=1e-6)
    assert run.compare(TORCH).verdict is Verdict.MISMATCH


def test_keras_epsilon_from_earlier_request_does_not_leak(run_op):
    # cross_entropy's epsilon param sets keras.config.epsilon in the same worker.
    run_op("cross_entropy", {"logits": [[2.0, 1.0, 0.1]], "labels": [0]}, {"epsilon": 0.1})
    run = run_op("cosine_similarity", {"x": [[1e-3, 0.0]], "y": [[1e-3, 0.0]]})

    # |x| = 1e-3 is far above Keras' default epsilon of 1e-7, so the loss is -1.
    np.testing.assert_allclose(run.output(KERAS), [-1.0], rtol=1e-6)


def test_empty_batch(run_op):
    run = run_op("cosine_similarity", {"x": np.zeros((0, 3)), "y": np.zeros((0, 3))})

    for formulation in ("reference", TORCH, KERAS):
        assert run.output(formulation).shape == (0,), formulation
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation

    for formulation in (SKLEARN_MATRIX, SKLEARN_PAIRED):
        error = run[formulation].error
        assert error is not None, formulation
        assert error.type == "ValueError", formulation
        assert "Found array with 0 sample(s)" in error.message, formulation


def test_float16_within_dtype_tolerance(run_op):
    run = run_op("cosine_similarity", {"x": X, "y": Y}, dtype="float16")

    np.testing.assert_allclose(run.output(TORCH), [SIMILARITY], rtol=0, atol=1e-3)
    np.testing.assert_allclose(run.output(KERAS), [-SIMILARITY], rtol=0, atol=1e-3)
    for formulation in (TORCH, SKLEARN_MATRIX):
        assert run.compare(formulation).verdict is Verdict.MATCH, formulation
    for formulation in (KERAS, SKLEARN_PAIRED):
        assert run.compare(formulation).verdict is Verdict.CONVENTION, formulation

    # scikit-learn upcasts float16 inputs and computes in float64.
    assert run[SKLEARN_MATRIX].dtypes == ["float64"]


def test_bfloat16_not_supported_by_sklearn(run_op):
    run = run_op("cosine_similarity", {"x": X, "y": Y}, dtype="bfloat16")

    for formulation in (SKLEARN_MATRIX, SKLEARN_PAIRED):
        error = run[formulation].error
        assert error is not None, formulation
        assert error.type == "NotSupported", formulation
        assert "bfloat16" in error.message, formulation

    np.testing.assert_allclose(run.output(TORCH), [SIMILARITY], rtol=0, atol=1.6e-2)
    np.testing.assert_allclose(run.output(KERAS), [-SIMILARITY], rtol=0, atol=1.6e-2)
    assert run[TORCH].dtypes == ["torch.bfloat16"]
    assert run[KERAS].dtypes == ["bfloat16"]
    assert run.compare(TORCH).verdict is Verdict.MATCH
    assert run.compare(KERAS).verdict is Verdict.CONVENTION


def test_details_send_matrix_corner(run_op):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    run = run_op("cosine_similarity", {"x": x, "y": y}, dtype="float64")
    details = run.details
    unit_x = x / np.linalg.norm(x, axis=1, keepdims=True)
    unit_y = y / np.linalg.norm(y, axis=1, keepdims=True)

    assert np.shape(details["matrix"]) == (40, 40)
    assert list(details["matrix_shape"]) == [50, 50]
    np.testing.assert_allclose(details["matrix"], unit_x[:40] @ unit_y[:40].T, rtol=1e-12)
    np.testing.assert_allclose(details["paired"], np.sum(unit_x * unit_y, axis=1), rtol=1e-12)
    assert len(details["paired"]) == 50
