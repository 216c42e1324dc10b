"""Batch normalization over the channels of NHWC images."""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.validation import (
    check_axis_size,
    check_finite_float,
    check_positive_int,
    check_rank,
)


class BatchNorm2d(Layer):
    """Per-channel batch normalization of x (N, H, W, C), torch's ``nn.BatchNorm2d``.

    With M = N·H·W values per channel c and the statistics taken over (N, H, W):

    Training::

        μ = (1/M) Σ x                      batch mean
        σ² = (1/M) Σ (x − μ)²              BIASED batch variance (used to normalize)
        x̂ = (x − μ) / √(σ² + eps)
        y = γ x̂ + β
        running_mean ← (1 − m)·running_mean + m·μ
        running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)   (UNBIASED, as torch)

    Eval:  x̂ = (x − running_mean) / √(running_var + eps),  y = γ x̂ + β; nothing updates.

    Backward, with s = √(σ² + eps) (the statistics the forward used)::

        dβ = Σ dy,   dγ = Σ dy·x̂
        training:  dx = (γ / s) / M · (M·dy − Σ dy − x̂·Σ (dy·x̂))
        eval:      dx = (γ / s_running) · dy

    (sums over N, H, W). The training-mode gradient of ``y.sum()`` w.r.t. x is zero, so
    never check it with a ``.sum()`` loss. ``affine=False`` drops γ (= 1) and β (= 0);
    ``momentum`` m lies in [0, 1] (torch's cumulative ``momentum=None`` is not offered).
    Parameters ``weight`` (γ, init 1) and ``bias`` (β, init 0); buffers ``running_mean``
    (init 0) and ``running_var`` (init 1).

    The statistics are taken on the (N·H·W, C) view: Σ x and Σ dy as GEMVs
    (:func:`column_sums`), Σ (x − μ)² and Σ dy·(x − μ) as einsums (no product temporary).
    The cache holds x − μ and 1/s rather than x̂, and y = (x − μ)·(γ/s) + β.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        dtype: object = np.float32,
    ) -> None:
        super().__init__(dtype)
        self.num_features = check_positive_int(self.where, "num_features", num_features)
        self.eps = check_finite_float(self.where, "eps", eps)
        if self.eps <= 0:
            raise ValueError(f"{self.where}: eps must be > 0, got {eps}")
        self.momentum = check_finite_float(self.where, "momentum", momentum)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"{self.where}: momentum must lie in [0, 1], got {momentum}")
        self.affine = bool(affine)
        assert self.dtype is not None
        c = self.num_features
        if self.affine:
            self._params["weight"] = np.ones(c, dtype=self.dtype)
            self._params["bias"] = np.zeros(c, dtype=self.dtype)
        self._buffers["running_mean"] = np.zeros(c, dtype=self.dtype)
        self._buffers["running_var"] = np.ones(c, dtype=self.dtype)

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "dtype": self.dtype.name if self.dtype is not None else None,
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_rank(where, "x", x, 4, "(batch, height, width, channels)")
        check_axis_size(where, "x", x, 3, self.num_features, "channels (num_features)")
        m = x.shape[0] * x.shape[1] * x.shape[2]
        dtype = x.dtype
        rows = x.reshape(m, x.shape[3])
        if self.training:
            if m <= 1:
                raise ValueError(
                    f"{where}: Expected more than 1 value per channel when training, got x of "
                    f"shape {x.shape} (N·H·W = {m}); use a larger batch or call eval()"
                )
            mean = column_sums(rows) / m
            centered = rows - mean
            var = np.einsum("ij,ij->j", centered, centered) / m
            momentum = dtype.type(self.momentum)
            unbiased = var * dtype.type(m / (m - 1))
            rm, rv = self._buffers["running_mean"], self._buffers["running_var"]
            rm *= 1 - momentum
            rm += momentum * mean
            rv *= 1 - momentum
            rv += momentum * unbiased
        else:
            mean = self._buffers["running_mean"]
            var = self._buffers["running_var"]
            centered = rows - mean
        inv_std = (1 / np.sqrt(var + dtype.type(self.eps))).astype(dtype, copy=False)
        # y = γ x̂ + β = centered · (γ / s) + β: two passes, x̂ itself is never stored.
        y = centered * (inv_std * self._params["weight"] if self.affine else inv_std)
        if self.affine:
            y += self._params["bias"]
        return self._remember_output(y.reshape(x.shape), (centered, inv_std, self.training))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        centered, inv_std, training = self._take_cache(dy)
        rows_dy = dy.reshape(centered.shape)
        scale = inv_std * self._params["weight"] if self.affine else inv_std
        sum_dy = column_sums(rows_dy)
        sum_dy_xhat = np.einsum("ij,ij->j", rows_dy, centered) * inv_std
        dx = rows_dy * scale
        if training:
            # dx = scale·dy − (scale/M)·(Σ dy + x̂·Σ dy·x̂), with x̂ = centered · (1/s).
            m = centered.shape[0]
            dx -= centered * (scale * inv_std * sum_dy_xhat / m)
            dx -= scale * sum_dy / m
        if self.affine:
            self._grads["weight"] = sum_dy_xhat
            self._grads["bias"] = sum_dy
        return dx.reshape(dy.shape)


def column_sums(rows: np.ndarray) -> np.ndarray:
    """Σ over the rows of an (M, C) array as a GEMV, ones(M) · rows: ~5x faster than
    ``rows.sum(axis=0)`` (or a sum over NHWC's axes (0, 1, 2)) for tall arrays."""
    return np.ones(rows.shape[0], dtype=rows.dtype) @ rows
