"""Element-wise activations: Identity, ReLU, LeakyReLU, Sigmoid, Tanh.

They accept any float32/float64 array with at least one (batch) axis and compute in the
input's dtype. Subgradients at the kinks follow torch: ReLU'(0) = 0, LeakyReLU'(0) = slope.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.validation import check_finite_float, check_min_rank


class ElementwiseActivation(Layer):
    """y = f(x) element-wise; dx = dy * f'(x), with f' computed from what ``_cache_for`` kept."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        check_min_rank(f"{self.where}.forward", "x", x, 1, "(batch, ...)")
        y = self._apply(x)
        return self._remember_output(y, self._cache_for(x, y))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._take_cache(dy)
        return self._derivative_times(cache, dy)

    def _apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> Any:
        return x

    def _derivative_times(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Identity(ElementwiseActivation):
    """y = x;  dx = dy."""

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> None:
        return None

    def _derivative_times(self, cache: None, dy: np.ndarray) -> np.ndarray:
        return dy.copy()


class ReLU(ElementwiseActivation):
    """y = max(x, 0);  dx = dy · [x > 0]  (the subgradient at 0 is 0, as in torch)."""

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x > 0

    def _derivative_times(self, positive: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return np.where(positive, dy, 0).astype(dy.dtype, copy=False)


class LeakyReLU(ElementwiseActivation):
    """y = x if x > 0 else a·x;  dx = dy if x > 0 else a·dy  (slope a at 0, as in torch).

    The seeds write f(x) = max(0, a·x) and take slope 1 at 0; torch takes ``a`` at 0.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_finite_float(self.where, "negative_slope", negative_slope)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, x * self.negative_slope).astype(x.dtype, copy=False)

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x > 0

    def _derivative_times(self, positive: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return np.where(positive, dy, dy * self.negative_slope).astype(dy.dtype, copy=False)


class Sigmoid(ElementwiseActivation):
    """y = 1 / (1 + e^-x);  dx = dy · y · (1 − y).

    Evaluated as 1/(1+e^-|x|) for x ≥ 0 and e^-|x|/(1+e^-|x|) for x < 0, so e^(·) never
    overflows (no clipping, no warnings, exact 0 and 1 in the tails as torch gives).
    """

    def _apply(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return y

    def _derivative_times(self, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return dy * y * (1 - y)


class Tanh(ElementwiseActivation):
    """y = tanh x;  dx = dy · (1 − y²)."""

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return y

    def _derivative_times(self, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return dy * (1 - y * y)
