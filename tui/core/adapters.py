"""Per-backend conversion of inputs into framework values and outputs back to NumPy.

Runs only inside worker processes: this is where torch and TensorFlow get
imported, through the lazy proxies, on first use.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from typing import Any

import numpy as np

from tui.core.catalog.base import InputKind
from tui.core.lazy import keras, tf, torch

FLOAT_BITS = {"float16": np.float16, "float32": np.float32, "float64": np.float64}


def is_float_input(array: np.ndarray, kind: InputKind) -> bool:
    """Return whether an input is cast to the compute dtype: float inputs, and labels given as float targets."""
    return kind == "float" or (kind == "labels" and array.dtype.kind == "f")


class DtypeNotSupported(Exception):
    """Raised when a backend has no such dtype, so no formulation can run in it."""


def round_to_bfloat16(values: np.ndarray) -> np.ndarray:
    """Round float values to the nearest bfloat16 (ties to even), returned as float32."""
    # np.asarray keeps a 0-d input 0-d, where np.ascontiguousarray would make it 1-d.
    as_float32 = np.asarray(values, dtype=np.float32, order="C")
    bits = as_float32.view(np.uint32).astype(np.uint64)
    rounding_bias = 0x7FFF + ((bits >> 16) & 1)
    rounded = ((bits + rounding_bias) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    # Rounding the bit pattern of a NaN could turn it into an infinity.
    return np.where(np.isnan(as_float32), as_float32, rounded)


def round_to_dtype(values: np.ndarray, dtype: str) -> np.ndarray:
    """Round float64 values to `dtype` and back, so the reference sees what the frameworks see."""
    if dtype == "bfloat16":
        return round_to_bfloat16(values).astype(np.float64)
    return values.astype(FLOAT_BITS[dtype]).astype(np.float64)


class Adapter:
    """Converts values for one backend; the base class serves NumPy and scikit-learn."""

    backend = "numpy"
    packages: tuple[str, ...] = ("numpy",)

    def warm_up(self) -> None:
        """Import the framework and run something tiny, so the first real run is fast."""
        np.ones(2).sum()

    def restore_defaults(self) -> None:
        """Undo process-wide settings a formulation may have changed; NumPy has none."""

    def versions(self) -> dict[str, str]:
        """Installed versions of the packages this backend uses."""
        found = {}
        for package in self.packages:
            try:
                found[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                found[package] = "unknown"
        return found

    def convert_input(self, array: np.ndarray, kind: InputKind, dtype: str) -> Any:
        """Return the input as this backend's value, floats cast to `dtype`."""
        if not is_float_input(array, kind):
            return array
        if dtype not in FLOAT_BITS:
            raise DtypeNotSupported(f"NumPy has no {dtype} dtype")
        return array.astype(FLOAT_BITS[dtype])

    def to_numpy(self, value: Any) -> tuple[np.ndarray, str]:
        """Return one output as a NumPy array and the dtype name the backend gave it."""
        array = np.asarray(value)
        return array, str(array.dtype)


class ReferenceAdapter(Adapter):
    """Float64 inputs, rounded to the compute dtype first so only the op's error is measured."""

    backend = "reference"

    def convert_input(self, array: np.ndarray, kind: InputKind, dtype: str) -> Any:
        if not is_float_input(array, kind):
            return array
        return round_to_dtype(array, dtype)


class SklearnAdapter(Adapter):
    backend = "sklearn"
    packages = ("scikit-learn", "numpy", "scipy")

    def warm_up(self) -> None:
        import sklearn.metrics.pairwise  # noqa: F401

        super().warm_up()

    def convert_input(self, array: np.ndarray, kind: InputKind, dtype: str) -> Any:
        if is_float_input(array, kind) and dtype not in FLOAT_BITS:
            raise DtypeNotSupported(f"scikit-learn works on NumPy arrays, and NumPy has no {dtype} dtype")
        return super().convert_input(array, kind, dtype)


class TorchAdapter(Adapter):
    backend = "torch"
    packages = ("torch",)

    def warm_up(self) -> None:
        torch.softmax(torch.ones(2, 2), dim=-1)

    def convert_input(self, array: np.ndarray, kind: InputKind, dtype: str) -> Any:
        # torch.from_numpy rejects negative strides; np.require copies only such arrays
        # and, unlike np.ascontiguousarray, keeps a 0-d array 0-d.
        tensor = torch.from_numpy(np.require(array, requirements="C"))
        if is_float_input(array, kind):
            return tensor.to(getattr(torch, dtype))
        return tensor

    def to_numpy(self, value: Any) -> tuple[np.ndarray, str]:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            name = str(tensor.dtype)
            if tensor.dtype == torch.bfloat16:
                tensor = tensor.to(torch.float32)
            return tensor.numpy(), name
        return super().to_numpy(value)


class TensorflowAdapter(Adapter):
    backend = "tensorflow"
    packages = ("tensorflow-cpu", "keras")
    keras_epsilon: float | None = None
    """keras.config.epsilon() as it was before any formulation ran."""

    def warm_up(self) -> None:
        tf.nn.softmax(tf.ones((2, 2)))
        self.keras_epsilon = keras.config.epsilon()

    def restore_defaults(self) -> None:
        """Reset keras.config.epsilon to its value from before any formulation ran.

        Formulations call keras.config.set_epsilon, and Keras losses and
        normalisations read that setting on every later call.
        """
        if self.keras_epsilon is not None:
            keras.config.set_epsilon(self.keras_epsilon)

    def versions(self) -> dict[str, str]:
        found = super().versions()
        if found.get("tensorflow-cpu") == "unknown":
            del found["tensorflow-cpu"]
            found["tensorflow"] = importlib.metadata.version("tensorflow")
        return found

    def convert_input(self, array: np.ndarray, kind: InputKind, dtype: str) -> Any:
        if is_float_input(array, kind):
            return tf.constant(array, dtype=getattr(tf, dtype))
        return tf.constant(array)

    def to_numpy(self, value: Any) -> tuple[np.ndarray, str]:
        if hasattr(value, "numpy") and hasattr(value, "dtype"):
            name = value.dtype.name if hasattr(value.dtype, "name") else str(value.dtype)
            array = np.asarray(value.numpy())
            if name == "bfloat16":
                array = array.astype(np.float32)
            return array, name
        return super().to_numpy(value)


ADAPTERS: dict[str, type[Adapter]] = {
    "reference": ReferenceAdapter,
    "numpy": Adapter,
    "sklearn": SklearnAdapter,
    "torch": TorchAdapter,
    "tensorflow": TensorflowAdapter,
}


def flatten_outputs(value: Any) -> list[Any]:
    """Split a formulation's return value into its output leaves.

    A tuple or list of tensors (``np.where(cond)`` returns one per axis) gives
    several outputs; anything else is a single output.
    """
    if isinstance(value, (tuple, list)) and not _is_number_list(value):
        return list(value)
    return [value]


def _is_number_list(values: Iterable[Any]) -> bool:
    return all(isinstance(item, (int, float, bool, np.number)) for item in values)
