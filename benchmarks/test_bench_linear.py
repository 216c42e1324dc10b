"""Linear forward+backward, 256×784 → 512: NumPy (one path: three GEMMs) vs torch."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import DTYPES, BenchCase, linear_flops, params, run_benchmark
from numpy_impl.linear import Linear
from torch_ref.linear import linear

N, IN, OUT = 256, 784, 512


def build(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> Linear:
    return Linear(IN, OUT, dtype=dtype, rng=rng)


def cases() -> list[BenchCase]:
    return [
        BenchCase(
            layer="linear", step="fwd+bwd", size=f"{N}x{IN}to{OUT}", label=f"{N}x{IN} -> {OUT}",
            dtype=dtype, shape=(N, IN), build=build, reference=linear,
            variants=("vectorized", "torch", "peer"),
            flops=lambda n: linear_flops(n, IN, OUT, "fwd+bwd"), unit="rows", sum_terms=N,
        )
        for dtype in DTYPES
    ]


@pytest.mark.parametrize(("case", "variant"), params(cases()))
def test_linear(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
