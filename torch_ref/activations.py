"""Stock torch counterparts of :mod:`numpy_impl.activations`."""

from __future__ import annotations

from torch import nn

from numpy_impl import activations as np_act
from torch_ref.base import Reference, linked_module


def activation_module(layer: np_act.ElementwiseActivation) -> nn.Module:
    """The stock torch module of a NumPy activation (any layout: it is element-wise)."""
    if isinstance(layer, np_act.LeakyReLU):
        return nn.LeakyReLU(negative_slope=layer.negative_slope)
    simple = {np_act.Identity: nn.Identity, np_act.ReLU: nn.ReLU, np_act.Sigmoid: nn.Sigmoid,
              np_act.Tanh: nn.Tanh}
    return simple[type(layer)]()


def identity(layer: np_act.Identity) -> Reference:
    return linked_module(layer, activation_module(layer))


def relu(layer: np_act.ReLU) -> Reference:
    return linked_module(layer, activation_module(layer))


def leaky_relu(layer: np_act.LeakyReLU) -> Reference:
    return linked_module(layer, activation_module(layer))


def sigmoid(layer: np_act.Sigmoid) -> Reference:
    return linked_module(layer, activation_module(layer))


def tanh(layer: np_act.Tanh) -> Reference:
    return linked_module(layer, activation_module(layer))
