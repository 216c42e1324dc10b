"""The spatial layers take torch's arguments in torch's positional order.

For each torch-named class (and the seeds' ``Pool2D`` order) ONE tuple of positional
arguments builds both the NumPy layer and the stock torch module; their configs must agree
option by option and, with the NumPy parameters copied in, their outputs (and max pooling's
indices) too. The project's own arguments (``dtype``, ``rng``, ``impl``, ``weight_init``,
``bias_init``) are keyword-only, so a torch call translated argument by argument can never
land a value in the wrong parameter: ``Conv2D(4, 1, (2, 3), 2, 1, (2, 3))`` is the dilated
convolution, as in torch.

Also here, because the registry cannot hold them yet: max pooling's ``return_indices``
samples against torch (the dtype check wants float outputs, the forward check compares
``output`` only), and non-finite upstream gradients (the registry draws dy from N(0, 1)):
a NaN in a max pool's dy reaches one cell, as in torch, not its whole window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from numpy_impl.blocks import SEBlock
from numpy_impl.buffering import image_channel_dots, per_image_channel
from numpy_impl.conv import (
    IM2COL_CHUNK,
    IM2COL_KEEP,
    Conv2D,
    _dcols_by_chunks,
    _dcols_chunk_elements,
    _dcols_geometry,
    _im2col_banded,
    _im2col_columns,
    _Im2colPlan,
    _PhaseGrid,
    _winograd_band_rule,
    _winograd_bands,
    _winograd_geometry,
    _winograd_plan,
)
from numpy_impl.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    GlobalAvgPool2D,
    MaxPool2d,
    Pool2D,
)
from numpy_impl.softmax import LogSoftmax, Softmax
from parity_tests.checks import compare_tensors
from parity_tests.engine import Built, build_case, run_numpy, run_torch
from parity_tests.entries.spatial import (
    ADAPTIVE,
    ADAPTIVE_MAX_INDEX_SAMPLES,
    CONV,
    MAX_INDEX_SAMPLES,
    POOLS,
)
from parity_tests.registry import Case
from torch_ref.base import nhwc, nhwc_without_onednn

F64 = np.dtype(np.float64)
MAX_POOL, AVG_POOL = POOLS
ADAPTIVE_AVG, ADAPTIVE_MAX = ADAPTIVE


def pair(value: Any) -> Any:
    """torch keeps an int as given; the NumPy layers store (height, width) pairs."""
    if isinstance(value, (tuple, list)):
        return tuple(value)
    if value is None or isinstance(value, str):
        return value
    return (value, value)


def outputs_agree(layer: Any, module: nn.Module, shape: tuple[int, ...], conv: bool = False
                  ) -> None:
    """Forward both on the same float64 NHWC input; values (and indices) must agree."""
    x = np.random.default_rng(0).standard_normal(shape)
    ours = layer.forward(x)
    call = nhwc_without_onednn(module) if conv else nhwc(module)
    with torch.no_grad():
        if isinstance(ours, tuple):
            y, indices = module(torch.from_numpy(x).permute(0, 3, 1, 2))
            theirs = (y.permute(0, 2, 3, 1).numpy(), indices.permute(0, 2, 3, 1).numpy())
            np.testing.assert_array_equal(ours[1], theirs[1])
            ours, theirs_y = ours[0], theirs[0]
        else:
            theirs_y = call(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs_y, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- Conv2D
CONV_ARGS = [
    (3, 4, 3),
    (4, 1, (2, 3), 2, 1, (2, 3)),  # dilation in 6th place: once silently taken as bias
    (4, 6, (2, 3), 2, 1, (2, 3), 2, False, "reflect"),
    (4, 8, 3, 1, "same", 2, 4, True, "circular"),
    (3, 3, (3, 2), (1, 2), (2, 1), 1, 3, True, "replicate"),
    (2, 4, 2, 1, "valid", (2, 1), 2),
]


@pytest.mark.parametrize("args", CONV_ARGS, ids=str)
def test_conv2d_positional_arguments_mean_what_they_mean_in_torch(args):
    layer = Conv2D(*args, dtype=np.float64, rng=0, impl="loop")
    module = nn.Conv2d(*args).double()
    config = layer.config()
    for name in ("in_channels", "out_channels", "groups", "padding_mode"):
        assert config[name] == getattr(module, name), name
    for name in ("kernel_size", "stride", "padding", "dilation"):
        assert config[name] == pair(getattr(module, name)), name
    assert config["bias"] is (module.bias is not None)
    assert layer.params["weight"].shape == tuple(module.weight.permute(2, 3, 1, 0).shape)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.params["weight"]).permute(3, 2, 0, 1))
        if module.bias is not None:
            layer.params["bias"][...] = np.arange(module.out_channels) * 0.1
            module.bias.copy_(torch.from_numpy(layer.params["bias"]))
    outputs_agree(layer, module, (2, 7, 8, args[0]), conv=True)


def test_conv2d_the_dilation_no_longer_lands_in_bias():
    layer = Conv2D(4, 1, (2, 3), 2, 1, (2, 3))
    assert layer.dilation == (2, 3) and layer.use_bias is True


@pytest.mark.parametrize("call", [
    lambda: Conv2D(3, 4, 3, 1, 0, 1, 1, True, "zeros", "kaiming_uniform"),
    lambda: MaxPool2d(2, 2, 0, 1, False, False, "loop"),
    lambda: AvgPool2d(2, 2, 0, False, True, None, "loop"),
    lambda: Pool2D(2, 2, 0, "max", "loop"),
    lambda: AdaptiveMaxPool2d(2, False, "loop"),
], ids=["conv2d", "max", "avg", "pool2d", "adaptive-max"])
def test_the_projects_own_arguments_are_keyword_only(call):
    with pytest.raises(TypeError, match="positional argument"):
        call()


# --------------------------------------------------------------------------- pooling
MAX_ARGS = [(3,), (3, 2, 1, 2, True, True), ((2, 3), (1, 2), (1, 0), (2, 1), False, True),
            (2, None, 1, 1, True)]


@pytest.mark.parametrize("args", MAX_ARGS, ids=str)
def test_max_pool2d_positional_arguments_match_torch(args):
    layer, module = MaxPool2d(*args, impl="loop"), nn.MaxPool2d(*args)
    config = layer.config()
    for name in ("kernel_size", "stride", "padding", "dilation"):
        assert config[name] == pair(getattr(module, name)), name
    for name in ("return_indices", "ceil_mode"):
        assert config[name] == getattr(module, name), name
    outputs_agree(layer, module, (2, 7, 8, 3))


AVG_ARGS = [(3,), (3, 2, 1, True, False), (2, None, 1, True, True, 3), ((3, 2), (2, 1), (1, 0))]


@pytest.mark.parametrize("args", AVG_ARGS, ids=str)
def test_avg_pool2d_positional_arguments_match_torch(args):
    layer, module = AvgPool2d(*args, impl="loop"), nn.AvgPool2d(*args)
    config = layer.config()
    for name in ("kernel_size", "stride", "padding"):
        assert config[name] == pair(getattr(module, name)), name
    for name in ("ceil_mode", "count_include_pad", "divisor_override"):
        assert config[name] == getattr(module, name), name
    outputs_agree(layer, module, (2, 7, 8, 3))


ADAPTIVE_ARGS = [
    (AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d, (4,)),
    (AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d, ((None, 3),)),
    (AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d, ((None, None),)),
    (AdaptiveMaxPool2d, nn.AdaptiveMaxPool2d, ((3, None), True)),
    (AdaptiveMaxPool2d, nn.AdaptiveMaxPool2d, ((9, 2),)),
]


@pytest.mark.parametrize(("ours", "theirs", "args"), ADAPTIVE_ARGS,
                         ids=lambda value: getattr(value, "__name__", str(value)))
def test_adaptive_pool2d_positional_arguments_match_torch(ours, theirs, args):
    layer, module = ours(*args, impl="loop"), theirs(*args)
    config = layer.config()
    assert config["output_size"] == pair(module.output_size)
    if "return_indices" in config:
        assert config["return_indices"] == module.return_indices
    outputs_agree(layer, module, (2, 7, 8, 3))


def test_adaptive_none_none_is_the_identity():
    x = np.random.default_rng(1).standard_normal((2, 5, 7, 3))
    for impl in ("loop", "vectorized"):
        np.testing.assert_array_equal(AdaptiveAvgPool2d((None, None), impl=impl).forward(x), x)


SEED_POOL_ARGS = [((2, 2, 0, "max"), nn.MaxPool2d), ((3, 2, 1, "average"), nn.AvgPool2d),
                  ((3, None, 1, "max"), nn.MaxPool2d), (((2, 3), (1, 2)), nn.MaxPool2d)]


@pytest.mark.parametrize(("args", "theirs"), SEED_POOL_ARGS, ids=str)
def test_pool2d_keeps_the_seeds_positional_order(args, theirs):
    layer, module = Pool2D(*args, impl="loop"), theirs(*args[:3])
    config = layer.config()
    for name in ("kernel_size", "stride", "padding"):
        assert config[name] == pair(getattr(module, name)), name
    assert config["mode"] == (args[3] if len(args) > 3 else "max")
    outputs_agree(layer, module, (2, 7, 8, 3))


# --------------------------------------------------------------------------- indices, dy
def index_cases() -> list[Case]:
    return [Case(entry, sample, np.dtype(dtype), impl)
            for entry, samples in ((MAX_POOL, MAX_INDEX_SAMPLES),
                                   (ADAPTIVE_MAX, ADAPTIVE_MAX_INDEX_SAMPLES))
            for sample in samples for dtype in entry.dtypes for impl in entry.impls]


@pytest.mark.parametrize("case", index_cases(), ids=lambda case: case.id)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_return_indices_match_torch(case, seed):
    """(y, indices) and the input gradient against torch: indices exactly, int64."""
    built = build_case(case, seed)
    reference = case.entry.reference(built.layer)
    ours = run_numpy(built)
    theirs = run_torch(built, reference, ours.upstream)
    assert ours.error is None and theirs.error is None, (ours.error, theirs.error)
    assert ours.tensors["output[1]"].dtype == np.int64
    np.testing.assert_array_equal(ours.tensors["output[1]"], theirs.tensors["output[1]"])
    failures = [c for c in compare_tensors(ours.tensors, theirs.tensors, case, "torch")
                if not c.ok]
    assert not failures, "\n".join(c.describe() for c in failures)


NONFINITE_DY = [(MAX_POOL, {"kernel_size": 3, "stride": 1, "padding": 1}),
                (MAX_POOL, {"kernel_size": 2}),
                (MAX_POOL, {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}),
                (AVG_POOL, {"kernel_size": 3, "stride": 2, "padding": 1}),
                (ADAPTIVE_MAX, {"output_size": (3, 4)}),
                (ADAPTIVE_AVG, {"output_size": (3, 4)})]


def _float64_case(entry: Any, kwargs: dict[str, Any], impl: str, rng: np.random.Generator,
                  shape: tuple[int, ...]) -> Built:
    """A float64 case of ``entry`` whose layer is built from ``kwargs`` and whose input of
    ``shape`` is N(0, 1), both drawn from ``rng``: a config the registry does not hold."""
    built = build_case(Case(entry, entry.samples[0], F64, impl), 0)
    built.layer = entry.build(kwargs, F64, rng, impl)
    built.x = rng.standard_normal(shape)
    return built


def _both_sides(entry: Any, built: Built, dy: np.ndarray) -> tuple[Any, Any]:
    """The NumPy and torch runs of ``built`` with upstream gradient ``dy``; neither may raise."""
    ours = run_numpy(built, upstream=dy)
    theirs = run_torch(built, entry.reference(built.layer), dy)
    assert ours.error is None and theirs.error is None, (ours.error, theirs.error)
    return ours, theirs


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("impl", ["loop", "vectorized"])
@pytest.mark.parametrize(("entry", "kwargs"), NONFINITE_DY,
                         ids=lambda value: getattr(value, "name", str(value)))
def test_a_non_finite_upstream_gradient_goes_where_torch_sends_it(entry, kwargs, impl, bad):
    """One NaN (or inf) in dy: max pooling sends it to the one picked cell (0·NaN must not
    reach the rest of the window); average pooling to every cell of the window."""
    rng = np.random.default_rng(3)
    built = _float64_case(entry, kwargs, impl, rng, (2, 7, 7, 2))
    dy = rng.standard_normal(built.layer.forward(built.x).shape)
    dy[0, 1, 1, 0] = bad
    dy[1, -1, 0, 1] = -bad
    ours, theirs = _both_sides(entry, built, dy)
    dx, expected = ours.tensors["input_grad"], theirs.tensors["input_grad"]
    np.testing.assert_array_equal(np.isnan(dx), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(dx), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(dx[finite], expected[finite], rtol=1e-10, atol=1e-12)
    if entry in (MAX_POOL, ADAPTIVE_MAX):
        assert np.count_nonzero(~np.isfinite(dx)) <= 2  # one cell per non-finite dy entry


CONV_NONFINITE_DY = [
    {"kernel_size": 3, "padding": 1},  # Winograd: its backward must not spread the value
    {"kernel_size": 3, "padding": (2, 1), "padding_mode": "reflect"},  # Winograd, folded
    {"kernel_size": 3, "stride": 2, "padding": 1},  # im2col
    {"kernel_size": 3, "padding": 1, "groups": 2, "dilation": 2},  # im2col, groups
]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("impl", ["loop", "vectorized"])
@pytest.mark.parametrize("kwargs", CONV_NONFINITE_DY, ids=str)
def test_conv2d_a_non_finite_upstream_gradient_reaches_what_torch_reaches(kwargs, impl, bad):
    """A NaN (or ±inf) in dy: dx is non-finite exactly on the cells whose windows hold it
    (torch's direct sums), not on a whole Winograd tile; dW and db likewise."""
    entry = CONV
    rng = np.random.default_rng(4)
    built = _float64_case(entry, {"in_channels": 4, "out_channels": 4, **kwargs}, impl, rng,
                          (2, 9, 8, 4))
    dy = rng.standard_normal(built.layer.forward(built.x).shape)
    dy[0, 3, 2, 1] = bad
    dy[1, -1, -1, 3] = -bad
    ours, theirs = _both_sides(entry, built, dy)
    for name, expected in theirs.tensors.items():
        got = ours.tensors[name]
        assert np.isnan(expected).any() or np.isinf(expected).any() or name == "output", name
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=name)
        np.testing.assert_array_equal(np.isinf(got), np.isinf(expected), err_msg=name)
        finite = np.isfinite(expected)
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_conv2d_bias_starts_at_zero_unless_torch_default_is_asked_for():
    """The torch reference copies the layer's parameters, so no parity check sees the
    initial bias: this test does (bias_init="zeros" by default, like Linear's)."""
    assert not Conv2D(3, 4, 3, rng=0).params["bias"].any()
    drawn = Conv2D(3, 400, 3, rng=0, bias_init="torch_default").params["bias"]
    bound = np.float32(1 / np.sqrt(3 * 3 * 3))  # U(-bound, bound), bound = 1/sqrt(fan_in)
    assert np.all(np.abs(drawn) <= bound)
    assert drawn.min() < -0.9 * bound and drawn.max() > 0.9 * bound  # the whole range


@pytest.mark.parametrize("sample", CONV.samples, ids=lambda sample: sample.name)
def test_conv2d_threshold_measures_count_what_the_kernels_work_on(sample):
    """test_thresholds.py trusts these measures to say which side of WINOGRAD_BAND,
    IM2COL_CHUNK and IM2COL_KEEP a sample lies on; here they are recounted from the layer's
    output: tiles of ⌈OH/2⌉ × ⌈OW/2⌉ with 16·(C_in + C_out) V and M elements each
    (Winograd), or N·OH·OW positions of G groups of kh·kw·C_in/G columns, a ones column and
    a zero column when that is odd (im2col); a column matrix kept whole is one band."""
    kwargs = dict(sample.kwargs)
    layer = Conv2D(**kwargs)
    n, h, w, c = sample.shape
    _, oh, ow, co = layer.forward(np.zeros((min(n, 1), h, w, c), np.float32)).shape
    if layer.winograd_applies():
        assert _winograd_geometry(kwargs, sample.shape) == (
            n, -(-oh // 2), -(-ow // 2), 16 * (c + co))
        with pytest.raises(ValueError):
            _im2col_columns(kwargs, sample.shape, per_image=True)
        _assert_winograd_plan_fits_its_band(kwargs, sample.shape, layer.pads, co)
        with pytest.raises(ValueError):
            _dcols_geometry(kwargs, sample.shape)
        return
    kh, kw = layer.kernel_size
    k = kh * kw * c // layer.groups + 1
    per_image = oh * ow * layer.groups * (k + k % 2)
    assert _im2col_columns(kwargs, sample.shape, per_image=True) == per_image
    assert _im2col_columns(kwargs, sample.shape, per_image=False) == n * per_image
    # kept whole (below IM2COL_KEEP): one band, measured 0 by the chunk thresholds
    banded = n * per_image >= IM2COL_KEEP
    assert _im2col_banded(kwargs, sample.shape, per_image=True) == banded * per_image
    assert _im2col_banded(kwargs, sample.shape, per_image=False) == banded * n * per_image
    plan = _Im2colPlan.of(layer, sample.shape)
    assert plan.keeps_columns is not banded
    if not banded:
        assert (plan.images, plan.rows) == (max(n, 1), oh) or n == 0
    elif per_image <= IM2COL_CHUNK:  # the most whole images that fit a chunk
        assert plan.rows == oh and plan.images * per_image <= IM2COL_CHUNK
        assert plan.images == n or (plan.images + 1) * per_image > IM2COL_CHUNK
    else:  # one image, the most output rows that fit (one at least)
        per_row = per_image // oh
        assert plan.images == 1 and 1 <= plan.rows < oh
        assert plan.rows == 1 or plan.rows * per_row <= IM2COL_CHUNK
        assert (plan.rows + 1) * per_row > IM2COL_CHUNK
    with pytest.raises(ValueError):
        _winograd_geometry(kwargs, sample.shape)
    if layer.groups != 1:
        with pytest.raises(ValueError):
            _dcols_geometry(kwargs, sample.shape)
        return
    kp = k + k % 2
    assert _dcols_geometry(kwargs, sample.shape) == (
        kp, co, plan.images * plan.rows * ow)
    if _dcols_by_chunks(kp, co, np.dtype(np.float32)):
        assert _dcols_chunk_elements(kwargs, sample.shape) == (
            plan.images * plan.rows * ow * -(-kp // 16) * 16)
    else:
        with pytest.raises(ValueError):
            _dcols_chunk_elements(kwargs, sample.shape)


@pytest.mark.parametrize(("shape", "kwargs", "applies"), [
    ((64, 32, 32, 3), {"stride": 2, "padding": 1}, True),  # the benchmark's: 16 = OW
    ((2, 7, 7, 3), {"stride": 2}, False),  # "valid": 4 even columns, OW = 3
    ((2, 9, 9, 3), {"padding": 1}, True),  # stride 1: W = OW
    ((2, 1, 5, 3), {"kernel_size": 1, "stride": 2}, True),  # an empty row phase
    ((2, 5, 10, 3), {"kernel_size": (3, 5), "stride": (1, 3), "padding": 1}, False),
    ((3, 60, 60, 32), {"stride": 2, "padding": 1}, False),  # bands of output rows
], ids=str)
def test_conv2d_col2im_takes_the_phase_grid_where_a_grid_row_holds_each_phase(shape, kwargs,
                                                                              applies):
    """The phase grid gives the same dx as the column-phase layout (the registry checks
    both against torch), so only this test sees a rule that never, or too often, takes it:
    it applies to bands of whole images where no column phase holds more than OW input
    columns. Its buffer has the data's dtype."""
    kwargs = {"kernel_size": 3, **kwargs}
    layer = Conv2D(shape[3], 2, **kwargs)
    plan = _Im2colPlan.of(layer, shape)
    grid = _PhaseGrid.of(plan)
    assert (grid is not None) is applies
    if grid is not None:
        assert grid.buffer(plan, np.dtype(np.float32)).dtype == np.float32


@pytest.mark.parametrize(("kp", "c_out", "dtype", "chunks"), [
    (28, 64, np.float32, True), (32, 128, np.float32, True), (10, 64, np.float32, True),
    (34, 64, np.float32, False), (28, 62, np.float32, False), (28, 64, np.float64, False),
], ids=str)
def test_conv2d_narrow_dcols_go_by_transposed_chunks(kp, c_out, dtype, chunks):
    """Both routes of dcols give the same values (the registry checks both against torch),
    so only this test sees a rule that takes the chunks too rarely or too often: float32,
    Kp below DCOLS_WIDE = 33 and at least DCOLS_OUTPUTS = 64 outputs."""
    assert _dcols_by_chunks(kp, c_out, np.dtype(dtype)) is chunks


def _assert_winograd_plan_fits_its_band(kwargs: dict[str, Any], shape: tuple[int, ...],
                                        pads: tuple[int, int, int, int], co: int) -> None:
    """The band rule names one rule, whose measure alone applies; the plan's groups of
    images and bands of tile rows hold whole numbers of each and about one band of tiles:
    at most 1.5 bands (or one tile row), at least half a band unless the whole batch fits."""
    n, th, tw, _ = _winograd_geometry(kwargs, shape)
    tiles, rule = _winograd_band_rule(kwargs["in_channels"], co)
    assert isinstance(tiles, int) and tiles >= 1
    for other in ("elements", "work", "cap"):
        if other == rule:
            assert _winograd_bands(kwargs, shape, other) >= 0
        else:
            with pytest.raises(ValueError):
                _winograd_bands(kwargs, shape, other)
    _, _, plan_th, plan_tw, group, band = _winograd_plan(shape, pads, co)
    assert (plan_th, plan_tw) == (th, tw)
    assert 1 <= group <= max(n, 1) and 1 <= band <= max(th, 1)  # an empty batch: one group
    planned = group * band * tw
    assert planned <= max(1.5 * tiles, tw), (group, band, tiles)
    assert (group >= n and band == th) or planned >= tiles / 2, (group, band, tiles)


@pytest.mark.parametrize(("kernel", "shape"), [
    (1, (1, 513, 513, 1)), (1, (5, 65536, 1, 1)), (3, (97, 1, 1024, 1))], ids=str)
def test_conv2d_large_one_channel_inputs_have_whole_band_sizes(kernel, shape):
    """One channel in and out: a 1x1 kernel has two im2col columns per position, so the
    bands of these 263K- and 328K-pixel inputs are many output rows of one image or several
    whole images (IM2COL_CHUNK = 128K columns); a 3x3 kernel on 97 rows of 1024 takes
    Winograd in image groups of 48 (24,576 tiles per band: WINOGRAD_BAND_MAX, 512 per tile
    row). The band and group sizes must stay whole numbers. Too large for the registry
    (its loop path runs one einsum per output position, and a sum of 99K float32 products
    leaves the gradient guards too little room)."""
    entry = CONV
    rng = np.random.default_rng(5)
    built = _float64_case(entry, {"in_channels": 1, "out_channels": 1, "kernel_size": kernel,
                                  "padding": kernel // 2}, "vectorized", rng, shape)
    ours, theirs = _both_sides(entry, built, rng.standard_normal(shape))
    for name, expected in theirs.tensors.items():
        np.testing.assert_allclose(ours.tensors[name], expected, rtol=1e-10, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("sample", [s for s in CONV.samples if s.kwargs.get("padding") == "same"
                                    and s.kwargs.get("stride", 1) != 1],
                         ids=lambda sample: sample.name)
def test_conv2d_same_padding_at_a_stride_is_the_seeds_symmetric_rule(sample):
    """torch refuses padding="same" at a stride, so its reference is given the layer's own
    padding and no parity check can see a wrong one: ⌊d·(k − 1)/2⌋ on both sides."""
    layer = Conv2D(**sample.kwargs)
    (kh, kw), (dh, dw) = layer.kernel_size, layer.dilation
    ph, pw = dh * (kh - 1) // 2, dw * (kw - 1) // 2
    assert layer.pads == (ph, ph, pw, pw)


@pytest.mark.parametrize(("shape", "kwargs", "rows_first"), [
    ((1, 6, 8, 1), {"kernel_size": 2}, True),  # OH != OW
    ((1, 9, 9, 1), {"kernel_size": 2, "stride": (1, 2)}, True),
    ((1, 7, 9, 1), {"kernel_size": 2}, True),  # a last row and column in no window
    ((1, 6, 6, 1), {"kernel_size": 2, "padding": 1}, False),  # padded cells
    ((1, 6, 6, 1), {"kernel_size": 3, "stride": 2}, False),
    ((1, 6, 6, 1), {"kernel_size": 2, "stride": (2, 1)}, False),
    ((1, 8, 8, 1), {"kernel_size": 2, "dilation": (1, 2)}, False),
    ((1, 6, 6, 1), {"kernel_size": 2, "return_indices": True}, False),
])
def test_max_pool_reduces_rows_first_exactly_for_paired_2x2_windows(shape, kwargs, rows_first):
    """Which order the vectorized max pooling takes (the cache's last field): the results
    are the same either way (the registry checks both against torch), so only this test
    sees a rule that never, or too often, picks max_pairs_rows_first."""
    layer = MaxPool2d(**kwargs)
    layer.forward(np.random.default_rng(0).standard_normal(shape))
    assert layer._cache[-1] is rows_first


@pytest.mark.parametrize(("shape", "kwargs"), [
    ((2, 7, 7, 3), {"stride": 2}),
    ((3, 2, 5, 3), {"stride": 2, "padding": 1}),  # more images than rows
    ((2, 5, 6, 3), {"padding": 1, "padding_mode": "reflect", "stride": 2}),
    ((16, 64, 64, 3), {"stride": 2, "padding": 1}),  # 458,752 column elements: kept
    ((20, 64, 64, 3), {"stride": 2, "padding": 1}),  # 573,440: rebuilt from x
])
def test_conv2d_keeps_its_columns_exactly_below_im2col_keep(shape, kwargs):
    """What the im2col forward caches (the first field): its whole column matrix below
    IM2COL_KEEP elements, x at or above it. Results agree either way, so only this test
    sees a rule that keeps an unbounded matrix (or never keeps one)."""
    layer = Conv2D(shape[3], 4, 3, **kwargs)
    layer.forward(np.zeros(shape, np.float32))
    kernel_kwargs = {"in_channels": shape[3], "out_channels": 4, "kernel_size": 3, **kwargs}
    keeps = _im2col_columns(kernel_kwargs, shape, per_image=False) < IM2COL_KEEP
    assert layer._cache[0] == ("im2col-columns" if keeps else "im2col")
    if keeps:
        assert layer._cache[1].size == _im2col_columns(kernel_kwargs, shape, per_image=False)


@pytest.mark.parametrize("make", [
    lambda: (Softmax(-1), (4, 300)), lambda: (LogSoftmax(-1), (4, 300)),
    lambda: (MaxPool2d(2), (2, 6, 6, 3)), lambda: (AvgPool2d(3, stride=1), (2, 6, 6, 3)),
    lambda: (SEBlock(16, 4, rng=0), (2, 8, 8, 16)), lambda: (GlobalAvgPool2D(), (2, 8, 8, 16)),
], ids=["softmax", "log_softmax", "max_pool", "avg_pool", "se_block", "global_avg_pool"])
def test_layers_leave_numpys_ufunc_buffer_as_they_found_it(make):
    """The layers set NumPy's ufunc buffer around some passes (numpy_impl.buffering): a
    speed setting that changes no result, so no parity check sees one that leaks out."""
    layer, shape = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    old = np.setbufsize(4096)
    try:
        y = layer.forward(x)
        assert np.getbufsize() == 4096
        layer.backward(np.ones_like(y))
        assert np.getbufsize() == 4096
    finally:
        np.setbufsize(old)


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (2, 1, 1, 2049), (1, 3, 5, 2100), (2, 4, 4, 1)])
def test_wide_image_views_match_the_plain_broadcast(shape):
    """per_image_channel and image_channel_dots on any shape (an odd H·W, more channels
    than one wide run holds): the plain broadcast's values; a non-contiguous out refused
    rather than written through a copy."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    v = rng.standard_normal((shape[0], shape[3]))
    out = per_image_channel(np.multiply, a, v, np.empty(shape))
    np.testing.assert_array_equal(out, a * v[:, None, None, :])
    np.testing.assert_allclose(image_channel_dots(a, b), (a * b).sum(axis=(1, 2)), rtol=1e-12)
    with pytest.raises(ValueError, match="C-contiguous"):
        per_image_channel(np.add, a, v, np.empty(shape[::-1]).T)
