"""The adapter layer on its own (parity_tests/adapters.py): each way an outside class maps onto
the layer contract (construction, attribute paths, parameter and buffer views, the call
orders of layers and losses, one-hot targets with ignored rows, train/eval), checked on small
outside classes without running torch. Every test pins one statement of the module docstring
that a wrong mapping would break: an outside layer's tensors not read, read under the wrong
name, or called with other arguments than its API takes. Fixed data, no PARITY_SEED."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from parity_tests.adapters import Adapter, Param, Target, Unsupported, read, target_entry
from parity_tests.tests.outside_layers import ContractLinear

F64 = np.dtype(np.float64)
F32 = np.dtype(np.float32)
LINEAR = {"in_features": 3, "out_features": 2}


def build(target: Target, config: dict[str, Any], dtype: np.dtype = F64, seed: int = 0,
          input_shape: tuple[int, ...] | None = None) -> Any:
    return target_entry(target, "").build(config, dtype, np.random.default_rng(seed),
                                           input_shape=input_shape)


# --------------------------------------------------------------------------- outside classes
class KeywordLinear:
    """Takes its config as ``**kwargs`` and follows the contract (params/grads dicts)."""

    def __init__(self, **config: Any) -> None:
        self.config_seen = dict(config)
        self.params = {"weight": np.ones((config["in_features"], config["out_features"]))}
        self.grads: dict[str, np.ndarray] = {}


class PositionalLinear:
    """``(fan_in, fan_out)``; W stored (out, in), b stored (1, out)."""

    def __init__(self, fan_in: int, fan_out: int) -> None:
        self.fan_in, self.fan_out = fan_in, fan_out
        self.w = np.arange(fan_in * fan_out, dtype=np.float64).reshape(fan_out, fan_in)
        self.b = np.zeros((1, fan_out))


class LazyLinear:
    """Creates W (in, out) on the first forward, in the input's dtype."""

    def __init__(self, out_features: int) -> None:
        self.out_features = out_features
        self.W: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.W is None:
            self.W = np.ones((x.shape[-1], self.out_features), dtype=x.dtype)
        return x @ self.W


class Recorder:
    """An outside layer or loss that records every call's arguments and returns a marker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def forward(self, *args: Any) -> Any:
        self.calls.append(("forward", args))
        return np.float64(1.5) if len(args) == 2 else args[0] * 2.0

    def backward(self, *args: Any) -> Any:
        self.calls.append(("backward", args))
        return np.full((2, 3), 7.0)

    def apply(self, *args: Any) -> Any:
        self.calls.append(("apply", args))
        return np.full((2, 3), 3.0)


class RunningStats:
    """A batch norm's tensors under its own names: gamma/beta with gradients, mu/var."""

    def __init__(self, num_features: int) -> None:
        self.gamma, self.beta = np.full(num_features, 2.0), np.full(num_features, -1.0)
        self.dgamma = np.full(num_features, 0.5)
        self.mu, self.var = np.full(num_features, 0.25), np.full(num_features, 4.0)


class ContractStats:
    """A contract-following batch norm: params, grads and buffers dicts."""

    def __init__(self, num_features: int) -> None:
        self.params = {"weight": np.ones(num_features), "bias": np.zeros(num_features)}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers = {"running_mean": np.full(num_features, 0.5),
                        "running_var": np.full(num_features, 3.0)}


# --------------------------------------------------------------------------- attribute paths
def test_read_follows_attributes_list_indices_and_string_keys():
    class Holder:
        pass

    holder, inner = Holder(), Holder()
    inner.w = np.ones(2)
    holder.layers = [Holder(), inner]
    holder.named = {"1": np.zeros(3), "W": np.ones(4)}
    assert read(holder, "layers[1].w") is inner.w  # a digit indexes a list
    assert read(holder, "named[1]") is holder.named["1"]  # and is a key of a mapping
    assert read(holder, "named['W']") is holder.named["W"]
    holder.by_index = {0: np.ones(1), 1: np.zeros(1)}  # a mapping keyed by ints
    assert read(holder, "by_index[1]") is holder.by_index[1]
    assert read(holder, lambda layer: layer.layers[1].w) is inner.w


# --------------------------------------------------------------------------- construction
class OpaqueLinear(KeywordLinear):
    """A constructor whose signature inspect cannot read (as a C extension's may be)."""

    __signature__ = "opaque"


def test_a_constructor_taking_keywords_gets_the_whole_config():
    for cls in (KeywordLinear, OpaqueLinear):
        layer = build(Target(cls, "linear"), LINEAR)
        assert layer.outside.config_seen == LINEAR
        assert layer.params["weight"].shape == (3, 2)


def test_args_as_a_mapping_are_keywords_and_as_a_tuple_positional():
    params = {"weight": Param("w", layout="(out, in)"), "bias": Param("b", layout="(1, n)")}
    by_name = Adapter(args=lambda c: {"fan_out": c["out_features"], "fan_in": c["in_features"]},
                      params=params)
    by_place = Adapter(args=lambda c: (c["in_features"], c["out_features"]), params=params)
    for adapter in (by_name, by_place):
        layer = build(Target(PositionalLinear, "linear", adapter), LINEAR)
        assert (layer.outside.fan_in, layer.outside.fan_out) == (3, 2)
        assert layer.params["weight"].shape == (3, 2) and layer.params["bias"].shape == (2,)


def test_a_config_the_constructor_cannot_take_is_refused_by_the_class_name():
    with pytest.raises(Unsupported, match=r"^ContractLinear takes no weight_init \(give"):
        build(Target(ContractLinear, "linear"), {**LINEAR, "weight_init": "zeros"})


def test_a_lazy_layer_creates_its_parameters_in_the_cases_dtype():
    adapter = Adapter(construct=lambda c: LazyLinear(c["out_features"]), lazy=True,
                      params={"weight": Param("W", layout="(in, out)")})
    for dtype in (F32, F64):
        layer = build(Target(LazyLinear, "linear", adapter), {**LINEAR, "bias": False}, dtype,
                      input_shape=(4, 3))
        assert layer.params["weight"].dtype == dtype and layer.params["weight"].shape == (3, 2)


def test_the_shadow_is_built_from_the_cases_generator():
    # The torch reference is built from the shadow: at one seed it holds the same values every
    # time (a repro line promises the same run), at another seed other values.
    first, again, other = (build(Target(ContractLinear, "linear"), LINEAR, seed=seed)
                           for seed in (3, 3, 4))
    for name, value in first.shadow.params.items():
        assert np.array_equal(value, again.shadow.params[name])
    assert not np.array_equal(first.shadow.params["weight"], other.shadow.params["weight"])
    assert np.array_equal(first.params["weight"], again.params["weight"])


# --------------------------------------------------------------------------- names
def test_a_targets_name_and_description_default_to_the_entry_module_and_class():
    entry = target_entry(Target(ContractLinear, "linear"), "--target x")
    assert entry.name == "linear:parity_tests.tests.outside_layers.ContractLinear"
    assert entry.description == f"{entry.name}, checked like linear"
    assert entry.outside and entry.origin == "--target x"
    assert target_entry(Target(ContractLinear, "linear", name="mine"), "").name == "mine"


def test_an_unknown_entry_is_named_with_the_target():
    with pytest.raises(KeyError, match=r"target 'mine': like='lenear' is not a registry"):
        target_entry(Target(ContractLinear, "lenear", name="mine"), "")
    with pytest.raises(KeyError, match=r"target <class '[\w.]+ContractLinear'>: like='lenear'"):
        target_entry(Target(ContractLinear, "lenear"), "")


# --------------------------------------------------------------------------- views
def test_a_param_without_a_gradient_does_not_hide_the_next_ones():
    adapter = Adapter(construct=lambda c: RunningStats(c["num_features"]),
                      params={"weight": Param("gamma"), "bias": Param("beta", grad="dgamma")})
    layer = build(Target(RunningStats, "batch_norm1d", adapter), {"num_features": 3})
    assert set(layer.grads) == {"bias"}
    assert layer.params["weight"] is layer.outside.gamma  # a view: the same array


def test_a_non_array_is_refused_with_where_it_was_read():
    class Listy(RunningStats):
        def __init__(self, num_features: int) -> None:
            super().__init__(num_features)
            self.gamma = [1.0] * num_features

    adapter = Adapter(construct=lambda c: Listy(c["num_features"]),
                      params={"weight": Param("gamma"), "bias": Param("beta")})
    layer = build(Target(Listy, "batch_norm1d", adapter), {"num_features": 3})
    with pytest.raises(TypeError, match=r"^Listy weight: expected a numpy.ndarray, got list"):
        layer.params  # noqa: B018


def test_an_adapters_buffers_are_read_under_the_entrys_names_and_reach_the_reference():
    adapter = Adapter(construct=lambda c: RunningStats(c["num_features"]),
                      params={"weight": Param("gamma", "dgamma"), "bias": Param("beta")},
                      buffers={"running_mean": Param("mu"), "running_var": Param("var")})
    layer = build(Target(RunningStats, "batch_norm1d", adapter), {"num_features": 3})
    assert layer.buffers["running_mean"] is layer.outside.mu
    assert layer.buffers["running_var"] is layer.outside.var
    shadow = layer.reference_layer()
    assert np.array_equal(shadow.buffers["running_mean"], np.full(3, 0.25))
    assert np.array_equal(shadow.buffers["running_var"], np.full(3, 4.0))
    assert np.array_equal(shadow.params["weight"], np.full(3, 2.0))


def test_a_contract_following_layers_buffers_are_its_buffers_dict():
    layer = build(Target(ContractStats, "batch_norm1d"), {"num_features": 3})
    assert set(layer.buffers) == {"running_mean", "running_var"}
    assert layer.buffers["running_mean"] is layer.outside.buffers["running_mean"]
    assert np.array_equal(layer.reference_layer().buffers["running_var"], np.full(3, 3.0))
    layer.outside.buffers = [np.zeros(3)]  # not a mapping: no buffers, not a crash
    assert layer.buffers == {}


def test_config_attributes_come_from_the_shadow():
    layer = build(Target(ContractLinear, "linear"), LINEAR)
    assert (layer.in_features, layer.out_features) == (3, 2)
    assert layer.config() == layer.shadow.config()
    # the softmax error model reads the wrapper's dim: its slack sums over that axis
    assert build(Target(Recorder, "softmax"), {"dim": 0}).dim == 0


# --------------------------------------------------------------------------- train / eval
def test_train_and_eval_reach_the_outside_layer_and_the_reference():
    class WithTrain(ContractStats):
        def __init__(self, num_features: int) -> None:
            super().__init__(num_features)
            self.modes: list[bool] = []

        def train(self, mode: bool) -> None:
            self.modes.append(mode)

    class WithTraining(ContractStats):
        training = True

    trained = build(Target(WithTrain, "batch_norm1d"), {"num_features": 3})
    flagged = build(Target(WithTraining, "batch_norm1d"), {"num_features": 3})
    for mode in (False, True, False):
        trained.train(mode)
        flagged.train(mode)
        assert flagged.outside.training is mode
        assert trained.reference_layer().training is mode
        assert flagged.reference_layer().training is mode
    assert trained.outside.modes == [False, True, False]
    calls: list[bool] = []
    custom = build(Target(WithTraining, "batch_norm1d",
                          Adapter(train=lambda layer, mode: calls.append(mode))),
                   {"num_features": 3})
    custom.train(False)
    assert calls == [False] and custom.outside.training is True


# --------------------------------------------------------------------------- layer calls
def _layer(adapter: Adapter) -> Any:
    return build(Target(Recorder, "identity", adapter), {})


def test_a_layers_forward_and_backward_callables_get_the_layer_x_and_dy():
    x, dy = np.ones((2, 3)), np.full((2, 3), 5.0)
    layer = _layer(Adapter(forward=lambda out, x_: out.apply(x_),
                           backward=lambda out, x_, dy_: out.backward(x_, dy_) * 0 + dy_ * 2))
    assert np.array_equal(layer.forward(x), np.full((2, 3), 3.0))
    assert np.array_equal(layer.backward(dy), dy * 2)
    (_, (seen_x,)), (_, (seen_x2, seen_dy)) = layer.outside.calls
    assert seen_x is x and seen_x2 is x and seen_dy is dy


def test_a_layers_backward_orders():
    x, dy = np.ones((2, 3)), np.full((2, 3), 5.0)
    for spec, expected in (("dy", (dy,)), ("x, dy", (x, dy))):
        layer = _layer(Adapter(backward=spec))
        assert np.array_equal(layer.forward(x), x * 2.0)
        assert np.array_equal(layer.backward(dy), np.full((2, 3), 7.0))
        name, args = layer.outside.calls[-1]
        assert name == "backward" and len(args) == len(expected)
        assert all(a is e for a, e in zip(args, expected, strict=True))
    with pytest.raises(ValueError, match=r"^Adapter\.backward for a layer must be"):
        _layer(Adapter(backward="dy, x")).backward(dy)


# --------------------------------------------------------------------------- loss calls
def _loss(adapter: Adapter, config: dict[str, Any] | None = None) -> Any:
    return build(Target(Recorder, "mse", adapter), config or {})


def test_a_losss_forward_orders_and_callable():
    p, t = np.ones((2, 3)), np.zeros((2, 3))
    for adapter, expected in ((Adapter(forward="prediction, target"), ("forward", (p, t))),
                              (Adapter(forward="target, prediction"), ("forward", (t, p))),
                              (Adapter(forward=lambda out, p_, t_: out.apply(p_, t_)),
                               ("apply", (p, t)))):
        loss = _loss(adapter)
        value = loss.forward(p, t)
        assert np.array_equal(value, 1.5 if expected[0] == "forward" else np.full((2, 3), 3.0))
        name, args = loss.outside.calls[-1]
        assert name == expected[0] and all(a is e for a, e in zip(args, expected[1],
                                                                   strict=True))
    with pytest.raises(ValueError, match=r"^Adapter\.forward for a loss must be 'prediction, "):
        _loss(Adapter(forward="dy")).forward(p, t)


def test_a_losss_backward_orders():
    # Recorder.backward returns 7 everywhere: ∂(Σ loss)/∂p for the orders without dy, which
    # the adapter multiplies by an upstream gradient (4) when there is one; "dy" gets it
    p, t, dy = np.ones((2, 3)), np.zeros((2, 3)), np.full((2, 3), 4.0)
    for spec, given, expected, value in (("none", None, (), 7.0), ("dy", dy, (dy,), 7.0),
                                         ("dy", None, (), 7.0), ("none", dy, (), 28.0),
                                         ("target, prediction", None, (t, p), 7.0),
                                         ("target, prediction", dy, (t, p), 28.0),
                                         ("prediction, target", None, (p, t), 7.0),
                                         ("prediction, target", dy, (p, t), 28.0)):
        loss = _loss(Adapter(backward=spec))
        loss.forward(p, t)
        assert np.array_equal(loss.backward(given), np.full((2, 3), value)), (spec, given)
        name, args = loss.outside.calls[-1]
        assert name == "backward" and len(args) == len(expected), spec
        assert all(a is e for a, e in zip(args, expected, strict=True)), spec
    calls: list[tuple[Any, ...]] = []
    loss = _loss(Adapter(backward=lambda out, p_, t_: calls.append((p_, t_)) or p_ - t_))
    loss.forward(p, t)
    assert np.array_equal(loss.backward(), p - t) and calls[0][0] is p and calls[0][1] is t
    assert np.array_equal(loss.backward(dy), dy * (p - t))
    with pytest.raises(ValueError, match=r"^Adapter\.backward for a loss must be 'dy', 'none'"):
        _loss(Adapter(backward="x, dy")).backward()


def test_a_four_argument_callable_backward_gets_the_upstream_gradient_itself():
    p, t, dy = np.ones((2, 3)), np.zeros((2, 3)), np.full((2, 3), 4.0)
    seen: list[Any] = []

    def backward(_: Any, p_: np.ndarray, t_: np.ndarray, dy_: Any) -> np.ndarray:
        seen.append(dy_)
        return p_ - t_ + 1.0

    loss = _loss(Adapter(backward=backward))
    loss.forward(p, t)
    assert np.array_equal(loss.backward(dy), p - t + 1.0) and seen[-1] is dy  # not chained
    assert np.array_equal(loss.backward(), p - t + 1.0) and seen[-1] is None


def test_the_upstream_gradient_of_a_per_row_loss_spreads_over_its_class_axes():
    rows = np.arange(12.0).reshape(2, 3, 2)  # (N, T, C): dy is (N, T)
    loss = _loss(Adapter(backward=lambda out, p_, t_: rows))
    loss.forward(np.ones((2, 3, 2)), np.zeros((2, 3)))
    dy = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    assert np.array_equal(loss.backward(dy), dy[..., None] * rows)
    with pytest.raises(ValueError, match=r"Recorder backward: the gradient has shape \(2, 3, 2\), "
                       r"which the upstream gradient of the per-element loss, shape \(3, 2\), "
                       r"does not lead"):
        loss.backward(np.ones((3, 2)))
    not_an_array = _loss(Adapter(backward=lambda out, p_, t_: [1.0, 2.0]))
    not_an_array.forward(np.ones(2), np.zeros(2))
    assert not_an_array.backward(np.ones(2)) == [1.0, 2.0]  # left for the dtype check to fail


def test_one_hot_targets_leave_ignored_rows_out_and_their_gradient_zero():
    prediction = np.arange(4 * 3, dtype=np.float64).reshape(4, 3)
    labels = np.array([2, -100, 0, 1])
    seen: dict[str, Any] = {}

    def forward(_: Any, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        seen["p"], seen["t"] = p, t
        return np.arange(1.0, len(p) + 1)  # a per-row loss (reduction="none")

    def backward(_: Any, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        return p - t

    loss = build(Target(Recorder, "cross_entropy",
                        Adapter(targets="one-hot", forward=forward, backward=backward)),
                 {"reduction": "none"})
    per_row = loss.forward(prediction, labels)
    assert np.array_equal(seen["p"], prediction[[0, 2, 3]])
    assert np.array_equal(seen["t"], np.eye(3)[[2, 0, 1]])
    assert np.array_equal(per_row, [1.0, 0.0, 2.0, 3.0])  # the ignored row: 0
    dy = np.array([2.0, 5.0, -1.0, 0.5])
    grad = loss.backward(dy)
    expected = dy[:, None] * (prediction - np.eye(3)[[2, 0, 0, 1]])
    expected[1] = 0.0
    assert np.array_equal(grad, expected)


def test_one_hot_targets_of_k_dim_labels_have_one_column_per_class():
    prediction = np.zeros((2, 4, 3))  # (N, T, C): 3 classes over 4 positions
    labels = np.array([[0, 1, 2, 1], [2, 2, 0, 0]])
    seen: dict[str, Any] = {}
    loss = build(Target(Recorder, "cross_entropy",
                        Adapter(targets="one-hot",
                                forward=lambda _, p, t: seen.setdefault("t", t).sum())),
                 {})
    loss.forward(prediction, labels)
    assert np.array_equal(seen["t"], np.eye(3)[labels])


def test_an_upstream_gradient_reaches_a_loss_with_no_ignored_rows_whole():
    seen: dict[str, Any] = {}

    class PerRow(Recorder):
        def backward(self, *args: Any) -> Any:
            seen["dy"] = args[0]
            return np.zeros((len(args[0]), 2))

    loss = build(Target(PerRow, "cross_entropy", Adapter(targets="one-hot", backward="dy")),
                 {"reduction": "none"})
    loss.forward(np.zeros((3, 2)), np.array([0, 1, 1]))
    dy = np.array([1.0, 2.0, 3.0])
    loss.backward(dy)
    assert seen["dy"] is dy
    loss.forward(np.zeros((3, 2)), np.array([0, -100, 1]))
    loss.backward(dy)
    assert np.array_equal(seen["dy"], [1.0, 3.0])
