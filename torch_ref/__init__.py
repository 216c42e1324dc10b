"""Stock PyTorch references for the layers of :mod:`numpy_impl`, one module per family.

Each function takes a NumPy layer and returns a :class:`torch_ref.base.Reference`: the torch
module built from the layer's config with its parameters copied in (layouts converted).
"""

from torch_ref.base import (
    HWIO_TO_OIHW,
    LAYOUTS,
    SAME,
    TRANSPOSED,
    Layout,
    Reference,
    TensorLink,
    link_module,
)

__all__ = ["HWIO_TO_OIHW", "LAYOUTS", "SAME", "TRANSPOSED", "Layout", "Reference", "TensorLink",
           "link_module"]
