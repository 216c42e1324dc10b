"""Seed rows 1-13, Array Creation ... Boolean Indexing (the first half of the seed's bold rows)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from parity_tests.op_table.compare import _describe, to_numpy
from parity_tests.op_table.model import (
    I32,
    I64,
    Fix,
    InputArrays,
    Mismatch,
    OpCase,
    OpEntry,
    OpSample,
    _given,
    _s,
)
from parity_tests.op_table.numpy_like import _float_like_numpy, _numpy_promoted, _reverse_axes
from parity_tests.op_table.runner import random_array
from parity_tests.seeding import DEFAULT_SEED


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


def _make_nonneg(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    return tuple(np.abs(random_array(rng, s, sample.dtype)) for s in sample.shapes)


ROWS: tuple[OpEntry, ...] = (
    OpEntry(
        "Array Creation",
        "np.array([1,2,3])",
        "torch.tensor([1,2,3])",
        "equivalent with arguments",
        "Integer data: both int64. Float data and the empty list: NumPy float64, torch float32 "
        "(torch's default dtype). Use `torch.tensor(x, dtype=torch.float64)` (or "
        "`torch.from_numpy` / `torch.as_tensor` on the NumPy array).",
        (
            OpCase(
                "array-int", "np.array(a.tolist())", "torch.tensor(t.tolist())",
                lambda a: np.array(a.tolist()), lambda t: torch.tensor(t.tolist()),
                (_s((3,), dtype=I64), _s((2, 3), dtype=I64), _s((), dtype=I64)),
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
                "rand",
                "np.random.RandomState(0).rand(*a.shape)",
                "torch.rand(*t.shape, generator=torch.Generator().manual_seed(0))",
                lambda a: np.random.RandomState(DEFAULT_SEED).rand(*a.shape),
                lambda t: torch.rand(
                    *t.shape, generator=torch.Generator().manual_seed(DEFAULT_SEED)
                ),
                (
                    _s((3, 4), naive="dtype"), _s((4000,), naive="dtype"),
                    _s((0,), naive="dtype"), _s((), naive=TypeError),
                ),
                fixes=(
                    Fix(
                        "torch.rand(t.shape, dtype=torch.float64, generator=g)",
                        lambda t: torch.rand(
                            t.shape, dtype=torch.float64,
                            generator=torch.Generator().manual_seed(DEFAULT_SEED),
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
            OpCase(
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
            OpCase(
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
            OpCase(
                "shape", "a.shape", "t.shape", lambda a: a.shape, lambda t: t.shape,
                (_s((3, 4)), _s(()), _s((0,)), _s((2, 3, 4), dtype=I64)),
            ),
            OpCase(
                "reshape", "a.reshape(2, 3)", "t.reshape(2, 3)",
                lambda a: a.reshape(2, 3), lambda t: t.reshape(2, 3),
                (_s((6,)), _s((3, 2), dtype=I64), _s((3, 2), layout="T")),
            ),
            OpCase(
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
            OpCase(
                "index0", "a[0]", "t[0]", lambda a: a[0], lambda t: t[0],
                (_s((4,)), _s((4, 3), dtype=I64), _s((2, 3, 4))),
            ),
            OpCase(
                "slice", "a[1:3]", "t[1:3]", lambda a: a[1:3], lambda t: t[1:3],
                (_s((4,)), _s((4, 3), dtype=I64), _s((0,)), _s((1,))),
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
                "mul2", "a * 2", "t * 2", lambda a: a * 2, lambda t: t * 2,
                (_s((3, 4)), _s(()), _s((0,)), _s((3, 4), dtype=I64)),
            ),
            OpCase(
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
            OpCase(
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
                OpCase(
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
            OpCase(
                "T", "a.T", "t.T", lambda a: a.T, lambda t: t.T,
                (
                    _s((3, 4)), _s((3, 4), dtype=I64), _s((4,), naive_warns=UserWarning),
                    _s((2, 3, 4), naive_warns=UserWarning),
                    _s((), naive_warns=UserWarning),
                ),
                fixes=(Fix("t.permute(tuple(reversed(range(t.ndim))))", _reverse_axes),),
            ),
            OpCase(
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
            OpCase(
                "concatenate", "np.concatenate([a, b])", "torch.cat([t, u])",
                lambda a, b: np.concatenate([a, b]), lambda t, u: torch.cat([t, u]),
                (_s((3, 4), (2, 4)), _s((0,), (3,), dtype=I64), _s((2, 0), (1, 0))),
            ),
            OpCase(
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
            OpCase(
                "sum", "np.sum(a)", "torch.sum(t)", np.sum, torch.sum,
                (_s((3, 4)), _s((0,)), _s(()), _s((3, 4), dtype=I64), _s((5,), dtype=I32)),
            ),
            OpCase(
                "mean", "np.mean(a)", "torch.mean(t)", np.mean, torch.mean,
                (
                    _s((3, 4)), _s(()), _s((0,), numpy_warns=RuntimeWarning),
                    _s((3, 4), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.mean(t, dtype=torch.float64)",
                           lambda t: torch.mean(t, dtype=torch.float64)),),
            ),
            OpCase(
                "max", "np.max(a)", "torch.max(t)", np.max, torch.max,
                (
                    _s((3, 4)), _s(()), _s((3, 4), dtype=I64),
                    _s(label="nan", make=_given([1.0, np.nan, 3.0])),
                ),
            ),
            OpCase(
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
            OpCase(
                "broadcast", "a + b", "t + u", lambda a, b: a + b, lambda t, u: t + u,
                (
                    _s((3, 1), (1, 4)), _s((2, 1, 4), (3, 1)), _s((0, 1), (4,)),
                    _s((3, 1), (4,), dtype=I64),
                ),
            ),
            OpCase(
                "scalar-int", "a + 2", "t + 2", lambda a: a + 2, lambda t: t + 2,
                (_s((3, 4)), _s(()), _s((3, 4), dtype=I64), _s((5,), dtype=I32)),
            ),
            OpCase(
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
            OpCase(
                "mask", "a[a > 0]", "t[t > 0]", lambda a: a[a > 0], lambda t: t[t > 0],
                (_s((3, 4)), _s(()), _s((0,)), _s((3, 4), dtype=I64)),
            ),
            OpCase(
                "where1", "np.where(a > 0)", "torch.where(t > 0)",
                lambda a: np.where(a > 0), lambda t: torch.where(t > 0),
                (_s((3, 4)), _s((5,)), _s((2, 3, 4), dtype=I64), _s((0,))),
            ),
        ),
    ),
)
