"""The adapters of the seed-000/001-style submission (style000_layers.py).

    parity check --plugin examples/outside/style000_plugin.py
    pytest -p parity_tests.pytest_plugin --parity-plugin examples/outside/style000_plugin.py

Its constructors already take torch's names (``Linear(in_features, out_features)``), so
the default construction serves, and a config it cannot express (``bias=False``,
``reduction="sum"``, ``dim=0``) is SKIP with the reason "<class> takes no <option>".
"""

from types import ModuleType

import style000_layers as layers

from parity_tests.adapters import Adapter, Param, Target

LINEAR = Adapter(params={"weight": Param("W", "grad_W"), "bias": Param("b", "grad_b")})
CROSS_ENTROPY = Adapter(targets="one-hot")


def targets(ns: ModuleType = layers, prefix: str = "style000") -> list[Target]:
    """The targets for the classes of ``ns`` (this submission's, or any of the same API)."""
    return [Target(ns.Linear, "linear", LINEAR, f"{prefix}.Linear"),
            Target(ns.Sigmoid, "sigmoid", name=f"{prefix}.Sigmoid"),
            Target(ns.Softmax, "softmax", name=f"{prefix}.Softmax"),
            Target(ns.CrossEntropyLoss, "cross_entropy", CROSS_ENTROPY,
                   f"{prefix}.CrossEntropyLoss")]


TARGETS = targets()
