"""Stock torch counterparts of :mod:`numpy_impl.softmax` (both impl paths share one)."""

from __future__ import annotations

from torch import nn

from numpy_impl import softmax as np_softmax
from torch_ref.base import Reference, link_module


def softmax(layer: np_softmax.Softmax) -> Reference:
    return link_module(layer, nn.Softmax(dim=-1))


def log_softmax(layer: np_softmax.LogSoftmax) -> Reference:
    return link_module(layer, nn.LogSoftmax(dim=-1))
