"""The comparator itself: what compare() reports, its L2 form, the gradient guard, the messages
and the tolerance arithmetic of tolerances.py.

test_meta.py injects layer bugs and checks the basic edges of compare() (just inside and just
outside the tolerance, NaN and infinities, shapes, a missing tensor, the guard's threshold).
These tests pin what mutation testing of compare.py and tolerances.py found that no test
held (docs/mutation.md, "The harness's comparator"): the inclusive bounds, the reported
numbers (headroom, worst and largest error, relative error, scale), the exact messages, the
L2 comparison, compare_all's per-tensor tolerance, guard and slack, and the slack formulas.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from parity_tests.compare import (
    EXACT,
    Comparison,
    assert_close,
    compare,
    compare_all,
    is_gradient,
)
from parity_tests.tolerances import (
    F32,
    F64,
    FD_ROUNDOFF_SAFETY,
    FD_TRUNCATION_SAFETY,
    GRADIENT_GUARD,
    PARITY,
    SUM_SAFETY,
    UNIT_ROUNDOFF,
    Tolerance,
    fd_roundoff,
    finite_difference_slack,
    markdown_table,
    summation_slack,
)

TIGHT = Tolerance(rtol=1e-3, atol=1e-6, reason="a test tolerance")
#: An L2 tolerance like benchmarks/common.py's KINKED.
L2 = Tolerance(rtol=1e-2, atol=0.0, reason="kinks", norm="l2")
GUARD_TAIL = ("it must miss by 50x, or this comparison could not catch a wrong backward; "
              "change the sample config")


def guard_problem(zeros: str, largest: str, expected_name: str = "torch") -> str:
    """The guard's message for a zeros headroom and a largest expected entry, as printed."""
    return (f"guard: a backward returning zeros would miss the tolerance only by {zeros}x "
            f"(largest {expected_name} entry {largest}); {GUARD_TAIL}")


def no_warnings(call: Callable[..., object], *args: object, **kwargs: object) -> object:
    """``call(*args, **kwargs)`` with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call(*args, **kwargs)


# --------------------------------------------------------------------------- element-wise
def test_an_error_equal_to_the_allowed_error_passes():
    # |a - e| <= atol + rtol·|e| is inclusive; every number here is exact in binary.
    tolerance = Tolerance(rtol=0.25, atol=0.25)
    result = compare("t", np.array([1.5, 2.0]), np.array([1.0, 2.0]), tolerance)
    assert result.ok and result.mismatched == 0
    assert result.headroom == 1.0 and result.index == (0,)


def test_an_exact_match_has_zero_headroom_even_where_no_error_is_allowed():
    expected = np.array([0.0, 1.0, -3.0])
    for tolerance in (EXACT, TIGHT):
        result = compare("t", expected.copy(), expected, tolerance)
        assert result.ok and result.headroom == 0.0 and result.mismatched == 0
        assert result.max_abs == 0.0 and result.max_rel == 0.0


def test_the_worst_element_its_values_and_the_errors_are_reported():
    expected = np.array([0.0, 4.0, -2.0])
    actual = np.array([0.0, 4.4, -2.1])  # exact at 0 (where e = 0), 10 % and 5 % off
    result = compare("t", actual, expected, TIGHT)
    assert not result.ok and result.mismatched == 2 and result.total == 3
    assert result.index == (1,) and result.max_abs_index == (1,)
    assert result.actual_at == 4.4 and result.expected_at == 4.0
    assert result.max_abs == pytest.approx(0.4)
    assert result.max_rel == pytest.approx(0.1)  # not NaN: 0/0 at the exact zero is 0
    assert result.headroom == pytest.approx(0.4 / (1e-6 + 1e-3 * 4.0))


def test_the_reference_scale_is_the_largest_finite_expected_magnitude():
    expected = np.array([0.5, -np.inf, -0.25])
    assert compare("t", expected.copy(), expected, TIGHT).reference_scale == 0.5


def test_the_largest_error_skips_non_finite_pairs():
    result = compare("t", np.array([np.nan, 1.5]), np.array([1.0, 1.0]), TIGHT)
    assert not result.ok
    assert result.max_abs == 0.5 and result.max_abs_index == (1,)
    assert result.problem == ("NaN differ: 1 non-finite mismatch(es), first at (0,): "
                              "numpy nan, torch 1.0")


def test_a_non_finite_mismatch_names_the_first_one_by_its_index():
    expected = np.ones((2, 2))
    actual = np.array([[1.0, 1.0], [np.inf, np.nan]])
    result = compare("t", actual, expected, TIGHT, expected_name="finite differences")
    assert result.problem == ("NaN differ: 2 non-finite mismatch(es), first at (1, 0): "
                              "numpy inf, finite differences 1.0")
    assert result.mismatched == 2 and result.headroom == math.inf


# --------------------------------------------------------------------------- what is compared
def test_what_is_not_an_array_is_refused_by_name():
    expected = np.array([1.0, 2.0])
    missing = compare("t", None, expected, TIGHT)
    assert missing.ok is False and missing.problem == "the NumPy layer produced no such tensor"
    listed = compare("t", [1.0, 2.0], expected, TIGHT)
    assert listed.ok is False and listed.problem == "a list, not an array"


def test_python_and_numpy_scalars_are_compared_as_values():
    assert compare("loss", 1.5, np.array(1.5), TIGHT).ok
    assert compare("loss", np.float32(1.5), np.array(1.5, dtype=np.float32), TIGHT).ok
    assert not compare("loss", np.float64(1.6), np.array(1.5), TIGHT).ok


def test_a_bool_array_is_judged_and_a_non_numeric_one_refused():
    mask = compare("mask", np.array([True, False]), np.array([1.0, 0.0]), EXACT)
    assert mask.ok
    assert mask.notes == ["dtype bool != torch dtype float64: values compared as they are; "
                          "the dtype check reports the dtype"]
    text = compare("t", np.array(["1.0"]), np.array([1.0]), TIGHT)
    assert text.ok is False and text.problem == "dtype <U3 is not numeric"
    boxed = compare("t", np.array([1.0], dtype=object), np.array([1.0]), TIGHT)
    assert boxed.ok is False and boxed.problem == "dtype object is not numeric"


# --------------------------------------------------------------------------- the guard
def test_the_guard_passes_at_exactly_the_required_margin():
    tolerance = Tolerance(rtol=0.0, atol=1.0)
    at = np.array([GRADIENT_GUARD, -10.0])  # zeros would miss by exactly 50x
    assert compare("g", at, at, tolerance, guard=True).ok
    below = np.array([GRADIENT_GUARD - 0.5, -10.0])
    assert not compare("g", below, below, tolerance, guard=True).ok


def test_a_guard_failure_is_a_failure_with_the_numbers_in_its_message():
    expected = np.array([0.5, -0.25])
    result = compare("input_grad", expected.copy(), expected, Tolerance(0.0, 0.02), guard=True)
    assert result.ok is False and result.guard_failed
    assert result.problem == guard_problem("25", "5.00e-01")
    assert "mismatched" not in result.describe()  # no element is off


def test_the_guard_counts_only_finite_expected_entries():
    tolerance = Tolerance(0.0, 0.02)
    partly = np.array([np.inf, 0.01])
    result = compare("g", partly.copy(), partly, tolerance, guard=True)
    assert result.problem == guard_problem("0.5", "1.00e-02")
    none = np.array([np.inf, np.nan])
    result = compare("g", none.copy(), none, tolerance, guard=True)
    assert result.guard_failed and result.problem == guard_problem("0", "0.00e+00")


def test_a_guard_with_no_allowed_error_computes_quietly():
    expected = np.array([0.0, 3.0])  # 0/0 and 3/0 in the zeros headroom
    result = no_warnings(compare, "g", expected.copy(), expected, EXACT, guard=True)
    assert isinstance(result, Comparison) and result.ok


# --------------------------------------------------------------------------- the L2 form
def test_l2_judges_the_whole_tensor_not_each_element():
    expected = np.ones(10_000)
    flipped = expected.copy()
    flipped[5] = 0.5  # one element 50 % off: relative L2 error 0.005
    result = compare("input_grad", flipped, expected, L2)
    assert result.ok and result.problem == ""
    assert result.max_rel == pytest.approx(0.005) and result.headroom == pytest.approx(0.5)
    assert result.max_abs == 0.5 and result.max_abs_index == (5,)
    assert not compare("input_grad", flipped, expected, TIGHT).ok


def test_l2_reports_its_error_and_fails_above_the_bound():
    expected = np.array([[3.0, 0.0], [0.0, 4.0]])
    actual = np.array([[3.0, 0.0], [0.0, 4.1]])
    result = compare("input_grad", actual, expected, L2)
    assert result.ok is False and result.problem == "relative L2 error 2.00e-02 > 0.01"
    assert result.max_rel == pytest.approx(0.02) and result.headroom == pytest.approx(2.0)
    assert result.max_abs == pytest.approx(0.1) and result.max_abs_index == (1, 1)
    assert result.reference_scale == 4.0
    assert result.describe() == "\n".join([
        "  tensor     input_grad  shape (2, 2)  (expected side: torch)",
        "  problem    relative L2 error 2.00e-02 > 0.01",
        "  max abs    1.000e-01 at index (1, 1)",
        "  tolerance  relative L2 <= 1.0e-02 -> headroom 2 (worst error / allowed error; "
        "must be <= 1)",
        "             (kinks)",
    ])


def test_l2_is_inclusive_at_its_bound_and_works_below_unit_scale():
    exact_quarter = Tolerance(rtol=0.25, atol=0.0, norm="l2")
    assert compare("t", np.array([5.0]), np.array([4.0]), exact_quarter).ok  # 1/4 exactly
    small = np.array([0.3, 0.4])  # norm 0.5
    result = compare("t", small.copy(), small, L2)
    assert result.ok and result.reference_scale == 0.4


def test_l2_refuses_non_finite_values_by_name():
    for actual, expected in [(np.array([np.nan, 1.0]), np.array([1.0, 1.0])),
                             (np.array([1.0, 1.0]), np.array([np.inf, 1.0]))]:
        result = compare("t", actual, expected, L2)
        assert result.ok is False and result.headroom == math.inf
        assert result.problem == "non-finite values (an L2 comparison needs finite tensors)"


def test_l2_against_an_all_zero_expected_tensor_passes_only_zeros():
    zeros = np.zeros(4)
    for actual in (np.ones(4), np.full(4, 1e-3)):  # the second is below rtol in absolute terms
        result = compare("t", actual, zeros, L2)
        assert result.ok is False and result.headroom == math.inf
        assert result.problem == ("the expected tensor is all zeros (no relative L2 error): "
                                  f"the actual one reaches {np.max(actual):.2e}")
    exact = compare("t", zeros.copy(), zeros, L2)  # was a failure: "relative L2 error 0 > 0.01"
    assert exact.ok and exact.headroom == 0.0 and exact.problem == ""
    empty = compare("t", np.zeros(0), np.zeros(0), L2)
    assert empty.ok and empty.reference_scale == 0.0 and empty.max_abs_index is None


def test_the_l2_guard_refuses_an_all_zero_expected_tensor():
    zeros = np.zeros(3)  # a backward returning zeros matches it exactly
    result = compare("input_grad", zeros.copy(), zeros, L2, guard=True)
    assert result.ok is False and result.guard_failed
    assert result.problem == guard_problem("0", "0.00e+00")


def test_the_guard_is_not_fooled_by_zero_entries_where_no_error_is_allowed():
    # 0/0 at the zero entry was NaN, and NaN < 50 is False: the guard passed an expected
    # tensor that zeros miss by only 10x.
    relative_only = Tolerance(rtol=0.1, atol=0.0)
    expected = np.array([0.0, 0.01])
    result = no_warnings(compare, "g", expected.copy(), expected, relative_only, guard=True)
    assert result.ok is False and result.guard_failed
    assert result.problem == guard_problem("10", "1.00e-02")
    for tolerance in (EXACT, relative_only):  # all zeros: zeros match, the guard must refuse
        zeros = np.zeros(2)
        assert compare("g", zeros.copy(), zeros, tolerance, guard=True).guard_failed


def test_a_complex_actual_is_refused_not_cut_to_its_real_part():
    result = compare("output", np.array([1 + 5j, 2 + 0j]), np.array([1.0, 2.0]), EXACT)
    assert result.ok is False and result.problem == "dtype complex128 is complex, not real"


def test_l2_neither_underflows_nor_overflows_at_extreme_scales():
    for scale in (1e-200, 1e200):  # the squares of either leave float64's range
        expected = np.array([3.0, 4.0]) * scale
        near = compare("t", expected * (1 + 1e-3), expected, L2)
        assert near.ok and near.max_rel == pytest.approx(1e-3)
        far = compare("t", expected * 1.1, expected, L2)
        assert far.ok is False and far.max_rel == pytest.approx(0.1)


def test_l2_with_a_zero_bound_wants_an_exact_match():
    exact = Tolerance(rtol=0.0, atol=0.0, norm="l2")
    values = np.array([1.0, -2.0])
    same = compare("t", values.copy(), values, exact, guard=True)
    assert same.ok and same.headroom == 0.0
    off = compare("t", values + 1e-9, values, exact)
    assert off.ok is False and off.headroom == math.inf


def test_the_l2_guard_is_one_over_the_bound():
    values = np.array([0.3, 0.4])
    assert compare("g", values.copy(), values, L2, guard=True).ok  # zeros miss by 100x
    loose = Tolerance(rtol=0.03, atol=0.0, norm="l2")  # zeros miss by 33x only
    result = compare("g", values.copy(), values, loose, guard=True)
    assert result.ok is False and result.guard_failed
    assert result.problem == guard_problem("33.3", "4.00e-01")


def test_a_tolerance_prints_its_rule():
    assert str(L2) == "relative L2 <= 1.0e-02"
    assert str(PARITY[F32]) == "rtol=1.3e-06 atol=1.0e-05"


# --------------------------------------------------------------------------- describe
def test_describe_prints_every_fact_of_a_failure_on_its_own_line():
    expected = np.array([[1.0, -2.0, 4.0, 8.0]])
    actual = np.array([[1.0, -2.0, 4.5, 8.2]], dtype=np.float32)
    result = compare("output", actual, expected, TIGHT)
    assert result.describe() == "\n".join([
        "  tensor     output  shape (1, 4)  (expected side: torch)",
        "  mismatched 2 / 4 elements (50 %)",
        "  max abs    5.000e-01 at index (0, 2)",
        "  worst      at index (0, 2): numpy 4.5, torch 4.0",
        "  max rel    1.250e-01",
        "  tolerance  rtol=1.0e-03 atol=1.0e-06 -> headroom 125 (worst error / allowed error; "
        "must be <= 1)",
        "             (a test tolerance)",
        "  note       dtype float32 != torch dtype float64: values compared as they are; the "
        "dtype check reports the dtype",
    ])


# --------------------------------------------------------------------------- assert_close
def test_assert_close_raises_with_the_whole_description():
    expected = np.array([1.0, 2.0])
    actual = np.array([1.0, 2.5])
    with pytest.raises(AssertionError) as raised:
        assert_close("y", actual, expected, TIGHT)
    comparison = compare("y", actual, expected, TIGHT)
    assert str(raised.value) == f"y differs from torch\n{comparison.describe()}"
    with pytest.raises(AssertionError) as raised:
        assert_close("y", actual, expected, TIGHT, expected_name="impl=loop")
    assert str(raised.value).startswith(
        "y differs from impl=loop\n  tensor     y  shape (2,)  (expected side: impl=loop)")


def test_assert_close_guards_only_when_asked():
    small = np.full(3, 10 * PARITY[F32].atol)
    assert assert_close("dx", small, small, PARITY[F32]).ok
    assert assert_close("dx", small, small, PARITY[F32], expected_name="torch").ok
    with pytest.raises(AssertionError, match="guard: a backward returning zeros"):
        assert_close("dx", small, small, PARITY[F32], guard=True)


# --------------------------------------------------------------------------- compare_all
def test_gradients_are_named_input_grad_and_grad_brackets():
    assert is_gradient("input_grad") and is_gradient("grad[weight]")
    assert not any(is_gradient(name) for name in ("output", "running_mean", "grad", "gradient"))


def test_compare_all_guards_the_gradients_and_nothing_else():
    small = np.full(3, 10 * PARITY[F32].atol)  # too small for the guard
    tensors = {"output": small, "input_grad": small, "grad[weight]": small}
    results = compare_all(tensors, tensors, PARITY[F32], guard_gradients=True)
    assert {r.tensor: r.guard_failed for r in results} == {
        "output": False, "input_grad": True, "grad[weight]": True}
    assert all(r.expected_name == "torch" for r in results)
    unguarded = compare_all(tensors, tensors, PARITY[F32], guard_gradients=False)
    assert all(r.ok for r in unguarded)


def test_compare_all_asks_a_tolerance_function_per_tensor():
    expected = {"output": np.array([1.0, 2.0]), "input_grad": np.array([[3.0]])}
    asked: list[tuple[str, np.ndarray]] = []

    def per_tensor(name: str, value: np.ndarray) -> Tolerance:
        asked.append((name, value))
        return L2 if name == "input_grad" else TIGHT

    results = compare_all(expected, expected, per_tensor, guard_gradients=False)
    assert [name for name, _ in asked] == ["output", "input_grad"]
    for (name, value), result in zip(asked, results, strict=True):
        assert isinstance(value, np.ndarray) and np.array_equal(value, expected[name])
        assert result.tolerance is (L2 if name == "input_grad" else TIGHT)


def test_compare_all_adds_each_tensors_own_slack():
    expected = {"y": np.array([1.0, 2.0]), "z": np.array([1.0, 2.0])}
    actual = {name: value + 0.5 for name, value in expected.items()}
    slack = {"y": np.array([0.5, 0.5])}
    results = compare_all(actual, expected, EXACT, guard_gradients=False, slack=slack)
    assert [(r.tensor, r.ok) for r in results] == [("y", True), ("z", False)]


def test_a_slack_that_does_not_fit_the_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"compare\('y'\): a slack of shape \(3,\) does not "
                                         r"fit the expected shape \(2,\)"):
        compare("y", np.zeros(2), np.zeros(2), EXACT, slack=np.zeros(3))


# --------------------------------------------------------------------------- tolerances.py
def test_widened_multiplies_atol_and_keeps_the_rest():
    base = Tolerance(rtol=1e-6, atol=1e-5, reason="base", norm="l2")
    assert base.widened(4.0, "why") == Tolerance(1e-6, 4e-5, "why", "l2")
    assert base.widened(1.0, "same") == Tolerance(1e-6, 1e-5, "same", "l2")
    assert base.widened(1.5, "x").atol == pytest.approx(1.5e-5)
    for bad in (0.5, math.nan):
        with pytest.raises(ValueError) as raised:
            base.widened(bad, "no")
        assert str(raised.value) == f"Tolerance.widened: atol_factor must be >= 1, got {bad}"


def test_summation_slack_is_four_root_k_u_times_the_magnitude():
    u32, u64 = UNIT_ROUNDOFF[F32], UNIT_ROUNDOFF[F64]
    assert SUM_SAFETY == 4.0 and u32 == 2.0**-24
    assert summation_slack(F32, 100, np.float64(2.0)) == 4.0 * 10 * u32 * 2.0
    assert summation_slack(F64, 4, np.float64(-1.0)) == 4.0 * 2 * u64
    # K = 0 and K = 1 both count as one term
    assert summation_slack(F32, np.array([0, 1, 4]), np.ones(3)).tolist() == [
        4 * u32, 4 * u32, 8 * u32]


def test_finite_difference_slack_adds_roundoff_truncation_and_the_dot_products_rounding():
    f_scale, steps = np.array([1.0, 2.0]), np.array([1e-6, 1e-8])
    d_h, d_2h = np.array([0.5, -1.0]), np.array([0.5 + 3e-9, -1.0 - 1e-9])
    magnitude = np.array([1e6, 4e6])
    eps = float(np.finfo(np.float64).eps)
    roundoff = FD_ROUNDOFF_SAFETY * eps * f_scale / steps
    truncation = FD_TRUNCATION_SAFETY * np.abs(d_2h - d_h)
    dots = 4.0 * 3.0 * UNIT_ROUNDOFF[F64] * magnitude  # SUM_SAFETY·√9·u·M
    got = finite_difference_slack(f_scale, steps, d_h, d_2h, magnitude, 9)
    assert got == pytest.approx(roundoff + truncation + dots, rel=1e-12)
    assert no_warnings(fd_roundoff, 2.0, 1e-6) == pytest.approx(8 * eps * 2.0 / 1e-6, rel=1e-15)


def test_the_tolerance_table_starts_with_parity_and_ends_with_the_overrides():
    lines = markdown_table().splitlines()
    assert lines[:4] == [
        "| comparison | rtol | atol | why |",
        "|---|---|---|---|",
        "| parity vs torch, float32 | 1.3e-06 | 1e-05 | assert_close default |",
        "| parity vs torch, float64 | 1e-07 | 1e-07 | assert_close default |",
    ]
    overrides = {"zeta": {F64: Tolerance(1e-6, 2e-7, "z")},
                 "alpha": {F32: Tolerance(1e-4, 2e-5, "a|b")}}
    with_overrides = markdown_table(overrides).splitlines()
    assert with_overrides[:len(lines)] == lines
    assert with_overrides[len(lines):] == [
        "| alpha, float32 (override) | 0.0001 | 2e-05 | a\\|b |",
        "| zeta, float64 (override) | 1e-06 | 2e-07 | z |",
    ]
