"""The data types of the registry: one :class:`PairInfo` per NumPy/torch pair.

Like PyTorch's OpInfo, an entry is data: what to build on each side, which sample configs
to run (edge cases included), which bad inputs must raise what, which dtypes, impl paths
and tolerances apply. The generic tests in ``test_parity.py`` read nothing else, so a new
layer needs one entry and no new test code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity_tests.tolerances import Tolerance

#: (rng, shape, dtype) -> input array
InputMaker = Callable[[np.random.Generator, tuple[int, ...], np.dtype], np.ndarray]
#: (rng, prediction) -> target array (labels, probabilities, or values)
TargetMaker = Callable[[np.random.Generator, np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- input makers
def normal(scale: float = 1.0, shift: float = 0.0) -> InputMaker:
    """N(shift, scale²) entries."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return (rng.standard_normal(shape) * scale + shift).astype(dtype)

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


# --------------------------------------------------------------------------- error inputs
F32 = np.float32


def zeros(*shape: int, dtype: Any = F32) -> np.ndarray:
    """A float32 (by default) array of zeros, for error inputs: ``zeros(4, 3)``."""
    return np.zeros(shape, dtype=dtype)


def common_layer_errors(make: Callable[[], Any], good: np.ndarray) -> tuple[ErrorInput, ...]:
    """Bad calls every layer must refuse, given a factory and one valid input: not an array,
    an integer or non-numeric array, backward before forward, and an upstream gradient of the
    wrong shape or dtype."""

    def backward_with(dy: Any) -> Callable[[], object]:
        def call() -> object:
            layer = make()
            layer.forward(good)
            return layer.backward(dy)

        return call

    bad_shape = np.zeros((*good.shape[:-1], good.shape[-1] + 1), dtype=good.dtype)
    return (
        ErrorInput("list-input", lambda: make().forward(good.tolist()), TypeError,
                   r"x must be a numpy\.ndarray"),
        ErrorInput("int-dtype", lambda: make().forward(good.astype(np.int64)), TypeError,
                   r"x must have dtype float32 or float64, got int64"),
        ErrorInput("str-dtype", lambda: make().forward(good.astype(str)), TypeError,
                   r"x must have dtype float32 or float64, got <U"),
        ErrorInput("backward-before-forward", lambda: make().backward(good), RuntimeError,
                   r"backward: called before forward"),
        ErrorInput("dy-wrong-shape", backward_with(bad_shape), ValueError,
                   r"dy has shape .* expected .*the forward output"),
        ErrorInput("dy-wrong-dtype", backward_with(good.astype(np.float16)), TypeError,
                   r"dy must have dtype float32 or float64"),
    )


# --------------------------------------------------------------------------- entry types
@dataclass(frozen=True)
class Sample:
    """One sample config: input shape, constructor kwargs and how inputs are drawn.

    ``gradcheck=False`` marks inputs at non-differentiable points (ties, kinks), where a
    finite difference is meaningless; torch parity still applies there. ``guard=False`` only
    where the true gradient is exactly zero by construction (softmax over a single class):
    everywhere else a gradient comparison must be able to fail. ``steps > 1`` runs that many
    forward passes (fresh inputs, same on both sides) before the compared one, so running
    statistics are compared after several updates.
    """

    name: str
    shape: tuple[int, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    make_input: InputMaker = field(default_factory=normal)
    make_target: TargetMaker | None = None
    gradcheck: bool = True
    guard: bool = True
    training: bool = True
    steps: int = 1
    note: str = ""


@dataclass(frozen=True)
class ErrorInput:
    """A call that must raise ``error`` with a message matching ``match`` (a regex)."""

    name: str
    call: Callable[[], object]
    error: type[Exception]
    match: str


@dataclass(frozen=True)
class PairInfo:
    """A NumPy layer paired with its torch reference, and everything needed to test them.

    ``numpy_factory(**kwargs)`` builds the layer; for layers with parameters the harness adds
    ``dtype=`` and ``rng=``, for layers with impl paths ``impl=``. ``torch_factory(layer)``
    returns a :class:`torch_ref.base.Reference` with the parameters copied in.
    """

    name: str
    numpy_factory: Callable[..., Any]
    torch_factory: Callable[[Any], Any]
    samples: tuple[Sample, ...]
    error_inputs: tuple[ErrorInput, ...] = ()
    dtypes: tuple[np.dtype, ...] = (np.dtype(np.float32), np.dtype(np.float64))
    impls: tuple[str | None, ...] = (None,)
    has_params: bool = False
    is_loss: bool = False
    tolerances: Mapping[np.dtype, Tolerance] = field(default_factory=dict)
    description: str = ""

    def sample(self, name: str) -> Sample:
        for sample in self.samples:
            if sample.name == name:
                return sample
        raise KeyError(f"{self.name} has no sample {name!r}; it has "
                       f"{[s.name for s in self.samples]}")

    def build(
        self, sample: Sample, dtype: np.dtype, rng: np.random.Generator, impl: str | None
    ) -> Any:
        kwargs = dict(sample.kwargs)
        if self.has_params:
            kwargs.update(dtype=dtype, rng=rng)
        if impl is not None:
            kwargs["impl"] = impl
        return self.numpy_factory(**kwargs)


def case_id(entry: PairInfo, sample: Sample, dtype: np.dtype, impl: str | None) -> str:
    """Readable test id: ``softmax-loop-float32-b256c10``."""
    parts = [entry.name, impl, np.dtype(dtype).name, sample.name]
    return "-".join(p for p in parts if p)
