"""2-D max / average pooling, adaptive pooling and global average pooling on NHWC images.

The classes carry torch's names and signatures: :class:`MaxPool2d`, :class:`AvgPool2d`,
:class:`AdaptiveMaxPool2d`, :class:`AdaptiveAvgPool2d`; the seeds' :class:`Pool2D`
(``mode="max"`` or ``"average"``) and :class:`GlobalAvgPool2D` are thin classes over the
same implementation. Torch's rules, which the seeds' pooling layer does not all follow:

- max pooling pads with −inf (a padded cell never wins), not with 0 — with 0, a window of
  negative inputs would output 0 and send its gradient nowhere; a window whose real cells
  are all −inf sends its gradient to its first real cell, never into the padding;
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

from typing import Any

import numpy as np

from numpy_impl.base import TwoPathLayer
from numpy_impl.validation import check_choice
from numpy_impl.windows import (
    as_pair,
    check_flag,
    check_images,
    crop_padding,
    kernel_too_large,
    pad_images,
    pool_output_size,
    span,
    window_slice,
)


def torch_argmax(flat: np.ndarray) -> np.ndarray:
    """Index along axis 1 of the cell torch's max pooling picks in each window of ``flat``
    (N, cells, C), cells in row-major order: the LAST NaN if the window holds one, else the
    FIRST maximum (``np.argmax`` would take the first NaN)."""
    nan = np.isnan(flat)
    first_max = np.argmax(np.where(nan, -np.inf, flat), axis=1)
    last_nan = flat.shape[1] - 1 - np.argmax(nan[:, ::-1], axis=1)
    return np.where(nan.any(axis=1), last_nan, first_max)


def first_maximum(views: list[np.ndarray], valid: list[np.ndarray | None] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The element-wise maximum of equally shaped arrays (a window's cells, in row-major
    order) and, for each, the boolean mask "this cell is the one torch picks": the FIRST
    maximum, or the LAST NaN where the window holds NaN (the maximum is then NaN). The
    masks partition every position.

    ``valid[t]`` (broadcastable to a view, or None for all-valid) says where cell t is a
    real input cell rather than padding: a window whose real cells are all −inf picks its
    first real cell, as torch does, not a padded −inf before it."""
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
    # A padded −inf may tie a window of real −inf cells: pick the first real cell.
    if valid is not None and any(v is not None for v in valid):
        lowest = y == -np.inf
        if lowest.any():
            found = ~lowest
            for t, cell_valid in enumerate(valid):
                hit = ~found if cell_valid is None else cell_valid & ~found
                found |= hit
                np.copyto(masks[t], hit, where=lowest)
    return y, masks


def cell_validity(rows: np.ndarray | None, cols: np.ndarray | None, out_hw: tuple[int, int]
                  ) -> np.ndarray | None:
    """(1, OH, OW, 1): where a kernel offset's cell is inside the input, from its per-row
    and per-column validity (None: always inside)."""
    if rows is None and cols is None:
        return None
    rows = np.ones(out_hw[0], dtype=bool) if rows is None else rows
    cols = np.ones(out_hw[1], dtype=bool) if cols is None else cols
    return (rows[:, None] & cols[None, :])[None, :, :, None]


def scatter_to_picked(picked: np.ndarray, dy: np.ndarray, x_shape: tuple[int, ...]
                      ) -> np.ndarray:
    """The loop paths' max backward: each g[n, r, c, ch] added to the input cell the
    forward picked, ``picked`` holding its flat h·W + w position (torch's index)."""
    n, h, w, channels = x_shape
    dx = np.zeros((n, h * w, channels), dtype=dy.dtype)
    batch, channel = np.indices((n, channels))
    for row in range(dy.shape[1]):
        for col in range(dy.shape[2]):
            # one cell per (n, ch): no index repeats within one assignment
            dx[batch, picked[:, row, col, :], channel] += dy[:, row, col, :]
    return dx.reshape(x_shape)


def add_picked(out: np.ndarray, g: np.ndarray, mask: np.ndarray, finite: bool) -> None:
    """``out += g`` where ``mask`` holds: as ``g·mask`` (fast) when g is finite, else as a
    masked add, since 0·NaN and 0·inf are NaN and would reach every cell of the window."""
    if finite:
        out += g * mask
    else:
        np.add(out, g, out=out, where=mask)


def _scatter_add(target: np.ndarray, axis: int, index: np.ndarray, values: np.ndarray,
                 distinct: bool) -> None:
    """``target[..., index, ...] += values`` along ``axis`` (1 or 2); repeated indices
    accumulate (``np.add.at``) unless ``distinct`` says there are none."""
    where: tuple[Any, ...] = (slice(None),) * axis + (index,)
    if distinct:
        target[where] += values
    else:
        np.add.at(target, where, values)


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
    - ``impl="vectorized"``: the input is padded (−inf for max, 0 for average; bottom and
      right also far enough for ceil-mode windows), and the cells of kernel offset
      t = i·kw + j are the strided view ``xp[:, i·dh::sh, j·dw::sw]`` (output-shaped, no
      copy), so the forward is kh·kw element-wise ``np.maximum`` (or ``+``) over whole
      arrays. The picked cell is kept as kh·kw boolean masks (:func:`first_maximum`).
      Backward adds g·mask[t] into the strided slice of dxp for each offset (written in
      place when the windows do not overlap); a non-finite g (where 0·g is NaN) is added
      with ``np.add(..., where=mask)`` instead, so a NaN in g reaches its one cell only.
      Loops run over the kh·kw kernel offsets only.

      Max pooling with overlapping windows (stride < kernel) is separable instead: the
      row maxima m[n, R, c] = max_j xp[n, R, c·sw + j·dw] over every padded row R, then
      y = max_i m[n, r·sh + i·dh, c]: kw + kh passes instead of kh·kw, each with its own
      masks. The first maximum in row-major order is the first row i* whose row maximum
      equals y, at that row's first maximum j*; the last NaN is in the last row holding
      one, at that row's last NaN; a −inf window's first real cell is in its first real
      row: so the rules are unchanged. Backward runs the two stages in reverse: g goes to
      row i* of an (N, Hp, OW, C) array, whose entries then go to column j* of their row.

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
    def _geometry(self, where: str, x_shape: tuple[int, ...]
                  ) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
        """(OH, OW) and the padding (top, bottom, left, right) of the vectorized path,
        bottom/right extended for ceil-mode windows that run past the padding."""
        outs, pads = [], []
        for axis in (0, 1):
            size, kernel = x_shape[1 + axis], self.kernel_size[axis]
            stride, pad, dilation = self.stride[axis], self.padding[axis], self.dilation[axis]
            out = pool_output_size(size, kernel, stride, pad, dilation, self.ceil_mode)
            if out < 1:
                p = self.padding
                raise kernel_too_large(where, x_shape, self.kernel_size,
                                       (p[0], p[0], p[1], p[1]), self.dilation)
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
            reach = (out - 1) * stride + span(kernel, dilation)
            outs.append(out)
            pads += [pad, max(pad, reach - size - pad)]
        return (outs[0], outs[1]), (pads[0], pads[1], pads[2], pads[3])

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

    def _offset_validity(self, axis: int, size: int, out: int) -> list[np.ndarray | None]:
        """For each kernel offset along one axis, where (per output position) its cell is a
        real input cell rather than padding: None where it always is."""
        kernel, stride = self.kernel_size[axis], self.stride[axis]
        pad, dilation = self.padding[axis], self.dilation[axis]
        starts = np.arange(out) * stride - pad
        valid: list[np.ndarray | None] = []
        for i in range(kernel):
            cells = starts + i * dilation
            inside = (cells >= 0) & (cells < size)
            valid.append(None if inside.all() else inside)
        return valid

    def _separable(self) -> bool:
        """Max pooling with overlapping windows: the two-stage (rows, then columns) path."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return self.mode == "max" and (sh < kh or sw < kw)

    # ----------------------------------------------------------------- forward
    def forward(self, x: np.ndarray) -> Any:
        """x (N, H, W, C) -> y (N, OH, OW, C), or (y, indices) with ``return_indices``;
        caches what backward needs."""
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_images(where, x)
        out_hw, pads = self._geometry(where, x.shape)
        if self.impl == "loop":
            y, cache = self._forward_loop(x, out_hw)
            indices = cache[0]
        else:
            y, cache, indices = self._forward_vectorized(x, out_hw, pads)
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

    def _offset_views(self, a: np.ndarray, out_hw: tuple[int, int]) -> list[np.ndarray]:
        """For each kernel offset t = i·kw + j (row-major), the (N, OH, OW, C) strided view
        of ``a`` holding cell (i, j) of every window."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return [a[:, window_slice(i * dh, out_hw[0], sh), window_slice(j * dw, out_hw[1], sw)]
                for i in range(kh) for j in range(kw)]

    def _forward_vectorized(
        self, x: np.ndarray, out_hw: tuple[int, int], pads: tuple[int, int, int, int]
    ) -> tuple[np.ndarray, Any, Any]:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        xp = pad_images(x, pads, -np.inf if self.mode == "max" else 0.0)
        geometry = (xp.shape, x.shape, out_hw, pads)
        if self.mode == "average":
            views = self._offset_views(xp, out_hw)
            y = views[0].copy()
            with np.errstate(invalid="ignore"):  # inf − inf: NaN, as in torch
                for view in views[1:]:
                    y += view
                y /= self._divisor(x.shape, out_hw)
            return y, (None, geometry), None
        rows_valid = self._offset_validity(0, x.shape[1], out_hw[0])
        cols_valid = self._offset_validity(1, x.shape[2], out_hw[1])
        if self._separable():
            row_max, col_masks = first_maximum(
                [xp[:, :, window_slice(j * dw, out_hw[1], sw)] for j in range(kw)],
                [None if v is None else v[None, None, :, None] for v in cols_valid])
            y, row_masks = first_maximum(
                [row_max[:, window_slice(i * dh, out_hw[0], sh)] for i in range(kh)],
                [None if v is None else v[None, :, None, None] for v in rows_valid])
            masks: Any = (row_masks, col_masks)
        else:
            valid = [cell_validity(r, c, out_hw) for r in rows_valid for c in cols_valid]
            y, masks = first_maximum(self._offset_views(xp, out_hw), valid)
        indices = self._indices(masks, x.shape, out_hw, pads) if self.return_indices else None
        return y, (masks, geometry), indices

    def _indices(self, masks: Any, x_shape: tuple[int, ...], out_hw: tuple[int, int],
                 pads: tuple[int, int, int, int]) -> np.ndarray:
        """torch's flat h·W + w index of each picked cell, from the masks."""
        kw, (sh, sw), (dh, dw) = self.kernel_size[1], self.stride, self.dilation
        rows = np.arange(out_hw[0])[None, :, None, None] * sh
        cols = np.arange(out_hw[1])[None, None, :, None] * sw
        if self._separable():
            row_masks, col_masks = masks
            i_best = np.argmax(row_masks, axis=0)  # (N, OH, OW, C)
            padded_row = rows + i_best * dh
            j_best = np.take_along_axis(np.argmax(col_masks, axis=0), padded_row, axis=1)
        else:
            best = np.argmax(masks, axis=0)
            i_best, j_best = best // kw, best % kw
            padded_row = rows + i_best * dh
        h_best = padded_row - pads[0]
        w_best = cols + j_best * dw - pads[2]
        return (h_best * x_shape[2] + w_best).astype(np.int64)

    # ----------------------------------------------------------------- backward
    # backward (TwoPathLayer): dy (N, OH, OW, C) -> dx (N, H, W, C).
    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        picked, x_shape, out_hw = cache
        if picked is not None:
            return scatter_to_picked(picked, dy, x_shape)
        dx = np.zeros(x_shape, dtype=dy.dtype)
        h, w = x_shape[1:3]
        for row in range(out_hw[0]):
            rows = self._real_cells(0, row, h)
            for col in range(out_hw[1]):
                cols = self._real_cells(1, col, w)
                share = dy[:, row, col, :] / self._loop_divisor(row, col, rows, cols, h, w)
                dx[:, rows, cols, :] += share[:, None, None, :]
        return dx

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        masks, (xp_shape, x_shape, out_hw, pads) = cache
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        # g·mask sends 0·g to the cells not picked: NaN for a non-finite g, which must reach
        # its one cell only, so such a g goes through the (6x slower) masked add instead.
        finite = self.mode == "average" or bool(np.isfinite(dy).all())
        if self._separable():
            row_masks, col_masks = masks
            rows_grad = np.zeros((xp_shape[0], xp_shape[1], out_hw[1], xp_shape[3]),
                                 dtype=dy.dtype)
            for i, mask in enumerate(row_masks):
                add_picked(rows_grad[:, window_slice(i * dh, out_hw[0], sh)], dy, mask, finite)
            dxp = np.zeros(xp_shape, dtype=dy.dtype)
            for j, mask in enumerate(col_masks):
                add_picked(dxp[:, :, window_slice(j * dw, out_hw[1], sw)], rows_grad, mask,
                           finite)
            return crop_padding(dxp, pads, x_shape)
        overlapping = sh < span(kh, dh) or sw < span(kw, dw)
        # Windows that tile the padded input exactly write every cell once: no zero fill.
        tiling = ((sh, sw) == (span(kh, dh), span(kw, dw))
                  and xp_shape[1:3] == (out_hw[0] * sh, out_hw[1] * sw))
        dxp = (np.empty if tiling and finite else np.zeros)(xp_shape, dtype=dy.dtype)
        views = self._offset_views(dxp, out_hw)
        if self.mode == "average":
            share = dy / self._divisor(x_shape, out_hw)
            for view in views:
                if overlapping:
                    view += share
                else:  # each cell lies in one window at most: write
                    view[...] = share
        else:
            for t, view in enumerate(views):
                if overlapping or not finite:
                    add_picked(view, dy, masks[t], finite)
                else:  # each cell lies in one window at most: write
                    np.multiply(dy, masks[t], out=view)
        return crop_padding(dxp, pads, x_shape)


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
        out += (dy / (x_shape[1] * x_shape[2]))[:, None, None, :]
        return out
