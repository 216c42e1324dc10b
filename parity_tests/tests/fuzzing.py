"""What the hypothesis tests share: a drawn array becomes a one-off registry case, checked
against torch by the harness's own checks at the harness's own tolerances (the error models
scale the allowed error with the magnitude of the terms summed, so drawn magnitudes up to
1e3 need no special rule).

The registry's fixed samples carry the guarantee that each comparison can fail (the
gradient guard); a drawn example may legitimately have a vanishing gradient (an all-zero
input makes dW zero), so drawn samples run without the guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from parity_tests.checks import check_forward, check_input_grad, check_param_grads
from parity_tests.engine import RunCache
from parity_tests.entry import Entry
from parity_tests.registry import Case
from parity_tests.samples import Sample, TargetMaker, given
from parity_tests.seeding import seed_from_env

SEED = seed_from_env()
PARITY_CHECKS = (check_forward, check_input_grad, check_param_grads)


def drawn_name(kwargs: Mapping[str, Any], x: np.ndarray) -> str:
    """A sample name that spells the drawn config, so each config gets its own weights."""
    name = "fuzz-" + "-".join(f"{k}={v}" for k, v in kwargs.items()).replace(" ", "")
    return name.rstrip("-") + f"-x{'x'.join(map(str, x.shape))}"


def assert_drawn_matches_torch(entry: Entry, x: np.ndarray, impl: str | None = None,
                               kwargs: Mapping[str, Any] | None = None,
                               make_target: TargetMaker | None = None) -> None:
    """Forward, input gradient and parameter gradients of the drawn example against torch."""
    __tracebackhide__ = True
    kwargs = dict(kwargs or {})
    sample = Sample(drawn_name(kwargs, x), x.shape, kwargs, make_input=given(x),
                    make_target=make_target, gradcheck=False, guard=False,
                    note="drawn by hypothesis")
    case = Case(entry, sample, np.dtype(x.dtype), impl)
    cache = RunCache()
    for check in PARITY_CHECKS:
        result = check(case, SEED, cache)
        if not result.ok:
            raise AssertionError(result.message())
