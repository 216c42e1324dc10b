"""Pool2D max and average, forward+backward: loop, vectorized, torch NCHW and
channels_last, at N=32 28×28 C=32 with k2 s2 (tiling) and k3 s1 (overlapping)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import DTYPES, BenchCase, params, run_benchmark
from numpy_impl.pooling import Pool2D
from torch_ref.pooling import pool2d

N, HW, C = 32, 28, 32
WINDOWS = ((2, 2), (3, 1))
MODES = ("max", "average")
#: The report's layer names (its targets refer to them).
LAYER = {"max": "maxpool", "average": "avgpool"}


def builder(kernel: int, stride: int, mode: str):
    def build(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> Pool2D:
        return Pool2D(kernel, stride=stride, mode=mode, impl=impl or "vectorized")
    return build


def cases() -> list[BenchCase]:
    return [
        BenchCase(
            layer=LAYER[mode], step="fwd+bwd", size=f"n{N}-{HW}x{HW}-c{C}-k{k}s{s}",
            label=f"N={N} {HW}x{HW} C={C} k{k} s{s}", dtype=dtype, shape=(N, HW, HW, C),
            build=builder(k, s, mode), reference=pool2d,
            variants=("loop", "vectorized", "torch", "torch_cl", "peer"),
        )
        for dtype in DTYPES for mode in MODES for k, s in WINDOWS
    ]


@pytest.mark.parametrize(("case", "variant"), params(cases()))
def test_pool2d(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
