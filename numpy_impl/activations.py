"""Element-wise activations: Identity, ReLU, LeakyReLU, Sigmoid, Tanh.

They accept any float32/float64 array, 0-d and zero-size ones included (as torch's modules
do), and compute in the input's dtype. Subgradients at the kinks follow torch:
ReLU'(0) = 0, LeakyReLU'(0) = slope. Non-finite inputs follow torch too: NaN in gives NaN
out; ReLU passes dy through at a NaN input (torch's backward zeroes only where x <= 0) and
LeakyReLU scales it by the slope (torch's ``x > 0 ? dy : slope·dy``).

Torch's ``inplace=True`` (ReLU, LeakyReLU) is refused: a layer here never writes into its
input (its backward could not work from an overwritten x, and the caller's array would
change under it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.validation import check_finite_float


def check_not_inplace(where: str, inplace: object) -> None:
    """Torch's ``inplace`` argument: only False is accepted."""
    if inplace is not False:
        raise ValueError(
            f"{where}: inplace must be False, got {inplace!r}; the NumPy layers never write "
            f"into their input (forward returns a new array)"
        )


class ElementwiseActivation(Layer):
    """y = f(x) element-wise; dx = dy * f'(x), with f' computed from what ``_cache_for`` kept."""

    def __init__(self) -> None:
        super().__init__()  # no dtype: computes in the input's

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        y = np.asarray(self._apply(x))  # a ufunc on a 0-d array returns a scalar
        return self._remember_output(y, self._cache_for(x, y))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._take_cache(dy)
        return np.asarray(self._derivative_times(cache, dy))

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
    """y = max(x, 0);  dx = dy · [not x <= 0]: the subgradient at 0 is 0 and dy passes
    through at a NaN input, as in torch (``threshold_backward`` zeroes where x <= 0)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        check_not_inplace(self.where, inplace)

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def _cache_for(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return ~(x <= 0)  # where dy passes: x > 0, and NaN

    def _derivative_times(self, positive: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return np.where(positive, dy, 0).astype(dy.dtype, copy=False)


class LeakyReLU(ElementwiseActivation):
    """y = x if x > 0 else a·x;  dx = dy if x > 0 else a·dy  (slope a at 0, as in torch).

    The seeds write f(x) = max(0, a·x) and take slope 1 at 0; torch takes ``a`` at 0. A NaN
    input gets a·dy (it is not > 0), and with a = 0 an input of −inf gives NaN (−inf·0), as
    torch's do.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = check_finite_float(self.where, "negative_slope", negative_slope)
        check_not_inplace(self.where, inplace)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}

    def _apply(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in torch
            scaled = x * self.negative_slope
        return np.where(x > 0, x, scaled).astype(x.dtype, copy=False)

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
