"""Stock torch counterparts of :mod:`numpy_impl.activations`."""

from __future__ import annotations

from torch import nn

from numpy_impl import activations as np_act
from torch_ref.base import Reference, link_module


def activation_module(layer: np_act.ElementwiseActivation) -> nn.Module:
    """The stock torch module of a NumPy activation (any layout: it is element-wise)."""
    if isinstance(layer, np_act.LeakyReLU):
        return nn.LeakyReLU(negative_slope=layer.negative_slope)
    simple = {np_act.Identity: nn.Identity, np_act.ReLU: nn.ReLU, np_act.Sigmoid: nn.Sigmoid,
              np_act.Tanh: nn.Tanh}
    return simple[type(layer)]()


def activation(layer: np_act.ElementwiseActivation) -> Reference:
    """:func:`activation_module` for ``layer``: ``nn.ReLU`` for ``ReLU`` and so on."""
    return link_module(layer, activation_module(layer))
