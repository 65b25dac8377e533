"""The conversion of a TensorFlow BERT checkpoint to PyTorch, step by step.

1. build: infer the config from the variable shapes and create the BertModel.
2. list: report every checkpoint variable (name, shape, dtype, size).
3. map: apply the rules in rules.py and walk each name to a parameter with getattr.
4. fill: read each mapped variable and copy torch.from_numpy(array) into its parameter.

Then the parity check compares the model with TensorFlow and, on request, the
state dict is written as safetensors. Variables are read one at a time, so
besides the model, memory contains about one variable at a time. PyTorch
weights are only ever written as safetensors, and nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from tui.core.convert.bert_torch import BertModel
from tui.core.convert.checkpoint import CheckpointFile
from tui.core.convert.config import DEMO_CONFIG, BertConfig, ConfigError, infer_config
from tui.core.convert.demo import ensure_demo_checkpoint
from tui.core.convert.events import (
    FAILED,
    LOADED,
    MAPPED,
    SKIPPED,
    EventCallback,
    ParityRow,
    ProgressEvent,
    StepEvent,
    SummaryEvent,
    VariableEvent,
    VariableRow,
)
from tui.core.convert.parity import ParityError, first_divergent_layer, run_parity
from tui.core.convert.rules import Plan, plan_variable
from tui.core.convert.source import resolve_prefix

DEMO_DISPLAY_NAME = "built-in demo"
MODEL_INIT_SEED = 0


class OutputError(Exception):
    """The --out file cannot be written; the message is one line naming it."""


class MappingError(Exception):
    """A variable whose name or shape does not fit the model; the message is the row's reason."""


@dataclass
class ConvertRequest:
    """The checkpoint to convert and the options; `checkpoint=None` selects the built-in demo."""

    checkpoint: str | None = None
    heads: int | None = None
    forget_transpose: bool = False
    out: str | None = None
    cache: Path | None = None


@dataclass
class ConversionResult:
    """The converted model, the final variable rows, the parity rows and the summary."""

    model: BertModel
    config: BertConfig
    rows: list[VariableRow]
    parity: list[ParityRow]
    summary: SummaryEvent


def _ignore(_event: object) -> None:
    return None


def convert_checkpoint(request: ConvertRequest, emit: EventCallback = _ignore) -> ConversionResult:
    """Run the four conversion steps and the parity check, reporting through `emit`.

    Raises CheckpointError for a missing, truncated or unreadable checkpoint
    and OutputError when `request.out` cannot be written. Raises ConfigError
    when the checkpoint is not a BERT layout or the head count is invalid, after
    emitting the variable table.
    """
    if request.checkpoint is None:
        prefix = ensure_demo_checkpoint(request.cache)
        display = DEMO_DISPLAY_NAME
        heads = DEMO_CONFIG.num_attention_heads if request.heads is None else request.heads
    else:
        prefix = resolve_prefix(request.checkpoint)
        display = request.checkpoint
        heads = request.heads
    if request.out is not None:
        check_output_path(request.out)
    checkpoint = CheckpointFile(prefix, display)

    emit(StepEvent("build", "started"))
    try:
        shapes = checkpoint.shapes
        canonical_shapes = {path: shapes[name] for path, name in checkpoint.canonical_names.items()}
        config = infer_config(canonical_shapes, heads)
    except ConfigError as error:
        emit(StepEvent("build", "failed", str(error)))
        list_variables(checkpoint, emit)
        raise ConfigError(f"{display}: {error}") from error
    model = build_model(config)
    emit(StepEvent("build", "finished", config.describe()))

    rows = list_variables(checkpoint, emit)
    targets = map_variables(model, rows, request.forget_transpose, emit)
    fill_parameters(checkpoint, rows, targets, emit)

    parity, parity_error = _parity_step(model, checkpoint, config, emit)
    if request.out is not None:
        save_state_dict(model, request.out, emit)

    summary = _summarize(display, config, rows, targets, parity, parity_error, request.out, model)
    emit(summary)
    return ConversionResult(model, config, rows, parity, summary)


def build_model(config: BertConfig) -> BertModel:
    """Step 1: create the BertModel in eval mode.

    The initial weights come from a fixed seed, so parameters that the
    checkpoint does not fill give the same outputs on every run.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(MODEL_INIT_SEED)
        return BertModel(config).eval()


def list_variables(checkpoint: CheckpointFile, emit: EventCallback) -> list[VariableRow]:
    """Step 2: one row per checkpoint variable, from the index alone."""
    emit(StepEvent("list", "started"))
    rows = []
    for index, variable in enumerate(checkpoint.variables):
        row = VariableRow(index, variable.name, list(variable.shape), variable.dtype, variable.size)
        rows.append(row)
        _emit_row(row, emit)

    parameters = sum(row.size for row in rows)
    emit(StepEvent("list", "finished", f"{len(rows)} variables, {parameters:,} values"))
    return rows


def map_variables(
    model: nn.Module, rows: list[VariableRow], forget_transpose: bool, emit: EventCallback
) -> dict[int, tuple[nn.Parameter, bool]]:
    """Step 3: map each row to a parameter; return {row index: (parameter, transpose)}.

    With `forget_transpose`, kernels keep their TensorFlow [in, out] layout.
    """
    emit(StepEvent("map", "started"))
    targets: dict[int, tuple[nn.Parameter, bool]] = {}
    claimed: dict[str, str] = {}
    for done, row in enumerate(rows, start=1):
        plan = plan_variable(row.tf_name)
        if forget_transpose:
            plan = dataclasses.replace(plan, transpose=False)
        if plan.skip_reason is not None:
            row.status, row.reason = SKIPPED, plan.skip_reason
        else:
            try:
                targets[row.index] = (_map_row(model, plan, row, claimed), row.transposed)
            except MappingError as error:
                row.status, row.reason = FAILED, str(error)
        _emit_row(row, emit)
        emit(ProgressEvent("map", done, len(rows)))

    counts = _count(rows)
    emit(StepEvent("map", "finished", _describe_counts(counts)))
    return targets


def _map_row(model: nn.Module, plan: Plan, row: VariableRow, claimed: dict[str, str]) -> nn.Parameter:
    """Resolve one row's parameter, updating the row; raise MappingError when it does not fit."""
    row.torch_name = plan.torch_name
    row.transposed = plan.transpose and len(row.tf_shape) == 2
    parameter = resolve_parameter(model, plan)
    row.torch_shape = list(parameter.shape)

    checkpoint_shape = row.tf_shape[::-1] if row.transposed else row.tf_shape
    if checkpoint_shape != row.torch_shape:
        layout = "transposed " if row.transposed else ""
        raise MappingError(
            f"shape mismatch: PyTorch expects {tuple(row.torch_shape)}, "
            f"the {layout}checkpoint gives {tuple(checkpoint_shape)}"
        )
    if not row.dtype.startswith(("float", "bfloat", "half")):
        raise MappingError(f"dtype {row.dtype} cannot fill a floating-point parameter")
    if row.torch_name in claimed:
        raise MappingError(f"{row.torch_name} is already filled from {claimed[row.torch_name]}")

    claimed[row.torch_name] = row.tf_name
    row.status = MAPPED
    return parameter


def resolve_parameter(model: nn.Module, plan: Plan) -> nn.Parameter:
    """Walk the plan's steps from `model` with getattr and indexing.

    Raises MappingError naming the first step that does not exist.
    """
    target: object = model
    walked: list[str] = []
    for step in plan.steps:
        where = ".".join(walked) or type(model).__name__
        if isinstance(step, int):
            if not isinstance(target, nn.ModuleList) or step >= len(target):
                size = len(target) if isinstance(target, nn.ModuleList) else 0
                raise MappingError(f"no such index [{step}] in {where} ({size} entries)")
            target = target[step]
        else:
            if not isinstance(target, nn.Module) or not hasattr(target, step):
                raise MappingError(f"no such attribute '{step}' in {where} ({type(target).__name__})")
            target = getattr(target, step)
        walked.append(str(step))

    if not isinstance(target, nn.Parameter):
        raise MappingError(f"{'.'.join(walked)} is a {type(target).__name__}, not a parameter")
    return target


def fill_parameters(
    checkpoint: CheckpointFile,
    rows: list[VariableRow],
    targets: dict[int, tuple[nn.Parameter, bool]],
    emit: EventCallback,
) -> None:
    """Step 4: read each mapped variable and copy it into its parameter."""
    emit(StepEvent("fill", "started"))
    for done, row in enumerate((row for row in rows if row.index in targets), start=1):
        parameter, transpose = targets[row.index]
        tensor = torch.from_numpy(checkpoint.read(row.tf_name))
        if transpose:
            tensor = tensor.T
        with torch.no_grad():
            parameter.copy_(tensor)

        row.status = LOADED
        _emit_row(row, emit)
        emit(ProgressEvent("fill", done, len(targets)))

    loaded = sum(row.size for row in rows if row.status == LOADED)
    emit(StepEvent("fill", "finished", f"{len(targets)} parameters, {loaded:,} values"))


def check_output_path(out: str) -> None:
    """Raise OutputError before any work when `out` cannot be written."""
    path = Path(out).expanduser()
    if path.is_dir():
        raise OutputError(f"{out}: cannot write the safetensors file (it is a directory)")
    if not path.parent.is_dir():
        raise OutputError(f"{out}: cannot write the safetensors file (no directory {path.parent})")


def save_state_dict(model: BertModel, out: str, emit: EventCallback) -> None:
    """Write the model's state dict to `out` as safetensors."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    emit(StepEvent("save", "started"))
    path = Path(out).expanduser()
    try:
        save_file(model.state_dict(), str(path), metadata={"format": "pt"})
    except (OSError, SafetensorError) as error:
        raise OutputError(f"{out}: cannot write the safetensors file ({error})") from error
    emit(StepEvent("save", "finished", out))


def _parity_step(
    model: BertModel, checkpoint: CheckpointFile, config: BertConfig, emit: EventCallback
) -> tuple[list[ParityRow], str | None]:
    emit(StepEvent("parity", "started"))
    try:
        rows = run_parity(model, checkpoint, config, emit)
    except ParityError as error:
        emit(StepEvent("parity", "failed", str(error)))
        return [], str(error)

    divergent = first_divergent_layer(rows)
    detail = "every layer within tolerance" if divergent is None else f"first divergent layer: {divergent}"
    emit(StepEvent("parity", "finished", detail))
    return rows, None


def _summarize(
    display: str,
    config: BertConfig,
    rows: list[VariableRow],
    targets: dict[int, tuple[nn.Parameter, bool]],
    parity: list[ParityRow],
    parity_error: str | None,
    out: str | None,
    model: BertModel,
) -> SummaryEvent:
    filled = {id(targets[row.index][0]) for row in rows if row.status == LOADED}
    unfilled = [name for name, parameter in model.named_parameters() if id(parameter) not in filled]
    return SummaryEvent(
        checkpoint=display,
        config=config.to_dict(),
        counts=_count(rows),
        unfilled=unfilled,
        first_divergent_layer=first_divergent_layer(parity),
        parity_error=parity_error,
        out=out,
    )


def _count(rows: list[VariableRow]) -> dict[str, int]:
    counts = {LOADED: 0, MAPPED: 0, SKIPPED: 0, FAILED: 0}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    counts["total"] = len(rows)
    return counts


def _describe_counts(counts: dict[str, int]) -> str:
    return f"{counts[MAPPED]} mapped, {counts[SKIPPED]} skipped, {counts[FAILED]} failed"


def _emit_row(row: VariableRow, emit: EventCallback) -> None:
    """Emit a copy, so a listener that keeps events does not see later changes."""
    emit(VariableEvent(dataclasses.replace(row)))
