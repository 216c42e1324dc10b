"""Registry entries for the spatial family: Conv2D, MaxPool2d, AvgPool2d, the seeds'
Pool2D, AdaptiveAvgPool2d, AdaptiveMaxPool2d, GlobalAvgPool2D, Flatten. Images are NHWC;
the torch references run the stock NCHW modules through ``torch_ref.base.nhwc``.

Samples stay small (the loop paths and the finite-difference check run a Python loop per
output position) but cover the edge cases: rectangular kernels and strides, strides that do
not divide the input, 1×1 kernels, one input channel, a kernel as large as the padded
input, "same" (stride 1 and 2, odd and even kernels) and "valid" padding; for pooling, ties
(integer inputs, ReLU-like zeros, constant windows), overlapping windows, strides larger
than the kernel (cells no window covers), and negative inputs next to padding (where 0
padding instead of torch's −inf would win the max).

Every torch option has samples: conv dilation (with stride, with "same"), groups (c_out a
multiple of groups, depthwise), every padding_mode (with "same" too); pooling ceil_mode
(a window added, a window that would start in the right padding dropped, the average's
divisor clipped to the padded input), dilation, count_include_pad=False, divisor_override,
return_indices; adaptive sizes that do not divide the input or exceed it, and None. Each
layer has a zero-size batch (guard=False: every gradient is empty or exactly zero) and
samples with NaN and ±inf inputs (gradcheck=False): the harness compares the positions and
values of non-finite results exactly, so torch's NaN routing (a max window's gradient to its
last NaN, a window of real −inf cells to its first real cell) is checked there. Conv's
non-finite values sit in input channel 0 only, so that the weight gradient of the other
channels stays finite and guarded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.conv import Conv2D
from numpy_impl.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    GlobalAvgPool2D,
    MaxPool2d,
    Pool2D,
)
from numpy_impl.reshape import Flatten
from parity_tests import error_models
from parity_tests.entry import (
    Entry,
    ErrorInput,
    impl_errors,
    layer_errors,
    parametrized_layer_errors,
    zeros,
)
from parity_tests.samples import (
    VECTORIZED_ONLY,
    InputMaker,
    Sample,
    binary_windows,
    constant,
    integers,
    mixed_signs,
    near_max,
    normal,
    relu_like,
    weights_at_least_one,
    with_values,
)
from torch_ref import conv as ref_conv
from torch_ref import pooling as ref_pooling
from torch_ref import reshape as ref_reshape


# --------------------------------------------------------------------------- input makers
def nonfinite(nan: float = 0.08, posinf: float = 0.05, neginf: float = 0.05,
              channels: tuple[int, ...] | None = None) -> InputMaker:
    """N(0, 1) with these fractions of NaN, +inf and −inf at random places (only in the
    given channels, the last axis, when ``channels`` is set)."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        x = rng.standard_normal(shape)
        u = rng.random(shape)
        if channels is not None:
            outside = np.ones(shape[-1], dtype=bool)
            outside[list(channels)] = False
            u[..., outside] = 1.0
        x[u < nan] = np.nan
        x[(u >= nan) & (u < nan + posinf)] = np.inf
        x[(u >= nan + posinf) & (u < nan + posinf + neginf)] = -np.inf
        return x.astype(dtype)

    return make


def mostly_neginf(finite: float = 0.15) -> InputMaker:
    """−inf everywhere but a fraction ``finite`` of N(0, 1) cells: many windows whose real
    cells are all −inf, next to padding and in ceil-mode windows."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        x = np.where(rng.random(shape) < finite, rng.standard_normal(shape), -np.inf)
        return x.astype(dtype)

    return make


# --------------------------------------------------------------------------- conv2d
def conv(c_in: int, c_out: int, kernel: Any, **kwargs: Any) -> dict[str, Any]:
    return {"in_channels": c_in, "out_channels": c_out, "kernel_size": kernel, **kwargs}


CONV_SAMPLES = (
    Sample("b2h5w6c3o4-k2x3", (2, 5, 6, 3), conv(3, 4, (2, 3)),
           note="rectangular kernel"),
    Sample("b2h8w9c2o3-k3x2-s2x3-p1x0", (2, 8, 9, 2),
           conv(2, 3, (3, 2), stride=(2, 3), padding=(1, 0)),
           note="rectangular stride and padding; (8+2-3)/2 leaves a row no window reaches"),
    Sample("b2h8w9c2o3-k3-s3x1-p1", (2, 8, 9, 2), conv(2, 3, 3, stride=(3, 1), padding=1),
           note="a row stride larger than the column stride"),
    Sample("b2h7w7c3o2-k3-s2", (2, 7, 7, 3), conv(3, 2, 3, stride=2)),
    Sample("b3h4w4c5o2-k1", (3, 4, 4, 5), conv(5, 2, 1), note="1x1 kernel: a per-pixel Linear"),
    Sample("b3h2w5c3o4-k3-s2-p1", (3, 2, 5, 3), conv(3, 4, 3, stride=2, padding=1),
           note="more images than rows on the im2col path: the column matrix the forward "
           "keeps is N·OH·OW rows"),
    Sample("b2h6w5c1o3-k3-cin1", (2, 6, 5, 1), conv(1, 3, 3), note="one input channel"),
    Sample("b2h3w4c2o3-k5x6-p1-full", (2, 3, 4, 2), conv(2, 3, (5, 6), padding=1),
           note="kernel exactly the padded input: a 1x1 output"),
    Sample("b2h5w5c2o3-same-s1-k3", (2, 5, 5, 2), conv(2, 3, 3, padding="same")),
    Sample("b2h5w6c2o2-same-s1-k2x4", (2, 5, 6, 2), conv(2, 2, (2, 4), padding="same"),
           note="even kernel: torch pads the extra row/column at the bottom/right"),
    Sample("b2h7w6c2o3-same-s2-k3", (2, 7, 6, 2), conv(2, 3, 3, stride=2, padding="same"),
           note="torch refuses 'same' with stride 2: reference gets explicit padding 1"),
    Sample("b2h6w7c2o2-same-s2-k4", (2, 6, 7, 2), conv(2, 2, 4, stride=2, padding="same")),
    Sample("b2h6w5c3o2-valid-k3", (2, 6, 5, 3), conv(3, 2, 3, padding="valid")),
    Sample("b2h5w5c3o4-k3-p1-nobias", (2, 5, 5, 3), conv(3, 4, 3, padding=1, bias=False)),
    Sample("b2h6w6c16o8-k3-p1", (2, 6, 6, 16), conv(16, 8, 3, padding=1),
           note="K = kh·kw·c_in = 144 products per output in float32"),
    Sample("b1h1w1c2o3-k1", (1, 1, 1, 2), conv(2, 3, 1), note="a single pixel"),
    Sample("b2h7w7c2o3-k1-s3-p1", (2, 7, 7, 2), conv(2, 3, 1, stride=3, padding=1),
           note="a stride above the kernel with padding: input row 6 lies below the last "
           "window, its gradient exactly 0"),
    Sample("b2h6w6c4o8-k1-s2", (2, 6, 6, 4), conv(4, 8, 1, stride=2, bias=False),
           note="the projection shortcut; torch 2.13's oneDNN corrupts the heap in this "
           "backward, so the reference runs without oneDNN (torch_ref.base)"),
)
CONV_OPTION_SAMPLES = (
    # dilation
    Sample("b2h7w8c2o3-k3-d2", (2, 7, 8, 2), conv(2, 3, 3, dilation=2),
           note="dilated 3x3: a 5x5 span"),
    Sample("b2h7w8c2o3-k3-d2x1", (2, 7, 8, 2), conv(2, 3, 3, dilation=(2, 1)),
           note="a row dilation above the column dilation: the padded rows a band reads "
           "span dh·(kh − 1) + 1"),
    Sample("b2h6w8c2o3-k3-d1x2", (2, 6, 8, 2), conv(2, 3, 3, dilation=(1, 2)),
           note="3x3, stride 1, dilated along the width only: not a Winograd config"),
    Sample("b2h7w6c2o3-k3-s2x1-p1", (2, 7, 6, 2), conv(2, 3, 3, stride=(2, 1), padding=1),
           note="3x3 with a row stride only: not a Winograd config"),
    Sample("b2h6w7c2o3-k3-s1x2-p1", (2, 6, 7, 2), conv(2, 3, 3, stride=(1, 2), padding=1),
           note="3x3 with a column stride only: not a Winograd config"),
    Sample("b2h5w6c2o3-k3x4", (2, 5, 6, 2), conv(2, 3, (3, 4)),
           note="a 3x4 kernel at stride 1: three kernel rows are not enough for Winograd"),
    Sample("b2h9w10c2o2-k2x3-s2-p1-d2x3", (2, 9, 10, 2),
           conv(2, 2, (2, 3), stride=2, padding=1, dilation=(2, 3)),
           note="rectangular dilation with stride and padding"),
    Sample("b2h6w7c2o2-k3x2-same-d2", (2, 6, 7, 2), conv(2, 2, (3, 2), padding="same",
                                                         dilation=2),
           note="'same' with dilation: d(k-1) = 4 and 2 padded in total"),
    Sample("b2h5w6c2o2-k2-same-d3", (2, 5, 6, 2), conv(2, 2, 2, padding="same", dilation=3),
           note="'same' with an odd total d(k-1) = 3: 1 before, 2 after (torch)"),
    Sample("b2h7w7c2o2-k3-s2-same-d2", (2, 7, 7, 2), conv(2, 2, 3, stride=2, padding="same",
                                                          dilation=2),
           note="'same' with stride 2: the project's symmetric d(k-1)//2 = 2, explicit for "
           "torch"),
    # groups
    Sample("b2h5w5c4o6-k3-g2", (2, 5, 5, 4), conv(4, 6, 3, groups=2),
           note="2 groups of 2 input channels, 3 filters each"),
    Sample("b2h6w6c3o3-k3-p1-depthwise", (2, 6, 6, 3), conv(3, 3, 3, padding=1, groups=3),
           note="depthwise: groups == in_channels == out_channels"),
    Sample("b2h5w6c4o8-k3x2-p1-g4-depthwise-x2", (2, 5, 6, 4),
           conv(4, 8, (3, 2), padding=1, groups=4),
           note="depthwise with a channel multiplier of 2"),
    Sample("b2h8w8c4o4-k3-s2-d2-g2", (2, 8, 8, 4), conv(4, 4, 3, stride=2, dilation=2,
                                                        groups=2),
           note="groups with stride and dilation"),
    # padding modes
    Sample("b2h5w6c2o3-k3-p1-reflect", (2, 5, 6, 2), conv(2, 3, 3, padding=1,
                                                          padding_mode="reflect")),
    Sample("b2h3w4c2o2-k2-p2x3-reflect", (2, 3, 4, 2), conv(2, 2, 2, padding=(2, 3),
                                                            padding_mode="reflect"),
           note="the largest reflect padding torch allows: input size - 1"),
    Sample("b2h5w5c2o2-k3x2-p2x1-replicate", (2, 5, 5, 2),
           conv(2, 2, (3, 2), padding=(2, 1), padding_mode="replicate")),
    Sample("b2h4w5c2o2-k3-p2x3-circular", (2, 4, 5, 2), conv(2, 2, 3, padding=(2, 3),
                                                             padding_mode="circular"),
           note="circular padding of up to 3 of 5 columns: cells copied into several "
           "places accumulate their gradient"),
    Sample("b2h4w3c2o2-k3-p4x3-circular-full-wrap", (2, 4, 3, 2),
           conv(2, 2, 3, padding=(4, 3), padding_mode="circular"),
           note="circular padding equal to the input size (torch's limit)"),
    Sample("b2h5w6c2o2-k4x3-same-reflect", (2, 5, 6, 2), conv(2, 2, (4, 3), padding="same",
                                                              padding_mode="reflect"),
           note="'same' with reflect and an even kernel: 1 row reflected on top, 2 below"),
    Sample("b2h6w7c4o4-k3-s2-p1-g2-circular", (2, 6, 7, 4),
           conv(4, 4, 3, stride=2, padding=1, groups=2, padding_mode="circular")),
    Sample("b2h5w5c3o2-k3-bias-torch-default", (2, 5, 5, 3),
           conv(3, 2, 3, bias_init="torch_default"), note="bias drawn like torch's"),
    # zero-size batch, non-finite input
    Sample("b0h5w5c3o4-k3-p1-empty", (0, 5, 5, 3), conv(3, 4, 3, padding=1), guard=False,
           note="a zero-size batch: every gradient is exactly zero or empty"),
    Sample("nonfinite-b2h6w6c3o2-k3-p1", (2, 6, 6, 3), conv(3, 2, 3, padding=1),
           make_input=nonfinite(0.06, 0.04, 0.04, channels=(0,)), gradcheck=False,
           note="NaN and ±inf in channel 0: ±inf or NaN outputs where torch has them"),
    Sample("nonfinite-b2h5w5c4o4-k3-p1-g2-reflect", (2, 5, 5, 4),
           conv(4, 4, 3, padding=1, groups=2, padding_mode="reflect"),
           make_input=nonfinite(0.06, 0.04, 0.04, channels=(0,)), gradcheck=False,
           note="non-finite cells copied by reflect padding, one group affected"),
    Sample("nonfinite-dy-b2h5w7c3o4-k3-p1-winograd", (2, 5, 7, 3), conv(3, 4, 3, padding=1),
           make_upstream=nonfinite(0.03, 0.03, 0.03, channels=(0,)), gradcheck=False,
           note="NaN and ±inf in dy (output channel 0): Winograd would smear them over "
           "whole tiles, so its backward falls back to direct sums (torch's positions of "
           "NaN and inf); H != W so the unpacking of the padded dx is checked per axis"),
    Sample("huge-b2h5w5c3o2-k3-p1", (2, 5, 5, 3), conv(3, 2, 3, padding=1),
           make_input=near_max(((0, 2, 2, 0), (0, 2, 2, 1))),
           make_upstream=with_values({(0, 2, 2, 0): 2.0}), setup=weights_at_least_one,
           gradcheck=False,
           note="finite input whose window sums overflow: y is +inf wherever a window holds "
           "pixel (2, 2), dW too (0.75·max·2), as torch, with no NumPy overflow warning "
           "(Winograd's non-finite y sends it to im2col)"),
    Sample("huge-pair-b2h5w5c3o2-k3-p1", (2, 5, 5, 3), conv(3, 2, 3, padding=1),
           make_input=near_max(((0, 2, 2, 0), (0, 2, 3, 0))),
           make_upstream=with_values({(0, 2, 2, 0): 1.0, (0, 2, 3, 0): 1.0}, constant(0.0)),
           setup=weights_at_least_one, gradcheck=False,
           note="two neighbouring inputs at 0.75·max, dy 1 at two neighbouring outputs "
           "(0 elsewhere): dW[1, 1, 0, 0] = 1.5·max = +inf as a sum of two finite "
           "per-position terms (the loop backward's accumulation overflows), as torch, "
           "with no NumPy overflow warning"),
    Sample("nonfinite-dy-b2h7w7c3o4-k3-s2-p1-im2col", (2, 7, 7, 3),
           conv(3, 4, 3, stride=2, padding=1),
           make_upstream=nonfinite(0.05, 0.05, 0.05, channels=(0,)),
           gradcheck=False, note="NaN and ±inf in dy on the im2col path"),
)

#: The vectorized path's kernels and their size thresholds (numpy_impl.conv): Winograd
#: F(2x2, 3x3) for 3x3 stride 1 (partial tiles, tiny images, every padding mode) and its
#: bands and image groups; chunked im2col's bands of whole images and of output rows.
CONV_KERNEL_SAMPLES = (
    Sample("b2h1w2c3o4-k3-p1", (2, 1, 2, 3), conv(3, 4, 3, padding=1),
           note="Winograd on a 1x2 image: one tile, half of it past the output"),
    Sample("b3h2w1c2o3-k3-p1-replicate", (3, 2, 1, 2),
           conv(2, 3, 3, padding=1, padding_mode="replicate"),
           note="Winograd on a 2x1 image, replicate padding made first"),
    Sample("b2h4w7c3o2-k3-p1x2-circular", (2, 4, 7, 3),
           conv(3, 2, 3, padding=(1, 2), padding_mode="circular"),
           note="Winograd with circular padding; 4x9 output: a partial last tile column"),
    Sample("b2h3w3c2o2-k3-valid", (2, 3, 3, 2), conv(2, 2, 3, padding="valid"),
           note="Winograd with a 1x1 output: one tile, three quarters dropped"),
    Sample("b2h7w9c2o3-k3-p2", (2, 7, 9, 2), conv(2, 3, 3, padding=2),
           note="Winograd with padding 2: 9x11 output, partial tiles on both axes"),
    Sample("b2h5w3c2o3-k3-s2-p2", (2, 5, 3, 2), conv(2, 3, 3, stride=2, padding=2),
           note="im2col with zero padding wider than half the input (p < W < 2p): the "
           "right padding columns of each band's buffer are zeroed, not left from before"),
    Sample("b8h32w32c16o32-k3-p1-winograd-bands", (8, 32, 32, 16), conv(16, 32, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="2048 tiles, 1024 a band for 16→32 (each GEMM 1024·16·32 = WINOGRAD_WORK "
           "multiply-adds): two Winograd bands, the dx row pair carried from one band into "
           "the next"),
    Sample("b4h48w32c32o16-k3-p1-winograd-bands-du-by-z", (4, 48, 32, 32),
           conv(32, 16, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="1536 tiles, 1024 a band for 32→16 (16 + 8 tile rows): more input than "
           "output channels, so dU' is summed over the bands as (Z'ᵀ V)ᵀ, not Vᵀ Z'"),
    Sample("b2h8w8c16o32-k3-p1-winograd", (2, 8, 8, 16), conv(16, 32, 3, padding=1),
           note="32 tiles of 16→32: one band under the work rule"),
    Sample("b6h16w16c64o64-k3-p1-winograd-bands-by-elements", (6, 16, 16, 64),
           conv(64, 64, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="384 tiles, 192 a band for 64→64 (16·192·128 V and M elements = "
           "WINOGRAD_BAND): two bands of 6 images' tile rows"),
    Sample("b7h2w64c64o64-k3-p1-winograd-groups-by-elements", (7, 2, 64, 64),
           conv(64, 64, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="32 tiles per tile row, 192 a band for 64→64 (elements rule): images in "
           "groups of six (6 + 1), one tile row a band"),
    Sample("b1h8w8c64o64-k3-p1-winograd", (1, 8, 8, 64), conv(64, 64, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="16 tiles of 64→64: one band under the elements rule"),
    Sample("b4h64w64c8o16-k3-p1-winograd-bands-capped", (4, 64, 64, 8),
           conv(8, 16, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="4096 tiles, 2048 a band for 8→16: the work rule would take 4096, the cap "
           "WINOGRAD_BAND_MAX (16·2048·24 V and M elements) halves it: two bands"),
    Sample("b2h1w2048c16o32-k3-p1-winograd-groups", (2, 1, 2048, 16),
           conv(16, 32, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="1024 tiles per tile row, a whole band: each image is its own group (its own "
           "padded copy)"),
    Sample("b3h1w1024c16o32-k3-p1-winograd-groups-of-2", (3, 1, 1024, 16),
           conv(16, 32, 3, padding=1),
           impls=VECTORIZED_ONLY,
           note="512 tiles per tile row, 1024 per band: images in groups of two (2 + 1), "
           "each group with its own padded copy"),
    Sample("nonfinite-dy-b3h1w2048c16o32-k3-p1-winograd-groups", (3, 1, 2048, 16),
           conv(16, 32, 3, padding=1),
           make_upstream=with_values({(0, 0, 5, 0): np.inf, (1, 0, 1700, 0): -np.inf,
                                      (2, 0, 300, 0): np.nan}),
           gradcheck=False,
           impls=VECTORIZED_ONLY,
           note="inf, −inf and NaN in dy (one per image, output channel 0) with three "
           "one-image groups: the im2col fallback unpacks x from the three padded copies "
           "(each group's images in their place)"),
    Sample("b1h1w2048c16o32-k3-p2-winograd-padding-bands", (1, 1, 2048, 16),
           conv(16, 32, 3, padding=2),
           impls=VECTORIZED_ONLY,
           note="one tile row per band and padding 2 above one input row: the first band "
           "and the last row pair lie wholly in the padding (nothing to crop into dx)"),
    Sample("b2h5w1c3o4-k3-p1", (2, 5, 1, 3), conv(3, 4, 3, padding=1),
           note="Winograd on a 1-wide image: the odd padded columns hold no input column"),
    Sample("b5h28w28c16o8-k3-p1-g2-im2col-bands", (5, 28, 28, 16),
           conv(16, 8, 3, padding=1, groups=2),
           impls=VECTORIZED_ONLY,
           note="im2col, 116K column elements per image, 580K in all (not kept whole: "
           "IM2COL_KEEP = 512K): bands of whole images (IM2COL_CHUNK = 128K), five of them"),
    Sample("b19h14w14c16o8-k3-p1-g2-im2col-phase-bands", (19, 14, 14, 16),
           conv(16, 8, 3, padding=1, groups=2),
           impls=VECTORIZED_ONLY,
           note="im2col, 29K column elements per image, 551K in all: bands of four whole "
           "images and a last of three, each overlap-added by phase (the phase grid's "
           "buffer reused, partly, by the last band)"),
    Sample("b74h32w32c3o8-k3-s2-p1-im2col-phase-bands", (74, 32, 32, 3),
           conv(3, 8, 3, stride=2, padding=1),
           impls=VECTORIZED_ONLY,
           note="the benchmark's stride-2 layer with 74 images (530K column elements, not "
           "kept whole): bands of 18 whole images and a last of two, by phase"),
    Sample("b2h28w28c16o4-k5-p2-im2col-rows", (2, 28, 28, 16), conv(16, 4, 5, padding=2),
           impls=VECTORIZED_ONLY,
           note="im2col, 315K column elements per image: bands of 11 output rows, 4 input "
           "rows shared by consecutive bands"),
    Sample("b2h6w8c2o2-k2-s2-p1-d3", (2, 6, 8, 2),
           conv(2, 2, 2, stride=2, padding=1, dilation=3),
           note="im2col by phase where a phase's first kernel offset lands past its first "
           "cell: padded row and column 1 (x's first) are in no window, their dx is 0"),
    Sample("b2h1w5c2o3-k1-s2", (2, 1, 5, 2), conv(2, 3, 1, stride=2),
           note="im2col by phase with a phase that holds no input row (one row, stride 2) "
           "and three phases no kernel offset reaches (their dx is 0)"),
    Sample("b2h3w1c2o2-k2-same", (2, 3, 1, 2), conv(2, 2, 2, padding="same"),
           note="im2col by phase on a 1-wide image: the second column offset lands wholly "
           "in the right padding (a shift of OW), every value of it wraps and is zeroed"),
    Sample("b2h1w1c2o2-k3-p5-d5", (2, 1, 1, 2), conv(2, 2, 3, padding=5, dilation=5),
           note="im2col by phase where the outer kernel offsets reach padding only: their "
           "adds are skipped, row by row and column by column"),
    Sample("b2h7w6c2o2-k3-s2-p2x1-d2x1", (2, 7, 6, 2),
           conv(2, 2, 3, stride=2, padding=(2, 1), dilation=(2, 1)),
           note="im2col by phase with a dilation per axis: every row offset lands on row "
           "phase 0 (2i mod 2), the column offsets on phases 0, 1, 0"),
    Sample("b2h5w10c2o2-k3x5-s1x3-p1", (2, 5, 10, 2),
           conv(2, 2, (3, 5), stride=(1, 3), padding=1),
           note="a column phase with more input columns than OW (4 against 3): col2im by "
           "column phase (not the phase grid), cropped with stride 3 and left padding 1"),
    Sample("b4h30w30c3o64-k3-s2-p1-dcols-chunks", (4, 30, 30, 3),
           conv(3, 64, 3, stride=2, padding=1),
           note="the first layer of an RGB network: Kp = 28 columns and 64 outputs, so dcols "
           "goes by (P, 32) chunks of 384 rows, each transposed (900 positions: 384 + 384 + "
           "132)"),
    Sample("b2h6w6c3o64-k3-s2-p1", (2, 6, 6, 3), conv(3, 64, 3, stride=2, padding=1),
           note="dcols by chunks, one chunk of 18 rows"),
    Sample("b3h60w60c32o4-k3-s2-p1-im2col-rows", (3, 60, 60, 32),
           conv(32, 4, 3, stride=2, padding=1),
           impls=VECTORIZED_ONLY,
           note="im2col with stride 2 in bands of 15 output rows: one shared input row "
           "(three images, so that the 783K column elements are not kept whole)"),
    Sample("b3h40w40c32o4-k3-s2x1-p1-im2col-rows", (3, 40, 40, 32),
           conv(32, 4, 3, stride=(2, 1), padding=1),
           impls=VECTORIZED_ONLY,
           note="im2col bands of 11 output rows with a row stride above the column stride: "
           "the second band starts at padded row 11·sh (three images: 696K columns)"),
    Sample("b2h1w1024c32o4-k3-s2-p3-im2col-padding-rows", (2, 1, 1024, 32),
           conv(32, 4, 3, stride=2, padding=3),
           impls=VECTORIZED_ONLY,
           note="im2col in bands of one output row (148K column elements a row), padding 3: "
           "the first and last bands read padding only (two images: 894K columns)"),
    Sample("b2h5w1024c32o4-k3-s2-im2col-rows", (2, 5, 1024, 32), conv(32, 4, 3, stride=2),
           impls=VECTORIZED_ONLY,
           note="im2col bands of one output row, no padding: the input row two bands share "
           "is an input row (its gradient carried into the next band), and the carry starts "
           "again at 0 for the second image"),
    Sample("b1h3w1024c32o4-k3-s2-p3-im2col-padding-rows", (1, 3, 1024, 32),
           conv(32, 4, 3, stride=2, padding=3),
           impls=VECTORIZED_ONLY,
           note="as the H = 1 sample, with three input rows: the last band reads bottom "
           "padding only, right after a band whose first row is an input row (its buffer "
           "rows must be zeroed again)"),
)


IMAGES = zeros(2, 5, 5, 3)


def _refused(name: str, message: str, error: type[Exception] = ValueError,
                **kwargs: Any) -> ErrorInput:
    """A constructor argument that must be refused."""
    return ErrorInput(name, "construct", error, message, kwargs=kwargs)


def _too_large(name: str, kernel: Any, x: np.ndarray, message: str, **kwargs: Any
               ) -> ErrorInput:
    """A kernel that does not fit in the padded input: refused at forward."""
    return ErrorInput(name, "forward", ValueError, message,
                      kwargs={"kernel_size": kernel, **kwargs}, args=(x,))


def window_errors() -> tuple[ErrorInput, ...]:
    """Bad images and window geometry, for every layer with kh × kw windows (conv, pool)."""
    return (
        ErrorInput("x-3d", "forward", ValueError,
                   r"x must have 4 dimensions \(batch, height, width, channels\)",
                   args=(zeros(5, 5, 3),)),
        ErrorInput("empty-spatial", "forward", ValueError, r"x must have height and width >= 1",
                   kwargs={"kernel_size": 1}, args=(zeros(2, 0, 5, 3),)),
        ErrorInput("empty-width", "forward", ValueError, r"x must have height and width >= 1",
                   kwargs={"kernel_size": 1}, args=(zeros(2, 5, 0, 3),)),
        _too_large("kernel-larger-than-input", (2, 6), zeros(2, 5, 5, 3),
                   r"kernel_size \(2, 6\) is larger than the padded input \(5, 5\)"),
        _too_large("kernel-larger-than-padded-input", (8, 2), zeros(2, 5, 4, 3),
                   r"kernel_size \(8, 2\) is larger than the padded input \(7, 6\) \(x "
                   r"height, width \(5, 4\) plus padding top/bottom \(1, 1\), left/right "
                   r"\(1, 1\)\)", padding=1),
        _refused("stride-zero", r"stride must be >= 1, got 0", stride=0),
        _refused("stride-negative", r"stride\[1\] must be >= 1, got -2", stride=(1, -2)),
        _refused("padding-negative", r"padding must be >= 0, got -1", padding=-1),
        _refused("padding-negative-pair", r"padding\[1\] must be >= 0, got -1",
                    padding=(0, -1)),
        _refused("kernel-zero", r"kernel_size must be >= 1, got 0", kernel_size=0),
        _refused("kernel-float", r"kernel_size must be an int or a pair of ints .*got float",
                    TypeError, kernel_size=2.0),
    )


CONV_ERRORS = parametrized_layer_errors(IMAGES) + window_errors() + impl_errors() + (
    ErrorInput("x-5d", "forward", ValueError, r"x must have 4 dimensions .* got 5",
               args=(zeros(1, 2, 5, 5, 3),)),
    ErrorInput("channel-mismatch", "forward", ValueError,
               r"x has 4 channels on axis 3 .*expected in_channels=3", args=(zeros(2, 5, 5, 4),)),
    ErrorInput("nchw-input", "forward", ValueError,
               r"x has 5 channels on axis 3 .*expected in_channels=3; images are .*NHWC",
               args=(zeros(2, 3, 5, 5),)),
    _refused("stride-float",
                r"stride must be an int or a pair of ints \(height, width\), got float",
                TypeError, stride=1.5),
    _refused("padding-unknown-string",
                r"padding must be an int, a pair of ints, 'same' or 'valid', got 'full'",
                padding="full"),
    _refused("padding-float", r"padding must be an int or a pair of ints .*got float",
                TypeError, padding=0.5),
    _refused("kernel-float-in-pair", r"kernel_size\[1\] must be an int, got float",
                TypeError, kernel_size=(3, 2.5)),
    _refused("kernel-three-values",
                r"kernel_size must be an int or a pair of ints \(height, width\), got 3 values",
                kernel_size=(3, 3, 3)),
    _refused("kernel-bool", r"kernel_size must be an int or a pair of ints .*got bool",
                TypeError, kernel_size=True),
    _refused("in-channels-zero", r"in_channels must be >= 1, got 0", in_channels=0),
    _refused("out-channels-float", r"out_channels must be an int, got float", TypeError,
                out_channels=4.0),
    _refused("init-unknown", r"weight_init must be one of .*'xavier_uniform'.*got 'glorot'",
                weight_init="glorot"),
    _refused("groups-not-dividing-in-channels",
             r"in_channels=3 must be divisible by groups=2", groups=2),
    _refused("groups-not-dividing-out-channels",
             r"out_channels=4 must be divisible by groups=3", in_channels=6, groups=3),
    _refused("groups-zero", r"groups must be >= 1, got 0", groups=0),
    _refused("groups-float", r"groups must be an int, got float", TypeError, groups=1.0),
    _refused("dilation-zero", r"dilation must be >= 1, got 0", dilation=0),
    _refused("dilation-negative-pair", r"dilation\[1\] must be >= 1, got -1",
             dilation=(1, -1)),
    _refused("padding-mode-unknown",
             r"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
             r"got 'mirror'", padding_mode="mirror"),
    _refused("bias-tuple", r"bias must be a bool, got tuple", TypeError, bias=(2, 3)),
    _refused("bias-init-unknown", r"bias_init must be one of 'zeros', 'torch_default'",
             bias_init="uniform"),
    ErrorInput("reflect-padding-too-large", "forward", ValueError,
               r"padding \(5, 5\) on the height axis must be smaller than the input height 5 "
               r"for padding_mode='reflect'", kwargs={"padding": 5, "padding_mode": "reflect"}),
    ErrorInput("circular-padding-too-large", "forward", ValueError,
               r"padding \(6, 6\) on the width axis must be at most the input width 5 for "
               r"padding_mode='circular'",
               kwargs={"padding": (0, 6), "padding_mode": "circular"}),
    _too_large("dilated-kernel-larger-than-input", 3, IMAGES,
               r"kernel_size \(3, 3\) with dilation \(3, 3\) spans \(7, 7\) and is larger "
               r"than the padded input \(5, 5\)", dilation=3),
    _too_large("dilated-kernel-taller-than-input", (3, 2), IMAGES,
               r"kernel_size \(3, 2\) with dilation \(3, 1\) spans \(7, 2\) and is larger "
               r"than the padded input \(5, 5\)", dilation=(3, 1)),
)

CONV = Entry(
    name="conv2d",
    layer=Conv2D,
    reference=ref_conv.conv2d,
    samples=CONV_SAMPLES + CONV_OPTION_SAMPLES + CONV_KERNEL_SAMPLES,
    errors=CONV_ERRORS,
    error_kwargs={"in_channels": 3, "out_channels": 4, "kernel_size": 3},
    error_args=(IMAGES,),
    error_model=error_models.multilinear,
    description="2-D cross-correlation, NHWC, weight (kh, kw, c_in/groups, c_out); dilation, "
    "groups, padding modes; loop, and Winograd or chunked im2col",
)


# --------------------------------------------------------------------------- pooling
def pool(kernel: Any, stride: Any = None, padding: Any = 0, **kwargs: Any) -> dict[str, Any]:
    return {"kernel_size": kernel, "stride": stride, "padding": padding, **kwargs}


POOL_SAMPLES = (
    Sample("b2h6w6c3-k2", (2, 6, 6, 3), pool(2), note="stride defaults to the kernel"),
    Sample("b2h8w9c2-k3s2", (2, 8, 9, 2), pool(3, 2),
           note="overlapping windows; (8-3)/2 leaves a row no window reaches"),
    Sample("b2h5w5c2-k3s1", (2, 5, 5, 2), pool(3, 1), note="heavily overlapping windows"),
    Sample("b2h6w7c2-k2x3-s1x2", (2, 6, 7, 2), pool((2, 3), (1, 2))),
    Sample("b2h7w7c2-k2s3", (2, 7, 7, 2), pool(2, 3),
           note="stride > kernel: cells no window covers get a zero gradient"),
    Sample("b2h4w4c3-k1", (2, 4, 4, 3), pool(1, 1), note="1x1 windows: the identity"),
    Sample("b2h5w6c2-k1s2", (2, 5, 6, 2), pool(1, 2),
           note="1x1 windows with stride 2: subsampling, one offset per axis whose input "
           "cells step by 2 while its outputs do not"),
    Sample("neg-b2h6w6c2-k3s2-p1", (2, 6, 6, 2), pool(3, 2, 1), make_input=normal(shift=-5.0),
           note="all inputs near -5 next to padding: 0 padding would win the max"),
    Sample("neg-b2h5w6c2-k2x3-s1-p1x0", (2, 5, 6, 2), pool((2, 3), 1, (1, 0)),
           make_input=normal(shift=-5.0), note="padding on one axis only"),
    Sample("b2h3w2c2-k5x6-p1x2-full", (2, 3, 2, 2), pool((5, 6), 1, (1, 2)),
           note="kernel exactly the padded input (3+2, 2+4): a 1x1 output"),
    Sample("b2h5w7c2-k2s3-p1", (2, 5, 7, 2), pool(2, 3, 1), make_input=normal(shift=5.0),
           note="stride > kernel next to padding: disjoint windows, the first clipped to one "
           "cell, that leave cells 1 and 4 uncovered (zero gradient) without tiling the input "
           "(inputs near +5: what is checked is the geometry, not the padding's value)"),
)
TIE_SAMPLES = (
    Sample("ties-int-b2h6w6c3-k2", (2, 6, 6, 3), pool(2), make_input=integers(0, 3),
           gradcheck=False, note="integer inputs: ties inside non-overlapping windows"),
    Sample("ties-int-b2h6w7c2-k3s1", (2, 6, 7, 2), pool(3, 1), make_input=integers(0, 3),
           gradcheck=False, note="ties with overlapping windows"),
    Sample("ties-int-b2h6w7c2-k2-s2x1", (2, 6, 7, 2), pool(2, (2, 1)), make_input=integers(0, 3),
           gradcheck=False, note="ties in 2x2 windows disjoint along the rows, overlapping "
           "along the columns"),
    Sample("ties-patterns-b2h8w8c2-k2", (2, 8, 8, 2), pool(2), make_input=binary_windows((2, 2)),
           gradcheck=False, note="each plane's 16 windows hold the 16 patterns of 0s and 1s: "
           "every tie between the two columns of a window (the rows-first 2x2 path)"),
    Sample("ties-patterns-b2h9w9c2-k2-s1x2", (2, 9, 9, 2), pool(2, (1, 2)),
           make_input=binary_windows((2, 2)), gradcheck=False,
           note="the rows-first 2x2 path with overlapping rows and an odd width (its last "
           "column in no window, gradient 0)"),
    Sample("ties-relu-b2h6w6c3-k3s2-p1", (2, 6, 6, 3), pool(3, 2, 1), make_input=relu_like(),
           gradcheck=False, note="ReLU-like zeros next to padding"),
    Sample("ties-constant-b2h5w5c2-k3s1-p1", (2, 5, 5, 2), pool(3, 1, 1),
           make_input=constant(-1.0), gradcheck=False,
           note="every window one big tie of negative values next to padding"),
)


#: Both sliding-window pools: ceil mode, a zero-size batch, non-finite input.
SHARED_POOL_SAMPLES = (
    Sample("b2h6w8c2-k3-s2-ceil", (2, 6, 8, 2), pool(3, 2, ceil_mode=True),
           note="ceil mode adds a window past the input on both axes (6: 3 not 2; 8: 4 not 3)"),
    Sample("b2h5w5c2-k2-s2-p1-ceil-drops", (2, 5, 5, 2), pool(2, 2, 1, ceil_mode=True),
           note="ceil mode would add a window starting in the right padding: torch drops "
           "it (3 windows, not 4)"),
    Sample("b2h6w6c2-k3-s2-p1-ceil", (2, 6, 6, 2), pool(3, 2, 1, ceil_mode=True),
           note="the added window covers a real row, a padded row and one past the padding"),
    Sample("b2h2w5c2-k5-s2-p2", (2, 2, 5, 2), pool(5, 2, 2),
           note="the one window on the height axis spans rows −2 .. 2: kernel offset 0 has "
           "no output, yet its cell slice for zero outputs, slice(0, −1, 2), would pick row "
           "0; such offsets are left out"),
    Sample("b0h6w6c3-k2-empty", (0, 6, 6, 3), pool(2), guard=False,
           note="a zero-size batch: the gradient is empty"),
    Sample("nonfinite-b2h6w6c3-k2", (2, 6, 6, 3), pool(2), make_input=nonfinite(0.2),
           gradcheck=False, note="NaN and ±inf, windows that tile the input; many windows "
           "hold two NaNs"),
    Sample("nonfinite-b2h7w6c2-k3-s2-p1-ceil", (2, 7, 6, 2), pool(3, 2, 1, ceil_mode=True),
           make_input=nonfinite(), gradcheck=False,
           note="NaN and ±inf, overlapping windows, padding and ceil mode"),
    Sample("nonfinite-b2h6w5c2-k2x1", (2, 6, 5, 2), pool((2, 1)), make_input=nonfinite(0.2),
           gradcheck=False, note="NaN and ±inf with a kernel one column wide"),
    Sample("nonfinite-dy-b2h6w6c2-k2", (2, 6, 6, 2), pool(2), make_input=normal(shift=5.0),
           make_upstream=nonfinite(0.05, 0.05, 0.05), gradcheck=False,
           note="NaN and ±inf in dy, windows that tile the input (two offsets per axis)"),
    Sample("nonfinite-dy-b2h6w6c2-k3-s1-p1", (2, 6, 6, 2), pool(3, 1, 1),
           make_input=normal(shift=5.0), make_upstream=nonfinite(0.05, 0.05, 0.05),
           gradcheck=False, note="NaN and ±inf in dy: each reaches only the cells its window "
           "picked (max) or every cell of its window (average)"),
    Sample("nonfinite-dy-b2h6w5c2-k2x1", (2, 6, 5, 2), pool((2, 1)),
           make_input=normal(shift=5.0), make_upstream=nonfinite(0.05, 0.05, 0.05),
           gradcheck=False, note="NaN and ±inf in dy with a kernel one column wide: the "
           "column stage has a single offset"),
)
MAX_SAMPLES = (
    Sample("b2h7w8c2-k3-s1-d2", (2, 7, 8, 2), pool(3, 1, dilation=2),
           note="dilation with overlapping windows: the separable path"),
    Sample("nan-one-window-b1h2w2c1-k2", (1, 2, 2, 1), pool(2, 2),
           make_input=with_values({(0, 0, 1, 0): np.nan}), make_upstream=mixed_signs(),
           gradcheck=False,
           note="one output, NaN: the NaN test of a single-element y (torch: y NaN, the "
           "gradient to the NaN cell: dy itself, so |dy| in (0.25, 2))"),
    Sample("b2h7w9c3-k2-s2-odd", (2, 7, 9, 3), pool(2, 2),
           note="2x2 stride 2 on odd H and W, rows first: the windows do not tile x (its "
           "last row and column belong to no window, their gradient is 0)"),
    Sample("opposite-inf-dy-b1h3w4c2-k2-s1x2", (1, 3, 4, 2), pool(2, (1, 2)),
           make_input=with_values({(0, 1, 0, 0): 10.0}),
           make_upstream=with_values({(0, 0, 0, 0): np.inf, (0, 1, 0, 0): -np.inf}),
           gradcheck=False, note="x[1, 0, 0] is the maximum of both overlapping windows, whose "
           "dy are +inf and −inf: the rows-first backward adds them into NaN, as torch, "
           "without a NumPy warning"),
    Sample("nonfinite-dy-b2h7w9c2-k2-s1x2", (2, 7, 9, 2), pool(2, (1, 2)),
           make_input=normal(shift=5.0), make_upstream=nonfinite(0.05, 0.05, 0.05),
           gradcheck=False, note="NaN and ±inf in dy on the rows-first 2x2 path with "
           "overlapping rows and an odd width: selected exactly, then accumulated"),
    Sample("b2h8w8c2-k2-s2-d2", (2, 8, 8, 2), pool(2, 2, dilation=2),
           note="dilation 2 with stride = kernel: windows overlap through their span"),
    Sample("neg-b2h7w9c2-k3x2-s2x1-p1-d2x3", (2, 7, 9, 2),
           pool((3, 2), (2, 1), 1, dilation=(2, 3)), make_input=normal(shift=-5.0),
           note="rectangular dilation next to padding, negative inputs"),
    Sample("b2h7w7c2-k2-s2-d2-ceil", (2, 7, 7, 2), pool(2, 2, dilation=2, ceil_mode=True),
           note="dilation and ceil mode"),
    Sample("b2h7w8c2-k3-s1-p1-d2", (2, 7, 8, 2), pool(3, 1, 1, dilation=2),
           note="dilation 2 with padding 1 and overlapping windows: the offset with the most "
           "windows (the middle one) starts at cell 1, not 0"),
    Sample("nonfinite-b2h7w7c2-k2-s1-d2", (2, 7, 7, 2), pool(2, 1, dilation=2),
           make_input=nonfinite(0.15), gradcheck=False,
           note="a NaN window sends its gradient to its LAST NaN"),
    Sample("neginf-b2h6w6c2-k2-s2-p1", (2, 6, 6, 2), pool(2, 2, 1),
           make_input=mostly_neginf(), gradcheck=False,
           note="windows of real -inf cells next to padding: the gradient goes to the first "
           "real cell, not into the padding"),
    Sample("neginf-b2h7w6c2-k3-s2-p1-ceil", (2, 7, 6, 2), pool(3, 2, 1, ceil_mode=True),
           make_input=mostly_neginf(), gradcheck=False,
           note="-inf windows in the separable path and in ceil windows"),
    Sample("b2h2w260c2-k1x257-s1-wide-labels", (2, 2, 260, 2), pool((1, 257), 1),
           note="257 column offsets: 2-byte labels (MaxPool2d.WIDE_LABELS)"),
    Sample("nonfinite-b2h2w260c2-k1x257-s1-wide-labels", (2, 2, 260, 2), pool((1, 257), 1),
           make_input=nonfinite(), gradcheck=False,
           note="NaN windows relabelled to their last NaN with 2-byte labels (positions "
           "past 255)"),
)
#: return_indices samples: (y, indices) forwards; the forward check compares the indices
#: (``output[1]``, int64 like torch's) exactly, the gradients flow through y.
MAX_INDEX_SAMPLES = (
    Sample("b2h6w6c3-k2-indices", (2, 6, 6, 3), pool(2, return_indices=True),
           note="return_indices: (y, torch's flat h*W + w indices)"),
    Sample("b2h6w8c2-k2-indices", (2, 6, 8, 2), pool(2, return_indices=True),
           note="indices of a 3x4 output (OH != OW)"),
    Sample("b2h7w7c2-k3-s2-p1-d2-ceil-indices", (2, 7, 7, 2),
           pool(3, 2, 1, dilation=2, ceil_mode=True, return_indices=True),
           note="indices with padding, dilation and ceil mode (the separable path)"),
    Sample("nonfinite-b2h7w7c2-k2-s1-d2-indices", (2, 7, 7, 2),
           pool(2, 1, dilation=2, return_indices=True), make_input=nonfinite(0.15),
           gradcheck=False, note="a NaN window's index is its LAST NaN"),
    Sample("neginf-b2h7w6c2-k3-s2-p1-ceil-indices", (2, 7, 6, 2),
           pool(3, 2, 1, ceil_mode=True, return_indices=True), make_input=mostly_neginf(),
           gradcheck=False, note="-inf windows: the index of the first real cell"),
)
AVG_SAMPLES = (
    Sample("int-b2h6w7c2-k3s1-p1", (2, 6, 7, 2), pool(3, 1, 1), make_input=integers(-3, 3),
           note="integer inputs, padding counted"),
    Sample("b2h5w6c2-k3-s1-p1-exclude-pad", (2, 5, 6, 2),
           pool(3, 1, 1, count_include_pad=False), note="divide by the real cells only"),
    Sample("b2h6w6c2-k3-s2-p1-ceil-exclude-pad", (2, 6, 6, 2),
           pool(3, 2, 1, ceil_mode=True, count_include_pad=False)),
    Sample("b2h7w6c2-k2x3-s2-p1-ceil-include-pad", (2, 7, 6, 2),
           pool((2, 3), 2, 1, ceil_mode=True),
           note="ceil window clipped to the padded input: the divisor is not kh*kw"),
    Sample("b2h6w6c2-k3-s2-p1-divisor5", (2, 6, 6, 2), pool(3, 2, 1, divisor_override=5)),
    Sample("b2h6w5c2-k2-ceil-divisor-neg3", (2, 6, 5, 2),
           pool(2, ceil_mode=True, divisor_override=-3),
           note="torch accepts any non-zero divisor, negative ones too"),
    Sample("b1h1w1c3-k1000-p500-divisor1-huge-kernel", (1, 1, 1, 3),
           pool(1000, None, 500, divisor_override=1),
           note="a 1000x1000 window on a 1x1 image (divisor 1 keeps the gradient guarded)"),
)
POOL_IMAGES = zeros(2, 4, 4, 3)
POOL_ERRORS = layer_errors(POOL_IMAGES) + window_errors() + impl_errors() + (
    _refused("padding-over-half-kernel",
                r"padding \(2, 2\) must be at most half the kernel_size \(3, 3\)",
                kernel_size=3, padding=2),
    _refused("padding-over-half-kernel-width",
                r"padding \(2, 2\) must be at most half the kernel_size \(4, 3\)",
                kernel_size=(4, 3), padding=(2, 2)),
    _refused("padding-string", r"padding must be an int or a pair of ints .*got str",
                TypeError, padding="same"),
)
CEIL_ERRORS = (
    _refused("ceil-mode-int", r"ceil_mode must be a bool, got int", TypeError, ceil_mode=1),
)
MAX_ERRORS = CEIL_ERRORS + (
    _refused("dilation-zero", r"dilation must be >= 1, got 0", dilation=0),
    _refused("dilation-negative-pair", r"dilation\[0\] must be >= 1, got -2",
             dilation=(-2, 1)),
    _refused("return-indices-string", r"return_indices must be a bool, got str", TypeError,
             return_indices="yes"),
    _refused("padding-over-half-kernel-dilated",
             r"padding \(2, 2\) must be at most half the kernel_size \(3, 3\)",
             kernel_size=3, padding=2, dilation=2),
    ErrorInput("dilated-kernel-larger-than-input", "forward", ValueError,
               r"kernel_size \(3, 3\) with dilation \(3, 3\) spans \(7, 7\) and is larger "
               r"than the padded input \(4, 4\)", kwargs={"kernel_size": 3, "dilation": 3}),
    ErrorInput("dilated-kernel-taller-than-input", "forward", ValueError,
               r"kernel_size \(3, 2\) with dilation \(2, 1\) spans \(5, 2\) and is larger "
               r"than the padded input \(4, 4\)",
               kwargs={"kernel_size": (3, 2), "dilation": (2, 1)}),
    ErrorInput("window-of-padding-only", "forward", ValueError,
               r"a window on the height axis \(size 2\) holds no input cell, only padding",
               kwargs={"kernel_size": (2, 1), "padding": (1, 0), "dilation": (3, 1)},
               args=(zeros(2, 2, 4, 3),)),
    ErrorInput("window-of-padding-only-dilation-2", "forward", ValueError,
               r"a window on the height axis \(size 1\) holds no input cell, only padding",
               kwargs={"kernel_size": (2, 1), "padding": (1, 0), "dilation": (2, 1)},
               args=(zeros(2, 1, 4, 3),)),
)
AVG_ERRORS = CEIL_ERRORS + (
    _refused("divisor-override-zero", r"divisor_override must not be 0", divisor_override=0),
    _refused("divisor-override-float", r"divisor_override must be an int or None, got float",
             TypeError, divisor_override=2.0),
    _refused("count-include-pad-none", r"count_include_pad must be a bool, got NoneType",
             TypeError, count_include_pad=None),
)


def pool_entry(name: str, layer: Any, samples: tuple[Sample, ...],
               extra_errors: tuple[ErrorInput, ...], description: str) -> Entry:
    average = layer is AvgPool2d
    return Entry(
        name=name,
        layer=layer,
        reference=ref_pooling.pool2d,
        samples=samples,
        errors=POOL_ERRORS + extra_errors,
        error_kwargs={"kernel_size": 2},
        error_args=(POOL_IMAGES,),
        error_model=error_models.multilinear if average else None,
        description=description,
    )


POOLS = (
    pool_entry("max_pool2d", MaxPool2d,
               POOL_SAMPLES + TIE_SAMPLES + SHARED_POOL_SAMPLES + MAX_SAMPLES
               + MAX_INDEX_SAMPLES, MAX_ERRORS,
               "max pooling, NHWC; -inf padding, gradient to the first maximum (a NaN "
               "window's last NaN); dilation, ceil mode"),
    pool_entry("avg_pool2d", AvgPool2d, POOL_SAMPLES + SHARED_POOL_SAMPLES + AVG_SAMPLES,
               AVG_ERRORS, "average pooling, NHWC; ceil mode, count_include_pad, "
               "divisor_override"),
)
SEED_POOL = Entry(
    name="pool2d",
    layer=Pool2D,
    reference=ref_pooling.pool2d,
    samples=(
        Sample("b2h6w6c3-k2-max", (2, 6, 6, 3), {**pool(2), "mode": "max"}),
        Sample("neg-b2h6w6c2-k3s2-p1-max", (2, 6, 6, 2), {**pool(3, 2, 1), "mode": "max"},
               make_input=normal(shift=-5.0)),
        Sample("b2h6w7c2-k3s2-p1-average", (2, 6, 7, 2),
               {**pool(3, 2, 1), "mode": "average"}),
        Sample("b1h1w1c3-k1000-p500-max-huge-kernel", (1, 1, 1, 3),
               {**pool(1000, None, 500), "mode": "max"},
               note="Pool2D(1000, padding=500) on a 1x1 image: milliseconds, not seconds"),
    ),
    errors=(
        _refused("mode-unknown", r"mode must be one of 'max', 'average', got 'min'",
                 mode="min"),
    ),
    error_kwargs={"kernel_size": 2},
    error_args=(POOL_IMAGES,),
    description="the seeds' Pool2D(kernel_size, stride, padding, mode): MaxPool2d or "
    "AvgPool2d underneath",
)


# --------------------------------------------------------------------------- adaptive
def adaptive(output_size: Any, **kwargs: Any) -> dict[str, Any]:
    return {"output_size": output_size, **kwargs}


ADAPTIVE_SAMPLES = (
    Sample("b2h6w6c3-out3", (2, 6, 6, 3), adaptive(3), note="output divides the input"),
    Sample("b2h5w7c2-out3x2", (2, 5, 7, 2), adaptive((3, 2)),
           note="sizes that do not divide: windows of 2 and 3 cells that overlap"),
    Sample("b2h4w3c2-out6x5", (2, 4, 3, 2), adaptive((6, 5)),
           note="output larger than the input: cells shared by several windows"),
    Sample("b2h5w6c3-out1", (2, 5, 6, 3), adaptive(1), note="a global pool"),
    Sample("b2h5w6c2-out1x2", (2, 5, 6, 2), adaptive((1, 2)),
           note="one output row, two columns: not the global pool"),
    Sample("b2h6w5c2-out2x1", (2, 6, 5, 2), adaptive((2, 1)),
           note="two output rows, one column: not the global pool"),
    Sample("b2h3w2c2-out6x4", (2, 3, 2, 2), adaptive((6, 4)),
           note="output twice the input: windows of one cell, every cell in two of them "
           "(the same index twice in one scatter)"),
    Sample("b2h5w6c2-outNonex4", (2, 5, 6, 2), adaptive((None, 4)),
           note="None keeps the height"),
    Sample("b2h4w5c2-outNonexNone", (2, 4, 5, 2), adaptive((None, None)),
           note="(None, None) is the identity, not a global pool"),
    Sample("b0h5w5c3-out2-empty", (0, 5, 5, 3), adaptive(2), guard=False,
           note="a zero-size batch"),
    Sample("nonfinite-b2h6w7c2-out4x3", (2, 6, 7, 2), adaptive((4, 3)),
           make_input=nonfinite(), gradcheck=False, note="NaN and ±inf inputs"),
)
ADAPTIVE_MAX_SAMPLES = (
    Sample("ties-int-b2h6w7c2-out4x3", (2, 6, 7, 2), adaptive((4, 3)),
           make_input=integers(0, 3), gradcheck=False,
           note="ties in overlapping windows: the first maximum"),
    Sample("nonfinite-b2h7w5c2-out3", (2, 7, 5, 2), adaptive(3), make_input=nonfinite(0.15),
           gradcheck=False, note="a NaN window sends its gradient to its last NaN"),
    Sample("neginf-b2h5w5c2-out3", (2, 5, 5, 2), adaptive(3), make_input=mostly_neginf(),
           gradcheck=False, note="-inf windows: the first cell"),
)
#: return_indices samples (see MAX_INDEX_SAMPLES).
ADAPTIVE_MAX_INDEX_SAMPLES = (
    Sample("b2h5w7c2-out3x2-indices", (2, 5, 7, 2), adaptive((3, 2), return_indices=True)),
    Sample("nonfinite-b2h7w5c2-out3-indices", (2, 7, 5, 2),
           adaptive(3, return_indices=True), make_input=nonfinite(0.15), gradcheck=False,
           note="a NaN window's index is its last NaN"),
)
ADAPTIVE_IMAGES = zeros(2, 5, 5, 3)
ADAPTIVE_ERRORS = layer_errors(ADAPTIVE_IMAGES) + impl_errors() + (
    _refused("output-size-negative", r"output_size must be >= 1 \(or None\), got -1",
             output_size=-1),
    _refused("output-size-zero-in-pair",
             r"output_size\[1\] must be >= 1 \(or None\), got 0; torch's forward accepts 0",
             output_size=(2, 0)),
    _refused("output-size-float", r"output_size must be an int or None, got float", TypeError,
             output_size=2.0),
    _refused("output-size-three-values", r"output_size must be an int or a pair .* got 3 "
             r"values", output_size=(2, 2, 2)),
    _refused("output-size-bool", r"output_size\[0\] must be an int or None, got bool",
             TypeError, output_size=(True, 2)),
    ErrorInput("x-3d", "forward", ValueError,
               r"x must have 4 dimensions \(batch, height, width, channels\)",
               args=(zeros(5, 5, 3),)),
)


def adaptive_entry(name: str, layer: Any, samples: tuple[Sample, ...],
                   extra_errors: tuple[ErrorInput, ...], description: str) -> Entry:
    return Entry(
        name=name,
        layer=layer,
        reference=ref_pooling.adaptive_pool2d,
        samples=samples,
        errors=ADAPTIVE_ERRORS + extra_errors,
        error_kwargs={"output_size": 2},
        error_args=(ADAPTIVE_IMAGES,),
        error_model=error_models.multilinear if layer is AdaptiveAvgPool2d else None,
        description=description,
    )


ADAPTIVE = (
    adaptive_entry("adaptive_avg_pool2d", AdaptiveAvgPool2d, ADAPTIVE_SAMPLES, (),
                   "adaptive average pooling to (OH, OW), NHWC; None keeps an axis"),
    adaptive_entry("adaptive_max_pool2d", AdaptiveMaxPool2d,
                   ADAPTIVE_SAMPLES + ADAPTIVE_MAX_SAMPLES + ADAPTIVE_MAX_INDEX_SAMPLES,
                   (_refused("return-indices-int", r"return_indices must be a bool, got int",
                             TypeError, return_indices=1),),
                   "adaptive max pooling to (OH, OW), NHWC"),
)


# --------------------------------------------------------------------------- global pool, flatten
GLOBAL = Entry(
    name="global_avg_pool2d",
    layer=GlobalAvgPool2D,
    reference=ref_pooling.global_avg_pool2d,
    samples=(
        Sample("b2h5w6c3", (2, 5, 6, 3)),
        Sample("b3h7w7c8", (3, 7, 7, 8)),
        Sample("b2h1w1c4", (2, 1, 1, 4), note="1x1 map: the identity, flattened"),
        Sample("b0h4w4c3-empty", (0, 4, 4, 3), guard=False, note="a zero-size batch"),
        Sample("nonfinite-b2h5w6c3", (2, 5, 6, 3), make_input=nonfinite(), gradcheck=False,
               note="NaN and ±inf: the mean is NaN or ±inf where torch's is"),
    ),
    errors=layer_errors(IMAGES) + (
        ErrorInput("x-2d", "forward", ValueError,
                   r"x must have 4 dimensions \(batch, height, width, channels\)",
                   args=(zeros(2, 3),)),
        ErrorInput("empty-spatial", "forward", ValueError, r"x must have height and width >= 1",
                   args=(zeros(2, 0, 4, 3),)),
        ErrorInput("dy-4d", "backward", ValueError,
                   r"dy has shape \(2, 5, 5, 3\), expected \(2, 3\)", dy=IMAGES),
    ),
    error_args=(IMAGES,),
    error_model=error_models.multilinear,
    description="mean over H and W: (N, H, W, C) -> (N, C)",
)

FLATTEN = Entry(
    name="flatten",
    layer=Flatten,
    reference=ref_reshape.flatten,
    samples=(
        Sample("b2h3w4c5", (2, 3, 4, 5)),
        Sample("b1h1w1c1", (1, 1, 1, 1), make_upstream=mixed_signs(),
               note="dx is dy itself: |dy| in (0.25, 2), never ~0"),
        Sample("b3d7", (3, 7), note="already flat"),
        Sample("nonfinite-b2h3w4c2", (2, 3, 4, 2), make_input=nonfinite(), gradcheck=False),
    ),
    errors=layer_errors(IMAGES) + (
        ErrorInput("x-1d", "forward", ValueError,
                   r"x must have at least 2 dimension\(s\) \(batch, \.\.\.\)", args=(zeros(5),)),
    ),
    error_args=(IMAGES,),
    description="(N, H, W, C) -> (N, H·W·C) in NHWC order",
)

ENTRIES = (CONV, *POOLS, SEED_POOL, *ADAPTIVE, GLOBAL, FLATTEN)
