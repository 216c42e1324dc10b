"""Seed rows 34-37, "Statistics - Std Dev / Variance / Percentiles / Histogram"."""

from __future__ import annotations

import numpy as np
import torch

from parity_tests.op_table.model import (
    I64,
    Fix,
    OpCase,
    OpEntry,
    _given,
    _s,
)
from parity_tests.op_table.numpy_like import _float_like_numpy


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


_STD_SAMPLES_NAIVE = (
    _s((3, 4), naive="values"),
    _s((5,), naive="values"),
    _s((), naive="values", naive_warns=UserWarning),
    _s((0,), numpy_warns=RuntimeWarning, naive_warns=UserWarning, fix_warns=UserWarning),
    _s((3, 4), dtype=I64, naive=RuntimeError),
)


def _percentile_method_case(method: str) -> OpCase:
    return OpCase(
        f"percentile-{method}",
        f"np.percentile(a, 30, method={method!r})",
        f"torch.quantile(t, 0.3, interpolation={method!r})",
        lambda a: np.percentile(a, 30, method=method),
        lambda t: torch.quantile(t, 0.3, interpolation=method),
        # shape 6: the virtual index 0.3 * 5 = 1.5 is a tie for 'nearest' (both round to even)
        (_s((11,)), _s((6,)), _s((4, 5))),
    )


ROWS: tuple[OpEntry, ...] = (
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
            OpCase(
                "std", "np.std(a)", "torch.std(t)", np.std, torch.std, _STD_SAMPLES_NAIVE,
                fixes=(
                    Fix("torch.std(t, correction=0) (t.double() for integer t)",
                        lambda t: torch.std(_float_like_numpy(t), correction=0)),
                    Fix("torch.std(t, unbiased=False) (t.double() for integer t)",
                        lambda t: torch.std(_float_like_numpy(t), unbiased=False)),
                ),
            ),
            OpCase(
                "std-axis0", "np.std(a, axis=0)", "torch.std(t, dim=0)",
                lambda a: np.std(a, axis=0), lambda t: torch.std(t, dim=0),
                (_s((3, 4), naive="values"), _s((5, 2, 3), naive="values")),
                fixes=(Fix("torch.std(t, dim=0, correction=0)",
                           lambda t: torch.std(t, dim=0, correction=0)),),
            ),
            OpCase(
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
            OpCase(
                "var", "np.var(a)", "torch.var(t)", np.var, torch.var, _STD_SAMPLES_NAIVE,
                fixes=(Fix("torch.var(t, correction=0) (t.double() for integer t)",
                           lambda t: torch.var(_float_like_numpy(t), correction=0)),),
            ),
            OpCase(
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
            OpCase(
                "percentile-q50", "np.percentile(a, 50)", "torch.quantile(t, 50)",
                lambda a: np.percentile(a, 50), lambda t: torch.quantile(t, 50),
                (
                    _s((11,), naive=RuntimeError), _s((3, 4), naive=RuntimeError),
                    _s((), naive=RuntimeError), _s((7,), dtype=I64, naive=RuntimeError),
                ),
                fixes=(Fix("torch.quantile(t, 0.5) (t.double() for integer t)",
                           lambda t: torch.quantile(_float_like_numpy(t), 0.5)),),
            ),
            OpCase(
                "percentile-q1", "np.percentile(a, 1)", "torch.quantile(t, 1)",
                lambda a: np.percentile(a, 1), lambda t: torch.quantile(t, 1),
                (_s((11,), naive="values"), _s((3, 4), naive="values")),
                fixes=(Fix("torch.quantile(t, 0.01)", lambda t: torch.quantile(t, 0.01)),),
            ),
            OpCase(
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
            OpCase(
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
            OpCase(
                "histogram-counts", "np.histogram(a)[0]", "torch.histc(t)",
                lambda a: np.histogram(a)[0], torch.histc,
                (_s((100,), naive="shape"), _s((3, 4), naive="shape")),
                fixes=(Fix("torch.histc(t, bins=10, min=t.min(), max=t.max()).long()",
                           lambda t: _histc_like_numpy(t)[0]),),
            ),
        ),
    ),
)
