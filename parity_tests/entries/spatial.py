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

import functools
from typing import Any

import numpy as np

from numpy_impl.conv import Conv2D
from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
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
from parity_tests.samples import Sample, constant, integers, normal, relu_like
from torch_ref import conv as ref_conv
from torch_ref import pooling as ref_pooling
from torch_ref import reshape as ref_reshape


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
        _too_large("kernel-larger-than-input", (2, 6), zeros(2, 5, 5, 3),
                   r"kernel_size \(2, 6\) is larger than the padded input \(5, 5\)"),
        _too_large("kernel-larger-than-padded-input", (8, 2), zeros(2, 5, 5, 3),
                   r"kernel_size \(8, 2\) is larger than the padded input \(7, 5\)",
                   padding=(1, 0)),
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
    _refused("init-unknown", r"name must be one of .*'xavier_uniform'.*got 'glorot'",
                weight_init="glorot"),
)

CONV = Entry(
    name="conv2d",
    layer=Conv2D,
    reference=ref_conv.conv2d,
    samples=CONV_SAMPLES,
    errors=CONV_ERRORS,
    error_kwargs={"in_channels": 3, "out_channels": 4, "kernel_size": 3},
    error_args=(IMAGES,),
    error_model=error_models.multilinear,
    description="2-D cross-correlation, NHWC, weight (kh, kw, c_in, c_out); loop and im2col",
)


# --------------------------------------------------------------------------- pooling
def pool(kernel: Any, stride: Any = None, padding: Any = 0) -> dict[str, Any]:
    return {"kernel_size": kernel, "stride": stride, "padding": padding}


max_pool2d = functools.partial(Pool2D, mode="max")
avg_pool2d = functools.partial(Pool2D, mode="average")

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
    Sample("b2h3w2c2-k5x6-p1x2-full", (2, 3, 2, 2), pool((5, 6), 1, (1, 2)),
           note="kernel exactly the padded input (3+2, 2+4): a 1x1 output"),
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


def pool_entry(name: str, layer: Any, samples: tuple[Sample, ...],
               extra_errors: tuple[ErrorInput, ...], description: str) -> Entry:
    return Entry(
        name=name,
        layer=layer,
        reference=ref_pooling.pool2d,
        samples=samples,
        errors=POOL_ERRORS + extra_errors,
        error_kwargs={"kernel_size": 2},
        error_args=(POOL_IMAGES,),
        error_model=error_models.multilinear if name == "avg_pool2d" else None,
        description=description,
    )


POOLS = (
    pool_entry("max_pool2d", max_pool2d, POOL_SAMPLES + TIE_SAMPLES,
               (_refused("mode-unknown", r"mode must be one of 'max', 'average', got 'min'",
                            mode="min"),),
               "max pooling, NHWC; -inf padding, gradient to the first maximum"),
    pool_entry("avg_pool2d", avg_pool2d, POOL_SAMPLES
               + (Sample("int-b2h6w7c2-k3s1-p1", (2, 6, 7, 2), pool(3, 1, 1),
                         make_input=integers(-3, 3), note="integer inputs, padding counted"),),
               (), "average pooling, NHWC, count_include_pad=True"),
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
        Sample("b1h1w1c1", (1, 1, 1, 1)),
        Sample("b3d7", (3, 7), note="already flat"),
    ),
    errors=layer_errors(IMAGES) + (
        ErrorInput("x-1d", "forward", ValueError,
                   r"x must have at least 2 dimension\(s\) \(batch, \.\.\.\)", args=(zeros(5),)),
    ),
    error_args=(IMAGES,),
    description="(N, H, W, C) -> (N, H·W·C) in NHWC order",
)

ENTRIES = (CONV, *POOLS, GLOBAL, FLATTEN)
