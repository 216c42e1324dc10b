"""Shape-only layers: Flatten."""

from __future__ import annotations

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.validation import check_min_rank


class Flatten(Layer):
    """y = x.reshape(N, −1): (N, H, W, C) -> (N, H·W·C) in NHWC (C-order) order.

    Backward: dx = dy.reshape(x.shape). Any input with a batch axis and at least one more
    axis is accepted, like ``torch.nn.Flatten()`` (start_dim=1).

    The order is NHWC: feature index ((h·W) + w)·C + c. The torch reference is
    ``nn.Flatten()`` applied to the same NHWC tensor, so the two agree. A CNN whose torch
    twin runs in NCHW flattens in (c, h, w) order instead: to compare such a model with a
    NumPy model built from this layer, permute the torch activations to NHWC (or the first
    Linear weight's rows) before the flatten, or the Linear after it sees shuffled features.
    Returns a copy, never a view of the input.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, ...) -> y (N, prod(...))."""
        x = self._check_input(x)
        check_min_rank(f"{self.where}.forward", "x", x, 2, "(batch, ...), e.g. NHWC images")
        features = int(np.prod(x.shape[1:]))
        y = x.reshape(x.shape[0], features).copy()
        return self._remember_output(y, x.shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (N, prod(...)) -> dx with the input's shape."""
        x_shape = self._take_cache(dy)
        return dy.reshape(x_shape).copy()
