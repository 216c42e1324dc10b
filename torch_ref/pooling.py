"""Stock torch counterparts of :mod:`numpy_impl.pooling` (both impl paths share one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from numpy_impl.pooling import GlobalAvgPool2D
from torch_ref.base import Reference, link_module, nhwc


def pool2d_module(layer: Any) -> nn.Module:
    """``nn.MaxPool2d`` (pads with −inf, gradient to the first maximum, the last NaN) or
    ``nn.AvgPool2d`` (NCHW) with the config of a NumPy ``MaxPool2d``, ``AvgPool2d`` or
    ``Pool2D`` (they share their attributes)."""
    if layer.mode == "max":
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                            return_indices=layer.return_indices, ceil_mode=layer.ceil_mode)
    return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding,
                        ceil_mode=layer.ceil_mode, count_include_pad=layer.count_include_pad,
                        divisor_override=layer.divisor_override)


def adaptive_pool2d_module(layer: Any) -> nn.Module:
    """``nn.AdaptiveMaxPool2d`` or ``nn.AdaptiveAvgPool2d`` (NCHW) with the config of a
    NumPy ``AdaptiveMaxPool2d`` / ``AdaptiveAvgPool2d`` (``None`` kept: that axis' size)."""
    if layer.mode == "max":
        return nn.AdaptiveMaxPool2d(layer.output_size, return_indices=layer.return_indices)
    return nn.AdaptiveAvgPool2d(layer.output_size)


def nhwc_outputs(module: nn.Module) -> Callable[[torch.Tensor], Any]:
    """:func:`torch_ref.base.nhwc` for a module that may return ``(y, indices)``: both
    come back NHWC (torch's flat h·W + w indices keep their meaning per (n, c) plane)."""

    def call(x: torch.Tensor) -> Any:
        out = module(x.permute(0, 3, 1, 2))
        if isinstance(out, tuple):
            return tuple(t.permute(0, 2, 3, 1) for t in out)
        return out.permute(0, 2, 3, 1)

    return call


def pool2d(layer: Any) -> Reference:
    """:func:`pool2d_module` on NHWC tensors."""
    module = pool2d_module(layer)
    return link_module(layer, module, forward=nhwc_outputs(module))


def adaptive_pool2d(layer: Any) -> Reference:
    """:func:`adaptive_pool2d_module` on NHWC tensors."""
    module = adaptive_pool2d_module(layer)
    return link_module(layer, module, forward=nhwc_outputs(module))


def global_avg_pool2d_module(layer: GlobalAvgPool2D) -> nn.Module:
    """``nn.AdaptiveAvgPool2d(1)`` then ``nn.Flatten()``: (N, C, H, W) -> (N, C)."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())


def global_avg_pool2d(layer: GlobalAvgPool2D) -> Reference:
    """:func:`global_avg_pool2d_module` on NHWC tensors: (N, H, W, C) -> (N, C)."""
    module = global_avg_pool2d_module(layer)
    return link_module(layer, module, forward=nhwc(module))
