"""What bounds the time goals the vectorized paths miss: the least work each layer cannot
avoid, timed alone against torch's whole forward+backward, one process, one thread
(``PARITY_BENCH_THREADS``).

This module is the one home of the bound measurements. ``parity bench`` runs it in a
process of its own after the timing (``python -m benchmarks.bounds --json FILE``) and
stores the records in the run's ``benchmarks.json`` (``parity_bounds``), from which
:mod:`benchmarks.report` renders the section "What bounds the unmet goals" and its verdicts
(:func:`benchmarks.report.bound_verdict`); ``python -m benchmarks.bounds`` prints them.

Every time is the best of ``--repeat`` single calls after one warm-up (default 30). A bound
is a LOWER limit on what the layer has to do: each part is the fastest NumPy call found for
that pass, on the whole array or on one cache-sized block in cache scaled to the full size
(whichever is faster), and work the layer needs beyond the least (the second pass of an
update NumPy cannot fuse, a mask the backward routes by) is left out or measured only
beside the bound (``context``). torch is timed as the benchmarks time it
(:func:`benchmarks.common.torch_runner`, stock module, ``channels_last`` where the goal is).

Two more figures say where a layer's time goes beyond its least work. The passes its own
formulation runs, where this module knows them (Conv2D 16→32: the Winograd GEMMs and the
layer's transform and layout functions; BatchNorm2d: every pass above; the max pools: the
layer's forward and backward computations, each timed whole), are marked
``in_layer``: their sum is what that formulation costs with each pass at its best, so when
it alone exceeds the goal only another formulation could meet it. And every bound has
the layer itself beside it (``layer``): our vectorized forward+backward on the
benchmark's case, built and checked as the benchmarks do, timed the same way (best of
``--repeat``), so that the layer minus its passes is what it costs beyond them
(per-call bookkeeping, data no longer in cache).

- Linear 256×784→512: its three GEMMs (x·W, dy·Wᵀ, xᵀ·dy) in NumPy's BLAS.
- Conv2D 16→32 (N=32, 28², 3×3): the cheaper of im2col's three GEMMs and Winograd
  F(2×2, 3×3)'s three batches of 16 skinny GEMMs (forward, dW, dX), no transform, no
  im2col copy; GFLOP/s of their own FLOPs. Beside it, the layer's own Winograd passes
  besides its GEMMs (its band functions, one band in cache, scaled to the call's bands):
  the four transforms and the layout copies.
- Conv2D 3→64 stride 2 (N=64, 32², 3×3): im2col's three GEMMs (16384 rows, K = 27, 64 out),
  no im2col copy, no overlap-add (Winograd does not apply to a strided conv).
- Max pool 2×2 stride 2: three ``np.maximum`` over the four strided quarters (forward)
  and dx written once from dy through a 0/1 mask taken as given (backward).
- Max pool 3×3 stride 1: the separable max (3 rows, then 3 columns: four ``np.maximum``)
  or the direct one (eight), whichever is faster, and dx written once from an array of
  x's shape (the routing of dy to the argmaxes taken as given).
- Softmax 4096×1000: the passes no NumPy formulation avoids: e^x into a buffer, the row
  sums (GEMV), the scaling, the row dots ⟨s, dy⟩ and dx written once from s and dy. Not
  the row max: the layer skips it (``numpy_impl.softmax.softmax_rows``), so it is no part
  of a lower limit (it is measured beside, as is the update's second NumPy pass).
- BatchNorm2d train N=32 16² C=64: Σx and Σx² (one GEMV, one einsum), y written once,
  Σdy and Σdy·x̂ (GEMV, einsum) and dx written once; on wide views (k rows as one, as the
  layer does) where that is faster. Beside it, the four passes NumPy's two-operand ufuncs
  add to that least (y's shift, dx's three more).
- SE block N=32 16² C=64 (r = 16), against the seed's torch module in NCHW as the goal
  is: the squeeze Σx, y = x ⊙ s, Σ dy ⊙ x and dx = dy ⊙ s, each one pass; the two tiny
  products, the sigmoid and the squeeze's gradient term are left out.
"""

from __future__ import annotations

from benchmarks.threads import pin_environment

THREADS = pin_environment()  # before NumPy and torch are imported

import sys  # noqa: E402
import timeit  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks import passes, report  # noqa: E402
from benchmarks.common import PREPARE, to_torch, torch_runner  # noqa: E402
from numpy_impl import conv as conv_impl  # noqa: E402
from numpy_impl.normalization import BatchNorm, Sweep  # noqa: E402
from numpy_impl.pooling import Pool2D  # noqa: E402
from numpy_impl.softmax import Softmax  # noqa: E402
from torch_ref.blocks import SEBlock as TorchSEBlock  # noqa: E402

REPEAT = 30
F32 = np.float32
METHOD = ("the least work of each layer timed alone in a process of its own "
          "(`benchmarks/bounds.py`), best of {repeat} single calls after a warm-up, "
          "{threads} thread(s); torch's stock module timed the same way, forward+backward")


@dataclass
class Part:
    """One measured piece of work: what it is, its time, the call that was fastest, and
    its own FLOPs where GFLOP/s mean something (GEMMs). ``in_layer``: a pass the layer's
    own formulation runs (the report sums these: the layer's passes at their best)."""

    name: str
    seconds: float
    how: str = ""
    flops: float | None = None
    in_layer: bool = False


@dataclass
class Bound:
    """The least work behind one target of :data:`benchmarks.report.TARGETS` (by title).
    ``combine``: "sum" (every part is needed) or "min" (alternative formulations: the
    cheaper bounds them all). ``context``: measured beside, not part of the bound.
    ``layer``: the layer itself (:func:`layer_part`), set by :func:`measure`."""

    target: str
    least: str
    combine: str
    parts: list[Part]
    torch: Part
    context: list[Part] = field(default_factory=list)
    layer: Part | None = None


def layer_part(target: str, repeat: int) -> Part:
    """The layer itself on the target's float32 benchmark case: our vectorized
    forward+backward built and checked against torch as the benchmarks do
    (:data:`benchmarks.common.PREPARE`), best of ``repeat`` calls after one."""
    found = next(t for t in report.TARGETS if t.title == target)
    case = passes.cases_of(found)[0]
    call = passes.timed_call(PREPARE["vectorized"](case, "vectorized"))
    call()
    return Part("the layer itself", min(call() for _ in range(repeat)),
                f"{case.layer} vectorized, checked against torch first")


Call = Callable[[], object]


def best(call: Call, repeat: int = REPEAT) -> float:
    """The fastest of ``repeat`` single calls after one warm-up, in seconds."""
    call()
    return min(timeit.repeat(call, number=1, repeat=repeat))


Candidates = dict[str, tuple[Call, float]]


def fastest(name: str, candidates: Candidates, repeat: int, flops: float | None = None
            ) -> Part:
    """The fastest of several NumPy calls for one pass: ``{how: (call, factor)}``, each
    timed by :func:`best` and multiplied by ``factor`` (a block's time scaled to the
    whole array)."""
    timed = {how: best(call, repeat) * factor for how, (call, factor) in candidates.items()}
    how = min(timed, key=timed.__getitem__)
    return Part(name, timed[how], how, flops)


def blocked(how: str, call: Callable[[slice], object], rows: int, sizes: Sequence[int],
            unit: str = "rows") -> Candidates:
    """``call(rows_slice)`` on all ``rows`` and on the first block of each size in
    ``sizes``, which the warm-up leaves in cache, its time scaled to all rows: a pass over
    data in cache is the fastest that pass can be, so the bound stays a lower limit
    whether the layer blocks its passes or not."""
    found = {f"{how}, whole array": ((lambda: call(slice(None))), 1.0)}
    for size in sizes:
        if size < rows:
            found[f"{how}, a block of {size} {unit} in cache × {rows / size:.3g}"] = (
                (lambda size=size: call(slice(0, size))), rows / size)
    return found


Pass = tuple[str, Callable[[slice], object]]


def fastest_pass(name: str, calls: Sequence[Pass], rows: int, sizes: Sequence[int],
                 repeat: int, unit: str = "rows") -> Part:
    """One pass, the fastest of ``calls`` (``(how, call(rows_slice))``), each timed on the
    whole array and on blocks in cache (:func:`blocked`)."""
    candidates: Candidates = {}
    for how, call in calls:
        candidates.update(blocked(how, call, rows, sizes, unit))
    return fastest(name, candidates, repeat)


def own(parts: list[Part]) -> list[Part]:
    """``parts`` marked as passes the layer's own formulation runs (``in_layer``)."""
    for part in parts:
        part.in_layer = True
    return parts


def gemms(name: str, products: Sequence[tuple[str, Candidates]], repeat: int, flops: float
          ) -> Part:
    """A formulation's GEMMs: each product the fastest of its candidates, summed."""
    found = [(label, fastest(label, candidates, repeat)) for label, candidates in products]
    return Part(name, sum(part.seconds for _, part in found),
                "; ".join(f"{label}: {part.how}" for label, part in found), flops)


def torch_part(name: str, module: nn.Module, x: np.ndarray, dy: np.ndarray, repeat: int,
               flops: float | None = None, *, channels_last: bool = False) -> Part:
    """torch's whole forward+backward as the benchmarks time it: NHWC images ``x``, ``dy``
    go in as ``channels_last`` tensors (with ``channels_last``; the module is converted
    too), rows as they are."""
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    run = torch_runner(module, to_torch(x, channels_last, channels_last),
                       to_torch(dy, channels_last, channels_last), "fwd+bwd")
    kind = type(module)
    home = "nn" if kind.__module__.startswith("torch.nn") else kind.__module__
    return Part(name, best(run, repeat), f"{home}.{kind.__name__}, autograd", flops)


def linear(rng: np.random.Generator, repeat: int) -> Bound:
    n, f_in, f_out = 256, 784, 512
    flops = 3 * 2.0 * n * f_in * f_out
    x = rng.standard_normal((n, f_in)).astype(F32)
    w = rng.standard_normal((f_in, f_out)).astype(F32)
    dy = rng.standard_normal((n, f_out)).astype(F32)
    y, dx = np.empty((n, f_out), F32), np.empty((n, f_in), F32)
    xt, wt, dyt = map(torch.from_numpy, (x, w, dy))
    sizes = (64, 128)
    return Bound(
        target="Linear fwd+bwd 256×784→512",
        least="its three GEMMs in NumPy's BLAS",
        combine="sum",
        parts=[gemms("y = x·W, dx = dy·Wᵀ, dW = xᵀ·dy", [
            ("y", blocked("np.matmul", lambda i: np.matmul(x[i], w, out=y[i]), n, sizes)),
            ("dx", blocked("np.matmul", lambda i: np.matmul(dy[i], w.T, out=dx[i]), n,
                           sizes)),
            ("dW", blocked("np.matmul (band sums not added)",
                           lambda i: np.matmul(x[i].T, dy[i]), n, sizes)),
        ], repeat, flops)],
        torch=torch_part("torch Linear forward+backward", nn.Linear(f_in, f_out), x, dy,
                         repeat, flops),
        context=[Part("the same three GEMMs in torch",
                      best(lambda: (xt @ wt, dyt @ wt.T, xt.T @ dyt), repeat), "torch.matmul",
                      flops)],
    )


def im2col_gemms(rng: np.random.Generator, pixels: int, k: int, c_out: int,
                 bands: Sequence[int], repeat: int) -> Part:
    """im2col's three GEMMs on random operands: Y = cols·K, dW = colsᵀ·dY, dcols = dY·Kᵀ
    (``pixels`` output rows, ``k`` = kh·kw·C_in, ``c_out`` out), each the fastest of the
    whole array and of the ``bands`` (rows) in cache; no im2col copy, no overlap-add."""
    cols = rng.standard_normal((pixels, k)).astype(F32)
    kernel = rng.standard_normal((k, c_out)).astype(F32)
    g = rng.standard_normal((pixels, c_out)).astype(F32)
    y, dcols = np.empty((pixels, c_out), F32), np.empty((pixels, k), F32)
    return gemms(f"im2col: Y = cols·K, dW = colsᵀ·dY, dcols = dY·Kᵀ ({pixels} rows, K = {k}, "
                 f"{c_out} out)", [
                     ("Y", blocked("np.matmul", lambda i: np.matmul(
                         cols[i], kernel, out=y[i]), pixels, bands)),
                     ("dW", blocked("np.matmul (band sums not added)", lambda i: np.matmul(
                         cols[i].T, g[i]), pixels, bands)),
                     ("dcols", blocked("np.matmul", lambda i: np.matmul(
                         g[i], kernel.T, out=dcols[i]), pixels, bands)),
                 ], repeat, 3 * 2.0 * pixels * k * c_out)


def torch_conv(rng: np.random.Generator, repeat: int, n: int, hw: int, c_in: int, c_out: int,
               stride: int, flops: float) -> tuple[Part, Part]:
    """torch's channels_last Conv2d (3×3, padding 1): forward+backward (the bound's
    reference) and, beside it, the forward alone under ``no_grad``."""
    module = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1).to(
        memory_format=torch.channels_last)
    out = (hw + 2 - 3) // stride + 1
    x = rng.standard_normal((n, hw, hw, c_in)).astype(F32)
    dy = rng.standard_normal((n, out, out, c_out)).astype(F32)
    images = to_torch(x, True, channels_last=True)
    with torch.no_grad():
        forward = best(lambda: module(images), repeat)
    return (torch_part("torch Conv2d channels_last forward+backward", module, x, dy, repeat,
                       3 * flops, channels_last=True),
            Part("torch Conv2d channels_last forward alone", forward, "no_grad", flops))


def winograd_passes(rng: np.random.Generator, repeat: int, x_shape: tuple[int, int, int, int],
                    c_out: int) -> list[Part]:
    """Beside the conv bound: the passes the layer's Winograd path runs besides its GEMMs
    (``numpy_impl.conv``'s own band functions), each timed on one band in cache and scaled
    to the call's bands: the four transforms and the layout copies around them."""
    n, hw, _, c_in = x_shape
    pads = (1, 1, 1, 1)
    _, _, th, tw, group, band = conv_impl._winograd_plan(x_shape, pads, c_out)
    groups = -(-n // group)
    bands = -(-th // band) * groups
    count = band * tw * group
    x = rng.standard_normal(x_shape).astype(F32)
    dy = rng.standard_normal((n, hw, hw, c_out)).astype(F32)
    xp = conv_impl._winograd_pad(x[:group], pads, th, tw).reshape(th + 1, 2, 2, tw + 1, group,
                                                                  c_in)
    r = np.empty((4, band, 2, tw + 1, group, c_in), F32)
    v = np.empty((4, 4, band, tw, group, c_in), F32)
    m = rng.standard_normal((16, count * c_out)).astype(F32)
    p, tiles = np.empty(8 * count * c_out, F32), np.empty((2, 2, band, tw, group, c_out), F32)
    z = rng.standard_normal((4, 4, band, tw, group, c_out)).astype(F32)
    dv = rng.standard_normal((4, 4, band, tw, group, c_in)).astype(F32)
    c, sums = (np.empty(8 * band * (tw + 1) * group * c_in, F32) for _ in range(2))
    d = np.zeros((band + 1, 2, 2, tw + 1, group, c_in), F32)
    y, dx = np.empty((n, hw, hw, c_out), F32), np.empty(x_shape, F32)
    rows = d[:band].reshape(2 * band, 2, tw + 1, group, c_in)  # padded rows 0 .. 2·band − 1

    def timed(name: str, how: str, call: Call, times: int) -> Part:
        return Part(name, best(call, repeat) * times,
                    f"{how}, one band of {count} tiles in cache × {times}")

    where = "the layer's"
    return own([
        timed("Winograd's input transform V = Bᵀ d B, forward and again in backward",
              f"{where} _input_transform: 6 two-operand ufuncs",
              lambda: conv_impl._input_transform(xp[:band + 1], band, r, v), 2 * bands),
        timed("its output transform Y = Aᵀ M A", f"{where} _output_transform: 2 small GEMMs",
              lambda: conv_impl._output_transform(m, p, tiles), bands),
        timed("Z' = A dY Aᵀ", f"{where} _tile_sums: 2 small GEMMs",
              lambda: conv_impl._tile_sums(z.reshape(4, 4, -1)), bands),
        timed("dd = B dV Bᵀ overlap-added into dx's rows",
              f"{where} _winograd_dx_band: 2 small GEMMs, 4 adds",
              lambda: conv_impl._winograd_dx_band(dv, c, sums, d), bands),
        Part("the layout copies (x into the tile layout, tiles into y, dy into tiles, dx's "
             "rows out)", best(lambda: conv_impl._winograd_pad(x[:group], pads, th, tw), repeat)
             * groups + best(lambda: (conv_impl._write_tiles(y, tiles, 0),
                                      conv_impl._read_tiles(z[0:2, 0:2], dy, 0),
                                      conv_impl._merge_cols(dx[:, :2 * band], rows, 1)),
                             repeat) * bands,
             f"{where} _winograd_pad × {groups}; _write_tiles, _read_tiles, _merge_cols, one "
             f"band in cache × {bands}"),
    ])


def conv(rng: np.random.Generator, repeat: int) -> Bound:
    n, hw, c_in, c_out = 32, 28, 16, 32
    direct = 2.0 * n * hw * hw * 9 * c_in * c_out  # one pass (forward, dW or dX)
    tiles = n * (hw // 2) ** 2  # F(2×2, 3×3): one 4×4 tile per 2×2 outputs, 16 points
    v = rng.standard_normal((16, tiles, c_in)).astype(F32)
    u = rng.standard_normal((16, c_in, c_out)).astype(F32)
    z = rng.standard_normal((16, tiles, c_out)).astype(F32)
    m, dv = np.empty((16, tiles, c_out), F32), np.empty((16, tiles, c_in), F32)
    vt, ut = v.transpose(0, 2, 1), u.transpose(0, 2, 1)
    tile_bands = (196, 392, 784, 1568)
    torch_whole, torch_forward = torch_conv(rng, repeat, n, hw, c_in, c_out, 1, direct)
    winograd = gemms("Winograd F(2×2,3×3): M = V·U, dU = Vᵀ·dM, dV = dM·Uᵀ, 16 GEMMs each "
                     "(6272 tiles, 16 in, 32 out)", [
                         ("M", blocked("batched np.matmul", lambda i: np.matmul(
                             v[:, i], u, out=m[:, i]), tiles, tile_bands)),
                         ("dU", blocked("batched np.matmul (band sums not added)",
                                        lambda i: np.matmul(vt[:, :, i], z[:, i]), tiles,
                                        tile_bands)),
                         ("dV", blocked("batched np.matmul", lambda i: np.matmul(
                             z[:, i], ut, out=dv[:, i]), tiles, tile_bands)),
                     ], repeat, 3 * 2.0 * 16 * tiles * c_in * c_out)
    own([winograd])  # the layer's formulation (its transforms: in the context)
    return Bound(
        target="Conv2D fwd+bwd N=32 28² 16→32",
        least="the cheaper formulation's GEMMs alone (no im2col copy, no Winograd transform)",
        combine="min",
        parts=[
            im2col_gemms(rng, n * hw * hw, 9 * c_in, c_out, (392, 784, 1568, 3136, 6272),
                         repeat),
            winograd,
        ],
        torch=torch_whole,
        context=[torch_forward, *winograd_passes(rng, repeat, (n, hw, hw, c_in), c_out)],
    )


def conv_strided(rng: np.random.Generator, repeat: int) -> Bound:
    n, hw, c_in, c_out, out = 64, 32, 3, 64, 16
    pixels = n * out * out
    torch_whole, torch_forward = torch_conv(rng, repeat, n, hw, c_in, c_out, 2,
                                            2.0 * pixels * 9 * c_in * c_out)
    return Bound(
        target="Conv2D fwd+bwd N=64 32² 3→64 s2",
        least="im2col's three GEMMs alone (no im2col copy, no overlap-add of dcols; "
              "Winograd does not apply to stride 2)",
        combine="sum",
        parts=[im2col_gemms(rng, pixels, 9 * c_in, c_out, (256, 1024, 4096), repeat)],
        torch=torch_whole,
        context=[torch_forward],
    )


def torch_pool(module: nn.Module, x: np.ndarray, dy: np.ndarray, repeat: int
               ) -> tuple[Part, Part]:
    """torch's channels_last MaxPool2d: forward+backward (the bound's reference) and,
    beside it, the forward alone under ``no_grad``."""
    pooled = to_torch(x, True, channels_last=True)
    with torch.no_grad():
        forward = best(lambda: module(pooled), repeat)
    return (torch_part("torch MaxPool2d channels_last forward+backward", module, x, dy, repeat,
                       channels_last=True),
            Part("torch MaxPool2d channels_last forward alone", forward, "no_grad"))


def pool_computations(kernel: int, stride: int, x: np.ndarray, dy: np.ndarray, repeat: int
                      ) -> list[Part]:
    """The layer's own passes of a max pool: its vectorized forward and backward
    computations (``Pool2D._forward_vectorized``, ``_backward_vectorized``) each timed whole
    on the whole batch, without the layer's checks and cache handling around them."""
    layer = Pool2D(kernel, stride=stride, mode="max")
    out_hw = layer._geometry("bounds", x.shape)
    cache = layer._forward_vectorized(x, out_hw)[1]
    where = "the layer's"
    return own([
        Part("its forward computation", best(lambda: layer._forward_vectorized(x, out_hw),
                                             repeat), f"{where} _forward_vectorized, whole"),
        Part("its backward computation", best(lambda: layer._backward_vectorized(cache, dy),
                                              repeat), f"{where} _backward_vectorized, whole"),
    ])


def maxpool(rng: np.random.Generator, repeat: int) -> Bound:
    n, hw, c = 32, 28, 32
    x = rng.standard_normal((n, hw, hw, c)).astype(F32)
    dy = rng.standard_normal((n, hw // 2, hw // 2, c)).astype(F32)
    quarters = [x[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    y, top, bottom = (np.empty_like(dy) for _ in range(3))
    np.maximum(np.maximum(quarters[0], quarters[1]), np.maximum(quarters[2], quarters[3]),
               out=y)
    windows = (n, hw // 2, 2, hw // 2, 2, c)
    mask = (x.reshape(windows) == y[:, :, None, :, None]).astype(F32)
    dx = np.empty(windows, F32)
    spread = dy[:, :, None, :, None]
    dx_quarters = [dx.reshape(x.shape)[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    mask_quarters = [mask.reshape(x.shape)[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]

    def forward(i: slice) -> None:
        np.maximum(quarters[0][i], quarters[1][i], out=top[i])
        np.maximum(quarters[2][i], quarters[3][i], out=bottom[i])
        np.maximum(top[i], bottom[i], out=y[i])

    def strided(i: slice) -> None:
        for m, d in zip(mask_quarters, dx_quarters, strict=True):
            np.multiply(m[i], dy[i], out=d[i])

    sizes = (2, 8)  # images per block in cache
    torch_whole, torch_forward = torch_pool(nn.MaxPool2d(2, 2), x, dy, repeat)
    computations = pool_computations(2, 2, x, dy, repeat)
    return Bound(
        target="Max pool fwd+bwd k2 s2",
        least="forward: every cell read once, only the output written; backward: dx written "
              "once from dy (the 0/1 argmax mask taken as given)",
        combine="sum",
        parts=[
            fastest_pass("forward: 3 np.maximum over the 4 strided quarters",
                         [("np.maximum(out=)", forward)], n, sizes, repeat, "images"),
            fastest_pass("backward: dx = mask ⊙ dy, written once", [
                ("one np.multiply, dy broadcast over the windows",
                 lambda i: np.multiply(mask[i], spread[i], out=dx[i])),
                ("4 np.multiply into dx's strided quarters", strided)],
                n, sizes, repeat, "images"),
        ],
        torch=torch_whole,
        context=[torch_forward, *computations],
    )


def maxpool_overlapping(rng: np.random.Generator, repeat: int) -> Bound:
    n, hw, c, k = 32, 28, 32, 3
    out = hw - k + 1
    x = rng.standard_normal((n, hw, hw, c)).astype(F32)
    dy = rng.standard_normal((n, out, out, c)).astype(F32)
    rows, y = np.empty((n, out, hw, c), F32), np.empty_like(dy)
    routed, dx = rng.standard_normal(x.shape).astype(F32), np.empty_like(x)

    def separable(i: slice) -> None:  # max over 3 rows, then over 3 columns of that
        np.maximum(x[i, 0:out], x[i, 1:out + 1], out=rows[i])
        np.maximum(rows[i], x[i, 2:out + 2], out=rows[i])
        np.maximum(rows[i, :, 0:out], rows[i, :, 1:out + 1], out=y[i])
        np.maximum(y[i], rows[i, :, 2:out + 2], out=y[i])

    def direct(i: slice) -> None:  # the 9 shifted views, 8 np.maximum into y
        np.maximum(x[i, 0:out, 0:out], x[i, 0:out, 1:out + 1], out=y[i])
        for a in range(k):
            for b in range(k):
                if (a, b) not in ((0, 0), (0, 1)):
                    np.maximum(y[i], x[i, a:a + out, b:b + out], out=y[i])

    sizes = (2, 8)  # images per block in cache
    torch_whole, torch_forward = torch_pool(nn.MaxPool2d(k, 1), x, dy, repeat)
    computations = pool_computations(k, 1, x, dy, repeat)
    return Bound(
        target="Max pool fwd+bwd k3 s1",
        least="forward: the separable max (two passes of two np.maximum); backward: dx "
              "written once (the routing of dy to each window's argmax taken as given)",
        combine="sum",
        parts=[
            fastest_pass("forward: the 3×3 max over shifted views", [
                ("separable, 4 np.maximum(out=)", separable),
                ("direct, 8 np.maximum(out=)", direct)], n, sizes, repeat, "images"),
            fastest_pass("backward: dx written once from dy routed to x's shape",
                         [("np.copyto", lambda i: np.copyto(dx[i], routed[i]))], n, sizes,
                         repeat, "images"),
        ],
        torch=torch_whole,
        context=[torch_forward, *computations],
    )


def se_block(rng: np.random.Generator, repeat: int) -> Bound:
    n, hw, c, reduction = 32, 16, 64, 16
    x = rng.standard_normal((n, hw * hw, c)).astype(F32)
    dy = rng.standard_normal((n, hw * hw, c)).astype(F32)
    scale = rng.random((n, 1, c), dtype=F32)
    pooled, out = np.empty((n, c), F32), np.empty_like(x)
    ones = np.ones(hw * hw, F32)
    sizes = (2, 8)  # images per block in cache

    def pass_(name: str, *calls: Pass) -> Part:
        return fastest_pass(name, calls, n, sizes, repeat, "images")

    nchw = np.ascontiguousarray(x.reshape(n, hw, hw, c).transpose(0, 3, 1, 2))
    dy_nchw = np.ascontiguousarray(dy.reshape(n, hw, hw, c).transpose(0, 3, 1, 2))
    return Bound(
        target="SE block fwd+bwd N=32 16² C=64",
        least="x read twice (the squeeze, the scaling), dy and x once more (Σ dy·x), y and "
              "dx each written once; the two C×C/16 products and the sigmoid left out",
        combine="sum",
        parts=[
            pass_("squeeze: Σ over the pixels of x",
                  ("batched GEMV 1ᵀ·x", lambda i: np.matmul(ones, x[i], out=pooled[i])),
                  ("np.add.reduce", lambda i: np.add.reduce(x[i], axis=1, out=pooled[i]))),
            pass_("y = x ⊙ s written once",
                  ("np.multiply", lambda i: np.multiply(x[i], scale[i], out=out[i]))),
            pass_("Σ over the pixels of dy ⊙ x (the gradient of s)",
                  ("einsum", lambda i: np.einsum("npc,npc->nc", dy[i], x[i], out=pooled[i])),
                  ("np.vecdot over pixels", lambda i: np.vecdot(
                      dy[i].transpose(0, 2, 1), x[i].transpose(0, 2, 1), out=pooled[i]))),
            pass_("dx written once from dy (the squeeze's gradient added, not counted)",
                  ("np.multiply", lambda i: np.multiply(dy[i], scale[i], out=out[i]))),
        ],
        torch=torch_part("torch SE block forward+backward (NCHW, the seed's module)",
                         TorchSEBlock(c, reduction), nchw, dy_nchw, repeat),
        context=[
            pass_("the squeeze's gradient added into dx (a second pass NumPy cannot fuse)",
                  ("np.add", lambda i: np.add(out[i], pooled[i, None], out=out[i]))),
        ],
    )


def softmax(rng: np.random.Generator, repeat: int) -> Bound:
    rows, classes = 4096, 1000
    x = rng.standard_normal((rows, classes)).astype(F32)
    dy = rng.standard_normal((rows, classes)).astype(F32)
    ones = np.ones(classes, F32)
    e = np.exp(x)
    r = 1 / (e @ ones)
    s = e * r[:, None]
    t = dy - np.vecdot(s, dy)[:, None]  # the update's first pass, for its second
    out, sums = np.empty_like(x), np.empty(rows, F32)
    layer_block = max(1, Softmax.BLOCK_ELEMENTS // classes)  # the layer's rows per block
    sizes = sorted({16, layer_block, 256})

    def pass_(name: str, *calls: Pass) -> Part:
        return fastest_pass(name, calls, rows, sizes, repeat)

    return Bound(
        target="Softmax fwd+bwd 4096×1000",
        least="the passes no NumPy formulation avoids (no row max: the layer skips it)",
        combine="sum",
        parts=[
            pass_("e = exp(x) into a buffer",
                  ("np.exp(out=)", lambda i: np.exp(x[i], out=out[i]))),
            pass_("row sums S = Σ e", ("GEMV e·1", lambda i: np.matmul(e[i], ones, out=sums[i])),
                  ("np.add.reduce", lambda i: np.add.reduce(e[i], axis=1, out=sums[i]))),
            pass_("scaling s = e·(1/S)",
                  ("np.multiply", lambda i: np.multiply(e[i], r[i, None], out=out[i]))),
            pass_("row dots ⟨s, dy⟩", ("np.vecdot", lambda i: np.vecdot(s[i], dy[i])),
                  ("einsum", lambda i: np.einsum("ij,ij->i", s[i], dy[i]))),
            pass_("dx written once from s and dy (one elementwise pass)",
                  ("np.multiply", lambda i: np.multiply(s[i], dy[i], out=out[i]))),
        ],
        torch=torch_part("torch Softmax forward+backward", nn.Softmax(dim=-1), x, dy, repeat),
        context=[
            pass_("the row max (the layer skips it)",
                  ("np.max", lambda i: np.max(x[i], axis=1, out=sums[i]))),
            pass_("the update's second pass, dx ⊙= s (NumPy has no fused s ⊙ (dy − d))",
                  ("np.multiply", lambda i: np.multiply(t[i], s[i], out=out[i]))),
        ],
    )


def batchnorm(rng: np.random.Generator, repeat: int) -> Bound:
    n, hw, c = 32, 16, 64
    m = n * hw * hw
    x = rng.standard_normal((m, c)).astype(F32)
    dy = rng.standard_normal((m, c)).astype(F32)
    layer_k = Sweep(m, c, BatchNorm.BLOCK_ELEMENTS, BatchNorm.WIDE_ELEMENTS, np.dtype(F32)).k
    out = np.empty_like(x)
    #: per k (k rows viewed as one, as the layer's wide views): x, dy, out, ones, sums, γ
    wide = {k: (x.reshape(-1, k * c), dy.reshape(-1, k * c), out.reshape(-1, k * c),
                np.ones(m // k, F32), np.empty(k * c, F32),
                np.tile(rng.standard_normal(c).astype(F32), k)) for k in sorted({1, 16, layer_k})}

    def pass_(name: str, *calls: tuple[str, Callable[..., object]]) -> Part:
        """Each ``call(i, x, dy, out, ones, sums, gamma)`` on every wide view, on the whole
        array and on blocks of 16 K and 64 K values."""
        candidates: Candidates = {}
        for how, call in calls:
            for k, arrays in wide.items():
                rows = m // k
                sizes = [size // (k * c) for size in (1 << 14, 1 << 16) if size >= k * c]
                candidates.update(blocked(f"{how} on {k} row(s) as one",
                                          lambda i, arrays=arrays, call=call: call(i, *arrays),
                                          rows, sizes))
        return fastest(name, candidates, repeat)

    images = (n, hw, hw, c)
    # the passes NumPy's two-operand ufuncs add (repeated in place, dx's chain overflows to
    # inf and NaN, which run at the same speed: silenced here, outside the timed calls)
    with np.errstate(over="ignore", invalid="ignore"):
        context = own([
            pass_("y's second pass, + shift (NumPy has no fused multiply-add ufunc)", (
                "np.add", lambda i, xs, d, o, ones, v, w: np.add(xs[i], w, out=o[i]))),
            pass_("dx's three further passes (a·dy + b·x̂ + c in two-operand ufuncs: + c, "
                  "dy − that, · a)", ("np.add, np.subtract, np.multiply", _dx_rest)),
        ])
    return Bound(
        target="BatchNorm2d train fwd+bwd N=32 16² C=64",
        least="statistics in one read each, y and dx each written once, backward's two sums",
        combine="sum",
        parts=own([
            pass_("Σx", ("GEMV 1ᵀ·x", lambda i, xs, d, o, ones, v, w: np.matmul(
                ones[i], xs[i], out=v)), ("np.add.reduce", lambda i, xs, d, o, ones, v, w:
                                          np.add.reduce(xs[i], axis=0, out=v))),
            pass_("Σx²", ("einsum", lambda i, xs, d, o, ones, v, w: np.einsum(
                "ij,ij->j", xs[i], xs[i], out=v))),
            pass_("y = x̂·γ + β written once (one elementwise pass)", (
                "np.multiply", lambda i, xs, d, o, ones, v, w: np.multiply(xs[i], w, out=o[i]))),
            pass_("Σdy", ("GEMV 1ᵀ·dy", lambda i, xs, d, o, ones, v, w: np.matmul(
                ones[i], d[i], out=v))),
            pass_("Σdy·x̂", ("einsum", lambda i, xs, d, o, ones, v, w: np.einsum(
                "ij,ij->j", d[i], xs[i], out=v))),
            pass_("dx written once from dy and x̂ (one elementwise pass)", (
                "np.subtract", lambda i, xs, d, o, ones, v, w: np.subtract(d[i], xs[i],
                                                                           out=o[i]))),
        ]),
        torch=torch_part("torch BatchNorm2d channels_last train forward+backward",
                         nn.BatchNorm2d(c), x.reshape(images), dy.reshape(images), repeat,
                         channels_last=True),
        context=context,
    )


def _dx_rest(i: slice, xs: np.ndarray, d: np.ndarray, o: np.ndarray, ones: np.ndarray,
             v: np.ndarray, w: np.ndarray) -> None:
    """The passes batch norm's dx takes after its first product, in place in ``o``."""
    np.add(o[i], w, out=o[i])
    np.subtract(d[i], o[i], out=o[i])
    np.multiply(o[i], w, out=o[i])


BOUNDS = (linear, conv, conv_strided, maxpool, maxpool_overlapping, softmax, batchnorm,
          se_block)


def measure(repeat: int = REPEAT) -> dict[str, Any]:
    """Every bound, as the JSON section ``parity_bounds`` of the run
    (:func:`benchmarks.report.bounds_data` reads it)."""
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    return {"method": METHOD.format(repeat=repeat, threads=THREADS), "threads": THREADS,
            "repeat": repeat, "bounds": [asdict(with_layer(bound(rng, repeat), repeat))
                                         for bound in BOUNDS]}


def with_layer(bound: Bound, repeat: int) -> Bound:
    """``bound`` with the layer itself timed beside it (:func:`layer_part`)."""
    bound.layer = layer_part(bound.target, repeat)
    return bound


def describe(record: dict[str, Any]) -> str:
    """One printed line per bound: the least work, torch, the ratio and the verdict."""
    least, ratio = report.bound_least(record), report.bound_ratio(record)
    passes = report.bound_passes_ratio(record)
    target = next((t for t in report.TARGETS if t.title == record["target"]), None)
    verdict = (report.bound_verdict(ratio, target.goal, passes)
               if target is not None and ratio is not None else "?")
    parts = " + " if record["combine"] == "sum" else " | cheaper of: "
    figures = parts.join(f"{p['name']} {report.fmt_time(p['seconds'])}"
                         + (f" ({p['flops'] / p['seconds'] / 1e9:.0f} GFLOP/s)"
                            if p.get("flops") else "") for p in record["parts"])
    goal = f"goal {target.goal_text}" if target is not None else "no such target"
    return (f"{record['target']}: least work {report.fmt_time(least)} ({figures}); "
            f"{record['torch']['name']} {report.fmt_time(record['torch']['seconds'])}: "
            f"{report.fmt_ratio(ratio)}; its passes {report.fmt_ratio(passes)}, the layer "
            f"{report.fmt_ratio(report.bound_layer_ratio(record))} -> {verdict} ({goal})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = passes.parser("bounds", __doc__)
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help=f"calls per measurement, the fastest kept (default {REPEAT})")
    args = parser.parse_args(argv)
    section = measure(max(1, args.repeat))
    passes.finish(section, section["bounds"], describe, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
