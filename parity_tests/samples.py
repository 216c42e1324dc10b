"""Sample configs: an input shape, constructor kwargs, and how the values are drawn.

Input makers take ``(rng, shape, dtype)`` and return the input array; target makers take
``(rng, prediction)`` and return a loss's target. Each is chosen so that a comparison can
fail: values spread so no gradient vanishes, ties and exact zeros where a layer has a kink,
magnitudes near overflow where a layer must be stable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: (rng, shape, dtype) -> input array
InputMaker = Callable[[np.random.Generator, tuple[int, ...], np.dtype], np.ndarray]
#: (rng, prediction) -> target array (labels, probabilities, or values)
TargetMaker = Callable[[np.random.Generator, np.ndarray], np.ndarray]
#: (layer, rng) -> None: state set after construction (e.g. random running statistics)
Setup = Callable[[Any, np.random.Generator], None]


@dataclass(frozen=True)
class Sample:
    """One sample config: input shape, constructor kwargs and how inputs are drawn.

    ``gradcheck=False`` marks inputs at non-differentiable points (ties, kinks), where a
    finite difference is meaningless; torch parity still applies there. ``guard=False`` only
    where the true gradient is exactly zero by construction (softmax over a single class):
    everywhere else a gradient comparison must be able to fail. ``steps > 1`` runs that many
    forward passes (fresh inputs, same on both sides) before the compared one, so running
    statistics are compared after several updates. ``setup(layer, rng)`` runs right after
    construction (before the torch reference copies the layer's state). ``make_upstream``
    draws the upstream gradient dy from the output's shape (default N(0, 1)): non-finite
    dy reaches the backward's non-finite branches. ``impls`` limits the sample to those
    impl paths of a layer that has several (empty: every path; a single-path layer, such
    as an outside target, runs every sample): a sample that only exists to cross a size
    threshold of the vectorized path (its row blocks or bands) runs there alone, since the
    loop path has no size-dependent code and spent seconds on such shapes.
    """

    name: str
    shape: tuple[int, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    make_input: InputMaker = field(default_factory=lambda: normal())
    make_target: TargetMaker | None = None
    make_upstream: InputMaker | None = None
    setup: Setup | None = None
    gradcheck: bool = True
    guard: bool = True
    training: bool = True
    steps: int = 1
    impls: tuple[str, ...] = ()
    note: str = ""


#: ``Sample.impls`` of a sample that exists to cross a size threshold of a vectorized path
#: (its row blocks, bands or groups): the loop paths have no size-dependent code.
VECTORIZED_ONLY = ("vectorized",)


# --------------------------------------------------------------------------- input makers
def normal(scale: float = 1.0, shift: float = 0.0) -> InputMaker:
    """N(shift, scale²) entries."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return (rng.standard_normal(shape) * scale + shift).astype(dtype)

    return make


def away_from_zero(low: float = 0.25, high: float = 1.0) -> InputMaker:
    """U(low, high) entries: positive and away from 0, for one-element samples, whose only
    gradient would be exactly 0 at a negative ReLU input (and tiny where σ' or tanh' is),
    or ~0 at an unlucky seed where it is a product of one or two draws."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return rng.uniform(low, high, shape).astype(dtype)

    return make


def mixed_signs(low: float = 0.25, high: float = 2.0) -> InputMaker:
    """Magnitudes U(low, high) with alternating signs (+, −, +, …): a small input that is
    never all negative (ReLU's gradient would be exactly 0) nor near 0; as an upstream
    gradient, a single dy entry that is a gradient's only term is never ~0 (N(0, 1) falls
    within 5e-4 of 0, where float32's guard fails, about once in 2,500 seeds)."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        signs = np.where(np.arange(int(np.prod(shape))) % 2 == 0, 1.0, -1.0).reshape(shape)
        return (signs * rng.uniform(low, high, shape)).astype(dtype)

    return make


def integers(low: int, high: int) -> InputMaker:
    """Integer values in [low, high) stored as floats: many exact ties and exact zeros."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return rng.integers(low, high, size=shape).astype(dtype)

    return make


def extreme(magnitude: float = 1e4) -> InputMaker:
    """Half the entries near ±magnitude (with unit jitter, so near-ties exist at the top),
    the rest N(0, 1): probes overflow while keeping gradients measurable."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        values = rng.standard_normal(shape)
        big = rng.random(shape) < 0.5
        signs = rng.choice([-1.0, 1.0], size=shape)
        values = np.where(big, signs * magnitude + rng.standard_normal(shape), values)
        return values.astype(dtype)

    return make


def probabilities(temperature: float = 1.0) -> InputMaker:
    """Rows of a softmax of N(0, 1)/temperature: strictly inside (0, 1), summing to 1."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        logits = rng.standard_normal(shape) / temperature
        exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return (exps / exps.sum(axis=-1, keepdims=True)).astype(dtype)

    return make


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


def binary_windows(kernel: tuple[int, int]) -> InputMaker:
    """NHWC images of 0s and 1s in which the kh × kw windows tiling each (n, c) plane hold
    distinct patterns, in an order drawn per plane: a plane with 2^(kh·kw) windows holds
    every pattern, so every way a tie can fall (first maximum in row-major order against
    column-major, say) is met at any seed; a plane with more windows repeats its order.
    Cells past the last whole window are 0 or 1 at random."""
    kh, kw = kernel

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        n, h, w, c = shape
        rows, cols = h // kh, w // kw
        x = rng.integers(0, 2, size=shape)
        bits = 1 << np.arange(kh * kw)
        for image in range(n):
            for channel in range(c):
                codes = np.resize(rng.permutation(1 << (kh * kw)), rows * cols)
                patterns = (codes[:, None] & bits) > 0  # (windows, kh·kw)
                tiles = patterns.reshape(rows, cols, kh, kw).transpose(0, 2, 1, 3)
                x[image, : rows * kh, : cols * kw, channel] = tiles.reshape(rows * kh, cols * kw)
        return x.astype(dtype)

    return make


# --------------------------------------------------------------------------- target makers
def class_labels(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """int64 labels in [0, C) for a (N, C) prediction."""
    n, c = prediction.shape
    return rng.integers(0, c, size=n).astype(np.int64)


def one_hot_targets(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    labels = class_labels(rng, prediction)
    return np.eye(prediction.shape[1], dtype=prediction.dtype)[labels]


def soft_targets(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """Probability rows (label-smoothing-like), some entries exactly 0."""
    raw = rng.random(prediction.shape) * (rng.random(prediction.shape) < 0.7)
    raw[:, 0] += 1e-3  # no all-zero row
    return (raw / raw.sum(axis=1, keepdims=True)).astype(prediction.dtype)


def regression_targets(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    return rng.standard_normal(prediction.shape).astype(prediction.dtype)


def given(array: np.ndarray) -> InputMaker:
    """Always ``array`` (a copy): for drawn examples (fuzzing) and fixed inputs."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return array.copy()

    return make


def with_values(values: dict[tuple[int, ...], float], base: InputMaker | None = None
                ) -> InputMaker:
    """``base`` (N(0, 1) by default) with the entries at the given indices set: non-finite
    values at known places."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        x = (base or normal())(rng, shape, dtype)
        for index, value in values.items():
            x[index] = value
        return x

    return make


def near_max(indices: tuple[tuple[int, ...], ...], fraction: float = 0.75,
             base: InputMaker | None = None) -> InputMaker:
    """``base`` (N(0, 1) by default) with the given entries at ``fraction`` of the dtype's
    largest float: a sum of two of them overflows to +inf in any order."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        x = (base or normal())(rng, shape, dtype)
        for index in indices:
            x[index] = fraction * np.finfo(dtype).max
        return x

    return make


def uniform_weights(low: float, high: float) -> Setup:
    """Every weight drawn from U[low, high) (a sample's ``setup``). The harness then spreads
    a constant parameter, any one-element one included, by N(0, 0.5²)
    (:func:`parity_tests.engine.spread_constant_params`), so a weight that must stay away
    from 0 there needs low >= 2."""

    def setup(layer: Any, rng: np.random.Generator) -> None:
        weight = layer.params["weight"]
        weight[...] = low + (high - low) * rng.random(weight.shape)

    return setup


#: Every weight from U[1, 1.5): a window or row holding two inputs of 0.75·finfo.max then
#: sums past the largest float in any order (at least 1.5·max), whatever algorithm sums it;
#: not constant, so the harness does not spread them (some would become small).
weights_at_least_one = uniform_weights(1.0, 1.5)
