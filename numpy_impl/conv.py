"""2-D convolution on NHWC images, with a textbook loop path and a vectorized path (Winograd
F(2×2, 3×3) for 3×3 stride-1 kernels, chunked im2col for every other config).

Shapes: x (N, H, W, C_in), weight (kh, kw, C_in / groups, C_out) ("HWIO"), bias (C_out,),
y (N, OH, OW, C_out). Like ``torch.nn.Conv2d`` this is a cross-correlation (the kernel is
not flipped), and the options are torch's, in torch's positional order: ``stride``,
``padding``, ``dilation``, ``groups``, ``bias``, ``padding_mode``.

Padding
-------
``padding`` is an int, a pair ``(ph, pw)`` (added on both sides of each axis),
``"valid"`` (no padding) or ``"same"``:

- stride 1 on both axes: the output keeps the input's spatial size. Each axis is padded by
  d·(k − 1) in total (d the dilation), ⌊d·(k − 1)/2⌋ before and the rest after, so an
  even kernel gets its extra row/column at the bottom/right. This is exactly torch's
  ``padding="same"``.
- any stride > 1: torch refuses ``padding="same"``; here "same" then means the seeds'
  rule, ⌊d·(k − 1)/2⌋ on *both* sides of each axis (symmetric), and the torch reference is
  given that explicit padding. The output is then ⌈H/s⌉ for odd kernels, not always for
  even ones.

``padding_mode`` says what the padded cells hold (torch's names): ``"zeros"``, ``"reflect"``
(the input mirrored at its edge, the edge itself not repeated; the padding must be smaller
than the input), ``"replicate"`` (the edge repeated) or ``"circular"`` (the input wrapped
around; the padding must be at most the input size). Any mode goes with any padding,
``"same"`` included, as in torch.

Output size per axis: OH = ⌊(H + pad_top + pad_bottom − d·(kh − 1) − 1) / sh⌋ + 1 (torch's
rule; surplus rows at the bottom that no window reaches are ignored).

Non-finite input: a window holding inf or NaN gives what torch's sum of products gives
(±inf, or NaN where +inf and −inf terms meet); NumPy's "invalid value" warning for those
sums is silenced inside the layer, since such an input has a defined result.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numpy_impl.base import TwoPathLayer
from numpy_impl.initializers import as_generator, bias_bound, get_initializer
from numpy_impl.thresholds import size_threshold
from numpy_impl.validation import check_choice, check_positive_int
from numpy_impl.windows import (
    NHWC,
    PADDING_MODES,
    as_pair,
    check_flag,
    check_images,
    check_kernel_fits,
    fold_padding,
    output_size,
    pad_images,
    span,
    window_slice,
)

BIAS_INITS = ("zeros", "torch_default")


def conv_padding(
    where: str, padding: object, kernel: tuple[int, int], stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> tuple[tuple[int, int] | str, tuple[int, int, int, int]]:
    """(normalized ``padding`` for ``config()``, internal (top, bottom, left, right))."""
    if isinstance(padding, str):
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        if padding == "valid":
            return padding, (0, 0, 0, 0)
        if padding == "same":
            if stride == (1, 1):
                # torch: d·(k − 1) in total, the smaller half first (extra on the bottom/right).
                (th, tw) = totals
                return padding, (th // 2, th - th // 2, tw // 2, tw - tw // 2)
            ph, pw = (total // 2 for total in totals)
            return padding, (ph, ph, pw, pw)
        raise ValueError(
            f"{where}: padding must be an int, a pair of ints, 'same' or 'valid', "
            f"got {padding!r}"
        )
    ph, pw = as_pair(where, "padding", padding, minimum=0)
    return (ph, pw), (ph, ph, pw, pw)


def check_padding_mode_fits(where: str, x_shape: tuple[int, ...], mode: str,
                            pads: tuple[int, int, int, int]) -> None:
    """torch's limits: ``reflect`` needs padding < the input size on that axis, ``circular``
    padding <= the input size (it wraps around at most once)."""
    if mode not in ("reflect", "circular"):
        return
    top, bottom, left, right = pads
    for axis, name, (before, after) in ((1, "height", (top, bottom)), (2, "width", (left, right))):
        size = x_shape[axis]
        too_large = max(before, after) >= size if mode == "reflect" else max(before, after) > size
        if too_large:
            limit = "smaller than" if mode == "reflect" else "at most"
            raise ValueError(
                f"{where}: padding {(before, after)} on the {name} axis must be {limit} the "
                f"input {name} {size} for padding_mode={mode!r} (x shape {x_shape})"
            )


# --------------------------------------------------------------------------- thresholds
def _winograd_geometry(kwargs: Mapping[str, Any], shape: tuple[int, ...]
                       ) -> tuple[int, int, int, int]:
    """(N, tile rows, tile columns, 16·(C_in + C_out): V and M elements per tile) of a
    sample that takes the Winograd path."""
    layer = Conv2D(**kwargs)
    if not layer.winograd_applies():
        raise ValueError("not a Winograd config")
    top, bottom, left, right = layer.pads
    return (shape[0], (shape[1] + top + bottom - 1) // 2, (shape[2] + left + right - 1) // 2,
            16 * (layer.in_channels + layer.out_channels))


def _im2col_columns(kwargs: Mapping[str, Any], shape: tuple[int, ...], per_image: bool
                    ) -> int:
    """Elements of a sample's im2col column matrix (of one image with ``per_image``)."""
    layer = Conv2D(**kwargs)
    if layer.winograd_applies():
        raise ValueError("not an im2col config")
    plan = _Im2colPlan.of(layer, shape)
    return (1 if per_image else shape[0]) * plan.oh * plan.ow * plan.groups * plan.kgp


def _im2col_banded(kwargs: Mapping[str, Any], shape: tuple[int, ...], per_image: bool) -> int:
    """:func:`_im2col_columns` of a sample whose column matrix the plan cuts into bands; 0
    when the forward keeps the whole matrix (IM2COL_KEEP), which is then one band, as a
    matrix below IM2COL_CHUNK is."""
    if _Im2colPlan.kept_whole(_im2col_columns(kwargs, shape, per_image=False)):
        return 0
    return _im2col_columns(kwargs, shape, per_image)


#: The size of a Winograd band in tiles (:func:`_winograd_band_rule`): its transformed
#: input V and products M (16·(C_in + C_out) elements a tile) hold at least WINOGRAD_BAND
#: elements, each of its 16 GEMMs does at least WINOGRAD_WORK multiply-adds
#: (tiles·C_in·C_out), but V and M hold at most WINOGRAD_BAND_MAX elements; the images go
#: in groups, then bands of tile rows, so the workspace is bounded whatever N. Measured
#: (fwd+bwd, float32, one process, N=32 unless said): bands sized by V and M elements alone
#: were best at 128–192 tiles for 64→64 (256: +8–10%, at N=8, 16 and 32 alike) but cost
#: small channel counts, whose GEMMs (K = 16 or 32) run too briefly per call: 16→32 28²
#: 8.0–8.2 ms at 448 tiles, 7.5–7.7 at 896; 32→32 28² 14.0–14.3 at 378, 12.8 at 448.
#: 64→128 and 128→128 keep the elements rule (more tiles measured within ±6% there). The
#: cap: past ~4 MB of band buffers glibc hands them back to the system after each call and
#: the next call faults them in again (16→32 at 2240 tiles: 1,100 page faults a call, 12.6
#: against 7.9 ms).
WINOGRAD_BAND = size_threshold(
    "Conv2D.WINOGRAD_BAND", 3 << 17, entries=("conv2d",),
    measure=lambda kwargs, shape: _winograd_bands(kwargs, shape, "elements"), blocks=True,
    doc="Winograd V and M elements per band at least, 16·tiles·(C_in + C_out) (where this "
    "rule sets the band)")
WINOGRAD_WORK = size_threshold(
    "Conv2D.WINOGRAD_WORK", 1 << 19, entries=("conv2d",),
    measure=lambda kwargs, shape: _winograd_bands(kwargs, shape, "work"), blocks=True,
    doc="multiply-adds of each Winograd GEMM per band at least, tiles·C_in·C_out (where "
    "this rule sets the band: few channels)")
WINOGRAD_BAND_MAX = size_threshold(
    "Conv2D.WINOGRAD_BAND_MAX", 3 << 18, entries=("conv2d",),
    measure=lambda kwargs, shape: _winograd_bands(kwargs, shape, "cap"), blocks=True,
    doc="Winograd V and M elements per band at most (where this cap sets the band: very "
    "few channels)")
size_threshold(
    "Conv2D.WINOGRAD_BAND.groups", WINOGRAD_BAND, entries=("conv2d",),
    measure=lambda kwargs, shape: _winograd_bands(kwargs, shape, "groups"),
    blocks=True, doc="tiles of one tile row of the whole batch, in units of a band (a band "
    "is WINOGRAD_BAND): more than a band splits the images into groups, each with its own "
    "padded copy")


def _winograd_band_rule(c_in: int, c_out: int) -> tuple[int, str]:
    """(tiles per Winograd band, the rule that set it: "elements", "work" or "cap"; see
    WINOGRAD_BAND)."""
    per_tile = 16 * (c_in + c_out)
    floor, work, cap = (WINOGRAD_BAND // per_tile, WINOGRAD_WORK // (c_in * c_out),
                        WINOGRAD_BAND_MAX // per_tile)
    if max(floor, work) > cap:
        return max(1, cap), "cap"
    return (work, "work") if work > floor else (max(1, floor), "elements")


def _winograd_bands(kwargs: Mapping[str, Any], shape: tuple[int, ...], rule: str) -> int:
    """A sample's tiles (one tile row of the whole batch for ``rule="groups"``) in units of
    a band, the band being WINOGRAD_BAND: at least 2·WINOGRAD_BAND for two bands, below it
    for one; only where ``rule`` sets the band (else ValueError: the measure does not
    apply)."""
    n, th, tw, _ = _winograd_geometry(kwargs, shape)
    layer = Conv2D(**kwargs)
    tiles, which = _winograd_band_rule(layer.in_channels, layer.out_channels)
    if rule == "groups":
        return n * tw * WINOGRAD_BAND // tiles
    if rule != which:
        raise ValueError(f"the band is set by the {which} rule")
    value = {"elements": WINOGRAD_BAND, "work": WINOGRAD_WORK, "cap": WINOGRAD_BAND_MAX}[rule]
    return n * th * tw * value // tiles


#: Elements of the column matrix per band of the vectorized im2col path: bands of whole
#: images, or of output rows of one image when one image's columns exceed it. A matrix the
#: forward keeps whole (IM2COL_KEEP) is one band.
IM2COL_CHUNK = size_threshold(
    "Conv2D.IM2COL_CHUNK", 1 << 17, entries=("conv2d",),
    measure=lambda kwargs, shape: _im2col_banded(kwargs, shape, per_image=False),
    blocks=True, doc="im2col column-matrix elements per band (bands of whole images)")
size_threshold(
    "Conv2D.IM2COL_CHUNK.rows", IM2COL_CHUNK, entries=("conv2d",),
    measure=lambda kwargs, shape: _im2col_banded(kwargs, shape, per_image=True),
    blocks=True, doc="one image's im2col columns: above the chunk, bands of output rows "
    "whose overlapping input rows carry their gradient into the next band")
#: Elements of the whole column matrix below which the forward keeps it for backward
#: (instead of x) so that backward does not rebuild it: at most 2 MiB of float32 beside the
#: output. Measured at N=64 32² 3→64 stride 2 (458,752 elements): the rebuild was 0.37 ms
#: of 4.6 ms fwd+bwd, and keeping the columns also spares the private copy of x. A kept
#: matrix is one band (its memory is spent anyway): there, fwd+bwd 2.12 → 1.94 ms against
#: bands of IM2COL_CHUNK (four GEMMs of 4,608 rows each step where one has 16,384).
IM2COL_KEEP = size_threshold(
    "Conv2D.IM2COL_KEEP", 1 << 19, entries=("conv2d",),
    measure=lambda kwargs, shape: _im2col_columns(kwargs, shape, per_image=False),
    blocks=False, doc="im2col column-matrix elements: at or above it backward rebuilds the "
    "columns from x band by band, below it the forward keeps them")


def _dcols_geometry(kwargs: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(Kp, C_out, positions of the largest band) of a groups-1 im2col sample."""
    layer = Conv2D(**kwargs)
    if layer.winograd_applies() or layer.groups != 1:
        raise ValueError("not a groups-1 im2col config")
    plan = _Im2colPlan.of(layer, shape)
    return plan.kgp, plan.c_out, plan.band_positions


def _dcols_chunk_elements(kwargs: Mapping[str, Any], shape: tuple[int, ...]) -> int:
    """Elements of the (P, Kp') product of a sample whose dcols go by chunks."""
    kp, c_out, positions = _dcols_geometry(kwargs, shape)
    if not _dcols_by_chunks(kp, c_out, np.dtype(np.float32)):
        raise ValueError("dcols is one GEMM")
    return positions * _dcols_width(kp)


def _dcols_by_chunks(kp: int, c_out: int, dtype: np.dtype) -> bool:
    """Whether dcols of Kp columns and C_out outputs goes by transposed chunks (DCOLS_WIDE)."""
    return dtype == np.float32 and kp < DCOLS_WIDE and c_out >= DCOLS_OUTPUTS


#: dX's columns dcols = W_aug gᵀ (Kp, P), groups 1, float32: for a narrow Kp (below
#: DCOLS_WIDE) and at least DCOLS_OUTPUTS output channels, OpenBLAS runs that product (M = P,
#: N = Kp, K = C_out) at 95 GFLOP/s for Kp = 28; g W_augᵀ (P, Kp') with Kp' = Kp rounded up
#: to 16, in chunks of DCOLS_CHUNK elements (an L1 cache), each transposed into dcols while
#: it is in cache, takes 0.69-0.77 of its time (P = 8192, 16384; 64 and 128 outputs; 10 to 28
#: columns: 0.52-0.91). Not for wider Kp (Kp = 38: 0.90-1.09; 146-578: 1.5-1.8), fewer
#: outputs (16: 0.93-1.98), float64 (0.99-2.65) or smaller chunks (128 rows of 32: 1.26x,
#: 192: 1.13x, 256: 1.05x the time of 384).
DCOLS_WIDE = size_threshold(
    "Conv2D.DCOLS_WIDE", 33, entries=("conv2d",),
    measure=lambda kwargs, shape: _dcols_geometry(kwargs, shape)[0], blocks=False,
    doc="im2col columns Kp (groups 1) from which dcols is one (Kp, P) GEMM")
DCOLS_OUTPUTS = size_threshold(
    "Conv2D.DCOLS_OUTPUTS", 64, entries=("conv2d",),
    measure=lambda kwargs, shape: _dcols_geometry(kwargs, shape)[1], blocks=False,
    doc="output channels (groups 1) from which a narrow dcols goes by transposed chunks")
DCOLS_CHUNK = size_threshold(
    "Conv2D.DCOLS_CHUNK", 3 << 12, entries=("conv2d",), measure=_dcols_chunk_elements,
    blocks=True, doc="elements of each (rows, Kp') chunk of a narrow dcols (48 KB of float32)")


# --------------------------------------------------------------------------- the layer
class Conv2D(TwoPathLayer):
    """y[n, r, c, g·C_out/G + o] = b[·] + Σ_{i<kh, j<kw, ch<C_in/G}
    xp[n, r·sh + i·dh, c·sw + j·dw, g·C_in/G + ch] · W[i, j, ch, g·C_out/G + o]

    with ``xp`` the padded input (see the module docstring for ``padding`` and
    ``padding_mode``), (dh, dw) the dilation and G = ``groups``: the input channels are split
    into G groups of C_in/G, each convolved with its own C_out/G filters (G = C_in is a
    depthwise convolution).

    Backward, for the upstream gradient g = dL/dy (N, OH, OW, C_out), per group:

    - dW[i, j, ch, o] = Σ_{n, r, c} xp[n, r·sh + i·dh, c·sw + j·dw, ch] · g[n, r, c, o]
    - db[o]           = Σ_{n, r, c} g[n, r, c, o]
    - dxp[n, r·sh + i·dh, c·sw + j·dw, ch] += Σ_o g[n, r, c, o] · W[i, j, ch, o] for every
      (r, c, i, j) (overlapping windows accumulate), and dx is dxp folded back onto the
      input: its interior, plus (reflect/replicate/circular) each padded cell's gradient
      added to the input cell it copies.

    Paths:

    - ``impl="loop"``: the seeds' textbook form, one ``einsum("bijgc,ijcgo->bgo")`` per
      output position forward (``"bijc,ijco->bo"`` with a group axis); backward
      accumulates dW and dxp per output position with einsums. It keeps the padded input.
    - ``impl="vectorized"``: a padding_mode other than zeros pads x first (``pad_images``)
      and the kernels below run on that copy without padding; backward folds its gradient
      (``fold_padding``). Two kernels:

      * **Winograd F(2×2, 3×3)** for 3×3 kernels, stride 1, dilation 1, groups 1 (Lavin
        & Gray 2016). The output is cut into 2×2 tiles; tile (t, s) reads the 4×4 patch d
        of xp at rows 2t..2t+3, columns 2s..2s+3, and, per (ch, o),

            Y = Aᵀ [ (G W Gᵀ) ⊙ (Bᵀ d B) ] A

            Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]
            G  = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]
            Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]

        summed over ch by 16 GEMMs, one per point ξ of the 4×4 transformed domain:
        M[ξ] = V[ξ] U[ξ] with V = Bᵀ d B (tiles, C_in) and U = G W Gᵀ (C_in, C_out):
        16·C_in·C_out multiplications per 4 outputs instead of 36·C_in·C_out (2.25× fewer).
        The bias is added to M at ξ = (1, 1) (Aᵀ e₁e₁ᵀ A is all ones). Backward is the
        exact adjoint of that pipeline: Z = A dY Aᵀ per tile, dU[ξ] = Σ_tiles V[ξ]ᵀ Z[ξ]
        and dW = Gᵀ dU G; dV[ξ] = Z[ξ] U[ξ]ᵀ and dd = B dV Bᵀ overlap-added into dxp; db is
        Σ_tiles Z[(1, 1)], the tile sums of dY. A partial last tile row or column (odd OH
        or OW) computes its extra outputs from zero padding and drops them (their dy is
        taken as 0).

        Why F(2×2) and not F(4×4, 3×3) (6×6 patches, 36 GEMMs for 16 outputs, 4× fewer
        multiplications than direct): its transforms hold entries up to 8 and 1/24, and
        the float32 error grows with them: 1.3e-5 absolute (3.5e-6 of the largest output)
        on N=32 28² 16→32, 6× torch's own float32 error and above torch's default atol
        (1e-5); F(2×2)'s error is 0.6× torch's. Only exact float arithmetic sums the
        same terms, so a non-finite value would spread over a whole tile: a forward whose
        y is not all finite (inf or NaN in x, or an overflow) is recomputed by im2col, and
        a dy with a non-finite value goes through the im2col backward, so both give
        torch's direct-sum results.

        Layout: the padded input is copied once into "rows, column parity, columns / 2,
        N, C" (the parity split makes every tile view a slice), so every operand NumPy
        touches is a contiguous run of at least N·C values (NHWC tile views have runs of
        C: about 5× slower per element); layout copies move whole C-vectors as single
        (void) items. The work runs in bands (images in groups, then tile rows) whose V
        and M hold WINOGRAD_BAND to WINOGRAD_BAND_MAX elements (more tiles for few
        channels, so that each GEMM does WINOGRAD_WORK multiply-adds), so they stay in
        cache and the workspace is bounded whatever N. The transforms' sums of three or
        more terms (Aᵀ M A in forward; A dY Aᵀ and B dV Bᵀ in backward) are small GEMMs
        over the leading slot axes (K = 2 or 4, N = the whole band): one read of the
        operand and one write, where two-operand ufuncs write a temporary per extra term
        (Aᵀ M A: 80 → 41 µs a band at N=32 28² 16→32; fwd+bwd in 0.91× the time).
        The input transform's sums have two terms and stay ufuncs (a GEMM: no faster).

      * **im2col** (every other config: strides, dilation, groups, other kernels), in
        bands of IM2COL_CHUNK column elements: bands of whole images, or, when one
        image's columns are larger, bands of output rows (the input rows two bands share
        carry their gradient into the next band), so the workspace stays bounded
        whatever N; one band when the forward keeps the whole matrix (IM2COL_KEEP). A
        band's columns X (P = band positions, G, Kp) are copied from the padded input
        rows, one (void-item) copy per kernel row when the kw·C values of a window row
        are contiguous in NHWC (groups 1, dilation 1), one per kernel offset otherwise;
        columns ordered (i, j, ch) like each group's weight rows, then a column of ones,
        and a column of zeros if that makes Kp = K + 1 odd (OpenBLAS ran the three GEMMs
        of a 3-channel 3×3 kernel, K = 27, 6% slower than with Kp = 28, and K = 29 4%
        slower). With W_aug = [W_g; b_g; 0]:

            y_g = X_g W_aug_g              (the bias comes with the ones column)
            [dW_g; db_g] = X_gᵀ g_g         (one GEMM gives both)
            dX_gᵀ = W_aug_g g_gᵀ            (Kp, P; for a narrow Kp, g W_augᵀ by
                                           transposed chunks: DCOLS_WIDE),
                                           overlap-added (col2im) into a
                                           channel-first band of dxp split by phase,
                                           then cropped to NHWC (:class:`_PhaseGrid`:
                                           one flat add per kernel offset for bands of
                                           whole images; else by column phase)

        per group (a batched ``np.matmul``; one plain GEMM when groups = 1).

    What a forward keeps for backward (training or eval mode alike): the input's values
    (for a small im2col, as its column matrix) and nothing else derived from them. The
    loop path keeps the padded input; the vectorized im2col path keeps x itself (or the
    padded copy a padding_mode other than zeros made) or, when the whole column matrix has
    fewer than IM2COL_KEEP = 2¹⁹ elements, that matrix instead of x (backward then does not
    rebuild it: 0.37 ms of 4.6 fwd+bwd at N=64 32² 3→64 stride 2; the bound keeps memory
    bounded); the Winograd path keeps the zero-padded copy of x in its internal layout
    that the forward built anyway (x's values and a border of zeros; rebuilding it band
    by band from x in backward was measured 7% slower overall at N=32 28² 16→32). A cached
    x that is the caller's array becomes a private copy (:meth:`Layer._remember_output`),
    so the cache is about x's size, or below that fixed bound.

    ``weight`` is stored (kh, kw, C_in/G, C_out); the torch reference permutes it to torch's
    (C_out, C_in/G, kh, kw). ``bias`` starts at zero (the seeds) or, with
    ``bias_init="torch_default"``, at U(−1/√fan_in, 1/√fan_in) like torch's;
    ``weight_init`` names an initializer from :mod:`numpy_impl.initializers`.
    """

    PARAM_LAYOUTS = {"weight": "(kh, kw, in, out)"}  # noqa: RUF012 (read-only class data)
    PADDING_MODES = tuple(PADDING_MODES)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        weight_init: str = "xavier_uniform",
        bias_init: str = "zeros",
        dtype: object = np.float32,
        rng: np.random.Generator | int | None = None,
        impl: str = "vectorized",
    ) -> None:
        super().__init__(impl, dtype)
        where = self.where
        self.in_channels = check_positive_int(where, "in_channels", in_channels)
        self.out_channels = check_positive_int(where, "out_channels", out_channels)
        self.kernel_size = as_pair(where, "kernel_size", kernel_size, minimum=1)
        self.stride = as_pair(where, "stride", stride, minimum=1)
        self.dilation = as_pair(where, "dilation", dilation, minimum=1)
        self.padding, self.pads = conv_padding(where, padding, self.kernel_size, self.stride,
                                               self.dilation)
        self.groups = check_positive_int(where, "groups", groups)
        for name, channels in (("in_channels", self.in_channels),
                               ("out_channels", self.out_channels)):
            if channels % self.groups:
                raise ValueError(
                    f"{where}: {name}={channels} must be divisible by groups={self.groups} "
                    f"(each of the {self.groups} groups gets {name} / groups channels)"
                )
        self.use_bias = check_flag(where, "bias", bias)
        self.padding_mode = check_choice(where, "padding_mode", padding_mode,
                                         self.PADDING_MODES)
        self.weight_init = weight_init
        self.bias_init = check_choice(where, "bias_init", bias_init, BIAS_INITS)
        generator = as_generator(rng, where)
        assert self.dtype is not None
        shape = (*self.kernel_size, self.in_channels // self.groups, self.out_channels)
        draw = get_initializer(weight_init, where, "weight_init")
        self._params["weight"] = draw(shape, generator, self.dtype)
        if self.use_bias:
            bound = bias_bound(shape) if self.bias_init == "torch_default" else 0.0
            self._params["bias"] = generator.uniform(-bound, bound, self.out_channels).astype(
                self.dtype)

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "bias": self.use_bias,
            "padding_mode": self.padding_mode,
            "weight_init": self.weight_init,
            "bias_init": self.bias_init,
            "dtype": self.dtype.name if self.dtype is not None else None,
            "impl": self.impl,
        }

    # ----------------------------------------------------------------- forward
    def winograd_applies(self) -> bool:
        """Whether the vectorized path uses Winograd F(2×2, 3×3): a 3×3 kernel, stride 1,
        dilation 1 and groups 1 (any padding and padding_mode)."""
        return (self.kernel_size == (3, 3) and self.stride == (1, 1)
                and self.dilation == (1, 1) and self.groups == 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, H, W, C_in) -> y (N, OH, OW, C_out); caches what backward needs."""
        where = f"{self.where}.forward"
        x = self._check_input(x)
        check_images(where, x)
        if x.shape[3] != self.in_channels:
            raise ValueError(
                f"{where}: x has {x.shape[3]} channels on axis 3 (shape {x.shape}), expected "
                f"in_channels={self.in_channels}; images are {NHWC}"
            )
        padded = check_kernel_fits(where, x.shape, self.kernel_size, self.pads, self.dilation)
        check_padding_mode_fits(where, x.shape, self.padding_mode, self.pads)
        out_hw = (output_size(padded[0], self.kernel_size[0], self.stride[0], self.dilation[0]),
                  output_size(padded[1], self.kernel_size[1], self.stride[1], self.dilation[1]))
        # inf − inf in a window sum: NaN; finite values whose sum overflows: inf (as torch,
        # which warns about neither)
        with np.errstate(invalid="ignore", over="ignore"):
            if self.impl == "loop":
                xp = pad_images(x, self.pads, mode=self.padding_mode)
                y = self._forward_loop(xp, out_hw)
                if self.use_bias:
                    y += self._params["bias"]
                cache: Any = (xp, x.shape, out_hw)
            else:
                y, cache = self._forward_vectorized(x)
        return self._remember_output(y, cache)

    def _grouped_weight(self) -> np.ndarray:
        """The weight as (kh, kw, C_in/G, G, C_out/G): output channel g·C_out/G + o."""
        kh, kw, c_group, _ = self._params["weight"].shape
        return self._params["weight"].reshape(kh, kw, c_group, self.groups, -1)

    def _window(self, row: int, col: int) -> tuple[slice, slice]:
        """The padded rows and columns of output position (row, col)'s (dilated) window."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        top, left = row * sh, col * sw
        return (slice(top, top + span(kh, dh), dh), slice(left, left + span(kw, dw), dw))

    def _forward_loop(self, xp: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
        n, groups = xp.shape[0], self.groups
        weight = self._grouped_weight()
        y = np.empty((n, *out_hw, self.out_channels), dtype=xp.dtype)
        for row in range(out_hw[0]):
            for col in range(out_hw[1]):
                rows, cols = self._window(row, col)
                window = xp[:, rows, cols, :]  # (N, kh, kw, C_in)
                window = window.reshape(*window.shape[:3], groups, self.in_channels // groups)
                y[:, row, col, :] = np.einsum("bijgc,ijcgo->bgo", window, weight).reshape(
                    n, self.out_channels)
        return y

    def _forward_vectorized(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """y and the cache ``(kernel, kept input, its shape, its padding, x's shape)``."""
        xs, pads = np.ascontiguousarray(x), self.pads
        if self.padding_mode != "zeros" and any(pads):
            xs, pads = pad_images(xs, pads, mode=self.padding_mode), (0, 0, 0, 0)
        weight, bias = self._params["weight"], self._params.get("bias")
        if self.winograd_applies():
            y, kept = _winograd_forward(xs, weight, bias, pads)
            if y is not None:
                return y, ("winograd", kept, xs.shape, pads, x.shape)
        y, cols = _im2col_forward(_Im2colPlan.of(self, xs.shape, pads), xs, weight, bias)
        if cols is not None:  # the columns instead of x (IM2COL_KEEP)
            return y, ("im2col-columns", cols, xs.shape, pads, x.shape)
        return y, ("im2col", xs, xs.shape, pads, x.shape)

    # ----------------------------------------------------------------- backward
    # backward (TwoPathLayer): dy (N, OH, OW, C_out) -> dx (N, H, W, C_in); fills ``grads``.
    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        xp, x_shape, out_hw = cache
        n, groups = xp.shape[0], self.groups
        weight = self._grouped_weight()
        dw = np.zeros_like(weight)
        dxp = np.zeros_like(xp)
        # inf in x or dy: dW, dx and db sum inf of both signs, NaN as in torch, silently;
        # finite products that overflow: inf, silently too
        with np.errstate(invalid="ignore", over="ignore"):
            for row in range(out_hw[0]):
                for col in range(out_hw[1]):
                    rows, cols = self._window(row, col)
                    g = dy[:, row, col, :].reshape(n, groups, self.out_channels // groups)
                    window = xp[:, rows, cols, :]
                    window = window.reshape(*window.shape[:3], groups, self.in_channels // groups)
                    dw += np.einsum("bgo,bijgc->ijcgo", g, window)
                    dxp[:, rows, cols, :] += np.einsum(
                        "bgo,ijcgo->bijgc", g, weight).reshape(*window.shape[:3], self.in_channels)
            if self.use_bias:
                self._grads["bias"] = dy.sum(axis=(0, 1, 2))
        self._grads["weight"] = dw.reshape(self._params["weight"].shape)
        return fold_padding(dxp, self.pads, x_shape, self.padding_mode)

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        kernel, kept, xs_shape, pads, x_shape = cache
        weight = self._params["weight"]
        db = None
        # inf input: dW sums inf·g of both signs; finite x·g products may overflow (torch)
        with np.errstate(invalid="ignore", over="ignore"):
            if kernel == "winograd":
                dxs, dw, db = _winograd_backward(kept, xs_shape, pads, weight, dy)
                # db = Σ dy per channel is not finite iff dy holds inf or NaN (or its sum
                # overflows): Winograd then spread the value over whole tiles (see the
                # class docstring), so the im2col backward redoes it with direct sums.
                if not np.isfinite(db).all():
                    kept = _winograd_unpack(kept, xs_shape, pads, dy.dtype)
                    kernel = "im2col"
            if kernel in ("im2col", "im2col-columns"):
                x, cols = (kept, None) if kernel == "im2col" else (None, kept)
                dxs, dw, db = _im2col_backward(_Im2colPlan.of(self, xs_shape, pads), x,
                                               weight, dy, cols=cols)
        self._grads["weight"] = dw
        if self.use_bias:
            assert db is not None
            self._grads["bias"] = db
        if self.padding_mode != "zeros" and any(self.pads):
            return fold_padding(dxs, self.pads, x_shape, self.padding_mode)
        return dxs


# --------------------------------------------------------------------------- helpers
def _void_copy(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` (same shapes), moving whole last-axis vectors as single void items
    when the last axes of both are contiguous: a strided copy 2-3x faster than float by
    float. NumPy (>= 1.23) views any array whose last axis is contiguous with a larger
    itemsize, so the void view cannot fail there."""
    if src.size and src.strides[-1] == src.itemsize and dst.strides[-1] == dst.itemsize:
        item = np.dtype((np.void, src.shape[-1] * src.itemsize))
        np.copyto(dst.view(item), src.view(item))
        return
    np.copyto(dst, src)


# --------------------------------------------------------------------------- Winograd
_WINOGRAD_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: The 4 Winograd points along each axis in internal ("slot") order: points 0 and 3 first,
#: so that Bᵀ's rows 0 and 3 (d0 − d2, d1 − d3) are one subtraction of two row pairs.
_SLOTS = (0, 3, 1, 2)
#: Per slot pair ξ: the sign of Z = A dY Aᵀ relative to the internal Z' (A's column 3 is
#: [0, −1]; Z' keeps +dY, the sign goes into U in backward).
_SLOT_SIGNS = np.outer([1.0, -1.0, 1.0, 1.0], [1.0, -1.0, 1.0, 1.0]).reshape(16)
#: Aᵀ in slot order: y0 = m(p0) + m(p1) + m(p2), y1 = m(p1) − m(p2) − m(p3).
_WINOGRAD_AT = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, -1.0, 1.0, -1.0]])
#: G ⊗ G in slot order (16, 9): U[ξ] = Σ_(i, j) GG[ξ, 3i + j] W[i, j] is G W Gᵀ in one
#: product (1.7 µs at 16→32, where the products along i and j and the reordering took 19).
_WINOGRAD_GG = np.kron(_WINOGRAD_G, _WINOGRAD_G)[[4 * a + b for a in _SLOTS for b in _SLOTS]]
_WINOGRAD_GG_SIGNED = _WINOGRAD_GG * _SLOT_SIGNS[:, None]
#: Z' = A dY Aᵀ along one axis from dY's two rows: slot 2 their sum, slot 3 their difference.
_WINOGRAD_SUMDIFF = np.array([[1.0, 1.0], [1.0, -1.0]])
#: B dV Bᵀ along one axis, the two outputs of a tile that are sums (see
#: :func:`_winograd_dx_band`): to pair s + 1 even, dV(p1) + dV(p2) − dV(p0); to pair s odd,
#: dV(p1) − dV(p2) + dV(p3).
_WINOGRAD_B_SUMS = np.array([[-1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, -1.0]])


def _winograd_plan(x_shape: tuple[int, ...], pads: tuple[int, int, int, int], c_out: int
                   ) -> tuple[int, int, int, int, int, int]:
    """(OH, OW, tile rows TH, tile columns TW, images per group, tile rows per band)."""
    n, h, w, c_in = x_shape
    top, bottom, left, right = pads
    oh, ow = h + top + bottom - 2, w + left + right - 2
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    tiles = _winograd_band_rule(c_in, c_out)[0]  # per band
    group = max(1, min(n, tiles // tw))
    band = max(1, min(th, round(tiles / (tw * group))))
    return oh, ow, th, tw, group, band


def _winograd_weight(w: np.ndarray, *, signed: bool = False) -> np.ndarray:
    """U = G W Gᵀ in slot order, (16, C_in, C_out), as one product with G ⊗ G; ``signed``:
    each U[ξ] times _SLOT_SIGNS[ξ] (the backward's U')."""
    ci, co = w.shape[2:]
    gg = _WINOGRAD_GG_SIGNED if signed else _WINOGRAD_GG
    return (gg.astype(w.dtype) @ w.reshape(9, ci * co)).reshape(16, ci, co)


def _winograd_weight_adjoint(du_signed: np.ndarray, ci: int, co: int) -> np.ndarray:
    """dW = Gᵀ dU G from dU' (16, C_in, C_out) in slot order, dU = _SLOT_SIGNS ⊙ dU'
    -> (3, 3, C_in, C_out). Along i, then along j: not as one product with (G ⊗ G)ᵀ,
    whose 16-term sums leave a rounding residue (~1e-5 at N=2 1×2048) where the exact dW
    is 0 (kernel rows that only meet padding), as torch's is."""
    g = _WINOGRAD_G.astype(du_signed.dtype)[list(_SLOTS)]
    du = du_signed * _SLOT_SIGNS.astype(du_signed.dtype)[:, None, None]
    d = np.einsum("ai,abk->ibk", g, du.reshape(4, 4, ci * co))
    return np.einsum("bj,ibk->ijk", g, d).reshape(3, 3, ci, co)


def _split_cols(dst: np.ndarray, src: np.ndarray, left: int) -> None:
    """dst (H, 2, Q, N, C) parity layout <- src (N, H, W, C): padded column w + left is
    dst[:, p, q] with w + left = 2q + p."""
    width = src.shape[2]
    for p in (0, 1):
        w0 = (p - left) % 2
        if w0 < width:
            q0, count = (w0 + left - p) // 2, len(range(w0, width, 2))
            _void_copy(dst[:, p, q0:q0 + count], src[:, :, w0::2].transpose(1, 2, 0, 3))


def _merge_cols(dst: np.ndarray, src: np.ndarray, left: int) -> None:
    """dst (N, H, W, C) <- src (H, 2, Q, N, C): the inverse of :func:`_split_cols`."""
    width = dst.shape[2]
    for p in (0, 1):
        w0 = (p - left) % 2
        if w0 < width:
            q0, count = (w0 + left - p) // 2, len(range(w0, width, 2))
            _void_copy(dst[:, :, w0::2], src[:, p, q0:q0 + count].transpose(2, 0, 1, 3))


def _winograd_pad(x: np.ndarray, pads: tuple[int, int, int, int], th: int, tw: int
                  ) -> np.ndarray:
    """The zero-padded input of a group of images in the internal layout (2·TH + 2 padded
    rows, 2 column parities, TW + 1 column pairs, N, C)."""
    n, h, _, ci = x.shape
    xp = np.zeros((2 * th + 2, 2, tw + 1, n, ci), x.dtype)
    _split_cols(xp[pads[0]:pads[0] + h], x, pads[2])
    return xp


def _winograd_unpack(kept: list[np.ndarray], x_shape: tuple[int, ...],
                     pads: tuple[int, int, int, int], dtype: np.dtype) -> np.ndarray:
    """x (NHWC) back from the padded copies of :func:`_winograd_forward`."""
    x = np.empty(x_shape, dtype)
    first = 0
    for xp in kept:
        count = xp.shape[3]
        _merge_cols(x[first:first + count], xp[pads[0]:pads[0] + x_shape[1]], pads[2])
        first += count
    return x


def _input_transform(xb: np.ndarray, kk: int, r: np.ndarray, v: np.ndarray) -> None:
    """V = Bᵀ d B of kk tile rows into v (4, 4, kk, TW, N, C), slot order.

    xb: the band's padded rows as (kk + 1 row pairs, 2 row parity, 2 column parity, TW + 1,
    N, C). Bᵀ's rows 0 and 3, (d0 − d2, d1 − d3), are one subtraction of two row pairs
    (slots 0, 1); rows 1 and 2 are d1 + d2 and d2 − d1 (slots 2, 3). Same along columns.
    """
    tw = v.shape[3]
    rc, vc = r[:, :kk], v[:, :, :kk]
    lo, hi = xb[:kk], xb[1:kk + 1]  # patch rows (0, 1) and (2, 3)
    np.subtract(lo.swapaxes(0, 1), hi.swapaxes(0, 1), out=rc[0:2])
    np.add(lo[:, 1], hi[:, 0], out=rc[2])
    np.subtract(hi[:, 0], lo[:, 1], out=rc[3])
    lo, hi = rc[..., :tw, :, :], rc[..., 1:, :, :]  # patch columns (0, 1) and (2, 3)
    np.subtract(lo.swapaxes(1, 2), hi.swapaxes(1, 2), out=vc[:, 0:2])
    np.add(lo[:, :, 1], hi[:, :, 0], out=vc[:, 2])
    np.subtract(hi[:, :, 0], lo[:, :, 1], out=vc[:, 3])


def _output_transform(m: np.ndarray, p: np.ndarray, tiles: np.ndarray) -> None:
    """Y = Aᵀ M A: m (16 slots, R), R = tiles·C_out, into tiles (2 a, 2 b, ...) of R
    values each, as two small GEMMs over the leading slot axes (K = 4: one read of the
    operand, one write; 2x faster than the four two-operand passes each stage needs):
    along v into p (8·R values: 4 u, 2 b), then along u."""
    at = _WINOGRAD_AT.astype(m.dtype)
    np.matmul(at, m.reshape(4, 4, -1), out=p.reshape(4, 2, -1))
    np.matmul(at, p.reshape(4, -1), out=tiles.reshape(2, -1))


def _tile_sums(z: np.ndarray) -> None:
    """Z' = A dY Aᵀ in place in z (4 u, 4 v, R) in slot order, dY's tiles in z[0:2, 0:2]
    and A's −1 left out (its sign is in the backward's U'): slots 2 and 3 get the sum and
    the difference of slots 0 and 1, along u, then along v (two small GEMMs as in
    :func:`_output_transform`)."""
    sumdiff, r = _WINOGRAD_SUMDIFF.astype(z.dtype), z.shape[2]
    np.matmul(sumdiff, z[0:2, 0:2].reshape(2, 2 * r), out=z[2:4, 0:2].reshape(2, 2 * r))
    np.matmul(sumdiff, z[:, 0:2], out=z[:, 2:4])


def _write_tiles(y: np.ndarray, tiles: np.ndarray, r0: int) -> None:
    """y's rows from r0 <- tiles (2 a, 2 b, kk, TW, N, C_out), output (r0 + 2t + a, 2s + b):
    the whole tiles in one copy; of a partial last tile row or column (odd OH or OW) the
    outputs that exist."""
    n, oh, ow, co = y.shape
    kk, tw = tiles.shape[2], tiles.shape[3]
    rows = min(2 * kk, oh - r0)  # output rows in this band
    full_rows, full_cols = rows // 2, ow // 2
    if full_rows and full_cols:
        dst = y[:, r0:r0 + 2 * full_rows, :2 * full_cols].reshape(n, full_rows, 2, full_cols,
                                                                  2, co)
        _void_copy(dst, tiles[:, :, :full_rows, :full_cols].transpose(4, 2, 0, 3, 1, 5))
    if rows % 2 and full_cols:  # a last tile row with one output row
        dst = y[:, r0 + rows - 1, :2 * full_cols].reshape(n, full_cols, 2, co)
        _void_copy(dst, tiles[0, :, full_rows, :full_cols].transpose(2, 1, 0, 3))
    if ow % 2:  # a last tile column with one output column: rows 2t + a
        src = tiles[:, 0, :, tw - 1].swapaxes(0, 1).reshape(2 * kk, n, co)[:rows]
        _void_copy(y[:, r0:r0 + rows, ow - 1], src.transpose(1, 0, 2))


def _read_tiles(z: np.ndarray, dy: np.ndarray, r0: int) -> None:
    """z (2 a, 2 b, kk, TW, N, C_out) <- dy's outputs (r0 + 2t + a, 2s + b): the whole
    tiles in one copy; a partial last tile row or column (odd OH or OW) gets zeros where
    it runs past dy."""
    n, oh, ow, co = dy.shape
    kk, tw = z.shape[2], z.shape[3]
    rows = min(2 * kk, oh - r0)  # output rows in this band
    full_rows, full_cols = rows // 2, ow // 2
    if full_rows < kk or full_cols < tw:
        z[:, :, full_rows:] = 0
        z[:, :, :, full_cols:] = 0
    if full_rows and full_cols:
        src = dy[:, r0:r0 + 2 * full_rows, :2 * full_cols].reshape(n, full_rows, 2, full_cols,
                                                                   2, co)
        _void_copy(z[:, :, :full_rows, :full_cols], src.transpose(2, 4, 1, 3, 0, 5))
    if rows % 2 and full_cols:  # a last tile row with one output row
        src = dy[:, r0 + rows - 1, :2 * full_cols].reshape(n, full_cols, 2, co)
        _void_copy(z[0, :, full_rows, :full_cols], src.transpose(2, 1, 0, 3))
    if ow % 2:  # a last tile column with one output column
        for a in (0, 1):
            count = len(range(a, rows, 2))
            if count:
                src = dy[:, r0 + a:r0 + rows:2, ow - 1]
                _void_copy(z[a, 0, :count, tw - 1], src.transpose(1, 0, 2))


def _winograd_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                      pads: tuple[int, int, int, int]
                      ) -> tuple[np.ndarray | None, list[np.ndarray]]:
    """(y, the padded copies of x per image group), or (None, []) when y is not all finite
    (the caller then uses im2col)."""
    n = x.shape[0]
    oh, ow, th, tw, group, band = _winograd_plan(x.shape, pads, weight.shape[3])
    u = _winograd_weight(weight)
    y = np.empty((n, oh, ow, weight.shape[3]), x.dtype)
    kept = []
    for g0 in range(0, n, group):
        g1 = min(n, g0 + group)
        kept.append(_winograd_pad(x[g0:g1], pads, th, tw))
        _winograd_forward_group(kept[-1], u, bias, th, tw, band, y[g0:g1])
    # Σ y per channel (a GEMV, faster than y.sum()): non-finite if y holds inf or NaN
    if not np.isfinite(np.ones(math.prod(y.shape[:3]), y.dtype) @ y.reshape(-1, y.shape[3])
                       ).all():
        return None, []
    return y, kept


def _winograd_forward_group(xp: np.ndarray, u: np.ndarray, bias: np.ndarray | None,
                            th: int, tw: int, band: int, y: np.ndarray) -> None:
    n, ci, co, dt = xp.shape[3], xp.shape[4], u.shape[2], xp.dtype
    x6 = xp.reshape(th + 1, 2, 2, tw + 1, n, ci)
    r = np.empty((4, band, 2, tw + 1, n, ci), dt)
    v = np.empty((4, 4, band, tw, n, ci), dt)
    m = np.empty((16, band * tw * n, co), dt)
    p = np.empty(8 * band * tw * n * co, dt)  # flat: a band's part is one contiguous block
    tiles = np.empty(4 * band * tw * n * co, dt)
    for t0 in range(0, th, band):
        t1 = min(th, t0 + band)
        kk = t1 - t0
        count = kk * tw * n
        _input_transform(x6[t0:t1 + 1], kk, r, v)
        mc = m[:, :count]
        np.matmul(v[:, :, :kk].reshape(16, count, ci), u, out=mc)
        if bias is not None:
            mc[10] += bias  # point (1, 1) = slot (2, 2): Aᵀ e₁e₁ᵀ A is all ones
        tc = tiles[:4 * count * co].reshape(2, 2, kk, tw, n, co)
        _output_transform(mc.reshape(16, count * co), p[:8 * count * co], tc)
        _write_tiles(y, tc, 2 * t0)


def _winograd_backward(kept: list[np.ndarray], x_shape: tuple[int, ...],
                       pads: tuple[int, int, int, int], weight: np.ndarray, dy: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dW, db) of the Winograd pipeline (see Conv2D's docstring); db sums the tile
    sums Z'[(1, 1)] (A's row 1 is [1, 1]), a GEMV per band."""
    n, _, _, ci = x_shape
    co = weight.shape[3]
    _, _, th, tw, group, band = _winograd_plan(x_shape, pads, co)
    dt = dy.dtype
    u_signed = np.ascontiguousarray(_winograd_weight(weight, signed=True).transpose(0, 2, 1))
    du = np.zeros((16, ci, co), dt)  # dU' summed over the groups
    db = np.zeros(co, dt)
    dx = np.empty(x_shape, dt)
    for k, g0 in enumerate(range(0, n, group)):
        g1 = min(n, g0 + group)
        _winograd_backward_group(kept[k], pads, th, tw, band, u_signed, dy[g0:g1], dx[g0:g1],
                                 du, db)
    return dx, _winograd_weight_adjoint(du, ci, co), db


def _winograd_backward_group(xp: np.ndarray, pads: tuple[int, int, int, int], th: int,
                             tw: int, band: int, u_signed: np.ndarray, dy: np.ndarray,
                             dx: np.ndarray, du: np.ndarray, db: np.ndarray) -> None:
    n, h, _, ci = dx.shape
    co, dt = dy.shape[3], dy.dtype
    top, left = pads[0], pads[2]
    x6 = xp.reshape(th + 1, 2, 2, tw + 1, n, ci)
    r = np.empty((4, band, 2, tw + 1, n, ci), dt)
    v = np.empty((4, 4, band, tw, n, ci), dt)
    z = np.empty(16 * band * tw * n * co, dt)  # flat: a band's part is one contiguous block
    dv = np.empty((16, band * tw * n, ci), dt)
    c = np.empty(8 * band * (tw + 1) * n * ci, dt)
    sums = np.empty(8 * band * tw * n * ci, dt)
    # dU' = Vᵀ Z' or (Z'ᵀ V)ᵀ: OpenBLAS's speed for the two differs by shape, measured
    # (backward alone, one thread, N=32 28² unless said; Vᵀ Z' against Z'ᵀ V, ms): Vᵀ Z'
    # faster at 16→32 2.42/2.58, 16→64 4.27/4.61, 32→64 (N=16) 3.37/3.44, 8→16
    # 3.16/3.21, 64→64 (N=8 16²) 2.32/2.30 and (N=8 64²) 16.6/17.3; several times slower
    # where the channels are many or the rows outnumber the columns: 32→16 7.46/4.13,
    # 64→128 (N=8 16²) 3.89/2.53, 128→128 6.67/5.45, 128→64 4.97/3.68.
    v_first = ci <= co and ci * co <= 64 * 64
    du_c = np.empty((16, ci, co) if v_first else (16, co, ci), dt)
    ones = np.ones(band * tw * n, dt)
    # Row pairs of dxp: the band's kk + 1; the last one is carried into the next band.
    d = np.zeros((band + 1, 2, 2, tw + 1, n, ci), dt)
    for t0 in range(0, th, band):
        t1 = min(th, t0 + band)
        kk = t1 - t0
        count = kk * tw * n
        _input_transform(x6[t0:t1 + 1], kk, r, v)  # V again: cheaper than keeping it
        z3 = z[:16 * count * co].reshape(4, 4, count * co)
        _read_tiles(z3.reshape(4, 4, kk, tw, n, co)[0:2, 0:2], dy, 2 * t0)
        _tile_sums(z3)
        zm = z3.reshape(16, count, co)
        db += ones[:count] @ zm[10]  # slot (2, 2) = point (1, 1): the tile sums of dY
        vm = v[:, :, :kk].reshape(16, count, ci)
        if v_first:
            du += np.matmul(vm.transpose(0, 2, 1), zm, out=du_c)
        else:
            du += np.matmul(zm.transpose(0, 2, 1), vm, out=du_c).transpose(0, 2, 1)
        dvc = dv[:, :count]
        np.matmul(zm, u_signed, out=dvc)
        _winograd_dx_band(dvc.reshape(4, 4, kk, tw, n, ci), c, sums, d[:kk + 1])
        # padded rows 2·t0 .. 2·t1 − 1 are final: crop them into dx, carry the last pair
        r0, r1 = max(2 * t0, top), min(2 * t1, top + h)
        if r1 > r0:
            rows = d[:kk].reshape(2 * kk, 2, tw + 1, n, ci)
            _merge_cols(dx[:, r0 - top:r1 - top], rows[r0 - 2 * t0:r1 - 2 * t0], left)
        d[0] = d[kk]
    r0, r1 = max(2 * th, top), min(2 * th + 2, top + h)
    if r1 > r0:  # the last row pair, carried out of the last band
        rows = d[0].reshape(2, 2, tw + 1, n, ci)
        _merge_cols(dx[:, r0 - top:r1 - top], rows[r0 - 2 * th:r1 - 2 * th], left)


def _winograd_dx_band(dv6: np.ndarray, c: np.ndarray, sums: np.ndarray, d: np.ndarray
                      ) -> None:
    """dd = B dV Bᵀ for kk tile rows, overlap-added into the row pairs d[0..kk].

    Along one axis, the patch positions 0..3 of tile s land on padded positions 2s..2s+3:
    pair s gets (even, odd) = (dV[p0], dV[p1] − dV[p2] + dV[p3]) and pair s + 1 gets
    (dV[p1] + dV[p2] − dV[p0], −dV[p3]) (the columns of Bᵀ); slots (0, 1, 2, 3) hold the
    points (p0, p3, p1, p2). The two sums are one small GEMM over the slot axis
    (_WINOGRAD_B_SUMS), the overlap one add each. On entry d[0] holds what the previous
    band carried over; on exit d[0..kk−1] are final and d[kk] is the carry for the next
    band. Flat workspaces: c of at least 8·kk·(TW + 1)·N·C elements, sums of 8·kk·TW·N·C.
    """
    kk, tw, n, ci = dv6.shape[2:]
    b_sums = _WINOGRAD_B_SUMS.astype(dv6.dtype)
    run = kk * tw * n * ci
    # columns: dv6 (4 u, 4 v, kk, TW, N, C) -> cc (4 u, kk, 2 parity, TW + 1, N, C)
    ab = sums[:8 * run].reshape(4, 2, kk, tw, n, ci)
    np.matmul(b_sums, dv6.reshape(4, 4, run), out=ab.reshape(4, 2, run))
    ta, tb = ab[:, 0], ab[:, 1]  # to pair s + 1 even, to pair s odd
    cc = c[:8 * kk * (tw + 1) * n * ci].reshape(4, kk, 2, tw + 1, n, ci)
    even, odd = cc[:, :, 0], cc[:, :, 1]
    even[:, :, 0] = dv6[:, 0, :, 0]
    np.add(dv6[:, 0, :, 1:], ta[:, :, :-1], out=even[:, :, 1:tw])
    even[:, :, tw] = ta[:, :, -1]
    odd[:, :, 0] = tb[:, :, 0]
    np.subtract(tb[:, :, 1:], dv6[:, 1, :, :-1], out=odd[:, :, 1:tw])
    np.negative(dv6[:, 1, :, -1], out=odd[:, :, tw])
    # rows: cc (4 u slots, kk, ...) -> d (kk + 1 pairs, 2 parity, ...)
    rows = kk * 2 * (tw + 1) * n * ci
    e = sums[:2 * rows].reshape(2, kk, 2, tw + 1, n, ci)
    np.matmul(b_sums, cc.reshape(4, rows), out=e.reshape(2, rows))
    ea, eb = e  # to pair t + 1 even, to pair t odd
    d[0, 0] += cc[0, 0]
    d[0, 1] += eb[0]
    if kk > 1:
        np.add(cc[0, 1:], ea[:-1], out=d[1:kk, 0])
        np.subtract(eb[1:], cc[1, :-1], out=d[1:kk, 1])
    d[kk, 0] = ea[-1]
    np.negative(cc[1, -1], out=d[kk, 1])


# --------------------------------------------------------------------------- im2col
@dataclass(frozen=True)
class _Im2colPlan:
    """The geometry of the chunked im2col path: bands of ``images`` whole images
    (``rows == oh``), or of ``rows`` output rows of one image."""

    x_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    c_out: int
    pads: tuple[int, int, int, int]
    padded: tuple[int, int]
    oh: int
    ow: int
    kg: int  # kh·kw·C_in/G: weight rows per group
    kgp: int  # columns per group: kg, the ones column, a zero column if that is odd
    images: int
    rows: int

    @classmethod
    def of(cls, layer: Conv2D, x_shape: tuple[int, ...],
           pads: tuple[int, int, int, int] | None = None) -> _Im2colPlan:
        pads = layer.pads if pads is None else pads
        n, h, w, c = x_shape
        (kh, kw), stride, dilation = layer.kernel_size, layer.stride, layer.dilation
        padded = (h + pads[0] + pads[1], w + pads[2] + pads[3])
        oh = output_size(padded[0], kh, stride[0], dilation[0])
        ow = output_size(padded[1], kw, stride[1], dilation[1])
        kg = kh * kw * c // layer.groups
        kgp = kg + 1 + (kg + 1) % 2  # even: OpenBLAS ran the GEMMs of K = 27 or 29 slower than 28
        per_row = ow * layer.groups * kgp  # column elements of one output row of one image
        if cls.kept_whole(n * oh * per_row):
            images, rows = n, oh
        elif oh * per_row <= IM2COL_CHUNK:
            images, rows = max(1, min(n, IM2COL_CHUNK // (oh * per_row))), oh
        else:
            images, rows = 1, max(1, IM2COL_CHUNK // per_row)
        return cls((n, h, w, c), (kh, kw), stride, dilation, layer.groups,
                   layer.out_channels, pads, padded, oh, ow, kg, kgp, images, rows)

    def bands(self) -> Iterator[tuple[int, int, int, int]]:
        """(first image, end image, first output row, end output row) of each band."""
        n = self.x_shape[0]
        for n0 in range(0, n, self.images):
            for r0 in range(0, self.oh, self.rows):
                yield n0, min(n, n0 + self.images), r0, min(self.oh, r0 + self.rows)

    def input_rows(self, r0: int, r1: int) -> tuple[int, int]:
        """The padded rows [p0, p1) that output rows r0..r1 − 1 read."""
        return r0 * self.stride[0], (r1 - 1) * self.stride[0] + span(self.kernel[0],
                                                                     self.dilation[0])

    @staticmethod
    def kept_whole(columns: int) -> bool:
        """Whether the forward keeps a whole column matrix of that many elements for
        backward (IM2COL_KEEP); it is then one band."""
        return columns < IM2COL_KEEP

    @property
    def band_positions(self) -> int:
        """Positions (column-matrix rows) of the largest band."""
        return self.images * self.rows * self.ow

    @property
    def keeps_columns(self) -> bool:
        return self.kept_whole(self.x_shape[0] * self.oh * self.ow * self.groups * self.kgp)

    def positions(self, n0: int, r0: int) -> int:
        """The first row of band (n0, r0) in the whole column matrix: rows are (n, r, c)."""
        return (n0 * self.oh + r0) * self.ow

    def buffers(self, dtype: np.dtype, whole: bool = False
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """The column matrix (P, G, Kp) of the largest band (of every position with
        ``whole``), column K ones and any column after it zeros (the bands fill columns
        0..K − 1), and a buffer for the padded input rows of a band (None without padding)."""
        positions = self.x_shape[0] * self.oh * self.ow if whole else self.band_positions
        cols = np.empty((positions, self.groups, self.kgp), dtype)
        cols[:, :, self.kg] = 1
        cols[:, :, self.kg + 1:] = 0
        p0, p1 = self.input_rows(0, self.rows)
        size = self.images * (p1 - p0) * self.padded[1] * self.x_shape[3]
        return cols, (np.empty(size, dtype) if any(self.pads) else None)

    def band_input(self, x: np.ndarray, n0: int, n1: int, r0: int, r1: int,
                   buffer: np.ndarray | None) -> np.ndarray:
        """The padded input rows of a band (N_band, rows_in, Wp, C): a view of x without
        padding, else filled into ``buffer`` with zeros outside x."""
        p0, p1 = self.input_rows(r0, r1)
        if buffer is None:
            return x[n0:n1, p0:p1]
        _, h, w, c = self.x_shape
        top, _, left, _ = self.pads
        xb = buffer[:(n1 - n0) * (p1 - p0) * self.padded[1] * c].reshape(
            n1 - n0, p1 - p0, self.padded[1], c)
        lo, hi = max(p0, top), min(p1, top + h)
        xb[:, :max(0, lo - p0)] = 0
        xb[:, max(0, hi - p0):] = 0
        if hi > lo:
            xb[:, lo - p0:hi - p0, :left] = 0
            xb[:, lo - p0:hi - p0, left + w:] = 0
            xb[:, lo - p0:hi - p0, left:left + w] = x[n0:n1, lo - top:hi - top]
        return xb

    def fill_columns(self, xb: np.ndarray, rows: int, cols: np.ndarray) -> None:
        """cols (P, G, Kp) of a band: weight-row order (i, j, ch) within each group.

        Groups 1 and dilation 1: the kw·C values of a window's row i are contiguous in NHWC
        (columns c·sw .. c·sw + kw − 1 of one padded row), so kernel row i is ONE copy of
        P items of kw·C values (a void dtype over an overlapping strided view): kh copies
        instead of kh·kw copies of C-value runs (5x faster for C = 3). Otherwise one copy
        per kernel offset of C/G-value runs per group.
        """
        nb, _, _, c = xb.shape
        (kh, kw), (sh, sw), (dh, dw), groups = self.kernel, self.stride, self.dilation, \
            self.groups
        cg = c // groups
        c6 = cols.reshape(nb, rows, self.ow, groups, self.kgp)
        for i in range(kh):
            row_view = xb[:, i * dh:i * dh + sh * (rows - 1) + 1:sh]  # (N_band, rows, Wp, C)
            if groups == 1 and dw == 1:
                s = row_view.strides
                src = as_strided(row_view, (nb, rows, self.ow, kw * c),
                                 (s[0], s[1], sw * s[2], s[3]), writeable=False)
                _void_copy(c6[:, :, :, 0, i * kw * c:(i + 1) * kw * c], src)
                continue
            for j in range(kw):
                src = row_view[:, :, j * dw:j * dw + sw * (self.ow - 1) + 1:sw]
                t = i * kw + j
                _void_copy(c6[..., t * cg:(t + 1) * cg], src.reshape(nb, rows, self.ow,
                                                                     groups, cg))

    def augmented_weight(self, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """W_aug (G, Kp, C_out/G): each group's weight rows (i, j, ch), its bias, zeros."""
        groups, kg = self.groups, self.kg
        wa = np.zeros((groups, self.kgp, self.c_out // groups), weight.dtype)
        wa[:, :kg] = weight.reshape(kg, groups, -1).transpose(1, 0, 2)
        if bias is not None:
            wa[:, kg] = bias.reshape(groups, -1)
        return wa


def _phase_axis(lead: int, real: int, kernel: int, stride: int, dilation: int
                ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """One axis of :class:`_PhaseGrid`: padded index v = stride·q + b is in phase b. Per
    phase, the first q of a real (unpadded) index and how many real indices it holds; per
    kernel offset i, the shift of its grid index over the output index o (offset i of
    output o touches v = stride·o + i·dilation, grid index q − first[b])."""
    first = tuple(-(-(lead - b) // stride) for b in range(stride))
    count = tuple(max(0, (lead + real - 1 - b) // stride - q + 1) for b, q in enumerate(first))
    shift = tuple(i * dilation // stride - first[i * dilation % stride] for i in range(kernel))
    return first, count, shift


@dataclass(frozen=True)
class _PhaseGrid:
    """col2im for bands of whole images, by phase: the band of dx is stored as
    (C, N_band, sh, sw, R·OW), phase (a, b) holding the real rows and columns of padded
    index (sh·q + a, sw·q' + b) on a grid of R rows of OW cells.

    It applies when no column phase holds more than OW real columns. A grid row is then
    as wide as a row of dcols, so every kernel offset (i, j) is ONE contiguous add of the
    flattened (OH·OW) gradient of its C channels, shifted by row_shift[i]·OW +
    col_shift[j]: runs of ~255 values where the column-phase layout adds runs of OW (at
    N=64 32² 3→64 stride 2 in four bands its 36 adds a call took 0.32 ms; one band's 9
    adds here take 0.11).
    The values that would wrap into the next grid row (their column lies in the padding)
    are zeroed in dcols first; values that fall off the grid lie in the padding too.
    Then one copy per phase into dx.
    """

    rows: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]  # (first, count, shift)
    cols: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    top: int
    left: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    oh: int
    ow: int

    @classmethod
    def of(cls, plan: _Im2colPlan) -> _PhaseGrid | None:
        """The grid of the plan, or None (bands of output rows, or a column phase with more
        than OW real columns: a "valid" convolution, or padding of another mode)."""
        if plan.rows < plan.oh:
            return None
        _, h, w, _ = plan.x_shape
        top, _, left, _ = plan.pads
        (kh, kw), (sh, sw), (dh, dw) = plan.kernel, plan.stride, plan.dilation
        cols = _phase_axis(left, w, kw, sw, dw)
        if max(cols[1]) > plan.ow:
            return None
        return cls(_phase_axis(top, h, kh, sh, dh), cols, top, left, (sh, sw), (dh, dw),
                   plan.oh, plan.ow)

    @property
    def grid_rows(self) -> int:
        return max(self.rows[1])

    def buffer(self, plan: _Im2colPlan, dtype: np.dtype) -> np.ndarray:
        """The band of dx by phase (C, N_band, sh, sw, R·OW) for the plan's largest band."""
        return np.empty((plan.x_shape[3], plan.images, *self.stride,
                         self.grid_rows * self.ow), dtype)

    def col2im(self, dc: np.ndarray, band: np.ndarray, dx: np.ndarray) -> None:
        """dx (N_band, H, W, C) of the band from dc (G, kh·kw·C/G, N_band·OH·OW), dXᵀ in
        weight-row order (i, j, ch) per group; ``band`` (C, N_band, sh, sw, R·OW) is
        scratch. dc is changed (its wrapping values zeroed)."""
        groups, _ = dc.shape[:2]
        nb, _, _, c = dx.shape
        kh, kw = len(self.rows[2]), len(self.cols[2])
        (sh, sw), ow, size = self.stride, self.ow, self.grid_rows * self.ow
        d6 = dc.reshape(groups, kh, kw, c // groups, nb, self.oh, ow)
        for j, shift in enumerate(self.cols[2]):
            wrap = slice(0, min(ow, -shift)) if shift < 0 else slice(max(0, ow - shift), ow)
            d6[:, :, j, ..., wrap] = 0
        src = d6.reshape(groups, kh, kw, c // groups, nb, self.oh * ow)
        dst = band.reshape(groups, c // groups, nb, sh, sw, size)
        written = np.zeros((sh, sw), bool)
        for i, row_shift in enumerate(self.rows[2]):
            for j, col_shift in enumerate(self.cols[2]):
                f = row_shift * ow + col_shift
                lo, hi = max(0, -f), min(self.oh * ow, size - f)
                if hi <= lo:
                    continue
                a, b = i * self.dilation[0] % sh, j * self.dilation[1] % sw
                phase = dst[:, :, :, a, b]
                if written[a, b]:
                    phase[..., lo + f:hi + f] += src[:, i, j, :, :, lo:hi]
                else:  # the phase's first offset: a copy, zeros around it
                    phase[..., lo + f:hi + f] = src[:, i, j, :, :, lo:hi]
                    phase[..., :lo + f] = 0
                    phase[..., hi + f:] = 0
                    written[a, b] = True
        for a, b in zip(*np.nonzero(~written), strict=True):
            dst[:, :, :, a, b] = 0
        for a, (q, rc) in enumerate(zip(*self.rows[:2], strict=True)):
            for b, (q_, cc) in enumerate(zip(*self.cols[:2], strict=True)):
                if rc and cc:
                    r0, c0 = sh * q + a - self.top, sw * q_ + b - self.left
                    _copy_channels_last(
                        dx[:, r0:r0 + sh * (rc - 1) + 1:sh, c0:c0 + sw * (cc - 1) + 1:sw],
                        band[:, :, a, b, :rc * ow].reshape(c, nb, rc, ow)[..., :cc])


def _band(a: np.ndarray, n0: int, n1: int, r0: int, r1: int) -> np.ndarray:
    """a[n0:n1, r0:r1] as (positions, channels): whole images or rows of one image, so a
    contiguous slice of a contiguous array (a view: writes reach ``a``)."""
    view = a[n0:n1, r0:r1]
    assert view.flags.c_contiguous
    return view.reshape(-1, a.shape[3])


def _im2col_forward(plan: _Im2colPlan, x: np.ndarray, weight: np.ndarray,
                    bias: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(y, the whole column matrix when the plan keeps it for backward, else None)."""
    groups, keep = plan.groups, plan.keeps_columns
    wa = plan.augmented_weight(weight, bias)
    y = np.empty((plan.x_shape[0], plan.oh, plan.ow, plan.c_out), x.dtype)
    cols, xbuf = plan.buffers(x.dtype, whole=keep)
    band_rows = plan.band_positions
    out = None if groups == 1 else np.empty((groups, band_rows, wa.shape[2]), x.dtype)
    for n0, n1, r0, r1 in plan.bands():
        m = (n1 - n0) * (r1 - r0) * plan.ow
        first = plan.positions(n0, r0) if keep else 0
        xc = cols[first:first + m]
        plan.fill_columns(plan.band_input(x, n0, n1, r0, r1, xbuf), r1 - r0, xc)
        yb = _band(y, n0, n1, r0, r1)
        if groups == 1:
            np.matmul(xc[:, 0], wa[0], out=yb)  # the bias comes with the ones column
        else:
            assert out is not None
            np.matmul(xc.transpose(1, 0, 2), wa, out=out[:, :m])
            yb.reshape(m, groups, -1)[...] = out[:, :m].transpose(1, 0, 2)
    return y, (cols if keep else None)


def _im2col_backward(plan: _Im2colPlan, x: np.ndarray | None, weight: np.ndarray,
                     dy: np.ndarray, cols: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx of the kernel's input, dW, db) band by band, on the forward's whole column matrix
    ``cols`` or, without it, on columns rebuilt from x.

    [dW; db] = Xᵀ g: at Kp = 28, 64 out (OpenBLAS, one thread) 0.88 ms for 16384 rows where
    gᵀ X took 1.24. The overlap-add runs on a band of dxp stored channel first and split by
    column phase, (C, N_band, rows, sw, ⌈Wp/sw⌉) with padded column v = sw·q + b at [b, q]:
    every kernel offset then adds contiguous runs of OW values into contiguous runs, where
    a stride-2 destination was 1.2x slower per element.
    """
    _, h, _, c = plan.x_shape
    (kh, kw), (sh, sw), (dh, dw) = plan.kernel, plan.stride, plan.dilation
    groups, kg, kgp = plan.groups, plan.kg, plan.kgp
    top, _, left, _ = plan.pads
    dt = dy.dtype
    dy = np.ascontiguousarray(dy)
    wa = plan.augmented_weight(weight, None)
    built, xbuf = plan.buffers(dt) if cols is None else (None, None)
    dwa = np.zeros((groups, kgp, plan.c_out // groups), dt)  # [dW; db] per group
    dwc = np.empty_like(dwa)
    band_rows = plan.band_positions
    dcols = np.empty(groups * kgp * band_rows, dt)
    grid = _PhaseGrid.of(plan)
    p0, p1 = plan.input_rows(0, plan.rows)
    phases = -(-plan.padded[1] // sw)
    dxb = grid.buffer(plan, dt) if grid else np.zeros((c, plan.images, p1 - p0, sw, phases), dt)
    dx = np.empty(plan.x_shape, dt)
    carried = 0  # padded rows at the top of dxb carried over from the previous band
    for n0, n1, r0, r1 in plan.bands():
        nb, rows = n1 - n0, r1 - r0
        m = nb * rows * plan.ow
        carried = 0 if r0 == 0 else carried
        g = _band(dy, n0, n1, r0, r1)
        if cols is None:
            assert built is not None and x is not None
            xc = built[:m]
            plan.fill_columns(plan.band_input(x, n0, n1, r0, r1, xbuf), rows, xc)
        else:
            first = plan.positions(n0, r0)
            xc = cols[first:first + m]
        dc = dcols[:groups * kgp * m].reshape(groups, kgp, m)
        if groups == 1:
            np.matmul(xc[:, 0].T, g, out=dwc[0])
            _dcols(wa[0], g, dc[0])  # dXᵀ (Kp, P); rows >= kg are not used
        else:
            gg = g.reshape(m, groups, -1).transpose(1, 0, 2)  # (G, P, C_out/G)
            np.matmul(xc.transpose(1, 2, 0), gg, out=dwc)
            np.matmul(wa, gg.transpose(0, 2, 1), out=dc)
        dwa += dwc
        if grid:
            grid.col2im(dc[:, :kg], dxb[:, :nb], dx[n0:n1])
            continue
        # col2im: offset (i, j) of every window lands on padded rows i·dh + sh·r and
        # columns j·dw + sw·c; overlapping windows accumulate.
        d7 = dc[:, :kg].reshape(groups, kh, kw, c // groups, nb, rows, plan.ow)
        b0, b1 = plan.input_rows(r0, r1)
        band = dxb[:, :nb, :b1 - b0]
        band[:, :, carried:] = 0
        bg = band.reshape(groups, c // groups, nb, b1 - b0, sw, phases)
        for i in range(kh):
            rs = window_slice(i * dh, rows, sh)
            for j in range(kw):
                q0 = j * dw // sw
                bg[:, :, :, rs, j * dw % sw, q0:q0 + plan.ow] += d7[:, i, j]
        # padded rows b0 .. fin − 1 are final (fin: the next band's first row, or the end);
        # rows b1 .. fin − 1 (a stride larger than the kernel, surplus rows) get nothing
        fin = plan.padded[0] if r1 == plan.oh else r1 * sh
        lo, hi = max(b0, top), min(fin, top + h)
        mid = min(hi, b1)
        if mid > lo:
            _crop_phases(dx[n0:n1, lo - top:mid - top], band[:, :, lo - b0:mid - b0], left)
        if hi > max(lo, mid):
            dx[n0:n1, max(lo, mid) - top:hi - top] = 0
        carried = max(0, b1 - fin)
        if carried:
            dxb[:, :nb, :carried] = band[:, :, fin - b0:b1 - b0]
    dw_ = dwa[:, :kg].transpose(1, 0, 2).reshape(weight.shape)
    return dx, dw_, dwa[:, kg].reshape(-1)


def _dcols_width(kp: int) -> int:
    """Kp rounded up to a multiple of 16: the width of a narrow dcols' chunks."""
    return -(-kp // 16) * 16


def _dcols(w: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
    """out (Kp, P) = w (Kp, C_out) · gᵀ for g (P, C_out): one GEMM, or for a narrow float32
    Kp with many outputs (DCOLS_WIDE, DCOLS_OUTPUTS) chunks of rows of g · wᵀ (zero columns
    up to Kp'), each transposed into ``out`` (see DCOLS_WIDE)."""
    kp, c_out = w.shape
    if not _dcols_by_chunks(kp, c_out, w.dtype):
        np.matmul(w, g.T, out=out)
        return
    width = _dcols_width(kp)
    wt = np.zeros((c_out, width), w.dtype)
    wt[:, :kp] = w.T
    rows = DCOLS_CHUNK // width
    chunk = np.empty((rows, width), w.dtype)
    for start in range(0, g.shape[0], rows):
        part = chunk[:min(rows, g.shape[0] - start)]
        np.matmul(g[start:start + rows], wt, out=part)
        out[:, start:start + rows] = part[:, :kp].T


def _crop_phases(dst: np.ndarray, src: np.ndarray, left: int) -> None:
    """dst (N, rows, W, C) <- src (C, N, rows, sw, Q), padded column w + left = sw·q + b at
    src[..., b, q]: one copy per column phase."""
    width = dst.shape[2]
    sw = src.shape[3]
    for b in range(sw):
        w0 = (b - left) % sw
        count, q0 = len(range(w0, width, sw)), (w0 + left) // sw  # count may be 0
        _copy_channels_last(dst[:, :, w0::sw], src[:, :, :, b, q0:q0 + count])


def _copy_channels_last(dst: np.ndarray, src: np.ndarray) -> None:
    """dst (N, rows, cols, C) <- src (C, N, rows, cols), with the longer of C and cols
    innermost (NumPy's copy into NHWC runs C innermost: 1.8x slower than W innermost for
    C = 3, 5x faster for C = 64 at 14 columns)."""
    if dst.shape[3] < dst.shape[2]:
        np.positive(src, out=dst.transpose(3, 0, 1, 2), order="C")
    else:
        dst[...] = src.transpose(1, 2, 3, 0)
