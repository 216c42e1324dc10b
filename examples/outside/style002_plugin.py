"""The adapters of the seed-002-style submission (style002_layers.py).

    parity check --plugin examples/outside/style002_plugin.py
    pytest -p parity_tests.pytest_plugin --parity-plugin examples/outside/style002_plugin.py

Layers are built from the torch-named config (``args``), create their parameters on the
first forward (``lazy``) and keep them in dicts; activations take ``backward(Z, dY)``; the
loss is called target first with one-hot targets. What the API cannot express (no bias, a
stride or padding of two values, dilation, groups, ceil mode, class weights, a reduction
other than the mean) is SKIP with the reason.
"""

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import style002_layers as layers

from parity_tests.adapters import Adapter, Param, Target


def one(v: Any) -> Any:
    return v[0] if isinstance(v, tuple) else v


def pair(v: Any) -> tuple[Any, Any]:
    return tuple(v) if isinstance(v, tuple) else (v, v)


EXPRESSIBLE = {"bias": lambda v: v is True, "dilation": lambda v: pair(v) == (1, 1),
               "groups": lambda v: v == 1, "padding_mode": lambda v: v == "zeros",
               "ceil_mode": lambda v: not v, "return_indices": lambda v: not v,
               "count_include_pad": lambda v: v is True, "divisor_override": lambda v: v is None,
               "weight": lambda v: v is None, "reduction": lambda v: v == "mean",
               "stride": lambda v: len(set(pair(v))) == 1,
               "padding": lambda v: len(set(pair(v))) == 1}


def supports(c: Mapping[str, Any]) -> str | None:
    """Why the config ``c`` cannot be expressed, or None."""
    return next((f"this API cannot express {key}={value!r}" for key, value in c.items()
                 if key in EXPRESSIBLE and not EXPRESSIBLE[key](value)), None)


def pool_supports(c: Mapping[str, Any]) -> str | None:
    return supports({**c, "stride": c.get("stride") or c["kernel_size"]})  # torch's default


def pool(mode: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    return lambda c: (pair(c["kernel_size"]), mode, one(c.get("stride") or c["kernel_size"]),
                      one(c.get("padding", 0)))


PARAMS = {"weight": Param("parameters[W]", "gradients[W]"),
          "bias": Param("parameters[b]", "gradients[b]", "(1, n)")}
ACTIVATION = Adapter(backward="x, dy")
FULLY_CONNECTED = Adapter(args=lambda c: (c["out_features"], "linear"), supports=supports,
                          lazy=True, params=PARAMS)
CONV = Adapter(args=lambda c: (c["out_channels"], pair(c["kernel_size"]), "linear",
                               one(c.get("stride", 1)), one(c.get("padding", 0))),
               supports=supports, lazy=True, params=PARAMS)
MAX_POOL = Adapter(args=pool("max"), supports=pool_supports)
AVG_POOL = Adapter(args=pool("average"), supports=pool_supports)
CROSS_ENTROPY = Adapter(args=lambda c: ("cross_entropy",), supports=supports,
                        forward="target, prediction", backward="target, prediction",
                        targets="one-hot")


def targets(ns: ModuleType = layers, prefix: str = "style002") -> list[Target]:
    """The targets for the classes of ``ns`` (this submission's, or any of the same API)."""
    return [Target(ns.FullyConnected, "linear", FULLY_CONNECTED, f"{prefix}.FullyConnected"),
            Target(ns.Linear, "identity", ACTIVATION, f"{prefix}.Linear"),
            Target(ns.ReLU, "relu", ACTIVATION, f"{prefix}.ReLU"),
            Target(ns.Sigmoid, "sigmoid", ACTIVATION, f"{prefix}.Sigmoid"),
            Target(ns.SoftMax, "softmax", ACTIVATION, f"{prefix}.SoftMax"),
            Target(ns.Conv2D, "conv2d", CONV, f"{prefix}.Conv2D"),
            Target(ns.Pool2D, "max_pool2d", MAX_POOL, f"{prefix}.Pool2D[max]"),
            Target(ns.Pool2D, "avg_pool2d", AVG_POOL, f"{prefix}.Pool2D[average]"),
            Target(ns.CrossEntropy, "cross_entropy", CROSS_ENTROPY, f"{prefix}.CrossEntropy")]


TARGETS = targets()
