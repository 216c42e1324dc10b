"""Linear (fully connected / Dense) layer in the NumPy-natural layout."""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.initializers import as_generator, get_initializer
from numpy_impl.validation import check_axis_size, check_choice, check_positive_int, check_rank


class Linear(Layer):
    """y = x W + b  with x (N, in), W (in, out), b (out,).

    Backward:  dW = xᵀ dy,  db = Σₙ dy,  dx = dy Wᵀ.

    ``weight`` is stored (in, out), the transpose of torch's ``nn.Linear.weight`` (out, in);
    the torch reference transposes on copy. ``weight_init`` names an initializer from
    :mod:`numpy_impl.initializers`; ``bias_init`` is ``"zeros"`` (the seeds) or
    ``"torch_default"``.
    """

    PARAM_LAYOUTS = {"weight": "(in, out)"}  # noqa: RUF012 (read-only class data)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        weight_init: str = "xavier_uniform",
        bias_init: str = "zeros",
        dtype: object = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__(dtype)
        self.in_features = check_positive_int(self.where, "in_features", in_features)
        self.out_features = check_positive_int(self.where, "out_features", out_features)
        self.use_bias = bool(bias)
        self.weight_init = weight_init
        self.bias_init = check_choice(
            self.where, "bias_init", bias_init, ("zeros", "torch_default")
        )
        generator = as_generator(rng)
        assert self.dtype is not None
        shape = (self.in_features, self.out_features)
        self._params["weight"] = get_initializer(weight_init)(shape, generator, self.dtype)
        if self.use_bias:
            bound = 1 / np.sqrt(self.in_features) if bias_init == "torch_default" else 0.0
            self._params["bias"] = generator.uniform(-bound, bound, self.out_features).astype(
                self.dtype
            )

    def config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.use_bias,
            "weight_init": self.weight_init,
            "dtype": self.dtype.name if self.dtype is not None else None,
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_rank(where, "x", x, 2, "(batch, in_features)")
        check_axis_size(where, "x", x, 1, self.in_features, "features (in_features)")
        y = x @ self._params["weight"]
        if self.use_bias:
            y += self._params["bias"]
        return self._remember_output(y, x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._take_cache(dy)
        self._grads["weight"] = x.T @ dy
        if self.use_bias:
            self._grads["bias"] = dy.sum(axis=0)
        return dy @ self._params["weight"].T
