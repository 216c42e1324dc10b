"""Check any NumPy implementation against torch: targets and adapters.

A :class:`Target` is an outside class (a student's layer, another library's) checked *like*
a registry entry: the entry's samples, torch reference and checks apply to it. An
:class:`Adapter` says how the outside class maps onto the layer contract, in the four ways
outside APIs differ:

- **construction**: ``construct(config)`` builds the outside layer from the entry's
  torch-named config (``{"in_features": 64, "out_features": 16}``), or ``args(config)``
  gives the target class's constructor arguments (a tuple, or a dict of keywords), so one
  adapter serves every class of the same API; the default is ``cls(**config)``.
  ``supports(config)`` returns a reason when a config cannot be expressed (the check is
  then SKIP, never PASS), or raise :class:`Unsupported` anywhere;
- **parameters**: ``params={"weight": Param("W", grad="grad_W", layout="(in, out)")}`` names
  where each of the entry's parameters and its gradient live (an attribute, a nested
  attribute ``"layer.w"`` or a dict item ``"parameters[W]"``) and their layout, converted
  to the entry's as a *view*, so the arrays stay live; ``lazy=True`` for layers that create
  their parameters on the first forward;
- **the calls**: ``forward`` and ``backward`` give the argument order (``"dy"`` or
  ``"x, dy"`` for a layer's backward; ``"prediction, target"`` or ``"target, prediction"``
  for a loss's forward and ``"dy"``, ``"none"``, ``"prediction, target"`` or ``"target,
  prediction"`` for its backward), or a callable. A loss's backward that takes no upstream
  gradient (``"none"``, the two orders, a callable of three arguments) returns
  ∂(Σ loss)/∂prediction; under ``reduction="none"`` the adapter applies the upstream
  gradient by the chain rule, ∂(Σᵢ dyᵢ ℓᵢ)/∂p = dy ⊙ ∂(Σᵢ ℓᵢ)/∂p (each ℓᵢ depends on its own
  row only; dy broadcast over the trailing class axes). ``"dy"`` and a callable of four
  arguments ``(loss, prediction, target, dy)`` get the upstream gradient themselves (None
  for a reduced loss). ``targets="one-hot"`` converts integer labels (labels equal to the config's
  ``ignore_index`` are left out: the outside loss sees the kept rows, so its mean runs over
  them, as torch's, and their gradient is 0); ``data_format="NCHW"`` transposes images
  both ways;
- **state**: ``train(layer, mode)`` switches train/eval, ``buffers`` names running statistics.

A layer that already follows this project's contract (``forward(x)``, ``backward(dy)``,
``params``/``grads`` dicts under the entry's names and layouts) needs no adapter at all.

How a target is checked: the harness builds the entry's own layer from the same config (the
*shadow*: it gives the torch reference its config and the parameter layouts), builds the
outside layer, and wraps it (:class:`Adapted`) so that ``params`` are the outside layer's
arrays in the entry's layout. The reference copies those values, so both sides start from the
outside layer's own initialisation; every comparison then reads the outside layer's results.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numpy_impl.base import Layer, Loss
from parity_tests.entry import Entry, Unsupported

__all__ = ["CONTRACT", "Adapted", "AdaptedLoss", "Adapter", "Param", "Target", "Unsupported",
           "target_entry"]

Getter = str | Callable[[Any], np.ndarray]


#: Views from an outside parameter layout onto the entry's layout, by (outside, entry).
LAYOUT_VIEWS: dict[tuple[str, str], Callable[[np.ndarray], np.ndarray]] = {
    ("(out, in)", "(in, out)"): lambda a: a.T,
    ("(in, out)", "(in, out)"): lambda a: a,
    ("(out, in, kh, kw)", "(kh, kw, in, out)"): lambda a: a.transpose(2, 3, 1, 0),
    ("(out, in)", "(kh, kw, in, out)"): lambda a: a.T[None, None],  # a 1x1 convolution
    ("(kh, kw, in, out)", "(kh, kw, in, out)"): lambda a: a,
    ("(1, n)", "same"): lambda a: a.reshape(-1),
    ("(n, 1)", "same"): lambda a: a.reshape(-1),
    ("same", "same"): lambda a: a,
}


@dataclass(frozen=True)
class Param:
    """Where an outside layer keeps one parameter (and its gradient), in which layout.

    ``value`` and ``grad`` are an attribute path (``"W"``, ``"layer.w"``, ``"parameters[W]"``)
    or a function of the layer; ``layout`` is the outside layout (``"(out, in)"``,
    ``"(out, in, kh, kw)"``, ``"(1, n)"``; None: the entry's own).
    """

    value: Getter
    grad: Getter | None = None
    layout: str | None = None


@dataclass(frozen=True)
class Adapter:
    """How an outside class maps onto the layer contract (see the module docstring)."""

    construct: Callable[[Mapping[str, Any]], Any] | None = None
    args: Callable[[Mapping[str, Any]], tuple[Any, ...] | Mapping[str, Any]] | None = None
    supports: Callable[[Mapping[str, Any]], str | None] | None = None
    params: Mapping[str, Param] | None = None
    buffers: Mapping[str, Param] = field(default_factory=dict)
    forward: str | Callable[..., Any] = "x"
    backward: str | Callable[..., Any] = "dy"
    targets: str | None = None
    lazy: bool = False
    data_format: str = "NHWC"
    train: Callable[[Any, bool], None] | None = None
    seed_numpy: bool = True


CONTRACT = Adapter()
"""The adapter of a layer that already follows this project's contract (zero glue)."""


@dataclass(frozen=True)
class Target:
    """An outside class checked like the registry entry ``like``; ``name`` defaults to
    ``<like>:<module>.<class>``."""

    layer: Callable[..., Any]
    like: str
    adapter: Adapter = CONTRACT
    name: str | None = None


# --------------------------------------------------------------------------- attribute paths
_ITEM = re.compile(r"^(?P<name>[^\[\]]*)\[(?P<key>[^\[\]]+)\]$")


def read(obj: Any, path: Getter) -> Any:
    """``obj`` followed along ``path`` (``"a.b"``, ``"parameters[W]"``), or ``path(obj)``."""
    if callable(path):
        return path(obj)
    for part in path.split("."):
        item = _ITEM.match(part)
        if item:
            obj = getattr(obj, item["name"]) if item["name"] else obj
            key = item["key"].strip("'\"")
            # digits index a sequence, and a mapping that has them as an int key, not a str
            as_int = key.isdecimal() and (not isinstance(obj, Mapping)
                                          or (key not in obj and int(key) in obj))
            obj = obj[int(key)] if as_int else obj[key]
        else:
            obj = getattr(obj, part)
    return obj


def _view(array: Any, outside: str | None, ours: str, where: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{where}: expected a numpy.ndarray, got {type(array).__name__}")
    if outside is None:
        return array
    key = (outside, ours)
    if key not in LAYOUT_VIEWS:
        known = sorted({o for o, e in LAYOUT_VIEWS if e == ours})
        raise ValueError(f"{where}: no view from layout {outside!r} onto the entry's {ours!r}; "
                         f"known: {known}")
    return LAYOUT_VIEWS[key](array)


# --------------------------------------------------------------------------- the wrapper
def _images_to(data_format: str, array: np.ndarray) -> np.ndarray:
    """NHWC → the outside layer's format (NCHW: a transposed copy)."""
    if data_format == "NCHW" and np.ndim(array) == 4:
        return np.ascontiguousarray(array.transpose(0, 3, 1, 2))
    return array


def _images_from(data_format: str, array: Any) -> Any:
    if data_format == "NCHW" and np.ndim(array) == 4:
        return np.ascontiguousarray(np.asarray(array).transpose(0, 2, 3, 1))
    return array


class AdaptedMixin:
    """The contract on top of an outside layer (see :class:`Adapted`, :class:`AdaptedLoss`)."""

    def _adapt(self, outside: Any, adapter: Adapter, shadow: Any) -> None:
        self.outside, self.adapter, self.shadow = outside, adapter, shadow
        self.PARAM_LAYOUTS = dict(getattr(shadow, "PARAM_LAYOUTS", {}))
        self._x: Any = None
        self._target: Any = None

    def __getattr__(self, name: str) -> Any:
        # Config attributes the torch reference reads (in_features, kernel_size ...) come from
        # the shadow: the entry's own layer built from the same config.
        if name in ("outside", "adapter", "shadow") or name.startswith("__"):
            raise AttributeError(name)
        if hasattr(type(self), name):
            # A property of the wrapper (params, grads, buffers) raised AttributeError:
            # Python then asks here, and the shadow's arrays must not stand in for the
            # outside layer's.
            raise RuntimeError(f"reading {name} of the adapted "
                               f"{type(self.outside).__name__} raised AttributeError")
        return getattr(self.shadow, name)

    def config(self) -> dict[str, Any]:
        return self.shadow.config()

    def _specs(self, kind: str) -> Mapping[str, Param]:
        if kind == "params" and self.adapter.params is None:
            return {}
        return self.adapter.params if kind == "params" else self.adapter.buffers

    def _collected(self, kind: str, grads: bool = False) -> dict[str, np.ndarray]:
        specs = self._specs(kind)
        if kind == "params" and self.adapter.params is None:  # a contract-following layer
            return dict(getattr(self.outside, "grads" if grads else "params", {}))
        if kind == "buffers" and not specs:
            return dict(getattr(self.outside, "buffers", {})) if isinstance(
                getattr(self.outside, "buffers", None), Mapping) else {}
        arrays = {}
        wanted = getattr(self.shadow, kind)  # the entry's tensors for this config, no more
        for name, spec in specs.items():
            if name not in wanted:
                continue
            getter = spec.grad if grads else spec.value
            if getter is None:
                continue
            where = f"{type(self.outside).__name__} {'gradient of ' if grads else ''}{name}"
            try:
                value = read(self.outside, getter)
            except (AttributeError, KeyError, IndexError, TypeError):
                continue  # not there (yet): the comparison reports a missing tensor
            ours = self.PARAM_LAYOUTS.get(name, "same")
            arrays[name] = _view(np.asarray(value) if grads else value, spec.layout, ours,
                                 where)
        return arrays

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._collected("params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._collected("params", grads=True)

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self._collected("buffers")

    def train(self, mode: bool = True) -> Any:
        self.training = mode
        if self.adapter.train is not None:
            self.adapter.train(self.outside, mode)
        elif hasattr(self.outside, "train") and callable(self.outside.train):
            self.outside.train(mode)
        elif hasattr(self.outside, "training"):
            self.outside.training = mode
        return self

    def named_layers(self, prefix: str = "") -> Any:
        yield prefix, self

    def reference_layer(self) -> Any:
        """The shadow holding the outside layer's current parameter and buffer values and
        train/eval mode: what the entry's torch reference is built from (it builds from
        the project's own classes)."""
        for kind in ("params", "buffers"):
            ours = getattr(self.shadow, kind)
            for name, value in getattr(self, kind).items():
                if name in ours:
                    ours[name][...] = value
        if hasattr(self.shadow, "train"):
            self.shadow.train(getattr(self, "training", True))
        return self.shadow


class Adapted(AdaptedMixin, Layer):
    """An outside layer behind the contract: ``forward(x)``, ``backward(dy)``, ``params``."""

    def __init__(self, outside: Any, adapter: Adapter, shadow: Any, dtype: Any) -> None:
        Layer.__init__(self, None)
        self._adapt(outside, adapter, shadow)
        self.dtype = None if dtype is None else np.dtype(dtype)

    def forward(self, x: np.ndarray) -> Any:
        fmt = self.adapter.data_format
        self._x = _images_to(fmt, x)
        call = self.adapter.forward
        y = call(self.outside, self._x) if callable(call) else self.outside.forward(self._x)
        return _images_from(fmt, y)

    def backward(self, dy: np.ndarray) -> Any:
        fmt, spec = self.adapter.data_format, self.adapter.backward
        dy = _images_to(fmt, dy)
        if callable(spec):
            dx = spec(self.outside, self._x, dy)
        elif spec == "x, dy":
            dx = self.outside.backward(self._x, dy)
        elif spec == "dy":
            dx = self.outside.backward(dy)
        else:
            raise ValueError(f"Adapter.backward for a layer must be 'dy', 'x, dy' or a "
                             f"callable, got {spec!r}")
        return _images_from(fmt, dx)


class AdaptedLoss(AdaptedMixin, Loss):
    """An outside loss behind the contract: ``forward(prediction, target)``, ``backward()``."""

    def __init__(self, outside: Any, adapter: Adapter, shadow: Any, dtype: Any) -> None:
        Loss.__init__(self, getattr(shadow, "reduction", "mean"))
        self._adapt(outside, adapter, shadow)
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.training = True
        self._kept: np.ndarray | None = None
        self._shapes: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())

    def _target_for(self, prediction: np.ndarray, target: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """``targets="one-hot"``: integer labels as one-hot rows, the rows whose label is
        ``ignore_index`` left out of both (``self._kept`` remembers which were kept)."""
        self._kept = None
        if self.adapter.targets != "one-hot" or not np.issubdtype(target.dtype, np.integer):
            return prediction, target
        ignore = getattr(self.shadow, "ignore_index", None)
        if ignore is not None and np.any(target == ignore):
            self._kept = target != ignore
            prediction, target = prediction[self._kept], target[self._kept]
        return prediction, np.eye(prediction.shape[-1], dtype=prediction.dtype)[target]

    def _restored(self, kept_rows: Any, shape: tuple[int, ...]) -> Any:
        """An array over the kept rows back in the full ``shape`` (0 at the left-out rows)."""
        if self._kept is None or not isinstance(kept_rows, np.ndarray):
            return kept_rows
        full = np.zeros(shape, dtype=kept_rows.dtype)
        full[self._kept] = kept_rows
        return full

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> Any:
        self._shapes = np.shape(target), np.shape(prediction)  # per-element loss, gradient
        prediction, target = self._target_for(prediction, target)
        self._x, self._target = prediction, target
        spec = self.adapter.forward
        if callable(spec):
            return self._restored(spec(self.outside, prediction, target), self._shapes[0])
        if spec == "target, prediction":
            return self._restored(self.outside.forward(target, prediction), self._shapes[0])
        if spec in ("x", "prediction, target"):
            return self._restored(self.outside.forward(prediction, target), self._shapes[0])
        raise ValueError(f"Adapter.forward for a loss must be 'prediction, target', "
                         f"'target, prediction' or a callable, got {spec!r}")

    def backward(self, dy: np.ndarray | None = None) -> Any:
        return self._restored(self._outside_backward(
            dy if dy is None or self._kept is None else dy[self._kept]), self._shapes[1])

    def _outside_backward(self, dy: np.ndarray | None) -> Any:
        spec = self.adapter.backward
        if callable(spec) and _takes(spec, 4):
            return spec(self.outside, self._x, self._target, dy)
        if spec == "dy":
            return self.outside.backward() if dy is None else self.outside.backward(dy)
        if callable(spec):
            grad = spec(self.outside, self._x, self._target)
        elif spec == "none":
            grad = self.outside.backward()
        elif spec == "target, prediction":
            grad = self.outside.backward(self._target, self._x)
        elif spec == "prediction, target":
            grad = self.outside.backward(self._x, self._target)
        else:
            raise ValueError(f"Adapter.backward for a loss must be 'dy', 'none', 'target, "
                             f"prediction', 'prediction, target' or a callable, got {spec!r}")
        return grad if dy is None else self._chained(dy, grad)

    def _chained(self, dy: np.ndarray, grad: Any) -> Any:
        """dy ⊙ ∂(Σ loss)/∂prediction, dy broadcast over the gradient's trailing axes."""
        if not isinstance(grad, np.ndarray):
            return grad  # the comparison reports what the backward returned
        if grad.shape[:dy.ndim] != dy.shape:
            raise ValueError(
                f"{type(self.outside).__name__} backward: the gradient has shape "
                f"{grad.shape}, which the upstream gradient of the per-element loss, shape "
                f"{dy.shape}, does not lead (Adapter.backward={self.adapter.backward!r} "
                f"takes no upstream gradient, so the adapter applies it)")
        return dy.reshape(dy.shape + (1,) * (grad.ndim - dy.ndim)) * grad


def _takes(function: Callable[..., Any], count: int) -> bool:
    """Whether ``function`` accepts ``count`` positional arguments."""
    try:
        inspect.signature(function).bind(*([None] * count))
    except (TypeError, ValueError):  # ValueError: no signature (some builtins)
        return False
    return True


# --------------------------------------------------------------------------- targets
def _numpy_seed(rng: np.random.Generator | None) -> None:
    """Outside layers often draw their weights from NumPy's global generator: seed it from
    the case's generator so every run of a case starts from the same weights."""
    if rng is not None:
        np.random.seed(int(rng.integers(2**31)))


def adapted_factory(target: Target, like: Entry) -> Callable[..., Any]:
    """The factory the target's entry builds with: ``factory(**config, dtype=, rng=,
    input_shape=)`` → the wrapped outside layer."""
    adapter = target.adapter

    def factory(dtype: Any = None, rng: np.random.Generator | None = None,
                input_shape: tuple[int, ...] | None = None, **config: Any) -> Any:
        if adapter.supports is not None:
            reason = adapter.supports(config)
            if reason:
                raise Unsupported(reason)
        shadow = like.build(config, dtype, rng)
        if adapter.seed_numpy:
            _numpy_seed(rng)
        if adapter.construct is not None:
            outside = adapter.construct(config)
        elif adapter.args is not None:
            args = adapter.args(config)
            outside = (target.layer(**args) if isinstance(args, Mapping)
                       else target.layer(*args))
        else:
            outside = target.layer(**_accepted(target.layer, config, dtype))
        wrapper_cls = AdaptedLoss if isinstance(shadow, Loss) else Adapted
        wrapper = wrapper_cls(outside, adapter, shadow, getattr(shadow, "dtype", dtype))
        if adapter.lazy and input_shape is not None and wrapper_cls is Adapted:
            dtype_ = np.dtype(dtype) if dtype is not None else np.float64
            wrapper.forward(np.zeros(input_shape, dtype=dtype_))  # creates the parameters
        return wrapper

    factory.__name__ = getattr(target.layer, "__name__", "target")
    factory.__doc__ = getattr(target.layer, "__doc__", None)
    return factory


def _accepted(cls: Callable[..., Any], config: Mapping[str, Any], dtype: Any
              ) -> dict[str, Any]:
    """The config for the outside constructor (a contract-following class with torch's
    names takes it all), plus ``dtype`` when the constructor takes one."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return dict(config)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(config)
    missing = [key for key in config if key not in parameters]
    if missing:
        raise Unsupported(f"{getattr(cls, '__name__', cls)} takes no {', '.join(missing)} "
                          f"(give an Adapter with args= or construct= to map them)")
    extra = {"dtype": dtype} if dtype is not None and "dtype" in parameters else {}
    return {**config, **extra}


def target_entry(target: Target, origin: str) -> Entry:
    """The registry entry ``target.like`` with the outside layer in place of the project's:
    the same samples, reference, checks and tolerances; ``origin`` is the command-line
    option that brings it in (for repro lines)."""
    from parity_tests.registry import BY_NAME

    if target.like not in BY_NAME:
        raise KeyError(f"target {target.name or target.layer!r}: like={target.like!r} is not "
                       f"a registry entry; known: {', '.join(BY_NAME)}")
    like = BY_NAME[target.like]
    name = target.name or (f"{target.like}:{getattr(target.layer, '__module__', '?')}."
                           f"{getattr(target.layer, '__qualname__', target.layer)}")
    return dataclasses.replace(like, name=name, layer=adapted_factory(target, like),
                               origin=origin, outside=True,
                               description=f"{name}, checked like {target.like}")
