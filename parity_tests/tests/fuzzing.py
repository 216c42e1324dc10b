"""What the hypothesis tests share: a drawn array becomes a one-off registry case, checked
against torch by the harness's own checks, with one tolerance rule for drawn magnitudes.

The registry's fixed samples carry the guarantee that each comparison can fail (the
gradient guard); a drawn example may legitimately have a vanishing gradient (an all-zero
input makes dW zero), so drawn samples run without the guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from parity_tests.checks import check_forward, check_input_grad, check_param_grads
from parity_tests.engine import RunCache
from parity_tests.entry import Entry
from parity_tests.registry import Case
from parity_tests.samples import Sample, TargetMaker, given
from parity_tests.seeding import seed_from_env
from parity_tests.tolerances import parity_tolerance

SEED = seed_from_env()
PARITY_CHECKS = (check_forward, check_input_grad, check_param_grads)


def drawn_name(kwargs: Mapping[str, Any], x: np.ndarray) -> str:
    """A sample name that spells the drawn config, so each config gets its own weights."""
    name = "fuzz-" + "-".join(f"{k}={v}" for k, v in kwargs.items()).replace(" ", "")
    return name.rstrip("-") + f"-x{'x'.join(map(str, x.shape))}"


def magnitude_tolerant(entry: Entry, x: np.ndarray) -> Entry:
    """``entry`` with atol widened by max(1, max|x|): a float sum's rounding grows with the
    magnitude of its terms, not of its result, so with |x| up to 1e3 an output that cancels
    to ~0 is off by ~1e3·K·ε in float32, far above the fixed atol. The relative demand of
    the default tolerance is kept (the unit-scale registry samples check it as is)."""
    scale = max(1.0, float(np.max(np.abs(x), initial=0.0)))
    if scale == 1.0:
        return entry
    base = parity_tolerance(x.dtype, entry.tolerances)
    widened = base.widened(scale, f"atol x max|x| = {scale:g}: rounding of a sum scales "
                                  "with the magnitude of its terms, not of its result")
    return replace(entry, tolerances={**entry.tolerances, np.dtype(x.dtype): widened})


def assert_drawn_matches_torch(entry: Entry, x: np.ndarray, impl: str | None = None,
                               kwargs: Mapping[str, Any] | None = None,
                               make_target: TargetMaker | None = None) -> None:
    """Forward, input gradient and parameter gradients of the drawn example against torch."""
    __tracebackhide__ = True
    kwargs = dict(kwargs or {})
    sample = Sample(drawn_name(kwargs, x), x.shape, kwargs, make_input=given(x),
                    make_target=make_target, gradcheck=False, guard=False,
                    note="drawn by hypothesis")
    case = Case(magnitude_tolerant(entry, x), sample, np.dtype(x.dtype), impl)
    cache = RunCache()
    for check in PARITY_CHECKS:
        result = check(case, SEED, cache)
        if not result.ok:
            raise AssertionError(result.message())
