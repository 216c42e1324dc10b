"""What every benchmark suite shares: cases, variants, the check-before-time step, FLOPs.

A :class:`BenchCase` is one layer × size × dtype × step (``fwd``, ``bwd`` or ``fwd+bwd``): one
pytest-benchmark group. Its variants are

- ``loop`` and ``vectorized``: the NumPy layer's two paths (``vectorized`` is the only
  path of a layer that has just one);
- ``torch``: the stock torch module in NCHW, and ``torch_cl``: the same in
  ``channels_last``, torch's fast CPU layout (images only);
- ``peer``: the same work in a maintained NumPy deep-learning library (mygrad, see
  :mod:`benchmarks.peer`), skipped with the reason where it is not installed or has no
  such op.

:func:`run_benchmark` builds one variant, CHECKS it once against the project's torch
reference (:mod:`torch_ref`), run by the harness's engine (:mod:`parity_tests.engine`) and
compared by :func:`parity_tests.compare.compare_all` at the parity tolerances — output,
input gradient, every parameter gradient and buffer — and only then times it, so a fast
wrong answer never reaches the report. Loop paths that would take minutes run on the first
``loop_keep`` rows/images; the time is scaled linearly and the factor goes into
``extra_info`` (the report says "scaled from 64 of 4096 rows").
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks import peer
from numpy_impl.base import Layer
from parity_tests.compare import Comparison, compare_all
from parity_tests.engine import Built, Upstream, run_numpy, run_torch, spread_constant_params
from parity_tests.seeding import DEFAULT_SEED, case_rng
from parity_tests.tolerances import Tolerance, parity_tolerance
from torch_ref.base import Reference

VARIANTS = ("loop", "vectorized", "torch", "torch_cl", "peer")
NUMPY_VARIANTS = ("loop", "vectorized")
TORCH_VARIANTS = ("torch", "torch_cl")
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Subset:
    """The loop path timed on the first ``keep`` of ``total`` rows/images, scaled linearly."""

    keep: int
    total: int
    unit: str

    @property
    def scale(self) -> float:
        return self.total / self.keep

    def describe(self) -> str:
        return f"scaled from {self.keep} of {self.total} {self.unit}"


@dataclass
class BenchCase:
    """One benchmark group: a layer at one size, dtype and step, and how to build each side.

    ``build(impl, dtype, rng)`` makes the NumPy layer (``impl`` None for single-path layers);
    ``reference(layer)`` is the project's torch reference (NumPy layouts in and out), used
    for the check; its ``module`` is the stock NCHW torch module with the layer's weights
    copied in, the thing that is timed. ``flops(n)`` is the useful floating-point
    work of one timed call on ``n`` rows/images (conv and linear only).
    """

    layer: str
    step: str
    size: str
    label: str
    dtype: np.dtype
    shape: tuple[int, ...]
    build: Callable[[str | None, np.dtype, np.random.Generator], Layer]
    reference: Callable[[Layer], Reference]
    variants: tuple[str, ...]
    flops: Callable[[int], float] | None = None
    loop_keep: int | None = None
    unit: str = "images"
    #: How many positions each parameter gradient sums over (N for linear, N·OH·OW for a
    #: conv, N·H·W for batch norm and the blocks): sets the float32 check slack below.
    sum_terms: int | None = None
    #: The same for the OUTPUT, where a deep block's convolutions accumulate in sequence.
    output_terms: int | None = None
    #: ReLUs deep inside (the SE-ResNet block): see :func:`compare_kinked`.
    relu_kinks: bool = False
    notes: dict[str, str] = field(default_factory=dict)
    #: Measured by ``parity bench``'s memory pass only, never timed (too slow to time every
    #: run); ``benchmarks/conftest.py`` deselects it everywhere else.
    memory_only: bool = False

    def __repr__(self) -> str:  # what pytest-benchmark writes into the JSON's params
        return f"BenchCase({self.group!r})"

    @property
    def images(self) -> bool:
        return len(self.shape) == 4

    @property
    def group(self) -> str:
        return f"{self.layer} {self.step} | {self.label} | {self.dtype.name}"

    @property
    def id(self) -> str:
        return f"{self.layer}-{self.step}-{self.size}-{self.dtype.name}"

    def subset(self, variant: str) -> Subset | None:
        if variant == "loop" and self.loop_keep is not None and self.loop_keep < self.shape[0]:
            return Subset(self.loop_keep, self.shape[0], self.unit)
        return None

    def tolerance(self, tensor: str, expected: np.ndarray) -> Tolerance:
        """The parity tolerance, except float32 parameter gradients summed over many
        positions (see :func:`summed_gradient_tolerance`)."""
        base = parity_tolerance(self.dtype, None)
        if self.dtype != np.float32 or not expected.size:
            return base
        if self.sum_terms and tensor.startswith("grad["):
            return summed_gradient_tolerance(base, self.sum_terms, expected)
        if self.output_terms and tensor == "output":
            return summed_gradient_tolerance(base, self.output_terms, expected, "output")
        return base

    def rng(self, purpose: str) -> np.random.Generator:
        return case_rng(DEFAULT_SEED, f"{self.group}|{purpose}")


#: Slack factor on the expected float32 rounding of a length-M sum, √M·ε·max|ref|.
SUM_SLACK = 4.0


def summed_gradient_tolerance(
    base: Tolerance, terms: int, expected: np.ndarray, what: str = "gradient",
) -> Tolerance:
    """The float32 check tolerance of a parameter gradient that sums ``terms`` products.

    The registry's parity cases are small; at benchmark sizes a weight or bias gradient sums
    up to N·OH·OW = 25,088 float32 products, and summation order (BLAS blocking vs oneDNN)
    alone moves the result by ~√M·ε·max|ref| (observed: 3e-3 on a max of 590, i.e. 60×
    over the 1.3e-6 rtol). So atol = 4·√M·ε₃₂·max|ref|: ~2e-5 relative to the tensor's
    largest entry at M = 25,088, still far below any real backward bug (O(1) relative).
    """
    scale = float(np.max(np.abs(expected)))
    eps = float(np.finfo(np.float32).eps)
    factor = max(1.0, SUM_SLACK * np.sqrt(terms) * eps * scale / base.atol)
    return base.widened(factor, f"float32 {what} summed over M={terms} terms: "
                                f"atol = {SUM_SLACK:g}·√M·ε·max|ref|")


#: Largest relative L2 error ‖a − e‖ / ‖e‖ allowed for a float32 gradient through ReLU kinks.
KINK_REL_L2 = 1e-2
KINK_REASON = ("float32 gradient through ReLU kinks: relative L2 error; the elementwise "
               "check runs in float64 on the same code path")


#: The float32 gradient check of a block with ReLUs inside (see :data:`KINKED`).
KINKED = Tolerance(rtol=KINK_REL_L2, atol=0.0, reason=KINK_REASON, norm="l2")
"""A float32 gradient of a block with ReLUs inside is compared in relative L2 norm.

At benchmark sizes (half a million activations) a few pre-activations always lie within
float32 rounding of 0, and NumPy, torch's native and torch's oneDNN kernels each round them
to their own side: the gradient of those elements flips between 0 and dy, moving the input
gradient by O(1) at a handful of elements and every parameter gradient by ~1 %. No
elementwise tolerance separates that from a bug, so for these tensors the float32 check asks
‖a − e‖ / ‖e‖ ≤ 1e-2 (observed 2–3e-3, one or two flips), and :func:`prepare_numpy` adds the
elementwise check of the same code path in float64, where nothing flips, at the full parity
tolerance.
"""


def params(cases: list[BenchCase]) -> list[Any]:
    """``pytest.mark.parametrize`` values (case, variant) with readable ids."""
    import pytest

    return [pytest.param(case, variant, id=f"{case.id}-{variant}")
            for case in cases for variant in case.variants]


# --------------------------------------------------------------------------- data
@dataclass
class TimedVariant:
    """A variant ready to time: ``run`` is the timed call, ``comparisons`` what its check
    found, ``subset`` whether the loop ran on part of the batch, ``n`` the rows it ran on."""

    run: Callable[..., object]
    comparisons: list[Comparison]
    subset: Subset | None
    n: int
    #: Untimed set-up before each round, returning ``run``'s (args, kwargs) (the peer's
    #: backward alone needs a fresh forward graph each time).
    setup: Callable[[], tuple[tuple, dict]] | None = None


def make_layer(case: BenchCase, variant: str) -> Layer:
    impl = variant if variant in NUMPY_VARIANTS else "vectorized"
    layer = case.build(impl, case.dtype, case.rng("weights"))
    spread_constant_params(layer, case.rng("spread"))
    return layer


def make_input(case: BenchCase, subset: Subset | None) -> np.ndarray:
    x = case.rng("input").standard_normal(case.shape).astype(case.dtype)
    return np.ascontiguousarray(x[: subset.keep]) if subset else x


def make_upstream(case: BenchCase, out_shape: tuple[int, ...]) -> np.ndarray:
    """The random upstream gradient for the FULL batch, cut to ``out_shape``'s batch: the
    loop's subset sees the first rows of the very gradient the other variants see."""
    full = (case.shape[0], *out_shape[1:])
    dy = case.rng("upstream").standard_normal(full).astype(case.dtype)
    return np.ascontiguousarray(dy[: out_shape[0]])


def to_torch(array: np.ndarray, images: bool, channels_last: bool = False) -> torch.Tensor:
    """A fresh leaf tensor: NHWC → NCHW (contiguous or channels_last) for images."""
    tensor = torch.from_numpy(array)
    if not images:
        return tensor.clone()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return tensor.permute(0, 3, 1, 2).clone(memory_format=fmt)


def to_numpy(tensor: torch.Tensor, images: bool) -> np.ndarray:
    tensor = tensor.detach()
    if images and tensor.dim() == 4:
        tensor = tensor.permute(0, 2, 3, 1)
    return tensor.contiguous().numpy()


# --------------------------------------------------------------------------- check
def tolerance_for(case: BenchCase) -> Callable[[str, np.ndarray], Tolerance]:
    """The check tolerance per tensor: :meth:`BenchCase.tolerance`, or :data:`KINKED` for
    float32 gradients through ReLU kinks."""

    def choose(tensor: str, expected: np.ndarray) -> Tolerance:
        gradient = tensor == "input_grad" or tensor.startswith("grad[")
        if gradient and case.relu_kinks and case.dtype == np.float32:
            return KINKED
        return case.tolerance(tensor, expected)

    return choose


def compare_checked(actual: dict[str, Any], expected: dict[str, Any],
                    tolerance: Callable[[str, np.ndarray], Tolerance]) -> list[Comparison]:
    """:func:`parity_tests.compare.compare_all` with gradients guarded, and the dtype
    enforced: the harness reports a dtype mismatch as its own check, but a benchmark must
    time the dtype it was asked for (an upcast float32 path is not a float32 timing)."""
    comparisons = compare_all(actual, expected, tolerance, True)
    for comparison in comparisons:
        got, want = actual.get(comparison.tensor), expected.get(comparison.tensor)
        if got is None or want is None:
            continue
        got_dtype, want_dtype = np.asarray(got).dtype, np.asarray(want).dtype
        if got_dtype != want_dtype:
            problem = f"dtype {got_dtype} != torch dtype {want_dtype}: not the dtype timed"
            comparison.problem = (f"{problem}; {comparison.problem}" if comparison.problem
                                  else problem)
            comparison.ok = False
    return comparisons


def check_variant(case: BenchCase, layer: Layer, x: np.ndarray, numpy_side: bool
                  ) -> tuple[dict[str, np.ndarray], list[Comparison], np.ndarray | None]:
    """The torch reference's tensors for ``layer`` on ``x`` (run by the harness's engine,
    with the benchmark's upstream gradient), for a NumPy variant the NumPy run's comparisons
    against them, and the upstream gradient used. Raises if either side raised."""
    backward = case.step != "fwd"
    reference = case.reference(layer)  # before NumPy runs: buffers still fresh
    built = Built(layer, x, None, case.rng("unused"), [])
    upstream: Upstream = partial(make_upstream, case)
    runs = []
    if numpy_side:
        runs.append(run_numpy(built, upstream, backward=backward))
        upstream = runs[0].upstream
    runs.append(run_torch(built, reference, upstream, backward=backward))
    for run in runs:
        if run.error is not None:
            raise AssertionError(f"{case.group}: {run.error}\n{run.error.traceback}")
    expected = runs[-1].tensors
    comparisons = (compare_checked(runs[0].tensors, expected, tolerance_for(case))
                   if numpy_side else [])
    return expected, comparisons, runs[-1].upstream


def assert_checked(case: BenchCase, variant: str, comparisons: list[Comparison]) -> None:
    failing = [c for c in comparisons if not c.ok]
    if failing:
        details = "\n".join(c.describe() for c in failing)
        raise AssertionError(
            f"{case.group} [{variant}] disagrees with the torch reference; not timing it\n"
            f"{details}"
        )


def prepare_numpy(case: BenchCase, variant: str) -> TimedVariant:
    """Build the NumPy variant, run it once against the torch reference, return the timed
    call (which reuses the checked layer and data)."""
    subset = case.subset(variant)
    layer, x = make_layer(case, variant), make_input(case, subset)
    _, comparisons, dy = check_variant(case, layer, x, numpy_side=True)
    if case.relu_kinks and case.dtype == np.float32:
        # The elementwise witness of this code path (see KINKED): float64.
        twin = replace(case, dtype=np.dtype(np.float64))
        for comparison in check_variant(twin, make_layer(twin, variant),
                                        make_input(twin, subset), numpy_side=True)[1]:
            comparison.tensor = f"float64 {comparison.tensor}"
            comparisons.append(comparison)
    assert_checked(case, variant, comparisons)
    return TimedVariant(numpy_runner(layer, x, dy, case.step), comparisons, subset, x.shape[0])


def numpy_runner(layer: Layer, x: np.ndarray, dy: np.ndarray | None, step: str
                 ) -> Callable[[], object]:
    """The timed NumPy call: ``fwd``; ``bwd`` alone on the cache of the last forward;
    ``fwd+bwd``."""
    if step == "fwd":
        def forward() -> object:
            return layer.forward(x)
        return forward
    if step == "bwd":
        # The layer keeps the cache of the last forward pass: time the backward alone.
        def backward() -> object:
            return layer.backward(dy)
        return backward

    def forward_backward() -> object:
        layer.forward(x)
        return layer.backward(dy)
    return forward_backward


def torch_runner(
    module: nn.Module, x_t: torch.Tensor, dy_t: torch.Tensor | None, step: str,
) -> Callable[[], tuple[torch.Tensor, torch.Tensor | None]]:
    """The timed torch call: ``fwd`` under ``no_grad``; ``bwd`` autograd of a kept graph
    (``retain_graph``); ``fwd+bwd`` forward then ``backward`` with fresh ``.grad``s."""
    weights = [p for p in module.parameters() if p.requires_grad]
    if step == "fwd":
        def forward() -> tuple[torch.Tensor, None]:
            with torch.no_grad():
                return module(x_t), None
        return forward
    x_t.requires_grad_(True)
    if step == "bwd":
        y = module(x_t)

        def backward() -> tuple[torch.Tensor, torch.Tensor]:
            grads = torch.autograd.grad(y, [x_t, *weights], dy_t, retain_graph=True)
            return y, grads[0]
        return backward

    def forward_backward() -> tuple[torch.Tensor, torch.Tensor | None]:
        x_t.grad = None
        for weight in weights:
            weight.grad = None
        y = module(x_t)
        y.backward(dy_t)
        return y, x_t.grad
    return forward_backward


def prepare_torch(case: BenchCase, variant: str) -> TimedVariant:
    """The reference's own stock torch module (NCHW or channels_last), checked against the
    reference's NHWC run (so a layout slip in the timed call cannot pass), and its timed
    call."""
    layer = make_layer(case, variant)
    x = make_input(case, None)
    expected, _, dy = check_variant(case, layer, x, numpy_side=False)
    channels_last = variant == "torch_cl"
    run = torch_call(case, variant, layer, x, dy, case.step)
    y, dx = run()
    if channels_last:
        assert y.is_contiguous(memory_format=torch.channels_last), (
            f"{case.group}: torch_cl output is not channels_last")
    tensors = {"output": to_numpy(y, case.images)}
    if dx is not None:
        tensors["input_grad"] = to_numpy(dx, case.images)
    wanted = {k: v for k, v in expected.items() if k in ("output", "input_grad")}
    comparisons = compare_checked(tensors, wanted, tolerance_for(case))
    assert_checked(case, variant, comparisons)
    return TimedVariant(run, comparisons, None, x.shape[0])


def torch_call(case: BenchCase, variant: str, layer: Layer, x: np.ndarray,
               dy: np.ndarray | None, step: str
               ) -> Callable[[], tuple[torch.Tensor, torch.Tensor | None]]:
    """The stock torch module of ``case.reference(layer)`` (``channels_last`` for
    ``torch_cl``) on copies of ``x`` and ``dy`` in its layout, as :func:`torch_runner`."""
    module = case.reference(layer).module
    channels_last = variant == "torch_cl"
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    x_t = to_torch(x, case.images, channels_last)
    dy_t = to_torch(dy, case.images, channels_last) if dy is not None else None
    return torch_runner(module, x_t, dy_t, step)


def peer_call(case: BenchCase, layer: Layer, x: np.ndarray, dy: np.ndarray | None,
              step: str) -> peer.PeerCall:
    """The peer's calls (:func:`benchmarks.peer.build`), forward only for ``fwd``."""
    return peer.build(case.layer, layer, x, None if step == "fwd" else dy, case.images)


def prepare_peer(case: BenchCase, variant: str) -> TimedVariant:
    """The peer library's call, checked against the torch reference (output, input
    gradient, parameter gradients; not buffers, see :mod:`benchmarks.peer`) before it is
    timed; ``pytest.skip`` with the reason when the peer is missing or lacks the op."""
    import pytest

    layer = make_layer(case, "vectorized")
    reason = peer.skip_reason(case.layer, layer)
    if reason is not None:
        pytest.skip(reason)
    x = make_input(case, None)
    expected, _, dy = check_variant(case, layer, x, numpy_side=False)
    call = peer_call(case, layer, x, dy, case.step)
    found = call.tensors(call.run())
    wanted = {k: v for k, v in expected.items() if not k.startswith("buffer[")}
    comparisons = compare_checked(found, wanted, tolerance_for(case))
    assert_checked(case, variant, comparisons)
    if case.step == "bwd":  # the backward alone, each round on a fresh (untimed) forward
        return TimedVariant(call.backward, comparisons, None, x.shape[0],
                            setup=lambda: ((call.forward(),), {}))
    return TimedVariant(call.run, comparisons, None, x.shape[0])


PREPARE = {"loop": prepare_numpy, "vectorized": prepare_numpy, "torch": prepare_torch,
           "torch_cl": prepare_torch, "peer": prepare_peer}


#: With timing disabled (``make test`` runs every benchmark once so none can rot), a case
#: runs on at most this many images (rows: SMOKE_ROWS): the same code paths, checked against
#: torch the same way, in a fraction of the time. ``parity bench`` always runs full sizes.
SMOKE_IMAGES = 2
SMOKE_ROWS = 64


def smoke(case: BenchCase) -> BenchCase:
    """``case`` cut to a few images or rows (and no loop subset: the loop runs them all)."""
    keep = SMOKE_IMAGES if case.images else SMOKE_ROWS
    if case.shape[0] <= keep:
        return case
    return replace(case, shape=(keep, *case.shape[1:]), loop_keep=None)


def run_benchmark(benchmark: Any, case: BenchCase, variant: str) -> None:
    """Check the variant, label it (group, extra_info), then time it (with timing disabled:
    once, on the :func:`smoke` size)."""
    if getattr(benchmark, "disabled", False):
        case = smoke(case)
    prepared = PREPARE[variant](case, variant)
    benchmark.group = case.group
    info = benchmark.extra_info
    info.update(
        layer=case.layer, step=case.step, size=case.size, label=case.label,
        dtype=case.dtype.name, variant=variant, scale=1.0, subset=None,
        check_headroom=max((c.headroom for c in prepared.comparisons), default=0.0),
        checked=[c.tensor for c in prepared.comparisons],
        check_tolerance=str(parity_tolerance(case.dtype, None)),
    )
    base = parity_tolerance(case.dtype, None)
    loosened = {
        c.tensor: f"{c.tolerance} ({c.tolerance.reason})"
        for c in prepared.comparisons
        if c.tolerance is not None and c.tolerance != base
        and not c.tensor.startswith("float64 ")
    }
    if loosened:
        info["check_loosened"] = loosened
    if prepared.subset is not None:
        info["scale"] = prepared.subset.scale
        info["subset"] = prepared.subset.describe()
    if case.flops is not None:
        info["flops"] = float(case.flops(prepared.n))
    info.update(case.notes)
    if prepared.setup is None:
        benchmark(prepared.run)
        return
    # pytest-benchmark's calibration cannot run a set-up: as many rounds as --max-time
    # allows for one call, at least --min-rounds.
    args, kwargs = prepared.setup()
    start = time.perf_counter()
    prepared.run(*args, **kwargs)
    once = max(time.perf_counter() - start, 1e-9)
    max_time = float(getattr(benchmark, "_max_time", 1.0))
    rounds = max(int(getattr(benchmark, "_min_rounds", 5)), min(100_000, ceil(max_time / once)))
    benchmark.pedantic(prepared.run, setup=prepared.setup, rounds=rounds, warmup_rounds=1)


# --------------------------------------------------------------------------- FLOPs
def conv_flops(
    n: int, out_hw: tuple[int, int], kernel: tuple[int, int], c_in: int, c_out: int, step: str,
) -> float:
    """2·N·OH·OW·kh·kw·C_in·C_out multiply-adds forward; backward (dW and dX) is twice that."""
    forward = 2.0 * n * out_hw[0] * out_hw[1] * kernel[0] * kernel[1] * c_in * c_out
    return forward * {"fwd": 1, "bwd": 2, "fwd+bwd": 3}[step]


def linear_flops(n: int, f_in: int, f_out: int, step: str) -> float:
    forward = 2.0 * n * f_in * f_out
    return forward * {"fwd": 1, "bwd": 2, "fwd+bwd": 3}[step]


# --------------------------------------------------------------------------- environment
def cpu_model() -> str:
    """The CPU's name, family and model, and the widest vector extension NumPy dispatches
    to, e.g. "AMD EPYC (family 25, model 17, AVX-512)". Hosts that share a name can differ
    in kind: NumPy's exp and OpenBLAS's kernels run ~1.3x faster with AVX-512 than with
    AVX2 (measured on two "AMD EPYC" hosts), so the report and --compare name both."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    kind = [f"{label} {fields[key]}" for key, label in (("cpu family", "family"),
                                                        ("model", "model")) if key in fields]
    return f"{name} ({', '.join([*kind, simd_extension()]) if kind else simd_extension()})"


def simd_extension() -> str:
    """The widest SIMD extension NumPy found on this CPU (its runtime dispatch)."""
    core = getattr(np, "_core", None) or np.core  # NumPy 2 renamed np.core
    features = getattr(core._multiarray_umath, "__cpu_features__", {})
    for feature, label in (("AVX512F", "AVX-512"), ("AVX2", "AVX2"), ("SVE", "SVE"),
                           ("ASIMD", "NEON"), ("SSE42", "SSE4.2")):
        if features.get(feature):
            return label
    return "SIMD unknown"


ROOT = Path(__file__).resolve().parent.parent


def git_commit(where: Path = ROOT) -> str:
    """``git rev-parse --short HEAD`` in ``where``; "unknown" outside a checkout (or
    without git)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else "unknown"


#: Variables that choose the BLAS or NumPy kernels rather than the CPU detecting them. Some
#: machines set OPENBLAS_CORETYPE (older OpenBLAS builds misdetect their CPU): it then pins
#: every GEMM to that kernel, e.g. Haswell's AVX2 on an AVX-512 CPU, half its peak.
KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_ENABLE_INSTRUCTIONS",
               "MKL_DEBUG_CPU_TYPE", "NPY_DISABLE_CPU_FEATURES")


def environment_info(threads: int) -> dict[str, Any]:
    """Machine, versions, BLAS pools, thread settings, the commit and the peer library, for
    the report."""
    from threadpoolctl import threadpool_info

    pools = [
        {key: pool.get(key) for key in ("user_api", "internal_api", "version", "num_threads",
                                        "threading_layer", "architecture", "filepath")}
        for pool in threadpool_info()
    ]
    return {
        "threads": threads,
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_mkldnn": bool(torch.backends.mkldnn.is_available()),
        "threadpools": pools,
        "commit": git_commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "peer": peer.info(),
        "env": {k: v for k, v in os.environ.items()
                if k.endswith(("_NUM_THREADS", "_MAXIMUM_THREADS")) or k == "PARITY_BENCH_THREADS"},
        "kernel_env": {k: os.environ[k] for k in KERNEL_VARS if k in os.environ},
    }
