"""Linear layer: x @ W.T + b, with torch and Keras storing W in transposed layouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.catalog.base import InputError, InputSpec, Op, ParamSpec
from tui.core.lazy import F, keras, tf, torch

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

linear = Op(
    id="linear",
    title="linear / dense layer",
    family="functions",
    inputs=(
        InputSpec("x", "float", "[[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]", "(N, in) rows of features"),
        InputSpec("weight", "float", "[[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]]", "(out, in): torch's nn.Linear layout"),
        InputSpec("bias", "float", "[0.5, -0.5]", "(out,)"),
    ),
    params=(
        ParamSpec(
            "keras_kernel",
            "choice",
            "transposed",
            "what Dense gets as its kernel: weight.T (correct) or the torch weight as is",
            choices=("transposed", "as_is"),
        ),
    ),
    table={
        "torch": "nn.Linear, F.linear(x, weight, bias)",
        "tensorflow": "keras.layers.Dense, tf.matmul(x, W, transpose_b=True) + b",
        "others": "NumPy reference",
    },
    note="""\
Both layers compute the same affine map of each row of x; they store its matrix in transposed layouts.

torch's nn.Linear.weight is (out_features, in_features), and the layer computes x @ weight.T + bias. \
F.linear(x, weight, bias) takes the same layout. Keras' Dense.kernel is (in, out), and the layer \
computes x @ kernel + bias. Porting weights between them is one rule: kernel = weight.T, and \
weight = kernel.T the other way; the bias (out,) is the same in both.

Forgetting the transpose fails loudly only when in != out: set_weights raises ValueError because \
the shapes differ. A square weight passes every shape check, so Keras silently computes x @ W \
instead of x @ W.T. Set keras_kernel to as_is to see it.

Loading: nn.Linear takes weights through load_state_dict({"weight": W, "bias": b}) or \
weight.copy_(W) under torch.no_grad(); Dense through set_weights([kernel, bias]) after the layer \
is built, in the order get_weights() lists them.""",
)


@linear.validate
def check_layouts(inputs, params):
    x, weight, bias = inputs["x"], inputs["weight"], inputs["bias"]
    if x.ndim != 2:
        raise InputError("x", f"expected a 2-D (N, in) array, got {x.ndim}-D {x.shape}")
    if weight.ndim != 2:
        raise InputError("weight", f"expected a 2-D (out, in) array, got {weight.ndim}-D {weight.shape}")
    features = x.shape[1]
    if weight.shape[1] != features:
        hint = "; it looks like a Keras (in, out) kernel, so transpose it" if weight.shape[0] == features else ""
        raise InputError(
            "weight",
            f"expected (out, {features}) in torch layout to match x's {features} features, got {weight.shape}{hint}",
        )
    if bias.shape != (weight.shape[0],):
        raise InputError("bias", f"expected shape ({weight.shape[0]},), one value per output, got {bias.shape}")


@linear.diagnose
def warn_untransposed_kernel(inputs, params):
    weight = inputs["weight"]
    if params["keras_kernel"] != "as_is":
        return []
    out_features, in_features = weight.shape
    if out_features != in_features:
        return [
            f"keras_kernel=as_is: Dense expects an (in, out) = ({in_features}, {out_features}) kernel and gets "
            f"the ({out_features}, {in_features}) torch weight, so set_weights raises ValueError. "
            f"Transpose it: kernel = weight.T"
        ]
    warning = (
        f"SILENT WRONG RESULT: keras_kernel=as_is with a square ({out_features}, {in_features}) weight. "
        f"Dense expects its kernel as (in, out), the transpose of torch's (out, in) weight, but a square "
        f"matrix passes every shape check, so Keras computes x @ W instead of x @ W.T with no error. "
        f"Transpose it: kernel = weight.T"
    )
    if np.array_equal(weight, weight.T):
        warning += ". This weight is symmetric, so the results agree here by chance"
    return [warning]


@linear.details
def weight_layouts(inputs, params):
    weight = inputs["weight"]
    out_features, in_features = weight.shape
    kernel = weight.T if params["keras_kernel"] == "transposed" else weight
    return {
        "torch_weight_layout": f"nn.Linear.weight: (out, in) = ({out_features}, {in_features})",
        "keras_kernel_layout": f"Dense.kernel: (in, out) = ({in_features}, {out_features})",
        "kernel_given_to_keras": kernel,
    }


@linear.reference
def reference_linear(x, weight, bias):
    return x @ weight.T + bias


@linear.formulation("torch", "torch.nn.Linear with load_state_dict")
def torch_linear_module(x, weight, bias):
    out_features, in_features = weight.shape
    layer = torch.nn.Linear(in_features, out_features, dtype=x.dtype)
    layer.load_state_dict({"weight": weight, "bias": bias})
    return layer(x)


@linear.formulation("torch", "torch.nn.functional.linear")
def torch_functional_linear(x, weight, bias):
    return F.linear(x, weight, bias)


@linear.formulation("tensorflow", "keras.layers.Dense with set_weights")
def keras_dense(x, weight, bias, keras_kernel):
    # Dense's kernel is (in, out): the transpose of torch's (out, in) weight.
    kernel = tf.transpose(weight) if keras_kernel == "transposed" else weight
    layer = keras.layers.Dense(units=weight.shape[0], dtype=x.dtype.name)
    layer.build(input_shape=x.shape)
    layer.set_weights([kernel, bias])
    return layer(x)


@linear.formulation("tensorflow", "tf.matmul(x, weight, transpose_b=True) + bias")
def tf_matmul_bias(x, weight, bias):
    return tf.matmul(x, weight, transpose_b=True) + bias
