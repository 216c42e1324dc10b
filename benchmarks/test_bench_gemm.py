"""The machine's float32 GEMM rate at the pinned thread count: one large ``np.matmul``.

Not a parity benchmark: the report reads its GFLOP/s as the practical peak to compare the
conv and linear GFLOP/s with.
"""

from __future__ import annotations

import numpy as np

#: 2048³·2 ≈ 17 GFLOP per call: large enough to reach the BLAS kernel's steady rate.
SIZE = 2048


def test_gemm_peak(benchmark):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((SIZE, SIZE)).astype(np.float32)
    b = rng.standard_normal((SIZE, SIZE)).astype(np.float32)
    # Checked before timed, like the layers: a sampled entry against float64.
    c = a @ b
    i, j = 7, 11
    assert abs(float(c[i, j]) - float(a[i].astype(np.float64) @ b[:, j])) < 1e-2
    benchmark.group = "machine | float32 GEMM peak"
    benchmark.extra_info.update(
        layer="gemm", step="fwd", size=f"{SIZE}x{SIZE}x{SIZE}", label=f"np.matmul {SIZE}³",
        dtype="float32", variant="numpy", scale=1.0, subset=None, flops=2.0 * SIZE**3,
    )
    benchmark(np.matmul, a, b)
