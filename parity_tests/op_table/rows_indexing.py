"""Seed rows 31-33, "Advanced Indexing - Take / Put / Choose"."""

from __future__ import annotations

import numpy as np
import torch

from parity_tests.op_table.model import (
    I64,
    Fix,
    InputArrays,
    OpCase,
    OpEntry,
    OpSample,
    _s,
)
from parity_tests.op_table.runner import random_array


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


def _make_take(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    shape, idx_shape = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    size = max(a.size, 1)
    return a, rng.integers(-size, size, size=idx_shape)


def _make_take_axis0(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    shape, idx_shape = sample.shapes
    return random_array(rng, shape, sample.dtype), rng.integers(0, shape[0], size=idx_shape)


def _make_put(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    shape, (k,) = sample.shapes
    a = random_array(rng, shape, sample.dtype)
    idx = rng.choice(a.size, size=k, replace=False).astype(np.int64)
    return a, idx, random_array(rng, (k,), sample.dtype) * 10


def _make_choose(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    (shape,) = sample.shapes
    idx = rng.integers(0, 3, size=shape)
    return (idx, *(random_array(rng, shape, sample.dtype) for _ in range(3)))


ROWS: tuple[OpEntry, ...] = (
    OpEntry(
        "Advanced Indexing - Take",
        "np.take(arr, indices)",
        "torch.take(tensor, indices)",
        "equivalent",
        "Both index the flattened input (negative indices wrap in both); the result has the "
        "indices' shape. With `axis=`, `np.take(a, i, axis=0)` is `torch.index_select(t, 0, i)`.",
        (
            OpCase(
                "take", "np.take(a, i)", "torch.take(t, i)", np.take, torch.take,
                (
                    _s((3, 4), (5,)), _s((2, 3), (2, 2), dtype=I64), _s((3, 4), (0,)),
                    _s((), (3,)),
                ),
                make=_make_take,
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
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
)
