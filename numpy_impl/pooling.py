"""2-D max / average pooling and global average pooling on NHWC images.

Torch's rules, which the seeds' pooling layer does not all follow:

- max pooling pads with −inf (a padded cell never wins), not with 0 — with 0, a window of
  negative inputs would output 0 and send its gradient nowhere;
- the gradient of a window goes to its FIRST maximum in row-major order (``np.argmax``'s
  rule too), not to every tied element, and overlapping windows (stride < kernel)
  accumulate;
- average pooling counts padded zeros (``count_include_pad=True``): always ÷ kh·kw;
- ``stride`` defaults to ``kernel_size``; ``padding`` may be at most ``kernel_size // 2``
  on each axis, so every window holds at least one real input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer, TwoPathLayer
from numpy_impl.validation import check_choice
from numpy_impl.windows import (
    as_pair,
    check_images,
    check_kernel_fits,
    crop_padding,
    output_size,
    pad_images,
    window_slice,
)


class Pool2D(TwoPathLayer):
    """Max or average pooling over kh × kw windows with stride (sh, sw), per channel.

    Forward, with xp the padded input (−inf padding for max, 0 for average):

    - max:      y[n, r, c, ch] = max_{i<kh, j<kw} xp[n, r·sh + i, c·sw + j, ch]
    - average:  y[n, r, c, ch] = (1 / (kh·kw)) Σ_{i<kh, j<kw} xp[n, r·sh + i, c·sw + j, ch]

    Backward, for g = dL/dy, accumulated over every window (r, c) that covers a cell:

    - max:      dxp[n, r·sh + i*, c·sw + j*, ch] += g[n, r, c, ch], (i*, j*) the first
                maximum of the window in row-major order (torch's tie rule);
    - average:  dxp[n, r·sh + i, c·sw + j, ch] += g[n, r, c, ch] / (kh·kw) for all (i, j);

    and dx is the interior of dxp.

    Paths:

    - ``impl="loop"``: the seeds' form, a loop over output positions; backward recomputes
      each window's ``np.argmax`` and scatters through a one-hot mask.
    - ``impl="vectorized"``: the window of offset t = i·kw + j is the strided view
      ``xp[:, i::sh, j::sw]`` (output-shaped, no copy), so the forward is kh·kw element-wise
      ``np.maximum`` (or ``+``) over whole arrays. The argmax over the flattened window is
      kept as kh·kw boolean masks: mask[t] is "offset t equals the window maximum and no
      earlier offset did", i.e. exactly the first maximum in row-major order. Backward adds
      g·mask[t] into the strided slice of dxp for each offset (written in place when the
      windows do not overlap). Loops run over the kh·kw kernel offsets only.

      Max pooling with overlapping windows (stride < kernel) is separable instead: the
      row maxima m[n, R, c] = max_j xp[n, R, c·sw + j] over every padded row R, then
      y = max_i m[n, r·sh + i, c]: kw + kh passes instead of kh·kw, each with its own
      first-maximum masks. The first maximum in row-major order is the first row i* whose
      row maximum equals y, at that row's first maximum j*, so the tie rule is unchanged.
      Backward runs the two stages in reverse: g goes to row i* of an (N, Hp, OW, C)
      array, whose entries then go to column j* of their row.

    Parameter-free; computes in the input's dtype (float32 or float64).
    """

    MODES = ("max", "average")

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        mode: str = "max",
        impl: str = "vectorized",
    ) -> None:
        super().__init__(impl)
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
        self.mode = check_choice(where, "mode", mode, self.MODES)
        ph, pw = self.padding
        self.pads = (ph, ph, pw, pw)

    def config(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "mode": self.mode,
            "impl": self.impl,
        }

    # ----------------------------------------------------------------- forward
    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, H, W, C) -> y (N, OH, OW, C); caches what backward needs."""
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_images(where, x)
        padded = check_kernel_fits(where, x.shape, self.kernel_size, self.pads)
        out_hw = (output_size(padded[0], self.kernel_size[0], self.stride[0]),
                  output_size(padded[1], self.kernel_size[1], self.stride[1]))
        fill = -np.inf if self.mode == "max" else 0.0
        xp = pad_images(x, self.pads, fill)
        if self.impl == "loop":
            y = self._forward_loop(xp, out_hw)
            cache: Any = (xp, x.shape, out_hw)
        else:
            y, masks = self._forward_vectorized(xp, out_hw)
            cache = (masks, xp.shape, x.shape, out_hw)
        return self._remember_output(y, cache)

    def _forward_loop(self, xp: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        reduce = np.max if self.mode == "max" else np.mean
        y = np.empty((xp.shape[0], *out_hw, xp.shape[3]), dtype=xp.dtype)
        for row in range(out_hw[0]):
            top = row * sh
            for col in range(out_hw[1]):
                left = col * sw
                y[:, row, col, :] = reduce(xp[:, top:top + kh, left:left + kw, :], axis=(1, 2))
        return y

    def _offset_views(self, a: np.ndarray, out_hw: tuple[int, int]) -> list[np.ndarray]:
        """For each kernel offset t = i·kw + j (row-major), the (N, OH, OW, C) strided view
        of ``a`` holding element (i, j) of every window."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return [a[:, window_slice(i, out_hw[0], sh), window_slice(j, out_hw[1], sw), :]
                for i in range(kh) for j in range(kw)]

    def _separable(self) -> bool:
        """Max pooling with overlapping windows: the two-stage (rows, then columns) path."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return self.mode == "max" and (sh < kh or sw < kw)

    def _forward_vectorized(
        self, xp: np.ndarray, out_hw: tuple[int, int]
    ) -> tuple[np.ndarray, Any]:
        if self._separable():
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            row_max, col_masks = first_maximum(
                [xp[:, :, window_slice(j, out_hw[1], sw), :] for j in range(kw)])
            y, row_masks = first_maximum(
                [row_max[:, window_slice(i, out_hw[0], sh)] for i in range(kh)])
            return y, (row_masks, col_masks)
        views = self._offset_views(xp, out_hw)
        if self.mode == "max":
            return first_maximum(views)
        y = views[0].copy()
        for view in views[1:]:
            y += view
        y /= len(views)
        return y, None

    # ----------------------------------------------------------------- backward
    # backward (TwoPathLayer): dy (N, OH, OW, C) -> dx (N, H, W, C).
    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        xp, x_shape, out_hw = cache
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        n, _, _, channels = xp.shape
        dxp = np.zeros_like(xp)
        batch_idx, channel_idx = np.indices((n, channels))
        for row in range(out_hw[0]):
            top = row * sh
            for col in range(out_hw[1]):
                left = col * sw
                g = dy[:, row:row + 1, col:col + 1, :]
                if self.mode == "max":
                    flat = xp[:, top:top + kh, left:left + kw, :].reshape(n, kh * kw, channels)
                    first_max = np.argmax(flat, axis=1)  # the first maximum: torch's tie rule
                    mask = np.zeros(flat.shape, dtype=dy.dtype)
                    mask[batch_idx, first_max, channel_idx] = 1
                    dxp[:, top:top + kh, left:left + kw, :] += (
                        mask.reshape(n, kh, kw, channels) * g
                    )
                else:
                    dxp[:, top:top + kh, left:left + kw, :] += g / (kh * kw)
        return crop_padding(dxp, self.pads, x_shape)

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        masks, xp_shape, x_shape, out_hw = cache
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        if self._separable():
            row_masks, col_masks = masks
            rows_grad = np.zeros((xp_shape[0], xp_shape[1], out_hw[1], xp_shape[3]),
                                 dtype=dy.dtype)
            for i, mask in enumerate(row_masks):
                rows_grad[:, window_slice(i, out_hw[0], sh)] += dy * mask
            dxp = np.zeros(xp_shape, dtype=dy.dtype)
            for j, mask in enumerate(col_masks):
                dxp[:, :, window_slice(j, out_hw[1], sw)] += rows_grad * mask
            return crop_padding(dxp, self.pads, x_shape)
        overlapping = sh < kh or sw < kw
        # Windows that tile the padded input exactly write every cell once: no zero fill.
        tiling = (sh, sw) == (kh, kw) and xp_shape[1:3] == (out_hw[0] * kh, out_hw[1] * kw)
        dxp = (np.empty if tiling else np.zeros)(xp_shape, dtype=dy.dtype)
        views = self._offset_views(dxp, out_hw)
        share = dy / (kh * kw) if self.mode == "average" else dy
        for t, view in enumerate(views):
            if overlapping:
                view += share if self.mode == "average" else dy * masks[t]
            elif self.mode == "average":  # each cell lies in one window at most: write
                view[...] = share
            else:
                np.multiply(dy, masks[t], out=view)
        return crop_padding(dxp, self.pads, x_shape)


def first_maximum(views: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The element-wise maximum of equally shaped arrays and, for each, the boolean mask
    "holds the maximum and no earlier array did": the FIRST maximum in list order
    (``np.argmax``'s and torch's tie rule); the masks partition every position."""
    if len(views) == 1:
        return views[0].copy(), np.ones((1, *views[0].shape), dtype=bool)
    y = np.maximum(views[0], views[1])
    for view in views[2:]:
        np.maximum(y, view, out=y)
    # mask[t] = (view_t == y) and no earlier view was; the last wins when none before did.
    masks = np.empty((len(views), *y.shape), dtype=bool)
    taken = np.equal(views[0], y, out=masks[0]).copy()
    for t in range(1, len(views) - 1):
        mask = np.equal(views[t], y, out=masks[t])
        np.greater(mask, taken, out=mask)  # equal and (not taken)
        np.logical_or(taken, mask, out=taken)
    np.logical_not(taken, out=masks[-1])
    return y, masks


class GlobalAvgPool2D(Layer):
    """y[n, ch] = (1 / (H·W)) Σ_{h, w} x[n, h, w, ch]:  (N, H, W, C) -> (N, C).

    Backward: dx[n, h, w, ch] = dy[n, ch] / (H·W). The torch twin is
    ``nn.AdaptiveAvgPool2d(1)`` followed by a flatten. Parameter-free; computes in the
    input's dtype.

    The sum over H·W is one batched GEMV, ones(H·W) · x.reshape(N, H·W, C), about 5x faster
    than ``x.mean(axis=(1, 2))``, which reduces NHWC over two non-contiguous axes.
    :meth:`backward_add` adds the input gradient into an array the caller already holds
    (SEBlock's scale path) instead of materializing the broadcast first.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, H, W, C) -> y (N, C)."""
        x = self._check_input(x)
        check_images(f"{self.where}.forward", x)
        n, h, w, c = x.shape
        y = np.matmul(np.ones(h * w, dtype=x.dtype), x.reshape(n, h * w, c))
        y /= h * w
        return self._remember_output(y, x.shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (N, C) -> dx (N, H, W, C)."""
        x_shape = self._take_cache(dy)
        dx = np.empty(x_shape, dtype=dy.dtype)
        dx[...] = self._share(dy, x_shape)
        return dx

    def backward_add(self, dy: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out += backward(dy)`` without the (N, H, W, C) temporary; returns ``out``."""
        x_shape = self._take_cache(dy)
        out += self._share(dy, x_shape)
        return out

    @staticmethod
    def _share(dy: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
        """dy / (H·W) shaped (N, 1, 1, C) to broadcast over the image."""
        return (dy / (x_shape[1] * x_shape[2]))[:, None, None, :]
