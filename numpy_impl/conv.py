"""2-D convolution on NHWC images, with a textbook loop path and a vectorized (im2col) path.

Shapes: x (N, H, W, C_in), weight (kh, kw, C_in / groups, C_out) ("HWIO"), bias (C_out,),
y (N, OH, OW, C_out). Like ``torch.nn.Conv2d`` this is a cross-correlation (the kernel is
not flipped), and the options are torch's, in torch's positional order: ``stride``,
``padding``, ``dilation``, ``groups``, ``bias``, ``padding_mode``.

Padding
-------
``padding`` is an int, a pair ``(ph, pw)`` (added on both sides of each axis),
``"valid"`` (no padding) or ``"same"``:

- stride 1 on both axes: the output keeps the input's spatial size. Each axis is padded by
  d·(k − 1) in total (d the dilation), ⌊d·(k − 1)/2⌋ before and the rest after, so an
  even kernel gets its extra row/column at the bottom/right. This is exactly torch's
  ``padding="same"``.
- any stride > 1: torch refuses ``padding="same"``; here "same" then means the seeds'
  rule, ⌊d·(k − 1)/2⌋ on *both* sides of each axis (symmetric), and the torch reference is
  given that explicit padding. The output is then ⌈H/s⌉ for odd kernels, not always for
  even ones.

``padding_mode`` says what the padded cells hold (torch's names): ``"zeros"``, ``"reflect"``
(the input mirrored at its edge, the edge itself not repeated; the padding must be smaller
than the input), ``"replicate"`` (the edge repeated) or ``"circular"`` (the input wrapped
around; the padding must be at most the input size). Any mode goes with any padding,
``"same"`` included, as in torch.

Output size per axis: OH = ⌊(H + pad_top + pad_bottom − d·(kh − 1) − 1) / sh⌋ + 1 (torch's
rule; surplus rows at the bottom that no window reaches are ignored).

Non-finite input: a window holding inf or NaN gives what torch's sum of products gives
(±inf, or NaN where +inf and −inf terms meet); NumPy's "invalid value" warning for those
sums is silenced inside the layer, since such an input has a defined result.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import TwoPathLayer
from numpy_impl.initializers import as_generator, bias_bound, get_initializer
from numpy_impl.validation import check_choice, check_positive_int
from numpy_impl.windows import (
    NHWC,
    PADDING_MODES,
    as_pair,
    check_flag,
    check_images,
    check_kernel_fits,
    fold_padding,
    output_size,
    pad_images,
    span,
    window_slice,
)

BIAS_INITS = ("zeros", "torch_default")


def conv_padding(
    where: str, padding: object, kernel: tuple[int, int], stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> tuple[tuple[int, int] | str, tuple[int, int, int, int]]:
    """(normalized ``padding`` for ``config()``, internal (top, bottom, left, right))."""
    if isinstance(padding, str):
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        if padding == "valid":
            return padding, (0, 0, 0, 0)
        if padding == "same":
            if stride == (1, 1):
                # torch: d·(k − 1) in total, the smaller half first (extra on the bottom/right).
                (th, tw) = totals
                return padding, (th // 2, th - th // 2, tw // 2, tw - tw // 2)
            ph, pw = (total // 2 for total in totals)
            return padding, (ph, ph, pw, pw)
        raise ValueError(
            f"{where}: padding must be an int, a pair of ints, 'same' or 'valid', "
            f"got {padding!r}"
        )
    ph, pw = as_pair(where, "padding", padding, minimum=0)
    return (ph, pw), (ph, ph, pw, pw)


def check_padding_mode_fits(where: str, x_shape: tuple[int, ...], mode: str,
                            pads: tuple[int, int, int, int]) -> None:
    """torch's limits: ``reflect`` needs padding < the input size on that axis, ``circular``
    padding <= the input size (it wraps around at most once)."""
    if mode not in ("reflect", "circular"):
        return
    top, bottom, left, right = pads
    for axis, name, (before, after) in ((1, "height", (top, bottom)), (2, "width", (left, right))):
        size = x_shape[axis]
        too_large = max(before, after) >= size if mode == "reflect" else max(before, after) > size
        if too_large:
            limit = "smaller than" if mode == "reflect" else "at most"
            raise ValueError(
                f"{where}: padding {(before, after)} on the {name} axis must be {limit} the "
                f"input {name} {size} for padding_mode={mode!r} (x shape {x_shape})"
            )


# --------------------------------------------------------------------------- the layer
class Conv2D(TwoPathLayer):
    """y[n, r, c, g·C_out/G + o] = b[·] + Σ_{i<kh, j<kw, ch<C_in/G}
    xp[n, r·sh + i·dh, c·sw + j·dw, g·C_in/G + ch] · W[i, j, ch, g·C_out/G + o]

    with ``xp`` the padded input (see the module docstring for ``padding`` and
    ``padding_mode``), (dh, dw) the dilation and G = ``groups``: the input channels are split
    into G groups of C_in/G, each convolved with its own C_out/G filters (G = C_in is a
    depthwise convolution).

    Backward, for the upstream gradient g = dL/dy (N, OH, OW, C_out), per group:

    - dW[i, j, ch, o] = Σ_{n, r, c} xp[n, r·sh + i·dh, c·sw + j·dw, ch] · g[n, r, c, o]
    - db[o]           = Σ_{n, r, c} g[n, r, c, o]
    - dxp[n, r·sh + i·dh, c·sw + j·dw, ch] += Σ_o g[n, r, c, o] · W[i, j, ch, o] for every
      (r, c, i, j) (overlapping windows accumulate), and dx is dxp folded back onto the
      input: its interior, plus (reflect/replicate/circular) each padded cell's gradient
      added to the input cell it copies.

    Paths:

    - ``impl="loop"``: the seeds' textbook form, one ``einsum("bijgc,ijcgo->bgo")`` per
      output position forward (``"bijc,ijco->bo"`` with a group axis); backward
      accumulates dW and dxp per output position with einsums.
    - ``impl="vectorized"`` (im2col, columns stored transposed): the padded input is laid
      out channel-first, xc (G, C_in/G, N, Hp, Wp), and the window element of each kernel
      offset t = (i, j) is copied from its strided view into the columns Xᵀ (G, kh·kw·C_in/G,
      N·OH·OW), rows ordered (i, j, ch) like those of each group's weight
      W_g (kh·kw·C_in/G, C_out/G). Then y = (Xᵀ)ᵀ · W, dW = Xᵀ · G (Xᵀ is kept from the
      forward pass) and the column gradients dXᵀ = W · Gᵀ are GEMMs (one per group, batched
      by ``np.matmul``; a single plain GEMM when groups = 1), with G = dy as
      (N·OH·OW, C_out). col2im adds each offset's block of dXᵀ into the strided slice of the
      channel-first dxc it came from, and dx is dxc folded back in NHWC. Loops run over the
      kh·kw kernel offsets only, never over positions, groups or the batch.

      Why transposed: OpenBLAS runs these tall-skinny GEMMs fastest when the long N·OH·OW
      axis is the contiguous one of the output (dXᵀ: 1.4x faster than dX at 25088 × 144),
      one GEMM replaces kh·kw narrow ones (C_in = 3: 4x faster), and the copies of im2col
      and col2im move runs of OW values instead of runs of C_in.

    ``weight`` is stored (kh, kw, C_in/G, C_out); the torch reference permutes it to torch's
    (C_out, C_in/G, kh, kw). ``bias`` starts at zero (the seeds) or, with
    ``bias_init="torch_default"``, at U(−1/√fan_in, 1/√fan_in) like torch's;
    ``weight_init`` names an initializer from :mod:`numpy_impl.initializers`.
    """

    PARAM_LAYOUTS = {"weight": "(kh, kw, in, out)"}  # noqa: RUF012 (read-only class data)
    PADDING_MODES = tuple(PADDING_MODES)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        weight_init: str = "xavier_uniform",
        bias_init: str = "zeros",
        dtype: object = np.float32,
        rng: np.random.Generator | int | None = None,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(impl, dtype)
        where = self.where
        self.in_channels = check_positive_int(where, "in_channels", in_channels)
        self.out_channels = check_positive_int(where, "out_channels", out_channels)
        self.kernel_size = as_pair(where, "kernel_size", kernel_size, minimum=1)
        self.stride = as_pair(where, "stride", stride, minimum=1)
        self.dilation = as_pair(where, "dilation", dilation, minimum=1)
        self.padding, self.pads = conv_padding(where, padding, self.kernel_size, self.stride,
                                               self.dilation)
        self.groups = check_positive_int(where, "groups", groups)
        for name, channels in (("in_channels", self.in_channels),
                               ("out_channels", self.out_channels)):
            if channels % self.groups:
                raise ValueError(
                    f"{where}: {name}={channels} must be divisible by groups={self.groups} "
                    f"(each of the {self.groups} groups gets {name} / groups channels)"
                )
        self.use_bias = check_flag(where, "bias", bias)
        self.padding_mode = check_choice(where, "padding_mode", padding_mode,
                                         self.PADDING_MODES)
        self.weight_init = weight_init
        self.bias_init = check_choice(where, "bias_init", bias_init, BIAS_INITS)
        generator = as_generator(rng)
        assert self.dtype is not None
        shape = (*self.kernel_size, self.in_channels // self.groups, self.out_channels)
        self._params["weight"] = get_initializer(weight_init)(shape, generator, self.dtype)
        if self.use_bias:
            bound = bias_bound(shape) if self.bias_init == "torch_default" else 0.0
            self._params["bias"] = generator.uniform(-bound, bound, self.out_channels).astype(
                self.dtype)

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "bias": self.use_bias,
            "padding_mode": self.padding_mode,
            "weight_init": self.weight_init,
            "bias_init": self.bias_init,
            "dtype": self.dtype.name if self.dtype is not None else None,
            "impl": self.impl,
        }

    # ----------------------------------------------------------------- forward
    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, H, W, C_in) -> y (N, OH, OW, C_out); caches what backward needs."""
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_images(where, x)
        if x.shape[3] != self.in_channels:
            raise ValueError(
                f"{where}: x has {x.shape[3]} channels on axis 3 (shape {x.shape}), expected "
                f"in_channels={self.in_channels}; images are {NHWC}"
            )
        padded = check_kernel_fits(where, x.shape, self.kernel_size, self.pads, self.dilation)
        check_padding_mode_fits(where, x.shape, self.padding_mode, self.pads)
        out_hw = (output_size(padded[0], self.kernel_size[0], self.stride[0], self.dilation[0]),
                  output_size(padded[1], self.kernel_size[1], self.stride[1], self.dilation[1]))
        with np.errstate(invalid="ignore"):  # inf − inf in a window sum: NaN, as in torch
            if self.impl == "loop":
                xp = pad_images(x, self.pads, mode=self.padding_mode)
                y = self._forward_loop(xp, out_hw)
                cache: Any = (xp, x.shape, out_hw)
            else:
                y, cols = self._forward_vectorized(x, padded, out_hw)
                cache = (cols, padded, x.shape, out_hw)
            if self.use_bias:
                y += self._params["bias"]
        return self._remember_output(y, cache)

    def _grouped_weight(self) -> np.ndarray:
        """The weight as (kh, kw, C_in/G, G, C_out/G): output channel g·C_out/G + o."""
        kh, kw, c_group, _ = self._params["weight"].shape
        return self._params["weight"].reshape(kh, kw, c_group, self.groups, -1)

    def _window(self, row: int, col: int) -> tuple[slice, slice]:
        """The padded rows and columns of output position (row, col)'s (dilated) window."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        top, left = row * sh, col * sw
        return (slice(top, top + span(kh, dh), dh), slice(left, left + span(kw, dw), dw))

    def _forward_loop(self, xp: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
        n, groups = xp.shape[0], self.groups
        weight = self._grouped_weight()
        y = np.empty((n, *out_hw, self.out_channels), dtype=xp.dtype)
        for row in range(out_hw[0]):
            for col in range(out_hw[1]):
                rows, cols = self._window(row, col)
                window = xp[:, rows, cols, :]  # (N, kh, kw, C_in)
                window = window.reshape(*window.shape[:3], groups, self.in_channels // groups)
                y[:, row, col, :] = np.einsum("bijgc,ijcgo->bgo", window, weight).reshape(
                    n, self.out_channels)
        return y

    def _forward_vectorized(
        self, x: np.ndarray, padded: tuple[int, int], out_hw: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        n, h, w, c_in = x.shape
        groups = self.groups
        if self.padding_mode == "zeros":
            top, _, left, _ = self.pads
            xc = np.zeros((c_in, n, *padded), dtype=x.dtype)
            xc[:, :, top:top + h, left:left + w] = x.transpose(3, 0, 1, 2)
        else:
            xc = pad_images(x, self.pads, mode=self.padding_mode).transpose(3, 0, 1, 2)
        xg = xc.reshape(groups, c_in // groups, n, *padded)  # splits the channel axis: a view
        cols = np.empty((groups, kh, kw, c_in // groups, n, *out_hw), dtype=x.dtype)
        for i in range(kh):
            rows = window_slice(i * dh, out_hw[0], sh)
            for j in range(kw):
                cols[:, i, j] = xg[:, :, :, rows, window_slice(j * dw, out_hw[1], sw)]
        cols = cols.reshape(groups, kh * kw * c_in // groups, n * out_hw[0] * out_hw[1])  # Xᵀ
        weight = self._params["weight"].reshape(cols.shape[1], groups, -1)
        if groups == 1:
            y = cols[0].T @ weight[:, 0]
        else:  # (G, M, K) @ (G, K, C_out/G) -> (G, M, C_out/G) -> (M, C_out)
            y = np.matmul(cols.transpose(0, 2, 1), weight.transpose(1, 0, 2))
            y = y.transpose(1, 0, 2).reshape(cols.shape[2], self.out_channels)
        return y.reshape(n, *out_hw, self.out_channels), cols

    # ----------------------------------------------------------------- backward
    # backward (TwoPathLayer): dy (N, OH, OW, C_out) -> dx (N, H, W, C_in); fills ``grads``.
    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        xp, x_shape, out_hw = cache
        n, groups = xp.shape[0], self.groups
        weight = self._grouped_weight()
        dw = np.zeros_like(weight)
        dxp = np.zeros_like(xp)
        with np.errstate(invalid="ignore"):  # inf input: dW sums inf·g of both signs
            for row in range(out_hw[0]):
                for col in range(out_hw[1]):
                    rows, cols = self._window(row, col)
                    g = dy[:, row, col, :].reshape(n, groups, self.out_channels // groups)
                    window = xp[:, rows, cols, :]
                    window = window.reshape(*window.shape[:3], groups, self.in_channels // groups)
                    dw += np.einsum("bgo,bijgc->ijcgo", g, window)
                    dxp[:, rows, cols, :] += np.einsum(
                        "bgo,ijcgo->bijgc", g, weight).reshape(*window.shape[:3], self.in_channels)
        self._grads["weight"] = dw.reshape(self._params["weight"].shape)
        if self.use_bias:
            self._grads["bias"] = dy.sum(axis=(0, 1, 2))
        return fold_padding(dxp, self.pads, x_shape, self.padding_mode)

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        cols, padded, x_shape, (oh, ow) = cache
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        groups, weight = self.groups, self._params["weight"]
        w3 = weight.reshape(cols.shape[1], groups, -1)  # (kh·kw·C_in/G, G, C_out/G)
        g = dy.reshape(dy.shape[0] * oh * ow, self.out_channels)  # (N·OH·OW, C_out)
        with np.errstate(invalid="ignore"):  # inf input: dW sums inf·g of both signs
            if groups == 1:
                self._grads["weight"] = (cols[0] @ g).reshape(weight.shape)
                dcols = w3[:, 0] @ g.T  # dXᵀ (kh·kw·C_in, N·OH·OW)
            else:
                gg = g.reshape(g.shape[0], groups, -1).transpose(1, 0, 2)  # (G, M, C_out/G)
                dwg = np.matmul(cols, gg)  # (G, K, C_out/G)
                self._grads["weight"] = dwg.transpose(1, 0, 2).reshape(weight.shape)
                dcols = np.matmul(w3.transpose(1, 0, 2), gg.transpose(0, 2, 1))  # (G, K, M)
        if self.use_bias:
            # Σ over rows as a GEMV: ~7x faster than g.sum(axis=0) on a tall (M, C_out) array.
            self._grads["bias"] = np.ones(g.shape[0], dtype=g.dtype) @ g
        n, c_group = x_shape[0], self.in_channels // groups
        dcols = dcols.reshape(groups, kh, kw, c_group, n, oh, ow)
        # col2im: offset (i, j) of every window lands on rows i·dh, i·dh + sh, … and columns
        # j·dw, j·dw + sw, … of the padded input; overlapping windows accumulate.
        dxc = np.zeros((self.in_channels, n, *padded), dtype=dy.dtype)
        dxg = dxc.reshape(groups, c_group, n, *padded)
        for i in range(kh):
            rows = window_slice(i * dh, oh, sh)
            for j in range(kw):
                dxg[:, :, :, rows, window_slice(j * dw, ow, sw)] += dcols[:, i, j]
        if self.padding_mode == "zeros":
            top, _, left, _ = self.pads
            interior = dxc[:, :, top:top + x_shape[1], left:left + x_shape[2]]
            return np.ascontiguousarray(interior.transpose(1, 2, 3, 0))
        return fold_padding(dxc.transpose(1, 2, 3, 0), self.pads, x_shape, self.padding_mode)
