"""Stock torch counterpart of :class:`numpy_impl.linear.Linear`."""

from __future__ import annotations

from torch import nn

from numpy_impl.linear import Linear
from torch_ref.base import Reference, link_module


def linear_module(layer: Linear) -> nn.Linear:
    """The stock ``nn.Linear`` with the NumPy layer's config (nothing copied yet)."""
    return nn.Linear(layer.in_features, layer.out_features, bias=layer.use_bias)


def linear(layer: Linear) -> Reference:
    """``nn.Linear`` with the NumPy (in, out) weight transposed into torch's (out, in)."""
    return link_module(layer, linear_module(layer))
