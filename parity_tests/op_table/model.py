"""The op table's data model: rows, cases, input samples, fixes, checks and mismatches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Verdict = Literal["equivalent", "equivalent with arguments", "diverges"]
VERDICTS: tuple[str, ...] = ("equivalent", "equivalent with arguments", "diverges")
MismatchKind = Literal["type", "length", "shape", "dtype", "values"]
MISMATCH_KINDS: tuple[str, ...] = ("type", "length", "shape", "dtype", "values")
AGREE = "agree"
# What the table's torch expression does on a sample: AGREE, a mismatch kind, the exception
# class it raises, or None (implementation-defined, not asserted).
Expectation = str | type[BaseException] | None

F64, F32, I64, I32 = "float64", "float32", "int64", "int32"

InputArrays = tuple[np.ndarray, ...]
CompareFn = Callable[[Any, Any, InputArrays], "Mismatch | None"]


@dataclass(frozen=True)
class OpSample:
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
class OpCase:
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
    samples: tuple[OpSample, ...]
    fixes: tuple[Fix, ...] = ()
    make: Callable[[np.random.Generator, OpSample], InputArrays] | None = None
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
    cases: tuple[OpCase, ...]
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
) -> OpSample:
    return OpSample(
        shapes, dtype, label, naive, layout, make, numpy_warns, naive_warns, fix_warns
    )


def _given(*arrays: Any) -> Callable[[np.random.Generator], InputArrays]:
    """A sample `make` returning fixed arrays (copies, so module data is never mutated)."""
    frozen = tuple(np.array(a) for a in arrays)
    return lambda rng: tuple(a.copy() for a in frozen)
