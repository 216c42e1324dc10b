"""Torch helpers that reproduce NumPy semantics, shared by rows of several sections.

Helpers used by one row only live with that row, in its ``rows_*`` module.
"""

from __future__ import annotations

import numpy as np
import torch

from parity_tests.op_table.compare import numpy_dtype_of


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
