"""The layer contract every NumPy layer follows.

``y = layer.forward(x)`` caches what the backward pass needs; ``dx = layer.backward(dy)``
returns dL/dx for the upstream gradient ``dy = dL/dy`` and fills ``layer.grads`` with one
array per entry of ``layer.params`` (same keys, same shapes, same dtype). Composite layers
(blocks) register children; their parameters appear under dotted names such as
``conv1.weight`` so every name maps onto the matching torch module's ``named_parameters()``.

A layer with parameters fixes its dtype (float32 or float64) at construction and refuses
input of another dtype rather than silently up- or down-casting. A parameter-free layer
computes in its input's dtype.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from numpy_impl.validation import (
    check_choice,
    check_dtype_matches,
    check_float_array,
    check_same_shape,
    resolve_dtype,
)


class Layer:
    """Base class: parameters, gradients, buffers, children and train/eval mode."""

    #: Names of the alternative computation paths (``impl=``) a layer offers, if any.
    IMPLS: tuple[str, ...] = ()
    #: Layouts of parameters stored other than torch's, by name: ``"(in, out)"`` (Linear's
    #: weight) or ``"(kh, kw, in, out)"`` (Conv2D's); the torch references convert them.
    PARAM_LAYOUTS: dict[str, str] = {}  # noqa: RUF012 (read-only class data)

    def __init__(self, dtype: object = None) -> None:
        self.dtype: np.dtype | None = None if dtype is None else resolve_dtype(self.where, dtype)
        self.training = True
        self._params: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}
        self._buffers: dict[str, np.ndarray] = {}
        self._children: dict[str, Layer] = {}
        self._cache: Any = None
        self._output_shape: tuple[int, ...] | None = None
        self._output_dtype: np.dtype | None = None

    # ----------------------------------------------------------------- identity
    @property
    def where(self) -> str:
        """Prefix for error messages (the class name)."""
        return type(self).__name__

    def config(self) -> dict[str, Any]:
        """The constructor arguments, enough to rebuild the layer or its torch twin."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------- state
    def add_child(self, name: str, layer: Layer) -> Layer:
        self._children[name] = layer
        return layer

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Trainable parameters by torch-style dotted name (arrays are shared, not copied)."""
        return self._collect("_params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients of the last backward pass, keyed like ``params``."""
        return self._collect("_grads")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state such as batch-norm running statistics."""
        return self._collect("_buffers")

    def _collect(self, attribute: str) -> dict[str, np.ndarray]:
        collected = dict(getattr(self, attribute))
        for child_name, child in self._children.items():
            for name, value in child._collect(attribute).items():
                collected[f"{child_name}.{name}"] = value
        return collected

    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, Layer]]:
        yield prefix, self
        for name, child in self._children.items():
            yield from child.named_layers(f"{prefix}.{name}" if prefix else name)

    def train(self, mode: bool = True) -> Layer:
        for _, layer in self.named_layers():
            layer.training = mode
        return self

    def eval(self) -> Layer:
        return self.train(False)

    def zero_grad(self) -> None:
        for _, layer in self.named_layers():
            layer._grads = {name: np.zeros_like(p) for name, p in layer._params.items()}

    # ----------------------------------------------------------------- passes
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # ----------------------------------------------------------------- helpers
    def _check_input(self, x: object, name: str = "x") -> np.ndarray:
        """A float32/float64 array, of the layer's dtype when the layer has one."""
        where = f"{self.where}.forward"
        array = check_float_array(where, name, x)
        if self.dtype is not None:
            check_dtype_matches(where, name, array, self.dtype)
        return array

    def _remember_output(self, y: np.ndarray, cache: Any) -> np.ndarray:
        """Store the backward cache and the output's shape/dtype to validate ``dy`` against."""
        self._cache = cache
        self._output_shape = y.shape
        self._output_dtype = y.dtype
        return y

    def _take_cache(self, dy: object) -> Any:
        """Validate the upstream gradient against the last output and return the cache."""
        where = f"{self.where}.backward"
        if self._output_shape is None:
            raise RuntimeError(f"{where}: called before forward; run forward(x) first")
        array = check_float_array(where, "dy", dy)
        check_same_shape(where, "dy", array, self._output_shape, "the forward output")
        assert self._output_dtype is not None
        check_dtype_matches(where, "dy", array, self._output_dtype)
        return self._cache


class TwoPathLayer(Layer):
    """A layer with two computation paths that must agree with each other and with torch:
    ``impl="loop"``, the readable textbook form of the seeds, and ``impl="vectorized"``,
    the fast one. Subclasses write ``_backward_loop(cache, dy)`` and
    ``_backward_vectorized(cache, dy)``; ``forward`` stores whatever cache its path needs.
    """

    IMPLS = ("loop", "vectorized")

    def __init__(self, impl: str = "vectorized", dtype: object = None) -> None:
        super().__init__(dtype)
        self.impl = check_choice(self.where, "impl", impl, self.IMPLS)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._take_cache(dy)
        if self.impl == "loop":
            return self._backward_loop(cache, dy)
        return self._backward_vectorized(cache, dy)

    def _backward_loop(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward_vectorized(self, cache: Any, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Loss:
    """Base class for losses: ``forward(prediction, target) -> float``, ``backward() -> dL/dpred``.

    ``reduction`` is ``"mean"`` (torch's default) or ``"sum"``.
    """

    REDUCTIONS = ("mean", "sum")
    #: Losses have no parameters or buffers; the empty dicts keep the layer interface.
    params: dict[str, np.ndarray] = {}  # noqa: RUF012 (read-only, never mutated)
    grads: dict[str, np.ndarray] = {}  # noqa: RUF012
    buffers: dict[str, np.ndarray] = {}  # noqa: RUF012

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_choice(self.where, "reduction", reduction, self.REDUCTIONS)
        self._cache: Any = None
        self.dtype: np.dtype | None = None

    @property
    def where(self) -> str:
        return type(self).__name__

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> float:
        return self.forward(prediction, target)

    def _take_cache(self) -> Any:
        if self._cache is None:
            raise RuntimeError(f"{self.where}.backward: called before forward")
        return self._cache
