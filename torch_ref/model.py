"""The torch twin of a NumPy :class:`~numpy_impl.model.Sequential`: a stock ``nn.Sequential``.

Each NumPy layer becomes the stock module its family's reference module builds (the same
builders the per-layer references use, so there is one source of truth per layer); the
twin runs NCHW inside, as a person would write the model in torch, with a permute back to
NHWC before ``nn.Flatten`` so the Linear that follows sees features in the NumPy order.
Parameters and buffers are copied through the families' layouts and name mappings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from numpy_impl import activations as np_act
from numpy_impl.base import Layer
from numpy_impl.blocks import SEBlock, SEResNetBlock
from numpy_impl.conv import Conv2D
from numpy_impl.linear import Linear
from numpy_impl.model import Sequential
from numpy_impl.normalization import BatchNorm1d, BatchNorm2d
from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from numpy_impl.reshape import Flatten
from torch_ref.activations import activation_module
from torch_ref.base import Reference, link_module
from torch_ref.blocks import renames, se_block_module, se_resnet_block_module
from torch_ref.conv import conv2d_module
from torch_ref.linear import linear_module
from torch_ref.normalization import batch_norm_module
from torch_ref.pooling import global_avg_pool2d_module, pool2d_module

#: NumPy layer class -> builder of its stock torch module (NCHW for image layers).
MODULE_BUILDERS: dict[type, Callable[[Any], nn.Module]] = {
    Linear: linear_module,
    Conv2D: conv2d_module,
    BatchNorm1d: batch_norm_module,  # on (N, C) features (an MLP)
    BatchNorm2d: batch_norm_module,
    Pool2D: pool2d_module,
    GlobalAvgPool2D: global_avg_pool2d_module,
    SEBlock: se_block_module,
    SEResNetBlock: se_resnet_block_module,
    **{cls: activation_module for cls in (np_act.Identity, np_act.ReLU, np_act.LeakyReLU,
                                          np_act.Sigmoid, np_act.Tanh)},
}


class ToNHWC(nn.Module):
    """NCHW → NHWC, placed before ``nn.Flatten`` so it flattens in the NumPy Flatten's
    (h, w, c) order and the next Linear's rows line up with the NumPy weight's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


def torch_module(layer: Layer, images: bool) -> nn.Module:
    """The stock torch module for one NumPy layer; ``images``: the input is still NCHW."""
    if isinstance(layer, Flatten):
        return nn.Sequential(ToNHWC(), nn.Flatten()) if images else nn.Flatten()
    builder = MODULE_BUILDERS.get(type(layer))
    if builder is None:
        raise NotImplementedError(f"torch_twin: no torch module for {type(layer).__name__}; "
                                  f"add its builder to torch_ref.model.MODULE_BUILDERS")
    return builder(layer)


@dataclass
class TorchTwin:
    """A ``nn.Sequential`` twin of a NumPy ``Sequential`` with every tensor linked."""

    reference: Reference
    images: bool

    @property
    def module(self) -> nn.Sequential:
        return self.reference.module  # type: ignore[return-value]

    @property
    def params(self) -> dict:
        return self.reference.params

    @property
    def buffers(self) -> dict:
        return self.reference.buffers

    def __call__(self, x: np.ndarray) -> torch.Tensor:
        """Run on a NumPy batch (NHWC images are permuted to NCHW on the way in)."""
        t = torch.from_numpy(np.array(x))  # a writable copy (the input may be read-only)
        return self.module(t.permute(0, 3, 1, 2) if self.images else t)


def torch_twin(model: Sequential, images: bool) -> TorchTwin:
    """Stock torch modules in a ``nn.Sequential`` (NCHW inside), the NumPy model's
    parameters and buffers copied in by :func:`torch_ref.base.link_module`: names map one to
    one (``0.weight`` …; SE blocks through :func:`torch_ref.blocks.renames`), layouts as
    each layer declares them (Linear transposed, conv HWIO → OIHW). ``images``: the model's
    input is NHWC images. Every torch tensor must be covered."""
    modules = []
    spatial = images
    for layer in model:
        modules.append(torch_module(layer, spatial))
        if isinstance(layer, (Flatten, GlobalAvgPool2D)):
            spatial = False
    return TorchTwin(link_module(model, nn.Sequential(*modules), rename=renames(model)), images)
