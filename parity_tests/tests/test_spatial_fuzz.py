"""Config fuzzing of Conv2D, MaxPool2d, AvgPool2d and adaptive pooling against torch with
hypothesis.

Each example draws a whole config together (batch, height, width, channels, kernel,
stride, padding, dilation, groups, padding_mode, ceil_mode, count_include_pad,
divisor_override, dtype) plus the input values: integer-valued floats (exact ties, exact
zeros), values of magnitude up to 1e3, or unit-scale values. Only valid configs are drawn:
the (dilated) kernel always fits in the padded input, channels divide by groups, reflect
padding is smaller than the input and circular padding at most its size, pooling padding
is at most kernel // 2 and no dilated pooling window holds padding only.
Both impl paths run against the stock torch module through the harness's own checks
(:mod:`parity_tests.tests.fuzzing`), so a failure prints the usual harness message (layer,
config, dtype, tensor, errors, where, tolerance) and hypothesis prints the drawn example.

Settings come from the profile loaded in ``tests/conftest.py`` ("ci": derandomized, 40
examples; "dev": 400).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numpy_impl.conv import Conv2D
from numpy_impl.pooling import AvgPool2d, MaxPool2d
from parity_tests.entries.spatial import ADAPTIVE, CONV, POOLS
from parity_tests.tests.fuzzing import assert_drawn_matches_torch

MAX_POOL, AVG_POOL = POOLS
ADAPTIVE_AVG, ADAPTIVE_MAX = ADAPTIVE
DTYPES = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


# --------------------------------------------------------------------------- strategies
@st.composite
def input_values(draw: st.DrawFn, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape``: integer-valued (ties), wide (|x| <= 1e3) or unit-scale."""
    width = 32 if dtype == np.float32 else 64
    kind = draw(st.sampled_from(["integers", "wide", "unit"]))
    if kind == "integers":
        elements: st.SearchStrategy[float] = st.integers(-3, 3).map(float)
    else:
        bound = 1e3 if kind == "wide" else 1.0
        elements = st.floats(-bound, bound, width=width, allow_nan=False,
                             allow_infinity=False, allow_subnormal=False)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def spatial_size(draw: st.DrawFn, span: int, pad_total: int, minimum: int = 1) -> int:
    """A height or width >= ``minimum`` whose padded size holds the (dilated) kernel span."""
    smallest = max(minimum, span - pad_total)
    return draw(st.integers(smallest, smallest + 6))


@st.composite
def conv_configs(draw: st.DrawFn) -> tuple[dict[str, Any], np.ndarray]:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding: Any = draw(st.one_of(
        st.sampled_from(["same", "valid"]),
        st.integers(0, 2),
        st.tuples(st.integers(0, 2), st.integers(0, 2)),
    ))
    padding_mode = draw(st.sampled_from(Conv2D.PADDING_MODES))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    if padding == "valid":
        pads = ((0, 0), (0, 0))
    elif padding == "same":  # stride 1: d(k − 1) in total; stride > 1: d(k − 1) // 2 per side
        totals = [s - 1 for s in spans]
        pads = tuple((t // 2, t - t // 2) if stride == (1, 1) else (t // 2, t // 2)
                     for t in totals)
    elif isinstance(padding, int):
        pads = ((padding, padding), (padding, padding))
    else:
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    # torch's limits: reflect padding < the input size, circular padding <= it
    extra = {"reflect": 1, "circular": 0}.get(padding_mode)
    minimum = [1 if extra is None else max(1, max(p) + extra) for p in pads]
    dtype = draw(DTYPES)
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 3)), spatial_size(draw, spans[0], sum(pads[0]), minimum[0]),
             spatial_size(draw, spans[1], sum(pads[1]), minimum[1]), c_in)
    config = {"in_channels": c_in, "out_channels": groups * draw(st.integers(1, 2)),
              "kernel_size": kernel, "stride": stride, "padding": padding,
              "dilation": dilation, "groups": groups, "bias": draw(st.booleans()),
              "padding_mode": padding_mode}
    return config, draw(input_values(dtype, shape))


@st.composite
def pool_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], np.ndarray]:
    mode = draw(st.sampled_from(["max", "average"]))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    config: dict[str, Any] = {"kernel_size": kernel, "stride": stride, "padding": padding,
                              "ceil_mode": draw(st.booleans())}
    dilation = (1, 1)
    if mode == "max":
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        config["dilation"] = dilation
    else:
        config["count_include_pad"] = draw(st.booleans())
        config["divisor_override"] = draw(st.one_of(st.none(), st.integers(1, 5)))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    dtype = draw(DTYPES)
    shape = (draw(st.integers(1, 3)), spatial_size(draw, spans[0], 2 * padding[0]),
             spatial_size(draw, spans[1], 2 * padding[1]), draw(st.integers(1, 4)))
    layer = (MaxPool2d if mode == "max" else AvgPool2d)(**config)
    try:  # only valid configs: no dilated window made of padding only
        layer._geometry("pool_configs", shape)
    except ValueError:
        assume(False)
    return mode, config, draw(input_values(dtype, shape))


@st.composite
def adaptive_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], np.ndarray]:
    """Adaptive pooling: any output size (None keeps the axis), dividing the input or not,
    larger than it or not."""
    mode = draw(st.sampled_from(["max", "average"]))
    side = st.one_of(st.none(), st.integers(1, 6))
    output_size = draw(st.one_of(st.integers(1, 6), st.tuples(side, side)))
    dtype = draw(DTYPES)
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 8)), draw(st.integers(1, 8)),
             draw(st.integers(1, 3)))
    return mode, {"output_size": output_size}, draw(input_values(dtype, shape))


# --------------------------------------------------------------------------- tests
@given(conv_configs())
def test_conv2d_random_configs_match_torch(drawn):
    config, x = drawn
    for impl in CONV.impls:
        assert_drawn_matches_torch(CONV, x, impl, config)


@given(pool_configs())
def test_pool2d_random_configs_match_torch(drawn):
    mode, config, x = drawn
    entry = MAX_POOL if mode == "max" else AVG_POOL
    for impl in entry.impls:
        assert_drawn_matches_torch(entry, x, impl, config)


@given(adaptive_configs())
def test_adaptive_pool2d_random_configs_match_torch(drawn):
    mode, config, x = drawn
    entry = ADAPTIVE_MAX if mode == "max" else ADAPTIVE_AVG
    for impl in entry.impls:
        assert_drawn_matches_torch(entry, x, impl, config)
