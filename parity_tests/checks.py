"""Every check of the harness, each a named function of a case, and the one selection rule.

A check takes a :class:`~parity_tests.registry.Case` (or, for ``bad-input``, an
:class:`~parity_tests.registry.ErrorCase`), a seed and an optional
:class:`~parity_tests.engine.RunCache`, and returns a :class:`CheckResult`: PASS, FAIL,
ERROR (something raised: the layer, the reference or the harness, with the exception and
its traceback) or SKIP (with a reason). :func:`plan` applies the selection rule (which
check applies to which case) and is what the pytest tests and ``parity check`` both
iterate, so the two can never disagree about what is checked.

| check | what it compares |
|---|---|
| ``forward`` | the NumPy output against the torch module's |
| ``input-grad`` | ``backward(dy)`` against torch autograd for the same random ``dy`` |
| ``param-grads`` | every entry of ``layer.grads`` against the torch parameter's ``.grad`` |
| ``buffers`` | running statistics against torch's buffers (after the sample's steps) |
| ``impl-agreement`` | the loop path against the vectorized path, every tensor |
| ``finite-diff`` | the float64 (vectorized) backward against central differences, no torch |
| ``dtype`` | float32 in → float32 output, gradients, parameters and buffers |
| ``warnings`` | no NumPy RuntimeWarning (overflow, 0/0) from valid input |
| ``inputs-untouched`` | forward and backward never write into ``x``, the target or ``dy`` |
| ``memory-layout`` | a non-contiguous input gives the results of a contiguous copy |
| ``cache-freshness`` | ``forward(x1); forward(x2); backward(dy)`` equals a fresh run on x2 |
| ``bad-input`` | each error input raises the documented error at its stage, named by layer |
"""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity_tests.check_names import CHECK_NAMES, CHECK_TITLES
from parity_tests.compare import EXACT, Comparison, compare, compare_all
from parity_tests.engine import (
    Built,
    CaughtError,
    ParityRun,
    RunCache,
    SideRun,
    build_case,
    is_loss,
    parity_run,
    run_numpy,
)
from parity_tests.entry import F32, Entry, Unsupported
from parity_tests.registry import BY_NAME as REGISTERED
from parity_tests.registry import Case, ErrorCase, cases, error_cases
from parity_tests.seeding import case_rng
from parity_tests.tolerances import (
    FD_DIRECTIONS,
    FD_KINK,
    FD_MAX_DIRECTION_DRAWS,
    FD_STEPS,
    FINITE_DIFFERENCE,
    fd_roundoff,
    finite_difference_slack,
    parity_tolerance,
)

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"
#: The pytest test that runs every job of one case, for repro lines (``{id}`` is the case id).
PYTEST_NODE = "parity_tests/tests/test_checks.py::test_case[{id}]"
#: The seed that draws the second input of the cache-freshness check (any fixed value).
OTHER_INPUT_SEED = 12345


# --------------------------------------------------------------------------- results
@dataclass
class CheckResult:
    """The outcome of one check on one case: its comparisons, or what raised, or why not."""

    check: str
    case: Case | ErrorCase
    seed: int
    comparisons: list[Comparison] = field(default_factory=list)
    error: CaughtError | None = None
    skipped: str = ""

    @property
    def id(self) -> str:
        return f"{self.check}-{self.case.id}"

    @property
    def status(self) -> str:
        if self.error is not None:
            return ERROR
        if self.skipped:
            return SKIP
        return PASS if all(c.ok for c in self.comparisons) else FAIL

    @property
    def ok(self) -> bool:
        return self.status == PASS

    @property
    def headroom(self) -> float:
        return max((c.headroom for c in self.comparisons), default=0.0)

    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]

    def get(self, tensor: str) -> Comparison:
        for comparison in self.comparisons:
            if comparison.tensor == tensor:
                return comparison
        raise KeyError(f"{self.id}: no comparison for {tensor!r}; "
                       f"have {[c.tensor for c in self.comparisons]}")

    @property
    def registered(self) -> bool:
        """Whether the case can be rerun from the command line: the registry's own, or an
        outside target's (with its origin); a drawn example is not."""
        entry = self.case.entry
        if REGISTERED.get(entry.name) is not entry and not entry.origin:
            return False  # neither the registry's (installed ones included) nor loaded
        return isinstance(self.case, ErrorCase) or self.case.sample in entry.samples

    def repro(self) -> str | None:
        """The ``parity check`` command that reruns exactly this job (None for a case that
        is not the registry's own, such as an example drawn by hypothesis)."""
        case = self.case
        if not self.registered:
            return None
        origin = f"{case.entry.origin} " if case.entry.origin else ""
        layer = shlex.quote(case.entry.name)
        if isinstance(case, ErrorCase):
            return (f"parity check {origin}--layer {layer} --config {case.error.name} "
                    f"--check {self.check}")
        impl = f" --impl {case.impl}" if case.impl else ""
        return (f"parity check {origin}--layer {layer} --config {case.sample.name} "
                f"--dtype {np.dtype(case.dtype).name}{impl} --check {self.check} "
                f"--seed {self.seed}")

    def pytest_repro(self) -> str | None:
        if not self.registered:
            return None
        entry = self.case.entry
        if entry.origin:  # the pytest plugin: the same option, the job id as the node name
            option = entry.origin.replace("--plugin ", "--parity-plugin=").replace(
                "--target ", "--parity-target=").replace("--as ", "--parity-as=")
            return f"PARITY_SEED={self.seed} pytest {option} --parity-job {shlex.quote(self.id)}"
        node = PYTEST_NODE.format(id=self.case.id)
        return f"PARITY_SEED={self.seed} pytest {shlex.quote(node)}"

    def context(self) -> list[str]:
        case = self.case
        if isinstance(case, ErrorCase):
            error = case.error
            return [f"  layer      {case.entry.name}",
                    f"  error      {error.name}: {error.error.__name__} matching "
                    f"{error.match!r} at {error.stage}"]
        impl = f" (impl={case.impl})" if case.impl else ""
        mode = "" if case.sample.training else " eval mode"
        return [f"  layer      {case.entry.name}{impl}",
                f"  config     {case.sample.name} input shape {case.sample.shape} kwargs "
                f"{dict(case.sample.kwargs)}{mode}",
                f"  dtype      {np.dtype(case.dtype).name}"]

    def message(self, comparison: Comparison | None = None) -> str:
        """A full failure message: what failed and where, the numbers, the repro lines."""
        if self.error is not None:
            head = f"ERROR {self.id}: {self.error}"
            body = self.context() + ["  traceback  (most recent call last, last lines)"]
            body += ["    " + line for line in _tail(self.error.traceback, 12)]
        else:
            comparison = comparison or (self.failures() or [None])[0]
            if comparison is None and self.skipped:
                head, body = f"SKIP {self.id}: {self.skipped}", self.context()
            elif comparison is None:
                head, body = f"PASS {self.id}", self.context()
            else:
                kind = "GUARD" if comparison.guard_failed else "FAIL"
                what = ("the comparison could not catch a wrong backward"
                        if comparison.guard_failed
                        else f"{comparison.tensor} differs from {comparison.expected_name}")
                head = f"{kind} {self.id}: {what}"
                body = self.context() + [comparison.describe()]
        if self.registered:
            tail = [f"  repro      {self.repro()}", f"  pytest     {self.pytest_repro()}"]
        else:
            tail = ["  repro      not a registry case (built in code, or drawn by hypothesis: "
                    "replay the @reproduce_failure line it printed)"]
        return "\n".join([head, *body, f"  seed       {self.seed}", *tail])

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` with the full message unless the check passed."""
        __tracebackhide__ = True
        if self.status == SKIP:
            import pytest

            pytest.skip(self.skipped)
        if not self.ok:
            raise AssertionError(self.message())


def assert_all_ok(results: list[CheckResult]) -> None:
    """Raise ``AssertionError`` with the message of every check that failed or raised;
    skip (pytest) when every check was skipped."""
    __tracebackhide__ = True
    if results and all(r.status == SKIP for r in results):
        import pytest

        pytest.skip("; ".join(sorted({r.skipped for r in results})))
    bad = [r for r in results if r.status in (FAIL, ERROR)]
    if bad:
        raise AssertionError(f"{len(bad)} of {len(results)} checks did not pass\n\n"
                             + "\n\n".join(r.message() for r in bad))


def _tail(text: str, lines: int) -> list[str]:
    return text.rstrip().splitlines()[-lines:]


def finding(tensor: str, problem: str = "", expected_name: str = "the contract") -> Comparison:
    """A non-numeric verdict (a dtype, an exception, a warning) as a comparison."""
    return Comparison(tensor, ok=not problem, problem=problem, expected_name=expected_name,
                      headroom=float("inf") if problem else 0.0)


def compare_tensors(actual: dict[str, Any], expected: dict[str, np.ndarray], case: Case,
                    expected_name: str, wanted: Callable[[str], bool] | None = None,
                    guard: bool | None = None, slack: dict[str, np.ndarray] | None = None
                    ) -> list[Comparison]:
    """Every wanted tensor of ``expected`` against ``actual`` at the case's parity tolerance
    plus the error model's summation slack, gradients guarded unless the sample says
    otherwise."""
    tolerance = parity_tolerance(case.dtype, case.entry.tolerances)
    use_guard = case.sample.guard if guard is None else guard
    return compare_all(actual, expected, tolerance, use_guard, expected_name, wanted, slack)


# --------------------------------------------------------------------------- torch parity
def _parity_check(name: str, wanted: Callable[[str], bool], stage: str
                  ) -> Callable[[Case, int, RunCache | None], CheckResult]:
    def run(case: Case, seed: int, cache: RunCache | None = None) -> CheckResult:
        result = CheckResult(name, case, seed)
        both: ParityRun = parity_run(case, seed, cache)
        for side in (both.numpy, both.torch):
            if side.failed_at(stage):
                result.error = side.error
                return result
        if stage == "backward" and both.torch.backward_skipped:
            result.comparisons = [finding(tensor, both.torch.backward_skipped, "torch")
                                  for tensor in ("input_grad",) if wanted(tensor)] or [
                finding(name, both.torch.backward_skipped, "torch")]
            return result
        result.comparisons = compare_tensors(both.numpy.tensors, both.torch.tensors, case,
                                             "torch", wanted, slack=both.slack)
        return result

    run.__name__ = f"check_{name.replace('-', '_')}"
    run.__doc__ = f"The {name} check: NumPy against torch for the tensors it names."
    return run


check_forward = _parity_check("forward", lambda t: t == "output" or t.startswith("output["),
                              "forward")
check_input_grad = _parity_check("input-grad", lambda t: t == "input_grad", "backward")
check_param_grads = _parity_check("param-grads", lambda t: t.startswith("grad["), "backward")
check_buffers = _parity_check("buffers", lambda t: t.startswith("buffer["), "backward")


def check_warnings(case: Case, seed: int, cache: RunCache | None = None) -> CheckResult:
    """No NumPy RuntimeWarning (overflow, invalid value, 0/0) on valid input."""
    result = CheckResult("warnings", case, seed)
    run = parity_run(case, seed, cache).numpy
    result.comparisons = [finding("warnings", f"numpy warned: {text}") for text in run.warnings]
    if not result.comparisons:
        if run.error is not None:
            result.error = run.error
        else:
            result.comparisons = [finding("warnings")]
    return result


def check_dtype(case: Case, seed: int, cache: RunCache | None = None) -> CheckResult:
    """Every tensor the layer produces or holds is in the case's dtype; a layer's forward
    returns a NumPy array, a reduced loss's a Python float."""
    result = CheckResult("dtype", case, seed)
    both = parity_run(case, seed, cache)
    if both.numpy.failed_at("forward"):
        result.error = both.numpy.error
        return result
    layer = both.built.layer
    tensors = {**both.numpy.tensors, **{f"param[{n}]": p for n, p in layer.params.items()}}
    for name, array in tensors.items():
        dtype = getattr(array, "dtype", None)
        # A second output such as max pooling's indices has torch's dtype (int64), not x's.
        wanted = (both.torch.tensors[name].dtype
                  if name.startswith("output[") and name in both.torch.tensors else case.dtype)
        problem = "" if dtype == wanted else f"dtype {dtype}, expected {wanted}"
        result.comparisons.append(finding(name, problem, f"dtype {case.dtype}"))
    returned = both.numpy.output_type
    if both.built.is_loss and np.ndim(both.numpy.tensors["output"]) == 0:
        if returned is not float:
            result.comparisons.append(finding(
                "output", f"forward returned {returned}, expected a Python float"))
    elif returned is not None and not issubclass(returned, (np.ndarray, np.generic)):
        # recorded as an array of the input's dtype, a list or a float would pass unseen
        result.comparisons.append(finding(
            "output", f"forward returned {returned}, expected a numpy.ndarray"))
    if both.numpy.error is not None and not result.failures():
        result.error = both.numpy.error  # the backward raised before any wrong dtype showed
    return result


# --------------------------------------------------------------------------- NumPy only
def _numpy_vs_numpy(result: CheckResult, actual: SideRun, expected: SideRun,
                    expected_name: str, guard: bool | None = None,
                    slack: dict[str, np.ndarray] | None = None) -> CheckResult:
    """``result`` with every tensor of one NumPy run compared against another's (with the
    error model's slack), or with the first run's exception when either raised."""
    for run in (actual, expected):
        if run.error is not None:
            result.error = run.error
            return result
    # The slack was computed for torch's shapes: a tensor of another shape (the gradient
    # checks' failure) is compared without it, not left to raise inside compare().
    slack = {name: value for name, value in (slack or {}).items()
             if _fits(value, expected.tensors.get(name))}
    result.comparisons = compare_tensors(actual.tensors, expected.tensors, result.case,
                                         expected_name, guard=guard, slack=slack)
    return result


def _fits(slack: np.ndarray, tensor: Any) -> bool:
    """Whether ``slack`` broadcasts to the shape of ``tensor``."""
    try:
        return np.broadcast_shapes(np.shape(slack), np.shape(tensor)) == np.shape(tensor)
    except ValueError:
        return False


def check_impl_agreement(case: Case, seed: int, cache: RunCache | None = None) -> CheckResult:
    """The first impl path (``loop``) against the second (``vectorized``), every tensor: the
    NumPy sides of the two cases' parity runs."""
    second = case.entry.impls[1]
    first_run = parity_run(case.with_impl(case.entry.impls[0]), seed, cache)
    second_run = parity_run(case.with_impl(second), seed, cache)
    return _numpy_vs_numpy(CheckResult("impl-agreement", case, seed), first_run.numpy,
                           second_run.numpy, f"impl={second}", slack=second_run.slack)


def _strided(x: np.ndarray) -> np.ndarray:
    """The same values as ``x`` in a non-contiguous view (every other element of a buffer
    twice as long on the last axis)."""
    buffer = np.zeros((*x.shape[:-1], 2 * x.shape[-1]), dtype=x.dtype)
    buffer[..., ::2] = x
    return buffer[..., ::2]


def check_memory_layout(case: Case, seed: int, cache: RunCache | None = None) -> CheckResult:
    """A strided view of the input (as from slicing or a transpose) computes what a
    contiguous copy does: no code path may assume C-contiguous memory."""
    contiguous = parity_run(case, seed, cache)
    built = build_case(case, seed)
    built.x = _strided(built.x)
    return _numpy_vs_numpy(CheckResult("memory-layout", case, seed), run_numpy(built),
                           contiguous.numpy, "a contiguous copy of the input", guard=False,
                           slack=contiguous.slack)


def check_cache_freshness(case: Case, seed: int, cache: RunCache | None = None
                          ) -> CheckResult:
    """``forward(x1); forward(x2); backward(dy)`` equals a fresh ``forward(x2);
    backward(dy)``: the cache belongs to the last forward call, never to an earlier one."""
    result = CheckResult("cache-freshness", case, seed)
    fresh = parity_run(case, seed, cache)
    built = build_case(case, seed)
    other_rng = np.random.default_rng(OTHER_INPUT_SEED)
    other = case.sample.make_input(other_rng, case.sample.shape, case.dtype)
    try:
        if built.is_loss:
            built.layer.forward(other, case.sample.make_target(other_rng, other)
                                if case.sample.make_target else None)
        else:
            built.layer.forward(other)
    except Exception as error:
        result.error = CaughtError.of("numpy forward (of the earlier input)", error)
        return result
    # The earlier forward moved batch-norm statistics: restore them for the comparison.
    for name, value in built.layer.buffers.items():
        value[...] = build_case(case, seed).layer.buffers[name]
    return _numpy_vs_numpy(result, run_numpy(built), fresh.numpy, "a fresh layer",
                           guard=False, slack=fresh.slack)


def check_inputs_untouched(case: Case, seed: int, cache: RunCache | None = None
                           ) -> CheckResult:
    """forward and backward never write into x, the target or the upstream gradient (the
    parity run keeps a copy of each from before the call)."""
    result = CheckResult("inputs-untouched", case, seed)
    run = parity_run(case, seed, cache).numpy
    if run.error is not None:
        result.error = run.error
        return result
    result.comparisons = [compare(name, after, before, EXACT,
                                  expected_name=f"{name} before the call")
                          for name, (before, after) in run.inputs.items()]
    for comparison in result.comparisons:
        if not comparison.ok and not comparison.problem:
            comparison.problem = f"{comparison.tensor} was modified by the layer"
    return result


# --------------------------------------------------------------------------- finite differences
def _scalar(built: Built, upstream: np.ndarray | None) -> tuple[float, float]:
    """f = Σ dy ⊙ layer(x) (the loss itself for a reduced loss) and F = Σ|dy ⊙ layer(x)|,
    the magnitude of the terms whose rounding the finite differences see."""
    layer = built.layer
    out = layer.forward(built.x, built.target) if built.is_loss else layer.forward(built.x)
    y = np.asarray(out[0] if isinstance(out, tuple) else out, dtype=np.float64)
    terms = y if upstream is None else y * upstream
    return float(np.sum(terms)), float(np.sum(np.abs(terms)))


@dataclass
class _Direction:
    """One directional derivative: numeric D(h), D(2h), the analytic value and its scale."""

    numeric: float
    numeric_2h: float
    analytic: float
    dot_magnitude: float
    f_scale: float
    step: float


def _conditioning(probes: dict[str, np.ndarray], tensors: dict[str, Any]) -> float:
    """Σ_z Σ|∂f/∂z ⊙ z| over the input and every parameter z, from the backward's gradients:
    what the rounding of the arrays f is computed from makes of f. A computation that is
    exact for inputs moved by ~ε relative is off by ~ε·Σ|∂f/∂z ⊙ z|, which can exceed
    ε·Σ|dy ⊙ y| by far: batch norm of inputs of mean/std 100 normalizes differences of
    values ~100 into outputs ~1 (finite-diff headroom 0.64 at seed 369 without it). Taken
    from the backward under test, it cannot hide that backward's error: a wrong entry δg
    moves D's error by |δg·v| and the allowance by 8ε·|δg·z|/h, with h ≥ 1e-6·RMS(z)."""
    total = 0.0
    for name, value in probes.items():
        grad = tensors.get(name)
        if grad is not None and np.shape(grad) == np.shape(value):
            product = np.abs(np.asarray(grad, dtype=np.float64) * value)
            total += float(np.sum(product[np.isfinite(product)]))
    return total


def _directional(built: Built, upstream: np.ndarray | None, array: np.ndarray,
                 grad: np.ndarray, v: np.ndarray, at_start: tuple[float, float],
                 conditioning: float) -> _Direction | None:
    """Central differences of f along ``v`` at the first step of FD_STEPS that crosses no
    kink (None if every step does: try another direction). Steps are relative to the
    array's magnitude (× its RMS when above 1): an input of mean 100 moved by 1e-6 would
    lose two more digits to the rounding of f than one of mean 1. ``at_start`` is
    ``_scalar`` at the unmoved arrays (every direction starts and ends there); f's rounding
    scale is F = Σ|dy ⊙ y| plus ``conditioning`` (:func:`_conditioning`)."""
    original = array.copy()
    magnitude = max(1.0, float(np.sqrt(np.mean(np.square(original))))) if original.size else 1.0
    f0, scale0 = at_start
    try:
        for step in (h * magnitude for h in FD_STEPS):
            values, taken = {}, {}
            for multiple in (1, -1, 2, -2):
                array[...] = original + multiple * step * v  # in place: the layer's own array
                taken[multiple] = array.copy()
                values[multiple] = _scalar(built, upstream)
            f_scale = max(scale0, *(scale for _, scale in values.values())) + conditioning
            forward = (values[1][0] - f0) / step
            backward = (f0 - values[-1][0]) / step
            numeric = (values[1][0] - values[-1][0]) / (2 * step)
            smooth = FD_KINK * abs(numeric) + 4 * fd_roundoff(f_scale, step)
            if abs(forward - backward) > smooth:
                continue  # a kink within the step: smaller steps, else another direction
            delta = (taken[1] - taken[-1]) / 2  # the step actually taken, after rounding
            products = grad * delta / step
            return _Direction(numeric, (values[2][0] - values[-2][0]) / (4 * step),
                              float(np.sum(products)), float(np.sum(np.abs(products))),
                              f_scale, step)
        return None
    finally:
        array[...] = original


def check_finite_diff(case: Case, seed: int, cache: RunCache | None = None) -> CheckResult:
    """The NumPy backward against central differences, in float64, without torch.

    For the input and every parameter θ, along FD_DIRECTIONS random directions v (every
    coordinate moves): the backward's ⟨∂f/∂θ, Δ⟩ / 2h (Δ the step actually taken) must match
    D(h) = (f(θ + h·v) − f(θ − h·v)) / 2h, where f = Σ dy ⊙ layer(x) (the loss for losses),
    within :func:`parity_tests.tolerances.finite_difference_slack`: round-off ε·F/h and the
    truncation |D(2h) − D(h)|. Directions that pass within h of a kink (ReLU at 0, a tie in
    a max window) take a smaller step or are redrawn: the function is not differentiable
    there, whatever the backward says.
    """
    result = CheckResult("finite-diff", case, seed)
    built: Built = build_case(case, seed)
    run = run_numpy(built)
    if run.error is not None:
        result.error = run.error
        return result
    upstream = run.upstream
    directions_rng = case_rng(seed, f"{case.data_key}|finite-diff")
    probes = {"input_grad": built.x,
              **{f"grad[{n}]": v for n, v in built.layer.params.items()}}
    # f at the unmoved arrays, once: each direction restores what it moves, and no layer's
    # output depends on state its forward changes (train-mode batch norm ignores the
    # running statistics it updates)
    at_start = _scalar(built, upstream)
    conditioning = _conditioning(probes, run.tensors)
    for name, array in probes.items():
        grad = run.tensors.get(name)
        if grad is None:
            result.comparisons.append(finding(name, "the NumPy layer produced no such tensor"))
            continue
        if np.shape(grad) != np.shape(array):
            result.comparisons.append(finding(
                name, f"shape {np.shape(grad)} != shape {np.shape(array)} of what it is the "
                      f"gradient of", "finite differences"))
            continue
        found: list[_Direction] = []
        for _ in range(FD_MAX_DIRECTION_DRAWS):
            direction = _directional(built, upstream, array, grad,
                                     directions_rng.standard_normal(array.shape), at_start,
                                     conditioning)
            if direction is not None:
                found.append(direction)
            if len(found) == FD_DIRECTIONS:
                break
        if not found:
            result.comparisons.append(finding(
                name, f"every one of {FD_MAX_DIRECTION_DRAWS} random directions crosses a "
                      f"kink within h={FD_STEPS[-1]:g}: the sample sits on a non-differentiable "
                      f"point; mark it gradcheck=False or change it", "finite differences"))
            continue

        def column(attribute: str, chosen: list[_Direction] = found) -> np.ndarray:
            return np.array([getattr(d, attribute) for d in chosen])

        slack = finite_difference_slack(column("f_scale"), column("step"), column("numeric"),
                                        column("numeric_2h"), column("dot_magnitude"),
                                        int(np.size(grad)))
        comparison = compare(name, column("analytic"), column("numeric"), FINITE_DIFFERENCE,
                             guard=case.sample.guard, expected_name="finite differences",
                             slack=slack)
        comparison.shape = grad.shape
        comparison.notes.append(
            f"directional derivatives along {len(found)} random directions (index = "
            f"direction), steps {sorted(set(column('step').tolist()), reverse=True)}")
        result.comparisons.append(comparison)
    return result


# --------------------------------------------------------------------------- bad input
def check_bad_input(case: ErrorCase, seed: int, cache: RunCache | None = None) -> CheckResult:
    """The error input raises its documented error (type and message) at its stage, and
    every earlier stage succeeds."""
    result = CheckResult("bad-input", case, seed)
    entry, error = case.entry, case.error
    args = entry.error_args if error.args is None else error.args
    layer: Any = None

    def construct() -> None:
        nonlocal layer
        kwargs = {**entry.error_kwargs, **error.kwargs}
        layer = entry.build(kwargs, F32, np.random.default_rng(0))

    def forward() -> None:
        layer.forward(*args)

    def backward() -> None:
        if is_loss(layer) and error.dy is None:  # a reduced loss: backward() takes no dy
            layer.backward()
        else:
            layer.backward(error.dy)

    steps = [("construct", construct)]
    if error.stage == "forward" or (error.stage == "backward" and error.forward_first):
        steps.append(("forward", forward))
    if error.stage == "backward":
        steps.append(("backward", backward))
    for stage, call in steps:
        try:
            call()
        except Exception as raised:
            problem = (_error_problem(error, stage, raised)
                       or _unnamed_layer(_layer_names(entry, layer), raised))
            result.comparisons = [finding(error.name, problem, "the documented error")]
            return result
        if stage == error.stage:
            break
    result.comparisons = [finding(error.name, f"nothing raised at {error.stage}; expected "
                                  f"{error.error.__name__} matching {error.match!r}",
                                  "the documented error")]
    return result


def _error_problem(error: Any, stage: str, raised: Exception) -> str:
    text = f"{type(raised).__name__}: {raised}"
    if stage != error.stage:
        return f"raised at {stage} instead of {error.stage}: {text}"
    if not isinstance(raised, error.error):
        return f"raised {text}, expected {error.error.__name__}"
    if not re.search(error.match, str(raised)):
        return f"the message does not match {error.match!r}: {text}"
    return ""


def _layer_names(entry: Any, layer: Any) -> list[str]:
    """The class names an error message may open with: the entry's layer class and, once
    built, the class of every sublayer (an error raised inside a child names the child)."""
    names = [entry.layer_class.__name__]
    if hasattr(layer, "named_layers"):
        names += [type(part).__name__ for _, part in layer.named_layers()]
    return list(dict.fromkeys(names))


def _unnamed_layer(names: list[str], raised: Exception) -> str:
    """A registry layer's error opens with ``Class:`` or ``Class.method:``, so a user sees
    which layer refused what; "" when it does."""
    if re.match(rf"(?:{'|'.join(map(re.escape, names))})(?:\.\w+)*: ", str(raised)):
        return ""
    return (f"the message does not open with the layer's name ({' or '.join(names)}, then "
            f"':' or '.method:'): {type(raised).__name__}: {raised}")


# --------------------------------------------------------------------------- the selection rule
@dataclass(frozen=True)
class Check:
    """A named check, the cases it applies to, and the function that runs it."""

    name: str
    title: str
    run: Callable[..., CheckResult]
    applies: Callable[[Any], bool]
    on_errors: bool = False


@dataclass(frozen=True)
class LayerFacts:
    """What the built layer says about itself (read once per case)."""

    params: tuple[str, ...]
    buffers: tuple[str, ...]
    is_loss: bool


#: By (entry, case id): two entries may share a name (a plugin's "linear" beside the
#: registry's), so the entry is part of the key (kept alive in the value: its id stays unique).
_FACTS: dict[tuple[int, str], tuple[Entry, LayerFacts]] = {}


def layer_facts(case: Case) -> LayerFacts:
    """Parameter and buffer names and loss-ness of the case's layer (empty if it cannot be
    built: the forward check then reports why)."""
    key = (id(case.entry), case.id)
    if key not in _FACTS:
        try:
            built = build_case(case, 0)
            facts = LayerFacts(tuple(built.layer.params), tuple(built.layer.buffers),
                               built.is_loss)
        except Exception:
            facts = LayerFacts((), (), False)
        _FACTS[key] = (case.entry, facts)
    return _FACTS[key][1]


def _always(case: Case) -> bool:
    return True


def _check(name: str, run: Callable[..., CheckResult], applies: Callable[[Any], bool],
           on_errors: bool = False) -> Check:
    return Check(name, CHECK_TITLES[name], run, applies, on_errors)


CHECKS: tuple[Check, ...] = (
    _check("forward", check_forward, _always),
    _check("input-grad", check_input_grad, _always),
    _check("param-grads", check_param_grads, lambda case: bool(layer_facts(case).params)),
    _check("buffers", check_buffers, lambda case: bool(layer_facts(case).buffers)),
    _check("impl-agreement", check_impl_agreement,
           lambda case: len(case.entry.impls) > 1 and case.impl == case.entry.impls[0]),
    # one path of a two-path layer: the vectorized one, which holds the blocks, fast paths
    # and size thresholds; impl-agreement ties the loop path to it tensor by tensor (and
    # input-grad/param-grads to torch), so differences on the loop path would witness
    # nothing new at several times the cost (on the loop conv: 6.6x, a quarter of a run)
    _check("finite-diff", check_finite_diff,
           lambda case: (case.dtype == np.float64 and case.sample.gradcheck
                         and case.impl == case.entry.impls[-1])),
    _check("dtype", check_dtype, _always),
    _check("warnings", check_warnings, _always),
    _check("inputs-untouched", check_inputs_untouched, _always),
    _check("memory-layout", check_memory_layout, lambda case: len(case.sample.shape) > 0),
    _check("cache-freshness", check_cache_freshness, _always),
    _check("bad-input", check_bad_input, _always, on_errors=True),
)
BY_NAME = {check.name: check for check in CHECKS}
if tuple(BY_NAME) != CHECK_NAMES:  # pragma: no cover - a programming error, caught at import
    raise ImportError(f"checks: {tuple(BY_NAME)} != check_names.CHECK_NAMES {CHECK_NAMES}")


@dataclass(frozen=True)
class Job:
    """One check on one case: the unit every consumer runs and reports."""

    check: Check
    case: Case | ErrorCase

    @property
    def id(self) -> str:
        return f"{self.check.name}-{self.case.id}"

    def run(self, seed: int, cache: RunCache | None = None) -> CheckResult:
        """Run the check; an exception of the harness itself becomes an ERROR result."""
        try:
            if self.case.entry.outside and self.check.on_errors:
                return CheckResult(self.check.name, self.case, seed, skipped=(
                    "error inputs are the project's own contract (its messages), not an "
                    "outside target's"))
            with warnings.catch_warnings():
                # Warnings outside a recorded run (finite-difference probes, an earlier
                # forward) are not verdicts: the warnings check records the run's own.
                warnings.simplefilter("ignore", RuntimeWarning)
                return self.check.run(self.case, seed, cache)
        except Unsupported as reason:
            return CheckResult(self.check.name, self.case, seed, skipped=str(reason))
        except Exception as error:
            return CheckResult(self.check.name, self.case, seed,
                               error=CaughtError.of(f"harness ({self.check.name})", error))


def select_checks(names: Iterable[str] | None) -> tuple[Check, ...]:
    if names is None:
        return CHECKS
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise KeyError(f"unknown check(s) {unknown}; known: {', '.join(CHECK_NAMES)}")
    return tuple(check for check in CHECKS if check.name in set(names))


def plan(
    checks: Iterable[str] | None = None,
    layers: Iterable[str] | None = None,
    dtypes: Iterable[str] | None = None,
    impls: Iterable[str] | None = None,
    configs: Iterable[str] | None = None,
    entries: Iterable[Entry] | None = None,
) -> list[Job]:
    """Every job the filters select, case by case in registry order, then the error inputs
    (from ``entries`` instead of the registry when given).

    The selection rule lives in each check's ``applies``. ``configs`` names samples or error
    inputs; error inputs have no dtype or impl path, so ``dtypes`` and ``impls`` leave them be.
    """
    chosen = select_checks(checks)
    entries = None if entries is None else tuple(entries)
    jobs = [Job(check, case) for case in cases(layers, dtypes, impls, configs, entries)
            for check in chosen if not check.on_errors and check.applies(case)]
    wanted = None if configs is None else set(configs)
    for check in chosen:
        if check.on_errors:
            jobs += [Job(check, case) for case in error_cases(layers, entries)
                     if wanted is None or case.error.name in wanted]
    return jobs


def plan_by_case(**filters: Any) -> dict[str, list[Job]]:
    """:func:`plan`'s jobs grouped by case id, cases in plan order: the unit of the test
    suite (one pytest test per case)."""
    grouped: dict[str, list[Job]] = {}
    for job in plan(**filters):
        grouped.setdefault(job.case.id, []).append(job)
    return grouped


def iter_results(jobs: Iterable[Job], seed: int) -> Iterator[CheckResult]:
    """Run ``jobs`` in order with one shared run cache (a case's checks run together)."""
    cache = RunCache()
    for job in jobs:
        yield job.run(seed, cache)
