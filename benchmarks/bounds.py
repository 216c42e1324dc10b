"""What bounds the time goals the vectorized paths miss: the least work each layer cannot
avoid, timed alone against torch's whole operation, one thread (``PARITY_BENCH_THREADS``).

``python -m benchmarks.bounds`` prints one line per bound (best of 30 calls). The README's
benchmark section quotes a run of it; the figures move with the machine, the ratios less.

- Linear fwd+bwd is three GEMMs: NumPy's BLAS against torch's on the same three products.
- Conv2D 16→32 (N=32, 28², 3×3): the im2col GEMM alone and Winograd's 16 skinny GEMMs alone,
  in GFLOP/s, against torch's channels_last forward.
- Max pool 2×2 stride 2: three ``np.maximum`` over four strided views (every cell read once,
  nothing written but the output) against torch's channels_last forward.
- Softmax 4096×1000 and batch norm: one ``np.exp`` and one elementwise pass, which are not
  bounds (torch's whole forward takes longer): those goals are open, not bounded.
"""

from __future__ import annotations

from benchmarks.threads import pin_environment

pin_environment()  # before NumPy and torch are imported

import timeit  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402


def best(call: Callable[[], object], repeat: int = 30) -> float:
    """The fastest of ``repeat`` single calls after one warm-up, in seconds."""
    call()
    return min(timeit.repeat(call, number=1, repeat=repeat))


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    f32 = np.float32

    x, w = rng.standard_normal((256, 784)).astype(f32), rng.standard_normal((784, 512)).astype(f32)
    dy = rng.standard_normal((256, 512)).astype(f32)
    xt, wt, dyt = map(torch.from_numpy, (x, w, dy))
    ours = best(lambda: (x @ w, dy @ w.T, x.T @ dy))
    theirs = best(lambda: (xt @ wt, dyt @ wt.T, xt.T @ dyt))
    print(f"Linear 256x784->512, its 3 GEMMs: NumPy {ours * 1e3:.2f} ms, "
          f"torch {theirs * 1e3:.2f} ms ({ours / theirs:.2f}x)")

    n, hw, c_in, c_out = 32, 28, 16, 32
    flops = 2 * n * hw * hw * 9 * c_in * c_out
    cols = rng.standard_normal((n * hw * hw, 9 * c_in)).astype(f32)
    kernel = rng.standard_normal((9 * c_in, c_out)).astype(f32)
    tiles = n * (hw // 2) ** 2
    v = rng.standard_normal((16, tiles, c_in)).astype(f32)
    u = rng.standard_normal((16, c_in, c_out)).astype(f32)
    conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1).to(memory_format=torch.channels_last)
    images = torch.randn(n, c_in, hw, hw).to(memory_format=torch.channels_last)
    with torch.no_grad():
        torch_conv = best(lambda: conv(images))
    im2col, winograd = best(lambda: cols @ kernel), best(lambda: np.matmul(v, u))
    print(f"Conv2D N=32 28x28 16->32 forward: torch channels_last {flops / torch_conv / 1e9:.0f}"
          f" GFLOP/s; NumPy im2col GEMM alone {flops / im2col / 1e9:.0f}, Winograd's 16 GEMMs"
          f" alone {2 * 16 * tiles * c_in * c_out / winograd / 1e9:.0f} (of their own FLOPs)")

    cells = rng.standard_normal((32, 28, 28, 32)).astype(f32)
    least = best(lambda: np.maximum(np.maximum(cells[:, 0::2, 0::2], cells[:, 0::2, 1::2]),
                                    np.maximum(cells[:, 1::2, 0::2], cells[:, 1::2, 1::2])))
    pool = torch.nn.MaxPool2d(2, 2)
    nchw_view = torch.from_numpy(cells).permute(0, 3, 1, 2)  # channels_last in memory
    with torch.no_grad():
        torch_pool = best(lambda: pool(nchw_view))
    print(f"Max pool 2x2 s2 forward N=32 28x28 C=32: 3 np.maximum over strided views "
          f"{least * 1e3:.3f} ms, torch channels_last {torch_pool * 1e3:.3f} ms "
          f"({least / torch_pool:.2f}x)")

    logits = rng.standard_normal((4096, 1000)).astype(f32)
    out = np.empty_like(logits)
    exp = best(lambda: np.exp(logits, out=out))
    torch_softmax = best(lambda: torch.softmax(torch.from_numpy(logits), -1))
    print(f"Softmax 4096x1000: np.exp alone {exp * 1e3:.2f} ms, torch's whole softmax forward "
          f"{torch_softmax * 1e3:.2f} ms ({exp / torch_softmax:.2f}x: not a bound)")


if __name__ == "__main__":
    main()
