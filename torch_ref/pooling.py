"""Stock torch counterparts of :mod:`numpy_impl.pooling` (both impl paths share one)."""

from __future__ import annotations

from torch import nn

from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from torch_ref.base import Reference, link_module, nhwc


def pool2d_module(layer: Pool2D) -> nn.Module:
    """``nn.MaxPool2d`` (pads with −inf, gradient to the first maximum) or
    ``nn.AvgPool2d(count_include_pad=True)`` (NCHW) with the NumPy layer's config."""
    if layer.mode == "max":
        return nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)
    return nn.AvgPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding,
                        count_include_pad=True)


def pool2d(layer: Pool2D) -> Reference:
    """:func:`pool2d_module` on NHWC tensors."""
    module = pool2d_module(layer)
    return link_module(layer, module, forward=nhwc(module))


def global_avg_pool2d_module(layer: GlobalAvgPool2D) -> nn.Module:
    """``nn.AdaptiveAvgPool2d(1)`` then ``nn.Flatten()``: (N, C, H, W) -> (N, C)."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())


def global_avg_pool2d(layer: GlobalAvgPool2D) -> Reference:
    """:func:`global_avg_pool2d_module` on NHWC tensors: (N, H, W, C) -> (N, C)."""
    module = global_avg_pool2d_module(layer)
    return link_module(layer, module, forward=nhwc(module))
