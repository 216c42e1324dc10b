"""The harness must catch bugs: each test here injects a known bug and expects a failure.

A parity suite that passes a wrong backward is worse than none. These tests patch a layer
with a realistic mistake (a flipped sign, a dropped max-shift, the seeds' own errors) and
check that the right check fails, with a message a CI reader can act on; and they check the
harness's own machinery (compare, the bad-input verdicts, registry validation, errors as
results).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from numpy_impl import activations, conv, linear, losses, normalization, softmax
from parity_tests import checks
from parity_tests.compare import compare
from parity_tests.entry import ErrorInput
from parity_tests.registry import (
    BY_NAME,
    Case,
    ErrorCase,
    cases,
    sample_name_problems,
    validate,
)
from parity_tests.samples import Sample
from parity_tests.seeding import seeds_from_env
from parity_tests.tolerances import PARITY, Tolerance

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
#: The seeds every injected bug must be caught at: PARITY_META_SEEDS="0-199" sweeps them
#: (one test per bug and seed); by default the session's seed only.
OVER_SEEDS = pytest.mark.parametrize("seed", seeds_from_env("PARITY_META_SEEDS"))


def case(layer: str, config: str, dtype: np.dtype = F32, impl: str | None = None) -> Case:
    entry = BY_NAME[layer]
    return Case(entry, entry.sample(config), dtype, impl)


def run(check: str, layer: str, config: str, dtype: np.dtype = F32, impl: str | None = None,
        seed: int = 0) -> checks.CheckResult:
    return checks.BY_NAME[check].run(case(layer, config, dtype, impl), seed)


def failing(result: checks.CheckResult) -> set[str]:
    return {c.tensor for c in result.failures()}


# --------------------------------------------------------------------------- the message
def test_failure_message_names_everything_needed_to_act(monkeypatch):
    original = softmax.Softmax.backward
    monkeypatch.setattr(softmax.Softmax, "backward", lambda self, dy: -original(self, dy))
    result = run("input-grad", "softmax", "b256c10", F32, "vectorized")
    assert result.status == checks.FAIL and failing(result) == {"input_grad"}
    with pytest.raises(AssertionError) as raised:
        result.assert_ok()
    message = str(raised.value)
    for expected in [
        "FAIL input-grad-softmax-vectorized-float32-b256c10: input_grad differs from torch",
        "layer      softmax (impl=vectorized)",
        "config     b256c10 input shape (256, 10)",
        "dtype      float32",
        "tensor     input_grad  shape (256, 10)  (expected side: torch)",
        "tolerance  rtol=1.3e-06 atol=1.0e-05",
        "seed       0",
        "repro      parity check --layer softmax --config b256c10 --dtype float32 "
        "--impl vectorized --check input-grad --seed 0",
        "PARITY_SEED=0 pytest 'parity_tests/tests/test_checks.py::test_case"
        "[softmax-vectorized-float32-b256c10]'",
    ]:
        assert expected in message, f"missing {expected!r} in:\n{message}"
    assert re.search(r"mismatched \d+ / 2560 elements", message)
    assert re.search(r"max abs    \d\.\d+e[+-]\d+ at index \(\d+, \d+\)", message)
    assert re.search(r"worst      at index \(\d+, \d+\): numpy -?\d", message)
    assert re.search(r"headroom \d+", message)


def test_the_pytest_repro_selects_exactly_the_failing_jobs_case():
    result = run("forward", "relu", "b1d1")
    node = checks.PYTEST_NODE.format(id=result.case.id)
    assert f"pytest '{node}'" in result.message()
    by_case = checks.plan_by_case()
    assert node.endswith(f"[{result.case.id}]")
    assert result.id in [job.id for job in by_case[result.case.id]]


# --------------------------------------------------------------------------- injected bugs
@OVER_SEEDS
def test_flipped_sign_is_caught_by_finite_differences_without_torch(monkeypatch, seed):
    original = linear.Linear.backward
    monkeypatch.setattr(linear.Linear, "backward", lambda self, dy: -original(self, dy))
    result = run("finite-diff", "linear", "b32i64o16", F64, seed=seed)
    assert failing(result) == {"input_grad"}
    assert result.get("input_grad").expected_name == "finite differences"


def test_finite_differences_allow_for_how_the_rounding_of_the_arrays_moves_f():
    x, w = np.array([[2.0, -3.0]]), np.array([0.5, np.inf])
    tensors = {"input_grad": np.array([[1.0, 2.0]]), "grad[w]": np.array([4.0, 1.0]),
               "output": np.ones(9)}
    # Σ|g ⊙ z| over the probes, non-finite products left out, a missing gradient skipped
    assert checks._conditioning({"input_grad": x, "grad[w]": w}, tensors) == 2 + 6 + 2
    assert checks._conditioning({"grad[b]": w}, tensors) == 0.0
    # Batch norm of mean/std 100 inputs: f loses ~100x more to the rounding of x than
    # Σ|dy ⊙ y| says. Without the conditioning term this seed's headroom was 0.636.
    result = run("finite-diff", "batch_norm1d", "train-mean100-b16c4", F64, seed=369)
    assert result.ok and result.headroom < 0.2


@OVER_SEEDS
def test_a_1e5_relative_error_in_an_ill_conditioned_gradient_is_still_caught(monkeypatch, seed):
    original = normalization.BatchNorm.backward
    monkeypatch.setattr(normalization.BatchNorm, "backward",
                        lambda self, dy: original(self, dy) * (1 + 1e-5))
    result = run("finite-diff", "batch_norm1d", "train-mean100-b16c4", F64, seed=seed)
    assert "input_grad" in failing(result)


@OVER_SEEDS
def test_softmax_without_max_shift_fails_on_large_logits(monkeypatch, seed):
    def unshifted(x: np.ndarray) -> np.ndarray:
        exps = np.exp(x)
        return exps / np.sum(exps, axis=-1, keepdims=True)

    monkeypatch.setattr(softmax, "stable_softmax", unshifted)
    warned = run("warnings", "softmax", "extreme-b64c10", F32, "vectorized", seed=seed)
    assert "numpy warned: RuntimeWarning: overflow encountered in exp" in (
        warned.failures()[0].problem)
    assert "NaN" in run("forward", "softmax", "extreme-b64c10", F32, "vectorized", seed=seed).get(
        "output").problem
    # ordinary logits do not reveal the missing shift: the extreme sample is needed
    assert run("forward", "softmax", "b256c10", F32, "vectorized", seed=seed).ok


@OVER_SEEDS
def test_a_slightly_wrong_weight_gradient_is_caught(monkeypatch, seed):
    original = linear.Linear.backward

    def scaled(self: linear.Linear, dy: np.ndarray) -> np.ndarray:
        dx = original(self, dy)
        self._grads["weight"] = self._grads["weight"] * np.float32(1.001)
        return dx

    monkeypatch.setattr(linear.Linear, "backward", scaled)
    assert failing(run("param-grads", "linear", "b32i64o16", seed=seed)) == {"grad[weight]"}
    assert run("input-grad", "linear", "b32i64o16", seed=seed).ok


@OVER_SEEDS
def test_a_forgotten_bias_is_caught_even_though_it_starts_at_zero(monkeypatch, seed):
    def no_bias(self: linear.Linear, x: np.ndarray) -> np.ndarray:
        return self._remember_output(x @ self._params["weight"], x)

    monkeypatch.setattr(linear.Linear, "forward", no_bias)
    assert failing(run("forward", "linear", "b32i64o16", seed=seed)) == {"output"}


@pytest.mark.parametrize("layer", ["relu", "leaky_relu"])
@OVER_SEEDS
def test_seed_subgradient_at_zero_is_caught_only_by_the_ties_sample(monkeypatch, layer, seed):
    """The seeds give LeakyReLU slope 1 at 0 (x >= 0); torch gives the negative slope."""
    cls = activations.ReLU if layer == "relu" else activations.LeakyReLU
    monkeypatch.setattr(cls, "_cache_for", lambda self, x, y: x >= 0)
    assert failing(run("input-grad", layer, "ties-at-zero", seed=seed)) == {"input_grad"}
    assert run("input-grad", layer, "b64d32", seed=seed).ok


@OVER_SEEDS
def test_seed_mse_backward_is_caught(monkeypatch, seed):
    """Seed 004: 0.5·mean forward and (y − ŷ)/N backward."""

    def seed_backward(self: losses.MSELoss) -> np.ndarray:
        diff, _ = self._cache
        return (-diff / diff.shape[0]).astype(diff.dtype)

    monkeypatch.setattr(losses.MSELoss, "backward", seed_backward)
    assert failing(run("input-grad", "mse", "b32d8", seed=seed)) == {"input_grad"}


@OVER_SEEDS
def test_naive_sigmoid_is_caught_by_its_overflow_warning(monkeypatch, seed):
    """1/(1+e^-x) even gives the right values at -1e4, but only through an overflow."""
    monkeypatch.setattr(activations.Sigmoid, "_apply", lambda self, x: 1 / (1 + np.exp(-x)))
    result = run("warnings", "sigmoid", "extreme-1e4", seed=seed)
    assert result.status == checks.FAIL
    assert "overflow encountered in exp" in result.failures()[0].problem


@OVER_SEEDS
def test_a_silent_upcast_is_caught_and_its_values_still_compared(monkeypatch, seed):
    monkeypatch.setattr(activations.Tanh, "_apply", lambda self, x: np.tanh(x.astype(np.float64)))
    forward = run("forward", "tanh", "b64d32", seed=seed)
    assert forward.ok  # the values are right ...
    assert "dtype float64 != torch dtype float32" in forward.get("output").notes[0]
    assert failing(run("dtype", "tanh", "b64d32", seed=seed)) >= {"output"}  # ... the dtype is not


@OVER_SEEDS
def test_a_bug_in_the_loop_path_is_caught_by_impl_agreement(monkeypatch, seed):
    def wrong_jacobian(s: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return np.stack([(np.diag(r) + np.outer(r, r)) @ d for r, d in zip(s, dy, strict=True)])

    monkeypatch.setattr(softmax.Softmax, "_backward_loop", staticmethod(wrong_jacobian))
    result = run("impl-agreement", "softmax", "b256c10", F64, "loop", seed=seed)
    assert failing(result) == {"input_grad"}
    assert result.get("input_grad").expected_name == "impl=vectorized"


@OVER_SEEDS
def test_the_guard_rejects_a_sample_whose_gradient_is_zero(seed):
    entry = BY_NAME["softmax"]
    degenerate = Sample("b1c1-guarded", (1, 1))  # softmax over one class: gradient is 0
    result = checks.check_input_grad(Case(entry, degenerate, F32, "vectorized"), seed)
    comparison = result.get("input_grad")
    assert comparison.guard_failed and "guard" in comparison.problem
    assert result.message().startswith("GUARD input-grad-")
    assert run("input-grad", "softmax", "b1c1", F32, "vectorized", seed=seed).ok


#: Samples whose gradient tensors hold one or two finite non-zero entries, each one or two
#: random draws: the guard must hold for correct code at every seed, the two where it once
#: failed included (1744: linear b1i1o1's dx = dy·W; 532: batch norm's one finite channel).
FEW_DRAW_SAMPLES = [("linear", "b1i1o1"), ("flatten", "b1h1w1c1"),
                    ("max_pool2d", "nan-one-window-b1h2w2c1-k2"),
                    ("batch_norm2d", "nonfinite-train-b4h3w3c5"),
                    ("batch_norm2d", "nonfinite-eval-random-stats-b4h3w3c5")]


@pytest.mark.parametrize(("layer", "config"), FEW_DRAW_SAMPLES,
                         ids=[f"{layer}-{config}" for layer, config in FEW_DRAW_SAMPLES])
def test_a_gradient_of_few_random_draws_clears_the_guard_at_every_seed(layer, config):
    jobs = checks.plan(["input-grad", "param-grads"], layers=[layer], configs=[config],
                       dtypes=["float32"])
    assert jobs
    for seed in (532, 1744, *range(60)):
        for job in jobs:
            result = job.run(seed)
            assert result.ok, result.message()


# --------------------------------------------------------------------------- errors as results
def test_a_layer_that_raises_is_an_error_of_the_gradient_checks_not_of_forward(monkeypatch):
    def broken(self: conv.Conv2D, cache: object, dy: np.ndarray) -> np.ndarray:
        raise IndexError("col2im: strides swapped")

    monkeypatch.setattr(conv.Conv2D, "_backward_vectorized", broken)
    config = "b2h5w6c3o4-k2x3"
    assert run("forward", "conv2d", config, impl="vectorized").ok
    result = run("input-grad", "conv2d", config, impl="vectorized")
    assert result.status == checks.ERROR
    assert "numpy backward raised IndexError: col2im: strides swapped" in result.message()
    assert "_backward_vectorized" in result.message()  # the traceback's tail


def test_an_exception_inside_the_harness_is_an_error_result(monkeypatch):
    def broken_check(case: object, seed: int, cache: object = None) -> None:
        raise RuntimeError("harness bug")

    job = checks.Job(checks.Check("forward", "", broken_check, lambda c: True),
                     case("relu", "b64d32"))
    result = job.run(0)
    assert result.status == checks.ERROR and "harness (forward) raised" in result.message()


# --------------------------------------------------------------------------- bad input
def _bad_input(error: ErrorInput, layer: str = "linear") -> checks.CheckResult:
    return checks.check_bad_input(ErrorCase(BY_NAME[layer], error), 0)


def test_bad_input_passes_only_for_the_documented_error_at_its_stage():
    good = BY_NAME["linear"].error("wrong-feature-size")
    assert _bad_input(good).ok
    wrong_type = ErrorInput("wrong", "forward", TypeError, good.match, args=good.args)
    assert "expected TypeError" in _bad_input(wrong_type).failures()[0].problem
    wrong_text = ErrorInput("wrong", "forward", ValueError, "something else", args=good.args)
    assert "does not match" in _bad_input(wrong_text).failures()[0].problem
    wrong_stage = ErrorInput("wrong", "construct", ValueError, good.match, args=good.args)
    assert "nothing raised at construct" in _bad_input(wrong_stage).failures()[0].problem
    early = ErrorInput("zero", "forward", ValueError, "in_features", kwargs={"in_features": 0})
    assert "raised at construct instead of forward" in _bad_input(early).failures()[0].problem


def test_an_error_that_does_not_name_its_layer_fails_bad_input(monkeypatch):
    real = linear.check_axis_size
    monkeypatch.setattr(linear, "check_axis_size",
                        lambda where, *args: real("Layer.forward", *args))
    problem = _bad_input(BY_NAME["linear"].error("wrong-feature-size")).failures()[0].problem
    assert "does not open with the layer's name (Linear" in problem
    assert "Layer.forward: x has" in problem


def test_a_layer_that_accepts_bad_input_fails_bad_input(monkeypatch):
    monkeypatch.setattr(linear, "check_axis_size", lambda *args: None)
    result = _bad_input(BY_NAME["linear"].error("wrong-feature-size"))
    assert result.status == checks.FAIL


# --------------------------------------------------------------------------- registry
def test_sample_names_must_agree_with_shapes_and_kwargs():
    assert sample_name_problems(Sample("b2h5w6c3o4-k2x3", (2, 5, 6, 3),
                                       {"out_channels": 4, "kernel_size": (2, 3)})) == []
    assert sample_name_problems(Sample("b2h3w4c2-k5x6-p1x2-full", (2, 3, 5, 2)))
    assert sample_name_problems(Sample("b2-k3s2", (2, 4), {"kernel_size": 3, "stride": 1}))
    assert sample_name_problems(Sample("b4i3o2", (4, 3), {"out_features": 5}))


def test_validate_refuses_duplicate_names():
    entry = BY_NAME["relu"]
    from dataclasses import replace

    with pytest.raises(ValueError, match="duplicate entry names"):
        validate([entry, entry])
    with pytest.raises(ValueError, match="duplicate sample names"):
        validate([replace(entry, samples=entry.samples + entry.samples[:1])])
    with pytest.raises(ValueError, match="duplicate error input names"):
        validate([replace(entry, errors=entry.errors + entry.errors[:1])])


def test_validate_refuses_a_sample_impl_the_layer_lacks():
    from dataclasses import replace

    entry = BY_NAME["softmax"]
    only = replace(entry.samples[0], impls=("vectorised",))
    with pytest.raises(ValueError, match=r"impls \['vectorised'\] are not paths of the layer"):
        validate([replace(entry, samples=(only,))])
    kept = replace(entry.samples[0], impls=("vectorized",))
    assert [c.impl for c in cases(entries=[replace(entry, samples=(kept,))])] == [
        "vectorized", "vectorized"]  # float32 and float64, no loop case


# --------------------------------------------------------------------------- compare()
TIGHT = Tolerance(rtol=1e-3, atol=1e-6)


def test_compare_passes_within_and_fails_just_outside_the_tolerance():
    expected = np.array([1.0, -2.0, 0.0])
    allowed = TIGHT.allowed(expected)
    assert compare("t", expected + 0.99 * allowed, expected, TIGHT).ok
    outside = compare("t", expected + np.array([0, 1.01, 0]) * allowed, expected, TIGHT)
    assert not outside.ok
    assert outside.index == (1,) and outside.mismatched == 1 and outside.total == 3
    assert outside.headroom == pytest.approx(1.01)


def test_compare_reports_the_largest_error_at_its_own_index():
    expected = np.array([100.0, 0.0])
    actual = np.array([100.5, 1e-5])  # largest abs error at 0, worst headroom at 1
    result = compare("t", actual, expected, TIGHT)
    assert result.max_abs_index == (0,) and result.max_abs == pytest.approx(0.5)
    assert result.index == (1,)


@pytest.mark.parametrize(
    ("actual", "expected", "problem"),
    [
        (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "NaN differ"),
        (np.array([1.0, 1.0]), np.array([np.nan, 1.0]), "NaN differ"),
        (np.array([np.inf, 1.0]), np.array([-np.inf, 1.0]), "infinities differ"),
        (np.array([1.0, 1.0]), np.array([np.inf, 1.0]), "infinities differ"),
        (np.ones((2, 1)), np.ones((1, 2)), "shape (2, 1) != torch shape (1, 2)"),
        (None, np.ones(2), "produced no such tensor"),
    ],
)
def test_compare_rejects(actual, expected, problem):
    result = compare("t", actual, expected, TIGHT)
    assert not result.ok
    assert problem in result.problem


def test_compare_accepts_matching_non_finite_values():
    values = np.array([np.inf, -np.inf, np.nan, 2.0])
    assert compare("t", values.copy(), values, TIGHT).ok


def test_guard_threshold_is_relative_to_atol():
    tolerance = PARITY[F32]
    small = np.full(3, 10 * tolerance.atol)
    assert compare("g", small, small, tolerance).ok
    assert not compare("g", small, small, tolerance, guard=True).ok
    big = np.full(3, 1000 * tolerance.atol)
    assert compare("g", big, big, tolerance, guard=True).ok


# --------------------------------------------------------------------------- contract checks
def test_an_in_place_write_into_dy_is_caught(monkeypatch):
    def in_place(self: activations.ReLU, positive: np.ndarray, dy: np.ndarray) -> np.ndarray:
        dy *= positive  # the bug: dy belongs to the caller
        return dy

    monkeypatch.setattr(activations.ReLU, "_derivative_times", in_place)
    result = run("inputs-untouched", "relu", "b64d32")
    assert failing(result) == {"dy"}
    assert "dy was modified by the layer" in result.message()


def test_code_that_assumes_contiguous_memory_is_caught(monkeypatch):
    def contiguous_only(self: activations.Tanh, x: np.ndarray) -> np.ndarray:
        # the bug: strides computed for a C-contiguous array, as a hand-rolled im2col might
        strides = tuple(int(np.prod(x.shape[k + 1:])) * x.itemsize for k in range(x.ndim))
        return np.tanh(np.lib.stride_tricks.as_strided(x, x.shape, strides))

    monkeypatch.setattr(activations.Tanh, "_apply", contiguous_only)
    result = run("memory-layout", "tanh", "b64d32")
    assert "output" in failing(result)
    assert result.get("output").expected_name == "a contiguous copy of the input"


def test_a_cache_kept_from_the_first_forward_is_caught(monkeypatch):
    original = linear.Linear.forward

    def first_cache_wins(self: linear.Linear, x: np.ndarray) -> np.ndarray:
        cache = self._cache
        y = original(self, x)
        if cache is not None:
            self._cache = cache  # the bug: the cache of an earlier call survives
        return y

    monkeypatch.setattr(linear.Linear, "forward", first_cache_wins)
    result = run("cache-freshness", "linear", "b32i64o16")
    assert "grad[weight]" in failing(result)
    assert result.get("grad[weight]").expected_name == "a fresh layer"


def test_wrong_max_pool_indices_fail_forward(monkeypatch):
    from numpy_impl import pooling

    original = pooling.MaxPool2d.forward

    def shifted(self: pooling.MaxPool2d, x: np.ndarray) -> object:
        y, indices = original(self, x)
        return y, indices + 1  # the bug: off by one column

    monkeypatch.setattr(pooling.MaxPool2d, "forward", shifted)
    result = run("forward", "max_pool2d", "b2h6w6c3-k2-indices", F32, "vectorized")
    assert failing(result) == {"output[1]"}


def test_an_off_by_one_between_row_blocks_is_caught_by_the_sample_that_needs_three(
        monkeypatch):
    def off_by_one(cls: type, s: np.ndarray, dy: np.ndarray) -> np.ndarray:
        rows_s, rows_dy = s.reshape(-1, s.shape[-1]), dy.reshape(-1, s.shape[-1])
        dx = np.zeros_like(rows_dy)
        step = cls.BLOCK_ELEMENTS // rows_s.shape[1]
        for start in range(0, rows_s.shape[0], step):
            block = slice(start, start + step - 1)  # the bug: each block's last row is lost
            dots = np.einsum("ij,ij->i", rows_s[block], rows_dy[block])
            dx[block] = (rows_dy[block] - dots[:, None]) * rows_s[block]
        return dx.reshape(s.shape)

    monkeypatch.setattr(softmax.Softmax, "_backward_vectorized", classmethod(off_by_one))
    assert failing(run("input-grad", "softmax", "blocks3-b16400c16", F32, "vectorized")) == {
        "input_grad"}
    assert run("input-grad", "softmax", "b256c10", F32, "vectorized").ok  # one block: blind


@pytest.mark.parametrize("impl", ["loop", "vectorized"])
def test_a_block_runs_every_two_path_child_on_its_own_path(impl):
    """Otherwise impl-agreement would compare a block's vectorized children with themselves."""
    from numpy_impl.blocks import SEBlock, SEResNetBlock

    for block in (SEResNetBlock(4, 8, 2, 1, impl=impl), SEBlock(8, 2, impl=impl)):
        paths = {name: layer.impl for name, layer in block.named_layers()
                 if getattr(type(layer), "IMPLS", ())}
        assert set(paths.values()) == {impl}, paths


# --------------------------------------------------------------------------- mutation gaps
# Bugs that mutation testing (docs/mutation.md) found no sample could catch; each now has one.
@OVER_SEEDS
def test_unpacking_winograd_rows_by_the_width_is_caught_by_the_non_square_sample(
        monkeypatch, seed):
    """Swapping H and W where the padded x is unpacked (mutant _winograd_unpack 20) only
    matters for H != W, and only on the direct-sum fallback for a non-finite dy."""
    original = conv._winograd_unpack

    def swapped(kept, x_shape, pads, dtype):
        n, h, w, c = x_shape
        return original(kept, (n, w, h, c), pads, dtype).reshape(x_shape)

    monkeypatch.setattr(conv, "_winograd_unpack", swapped)
    result = run("param-grads", "conv2d", "nonfinite-dy-b2h5w7c3o4-k3-p1-winograd",
                 impl="vectorized", seed=seed)
    assert failing(result) == {"grad[weight]"}  # x is unpacked for dW = Σ x·dy only


@OVER_SEEDS
@pytest.mark.parametrize("layer", ["cross_entropy", "softmax_cross_entropy"])
def test_a_placeholder_label_past_the_only_class_is_caught(monkeypatch, layer, seed):
    """Ignored positions must get a label that exists (mutant parse_targets 64: 1, not 0)."""
    original = losses.parse_targets

    def placeholder_one(*args, **kwargs):
        parsed = original(*args, **kwargs)
        if not isinstance(parsed, losses.Labels):
            return parsed
        return losses.Labels(np.where(parsed.keep, parsed.index, 1), parsed.keep)

    monkeypatch.setattr(losses, "parse_targets", placeholder_one)
    assert run("forward", layer, "one-class-ignore-labels-b8c1", seed=seed).status == checks.ERROR


@OVER_SEEDS
def test_an_unguarded_inf_times_zero_in_mse_backward_is_caught_by_its_warning(monkeypatch, seed):
    """2·(p − t)·dy with p − t = inf and dy = 0 is NaN, as torch's, but must not warn."""

    def unguarded(self: losses.MSELoss, dy: object = None) -> np.ndarray:
        diff, scale = self._take_cache()
        return np.asarray(2 * scale * diff * self._upstream(dy)).astype(diff.dtype)

    monkeypatch.setattr(losses.MSELoss, "backward", unguarded)
    result = run("warnings", "mse", "inf-zero-dy-none-b4d3", seed=seed)
    assert result.status == checks.FAIL
    assert "invalid value encountered in multiply" in result.failures()[0].problem


@OVER_SEEDS
@pytest.mark.parametrize("dtype", [F32, np.dtype(np.float64)], ids=str)
def test_a_nan_mean_for_a_channel_of_inf_is_caught_by_the_running_mean(monkeypatch, dtype, seed):
    """A channel whose only non-finite value is +inf has mean +inf, as torch's Σx/M (the
    shifted pass once made it inf − inf = NaN)."""
    original = normalization.batch_statistics

    def nan_mean(rows, sweep, scratch=None):
        mean, centered, offsets, var = original(rows, sweep, scratch)
        return np.where(np.isinf(mean), np.nan, mean).astype(mean.dtype), centered, offsets, var

    monkeypatch.setattr(normalization, "batch_statistics", nan_mean)
    result = run("buffers", "batch_norm2d", "nonfinite-train-b4h3w3c5", dtype, seed=seed)
    assert failing(result) == {"buffer[running_mean]"}


@OVER_SEEDS
def test_an_unguarded_cast_of_a_batch_norm_gradient_is_caught_by_its_warning(monkeypatch, seed):
    """Σ dy past float32's largest is inf, as torch's, but casting it must not warn."""
    original = normalization.BatchNorm.backward

    def unguarded(self: normalization.BatchNorm, dy: np.ndarray) -> np.ndarray:
        dx = original(self, dy)
        sums = np.asarray(dy, np.float64).reshape(-1, self.num_features).sum(axis=0)
        self._grads["bias"] = sums.astype(dy.dtype)  # the float64 sum cast outside errstate
        return dx

    monkeypatch.setattr(normalization.BatchNorm, "backward", unguarded)
    result = run("warnings", "batch_norm2d", "huge-dy-eval-random-stats-b4h3w3c2", seed=seed)
    assert result.status == checks.FAIL
    assert "overflow encountered in cast" in result.failures()[0].problem
