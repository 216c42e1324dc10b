"""Registry entries for the spatial family: Conv2D, max/average Pool2D, GlobalAvgPool2D,
Flatten. Images are NHWC; the torch references run the stock NCHW modules through
``torch_ref.base.nhwc``.

Samples stay small (the loop paths and the finite-difference check run a Python loop per
output position) but cover the edge cases: rectangular kernels and strides, strides that do
not divide the input, 1×1 kernels, one input channel, a kernel as large as the padded
input, "same" (stride 1 and 2, odd and even kernels) and "valid" padding; for pooling, ties
(integer inputs, ReLU-like zeros, constant windows), overlapping windows, strides larger
than the kernel (cells no window covers), and negative inputs next to padding (where 0
padding instead of torch's −inf would win the max).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numpy_impl.conv import Conv2D
from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from numpy_impl.reshape import Flatten
from parity_tests.pairing import (
    ErrorInput,
    InputMaker,
    PairInfo,
    Sample,
    common_layer_errors,
    integers,
    normal,
    zeros,
)
from torch_ref import conv as ref_conv
from torch_ref import pooling as ref_pooling
from torch_ref import reshape as ref_reshape


def relu_like(shift: float = -1.0) -> InputMaker:
    """ReLU(N(shift, 1)): with shift −1 about 84% of the entries are exactly 0, so many
    windows are ties at 0 (which zero padding, unlike torch's −inf, would join)."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return np.maximum(rng.standard_normal(shape) + shift, 0.0).astype(dtype)

    return make


def constant(value: float) -> InputMaker:
    """Every entry equal to ``value``: every window is one big tie."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return np.full(shape, value, dtype=dtype)

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
    Sample("b2h7w7c3o2-k3-s2", (2, 7, 7, 3), conv(3, 2, 3, stride=2)),
    Sample("b3h4w4c5o2-k1", (3, 4, 4, 5), conv(5, 2, 1), note="1x1 kernel: a per-pixel Linear"),
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
    Sample("b2h6w6c4o8-k1-s2", (2, 6, 6, 4), conv(4, 8, 1, stride=2, bias=False),
           note="the projection shortcut; torch 2.13's oneDNN corrupts the heap in this "
           "backward, so the reference runs without oneDNN (torch_ref.base)"),
)


def conv_f32(**kwargs: Any) -> Conv2D:
    return Conv2D(**{"in_channels": 3, "out_channels": 4, "kernel_size": 3, "rng": 0,
                     **kwargs})


IMAGES = zeros(2, 5, 5, 3)

CONV_ERRORS = common_layer_errors(conv_f32, IMAGES) + (
    ErrorInput("x-rank-3", lambda: conv_f32().forward(zeros(5, 5, 3)), ValueError,
               r"x must have 4 dimensions \(batch, height, width, channels\), NHWC, got 3"),
    ErrorInput("x-rank-5", lambda: conv_f32().forward(zeros(1, 2, 5, 5, 3)), ValueError,
               r"x must have 4 dimensions .* got 5"),
    ErrorInput("channel-mismatch", lambda: conv_f32().forward(zeros(2, 5, 5, 4)), ValueError,
               r"x has 4 channels on axis 3 .*expected in_channels=3"),
    ErrorInput("nchw-input", lambda: conv_f32().forward(zeros(2, 3, 5, 5)), ValueError,
               r"x has 5 channels on axis 3 .*expected in_channels=3; images are .*NHWC"),
    ErrorInput("empty-spatial", lambda: conv_f32(kernel_size=1).forward(zeros(2, 0, 5, 3)),
               ValueError, r"x must have height and width >= 1"),
    ErrorInput("kernel-larger-than-input", lambda: conv_f32(kernel_size=4).forward(
        zeros(2, 3, 5, 3)), ValueError,
        r"kernel_size \(4, 4\) is larger than the padded input \(3, 5\)"),
    ErrorInput("kernel-larger-than-padded-input", lambda: conv_f32(
        kernel_size=(6, 2), padding=(1, 0)).forward(zeros(2, 3, 5, 3)), ValueError,
        r"kernel_size \(6, 2\) is larger than the padded input \(5, 5\)"),
    ErrorInput("float64-into-float32", lambda: conv_f32().forward(IMAGES.astype(np.float64)),
               TypeError, r"x has dtype float64 but the layer computes in float32"),
    ErrorInput("stride-zero", lambda: conv_f32(stride=0), ValueError,
               r"stride must be >= 1, got 0"),
    ErrorInput("stride-negative", lambda: conv_f32(stride=(1, -2)), ValueError,
               r"stride\[1\] must be >= 1, got -2"),
    ErrorInput("stride-float", lambda: conv_f32(stride=1.5), TypeError,
               r"stride must be an int or a pair of ints \(height, width\), got float"),
    ErrorInput("padding-negative", lambda: conv_f32(padding=-1), ValueError,
               r"padding must be >= 0, got -1"),
    ErrorInput("padding-negative-pair", lambda: conv_f32(padding=(0, -1)), ValueError,
               r"padding\[1\] must be >= 0, got -1"),
    ErrorInput("padding-unknown-string", lambda: conv_f32(padding="full"), ValueError,
               r"padding must be an int, a pair of ints, 'same' or 'valid', got 'full'"),
    ErrorInput("padding-float", lambda: conv_f32(padding=0.5), TypeError,
               r"padding must be an int or a pair of ints .*got float"),
    ErrorInput("kernel-zero", lambda: conv_f32(kernel_size=0), ValueError,
               r"kernel_size must be >= 1, got 0"),
    ErrorInput("kernel-float", lambda: conv_f32(kernel_size=2.0), TypeError,
               r"kernel_size must be an int or a pair of ints .*got float"),
    ErrorInput("kernel-float-in-pair", lambda: conv_f32(kernel_size=(3, 2.5)), TypeError,
               r"kernel_size\[1\] must be an int, got float"),
    ErrorInput("kernel-three-values", lambda: conv_f32(kernel_size=(3, 3, 3)), ValueError,
               r"kernel_size must be an int or a pair of ints \(height, width\), got 3 values"),
    ErrorInput("kernel-bool", lambda: conv_f32(kernel_size=True), TypeError,
               r"kernel_size must be an int or a pair of ints .*got bool"),
    ErrorInput("in-channels-zero", lambda: conv_f32(in_channels=0), ValueError,
               r"in_channels must be >= 1, got 0"),
    ErrorInput("out-channels-float", lambda: conv_f32(out_channels=4.0), TypeError,
               r"out_channels must be an int, got float"),
    ErrorInput("unknown-impl", lambda: conv_f32(impl="fft"), ValueError,
               r"impl must be one of 'loop', 'vectorized', got 'fft'"),
    ErrorInput("unknown-init", lambda: conv_f32(weight_init="glorot"), ValueError,
               r"name must be one of .*'xavier_uniform'.*got 'glorot'"),
    ErrorInput("int-dtype", lambda: conv_f32(dtype=np.int32), TypeError,
               r"dtype must be float32 or float64, got int32"),
)

CONV = PairInfo(
    name="conv2d",
    numpy_factory=Conv2D,
    torch_factory=ref_conv.conv2d,
    samples=CONV_SAMPLES,
    error_inputs=CONV_ERRORS,
    impls=("loop", "vectorized"),
    has_params=True,
    description="2-D cross-correlation, NHWC, weight (kh, kw, c_in, c_out); loop and im2col",
)


# --------------------------------------------------------------------------- pooling
def pool(kernel: Any, stride: Any = None, padding: Any = 0) -> dict[str, Any]:
    return {"kernel_size": kernel, "stride": stride, "padding": padding}


def max_pool2d(**kwargs: Any) -> Pool2D:
    """Max pooling: −inf padding, gradient to the first maximum of each window."""
    return Pool2D(mode="max", **kwargs)


def avg_pool2d(**kwargs: Any) -> Pool2D:
    """Average pooling, count_include_pad=True (÷ kh·kw always)."""
    return Pool2D(mode="average", **kwargs)


POOL_SAMPLES = (
    Sample("b2h6w6c3-k2", (2, 6, 6, 3), pool(2), note="stride defaults to the kernel"),
    Sample("b2h8w9c2-k3s2", (2, 8, 9, 2), pool(3, 2),
           note="overlapping windows; (8-3)/2 leaves a row no window reaches"),
    Sample("b2h5w5c2-k3s1", (2, 5, 5, 2), pool(3, 1), note="heavily overlapping windows"),
    Sample("b2h6w7c2-k2x3-s1x2", (2, 6, 7, 2), pool((2, 3), (1, 2))),
    Sample("b2h7w7c2-k2s3", (2, 7, 7, 2), pool(2, 3),
           note="stride > kernel: cells no window covers get a zero gradient"),
    Sample("b2h4w4c3-k1", (2, 4, 4, 3), pool(1, 1), note="1x1 windows: the identity"),
    Sample("neg-b2h6w6c2-k3s2-p1", (2, 6, 6, 2), pool(3, 2, 1), make_input=normal(shift=-5.0),
           note="all inputs near -5 next to padding: 0 padding would win the max"),
    Sample("neg-b2h5w6c2-k2x3-s1-p1x0", (2, 5, 6, 2), pool((2, 3), 1, (1, 0)),
           make_input=normal(shift=-5.0), note="padding on one axis only"),
    Sample("b2h3w4c2-k5x6-p1x2-full", (2, 3, 5, 2), pool((5, 6), 1, (1, 2)),
           note="kernel exactly the padded input: a 1x1 output"),
)
TIE_SAMPLES = (
    Sample("ties-int-b2h6w6c3-k2", (2, 6, 6, 3), pool(2), make_input=integers(0, 3),
           gradcheck=False, note="integer inputs: ties inside non-overlapping windows"),
    Sample("ties-int-b2h6w7c2-k3s1", (2, 6, 7, 2), pool(3, 1), make_input=integers(0, 3),
           gradcheck=False, note="ties with overlapping windows"),
    Sample("ties-relu-b2h6w6c3-k3s2-p1", (2, 6, 6, 3), pool(3, 2, 1), make_input=relu_like(),
           gradcheck=False, note="ReLU-like zeros next to padding"),
    Sample("ties-constant-b2h5w5c2-k3s1-p1", (2, 5, 5, 2), pool(3, 1, 1),
           make_input=constant(-1.0), gradcheck=False,
           note="every window one big tie of negative values next to padding"),
)


def pool_errors(factory: Callable[..., Pool2D]) -> tuple[ErrorInput, ...]:
    return common_layer_errors(lambda: factory(kernel_size=2), zeros(2, 4, 4, 3)) + (
        ErrorInput("x-rank-3", lambda: factory(kernel_size=2).forward(zeros(4, 4, 3)),
                   ValueError, r"x must have 4 dimensions \(batch, height, width, channels\)"),
        ErrorInput("empty-spatial", lambda: factory(kernel_size=1).forward(zeros(2, 3, 0, 1)),
                   ValueError, r"x must have height and width >= 1"),
        ErrorInput("kernel-larger-than-input",
                   lambda: factory(kernel_size=(2, 5)).forward(zeros(2, 4, 4, 3)), ValueError,
                   r"kernel_size \(2, 5\) is larger than the padded input \(4, 4\)"),
        ErrorInput("kernel-larger-than-padded-input",
                   lambda: factory(kernel_size=7, padding=1).forward(zeros(2, 4, 4, 3)),
                   ValueError, r"kernel_size \(7, 7\) is larger than the padded input \(6, 6\)"),
        ErrorInput("stride-zero", lambda: factory(kernel_size=2, stride=0), ValueError,
                   r"stride must be >= 1, got 0"),
        ErrorInput("stride-negative", lambda: factory(kernel_size=2, stride=(-1, 1)),
                   ValueError, r"stride\[0\] must be >= 1, got -1"),
        ErrorInput("padding-negative", lambda: factory(kernel_size=2, padding=-1), ValueError,
                   r"padding must be >= 0, got -1"),
        ErrorInput("padding-over-half-kernel", lambda: factory(kernel_size=3, padding=2),
                   ValueError, r"padding \(2, 2\) must be at most half the kernel_size "
                   r"\(3, 3\)"),
        ErrorInput("padding-over-half-kernel-width",
                   lambda: factory(kernel_size=(4, 3), padding=(2, 2)), ValueError,
                   r"padding \(2, 2\) must be at most half the kernel_size \(4, 3\)"),
        ErrorInput("padding-string", lambda: factory(kernel_size=2, padding="same"), TypeError,
                   r"padding must be an int or a pair of ints .*got str"),
        ErrorInput("kernel-zero", lambda: factory(kernel_size=0), ValueError,
                   r"kernel_size must be >= 1, got 0"),
        ErrorInput("kernel-float", lambda: factory(kernel_size=2.0), TypeError,
                   r"kernel_size must be an int or a pair of ints .*got float"),
        ErrorInput("unknown-impl", lambda: factory(kernel_size=2, impl="fast"), ValueError,
                   r"impl must be one of 'loop', 'vectorized', got 'fast'"),
    )


POOLS = (
    PairInfo(
        name="max_pool2d",
        numpy_factory=max_pool2d,
        torch_factory=ref_pooling.pool2d,
        samples=POOL_SAMPLES + TIE_SAMPLES,
        error_inputs=pool_errors(max_pool2d)
        + (ErrorInput("unknown-mode", lambda: Pool2D(2, mode="min"), ValueError,
                      r"mode must be one of 'max', 'average', got 'min'"),),
        impls=("loop", "vectorized"),
        description="max pooling, NHWC; -inf padding, gradient to the first maximum",
    ),
    PairInfo(
        name="avg_pool2d",
        numpy_factory=avg_pool2d,
        torch_factory=ref_pooling.pool2d,
        samples=POOL_SAMPLES
        + (Sample("int-b2h6w7c2-k3s1-p1", (2, 6, 7, 2), pool(3, 1, 1),
                  make_input=integers(-3, 3), note="integer inputs, padding counted"),),
        error_inputs=pool_errors(avg_pool2d),
        impls=("loop", "vectorized"),
        description="average pooling, NHWC, count_include_pad=True",
    ),
)


# --------------------------------------------------------------------------- global pool, flatten
def global_pool_backward_with_image_dy() -> np.ndarray:
    """An upstream gradient shaped like the input image instead of the (N, C) output."""
    layer = GlobalAvgPool2D()
    layer.forward(IMAGES)
    return layer.backward(IMAGES)


GLOBAL = PairInfo(
    name="global_avg_pool2d",
    numpy_factory=GlobalAvgPool2D,
    torch_factory=ref_pooling.global_avg_pool2d,
    samples=(
        Sample("b2h5w6c3", (2, 5, 6, 3)),
        Sample("b3h7w7c8", (3, 7, 7, 8)),
        Sample("b2h1w1c4", (2, 1, 1, 4), note="1x1 map: the identity, flattened"),
    ),
    error_inputs=common_layer_errors(GlobalAvgPool2D, IMAGES) + (
        ErrorInput("x-rank-2", lambda: GlobalAvgPool2D().forward(zeros(2, 3)), ValueError,
                   r"x must have 4 dimensions \(batch, height, width, channels\)"),
        ErrorInput("empty-spatial", lambda: GlobalAvgPool2D().forward(zeros(2, 0, 4, 3)),
                   ValueError, r"x must have height and width >= 1"),
        ErrorInput("dy-4d", global_pool_backward_with_image_dy, ValueError,
                   r"dy has shape \(2, 5, 5, 3\), expected \(2, 3\)"),
    ),
    description="mean over H and W: (N, H, W, C) -> (N, C)",
)

FLATTEN = PairInfo(
    name="flatten",
    numpy_factory=Flatten,
    torch_factory=ref_reshape.flatten,
    samples=(
        Sample("b2h3w4c5", (2, 3, 4, 5)),
        Sample("b1h1w1c1", (1, 1, 1, 1)),
        Sample("b3d7", (3, 7), note="already flat"),
    ),
    error_inputs=common_layer_errors(Flatten, IMAGES) + (
        ErrorInput("x-rank-1", lambda: Flatten().forward(zeros(5)), ValueError,
                   r"x must have at least 2 dimension\(s\) \(batch, \.\.\.\)"),
    ),
    description="(N, H, W, C) -> (N, H·W·C) in NHWC order",
)

ENTRIES = (CONV, *POOLS, GLOBAL, FLATTEN)
