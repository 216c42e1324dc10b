"""SE block and SE-ResNet basic block forward+backward (training mode): NumPy vectorized
vs the seed's torch modules, NCHW and channels_last. The SE-ResNet FLOPs count its two 3×3
convolutions (the bulk of its work) so the report can show GFLOP/s.

The SE-ResNet float32 check is looser, with reasons (``benchmarks.common``): its output goes
through two K = 576 convolutions in sequence (``output_terms``), and its gradients through
ReLU kinks (``relu_kinks``: relative L2 in float32 plus the elementwise float64 check)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import DTYPES, BenchCase, conv_flops, params, run_benchmark
from numpy_impl.blocks import SEBlock, SEResNetBlock
from torch_ref.blocks import se_block, se_resnet_block

N, HW, C, REDUCTION = 32, 16, 64, 16


def build_se(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> SEBlock:
    return SEBlock(C, REDUCTION, dtype=dtype, rng=rng)


def build_se_resnet(impl: str | None, dtype: np.dtype, rng: np.random.Generator
                    ) -> SEResNetBlock:
    return SEResNetBlock(C, C, stride=1, reduction=REDUCTION, dtype=dtype, rng=rng,
                         impl=impl or "vectorized")


def se_resnet_flops(n: int) -> float:
    return 2 * conv_flops(n, (HW, HW), (3, 3), C, C, "fwd+bwd")


def cases() -> list[BenchCase]:
    size, label = f"n{N}-{HW}x{HW}-c{C}-r{REDUCTION}", f"N={N} {HW}x{HW} C={C} r={REDUCTION}"
    return [
        case
        for dtype in DTYPES
        for case in (
            BenchCase(layer="se", step="fwd+bwd", size=size, label=label, dtype=dtype,
                 shape=(N, HW, HW, C), build=build_se, reference=se_block,
                 variants=("vectorized", "torch", "torch_cl", "peer"),
                 sum_terms=N * HW * HW),
            BenchCase(layer="se_resnet", step="fwd+bwd", size=f"n{N}-{HW}x{HW}-{C}to{C}",
                 label=f"N={N} {HW}x{HW} {C}->{C} s1 r={REDUCTION}", dtype=dtype,
                 shape=(N, HW, HW, C), build=build_se_resnet, reference=se_resnet_block,
                 variants=("vectorized", "torch", "torch_cl", "peer"),
                 flops=se_resnet_flops, sum_terms=N * HW * HW, relu_kinks=True,
                 output_terms=2 * 9 * C,
                 notes={"flops_counted": "the two 3x3 convolutions"}),
        )
    ]


@pytest.mark.parametrize(("case", "variant"), params(cases()))
def test_se(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
