"""Stock torch counterpart of :mod:`numpy_impl.normalization`."""

from __future__ import annotations

from torch import nn

from numpy_impl.normalization import BatchNorm2d
from torch_ref.base import Reference, linked_module, nhwc


def batch_norm2d_module(layer: BatchNorm2d) -> nn.BatchNorm2d:
    """The stock ``nn.BatchNorm2d`` with the NumPy layer's config (nothing copied yet)."""
    return nn.BatchNorm2d(
        layer.num_features, eps=layer.eps, momentum=layer.momentum, affine=layer.affine
    )


def batch_norm2d(layer: BatchNorm2d, module: nn.BatchNorm2d | None = None) -> Reference:
    """``nn.BatchNorm2d`` on NHWC tensors; ``weight``/``bias`` and the running statistics
    (``running_mean``, ``running_var``) copied from the NumPy layer, in its train/eval mode.

    Pass ``module`` (from :func:`batch_norm2d_module`) to keep a handle on it, e.g. to switch
    it to eval mode after some training steps.
    """
    module = batch_norm2d_module(layer) if module is None else module
    return linked_module(layer, module, forward=nhwc(module))
