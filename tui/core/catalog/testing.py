"""Test-only ops that make a worker crash, hang or fail, to prove the app survives.

Registered only when XFRAME_TUI_TEST_OPS=1 is set, and hidden from the ops table.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from tui.core.catalog.base import InputSpec, Op, ParamSpec

if TYPE_CHECKING:
    import numpy as np
else:
    from tui.core.lazy import numpy as np

crash = Op(
    id="test_crash",
    title="test: abort the worker",
    family="testing",
    inputs=(InputSpec("x", "float", "[1.0]"),),
    hidden=True,
)


@crash.reference
def reference_crash(x):
    return x


@crash.formulation("torch", "os.abort")
def abort_worker(x):
    os.abort()


sleep = Op(
    id="test_sleep",
    title="test: sleep past the deadline",
    family="testing",
    inputs=(InputSpec("x", "float", "[1.0]"),),
    params=(ParamSpec("seconds", "float", 60.0, "how long the worker sleeps", minimum=0.0),),
    hidden=True,
)


@sleep.reference
def reference_sleep(x, seconds):
    return x


@sleep.formulation("torch", "time.sleep")
def sleep_in_worker(x, seconds):
    time.sleep(seconds)
    return x


huge = Op(
    id="test_huge_output",
    title="test: return a huge array",
    family="testing",
    inputs=(InputSpec("x", "float", "[1.0]"),),
    hidden=True,
)


@huge.reference
def reference_huge(x):
    return x


@huge.formulation("numpy", "np.broadcast_to")
def huge_output(x):
    return np.broadcast_to(np.float32(1), (100_000, 1_000))



segfault = Op(
    id="test_segfault",
    title="test: segfault the worker",
    family="testing",
    inputs=(InputSpec("x", "float", "[1.0]"),),
    hidden=True,
)


@segfault.reference
def reference_segfault(x):
    return x


@segfault.formulation("torch", "ctypes.string_at(0)")
def read_address_zero(x):
    import ctypes

    return ctypes.string_at(0)


exit_loop = Op(
    id="test_exit",
    title="test: leave the worker's loop",
    family="testing",
    inputs=(InputSpec("x", "float", "[1.0]"),),
    hidden=True,
)


@exit_loop.reference
def reference_exit(x):
    return x


@exit_loop.formulation("torch", "raise SystemExit(3)")
def exit_worker(x):
    # SystemExit is not an Exception, so it escapes the per-formulation handler
    # and the worker's loop, as a bug in a framework's atexit path might.
    raise SystemExit(3)


OPS = (crash, sleep, huge, segfault, exit_loop)
