"""The seed's NumPy ↔ PyTorch operation table, as executable parity cases.

Every row of the seed table ("Pytorch / Numpy Operations", 45 rows) is one `OpEntry`, in the
seed's order. An entry keeps the seed's NumPy and PyTorch syntax, a verdict and a note, and a
tuple of `Case`s: each case runs a NumPy callable and the torch callable the table proposes on
the SAME inputs (built from a seeded `np.random.default_rng`), over `Sample`s of shapes and
dtypes (0-d and empty where meaningful). Where the table's pairing is wrong the case DOCUMENTS
it (each sample states what the table's pair does: agrees, differs in type / length / shape /
dtype / values, or raises) and gives one or more `Fix`es, torch expressions that must agree.

Comparison (`compare_outputs`) is strict: the container structure, the shape, the dtype (torch
dtypes mapped to NumPy's) and the values (exact for integer and bool results, the project's
per-dtype tolerances for floating ones) must all match.

Verdicts:

- "equivalent": the table's pair agrees on every input tried, as written.
- "equivalent with arguments": the same torch operation agrees once an argument is given
  (``dtype=``, ``correction=``, ``indexing=``, ``dims=``...), the input is cast, or the result
  field is picked; the note says which.
- "diverges": the table's torch expression computes something else, is missing or was
  removed; the agreeing equivalent is another function or a few lines of torch.

The Markdown page ``docs/op_table.md`` is generated from this module:

    python -m parity_tests.op_table --write docs/op_table.md   # runs every case, then writes
    python -m parity_tests.op_table --check docs/op_table.md   # exit 1 if the page is stale
"""

from __future__ import annotations

import argparse
import difflib
import pickle
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from parity_tests.tolerances import PARITY

Verdict = Literal["equivalent", "equivalent with arguments", "diverges"]
VERDICTS: tuple[str, ...] = ("equivalent", "equivalent with arguments", "diverges")
MismatchKind = Literal["type", "length", "shape", "dtype", "values"]
MISMATCH_KINDS: tuple[str, ...] = ("type", "length", "shape", "dtype", "values")
AGREE = "agree"
# What the table's torch expression does on a sample: AGREE, a mismatch kind, the exception
# class it raises, or None (implementation-defined, not asserted).
Expectation = str | type[BaseException] | None

SEED = 0
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
F64, F32, I64, I32 = "float64", "float32", "int64", "int32"

# (rtol, atol) per result dtype: the project's parity tolerances (torch.testing.assert_close's
# defaults); a complex result gets the tolerance of its component dtype.
TOLERANCES: dict[np.dtype, tuple[float, float]] = {
    dtype: (PARITY[component].rtol, PARITY[component].atol)
    for dtype, component in (
        (np.dtype(np.float64), np.dtype(np.float64)),
        (np.dtype(np.complex128), np.dtype(np.float64)),
        (np.dtype(np.float32), np.dtype(np.float32)),
        (np.dtype(np.complex64), np.dtype(np.float32)),
    )
}

DOC_COMMAND = "python -m parity_tests.op_table --write docs/op_table.md"
VERSIONS_PREFIX = "Versions when generated:"

InputArrays = tuple[np.ndarray, ...]
CompareFn = Callable[[Any, Any, InputArrays], "Mismatch | None"]


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One set of inputs a case is tried on, and what the table's torch expression does there.

    `shapes` gives one shape per array input, filled with `dtype` values from the seeded
    generator (standard normal for floats, integers in [-9, 9] for ints) unless the case or
    the sample has its own `make`. `layout="T"` passes every input as a reversed-axes view
    (non-contiguous in both libraries). The `*_warns` fields name the warning category each
    side must emit (None: it must emit none).
    """

    shapes: tuple[tuple[int, ...], ...]
    dtype: str = F64
    label: str = ""
    naive: Expectation = AGREE
    layout: Literal["C", "T"] = "C"
    make: Callable[[np.random.Generator], InputArrays] | None = None
    numpy_warns: type[Warning] | None = None
    naive_warns: type[Warning] | None = None
    fix_warns: type[Warning] | None = None

    @property
    def tag(self) -> str:
        """The id fragment, e.g. ``float64-shape3x4`` or ``int64-ties``."""
        if self.label:
            label = self.label
        else:
            label = "shape" + "_".join("x".join(map(str, s)) if s else "0d" for s in self.shapes)
        return f"{self.dtype}-{label}" + ("-T" if self.layout == "T" else "")


@dataclass(frozen=True)
class Fix:
    """A torch expression that reproduces the NumPy result."""

    expr: str
    fn: Callable[..., Any]


@dataclass(frozen=True)
class Case:
    """One NumPy operation against the torch expression the table proposes for it.

    `torch_fn` is None where the table proposes no torch expression ("No direct equivalent")
    or where the case documents a related form the table does not list; `fixes` then show
    the equivalent. `make(rng, sample)` builds the inputs when random arrays of the sample's
    shapes do not fit (indices, positive values...). `compare` replaces the generic
    comparison where equality is the wrong test (random draws, eigen-decompositions).
    """

    slug: str
    numpy_expr: str
    torch_expr: str | None
    numpy_fn: Callable[..., Any]
    torch_fn: Callable[..., Any] | None
    samples: tuple[Sample, ...]
    fixes: tuple[Fix, ...] = ()
    make: Callable[[np.random.Generator, Sample], InputArrays] | None = None
    compare: CompareFn | None = None
    tol: tuple[float, float] | None = None


@dataclass(frozen=True)
class Check:
    """A stand-alone assertion attached to a row (e.g. a loader refusing pickles)."""

    slug: str
    description: str
    fn: Callable[[], None]


@dataclass(frozen=True)
class OpEntry:
    """One row of the seed table."""

    row: str
    numpy_syntax: str
    torch_syntax: str
    verdict: Verdict
    note: str
    cases: tuple[Case, ...]
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Mismatch:
    """How a torch result differs from the NumPy one."""

    kind: MismatchKind
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} differ at {self.where}: {self.detail}"


def _s(
    *shapes: tuple[int, ...],
    dtype: str = F64,
    label: str = "",
    naive: Expectation = AGREE,
    layout: Literal["C", "T"] = "C",
    make: Callable[[np.random.Generator], InputArrays] | None = None,
    numpy_warns: type[Warning] | None = None,
    naive_warns: type[Warning] | None = None,
    fix_warns: type[Warning] | None = None,
) -> Sample:
    return Sample(
        shapes, dtype, label, naive, layout, make, numpy_warns, naive_warns, fix_warns
    )


def _given(*arrays: Any) -> Callable[[np.random.Generator], InputArrays]:
    """A sample `make` returning fixed arrays (copies, so module data is never mutated)."""
    frozen = tuple(np.array(a) for a in arrays)
    return lambda rng: tuple(a.copy() for a in frozen)


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def numpy_dtype_of(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype matching a torch dtype (torch.float32 -> float32, torch.bool -> bool)."""
    return torch.empty(0, dtype=dtype).numpy().dtype


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy copy of a tensor (detached, conjugation resolved, on the CPU)."""
    return t.detach().cpu().resolve_conj().resolve_neg().numpy().copy()


def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"tensor {tuple(x.shape)} {x.dtype}"
    if isinstance(x, np.ndarray | np.generic):
        return f"ndarray {np.shape(x)} {x.dtype}"
    if isinstance(x, tuple | list):
        return f"{type(x).__name__} of {len(x)}"
    return type(x).__name__


def _compare_values(
    e: np.ndarray, a: np.ndarray, where: str, tol: tuple[float, float] | None
) -> Mismatch | None:
    if e.dtype.kind in "biuSU" or e.dtype == np.bool_:
        if np.array_equal(e, a):
            return None
        bad = np.argwhere(e != a)
        first = tuple(int(i) for i in bad[0]) if bad.size else ()
        return Mismatch(
            "values", where, f"{len(bad)} element(s) differ (exact); first at {first}: "
            f"NumPy {e[first]!r}, torch {a[first]!r}"
        )
    rtol, atol = tol if tol is not None else TOLERANCES.get(e.dtype, (1e-7, 1e-7))
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    bad = np.argwhere(~close)
    first = tuple(int(i) for i in bad[0])
    with np.errstate(invalid="ignore"):
        err = np.abs(a.astype(np.complex128) - e.astype(np.complex128))
    finite = err[np.isfinite(err)]
    max_err = float(finite.max()) if finite.size else float("nan")
    return Mismatch(
        "values", where, f"{len(bad)} element(s) outside rtol={rtol:g}, atol={atol:g}; "
        f"max abs err {max_err:.3g}; first at {first}: NumPy {e[first]!r}, torch {a[first]!r}"
    )


def compare_outputs(
    expected: Any, actual: Any, *, tol: tuple[float, float] | None = None, where: str = "result"
) -> Mismatch | None:
    """Compare a NumPy result with a torch result: structure, shape, dtype, then values.

    Tuples and lists (also torch's named return tuples and torch.Size) compare element by
    element; a NumPy array or scalar needs a tensor of the same shape and mapped dtype; a
    np.dtype needs the matching torch.dtype; a Python scalar needs a Python scalar of the same
    type. Returns None when they agree.
    """
    if isinstance(expected, tuple | list):
        if not isinstance(actual, tuple | list):
            return Mismatch(
                "type", where, f"NumPy gives {_describe(expected)}, torch {_describe(actual)}"
            )
        if len(expected) != len(actual):
            return Mismatch(
                "length", where, f"NumPy gives {len(expected)} items, torch {len(actual)}"
            )
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            mismatch = compare_outputs(e, a, tol=tol, where=f"{where}[{i}]")
            if mismatch is not None:
                return mismatch
        return None
    if isinstance(expected, np.dtype):
        if not isinstance(actual, torch.dtype):
            return Mismatch("type", where, f"NumPy gives a dtype, torch {_describe(actual)}")
        if numpy_dtype_of(actual) != expected:
            return Mismatch("dtype", where, f"NumPy {expected}, torch {actual}")
        return None
    if isinstance(expected, np.ndarray | np.generic):
        if not isinstance(actual, torch.Tensor):
            return Mismatch(
                "type", where, f"NumPy gives {_describe(expected)}, torch {_describe(actual)}"
            )
        e, a = np.asarray(expected), to_numpy(actual)
        if e.shape != a.shape:
            return Mismatch("shape", where, f"NumPy {e.shape}, torch {a.shape}")
        if e.dtype != a.dtype:
            return Mismatch("dtype", where, f"NumPy {e.dtype}, torch {actual.dtype}")
        return _compare_values(e, a, where, tol)
    if isinstance(expected, bool | int | float | complex):
        if type(actual) is not type(expected):
            return Mismatch(
                "type", where, f"NumPy gives {type(expected).__name__}, torch {_describe(actual)}"
            )
        return _compare_values(np.asarray(expected), np.asarray(actual), where, tol)
    return Mismatch("type", where, f"cannot compare a NumPy {_describe(expected)}")


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


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


def build_inputs(case: Case, sample: Sample, seed: int = SEED) -> InputArrays:
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


def case_id(case: Case, sample: Sample) -> str:
    """The test id of one case on one sample, e.g. ``op-std-float64-shape3x4``."""
    return f"op-{case.slug}-{sample.tag}"


def check_id(check: Check) -> str:
    """The test id of a stand-alone check."""
    return f"op-check-{check.slug}"


def _compare(case: Case, expected: Any, actual: Any, inputs: InputArrays) -> Mismatch | None:
    if case.compare is not None:
        return case.compare(expected, actual, inputs)
    return compare_outputs(expected, actual, tol=case.tol)


def run_sample(entry: OpEntry, case: Case, sample: Sample, seed: int = SEED) -> None:
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
            + f"\n  repro: python -m pytest parity_tests/test_op_table.py -k '{test_id}'"
        )


def _naive_problems(
    label: str, case: Case, sample: Sample, expected: Any, naive: Outcome, inputs: InputArrays
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


def iter_cases(
    entries: Sequence[OpEntry] | None = None,
) -> list[tuple[OpEntry, Case, Sample]]:
    """Every (entry, case, sample) triple, in table order."""
    return [
        (entry, case, sample)
        for entry in (REGISTRY if entries is None else entries)
        for case in entry.cases
        for sample in case.samples
    ]


def iter_checks(entries: Sequence[OpEntry] | None = None) -> list[tuple[OpEntry, Check]]:
    """Every stand-alone check, in table order."""
    return [
        (entry, check)
        for entry in (REGISTRY if entries is None else entries)
        for check in entry.checks
    ]


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


# --------------------------------------------------------------------------------------------
# Torch helpers that reproduce NumPy semantics (used by the fixes)
# --------------------------------------------------------------------------------------------


def _reverse_axes(t: torch.Tensor) -> torch.Tensor:
    """NumPy's ``a.T`` / ``np.transpose(a)`` for any ndim: reverse the axes."""
    return t.permute(tuple(reversed(range(t.ndim))))


def _float_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """Integer/bool tensors to float64, as NumPy promotes them in sqrt, mean, std, linalg..."""
    return t if t.is_floating_point() or t.is_complex() else t.to(torch.float64)


def _numpy_promoted(*ts: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Cast tensors to the dtype NumPy's promotion picks for arrays of their dtypes."""
    common = np.result_type(*(numpy_dtype_of(t.dtype) for t in ts))
    target = torch.from_numpy(np.empty(0, dtype=common)).dtype
    return tuple(t.to(target) for t in ts)


def _arange_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """np.arange(start, stop, step): float64 for float arguments, empty when the range is."""
    start, stop, step = t.tolist()
    dtype = torch.float64 if t.is_floating_point() else torch.int64
    if (stop - start) * step <= 0:
        return torch.empty(0, dtype=dtype)
    return torch.arange(start, stop, step, dtype=dtype)


def _dot_like_numpy(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """np.dot: sum over t's last axis and u's second-to-last (its only one if 1-D)."""
    return torch.tensordot(t, u, dims=([t.ndim - 1], [max(u.ndim - 2, 0)]))


def _np_aliases(src: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, bool]:
    """(out's values, whether a write into out shows in src)."""
    values = out.copy()
    if out.size == 0:
        return values, False
    before = src.copy()
    index = (0,) * out.ndim
    out[index] += 1
    changed = not np.array_equal(src, before)
    out[index] -= 1
    return values, changed


def _torch_aliases(src: torch.Tensor, out: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(out's values, whether a write into out shows in src) — torch twin of _np_aliases."""
    values = out.clone()
    if out.numel() == 0:
        return values, False
    before = src.clone()
    index = (0,) * out.ndim
    out[index] += 1
    changed = not torch.equal(src, before)
    out[index] -= 1
    return values, changed


def _unique_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """np.unique: sorted unique values with all NaNs collapsed into one (equal_nan=True)."""
    u = torch.unique(t)
    if u.is_floating_point():
        nan = torch.isnan(u)
        if bool(nan.any()):
            u = torch.cat([u[~nan], u[nan][:1]])
    return u


def _np_put(a: np.ndarray, idx: np.ndarray, v: np.ndarray) -> np.ndarray:
    np.put(a, idx, v)
    return a


def _scatter_flat(t: torch.Tensor, idx: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """np.put with torch.scatter_: scatter into the flat view, return the original."""
    t.view(-1).scatter_(0, idx, v)
    return t


def _torch_choose(idx: torch.Tensor, *choices: torch.Tensor) -> torch.Tensor:
    """np.choose(idx, choices) == gather along a new leading axis of the stacked choices."""
    return torch.gather(torch.stack(choices), 0, idx.unsqueeze(0)).squeeze(0)


def _histogram_like_numpy(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """np.histogram(a) with torch.histogram: 10 bins over [min, max], int64 counts."""
    h = torch.histogram(_float_like_numpy(t), bins=10)
    return h.hist.to(torch.int64), h.bin_edges


def _histc_like_numpy(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """np.histogram(a) with torch.histc: bins=10 and NumPy's range given explicitly."""
    x = _float_like_numpy(t)
    lo, hi = (x.min().item(), x.max().item()) if x.numel() else (0.0, 1.0)
    if lo == hi:  # NumPy widens a degenerate range by 0.5 on each side
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(x, bins=10, min=lo, max=hi)
    return counts.to(torch.int64), torch.linspace(lo, hi, 11, dtype=x.dtype)


def _conv1d_no_flip(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The table's reading: conv1d (cross-correlation), padded to np.convolve's 'full' size."""
    return F.conv1d(t.view(1, 1, -1), u.view(1, 1, -1), padding=u.numel() - 1).view(-1)


def _convolve_full(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """np.convolve(a, v) ('full'): conv1d with the kernel flipped and padding len(v) - 1."""
    return F.conv1d(t.view(1, 1, -1), u.flip(0).view(1, 1, -1), padding=u.numel() - 1).view(-1)


def _convolve_valid(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """np.convolve(a, v, 'valid'): flipped kernel, no padding; NumPy swaps so len(a) >= len(v)."""
    sig, ker = (t, u) if t.numel() >= u.numel() else (u, t)
    return F.conv1d(sig.view(1, 1, -1), ker.flip(0).view(1, 1, -1)).view(-1)


def _fft_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """np.fft.fft's dtype rule: float64 kept; float32 kept on NumPy >= 2; ints -> float64."""
    keep = t.dtype == torch.float64 or (NUMPY2 and t.dtype == torch.float32)
    return torch.fft.fft(t if keep else t.to(torch.float64))


def _gradient_like_numpy(t: torch.Tensor, **kwargs: Any) -> Any:
    """np.gradient: torch.gradient on float64 for ints; a bare tensor for 1-D input."""
    g = torch.gradient(_float_like_numpy(t), **kwargs)
    return g[0] if t.ndim == 1 else g


def _horner(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Σ c[i]·x**i by Horner's rule (increasing order, as np.polynomial.polynomial.polyval)."""
    out = c[-1] + x * 0
    for i in range(2, c.numel() + 1):
        out = c[-i] + out * x
    return out


def _eigvals_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """np.linalg.eig's eigenvalues: real dtype when every imaginary part is exactly 0."""
    lam = torch.linalg.eigvals(_float_like_numpy(t))
    return lam.real if not bool((lam.imag != 0).any()) else lam


def _np_savez_roundtrip(a: np.ndarray) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "file.npz")
        np.savez(path, a)
        with np.load(path, allow_pickle=False) as archive:
            return archive["arr_0"]


def _torch_save_roundtrip(t: torch.Tensor) -> torch.Tensor:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "file.pt")
        torch.save(t, path)
        return torch.load(path, weights_only=True)


class _NotATensor:
    """An arbitrary picklable Python object: weights_only loading must refuse it."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def _check_np_load_refuses_object_arrays() -> None:
    obj = np.array([{"k": 1}, None], dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "objects.npz")
        np.savez(path, obj)
        for kwargs in ({"allow_pickle": False}, {}):  # explicit, and NumPy's default
            with np.load(path, **kwargs) as archive:
                try:
                    archive["arr_0"]
                except ValueError:
                    pass
                else:
                    raise AssertionError(f"np.load({kwargs}) loaded an object array")
        with np.load(path, allow_pickle=True) as archive:  # the refusal is the flag's doing
            assert archive["arr_0"][0] == {"k": 1}


def _check_torch_load_refuses_arbitrary_objects() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "object.pt")
        torch.save(_NotATensor(), path)
        for kwargs in ({"weights_only": True}, {}):  # explicit, and torch's default
            try:
                torch.load(path, **kwargs)
            except pickle.UnpicklingError:
                pass
            else:
                raise AssertionError(f"torch.load({kwargs}) loaded an arbitrary object")
        loaded = torch.load(path, weights_only=False)  # trusted file: the flag is the gate
        assert isinstance(loaded, _NotATensor) and loaded.payload == [1, 2, 3]


def _check_torch_has_no_polyval() -> None:
    assert not hasattr(torch, "polyval"), "torch.polyval exists now: update the Polynomial row"


def _check_torch_eig_removed() -> None:
    try:
        torch.eig(torch.eye(2))  # type: ignore[attr-defined]
    except AttributeError:
        return
    except RuntimeError as exc:
        assert "removed" in str(exc), str(exc)
        return
    raise AssertionError("torch.eig ran: update the Eigenvalues row")


# --------------------------------------------------------------------------------------------
# Comparators for results that must not be compared element by element
# --------------------------------------------------------------------------------------------


def _compare_uniform(expected: Any, actual: Any, inputs: InputArrays) -> Mismatch | None:
    """U[0, 1) draws from two different generators: same shape, dtype, range, statistics —
    and NOT the same numbers (the same seed does not give the same draws)."""
    if not isinstance(actual, torch.Tensor):
        return Mismatch("type", "result", f"torch gives {_describe(actual)}")
    e, a = np.asarray(expected), to_numpy(actual)
    if e.shape != a.shape:
        return Mismatch("shape", "result", f"NumPy {e.shape}, torch {a.shape}")
    if e.dtype != a.dtype:
        return Mismatch("dtype", "result", f"NumPy {e.dtype}, torch {actual.dtype}")
    for side, x in (("NumPy", e), ("torch", a)):
        if x.size and not (x.min() >= 0.0 and x.max() < 1.0):
            return Mismatch("values", "result", f"{side} draws leave [0, 1)")
        if x.size >= 1000:
            n = x.size
            if abs(x.mean() - 0.5) > 5 * np.sqrt(1 / 12 / n):
                return Mismatch("values", "result", f"{side} mean {x.mean():.4f} is not ~0.5")
            counts = np.histogram(x, bins=10, range=(0.0, 1.0))[0]
            sigma = np.sqrt(n * 0.1 * 0.9)
            if np.abs(counts - n / 10).max() > 5 * sigma:
                return Mismatch("values", "result", f"{side} deciles not uniform: {counts}")
    if e.size and np.array_equal(e, a):
        return Mismatch("values", "result", "identical draws from two different generators")
    return None


def _match_order(ref: np.ndarray, got: np.ndarray) -> np.ndarray:
    """A permutation p with got[p] ≈ ref (greedy nearest match; eigenvalues come unordered)."""
    used = np.zeros(len(got), dtype=bool)
    perm = []
    for r in ref:
        dist = np.abs(got.astype(np.complex128) - r)
        dist[used] = np.inf
        j = int(np.argmin(dist))
        used[j] = True
        perm.append(j)
    return np.array(perm, dtype=np.int64)


def _compare_eig(expected: Any, actual: Any, inputs: InputArrays) -> Mismatch | None:
    """np.linalg.eig vs torch.linalg.eig: eigenvalues as a multiset; A v = λ v for torch's
    eigenvectors (eigenvectors are only defined up to a complex scale, so no element test)."""
    if not isinstance(actual, tuple) or len(actual) != 2:
        return Mismatch("type", "result", f"torch gives {_describe(actual)}")
    w, _ = expected
    lam, vec = (to_numpy(x) for x in actual)
    if lam.shape != w.shape or vec.shape != w.shape + w.shape[-1:]:
        return Mismatch("shape", "result", f"NumPy {w.shape}, torch {lam.shape} / {vec.shape}")
    if lam.dtype != np.complex128:
        return Mismatch("dtype", "eigenvalues", f"torch {lam.dtype}, expected complex128")
    a = inputs[0].astype(np.complex128)
    n = w.shape[-1]
    if n == 0:
        return None
    for b, (w_b, lam_b, vec_b, a_b) in enumerate(
        zip(w.reshape(-1, n), lam.reshape(-1, n), vec.reshape(-1, n, n),
            a.reshape(-1, n, n), strict=True)
    ):
        mismatch = _compare_values(
            w_b.astype(np.complex128), lam_b[_match_order(w_b, lam_b)],
            f"eigenvalues (batch {b}, as a set)", (1e-7, 1e-7),
        )
        if mismatch is not None:
            return mismatch
        residual = np.abs(a_b @ vec_b - vec_b * lam_b).max() if n else 0.0
        if residual > 1e-9 * (1 + np.abs(a_b).max()):
            return Mismatch("values", f"eigenvectors (batch {b})", f"|A v - λ v| = {residual:g}")
    return None


def _compare_eigvals(expected: Any, actual: Any, inputs: InputArrays) -> Mismatch | None:
    """Eigenvalues compared as a multiset (torch's order reordered to NumPy's), strictly."""
    if not isinstance(actual, torch.Tensor) or actual.shape != np.shape(expected):
        return compare_outputs(expected, actual)
    n = actual.shape[-1] if actual.ndim else 0
    if n == 0:
        return compare_outputs(expected, actual)
    got = actual.reshape(-1, n)
    ref = np.asarray(expected).reshape(-1, n)
    perms = [torch.from_numpy(_match_order(r, to_numpy(g))) for r, g in zip(ref, got, strict=True)]
    reordered = torch.stack([g[p] for g, p in zip(got, perms, strict=True)]).reshape(actual.shape)
    return compare_outputs(expected, reordered)


# --------------------------------------------------------------------------------------------
# Input makers
# --------------------------------------------------------------------------------------------


def _make_nonneg(rng: np.random.Generator, sample: Sample) -> InputArrays:
    return tuple(np.abs(random_array(rng, s, sample.dtype)) for s in sample.shapes)


def _make_invertible(rng: np.random.Generator, sample: Sample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    n = shape[-1]
    return (a + (3 * n + 10) * np.eye(n, dtype=a.dtype),)


def _make_symmetric(rng: np.random.Generator, sample: Sample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    return (a + np.swapaxes(a, -1, -2),)


def _make_take(rng: np.random.Generator, sample: Sample) -> InputArrays:
    shape, idx_shape = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    size = max(a.size, 1)
    return a, rng.integers(-size, size, size=idx_shape)


def _make_take_axis0(rng: np.random.Generator, sample: Sample) -> InputArrays:
    shape, idx_shape = sample.shapes
    return random_array(rng, shape, sample.dtype), rng.integers(0, shape[0], size=idx_shape)


def _make_put(rng: np.random.Generator, sample: Sample) -> InputArrays:
    shape, (k,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    idx = rng.choice(a.size, size=k, replace=False).astype(np.int64)
    return a, idx, random_array(rng, (k,), sample.dtype) * 10


def _make_choose(rng: np.random.Generator, sample: Sample) -> InputArrays:
    (shape,) = sample.shapes
    idx = rng.integers(0, 3, size=shape)
    return (idx, *(random_array(rng, shape, sample.dtype) for _ in range(3)))


def _make_allclose_pair(
    scale: float, offset: float
) -> Callable[[np.random.Generator], InputArrays]:
    def make(rng: np.random.Generator) -> InputArrays:
        a = rng.standard_normal(5)
        return a, a * (1 + scale) + offset

    return make


def _make_equal_pair(rng: np.random.Generator, sample: Sample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    b = a.copy()
    b.reshape(-1)[::2] += 1
    return a, b


def _make_with_nans(rng: np.random.Generator, sample: Sample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    if a.dtype.kind == "f" and a.size:
        a.reshape(-1)[::3] = np.nan
    return (a,)


def _make_poly(rng: np.random.Generator, sample: Sample) -> InputArrays:
    x_shape, c_shape = sample.shapes
    return random_array(rng, x_shape, sample.dtype), random_array(rng, c_shape, sample.dtype)


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

_FLOAT_INT_SHAPES = (
    _s((3, 4)), _s((2, 3, 4)), _s(()), _s((0,)), _s((3, 4), dtype=I64), _s((5,), dtype=I64),
)

_STD_SAMPLES_NAIVE = (
    _s((3, 4), naive="values"),
    _s((5,), naive="values"),
    _s((), naive="values", naive_warns=UserWarning),
    _s((0,), numpy_warns=RuntimeWarning, naive_warns=UserWarning, fix_warns=UserWarning),
    _s((3, 4), dtype=I64, naive=RuntimeError),
)


def _percentile_method_case(method: str) -> Case:
    return Case(
        f"percentile-{method}",
        f"np.percentile(a, 30, method={method!r})",
        f"torch.quantile(t, 0.3, interpolation={method!r})",
        lambda a: np.percentile(a, 30, method=method),
        lambda t: torch.quantile(t, 0.3, interpolation=method),
        # shape 6: the virtual index 0.3 * 5 = 1.5 is a tie for 'nearest' (both round to even)
        (_s((11,)), _s((6,)), _s((4, 5))),
    )


REGISTRY: tuple[OpEntry, ...] = (
    OpEntry(
        "Array Creation",
        "np.array([1,2,3])",
        "torch.tensor([1,2,3])",
        "equivalent with arguments",
        "Integer data: both int64. Float data and the empty list: NumPy float64, torch float32 "
        "(torch's default dtype). Use `torch.tensor(x, dtype=torch.float64)` (or "
        "`torch.from_numpy` / `torch.as_tensor` on the NumPy array).",
        (
            Case(
                "array-int", "np.array(a.tolist())", "torch.tensor(t.tolist())",
                lambda a: np.array(a.tolist()), lambda t: torch.tensor(t.tolist()),
                (_s((3,), dtype=I64), _s((2, 3), dtype=I64), _s((), dtype=I64)),
            ),
            Case(
                "array-float", "np.array(a.tolist())", "torch.tensor(t.tolist())",
                lambda a: np.array(a.tolist()), lambda t: torch.tensor(t.tolist()),
                (
                    _s((3,), naive="dtype"), _s((2, 3), naive="dtype"), _s((), naive="dtype"),
                    _s((0,), label="emptylist", naive="dtype"),
                ),
                fixes=(
                    Fix("torch.tensor(x, dtype=torch.float64)",
                        lambda t: torch.tensor(t.tolist(), dtype=torch.float64)),
                ),
            ),
        ),
    ),
    OpEntry(
        "Zeros/Ones",
        "np.zeros((3,4)), np.ones((3,4))",
        "torch.zeros(3,4), torch.ones(3,4)",
        "equivalent with arguments",
        "NumPy float64, torch float32: pass `dtype=torch.float64`. The varargs form "
        "`torch.zeros(*shape)` cannot make a 0-d tensor (`torch.zeros()` raises); pass the "
        "shape as a tuple.",
        tuple(
            Case(
                name, f"np.{name}(a.shape)", f"torch.{name}(*t.shape)",
                lambda a, fn=np_fn: fn(a.shape), lambda t, fn=torch_fn: fn(*t.shape),
                (
                    _s((3, 4), naive="dtype"), _s((2, 3, 4), naive="dtype"),
                    _s((0,), naive="dtype"), _s((), naive=TypeError),
                ),
                fixes=(
                    Fix(f"torch.{name}(t.shape, dtype=torch.float64)",
                        lambda t, fn=torch_fn: fn(t.shape, dtype=torch.float64)),
                ),
            )
            for name, np_fn, torch_fn in (
                ("zeros", np.zeros, torch.zeros), ("ones", np.ones, torch.ones)
            )
        ),
    ),
    OpEntry(
        "Random Arrays",
        "np.random.rand(3,4)",
        "torch.rand(3,4)",
        "equivalent with arguments",
        "Different generators: the same seed gives different numbers, so only shape, dtype, "
        "range [0, 1) and uniformity are compared. NumPy float64, torch float32: pass "
        "`dtype=torch.float64`; `torch.rand()` (0-d) raises where `np.random.rand()` returns a "
        "float: pass the shape as a tuple.",
        (
            Case(
                "rand",
                "np.random.RandomState(0).rand(*a.shape)",
                "torch.rand(*t.shape, generator=torch.Generator().manual_seed(0))",
                lambda a: np.random.RandomState(SEED).rand(*a.shape),
                lambda t: torch.rand(*t.shape, generator=torch.Generator().manual_seed(SEED)),
                (
                    _s((3, 4), naive="dtype"), _s((4000,), naive="dtype"),
                    _s((0,), naive="dtype"), _s((), naive=TypeError),
                ),
                fixes=(
                    Fix(
                        "torch.rand(t.shape, dtype=torch.float64, generator=g)",
                        lambda t: torch.rand(
                            t.shape, dtype=torch.float64,
                            generator=torch.Generator().manual_seed(SEED),
                        ),
                    ),
                ),
                compare=_compare_uniform,
            ),
        ),
    ),
    OpEntry(
        "Arange/Linspace",
        "np.arange(0,10,2), np.linspace(0,1,5)",
        "torch.arange(0,10,2), torch.linspace(0,1,5)",
        "equivalent with arguments",
        "Integer arange: both int64. Float arange and every linspace: NumPy float64, torch "
        "float32: pass `dtype=torch.float64`. An empty range (`np.arange(5, 0, 1)`) is an "
        "empty array in NumPy and a RuntimeError in torch.",
        (
            Case(
                "arange", "np.arange(*a.tolist())", "torch.arange(*t.tolist())",
                lambda a: np.arange(*a.tolist()), lambda t: torch.arange(*t.tolist()),
                (
                    _s(dtype=I64, label="0_10_2", make=_given([0, 10, 2])),
                    _s(dtype=I64, label="10_0_-3", make=_given([10, 0, -3])),
                    _s(dtype=I64, label="5_0_1", make=_given([5, 0, 1]), naive=RuntimeError),
                    _s(label="0_1_0.1", make=_given([0.0, 1.0, 0.1]), naive="dtype"),
                    _s(label="0.5_3.3_0.7", make=_given([0.5, 3.3, 0.7]), naive="dtype"),
                ),
                fixes=(
                    Fix("torch.arange(*args, dtype=torch.float64 for float args; "
                        "torch.empty(0) when NumPy's range is empty)", _arange_like_numpy),
                ),
            ),
            Case(
                "linspace", "np.linspace(*a.tolist(), n)", "torch.linspace(*t.tolist(), n)",
                lambda a, n: np.linspace(*a.tolist(), int(n)),
                lambda t, n: torch.linspace(*t.tolist(), int(n)),
                (
                    _s(label="0_1_5", make=_given([0.0, 1.0], 5), naive="dtype"),
                    _s(label="0_1_1", make=_given([0.0, 1.0], 1), naive="dtype"),
                    _s(label="-3_7_0", make=_given([-3.0, 7.0], 0), naive="dtype"),
                    _s(dtype=I64, label="0_10_5", make=_given([0, 10], 5), naive="dtype"),
                ),
                fixes=(
                    Fix("torch.linspace(*t.tolist(), n, dtype=torch.float64)",
                        lambda t, n: torch.linspace(*t.tolist(), int(n), dtype=torch.float64)),
                ),
            ),
        ),
    ),
    OpEntry(
        "Shape/Reshape",
        "arr.shape, arr.reshape(2,3)",
        "tensor.shape, tensor.reshape(2,3)",
        "equivalent",
        "`torch.Size` is a tuple subclass and compares equal to the NumPy shape tuple; both "
        "reshapes return a view when they can and a copy otherwise (non-contiguous input).",
        (
            Case(
                "shape", "a.shape", "t.shape", lambda a: a.shape, lambda t: t.shape,
                (_s((3, 4)), _s(()), _s((0,)), _s((2, 3, 4), dtype=I64)),
            ),
            Case(
                "reshape", "a.reshape(2, 3)", "t.reshape(2, 3)",
                lambda a: a.reshape(2, 3), lambda t: t.reshape(2, 3),
                (_s((6,)), _s((3, 2), dtype=I64), _s((3, 2), layout="T")),
            ),
            Case(
                "reshape-infer", "a.reshape(-1, 2)", "t.reshape(-1, 2)",
                lambda a: a.reshape(-1, 2), lambda t: t.reshape(-1, 2),
                (_s((0,)), _s((4,)), _s((2, 3, 2), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Indexing/Slicing",
        "arr[0], arr[1:3], arr[:, 0]",
        "tensor[0], tensor[1:3], tensor[:, 0]",
        "equivalent",
        "Same results; NumPy returns a NumPy scalar where torch returns a 0-d tensor.",
        (
            Case(
                "index0", "a[0]", "t[0]", lambda a: a[0], lambda t: t[0],
                (_s((4,)), _s((4, 3), dtype=I64), _s((2, 3, 4))),
            ),
            Case(
                "slice", "a[1:3]", "t[1:3]", lambda a: a[1:3], lambda t: t[1:3],
                (_s((4,)), _s((4, 3), dtype=I64), _s((0,)), _s((1,))),
            ),
            Case(
                "col0", "a[:, 0]", "t[:, 0]", lambda a: a[:, 0], lambda t: t[:, 0],
                (_s((3, 4)), _s((0, 4)), _s((2, 3, 4), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Mathematical Ops",
        "arr1 + arr2, arr * 2, np.sqrt(arr)",
        "tensor1 + tensor2, tensor * 2, torch.sqrt(tensor)",
        "equivalent with arguments",
        "Same-dtype operands agree. `np.sqrt` of integers gives float64, `torch.sqrt` float32: "
        "cast to float64 first. Mixed operands promote differently: int64 + float32 is "
        "float64 in NumPy, float32 in torch: cast both to NumPy's result type.",
        (
            Case(
                "add", "a + b", "t + u", lambda a, b: a + b, lambda t, u: t + u,
                (
                    _s((3, 4), (3, 4)), _s((), ()), _s((0,), (0,)),
                    _s((3, 4), (3, 4), dtype=I64),
                    _s(dtype="mixed", label="int64+float32", naive="dtype",
                       make=lambda rng: (rng.integers(-9, 10, 4),
                                         rng.standard_normal(4).astype(np.float32))),
                ),
                fixes=(
                    Fix("t.to(common) + u.to(common), common = NumPy's result type",
                        lambda t, u: torch.add(*_numpy_promoted(t, u))),
                ),
            ),
            Case(
                "mul2", "a * 2", "t * 2", lambda a: a * 2, lambda t: t * 2,
                (_s((3, 4)), _s(()), _s((0,)), _s((3, 4), dtype=I64)),
            ),
            Case(
                "sqrt", "np.sqrt(a)", "torch.sqrt(t)", np.sqrt, torch.sqrt,
                (
                    _s((3, 4)), _s(()), _s((0,)),
                    _s((3, 4), dtype=I64, naive="dtype"), _s((), dtype=I64, naive="dtype"),
                ),
                fixes=(Fix("torch.sqrt(t.double()) for integer t",
                           lambda t: torch.sqrt(_float_like_numpy(t))),),
                make=_make_nonneg,
            ),
        ),
    ),
    OpEntry(
        "Matrix Multiplication",
        "np.dot(a,b), a @ b",
        "torch.mm(a,b), a @ b, torch.matmul(a,b)",
        "diverges",
        "`@` and `torch.matmul` agree with NumPy's `@` (1-D, batched, broadcast). `torch.mm` "
        "is 2-D only: it raises on the 1-D and N-d inputs `np.dot` accepts. np.dot's rule "
        "(last axis of a with second-to-last of b) is "
        "`torch.tensordot(a, b, dims=([a.ndim-1], [max(b.ndim-2, 0)]))`.",
        (
            Case(
                "dot-mm", "np.dot(a, b)", "torch.mm(t, u)", np.dot, torch.mm,
                (
                    _s((3, 4), (4, 5)), _s((3, 4), (4, 5), dtype=I64), _s((3, 0), (0, 2)),
                    _s((4,), (4,), naive=RuntimeError),
                    _s((2, 3, 4), (2, 4, 5), naive=RuntimeError),
                ),
                fixes=(Fix("torch.tensordot(t, u, dims=([t.ndim-1], [max(u.ndim-2, 0)]))",
                           _dot_like_numpy),),
            ),
            *(
                Case(
                    slug, "a @ b", torch_expr, lambda a, b: a @ b, torch_fn,
                    (
                        _s((3, 4), (4, 5)), _s((4,), (4,)), _s((2, 3, 4), (2, 4, 5)),
                        _s((2, 3, 4), (4, 5)), _s((3, 4), (4,), dtype=I64),
                        _s((3, 0), (0, 2)),
                    ),
                )
                for slug, torch_expr, torch_fn in (
                    ("matmul-op", "t @ u", lambda t, u: t @ u),
                    ("matmul-fn", "torch.matmul(t, u)", torch.matmul),
                )
            ),
        ),
    ),
    OpEntry(
        "Transpose",
        "arr.T, np.transpose(arr)",
        "tensor.T, tensor.transpose(0,1)",
        "equivalent with arguments",
        "2-D: all agree. N-d: `arr.T` and `np.transpose(arr)` reverse every axis; `tensor.T` "
        "does too but is deprecated for ndim != 2 (UserWarning on 0-d, 1-d and N-d), and "
        "`tensor.transpose(0,1)` swaps only the first two axes (IndexError below 2-D). Use "
        "`t.permute(tuple(reversed(range(t.ndim))))`; `t.mT` swaps only the last two.",
        (
            Case(
                "T", "a.T", "t.T", lambda a: a.T, lambda t: t.T,
                (
                    _s((3, 4)), _s((3, 4), dtype=I64), _s((4,), naive_warns=UserWarning),
                    _s((2, 3, 4), naive_warns=UserWarning),
                    _s((), naive_warns=UserWarning),
                ),
                fixes=(Fix("t.permute(tuple(reversed(range(t.ndim))))", _reverse_axes),),
            ),
            Case(
                "transpose", "np.transpose(a)", "t.transpose(0, 1)",
                np.transpose, lambda t: t.transpose(0, 1),
                (
                    _s((3, 4)), _s((2, 3, 4), naive="shape"),
                    _s((2, 3, 4, 5), dtype=I64, naive="shape"),
                    _s((4,), naive=IndexError), _s((), naive=IndexError),
                ),
                fixes=(Fix("t.permute(tuple(reversed(range(t.ndim))))", _reverse_axes),),
            ),
        ),
    ),
    OpEntry(
        "Concatenation",
        "np.concatenate([a,b]), np.stack([a,b])",
        "torch.cat([a,b]), torch.stack([a,b])",
        "equivalent",
        "Same results for same-dtype inputs, including empty and 0-d (stack) ones.",
        (
            Case(
                "concatenate", "np.concatenate([a, b])", "torch.cat([t, u])",
                lambda a, b: np.concatenate([a, b]), lambda t, u: torch.cat([t, u]),
                (_s((3, 4), (2, 4)), _s((0,), (3,), dtype=I64), _s((2, 0), (1, 0))),
            ),
            Case(
                "stack", "np.stack([a, b])", "torch.stack([t, u])",
                lambda a, b: np.stack([a, b]), lambda t, u: torch.stack([t, u]),
                (_s((3, 4), (3, 4)), _s((), ()), _s((0,), (0,), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Reduction Ops",
        "np.sum(arr), np.mean(arr), np.max(arr)",
        "torch.sum(tensor), torch.mean(tensor), torch.max(tensor)",
        "equivalent with arguments",
        "sum and full max agree (int32 sums to int64 in both; NaN propagates in both). "
        "`torch.mean` refuses integer tensors: `torch.mean(t, dtype=torch.float64)`. On empty "
        "input NumPy warns 'Mean of empty slice', torch returns nan silently. With an axis, "
        "`torch.max(t, dim)` returns (values, indices): use `.values` or `torch.amax`.",
        (
            Case(
                "sum", "np.sum(a)", "torch.sum(t)", np.sum, torch.sum,
                (_s((3, 4)), _s((0,)), _s(()), _s((3, 4), dtype=I64), _s((5,), dtype=I32)),
            ),
            Case(
                "mean", "np.mean(a)", "torch.mean(t)", np.mean, torch.mean,
                (
                    _s((3, 4)), _s(()), _s((0,), numpy_warns=RuntimeWarning),
                    _s((3, 4), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.mean(t, dtype=torch.float64)",
                           lambda t: torch.mean(t, dtype=torch.float64)),),
            ),
            Case(
                "max", "np.max(a)", "torch.max(t)", np.max, torch.max,
                (
                    _s((3, 4)), _s(()), _s((3, 4), dtype=I64),
                    _s(label="nan", make=_given([1.0, np.nan, 3.0])),
                ),
            ),
            Case(
                "max-axis", "np.max(a, axis=1)", "torch.max(t, dim=1)",
                lambda a: np.max(a, axis=1), lambda t: torch.max(t, dim=1),
                (_s((3, 4), naive="type"), _s((2, 3, 4), dtype=I64, naive="type")),
                fixes=(
                    Fix("torch.max(t, dim=1).values", lambda t: torch.max(t, dim=1).values),
                    Fix("torch.amax(t, dim=1)", lambda t: torch.amax(t, dim=1)),
                ),
            ),
        ),
    ),
    OpEntry(
        "Broadcasting",
        "arr + scalar, automatic expansion",
        "Same behavior with tensors",
        "equivalent with arguments",
        "Same broadcasting rule and result shapes. But an integer array plus a Python float "
        "is float64 in NumPy and float32 in torch: cast the tensor to float64 first.",
        (
            Case(
                "broadcast", "a + b", "t + u", lambda a, b: a + b, lambda t, u: t + u,
                (
                    _s((3, 1), (1, 4)), _s((2, 1, 4), (3, 1)), _s((0, 1), (4,)),
                    _s((3, 1), (4,), dtype=I64),
                ),
            ),
            Case(
                "scalar-int", "a + 2", "t + 2", lambda a: a + 2, lambda t: t + 2,
                (_s((3, 4)), _s(()), _s((3, 4), dtype=I64), _s((5,), dtype=I32)),
            ),
            Case(
                "scalar-float", "a + 2.5", "t + 2.5", lambda a: a + 2.5, lambda t: t + 2.5,
                (
                    _s((3, 4)), _s((3, 4), dtype=I64, naive="dtype"),
                    _s((), dtype=I64, naive="dtype"),
                ),
                fixes=(Fix("t.double() + 2.5 for integer t",
                           lambda t: _float_like_numpy(t) + 2.5),),
            ),
        ),
    ),
    OpEntry(
        "Boolean Indexing",
        "arr[arr > 5], np.where(condition)",
        "tensor[tensor > 5], torch.where(condition)",
        "equivalent",
        "Masking agrees; one-argument `np.where(cond)` and `torch.where(cond)` both return a "
        "tuple of int64 index arrays, one per axis (like nonzero).",
        (
            Case(
                "mask", "a[a > 0]", "t[t > 0]", lambda a: a[a > 0], lambda t: t[t > 0],
                (_s((3, 4)), _s(()), _s((0,)), _s((3, 4), dtype=I64)),
            ),
            Case(
                "where1", "np.where(a > 0)", "torch.where(t > 0)",
                lambda a: np.where(a > 0), lambda t: torch.where(t > 0),
                (_s((3, 4)), _s((5,)), _s((2, 3, 4), dtype=I64), _s((0,))),
            ),
        ),
    ),
    OpEntry(
        "Data Types",
        "arr.astype(np.float32), arr.dtype",
        "tensor.float(), tensor.dtype",
        "equivalent",
        "`tensor.float()` is float32 like `astype(np.float32)`; dtypes map one to one "
        "(np.float64 <-> torch.float64, ...).",
        (
            Case(
                "astype", "a.astype(np.float32)", "t.float()",
                lambda a: a.astype(np.float32), lambda t: t.float(),
                (_s((3, 4)), _s((3, 4), dtype=I64), _s(())),
            ),
            Case(
                "dtype", "a.dtype", "t.dtype", lambda a: a.dtype, lambda t: t.dtype,
                (_s((3,)), _s((3,), dtype=F32), _s((3,), dtype=I64), _s((3,), dtype=I32),
                 _s((3,), dtype="bool")),
            ),
        ),
    ),
    OpEntry(
        "Axis Operations",
        "np.sum(arr, axis=0), np.argmax(arr, axis=1)",
        "torch.sum(tensor, dim=0), torch.argmax(tensor, dim=1)",
        "equivalent",
        "`axis=` is `dim=`. argmax ties go to the first maximum in both, and NaN counts as the "
        "maximum in both.",
        (
            Case(
                "sum-axis0", "np.sum(a, axis=0)", "torch.sum(t, dim=0)",
                lambda a: np.sum(a, axis=0), lambda t: torch.sum(t, dim=0),
                (_s((3, 4)), _s((3, 4), dtype=I64), _s((0, 4)), _s((2, 3, 4))),
            ),
            Case(
                "argmax-axis1", "np.argmax(a, axis=1)", "torch.argmax(t, dim=1)",
                lambda a: np.argmax(a, axis=1), lambda t: torch.argmax(t, dim=1),
                (
                    _s((3, 4)), _s((2, 3, 4), dtype=I64),
                    _s(dtype=I64, label="ties",
                       make=_given([[1, 3, 3, 0], [5, 5, 5, 5], [0, 2, 0, 2]])),
                    _s(label="nan", make=_given([[1.0, np.nan, 5.0, np.nan], [2.0, 1, 0, 2]])),
                ),
            ),
        ),
    ),
    OpEntry(
        "Squeeze/Unsqueeze",
        "np.squeeze(arr), np.expand_dims(arr, axis=0)",
        "tensor.squeeze(), tensor.unsqueeze(0)",
        "equivalent",
        "Same shapes and values.",
        (
            Case(
                "squeeze", "np.squeeze(a)", "t.squeeze()", np.squeeze, lambda t: t.squeeze(),
                (_s((1, 3, 1)), _s(()), _s((0, 1)), _s((3, 4), dtype=I64)),
            ),
            Case(
                "expand-dims", "np.expand_dims(a, axis=0)", "t.unsqueeze(0)",
                lambda a: np.expand_dims(a, axis=0), lambda t: t.unsqueeze(0),
                (_s((3,)), _s(()), _s((0, 2)), _s((2, 3), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Flatten/Ravel",
        "arr.flatten(), arr.ravel()",
        "tensor.flatten(), tensor.view(-1)",
        "diverges",
        "Values agree; aliasing does not. `arr.flatten()` always copies, `tensor.flatten()` "
        "returns a view (or the tensor itself) when it can, so writes show in the source: use "
        "`t.flatten().clone()`. `tensor.view(-1)` raises on non-contiguous tensors where "
        "`arr.ravel()` copies: `t.reshape(-1)` is ravel's twin (view when possible).",
        (
            Case(
                "flatten", "a.flatten()", "t.flatten()",
                lambda a: a.flatten(), lambda t: t.flatten(),
                (_s((3, 4)), _s((2, 3, 4), dtype=I64), _s(()), _s((0, 3)),
                 _s((3, 4), layout="T")),
            ),
            Case(
                "flatten-aliasing", "a.flatten() (values, writes reach a?)",
                "t.flatten() (values, writes reach t?)",
                lambda a: _np_aliases(a, a.flatten()),
                lambda t: _torch_aliases(t, t.flatten()),
                (
                    _s((3, 4), naive="values"), _s((5,), dtype=I64, naive="values"),
                    _s((), naive="values"), _s((3, 4), layout="T"),
                ),
                fixes=(Fix("t.flatten().clone()",
                           lambda t: _torch_aliases(t, t.flatten().clone())),),
            ),
            Case(
                "ravel-view", "a.ravel() (values, writes reach a?)",
                "t.view(-1) (values, writes reach t?)",
                lambda a: _np_aliases(a, a.ravel()),
                lambda t: _torch_aliases(t, t.view(-1)),
                (
                    _s((3, 4)), _s((2, 3, 4), dtype=I64), _s(()),
                    _s((3, 4), layout="T", naive=RuntimeError),
                    _s((2, 3, 4), dtype=I64, layout="T", naive=RuntimeError),
                ),
                fixes=(Fix("t.reshape(-1)", lambda t: _torch_aliases(t, t.reshape(-1))),),
            ),
        ),
    ),
    OpEntry(
        "Clipping",
        "np.clip(arr, min_val, max_val)",
        "torch.clamp(tensor, min_val, max_val)",
        "equivalent with arguments",
        "Same values, NaN kept in both. Integer input with float bounds: NumPy float64, torch "
        "float32: cast to float64 first.",
        (
            Case(
                "clip", "np.clip(a, -0.5, 0.5)", "torch.clamp(t, -0.5, 0.5)",
                lambda a: np.clip(a, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5),
                (
                    _s((3, 4)), _s(()), _s((0,)),
                    _s(label="nan", make=_given([np.nan, 1.0, -1.0, 0.25])),
                    _s((3, 4), dtype=I64, naive="dtype"),
                ),
                fixes=(Fix("torch.clamp(t.double(), -0.5, 0.5) for integer t",
                           lambda t: torch.clamp(_float_like_numpy(t), -0.5, 0.5)),),
            ),
            Case(
                "clip-int-bounds", "np.clip(a, -3, 3)", "torch.clamp(t, -3, 3)",
                lambda a: np.clip(a, -3, 3), lambda t: torch.clamp(t, -3, 3),
                (_s((3, 4), dtype=I64), _s((3, 4)), _s((), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Sorting",
        "np.sort(arr), np.argsort(arr)",
        "torch.sort(tensor), torch.argsort(tensor)",
        "equivalent with arguments",
        "`torch.sort` returns (values, indices): use `.values`. Both sort along the last axis "
        "and put NaN last. Indices of tied elements are only comparable with "
        "`np.argsort(kind='stable')` and `torch.argsort(stable=True)`.",
        (
            Case(
                "sort", "np.sort(a)", "torch.sort(t)", np.sort, torch.sort,
                (
                    _s((5,), naive="type"), _s((3, 4), dtype=I64, naive="type"),
                    _s(label="nan", make=_given([3.0, np.nan, 1.0, 2.0]), naive="type"),
                    _s((0,), naive="type"),
                ),
                fixes=(Fix("torch.sort(t).values", lambda t: torch.sort(t).values),),
            ),
            Case(
                "argsort", "np.argsort(a)", "torch.argsort(t)", np.argsort, torch.argsort,
                (_s((7,)), _s((3, 4)), _s(label="nan", make=_given([3.0, np.nan, 1.0, 2.0]))),
            ),
            Case(
                "argsort-ties", "np.argsort(a, kind='stable')", "torch.argsort(t)",
                lambda a: np.argsort(a, kind="stable"), torch.argsort,
                (
                    _s((7,)),
                    _s(dtype=I64, label="ties", naive=None,
                       make=lambda rng: (rng.integers(0, 3, size=40),)),
                ),
                fixes=(Fix("torch.argsort(t, stable=True)",
                           lambda t: torch.argsort(t, stable=True)),),
            ),
        ),
    ),
    OpEntry(
        "Unique Values",
        "np.unique(arr)",
        "torch.unique(tensor)",
        "equivalent with arguments",
        "Both flatten and sort. NaN: `np.unique` collapses all NaNs into one (equal_nan=True "
        "since NumPy 1.24), `torch.unique` keeps each NaN. `np.unique(a, equal_nan=False)` "
        "matches `torch.unique`.",
        (
            Case(
                "unique", "np.unique(a)", "torch.unique(t)", np.unique, torch.unique,
                (
                    _s((3, 4)), _s(()), _s((0,)),
                    _s(dtype=I64, label="ties", make=lambda rng: (rng.integers(0, 4, 20),)),
                    _s(label="nan", make=_given([np.nan, 1.0, np.nan, 0.0]), naive="shape"),
                ),
                fixes=(Fix("torch.unique(t) with the NaNs collapsed into one",
                           _unique_like_numpy),),
            ),
            Case(
                "unique-equal-nan-false", "np.unique(a, equal_nan=False)", "torch.unique(t)",
                lambda a: np.unique(a, equal_nan=False), torch.unique,
                (_s(label="nan", make=_given([np.nan, 1.0, np.nan, 0.0])), _s((3, 4))),
            ),
        ),
    ),
    OpEntry(
        "Array Comparison",
        "np.equal(a, b), np.allclose(a, b)",
        "torch.eq(a, b), torch.allclose(a, b)",
        "equivalent with arguments",
        "Same defaults (rtol=1e-5, atol=1e-8, equal_nan=False, |a-b| <= atol + rtol*|b|). "
        "`torch.allclose` refuses operands of different dtypes (RuntimeError) where NumPy "
        "promotes: cast both to a common dtype.",
        (
            Case(
                "equal", "np.equal(a, b)", "torch.eq(t, u)", np.equal, torch.eq,
                (
                    _s((3, 4)), _s((3, 4), dtype=I64), _s(()), _s((0,)),
                    _s(label="nan", make=_given([np.nan, 1.0], [np.nan, 1.0])),
                ),
                make=_make_equal_pair,
            ),
            Case(
                "allclose", "np.allclose(a, b)", "torch.allclose(t, u)",
                np.allclose, torch.allclose,
                (
                    _s(label="rel5e-6", make=_make_allclose_pair(5e-6, 0.0)),
                    _s(label="rel2e-5", make=_make_allclose_pair(2e-5, 0.0)),
                    _s(label="abs5e-9", make=_given(np.zeros(3), np.full(3, 5e-9))),
                    _s(label="abs2e-8", make=_given(np.zeros(3), np.full(3, 2e-8))),
                    _s(label="nan", make=_given([np.nan, 1.0], [np.nan, 1.0])),
                    _s(dtype=I64, label="equal", make=_given([1, 2, 3], [1, 2, 3])),
                    _s(dtype="mixed", label="float64+float32", naive=RuntimeError,
                       make=_given(np.ones(3), np.ones(3, dtype=np.float32))),
                ),
                fixes=(Fix("torch.allclose(*(x.to(common) for x in (t, u)))",
                           lambda t, u: torch.allclose(*_numpy_promoted(t, u))),),
            ),
        ),
    ),
    OpEntry(
        "NaN Handling",
        "np.isnan(arr), np.nanmean(arr)",
        "torch.isnan(tensor), torch.nanmean(tensor)",
        "equivalent with arguments",
        "isnan agrees. nanmean agrees on floats; on all-NaN or empty input NumPy warns 'Mean "
        "of empty slice' and torch returns nan silently. `torch.nanmean` refuses integer "
        "tensors: cast to float64.",
        (
            Case(
                "isnan", "np.isnan(a)", "torch.isnan(t)", np.isnan, torch.isnan,
                (_s((3, 4)), _s((5,), dtype=I64), _s(()), _s((0,))),
                make=_make_with_nans,
            ),
            Case(
                "nanmean", "np.nanmean(a)", "torch.nanmean(t)", np.nanmean, torch.nanmean,
                (
                    _s((3, 4)), _s((7,)),
                    _s(label="allnan", make=_given([np.nan, np.nan]),
                       numpy_warns=RuntimeWarning),
                    _s((0,), numpy_warns=RuntimeWarning),
                    _s((3, 4), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.nanmean(t.double()) for integer t",
                           lambda t: torch.nanmean(_float_like_numpy(t))),),
                make=_make_with_nans,
            ),
        ),
    ),
    OpEntry(
        "Copying",
        "arr.copy()",
        "tensor.clone(), tensor.detach()",
        "diverges",
        "`clone()` is a copy. `detach()` is NOT: it shares storage with the source (only the "
        "autograd graph is cut), so writes show in the source. Use `t.detach().clone()`.",
        (
            Case(
                "copy-clone", "a.copy() (values, writes reach a?)",
                "t.clone() (values, writes reach t?)",
                lambda a: _np_aliases(a, a.copy()), lambda t: _torch_aliases(t, t.clone()),
                (_s((3, 4)), _s((5,), dtype=I64), _s(()), _s((3, 4), layout="T")),
            ),
            Case(
                "copy-detach", "a.copy() (values, writes reach a?)",
                "t.detach() (values, writes reach t?)",
                lambda a: _np_aliases(a, a.copy()), lambda t: _torch_aliases(t, t.detach()),
                (
                    _s((3, 4), naive="values"), _s((5,), dtype=I64, naive="values"),
                    _s((), naive="values"), _s((0,)),
                ),
                fixes=(Fix("t.detach().clone()",
                           lambda t: _torch_aliases(t, t.detach().clone())),),
            ),
        ),
    ),
    OpEntry(
        "Memory Layout",
        "np.ascontiguousarray(arr)",
        "tensor.contiguous()",
        "equivalent with arguments",
        "Both return a C-contiguous copy of a non-contiguous input. On 0-d input "
        "`np.ascontiguousarray` returns shape (1,) (it is documented as ndim >= 1), torch "
        "keeps (): `torch.atleast_1d(t).contiguous()`.",
        (
            Case(
                "contiguous", "np.ascontiguousarray(a) (values, C-contiguous?)",
                "t.contiguous() (values, contiguous?)",
                lambda a: (r := np.ascontiguousarray(a), bool(r.flags.c_contiguous)),
                lambda t: (r := t.contiguous(), r.is_contiguous()),
                (
                    _s((3, 4)), _s((3, 4), layout="T"), _s((2, 3, 4), dtype=I64, layout="T"),
                    _s((0, 3), layout="T"), _s((), naive="shape"),
                ),
                fixes=(Fix("torch.atleast_1d(t).contiguous()",
                           lambda t: (r := torch.atleast_1d(t).contiguous(),
                                      r.is_contiguous())),),
            ),
        ),
    ),
    OpEntry(
        "Splitting",
        "np.split(arr, 3), np.hsplit(arr, 2)",
        "torch.split(tensor, 3), torch.chunk(tensor, 2)",
        "diverges",
        "`np.split(a, 3)` makes 3 sections; `torch.split(t, 3)` makes chunks OF SIZE 3 (they "
        "agree only when len == 9). Use `torch.tensor_split(t, 3)`. `np.hsplit` splits axis 1 "
        "(axis 0 for 1-D), `torch.chunk` axis 0: use `torch.hsplit(t, 2)`. `torch.chunk` may "
        "return fewer pieces than asked (6 elements in 4 chunks gives 3); `np.array_split` "
        "matches `torch.tensor_split`.",
        (
            Case(
                "split3", "np.split(a, 3)", "torch.split(t, 3)",
                lambda a: np.split(a, 3), lambda t: torch.split(t, 3),
                (
                    _s((6,), naive="length"), _s((9,), dtype=I64), _s((3,), naive="length"),
                    _s((6, 2), naive="length"), _s((0,), naive="length"),
                ),
                fixes=(Fix("torch.tensor_split(t, 3)", lambda t: torch.tensor_split(t, 3)),),
            ),
            Case(
                "hsplit2", "np.hsplit(a, 2)", "torch.chunk(t, 2)",
                lambda a: np.hsplit(a, 2), lambda t: torch.chunk(t, 2),
                (
                    _s((6,)), _s((4, 6), naive="shape"), _s((2, 4), dtype=I64, naive="shape"),
                    _s((2, 4, 6), naive="shape"),
                ),
                fixes=(Fix("torch.hsplit(t, 2)", lambda t: torch.hsplit(t, 2)),),
            ),
            Case(
                "array-split4", "np.array_split(a, 4)", "torch.chunk(t, 4)",
                lambda a: np.array_split(a, 4), lambda t: torch.chunk(t, 4),
                (_s((8,)), _s((6,), naive="length"), _s((5, 2), dtype=I64, naive="length")),
                fixes=(Fix("torch.tensor_split(t, 4)", lambda t: torch.tensor_split(t, 4)),),
            ),
        ),
    ),
    OpEntry(
        "Padding",
        "np.pad(arr, pad_width)",
        "torch.nn.functional.pad(tensor, pad)",
        "equivalent with arguments",
        "`np.pad` takes (before, after) pairs from the FIRST axis on; `F.pad` takes "
        "(left, right) pairs from the LAST dim backwards, and only as many as given: "
        "`np.pad(a, ((1, 0), (2, 2)))` is `F.pad(t, (2, 2, 1, 0))`. Both pad with 0 by default.",
        (
            Case(
                "pad-2d", "np.pad(a, ((1, 0), (2, 2)))", "F.pad(t, (1, 0, 2, 2))",
                lambda a: np.pad(a, ((1, 0), (2, 2))), lambda t: F.pad(t, (1, 0, 2, 2)),
                (
                    _s((3, 4), naive="shape"), _s((2, 5), dtype=I64, naive="shape"),
                    _s((0, 3), naive="shape"), _s((3, 3), naive="shape"),
                ),
                fixes=(Fix("F.pad(t, (2, 2, 1, 0))", lambda t: F.pad(t, (2, 2, 1, 0))),),
            ),
            Case(
                "pad-1d", "np.pad(a, (1, 2))", "F.pad(t, (1, 2))",
                lambda a: np.pad(a, (1, 2)), lambda t: F.pad(t, (1, 2)),
                (_s((5,)), _s((3,), dtype=I64), _s((0,))),
            ),
            Case(
                "pad-last-axis", "np.pad(a, ((0, 0), (0, 0), (1, 1)))", "F.pad(t, (1, 1))",
                lambda a: np.pad(a, ((0, 0), (0, 0), (1, 1))), lambda t: F.pad(t, (1, 1)),
                (_s((2, 3, 4)), _s((1, 2, 2), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Meshgrid",
        "np.meshgrid(x, y)",
        "torch.meshgrid(x, y)",
        "equivalent with arguments",
        "`np.meshgrid` defaults to indexing='xy' (shape (len(y), len(x))); `torch.meshgrid` "
        "defaults to 'ij' and warns that indexing will be required. Pass `indexing='xy'`.",
        (
            Case(
                "meshgrid", "np.meshgrid(a, b)", "torch.meshgrid(t, u)",
                np.meshgrid, torch.meshgrid,
                (
                    _s((3,), (4,), naive="shape", naive_warns=UserWarning),
                    _s((3,), (3,), naive="values", naive_warns=UserWarning),
                    _s((2,), (5,), dtype=I64, naive="shape", naive_warns=UserWarning),
                    _s((0,), (2,), naive="shape", naive_warns=UserWarning),
                ),
                fixes=(Fix("torch.meshgrid(t, u, indexing='xy')",
                           lambda t, u: torch.meshgrid(t, u, indexing="xy")),),
            ),
            Case(
                "meshgrid-ij", "np.meshgrid(a, b, indexing='ij')",
                "torch.meshgrid(t, u, indexing='ij')",
                lambda a, b: np.meshgrid(a, b, indexing="ij"),
                lambda t, u: torch.meshgrid(t, u, indexing="ij"),
                (_s((3,), (4,)), _s((2,), (2,), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Linear Algebra - Norm",
        "np.linalg.norm(arr)",
        "torch.norm(tensor)",
        "equivalent with arguments",
        "Without `ord` both give the 2-norm of the flattened input. `torch.norm` is "
        "deprecated (in its docs; it does not warn), and `torch.norm(A, p=2)` is the "
        "flattened vector norm where `np.linalg.norm(A, 2)` is the spectral norm (same for "
        "p=1: sum vs max column sum). Use `torch.linalg.norm(t, ord)`; integer input needs "
        "a float cast in torch.",
        (
            Case(
                "norm", "np.linalg.norm(a)", "torch.norm(t)", np.linalg.norm, torch.norm,
                (
                    _s((3, 4)), _s((5,)), _s((2, 3, 4)), _s(()), _s((0,)),
                    _s((3, 4), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.linalg.norm(t) (t.double() for integer t)",
                           lambda t: torch.linalg.norm(_float_like_numpy(t))),),
            ),
            *(
                Case(
                    f"norm-ord{order}", f"np.linalg.norm(a, {order})", f"torch.norm(t, {order})",
                    lambda a, o=order: np.linalg.norm(a, o), lambda t, o=order: torch.norm(t, o),
                    (_s((3, 4), naive="values"), _s((4, 4), naive="values"), _s((5,))),
                    fixes=(Fix(f"torch.linalg.norm(t, {order})",
                               lambda t, o=order: torch.linalg.norm(t, o)),),
                )
                for order in (2, 1)
            ),
        ),
    ),
    OpEntry(
        "Linear Algebra - Inverse",
        "np.linalg.inv(arr)",
        "torch.inverse(tensor)",
        "equivalent with arguments",
        "Agree on float input, batched and 0x0 included. Integer matrices: NumPy inverts in "
        "float64, torch raises: cast first. `torch.linalg.inv` is the current spelling.",
        (
            Case(
                "inv", "np.linalg.inv(a)", "torch.inverse(t)", np.linalg.inv, torch.inverse,
                (
                    _s((3, 3)), _s((2, 4, 4)), _s((1, 1)), _s((0, 0)),
                    _s((3, 3), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.linalg.inv(t.double()) for integer t",
                           lambda t: torch.linalg.inv(_float_like_numpy(t))),),
                make=_make_invertible,
            ),
        ),
    ),
    OpEntry(
        "Linear Algebra - Eigenvalues",
        "np.linalg.eig(arr)",
        "torch.eig(tensor)",
        "diverges",
        "`torch.eig` was removed (calling it raises RuntimeError). Use `torch.linalg.eig`: "
        "compare eigenvalues as a set (order is not guaranteed) and check A v = λ v "
        "(eigenvectors are defined up to scale). torch always returns complex; NumPy returns "
        "real arrays when every eigenvalue is real (e.g. symmetric input).",
        (
            Case(
                "eig", "np.linalg.eig(a)", "torch.eig(t)", np.linalg.eig,
                lambda t: torch.eig(t),  # type: ignore[attr-defined]
                (
                    _s((4, 4), naive=RuntimeError), _s((2, 3, 3), naive=RuntimeError),
                    _s((0, 0), naive=RuntimeError),
                    _s((3, 3), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.linalg.eig(t) (t.double() for integer t)",
                           lambda t: torch.linalg.eig(_float_like_numpy(t))),),
                compare=_compare_eig,
            ),
            Case(
                "eigvals", "np.linalg.eig(a).eigenvalues", "torch.linalg.eigvals(t)",
                lambda a: np.linalg.eig(a).eigenvalues, torch.linalg.eigvals,
                (
                    _s((4, 4)), _s((2, 5, 5)),
                    _s((3, 3), label="symmetric", naive="dtype",
                       make=lambda rng: _make_symmetric(rng, _s((3, 3)))),
                    _s((3, 3), dtype=I64, label="symmetric", naive=RuntimeError,
                       make=lambda rng: _make_symmetric(rng, _s((3, 3), dtype=I64))),
                ),
                fixes=(Fix("torch.linalg.eigvals(t), .real when every imaginary part is 0",
                           _eigvals_like_numpy),),
                compare=_compare_eigvals,
            ),
        ),
        checks=(
            Check("torch-eig-removed", "calling torch.eig raises: it was removed",
                  _check_torch_eig_removed),
        ),
    ),
    OpEntry(
        "Advanced Indexing - Take",
        "np.take(arr, indices)",
        "torch.take(tensor, indices)",
        "equivalent",
        "Both index the flattened input (negative indices wrap in both); the result has the "
        "indices' shape. With `axis=`, `np.take(a, i, axis=0)` is `torch.index_select(t, 0, i)`.",
        (
            Case(
                "take", "np.take(a, i)", "torch.take(t, i)", np.take, torch.take,
                (
                    _s((3, 4), (5,)), _s((2, 3), (2, 2), dtype=I64), _s((3, 4), (0,)),
                    _s((), (3,)),
                ),
                make=_make_take,
            ),
            Case(
                "take-axis0", "np.take(a, i, axis=0)", None,
                lambda a, i: np.take(a, i, axis=0), None,
                (_s((4, 3), (5,)), _s((3, 2, 2), (2,), dtype=I64)),
                fixes=(Fix("torch.index_select(t, 0, i)",
                           lambda t, i: torch.index_select(t, 0, i)),),
                make=_make_take_axis0,
            ),
        ),
    ),
    OpEntry(
        "Advanced Indexing - Put",
        "np.put(arr, indices, values)",
        "tensor.scatter_(dim, indices, values)",
        "diverges",
        "`np.put` writes at FLAT indices of any-dimensional input; `scatter_` indexes along a "
        "dim and needs an index of the input's ndim (RuntimeError otherwise), so the two agree "
        "only on 1-D input (or an empty index). Use `t.put_(i, v)` or "
        "`t.view(-1).scatter_(0, i, v)`.",
        (
            Case(
                "put", "np.put(a, i, v)", "t.scatter_(0, i, v)",
                _np_put, lambda t, i, v: t.scatter_(0, i, v),
                (
                    _s((6,), (3,)), _s((3, 4), (5,), naive=RuntimeError),
                    _s((2, 3, 4), (4,), dtype=I64, naive=RuntimeError),
                    _s((3, 4), (0,)),
                ),
                fixes=(
                    Fix("t.put_(i, v)", lambda t, i, v: t.put_(i, v)),
                    Fix("t.view(-1).scatter_(0, i, v)", _scatter_flat),
                ),
                make=_make_put,
            ),
        ),
    ),
    OpEntry(
        "Advanced Indexing - Choose",
        "np.choose(indices, arrays)",
        "torch.gather(tensor, dim, indices)",
        "diverges",
        "`np.choose(i, [a, b, c])` picks, per element, from the array named by i; "
        "`torch.gather` picks along a dim of ONE tensor with an index of its ndim. Stacking "
        "the choices and gathering along the new axis is the equivalent: "
        "`torch.gather(torch.stack(arrays), 0, i.unsqueeze(0)).squeeze(0)`.",
        (
            Case(
                "choose", "np.choose(i, [a, b, c])", "torch.gather(torch.stack([t, u, v]), 0, i)",
                lambda i, *cs: np.choose(i, cs),
                lambda i, *cs: torch.gather(torch.stack(cs), 0, i),
                (
                    _s((3, 4), naive=RuntimeError), _s((5,), dtype=I64, naive=RuntimeError),
                    _s((0,)), _s(()),
                ),
                fixes=(Fix("torch.gather(torch.stack([t, u, v]), 0, i.unsqueeze(0)).squeeze(0)",
                           _torch_choose),),
                make=_make_choose,
            ),
        ),
    ),
    OpEntry(
        "Statistics - Std Dev",
        "np.std(arr)",
        "torch.std(tensor)",
        "equivalent with arguments",
        "`np.std` is the population std (ddof=0); `torch.std` is unbiased (correction=1), and "
        "on 0-d input returns nan with a warning where NumPy returns 0. Use "
        "`torch.std(t, correction=0)` (`ddof=k` is `correction=k`). Integer input: torch "
        "refuses it, cast to float64.",
        (
            Case(
                "std", "np.std(a)", "torch.std(t)", np.std, torch.std, _STD_SAMPLES_NAIVE,
                fixes=(
                    Fix("torch.std(t, correction=0) (t.double() for integer t)",
                        lambda t: torch.std(_float_like_numpy(t), correction=0)),
                    Fix("torch.std(t, unbiased=False) (t.double() for integer t)",
                        lambda t: torch.std(_float_like_numpy(t), unbiased=False)),
                ),
            ),
            Case(
                "std-axis0", "np.std(a, axis=0)", "torch.std(t, dim=0)",
                lambda a: np.std(a, axis=0), lambda t: torch.std(t, dim=0),
                (_s((3, 4), naive="values"), _s((5, 2, 3), naive="values")),
                fixes=(Fix("torch.std(t, dim=0, correction=0)",
                           lambda t: torch.std(t, dim=0, correction=0)),),
            ),
            Case(
                "std-ddof1", "np.std(a, ddof=1)", "torch.std(t)",
                lambda a: np.std(a, ddof=1), torch.std, (_s((3, 4)), _s((7,))),
            ),
        ),
    ),
    OpEntry(
        "Statistics - Variance",
        "np.var(arr)",
        "torch.var(tensor)",
        "equivalent with arguments",
        "As for std: `np.var` is ddof=0, `torch.var` unbiased. Use "
        "`torch.var(t, correction=0)`; cast integer input to float64.",
        (
            Case(
                "var", "np.var(a)", "torch.var(t)", np.var, torch.var, _STD_SAMPLES_NAIVE,
                fixes=(Fix("torch.var(t, correction=0) (t.double() for integer t)",
                           lambda t: torch.var(_float_like_numpy(t), correction=0)),),
            ),
            Case(
                "var-ddof1", "np.var(a, ddof=1)", "torch.var(t)",
                lambda a: np.var(a, ddof=1), torch.var, (_s((3, 4)), _s((7,))),
            ),
        ),
    ),
    OpEntry(
        "Statistics - Percentiles",
        "np.percentile(arr, q)",
        "torch.quantile(tensor, q)",
        "equivalent with arguments",
        "`np.percentile` takes q in [0, 100], `torch.quantile` q in [0, 1]: q=50 raises in "
        "torch, and q=1 silently gives the maximum instead of the 1st percentile. Pass q/100 "
        "(a tensor of the input's dtype for several q). Both default to linear "
        "interpolation; NumPy's `method=` maps onto torch's `interpolation=` (linear, lower, "
        "higher, midpoint, nearest). Integer input: cast to float64.",
        (
            Case(
                "percentile-q50", "np.percentile(a, 50)", "torch.quantile(t, 50)",
                lambda a: np.percentile(a, 50), lambda t: torch.quantile(t, 50),
                (
                    _s((11,), naive=RuntimeError), _s((3, 4), naive=RuntimeError),
                    _s((), naive=RuntimeError), _s((7,), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.quantile(t, 0.5) (t.double() for integer t)",
                           lambda t: torch.quantile(_float_like_numpy(t), 0.5)),),
            ),
            Case(
                "percentile-q1", "np.percentile(a, 1)", "torch.quantile(t, 1)",
                lambda a: np.percentile(a, 1), lambda t: torch.quantile(t, 1),
                (_s((11,), naive="values"), _s((3, 4), naive="values")),
                fixes=(Fix("torch.quantile(t, 0.01)", lambda t: torch.quantile(t, 0.01)),),
            ),
            Case(
                "percentile-many", "np.percentile(a, [25, 50, 90])",
                "torch.quantile(t, torch.tensor([25., 50., 90.]))",
                lambda a: np.percentile(a, [25, 50, 90]),
                lambda t: torch.quantile(t, torch.tensor([25.0, 50.0, 90.0], dtype=t.dtype)),
                (_s((11,), naive=RuntimeError), _s((3, 4), naive=RuntimeError)),
                fixes=(Fix("torch.quantile(t, torch.tensor([0.25, 0.5, 0.9], dtype=t.dtype))",
                           lambda t: torch.quantile(
                               t, torch.tensor([0.25, 0.5, 0.9], dtype=t.dtype))),),
            ),
            *(
                _percentile_method_case(method)
                for method in ("linear", "lower", "higher", "midpoint", "nearest")
            ),
        ),
    ),
    OpEntry(
        "Statistics - Histogram",
        "np.histogram(arr)",
        "torch.histc(tensor)",
        "diverges",
        "`np.histogram` returns (int64 counts, edges) over 10 equal bins of [min, max], the "
        "last bin closed; `torch.histc` returns float counts only, over 100 bins, and refuses "
        "integer input. `torch.histogram(t, bins=10)` matches (counts as float: cast to "
        "int64), and so does `torch.histc(t, bins=10, min=t.min(), max=t.max())` with the "
        "edges from linspace (a constant input needs NumPy's ±0.5 range).",
        (
            Case(
                "histogram", "np.histogram(a)", "torch.histc(t)", np.histogram, torch.histc,
                (
                    _s((100,), naive="type"), _s((3, 4), naive="type"),
                    _s(label="onedges", make=_given(np.arange(11.0)), naive="type"),
                    _s(label="constant", make=_given([2.0, 2.0, 2.0]), naive="type"),
                    _s((0,), naive="type"),
                    _s((50,), dtype=I64, naive=NotImplementedError),
                ),
                fixes=(
                    Fix("torch.histogram(t, bins=10) with int64 counts", _histogram_like_numpy),
                    Fix("torch.histc(t, bins=10, min=t.min(), max=t.max()), "
                        "edges = torch.linspace(min, max, 11)", _histc_like_numpy),
                ),
            ),
            Case(
                "histogram-counts", "np.histogram(a)[0]", "torch.histc(t)",
                lambda a: np.histogram(a)[0], torch.histc,
                (_s((100,), naive="shape"), _s((3, 4), naive="shape")),
                fixes=(Fix("torch.histc(t, bins=10, min=t.min(), max=t.max()).long()",
                           lambda t: _histc_like_numpy(t)[0]),),
            ),
        ),
    ),
    OpEntry(
        "Einstein Summation",
        "np.einsum('ij,jk->ik', a, b)",
        "torch.einsum('ij,jk->ik', a, b)",
        "equivalent",
        "Same subscripts, same results (integer input stays integer). See "
        "parity_tests/test_einsum_exercises.py for the seed's exercises.",
        (
            Case(
                "einsum", "np.einsum('ij,jk->ik', a, b)", "torch.einsum('ij,jk->ik', t, u)",
                lambda a, b: np.einsum("ij,jk->ik", a, b),
                lambda t, u: torch.einsum("ij,jk->ik", t, u),
                (
                    _s((3, 4), (4, 5)), _s((3, 4), (4, 5), dtype=I64), _s((0, 4), (4, 2)),
                    _s((3, 0), (0, 2)),
                ),
            ),
        ),
    ),
    OpEntry(
        "Roll Elements",
        "np.roll(arr, shift)",
        "torch.roll(tensor, shift)",
        "equivalent",
        "Without an axis both roll the FLATTENED input and restore the shape; shifts wrap "
        "modulo the size; `axis=` is `dims=`.",
        (
            Case(
                "roll", "np.roll(a, 2)", "torch.roll(t, 2)",
                lambda a: np.roll(a, 2), lambda t: torch.roll(t, 2),
                (_s((5,)), _s((3, 4)), _s((2, 3, 4), dtype=I64), _s((0,)), _s(())),
            ),
            Case(
                "roll-negative", "np.roll(a, -7)", "torch.roll(t, -7)",
                lambda a: np.roll(a, -7), lambda t: torch.roll(t, -7),
                (_s((5,)), _s((3, 4), dtype=I64)),
            ),
            Case(
                "roll-axis1", "np.roll(a, 1, axis=1)", "torch.roll(t, 1, dims=1)",
                lambda a: np.roll(a, 1, axis=1), lambda t: torch.roll(t, 1, dims=1),
                (_s((3, 4)), _s((2, 3, 4), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Flip Arrays",
        "np.flip(arr)",
        "torch.flip(tensor, dims)",
        "equivalent with arguments",
        "`np.flip(a)` reverses every axis; `torch.flip` requires dims (TypeError without): "
        "`torch.flip(t, dims=tuple(range(t.ndim)))`. With an axis they agree.",
        (
            Case(
                "flip", "np.flip(a)", "torch.flip(t)", np.flip, lambda t: torch.flip(t),
                (
                    _s((5,), naive=TypeError), _s((3, 4), naive=TypeError),
                    _s((2, 3, 4), dtype=I64, naive=TypeError), _s((), naive=TypeError),
                    _s((0, 3), naive=TypeError),
                ),
                fixes=(Fix("torch.flip(t, dims=tuple(range(t.ndim)))",
                           lambda t: torch.flip(t, dims=tuple(range(t.ndim)))),),
            ),
            Case(
                "flip-axis0", "np.flip(a, axis=0)", "torch.flip(t, dims=(0,))",
                lambda a: np.flip(a, axis=0), lambda t: torch.flip(t, dims=(0,)),
                (_s((5,)), _s((3, 4), dtype=I64), _s((0, 3))),
            ),
        ),
    ),
    OpEntry(
        "Numerical Gradient",
        "np.gradient(arr)",
        "No direct equivalent (use autograd)",
        "diverges",
        "The table is wrong: `torch.gradient` (since 1.11) computes the same central "
        "differences, one-sided at the edges (`spacing=` and `edge_order=` map too). Autograd "
        "computes exact derivatives of code, not finite differences of samples. torch returns "
        "a tuple even for 1-D (take [0]) and float32 for integer input (cast to float64).",
        (
            Case(
                "gradient", "np.gradient(a)", None, np.gradient, None,
                (
                    _s((6,)), _s((3, 4)), _s((2, 3, 4)), _s((5,), dtype=I64),
                    _s((3, 4), dtype=I64),
                ),
                fixes=(Fix("torch.gradient(t) ([0] for 1-D; t.double() for integer t)",
                           _gradient_like_numpy),),
            ),
            Case(
                "gradient-spacing", "np.gradient(a, 0.5, edge_order=2)", None,
                lambda a: np.gradient(a, 0.5, edge_order=2), None,
                (_s((6,)), _s((3, 4))),
                fixes=(Fix("torch.gradient(t, spacing=0.5, edge_order=2)",
                           lambda t: _gradient_like_numpy(t, spacing=0.5, edge_order=2)),),
            ),
        ),
    ),
    OpEntry(
        "1D Convolution",
        "np.convolve(a, b)",
        "torch.nn.functional.conv1d()",
        "diverges",
        "`np.convolve` is a true convolution (kernel flipped), 'full' mode by default, and "
        "swaps its arguments so the longer one slides; `F.conv1d` is a cross-correlation "
        "(no flip) over (N, C, L) tensors, 'valid' without padding. They agree only for "
        "symmetric kernels. Use `F.conv1d(a.view(1,1,-1), b.flip(0).view(1,1,-1), "
        "padding=len(b)-1)` for 'full'.",
        (
            Case(
                "convolve", "np.convolve(a, b)",
                "F.conv1d(t.view(1,1,-1), u.view(1,1,-1), padding=len(u)-1)",
                np.convolve, _conv1d_no_flip,
                (
                    _s((8,), (3,), naive="values"), _s((5,), (5,), naive="values"),
                    _s((3,), (5,), naive="values"), _s((6,), (3,), dtype=I64, naive="values"),
                    _s(label="symmetric", make=_given([1.0, 4.0, -2.0, 0.5], [1.0, 2.0, 1.0])),
                ),
                fixes=(Fix("F.conv1d(t.view(1,1,-1), u.flip(0).view(1,1,-1), "
                           "padding=len(u)-1)", _convolve_full),),
            ),
            Case(
                "convolve-valid", "np.convolve(a, b, 'valid')",
                "F.conv1d(t.view(1,1,-1), u.view(1,1,-1))",
                lambda a, b: np.convolve(a, b, "valid"),
                lambda t, u: F.conv1d(t.view(1, 1, -1), u.view(1, 1, -1)).view(-1),
                (
                    _s((8,), (3,), naive="values"), _s((3,), (5,), naive=RuntimeError),
                    _s((6,), (2,), dtype=I64, naive="values"),
                ),
                fixes=(Fix("F.conv1d(longer, shorter.flip(0)) on (1, 1, L) views",
                           _convolve_valid),),
            ),
        ),
    ),
    OpEntry(
        "FFT",
        "np.fft.fft(arr)",
        "torch.fft.fft(tensor)",
        "equivalent with arguments",
        "Same transform along the last axis. dtypes: float64 -> complex128 in both; float32 -> "
        "complex64 in both since NumPy 2.0 (NumPy 1.x returned complex128); integer input -> "
        "complex128 in NumPy but complex64 in torch: cast to float64 first.",
        (
            Case(
                "fft", "np.fft.fft(a)", "torch.fft.fft(t)", np.fft.fft, torch.fft.fft,
                (
                    _s((8,)), _s((3, 4)), _s((1,)),
                    _s((8,), dtype=F32, naive=AGREE if NUMPY2 else "dtype"),
                    _s((8,), dtype=I64, naive="dtype"),
                ),
                fixes=(Fix("torch.fft.fft(t.double()) for integer t", _fft_like_numpy),),
            ),
        ),
    ),
    OpEntry(
        "Polynomial Operations",
        "np.polynomial.polynomial.polyval()",
        "No direct equivalent",
        "diverges",
        "True, torch has no polyval; Horner's rule is three lines of torch. Mind the "
        "coefficient order: `np.polynomial.polynomial.polyval(x, c)` takes c in INCREASING "
        "order (c[0] + c[1] x + ...), the older `np.polyval(p, x)` in DECREASING order. "
        "polynomial.polyval computes in float64 even for integer input.",
        (
            Case(
                "polyval", "np.polynomial.polynomial.polyval(a, c)", None,
                np.polynomial.polynomial.polyval, None,
                (
                    _s((5,), (4,)), _s((2, 3), (3,)), _s((), (1,)), _s((0,), (3,)),
                    _s((5,), (3,), dtype=I64),
                ),
                fixes=(Fix("Horner: out = c[-1] + x*0; out = c[-i] + out*x (float64 c)",
                           lambda t, c: _horner(t, _float_like_numpy(c))),),
                make=_make_poly,
            ),
            Case(
                "polyval-decreasing", "np.polyval(c, a)", "Horner with increasing-order c",
                lambda a, c: np.polyval(c, a), _horner,
                (_s((5,), (4,), naive="values"), _s((2, 3), (3,), dtype=I64, naive="values")),
                fixes=(Fix("Horner on c.flip(0)", lambda t, c: _horner(t, c.flip(0))),),
                make=_make_poly,
            ),
        ),
        checks=(
            Check("torch-has-no-polyval", "torch has no polyval (the table's claim holds)",
                  _check_torch_has_no_polyval),
        ),
    ),
    OpEntry(
        "Save/Load Arrays",
        "np.savez('file.npz', arr)",
        "torch.save(tensor, 'file.pt')",
        "equivalent",
        "Round trips are exact (dtype and shape kept, 0-d and empty included). Both loaders "
        "refuse pickled objects when asked: `np.load(allow_pickle=False)` (NumPy's default) "
        "raises ValueError on an object array; `torch.load(weights_only=True)` (torch's "
        "default since 2.6) raises UnpicklingError on an arbitrary Python object.",
        (
            Case(
                "save-load", "np.savez(p, a); np.load(p, allow_pickle=False)['arr_0']",
                "torch.save(t, p); torch.load(p, weights_only=True)",
                _np_savez_roundtrip, _torch_save_roundtrip,
                (
                    _s((3, 4)), _s((5,), dtype=I64), _s(()), _s((0, 3)), _s((2, 2), dtype=F32),
                    _s((4,), dtype="bool"),
                ),
                tol=(0.0, 0.0),
            ),
        ),
        checks=(
            Check("np-load-refuses-object-arrays",
                  "np.load(allow_pickle=False), and np.load by default, raise ValueError on "
                  "an object array; allow_pickle=True loads it",
                  _check_np_load_refuses_object_arrays),
            Check("torch-load-refuses-arbitrary-objects",
                  "torch.load(weights_only=True), and torch.load by default, raise "
                  "UnpicklingError on a custom object; weights_only=False loads it",
                  _check_torch_load_refuses_arbitrary_objects),
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# Markdown generation
# --------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def render_markdown(entries: Sequence[OpEntry] = REGISTRY) -> str:
    """The Markdown page for the table (pure: built from the registry's data)."""
    n_samples = len(iter_cases(entries))
    n_checks = len(iter_checks(entries))
    lines = [
        "# NumPy ↔ PyTorch operation table, checked",
        "",
        f"<!-- Generated by `{DOC_COMMAND}` from parity_tests/op_table.py. "
        "Do not edit by hand. -->",
        "",
        f"Generated by `{DOC_COMMAND}` from the executable cases in "
        "`parity_tests/op_table.py` (run by `parity_tests/test_op_table.py`). It must not be "
        "edited by hand: the tests run the `--check` logic and fail when this page is stale.",
        "",
        f"{VERSIONS_PREFIX} NumPy {np.__version__}, PyTorch {torch.__version__}.",
        "",
        f"{len(entries)} rows, {sum(len(e.cases) for e in entries)} cases, "
        f"{n_samples} case-by-input runs and {n_checks} stand-alone checks. Each case runs "
        "the NumPy expression and the table's PyTorch expression on the same seeded inputs "
        "(float64 and an integer dtype where it applies; 0-d and empty shapes where "
        "meaningful) and compares type, shape, dtype and values.",
        "",
        "Verdicts: **equivalent**: agrees as written on every input tried; **equivalent "
        "with arguments**: the same torch operation agrees once an argument is given or the "
        "input is cast (see the note); **diverges**: the table's torch expression computes "
        "something else, is missing or was removed (the note gives the equivalent).",
        "",
        "| Row | NumPy | PyTorch | Verdict | Note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in entries:
        lines.append(
            f"| {_cell(e.row)} | {_code(e.numpy_syntax)} | {_code(e.torch_syntax)} | "
            f"{e.verdict} | {_cell(e.note)} |"
        )
    lines += ["", "## Cases", ""]
    lines.append(
        "What each case runs, what the table's torch expression does on each input "
        "(`dtype-shape`, `-T`: non-contiguous), and the fixes that agree on all of them."
    )
    for e in entries:
        lines += ["", f"### {e.row}", ""]
        for case in e.cases:
            torch_part = (
                f"table's torch `{case.torch_expr}`" if case.torch_fn is not None
                else "no torch expression in the table"
            )
            lines.append(f"- `{case.slug}`: NumPy `{case.numpy_expr}`; {torch_part}.")
            if case.torch_fn is not None:
                outcomes = "; ".join(
                    f"{s.tag}: {describe_expectation(s.naive)}"
                    + (f" (+{s.naive_warns.__name__})" if s.naive_warns else "")
                    for s in case.samples
                )
                lines.append(f"  - table's pair: {outcomes}.")
            else:
                lines.append(f"  - inputs: {', '.join(s.tag for s in case.samples)}.")
            for fix in case.fixes:
                lines.append(f"  - agrees on every input: `{fix.expr}`.")
        for check in e.checks:
            lines.append(f"- check `{check.slug}`: {check.description}.")
    return "\n".join(lines) + "\n"


def run_all(entries: Sequence[OpEntry] = REGISTRY) -> list[str]:
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


def _without_versions(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(VERSIONS_PREFIX)]


def doc_differences(path: Path, rendered: str | None = None) -> list[str]:
    """A unified diff between the page at `path` and a fresh rendering (versions ignored)."""
    fresh = render_markdown() if rendered is None else rendered
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    return list(
        difflib.unified_diff(
            _without_versions(current), _without_versions(fresh),
            fromfile=str(path), tofile="generated", lineterm="",
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``--write PATH`` runs every case and writes the page; ``--check PATH`` exits 1
    when the page differs from what would be generated (or a case fails)."""
    parser = argparse.ArgumentParser(prog="python -m parity_tests.op_table", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, metavar="PATH", help="run the cases, write PATH")
    group.add_argument("--check", type=Path, metavar="PATH", help="exit 1 if PATH is stale")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    failures = run_all()
    if failures:
        print(f"{len(failures)} op-table case(s) failed:", file=sys.stderr)
        print("\n".join(failures), file=sys.stderr)
        return 1
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(render_markdown(), encoding="utf-8")
        print(f"wrote {args.write}")
        return 0
    diff = doc_differences(args.check)
    if diff:
        print("\n".join(diff))
        print(f"{args.check} is stale: regenerate with `{DOC_COMMAND}`", file=sys.stderr)
        return 1
    print(f"{args.check} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
