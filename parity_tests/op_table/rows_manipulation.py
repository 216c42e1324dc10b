"""Seed rows 14-27, Data Types ... Meshgrid (the second half of the seed's bold rows)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from parity_tests.op_table.model import (
    F32,
    I32,
    I64,
    Fix,
    InputArrays,
    OpCase,
    OpEntry,
    OpSample,
    _given,
    _s,
)
from parity_tests.op_table.numpy_like import _float_like_numpy, _numpy_promoted
from parity_tests.op_table.runner import random_array


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


def _make_allclose_pair(
    scale: float, offset: float
) -> Callable[[np.random.Generator], InputArrays]:
    def make(rng: np.random.Generator) -> InputArrays:
        a = rng.standard_normal(5)
        return a, a * (1 + scale) + offset

    return make


def _make_equal_pair(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    b = a.copy()
    b.reshape(-1)[::2] += 1
    return a, b


def _make_with_nans(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    (shape,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    if a.dtype.kind == "f" and a.size:
        a.reshape(-1)[::3] = np.nan
    return (a,)


ROWS: tuple[OpEntry, ...] = (
    OpEntry(
        "Data Types",
        "arr.astype(np.float32), arr.dtype",
        "tensor.float(), tensor.dtype",
        "equivalent",
        "`tensor.float()` is float32 like `astype(np.float32)`; dtypes map one to one "
        "(np.float64 <-> torch.float64, ...).",
        (
            OpCase(
                "astype", "a.astype(np.float32)", "t.float()",
                lambda a: a.astype(np.float32), lambda t: t.float(),
                (_s((3, 4)), _s((3, 4), dtype=I64), _s(())),
            ),
            OpCase(
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
            OpCase(
                "sum-axis0", "np.sum(a, axis=0)", "torch.sum(t, dim=0)",
                lambda a: np.sum(a, axis=0), lambda t: torch.sum(t, dim=0),
                (_s((3, 4)), _s((3, 4), dtype=I64), _s((0, 4)), _s((2, 3, 4))),
            ),
            OpCase(
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
            OpCase(
                "squeeze", "np.squeeze(a)", "t.squeeze()", np.squeeze, lambda t: t.squeeze(),
                (_s((1, 3, 1)), _s(()), _s((0, 1)), _s((3, 4), dtype=I64)),
            ),
            OpCase(
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
            OpCase(
                "flatten", "a.flatten()", "t.flatten()",
                lambda a: a.flatten(), lambda t: t.flatten(),
                (_s((3, 4)), _s((2, 3, 4), dtype=I64), _s(()), _s((0, 3)),
                 _s((3, 4), layout="T")),
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
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
            OpCase(
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
            OpCase(
                "sort", "np.sort(a)", "torch.sort(t)", np.sort, torch.sort,
                (
                    _s((5,), naive="type"), _s((3, 4), dtype=I64, naive="type"),
                    _s(label="nan", make=_given([3.0, np.nan, 1.0, 2.0]), naive="type"),
                    _s((0,), naive="type"),
                ),
                fixes=(Fix("torch.sort(t).values", lambda t: torch.sort(t).values),),
            ),
            OpCase(
                "argsort", "np.argsort(a)", "torch.argsort(t)", np.argsort, torch.argsort,
                (_s((7,)), _s((3, 4)), _s(label="nan", make=_given([3.0, np.nan, 1.0, 2.0]))),
            ),
            OpCase(
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
            OpCase(
                "unique", "np.unique(a)", "torch.unique(t)", np.unique, torch.unique,
                (
                    _s((3, 4)), _s(()), _s((0,)),
                    _s(dtype=I64, label="ties", make=lambda rng: (rng.integers(0, 4, 20),)),
                    _s(label="nan", make=_given([np.nan, 1.0, np.nan, 0.0]), naive="shape"),
                ),
                fixes=(Fix("torch.unique(t) with the NaNs collapsed into one",
                           _unique_like_numpy),),
            ),
            OpCase(
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
            OpCase(
                "equal", "np.equal(a, b)", "torch.eq(t, u)", np.equal, torch.eq,
                (
                    _s((3, 4)), _s((3, 4), dtype=I64), _s(()), _s((0,)),
                    _s(label="nan", make=_given([np.nan, 1.0], [np.nan, 1.0])),
                ),
                make=_make_equal_pair,
            ),
            OpCase(
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
            OpCase(
                "isnan", "np.isnan(a)", "torch.isnan(t)", np.isnan, torch.isnan,
                (_s((3, 4)), _s((5,), dtype=I64), _s(()), _s((0,))),
                make=_make_with_nans,
            ),
            OpCase(
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
            OpCase(
                "copy-clone", "a.copy() (values, writes reach a?)",
                "t.clone() (values, writes reach t?)",
                lambda a: _np_aliases(a, a.copy()), lambda t: _torch_aliases(t, t.clone()),
                (_s((3, 4)), _s((5,), dtype=I64), _s(()), _s((3, 4), layout="T")),
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
                "split3", "np.split(a, 3)", "torch.split(t, 3)",
                lambda a: np.split(a, 3), lambda t: torch.split(t, 3),
                (
                    _s((6,), naive="length"), _s((9,), dtype=I64), _s((3,), naive="length"),
                    _s((6, 2), naive="length"), _s((0,), naive="length"),
                ),
                fixes=(Fix("torch.tensor_split(t, 3)", lambda t: torch.tensor_split(t, 3)),),
            ),
            OpCase(
                "hsplit2", "np.hsplit(a, 2)", "torch.chunk(t, 2)",
                lambda a: np.hsplit(a, 2), lambda t: torch.chunk(t, 2),
                (
                    _s((6,)), _s((4, 6), naive="shape"), _s((2, 4), dtype=I64, naive="shape"),
                    _s((2, 4, 6), naive="shape"),
                ),
                fixes=(Fix("torch.hsplit(t, 2)", lambda t: torch.hsplit(t, 2)),),
            ),
            OpCase(
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
            OpCase(
                "pad-2d", "np.pad(a, ((1, 0), (2, 2)))", "F.pad(t, (1, 0, 2, 2))",
                lambda a: np.pad(a, ((1, 0), (2, 2))), lambda t: F.pad(t, (1, 0, 2, 2)),
                (
                    _s((3, 4), naive="shape"), _s((2, 5), dtype=I64, naive="shape"),
                    _s((0, 3), naive="shape"), _s((3, 3), naive="shape"),
                ),
                fixes=(Fix("F.pad(t, (2, 2, 1, 0))", lambda t: F.pad(t, (2, 2, 1, 0))),),
            ),
            OpCase(
                "pad-1d", "np.pad(a, (1, 2))", "F.pad(t, (1, 2))",
                lambda a: np.pad(a, (1, 2)), lambda t: F.pad(t, (1, 2)),
                (_s((5,)), _s((3,), dtype=I64), _s((0,))),
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
                "meshgrid-ij", "np.meshgrid(a, b, indexing='ij')",
                "torch.meshgrid(t, u, indexing='ij')",
                lambda a, b: np.meshgrid(a, b, indexing="ij"),
                lambda t, u: torch.meshgrid(t, u, indexing="ij"),
                (_s((3,), (4,)), _s((2,), (2,), dtype=I64)),
            ),
        ),
    ),
)
