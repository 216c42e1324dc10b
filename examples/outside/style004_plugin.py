"""The adapters of the seed-004-style submission (style004_layers.py).

    parity check --plugin examples/outside/style004_plugin.py
    pytest -p parity_tests.pytest_plugin --parity-plugin examples/outside/style004_plugin.py

``Dense(input_dim, output_dim)`` and ``LeakyReLU(alpha)`` are built from the torch-named
config (``args``); ``Dense`` keeps ``w`` as (out, in) and ``b`` as (1, out); the losses take
one-hot targets and ``backward()``. What the API cannot express (no bias, class weights, a
reduction other than the mean, label smoothing) is SKIP with the reason.
"""

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import style004_layers as layers

from parity_tests.adapters import Adapter, Param, Target

EXPRESSIBLE = {"bias": lambda v: v is True, "weight": lambda v: v is None,
               "reduction": lambda v: v == "mean", "label_smoothing": lambda v: v == 0}


def supports(c: Mapping[str, Any]) -> str | None:
    """Why the config ``c`` cannot be expressed, or None."""
    return next((f"this API cannot express {key}={value!r}" for key, value in c.items()
                 if key in EXPRESSIBLE and not EXPRESSIBLE[key](value)), None)


DENSE = Adapter(args=lambda c: (c["in_features"], c["out_features"]), supports=supports,
                params={"weight": Param("w", "dw", "(out, in)"),
                        "bias": Param("b", "db", "(1, n)")})
LEAKY_RELU = Adapter(args=lambda c: (c.get("negative_slope", 0.01),))
LOSS = Adapter(args=lambda c: (), supports=supports, targets="one-hot")


def targets(ns: ModuleType = layers, prefix: str = "style004") -> list[Target]:
    """The targets for the classes of ``ns`` (this submission's, or any of the same API)."""
    return [Target(ns.Dense, "linear", DENSE, f"{prefix}.Dense"),
            Target(ns.ReLU, "relu", name=f"{prefix}.ReLU"),
            Target(ns.LeakyReLU, "leaky_relu", LEAKY_RELU, f"{prefix}.LeakyReLU"),
            Target(ns.Sigmoid, "sigmoid", name=f"{prefix}.Sigmoid"),
            Target(ns.Tanh, "tanh", name=f"{prefix}.Tanh"),
            Target(ns.Softmax, "softmax", name=f"{prefix}.Softmax"),
            Target(ns.CrossEntropywithSoftmax, "softmax_cross_entropy", LOSS,
                   f"{prefix}.CrossEntropywithSoftmax"),
            Target(ns.MSELoss, "mse", LOSS, f"{prefix}.MSELoss")]


TARGETS = targets()
