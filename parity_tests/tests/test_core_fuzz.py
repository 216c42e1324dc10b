"""Property-based parity for the core layers: shapes, scales and values drawn together.

The registry's fixed samples guarantee that each comparison can fail (the gradient guard);
these tests add breadth: hypothesis draws shapes (batch 1, one class, odd sizes), value
ranges over many orders of magnitude, exact ties and zeros, and both dtypes, and every draw
goes through the same harness against torch. The "ci" profile (parity_tests/tests/conftest.py)
is derandomized so CI is reproducible; HYPOTHESIS_PROFILE=dev searches longer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from parity_tests.entries.core import soft as soft_targets
from parity_tests.registry import BY_NAME
from parity_tests.tests.fuzzing import assert_drawn_matches_torch

DTYPES = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


@st.composite
def float_arrays(draw: Any, min_dims: int, max_dims: int, max_side: int = 12) -> np.ndarray:
    """Arrays whose magnitude is drawn first (2^-10 … 2^10), with ties and exact zeros."""
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                                  max_side=max_side)) if max_dims else ()
    if min_dims == 0 and draw(st.booleans()):
        shape = shape[:min(len(shape), draw(st.integers(0, 1)))]  # 0-d or 1-D as well
    bound = draw(st.sampled_from([2.0**-10, 1.0, 32.0, 1024.0]))  # exact in float32
    elements = st.floats(-bound, bound, width=32, allow_subnormal=False)
    return draw(hnp.arrays(dtype, shape, elements=elements | st.sampled_from([0.0, bound])))


@given(x=float_arrays(0, 4), name=st.sampled_from(
    ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]))
def test_activations(x, name):
    assert_drawn_matches_torch(BY_NAME[name], x)


@given(x=float_arrays(0, 3, max_side=40), impl=st.sampled_from(["loop", "vectorized"]),
       data=st.data())
def test_softmax(x, impl, data):
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1), label="dim")
    assert_drawn_matches_torch(BY_NAME["softmax"], x, impl, kwargs={"dim": dim})


@given(x=float_arrays(0, 3, max_side=40), data=st.data())
def test_log_softmax(x, data):
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1), label="dim")
    assert_drawn_matches_torch(BY_NAME["log_softmax"], x, kwargs={"dim": dim})


def cancelling_inputs() -> np.ndarray:
    """Hypothesis's find: ±1024 inputs whose products cancel, so a float32 output near 0
    carries rounding of ~√K·u·Σ|x||w|, 8x the fixed atol (headroom 8.4 before the error
    model, 0.04 with it)."""
    rng = np.random.default_rng(5)
    values = rng.choice([-1024.0, 1024.0], size=(4, 24)) + rng.integers(-3, 4, size=(4, 24))
    return values.astype(np.float32)


@given(x=float_arrays(1, 3, max_side=24), out_features=st.integers(1, 24),
       bias=st.booleans())
@example(x=cancelling_inputs(), out_features=24, bias=True)
def test_linear(x, out_features, bias):
    kwargs = {"in_features": x.shape[-1], "out_features": out_features, "bias": bias}
    assert_drawn_matches_torch(BY_NAME["linear"], x, kwargs=kwargs)


def drawn_labels(data: Any, x: np.ndarray, ignore_index: int) -> np.ndarray:
    """Labels of x's leading shape in [0, C), some of them ``ignore_index``."""
    classes = x.shape[-1]
    values = st.integers(0, classes - 1) | st.just(ignore_index)
    return data.draw(hnp.arrays(np.int64, x.shape[:-1], elements=values), label="labels")


def drawn_weight(data: Any, classes: int) -> list[float] | None:
    weights = st.lists(st.floats(0.125, 4.0, width=32), min_size=classes, max_size=classes)
    return data.draw(st.none() | weights, label="weight")


@given(x=float_arrays(1, 3, max_side=10), soft=st.booleans(), data=st.data(),
       reduction=st.sampled_from(["mean", "sum", "none"]),
       label_smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]))
def test_softmax_cross_entropy(x, soft, reduction, label_smoothing, data):
    """Logits (*, C) with labels (some ignored) or probability targets, class weights,
    label smoothing and every reduction."""
    ignore_index = 0 if not soft and data.draw(st.booleans(), label="ignore 0") else -100
    kwargs = {"weight": drawn_weight(data, x.shape[-1]), "ignore_index": ignore_index,
              "reduction": reduction, "label_smoothing": label_smoothing}
    target = None if soft else drawn_labels(data, x, ignore_index)
    assert_drawn_matches_torch(BY_NAME["softmax_cross_entropy"], x, kwargs=kwargs,
                               make_target=soft_targets if soft
                               else lambda rng, prediction: target)


@given(x=float_arrays(1, 3, max_side=10), soft=st.booleans(), data=st.data(),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_on_probabilities(x, soft, reduction, data):
    """Softmax rows of the drawn values as p (exact zeros where the draw underflows), labels
    with weights and ignored positions, or probability targets."""
    shifted = x.astype(np.float64) - x.max(axis=-1, keepdims=True)
    p = (np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)).astype(x.dtype)
    ignore_index = 1 if x.shape[-1] > 1 and not soft else -100
    kwargs = {"ignore_index": ignore_index, "reduction": reduction,
              "weight": None if soft else drawn_weight(data, x.shape[-1])}
    target = None if soft else drawn_labels(data, x, ignore_index)
    assert_drawn_matches_torch(BY_NAME["cross_entropy"], p, kwargs=kwargs,
                               make_target=soft_targets if soft
                               else lambda rng, prediction: target)


@given(x=float_arrays(0, 4), reduction=st.sampled_from(["mean", "sum", "none"]),
       data=st.data())
def test_mse(x, reduction, data):
    target = data.draw(hnp.arrays(x.dtype, x.shape, elements=st.floats(-10, 10, width=32)))
    assert_drawn_matches_torch(BY_NAME["mse"], x, kwargs={"reduction": reduction},
                               make_target=lambda rng, prediction: target)
