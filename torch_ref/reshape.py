"""Stock torch counterpart of :mod:`numpy_impl.reshape`."""

from __future__ import annotations

from torch import nn

from numpy_impl.reshape import Flatten
from torch_ref.base import Reference, link_module


def flatten(layer: Flatten) -> Reference:
    """``nn.Flatten()`` applied to the NHWC tensor itself (no NCHW permute): the NumPy layer
    flattens in NHWC order, and so does torch when given the same layout."""
    return link_module(layer, nn.Flatten())
