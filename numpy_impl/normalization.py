"""Batch normalization over the channels (LAST axis): BatchNorm1d, BatchNorm2d, BatchNorm3d.

One implementation (:class:`BatchNorm`) serves the three torch-named classes, which differ
only in the input ranks they accept: BatchNorm1d (N, C) or (N, L, C), BatchNorm2d
(N, H, W, C), BatchNorm3d (N, D, H, W, C). Torch puts the channels on axis 1; the references
permute.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from numpy_impl.base import Layer
from numpy_impl.thresholds import size_threshold
from numpy_impl.validation import (
    check_axis_size,
    check_finite_float,
    check_fraction,
    check_positive_int,
)

#: The registry entries of the batch norms (for the thresholds below).
BATCH_NORM_ENTRIES = ("batch_norm1d", "batch_norm2d", "batch_norm3d")


def _elements(kwargs: Any, shape: tuple[int, ...]) -> int:
    """The number of values of a registry sample's input."""
    return math.prod(shape)


def _channels(kwargs: Any, shape: tuple[int, ...]) -> int:
    """The channels (last axis) of a registry sample's input."""
    return shape[-1]


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

    float32 accuracy (:func:`batch_statistics`): the sums run in float32 (GEMVs and einsums,
    no float64 pass over the data), each over at most n_b/k rows of one block, and the
    partial sums are combined in float64. Where the mean is no larger than the spread,
    var = Σx²/M − mean² loses at most one bit; where it is larger (mean/std ~ 100), a
    one-pass Σx and Σx², or even Σx then Σ(x − μ)², loses log₂(mean/std) bits and more as
    M grows, so each block is shifted by its own mean (exact, Sterbenz), the shift's
    rounding measured, and the blocks combined by Chan's formula: x − μ keeps its digits.

    The work goes in row blocks of ~BLOCK_ELEMENTS values (:class:`Sweep`), so that every
    pass over a block after the first reads it from cache, and every elementwise pass runs
    on a "wide" view of the block (k rows at a time, the per-channel vector tiled k times:
    NumPy's inner loop then runs over k·C values instead of C). Forward: sweep 1 Σx (GEMV)
    and Σx² (einsum) per block; only when some channel's mean exceeds its spread, sweep 2
    c = x − μ_b, Σc and Σc²; last sweep y = c·(γ/s) + (β − offset_b·γ/s) in two
    operations (the product into y, or into the kept array of the "scaled" route, then
    the add into y). Backward: sweep 1 Σ dy (GEMV) and Σ dy·v (einsum) per block (v below);
    sweep 2 dx = k₁·(dy − (v·k₂ + k₃_b)) in four in-place operations (no temporary).

    After forward the layer keeps what backward needs: values v (M, C), per-block offsets
    o_b (B, C) and a factor f (C,) with x̂ = (v − o_b)·f, 1/s (C,), and whether batch
    statistics were used (:meth:`_xhat_source` picks v). With batch statistics and
    SMALLEST_GAMMA <= |γ| < inf in every channel (always without affine parameters), no
    copy of x is made (a pass over the input):

    - where also |β| <= |γ| in every channel, v is the output y itself (returned
      read-only), o_b = β and f = 1/γ: y = c·(γ/s) + (β − ō_b·γ/s) (ō_b = mean − μ_b)
      carries roundings of |γ|·(|c| + |ō_b|)/s and of |y| <= |γ|·|x̂| + |β|, so (y − β)/γ
      is x̂ to within ~u·(2|x̂| + 2|ō_b|/s + 1), the order of the u·(|x̂| + |μ|/s) of
      forming x̂ from x (|ō_b| = |μ| <= s unshifted; shifted, ō_b is a block mean's
      distance from the mean);
    - otherwise v is the product c·(γ/s) the output's sweep forms anyway (kept in an array
      of its own: y = v + (β − ō_b·γ/s) is then one add from it), o_b = ō_b·γ/s and
      f = 1/γ: its roundings are u·|γ|·(|c| + |ō_b|)/s, so x̂ is within ~u·(|x̂| +
      2|ō_b|/s) whatever β is. From y, a channel with γ = 1e-3 and β = 10 would lose
      ~ulp(10)/1e-3 ≈ 1e-3 in float32.

    Otherwise (|γ| below SMALLEST_GAMMA, where γ·x̂ underflows, a non-finite γ, eval mode
    with running statistics) v is c = x − μ_b per block (x itself, as a private copy, when
    no shift was needed: μ_b = 0; x − running_mean in eval mode with running statistics),
    o_b = ō_b (0 in eval) and f = 1/s. Never x̂.
    """

    #: Values per row block of both sweeps (2 MB of float32: a block's two or three arrays
    #: stay in the L3 cache; measured best from 2 to 16 MB tensors, smaller blocks pay more
    #: NumPy calls than they save): the passes over a block after the first read it from
    #: cache.
    BLOCK_ELEMENTS = size_threshold(
        "BatchNorm.BLOCK_ELEMENTS", 1 << 19, entries=BATCH_NORM_ENTRIES, measure=_elements,
        blocks=True, doc="values per row block of the forward and backward sweeps")
    #: Values per wide row of the elementwise passes: with C < WIDE_ELEMENTS channels, k rows
    #: (k = the largest divisor of M up to WIDE_ELEMENTS // C) are viewed as one.
    WIDE_ELEMENTS = size_threshold(
        "BatchNorm.WIDE_ELEMENTS", 1 << 13, entries=BATCH_NORM_ENTRIES, measure=_channels,
        blocks=False, doc="channels below which the elementwise passes run on wide views")

    #: The smallest |γ| for which backward takes x̂ from the output or from c·γ/s (see
    #: above): γ x̂ is then subnormal only where |x̂| < 2^-102 (float32), a term below any
    #: tolerance.
    SMALLEST_GAMMA = 2.0 ** -24

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
        self._last_sweep: Sweep | None = None
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
        rows = np.ascontiguousarray(x.reshape(-1, self.num_features))
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
        sweep = self._sweep(m)
        y = np.empty(rows.shape, dtype)
        # inf − inf, 0·inf, a NaN or inf variance: NaN, as torch
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            source = self._xhat_source() if batch_stats else "copy"
            if batch_stats:
                # from the output or scaled: no private copy of x, and y's buffer holds
                # x − μ_b if any
                mean, centered, offsets, var = batch_statistics(
                    rows, sweep, scratch=None if source == "copy" else y)
                if updates and m > 0:
                    self._update_running_stats(mean, var, m, dtype)
            else:  # x − running_mean is taken in the output's sweep below
                centered = np.empty(rows.shape, dtype)
                offsets = np.zeros((len(sweep.blocks), self.num_features), dtype)
                var = self._buffers["running_var"]
                wide_mean = sweep.tile(self._buffers["running_mean"])
            inv_std = (1 / np.sqrt(var + dtype.type(self.eps))).astype(dtype, copy=False)
            scale = inv_std * self._params["weight"] if self.affine else inv_std
            # y = γ x̂ + β = (centered − offset_b)·(γ/s) + β: x̂ itself is never stored.
            shifts = offsets * -scale
            if "bias" in self._params:
                shifts += self._params["bias"]
            wide = sweep.tile(np.concatenate([scale[None], shifts]))  # one tiling for all
            wide_scale, wide_shifts = wide[0], wide[1:]
            scaled = np.empty(rows.shape, dtype) if source == "scaled" else y
            for i, block in enumerate(sweep.blocks):
                c_b, s_b, y_b = (sweep.wide(centered[block]), sweep.wide(scaled[block]),
                                 sweep.wide(y[block]))
                if not batch_stats:
                    np.subtract(sweep.wide(rows[block]), wide_mean, out=c_b)
                np.multiply(c_b, wide_scale, out=s_b)
                np.add(s_b, wide_shifts[i], out=y_b)
        gamma = self._params["weight"] if self.affine else np.ones(self.num_features, dtype)
        if source == "output":  # x̂ = (y − β)·(1/γ)
            betas = np.zeros(offsets.shape, dtype)
            if "bias" in self._params:
                betas[...] = self._params["bias"]
            cache = (y, betas, 1 / gamma, inv_std, batch_stats)
        elif source == "scaled":  # x̂ = (scaled − offset_b·γ/s)·(1/γ)
            cache = (scaled, offsets * scale, 1 / gamma, inv_std, batch_stats)
        else:  # x̂ = (centered − offset_b)·(1/s)
            cache = (centered, offsets, inv_std, inv_std, batch_stats)
        return self._remember_output(y.reshape(x.shape), cache)

    def _xhat_source(self) -> str:
        """Where a batch-statistics backward takes x̂ from (see the class docstring):
        ``"output"``, y itself, when SMALLEST_GAMMA <= |γ| < inf and |β| <= |γ| in every
        channel (always without affine parameters, y = x̂); ``"scaled"``, the product
        (x − μ_b)·γ/s that y's sweep forms anyway, kept, when only the first holds;
        ``"copy"``, a private copy of x, otherwise."""
        if not self.affine:
            return "output"
        gamma = np.abs(self._params["weight"])
        # NaN: both comparisons False (min and max propagate it)
        if not (gamma.min() >= self.SMALLEST_GAMMA and gamma.max() < np.inf):
            return "copy"
        if "bias" not in self._params:
            return "output"
        return "output" if (np.abs(self._params["bias"]) <= gamma).all() else "scaled"

    def _sweep(self, rows: int) -> Sweep:
        """The :class:`Sweep` of a batch of ``rows`` rows (the last one is kept: forward and
        backward, and the next steps of a training loop, share it)."""
        if self._last_sweep is None or self._last_sweep.rows != rows:
            assert self.dtype is not None
            self._last_sweep = Sweep(rows, self.num_features, self.BLOCK_ELEMENTS,
                                     self.WIDE_ELEMENTS, self.dtype)
        return self._last_sweep

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int,
                              dtype: np.dtype) -> None:
        factor = dtype.type(1 / self.num_batches_tracked if self.momentum is None
                            else self.momentum)
        unbiased = var * dtype.type(m / (m - 1))
        rm, rv = self._buffers["running_mean"], self._buffers["running_var"]
        rm *= 1 - factor  # (non-finite statistics: forward's errstate)
        rm += factor * mean
        rv *= 1 - factor
        rv += factor * unbiased

    def backward(self, dy: np.ndarray) -> np.ndarray:
        kept, offsets, factor, inv_std, batch_stats = self._take_cache(dy)  # v, o_b, f
        rows_dy = np.ascontiguousarray(dy.reshape(kept.shape))
        (m, c), dtype = kept.shape, dy.dtype
        sweep = self._sweep(m)
        scale = inv_std * self._params["weight"] if self.affine else inv_std
        dx = np.empty(kept.shape, dtype)
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite statistics: NaN
            # Sweep 1: Σ dy and Σ dy·kept per block, in float64 across the blocks.
            partials = np.empty((len(sweep.blocks), 2, sweep.k * c), dtype)
            for i, block in enumerate(sweep.blocks):
                dy_b, k_b = sweep.wide(rows_dy[block]), sweep.wide(kept[block])
                sweep.sums(dy_b, out=partials[i, 0])
                np.einsum("ij,ij->j", dy_b, k_b, out=partials[i, 1])
            folded = sweep.fold(partials)  # (B, 2, C): Σ dy and Σ dy·kept per block
            sum_dy, sum_dy_kept = folded.sum(axis=0)
            # Σ dy·x̂ with x̂ = (kept − offset_b)·f, the offsets applied per block.
            sum_dy_xhat = (sum_dy_kept - np.einsum("bc,bc->c", offsets, folded[:, 0])) * factor
            if batch_stats and m:
                # dx = (γ/s)·(dy − Σ dy/M − x̂·Σ dy·x̂/M) = k1·(dy − (kept·k2 + k3_b)),
                # k1 = γ/s, k2 = f·Σ dy·x̂/M, k3_b = Σ dy/M − offset_b·k2.
                k2 = sum_dy_xhat * (factor / m)
                k3 = sum_dy / m - offsets * k2
                wide = sweep.tile(np.concatenate([scale[None], k2[None], k3]), dtype)
                wide_scale, wide_k2, wide_k3 = wide[0], wide[1], wide[2:]
                for i, block in enumerate(sweep.blocks):  # sweep 2, in place
                    dx_b = sweep.wide(dx[block])
                    np.multiply(sweep.wide(kept[block]), wide_k2, out=dx_b)
                    dx_b += wide_k3[i]
                    np.subtract(sweep.wide(rows_dy[block]), dx_b, out=dx_b)
                    dx_b *= wide_scale
            else:
                wide_scale = sweep.tile(scale)
                for block in sweep.blocks:
                    np.multiply(sweep.wide(rows_dy[block]), wide_scale,
                                out=sweep.wide(dx[block]))
            if self.affine:  # float64 sums past the dtype's range become ±inf, as torch's
                self._grads["weight"] = sum_dy_xhat.astype(dtype)
                if self.use_bias:
                    self._grads["bias"] = sum_dy.astype(dtype)
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


class Sweep:
    """The row blocks of an (M, C) problem and the wide views its passes use.

    Blocks hold ~``block_elements`` values each, a multiple of k rows; :meth:`wide` views a
    C-contiguous block (n, C) as (n/k, k·C) and :meth:`tile` repeats a per-channel vector
    (C,) (or one per block, (B, C)) k times to match, where k is the largest divisor of M
    up to ``wide_elements // C`` (1 when C >= ``wide_elements``). :meth:`sums` is Σ over a
    wide block's rows (a GEMV), :meth:`fold` turns such sums (…, k·C) into per-channel
    sums (…, C) in float64: a float32 sum then runs over only n/k rows. Everything a block
    needs is prepared once per call: a pass costs one NumPy call per block."""

    def __init__(self, rows: int, channels: int, block_elements: int,
                 wide_elements: int, dtype: np.dtype) -> None:
        self.rows, self.channels = rows, channels
        widest = wide_elements // channels if channels < wide_elements else 1
        self.k = math.gcd(rows, widest) if rows else 1
        step = max(1, block_elements // (channels * self.k)) * self.k
        self.blocks = [slice(start, start + step) for start in range(0, rows, step)]
        #: rows of each block
        self.sizes = np.array([min(rows, b.stop) - b.start for b in self.blocks], np.int64)
        self._ones = np.ones(step // self.k, dtype)
        self._ones_k = np.ones(self.k)

    def wide(self, block: np.ndarray) -> np.ndarray:
        return block.reshape(-1, self.k * self.channels)

    def tile(self, vectors: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
        """(C,) → (k·C,), or (B, C) → (B, k·C), in ``dtype`` (default the vectors')."""
        tiled = np.empty((*vectors.shape[:-1], self.k, self.channels),
                         vectors.dtype if dtype is None else dtype)
        tiled[...] = vectors[..., None, :]
        return tiled.reshape(*vectors.shape[:-1], self.k * self.channels)

    def sums(self, wide_block: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Σ over the rows of a wide block, (k·C,), by GEMV into ``out``."""
        return np.matmul(self._ones[:wide_block.shape[0]], wide_block, out=out)

    def fold(self, wide_sums: np.ndarray) -> np.ndarray:
        """(…, k·C) sums over wide rows → (…, C) per-channel sums, in float64."""
        parts = wide_sums.astype(np.float64).reshape(*wide_sums.shape[:-1], self.k,
                                                       self.channels)
        return self._ones_k @ parts


def batch_statistics(rows: np.ndarray, sweep: Sweep, scratch: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-column statistics of a C-contiguous (M, C) array, ``(mean, centered, offsets,
    var)`` with the biased ``var``: ``centered`` = x − μ_b in each block b of ``sweep``, and
    ``offsets`` (B, C) = mean − μ_b, so that x − mean = centered − offset_b. The shifts μ_b
    are 0 (``centered`` is ``rows`` itself) when no channel's mean is larger than its
    standard deviation, the blocks' means otherwise.

    Sweep 1 takes Σx (GEMV) and Σx² (einsum, no product temporary) per block, each a float32
    sum over n_b/k rows of the block's wide view, folded into float64 (:meth:`Sweep.fold`).
    When mean² <= var in every channel, var = Σx²/M − mean² loses at most one bit to the
    subtraction (the float64 sums have ~30 to spare) and x − mean = x − offset keeps its
    digits: nothing is shifted, nothing copied, and the sweep wrote nothing.

    Otherwise (|mean| > std in some channel, NaN or inf): in float32 Σx/M is off by up to
    ~√M·u·|mean|, which a plain two-pass variance and x − mean inherit in full when
    |mean| ≫ std. Sweep 2 makes ``centered`` (a new array) = x − μ_b with μ_b the block's
    mean in the array's dtype, exact by Sterbenz (x and μ_b agree to a factor 2 when the mean
    is large), and measures the rounding of μ_b rather than inheriting it: δ_b = Σ centered
    / n_b sums numbers of the size of the spread, so x̂ = (centered − offset_b)/s keeps its
    digits. Σ centered (GEMV) and Σ centered² (einsum) are folded as above and combined in
    float64 with Chan's formula: M2 = Σ_b (Σ centered² − n_b·δ_b²) + Σ_b n_b·(μ_b + δ_b −
    mean)², which never makes one variance the difference of two large numbers, whatever
    the order of the data.

    With ``scratch`` (an (M, C) array the caller overwrites next, its output) no copy is
    made: sweep 1 reads x as it is, ``centered`` is ``rows`` itself (to read, not to keep)
    when nothing is shifted, and ``scratch`` holding x − μ_b otherwise.

    An empty batch gives mean 0 and variance 1 (they normalize nothing and update nothing;
    torch never computes them). Non-finite values give a NaN variance (the caller's
    errstate) and a NaN mean, except that a channel whose only non-finite values are
    infinities of one sign has mean ±inf, as torch's Σx/M."""
    (m, c), dtype = rows.shape, rows.dtype
    count, k = len(sweep.blocks), sweep.k
    if m == 0:
        zeros = np.zeros(c, dtype)
        return (zeros, rows.copy() if scratch is None else scratch,
                np.zeros((count, c), dtype), np.ones(c, dtype))
    # without scratch: the cache's private copy of x, shifted if need be
    centered = np.empty((m, c), dtype) if scratch is None else rows
    partials = np.empty((count, 2, k * c), dtype)  # per block, wide: Σx and Σx² (Σc, Σc²)
    for i, block in enumerate(sweep.blocks):
        c_b = sweep.wide(centered[block])
        if scratch is None:
            np.copyto(c_b, sweep.wide(rows[block]))  # x is read from memory once
        sweep.sums(c_b, out=partials[i, 0])
        np.einsum("ij,ij->j", c_b, c_b, out=partials[i, 1])
    folded = sweep.fold(partials)
    block_sums = folded[:, 0]
    first_mean = block_sums.sum(axis=0) / m
    var = folded[:, 1].sum(axis=0) / m - first_mean * first_mean
    if (first_mean * first_mean <= var).all():  # False at NaN
        offsets = np.empty((count, c), dtype)
        offsets[...] = first_mean  # rounded to the dtype, as astype would
        return offsets[0].copy(), centered, offsets, var.astype(dtype)
    shifts = (block_sums / sweep.sizes[:, None]).astype(dtype)
    wide_shift = np.empty((k, c), dtype)
    centered = centered if scratch is None else scratch
    for i, block in enumerate(sweep.blocks):
        c_b = sweep.wide(centered[block])
        wide_shift[...] = shifts[i]
        np.subtract(sweep.wide(rows[block]), wide_shift.reshape(-1), out=c_b)
        sweep.sums(c_b, out=partials[i, 0])
        np.einsum("ij,ij->j", c_b, c_b, out=partials[i, 1])
    folded = sweep.fold(partials)
    sums, squares = folded[:, 0], folded[:, 1]
    sizes = sweep.sizes[:, None]
    deltas = sums / sizes
    block_means = shifts + deltas
    mean = (block_means * sizes).sum(axis=0) / m
    spread = block_means - mean
    m2 = (squares - sums * deltas + sizes * spread * spread).sum(axis=0)
    var = np.maximum(m2 / m, 0.0)
    # A channel holding +inf (or −inf) and no opposite infinity or NaN has mean ±inf, as
    # torch's Σx/M; the shifted sums made it inf − inf = NaN.
    mean = np.where(np.isinf(first_mean), first_mean, mean)
    return mean.astype(dtype), centered, (mean - shifts).astype(dtype), var.astype(dtype)
