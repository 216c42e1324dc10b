"""Generic parity tests: every registry entry × sample config × dtype × impl path.

Nothing here names a layer; a new registry entry is covered by every test below.
"""

from __future__ import annotations

import numpy as np
import pytest

from parity_tests.conftest import SEED
from parity_tests.harness import (
    CaseResult,
    finite_difference_case,
    impl_agreement_case,
    prepare,
    run_case,
    run_numpy,
)
from parity_tests.registry import REGISTRY, Case, cases

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
