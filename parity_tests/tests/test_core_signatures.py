"""Torch's signatures, defaults and input contract of the core and normalization layers (the
SE blocks: the seed's modules' signatures).

- One tuple of positional arguments builds the NumPy layer and the torch module, and the
  two agree (forward and backward); the positional parameters carry torch's names in
  torch's order and torch's defaults; the project's own arguments are keyword-only.
- ``Class(**layer.config())`` rebuilds an equivalent layer, for every registry sample.
- Array subclasses are refused by every registry layer (masked arrays, ``np.matrix``).
- Changing x or y in place between forward and backward cannot corrupt the gradients of
  any registry layer: outputs the backward reads are read-only, inputs it reads are
  private copies (numpy_impl/base.py).
- The torch behaviours behind the non-finite samples, as numbers (checked against torch
  here too, so the values below cannot go stale).
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from numpy_impl import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    CrossEntropyLoss,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MSELoss,
    ReLU,
    SEBlock,
    SEResNetBlock,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropyLoss,
    Tanh,
)
from numpy_impl.base import Loss, detach_cache, is_frozen, protect
from numpy_impl.conv import Conv2D
from numpy_impl.reshape import Flatten
from parity_tests.engine import build_case, run_numpy
from parity_tests.registry import REGISTRY, Case
from parity_tests.seeding import case_rng, seed_from_env
from torch_ref import blocks as ref_blocks
from torch_ref.base import link_module

SEED = seed_from_env()
F64 = np.dtype(np.float64)
NAN, INF = float("nan"), float("inf")


def _tensors(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The same arguments for torch: arrays become tensors (torch takes a Tensor weight)."""
    return tuple(torch.from_numpy(np.asarray(a, dtype=np.float64)) if isinstance(a, list)
                 else a for a in args)


def _close(actual: Any, expected: torch.Tensor, what: str) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               expected.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=what)


# --------------------------------------------------------------------------- one tuple
#: (NumPy class, torch class, positional args for both, input shape, channels-first axis
#: permutation for torch or None, extra NumPy keywords)
MODULE_CASES: list[tuple[type, type, tuple[Any, ...], tuple[int, ...]]] = [
    (Linear, nn.Linear, (5, 3), (4, 5)),
    (Linear, nn.Linear, (5, 3, False), (2, 3, 5)),
    (BatchNorm1d, nn.BatchNorm1d, (3,), (6, 3)),
    (BatchNorm1d, nn.BatchNorm1d, (3, 1e-3, None, True, True), (4, 5, 3)),
    (BatchNorm2d, nn.BatchNorm2d, (3, 1e-4, 0.5, False), (2, 4, 4, 3)),
    (BatchNorm2d, nn.BatchNorm2d, (3, 1e-5, 0.1, True, False), (2, 4, 4, 3)),
    (BatchNorm3d, nn.BatchNorm3d, (3, 1e-5, 0.2), (2, 2, 3, 2, 3)),
    (Softmax, nn.Softmax, (1,), (3, 4, 5)),
    (Softmax, nn.Softmax, (-1,), (3, 4)),
    (LogSoftmax, nn.LogSoftmax, (0,), (3, 4)),
    (LeakyReLU, nn.LeakyReLU, (0.2,), (4, 5)),
    (LeakyReLU, nn.LeakyReLU, (-0.5, False), (4, 5)),
    (ReLU, nn.ReLU, (False,), (4, 5)),
    (ReLU, nn.ReLU, (), (4, 5)),
    (Sigmoid, nn.Sigmoid, (), (4, 5)),
    (Tanh, nn.Tanh, (), (4, 5)),
    (Identity, nn.Identity, (), (4, 5)),
]


def _layer_id(case: tuple[Any, ...]) -> str:
    return f"{case[0].__name__}{case[2]}"


@pytest.mark.parametrize("case", MODULE_CASES, ids=_layer_id)
def test_one_tuple_of_positional_arguments_builds_both_and_they_agree(case):
    numpy_class, torch_class, args, shape = case
    accepted = inspect.signature(numpy_class).parameters
    extra = {k: v for k, v in {"dtype": np.float64, "rng": 0}.items() if k in accepted}
    layer = numpy_class(*args, **extra)
    module = torch_class(*args)
    channels_first = numpy_class in (BatchNorm1d, BatchNorm2d, BatchNorm3d) and len(shape) > 2
    rng = case_rng(SEED, f"signatures-{_layer_id(case)}")
    for value in layer.params.values():
        value[...] = rng.standard_normal(value.shape)
    link_module(layer, module)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(shape[:-1] + (3,) if numpy_class is Linear else shape)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y_t = module(xt.movedim(-1, 1)).movedim(1, -1) if channels_first else module(xt)
    y_t.backward(torch.from_numpy(dy))
    _close(layer.forward(x), y_t, "output")
    _close(layer.backward(dy), xt.grad, "input gradient")
    for name, parameter in module.named_parameters():
        grad = parameter.grad.T if numpy_class is Linear and name == "weight" else parameter.grad
        _close(layer.grads[name], grad, f"grad[{name}]")
    if getattr(layer, "track_running_stats", False):
        assert layer.num_batches_tracked == int(module.num_batches_tracked) == 1
        for name in ("running_mean", "running_var"):
            _close(layer.buffers[name], getattr(module, name), name)


def _probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    logits = rng.standard_normal(shape)
    return np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)


#: (NumPy loss, torch loss, positional args for both, prediction shape, target kind)
LOSS_CASES: list[tuple[type, type, tuple[Any, ...], tuple[int, ...], str]] = [
    (SoftmaxCrossEntropyLoss, nn.CrossEntropyLoss, (), (6, 4), "labels"),
    (SoftmaxCrossEntropyLoss, nn.CrossEntropyLoss,
     ([0.5, 2.0, 1.0, 3.0], None, 1, None, "sum", 0.1), (6, 4), "labels"),
    (SoftmaxCrossEntropyLoss, nn.CrossEntropyLoss,
     ([0.5, 2.0, 1.0, 3.0], None, -100, None, "none", 0.2), (3, 5, 4), "probabilities"),
    (SoftmaxCrossEntropyLoss, nn.CrossEntropyLoss, (None, None, 2, None, "mean", 0.3),
     (2, 3, 4), "labels"),
    (CrossEntropyLoss, nn.NLLLoss, ([0.5, 2.0, 1.0, 3.0], None, 0, None, "mean"), (6, 4),
     "labels"),
    (CrossEntropyLoss, nn.NLLLoss, (None, None, -100, None, "none"), (2, 3, 4), "labels"),
    (MSELoss, nn.MSELoss, (None, None, "sum"), (4, 5), "values"),
    (MSELoss, nn.MSELoss, (), (4, 5), "values"),
]


@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: f"{c[0].__name__}{c[2]}-{c[4]}")
def test_one_tuple_of_positional_arguments_builds_both_losses_and_they_agree(case):
    numpy_class, torch_class, args, shape, kind = case
    loss, module = numpy_class(*args), torch_class(*_tensors(args))
    rng = case_rng(SEED, f"signatures-{numpy_class.__name__}{args}")
    x = _probabilities(rng, shape) if numpy_class is CrossEntropyLoss else (
        rng.standard_normal(shape))
    if kind == "labels":
        target = rng.integers(0, shape[-1], size=shape[:-1])
        target[0] = getattr(loss, "ignore_index", 0) if len(args) > 2 else target[0]
    elif kind == "probabilities":
        target = _probabilities(rng, shape)
    else:
        target = rng.standard_normal(shape)
    out = loss.forward(x, target)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    inputs = torch.log(xt) if numpy_class is CrossEntropyLoss else xt
    target_t = torch.from_numpy(target)
    if inputs.dim() > 2:  # torch's classes on dim 1
        inputs = inputs.movedim(-1, 1)
        target_t = target_t.movedim(-1, 1) if kind == "probabilities" else target_t
    y_t = module(inputs, target_t)
    dy = rng.standard_normal(np.shape(out)) if np.ndim(out) else None
    y_t.backward(None if dy is None else torch.from_numpy(dy))
    _close(out, y_t, "loss")
    _close(loss.backward(dy), xt.grad, "gradient")


#: Our class -> (torch class, positional names torch has that we leave out, defaults that
#: differ on purpose).
SIGNATURES: dict[type, tuple[type, set[str], dict[str, Any]]] = {
    Linear: (nn.Linear, {"device", "dtype"}, {}),
    BatchNorm1d: (nn.BatchNorm1d, {"device", "dtype"}, {}),
    BatchNorm2d: (nn.BatchNorm2d, {"device", "dtype"}, {}),
    BatchNorm3d: (nn.BatchNorm3d, {"device", "dtype"}, {}),
    Softmax: (nn.Softmax, set(), {"dim": -1}),  # torch: None, the deprecated implicit dim
    LogSoftmax: (nn.LogSoftmax, set(), {"dim": -1}),
    LeakyReLU: (nn.LeakyReLU, set(), {}),
    ReLU: (nn.ReLU, set(), {}),
    Sigmoid: (nn.Sigmoid, set(), {}),
    Tanh: (nn.Tanh, set(), {}),
    SoftmaxCrossEntropyLoss: (nn.CrossEntropyLoss, set(), {}),
    CrossEntropyLoss: (nn.NLLLoss, set(), {}),
    MSELoss: (nn.MSELoss, set(), {}),
    # torch has no SE blocks: the seed's modules are the spec (their reference is built from
    # the layer's own stride and reduction, so no parity check sees a wrong default)
    SEBlock: (ref_blocks.SEBlock, set(), {}),
    SEResNetBlock: (ref_blocks.SEResNetBlock, set(), {}),
}


def _positional(cls: type) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]


@pytest.mark.parametrize("cls", SIGNATURES, ids=lambda c: c.__name__)
def test_positional_parameters_are_torchs_names_order_and_defaults(cls):
    torch_class, left_out, differing = SIGNATURES[cls]
    ours = _positional(cls)
    theirs = [p for p in _positional(torch_class) if p.name not in left_out]
    assert [p.name for p in ours] == [p.name for p in theirs]
    for mine, torch_parameter in zip(ours, theirs, strict=True):
        expected = differing.get(mine.name, torch_parameter.default)
        if mine.name != "weight":  # a tensor default would not compare; both are None
            assert mine.default == expected, mine.name
    keyword_only = {p.name for p in inspect.signature(cls.__init__).parameters.values()
                    if p.kind is p.KEYWORD_ONLY}
    torch_keyword_only = {p.name for p in inspect.signature(torch_class.__init__).parameters
                          .values() if p.kind is p.KEYWORD_ONLY}
    assert torch_keyword_only <= keyword_only  # BatchNorm's bias


def test_the_projects_own_arguments_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        Linear(3, 2, True, "kaiming_uniform")  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional"):
        Softmax(-1, "loop")  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional"):
        BatchNorm2d(3, 1e-5, 0.1, True, True, np.float64)  # type: ignore[misc]


def test_deprecated_torch_arguments_keep_their_place_and_are_refused():
    """nn.CrossEntropyLoss(w, None, 3) puts 3 in ignore_index; so does ours, and a value in
    size_average's place is refused, never read as ignore_index."""
    assert SoftmaxCrossEntropyLoss(None, None, 3).ignore_index == 3
    with pytest.raises(ValueError, match="size_average is deprecated"):
        SoftmaxCrossEntropyLoss(None, 3)
    with pytest.raises(ValueError, match="reduce is deprecated"):
        MSELoss(None, False)


def test_default_arguments_are_torchs():
    assert LeakyReLU().negative_slope == nn.LeakyReLU().negative_slope == 0.01
    bn, bn_t = BatchNorm2d(4), nn.BatchNorm2d(4)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (
        bn_t.eps, bn_t.momentum, bn_t.affine, bn_t.track_running_stats)
    ce, ce_t = SoftmaxCrossEntropyLoss(), nn.CrossEntropyLoss()
    assert (ce.ignore_index, ce.reduction, ce.label_smoothing, ce.weight) == (
        ce_t.ignore_index, ce_t.reduction, ce_t.label_smoothing, ce_t.weight)
    assert Linear(3, 2).use_bias and nn.Linear(3, 2).bias is not None
    # the seed modules' defaults read off built layers too, not only off the signatures (a
    # wrapper such as a mutation tool's keeps the signature of the function it replaces)
    assert SEBlock(32).reduction == 16  # a bottleneck of 2 here
    block = SEResNetBlock(32, 32)
    assert (block.stride, block.reduction, block.se.reduction) == (1, 16, 16)


def test_linear_torch_default_bias_is_torchs_bound():
    """bias_init="torch_default": U(−1/√in, 1/√in), the bound torch's reset_parameters uses
    (fan_in of the (out, in) weight)."""
    layer = Linear(25, 400, bias_init="torch_default", rng=0, dtype=np.float64)
    module = nn.Linear(25, 400)
    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
    bound = 1 / np.sqrt(fan_in)
    bias = layer.params["bias"]
    assert np.abs(bias).max() <= bound and np.abs(module.bias.detach().numpy()).max() <= bound
    assert bias.max() > 0.95 * bound and bias.min() < -0.95 * bound  # spans the interval
    assert not Linear(25, 400, rng=0).params["bias"].any()  # the default: zeros
    with pytest.raises(ValueError, match="bias_init must be one of 'zeros', 'torch_default'"):
        Linear(3, 2, bias_init="uniform")


# --------------------------------------------------------------------------- config()
def _registry_cases() -> list[Case]:
    """One float64 case per registry sample (the first impl path)."""
    return [Case(entry, sample, F64, entry.impls[0])
            for entry in REGISTRY for sample in entry.samples]


CASES = _registry_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_config_rebuilds_an_equivalent_layer(case):
    built = build_case(case, SEED)
    layer = built.layer
    config = layer.config()
    rebuilt = type(layer)(**config)
    assert _same(rebuilt.config(), config)
    if isinstance(layer, Loss):
        first = layer.forward(built.x, built.target)
        np.testing.assert_array_equal(rebuilt.forward(built.x, built.target), first)
        return
    for name, value in layer.params.items():
        rebuilt.params[name][...] = value
    for name, value in layer.buffers.items():
        rebuilt.buffers[name][...] = value
    rebuilt.train(layer.training)
    np.testing.assert_array_equal(rebuilt.forward(built.x), layer.forward(built.x))


def _has_children(case: Case) -> bool:
    layer = case.entry.build(case.sample.kwargs, case.dtype, impl=case.impl)
    return not isinstance(layer, Loss) and len(list(layer.named_layers())) > 1


@pytest.mark.parametrize("case", [c for c in CASES if _has_children(c)], ids=lambda c: c.id)
def test_every_child_layer_has_the_dtype_and_a_config_that_rebuilds_it(case):
    """A block's children (a projection's conv and batch norm, an SE block's linears) carry
    the block's dtype and rebuild from their own ``config()``, like the block itself."""
    layer = build_case(case, SEED).layer
    for name, child in layer.named_layers():
        assert child.dtype == layer.dtype, name
        config = child.config()
        rebuilt = type(child)(**config)
        assert _same(rebuilt.config(), config), name
        assert rebuilt.dtype == child.dtype, name


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return bool(a == b)


# --------------------------------------------------------------------------- subclasses
def _masked(x: np.ndarray) -> np.ndarray:
    return np.ma.masked_array(x, mask=np.zeros(x.shape, dtype=bool))


def _entry_cases() -> list[Case]:
    """One float64 case per registry entry: its first sample with an input of >= 1 axis."""
    chosen = []
    for entry in REGISTRY:
        sample = next(s for s in entry.samples if s.shape and 0 not in s.shape)
        chosen.append(Case(entry, sample, F64, entry.impls[0]))
    return chosen


ENTRY_CASES = _entry_cases()


@pytest.mark.parametrize("case", ENTRY_CASES, ids=lambda c: c.entry.name)
def test_every_layer_refuses_array_subclasses(case):
    """A masked array (x, target, dy) or an np.matrix raises TypeError naming the argument,
    for every registry layer, the spatial ones and the blocks included."""
    built = build_case(case, SEED)
    layer, x = built.layer, built.x
    if isinstance(layer, Loss):
        with pytest.raises(TypeError, match=r"prediction must be a plain numpy\.ndarray"):
            layer.forward(_masked(x), built.target)
        with pytest.raises(TypeError, match=r"target must be a plain numpy\.ndarray"):
            layer.forward(x, _masked(built.target))
        return
    with pytest.raises(TypeError, match=r"x must be a plain numpy\.ndarray .*MaskedArray"):
        layer.forward(_masked(x))
    y = layer.forward(x)
    y = y[0] if isinstance(y, tuple) else y
    with pytest.raises(TypeError, match=r"dy must be a plain numpy\.ndarray .*MaskedArray"):
        layer.backward(_masked(np.ones_like(y)))
    if x.ndim == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            matrix = np.asmatrix(x)
        with pytest.raises(TypeError, match=r"x must be a plain numpy\.ndarray .*numpy\.matrix"):
            layer.forward(matrix)


def test_mse_on_matrices_is_refused_not_a_matrix_product():
    """np.asmatrix inputs made MSELoss compute diff * diff as a matrix product (or fail on
    its shape) instead of the element-wise squares."""
    prediction = np.array([[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]])
    target = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert MSELoss().forward(prediction, target) == pytest.approx(
        np.mean((prediction - target) ** 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matrices = np.asmatrix(prediction), np.asmatrix(target)
    with pytest.raises(TypeError, match=r"prediction must be a plain numpy\.ndarray"):
        MSELoss().forward(*matrices)


# --------------------------------------------------------------------------- in place
def _fresh_gradients(case: Case) -> dict[str, np.ndarray]:
    run = run_numpy(build_case(case, SEED))
    assert run.error is None, run.error
    return {k: v for k, v in run.tensors.items() if k == "input_grad" or k.startswith("grad[")}


def _mutate(array: np.ndarray, how: Callable[[np.ndarray], None]) -> str:
    """Apply ``how`` in place; 'refused' when NumPy refuses (a read-only array)."""
    try:
        how(array)
    except ValueError as error:
        assert "read-only" in str(error)
        return "refused"
    return "changed"


def _in_place_cases() -> list[Case]:
    """:data:`ENTRY_CASES`, plus every non-empty sample of each loss: labels, one-hot and
    soft targets, weights and ignored positions each keep their own cache."""
    losses = [c for c in CASES if c.sample.shape and 0 not in c.sample.shape
              and isinstance(c.entry.build(c.sample.kwargs, c.dtype), Loss)]
    return [c for c in ENTRY_CASES if c not in losses] + losses


@pytest.mark.parametrize("case", _in_place_cases(), ids=lambda c: c.id)
def test_changing_x_or_y_in_place_before_backward_cannot_corrupt_gradients(case):
    """forward(x); x *= 5; y += 1; backward(dy) gives the gradients of the forward that ran,
    for every registry layer: the in-place change to y is refused (a read-only output the
    backward reads) or harmless (the backward does not read y), and the change to x is
    harmless (the backward reads a private copy). A loss's target is changed too."""
    expected = _fresh_gradients(case)
    built = build_case(case, SEED)
    layer, x = built.layer, built.x
    if isinstance(layer, Loss):
        out = layer.forward(x, built.target)
        with np.errstate(over="ignore"):  # the near-max samples
            x *= 5
        if np.issubdtype(built.target.dtype, np.floating):
            built.target += 0.5
        else:
            built.target[...] = 0
        dy = None if np.ndim(out) == 0 else run_numpy(build_case(case, SEED)).upstream
        grads = {"input_grad": layer.backward(dy)}
    else:
        for earlier in built.warmup:
            layer.forward(earlier)
        y = layer.forward(x)
        y = y[0] if isinstance(y, tuple) else y
        dy = run_numpy(build_case(case, SEED)).upstream
        outcome = _mutate(y, lambda a: a.__iadd__(1))
        assert outcome == ("refused" if is_frozen(y) else "changed")
        x *= 5
        grads = {"input_grad": layer.backward(dy),
                 **{f"grad[{n}]": g for n, g in layer.grads.items()}}
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{case.entry.name}: {name} after in-place change")


@pytest.mark.parametrize("layer", [Sigmoid(), Tanh(), Softmax(0), LogSoftmax()],
                         ids=lambda layer: type(layer).__name__)
def test_outputs_the_backward_reads_are_read_only(layer):
    y = layer.forward(np.linspace(-1, 1, 6).reshape(2, 3))
    assert not y.flags.writeable and is_frozen(y)
    with pytest.raises(ValueError, match="read-only"):
        y += 1
    with pytest.raises(ValueError):
        y.flags.writeable = True  # the base is read-only too


def test_a_frozen_input_is_kept_without_a_copy_and_a_plain_one_is_copied():
    """Linear after Sigmoid keeps Sigmoid's read-only output as it is; a caller's writable x
    is copied (so x *= 5 after forward cannot reach the cache)."""
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    linear = Linear(3, 2, dtype=np.float64, rng=0)
    s = Sigmoid().forward(x)
    linear.forward(s)
    assert np.shares_memory(linear._cache, s)
    linear.forward(x)
    assert not np.shares_memory(linear._cache, x)


@pytest.mark.parametrize("kind", ["view-of-writable-base", "owner-made-writable-again"])
def test_a_read_only_input_that_can_still_change_is_copied(kind: str):
    """Read-only is not enough: a caller's read-only view of a writable array can change
    through its base, and a read-only array that owns its data can be made writable again
    (``flags.writeable = True``), so the cache copies both; only a frozen output, whose
    chain of bases is read-only up to the output itself, is kept as it is."""
    values = np.linspace(-1, 1, 6).reshape(2, 3).copy()  # owns its data
    if kind == "view-of-writable-base":
        x, writable = values[:], values
        x.flags.writeable = False
    else:
        x = writable = values
        x.flags.writeable = False
    assert not is_frozen(x)
    linear, expected = Linear(3, 2, dtype=np.float64, rng=0), Linear(3, 2, dtype=np.float64,
                                                                      rng=0)
    linear.forward(x)
    expected.forward(values.copy())
    writable.flags.writeable = True
    writable *= 5
    dy = np.ones((2, 2))
    np.testing.assert_array_equal(linear.backward(dy), expected.backward(dy))
    np.testing.assert_array_equal(linear.grads["weight"], expected.grads["weight"])


def test_caches_held_in_dicts_and_lists_are_detached_and_protected_like_tuples():
    x, kept = np.ones(3), np.zeros(3)
    detached = detach_cache({"x": x, "pair": [x, kept]}, (x,))
    assert not np.shares_memory(detached["x"], x) and np.array_equal(detached["x"], x)
    assert not np.shares_memory(detached["pair"][0], x)
    assert detached["pair"][1] is kept  # not the caller's: kept as it is
    y = np.arange(3.0)
    frozen, cache = protect(y, {"y": y}, ())
    assert is_frozen(frozen) and cache["y"] is y
    other = np.arange(3.0)
    plain, _ = protect(other, {"kept": kept}, ())
    assert plain is other and plain.flags.writeable


def test_calling_a_layer_or_a_loss_is_its_forward_and_their_defaults_are_torchs():
    x = np.linspace(-1, 1, 12).reshape(4, 3)
    linear = Linear(3, 2, dtype=np.float64, rng=0)
    np.testing.assert_array_equal(linear(x), linear.forward(x))
    target = np.zeros((4, 3))
    assert MSELoss()(x, target) == MSELoss().forward(x, target)
    assert MSELoss().reduction == "mean" and Conv2D(2, 3, 3).impl == "vectorized"
    assert repr(MSELoss()) == "MSELoss(reduction='mean')"
    assert repr(SoftmaxCrossEntropyLoss(reduction="sum")) == (
        "SoftmaxCrossEntropyLoss(weight=None, ignore_index=-100, reduction='sum', "
        "label_smoothing=0.0)")
    linear.backward(np.ones((4, 2)))
    linear.zero_grad()
    assert {name: g.shape for name, g in linear.grads.items()} == {"weight": (3, 2),
                                                                   "bias": (2,)}
    assert not any(g.any() for g in linear.grads.values())


def test_a_scalar_upstream_gradient_scales_a_reduced_loss():
    x, target = np.linspace(-1, 1, 6).reshape(2, 3), np.zeros((2, 3))
    loss = MSELoss()
    loss.forward(x, target)
    plain = loss.backward()
    np.testing.assert_array_equal(loss.backward(2.0), 2 * plain)
    np.testing.assert_array_equal(loss.backward(np.float64(3.0)), 3 * plain)
    np.testing.assert_array_equal(loss.backward(np.array(0.5)), 0.5 * plain)  # 0-d
    with pytest.raises(TypeError, match=r"^MSELoss\.backward: dy must be None or a real "
                                        r"scalar with reduction='mean' \(the loss is a "
                                        r"scalar\), got str$"):
        loss.backward("a")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda layer, loss: layer.backward(np.ones((4, 3))), ValueError,
         "Linear.backward: dy has shape (4, 3), expected (4, 2) (the shape of the forward "
         "output)"),
        (lambda layer, loss: layer.backward(np.ones((4, 2), np.float32)), TypeError,
         "Linear.backward: dy has dtype float32 but the layer computes in float64"),
        (lambda layer, loss: loss.backward(), TypeError,
         "MSELoss.backward: dy is required with reduction='none': the upstream gradient of "
         "the per-element loss, shape (2, 3)"),
        (lambda layer, loss: loss.backward(np.ones((3, 3))), ValueError,
         "MSELoss.backward: dy has shape (3, 3), expected (2, 3) (the shape of the "
         "per-element loss)"),
        (lambda layer, loss: loss.backward(np.ones((2, 3), np.float32)), TypeError,
         "MSELoss.backward: dy has dtype float32 but the layer computes in float64"),
        (lambda layer, loss: loss.backward("a"), TypeError,
         "MSELoss.backward: dy must be a numpy.ndarray of float32 or float64, got str"),
        (lambda layer, loss: Flatten().forward(np.ones(3)), ValueError,
         "Flatten.forward: x must have at least 2 dimension(s) (batch, ...), e.g. NHWC "
         "images, got shape (3,)"),
    ],
)
def test_bad_upstream_gradients_are_named_with_what_was_expected(call, error, message):
    layer = Linear(3, 2, dtype=np.float64, rng=0)
    layer.forward(np.ones((4, 3)))
    loss = MSELoss(reduction="none")
    loss.forward(np.ones((2, 3)), np.zeros((2, 3)))
    with pytest.raises(error, match="^" + re.escape(message)):
        call(layer, loss)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Linear(2, 2, dtype="not-a-dtype"),
         "Linear: dtype must be float32 or float64, got 'not-a-dtype'"),
        (lambda: Linear(2, 2, dtype=np.float64).forward(np.ones((1, 2), int)),
         "Linear.forward: x must have dtype float32 or float64, got int64; cast it with "
         ".astype(np.float32)"),
        # a cast hint only for numbers: a bool or string array is not one to cast
        (lambda: Linear(2, 2, dtype=np.float64).forward(np.ones((1, 2), bool)),
         "Linear.forward: x must have dtype float32 or float64, got bool"),
        (lambda: Linear(2, 2, dtype=np.float64).forward(np.matrix([[1.0, 2.0]])),
         "Linear.forward: x must be a plain numpy.ndarray of float32 or float64, got the "
         "subclass numpy.matrix; array subclasses are refused because they change the "
         "arithmetic (np.matrix multiplies as matrices, a masked array skips masked "
         "entries); convert it with np.asarray(x)"),
        (lambda: Linear(2, 2, dtype=np.float64).forward(
            np.ma.masked_array(np.ones((1, 2)), mask=[[0, 1]])),
         "Linear.forward: x must be a plain numpy.ndarray of float32 or float64, got the "
         "subclass numpy.ma.MaskedArray; array subclasses are refused because they change "
         "the arithmetic (np.matrix multiplies as matrices, a masked array skips masked "
         "entries); convert it with x.filled(fill_value) or np.asarray(x) (the mask is "
         "dropped)"),
    ],
)
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_a_non_float_input_is_named_with_the_fix_that_fits_it(make, message):
    with pytest.raises(TypeError, match="^" + re.escape(message) + "$"):
        make()


# --------------------------------------------------------------------------- torch's numbers
def _ce(logits: list, target: Any, **kwargs: Any) -> tuple[float, np.ndarray]:
    z = np.array(logits, dtype=np.float64)
    loss = SoftmaxCrossEntropyLoss(**kwargs)
    value = loss.forward(z, np.asarray(target))
    return value, loss.backward()


def _torch_ce(logits: list, target: Any, **kwargs: Any) -> float:
    return float(nn.CrossEntropyLoss(**kwargs)(torch.tensor(logits, dtype=torch.float64),
                                               torch.tensor(target)))


def test_cross_entropy_non_finite_values_are_torchs():
    value, grad = _ce([[0, -INF, 1]], [0])
    assert value == pytest.approx(1.3132617, abs=1e-7) == _torch_ce([[0, -INF, 1]], [0])
    assert np.isfinite(grad).all()
    for dtype in (np.float32, np.float64):
        z = np.array([[3e38, -3e38, 0]], dtype=dtype)
        assert SoftmaxCrossEntropyLoss().forward(z, np.array([0])) == 0.0
    every_ignored, grad = _ce([[0, 1.0, 1]], [-100])
    assert np.isnan(every_ignored) and np.isnan(_torch_ce([[0, 1.0, 1]], [-100]))
    assert not grad.any()  # torch: zeros, not NaN
    assert _ce([[0, 1.0, 1]], [-100], reduction="sum")[0] == 0.0
    with pytest.raises(ValueError, match=r"target labels must lie in \[0, 3\)"):
        _ce([[0, 1.0, 1]], [3])  # torch: IndexError; here the documented ValueError


def test_cross_entropy_on_probabilities_at_zero_is_torchs():
    """p = 0 under a zero target: loss 0 (not NaN); the gradient there is 0/0 = NaN, as
    torch's autograd through log gives; p = 0 under the label: +inf, gradient −inf."""
    p = np.array([[0.0, 1.0], [0.0, 1.0]])
    loss = CrossEntropyLoss(reduction="none")
    per = loss.forward(p, np.array([1, 0]))
    grad = loss.backward(np.ones(2))
    pt = torch.tensor(p, requires_grad=True)
    per_t = nn.functional.nll_loss(torch.log(pt), torch.tensor([1, 0]), reduction="none")
    per_t.backward(torch.ones(2))
    np.testing.assert_array_equal(per, per_t.detach().numpy())  # [0, inf]
    np.testing.assert_array_equal(grad, pt.grad.numpy())  # [[nan, -1], [-inf, 0]]
    soft = CrossEntropyLoss()
    assert soft.forward(p[:1], np.array([[0.0, 1.0]])) == 0.0


def test_relu_passes_dy_through_at_nan_as_torch():
    x = np.array([NAN, -INF, INF, 0.0, -1.0, 2.0])
    relu = ReLU()
    relu.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    nn.ReLU()(xt).backward(torch.ones(6))
    np.testing.assert_array_equal(relu.backward(np.ones(6)), xt.grad.numpy())  # [1,0,1,0,0,1]


def test_a_none_reduction_of_one_sample_is_0d_and_backward_needs_no_dy():
    loss = SoftmaxCrossEntropyLoss(reduction="none")
    per = loss.forward(np.array([0.0, 1.0, 2.0]), np.array(2))
    assert isinstance(per, np.ndarray) and per.shape == ()
    z = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
    nn.CrossEntropyLoss(reduction="none")(z, torch.tensor(2)).backward()
    np.testing.assert_allclose(loss.backward(), z.grad.numpy(), rtol=1e-12)


def test_a_reduced_loss_takes_a_scalar_upstream_gradient():
    loss = MSELoss()
    loss.forward(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(loss.backward(2.0), 2 * loss.backward())
    with pytest.raises(TypeError, match="dy must be None or a real scalar"):
        loss.backward(np.ones(2))
