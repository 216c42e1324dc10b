"""Config fuzzing of Conv2D and Pool2D against torch with hypothesis.

Each example draws a whole config together (batch, height, width, channels, kernel,
stride, padding, dtype) plus the input values: integer-valued floats (exact ties, exact
zeros), values of magnitude up to 1e3, or unit-scale values. Only valid configs are drawn:
the kernel always fits in the padded input and pooling padding is at most kernel // 2.
Both impl paths run against the stock torch module through the harness's own checks
(:mod:`parity_tests.tests.fuzzing`), so a failure prints the usual harness message (layer,
config, dtype, tensor, errors, where, tolerance) and hypothesis prints the drawn example.

Settings come from the profile loaded in ``tests/conftest.py`` ("ci": derandomized, 40
examples; "dev": 400).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from parity_tests.entries.spatial import CONV, POOLS
from parity_tests.tests.fuzzing import assert_drawn_matches_torch

MAX_POOL, AVG_POOL = POOLS
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


def spatial_size(draw: st.DrawFn, kernel: int, pad_total: int) -> int:
    """A height or width >= 1 whose padded size holds the kernel."""
    smallest = max(1, kernel - pad_total)
    return draw(st.integers(smallest, smallest + 6))


@st.composite
def conv_configs(draw: st.DrawFn) -> tuple[dict[str, Any], np.ndarray]:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding: Any = draw(st.one_of(
        st.sampled_from(["same", "valid"]),
        st.integers(0, 2),
        st.tuples(st.integers(0, 2), st.integers(0, 2)),
    ))
    if padding == "valid":
        pad_totals = (0, 0)
    elif padding == "same":  # stride 1: k − 1 in total; stride > 1: (k − 1) // 2 per side
        pad_totals = tuple(k - 1 if stride == (1, 1) else 2 * ((k - 1) // 2) for k in kernel)
    elif isinstance(padding, int):
        pad_totals = (2 * padding, 2 * padding)
    else:
        pad_totals = (2 * padding[0], 2 * padding[1])
    dtype = draw(DTYPES)
    c_in = draw(st.integers(1, 4))
    shape = (draw(st.integers(1, 3)), spatial_size(draw, kernel[0], pad_totals[0]),
             spatial_size(draw, kernel[1], pad_totals[1]), c_in)
    config = {"in_channels": c_in, "out_channels": draw(st.integers(1, 4)),
              "kernel_size": kernel, "stride": stride, "padding": padding,
              "bias": draw(st.booleans())}
    return config, draw(input_values(dtype, shape))


@st.composite
def pool_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], np.ndarray]:
    mode = draw(st.sampled_from(["max", "average"]))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dtype = draw(DTYPES)
    shape = (draw(st.integers(1, 3)), spatial_size(draw, kernel[0], 2 * padding[0]),
             spatial_size(draw, kernel[1], 2 * padding[1]), draw(st.integers(1, 4)))
    config = {"kernel_size": kernel, "stride": stride, "padding": padding}
    return mode, config, draw(input_values(dtype, shape))


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
