"""Stock torch counterparts of :mod:`numpy_impl.activations`."""

from __future__ import annotations

from torch import nn

from numpy_impl import activations as np_act
from torch_ref.base import Reference, linked_module


def identity(layer: np_act.Identity) -> Reference:
    return linked_module(layer, nn.Identity())


def relu(layer: np_act.ReLU) -> Reference:
    return linked_module(layer, nn.ReLU())


def leaky_relu(layer: np_act.LeakyReLU) -> Reference:
    return linked_module(layer, nn.LeakyReLU(negative_slope=layer.negative_slope))


def sigmoid(layer: np_act.Sigmoid) -> Reference:
    return linked_module(layer, nn.Sigmoid())


def tanh(layer: np_act.Tanh) -> Reference:
    return linked_module(layer, nn.Tanh())
