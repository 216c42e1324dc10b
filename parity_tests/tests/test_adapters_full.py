"""The adapter layer on its own, part two (parity_tests/adapters.py): the gaps of the full
mutation run, each a way an outside class would be read wrongly (its tensors missed, read
from the wrong place, called without itself) or a crash instead of a verdict. Small outside
classes, fixed data, no torch run, no PARITY_SEED."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import pytest

from parity_tests.adapters import Adapter, Param, Target, Unsupported, read, target_entry
from parity_tests.registry import BY_NAME
from parity_tests.tests.outside_layers import ContractLinear
from parity_tests.tests.test_adapters_unit import (
    LINEAR,
    ContractStats,
    PositionalLinear,
    Recorder,
    build,
)


# --------------------------------------------------------------------------- attribute paths
def test_read_indexes_the_object_itself_takes_keys_as_written_and_prefers_string_keys() -> None:
    class Holder:
        pass

    holder = Holder()
    holder.blocks = [{"W": np.ones(2)}]  # a list of dicts: "blocks[0].[W]"
    holder.named = {"W": np.zeros(1), "WX": np.ones(1), "1": np.full(1, 2.0), 1: np.ones(3)}
    assert read(holder, "blocks[0].[W]") is holder.blocks[0]["W"]
    assert read(holder.named, "[W]") is holder.named["W"]  # the layer is itself a mapping
    assert read(holder, "named[WX]") is holder.named["WX"]  # only quotes are stripped
    assert read(holder, "named[1]") is holder.named["1"]  # the string key wins over the int


# --------------------------------------------------------------------------- construction
def test_a_partial_of_a_class_is_a_target_named_after_the_class() -> None:
    layer_class = functools.partial(ContractLinear, bias=False)
    entry = target_entry(Target(layer_class, "linear"), "")
    assert "ContractLinear" in entry.name
    layer = entry.build(LINEAR, np.dtype(np.float64), np.random.default_rng(0))
    assert set(layer.params) == {"weight"}


def test_a_config_a_partial_cannot_take_is_a_skip_naming_every_key() -> None:
    with pytest.raises(Unsupported, match=r"^functools\.partial\(<class '[\w.]+ContractLinear'>"
                       r"\) takes no weight_init, bias_init \(give"):
        build(Target(functools.partial(ContractLinear), "linear"),
              {**LINEAR, "weight_init": "zeros", "bias_init": "zeros"})


def test_an_unknown_entry_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as raised:
        target_entry(Target(ContractLinear, "lenear"), "")
    assert raised.value.args[0].endswith("known: " + ", ".join(BY_NAME))


def test_only_a_lazy_layer_is_run_at_construction() -> None:
    # an extra forward on zeros would crash an embedding (float indices) and move a batch
    # norm's running statistics before the check starts
    layer = build(Target(Recorder, "identity"), {}, input_shape=(2, 3))
    assert layer.outside.calls == []


def test_distinct_seeds_give_distinct_outside_initialisations() -> None:
    # outside layers draw from NumPy's global generator, which the case's generator seeds:
    # a seed sweep must explore as many initialisations as seeds
    weights = {build(Target(ContractLinear, "linear"), LINEAR, seed=seed).params["weight"]
               .tobytes() for seed in range(40)}
    assert len(weights) == 40


# --------------------------------------------------------------------------- views
class OwnStats(ContractStats):
    """Contract params/grads dicts, running statistics under its own names."""

    def __init__(self, num_features: int) -> None:
        super().__init__(num_features)
        del self.buffers
        self.mu, self.var = np.full(num_features, 0.25), np.full(num_features, 4.0)


def test_an_adapters_buffers_are_read_when_the_params_follow_the_contract() -> None:
    adapter = Adapter(construct=lambda c: OwnStats(c["num_features"]),
                      buffers={"running_mean": Param("mu"), "running_var": Param("var")})
    layer = build(Target(OwnStats, "batch_norm1d", adapter), {"num_features": 3})
    assert layer.buffers["running_mean"] is layer.outside.mu
    assert layer.params["weight"] is layer.outside.params["weight"]


def test_a_layer_without_params_has_none_not_the_shadows() -> None:
    layer = build(Target(Recorder, "linear"), LINEAR)
    assert layer.shadow.params  # the entry's own layer has a weight
    assert layer.params == {} and layer.grads == {}


def test_an_attribute_error_inside_params_never_reads_the_shadows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    layer = build(Target(Recorder, "linear"), LINEAR)

    def broken(self: Any, kind: str, grads: bool = False) -> dict[str, np.ndarray]:
        raise AttributeError("'Recorder' object has no attribute 'W'")

    monkeypatch.setattr(type(layer), "_collected", broken)
    for name in ("params", "grads", "buffers"):
        with pytest.raises(RuntimeError, match=rf"^reading {name} of the adapted Recorder "
                           r"raised AttributeError$"):
            getattr(layer, name)
    assert layer.in_features == 3  # config attributes still come from the shadow


def _positional(params: dict[str, Param], config: dict[str, Any]) -> Any:
    adapter = Adapter(args=lambda c: (c["in_features"], c["out_features"]), params=params)
    return build(Target(PositionalLinear, "linear", adapter), config)


def test_a_tensor_the_entry_lacks_or_not_there_yet_does_not_hide_the_next_ones() -> None:
    bias_first = {"bias": Param("b", grad="db", layout="(1, n)"),
                  "weight": Param("w", grad="dw", layout="(out, in)")}
    no_bias = _positional(bias_first, {**LINEAR, "bias": False})
    assert set(no_bias.params) == {"weight"}
    layer = _positional(bias_first, LINEAR)
    layer.outside.dw = np.ones((2, 3))  # db not there yet
    assert set(layer.grads) == {"weight"}


def test_a_gradient_may_be_any_array_like() -> None:
    layer = _positional({"bias": Param("b", grad="db", layout="(1, n)")}, LINEAR)
    layer.outside.db = [[0.5, -1.0]]  # a list, as np.sum(...).tolist() would give
    grad = layer.grads["bias"]
    assert isinstance(grad, np.ndarray) and np.array_equal(grad, [0.5, -1.0])


def test_an_unknown_layout_is_refused_with_where_and_the_known_layouts() -> None:
    layer = _positional({"weight": Param("w", grad="w", layout="(in, out, 1)")}, LINEAR)
    known = r"known: \['\(in, out\)', '\(out, in\)'\]$"
    with pytest.raises(ValueError, match=r"^PositionalLinear weight: no view from layout "
                       r"'\(in, out, 1\)' onto the entry's '\(in, out\)'; " + known):
        layer.params  # noqa: B018
    with pytest.raises(ValueError, match=r"^PositionalLinear gradient of weight: no view "
                       r"from layout '\(in, out, 1\)' onto the entry's '\(in, out\)'; " + known):
        layer.grads  # noqa: B018


# --------------------------------------------------------------------------- train / eval
def test_an_adapters_train_gets_the_outside_layer() -> None:
    adapter = Adapter(train=lambda layer, mode: setattr(layer, "mode", mode))
    layer = build(Target(ContractStats, "batch_norm1d", adapter), {"num_features": 3})
    layer.train(False)
    assert layer.outside.mode is False


# --------------------------------------------------------------------------- loss calls
class RowLoss:
    """A per-row loss (reduction="none") that records its arguments."""

    def __init__(self, **config: Any) -> None:
        self.seen: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        self.seen = (first, second)
        return np.arange(1.0, len(first) + 1)

    def backward(self, prediction: np.ndarray, target: np.ndarray, *dy: Any) -> np.ndarray:
        return prediction - target


def test_ignored_rows_come_back_as_zero_losses_for_either_forward_order() -> None:
    prediction = np.arange(4 * 3, dtype=np.float64).reshape(4, 3)
    labels = np.array([2, -100, 0, 1])
    for order in ("prediction, target", "target, prediction"):
        loss = build(Target(RowLoss, "cross_entropy", Adapter(targets="one-hot", forward=order)),
                     {"reduction": "none"})
        assert np.array_equal(loss.forward(prediction, labels), [1.0, 0.0, 2.0, 3.0]), order
        first = prediction[[0, 2, 3]] if order == "prediction, target" else np.eye(3)[[2, 0, 1]]
        assert np.array_equal(loss.outside.seen[0], first), order


def test_a_losss_callable_backward_gets_the_outside_loss() -> None:
    p, t, dy = np.ones((2, 3)), np.zeros((2, 3)), np.full((2, 3), 4.0)
    for backward in (lambda out, p_, t_: out.backward(p_, t_),
                     lambda out, p_, t_, dy_: dy_ * out.backward(p_, t_)):
        loss = build(Target(RowLoss, "mse", Adapter(backward=backward)), {"reduction": "none"})
        loss.forward(p, t)
        assert np.array_equal(loss.backward(dy), dy * (p - t))


class Compiled:
    """A three-argument backward whose signature inspect cannot read (as a C extension's)."""

    @property
    def __signature__(self) -> Any:
        raise ValueError("no signature found for builtin")

    def __call__(self, outside: Any, prediction: np.ndarray, target: np.ndarray) -> Any:
        return prediction - target


def test_a_backward_without_a_signature_is_the_three_argument_form() -> None:
    with pytest.raises(ValueError, match="no signature"):
        inspect.signature(Compiled())
    p, t, dy = np.ones((2, 3)), np.zeros((2, 3)), np.full((2, 3), 4.0)
    loss = build(Target(RowLoss, "mse", Adapter(backward=Compiled())), {"reduction": "none"})
    loss.forward(p, t)
    assert np.array_equal(loss.backward(dy), dy * (p - t))
