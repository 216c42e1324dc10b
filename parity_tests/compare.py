"""The one comparison of the harness: an actual tensor against an expected one.

An element passes when |actual − expected| ≤ atol + rtol·|expected| (the rule of
``torch.testing.assert_close``); non-finite values must sit at the same places with the same
values (NaN where the expected side has NaN, the same infinities). Shapes must agree; a
dtype mismatch does not fail a comparison (the values are judged as they are and the
``dtype`` check reports the dtype), so an upcasting layer's values are still judged. A
:class:`Tolerance` with ``norm="l2"`` compares ‖a − e‖ / ‖e‖ against ``rtol`` instead
(float32 gradients through ReLU kinks at benchmark sizes, see ``benchmarks/common.py``).

With ``guard`` the expected tensor must also be far above the tolerance (max_i |expected_i| /
allowed_i ≥ ``GRADIENT_GUARD``; for L2, 1 / rtol ≥ it and a non-zero expected tensor), so
that a backward returning zeros could not pass. An all-zero expected tensor never passes
the guard; under L2 it passes only an all-zero actual (no relative error exists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity_tests.tolerances import GRADIENT_GUARD, Tolerance

EXACT = Tolerance(rtol=0.0, atol=0.0, reason="must be bit-identical")


@dataclass
class Comparison:
    """The verdict on one tensor: errors, where they are, and what went wrong.

    ``expected_name`` says what the expected side is (``torch``, ``finite differences``,
    ``impl=vectorized``, ``a contiguous copy``...), so a message never guesses.
    """

    tensor: str
    ok: bool
    tolerance: Tolerance | None = None
    expected_name: str = "torch"
    shape: tuple[int, ...] = ()
    max_abs: float = 0.0
    max_abs_index: tuple[int, ...] | None = None
    max_rel: float = 0.0
    headroom: float = 0.0
    index: tuple[int, ...] | None = None
    actual_at: float | None = None
    expected_at: float | None = None
    mismatched: int = 0
    total: int = 0
    reference_scale: float = 0.0
    problem: str = ""
    guard_failed: bool = False
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The numeric part of a failure message (one line per fact)."""
        lines = [f"  tensor     {self.tensor}  shape {self.shape}  "
                 f"(expected side: {self.expected_name})"]
        if self.problem:
            lines.append(f"  problem    {self.problem}")
        if self.total and self.mismatched:
            lines.append(f"  mismatched {self.mismatched} / {self.total} elements "
                         f"({100 * self.mismatched / self.total:.3g} %)")
        if self.max_abs_index is not None:
            lines.append(f"  max abs    {self.max_abs:.3e} at index {self.max_abs_index}")
        if self.index is not None:
            lines.append(f"  worst      at index {self.index}: numpy {self.actual_at!r}, "
                         f"{self.expected_name} {self.expected_at!r}")
            lines.append(f"  max rel    {self.max_rel:.3e}")
        if self.tolerance is not None:
            lines.append(f"  tolerance  {self.tolerance} -> headroom {self.headroom:.3g} "
                         f"(worst error / allowed error; must be <= 1)")
            if self.tolerance.reason:
                lines.append(f"             ({self.tolerance.reason})")
        lines += [f"  note       {note}" for note in self.notes]
        return "\n".join(lines)


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def compare(
    tensor: str,
    actual: object,
    expected: object,
    tolerance: Tolerance,
    guard: bool = False,
    expected_name: str = "torch",
    slack: np.ndarray | float = 0.0,
) -> Comparison:
    """Compare ``actual`` (NumPy) with ``expected`` element-wise; see the module docstring.
    ``slack`` is added to the allowed error per element (summation rounding, see
    :mod:`parity_tests.tolerances`)."""
    expected = np.asarray(expected)
    result = Comparison(tensor, ok=False, tolerance=tolerance, expected_name=expected_name,
                        shape=tuple(expected.shape), total=int(expected.size))
    if actual is None:
        result.problem = "the NumPy layer produced no such tensor"
        return result
    if not isinstance(actual, np.ndarray) and not np.isscalar(actual):
        result.problem = f"a {type(actual).__name__}, not an array"
        return result
    actual = np.asarray(actual)
    if actual.shape != expected.shape:
        result.problem = f"shape {actual.shape} != {expected_name} shape {expected.shape}"
        return result
    if not (np.issubdtype(actual.dtype, np.number) or actual.dtype == bool):
        result.problem = f"dtype {actual.dtype} is not numeric"
        return result
    if np.iscomplexobj(actual):  # astype(float64) would drop the imaginary part unseen
        result.problem = f"dtype {actual.dtype} is complex, not real"
        return result
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    allowed = None
    if tolerance.norm == "l2":
        _compare_l2(result, a, e)
    else:
        try:
            slack = np.broadcast_to(slack, e.shape)
        except ValueError:  # the caller's error model is wrong, not the layer
            raise ValueError(f"compare({tensor!r}): a slack of shape {np.shape(slack)} does "
                             f"not fit the expected shape {e.shape}") from None
        allowed = tolerance.allowed(np.where(np.isfinite(e), e, 0.0), slack)
        _compare_elements(result, a, e, allowed)
    if actual.dtype != expected.dtype:
        # The values are judged as they are; the wrong dtype is the dtype check's failure.
        result.notes.append(f"dtype {actual.dtype} != {expected_name} dtype {expected.dtype}: "
                            f"values compared as they are; the dtype check reports the dtype")
    if result.ok and guard:
        zeros = _zeros_headroom(e, allowed, tolerance)
        if zeros < GRADIENT_GUARD:
            result.ok = False
            result.guard_failed = True
            result.problem = (
                f"guard: a backward returning zeros would miss the tolerance only by "
                f"{zeros:.3g}x (largest {expected_name} entry {result.reference_scale:.2e}); "
                f"it must miss by {GRADIENT_GUARD:g}x, or this comparison could not catch a "
                f"wrong backward; change the sample config")
    return result


def _zeros_headroom(e: np.ndarray, allowed: np.ndarray | None, tolerance: Tolerance
                    ) -> float:
    """The headroom an all-zero actual tensor would get: max |e_i| / allowed_i, 0 where
    e_i = 0 (zeros match it exactly, even with no error allowed)."""
    nonzero = np.isfinite(e) & (e != 0)
    if not nonzero.any():  # zeros would match every finite entry exactly
        return 0.0
    if allowed is None:  # an L2 comparison: zeros give a relative L2 error of exactly 1
        return 1.0 / tolerance.rtol if tolerance.rtol else float("inf")
    with np.errstate(divide="ignore"):
        ratio = np.where(nonzero, np.abs(e) / np.where(nonzero, allowed, 1.0), 0.0)
    return float(np.max(ratio))


def _compare_elements(result: Comparison, a: np.ndarray, e: np.ndarray,
                      allowed: np.ndarray) -> None:
    finite_e, finite_a = np.isfinite(e), np.isfinite(a)
    result.reference_scale = float(np.max(np.abs(e[finite_e]), initial=0.0))
    # Non-finite values must match exactly: NaN where the other side has NaN, the same inf.
    nan_mismatch = np.isnan(a) != np.isnan(e)
    inf_mismatch = (~finite_e | ~finite_a) & ~(np.isnan(a) & np.isnan(e)) & (a != e)
    bad_nonfinite = nan_mismatch | inf_mismatch
    both_finite = finite_e & finite_a
    with np.errstate(invalid="ignore"):
        error = np.where(both_finite, np.abs(a - e), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(error == 0, 0.0, error / allowed)
    ratio = np.where(bad_nonfinite, np.inf, ratio)
    result.mismatched = int(np.count_nonzero(ratio > 1.0))
    if not e.size:
        result.ok = True
        return
    worst = int(np.argmax(ratio))
    result.headroom = float(ratio.flat[worst])
    result.index = _index(worst, e.shape)
    result.actual_at = float(a.flat[worst])
    result.expected_at = float(e.flat[worst])
    largest = int(np.argmax(error))
    result.max_abs = float(error.flat[largest])
    result.max_abs_index = _index(largest, e.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(error == 0, 0.0, error / np.abs(e))
    result.max_rel = float(np.max(relative))
    if bad_nonfinite.any():
        first = _index(int(np.argmax(bad_nonfinite)), e.shape)
        kind = "NaN" if nan_mismatch.any() else "infinities"
        result.problem = (f"{kind} differ: {int(bad_nonfinite.sum())} non-finite "
                          f"mismatch(es), first at {first}: numpy {a[first]}, "
                          f"{result.expected_name} {e[first]}")
    result.ok = result.mismatched == 0


def _compare_l2(result: Comparison, a: np.ndarray, e: np.ndarray) -> None:
    assert result.tolerance is not None
    limit = result.tolerance.rtol
    result.reference_scale = float(np.max(np.abs(e), initial=0.0))
    if not (np.isfinite(a).all() and np.isfinite(e).all()):
        result.problem = "non-finite values (an L2 comparison needs finite tensors)"
        result.headroom = float("inf")
        return
    error = np.abs(a - e)
    if error.size:
        largest = int(np.argmax(error))
        result.max_abs = float(error.flat[largest])
        result.max_abs_index = _index(largest, e.shape)
    scale = result.reference_scale
    if not scale:  # e is all zeros: no relative error exists, only an exact match passes
        result.ok = not error.any()
        result.headroom = 0.0 if result.ok else float("inf")
        if not result.ok:
            result.problem = (f"the expected tensor is all zeros (no relative L2 error): "
                              f"the actual one reaches {result.max_abs:.2e}")
        return
    # both norms of tensors divided by max |e|: no underflow or overflow in the squares
    rel = float(np.linalg.norm((a - e) / scale)) / float(np.linalg.norm(e / scale))
    result.max_rel = rel
    result.headroom = rel / limit if limit else (0.0 if rel == 0 else float("inf"))
    result.ok = rel <= limit
    if not result.ok:
        result.problem = f"relative L2 error {rel:.2e} > {limit:g}"


def assert_close(tensor: str, actual: object, expected: object, tolerance: Tolerance,
                 guard: bool = False, expected_name: str = "torch") -> Comparison:
    """:func:`compare`, raising ``AssertionError`` with the description when it fails."""
    __tracebackhide__ = True
    comparison = compare(tensor, actual, expected, tolerance, guard, expected_name)
    if not comparison.ok:
        raise AssertionError(f"{tensor} differs from {expected_name}\n{comparison.describe()}")
    return comparison


def is_gradient(tensor: str) -> bool:
    """``input_grad`` and ``grad[name]`` are gradients (guarded); outputs and buffers not."""
    return tensor == "input_grad" or tensor.startswith("grad[")


def compare_all(
    actual: Mapping[str, Any],
    expected: Mapping[str, Any],
    tolerance: Tolerance | Callable[[str, np.ndarray], Tolerance],
    guard_gradients: bool,
    expected_name: str = "torch",
    wanted: Callable[[str], bool] | None = None,
    slack: Mapping[str, np.ndarray] | None = None,
) -> list[Comparison]:
    """:func:`compare` for every (wanted) tensor of ``expected`` against ``actual``, by name.

    ``tolerance`` is one tolerance or a function of (tensor name, expected value); with
    ``guard_gradients`` the gradients are guarded; ``slack`` adds per-tensor summation slack.
    """
    results = []
    for name, value in expected.items():
        if wanted is not None and not wanted(name):
            continue
        chosen = tolerance(name, np.asarray(value)) if callable(tolerance) else tolerance
        results.append(compare(name, actual.get(name), value, chosen,
                               guard=guard_gradients and is_gradient(name),
                               expected_name=expected_name,
                               slack=(slack or {}).get(name, 0.0)))
    return results
