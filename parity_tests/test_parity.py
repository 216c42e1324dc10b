"""Generic parity tests: every registry entry × sample config × dtype × impl path.

Nothing here names a layer; a new registry entry is covered by every test below.
"""

from __future__ import annotations

import numpy as np
import pytest

from parity_tests.conftest import SEED
from parity_tests.harness import (
    CaseResult,
    compare,
    finite_difference_case,
    impl_agreement_case,
    prepare,
    run_case,
    run_numpy,
)
from parity_tests.registry import REGISTRY, Case, cases
from parity_tests.tolerances import parity_tolerance

ALL_CASES = list(cases())


_RESULTS: dict[str, CaseResult] = {}


def parity(case: Case) -> CaseResult:
    """One run per case; the forward, gradient and buffer tests read its comparisons."""
    if case.id not in _RESULTS:
        _RESULTS[case.id] = run_case(case.entry, case.sample, case.dtype, case.impl, seed=SEED)
    return _RESULTS[case.id]


def _tensor_params(kind: str) -> list:
    """(case, name) for every parameter (``grads``) or buffer (``buffers``) of every case."""
    params = []
    for case in ALL_CASES:
        layer = prepare(case.entry, case.sample, case.dtype, case.impl, SEED).layer
        names = layer.params if kind == "grad" else layer.buffers
        params += [pytest.param(case, name, id=f"{case.id}-{name}") for name in names]
    return params


def _case_params(selected: list[Case]) -> list:
    return [pytest.param(case, id=case.id) for case in selected]


@pytest.mark.parametrize("case", _case_params(ALL_CASES))
def test_forward_matches_torch(case: Case):
    parity(case).assert_ok("output")


@pytest.mark.parametrize("case", _case_params(ALL_CASES))
def test_input_gradient_matches_torch(case: Case):
    parity(case).assert_ok("input_grad")


@pytest.mark.parametrize(("case", "name"), _tensor_params("grad"))
def test_parameter_gradient_matches_torch(case: Case, name: str):
    parity(case).assert_ok(f"grad[{name}]")


@pytest.mark.parametrize(("case", "name"), _tensor_params("buffer"))
def test_buffer_matches_torch(case: Case, name: str):
    parity(case).assert_ok(f"buffer[{name}]")


@pytest.mark.parametrize(
    "case",
    _case_params([c for c in ALL_CASES if len(c.entry.impls) > 1 and c.impl == c.entry.impls[0]]),
)
def test_impl_paths_agree(case: Case):
    first, second = case.entry.impls[:2]
    impl_agreement_case(case.entry, case.sample, case.dtype, (first, second), SEED).assert_ok()


@pytest.mark.parametrize(
    "case",
    _case_params([c for c in ALL_CASES if c.dtype == np.float64 and c.sample.gradcheck]),
)
def test_backward_matches_finite_differences(case: Case):
    finite_difference_case(case.entry, case.sample, case.impl, SEED).assert_ok()


@pytest.mark.parametrize("case", _case_params(ALL_CASES))
def test_dtype_is_preserved(case: Case):
    prepared = prepare(case.entry, case.sample, case.dtype, case.impl, SEED)
    layer = prepared.layer
    tensors = run_numpy(case.entry, prepared).tensors
    if case.entry.is_loss:
        assert isinstance(layer.forward(prepared.x, prepared.target), float)
    checked = {"output": tensors["output"], "input_grad": tensors["input_grad"],
               **{f"param[{n}]": p for n, p in layer.params.items()},
               **{f"grad[{n}]": g for n, g in layer.grads.items()},
               **{f"buffer[{n}]": b for n, b in layer.buffers.items()}}
    wrong = {name: str(a.dtype) for name, a in checked.items() if a.dtype != case.dtype}
    assert not wrong, f"{case.id}: expected every tensor in {case.dtype}, got {wrong}"


@pytest.mark.parametrize(
    "entry, error",
    [pytest.param(entry, error, id=f"{entry.name}-{error.name}")
     for entry in REGISTRY for error in entry.error_inputs],
)
def test_bad_input_raises_a_clear_error(entry, error):
    with pytest.raises(error.error, match=error.match):
        error.call()


# --------------------------------------------------------------------------- contract
def _strided(x: np.ndarray) -> np.ndarray:
    """The same values as ``x`` in a non-contiguous view (every other element of a buffer
    twice as long on the last axis)."""
    buffer = np.zeros((*x.shape[:-1], 2 * x.shape[-1]), dtype=x.dtype)
    buffer[..., ::2] = x
    view = buffer[..., ::2]
    assert not view.flags.c_contiguous or x.size <= 1
    return view


def _fresh(case: Case):
    return prepare(case.entry, case.sample, case.dtype, case.impl, SEED)


def _compare_runs(case: Case, actual: dict, expected: dict, what: str) -> None:
    tolerance = parity_tolerance(case.dtype, case.entry.tolerances)
    for name, value in expected.items():
        comparison = compare(name, actual.get(name), value, tolerance)
        assert comparison.ok, f"{case.id}: {what}\n{comparison.describe()}"


@pytest.mark.parametrize("case", _case_params(ALL_CASES))
def test_inputs_are_not_modified(case: Case):
    """forward and backward must not write into x, the target or the upstream gradient."""
    prepared = _fresh(case)
    x_before = prepared.x.copy()
    target_before = None if prepared.target is None else prepared.target.copy()
    upstream_seen: list[np.ndarray] = []
    layer = prepared.layer
    if not case.entry.is_loss:
        original_backward = layer.backward

        def recording_backward(dy: np.ndarray) -> np.ndarray:
            upstream_seen.append(dy.copy())
            result = original_backward(dy)
            upstream_seen.append(dy)
            return result

        layer.backward = recording_backward
    run_numpy(case.entry, prepared)
    np.testing.assert_array_equal(prepared.x, x_before, err_msg=f"{case.id}: x was modified")
    if target_before is not None:
        np.testing.assert_array_equal(prepared.target, target_before,
                                      err_msg=f"{case.id}: the target was modified")
    if upstream_seen:
        np.testing.assert_array_equal(upstream_seen[1], upstream_seen[0],
                                      err_msg=f"{case.id}: dy was modified by backward")


@pytest.mark.parametrize("case", _case_params(ALL_CASES))
def test_non_contiguous_input_gives_the_same_results(case: Case):
    """A strided view of the input (as from slicing or a transpose) computes what a
    contiguous copy does: no code path may assume C-contiguous memory."""
    contiguous = run_numpy(case.entry, _fresh(case)).tensors
    prepared = _fresh(case)
    prepared.x = _strided(prepared.x)
    strided = run_numpy(case.entry, prepared).tensors
    _compare_runs(case, strided, contiguous, "a non-contiguous input changed the results")


@pytest.mark.parametrize(
    "case", _case_params([c for c in ALL_CASES if not c.entry.is_loss and c.sample.steps == 1])
)
def test_backward_uses_the_last_forward(case: Case):
    """forward(x1); forward(x2); backward(dy) must equal a fresh forward(x2); backward(dy):
    the cache belongs to the last forward call, never to an earlier one."""
    expected = run_numpy(case.entry, _fresh(case)).tensors
    prepared = _fresh(case)
    other = case.sample.make_input(np.random.default_rng(12345), case.sample.shape, case.dtype)
    layer_forward = prepared.layer.forward
    layer_forward(other)
    if prepared.layer.buffers:  # batch-norm statistics moved: restore them for the comparison
        fresh_buffers = _fresh(case).layer.buffers
        for name, value in prepared.layer.buffers.items():
            value[...] = fresh_buffers[name]
    actual = run_numpy(case.entry, prepared).tensors
    _compare_runs(case, actual, expected, "backward used a stale cache from an earlier forward")
