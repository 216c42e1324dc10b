"""Stock torch counterpart of :class:`numpy_impl.conv.Conv2D` (both impl paths share one)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from numpy_impl.conv import Conv2D
from torch_ref.base import Reference, link_module, nhwc_without_onednn


def conv2d_module(layer: Conv2D) -> nn.Conv2d:
    """The stock ``nn.Conv2d`` (NCHW) with the NumPy layer's config (nothing copied yet):
    kernel, stride, padding, dilation, groups, bias and padding_mode.

    Padding: an int pair and ``"valid"`` pass straight through; ``"same"`` with stride 1 is
    torch's own ``padding="same"`` (for an even span torch puts the extra row/column at the
    bottom/right, with any ``padding_mode``); ``"same"`` with a stride > 1, which torch
    refuses, becomes the explicit symmetric padding (d·(k − 1) // 2 per axis) that the
    NumPy layer documents.
    """
    padding: str | tuple[int, int]
    if layer.padding == "same" and layer.stride != (1, 1):
        padding = (layer.pads[0], layer.pads[2])
    else:
        padding = layer.padding
    return nn.Conv2d(
        layer.in_channels,
        layer.out_channels,
        kernel_size=layer.kernel_size,
        stride=layer.stride,
        padding=padding,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.use_bias,
        padding_mode=layer.padding_mode,
    )


def conv2d(layer: Conv2D) -> Reference:
    """``nn.Conv2d`` on NHWC tensors, weight HWIO -> OIHW (see :func:`conv2d_module`)."""
    module = conv2d_module(layer)
    forward = nhwc_without_onednn(module)  # torch 2.13 oneDNN heap corruption, see base
    if module.padding == "same":
        forward = _quiet_even_same(forward)
    return link_module(layer, module, forward=forward)


def _quiet_even_same(
    call: Callable[[torch.Tensor], torch.Tensor],
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Silence torch's performance note for ``padding="same"`` with an even kernel (it pads
    a copy of the input, which is what we want to compare against)."""

    def quiet(x: torch.Tensor) -> torch.Tensor:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*padding='same' with even kernel")
            return call(x)

    return quiet
