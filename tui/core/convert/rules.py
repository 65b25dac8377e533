"""The rules that turn a TensorFlow BERT variable name into a PyTorch attribute path.

All naming knowledge of the conversion lives in this file. A name is split on
"/", and each component becomes one getattr step (or an index step for
``layer_N``) from the PyTorch BertModel. The walk itself happens in convert.py.

    TF component            PyTorch step                 array
    ----------------------  ---------------------------  ----------
    kernel                  .weight                      transposed
    gamma                   .weight                      as stored
    beta                    .bias                        as stored
    output_weights          .weight                      as stored
    output_bias             .bias                        as stored
    word_embeddings (etc.)  .word_embeddings.weight      as stored
    layer_N                 .layer[N]                    -
    anything else           .<same name>                 -

A name is skipped, never mapped, when any of its components (not only the last)
is an optimizer slot or a step counter, or when it lies outside the ``bert``
scope that holds BertModel's variables (for example the ``cls/...``
pretraining heads).

This module imports neither torch nor TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.core.convert.config import MODEL_SCOPE

# tf.layers.dense stores kernels as [in, out]; nn.Linear.weight is [out, in].
# The cls heads' output_weights are already stored as [out, in].
LEAF_RULES: dict[str, tuple[str, bool]] = {
    "kernel": ("weight", True),
    "gamma": ("weight", False),
    "beta": ("bias", False),
    "output_weights": ("weight", False),
    "output_bias": ("bias", False),
}

EMBEDDING_SUFFIX = "_embeddings"

# Slot variables that TensorFlow optimizers add next to each weight: BERT's
# AdamWeightDecayOptimizer (adam_m, adam_v) and the tf.compat.v1.train
# optimizers (Adam, Adam_1, Momentum, ...), plus the object-based marker.
OPTIMIZER_SLOTS = frozenset(
    {
        "adam_m",
        "adam_v",
        "AdamWeightDecayOptimizer",
        "AdamWeightDecayOptimizer_1",
        "Adam",
        "Adam_1",
        "Momentum",
        "RMSProp",
        "RMSProp_1",
        "Adagrad",
        "Adadelta",
        "Adadelta_1",
        "Ftrl",
        "Ftrl_1",
        "LAMB",
        "LAMB_1",
        ".OPTIMIZER_SLOT",
    }
)

STEP_COUNTERS = frozenset({"global_step", "save_counter"})

# Object-based checkpoints (tf.train.Checkpoint) append this to every variable
# and store the object graph itself as one extra string tensor.
OBJECT_VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"

_INDEXED = re.compile(r"^([A-Za-z]+)_(\d+)$")

Step = str | int


@dataclass(frozen=True)
class Plan:
    """The route from one checkpoint variable to a PyTorch parameter, or the reason to skip it.

    `steps` starts at BertModel: a str is a getattr, an int an index into a
    ModuleList. `skip_reason` is set for variables that are not converted.
    """

    tf_name: str
    steps: tuple[Step, ...] = ()
    transpose: bool = False
    skip_reason: str | None = None

    @property
    def torch_name(self) -> str:
        """The state_dict key the steps lead to, e.g. ``encoder.layer.0.output.dense.weight``."""
        return ".".join(str(step) for step in self.steps)


def plan_variable(tf_name: str) -> Plan:
    """Apply the mapping rules to one checkpoint variable name."""
    components = canonical_name(tf_name).split("/")

    reason = _skip_reason(tf_name, components)
    if reason is not None:
        return Plan(tf_name, skip_reason=reason)

    steps: list[Step] = []
    transpose = False
    for component in components[1:]:
        if component in LEAF_RULES:
            attribute, transpose = LEAF_RULES[component]
            steps.append(attribute)
            continue

        indexed = _INDEXED.match(component)
        if indexed:
            steps.extend([indexed.group(1), int(indexed.group(2))])
        else:
            steps.append(component)

    if components[-1].endswith(EMBEDDING_SUFFIX):
        steps.append("weight")
    return Plan(tf_name, steps=tuple(steps), transpose=transpose)


def _skip_reason(tf_name: str, components: list[str]) -> str | None:
    """Return why a variable is skipped, or None when it should be mapped."""
    for component in components:
        if component in OPTIMIZER_SLOTS:
            return f"optimizer slot ({component})"
        if component in STEP_COUNTERS:
            return f"step counter ({component})"

    if tf_name == OBJECT_GRAPH_KEY:
        return "not part of the model (object graph of the checkpoint)"
    if components[0] != MODEL_SCOPE or len(components) < 2:
        return f"not part of the model (outside the {MODEL_SCOPE}/ scope)"
    return None


def canonical_name(tf_name: str) -> str:
    """Return the variable path without the object-based ``/.ATTRIBUTES/VARIABLE_VALUE`` suffix."""
    if tf_name.endswith(OBJECT_VALUE_SUFFIX):
        return tf_name[: -len(OBJECT_VALUE_SUFFIX)]
    return tf_name
