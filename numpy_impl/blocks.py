"""Composite blocks (NHWC): squeeze-and-excitation and the SE-ResNet basic block.

Both are composed from the library's layers (Conv2D, BatchNorm2d, Linear, ReLU, Sigmoid,
GlobalAvgPool2D), registered as children, so their parameters appear under dotted names
(``conv1.weight``, ``bn1.bias``, ``se.fc1.weight``, ``shortcut.conv.weight`` ...) and
``train()``/``eval()`` reach every batch norm inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.activations import Identity, ReLU, Sigmoid
from numpy_impl.base import Layer
from numpy_impl.buffering import image_channel_dots, per_image_channel
from numpy_impl.conv import Conv2D
from numpy_impl.linear import Linear
from numpy_impl.normalization import BatchNorm2d
from numpy_impl.pooling import GlobalAvgPool2D
from numpy_impl.validation import (
    check_axis_size,
    check_choice,
    check_positive_int,
    check_rank,
)

NHWC = "(batch, height, width, channels)"


def _dtype_name(layer: Layer) -> str | None:
    return layer.dtype.name if layer.dtype is not None else None


def check_reduction(where: str, channels_name: str, channels: int, reduction: int) -> int:
    """The SE bottleneck width ``channels // reduction``; refuse a width of 0."""
    hidden = channels // reduction
    if hidden < 1:
        raise ValueError(
            f"{where}: {channels_name} // reduction must be >= 1 (the SE bottleneck width), "
            f"got {channels} // {reduction} = 0; use reduction <= {channels}"
        )
    return hidden


class SEBlock(Layer):
    """Squeeze-and-excitation on x (N, H, W, C), as the seed's ``SEBlock``::

        z = GAP(x)                               squeeze: (N, C), mean over H, W
        s = σ(W₂ᵀ · relu(W₁ᵀ · z))               excitation, bias-free, C → C//r → C
        y = x ⊙ s                                 s broadcast over H, W

    Backward: x reaches y along two paths, so dx is their sum::

        dx = dy ⊙ s                               scale path
           + GAP'(W₁ · relu'(...) · W₂ · σ'(...) · Σ_{H,W}(dy ⊙ x))    squeeze path

    Σ_{H,W}(dy ⊙ x) is one einsum (:func:`numpy_impl.buffering.image_channel_dots`), the
    products with s run on wide views (:func:`numpy_impl.buffering.per_image_channel`), and
    the squeeze path is added into the scale path's array in place
    (:meth:`GlobalAvgPool2D.backward_add`).

    After forward the layer keeps s and, when every s >= SMALLEST_SCALE, the output y
    (returned read-only) instead of a private copy of x: s is one number per (n, c), so
    Σ_{H,W}(dy ⊙ x) = Σ_{H,W}(dy ⊙ y) / s. y = x·s·(1 + δ) with |δ| <= u, or an absolute
    error of at most half the smallest subnormal where x·s underflows, which divided by
    s >= 2^-24 stays below 2^-126: the sum is as accurate as Σ dy ⊙ x itself, and the
    copy of x (a pass over the input) is saved. A smaller s (a saturated gate, or NaN)
    keeps the copy of x.

    Children ``squeeze``, ``fc1`` (Linear C → C//r), ``relu``, ``fc2`` (Linear C//r → C),
    ``sigmoid``; parameters ``fc1.weight`` (C, C//r) and ``fc2.weight`` (C//r, C), which are
    torch's ``excitation.0.weight`` and ``excitation.2.weight`` transposed.
    """

    IMPLS = ("loop", "vectorized")
    #: The smallest gate value s for which backward recovers Σ dy ⊙ x from y (see above).
    SMALLEST_SCALE = 2.0 ** -24

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        *,
        dtype: object = np.float32,
        rng: np.random.Generator | int | None = None,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(dtype)
        self.channels = check_positive_int(self.where, "channels", channels)
        self.reduction = check_positive_int(self.where, "reduction", reduction)
        hidden = check_reduction(self.where, "channels", self.channels, self.reduction)
        self.impl = check_choice(self.where, "impl", impl, self.IMPLS)
        self.squeeze = self.add_child("squeeze", GlobalAvgPool2D(impl=impl))
        self.fc1 = self.add_child("fc1", Linear(self.channels, hidden, bias=False,
                                                dtype=dtype, rng=rng))
        self.relu = self.add_child("relu", ReLU())
        self.fc2 = self.add_child("fc2", Linear(hidden, self.channels, bias=False,
                                                dtype=dtype, rng=rng))
        self.sigmoid = self.add_child("sigmoid", Sigmoid())

    def config(self) -> dict[str, Any]:
        return {"channels": self.channels, "reduction": self.reduction,
                "dtype": _dtype_name(self), "impl": self.impl}

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_rank(where, "x", x, 4, NHWC)
        check_axis_size(where, "x", x, 3, self.channels, "channels")
        x = np.ascontiguousarray(x)  # the wide views below need it (and cache it)
        z = self.squeeze.forward(x)
        s = self.sigmoid.forward(self.fc2.forward(self.relu.forward(self.fc1.forward(z))))
        y = per_image_channel(np.multiply, x, s, np.empty(x.shape, x.dtype))
        from_output = bool(s.min(initial=1.0) >= self.SMALLEST_SCALE)  # False at NaN
        return self._remember_output(y, (y if from_output else x, s, from_output))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        kept, s, from_output = self._take_cache(dy)
        dy = np.ascontiguousarray(dy)
        # scale path: y = x ⊙ s with s held fixed
        dx = per_image_channel(np.multiply, dy, s, np.empty(dy.shape, dy.dtype))
        ds = image_channel_dots(dy, kept)  # dL/ds (N, C) = Σ_{H,W} dy ⊙ x
        if from_output:  # kept is y = x ⊙ s
            ds /= s
        dz = self.fc1.backward(self.relu.backward(self.fc2.backward(self.sigmoid.backward(ds))))
        # squeeze path (s depends on x through GAP(x)), added into dx in place.
        return self.squeeze.backward_add(dz, dx)


class Projection(Layer):
    """The projection shortcut of a residual block: 1×1 convolution (stride s, no bias),
    then batch norm. Children ``conv`` and ``bn`` (torch's ``shortcut.0``/``shortcut.1``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        *,
        dtype: object = np.float32,
        rng: np.random.Generator | int | None = None,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(dtype)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.impl = stride, impl
        self.conv = self.add_child("conv", Conv2D(in_channels, out_channels, 1, stride=stride,
                                                  padding=0, bias=False, dtype=dtype, rng=rng,
                                                  impl=impl))
        self.bn = self.add_child("bn", BatchNorm2d(out_channels, dtype=dtype))

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "stride": self.stride, "impl": self.impl, "dtype": _dtype_name(self)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = self.bn.forward(self.conv.forward(self._check_input(x)))
        return self._remember_output(y, None)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self._take_cache(dy)
        return self.conv.backward(self.bn.backward(dy))


class SEResNetBlock(Layer):
    """The seed's SE-ResNet basic block on x (N, H, W, C_in)::

        u = relu(bn1(conv1(x)))        conv1: 3×3, stride s, padding 1, no bias
        v = se(bn2(conv2(u)))          conv2: 3×3, stride 1, padding 1, no bias
        y = relu(v + shortcut(x))      shortcut: identity, or 1×1 conv (stride s) + BN when
                                       s ≠ 1 or C_in ≠ C_out

    Backward routes dL/d(v + shortcut) through both branches and sums them at x::

        dx = conv1ᵀ(bn1'(relu'(conv2ᵀ(bn2'(se'(dz)))))) + shortcut'(dz),  dz = dy ⊙ [y > 0]

    Parameter names: ``conv1.weight``, ``bn1.weight``/``bias``, ``conv2.weight``, ``bn2.*``,
    ``se.fc1.weight``, ``se.fc2.weight``, and with a projection ``shortcut.conv.weight``,
    ``shortcut.bn.weight``/``bias``; buffers ``bn1.running_mean`` etc. ``impl`` selects the
    convolutions' path (``"loop"`` or ``"vectorized"``).
    """

    IMPLS = ("loop", "vectorized")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        reduction: int = 16,
        *,
        dtype: object = np.float32,
        rng: np.random.Generator | int | None = None,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(dtype)
        self.in_channels = check_positive_int(self.where, "in_channels", in_channels)
        self.out_channels = check_positive_int(self.where, "out_channels", out_channels)
        self.stride = check_positive_int(self.where, "stride", stride)
        self.reduction = check_positive_int(self.where, "reduction", reduction)
        check_reduction(self.where, "out_channels", self.out_channels, self.reduction)
        self.impl = check_choice(self.where, "impl", impl, self.IMPLS)
        c_in, c_out = self.in_channels, self.out_channels
        self.conv1 = self.add_child("conv1", Conv2D(c_in, c_out, 3, stride=self.stride,
                                                    padding=1, bias=False, dtype=dtype,
                                                    rng=rng, impl=impl))
        self.bn1 = self.add_child("bn1", BatchNorm2d(c_out, dtype=dtype))
        self.relu1 = self.add_child("relu1", ReLU())
        self.conv2 = self.add_child("conv2", Conv2D(c_out, c_out, 3, stride=1, padding=1,
                                                    bias=False, dtype=dtype, rng=rng,
                                                    impl=impl))
        self.bn2 = self.add_child("bn2", BatchNorm2d(c_out, dtype=dtype))
        self.se = self.add_child("se", SEBlock(c_out, self.reduction, dtype=dtype, rng=rng,
                                               impl=impl))
        self.projects = self.stride != 1 or c_in != c_out
        self.shortcut: Layer = self.add_child(
            "shortcut",
            Projection(c_in, c_out, self.stride, dtype=dtype, rng=rng, impl=impl)
            if self.projects else Identity(),
        )
        self.relu = self.add_child("relu", ReLU())

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "stride": self.stride, "reduction": self.reduction, "impl": self.impl,
                "dtype": _dtype_name(self)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_rank(where, "x", x, 4, NHWC)
        check_axis_size(where, "x", x, 3, self.in_channels, "channels (in_channels)")
        u = self.relu1.forward(self.bn1.forward(self.conv1.forward(x)))
        v = self.se.forward(self.bn2.forward(self.conv2.forward(u)))
        y = self.relu.forward(v + self.shortcut.forward(x))
        return self._remember_output(y, None)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self._take_cache(dy)
        dz = self.relu.backward(dy)
        du = self.conv2.backward(self.bn2.backward(self.se.backward(dz)))
        dx = self.conv1.backward(self.bn1.backward(self.relu1.backward(du)))
        return dx + self.shortcut.backward(dz)
