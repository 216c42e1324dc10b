"""Stock torch counterparts of :mod:`numpy_impl.pooling` (both impl paths share one)."""

from __future__ import annotations

from torch import nn

from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from torch_ref.base import Reference, linked_module, nhwc


def pool2d(layer: Pool2D) -> Reference:
    """``nn.MaxPool2d`` (pads with −inf, gradient to the first maximum) or
    ``nn.AvgPool2d(count_include_pad=True)``, on NHWC tensors."""
    module: nn.Module
    if layer.mode == "max":
        module = nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)
    else:
        module = nn.AvgPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding,
                              count_include_pad=True)
    return linked_module(layer, module, forward=nhwc(module))


def global_avg_pool2d(layer: GlobalAvgPool2D) -> Reference:
    """``nn.AdaptiveAvgPool2d(1)`` then ``nn.Flatten()``: (N, H, W, C) -> (N, C)."""
    module = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return linked_module(layer, module, forward=nhwc(module))
