"""Run one registry case and compare every tensor, with failure messages that explain.

A case is (entry, sample config, dtype, impl, seed). :func:`run_case` builds the NumPy layer
(seeded), copies its parameters into the torch reference, runs forward and backward on both
with the same input and the same *random* upstream gradient, and compares the output, the
input gradient, every parameter gradient and every buffer.
:func:`finite_difference_case` checks the NumPy backward against central differences in
float64 without torch, and :func:`impl_agreement_case` compares two impl paths.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from parity_tests.pairing import PairInfo, Sample, case_id
from parity_tests.tolerances import (
    FD_STEP,
    FINITE_DIFFERENCE,
    GRADIENT_GUARD,
    Tolerance,
    parity_tolerance,
)

FD_MAX_COORDINATES = 96


# --------------------------------------------------------------------------- comparison
@dataclass
class Comparison:
    """The verdict on one tensor: errors, where the worst one is, and why it failed."""

    tensor: str
    ok: bool
    tolerance: Tolerance
    max_abs: float = 0.0
    max_rel: float = 0.0
    headroom: float = 0.0
    index: tuple[int, ...] | None = None
    actual_at: float | None = None
    expected_at: float | None = None
    reference_scale: float = 0.0
    shape: tuple[int, ...] = ()
    problem: str = ""

    def describe(self) -> str:
        """The numeric part of a failure message."""
        lines = [f"  tensor     {self.tensor}  shape {self.shape}"]
        if self.problem:
            lines.append(f"  problem    {self.problem}")
        if self.index is not None:
            lines.append(
                f"  max abs    {self.max_abs:.3e} at index {self.index}: "
                f"numpy {self.actual_at!r}, torch/reference {self.expected_at!r}"
            )
            lines.append(f"  max rel    {self.max_rel:.3e}")
        lines.append(
            f"  tolerance  {self.tolerance} -> headroom {self.headroom:.3g} "
            f"(worst error / allowed error; must be <= 1)"
        )
        return "\n".join(lines)


def compare(
    tensor: str,
    actual: np.ndarray | None,
    expected: np.ndarray,
    tolerance: Tolerance,
    guard: bool = False,
) -> Comparison:
    """Compare ``actual`` (NumPy) with ``expected`` (the reference) element-wise.

    Passes when shapes and dtypes agree, non-finite values sit at the same places with the
    same values, and every element is within ``atol + rtol·|expected|``. With ``guard`` the
    reference must also be far above the tolerance (see ``GRADIENT_GUARD``), so that a
    backward returning zeros could not pass.
    """
    expected = np.asarray(expected)
    result = Comparison(tensor, ok=False, tolerance=tolerance, shape=tuple(expected.shape))
    if actual is None:
        result.problem = "the NumPy layer produced no such tensor"
        return result
    actual = np.asarray(actual)
    if actual.shape != expected.shape:
        result.problem = f"shape {actual.shape} != reference shape {expected.shape}"
        return result
    if actual.dtype != expected.dtype:
        result.problem = f"dtype {actual.dtype} != reference dtype {expected.dtype}"
        return result
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    if expected.size:
        result.reference_scale = float(np.max(np.abs(e[finite]), initial=0.0))
    if np.isnan(a).any() or np.isnan(e).any():
        where_nan = np.argwhere(np.isnan(a) | np.isnan(e))[0]
        result.problem = (
            f"NaN in the {'numpy' if np.isnan(a).any() else 'reference'} values "
            f"(first at index {tuple(int(i) for i in where_nan)})"
        )
        result.headroom = float("inf")
        return result
    bad_inf = ~finite & (a != e)
    if bad_inf.any():
        index = tuple(int(i) for i in np.argwhere(bad_inf)[0])
        result.problem = f"infinities differ (first at {index}: {a[index]} vs {e[index]})"
        result.headroom = float("inf")
        return result
    with np.errstate(invalid="ignore"):
        error = np.where(finite, np.abs(a - e), 0.0)
    if error.size:
        ratio = error / tolerance.allowed(np.where(finite, e, 0.0))
        worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        result.headroom = float(ratio[worst])
        result.max_abs = float(error.max())
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(error == 0, 0.0, error / np.abs(e))
        result.max_rel = float(np.max(relative))
        result.index = tuple(int(i) for i in worst)
        result.actual_at = float(a[worst])
        result.expected_at = float(e[worst])
    result.ok = result.headroom <= 1.0
    if result.ok and guard and result.reference_scale < GRADIENT_GUARD * tolerance.atol:
        result.ok = False
        result.problem = (
            f"guard: the reference gradient's largest entry {result.reference_scale:.2e} is "
            f"below {GRADIENT_GUARD:g} x atol, so this comparison could not catch a wrong "
            f"backward; change the sample config"
        )
    return result


# --------------------------------------------------------------------------- cases
def case_rng(seed: int, key: str) -> np.random.Generator:
    """A generator per case: the same seed and case always draw the same numbers."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def repro_command(
    entry: PairInfo, sample: Sample, dtype: np.dtype, impl: str | None, seed: int
) -> str:
    impl_part = f" --impl {impl}" if impl else ""
    return (
        f"parity check --layer {entry.name} --config {sample.name} "
        f"--dtype {np.dtype(dtype).name}{impl_part} --seed {seed}"
    )


@dataclass
class CaseResult:
    """All comparisons of one case, and the context a failure message needs."""

    kind: str
    entry: PairInfo
    sample: Sample
    dtype: np.dtype
    impl: str | None
    seed: int
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def id(self) -> str:
        return case_id(self.entry, self.sample, self.dtype, self.impl)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    @property
    def headroom(self) -> float:
        return max((c.headroom for c in self.comparisons), default=0.0)

    def get(self, tensor: str) -> Comparison:
        for comparison in self.comparisons:
            if comparison.tensor == tensor:
                return comparison
        raise KeyError(f"{self.id}: no comparison for {tensor!r}; "
                       f"have {[c.tensor for c in self.comparisons]}")

    def message(self, comparison: Comparison) -> str:
        """A failure message: layer, config, dtype, tensor, errors, where, tolerance, repro."""
        impl = f" (impl={self.impl})" if self.impl else ""
        repro = repro_command(self.entry, self.sample, self.dtype, self.impl, self.seed)
        return "\n".join(
            [
                f"{self.kind} mismatch in {self.id}: {comparison.tensor}",
                f"  layer      {self.entry.name}{impl}",
                f"  config     {self.sample.name} input shape {self.sample.shape} "
                f"kwargs {dict(self.sample.kwargs)}"
                + ("" if self.sample.training else " eval mode"),
                f"  dtype      {np.dtype(self.dtype).name}",
                comparison.describe(),
                f"  seed       {self.seed}",
                f"  repro      {repro}",
                f"  or         PARITY_SEED={self.seed} pytest parity_tests -k '{self.id}'",
            ]
        )

    def assert_ok(self, tensor: str | None = None) -> None:
        """Raise ``AssertionError`` with the full message for the first failing tensor (or
        for ``tensor`` only; NumPy warnings are reported whichever tensor is asked for)."""
        warned = [c for c in self.comparisons if c.tensor == "warnings"]
        chosen = self.comparisons if tensor is None else [*warned, self.get(tensor)]
        for comparison in chosen:
            if not comparison.ok:
                raise AssertionError(self.message(comparison))


@dataclass
class Prepared:
    """A built NumPy layer with its input (and target), before anything has run."""

    layer: Any
    x: np.ndarray
    target: np.ndarray | None
    rng: np.random.Generator
    warmup: list[np.ndarray]


def prepare(
    entry: PairInfo, sample: Sample, dtype: np.dtype, impl: str | None, seed: int
) -> Prepared:
    """Build the layer and draw its input; identical for every impl of the same case."""
    rng = case_rng(seed, case_id(entry, sample, dtype, None))
    layer = entry.build(sample, np.dtype(dtype), rng, impl)
    if not entry.is_loss:
        layer.train(sample.training)
    for value in layer.params.values():
        # A constant parameter (zero bias, unit scale) cannot reveal a backward or forward
        # that drops or swaps it, so spread it out.
        if value.size and np.all(value == value.flat[0]):
            value += rng.standard_normal(value.shape).astype(value.dtype) * 0.5
    warmup = [sample.make_input(rng, sample.shape, np.dtype(dtype))
              for _ in range(sample.steps - 1)]
    x = sample.make_input(rng, sample.shape, np.dtype(dtype))
    target = sample.make_target(rng, x) if sample.make_target else None
    return Prepared(layer, x, target, rng, warmup)


@dataclass
class NumpyRun:
    """What the NumPy side produced: every tensor, the upstream gradient, any warnings."""

    tensors: dict[str, np.ndarray]
    upstream: Any
    warnings: list[str]

    def warning_comparisons(self, tolerance: Tolerance) -> list[Comparison]:
        """A failed comparison per NumPy warning: overflow or 0/0 from valid input is a bug."""
        return [Comparison("warnings", ok=False, tolerance=tolerance, headroom=float("inf"),
                           problem=f"numpy warned: {text}") for text in self.warnings]


def run_numpy(entry: PairInfo, prepared: Prepared) -> NumpyRun:
    """Forward and backward on the NumPy side, recording RuntimeWarnings instead of raising."""
    layer, x, rng = prepared.layer, prepared.x, prepared.rng
    tensors: dict[str, np.ndarray] = {}
    upstream: Any = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        if entry.is_loss:
            loss = layer.forward(x, prepared.target)
            tensors["output"] = np.asarray(loss, dtype=x.dtype)
            tensors["input_grad"] = layer.backward()
        else:
            for earlier in prepared.warmup:
                layer.forward(earlier)
            y = layer.forward(x)
            tensors["output"] = y
            upstream = rng.standard_normal(y.shape).astype(y.dtype)
            tensors["input_grad"] = layer.backward(upstream)
            for name in layer.params:
                tensors[f"grad[{name}]"] = layer.grads.get(name)
            for name, value in layer.buffers.items():
                tensors[f"buffer[{name}]"] = value.copy()
    texts = [f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})"
             for w in caught if issubclass(w.category, RuntimeWarning)]
    return NumpyRun(tensors, upstream, texts)


def run_torch(entry: PairInfo, prepared: Prepared, reference: Any, upstream: Any) -> dict:
    """Forward and autograd backward on the torch side, in the NumPy layouts."""
    x = torch.from_numpy(prepared.x.copy()).requires_grad_(True)
    with torch.no_grad():
        for earlier in prepared.warmup:
            reference(torch.from_numpy(earlier.copy()))
    inputs = [x]
    if prepared.target is not None:
        inputs.append(torch.from_numpy(prepared.target.copy()))
    y = reference(*inputs)
    if upstream is None:
        y.backward()
    else:
        y.backward(torch.from_numpy(upstream))
    tensors = {
        "output": y.detach().numpy(),
        "input_grad": x.grad.numpy() if x.grad is not None else np.zeros_like(prepared.x),
    }
    for name, link in reference.params.items():
        grad = link.grad()
        tensors[f"grad[{name}]"] = grad if grad is not None else np.zeros_like(link.value())
    for name, link in reference.buffers.items():
        tensors[f"buffer[{name}]"] = link.value()
    return tensors


def _compare_all(
    actual: dict[str, np.ndarray],
    expected: dict[str, np.ndarray],
    tolerance: Tolerance,
    guard: bool,
) -> Iterator[Comparison]:
    for name, value in expected.items():
        is_gradient = name == "input_grad" or name.startswith("grad[")
        yield compare(name, actual.get(name), value, tolerance, guard=guard and is_gradient)


def run_case(
    entry: PairInfo, sample: Sample, dtype: np.dtype, impl: str | None = None, seed: int = 0
) -> CaseResult:
    """NumPy vs torch for one case: output, input gradient, parameter gradients, buffers."""
    prepared = prepare(entry, sample, dtype, impl, seed)
    reference = entry.torch_factory(prepared.layer)  # before NumPy runs: buffers still fresh
    actual = run_numpy(entry, prepared)
    expected = run_torch(entry, prepared, reference, actual.upstream)
    tolerance = parity_tolerance(dtype, entry.tolerances)
    result = CaseResult("parity", entry, sample, np.dtype(dtype), impl, seed)
    result.comparisons = actual.warning_comparisons(tolerance)
    result.comparisons += _compare_all(actual.tensors, expected, tolerance, sample.guard)
    return result


def impl_agreement_case(
    entry: PairInfo, sample: Sample, dtype: np.dtype, impls: tuple[str, str], seed: int = 0
) -> CaseResult:
    """The first impl path (``loop``) against the second (``vectorized``), every tensor."""
    first, second = (run_numpy(entry, prepare(entry, sample, dtype, impl, seed))
                     for impl in impls)
    tolerance = parity_tolerance(dtype, entry.tolerances)
    result = CaseResult(f"{impls[0]}-vs-{impls[1]}", entry, sample, np.dtype(dtype),
                        impls[0], seed)
    result.comparisons = first.warning_comparisons(tolerance)
    result.comparisons += second.warning_comparisons(tolerance)
    result.comparisons += _compare_all(first.tensors, second.tensors, tolerance, sample.guard)
    return result


# --------------------------------------------------------------------------- finite differences
def _coordinates(rng: np.random.Generator, analytic: np.ndarray) -> np.ndarray:
    """Flat indices to probe: all of them for small tensors, else a random subset plus the
    largest analytic entry."""
    if analytic.size <= FD_MAX_COORDINATES:
        return np.arange(analytic.size)
    chosen = rng.choice(analytic.size, size=FD_MAX_COORDINATES - 1, replace=False)
    return np.unique(np.append(chosen, int(np.argmax(np.abs(analytic)))))


def finite_difference_case(
    entry: PairInfo, sample: Sample, impl: str | None = None, seed: int = 0
) -> CaseResult:
    """The NumPy backward against central differences, in float64, without torch.

    The scalar probed is f = Σ upstream ⊙ layer(x) (the loss itself for losses), so
    ∂f/∂θ_i ≈ (f(θ + h e_i) − f(θ − h e_i)) / 2h must match the backward's gradient for
    the input and every parameter.
    """
    dtype = np.dtype(np.float64)
    prepared = prepare(entry, sample, dtype, impl, seed)
    run = run_numpy(entry, prepared)
    analytic, upstream = run.tensors, run.upstream
    layer = prepared.layer

    def scalar() -> float:
        if entry.is_loss:
            return float(layer.forward(prepared.x, prepared.target))
        return float(np.sum(layer.forward(prepared.x) * upstream))

    probes = {"input_grad": prepared.x}
    probes.update({f"grad[{name}]": value for name, value in layer.params.items()})
    result = CaseResult("finite-difference", entry, sample, dtype, impl, seed)
    result.comparisons = run.warning_comparisons(FINITE_DIFFERENCE)
    for name, array in probes.items():
        grad = analytic.get(name)
        if grad is None:
            result.comparisons.append(compare(name, None, array, FINITE_DIFFERENCE))
            continue
        flat = array.reshape(-1)  # a view: perturbing it perturbs the layer's own array
        assert np.shares_memory(flat, array), f"{name} is not contiguous"
        indices = _coordinates(prepared.rng, grad)
        numeric = np.empty(indices.size)
        for k, i in enumerate(indices):
            original = flat[i]
            flat[i] = original + FD_STEP
            f_plus = scalar()
            flat[i] = original - FD_STEP
            f_minus = scalar()
            flat[i] = original
            numeric[k] = (f_plus - f_minus) / (2 * FD_STEP)
        comparison = compare(name, grad.reshape(-1)[indices], numeric, FINITE_DIFFERENCE,
                             guard=sample.guard)
        comparison.shape = grad.shape
        if comparison.index is not None:
            comparison.index = tuple(
                int(i) for i in np.unravel_index(indices[comparison.index[0]], grad.shape)
            )
        result.comparisons.append(comparison)
    return result
