"""Module proxies that import a framework on first attribute access.

The op catalog is imported by the UI process, which must never load torch,
TensorFlow, Keras or scikit-learn. Catalog functions still read like the
frameworks' own docs (``torch.softmax(x, dim=dim)``) because ``torch`` here is
a proxy: importing this module costs nothing, and the real import happens in
the worker process the first time a function touches an attribute.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any


class LazyModule:
    """A stand-in for a module that is imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def load(self) -> ModuleType:
        """Import the module if needed and return it."""
        if self._module is None:
            if self._name.split(".")[0] in ("tensorflow", "keras"):
                # TensorFlow writes C++ log lines to fd 2 while importing.
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            self._module = importlib.import_module(self._name)
        return self._module

    @property
    def is_loaded(self) -> bool:
        """Whether the real module has been imported through this proxy."""
        return self._module is not None

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.load(), attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded"
        return f"<lazy module {self._name!r} ({state})>"


numpy = LazyModule("numpy")
"""For modules the UI imports before its first frame: importing numpy takes about 45 ms."""
torch = LazyModule("torch")
F = LazyModule("torch.nn.functional")
tf = LazyModule("tensorflow")
keras = LazyModule("keras")
sklearn_pairwise = LazyModule("sklearn.metrics.pairwise")
sklearn_metrics = LazyModule("sklearn.metrics")
