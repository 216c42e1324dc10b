"""Linear forward+backward, 256×784 → 512: NumPy (one path: three GEMMs) vs torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from benchmarks.common import DTYPES, Case, linear_flops, params, run_benchmark
from numpy_impl.linear import Linear
from torch_ref.base import TRANSPOSED, linked_module
from torch_ref.linear import linear, linear_module

N, IN, OUT = 256, 784, 512


def build(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> Linear:
    return Linear(IN, OUT, dtype=dtype, rng=rng)


def torch_module(layer: Linear) -> nn.Module:
    module = linear_module(layer)
    linked_module(layer, module, layouts={"weight": TRANSPOSED})
    return module


def cases() -> list[Case]:
    return [
        Case(
            layer="linear", step="fwd+bwd", size=f"{N}x{IN}to{OUT}", label=f"{N}x{IN} -> {OUT}",
            dtype=dtype, shape=(N, IN), build=build, reference=linear,
            torch_module=torch_module, variants=("vectorized", "torch"),
            flops=lambda n: linear_flops(n, IN, OUT, "fwd+bwd"), unit="rows", sum_terms=N,
        )
        for dtype in DTYPES
    ]


@pytest.mark.parametrize(("case", "variant"), params(cases()))
def test_linear(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
