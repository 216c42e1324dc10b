"""Stock torch counterpart of :mod:`numpy_impl.normalization`."""

from __future__ import annotations

from torch import nn

from numpy_impl.normalization import BatchNorm2d
from torch_ref.base import Reference, link_module, nhwc


def batch_norm2d_module(layer: BatchNorm2d) -> nn.BatchNorm2d:
    """The stock ``nn.BatchNorm2d`` with the NumPy layer's config (nothing copied yet)."""
    return nn.BatchNorm2d(
        layer.num_features, eps=layer.eps, momentum=layer.momentum, affine=layer.affine
    )


def batch_norm2d(layer: BatchNorm2d) -> Reference:
    """``nn.BatchNorm2d`` on NHWC tensors; ``weight``/``bias`` and the running statistics
    (``running_mean``, ``running_var``) copied from the NumPy layer, in its train/eval mode
    (``reference.module`` is the module itself, e.g. to switch it to eval mode later)."""
    module = batch_norm2d_module(layer)
    return link_module(layer, module, forward=nhwc(module))
