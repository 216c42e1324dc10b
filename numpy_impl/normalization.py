"""Batch normalization over the channels (LAST axis): BatchNorm1d, BatchNorm2d, BatchNorm3d.

One implementation (:class:`BatchNorm`) serves the three torch-named classes, which differ
only in the input ranks they accept: BatchNorm1d (N, C) or (N, L, C), BatchNorm2d
(N, H, W, C), BatchNorm3d (N, D, H, W, C). Torch puts the channels on axis 1; the references
permute.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.validation import (
    check_axis_size,
    check_finite_float,
    check_fraction,
    check_positive_int,
)


class BatchNorm(Layer):
    """Per-channel batch normalization of x (N, …, C), torch's ``nn.BatchNorm1d/2d/3d``.

    With M = the number of values per channel (N·H·W for images), statistics over every axis
    but the last:

    Batch statistics (training mode, and eval mode when ``track_running_stats=False``)::

        μ = (1/M) Σ x                      batch mean
        σ² = (1/M) Σ (x − μ)²              BIASED batch variance (used to normalize)
        x̂ = (x − μ) / √(σ² + eps)
        y = γ x̂ + β

    and in training mode with ``track_running_stats`` (factor f = ``momentum``, or
    1/``num_batches_tracked`` for ``momentum=None``, torch's cumulative moving average)::

        running_mean ← (1 − f)·running_mean + f·μ
        running_var  ← (1 − f)·running_var  + f·σ²·M/(M − 1)   (UNBIASED, as torch)

    Running statistics (eval mode with ``track_running_stats``):
    x̂ = (x − running_mean) / √(running_var + eps); nothing updates.

    Backward, with s = √(σ² + eps) (the statistics the forward used)::

        dβ = Σ dy,   dγ = Σ dy·x̂
        batch statistics:    dx = (γ / s) / M · (M·dy − Σ dy − x̂·Σ (dy·x̂))
        running statistics:  dx = (γ / s_running) · dy

    (sums over every axis but the channels). The batch-statistics gradient of ``y.sum()``
    w.r.t. x is zero, so never check it with a ``.sum()`` loss.

    Options, torch's in torch's order: ``eps`` > 0; ``momentum`` in [0, 1] or None;
    ``affine=False`` drops γ (= 1) and β (= 0); ``track_running_stats=False`` keeps no
    buffers and normalizes with batch statistics in eval mode too; keyword-only ``bias=False``
    (torch ≥ 2.x) keeps γ and drops β. Parameters ``weight`` (γ, init 1) and ``bias``
    (β, init 0); buffers ``running_mean`` (init 0) and ``running_var`` (init 1); the update
    count is ``num_batches_tracked`` (an int, torch's int64 buffer). With ``momentum=None``,
    where the count decides every update, it is also a buffer: a 0-d array in the layer's
    dtype (exact to 2^24 batches in float32), saved, restored and compared with the running
    statistics. A zero-size batch gives an empty output, leaves the running statistics
    alone and still counts a batch, as torch.

    float32 accuracy: the statistics come from the corrected two-pass algorithm
    (:func:`batch_statistics`), so when the mean is large against the spread (mean/std ~
    100) x − μ keeps its digits: a one-pass Σx and Σx², or even Σx then Σ(x − μ)², loses
    log₂(mean/std) bits and more as M grows.

    The statistics are taken on the (M, C) view: Σ and Σ dy as GEMVs (:func:`column_sums`),
    Σ (x − μ)² (accumulated in float64, :func:`sum_of_squares`) and Σ dy·(x − μ) as einsums
    (no product temporary). The cache holds x − rough mean, the per-channel correction and
    1/s rather than x̂, and y = (x − rough)·(γ/s) + (β − correction·γ/s).
    """

    #: Accepted input ranks and their layouts (the channels always last).
    LAYOUTS: ClassVar[dict[int, str]] = {}

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
        dtype: object = np.float32,
    ) -> None:
        super().__init__(dtype)
        self.num_features = check_positive_int(self.where, "num_features", num_features)
        self.eps = check_finite_float(self.where, "eps", eps)
        if self.eps <= 0:
            raise ValueError(f"{self.where}: eps must be > 0, got {eps}")
        self.momentum = None if momentum is None else check_fraction(
            self.where, "momentum", momentum)
        self.affine = bool(affine)
        self.use_bias = bool(bias)
        self.track_running_stats = bool(track_running_stats)
        self._batches = 0
        assert self.dtype is not None
        c = self.num_features
        if self.affine:
            self._params["weight"] = np.ones(c, dtype=self.dtype)
            if self.use_bias:
                self._params["bias"] = np.zeros(c, dtype=self.dtype)
        if self.track_running_stats:
            self._buffers["running_mean"] = np.zeros(c, dtype=self.dtype)
            self._buffers["running_var"] = np.ones(c, dtype=self.dtype)
            if self.momentum is None:
                # The count decides every update: state, saved and compared like the others.
                self._buffers["num_batches_tracked"] = np.zeros((), dtype=self.dtype)

    @property
    def num_batches_tracked(self) -> int:
        """The number of training batches seen (torch's ``num_batches_tracked``)."""
        count = self._buffers.get("num_batches_tracked")
        return self._batches if count is None else int(count)

    def _count_batch(self) -> None:
        count = self._buffers.get("num_batches_tracked")
        if count is None:
            self._batches += 1
        else:
            count += 1

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "bias": self.use_bias,
            "dtype": self.dtype.name if self.dtype is not None else None,
        }

    def _check_layout(self, x: np.ndarray) -> None:
        where = f"{self.where}.forward"
        if x.ndim not in self.LAYOUTS:
            expected = " or ".join(f"{rank} dimensions {layout}"
                                   for rank, layout in self.LAYOUTS.items())
            raise ValueError(f"{where}: x must have {expected}, got {x.ndim} dimensions with "
                             f"shape {x.shape}")
        check_axis_size(where, "x", x, x.ndim - 1, self.num_features,
                        "channels (num_features)")

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{self.where}.forward"
        x = self._check_input(x)
        self._check_layout(x)
        rows = x.reshape(-1, self.num_features)
        m, dtype = rows.shape[0], x.dtype
        batch_stats = self.training or not self.track_running_stats
        if batch_stats and m == 1:
            raise ValueError(
                f"{where}: Expected more than 1 value per channel when training, got x of "
                f"shape {x.shape} ({m} value per channel); use a larger batch"
                + (" or call eval()" if self.track_running_stats else "")
            )
        updates = self.training and self.track_running_stats
        if updates:
            self._count_batch()
        if batch_stats:
            rough, centered, offset, var = batch_statistics(rows)
            if updates and m > 0:
                self._update_running_stats(rough + offset, var, m, dtype)
        else:
            with np.errstate(invalid="ignore"):  # inf − inf: NaN, as torch
                centered = rows - self._buffers["running_mean"]
            offset = np.zeros(self.num_features, dtype)
            var = self._buffers["running_var"]
        with np.errstate(divide="ignore", invalid="ignore"):  # a NaN or inf variance
            inv_std = (1 / np.sqrt(var + dtype.type(self.eps))).astype(dtype, copy=False)
        scale = inv_std * self._params["weight"] if self.affine else inv_std
        shift = -offset * scale
        if "bias" in self._params:
            shift += self._params["bias"]
        # y = γ x̂ + β = (centered − offset)·(γ/s) + β: x̂ itself is never stored.
        with np.errstate(invalid="ignore"):
            y = centered * scale
            y += shift
        cache = (centered, offset, inv_std, batch_stats)
        return self._remember_output(y.reshape(x.shape), cache)

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int,
                              dtype: np.dtype) -> None:
        factor = dtype.type(1 / self.num_batches_tracked if self.momentum is None
                            else self.momentum)
        unbiased = var * dtype.type(m / (m - 1))
        rm, rv = self._buffers["running_mean"], self._buffers["running_var"]
        with np.errstate(invalid="ignore", over="ignore"):
            rm *= 1 - factor
            rm += factor * mean
            rv *= 1 - factor
            rv += factor * unbiased

    def backward(self, dy: np.ndarray) -> np.ndarray:
        centered, offset, inv_std, batch_stats = self._take_cache(dy)
        rows_dy = dy.reshape(centered.shape)
        scale = inv_std * self._params["weight"] if self.affine else inv_std
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite statistics: NaN
            sum_dy = column_sums(rows_dy)
            # Σ dy·x̂ with x̂ = (centered − offset)·(1/s), the offset applied per channel.
            sum_dy_xhat = (np.einsum("ij,ij->j", rows_dy, centered) - offset * sum_dy) * inv_std
            dx = rows_dy * scale
            if batch_stats and centered.shape[0]:
                # dx = scale·dy − (scale/M)·(Σ dy + x̂·Σ dy·x̂)
                #    = scale·dy − centered·k + (offset·k − scale·Σ dy/M),  k = scale/s·Σ dy·x̂/M
                m = centered.shape[0]
                k = scale * inv_std * sum_dy_xhat / m
                dx -= centered * k
                dx += offset * k - scale * sum_dy / m
        if self.affine:
            self._grads["weight"] = sum_dy_xhat
            if self.use_bias:
                self._grads["bias"] = sum_dy
        return dx.reshape(dy.shape)


class BatchNorm1d(BatchNorm):
    """Batch norm of x (N, C) or (N, L, C), torch's ``nn.BatchNorm1d`` (which takes (N, C)
    or (N, C, L)). See :class:`BatchNorm`."""

    LAYOUTS: ClassVar[dict[int, str]] = {2: "(batch, channels)",
                                         3: "(batch, length, channels)"}


class BatchNorm2d(BatchNorm):
    """Batch norm of NHWC images x (N, H, W, C), torch's ``nn.BatchNorm2d`` (NCHW). See
    :class:`BatchNorm`."""

    LAYOUTS: ClassVar[dict[int, str]] = {4: "(batch, height, width, channels)"}


class BatchNorm3d(BatchNorm):
    """Batch norm of volumes x (N, D, H, W, C), torch's ``nn.BatchNorm3d`` (NCDHW). See
    :class:`BatchNorm`."""

    LAYOUTS: ClassVar[dict[int, str]] = {5: "(batch, depth, height, width, channels)"}


def batch_statistics(rows: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-column statistics of an (M, C) array by the corrected two-pass algorithm:
    ``(rough, centered, offset, var)`` with ``rough`` = Σx/M in the array's dtype,
    ``centered`` = x − rough, ``offset`` = Σ centered / M (so the mean is rough + offset and
    x − mean = centered − offset) and the biased ``var`` = Σ centered²/M − offset².

    Why: in float32 Σx/M is off by up to ~√M·u·|mean|, which a plain two-pass variance and
    x − mean inherit in full when |mean| ≫ std. Here ``centered`` is exact (Sterbenz: x and
    rough agree to a factor 2 when the mean is large), and ``offset`` sums numbers of the
    size of the spread, so x̂ = (centered − offset)/s keeps its digits; it costs one more
    GEMV than the plain two-pass form. An empty batch gives mean 0 and variance 1 (they
    normalize nothing and update nothing; torch never computes them)."""
    m, c = rows.shape
    if m == 0:
        zeros = np.zeros(c, rows.dtype)
        return zeros, rows.copy(), zeros.copy(), np.ones(c, rows.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite values give NaN, as torch
        rough = column_sums(rows) / m
        centered = rows - rough
        offset = column_sums(centered) / m
        var = sum_of_squares(centered) / m - offset * offset
    return rough, centered, offset, var


def sum_of_squares(a: np.ndarray) -> np.ndarray:
    """Σ_rows a² per column of an (M, C) array, accumulated in float64 (torch's CPU kernel
    accumulates its statistics in double) and returned in a's dtype: an einsum, no product
    temporary. A float32 sum of M = 8192 squares is off by up to ~√M·u relative, and the
    variance's error moves every x̂ (by up to 6e-6 at |x̂| ≈ 4.5); the float64 accumulation
    costs ~0.4 ms per 8192 × 64 values. (The gradient's Σ dy·x̂ stays a float32 einsum: its
    rounding is the error model's summation slack.)"""
    return np.einsum("ij,ij->j", a, a, dtype=np.float64).astype(a.dtype, copy=False)


def column_sums(rows: np.ndarray) -> np.ndarray:
    """Σ over the rows of an (M, C) array as a GEMV, ones(M) · rows: ~5x faster than
    ``rows.sum(axis=0)`` (or a sum over NHWC's axes (0, 1, 2)) for tall arrays."""
    return np.ones(rows.shape[0], dtype=rows.dtype) @ rows
