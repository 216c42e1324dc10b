"""Unit tests of the harness's runs: engine.py, error_models.py and seeding.py.

The checks read every tensor from :func:`parity_tests.engine.parity_run`; a run that draws
other data than it says, hands torch another upstream gradient, loses an exception or a
warning, or reads a stale run from its cache would turn verdicts wrong without any check
noticing. These tests pin each of those facts on small layers (the registry's, or a few
built here for one path each), so a weakened engine fails here (docs/mutation.md, "The
harness's runs"). They hold at every ``PARITY_SEED``.
"""

from __future__ import annotations

import traceback
import warnings
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from parity_tests import engine, error_models, seeding
from parity_tests.engine import (
    Built,
    CaughtError,
    RunCache,
    SideRun,
    build_case,
    error_slack,
    parity_run,
    reference_for,
    run_numpy,
    run_torch,
    spread_constant_params,
)
from parity_tests.entry import Entry
from parity_tests.registry import BY_NAME, Case
from parity_tests.samples import Sample, given
from parity_tests.seeding import case_rng, seed_from_env, seed_range, seeds_from_env
from parity_tests.tolerances import summation_slack
from torch_ref.base import Reference

SEED = seed_from_env()
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def registry_case(layer: str, config: str, dtype: np.dtype = F64, impl: str | None = None
                  ) -> Case:
    entry = BY_NAME[layer]
    return Case(entry, entry.sample(config), np.dtype(dtype), impl)


# --------------------------------------------------------------------------- small layers
class Plain:
    """The layer interface with nothing in it: params, grads, buffers, train()."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True

    def train(self, mode: bool = True) -> None:
        self.training = mode


class Double(Plain):
    """y = 2x; dx = 2dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2 * x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return 2 * dy


class Scaled(Plain):
    """y = w·x with one parameter w (a constant 1.0 to start) and a buffer that counts."""

    def __init__(self) -> None:
        super().__init__()
        self.params = {"w": np.ones(3)}
        self.buffers = {"calls": np.zeros(1)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        self.buffers["calls"] += 1
        return x * self.params["w"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.grads = {"w": np.sum(dy * self.x, axis=0)}
        return dy * self.params["w"]


def double_reference(layer: object) -> Reference:
    return Reference(lambda x, *rest: 2 * x)


def make_case(layer: type, reference: object = double_reference, sample: Sample | None = None,
              dtype: np.dtype = F64, error_model: object = None, name: str = "unit") -> Case:
    sample = sample or Sample("b2d3", (2, 3))
    entry = Entry(name, layer, reference, (sample,), error_model=error_model)
    return Case(entry, sample, np.dtype(dtype), None)


# --------------------------------------------------------------------------- seeding
def test_case_rng_is_the_default_rng_of_the_seed_and_the_keys_crc32():
    # a seed printed in a repro line must rebuild the same data in any later version
    for seed, key in ((0, "relu-float32-b64d32"), (SEED, "linear-float64-b2t3i5o4")):
        expected = np.random.default_rng([seed, zlib.crc32(key.encode())]).standard_normal(5)
        np.testing.assert_array_equal(case_rng(seed, key).standard_normal(5), expected)
    draws = {(seed, key): case_rng(seed, key).standard_normal(3).tobytes()
             for seed in (SEED, SEED + 1) for key in ("a", "b")}
    assert len(set(draws.values())) == 4  # another seed or another key: other data


def test_seed_from_env_reads_parity_seed(monkeypatch):
    assert seeding.SEED_ENV == "PARITY_SEED" and seeding.DEFAULT_SEED == 0
    monkeypatch.delenv("PARITY_SEED", raising=False)
    assert seed_from_env() == 0
    for text, seed in (("", 0), ("   ", 0), ("7", 7), (" 123\n", 123), ("007", 7)):
        monkeypatch.setenv("PARITY_SEED", text)
        assert seed_from_env() == seed
    for text in ("-1", "1.5", "abc", "1 2"):
        monkeypatch.setenv("PARITY_SEED", text)
        with pytest.raises(ValueError) as raised:
            seed_from_env()
        assert str(raised.value) == f"PARITY_SEED must be a non-negative integer, got {text!r}"


def test_seed_range_is_inclusive_and_refuses_anything_else():
    assert seed_range("0-199") == range(0, 200)
    assert seed_range("7-7") == range(7, 8)
    assert seed_range(" 3 - 5 ") == range(3, 6)
    with pytest.raises(ValueError) as raised:
        seed_range("5-3")
    assert str(raised.value) == "the range '5-3' is empty (B < A)"
    for text in ("5", "1-2-3", "a-3", "-3", "3-", "", "1.0-2"):
        with pytest.raises(ValueError) as raised:
            seed_range(text)
        assert str(raised.value) == f"expected A-B such as 0-199, got {text!r}"


def test_seeds_from_env_takes_one_seed_a_range_or_the_sessions(monkeypatch):
    monkeypatch.setenv("PARITY_SEED", "9")
    monkeypatch.delenv("UNIT_SEEDS", raising=False)
    assert seeds_from_env("UNIT_SEEDS") == [9]
    for text, seeds in ((" ", [9]), ("4", [4]), (" 12 ", [12]), ("2-4", [2, 3, 4])):
        monkeypatch.setenv("UNIT_SEEDS", text)
        assert seeds_from_env("UNIT_SEEDS") == seeds
    for text, message in (("4-2", "UNIT_SEEDS: the range '4-2' is empty (B < A)"),
                          ("x", "UNIT_SEEDS: expected A-B such as 0-199, got 'x'")):
        monkeypatch.setenv("UNIT_SEEDS", text)
        with pytest.raises(ValueError) as raised:
            seeds_from_env("UNIT_SEEDS")
        assert str(raised.value) == message


# --------------------------------------------------------------------------- building a case
def test_constant_parameters_get_spread_and_the_others_are_left_alone():
    assert engine.SPREAD_SCALE == 0.5
    layer = Plain()
    zero, one = np.zeros(3, dtype=np.float32), np.ones((2, 2))
    varied, empty = np.arange(4.0), np.zeros(0)
    layer.params = {"zero": zero, "one": one, "varied": varied, "empty": empty}
    spread_constant_params(layer, np.random.default_rng(SEED))
    rng = np.random.default_rng(SEED)  # the same draws, in the order of the params
    expected_zero = rng.standard_normal(3).astype(np.float32) * 0.5
    expected_one = 1.0 + rng.standard_normal((2, 2)) * 0.5
    assert layer.params["zero"] is zero and zero.dtype == np.float32  # in place
    np.testing.assert_array_equal(zero, expected_zero)
    np.testing.assert_array_equal(one, expected_one)
    np.testing.assert_array_equal(varied, np.arange(4.0))
    assert empty.size == 0


def test_a_case_draws_its_input_from_its_seed_and_data_key():
    case = registry_case("relu", "b64d32", F32)  # no parameters: the input is the first draw
    built = build_case(case, SEED)
    expected = case.sample.make_input(case_rng(SEED, case.data_key), (64, 32), F32)
    np.testing.assert_array_equal(built.x, expected)
    assert built.x.dtype == F32 and built.target is None and built.warmup == []
    assert built.make_upstream is None and not built.is_loss


def test_the_same_seed_rebuilds_the_same_case_and_another_seed_another():
    case = registry_case("linear", "b2t3i5o4", F32)
    first, again, other = build_case(case, SEED), build_case(case, SEED), build_case(case, SEED + 1)
    np.testing.assert_array_equal(first.x, again.x)
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(first.layer.params[name], again.layer.params[name])
        assert not np.array_equal(first.layer.params[name], other.layer.params[name])
    assert not np.array_equal(first.x, other.x)
    assert np.ptp(first.layer.params["bias"]) > 0  # the zero bias was spread
    np.testing.assert_array_equal(first.rng.standard_normal(4), again.rng.standard_normal(4))


def test_both_impl_paths_of_a_case_build_the_same_data():
    loop = build_case(registry_case("conv2d", "b2h5w6c3o4-k2x3", F64, "loop"), SEED)
    vectorized = build_case(registry_case("conv2d", "b2h5w6c3o4-k2x3", F64, "vectorized"),
                            SEED)
    assert loop.layer.impl == "loop" and vectorized.layer.impl == "vectorized"
    np.testing.assert_array_equal(loop.x, vectorized.x)
    for name, value in loop.layer.params.items():
        np.testing.assert_array_equal(value, vectorized.layer.params[name])
    # impl= overrides the case's path, with the same data
    forced = build_case(registry_case("conv2d", "b2h5w6c3o4-k2x3", F64, "loop"), SEED,
                        "vectorized")
    assert forced.layer.impl == "vectorized"
    np.testing.assert_array_equal(forced.x, loop.x)


def test_warmup_inputs_setup_and_training_mode_come_from_the_sample():
    steps = build_case(registry_case("batch_norm1d", "train-steps4-b16c4"), SEED)
    assert len(steps.warmup) == 3 and steps.layer.training
    inputs = [*steps.warmup, steps.x]
    assert all(a.shape == (16, 4) for a in inputs)
    assert len({a.tobytes() for a in inputs}) == 4  # fresh inputs, not one repeated
    evaluated = build_case(registry_case("batch_norm1d", "eval-random-stats-b16c4"), SEED)
    assert not evaluated.layer.training and evaluated.warmup == []
    assert np.ptp(evaluated.layer.buffers["running_mean"]) > 0  # the setup ran
    loss = build_case(registry_case("mse", "b32d8"), SEED)
    assert loss.is_loss and loss.target is not None and loss.target.shape == (32, 8)
    assert not np.array_equal(loss.target, loss.x)


# --------------------------------------------------------------------------- the NumPy side
def test_the_upstream_gradient_is_drawn_from_the_cases_generator_after_the_forward():
    case = registry_case("linear", "b2t3i5o4", F32)
    run = run_numpy(build_case(case, SEED))
    twin = build_case(case, SEED)
    expected = twin.rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(run.upstream, expected)
    assert run.upstream.dtype == F32 and run.error is None
    assert sorted(run.tensors) == ["grad[bias]", "grad[weight]", "input_grad", "output"]
    weight = twin.layer.params["weight"]
    np.testing.assert_allclose(run.tensors["input_grad"], expected @ weight.T, rtol=1e-5)


def test_a_given_or_drawn_upstream_gradient_is_used_as_given():
    case = make_case(Double)
    dy = np.arange(6.0).reshape(2, 3)
    run = run_numpy(build_case(case, SEED), dy)
    assert run.upstream is dy
    np.testing.assert_array_equal(run.tensors["input_grad"], 2 * dy)
    shapes = []
    run = run_numpy(build_case(case, SEED), lambda shape: shapes.append(shape) or np.ones(shape))
    assert shapes == [(2, 3)]
    np.testing.assert_array_equal(run.tensors["input_grad"], np.full((2, 3), 2.0))
    drawn = Sample("b2d3", (2, 3), make_upstream=lambda rng, shape, dtype: np.full(shape, 3.0,
                                                                                    dtype))
    run = run_numpy(build_case(make_case(Double, sample=drawn), SEED))
    np.testing.assert_array_equal(run.upstream, np.full((2, 3), 3.0))
    np.testing.assert_array_equal(run.tensors["input_grad"], np.full((2, 3), 6.0))
    scalar = Sample("0d", (), make_upstream=lambda rng, shape, dtype: dtype.type(5.0))
    run = run_numpy(build_case(make_case(Double, sample=scalar), SEED))
    assert isinstance(run.upstream, np.ndarray) and run.upstream.shape == ()  # asarray'd


def test_the_inputs_are_recorded_before_and_after_the_call():
    class Writer(Double):
        def forward(self, x: np.ndarray) -> np.ndarray:
            y = 2 * x
            x[...] = 0  # a bug the inputs-untouched check must see
            return y

        def backward(self, dy: np.ndarray) -> np.ndarray:
            dx = 2 * dy
            dy *= 3
            return dx

    built = build_case(make_case(Writer), SEED)
    original = built.x.copy()
    run = run_numpy(built, np.ones((2, 3)))
    before, after = run.inputs["x"]
    np.testing.assert_array_equal(before, original)
    assert after is built.x and not after.any()
    before, after = run.inputs["dy"]
    np.testing.assert_array_equal(before, np.ones((2, 3)))
    assert after is run.upstream and np.all(after == 3)
    assert set(run.inputs) == {"x", "dy"}


def test_a_reduced_loss_takes_no_upstream_and_records_its_target():
    built = build_case(registry_case("mse", "b32d8"), SEED)
    run = run_numpy(built)
    assert run.upstream is None and "dy" not in run.inputs and run.error is None
    assert run.output_type is float and run.tensors["output"].shape == ()
    assert run.tensors["output"].dtype == F64
    np.testing.assert_allclose(run.tensors["output"], np.mean((built.x - built.target) ** 2))
    np.testing.assert_allclose(run.tensors["input_grad"],
                               2 * (built.x - built.target) / built.x.size)
    before, after = run.inputs["target"]
    assert after is built.target
    np.testing.assert_array_equal(before, built.target)
    unreduced = run_numpy(build_case(registry_case("mse", "none-b8d4"), SEED))
    assert unreduced.upstream is not None and unreduced.upstream.shape == (8, 4)
    assert "dy" in unreduced.inputs


def test_warmup_forwards_run_before_the_compared_one():
    sample = Sample("b2d3", (2, 3), steps=3)
    built = build_case(make_case(Scaled, sample=sample), SEED)
    run = run_numpy(built)
    assert run.tensors["buffer[calls]"].tolist() == [3.0]
    assert run.tensors["buffer[calls]"] is not built.layer.buffers["calls"]  # a copy
    np.testing.assert_allclose(run.tensors["grad[w]"], np.sum(run.upstream * built.x, axis=0))
    np.testing.assert_array_equal(run.tensors["output"], built.x * built.layer.params["w"])


def test_without_backward_only_the_forward_and_the_buffers_are_recorded():
    built = build_case(make_case(Scaled), SEED)
    run = run_numpy(built, backward=False)
    assert sorted(run.tensors) == ["buffer[calls]", "output"]
    assert run.upstream is not None and "dy" not in run.inputs and run.error is None


def test_an_exception_is_recorded_with_its_stage_and_later_tensors_are_absent():
    class ForwardRaises(Double):
        def forward(self, x: np.ndarray) -> np.ndarray:
            raise ValueError("Forward: no")

    class BackwardRaises(Double):
        def backward(self, dy: np.ndarray) -> np.ndarray:
            raise IndexError("Backward: no")

    run = run_numpy(build_case(make_case(ForwardRaises), SEED))
    assert (run.error.stage, run.error.type, run.error.message) == (
        "numpy forward", "ValueError", "Forward: no")
    assert run.tensors == {} and run.failed_at("forward")
    run = run_numpy(build_case(make_case(BackwardRaises), SEED))
    assert (run.error.stage, run.error.type) == ("numpy backward", "IndexError")
    assert sorted(run.tensors) == ["output"] and run.upstream is not None
    assert not run.failed_at("forward") and run.failed_at("backward")
    assert str(run.error) == "numpy backward raised IndexError: Backward: no"


def test_runtime_warnings_are_recorded_every_time_with_their_place_and_nothing_else():
    class Warns(Double):
        def forward(self, x: np.ndarray) -> np.ndarray:
            for _ in range(2):
                np.log(np.zeros(1))
            warnings.warn("not a numpy warning", UserWarning, stacklevel=1)
            return 2 * x

    run = run_numpy(build_case(make_case(Warns), SEED))
    assert run.error is None
    assert len(run.warnings) == 2
    assert run.warnings[0] == run.warnings[1]
    assert run.warnings[0].startswith("RuntimeWarning: divide by zero encountered in log "
                                      "(test_engine_unit.py:")
    assert run.warnings[0].endswith(")") and run.warnings[0][-2].isdigit()


def test_tuple_outputs_and_python_floats_are_recorded_as_arrays():
    tensors: dict = {}
    y, indices = np.ones((2, 2), dtype=np.float32), np.arange(4).reshape(2, 2)
    first = engine._record_outputs(tensors, (y, indices), F32)
    assert first is y and tensors["output"] is y and tensors["output[1]"] is indices
    assert sorted(tensors) == ["output", "output[1]"]
    tensors = {}
    assert engine._record_outputs(tensors, 0.25, F32) == 0.25
    assert tensors["output"].dtype == F32 and tensors["output"].shape == ()
    assert tensors["output"] == np.float32(0.25)
    tensors = {}
    out = (torch.ones(2, dtype=torch.float64), torch.zeros(3))
    assert engine._record_outputs(tensors, out, F64) is out[0]
    assert isinstance(tensors["output"], np.ndarray) and tensors["output"].tolist() == [1, 1]
    assert isinstance(tensors["output[1]"], np.ndarray) and tensors["output[1]"].shape == (3,)
    run = run_numpy(build_case(registry_case("max_pool2d", "b2h6w6c3-k2", F64, "loop"), SEED))
    assert run.output_type is np.ndarray and run.error is None


# --------------------------------------------------------------------------- the torch side
def test_torch_runs_the_same_input_and_upstream_gradient():
    case = registry_case("linear", "b2t3i5o4", F64)
    built = build_case(case, SEED)
    reference = reference_for(case, built.layer)
    numpy_run = run_numpy(built)
    torch_run = run_torch(built, reference, numpy_run.upstream)
    assert torch_run.error is None and torch_run.upstream is numpy_run.upstream
    assert sorted(torch_run.tensors) == sorted(numpy_run.tensors)
    for name, value in numpy_run.tensors.items():
        np.testing.assert_allclose(torch_run.tensors[name], value, rtol=1e-10, atol=1e-12)
    shapes = []
    drawn = run_torch(build_case(case, SEED), reference_for(case, build_case(case, SEED).layer),
                      lambda shape: shapes.append(shape) or np.ones(shape))
    assert shapes == [(2, 3, 4)] and drawn.upstream.shape == (2, 3, 4)
    np.testing.assert_allclose(drawn.tensors["grad[bias]"], np.full(4, 6.0))


def test_a_loss_gets_its_target_and_no_upstream_on_the_torch_side():
    case = registry_case("mse", "b32d8")
    built = build_case(case, SEED)
    run = run_torch(built, reference_for(case, built.layer), None)
    assert run.error is None and run.upstream is None
    np.testing.assert_allclose(run.tensors["output"], np.mean((built.x - built.target) ** 2))
    np.testing.assert_allclose(run.tensors["input_grad"],
                               2 * (built.x - built.target) / built.x.size)


def test_torch_warmup_runs_without_gradients_and_buffers_are_read_after_it():
    calls = []

    def counting(layer: object) -> Reference:
        def forward(x: torch.Tensor) -> torch.Tensor:
            calls.append(torch.is_grad_enabled())
            return 2 * x

        return Reference(forward)

    built = build_case(make_case(Double, counting, Sample("b2d3", (2, 3), steps=3)), SEED)
    run = run_torch(built, counting(built.layer), np.ones((2, 3)))
    assert calls == [False, False, True] and run.error is None
    np.testing.assert_array_equal(run.tensors["input_grad"], np.full((2, 3), 2.0))


def test_a_shape_mismatch_skips_torchs_backward_with_the_reason():
    built = build_case(make_case(Double), SEED)
    run = run_torch(built, double_reference(built.layer), np.ones(6))
    assert run.backward_skipped == ("the NumPy output has shape (6,), torch's (2, 3): "
                                    "gradients not compared")
    assert sorted(run.tensors) == ["output"] and run.error is None
    assert run_torch(built, double_reference(built.layer), np.ones((2, 3))).backward_skipped == ""


def test_torch_exceptions_are_recorded_with_their_stage():
    def raising_forward(layer: object) -> Reference:
        def forward(x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("forward broke")
        return Reference(forward)

    built = build_case(make_case(Double), SEED)
    run = run_torch(built, raising_forward(built.layer), np.ones((2, 3)))
    assert (run.error.stage, run.error.type, run.error.message) == (
        "torch forward", "RuntimeError", "forward broke")
    # a non-scalar output without an upstream gradient: autograd refuses the backward
    run = run_torch(built, double_reference(built.layer), None)
    assert run.error.stage == "torch backward" and run.error.type == "RuntimeError"
    assert "output" in run.tensors


def test_gradients_autograd_leaves_out_are_zeros():
    weight = torch.ones(3, dtype=torch.float64, requires_grad=True)

    class Link:
        def value(self) -> np.ndarray:
            return np.ones(3)

        def grad(self) -> None:
            return None

    def constant(layer: object) -> Reference:
        return Reference(lambda x: weight * 1.0 + 0 * x.detach().sum(), params={"w": Link()},
                         buffers={"b": SimpleNamespace(value=lambda: np.full(2, 7.0))})

    built = build_case(make_case(Double, constant), SEED)
    run = run_torch(built, constant(built.layer), np.ones(3))
    assert run.error is None
    for name, shape in (("input_grad", (2, 3)), ("grad[w]", (3,))):
        tensor = run.tensors[name]
        assert tensor.shape == shape and tensor.dtype == F64 and not tensor.any(), name
    np.testing.assert_array_equal(run.tensors["buffer[b]"], np.full(2, 7.0))
    forward_only = run_torch(built, constant(built.layer), np.ones(3), backward=False)
    assert sorted(forward_only.tensors) == ["buffer[b]", "output"]


def test_the_reference_of_an_outside_wrapper_is_built_from_the_layer_it_hands_over():
    seen = []
    inner = Double()
    wrapper = SimpleNamespace(reference_layer=lambda: inner)
    case = make_case(Double, lambda layer: seen.append(layer) or "ref")
    assert reference_for(case, wrapper) == "ref" and seen == [inner]
    assert reference_for(case, inner) == "ref" and seen == [inner, inner]


# --------------------------------------------------------------------------- results
def test_caught_error_keeps_stage_type_message_and_traceback():
    def fail() -> None:
        raise KeyError("missing")

    try:
        fail()
    except KeyError as error:
        caught = CaughtError.of("torch backward", error)
        raised = error
    assert (caught.stage, caught.type, caught.message) == ("torch backward", "KeyError",
                                                           "'missing'")
    assert caught.traceback.startswith("Traceback (most recent call last):")
    assert "in fail" in caught.traceback and caught.traceback.endswith("KeyError: 'missing'\n")
    assert caught.traceback == "".join(traceback.format_exception(type(raised), raised,
                                                                  raised.__traceback__))
    assert str(caught) == "torch backward raised KeyError: 'missing'"


@pytest.mark.parametrize(("stage", "at_forward", "at_backward"), [
    ("numpy forward", True, True),
    ("torch forward", True, True),
    ("numpy backward", False, True),
    ("torch backward", False, True),
    ("torch reference construction", True, True),
])
def test_failed_at_orders_the_stages(stage, at_forward, at_backward):
    run = SideRun(error=CaughtError(stage, "E", "m", ""))
    assert run.failed_at("forward") is at_forward
    assert run.failed_at("backward") is at_backward
    assert SideRun().failed_at("forward") is False and SideRun().failed_at("backward") is False


# --------------------------------------------------------------------------- both sides
def test_parity_run_hands_torch_the_upstream_gradient_as_drawn():
    class WritesDy(Double):
        def backward(self, dy: np.ndarray) -> np.ndarray:
            dx = 2 * dy
            dy[...] = 0
            return dx

    both = parity_run(make_case(WritesDy), SEED)
    drawn = both.numpy.inputs["dy"][0]
    assert np.all(both.numpy.upstream == 0) and np.all(drawn != 0)
    np.testing.assert_array_equal(both.torch.upstream, drawn)
    np.testing.assert_array_equal(both.torch.tensors["input_grad"], 2 * drawn)
    assert both.reference_error is None and both.slack == {}


def test_parity_run_reports_a_reference_that_cannot_be_built_and_still_runs_numpy():
    def unbuildable(layer: object) -> Reference:
        raise TypeError("no torch module for this config")

    both = parity_run(make_case(Double, unbuildable), SEED)
    assert both.torch.error is both.reference_error
    assert both.torch.error.stage == "torch reference construction"
    assert both.torch.error.message == "no torch module for this config"
    assert both.torch.failed_at("forward") and both.numpy.error is None
    np.testing.assert_array_equal(both.numpy.tensors["output"], 2 * both.built.x)


def test_the_error_model_sees_a_fresh_layer_and_the_numpy_run():
    seen = {}

    def model(case: Case, built: Built, run: SideRun) -> dict:
        seen.update(built=built, run=run, w=built.layer.params["w"].copy(),
                    calls=built.layer.buffers["calls"].copy())
        return {"output": np.full(3, 0.5)}

    both = parity_run(make_case(Scaled, sample=Sample("b2d3", (2, 3), steps=2),
                                reference=lambda layer: Reference(lambda x: x * torch.from_numpy(
                                    layer.params["w"]), params={}),
                                error_model=model), SEED)
    assert seen["run"] is both.numpy and seen["built"] is not both.built
    np.testing.assert_array_equal(seen["w"], both.built.layer.params["w"])
    assert seen["calls"].tolist() == [0.0]  # built, never run
    np.testing.assert_array_equal(both.slack["output"], np.full(3, 0.5))


def test_no_slack_when_torch_raised_or_skipped_its_backward():
    calls = []

    def model(case: Case, built: Built, run: SideRun) -> dict:
        calls.append(1)
        return {"output": np.ones(3)}

    class Flat(Double):
        def forward(self, x: np.ndarray) -> np.ndarray:
            return 2 * x.reshape(-1)

        def backward(self, dy: np.ndarray) -> np.ndarray:
            return 2 * dy.reshape(2, 3)

    skipped = parity_run(make_case(Flat, error_model=model), SEED)
    assert skipped.torch.backward_skipped and skipped.slack == {} and calls == []

    def raising(layer: object) -> Reference:
        return Reference(lambda x: x.no_such_method())

    failed = parity_run(make_case(Double, raising, error_model=model), SEED)
    assert failed.torch.error is not None and failed.slack == {} and calls == []
    fine = parity_run(make_case(Double, error_model=model), SEED)
    assert calls == [1] and list(fine.slack) == ["output"]


def test_error_slack_is_finite_float64_and_empty_without_a_model_or_after_an_error():
    case = make_case(Double, error_model=lambda case, built, run: {
        "output": np.array([1.0, -1.0, 0.0, 1.0]) / np.array([0.0, 0.0, 0.0, 1.0]),
        "input_grad": [np.float32(2.0)]})
    built = build_case(case, SEED)
    slack = error_slack(case, built, SideRun())
    assert sorted(slack) == ["input_grad", "output"]
    # inf, -inf and NaN, computed without a warning (pytest would raise it), all become 0
    assert slack["output"].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert slack["output"].dtype == F64 and slack["input_grad"].dtype == F64
    assert error_slack(case, built, SideRun(error=CaughtError("numpy backward", "E", "", ""))
                       ) == {}
    assert error_slack(make_case(Double), built, SideRun()) == {}


def test_parity_run_is_memoized_per_case_and_seed_in_the_cache_it_is_given():
    built = []

    class Counted(Double):
        def __init__(self) -> None:
            super().__init__()
            built.append(self)

    case = make_case(Counted)
    cache = RunCache()
    first = parity_run(case, SEED, cache)
    per_run = len(built)  # the run's layer and the error model's fresh one
    assert parity_run(case, SEED, cache) is first and len(built) == per_run
    assert parity_run(case, SEED + 1, cache) is not first and len(built) == 2 * per_run
    other = make_case(Counted, name="unit2")
    assert parity_run(other, SEED, cache) is not first and len(built) == 3 * per_run
    assert parity_run(case, SEED, cache) is first
    uncached = parity_run(case, SEED)
    assert uncached is not first and parity_run(case, SEED) is not uncached
    np.testing.assert_array_equal(uncached.numpy.tensors["output"], first.numpy.tensors["output"])


def test_run_cache_keeps_the_most_recently_used_runs():
    assert RunCache().size == 64
    cache, computed = RunCache(size=2), []

    def compute(key: str):
        return lambda: computed.append(key) or key.upper()

    assert cache.get(("a",), compute("a")) == "A"
    assert cache.get(("b",), compute("b")) == "B"
    assert cache.get(("a",), compute("a")) == "A" and computed == ["a", "b"]
    assert cache.get(("c",), compute("c")) == "C"  # drops b, the least recently used
    assert cache.get(("a",), compute("a")) == "A" and computed == ["a", "b", "c"]
    assert cache.get(("b",), compute("b")) == "B" and computed == ["a", "b", "c", "b"]
    assert cache.get(("c",), compute("c")) == "C" and computed == ["a", "b", "c", "b", "c"]


# --------------------------------------------------------------------------- error models
def linear_by_hand(built: Built, dy: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:
    """(terms, magnitude) of every sum of y = xW + b and its backward, on |·| by hand."""
    x = np.abs(built.x.astype(np.float64)).reshape(-1, built.x.shape[-1])
    weight = np.abs(built.layer.params["weight"].astype(np.float64))
    bias = np.abs(built.layer.params["bias"].astype(np.float64))
    ady = np.abs(dy.astype(np.float64)).reshape(-1, weight.shape[1])
    rows = x.shape[0]
    return {
        "output": (weight.shape[0] + 1, (x @ weight + bias).reshape(*built.x.shape[:-1], -1)),
        "input_grad": (weight.shape[1], (ady @ weight.T).reshape(built.x.shape)),
        "grad[weight]": (rows, x.T @ ady),
        "grad[bias]": (rows, ady.sum(axis=0)),
    }


@pytest.mark.parametrize("dtype", [F32, F64])
def test_multilinear_is_the_slack_of_the_terms_counted_and_their_magnitudes(dtype):
    case = registry_case("linear", "b2t3i5o4", dtype)
    built = build_case(case, SEED)
    run = run_numpy(build_case(case, SEED))
    slack = error_models.multilinear(case, built, run)
    expected = linear_by_hand(built, run.upstream)
    assert sorted(slack) == sorted(expected)
    for name, (terms, magnitude) in expected.items():
        np.testing.assert_allclose(slack[name], summation_slack(dtype, terms, magnitude),
                                   rtol=1e-12, err_msg=name)
    # the reference runs of the model leave the case's own layer as it was
    np.testing.assert_array_equal(built.layer.params["weight"],
                                  build_case(case, SEED).layer.params["weight"])
    assert parity_run(case, SEED).slack.keys() == slack.keys()


def test_the_reference_run_is_float64_on_transformed_inputs_and_parameters():
    case = registry_case("linear", "b2t3i5o4", F32)
    built = build_case(case, SEED)
    dy = -np.ones((2, 3, 4), dtype=np.float32)
    tensors = error_models._reference_run(case, built.layer, built.x, dy, torch.abs)
    expected = linear_by_hand(built, dy)
    assert sorted(tensors) == sorted(expected)
    for name, (_, magnitude) in expected.items():
        assert tensors[name].dtype == F64, name
        np.testing.assert_allclose(tensors[name], magnitude, rtol=1e-12, err_msg=name)
    forward = error_models._reference_run(case, built.layer, built.x, None, torch.ones_like)
    assert list(forward) == ["output"]
    np.testing.assert_array_equal(forward["output"], np.full((2, 3, 4), 6.0))
    # a tuple output: its first element
    pooled = registry_case("max_pool2d", "b2h6w6c3-k2", F64, "loop")
    built = build_case(pooled, SEED)
    out = error_models._reference_run(pooled, built.layer, built.x, np.ones((2, 3, 3, 3)),
                                      torch.ones_like)
    np.testing.assert_array_equal(out["output"], np.ones((2, 3, 3, 3)))
    np.testing.assert_array_equal(out["input_grad"].sum(), 2 * 3 * 3 * 3)


def softmax_by_hand(y: np.ndarray, dy: np.ndarray, axis: int, log: bool) -> np.ndarray:
    s = np.exp(y) if log else y
    weighted = np.abs(dy) if log else s * np.abs(dy)
    return s * (np.sum(weighted, axis=axis, keepdims=True) + np.abs(dy))


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_softmax_rows_sums_the_class_axis(log, dtype):
    rng = np.random.default_rng([SEED, 7])
    logits = rng.standard_normal((4, 3, 5))
    for axis in (-1, 0, 1):
        shifted = logits - logits.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        y = (y if log else np.exp(y)).astype(dtype)
        dy = rng.standard_normal(y.shape).astype(dtype)
        built = SimpleNamespace(layer=SimpleNamespace(dim=axis), x=y)
        run = SimpleNamespace(upstream=dy, tensors={"output": y})
        model = error_models.softmax_rows(log=log)
        slack = model(None, built, run)
        expected = summation_slack(dtype, y.shape[axis],
                                   softmax_by_hand(y.astype(np.float64), dy.astype(np.float64),
                                                   axis, log))
        assert list(slack) == ["input_grad"]
        np.testing.assert_allclose(slack["input_grad"], expected, rtol=1e-12)
    # no dim: the last axis
    built = SimpleNamespace(layer=SimpleNamespace(), x=y)
    expected = summation_slack(dtype, 5, softmax_by_hand(y.astype(np.float64),
                                                         dy.astype(np.float64), -1, log))
    np.testing.assert_allclose(model(None, built, run)["input_grad"], expected, rtol=1e-12)
    # a 0-d output: one class
    zero_d = SimpleNamespace(upstream=np.array(2.0, dtype=dtype),
                             tensors={"output": np.array(0.0 if log else 1.0, dtype=dtype)})
    np.testing.assert_allclose(model(None, SimpleNamespace(layer=SimpleNamespace(dim=0),
                                                           x=zero_d.tensors["output"]), zero_d)
                               ["input_grad"], summation_slack(dtype, 1, 4.0), rtol=1e-12)
    # nothing to model: no upstream gradient, or no output
    assert model(None, built, SimpleNamespace(upstream=None, tensors={"output": y})) == {}
    assert model(None, built, SimpleNamespace(upstream=dy, tensors={})) == {}


def test_the_registrys_softmax_models_are_the_two_kinds():
    rng = np.random.default_rng([SEED, 8])
    y = rng.uniform(0.1, 0.9, (3, 4))
    dy = rng.standard_normal((3, 4))
    built = SimpleNamespace(layer=SimpleNamespace(dim=-1), x=y)
    run = SimpleNamespace(upstream=dy, tensors={"output": y})
    for model, log in ((error_models.SOFTMAX, False), (error_models.LOG_SOFTMAX, True)):
        np.testing.assert_allclose(model(None, built, run)["input_grad"],
                                   summation_slack(F64, 4, softmax_by_hand(y, dy, -1, log)),
                                   rtol=1e-12)
    assert BY_NAME["softmax"].error_model is error_models.SOFTMAX
    assert BY_NAME["log_softmax"].error_model is error_models.LOG_SOFTMAX
    assert BY_NAME["linear"].error_model is error_models.multilinear


def test_given_inputs_reach_both_sides_unchanged():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -0.25]])
    sample = Sample("b2d3", (2, 3), make_input=given(x))
    both = parity_run(make_case(Double, sample=sample), SEED)
    np.testing.assert_array_equal(both.numpy.tensors["output"], 2 * x)
    np.testing.assert_array_equal(both.torch.tensors["output"], 2 * x)


# --------------------------------------------------------------------------- fixed bugs
def test_a_numpy_scalar_output_keeps_its_dtype(monkeypatch):
    # A NumPy ufunc on a 0-d array returns a NumPy scalar; one of float64 from a float32
    # input used to be recorded as float32 (the input's dtype), so the dtype check passed it.
    tensors: dict = {}
    engine._record_outputs(tensors, np.float64(0.5), F32)
    assert tensors["output"].dtype == F64 and tensors["output"].shape == ()
    engine._record_outputs(tensors, np.float32(0.5), F32)
    assert tensors["output"].dtype == F32
    from numpy_impl import activations
    from parity_tests import checks

    original = activations.ReLU.forward
    monkeypatch.setattr(activations.ReLU, "forward",
                        lambda self, x: np.float64(original(self, x)))
    result = checks.BY_NAME["dtype"].run(registry_case("relu", "0d", F32), SEED)
    assert result.status == checks.FAIL
    assert result.get("output").problem == "dtype float64, expected float32"


def test_a_seed_of_digits_int_refuses_gets_the_seeds_own_message(monkeypatch):
    # "²".isdigit() is True but int("²") raises: the message named neither the variable nor
    # the rule ("invalid literal for int() with base 10: '²'").
    monkeypatch.setenv("PARITY_SEED", "1²")
    with pytest.raises(ValueError, match=r"^PARITY_SEED must be a non-negative integer, got '1²'"):
        seed_from_env()
    with pytest.raises(ValueError, match=r"^expected A-B such as 0-199, got '1-²'$"):
        seed_range("1-²")
    monkeypatch.setenv("UNIT_SEEDS", "²")
    with pytest.raises(ValueError, match=r"^UNIT_SEEDS: expected A-B such as 0-199, got '²'$"):
        seeds_from_env("UNIT_SEEDS")


def test_the_reference_run_differentiates_the_first_of_a_tuple_output():
    def pair(layer: object) -> Reference:
        return Reference(torch.nn.Identity(), lambda x: (3 * x, torch.zeros(1)))

    case = make_case(Double, pair)
    built = build_case(case, SEED)
    tensors = error_models._reference_run(case, built.layer, built.x, np.ones((2, 3)), torch.abs)
    np.testing.assert_array_equal(tensors["output"], 3 * np.abs(built.x))
    np.testing.assert_array_equal(tensors["input_grad"], np.full((2, 3), 3.0))
