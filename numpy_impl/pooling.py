"""2-D max / average pooling, adaptive pooling and global average pooling on NHWC images.

The classes carry torch's names and signatures: :class:`MaxPool2d`, :class:`AvgPool2d`,
:class:`AdaptiveMaxPool2d`, :class:`AdaptiveAvgPool2d`; the seeds' :class:`Pool2D`
(``mode="max"`` or ``"average"``) and :class:`GlobalAvgPool2D` are thin classes over the
same implementation. Torch's rules, which the seeds' pooling layer does not all follow:

- max pooling's padded cells never win (as if padded with −inf, not with 0 — with 0, a
  window of negative inputs would output 0 and send its gradient nowhere); a window whose
  real cells are all −inf sends its gradient to its first real cell, never into the
  padding;
- the gradient of a window goes to ONE cell: its FIRST maximum in row-major order, not
  every tied element; a window holding NaN outputs NaN and sends its gradient to its LAST
  NaN (torch scans the window keeping ``val > max || isnan(val)``); overlapping windows
  (stride < kernel) accumulate, and a NaN in ``dy`` reaches that one cell only;
- average pooling counts padded zeros by default (``count_include_pad=True``), with
  ``ceil_mode`` the divisor is the window clipped to the padded input (not the full
  kernel), and ``divisor_override`` replaces the divisor;
- ``stride`` defaults to ``kernel_size``; ``padding`` may be at most ``kernel_size // 2``
  on each axis (torch's check, on the kernel, not its dilated span);
- ``ceil_mode`` rounds the output size up, but the last window must start inside the input
  or the left padding: one that would start in the right padding is dropped
  (:func:`numpy_impl.windows.pool_output_size`);
- adaptive pooling: output cell o of an axis of size I pooled to O covers
  [⌊o·I/O⌋, ⌈(o + 1)·I/O⌉), windows of varying size that may overlap; ``None`` in
  ``output_size`` keeps that axis' input size.

Each rule was checked against torch 2.13 by a script (NCHW and channels_last, float32 and
float64) before it was written down; the registry's samples keep checking it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from numpy_impl.base import TwoPathLayer
from numpy_impl.buffering import per_image_channel, ufunc_buffer
from numpy_impl.thresholds import size_threshold
from numpy_impl.validation import check_choice
from numpy_impl.windows import (
    as_pair,
    check_flag,
    check_images,
    clipped_offsets,
    kernel_too_large,
    pool_output_size,
    span,
)


def torch_argmax(flat: np.ndarray) -> np.ndarray:
    """Index along axis 1 of the cell torch's max pooling picks in each window of ``flat``
    (N, cells, C), cells in row-major order: the LAST NaN if the window holds one, else the
    FIRST maximum (``np.argmax`` would take the first NaN)."""
    nan = np.isnan(flat)
    first_max = np.argmax(np.where(nan, -np.inf, flat), axis=1)
    last_nan = flat.shape[1] - 1 - np.argmax(nan[:, ::-1], axis=1)
    return np.where(nan.any(axis=1), last_nan, first_max)


def first_maximum(views: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The element-wise maximum of equally shaped arrays (a window's cells, in row-major
    order) and, for each, the boolean mask "this cell is the one torch picks": the FIRST
    maximum, or the LAST NaN where the window holds NaN (the maximum is then NaN). The
    masks partition every position."""
    if len(views) == 1:
        return views[0].copy(), np.ones((1, *views[0].shape), dtype=bool)
    y = np.maximum(views[0], views[1])  # np.maximum propagates NaN
    for view in views[2:]:
        np.maximum(y, view, out=y)
    # mask[t] = (view_t == y) and no earlier view was; the last takes what none before did.
    masks = np.empty((len(views), *y.shape), dtype=bool)
    taken = np.equal(views[0], y, out=masks[0]).copy()
    for t in range(1, len(views) - 1):
        mask = np.equal(views[t], y, out=masks[t])
        np.greater(mask, taken, out=mask)  # equal and (not taken)
        np.logical_or(taken, mask, out=taken)
    np.logical_not(taken, out=masks[-1])
    # NaN never equals anything: a NaN window's gradient goes to its LAST NaN instead.
    nan = np.isnan(y)
    if nan.any():
        found = ~nan
        for t in range(len(views) - 1, -1, -1):
            hit = np.isnan(views[t]) & ~found
            found |= hit
            np.copyto(masks[t], hit, where=nan)
    return y, masks


def scatter_to_picked(picked: np.ndarray, dy: np.ndarray, x_shape: tuple[int, ...]
                      ) -> np.ndarray:
    """The loop paths' max backward: each g[n, r, c, ch] added to the input cell the
    forward picked, ``picked`` holding its flat h·W + w position (torch's index)."""
    n, h, w, channels = x_shape
    dx = np.zeros((n, h * w, channels), dtype=dy.dtype)
    batch, channel = np.indices((n, channels))
    with np.errstate(invalid="ignore"):  # +inf and −inf in dy picking one cell: NaN (torch)
        for row in range(dy.shape[1]):
            for col in range(dy.shape[2]):
                # one cell per (n, ch): no index repeats within one assignment
                dx[batch, picked[:, row, col, :], channel] += dy[:, row, col, :]
    return dx.reshape(x_shape)


def _scatter_add(target: np.ndarray, axis: int, index: np.ndarray, values: np.ndarray,
                 distinct: bool) -> None:
    """``target[..., index, ...] += values`` along ``axis`` (1 or 2); repeated indices
    accumulate (``np.add.at``) unless ``distinct`` says there are none."""
    where: tuple[Any, ...] = (slice(None),) * axis + (index,)
    if distinct:
        target[where] += values
    else:
        np.add.at(target, where, values)


# --------------------------------------------------------------------------- separable max
def _stage_offsets(kwargs: Mapping[str, Any], shape: tuple[int, ...]) -> int:
    """The most kernel offsets with real cells along one axis, for a max pooling sample."""
    layer = MaxPool2d(**kwargs)
    out_hw = layer._geometry("size", shape)
    return max(len(offsets) for offsets in layer._offsets(shape, out_hw))


#: Offsets per stage from which a stage's labels (0 .. offsets − 1) need 2 bytes.
WIDE_LABELS = size_threshold(
    "MaxPool2d.WIDE_LABELS", 257, entries=("max_pool2d",), measure=_stage_offsets,
    blocks=False, doc="kernel offsets with real cells along one axis: from 257 on the "
    "max-pooling labels are 2-byte")


Offsets = list[tuple[int, slice, slice]]


def _along(a: np.ndarray, axis: int, index: slice) -> np.ndarray:
    """``a`` indexed along ``axis`` (1: rows, 2: columns of NHWC)."""
    return a[(slice(None),) * axis + (index,)]


#: NumPy's ufunc buffer inside the stages (:func:`numpy_impl.buffering.ufunc_buffer`;
#: default 8192): the stages' views have runs of C (a strided NHWC column view) to OW·C
#: values. Measured at N=32 28² C=32 (fwd+bwd of a stage): 1024 was the fastest or within
#: 2% of it for k2 s2 and k3 s1 p0/p1 on both axes, up to 1.7x faster than the default.
STAGE_BUFFER = 1024


def max_stage(x: np.ndarray, axis: int, offsets: Offsets, out: np.ndarray) -> np.ndarray:
    """One stage of separable max pooling: ``out`` = the maximum over the windows of x
    along ``axis`` (clipped to x: :func:`numpy_impl.windows.clipped_offsets`), and the
    returned labels: per output, the position in ``offsets`` of the cell torch picks.

    The label is the FIRST maximum: with ne_t = (cell t ≠ max), or True where offset t has
    no cell, label = Σ_t Π_{u≤t} ne_u, the number of leading cells that are not the
    maximum, computed with 1-byte logical ops (bool labels for two offsets, 1-byte ones
    up to 256, wider from WIDE_LABELS offsets on). A window whose cells are all −inf so
    picks its first cell. NaN never equals the maximum: :func:`nan_stage` relabels NaN
    windows afterwards.
    """
    k = len(offsets)
    full = [(o.start, o.stop) == (0, out.shape[axis]) for _, o, _ in offsets]
    cells = [_along(x, axis, i) for _, _, i in offsets]
    if k == 1:  # the only offset with cells covers every output
        np.copyto(out, cells[0])
        return np.zeros(out.shape, dtype=bool)
    if full[0] and full[1]:
        np.maximum(cells[0], cells[1], out=out)
        rest: list[int] = list(range(2, k))
    elif any(full):
        np.copyto(out, cells[full.index(True)])
        rest = [t for t in range(k) if t != full.index(True)]
    else:
        out.fill(-np.inf)
        rest = list(range(k))
    for t in rest:
        part = _along(out, axis, offsets[t][1])
        np.maximum(part, cells[t], out=part)

    def not_max(t: int, into: np.ndarray) -> np.ndarray:
        if full[t]:
            return np.not_equal(cells[t], out, out=into)
        into.fill(True)
        part = _along(into, axis, offsets[t][1])
        np.not_equal(cells[t], _along(out, axis, offsets[t][1]), out=part)
        return into

    leading = not_max(0, np.empty(out.shape, dtype=bool))
    if k == 2:
        return leading
    labels = leading.astype(np.uint8 if k < WIDE_LABELS else np.min_scalar_type(k - 1))
    scratch = np.empty(out.shape, dtype=bool)
    for t in range(1, k - 1):
        np.logical_and(leading, not_max(t, scratch), out=leading)
        labels += leading.view(np.uint8)  # 0/1 as uint8: no bool → uint8 cast in the add
    return labels


def _row_pairs(a: np.ndarray, rows: Offsets, out_h: int, width: int) -> np.ndarray:
    """The read-only view (N, OH, 2, width, C) of ``a``'s cells of the two row offsets:
    [:, r, t] is row offset t of output row r, columns 0 .. width − 1 (both offsets step
    by the row stride). Windows that tile ``a`` make it ``a`` itself, reshaped."""
    (_, _, first), (_, _, second) = rows
    n, _, _, channels = a.shape
    strides = a.strides
    return np.lib.stride_tricks.as_strided(
        a[:, first.start:, :width], shape=(n, out_h, 2, width, channels),
        strides=(strides[0], first.step * strides[1], (second.start - first.start) * strides[1],
                 strides[2], strides[3]), writeable=False)


def max_pairs_rows_first(x: np.ndarray, rows: Offsets, y: np.ndarray) -> np.ndarray | None:
    """Max pooling of 2×2 windows with no padded cell whose columns pair up (stride 2,
    no dilation: window c covers columns 2c and 2c + 1), the rows reduced first: y = the
    maximum, and the returned mask (N, OH, 2, 2·OW, C), laid out like the cells of
    :func:`_row_pairs`: True at the one cell of each window torch picks; None when y holds
    a NaN (the caller then runs :func:`max_stage` columns first, whose NaN rule is
    :func:`nan_stage`).

    Why: in NHWC a row offset's cells are runs of W·C values but a column offset's only
    runs of C, which NumPy's ufuncs stream several times slower. Here only the column
    stage of the maximum reads runs of C; the mask, picked = (cell == y of its window), is
    one pass over x's own layout against y repeated over each window's two columns (a
    block copy), and the backward is one product (:func:`unmax_pairs`). A window with
    several cells equal to y (a tie; all cells −inf) keeps its first in row-major order:
    ties are found by counting the mask (one True per window without them).
    """
    n, _, _, channels = x.shape
    out_h, out_w = y.shape[1:3]
    cells = _row_pairs(x, rows, out_h, 2 * out_w)
    column_max = np.maximum(cells[:, :, 0], cells[:, :, 1]).reshape(n, out_h, out_w, 2, channels)
    np.maximum(column_max[:, :, :, 0], column_max[:, :, :, 1], out=y)
    if holds_nan(y):
        return None
    picked = np.equal(cells, np.repeat(y, 2, axis=2)[:, :, None])
    if np.count_nonzero(picked) != y.size:  # a tie: keep each window's first cell
        windows = picked.reshape(n, out_h, 2, out_w, 2, channels)
        taken = windows[:, :, 0, :, 0].copy()
        for row, col in ((0, 1), (1, 0), (1, 1)):  # the others in row-major order
            cell = windows[:, :, row, :, col]
            np.greater(cell, taken, out=cell)  # picked and no earlier cell was
            taken |= cell
    return picked


def unmax_pairs(g: np.ndarray, picked: np.ndarray, rows: Offsets, x_shape: tuple[int, ...],
                finite: bool) -> np.ndarray:
    """The adjoint of :func:`max_pairs_rows_first`: dx = g·picked, g repeated over each
    window's cells, written where the windows tile the input, else added into zeros row
    offset by row offset (overlapping rows accumulate). A non-finite g, for which 0·g is
    NaN, is selected with ``np.where`` instead (exact, but branchy: several times slower)."""
    out_h, out_w = g.shape[1:3]
    spread = np.repeat(g, 2, axis=2)[:, :, None]  # (N, OH, 1, 2·OW, C)
    grads = np.multiply(spread, picked) if finite else np.where(picked, spread, 0)
    (_, _, first), (_, _, second) = rows
    if (first.start, second.start, first.step) == (0, 1, 2) and x_shape[1:3] == (2 * out_h,
                                                                                2 * out_w):
        return grads.reshape(x_shape)  # the windows tile the input: grads is dx
    dx = np.zeros(x_shape, dtype=g.dtype)
    with np.errstate(invalid="ignore"):  # +inf and −inf reaching one cell: NaN (torch)
        for t, (_, _, cells) in enumerate(rows):
            part = dx[:, cells, :2 * out_w]
            part += grads[:, :, t]
    return dx


def holds_nan(a: np.ndarray) -> bool:
    """Whether ``a`` holds a NaN: its maximum is NaN exactly then (np.max propagates NaN;
    one reduction, no bool temporary as ``np.isnan(a).any()`` makes)."""
    return a.size > 0 and bool(np.isnan(a.max()))


def nan_stage(x: np.ndarray, axis: int, offsets: Offsets, labels: np.ndarray) -> np.ndarray:
    """``labels`` with every window that holds a NaN relabelled to its LAST NaN (torch
    scans a window keeping ``value > max or isnan(value)``)."""
    if len(offsets) == 1:
        return labels
    relabelled = labels.astype(np.uint8) if labels.dtype == bool else labels
    for position, (_, o, i) in enumerate(offsets):
        np.copyto(_along(relabelled, axis, o), position, where=np.isnan(_along(x, axis, i)))
    return relabelled.astype(bool) if labels.dtype == bool else relabelled


def unmax_stage(g: np.ndarray, labels: np.ndarray, axis: int, offsets: Offsets,
                target: np.ndarray, finite: bool) -> None:
    """The adjoint of :func:`max_stage`: target[cell t of window o] += g[o] for the cell
    the window picked (overlapping windows accumulate), ``target`` shaped like its input.

    g·[label == t] per offset, with one offset written rather than added (no zero fill
    where its cells lie when they are a contiguous run, no temporary); the others added
    through a temporary, or written when the windows are disjoint. A non-finite g, for
    which 0·g is NaN, is added with ``np.add(..., where=label == t)`` instead, so a NaN or
    inf in g reaches its one cell only.
    """
    k = len(offsets)
    size = target.shape[axis]
    disjoint = _disjoint(offsets)
    if not finite:
        target.fill(0)
        with np.errstate(invalid="ignore"):  # +inf and −inf reaching one cell: NaN (torch)
            for position, (_, o, i) in enumerate(offsets):
                cells = _along(target, axis, i)
                picked = _along(labels, axis, o) == position if k > 1 else True
                np.add(cells, _along(g, axis, o), out=cells, where=picked)
        return
    first = max(range(k), key=lambda t: offsets[t][1].stop - offsets[t][1].start)
    i = offsets[first][2]
    if disjoint and sum(o.stop - o.start for _, o, _ in offsets) == size:
        pass  # the windows tile the input: every cell is written once
    elif disjoint or i.step != 1:
        target.fill(0)
    else:  # the first offset's cells are a run: written, not added; the rest zeroed
        _along(target, axis, slice(0, i.start))[...] = 0
        _along(target, axis, slice(i.stop, size))[...] = 0
    if k == 1:
        np.copyto(_along(target, axis, offsets[0][2]), _along(g, axis, offsets[0][1]))
        return
    if k == 2 and labels.dtype == bool and offsets[0][1] == offsets[1][1] and disjoint:
        (_, o, i0), (_, _, i1) = offsets
        second = _along(target, axis, i1)
        np.multiply(_along(g, axis, o), _along(labels, axis, o), out=second)
        np.subtract(_along(g, axis, o), second, out=_along(target, axis, i0))
        return
    scratch = None
    for t in [first, *(u for u in range(k) if u != first)]:
        _, o, i = offsets[t]
        gg, ll = _along(g, axis, o), _along(labels, axis, o)
        picked = (ll if t == 1 else ~ll) if labels.dtype == bool else np.equal(ll, t)
        cells = _along(target, axis, i)
        if t == first or disjoint:
            np.multiply(gg, picked, out=cells)
            continue
        if scratch is None:
            scratch = np.empty(g.shape, g.dtype)
        part = _along(scratch, axis, o)
        np.multiply(gg, picked, out=part)
        cells += part


def _disjoint(offsets: Offsets) -> bool:
    """Whether no input cell belongs to two (offset, output) pairs: windows that do not
    overlap."""
    seen: set[int] = set()
    for _, _, i in offsets:
        cells = set(range(i.start, i.stop, i.step))
        if seen & cells:
            return False
        seen |= cells
    return True


def sum_stage(x: np.ndarray, axis: int, offsets: Offsets, out: np.ndarray) -> None:
    """One stage of separable average pooling: ``out`` = the sum over the windows of x
    along ``axis``, clipped to x (padded cells add 0)."""
    full = [(o.start, o.stop) == (0, out.shape[axis]) for _, o, _ in offsets]
    start = full.index(True) if any(full) else None
    if start is None:
        out.fill(0)
    else:
        np.copyto(out, _along(x, axis, offsets[start][2]))
    for t, (_, o, i) in enumerate(offsets):
        if t != start:
            part = _along(out, axis, o)
            part += _along(x, axis, i)


def unsum_stage(g: np.ndarray, axis: int, offsets: Offsets, target: np.ndarray) -> None:
    """The adjoint of :func:`sum_stage`: target[cell t of window o] += g[o]."""
    size = target.shape[axis]
    disjoint = _disjoint(offsets)
    first = max(range(len(offsets)), key=lambda t: offsets[t][1].stop - offsets[t][1].start)
    i = offsets[first][2]
    if disjoint and sum(o.stop - o.start for _, o, _ in offsets) == size:
        pass  # the windows tile the input: every cell is written once
    elif disjoint or i.step != 1:
        target.fill(0)
    else:
        _along(target, axis, slice(0, i.start))[...] = 0
        _along(target, axis, slice(i.stop, size))[...] = 0
    with np.errstate(invalid="ignore"):  # +inf and −inf in g reaching one cell: NaN (torch)
        for t in [first, *(u for u in range(len(offsets)) if u != first)]:
            _, o, i = offsets[t]
            cells = _along(target, axis, i)
            if t == first or disjoint:
                np.copyto(cells, _along(g, axis, o))
            else:
                cells += _along(g, axis, o)


# --------------------------------------------------------------------------- sliding windows
class _SlidingPool2d(TwoPathLayer):
    """Max or average pooling over kh × kw windows with stride (sh, sw), padding (ph, pw),
    dilation (dh, dw) and ceil mode, per channel: the implementation behind
    :class:`MaxPool2d`, :class:`AvgPool2d` and :class:`Pool2D`.

    Forward, over the real (in-bounds) cells R(r, c) of the window of output (r, c), rows
    r·sh − ph + i·dh (i < kh) and columns c·sw − pw + j·dw (j < kw):

    - max:      y[n, r, c, ch] = max_{R(r, c)} x[n, ·, ·, ch]   (NaN if one of them is NaN)
    - average:  y[n, r, c, ch] = Σ_{R(r, c)} x[n, ·, ·, ch] / D(r, c), with D the
      ``divisor_override``, or the number of real cells (``count_include_pad=False``), or
      the window clipped to the padded input (``count_include_pad=True``: kh·kw except for
      ceil-mode windows that run past the padding).

    Backward, for g = dL/dy, accumulated over every window that covers a cell:

    - max:      dx[n, h*, w*, ch] += g[n, r, c, ch], (h*, w*) the cell torch picks (first
                maximum in row-major order, last NaN in a NaN window);
    - average:  dx[n, h, w, ch] += g[n, r, c, ch] / D(r, c) for every real cell (h, w).

    Paths:

    - ``impl="loop"``: the textbook form, a loop over output positions on the real cells
      of each window (no padding materialized); max picks its cell with
      :func:`torch_argmax` and backward sends each g to the cell the forward picked.
    - ``impl="vectorized"``: separable, the windows clipped to the input (no padded copy
      is made; a padded cell is never a candidate and adds 0 to a sum). Along one axis,
      the cells of kernel offset t for all outputs are one strided view of the input
      (:func:`numpy_impl.windows.clipped_offsets`: offsets whose cells are all padding
      are skipped, so Pool2D(1000, padding=500) on a 1×1 image visits one offset per axis,
      in milliseconds). Stage 1 reduces every input row over the kw column offsets into
      (N, H, OW, C), stage 2 reduces those over the kh row offsets: kw + kh element-wise
      passes instead of kh·kw.

      Max keeps, per stage, the position of the offset torch picks as a 1-byte label
      (:func:`max_stage`): the first maximum along the axis. Row-major order is "rows
      first, then columns within the row", so the first maximum of a window is the first
      row whose row maximum equals y, at that row's first maximum: exactly stage 2's label
      over stage 1's. With a NaN in y both stages are relabelled to their last NaN
      (:func:`nan_stage`), which gives the window's last NaN in row-major order; a window
      of −inf cells picks its first cell in both stages. Backward runs the stages in
      reverse (:func:`unmax_stage`): g·[label = t] into offset t's view, written where
      the windows tile or do not overlap, else one offset written and the others added;
      a non-finite g (where 0·g is NaN) is added with ``np.add(..., where=label = t)``
      instead, so a NaN in g reaches its one cell only. 2×2 max windows with column
      stride 2 and no padded cell reduce the rows first instead
      (:func:`max_pairs_rows_first`: only the column stage of the maximum reads runs of
      C; the picked cells are one mask, cell == y, with a tie step for torch's row-major
      first maximum, and the backward one product, :func:`unmax_pairs`; a NaN in y falls
      back to the order above). Average sums the same views
      (:func:`sum_stage`) and divides; its backward adds g / divisor back
      (:func:`unsum_stage`). Loops run over the kernel offsets only. What a forward
      keeps: max, the two stages' labels (1 byte per (N, H, OW, C) and per output cell for
      kernels up to 256 wide; rows first, the mask: 1 byte per cell of the windows, 4 per
      output cell), nothing of x; average, the shapes only.

    ``return_indices`` (max): forward returns ``(y, indices)``, indices (N, OH, OW, C)
    int64 holding torch's flat h·W + w position of each picked cell in its (n, ch) plane.
    Parameter-free; computes in the input's dtype (float32 or float64).
    """

    MODES = ("max", "average")

    def _configure(
        self,
        kernel_size: object,
        stride: object,
        padding: object,
        dilation: object = 1,
        ceil_mode: object = False,
        mode: object = "max",
        count_include_pad: object = True,
        divisor_override: object = None,
        return_indices: object = False,
    ) -> None:
        where = self.where
        self.kernel_size = as_pair(where, "kernel_size", kernel_size, minimum=1)
        self.stride = (self.kernel_size if stride is None
                       else as_pair(where, "stride", stride, minimum=1))
        self.padding = as_pair(where, "padding", padding, minimum=0)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(
                f"{where}: padding {self.padding} must be at most half the kernel_size "
                f"{self.kernel_size} on each axis (torch's rule: padding <= kernel_size // 2, "
                f"so that every window holds at least one real input)"
            )
        self.dilation = as_pair(where, "dilation", dilation, minimum=1)
        self.ceil_mode = check_flag(where, "ceil_mode", ceil_mode)
        self.mode = check_choice(where, "mode", mode, self.MODES)
        self.count_include_pad = check_flag(where, "count_include_pad", count_include_pad)
        if divisor_override is not None:
            if (isinstance(divisor_override, bool)
                    or not isinstance(divisor_override, (int, np.integer))):
                raise TypeError(f"{where}: divisor_override must be an int or None, got "
                                f"{type(divisor_override).__name__} {divisor_override!r}")
            if divisor_override == 0:
                raise ValueError(f"{where}: divisor_override must not be 0 (torch: 'divisor "
                                 f"must be not zero'); use None for the window's own size")
            divisor_override = int(divisor_override)
        self.divisor_override: int | None = divisor_override
        self.return_indices = check_flag(where, "return_indices", return_indices)

    # ----------------------------------------------------------------- geometry
    def _geometry(self, where: str, x_shape: tuple[int, ...]) -> tuple[int, int]:
        """(OH, OW); ``ValueError`` for a kernel that does not fit or a window made of
        padding only."""
        outs = []
        for axis in (0, 1):
            size, kernel = x_shape[1 + axis], self.kernel_size[axis]
            stride, pad, dilation = self.stride[axis], self.padding[axis], self.dilation[axis]
            out = pool_output_size(size, kernel, stride, pad, dilation, self.ceil_mode)
            if out < 1:
                p = self.padding
                raise kernel_too_large(where, x_shape, self.kernel_size,
                                       (p[0], p[0], p[1], p[1]), self.dilation)
            if dilation == 1:  # padding <= kernel // 2: every window holds a real cell
                outs.append(out)
                continue
            # A dilated window may hold padding only (its cells step over the input); torch
            # then returns -inf with an out-of-range index, so such a config is refused.
            starts = np.arange(out) * stride - pad
            first = starts + np.maximum(0, -(starts // dilation)) * dilation
            if np.any((first >= size) | (first >= starts + span(kernel, dilation))):
                name = ("height", "width")[axis]
                raise ValueError(
                    f"{where}: with kernel_size {self.kernel_size}, dilation {self.dilation}, "
                    f"padding {self.padding} and ceil_mode={self.ceil_mode}, a window on the "
                    f"{name} axis (size {size}) holds no input cell, only padding; torch "
                    f"returns -inf with an out-of-range index there, so this is refused"
                )
            outs.append(out)
        return outs[0], outs[1]

    def _real_cells(self, axis: int, position: int, size: int) -> slice:
        """The input rows (axis 0) or columns (axis 1) of output ``position``'s window that
        lie inside the input: torch's clipped window."""
        kernel, stride = self.kernel_size[axis], self.stride[axis]
        pad, dilation = self.padding[axis], self.dilation[axis]
        start = position * stride - pad
        end = min(start + span(kernel, dilation), size)
        while start < 0:
            start += dilation
        return slice(start, max(start, end), dilation)

    def _axis_divisor(self, axis: int, size: int, out: int) -> np.ndarray:
        """Per output position along one axis: the window's cell count for the average's
        divisor, clipped to the padded input (count_include_pad) or to the input."""
        kernel, stride, pad = self.kernel_size[axis], self.stride[axis], self.padding[axis]
        start = np.arange(out) * stride - pad
        end = np.minimum(start + kernel, size + pad)
        if self.count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    def _divisor(self, x_shape: tuple[int, ...], out_hw: tuple[int, int]) -> Any:
        """The average's divisor: a number, or (1, OH, OW, 1) when it varies."""
        if self.divisor_override is not None:
            return self.divisor_override
        rows = self._axis_divisor(0, x_shape[1], out_hw[0])
        cols = self._axis_divisor(1, x_shape[2], out_hw[1])
        if np.all(rows == rows[0]) and np.all(cols == cols[0]):
            return int(rows[0] * cols[0])
        return (rows[:, None] * cols[None, :])[None, :, :, None]

    # ----------------------------------------------------------------- forward
    def forward(self, x: np.ndarray) -> Any:
        """x (N, H, W, C) -> y (N, OH, OW, C), or (y, indices) with ``return_indices``;
        caches what backward needs."""
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_images(where, x)
        out_hw = self._geometry(where, x.shape)
        if self.impl == "loop":
            y, cache = self._forward_loop(x, out_hw)
            indices = cache[0]
        else:
            y, cache, indices = self._forward_vectorized(x, out_hw)
        self._remember_output(y, cache)
        if self.return_indices:
            return y, indices
        return y

    def _forward_loop(self, x: np.ndarray, out_hw: tuple[int, int]) -> tuple[np.ndarray, Any]:
        n, h, w, channels = x.shape
        y = np.empty((n, *out_hw, channels), dtype=x.dtype)
        if self.mode == "max":
            # The flat h·W + w position of the picked cell: torch's indices, and backward's map.
            picked = np.empty((n, *out_hw, channels), dtype=np.int64)
        for row in range(out_hw[0]):
            rows = self._real_cells(0, row, h)
            for col in range(out_hw[1]):
                cols = self._real_cells(1, col, w)
                window = x[:, rows, cols, :]
                if self.mode == "max":
                    flat = window.reshape(n, window.shape[1] * window.shape[2], channels)
                    best = torch_argmax(flat)  # (N, C) cell index in the window
                    y[:, row, col, :] = np.take_along_axis(flat, best[:, None, :], axis=1)[:, 0]
                    width = window.shape[2]
                    picked[:, row, col, :] = ((rows.start + best // width * rows.step) * w
                                              + cols.start + best % width * cols.step)
                else:
                    with np.errstate(invalid="ignore"):  # inf − inf: NaN, as in torch
                        y[:, row, col, :] = window.sum(axis=(1, 2)) / self._loop_divisor(
                            row, col, rows, cols, h, w)
        return y, (picked if self.mode == "max" else None, x.shape, out_hw)

    def _loop_divisor(self, row: int, col: int, rows: slice, cols: slice, h: int, w: int
                      ) -> int:
        """The average's divisor for one window (see the class docstring)."""
        if self.divisor_override is not None:
            return self.divisor_override
        if not self.count_include_pad:
            return (rows.stop - rows.start) * (cols.stop - cols.start)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        top, left = row * sh - ph, col * sw - pw
        return (min(top + kh, h + ph) - top) * (min(left + kw, w + pw) - left)

    def _offsets(self, x_shape: tuple[int, ...], out_hw: tuple[int, int]
                 ) -> tuple[Offsets, Offsets]:
        """The clipped windows' offsets along the rows and along the columns."""
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (self.kernel_size, self.stride,
                                                  self.padding, self.dilation)
        return (clipped_offsets(x_shape[1], out_hw[0], kh, sh, ph, dh),
                clipped_offsets(x_shape[2], out_hw[1], kw, sw, pw, dw))

    def _forward_vectorized(self, x: np.ndarray, out_hw: tuple[int, int]
                            ) -> tuple[np.ndarray, Any, Any]:
        n, h, _, channels = x.shape
        rows, cols = self._offsets(x.shape, out_hw)
        row_out = np.empty((n, h, out_hw[1], channels), dtype=x.dtype)  # stage 1: columns
        y = np.empty((n, *out_hw, channels), dtype=x.dtype)
        if self.mode == "average":
            # inf − inf: NaN, as in torch
            with np.errstate(invalid="ignore"), ufunc_buffer(STAGE_BUFFER):
                sum_stage(x, 2, cols, row_out)
                sum_stage(row_out, 1, rows, y)
                y /= self._divisor(x.shape, out_hw)
            return y, (None, x.shape, out_hw, False), None
        with ufunc_buffer(STAGE_BUFFER):
            found = (max_pairs_rows_first(x, rows, y) if self._rows_first(rows, cols, out_hw)
                     else None)
            if found is not None:
                return y, (found, x.shape, out_hw, True), None
            col_labels = max_stage(x, 2, cols, row_out)
            row_labels = max_stage(row_out, 1, rows, y)
            # Only a window of y that holds a NaN can have a wrong label (in either stage:
            # a row maximum is NaN exactly when its row part holds one).
            if holds_nan(y):
                col_labels = nan_stage(x, 2, cols, col_labels)
                row_labels = nan_stage(row_out, 1, rows, row_labels)
        labels = (row_labels, col_labels)
        indices = (self._indices(labels, rows, cols, x.shape[2], out_hw)
                   if self.return_indices else None)
        return y, (labels, x.shape, out_hw, False), indices

    def _rows_first(self, rows: Offsets, cols: Offsets, out_hw: tuple[int, int]) -> bool:
        """Whether max pooling takes :func:`max_pairs_rows_first`: 2×2 windows with no
        padded cell, stride 2 and no dilation along the columns, no indices asked for."""
        return (self.stride[1] == 2 and self.dilation[1] == 1 and not self.return_indices
                and all(len(offsets) == 2 and all((o.start, o.stop) == (0, out)
                                                  for _, o, _ in offsets)
                        for offsets, out in ((rows, out_hw[0]), (cols, out_hw[1]))))

    def _indices(self, labels: tuple[np.ndarray, np.ndarray], rows: Offsets, cols: Offsets,
                 width: int, out_hw: tuple[int, int]) -> np.ndarray:
        """torch's flat h·W + w index of each picked cell, from the two stages' labels."""
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation
        row_labels, col_labels = labels
        row_offset = np.array([t for t, _, _ in rows])[row_labels.astype(np.intp)]
        h_best = np.arange(out_hw[0])[None, :, None, None] * sh - ph + row_offset * dh
        col_label = np.take_along_axis(col_labels.astype(np.intp), h_best, axis=1)
        col_offset = np.array([t for t, _, _ in cols])[col_label]
        w_best = np.arange(out_hw[1])[None, None, :, None] * sw - pw + col_offset * dw
        return (h_best * width + w_best).astype(np.int64)

    # ----------------------------------------------------------------- backward
    # backward (TwoPathLayer): dy (N, OH, OW, C) -> dx (N, H, W, C).
    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        picked, x_shape, out_hw = cache
        if picked is not None:
            return scatter_to_picked(picked, dy, x_shape)
        dx = np.zeros(x_shape, dtype=dy.dtype)
        h, w = x_shape[1:3]
        with np.errstate(invalid="ignore"):  # +inf and −inf in dy reaching one cell: NaN
            for row in range(out_hw[0]):
                rows = self._real_cells(0, row, h)
                for col in range(out_hw[1]):
                    cols = self._real_cells(1, col, w)
                    share = dy[:, row, col, :] / self._loop_divisor(row, col, rows, cols, h, w)
                    dx[:, rows, cols, :] += share[:, None, None, :]
        return dx

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        labels, x_shape, out_hw, rows_first = cache
        rows, cols = self._offsets(x_shape, out_hw)  # not cached: cheaper to redo
        n, h, _, channels = x_shape
        with ufunc_buffer(STAGE_BUFFER):
            # g·[picked] sends 0·g to the cells not picked: NaN for a non-finite g, which
            # must reach its one cell only: such a g takes the (slower) masked paths.
            finite = labels is None or bool(np.isfinite(dy).all())
            if rows_first:
                return unmax_pairs(dy, labels, rows, x_shape, finite)
            stage_grad = np.empty((n, h, dy.shape[2], channels), dtype=dy.dtype)  # stage 1's
            dx = np.empty(x_shape, dtype=dy.dtype)
            if labels is None:  # average
                unsum_stage(dy / self._divisor(x_shape, dy.shape[1:3]), 1, rows, stage_grad)
                unsum_stage(stage_grad, 2, cols, dx)
                return dx
            row_labels, col_labels = labels
            unmax_stage(dy, row_labels, 1, rows, stage_grad, finite)
            unmax_stage(stage_grad, col_labels, 2, cols, dx, finite)
        return dx


class MaxPool2d(_SlidingPool2d):
    """``torch.nn.MaxPool2d`` on NHWC images: the maximum of each kh × kw window (see
    :class:`_SlidingPool2d` for the formulas, the paths and torch's NaN and −inf rules).
    With ``return_indices`` forward returns ``(y, indices)`` (torch's flat h·W + w input
    positions, int64, NHWC)."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
        *,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(impl)
        self._configure(kernel_size, stride, padding, dilation, ceil_mode, "max",
                        return_indices=return_indices)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "dilation": self.dilation,
                "return_indices": self.return_indices, "ceil_mode": self.ceil_mode,
                "impl": self.impl}


class AvgPool2d(_SlidingPool2d):
    """``torch.nn.AvgPool2d`` on NHWC images: the mean of each kh × kw window, divided by
    ``divisor_override``, the real cells (``count_include_pad=False``) or the window clipped
    to the padded input (see :class:`_SlidingPool2d`)."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
        *,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(impl)
        self._configure(kernel_size, stride, padding, 1, ceil_mode, "average",
                        count_include_pad, divisor_override)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override, "impl": self.impl}


class Pool2D(_SlidingPool2d):
    """The seeds' pooling layer, ``Pool2D(kernel_size, stride, padding, mode)`` with
    ``mode="max"`` (torch's ``MaxPool2d(kernel_size, stride, padding)``) or ``"average"``
    (``AvgPool2d(kernel_size, stride, padding)``, padded zeros counted): the same
    implementation as :class:`MaxPool2d` and :class:`AvgPool2d`."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        mode: str = "max",
        *,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(impl)
        self._configure(kernel_size, stride, padding, mode=mode)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "mode": self.mode, "impl": self.impl}


# --------------------------------------------------------------------------- adaptive
def adaptive_windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's adaptive windows along one axis: output o covers [⌊o·size/out⌋,
    ⌈(o + 1)·size/out⌉) (starts, ends; windows may differ in size and overlap)."""
    o = np.arange(out)
    return (o * size) // out, -(-((o + 1) * size) // out)


def check_output_size(where: str, output_size: object) -> tuple[int | None, int | None]:
    """An int or a pair of ints >= 1 or None (None keeps that axis' input size)."""
    values = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(values) != 2:
        raise ValueError(f"{where}: output_size must be an int or a pair (height, width) of "
                         f"ints or None, got {len(values)} values {values!r}")
    pair: list[int | None] = []
    for k, value in enumerate(values):
        name = "output_size" if not isinstance(output_size, (tuple, list)) \
            else f"output_size[{k}]"
        if value is None:
            pair.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{where}: {name} must be an int or None, got "
                            f"{type(value).__name__} {value!r}")
        if value < 1:
            raise ValueError(
                f"{where}: {name} must be >= 1 (or None), got {value}"
                + ("; torch's forward accepts 0 (an empty output) but its backward refuses "
                   "the empty gradient" if value == 0 else ""))
        pair.append(int(value))
    return pair[0], pair[1]


class _AdaptivePool2d(TwoPathLayer):
    """Adaptive max or average pooling to a fixed output size (OH, OW): output (r, c)
    pools the window rows [⌊r·H/OH⌋, ⌈(r + 1)·H/OH⌉) × columns [⌊c·W/OW⌋, ⌈(c + 1)·W/OW⌉)
    (:func:`adaptive_windows`), per channel; the implementation behind
    :class:`AdaptiveMaxPool2d`, :class:`AdaptiveAvgPool2d` and :class:`GlobalAvgPool2D`.

    - max:      y = the window's maximum; backward sends g to the cell torch picks (first
                maximum in row-major order, last NaN of a NaN window);
    - average:  y = Σ window / (its rows · its columns); backward g / count to every cell.

    Paths:

    - ``impl="loop"``: the textbook form, a loop over output positions.
    - ``impl="vectorized"``: separable, columns then rows. Along an axis the windows have at
      most L cells; offset k of every window is the gathered slice ``x[:, start + k]``
      (start + k clipped to the window's last cell, and masked out of an average where it
      runs past the window), so each stage is L element-wise passes. For max the clipped
      repeats are harmless (a repeat of the last cell ties after it and is the same cell).
      Backward scatters each offset's share back (``np.add.at`` where windows overlap).
      The 1 × 1 average (a global mean) is one batched GEMV, ones(H·W) · x, about 5x
      faster than ``x.mean(axis=(1, 2))`` over NHWC's two non-contiguous axes.
      Loops run over the window offsets only.

    ``return_indices`` (max): forward returns ``(y, indices)`` with torch's flat h·W + w
    input positions (int64, NHWC).
    """

    def _configure(self, output_size: object, mode: str, return_indices: object = False
                   ) -> None:
        self.output_size = check_output_size(self.where, output_size)
        self.mode = mode
        self.return_indices = check_flag(self.where, "return_indices", return_indices)

    def _out_hw(self, x_shape: tuple[int, ...]) -> tuple[int, int]:
        oh, ow = self.output_size
        return (x_shape[1] if oh is None else oh, x_shape[2] if ow is None else ow)

    def forward(self, x: np.ndarray) -> Any:
        """x (N, H, W, C) -> y (N, OH, OW, C), or (y, indices) with ``return_indices``."""
        y, cache, indices = self._pool(x)
        self._remember_output(y, cache)
        if self.return_indices:
            return y, indices
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (N, OH, OW, C) -> dx (N, H, W, C)."""
        return self._unpool(self._take_cache(dy), dy)

    def _pool(self, x: np.ndarray) -> tuple[np.ndarray, Any, np.ndarray | None]:
        """(y, backward cache, indices or None) of the checked input."""
        x = self._check_input(x)
        check_images(f"{self.where}.forward", x)
        out_hw = self._out_hw(x.shape)
        if self.impl == "loop":
            y, picked = self._forward_loop(x, out_hw)
            return y, (x.shape, picked), picked
        y, masks, indices = self._forward_vectorized(x, out_hw)
        return y, (x.shape, masks), indices

    def _unpool(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        """dx for the cache of :meth:`_pool` and dy (N, OH, OW, C)."""
        if self.impl == "loop":
            return self._backward_loop(cache, dy)
        return self._backward_vectorized(cache, dy)

    # ----------------------------------------------------------------- loop
    def _forward_loop(self, x: np.ndarray, out_hw: tuple[int, int]
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        n, h, w, channels = x.shape
        row_starts, row_ends = adaptive_windows(h, out_hw[0])
        col_starts, col_ends = adaptive_windows(w, out_hw[1])
        y = np.empty((n, *out_hw, channels), dtype=x.dtype)
        picked = np.empty(y.shape, dtype=np.int64) if self.mode == "max" else None
        for row in range(out_hw[0]):
            top, bottom = row_starts[row], row_ends[row]
            for col in range(out_hw[1]):
                left, right = col_starts[col], col_ends[col]
                window = x[:, top:bottom, left:right, :]
                if picked is not None:
                    flat = window.reshape(n, window.shape[1] * window.shape[2], channels)
                    best = torch_argmax(flat)
                    y[:, row, col, :] = np.take_along_axis(flat, best[:, None, :], axis=1)[:, 0]
                    width = right - left
                    picked[:, row, col, :] = (top + best // width) * w + left + best % width
                else:
                    with np.errstate(invalid="ignore"):  # inf − inf: NaN, as in torch
                        y[:, row, col, :] = (window.sum(axis=(1, 2))
                                          / ((bottom - top) * (right - left)))
        return y, picked

    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        x_shape, picked = cache
        h, w = x_shape[1:3]
        out_hw = dy.shape[1:3]
        if picked is not None:
            return scatter_to_picked(picked, dy, x_shape)
        row_starts, row_ends = adaptive_windows(h, out_hw[0])
        col_starts, col_ends = adaptive_windows(w, out_hw[1])
        dx = np.zeros(x_shape, dtype=dy.dtype)
        for row in range(out_hw[0]):
            top, bottom = row_starts[row], row_ends[row]
            for col in range(out_hw[1]):
                left, right = col_starts[col], col_ends[col]
                share = dy[:, row, col, :] / ((bottom - top) * (right - left))
                dx[:, top:bottom, left:right, :] += share[:, None, None, :]
        return dx

    # ----------------------------------------------------------------- vectorized
    @staticmethod
    def _offsets(size: int, out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Per axis: the gathered cell of offset k of every window (O, L) clipped to the
        window, whether it is inside the window (O, L), the window sizes (O,), and whether
        the windows are disjoint (then a scatter back has no repeated index)."""
        starts, ends = adaptive_windows(size, out)
        longest = int((ends - starts).max())
        cells = starts[:, None] + np.arange(longest)[None, :]
        inside = cells < ends[:, None]
        disjoint = bool(np.all(inside) and np.all(starts[1:] >= ends[:-1]))
        return np.minimum(cells, ends[:, None] - 1), inside, ends - starts, disjoint

    def _forward_vectorized(self, x: np.ndarray, out_hw: tuple[int, int]
                            ) -> tuple[np.ndarray, Any, np.ndarray | None]:
        n, h, w, channels = x.shape
        if self.mode == "average" and out_hw == (1, 1):  # a global mean: one batched GEMV
            with np.errstate(invalid="ignore"):  # inf − inf: NaN, as in torch
                y = np.matmul(np.ones(h * w, dtype=x.dtype), x.reshape(n, h * w, channels))
            y /= h * w
            return y.reshape(n, 1, 1, channels), None, None
        rows, rows_inside, row_sizes, _ = self._offsets(h, out_hw[0])
        cols, cols_inside, col_sizes, _ = self._offsets(w, out_hw[1])
        if self.mode == "average":
            with np.errstate(invalid="ignore"):  # inf − inf: NaN, as in torch
                sums = self._masked_sum(x, 2, cols, cols_inside)  # (N, H, OW, C)
                y = self._masked_sum(sums, 1, rows, rows_inside)  # (N, OH, OW, C)
            y /= (row_sizes[:, None] * col_sizes[None, :])[None, :, :, None]
            return y, None, None
        row_max, col_masks = first_maximum([x[:, :, cols[:, k]] for k in range(cols.shape[1])])
        y, row_masks = first_maximum([row_max[:, rows[:, k]] for k in range(rows.shape[1])])
        indices = None
        if self.return_indices:
            # offset k of output row r is input row rows[r, k]; the column likewise
            h_best = rows[np.arange(out_hw[0])[None, :, None, None], np.argmax(row_masks, axis=0)]
            j_best = np.take_along_axis(np.argmax(col_masks, axis=0), h_best, axis=1)
            w_best = cols[np.arange(out_hw[1])[None, None, :, None], j_best]
            indices = (h_best * w + w_best).astype(np.int64)
        return y, (row_masks, col_masks), indices

    @staticmethod
    def _masked_sum(a: np.ndarray, axis: int, cells: np.ndarray, inside: np.ndarray
                    ) -> np.ndarray:
        """Σ over each window's cells along ``axis`` (1 or 2) of ``a``."""
        def gather(k: int) -> np.ndarray:
            return a[:, cells[:, k]] if axis == 1 else a[:, :, cells[:, k]]

        def where(k: int) -> np.ndarray:
            mask = inside[:, k]
            return mask[None, :, None, None] if axis == 1 else mask[None, None, :, None]

        total = gather(0)  # offset 0 is inside every window
        for k in range(1, cells.shape[1]):
            np.add(total, gather(k), out=total, where=where(k))
        return total

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        x_shape, masks = cache
        n, h, w, channels = x_shape
        out_hw = dy.shape[1:3]
        if self.mode == "average" and out_hw == (1, 1):
            dx = np.empty(x_shape, dtype=dy.dtype)
            dx[...] = dy / (h * w)
            return dx
        rows, rows_inside, row_sizes, rows_disjoint = self._offsets(h, out_hw[0])
        cols, cols_inside, col_sizes, cols_disjoint = self._offsets(w, out_hw[1])
        rows_grad = np.zeros((n, h, out_hw[1], channels), dtype=dy.dtype)
        dx = np.zeros(x_shape, dtype=dy.dtype)
        if self.mode == "average":
            share = dy / (row_sizes[:, None] * col_sizes[None, :])[None, :, :, None]
            for k in range(rows.shape[1]):
                part = np.where(rows_inside[None, :, k, None, None], share, 0)
                _scatter_add(rows_grad, 1, rows[:, k], part, rows_disjoint)
            for k in range(cols.shape[1]):
                part = np.where(cols_inside[None, None, :, k, None], rows_grad, 0)
                _scatter_add(dx, 2, cols[:, k], part, cols_disjoint)
            return dx
        row_masks, col_masks = masks
        for k, mask in enumerate(row_masks):
            _scatter_add(rows_grad, 1, rows[:, k], np.where(mask, dy, 0), rows_disjoint)
        for k, mask in enumerate(col_masks):
            _scatter_add(dx, 2, cols[:, k], np.where(mask, rows_grad, 0), cols_disjoint)
        return dx


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """``torch.nn.AdaptiveAvgPool2d(output_size)`` on NHWC images (see
    :class:`_AdaptivePool2d`); ``None`` keeps that axis, so ``(None, None)`` is the
    identity, not a global mean."""

    def __init__(self, output_size: int | tuple[int | None, int | None] | None, *,
                 impl: str = "vectorized") -> None:
        super().__init__(impl)
        self._configure(output_size, "average")

    def config(self) -> dict[str, Any]:
        return {"output_size": self.output_size, "impl": self.impl}


class AdaptiveMaxPool2d(_AdaptivePool2d):
    """``torch.nn.AdaptiveMaxPool2d(output_size, return_indices)`` on NHWC images (see
    :class:`_AdaptivePool2d`)."""

    def __init__(self, output_size: int | tuple[int | None, int | None] | None,
                 return_indices: bool = False, *, impl: str = "vectorized") -> None:
        super().__init__(impl)
        self._configure(output_size, "max", return_indices)

    def config(self) -> dict[str, Any]:
        return {"output_size": self.output_size, "return_indices": self.return_indices,
                "impl": self.impl}


class GlobalAvgPool2D(AdaptiveAvgPool2d):
    """y[n, ch] = (1 / (H·W)) Σ_{h, w} x[n, h, w, ch]:  (N, H, W, C) -> (N, C).

    ``AdaptiveAvgPool2d(1)`` with the 1 × 1 map flattened (the torch twin is
    ``nn.AdaptiveAvgPool2d(1)`` followed by a flatten). Backward: dx[n, h, w, ch] =
    dy[n, ch] / (H·W). :meth:`backward_add` adds the input gradient into an array the caller
    already holds (SEBlock's scale path) instead of materializing the broadcast first.
    """

    def __init__(self, *, impl: str = "vectorized") -> None:
        super().__init__(1, impl=impl)

    def config(self) -> dict[str, Any]:
        return {"impl": self.impl}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, H, W, C) -> y (N, C)."""
        y, cache, _ = self._pool(x)
        return self._remember_output(y.reshape(y.shape[0], y.shape[3]), cache)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (N, C) -> dx (N, H, W, C)."""
        return self._unpool(self._take_cache(dy), dy[:, None, None, :])

    def backward_add(self, dy: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out += backward(dy)`` without the (N, H, W, C) temporary; returns ``out``."""
        x_shape, _ = self._take_cache(dy)
        return per_image_channel(np.add, out, dy / (x_shape[1] * x_shape[2]), out)
