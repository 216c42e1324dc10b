"""The checks themselves: what each check of checks.py decides, reports and shares.

test_checks.py runs every check on every registry case (correct layers: everything must
pass) and test_meta.py injects layer bugs (each must fail the right check). These tests pin
what mutation testing of checks.py found that neither held (docs/mutation.md, "The
harness's checks"): the verdict rules of CheckResult, assert_ok and assert_all_ok (a FAIL
raises, a SKIP skips, a PASS does neither), the messages and repro lines, a check that
raised never reading as PASS, the one shared run per case, the finite-difference guard and
directions, the bad-input stages and layer names, and the selection rule of plan().

Every test must pass for the real code at any seed; none reads a clock.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pytest

from numpy_impl import activations, linear, losses
from parity_tests import checks, engine
from parity_tests.adapters import Target, target_entry
from parity_tests.check_names import CHECK_NAMES, CHECK_TITLES
from parity_tests.checks import ERROR, FAIL, PASS, SKIP, CheckResult, Job
from parity_tests.compare import Comparison
from parity_tests.engine import CaughtError, RunCache
from parity_tests.entry import ErrorInput
from parity_tests.registry import BY_NAME, Case, ErrorCase
from parity_tests.samples import Sample
from parity_tests.seeding import seed_from_env
from parity_tests.tests import outside_layers
from parity_tests.tolerances import FD_DIRECTIONS, FD_STEPS, PARITY, Tolerance

SEED = seed_from_env()
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def case(layer: str, config: str, dtype: np.dtype = F32, impl: str | None = None) -> Case:
    entry = BY_NAME[layer]
    return Case(entry, entry.sample(config), np.dtype(dtype), impl)


def run(check: str, layer: str, config: str, dtype: np.dtype = F32, impl: str | None = None,
        cache: RunCache | None = None) -> CheckResult:
    return checks.BY_NAME[check].run(case(layer, config, dtype, impl), SEED, cache)


def raises_exactly(kind: type[BaseException], call: Any, *args: Any) -> BaseException:
    """What ``call(*args)`` raised, which must be ``kind`` itself (pytest.skip's Skipped is
    a BaseException: a plain ``pytest.raises(AssertionError)`` would let it through as a
    skipped test, which a test run counts as passing)."""
    with pytest.raises(BaseException) as raised:
        call(*args)
    assert raised.type is kind, f"raised {raised.type.__name__}: {raised.value}"
    return raised.value


def returns(call: Any, *args: Any) -> Any:
    """``call(*args)``, which must return: a skip or any other exception fails the test
    (an uncaught pytest.skip would turn it into a skipped test, which counts as passing)."""
    try:
        return call(*args)
    except BaseException as raised:  # pytest.skip raises Skipped, a BaseException
        pytest.fail(f"raised {type(raised).__name__}: {raised}")


RELU = case("relu", "b64d32")
GOOD = Comparison("output", ok=True, headroom=0.25)
BAD = Comparison("input_grad", ok=False, headroom=3.0, problem="a wrong backward")


# --------------------------------------------------------------------------- CheckResult
def test_status_error_wins_then_skip_then_the_comparisons():
    assert CheckResult("forward", RELU, 0, [GOOD]).status == PASS
    assert CheckResult("forward", RELU, 0, [GOOD, BAD]).status == FAIL
    assert CheckResult("forward", RELU, 0, [GOOD], skipped="why").status == SKIP
    error = CaughtError("numpy forward", "ValueError", "no", "Traceback\n")
    assert CheckResult("forward", RELU, 0, [GOOD], error=error, skipped="why").status == ERROR
    assert CheckResult("forward", RELU, 0, [GOOD]).ok
    assert not CheckResult("forward", RELU, 0, [GOOD], skipped="why").ok


def test_headroom_is_the_worst_comparison_and_failures_keep_their_order():
    other = Comparison("grad[weight]", ok=False, headroom=2.0, problem="p")
    result = CheckResult("param-grads", RELU, 0, [BAD, GOOD, other])
    assert result.headroom == 3.0
    assert CheckResult("forward", RELU, 0).headroom == 0.0
    assert result.failures() == [BAD, other]
    assert result.get("output") is GOOD
    with pytest.raises(KeyError, match=r"param-grads-relu-float32-b64d32: no comparison for "
                                       r"'buffer\[x\]'; have \['input_grad', 'output'"):
        result.get("buffer[x]")


def test_a_finding_passes_without_a_problem_and_fails_with_one():
    passed = checks.finding("warnings")
    assert passed.ok and passed.problem == "" and passed.headroom == 0.0
    assert passed.expected_name == "the contract"
    failed = checks.finding("x", "numpy warned: overflow", "dtype float32")
    assert not failed.ok and failed.headroom == np.inf
    assert failed.tensor == "x" and failed.expected_name == "dtype float32"
    assert failed.problem == "numpy warned: overflow"


def test_the_message_of_a_failure_names_the_case_the_numbers_and_the_repro():
    config = "eval-random-stats-b16c4"
    result = CheckResult("input-grad", case("batch_norm1d", config), 7, [GOOD, BAD])
    lines = result.message().splitlines()
    assert lines[0] == f"FAIL input-grad-batch_norm1d-float32-{config}: input_grad differs " \
                       "from torch"
    assert lines[1] == "  layer      batch_norm1d"
    assert lines[2] == (f"  config     {config} input shape (16, 4) kwargs "
                        "{'num_features': 4} eval mode")
    assert lines[3] == "  dtype      float32"
    assert lines[4].startswith("  tensor     input_grad")
    assert "  problem    a wrong backward" in lines
    assert lines[-3] == "  seed       7"
    assert lines[-2] == (f"  repro      parity check --layer batch_norm1d --config {config} "
                         "--dtype float32 --check input-grad --seed 7")
    assert lines[-1] == ("  pytest     PARITY_SEED=7 pytest "
                         "'parity_tests/tests/test_checks.py::test_case"
                         f"[batch_norm1d-float32-{config}]'")
    # a comparison named explicitly, and a passing result
    assert result.message(GOOD).startswith(f"FAIL input-grad-batch_norm1d-float32-{config}: "
                                           "output differs from torch\n")
    assert CheckResult("forward", RELU, 0, [GOOD]).message().startswith(
        "PASS forward-relu-float32-b64d32\n  layer      relu\n")


def test_a_training_sample_prints_no_mode():
    config = CheckResult("forward", RELU, 0, [BAD]).message().splitlines()[2]
    assert config == "  config     b64d32 input shape (64, 32) kwargs {}"


def test_a_guard_failure_reads_guard_not_fail():
    guarded = Comparison("input_grad", ok=False, problem="guard: ...", guard_failed=True)
    head = CheckResult("input-grad", RELU, 0, [guarded]).message().splitlines()[0]
    assert head == ("GUARD input-grad-relu-float32-b64d32: the comparison could not catch a "
                    "wrong backward")


def test_an_error_message_has_the_context_and_the_last_twelve_traceback_lines():
    trace = "".join(f"line {k}\n" for k in range(20)) + "\n"
    error = CaughtError("numpy backward", "IndexError", "col2im", trace)
    lines = CheckResult("input-grad", RELU, 3, error=error).message().splitlines()
    assert lines[0] == "ERROR input-grad-relu-float32-b64d32: numpy backward raised " \
                       "IndexError: col2im"
    assert lines[1:4] == ["  layer      relu",
                          "  config     b64d32 input shape (64, 32) kwargs {}",
                          "  dtype      float32"]
    assert lines[4] == "  traceback  (most recent call last, last lines)"
    assert lines[5:17] == [f"    line {k}" for k in range(8, 20)]
    assert lines[17] == "  seed       3"
    assert checks._tail("  a\nb\n c \n\n", 2) == ["b", " c"]


def test_a_skipped_result_says_skip_and_why_not_pass():
    """Found by this mutation run: a SKIP's message (parity.json's "message") read
    "PASS <id>", with no reason."""
    result = CheckResult("forward", RELU, 0, skipped="the adapter cannot express it")
    assert result.message().splitlines()[0] == (
        "SKIP forward-relu-float32-b64d32: the adapter cannot express it")


def test_an_error_case_prints_its_error_input_and_reruns_without_dtype_or_seed():
    entry = BY_NAME["linear"]
    error_case = ErrorCase(entry, entry.error("wrong-feature-size"))
    result = CheckResult("bad-input", error_case, 5, [BAD])
    lines = result.message().splitlines()
    assert lines[1] == "  layer      linear"
    assert lines[2] == (f"  error      wrong-feature-size: ValueError matching "
                        f"{entry.error('wrong-feature-size').match!r} at forward")
    assert result.repro() == ("parity check --layer linear --config wrong-feature-size "
                              "--check bad-input")
    assert result.pytest_repro() == ("PARITY_SEED=5 pytest "
                                     "'parity_tests/tests/test_checks.py::test_case"
                                     "[linear-wrong-feature-size]'")


def test_a_case_built_in_code_has_no_repro_line():
    drawn = Case(BY_NAME["relu"], Sample("drawn", (3, 2)), F32, None)
    result = CheckResult("forward", drawn, 0, [BAD])
    assert not result.registered and result.repro() is None and result.pytest_repro() is None
    assert result.message().splitlines()[-1] == (
        "  repro      not a registry case (built in code, or drawn by hypothesis: replay the "
        "@reproduce_failure line it printed)")
    stranger = dataclasses.replace(BY_NAME["relu"])  # not the registry's object, no origin
    assert not CheckResult("forward", Case(stranger, stranger.samples[0], F32, None),
                           0).registered


def test_an_outside_target_reruns_through_its_own_option():
    entry = target_entry(Target(outside_layers.ContractLinear, "linear", name="my.Linear"),
                         "--target mod:Linear --as linear")
    result = CheckResult("forward", Case(entry, entry.samples[0], F64, None), 2, [BAD])
    sample = entry.samples[0].name
    assert result.repro() == (f"parity check --target mod:Linear --as linear --layer my.Linear "
                              f"--config {sample} --dtype float64 --check forward --seed 2")
    assert result.pytest_repro() == (
        f"PARITY_SEED=2 pytest --parity-target=mod:Linear --parity-as=linear "
        f"--parity-job forward-my.Linear-float64-{sample}")
    plugin = dataclasses.replace(entry, origin="--plugin /tmp/p.py")
    result = CheckResult("forward", Case(plugin, plugin.samples[0], F64, None), 2, [BAD])
    assert result.pytest_repro() == (f"PARITY_SEED=2 pytest --parity-plugin=/tmp/p.py "
                                     f"--parity-job forward-my.Linear-float64-{sample}")


def test_a_two_path_case_reruns_its_path():
    result = CheckResult("forward", case("softmax", "b256c10", F64, "loop"), 0, [BAD])
    assert result.repro() == ("parity check --layer softmax --config b256c10 --dtype float64 "
                              "--impl loop --check forward --seed 0")


# --------------------------------------------------------------------------- assert_ok
def test_assert_ok_returns_on_pass_raises_on_fail_and_error_and_skips_on_skip():
    assert returns(CheckResult("forward", RELU, 0, [GOOD]).assert_ok) is None
    failed = CheckResult("forward", RELU, 0, [BAD])
    assert str(raises_exactly(AssertionError, failed.assert_ok)) == failed.message()
    error = CaughtError("numpy forward", "ValueError", "no", "Traceback\n")
    raises_exactly(AssertionError, CheckResult("forward", RELU, 0, error=error).assert_ok)
    skipped = CheckResult("forward", RELU, 0, skipped="no bias")
    assert str(raises_exactly(pytest.skip.Exception, skipped.assert_ok)) == "no bias"


def test_assert_all_ok_raises_with_every_bad_message_and_skips_only_when_all_skip():
    good = CheckResult("forward", RELU, 0, [GOOD])
    bad = CheckResult("input-grad", RELU, 0, [BAD])
    error = CheckResult("dtype", RELU, 0,
                        error=CaughtError("numpy forward", "ValueError", "no", "Traceback\n"))
    skipped = CheckResult("buffers", RELU, 0, skipped="b")
    assert returns(checks.assert_all_ok, [good, skipped]) is None
    assert returns(checks.assert_all_ok, [good]) is None
    assert returns(checks.assert_all_ok, []) is None
    message = str(raises_exactly(AssertionError, checks.assert_all_ok,
                                 [good, bad, skipped, error]))
    assert message == ("2 of 4 checks did not pass\n\n" + bad.message() + "\n\n"
                       + error.message())
    both = [CheckResult("forward", RELU, 0, skipped="b"), skipped,
            CheckResult("dtype", RELU, 0, skipped="a")]
    assert str(raises_exactly(pytest.skip.Exception, checks.assert_all_ok, both)) == "a; b"


# --------------------------------------------------------------------------- one run per case
class SpyCache(RunCache):
    """A RunCache that records every key asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[tuple] = []

    def get(self, key: tuple, compute: Any) -> Any:
        self.keys.append(key)
        return super().get(key, compute)


@pytest.mark.parametrize("check", ["forward", "input-grad", "dtype", "warnings",
                                   "inputs-untouched", "memory-layout", "cache-freshness"])
def test_every_check_reads_the_run_of_the_shared_cache(check):
    cache = SpyCache()
    result = run(check, "relu", "b64d32", cache=cache)
    assert result.ok, result.message()
    assert ("parity", "relu-float32-b64d32", SEED) in cache.keys


def test_impl_agreement_reads_both_paths_from_the_shared_cache():
    cache = SpyCache()
    result = run("impl-agreement", "softmax", "b256c10", F64, "loop", cache)
    assert result.ok and result.seed == SEED
    assert cache.keys == [("parity", "softmax-loop-float64-b256c10", SEED),
                          ("parity", "softmax-vectorized-float64-b256c10", SEED)]
    assert [c.expected_name for c in result.comparisons] == ["impl=vectorized"] * 2


def test_iter_results_gives_every_job_of_a_run_one_cache(monkeypatch):
    seen: list[Any] = []
    real = checks.parity_run

    def spy(case: Case, seed: int, cache: RunCache | None = None) -> Any:
        seen.append(cache)
        return real(case, seed, cache)

    monkeypatch.setattr(checks, "parity_run", spy)
    jobs = checks.plan(["forward", "input-grad", "warnings"], layers=["relu"],
                       dtypes=["float32"], configs=["b64d32"])
    results = list(checks.iter_results(jobs, SEED))
    assert [r.id for r in results] == [j.id for j in jobs] and all(r.ok for r in results)
    assert len(seen) == 3 and seen[0] is not None and all(c is seen[0] for c in seen)
    assert all(r.seed == SEED for r in results)


@pytest.mark.parametrize("check", [*CHECK_NAMES[:4], *CHECK_NAMES[5:11]])
def test_every_check_reports_its_name_case_and_seed(check):
    layer, config = ("batch_norm1d", "train-b16c4") if check == "buffers" else (
        "linear", "b32i64o16")
    dtype = F64 if check == "finite-diff" else F32
    result = run(check, layer, config, dtype)
    assert result.ok, result.message()
    assert (result.check, result.case.id, result.seed) == (check, f"{layer}-{np.dtype(dtype)}-"
                                                                  f"{config}", SEED)


# --------------------------------------------------------------------------- a raising layer
def _raise_in_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: activations.ReLU, x: np.ndarray) -> np.ndarray:
        raise ArithmeticError("forward: no")

    monkeypatch.setattr(activations.ReLU, "forward", broken)


@pytest.mark.parametrize("check", ["forward", "input-grad", "dtype", "warnings",
                                   "inputs-untouched", "memory-layout", "cache-freshness",
                                   "finite-diff"])
def test_a_check_whose_layer_raised_is_error_never_pass(monkeypatch, check):
    _raise_in_forward(monkeypatch)
    result = checks.BY_NAME[check].run(case("relu", "b64d32", F64), SEED)
    assert result.status == ERROR and result.comparisons == []
    assert result.error.type == "ArithmeticError" and result.error.message == "forward: no"


def test_the_earlier_forward_of_cache_freshness_is_its_own_error_stage(monkeypatch):
    calls: list[int] = []
    original = activations.ReLU.forward

    def second_call_raises(self: activations.ReLU, x: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(calls) == 2:  # the parity run's forward, then the earlier input's
            raise ArithmeticError("stale")
        return original(self, x)

    monkeypatch.setattr(activations.ReLU, "forward", second_call_raises)
    result = run("cache-freshness", "relu", "b64d32")
    assert result.status == ERROR
    assert (result.error.stage, result.error.type, result.error.message) == (
        "numpy forward (of the earlier input)", "ArithmeticError", "stale")


def test_cache_freshness_runs_first_on_the_fixed_other_input(monkeypatch):
    seen: list[np.ndarray] = []
    original = activations.ReLU.forward

    def recording(self: activations.ReLU, x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return original(self, x)

    monkeypatch.setattr(activations.ReLU, "forward", recording)
    target = case("relu", "b64d32")
    assert run("cache-freshness", "relu", "b64d32").ok
    other = target.sample.make_input(np.random.default_rng(checks.OTHER_INPUT_SEED),
                                     target.sample.shape, F32)
    built = engine.build_case(target, SEED)
    assert len(seen) == 3  # the parity run, the earlier input, the run under test
    np.testing.assert_array_equal(seen[1], other)
    np.testing.assert_array_equal(seen[2], built.x)


def test_warnings_are_failures_named_warnings_and_a_clean_run_one_pass(monkeypatch):
    clean = run("warnings", "relu", "b64d32")
    assert clean.ok and [(c.tensor, c.problem) for c in clean.comparisons] == [("warnings", "")]
    def warns_then_raises(self: activations.ReLU, x: np.ndarray) -> np.ndarray:
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        raise ArithmeticError("after the warning")

    monkeypatch.setattr(activations.ReLU, "forward", warns_then_raises)
    warned = run("warnings", "relu", "b64d32")
    assert warned.status == FAIL and warned.error is None  # the warning is the verdict
    assert [c.tensor for c in warned.comparisons] == ["warnings"]
    assert warned.comparisons[0].problem.startswith(
        "numpy warned: RuntimeWarning: divide by zero encountered in log")


def test_inputs_untouched_names_the_expected_side_and_only_flags_changes(monkeypatch):
    result = run("inputs-untouched", "mse", "b32d8")
    assert result.ok
    assert [(c.tensor, c.expected_name, c.problem) for c in result.comparisons] == [
        ("x", "x before the call", ""), ("target", "target before the call", "")]

    def in_place(self: activations.ReLU, positive: np.ndarray, dy: np.ndarray) -> np.ndarray:
        dy *= positive
        return dy

    monkeypatch.setattr(activations.ReLU, "_derivative_times", in_place)
    result = run("inputs-untouched", "relu", "b64d32")
    assert [(c.tensor, c.ok, c.problem) for c in result.comparisons] == [
        ("x", True, ""), ("dy", False, "dy was modified by the layer")]


# --------------------------------------------------------------------------- slack and guard
def test_the_numpy_only_checks_use_the_parity_runs_slack_and_no_guard(monkeypatch):
    seen: dict[str, Any] = {}
    real = checks._numpy_vs_numpy

    def spy(result: CheckResult, actual: Any, expected: Any, expected_name: str,
            guard: bool | None = None, slack: Any = None) -> CheckResult:
        seen[result.check] = (guard, slack)
        return real(result, actual, expected, expected_name, guard=guard, slack=slack)

    compared: dict[str, Any] = {}
    real_compare = checks.compare_tensors

    def compare_spy(actual: Any, expected: Any, case: Case, expected_name: str,
                    wanted: Any = None, guard: bool | None = None, slack: Any = None) -> Any:
        compared[expected_name] = slack
        return real_compare(actual, expected, case, expected_name, wanted, guard, slack)

    monkeypatch.setattr(checks, "_numpy_vs_numpy", spy)
    monkeypatch.setattr(checks, "compare_tensors", compare_spy)
    cache = RunCache()
    target = case("linear", "b32i64o16")
    slack = engine.parity_run(target, SEED, cache).slack
    assert slack and all(np.size(v) > 1 for v in slack.values())
    for check, name in (("memory-layout", "a contiguous copy of the input"),
                        ("cache-freshness", "a fresh layer")):
        assert checks.BY_NAME[check].run(target, SEED, cache).ok
        assert seen[check][0] is False and seen[check][1] is slack
        assert compared[name].keys() == slack.keys()
        assert all(compared[name][k] is slack[k] for k in slack)
    loop = case("softmax", "b256c10", F64, "loop")
    assert checks.check_impl_agreement(loop, SEED, cache).ok
    vectorized = engine.parity_run(loop.with_impl("vectorized"), SEED, cache)
    assert seen["impl-agreement"] == (None, vectorized.slack)


ZERO_GRADIENT = Sample("negative-b4d3", (4, 3), make_input=lambda rng, shape, dtype: (
    -1.0 - rng.random(shape)).astype(dtype))


def test_a_gradient_that_is_zero_by_construction_fails_the_guards_of_the_gradient_checks():
    zero = Case(BY_NAME["relu"], ZERO_GRADIENT, F64, None)
    for check in ("input-grad", "finite-diff"):
        result = checks.BY_NAME[check].run(zero, SEED)
        assert result.status == FAIL and result.get("input_grad").guard_failed, check
    # ... but the NumPy-against-NumPy checks compare values only: no guard
    for check in ("memory-layout", "cache-freshness", "forward"):
        assert checks.BY_NAME[check].run(zero, SEED).ok, check
    unguarded = Case(BY_NAME["relu"], dataclasses.replace(ZERO_GRADIENT, guard=False), F64,
                     None)
    assert checks.check_finite_diff(unguarded, SEED).ok


# --------------------------------------------------------------------------- finite differences
def test_finite_differences_use_every_direction_and_say_so():
    result = run("finite-diff", "linear", "b32i64o16", F64)
    assert result.ok and result.seed == SEED
    assert [c.tensor for c in result.comparisons] == ["input_grad", "grad[weight]",
                                                      "grad[bias]"]
    for comparison in result.comparisons:
        assert comparison.total == FD_DIRECTIONS
        assert comparison.expected_name == "finite differences"
        assert re.fullmatch(rf"directional derivatives along {FD_DIRECTIONS} random directions "
                            r"\(index = direction\), steps \[[0-9e., -]+\]", comparison.notes[0])
    assert result.get("input_grad").shape == (32, 64)
    assert result.get("grad[weight]").shape == (64, 16)


def test_the_steps_scale_with_the_arrays_magnitude_and_the_note_lists_them_largest_first():
    result = run("finite-diff", "batch_norm1d", "train-mean100-b16c4", F64)
    note = result.get("input_grad").notes[0]
    steps = [float(s) for s in note.split("steps [")[1].rstrip("]").split(", ")]
    assert steps == sorted(steps, reverse=True)
    built = engine.build_case(case("batch_norm1d", "train-mean100-b16c4", F64), SEED)
    rms = float(np.sqrt(np.mean(np.square(built.x))))
    assert rms > 10  # each step is one of FD_STEPS times the input's RMS
    assert all(any(step == pytest.approx(h * rms) for h in FD_STEPS) for step in steps), steps
    small = run("finite-diff", "linear", "b32i64o16", F64)  # |x| ~ 1: no scaling below 1
    assert small.get("grad[bias]").notes[0].endswith("steps [1e-06]")
    empty = checks.check_finite_diff(case("linear", "b0i4o3", F64), SEED)  # warns nothing
    assert empty.ok and empty.get("input_grad").notes[0].endswith("steps [1e-06]")


def test_the_dot_products_slack_counts_every_entry_of_the_gradient(monkeypatch):
    sizes: list[int] = []
    real = checks.finite_difference_slack

    def spy(*args: Any) -> Any:
        sizes.append(args[-1])
        return real(*args)

    monkeypatch.setattr(checks, "finite_difference_slack", spy)
    assert run("finite-diff", "linear", "b32i64o16", F64).ok
    assert sizes == [32 * 64, 64 * 16, 16]


def drop_linear_grad(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Linear's backward as it is, less the gradient of parameter ``name``."""
    original = linear.Linear.backward

    def without(self: linear.Linear, dy: np.ndarray) -> np.ndarray:
        dx = original(self, dy)
        self._grads.pop(name)
        return dx

    monkeypatch.setattr(linear.Linear, "backward", without)


def test_a_missing_gradient_is_reported_and_the_other_tensors_still_checked(monkeypatch):
    drop_linear_grad(monkeypatch, "weight")
    result = run("finite-diff", "linear", "b32i64o16", F64)
    assert [c.tensor for c in result.comparisons] == ["input_grad", "grad[weight]",
                                                      "grad[bias]"]
    assert result.status == FAIL and [c.tensor for c in result.failures()] == ["grad[weight]"]
    assert result.get("grad[weight]").problem == "the NumPy layer produced no such tensor"
    assert result.get("grad[bias]").ok and result.get("grad[bias]").total == FD_DIRECTIONS


def test_a_sample_on_a_kink_in_every_direction_is_reported_as_such():
    at_zero = Case(BY_NAME["relu"], Sample("zeros-b4d3", (4, 3), make_input=lambda rng, shape,
                                           dtype: np.zeros(shape, dtype)), F64, None)
    result = checks.check_finite_diff(at_zero, SEED)
    assert result.status == FAIL
    comparison = result.get("input_grad")
    assert comparison.expected_name == "finite differences"
    assert comparison.problem == (
        "every one of 12 random directions crosses a kink within h=1e-10: the sample sits on "
        "a non-differentiable point; mark it gradcheck=False or change it")


def test_f_is_the_sum_of_dy_times_the_first_output_in_float64():
    built = engine.build_case(case("max_pool2d", "b2h6w6c3-k2-indices", F32, "vectorized"),
                              SEED)
    y, _ = built.layer.forward(built.x)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    f, scale = checks._scalar(built, dy)
    terms = y.astype(np.float64) * dy
    assert (f, scale) == (float(np.sum(terms)), float(np.sum(np.abs(terms))))
    loss = engine.build_case(case("mse", "b32d8", F32), SEED)
    value = loss.layer.forward(loss.x, loss.target)
    assert checks._scalar(loss, None) == (float(value), abs(float(value)))


def test_the_conditioning_sums_float64_products_of_matching_shapes():
    x = np.array([[3.0, 1e-3]], dtype=np.float32)
    grads = {"input_grad": np.array([[1e-3, 3.0]], dtype=np.float32),
             "grad[w]": np.ones((2, 2))}
    expected = float(np.sum(np.abs(x.astype(np.float64) * grads["input_grad"])))
    assert checks._conditioning({"input_grad": x, "grad[w]": np.ones(3)}, grads) == expected


def test_a_tuple_output_is_differentiated_through_its_first_output():
    assert run("finite-diff", "max_pool2d", "b2h6w6c3-k2-indices", F64, "vectorized").ok


# --------------------------------------------------------------------------- wrong shapes
def _drop_last_input_column(monkeypatch: pytest.MonkeyPatch) -> None:
    original = linear.Linear.backward
    monkeypatch.setattr(linear.Linear, "backward",
                        lambda self, dy: original(self, dy)[:, :-1])


def test_a_gradient_of_the_wrong_shape_fails_finite_differences_with_both_shapes(monkeypatch):
    """Found by this mutation run: it raised a broadcasting ValueError, reported as a harness
    error ("harness (finite-diff) raised"), or escaped a direct call."""
    _drop_last_input_column(monkeypatch)
    result = checks.check_finite_diff(case("linear", "b32i64o16", F64), SEED)
    assert result.status == FAIL and [c.tensor for c in result.failures()] == ["input_grad"]
    assert result.get("input_grad").problem == (
        "shape (32, 63) != shape (32, 64) of what it is the gradient of")
    assert result.get("input_grad").expected_name == "finite differences"
    assert result.get("grad[weight]").ok


def test_a_slack_is_kept_where_it_broadcasts_to_its_tensor():
    assert checks._fits(np.zeros((2, 3)), np.ones((2, 3)))
    assert checks._fits(np.zeros(3), np.ones((2, 3)))  # an error model may return a row
    assert checks._fits(np.float64(0.5), np.ones((2, 3)))
    assert not checks._fits(np.zeros((2, 4)), np.ones((2, 3)))
    assert not checks._fits(np.zeros((2, 3)), np.ones(3))  # would grow the tensor
    assert not checks._fits(np.zeros(3), None)


@pytest.mark.parametrize("check", ["memory-layout", "cache-freshness"])
def test_a_wrong_shape_is_the_gradient_checks_failure_not_a_harness_error(monkeypatch, check):
    """Found by this mutation run: the error model's slack has torch's shape, and compare()
    raised broadcasting it onto two NumPy runs of another shape."""
    _drop_last_input_column(monkeypatch)
    target = case("linear", "b32i64o16")
    cache = RunCache()
    assert "input_grad" in engine.parity_run(target, SEED, cache).slack
    assert run("input-grad", "linear", "b32i64o16", cache=cache).get("input_grad").problem == (
        "shape (32, 63) != torch shape (32, 64)")
    result = checks.BY_NAME[check].run(target, SEED, cache)
    assert result.status == PASS, result.message()  # both NumPy runs agree on it
    assert result.get("input_grad").shape == (32, 63)


# --------------------------------------------------------------------------- bad input
def bad_input(layer: str, error: ErrorInput | str) -> CheckResult:
    entry = BY_NAME[layer]
    chosen = entry.error(error) if isinstance(error, str) else error
    return checks.check_bad_input(ErrorCase(entry, chosen), SEED)


def test_bad_input_reports_under_the_error_inputs_name():
    passed = bad_input("linear", "wrong-feature-size")
    assert passed.ok and passed.seed == SEED and passed.check == "bad-input"
    assert [(c.tensor, c.expected_name) for c in passed.comparisons] == [
        ("wrong-feature-size", "the documented error")]
    quiet = ErrorInput("quiet", "forward", ValueError, "never")  # valid args: nothing raises
    result = bad_input("linear", quiet)
    assert [(c.tensor, c.expected_name, c.problem) for c in result.comparisons] == [
        ("quiet", "the documented error",
         "nothing raised at forward; expected ValueError matching 'never'")]


def test_bad_input_problems_quote_the_raised_error_in_full():
    good = BY_NAME["linear"].error("wrong-feature-size")
    raised = str(bad_input("linear", good).comparisons[0].problem)
    assert raised == ""
    text = _raised_text(good)
    wrong_type = ErrorInput("t", "forward", TypeError, good.match, args=good.args)
    assert bad_input("linear", wrong_type).comparisons[0].problem == (
        f"raised {text}, expected TypeError")
    wrong_text = ErrorInput("m", "forward", ValueError, "something else", args=good.args)
    assert bad_input("linear", wrong_text).comparisons[0].problem == (
        f"the message does not match 'something else': {text}")
    early = ErrorInput("e", "backward", ValueError, good.match, args=good.args)
    assert bad_input("linear", early).comparisons[0].problem == (
        f"raised at forward instead of backward: {text}")


def _raised_text(error: ErrorInput) -> str:
    layer = BY_NAME["linear"].build(dict(BY_NAME["linear"].error_kwargs), F32,
                                    np.random.default_rng(0))
    with pytest.raises(Exception) as raised:
        layer.forward(*error.args)
    return f"{raised.type.__name__}: {raised.value}"


def test_an_error_raised_by_a_child_layer_may_name_the_child():
    assert bad_input("se_resnet_block", "one-value-per-channel-training").ok
    assert bad_input("se_resnet_block", "channel-mismatch").ok  # and the block itself
    block = BY_NAME["se_resnet_block"]
    built = block.build(dict(block.error_kwargs), F32, np.random.default_rng(0))
    assert checks._layer_names(block, built) == [
        "SEResNetBlock", "Conv2D", "BatchNorm2d", "ReLU", "SEBlock", "GlobalAvgPool2D",
        "Linear", "Sigmoid", "Identity"]
    assert checks._layer_names(block, None) == ["SEResNetBlock"]


def test_an_unnamed_error_lists_every_name_it_may_open_with():
    names = ["SEBlock", "Linear"]
    assert checks._unnamed_layer(names, ValueError("Linear.forward: x")) == ""
    assert checks._unnamed_layer(names, ValueError("SEBlock: x")) == ""
    assert checks._unnamed_layer(names, ValueError("Linear.forward.inner: x")) == ""
    assert checks._unnamed_layer(names, ValueError("LinearX: x")) == (
        "the message does not open with the layer's name (SEBlock or Linear, then ':' or "
        "'.method:'): ValueError: LinearX: x")
    assert checks._unnamed_layer(["A.B"], ValueError("AxB: x"))  # names are literal


def test_a_loss_takes_the_error_inputs_dy_when_it_has_one():
    """Found by this mutation run: the harness called a loss's backward() without the error
    input's dy, so a reduction='none' loss could not be given a bad dy (a correct loss
    failed "raised TypeError: ... dy is required")."""
    prediction = np.zeros((4, 3), np.float32)
    bad_dy = ErrorInput("none-dy-wrong-shape", "backward", ValueError,
                        r"MSELoss\.backward: dy has shape \(4, 4\), expected \(4, 3\)",
                        kwargs={"reduction": "none"}, args=(prediction, prediction),
                        dy=np.zeros((4, 4), np.float32))
    assert bad_input("mse", bad_dy).ok
    assert bad_input("mse", "backward-before-forward").ok
    assert bad_input("mse", "none-backward-without-dy").ok


# --------------------------------------------------------------------------- the selection rule
def test_every_check_is_registered_under_its_name_and_title_in_order():
    assert tuple(c.name for c in checks.CHECKS) == CHECK_NAMES
    assert all(c.title == CHECK_TITLES[c.name] for c in checks.CHECKS)
    assert [c.name for c in checks.CHECKS if c.on_errors] == ["bad-input"]
    assert all(callable(c.run) and callable(c.applies) for c in checks.CHECKS)
    assert checks.BY_NAME["forward"].run is checks.check_forward
    assert checks.check_input_grad.__name__ == "check_input_grad"


def test_the_selection_rule_per_kind_of_case():
    def planned(layer: str, config: str, dtype: str = "float32",
                impl: str | None = None) -> list[str]:
        return [j.check.name for j in checks.plan(layers=[layer], configs=[config],
                                                  dtypes=[dtype],
                                                  impls=None if impl is None else [impl])]

    assert planned("relu", "b64d32") == ["forward", "input-grad", "dtype", "warnings",
                                         "inputs-untouched", "memory-layout", "cache-freshness"]
    assert planned("relu", "b64d32", "float64") == [
        "forward", "input-grad", "finite-diff", "dtype", "warnings", "inputs-untouched",
        "memory-layout", "cache-freshness"]
    assert planned("relu", "0d")[-2:] == ["inputs-untouched", "cache-freshness"]
    assert "finite-diff" not in planned("relu", "ties-at-zero", "float64")
    assert planned("batch_norm1d", "train-b16c4")[:4] == ["forward", "input-grad",
                                                          "param-grads", "buffers"]
    assert planned("softmax", "b256c10", "float64", "loop") == [
        "forward", "input-grad", "impl-agreement", "dtype", "warnings", "inputs-untouched",
        "memory-layout", "cache-freshness"]
    assert planned("softmax", "b256c10", "float64", "vectorized")[:3] == [
        "forward", "input-grad", "finite-diff"]
    assert planned("linear", "wrong-feature-size") == ["bad-input"]


def test_plan_orders_cases_then_error_inputs_and_filters_both():
    jobs = checks.plan(["forward", "bad-input"], layers=["linear"])
    assert {j.case.entry.name for j in jobs} == {"linear"}
    kinds = [isinstance(j.case, ErrorCase) for j in jobs]
    assert kinds == sorted(kinds) and any(kinds) and not all(kinds)
    assert {j.check.name for j in jobs if isinstance(j.case, ErrorCase)} == {"bad-input"}
    only = checks.plan(["bad-input"], layers=["linear"], configs=["wrong-feature-size"],
                       dtypes=["float64"], impls=["loop"])
    assert [j.id for j in only] == ["bad-input-linear-wrong-feature-size"]
    assert checks.plan(["bad-input"], layers=["linear"], configs=["b32i64o16"]) == []
    entries = iter([BY_NAME["relu"]])  # an iterator: read once, used for both loops
    assert [j.id for j in checks.plan(["forward", "bad-input"], configs=["b64d32", "x-list"],
                                      dtypes=["float32"], entries=entries)] == [
        "forward-relu-float32-b64d32", "bad-input-relu-x-list"]
    with pytest.raises(KeyError, match=r"unknown check\(s\) \['nope'\]; known: forward, "):
        checks.plan(["nope"])
    assert checks.select_checks(["dtype", "forward"]) == (checks.BY_NAME["forward"],
                                                          checks.BY_NAME["dtype"])
    assert checks.select_checks(None) == checks.CHECKS


def test_plan_by_case_groups_the_jobs_of_each_case_in_plan_order():
    grouped = checks.plan_by_case(layers=["relu"], dtypes=["float32"],
                                  configs=["b64d32", "b1d1"])
    assert list(grouped) == ["relu-float32-b64d32", "relu-float32-b1d1"]
    assert [j.check.name for j in grouped["relu-float32-b1d1"]][:2] == ["forward",
                                                                        "input-grad"]
    assert all(j.case.id == k for k, jobs in grouped.items() for j in jobs)


def test_layer_facts_belong_to_the_entry_not_to_its_name():
    """Found by this mutation run: the facts were cached by case id, so an entry sharing
    a name and sample with another (a plugin's "linear" beside the registry's) got the
    other's parameter list, and param-grads was planned (or not) from it."""
    registry = BY_NAME["linear"]

    def no_params(in_features: int, out_features: int, bias: bool = True,
                  **kwargs: Any) -> activations.ReLU:
        return activations.ReLU()

    stranger = dataclasses.replace(registry, layer=no_params)
    sample = registry.samples[0]
    assert checks.layer_facts(Case(registry, sample, F32, None)).params == ("weight", "bias")
    assert checks.layer_facts(Case(stranger, sample, F32, None)).params == ()
    names = {j.check.name for j in checks.plan(configs=[sample.name], entries=[stranger])}
    assert "param-grads" not in names and "forward" in names
    unbuildable = dataclasses.replace(registry, name="broken", layer=lambda **kw: 1 / 0)
    assert checks.layer_facts(Case(unbuildable, sample, F32, None)) == checks.LayerFacts(
        (), (), False)


# --------------------------------------------------------------------------- Job.run
def test_job_run_turns_harness_exceptions_into_errors_and_unsupported_into_skip():
    def unsupported(case: Case, seed: int, cache: Any = None) -> CheckResult:
        raise checks.Unsupported("no such config")

    def broken(case: Case, seed: int, cache: Any = None) -> CheckResult:
        raise KeyError("harness bug")

    skipped = Job(checks.Check("forward", "", unsupported, lambda c: True), RELU).run(4)
    assert (skipped.status, skipped.skipped, skipped.seed) == (SKIP, "no such config", 4)
    assert (skipped.check, skipped.case) == ("forward", RELU)
    error = Job(checks.Check("dtype", "", broken, lambda c: True), RELU).run(4)
    assert (error.status, error.check, error.seed) == (ERROR, "dtype", 4)
    assert (error.error.stage, error.error.type) == ("harness (dtype)", "KeyError")


def test_job_run_skips_error_inputs_of_an_outside_target_and_ignores_probe_warnings():
    entry = target_entry(Target(outside_layers.ContractLinear, "linear", name="my.Linear"), "")
    error_case = ErrorCase(entry, entry.errors[0])
    result = Job(checks.BY_NAME["bad-input"], error_case).run(SEED)
    assert result.status == SKIP and result.skipped == (
        "error inputs are the project's own contract (its messages), not an outside target's")
    assert (result.check, result.case, result.seed) == ("bad-input", error_case, SEED)
    assert Job(checks.BY_NAME["bad-input"], ErrorCase(entry, entry.errors[0])).id == (
        f"bad-input-my.Linear-{entry.errors[0].name}")

    def warns(case: Case, seed: int, cache: Any = None) -> CheckResult:
        np.log(np.zeros(1))  # under pytest's error::RuntimeWarning, an exception
        return CheckResult("forward", case, seed, [GOOD])

    assert Job(checks.Check("forward", "", warns, lambda c: True), RELU).run(0).ok

    def deprecated(case: Case, seed: int, cache: Any = None) -> CheckResult:
        import warnings

        warnings.warn("old", DeprecationWarning, stacklevel=1)  # not a RuntimeWarning: kept
        return CheckResult("forward", case, seed, [GOOD])

    with pytest.warns(DeprecationWarning, match="old"):
        assert Job(checks.Check("forward", "", deprecated, lambda c: True), RELU).run(0).ok


# --------------------------------------------------------------------------- dtype
def test_the_dtype_of_a_second_output_is_torchs_and_a_missing_tensor_has_none(monkeypatch):
    pooled = run("dtype", "max_pool2d", "b2h6w6c3-k2-indices", F32, "vectorized")
    assert pooled.ok
    assert [(c.tensor, c.expected_name) for c in pooled.comparisons][:2] == [
        ("output", "dtype float32"), ("output[1]", "dtype float32")]
    drop_linear_grad(monkeypatch, "bias")
    result = run("dtype", "linear", "b32i64o16")
    assert [(c.tensor, c.problem) for c in result.failures()] == [
        ("grad[bias]", "dtype None, expected float32")]


def test_a_loss_that_returns_a_numpy_scalar_fails_dtype(monkeypatch):
    original = losses.MSELoss.forward
    monkeypatch.setattr(losses.MSELoss, "forward",
                        lambda self, p, t: np.float32(original(self, p, t)))
    result = run("dtype", "mse", "b32d8")
    assert [(c.tensor, c.problem) for c in result.failures()] == [
        ("output", "forward returned <class 'numpy.float32'>, expected a Python float")]
    assert result.failures()[0].expected_name == "the contract"


@pytest.mark.parametrize(("convert", "config"), [(float, "0d"), (np.ndarray.tolist, "b64d32")],
                         ids=["float", "list"])
def test_a_layer_whose_forward_returns_no_numpy_array_fails_dtype(monkeypatch, convert, config):
    # recorded as an array of the input's dtype, the values alone would pass every check
    original = activations.ReLU.forward
    monkeypatch.setattr(activations.ReLU, "forward",
                        lambda self, x: convert(np.asarray(original(self, x))))
    result = run("dtype", "relu", config)
    returned = float if convert is float else list
    assert [(c.tensor, c.problem) for c in result.failures()] == [
        ("output", f"forward returned {returned}, expected a numpy.ndarray")]
    monkeypatch.setattr(activations.ReLU, "forward", lambda self, x: np.float32(original(self, x)))
    assert run("dtype", "relu", "0d").ok  # a NumPy scalar of the dtype: an array's value


def test_compare_tensors_uses_the_entrys_tolerance_its_slack_and_the_samples_guard():
    loose = Tolerance(rtol=0.0, atol=0.5, reason="an override")
    entry = dataclasses.replace(BY_NAME["relu"], tolerances={F32: loose})
    target = Case(entry, entry.sample("b64d32"), F32, None)
    expected = {"output": np.ones(3), "input_grad": np.full(3, 100.0)}
    actual = {"output": np.full(3, 1.4), "input_grad": np.full(3, 100.0)}
    result = checks.compare_tensors(actual, expected, target, "torch")
    assert [c.tolerance for c in result] == [loose, loose] and all(c.ok for c in result)
    tight = case("relu", "b64d32")
    assert checks.compare_tensors(actual, expected, tight, "torch")[0].tolerance == PARITY[F32]
    off = {"output": np.full(3, 1.7), "input_grad": np.full(3, 100.0)}
    assert not checks.compare_tensors(off, expected, target, "torch")[0].ok
    slack = {"output": np.full(3, 0.25)}
    assert checks.compare_tensors(off, expected, target, "torch", slack=slack)[0].ok
    small = {"output": np.ones(3), "input_grad": np.full(3, 1.0)}  # 1 < 50 x atol 0.5
    assert not checks.compare_tensors(small, small, target, "torch")[1].ok  # guarded
    assert checks.compare_tensors(small, small, target, "torch", guard=False)[1].ok
    wanted = checks.compare_tensors(actual, expected, target, "torch", lambda t: t == "output")
    assert [c.tensor for c in wanted] == ["output"]


def test_the_dtype_check_reports_a_raising_backward_unless_a_dtype_already_failed(monkeypatch):
    def raising_backward(self: activations.ReLU, dy: np.ndarray) -> np.ndarray:
        raise ArithmeticError("backward: no")

    monkeypatch.setattr(activations.ReLU, "backward", raising_backward)
    result = run("dtype", "relu", "b64d32")
    assert result.status == ERROR and result.error.message == "backward: no"
    assert [c.tensor for c in result.comparisons] == ["output"]  # checked before the raise
    original = activations.ReLU.forward
    monkeypatch.setattr(activations.ReLU, "forward",
                        lambda self, x: original(self, x).astype(np.float64))
    result = run("dtype", "relu", "b64d32")
    assert result.status == FAIL and result.error is None
    assert [(c.tensor, c.problem) for c in result.failures()] == [
        ("output", "dtype float64, expected float32")]


@pytest.mark.parametrize("config", ["train-b16c4", "eval-random-stats-b16c4",
                                    "train-steps4-b16c4"])
def test_cache_freshness_restores_the_running_statistics_before_comparing(config):
    result = run("cache-freshness", "batch_norm1d", config)
    assert result.ok, result.message()
    assert {"buffer[running_mean]", "buffer[running_var]"} <= {
        c.tensor for c in result.comparisons}


def test_the_torch_checks_compare_with_the_parity_runs_slack(monkeypatch):
    compared: list[Any] = []
    real = checks.compare_tensors

    def spy(actual: Any, expected: Any, case: Case, expected_name: str, wanted: Any = None,
            guard: bool | None = None, slack: Any = None) -> Any:
        compared.append((expected_name, slack))
        return real(actual, expected, case, expected_name, wanted, guard, slack)

    monkeypatch.setattr(checks, "compare_tensors", spy)
    cache = RunCache()
    slack = engine.parity_run(case("linear", "b32i64o16"), SEED, cache).slack
    assert slack
    for check in ("forward", "input-grad", "param-grads"):
        assert run(check, "linear", "b32i64o16", cache=cache).ok
    assert compared == [("torch", slack)] * 3


def test_a_wrong_output_shape_fails_every_gradient_check_by_name_never_passes_it():
    entry = target_entry(Target(outside_layers.FlatteningReLU, "relu"), "")
    flat = Case(entry, entry.sample("b64d32"), F32, None)
    cache = RunCache()
    skipped = engine.parity_run(flat, SEED, cache).torch.backward_skipped
    assert skipped == ("the NumPy output has shape (2048,), torch's (64, 32): gradients not "
                       "compared")
    forward = checks.check_forward(flat, SEED, cache)
    assert forward.get("output").problem == "shape (2048,) != torch shape (64, 32)"
    for check, tensor in (("input-grad", "input_grad"), ("param-grads", "param-grads"),
                          ("buffers", "buffers")):
        result = checks.BY_NAME[check].run(flat, SEED, cache)
        assert [(c.tensor, c.ok, c.problem, c.expected_name) for c in result.comparisons] == [
            (tensor, False, skipped, "torch")], check
