"""Stock torch counterparts of :mod:`numpy_impl.softmax` (both impl paths share one)."""

from __future__ import annotations

from torch import nn

from numpy_impl import softmax as np_softmax
from torch_ref.base import Reference, link_module


def softmax(layer: np_softmax.Softmax) -> Reference:
    """``nn.Softmax(dim)`` over the layer's ``dim``."""
    return link_module(layer, nn.Softmax(dim=layer.dim))


def log_softmax(layer: np_softmax.LogSoftmax) -> Reference:
    """``nn.LogSoftmax(dim)`` over the layer's ``dim``."""
    return link_module(layer, nn.LogSoftmax(dim=layer.dim))
