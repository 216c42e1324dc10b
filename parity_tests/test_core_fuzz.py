"""Property-based parity for the core layers: shapes, scales and values drawn together.

The registry's fixed samples guarantee that each comparison can fail (the gradient guard);
these tests add breadth: hypothesis draws shapes (batch 1, one class, odd sizes), value
ranges over many orders of magnitude, exact ties and zeros, and both dtypes, and every draw
goes through the same harness against torch. The "ci" profile (parity_tests/conftest.py)
is derandomized so CI is reproducible; HYPOTHESIS_PROFILE=dev searches longer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from parity_tests.harness import run_case
from parity_tests.pairing import PairInfo, Sample, class_labels, soft_targets
from parity_tests.registry import BY_NAME
from parity_tests.tolerances import Tolerance, parity_tolerance

DTYPES = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


@st.composite
def float_arrays(draw: Any, min_dims: int, max_dims: int, max_side: int = 12) -> np.ndarray:
    """Arrays whose magnitude is drawn first (2^-10 … 2^10), with ties and exact zeros."""
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                                  max_side=max_side))
    bound = draw(st.sampled_from([2.0**-10, 1.0, 32.0, 1024.0]))  # exact in float32
    elements = st.floats(-bound, bound, width=32, allow_subnormal=False)
    return draw(hnp.arrays(dtype, shape, elements=elements | st.sampled_from([0.0, bound])))


def check(entry: PairInfo, x: np.ndarray, impl: str | None = None,
          atol_scale: float = 1.0, **sample: Any) -> None:
    """Run ``x`` through the harness; the guard is off because a draw may legitimately have
    vanishing gradients (the fixed samples carry the guarantee that comparisons can fail).
    ``atol_scale`` widens atol for ops whose rounding grows with the input's magnitude."""
    drawn = Sample("drawn", x.shape, make_input=lambda rng, shape, dtype: x.copy(),
                   guard=False, **sample)
    if atol_scale != 1.0:
        base = parity_tolerance(x.dtype, entry.tolerances)
        widened = Tolerance(base.rtol, base.atol * atol_scale,
                            f"atol x {atol_scale:g}: rounding of a dot product scales with "
                            "sum |x||w|, not with |y|, and cancellation is likely")
        entry = replace(entry, tolerances={x.dtype: widened})
    run_case(entry, drawn, x.dtype, impl, seed=0).assert_ok()


@given(x=float_arrays(1, 4), name=st.sampled_from(
    ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]))
def test_activations(x, name):
    check(BY_NAME[name], x)


@given(x=float_arrays(2, 3, max_side=40), impl=st.sampled_from(["loop", "vectorized"]))
def test_softmax(x, impl):
    check(BY_NAME["softmax"], x, impl)


@given(x=float_arrays(2, 3, max_side=40))
def test_log_softmax(x):
    check(BY_NAME["log_softmax"], x)


@given(x=float_arrays(2, 2, max_side=24), out_features=st.integers(1, 24),
       bias=st.booleans())
def test_linear(x, out_features, bias):
    kwargs = {"in_features": x.shape[1], "out_features": out_features, "bias": bias}
    check(BY_NAME["linear"], x, atol_scale=max(1.0, float(np.abs(x).max())), kwargs=kwargs)


@given(x=float_arrays(2, 2, max_side=16), soft=st.booleans(),
       reduction=st.sampled_from(["mean", "sum"]))
def test_softmax_cross_entropy(x, soft, reduction):
    check(BY_NAME["softmax_cross_entropy"], x, kwargs={"reduction": reduction},
          make_target=soft_targets if soft else class_labels)


@given(x=float_arrays(1, 4), reduction=st.sampled_from(["mean", "sum"]), data=st.data())
def test_mse(x, reduction, data):
    target = data.draw(hnp.arrays(x.dtype, x.shape, elements=st.floats(-10, 10, width=32)))
    check(BY_NAME["mse"], x, kwargs={"reduction": reduction},
          make_target=lambda rng, prediction: target)
