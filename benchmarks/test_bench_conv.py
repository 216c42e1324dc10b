"""Conv2D forward and forward+backward: loop, vectorized (im2col), torch NCHW and
channels_last, and the peer (mygrad). FLOPs per call go into ``extra_info`` (the report
shows GFLOP/s).

:func:`memory_cases` are measured by ``parity bench``'s memory pass only (the peak memory of
one forward+backward call): N=64 64×64 64→64 is the issue's memory target (vectorized
within 1.5× of torch's peak), and timing it every run would take a minute (58 GFLOP per
call; the loop path and mygrad take minutes, so they are not measured there)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from benchmarks.common import DTYPES, BenchCase, conv_flops, params, run_benchmark
from numpy_impl.conv import Conv2D
from torch_ref.conv import conv2d


@dataclass(frozen=True)
class ConvSize:
    n: int
    hw: int
    c_in: int
    c_out: int
    k: int
    s: int
    p: int

    @property
    def out_hw(self) -> tuple[int, int]:
        side = (self.hw + 2 * self.p - self.k) // self.s + 1
        return side, side

    @property
    def id(self) -> str:
        return (f"n{self.n}-{self.hw}x{self.hw}-{self.c_in}to{self.c_out}"
                f"-k{self.k}s{self.s}p{self.p}")

    @property
    def label(self) -> str:
        return (f"N={self.n} {self.hw}x{self.hw} {self.c_in}->{self.c_out} "
                f"k{self.k} s{self.s} p{self.p}")


SIZES = (ConvSize(32, 28, 16, 32, 3, 1, 1), ConvSize(64, 32, 3, 64, 3, 2, 1))
STEPS = ("fwd", "fwd+bwd")
#: Memory only: the issue's memory target (report.CONV_64_MEMORY).
MEMORY_SIZES = (ConvSize(64, 64, 64, 64, 3, 1, 1),)


def builder(size: ConvSize):
    def build(impl: str | None, dtype: np.dtype, rng: np.random.Generator) -> Conv2D:
        return Conv2D(size.c_in, size.c_out, size.k, stride=size.s, padding=size.p,
                      dtype=dtype, rng=rng, impl=impl or "vectorized")
    return build


def flops(size: ConvSize, step: str):
    return lambda n: conv_flops(n, size.out_hw, (size.k, size.k), size.c_in, size.c_out, step)


def case(size: ConvSize, step: str, dtype: np.dtype, variants: tuple[str, ...],
         memory_only: bool = False) -> BenchCase:
    return BenchCase(
        layer="conv2d", step=step, size=size.id, label=size.label, dtype=dtype,
        shape=(size.n, size.hw, size.hw, size.c_in), build=builder(size), reference=conv2d,
        variants=variants, flops=flops(size, step),
        sum_terms=size.n * size.out_hw[0] * size.out_hw[1], memory_only=memory_only,
    )


def cases() -> list[BenchCase]:
    return [case(size, step, dtype, ("loop", "vectorized", "torch", "torch_cl", "peer"))
            for dtype in DTYPES for size in SIZES for step in STEPS]


def memory_cases() -> list[BenchCase]:
    return [case(size, "fwd+bwd", np.dtype(np.float32), ("vectorized", "torch", "torch_cl"),
                 memory_only=True)
            for size in MEMORY_SIZES]


@pytest.mark.parametrize(("case", "variant"), params(cases() + memory_cases()))
def test_conv2d(benchmark, case, variant):
    run_benchmark(benchmark, case, variant)
