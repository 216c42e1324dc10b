"""Strict comparison of a NumPy result with a torch result: structure, shape, dtype, values."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from parity_tests.op_table.model import Mismatch
from parity_tests.tolerances import PARITY

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
