"""A registry entry: one NumPy layer paired with its torch reference, as data.

Like PyTorch's OpInfo/ModuleInfo, an :class:`Entry` says only what the layer cannot: which
torch reference to build, which sample configs to run (edge cases included), which bad
inputs must raise what and at which stage, which dtypes, and any tolerance override with
its reason. What the layer already says is read from it: its impl paths (``IMPLS`` on the
class), whether it has parameters or buffers and whether it is a loss (the built layer).

The one factory signature: ``layer(**sample.kwargs)``, plus ``dtype=``, ``rng=`` and
``impl=`` for the layers whose constructor accepts them (read from its signature), so a
class is its own factory.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parity_tests.samples import Sample
from parity_tests.tolerances import Tolerance

Stage = Literal["construct", "forward", "backward"]
STAGES: tuple[Stage, ...] = ("construct", "forward", "backward")
F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


class Unsupported(Exception):
    """Raised while building a layer when a sample's config cannot be expressed by it (an
    outside target's adapter says so): every check of that case is SKIP with this reason,
    never PASS."""


@dataclass(frozen=True)
class ErrorInput:
    """A call that must raise ``error`` (message matching the regex ``match``) at ``stage``.

    The layer is built from the entry's ``error_kwargs`` updated with ``kwargs``; the
    earlier stages must succeed. ``args`` replaces the entry's valid forward arguments
    (``error_args``); ``dy`` is the upstream gradient of a backward-stage error (losses take
    none); ``forward_first=False`` calls backward on a fresh layer (backward before forward).
    """

    name: str
    stage: Stage
    error: type[Exception]
    match: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] | None = None
    dy: Any = None
    forward_first: bool = True


@dataclass(frozen=True)
class Entry:
    """A NumPy layer paired with its torch reference, and everything needed to test them.

    ``layer`` builds the NumPy layer (a class, or a callable with the same signature);
    ``reference(layer)`` returns a :class:`torch_ref.base.Reference` with the parameters
    copied in. ``error_kwargs`` and ``error_args`` are the valid constructor kwargs and
    forward arguments that the error inputs start from.
    """

    name: str
    layer: Callable[..., Any]
    reference: Callable[[Any], Any]
    samples: tuple[Sample, ...]
    errors: tuple[ErrorInput, ...] = ()
    error_kwargs: Mapping[str, Any] = field(default_factory=dict)
    error_args: tuple[Any, ...] = ()
    dtypes: tuple[np.dtype, ...] = (F32, F64)
    tolerances: Mapping[np.dtype, Tolerance] = field(default_factory=dict)
    #: (case, built, run) -> {tensor: summation slack}: see parity_tests.error_models.
    error_model: Callable[[Any, Any, Any], Mapping[str, np.ndarray]] | None = None
    description: str = ""
    #: An outside target checked like this entry (parity_tests.adapters): its error inputs
    #: are the project's contract, not the target's, and ``origin`` is the command-line
    #: option that brings it in (``--plugin FILE`` or ``--target MOD:ATTR --as ENTRY``).
    outside: bool = False
    origin: str = ""

    @property
    def layer_class(self) -> Any:
        """The class behind ``layer`` (through ``functools.partial``)."""
        factory = self.layer
        while isinstance(factory, functools.partial):
            factory = factory.func
        return factory

    @property
    def impls(self) -> tuple[str | None, ...]:
        """The layer's impl paths (its ``IMPLS``), or ``(None,)`` for a single-path layer."""
        return tuple(getattr(self.layer_class, "IMPLS", ())) or (None,)

    def sample(self, name: str) -> Sample:
        for sample in self.samples:
            if sample.name == name:
                return sample
        raise KeyError(f"{self.name} has no sample {name!r}; it has "
                       f"{[s.name for s in self.samples]}")

    def error(self, name: str) -> ErrorInput:
        for error in self.errors:
            if error.name == name:
                return error
        raise KeyError(f"{self.name} has no error input {name!r}; it has "
                       f"{[e.name for e in self.errors]}")

    def build(self, kwargs: Mapping[str, Any], dtype: np.dtype | None = None,
              rng: np.random.Generator | None = None, impl: str | None = None,
              input_shape: tuple[int, ...] | None = None) -> Any:
        """``layer(**kwargs)`` plus ``dtype``, ``rng``, ``impl`` and ``input_shape`` where
        the layer takes them (explicit ``kwargs`` win: an error input may pass a bad dtype
        on purpose)."""
        accepted = accepted_keywords(self.layer)
        extra: dict[str, Any] = {}
        for name, value in (("dtype", dtype), ("rng", rng), ("input_shape", input_shape)):
            if value is not None and name in accepted:
                extra[name] = value
        if impl is not None:
            extra["impl"] = impl
        return self.layer(**{**extra, **kwargs})


@functools.cache
def _keywords(factory: Callable[..., Any]) -> frozenset[str]:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    named = frozenset(p.name for p in parameters
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return named | {"dtype", "rng", "impl"}
    return named


def accepted_keywords(factory: Callable[..., Any]) -> frozenset[str]:
    """The keyword arguments ``factory`` accepts (``**kwargs`` accepts the project's own)."""
    try:
        return _keywords(factory)
    except TypeError:  # an unhashable factory
        return _keywords.__wrapped__(factory)


# --------------------------------------------------------------------------- error families
def zeros(*shape: int, dtype: Any = F32) -> np.ndarray:
    """A float32 (by default) array of zeros, for error inputs: ``zeros(4, 3)``."""
    return np.zeros(shape, dtype=dtype)


def layer_errors(good: np.ndarray) -> tuple[ErrorInput, ...]:
    """Bad calls every layer must refuse, given one valid float32 input ``good``: not an
    array, an integer or a string array, a float64 input into a float32 layer (layers with
    a dtype) is in :func:`float64_into_float32`; backward before forward, and an upstream
    gradient of the wrong shape or dtype."""
    bad_shape = np.zeros((*good.shape[:-1], good.shape[-1] + 1), dtype=good.dtype)
    return (
        ErrorInput("x-list", "forward", TypeError, r"x must be a numpy\.ndarray",
                   args=(good.tolist(),)),
        ErrorInput("x-int64", "forward", TypeError,
                   r"x must have dtype float32 or float64, got int64",
                   args=(good.astype(np.int64),)),
        ErrorInput("x-str", "forward", TypeError, r"x must have dtype float32 or float64, got <U",
                   args=(good.astype(str),)),
        ErrorInput("backward-before-forward", "backward", RuntimeError,
                   r"backward: called before forward", dy=good, forward_first=False),
        ErrorInput("dy-wrong-shape", "backward", ValueError,
                   r"dy has shape .* expected .*the forward output", dy=bad_shape),
        ErrorInput("dy-float16", "backward", TypeError, r"dy must have dtype float32 or float64",
                   dy=good.astype(np.float16)),
    )


def float64_into_float32(good: np.ndarray) -> ErrorInput:
    """A float64 input into a layer built for float32: refused, never silently cast."""
    return ErrorInput("x-float64-into-float32", "forward", TypeError,
                      r"x has dtype float64 but the layer computes in float32",
                      args=(good.astype(np.float64),))


def dtype_errors() -> tuple[ErrorInput, ...]:
    """Constructor dtypes a layer with parameters must refuse."""
    return (
        ErrorInput("dtype-int32", "construct", TypeError,
                   r"dtype must be float32 or float64, got int32", kwargs={"dtype": np.int32}),
    )


def impl_errors() -> tuple[ErrorInput, ...]:
    """An impl name the layer does not have."""
    return (
        ErrorInput("impl-unknown", "construct", ValueError,
                   r"impl must be one of 'loop', 'vectorized', got 'fast'",
                   kwargs={"impl": "fast"}),
    )


def parametrized_layer_errors(good: np.ndarray) -> tuple[ErrorInput, ...]:
    """:func:`layer_errors`, the float64-into-float32 input and the bad dtypes together:
    what every layer with parameters must refuse."""
    return layer_errors(good) + (float64_into_float32(good),) + dtype_errors()
