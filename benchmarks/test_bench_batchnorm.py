"""BatchNorm2d forward+backward in training mode (batch statistics, running-stat update),
N=32 16×16 C=64: NumPy vs torch NCHW and channels_last."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import DTYPES, BenchCase, params, run_benchmark
from numpy_impl.normalization import BatchNorm2d
from torch_ref.normalization import batch_norm2d

N, HW, C = 32, 16, 64


def build(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> BatchNorm2d:
    return BatchNorm2d(C, dtype=dtype)


def cases() -> list[BenchCase]:
    return [
        BenchCase(
            layer="batchnorm2d", step="fwd+bwd", size=f"n{N}-{HW}x{HW}-c{C}",
            label=f"N={N} {HW}x{HW} C={C} train", dtype=dtype, shape=(N, HW, HW, C),
            build=build, reference=batch_norm2d,
            variants=("vectorized", "torch", "torch_cl", "peer"), sum_terms=N * HW * HW,
        )
        for dtype in DTYPES
    ]


@pytest.mark.parametrize(("case", "variant"), params(cases()))
def test_batchnorm2d(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
