"""Running the table: inputs, one case on one sample, iteration, verdict checks, run_all."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from parity_tests.op_table.compare import compare_outputs
from parity_tests.op_table.model import (
    AGREE,
    VERDICTS,
    Check,
    Expectation,
    InputArrays,
    Mismatch,
    OpCase,
    OpEntry,
    OpSample,
)
from parity_tests.op_table.numpy_like import _reverse_axes
from parity_tests.seeding import DEFAULT_SEED


@dataclass(frozen=True)
class Outcome:
    """What one callable did: its value or the exception it raised, and its warnings."""

    value: Any
    error: BaseException | None
    warnings: tuple[warnings.WarningMessage, ...]


def _call(fn: Callable[..., Any], args: Sequence[Any]) -> Outcome:
    """Run fn(*args), recording every warning (torch's warn-once ones included)."""
    warn_always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = fn(*args)
            except Exception as exc:
                return Outcome(None, exc, tuple(caught))
        return Outcome(value, None, tuple(caught))
    finally:
        torch.set_warn_always(warn_always)


def random_array(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Seeded test data: standard normal floats, integers in [-9, 9], or random booleans."""
    kind = np.dtype(dtype).kind
    if kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if kind in "iu":
        return rng.integers(-9, 10, size=shape).astype(dtype)
    if kind == "b":
        return rng.random(shape) < 0.5
    raise ValueError(f"random_array: unsupported dtype {dtype!r}")


def build_inputs(case: OpCase, sample: OpSample, seed: int = DEFAULT_SEED) -> InputArrays:
    """The NumPy inputs of one sample (the torch side gets tensors made from copies)."""
    rng = np.random.default_rng(seed)
    if sample.make is not None:
        return sample.make(rng)
    if case.make is not None:
        return case.make(rng, sample)
    return tuple(random_array(rng, shape, sample.dtype) for shape in sample.shapes)


def _numpy_args(inputs: InputArrays, layout: str) -> tuple[np.ndarray, ...]:
    arrays = tuple(np.array(x, copy=True) for x in inputs)
    return tuple(x.T for x in arrays) if layout == "T" else arrays


def _torch_args(inputs: InputArrays, layout: str) -> tuple[torch.Tensor, ...]:
    tensors = tuple(torch.from_numpy(np.array(x, copy=True)) for x in inputs)
    if layout == "T":
        return tuple(_reverse_axes(t) for t in tensors)
    return tensors


def describe_expectation(expectation: Expectation) -> str:
    """Human wording of what the table's torch expression does on a sample."""
    if expectation is None:
        return "not asserted (implementation-defined)"
    if isinstance(expectation, type):
        return f"raises {expectation.__name__}"
    if expectation == AGREE:
        return "agrees"
    return f"{expectation} differ"


def _warning_problems(
    side: str, outcome: Outcome, expected: type[Warning] | None
) -> list[str]:
    got = [w for w in outcome.warnings]
    if expected is None:
        return [
            f"{side}: unexpected {w.category.__name__}: {str(w.message)[:160]}" for w in got
        ]
    problems = [
        f"{side}: unexpected {w.category.__name__} (expected {expected.__name__}): "
        f"{str(w.message)[:160]}"
        for w in got
        if not issubclass(w.category, expected)
    ]
    if not any(issubclass(w.category, expected) for w in got):
        problems.append(f"{side}: expected a {expected.__name__}, none was emitted")
    return problems


def case_id(case: OpCase, sample: OpSample) -> str:
    """The test id of one case on one sample, e.g. ``op-std-float64-shape3x4``."""
    return f"op-{case.slug}-{sample.tag}"


def check_id(check: Check) -> str:
    """The test id of a stand-alone check."""
    return f"op-check-{check.slug}"


def _compare(case: OpCase, expected: Any, actual: Any, inputs: InputArrays) -> Mismatch | None:
    if case.compare is not None:
        return case.compare(expected, actual, inputs)
    return compare_outputs(expected, actual, tol=case.tol)


def run_sample(entry: OpEntry, case: OpCase, sample: OpSample, seed: int = DEFAULT_SEED) -> None:
    """Run one case on one sample; raise AssertionError with an actionable report on failure.

    Checks: the NumPy side runs; the table's torch expression does exactly what the sample
    says (agrees / differs in the stated way / raises the stated exception); every fix
    agrees; every side emits exactly the warnings the sample declares.
    """
    inputs = build_inputs(case, sample, seed)
    problems: list[str] = []
    np_out = _call(case.numpy_fn, _numpy_args(inputs, sample.layout))
    if np_out.error is not None:
        problems.append(
            f"NumPy `{case.numpy_expr}` raised {type(np_out.error).__name__}: {np_out.error}"
        )
    else:
        problems += _warning_problems(f"NumPy `{case.numpy_expr}`", np_out, sample.numpy_warns)
        if case.torch_fn is not None:
            label = f"table's torch `{case.torch_expr}`"
            naive = _call(case.torch_fn, _torch_args(inputs, sample.layout))
            problems += _warning_problems(label, naive, sample.naive_warns)
            problems += _naive_problems(label, case, sample, np_out.value, naive, inputs)
        for fix in case.fixes:
            label = f"fix `{fix.expr}`"
            fixed = _call(fix.fn, _torch_args(inputs, sample.layout))
            problems += _warning_problems(label, fixed, sample.fix_warns)
            if fixed.error is not None:
                problems.append(f"{label} raised {type(fixed.error).__name__}: {fixed.error}")
            else:
                mismatch = _compare(case, np_out.value, fixed.value, inputs)
                if mismatch is not None:
                    problems.append(f"{label} disagrees with NumPy: {mismatch}")
    if problems:
        test_id = case_id(case, sample)
        shapes = ", ".join(f"{x.dtype} {x.shape}" for x in inputs)
        raise AssertionError(
            f"{test_id}: row {entry.row!r}, NumPy `{case.numpy_expr}`, seed {seed}, "
            f"inputs [{shapes}], layout {sample.layout}\n  "
            + "\n  ".join(problems)
            + f"\n  repro: python -m pytest parity_tests/tests/test_op_table.py -k '{test_id}'"
        )


def _naive_problems(
    label: str, case: OpCase, sample: OpSample, expected: Any, naive: Outcome, inputs: InputArrays
) -> list[str]:
    want = sample.naive
    if want is None:
        return []
    if naive.error is not None:
        if isinstance(want, type) and isinstance(naive.error, want):
            return []
        return [
            f"{label} raised {type(naive.error).__name__}: {naive.error}; "
            f"the sample says it {describe_expectation(want)}"
        ]
    if isinstance(want, type):
        return [f"{label} did not raise; the sample says it raises {want.__name__}"]
    mismatch = _compare(case, expected, naive.value, inputs)
    if want == AGREE:
        return [] if mismatch is None else [f"{label} was expected to agree: {mismatch}"]
    if mismatch is None:
        return [f"{label} agrees; the sample says its {want} differ (a documented divergence)"]
    if mismatch.kind != want:
        return [f"{label}: expected {want} to differ first, got {mismatch}"]
    return []


def iter_cases(entries: Sequence[OpEntry]) -> list[tuple[OpEntry, OpCase, OpSample]]:
    """Every (entry, case, sample) triple, in table order."""
    return [
        (entry, case, sample)
        for entry in entries
        for case in entry.cases
        for sample in case.samples
    ]


def iter_checks(entries: Sequence[OpEntry]) -> list[tuple[OpEntry, Check]]:
    """Every stand-alone check, in table order."""
    return [(entry, check) for entry in entries for check in entry.checks]


def verdict_problems(entry: OpEntry) -> list[str]:
    """Ways an entry's verdict disagrees with its own cases (empty when consistent)."""
    problems: list[str] = []
    if entry.verdict not in VERDICTS:
        problems.append(f"{entry.row}: unknown verdict {entry.verdict!r}")
    if not entry.cases:
        problems.append(f"{entry.row}: no cases")
    differs = False
    for case in entry.cases:
        if case.torch_fn is None:
            differs = True
            if not case.fixes:
                problems.append(f"{entry.row}/{case.slug}: no torch expression and no fix")
            continue
        case_differs = any(
            s.naive != AGREE or s.naive_warns is not None for s in case.samples
        )
        differs |= case_differs
        if case_differs and not case.fixes:
            problems.append(f"{entry.row}/{case.slug}: a documented divergence without a fix")
        if entry.verdict == "equivalent" and case_differs:
            problems.append(f"{entry.row}/{case.slug}: 'equivalent' but a sample differs")
        if entry.verdict == "equivalent" and case.fixes:
            problems.append(f"{entry.row}/{case.slug}: 'equivalent' needs no fix")
    if entry.verdict != "equivalent" and not differs:
        problems.append(f"{entry.row}: verdict {entry.verdict!r} but every case agrees")
    return problems


def run_all(entries: Sequence[OpEntry]) -> list[str]:
    """Run every case, sample and check; return the failure reports (empty: all pass)."""
    failures = [p for e in entries for p in verdict_problems(e)]
    for entry, case, sample in iter_cases(entries):
        try:
            run_sample(entry, case, sample)
        except AssertionError as exc:
            failures.append(str(exc))
    for _, check in iter_checks(entries):
        try:
            check.fn()
        except AssertionError as exc:
            failures.append(f"{check_id(check)}: {exc}")
    return failures
