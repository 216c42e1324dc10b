"""The seed's einsum exercises (seed 002, sections 6.1.1-6.1.3 and the conv contraction).

Each contraction is checked three ways: ``np.einsum`` against the direct NumPy operation the
seed compares it with (np.trace, ``@``, a per-batch loop, tensordot / reshape + matmul), and
both against ``torch.einsum`` and the direct torch operation (torch.trace, ``@``, torch.bmm,
torch.tensordot). Inputs come from ``np.random.default_rng(0)`` exactly as in the seed, whose
printed matrices and outputs are reproduced verbatim. float64, float32 and int64 throughout;
integer results are compared exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from parity_tests.op_table import compare_outputs

torch.set_num_threads(1)

RANDOM_SEED = 0

# What the seed printed (print(A) with NumPy's default print options).
SEED_A_5x5 = """\
[[ 0.12573022 -0.13210486  0.64042265  0.10490012 -0.53566937]
 [ 0.36159505  1.30400005  0.94708096 -0.70373524 -1.26542147]
 [-0.62327446  0.04132598 -2.32503077 -0.21879166 -1.24591095]
 [-0.73226735 -0.54425898 -0.31630016  0.41163054  1.04251337]
 [-0.12853466  1.36646347 -0.66519467  0.35151007  0.90347018]]"""

SEED_B_5x5 = """\
[[ 0.0940123  -0.74349925 -0.92172538 -0.45772583  0.22019512]
 [-1.00961818 -0.20917557 -0.15922501  0.54084558  0.21465912]
 [ 0.35537271 -0.65382861 -0.12961363  0.78397547  1.49343115]
 [-1.25906553  1.51392377  1.34587542  0.7813114   0.26445563]
 [-0.31392281  1.45802068  1.96025832  1.80163487  1.31510376]]"""

SEED_A_3x4x5 = """\
[[[ 0.12573022 -0.13210486  0.64042265  0.10490012 -0.53566937]
  [ 0.36159505  1.30400005  0.94708096 -0.70373524 -1.26542147]
  [-0.62327446  0.04132598 -2.32503077 -0.21879166 -1.24591095]
  [-0.73226735 -0.54425898 -0.31630016  0.41163054  1.04251337]]

 [[-0.12853466  1.36646347 -0.66519467  0.35151007  0.90347018]
  [ 0.0940123  -0.74349925 -0.92172538 -0.45772583  0.22019512]
  [-1.00961818 -0.20917557 -0.15922501  0.54084558  0.21465912]
  [ 0.35537271 -0.65382861 -0.12961363  0.78397547  1.49343115]]

 [[-1.25906553  1.51392377  1.34587542  0.7813114   0.26445563]
  [-0.31392281  1.45802068  1.96025832  1.80163487  1.31510376]
  [ 0.35738041 -1.20831863 -0.00445413  0.65647494 -1.28836146]
  [ 0.39512206  0.42986369  0.69604272 -1.18411797 -0.66170257]]]"""

# The seed's print of B (3, 5, 6) is cut off; its first complete numbers, row by row.
SEED_B_3x5x6_HEAD = (
    [-0.43643525, -1.16980191, 1.73936788, -0.49591073, 0.32896963, -0.25857255],
    [1.58347288, 1.32036099, 0.63335262, -2.20350988, 0.05202897, 0.68368619],
    [1.00396158, -0.61790704, 1.82201136, -1.32043097],
)

SEED_CONV_ARANGE = np.array([[24804, 25155, 25506, 25857], [62712, 63792, 64872, 65952]])

DTYPES = ("float64", "float32", "int64")
# float32 against the float64 reference: the inputs' rounding (2^-24 relative) and sums of
# at most 27 products of O(1) terms keep the error well below 1e-5.
FLOAT32_VS_FLOAT64 = {"rtol": 1e-5, "atol": 1e-5}


def _seed_print(a: np.ndarray) -> str:
    with np.printoptions(precision=8, suppress=False, linewidth=75, threshold=1000,
                         floatmode="maxprec", sign="-", legacy=False):
        return str(a)


def _as(x: np.ndarray, dtype: str) -> np.ndarray:
    """The seed's float64 data in another dtype (ints: x·10 rounded, so results are exact)."""
    if dtype == "int64":
        return np.round(x * 10).astype(np.int64)
    return x.astype(dtype)


def _assert_same(numpy_value: np.ndarray, torch_value: torch.Tensor) -> None:
    """Shape, dtype and values agree (exact for ints; the project tolerance per dtype)."""
    mismatch = compare_outputs(numpy_value, torch_value)
    assert mismatch is None, str(mismatch)


def _assert_float32_near_float64(value: np.ndarray, reference: np.ndarray) -> None:
    """A float32 result against the same contraction computed in float64."""
    assert value.dtype == np.float32 and reference.dtype == np.float64
    np.testing.assert_allclose(value, reference, **FLOAT32_VS_FLOAT64)


def _seed_611() -> np.ndarray:
    rng = np.random.default_rng(seed=RANDOM_SEED)
    return rng.standard_normal(size=(5, 5))


def _seed_612() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed=RANDOM_SEED)
    a = rng.standard_normal(size=(5, 5))
    b = rng.standard_normal(size=(5, 5))
    return a, b


def _seed_613() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed=RANDOM_SEED)
    a = rng.standard_normal(size=(3, 4, 5))
    b = rng.standard_normal(size=(3, 5, 6))
    return a, b


# ---------------------------------------------------------------------------------------------
# The seed's printed inputs
# ---------------------------------------------------------------------------------------------


def test_seed_prints_of_the_inputs_are_reproduced():
    a = _seed_611()
    assert _seed_print(a) == SEED_A_5x5
    a2, b2 = _seed_612()
    assert _seed_print(a2) == SEED_A_5x5
    assert _seed_print(b2) == SEED_B_5x5
    a3, b3 = _seed_613()
    assert _seed_print(a3) == SEED_A_3x4x5
    for row, printed in zip(b3[0], SEED_B_3x5x6_HEAD, strict=False):
        np.testing.assert_allclose(row[: len(printed)], printed, rtol=0, atol=5e-9)


# ---------------------------------------------------------------------------------------------
# 6.1.1 trace, 6.1.2 matrix product, 6.1.3 batchwise product
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_611_trace(dtype):
    a64 = _seed_611()
    a = _as(a64, dtype)
    t = torch.from_numpy(a)
    trace = np.einsum("ii->", a)
    if dtype == "float64":
        # the seed printed "deviation = 0.0": both sum the same diagonal in the same order
        assert np.linalg.norm(trace - np.trace(a)) == 0.0
    _assert_same(np.asarray(np.trace(a)), torch.from_numpy(np.asarray(trace)))
    _assert_same(trace, torch.einsum("ii->", t))
    _assert_same(trace, torch.trace(t))
    if dtype == "float32":
        _assert_float32_near_float64(trace, np.trace(a64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_612_matrix_product(dtype):
    a64, b64 = _seed_612()
    a, b = _as(a64, dtype), _as(b64, dtype)
    t, u = torch.from_numpy(a), torch.from_numpy(b)
    matmul = np.einsum("ik,kj->ij", a, b)
    if dtype == "float64":
        # the seed printed a deviation of 1.27e-15 (BLAS-dependent in the last bits)
        assert np.linalg.norm(matmul - a @ b) < 1e-13
    _assert_same(a @ b, torch.from_numpy(matmul))
    _assert_same(matmul, torch.einsum("ik,kj->ij", t, u))
    _assert_same(matmul, t @ u)
    if dtype == "float32":
        _assert_float32_near_float64(matmul, a64 @ b64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_613_batchwise_product(dtype):
    a64, b64 = _seed_613()
    a, b = _as(a64, dtype), _as(b64, dtype)
    t, u = torch.from_numpy(a), torch.from_numpy(b)
    batchmul = np.einsum("bik,bkj->bij", a, b)
    manual_batchmul = np.array([a[i] @ b[i] for i in range(a.shape[0])])
    assert batchmul.shape == (3, 4, 6)
    if dtype == "float64":
        assert np.linalg.norm(batchmul - manual_batchmul) < 1e-13
    _assert_same(manual_batchmul, torch.from_numpy(batchmul))
    _assert_same(batchmul, torch.einsum("bik,bkj->bij", t, u))
    _assert_same(batchmul, torch.bmm(t, u))
    _assert_same(batchmul, torch.stack([t[i] @ u[i] for i in range(t.shape[0])]))
    if dtype == "float32":
        _assert_float32_near_float64(batchmul, a64 @ b64)


# ---------------------------------------------------------------------------------------------
# The conv contraction bijc,ijco->bo
# ---------------------------------------------------------------------------------------------


def _conv_contractions_numpy(t: np.ndarray, t2: np.ndarray) -> dict[str, np.ndarray]:
    b, k = t.shape[0], t2.shape[-1]
    return {
        "einsum": np.einsum("bijc,ijco->bo", t, t2),
        "tensordot": np.tensordot(t, t2, axes=([1, 2, 3], [0, 1, 2])),
        "reshape+matmul": t.reshape(b, -1) @ t2.reshape(-1, k),
    }


def _conv_contractions_torch(t: torch.Tensor, t2: torch.Tensor) -> dict[str, torch.Tensor]:
    b, k = t.shape[0], t2.shape[-1]
    return {
        "einsum": torch.einsum("bijc,ijco->bo", t, t2),
        "tensordot": torch.tensordot(t, t2, dims=([1, 2, 3], [0, 1, 2])),
        "reshape+matmul": t.reshape(b, -1) @ t2.reshape(-1, k),
    }


def _assert_all_contractions(t: np.ndarray, t2: np.ndarray, expected: np.ndarray) -> None:
    for name, value in _conv_contractions_numpy(t, t2).items():
        mismatch = compare_outputs(expected, torch.from_numpy(np.asarray(value)))
        assert mismatch is None, f"NumPy {name}: {mismatch}"
    torch_results = _conv_contractions_torch(torch.from_numpy(t), torch.from_numpy(t2))
    for name, value in torch_results.items():
        mismatch = compare_outputs(expected, value)
        assert mismatch is None, f"torch {name}: {mismatch}"


def test_conv_contraction_arange_is_the_seed_output():
    t = np.arange(2 * 3 * 3 * 3).reshape((2, 3, 3, 3))
    t2 = np.arange(3 * 3 * 3 * 4).reshape((3, 3, 3, 4))
    out = np.einsum("bijc,ijco->bo", t, t2)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, SEED_CONV_ARANGE)
    _assert_all_contractions(t, t2, SEED_CONV_ARANGE)


def test_conv_contraction_ones_is_all_27():
    t = np.ones(2 * 3 * 3 * 3).reshape((2, 3, 3, 3))
    t2 = np.ones(3 * 3 * 3 * 4).reshape((3, 3, 3, 4))
    expected = np.full((2, 4), 27.0)
    np.testing.assert_array_equal(np.einsum("bijc,ijco->bo", t, t2), expected)
    _assert_all_contractions(t, t2, expected)
    _assert_all_contractions(t.astype(np.float32), t2.astype(np.float32),
                             expected.astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_contraction_random(dtype):
    rng = np.random.default_rng(seed=RANDOM_SEED)
    t64 = rng.standard_normal(size=(2, 3, 3, 5))
    t2_64 = rng.standard_normal(size=(3, 3, 5, 4))
    t, t2 = _as(t64, dtype), _as(t2_64, dtype)
    expected = np.einsum("bijc,ijco->bo", t, t2)
    assert expected.shape == (2, 4) and expected.dtype == np.dtype(dtype)
    _assert_all_contractions(t, t2, expected)
    if dtype == "float32":
        _assert_float32_near_float64(expected, np.einsum("bijc,ijco->bo", t64, t2_64))


def test_argmax_over_axis_1_shape_and_values():
    t = np.arange(2 * 3 * 3 * 3).reshape((2, 3, 3, 3))
    np_arg = np.argmax(t, axis=1)
    assert np_arg.shape == (2, 3, 3)
    torch_arg = torch.argmax(torch.from_numpy(t), dim=1)
    assert tuple(torch_arg.shape) == (2, 3, 3)
    _assert_same(np_arg, torch_arg)
    np.testing.assert_array_equal(np_arg, np.full((2, 3, 3), 2))
