"""The layer contract every NumPy layer follows.

``y = layer.forward(x)`` caches what the backward pass needs; ``dx = layer.backward(dy)``
returns dL/dx for the upstream gradient ``dy = dL/dy`` and fills ``layer.grads`` with one
array per entry of ``layer.params`` (same keys, same shapes, same dtype). Composite layers
(blocks) register children; their parameters appear under dotted names such as
``conv1.weight`` so every name maps onto the matching torch module's ``named_parameters()``.

A layer with parameters fixes its dtype (float32 or float64) at construction and refuses
input of another dtype rather than silently up- or down-casting. A parameter-free layer
computes in its input's dtype.

Arrays that backward reads cannot change between forward and backward (torch raises
"one of the variables needed for gradient computation has been modified by an inplace
operation" instead; here the corruption is made impossible). :meth:`Layer._remember_output`
applies two rules to every cache, so each layer (the spatial ones included) gets them
without code of its own:

- an OUTPUT that the cache shares memory with (Sigmoid, Tanh, Softmax, LogSoftmax keep y)
  is returned as a read-only view (:func:`freeze`): ``y += 1`` raises NumPy's
  "assignment destination is read-only" ValueError, before anything is corrupted;
- an INPUT that the cache shares memory with (Linear keeps x) is replaced in the cache by a
  private copy (:func:`detach_cache`): ``x *= 5`` after forward changes the caller's array
  but not the gradients of the forward that ran. An input that is itself a read-only output
  of another layer (:func:`is_frozen`) cannot change, so it is kept without a copy.

Outputs the backward does not read stay writable, and a layer never writes into its input.
Losses follow the same rule for the prediction and the target (:meth:`Loss._remember`).
"""

from __future__ import annotations

import weakref
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

#: The read-only views :func:`freeze` handed out, by id (weak: a dropped view leaves).
_FROZEN: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def freeze(array: np.ndarray) -> np.ndarray:
    """``array`` and every array it is a view of made read-only, returned as a read-only
    view registered as frozen (the arrays are the layer's own: its output and cache).

    NumPy lets a view become writeable again while the array owning the memory is, so the
    owner is frozen too; only code that sets ``view.base.flags`` on purpose could write.
    """
    current: object = array
    while isinstance(current, np.ndarray):
        current.flags.writeable = False
        current = current.base
    view = array.view()
    _FROZEN[id(view)] = view
    return view


def is_frozen(array: np.ndarray) -> bool:
    """Whether ``array`` is (a read-only view of) an output :func:`freeze` handed out, so
    its values cannot change: every array on its chain of bases up to that output is
    read-only."""
    current: object = array
    while isinstance(current, np.ndarray):
        if current.flags.writeable:
            return False
        if _FROZEN.get(id(current)) is current:
            return True
        current = current.base
    return False


def _arrays(cache: Any) -> Iterator[np.ndarray]:
    """Every ndarray in a cache (an array, or tuples/lists/dicts of them)."""
    if isinstance(cache, np.ndarray):
        yield cache
    elif isinstance(cache, (tuple, list)):
        for item in cache:
            yield from _arrays(item)
    elif isinstance(cache, dict):
        for item in cache.values():
            yield from _arrays(item)


def detach_cache(cache: Any, sources: tuple[np.ndarray, ...]) -> Any:
    """``cache`` with every array that may share memory with one of ``sources`` (the
    caller's inputs) replaced by a private copy, unless it is frozen (it cannot change).

    ``np.may_share_memory`` compares memory bounds only (no element is read); a false
    positive costs a copy, never a wrong gradient.
    """
    if isinstance(cache, np.ndarray):
        for source in sources:  # the cheap test first: most arrays share nothing
            if np.may_share_memory(cache, source):
                return cache if is_frozen(cache) else cache.copy()
        return cache
    if isinstance(cache, tuple):
        return tuple([detach_cache(item, sources) for item in cache])
    if isinstance(cache, list):
        return [detach_cache(item, sources) for item in cache]
    if isinstance(cache, dict):
        return {key: detach_cache(item, sources) for key, item in cache.items()}
    return cache


def protect(y: np.ndarray, cache: Any, sources: tuple[np.ndarray, ...]) -> tuple[Any, Any]:
    """``(y, cache)`` made safe against in-place changes between forward and backward: the
    cache's arrays that alias ``sources`` become private copies (:func:`detach_cache`), and
    ``y`` becomes a read-only view (:func:`freeze`) when the cache shares memory with it."""
    cache = detach_cache(cache, sources)
    if isinstance(y, np.ndarray) and any(np.may_share_memory(y, a) for a in _arrays(cache)):
        y = freeze(y)
    return y, cache


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
        #: The input of the forward in progress (set by _check_input, cleared by
        #: _remember_output): what the cache must not alias.
        self._inputs: tuple[np.ndarray, ...] = ()

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
        self._inputs = (array,)
        return array

    def _remember_output(self, y: np.ndarray, cache: Any) -> np.ndarray:
        """Store the backward cache and the output's shape/dtype to validate ``dy`` against,
        protected by :func:`protect`: cached aliases of the input become private copies, and
        an output the cache aliases is returned read-only. Returns the output to hand out."""
        y, self._cache = protect(y, cache, self._inputs)
        self._inputs = ()
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
    """Base class for losses: ``forward(prediction, target)``, ``backward(dy=None)``.

    ``reduction`` is ``"mean"`` (torch's default), ``"sum"`` or ``"none"``. A reduced loss's
    forward returns a Python float and its backward takes no upstream gradient (or a scalar
    one, as ``loss.backward(gradient)`` in torch); with ``"none"`` forward returns the
    per-element loss array and backward requires ``dy``, the upstream gradient of that
    array (same shape and dtype), except for one sample's 0-d loss (as torch).
    """

    REDUCTIONS = ("mean", "sum", "none")
    #: Losses have no parameters or buffers; the empty dicts keep the layer interface.
    params: dict[str, np.ndarray] = {}  # noqa: RUF012 (read-only, never mutated)
    grads: dict[str, np.ndarray] = {}  # noqa: RUF012
    buffers: dict[str, np.ndarray] = {}  # noqa: RUF012

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_choice(self.where, "reduction", reduction, self.REDUCTIONS)
        self._cache: Any = None
        self._output_shape: tuple[int, ...] | None = None
        self._output_dtype: np.dtype | None = None
        self.dtype: np.dtype | None = None

    @property
    def where(self) -> str:
        return type(self).__name__

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        raise NotImplementedError

    def backward(self, dy: object = None) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        return self.forward(prediction, target)

    def _reduced(self, per_element: np.ndarray, denominator: object = None
                 ) -> float | np.ndarray:
        """The forward's result from the per-element losses: their mean (``denominator``,
        default their count; 0 gives NaN as in torch), their sum, or the array itself."""
        self._output_shape = per_element.shape
        self._output_dtype = per_element.dtype
        if self.reduction == "none":
            return per_element
        with np.errstate(over="ignore"):  # losses of ~3e38 sum to inf, as in torch
            total = np.sum(per_element)
        if self.reduction == "sum":
            return float(total)
        count = per_element.size if denominator is None else denominator
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.divide(total, count, dtype=np.float64))

    def _remember(self, cache: Any, *sources: np.ndarray) -> None:
        """Store the backward cache, with private copies of whatever aliases ``sources``
        (the prediction and the target): see :func:`detach_cache`."""
        self._cache = detach_cache(cache, sources)

    def _take_cache(self) -> Any:
        if self._cache is None:
            raise RuntimeError(f"{self.where}.backward: called before forward")
        return self._cache

    def _upstream(self, dy: object) -> np.ndarray | float:
        """The upstream gradient ``dy`` validated: for ``"none"`` an array shaped and typed
        like the per-element loss (required); otherwise None (1) or a real scalar."""
        where = f"{self.where}.backward"
        if self.reduction == "none":
            if dy is None and self._output_shape == ():
                return 1.0  # one sample's 0-d loss: torch's loss.backward() works too
            if dy is None:
                raise TypeError(
                    f"{where}: dy is required with reduction='none': the upstream gradient "
                    f"of the per-element loss, shape {self._output_shape}")
            array = check_float_array(where, "dy", dy)
            assert self._output_shape is not None and self._output_dtype is not None
            check_same_shape(where, "dy", array, self._output_shape, "the per-element loss")
            check_dtype_matches(where, "dy", array, self._output_dtype)
            return array
        if dy is None:
            return 1.0
        if isinstance(dy, np.ndarray) and dy.ndim == 0:
            dy = dy.item()
        if isinstance(dy, bool) or not isinstance(dy, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"{where}: dy must be None or a real scalar with reduction="
                f"{self.reduction!r} (the loss is a scalar), got {type(dy).__name__}")
        return float(dy)
