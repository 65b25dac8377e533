"""Activations: softmax."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.catalog.base import InputSpec, Op, ParamError, ParamSpec
from tui.core.lazy import F, keras, tf, torch

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

softmax = Op(
    id="softmax",
    title="softmax",
    family="activations",
    inputs=(InputSpec("x", "float", "[[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0]]", "scores to normalise"),),
    params=(
        ParamSpec(
            "dim",
            "int",
            -1,
            "axis that sums to 1; empty uses torch's deprecated implicit choice",
            optional=True,
        ),
    ),
    table={
        "torch": "F.softmax(x, dim), nn.Softmax(dim)",
        "tensorflow": "tf.nn.softmax(x, axis), keras Softmax",
        "others": "NumPy reference",
    },
    note="""\
All of them compute exp(x) / sum(exp(x)) along one axis, shifted by the max for stability.

TensorFlow and Keras call the axis `axis` and default to the last one. PyTorch calls it `dim` \
and, when it is left out, falls back to a deprecated rule: dim 0 for 0-, 1- and 3-D inputs, \
dim 1 otherwise. For a (batch, seq, classes) input that normalises over the batch, and torch \
only says so with a UserWarning. Leave `dim` empty to see it.

Half precision: torch and tf.nn.softmax compute float16 and bfloat16 in the input dtype, so \
expect differences near that dtype's tolerance. The Keras Softmax layer computes in float32 \
whatever the input dtype, its default dtype policy.""",
)


def implicit_torch_dim(ndim: int) -> int:
    """Return the axis torch picks when softmax is called without `dim` (torch.nn.functional._get_softmax_dim)."""
    return 0 if ndim in (0, 1, 3) else 1


@softmax.validate
def check_dim(inputs, params):
    x = inputs["x"]
    dim = params["dim"]
    if dim is None:
        return
    low, high = -max(x.ndim, 1), max(x.ndim, 1) - 1
    if not low <= dim <= high:
        raise ParamError("dim", f"dim={dim} is out of range for a {x.ndim}-D input (allowed {low}..{high})")


@softmax.diagnose
def warn_implicit_dim(inputs, params):
    if params["dim"] is not None:
        return []
    x = inputs["x"]
    torch_dim = implicit_torch_dim(x.ndim)
    last = max(x.ndim - 1, 0)
    if torch_dim == last:
        return [f"no dim given: torch picks dim {torch_dim}, which is also the last axis TensorFlow uses"]
    return [
        f"no dim given: torch picks dim {torch_dim} for a {x.ndim}-D input while TensorFlow and Keras "
        f"use the last axis ({last}); the results normalise different axes"
    ]


@softmax.reference
def reference_softmax(x, dim):
    axis = -1 if dim is None else dim
    if x.ndim == 0:
        return np.ones_like(x)
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # an empty axis has no max
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)


@softmax.formulation("torch", "torch.nn.functional.softmax")
def torch_functional_softmax(x, dim):
    return F.softmax(x, dim=dim)


@softmax.formulation("torch", "torch.nn.Softmax")
def torch_softmax_module(x, dim):
    layer = torch.nn.Softmax(dim=dim)
    return layer(x)


@softmax.formulation("tensorflow", "tf.nn.softmax")
def tf_softmax(x, dim):
    return tf.nn.softmax(x, axis=-1 if dim is None else dim)


@softmax.formulation("tensorflow", "keras.layers.Softmax")
def keras_softmax_layer(x, dim):
    layer = keras.layers.Softmax(axis=-1 if dim is None else dim)
    return layer(x)
