"""Linear (fully connected / Dense) layer in the NumPy-natural layout."""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.initializers import as_generator, get_initializer
from numpy_impl.validation import (
    check_axis_size,
    check_choice,
    check_min_rank,
    check_positive_int,
)

BIAS_INITS = ("zeros", "torch_default")


class Linear(Layer):
    """y = x W + b  with x (*, in), W (in, out), b (out,): y has shape (*, out), as torch's
    ``nn.Linear`` (a 1-D x (in,) gives y (out,); a zero-size batch gives an empty y).

    Forward and backward flatten the leading axes into rows X (M, in), dY (M, out), so
    that each product is one BLAS GEMM (a stacked matmul over (N, L, in) is 1.3-1.8x
    slower): y = X W + b,  dW = Xᵀ dY,  db = Σ_rows dY (a GEMV, 1ᵀ dY),  dx = dY Wᵀ. After
    forward the layer keeps only x (a private copy when it could change, see
    :func:`numpy_impl.base.protect`): dW needs it, dx and db need nothing else.

    ``weight`` is stored (in, out), the transpose of torch's ``nn.Linear.weight`` (out, in);
    the torch reference transposes on copy. Torch's options are positional in torch's order
    (``in_features, out_features, bias``); the project's own are keyword-only:
    ``weight_init`` names an initializer from :mod:`numpy_impl.initializers`, ``bias_init``
    is ``"zeros"`` (the seeds) or ``"torch_default"`` (U(−1/√in, 1/√in), torch's).
    """

    PARAM_LAYOUTS = {"weight": "(in, out)"}  # noqa: RUF012 (read-only class data)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
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
        self.bias_init = check_choice(self.where, "bias_init", bias_init, BIAS_INITS)
        generator = as_generator(rng, self.where)
        assert self.dtype is not None
        shape = (self.in_features, self.out_features)
        draw = get_initializer(weight_init, self.where, "weight_init")
        self._params["weight"] = draw(shape, generator, self.dtype)
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
            "bias_init": self.bias_init,
            "dtype": self.dtype.name if self.dtype is not None else None,
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_min_rank(where, "x", x, 1, "(*, in_features)")
        check_axis_size(where, "x", x, x.ndim - 1, self.in_features, "features (in_features)")
        rows = x.reshape(-1, self.in_features)  # (*, in) as one GEMM, not a stack of them
        with np.errstate(invalid="ignore", over="ignore"):  # inf − inf in a sum: NaN, as torch
            y = rows @ self._params["weight"]
            if self.use_bias:
                y += self._params["bias"]
        return self._remember_output(y.reshape(*x.shape[:-1], self.out_features), x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._take_cache(dy)
        rows_x = x.reshape(-1, self.in_features)
        rows_dy = dy.reshape(-1, self.out_features)
        with np.errstate(invalid="ignore", over="ignore"):
            self._grads["weight"] = rows_x.T @ rows_dy
            if self.use_bias:
                # Σ over rows as a GEMV (ones · dY): several times faster than .sum(axis=0).
                self._grads["bias"] = np.ones(rows_dy.shape[0], dtype=dy.dtype) @ rows_dy
            return (rows_dy @ self._params["weight"].T).reshape(x.shape)
