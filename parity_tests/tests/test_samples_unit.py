"""What the harness draws and selects: the makers of ``samples.py`` and the registry's
validation, discovery and case selection.

A maker that drew the wrong values would let a bug through at every seed (no exact zeros at
a kink, no magnitude near overflow, no ties in a window), and a selection that dropped a
case, or a validation that let a contradictory sample in, would leave a layer unchecked.
These tests pin the properties each maker promises and the exact sets ``cases()`` and
``error_cases()`` yield. Data are drawn at ``PARITY_SEED`` with bounds that hold at any seed
(several standard errors wide, on draws of thousands of values); no torch run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from parity_tests import registry, samples
from parity_tests.entries import blocks, core, spatial
from parity_tests.entry import Entry, ErrorInput
from parity_tests.registry import (
    BUILTIN,
    BY_NAME,
    Case,
    cases,
    error_cases,
    sample_name_problems,
    select_entries,
    validate,
)
from parity_tests.samples import Sample
from parity_tests.seeding import seed_from_env
from parity_tests.targets import TargetError

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
DTYPES = pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
#: Draws this large put a sample mean within 0.02 of its expectation (6 standard errors
#: of a unit variance) and a fraction within 0.02 of its probability.
LARGE = (100, 1000)


def rng(offset: int = 0) -> np.random.Generator:
    """A generator at the session's seed (``PARITY_SEED``), shifted by ``offset``."""
    return np.random.default_rng(seed_from_env() + offset)


def draw(maker: samples.InputMaker, shape: tuple[int, ...] = LARGE,
         dtype: np.dtype = F64, offset: int = 0) -> np.ndarray:
    """``maker``'s array at the session's seed, checked for its shape and dtype."""
    x = maker(rng(offset), shape, dtype)
    assert isinstance(x, np.ndarray) and x.shape == shape and x.dtype == dtype
    return x


def assert_reproducible_and_seeded(maker: samples.InputMaker,
                                   shape: tuple[int, ...] = (40, 50)) -> None:
    """The same seed gives the same array, another seed another one: the maker draws
    from the generator it is given and nothing else."""
    np.testing.assert_array_equal(draw(maker, shape), draw(maker, shape))
    assert not np.array_equal(draw(maker, shape), draw(maker, shape, offset=1))


# --------------------------------------------------------------------------- input makers
@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (0.25, 3.0), (4.0, -2.0)])
def test_normal_has_the_mean_and_spread_it_is_given(scale: float, shift: float) -> None:
    x = draw(samples.normal(scale, shift))
    assert abs(x.mean() - shift) < 0.02 * scale
    assert abs(x.std() / scale - 1) < 0.02
    assert_reproducible_and_seeded(samples.normal(scale, shift))


@DTYPES
def test_normal_and_its_default_in_a_sample_are_standard_in_the_dtype(dtype: np.dtype) -> None:
    for maker in (samples.normal(), Sample("b2d3", (2, 3)).make_input):
        x = draw(maker, dtype=dtype)
        assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02


@pytest.mark.parametrize("low, high", [(-2, 3), (0, 3)])
def test_integers_are_whole_cover_the_range_and_stay_in_it(low: int, high: int) -> None:
    x = draw(samples.integers(low, high), dtype=F32)
    np.testing.assert_array_equal(np.unique(x), np.arange(low, high, dtype=F32))
    assert_reproducible_and_seeded(samples.integers(low, high))


@pytest.mark.parametrize("magnitude", [1e4, 60.0])
def test_extreme_puts_half_the_entries_near_plus_and_minus_the_magnitude(
        magnitude: float) -> None:
    x = draw(samples.extreme(magnitude), dtype=F32).astype(F64)
    big = np.abs(x) > magnitude / 2
    assert abs(big.mean() - 0.5) < 0.02
    top = np.abs(x[big]) - magnitude  # unit jitter around ±magnitude
    assert abs(top.mean()) < 0.05 and abs(top.std() - 1) < 0.05
    assert abs((x[big] > 0).mean() - 0.5) < 0.03  # both signs, evenly
    rest = x[~big]
    assert abs(rest.mean()) < 0.03 and abs(rest.std() - 1) < 0.03
    assert_reproducible_and_seeded(samples.extreme(magnitude))


def test_extreme_s_default_magnitude_is_1e4() -> None:
    x = np.abs(draw(samples.extreme()))
    assert abs(x[x > 5e3].mean() - 1e4) < 0.05  # 50,000 jitters: a standard error of 0.005


@pytest.mark.parametrize("shape", [(300, 40), (30, 20, 10)])
def test_probabilities_are_rows_inside_0_1_summing_to_1(shape: tuple[int, ...]) -> None:
    p = draw(samples.probabilities(), shape, F32)
    assert (p > 0).all() and (p < 1).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=1e-5)
    assert_reproducible_and_seeded(samples.probabilities())


def test_probabilities_follow_the_temperature_and_stay_finite_when_it_is_small() -> None:
    def peak(maker: samples.InputMaker) -> float:
        p = draw(maker, (2000, 10))
        np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=1e-12)
        return float(p.max(axis=-1).mean())

    # N(0, 1) logits over 10 classes: the largest softmax entry is 0.37 on average; at
    # temperature 0.1 most of a row is on one class (0.89), at 10 nearly uniform (0.11)
    assert 0.3 < peak(samples.probabilities()) < 0.45
    assert 0.3 < peak(samples.probabilities(1.0)) < 0.45
    assert peak(samples.probabilities(0.1)) > 0.85
    assert peak(samples.probabilities(10.0)) < 0.15
    # logits of ±1000 and more: finite only if shifted by the row maximum
    assert np.isfinite(peak(samples.probabilities(0.002)))


@pytest.mark.parametrize("shape", [(8000, 10), (2, 4000, 10)])
def test_probabilities_are_a_softmax_of_each_row_alone(shape: tuple[int, ...]) -> None:
    """log p minus its row mean is z minus its row mean (z: the N(0, 1) logits), so each
    class averages 0 over the rows (standard error 0.011, 0.015): a shift that is not constant
    along a row (another axis's maximum, say) biases whole classes."""
    log_p = np.log(draw(samples.probabilities(), shape))
    centred = log_p - log_p.mean(axis=-1, keepdims=True)
    assert abs(centred.std() - np.sqrt(0.9)) < 0.02
    assert np.abs(centred.mean(axis=-2)).max() < 0.08


@pytest.mark.parametrize("shift, zeros", [(-1.0, 0.8413), (0.0, 0.5), (1.0, 0.1587)])
def test_relu_like_has_exact_zeros_and_positives_on_both_sides_of_the_kink(
        shift: float, zeros: float) -> None:
    x = draw(samples.relu_like(shift), dtype=F32)
    assert (x >= 0).all()
    assert abs((x == 0).mean() - zeros) < 0.02  # P(N(shift, 1) <= 0)
    positive = x[x > 0].astype(F64)
    expected = shift + 1 / np.sqrt(2 * np.pi) * np.exp(-shift**2 / 2) / (1 - zeros)
    assert abs(positive.mean() - expected) < 0.05  # the mean of N(shift, 1) above 0
    assert_reproducible_and_seeded(samples.relu_like(shift))


def test_relu_like_defaults_to_mostly_zeros() -> None:
    assert abs((draw(samples.relu_like()) == 0).mean() - 0.8413) < 0.02


@DTYPES
@pytest.mark.parametrize("value", [-1.0, 0.0, 2.5])
def test_constant_is_one_value_everywhere(dtype: np.dtype, value: float) -> None:
    np.testing.assert_array_equal(draw(samples.constant(value), (3, 4, 5), dtype),
                                  np.full((3, 4, 5), value, dtype))


def windows(x: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """The whole kh × kw windows tiling each (n, c) plane of NHWC ``x``, each as the
    integer its row-major bits spell: shape (n, c, windows)."""
    kh, kw = kernel
    n, h, w, c = x.shape
    rows, cols = h // kh, w // kw
    tiles = x[:, : rows * kh, : cols * kw].reshape(n, rows, kh, cols, kw, c)
    bits = tiles.transpose(0, 5, 1, 3, 2, 4).reshape(n, c, rows * cols, kh * kw)
    return (bits.astype(np.int64) << np.arange(kh * kw)).sum(axis=-1)


@pytest.mark.parametrize("kernel, shape", [((2, 2), (2, 8, 8, 3)), ((2, 3), (1, 16, 24, 2)),
                                           ((3, 1), (2, 6, 4, 1))])
def test_binary_windows_of_a_full_plane_hold_every_pattern_once(
        kernel: tuple[int, int], shape: tuple[int, ...]) -> None:
    x = draw(samples.binary_windows(kernel), shape, F32)
    assert set(np.unique(x)) == {0.0, 1.0}
    codes = windows(x, kernel)
    every = np.arange(1 << (kernel[0] * kernel[1]))
    for plane in codes.reshape(-1, codes.shape[-1]):
        np.testing.assert_array_equal(np.sort(plane), every)
    # the order is drawn per plane, not once for the whole array
    assert len({tuple(plane) for plane in codes.reshape(-1, codes.shape[-1])}) > 1
    assert_reproducible_and_seeded(samples.binary_windows(kernel), shape)


def test_binary_windows_of_a_plane_with_more_windows_than_patterns_repeat_them() -> None:
    x = draw(samples.binary_windows((1, 2)), (2, 5, 4, 3), F32)  # 10 windows, 4 patterns
    codes = windows(x, (1, 2))
    for plane in codes.reshape(-1, 10):
        assert set(plane) == {0, 1, 2, 3}
        np.testing.assert_array_equal(plane[4:8], plane[:4])  # one order, repeated


def test_binary_windows_of_a_partial_plane_are_distinct_and_the_rest_random() -> None:
    x = draw(samples.binary_windows((2, 2)), (200, 5, 7, 2), F64)  # 2 × 3 windows a plane
    codes = windows(x, (2, 2))
    assert all(len(set(plane)) == 6 for plane in codes.reshape(-1, 6))
    for edge in (x[:, 4, :, :], x[:, :, 6, :]):  # the cells past the last whole window
        assert set(np.unique(edge)) == {0.0, 1.0}
        assert abs(edge.mean() - 0.5) < 0.1


@DTYPES
def test_given_returns_a_copy_of_its_array(dtype: np.dtype) -> None:
    array = np.arange(6, dtype=dtype).reshape(2, 3)
    x = draw(samples.given(array), (2, 3), dtype)
    np.testing.assert_array_equal(x, array)
    x[0, 0] = 99
    assert array[0, 0] == 0


@DTYPES
def test_with_values_sets_the_entries_on_its_base(dtype: np.dtype) -> None:
    values = {(0, 0): np.nan, (1, 2): np.inf, (3, 1): -np.inf, (2, 2): 5.0}
    x = draw(samples.with_values(values, samples.constant(0.5)), (4, 3), dtype)
    expected = np.full((4, 3), 0.5, dtype)
    for index, value in values.items():
        expected[index] = value
    np.testing.assert_array_equal(x, expected)
    # the default base is N(0, 1)
    x = draw(samples.with_values({(0, 0): np.inf}), dtype=dtype)
    assert x[0, 0] == np.inf
    rest = x.ravel()[1:]
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02


@DTYPES
def test_near_max_entries_overflow_when_two_are_summed(dtype: np.dtype) -> None:
    indices = ((0, 0), (2, 1))
    x = draw(samples.near_max(indices), (3, 4), dtype)
    big = x[0, 0]
    assert np.isfinite(big) and x[2, 1] == big
    assert big == np.asarray(0.75 * np.finfo(dtype).max, dtype)
    with np.errstate(over="ignore"):
        assert x[0, 0] + x[2, 1] == np.inf
    others = np.delete(x.ravel(), [0, 9])
    assert np.abs(others).max() < 10  # N(0, 1) by default


def test_near_max_takes_its_fraction_and_base() -> None:
    x = draw(samples.near_max(((1,),), fraction=0.5, base=samples.constant(-3.0)), (3,), F32)
    np.testing.assert_array_equal(x, np.array([-3.0, 0.5 * np.finfo(F32).max, -3.0], F32))


class _Weighted:
    """A layer with a weight and a bias, as a sample's ``setup`` sees it."""

    def __init__(self, dtype: np.dtype) -> None:
        self.params = {"weight": np.zeros((50, 40), dtype), "bias": np.zeros(40, dtype)}


@DTYPES
def test_weights_at_least_one_draws_u_1_1_5_in_place(dtype: np.dtype) -> None:
    layer = _Weighted(dtype)
    weight = layer.params["weight"]
    samples.weights_at_least_one(layer, rng())
    assert layer.params["weight"] is weight and weight.dtype == dtype
    assert (weight >= 1).all() and (weight < 1.5).all()
    assert abs(weight.mean() - 1.25) < 0.03 and weight.std() > 0.1  # not constant
    np.testing.assert_array_equal(layer.params["bias"], 0)
    with np.errstate(over="ignore"):  # two inputs at 0.75 max, weighted, overflow
        big = np.asarray(0.75 * np.finfo(dtype).max, dtype)
        assert (big * weight[0, 0] + big * weight[1, 0]) == np.inf


def test_away_from_zero_is_uniform_within_its_bounds() -> None:
    x = draw(samples.away_from_zero())
    assert x.min() >= 0.25 and x.max() < 1.0 and abs(x.mean() - 0.625) < 0.01
    y = draw(samples.away_from_zero(2.0, 3.0))
    assert y.min() >= 2.0 and y.max() < 3.0
    assert_reproducible_and_seeded(samples.away_from_zero())


@DTYPES
def test_mixed_signs_alternate_with_magnitudes_away_from_zero(dtype: np.dtype) -> None:
    x = draw(samples.mixed_signs(), (7, 3, 5), dtype)
    flat = x.reshape(-1)
    np.testing.assert_array_equal(np.sign(flat), np.where(np.arange(flat.size) % 2, -1, 1))
    assert np.abs(x).min() >= 0.25 and np.abs(x).max() < 2.0
    assert np.sign(samples.mixed_signs()(rng(), (), dtype)) == 1  # a 0-d draw is positive
    assert_reproducible_and_seeded(samples.mixed_signs())


def test_uniform_weights_draws_the_weight_alone_in_place() -> None:
    layer = _Weighted(F32)
    weight = layer.params["weight"]
    samples.uniform_weights(2.0, 3.0)(layer, rng())
    assert layer.params["weight"] is weight and weight.dtype == F32
    assert weight.min() >= 2.0 and weight.max() < 3.0 and abs(weight.mean() - 2.5) < 0.03
    np.testing.assert_array_equal(layer.params["bias"], 0)


# --------------------------------------------------------------------------- target makers
def prediction(dtype: np.dtype = F32, shape: tuple[int, int] = (3000, 7)) -> np.ndarray:
    return np.zeros(shape, dtype)


def test_class_labels_are_int64_and_cover_every_class() -> None:
    labels = samples.class_labels(rng(), prediction())
    assert labels.dtype == np.int64 and labels.shape == (3000,)
    np.testing.assert_array_equal(np.unique(labels), np.arange(7))


@DTYPES
def test_one_hot_targets_are_the_class_labels_one_hot(dtype: np.dtype) -> None:
    target = samples.one_hot_targets(rng(), prediction(dtype))
    assert target.dtype == dtype and target.shape == (3000, 7)
    np.testing.assert_array_equal(target.sum(axis=1), 1)
    np.testing.assert_array_equal(target.argmax(axis=1),
                                  samples.class_labels(rng(), prediction(dtype)))


@DTYPES
def test_soft_targets_are_probability_rows_with_exact_zeros(dtype: np.dtype) -> None:
    target = samples.soft_targets(rng(), prediction(dtype))
    assert target.dtype == dtype and target.shape == (3000, 7)
    assert (target >= 0).all() and (target[:, 0] > 0).all()
    # the first class is drawn like the others (only nudged off 0): about 1/7 on average
    assert 0.8 < target[:, 0].mean() / target[:, 1:].mean() < 1.25
    kept = target[:, 1:][target[:, 1:] > 0]
    assert len(np.unique(kept)) > kept.size // 2  # weights drawn per entry, not one per row
    np.testing.assert_allclose(target.sum(axis=1), 1, rtol=1e-5)
    assert abs((target[:, 1:] == 0).mean() - 0.3) < 0.02
    assert np.isfinite(samples.soft_targets(rng(), prediction(dtype, (200, 1)))).all()


@DTYPES
def test_regression_targets_are_standard_normal_in_the_predictions_dtype(
        dtype: np.dtype) -> None:
    target = samples.regression_targets(rng(), prediction(dtype))
    assert target.dtype == dtype and target.shape == (3000, 7)
    assert abs(target.mean()) < 0.02 and abs(target.std() - 1) < 0.02


# --------------------------------------------------------------------------- sample names
def named(name: str, shape: tuple[int, ...], **kwargs: Any) -> list[str]:
    return sample_name_problems(Sample(name, shape, kwargs))


@pytest.mark.parametrize("name, shape, kwargs", [
    ("b2h5w6c3o4-k2x3", (2, 5, 6, 3), {"out_channels": 4, "kernel_size": (2, 3)}),
    ("b4t7d5", (4, 7, 5), {}),
    ("b4i3o2", (4, 3), {"out_features": 2}),
    ("b4o9", (4, 3), {}),                                  # no out_* kwarg: nothing to check
    ("b2c3-k3s2p1", (2, 3), {"kernel_size": [3, 3], "stride": 2, "padding": (1, 1)}),
    ("b2c3-k3s2", (2, 3), {}),                             # geometry without kwargs
    ("b2c3-k3", (2, 3), {"kernel_size": "same"}),         # a value that is not a pair
    ("b2c3-k1", (2, 3), {"kernel_size": True}),           # a bool is not a size
    ("ties-extreme-labels-b2c3", (2, 3), {}),             # free text
    ("ties-k3x", (2, 3), {"kernel_size": 5}),             # not a geometry token
    ("b2c3-s1x2", (2, 3), {"stride": np.array([1, 2])}),  # an array of two is a pair
    ("b2-k3", (2,), {"kernel_size": 3, "stride": 2}),       # a kwarg the name leaves out
    ("vector-d7", (7,), {}),                               # free text, then free text
    ("b5d5", (5,), {}),                                    # b and d: a vector's one axis
    ("b2t3i4", (2, 3, 4), {}),
])
def test_sample_names_that_agree(name: str, shape: tuple[int, ...],
                                 kwargs: dict[str, Any]) -> None:
    assert named(name, shape, **kwargs) == []


@pytest.mark.parametrize("name, shape, kwargs, problem", [
    ("b3d4", (2, 4), {}, "'b3' but shape (2, 4)"),
    ("b2h6w6c3", (2, 5, 6, 3), {}, "'h6' but shape (2, 5, 6, 3)"),
    ("b2h5w7c3", (2, 5, 6, 3), {}, "'w7' but shape (2, 5, 6, 3)"),
    ("b2h5w6c4", (2, 5, 6, 3), {}, "'c4' but shape (2, 5, 6, 3)"),
    ("b4t6d5", (4, 7, 5), {}, "'t6' but shape (4, 7, 5)"),
    ("b4d6", (4, 5), {}, "'d6' but shape (4, 5)"),
    ("b4i6", (4, 5), {}, "'i6' but shape (4, 5)"),
    ("b4h5", (4,), {}, "'h5' but shape (4,)"),             # an axis the shape lacks
    ("b4", (), {}, "'b4' but shape ()"),
    ("b4i3o2", (4, 3), {"out_features": 5}, "'o2' but out channels/features 5"),
    ("b2h5w6c3o4", (2, 5, 6, 3), {"out_channels": 8}, "'o4' but out channels/features 8"),
    ("b2-k3", (2,), {"kernel_size": 5}, "'k3' but kernel_size=5"),
    ("b2-k2x3", (2,), {"kernel_size": (3, 2)}, "'k2x3' but kernel_size=(3, 2)"),
    ("b2-k3s2", (2,), {"kernel_size": 3, "stride": 1}, "'k3s2' but stride=1"),
    ("b2-s1x2", (2,), {"stride": [1, 1]}, "'s1x2' but stride=[1, 1]"),
    ("b2-s1x2", (2,), {"stride": np.array([2, 1])}, "'s1x2' but stride=array([2, 1])"),
    ("b2-p1", (2,), {"padding": np.int64(2)}, "'p1' but padding=np.int64(2)"),
    ("b2-k3p1x2", (2,), {"kernel_size": 3, "padding": (1, 1)}, "'k3p1x2' but padding=(1, 1)"),
])
def test_a_sample_name_that_contradicts_its_config_is_named(
        name: str, shape: tuple[int, ...], kwargs: dict[str, Any], problem: str) -> None:
    assert named(name, shape, **kwargs) == [problem.replace("np.int64(2)",
                                                            repr(np.int64(2)))]


def test_every_contradiction_of_a_name_is_listed() -> None:
    assert named("b2h9w6c4-k3s2", (2, 5, 6, 3), kernel_size=2, stride=2) == [
        "'h9' but shape (2, 5, 6, 3)", "'c4' but shape (2, 5, 6, 3)",
        "'k3s2' but kernel_size=2"]


# --------------------------------------------------------------------------- validate()
def test_validate_accepts_the_registry() -> None:
    validate(BUILTIN)
    validate(registry.REGISTRY)


def _sample(entry: Entry, **changes: Any) -> Entry:
    return replace(entry, samples=(replace(entry.samples[0], **changes),))


@pytest.mark.parametrize("entries, message", [
    (lambda: [BY_NAME["relu"], BY_NAME["linear"], BY_NAME["relu"], BY_NAME["linear"]],
     r"^registry: duplicate entry names \['linear', 'relu'\]$"),
    (lambda: [replace(BY_NAME["relu"], samples=BY_NAME["relu"].samples[:2] * 2)],
     rf"^registry: relu has duplicate sample names "
     rf"{sorted(s.name for s in BY_NAME['relu'].samples[:2])}$".replace("[", r"\[")),
    (lambda: [replace(BY_NAME["linear"], errors=BY_NAME["linear"].errors[:1] * 2)],
     rf"^registry: linear has duplicate error input names "
     rf"\['{BY_NAME['linear'].errors[0].name}'\]$"),
    (lambda: [_sample(BY_NAME["softmax"], impls=("loop", "vectorised", "fast"))],
     rf"^registry: softmax sample '{BY_NAME['softmax'].samples[0].name}': impls "
     r"\['fast', 'vectorised'\] are not paths of the layer \['loop', 'vectorized'\]$"),
    (lambda: [_sample(BY_NAME["linear"], name="b3i9o2", shape=(4, 5),
                      kwargs={"in_features": 5, "out_features": 3})],
     r"^registry: linear sample 'b3i9o2': the name disagrees with its config: "
     r"'b3' but shape \(4, 5\); 'i9' but shape \(4, 5\); 'o2' but out channels/features 3$"),
])
def test_validate_refuses_each_bad_registry_with_its_message(entries: Any,
                                                            message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(entries())


def test_validate_lets_a_single_path_layer_run_any_sample() -> None:
    relu = BY_NAME["relu"]
    assert relu.impls == (None,)
    validate([_sample(relu, impls=("vectorized",))])
    validate(iter([BY_NAME["softmax"], BY_NAME["relu"]]))  # any iterable, read once


# --------------------------------------------------------------------------- discovery
def test_discovery_finds_every_family_core_first() -> None:
    found = registry._discover()
    families = (core.ENTRIES, blocks.ENTRIES, spatial.ENTRIES)
    assert found[: len(core.ENTRIES)] == tuple(core.ENTRIES)
    assert sorted(e.name for e in found) == sorted(e.name for f in families for e in f)
    assert [e.name for e in found] == [e.name for e in BUILTIN]


def test_an_installed_plugin_that_cannot_load_is_reported_and_left_out(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> list[Entry]:
        raise TargetError("entry point x (pkg:mod): loading it raised ImportError: no")

    monkeypatch.setattr("parity_tests.targets.installed_entries", broken)
    assert registry._installed() == ()
    assert capsys.readouterr().err == ("parity: an installed plugin was left out: entry "
                                       "point x (pkg:mod): loading it raised ImportError: "
                                       "no\n")
    mine = [replace(BY_NAME["relu"], name="my.relu", origin="pkg"),
            replace(BY_NAME["mse"], name="my.mse")]
    monkeypatch.setattr("parity_tests.targets.installed_entries", lambda: mine)
    assert registry._installed() == tuple(mine)


def test_an_installed_entry_that_clashes_or_fails_validation_is_left_out_alone(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    good = replace(BY_NAME["mse"], name="my.mse")
    clash = replace(BY_NAME["relu"], origin="--plugin mine.py")
    twice = replace(BY_NAME["tanh"], name="my.mse")
    badly_named = replace(BY_NAME["relu"], name="my.relu",
                          samples=(Sample("b3d4", (4, 3)),))
    monkeypatch.setattr("parity_tests.targets.installed_entries",
                        lambda: [good, clash, twice, badly_named])
    assert registry._installed() == (good,)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("parity: an installed entry was left out (--plugin mine.py): its name "
                      "'relu' is taken by another entry")
    assert err[1] == ("parity: an installed entry was left out: its name 'my.mse' is taken "
                      "by another entry")
    assert err[2].startswith("parity: an installed entry was left out: registry: my.relu "
                             "sample 'b3d4': the name disagrees with its config") and len(err) == 3


# --------------------------------------------------------------------------- selection
def test_select_entries_keeps_the_order_asked_once_each() -> None:
    assert select_entries() == registry.REGISTRY
    assert select_entries(["mse", "relu", "mse"]) == (BY_NAME["mse"], BY_NAME["relu"])
    pool = [BY_NAME["relu"], BY_NAME["linear"]]
    assert select_entries(None, pool) == tuple(pool)
    assert select_entries(iter(["linear"]), iter(pool)) == (BY_NAME["linear"],)
    with pytest.raises(KeyError) as raised:
        select_entries(["mse"], pool)
    assert raised.value.args == ("unknown layer 'mse'; known: relu, linear",)


def _keys(selected: Any) -> list[tuple[str, str, np.dtype, str | None]]:
    return [(c.entry.name, c.sample.name, c.dtype, c.impl) for c in selected]


def _every(entries: list[Entry]) -> list[tuple[str, str, np.dtype, str | None]]:
    """Every entry × sample × dtype × impl path the sample allows, in that order."""
    return [(e.name, s.name, np.dtype(d), i)
            for e in entries for s in e.samples for d in e.dtypes for i in e.impls
            if not s.impls or i is None or i in s.impls]


#: softmax (two paths, a vectorized-only sample), relu (one path), mse (a loss).
POOL = ["softmax", "relu", "mse"]


def test_cases_yield_every_sample_dtype_and_impl_path() -> None:
    entries = [BY_NAME[n] for n in POOL]
    assert _keys(cases(entries=entries)) == _every(entries)
    every = _keys(cases())
    assert every == _every(list(registry.REGISTRY)) and len(every) > 1000
    assert all(isinstance(c, Case) and isinstance(c.dtype, np.dtype) for c in cases(["relu"]))


@pytest.mark.parametrize("filters, keep", [
    ({"layers": ["relu", "softmax"]},
     lambda e, s, d, i: e in ("relu", "softmax")),
    ({"dtypes": ["float32"]}, lambda e, s, d, i: d == F32),
    ({"dtypes": [np.float64]}, lambda e, s, d, i: d == F64),
    ({"impls": ["loop"]}, lambda e, s, d, i: i == "loop"),
    ({"impls": ["vectorized"], "dtypes": ["float64"]},
     lambda e, s, d, i: i == "vectorized" and d == F64),
    ({"configs": ["ties-b32c8", "none-b8d4"]},
     lambda e, s, d, i: s in ("ties-b32c8", "none-b8d4")),
])
def test_each_filter_of_cases_keeps_exactly_its_cases(filters: dict[str, Any],
                                                      keep: Any) -> None:
    entries = [BY_NAME[n] for n in POOL]
    expected = [k for k in _every(entries) if keep(*k)]
    assert expected and len(expected) < len(_every(entries))
    if "layers" in filters:  # the layers filter gives the order asked
        entries = [BY_NAME[n] for n in filters["layers"]]
        expected = [k for k in _every(entries) if keep(*k)]
    assert _keys(cases(**filters, entries=[BY_NAME[n] for n in POOL])) == expected


def test_a_vectorized_only_sample_has_no_loop_case_but_runs_on_a_single_path_layer() -> None:
    only = _sample(BY_NAME["softmax"], impls=("vectorized",))
    assert [c.impl for c in cases(entries=[only])] == ["vectorized", "vectorized"]
    single = _sample(BY_NAME["relu"], impls=("vectorized",))
    assert [(c.impl, c.dtype) for c in cases(entries=[single])] == [(None, F32), (None, F64)]


def test_with_impl_and_with_dtype_change_that_field_only() -> None:
    entry = BY_NAME["softmax"]
    sample = entry.samples[0]
    case = Case(entry, sample, F64, "loop")
    for other, fields in ((case.with_impl("vectorized"), (entry, sample, F64, "vectorized")),
                          (case.with_impl(None), (entry, sample, F64, None)),
                          (case.with_dtype(np.float32), (entry, sample, F32, "loop")),
                          (case.with_dtype("float32"), (entry, sample, F32, "loop"))):
        assert (other.entry, other.sample, other.dtype, other.impl) == fields
        assert isinstance(other.dtype, np.dtype)


def test_error_cases_are_every_error_input_of_the_selected_layers() -> None:
    chosen = ["linear", "relu", "softmax"]
    expected = [(n, e.name) for n in chosen for e in BY_NAME[n].errors]
    assert expected
    assert [(c.entry.name, c.error.name) for c in error_cases(chosen)] == expected
    every = [(c.entry.name, c.error.name) for c in error_cases()]
    assert every == [(e.name, x.name) for e in registry.REGISTRY for x in e.errors]
    extra = replace(BY_NAME["relu"], errors=(ErrorInput("bad", "forward", ValueError, "x"),))
    assert [c.id for c in error_cases(None, [extra])] == ["relu-bad"]
