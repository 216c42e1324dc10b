"""Seed rows 28-30, "Linear Algebra - Norm / Inverse / Eigenvalues"."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from parity_tests.op_table.compare import _compare_values, _describe, compare_outputs, to_numpy
from parity_tests.op_table.model import (
    I64,
    Check,
    Fix,
    InputArrays,
    Mismatch,
    OpCase,
    OpEntry,
    OpSample,
    _s,
)
from parity_tests.op_table.numpy_like import _float_like_numpy
from parity_tests.op_table.runner import random_array


def _eigvals_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """np.linalg.eig's eigenvalues: real dtype when every imaginary part is exactly 0."""
    lam = torch.linalg.eigvals(_float_like_numpy(t))
    return lam.real if not bool((lam.imag != 0).any()) else lam


def _check_torch_eig_removed() -> None:
    try:
        torch.eig(torch.eye(2))  # type: ignore[attr-defined]
    except AttributeError:
        return
    except RuntimeError as exc:
        assert "removed" in str(exc), str(exc)
        return
    raise AssertionError("torch.eig ran: update the Eigenvalues row")


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


def _make_invertible(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    n = shape[-1]
    return (a + (3 * n + 10) * np.eye(n, dtype=a.dtype),)


def _make_symmetric(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    return (a + np.swapaxes(a, -1, -2),)


ROWS: tuple[OpEntry, ...] = (
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
            OpCase(
                "norm", "np.linalg.norm(a)", "torch.norm(t)", np.linalg.norm, torch.norm,
                (
                    _s((3, 4)), _s((5,)), _s((2, 3, 4)), _s(()), _s((0,)),
                    _s((3, 4), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.linalg.norm(t) (t.double() for integer t)",
                           lambda t: torch.linalg.norm(_float_like_numpy(t))),),
            ),
            *(
                OpCase(
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
            OpCase(
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
            OpCase(
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
            OpCase(
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
)
