"""Softmax backward (on a fresh forward) and forward+backward: the Jacobian loop, the
vectorized form and torch autograd.

The loop builds a C×C Jacobian per row (O(C²)); at C = 1000 it is timed on the first 64
rows and scaled to the full batch.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import DTYPES, BenchCase, params, run_benchmark
from numpy_impl.softmax import Softmax
from torch_ref.softmax import softmax

SIZES = ((256, 10), (256, 1000), (4096, 10), (4096, 1000))
#: Rows the Jacobian loop runs on when C is large (one row is a C×C matrix).
LOOP_ROWS = 64


def build(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> Softmax:
    return Softmax(impl=impl or "vectorized")


def cases() -> list[BenchCase]:
    return [
        BenchCase(
            layer="softmax", step=step, size=f"{rows}x{cols}", label=f"{rows}x{cols}",
            dtype=dtype, shape=(rows, cols), build=build, reference=softmax,
            variants=("loop", "vectorized", "torch", "peer"),
            loop_keep=LOOP_ROWS if cols >= 1000 else None, unit="rows",
        )
        for step in ("bwd", "fwd+bwd") for dtype in DTYPES for rows, cols in SIZES
    ]


@pytest.mark.parametrize(("case", "variant"), params(cases()))
def test_softmax(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
