"""The harness must catch bugs: each test here injects a known bug and expects a failure.

A parity suite that passes a wrong backward is worse than none. These tests patch a layer
with a realistic mistake (a flipped sign, a dropped max-shift, the seeds' own errors) and
check that the right comparison fails with a message a CI reader can act on.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from numpy_impl import activations, linear, losses, softmax
from parity_tests.harness import (
    compare,
    finite_difference_case,
    impl_agreement_case,
    run_case,
)
from parity_tests.pairing import Sample
from parity_tests.registry import BY_NAME
from parity_tests.tolerances import PARITY, Tolerance

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def parity_of(layer: str, config: str, dtype: np.dtype = F32, impl: str | None = None):
    entry = BY_NAME[layer]
    return run_case(entry, entry.sample(config), dtype, impl, seed=0)


def failing_tensors(result) -> set[str]:
    return {c.tensor for c in result.comparisons if not c.ok}


# --------------------------------------------------------------------------- the message
def test_failure_message_names_everything_needed_to_act(monkeypatch):
    original = softmax.Softmax.backward
    monkeypatch.setattr(softmax.Softmax, "backward", lambda self, dy: -original(self, dy))
    result = parity_of("softmax", "b256c10", F32, "vectorized")
    assert failing_tensors(result) == {"input_grad"}
    with pytest.raises(AssertionError) as raised:
        result.assert_ok()
    message = str(raised.value)
    for expected in [
        "parity mismatch in softmax-vectorized-float32-b256c10: input_grad",
        "layer      softmax (impl=vectorized)",
        "config     b256c10 input shape (256, 10)",
        "dtype      float32",
        "tensor     input_grad  shape (256, 10)",
        "tolerance  rtol=1.3e-06 atol=1.0e-05",
        "seed       0",
        "repro      parity check --layer softmax --config b256c10 --dtype float32 "
        "--impl vectorized --seed 0",
        "PARITY_SEED=0 pytest parity_tests -k 'softmax-vectorized-float32-b256c10'",
    ]:
        assert expected in message, f"missing {expected!r} in:\n{message}"
    assert re.search(r"max abs    \d\.\d+e[+-]\d+ at index \(\d+, \d+\): numpy -?\d", message)
    assert re.search(r"max rel    \d\.\d+e[+-]\d+", message)
    assert re.search(r"headroom \d+", message)


# --------------------------------------------------------------------------- injected bugs
def test_flipped_sign_is_caught_by_finite_differences_without_torch(monkeypatch):
    original = linear.Linear.backward
    monkeypatch.setattr(linear.Linear, "backward", lambda self, dy: -original(self, dy))
    entry = BY_NAME["linear"]
    result = finite_difference_case(entry, entry.sample("b32i64o16"))
    assert failing_tensors(result) == {"input_grad"}


def test_softmax_without_max_shift_fails_on_large_logits(monkeypatch):
    def unshifted(x: np.ndarray) -> np.ndarray:
        exps = np.exp(x)
        return exps / np.sum(exps, axis=-1, keepdims=True)

    monkeypatch.setattr(softmax, "stable_softmax", unshifted)
    result = parity_of("softmax", "extreme-b64c10", F32, "vectorized")
    assert "numpy warned: RuntimeWarning: overflow encountered in exp" in result.get(
        "warnings").problem
    assert "NaN in the numpy values" in result.get("output").problem
    # ordinary logits do not reveal the missing shift: the extreme sample is needed
    assert parity_of("softmax", "b256c10", F32, "vectorized").ok


def test_a_slightly_wrong_weight_gradient_is_caught(monkeypatch):
    original = linear.Linear.backward

    def scaled(self: linear.Linear, dy: np.ndarray) -> np.ndarray:
        dx = original(self, dy)
        self._grads["weight"] = self._grads["weight"] * np.float32(1.001)
        return dx

    monkeypatch.setattr(linear.Linear, "backward", scaled)
    assert failing_tensors(parity_of("linear", "b32i64o16")) == {"grad[weight]"}


def test_a_forgotten_bias_is_caught_even_though_it_starts_at_zero(monkeypatch):
    def no_bias(self: linear.Linear, x: np.ndarray) -> np.ndarray:
        return self._remember_output(x @ self._params["weight"], x)

    monkeypatch.setattr(linear.Linear, "forward", no_bias)
    assert "output" in failing_tensors(parity_of("linear", "b32i64o16"))


@pytest.mark.parametrize("layer", ["relu", "leaky_relu"])
def test_seed_subgradient_at_zero_is_caught_only_by_the_ties_sample(monkeypatch, layer):
    """The seeds give LeakyReLU slope 1 at 0 (x >= 0); torch gives the negative slope."""
    cls = activations.ReLU if layer == "relu" else activations.LeakyReLU
    monkeypatch.setattr(cls, "_cache_for", lambda self, x, y: x >= 0)
    assert failing_tensors(parity_of(layer, "ties-at-zero")) == {"input_grad"}
    assert parity_of(layer, "b64d32").ok


def test_seed_mse_backward_is_caught(monkeypatch):
    """Seed 004: 0.5·mean forward and (y − ŷ)/N backward."""

    def seed_backward(self: losses.MSELoss) -> np.ndarray:
        diff, _ = self._cache
        return (-diff / diff.shape[0]).astype(diff.dtype)

    monkeypatch.setattr(losses.MSELoss, "backward", seed_backward)
    assert failing_tensors(parity_of("mse", "b32d8")) == {"input_grad"}


def test_naive_sigmoid_is_caught_by_its_overflow_warning(monkeypatch):
    """1/(1+e^-x) even gives the right values at -1e4, but only through an overflow."""
    monkeypatch.setattr(activations.Sigmoid, "_apply", lambda self, x: 1 / (1 + np.exp(-x)))
    result = parity_of("sigmoid", "extreme-1e4")
    assert failing_tensors(result) == {"warnings"}
    assert "overflow encountered in exp" in result.get("warnings").problem


def test_a_silent_upcast_is_caught(monkeypatch):
    monkeypatch.setattr(activations.Tanh, "_apply", lambda self, x: np.tanh(x.astype(np.float64)))
    assert "dtype float64 != reference dtype float32" in parity_of("tanh", "b64d32").get(
        "output").problem


def test_a_bug_in_the_loop_path_is_caught_by_impl_agreement(monkeypatch):
    def wrong_jacobian(s: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return np.stack([(np.diag(r) + np.outer(r, r)) @ d for r, d in zip(s, dy, strict=True)])

    monkeypatch.setattr(softmax.Softmax, "_backward_loop", staticmethod(wrong_jacobian))
    entry = BY_NAME["softmax"]
    result = impl_agreement_case(entry, entry.sample("b256c10"), F64, ("loop", "vectorized"))
    assert failing_tensors(result) == {"input_grad"}


def test_the_guard_rejects_a_sample_whose_gradient_is_zero():
    entry = BY_NAME["softmax"]
    degenerate = Sample("b1c1-guarded", (1, 1))  # softmax over one class: gradient is 0
    result = run_case(entry, degenerate, F32, "vectorized")
    assert "guard" in result.get("input_grad").problem
    assert run_case(entry, entry.sample("b1c1"), F32, "vectorized").ok


# --------------------------------------------------------------------------- compare()
TIGHT = Tolerance(rtol=1e-3, atol=1e-6)


def test_compare_passes_within_and_fails_just_outside_the_tolerance():
    expected = np.array([1.0, -2.0, 0.0])
    allowed = TIGHT.allowed(expected)
    assert compare("t", expected + 0.99 * allowed, expected, TIGHT).ok
    outside = compare("t", expected + np.array([0, 1.01, 0]) * allowed, expected, TIGHT)
    assert not outside.ok
    assert outside.index == (1,)
    assert outside.headroom == pytest.approx(1.01)


@pytest.mark.parametrize(
    ("actual", "expected", "problem"),
    [
        (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "NaN in the numpy"),
        (np.array([1.0, 1.0]), np.array([np.nan, 1.0]), "NaN in the reference"),
        (np.array([np.inf, 1.0]), np.array([-np.inf, 1.0]), "infinities differ"),
        (np.array([1.0, 1.0]), np.array([np.inf, 1.0]), "infinities differ"),
        (np.ones((2, 1)), np.ones((1, 2)), "shape (2, 1) != reference shape (1, 2)"),
        (np.ones(2, np.float32), np.ones(2), "dtype float32 != reference dtype float64"),
        (None, np.ones(2), "produced no such tensor"),
    ],
)
def test_compare_rejects(actual, expected, problem):
    result = compare("t", actual, expected, TIGHT)
    assert not result.ok
    assert problem in result.problem


def test_compare_accepts_matching_infinities():
    values = np.array([np.inf, -np.inf, 2.0])
    assert compare("t", values.copy(), values, TIGHT).ok


def test_guard_threshold_is_relative_to_atol():
    tolerance = PARITY[F32]
    small = np.full(3, 10 * tolerance.atol)
    assert compare("g", small, small, tolerance).ok
    assert not compare("g", small, small, tolerance, guard=True).ok
    big = np.full(3, 1000 * tolerance.atol)
    assert compare("g", big, big, tolerance, guard=True).ok


# --------------------------------------------------------------------------- contract tests
def _case(layer: str, config: str, dtype: np.dtype = F32, impl: str | None = None):
    from parity_tests.registry import Case

    entry = BY_NAME[layer]
    return Case(entry, entry.sample(config), dtype, impl)


def test_an_in_place_write_into_dy_is_caught(monkeypatch):
    from parity_tests.test_parity import test_inputs_are_not_modified

    def in_place(self: activations.ReLU, positive: np.ndarray, dy: np.ndarray) -> np.ndarray:
        dy *= positive  # the bug: dy belongs to the caller
        return dy

    monkeypatch.setattr(activations.ReLU, "_derivative_times", in_place)
    with pytest.raises(AssertionError, match="dy was modified by backward"):
        test_inputs_are_not_modified(_case("relu", "b64d32"))


def test_code_that_assumes_contiguous_memory_is_caught(monkeypatch):
    from parity_tests.test_parity import test_non_contiguous_input_gives_the_same_results

    def contiguous_only(self: activations.Tanh, x: np.ndarray) -> np.ndarray:
        # the bug: strides computed for a C-contiguous array, as a hand-rolled im2col might
        strides = tuple(int(np.prod(x.shape[k + 1:])) * x.itemsize for k in range(x.ndim))
        return np.tanh(np.lib.stride_tricks.as_strided(x, x.shape, strides))

    monkeypatch.setattr(activations.Tanh, "_apply", contiguous_only)
    with pytest.raises(AssertionError, match="a non-contiguous input changed the results"):
        test_non_contiguous_input_gives_the_same_results(_case("tanh", "b64d32"))


def test_a_cache_kept_from_the_first_forward_is_caught(monkeypatch):
    from parity_tests.test_parity import test_backward_uses_the_last_forward

    original = linear.Linear.forward

    def first_cache_wins(self: linear.Linear, x: np.ndarray) -> np.ndarray:
        cache = self._cache
        y = original(self, x)
        if cache is not None:
            self._cache = cache  # the bug: the cache of an earlier call survives
        return y

    monkeypatch.setattr(linear.Linear, "forward", first_cache_wins)
    with pytest.raises(AssertionError, match="stale cache"):
        test_backward_uses_the_last_forward(_case("linear", "b32i64o16"))
