"""Block-level checks the generic registry tests cannot express.

- BatchNorm1d/2d/3d: running statistics after several training steps, then an eval pass, on
  both sides; train and eval really differ (on both sides); the unbiased ``running_var``
  update next to the biased normalization; torch's cumulative ``momentum=None`` and its
  ``num_batches_tracked``, ``track_running_stats=False`` in eval, an empty batch, and float32
  statistics with mean/std ~ 100 against the float64 truth (more accurate than torch's).
- SEBlock / SEResNetBlock: every parameter and buffer name maps onto the seed module's, all
  of them; the squeeze path carries a real part of the input gradient; train/eval switching
  through the whole block (and the reference's oneDNN switch is restored after each step,
  see :func:`torch_ref.base.nhwc_without_onednn`).

Upstream gradients are random, never ``.sum()`` (a training-mode batch norm's gradient of
``.sum()`` is zero).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from numpy_impl.blocks import SEBlock, SEResNetBlock
from numpy_impl.buffering import per_image_channel
from numpy_impl.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _channels, _elements
from parity_tests import compare
from parity_tests.engine import spread_constant_params
from parity_tests.entries.blocks import shut_first_gate
from parity_tests.registry import BY_NAME
from parity_tests.seeding import case_rng, seed_from_env
from parity_tests.tolerances import GRADIENT_GUARD, PARITY, parity_tolerance
from torch_ref import blocks as ref_blocks
from torch_ref import normalization as ref_norm
from torch_ref.base import layouts_of

SEED = seed_from_env()
#: The entries' per-dtype tolerance overrides (see parity_tests/entries/blocks.py).
BN_TOLERANCES = dict(BY_NAME["batch_norm2d"].tolerances)
RESNET_TOLERANCES = dict(BY_NAME["se_resnet_block"].tolerances)

DTYPES = [pytest.param(np.dtype(np.float32), id="float32"),
          pytest.param(np.dtype(np.float64), id="float64")]


def column_sums(rows: np.ndarray) -> np.ndarray:
    """Σ over the rows as a GEMV, ones(M) · rows: the former batch-norm statistics' sum."""
    return np.ones(rows.shape[0], dtype=rows.dtype) @ rows


def assert_close(name: str, actual: np.ndarray, expected: np.ndarray, dtype: np.dtype,
                 guard: bool = False, tolerances: dict | None = BN_TOLERANCES) -> None:
    """Within the parity tolerance of ``dtype``, with an entry's overrides (batch norm's by
    default)."""
    __tracebackhide__ = True
    compare.assert_close(name, actual, expected, parity_tolerance(dtype, tolerances), guard)


def differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def assert_differ(a: np.ndarray, b: np.ndarray, at_least: float, why: str) -> None:
    """max |a − b| must exceed ``at_least`` (else ``why`` is the likely bug)."""
    gap = differ(a, b)
    assert gap > at_least, f"{why}: max |difference| {gap:.3e} <= {at_least:.1e}"


def torch_step(reference: object, x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Forward and backward through a torch reference; (y, dx). Parameter gradients are
    reset first: torch accumulates them, the NumPy layers overwrite theirs."""
    for link in reference.params.values():
        link.tensor.grad = None
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y = reference(xt)
    y.backward(torch.from_numpy(dy))
    return y.detach().numpy(), xt.grad.numpy()


def numpy_step(layer: object, x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, ...]:
    y = layer.forward(x)
    return y, layer.backward(dy)


# --------------------------------------------------------------------------- batch norm
def bn_pair(dtype: np.dtype, channels: int = 4, **kwargs: object):
    layer = BatchNorm2d(channels, dtype=dtype, **kwargs)
    rng = case_rng(SEED, f"test_blocks-bn-{dtype}")
    if layer.affine:
        layer.params["weight"][...] = rng.uniform(0.5, 2.0, channels)
        layer.params["bias"][...] = rng.standard_normal(channels)
    reference = ref_norm.batch_norm2d(layer)
    return layer, reference.module, reference, rng


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_running_stats_after_train_steps_then_eval(dtype):
    """Five training steps (forward + backward) on both sides, then eval: the running
    statistics, the eval output and the eval input gradient all match torch, and the
    running statistics have moved far from their initial 0 and 1."""
    layer, module, reference, rng = bn_pair(dtype)
    for step in range(5):
        x = (rng.standard_normal((4, 3, 3, 4)) * 3 + 2).astype(dtype)
        dy = rng.standard_normal(x.shape).astype(dtype)
        y, dx = numpy_step(layer, x, dy)
        y_t, dx_t = torch_step(reference, x, dy)
        assert_close(f"step {step} output", y, y_t, dtype)
        assert_close(f"step {step} input_grad", dx, dx_t, dtype, guard=True)
        for name, link in reference.buffers.items():
            assert_close(f"step {step} {name}", layer.buffers[name], link.value(), dtype)
        # momentum 0.1 keeps no count buffer, yet counts like torch's num_batches_tracked
        assert layer.num_batches_tracked == int(module.num_batches_tracked) == step + 1
    stats = layer.buffers
    assert_differ(stats["running_mean"], 0.0, 0.5, "running_mean barely moved from 0")
    assert_differ(stats["running_var"], 1.0, 1.0, "running_var barely moved from 1")

    layer.eval()
    module.eval()
    before = {name: value.copy() for name, value in layer.buffers.items()}
    x = (rng.standard_normal((2, 3, 3, 4)) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    y, dx = numpy_step(layer, x, dy)
    y_t, dx_t = torch_step(reference, x, dy)
    assert_close("eval output", y, y_t, dtype)
    assert_close("eval input_grad", dx, dx_t, dtype, guard=True)
    assert_close("eval grad[weight]", layer.grads["weight"],
                 reference.params["weight"].grad(), dtype, guard=True)
    for name, value in layer.buffers.items():
        np.testing.assert_array_equal(value, before[name], err_msg=f"eval changed {name}")
        assert_close(f"eval {name}", value, reference.buffers[name].value(), dtype)
    assert layer.num_batches_tracked == int(module.num_batches_tracked) == 5


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_train_and_eval_outputs_differ_on_both_sides(dtype):
    """The same input through train and eval mode: the outputs differ widely on each side
    (so the mode really is applied), and each mode matches the other side's same mode."""
    layer, module, reference, rng = bn_pair(dtype)
    x = (rng.standard_normal((4, 3, 3, 4)) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    outputs = {}
    for mode in ("train", "eval"):
        layer.train(mode == "train")
        module.train(mode == "train")
        outputs[mode] = numpy_step(layer, x, dy)[0], torch_step(reference, x, dy)[0]
        assert_close(f"{mode} output", *outputs[mode], dtype)
    assert_differ(outputs["train"][0], outputs["eval"][0], 0.5, "numpy ignores the mode")
    assert_differ(outputs["train"][1], outputs["eval"][1], 0.5, "torch ignores the mode")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_normalizes_biased_and_tracks_unbiased_variance(dtype):
    """Two values per channel, a and b: the output uses the biased variance ((a−b)/2)²,
    running_var gets 0.9·1 + 0.1·(a−b)²/2 (the unbiased one, twice the biased), as torch."""
    layer, _, reference, _ = bn_pair(dtype, channels=3, affine=False)
    a = np.array([1.0, -2.0, 4.0])
    b = np.array([3.0, 2.0, -4.0])
    x = np.stack([a, b]).reshape(1, 1, 2, 3).astype(dtype)
    biased = ((a - b) / 2) ** 2
    unbiased = (a - b) ** 2 / 2
    y = layer.forward(x)
    y_t = reference(torch.from_numpy(x.copy())).detach().numpy()

    expected_y = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(biased + layer.eps)
    assert_close("output (biased variance)", y, expected_y.astype(dtype), dtype)
    assert_close("output vs torch", y, y_t, dtype)
    running_var = layer.buffers["running_var"]
    assert_close("running_var (unbiased)", running_var,
                 (0.9 + 0.1 * unbiased).astype(dtype), dtype)
    assert_close("running_var vs torch", running_var,
                 reference.buffers["running_var"].value(), dtype)
    assert_differ(running_var, 0.9 + 0.1 * biased, 0.5, "running_var used the biased var")
    assert_close("running_mean", layer.buffers["running_mean"],
                 (0.1 * (a + b) / 2).astype(dtype), dtype)


def test_batch_norm_momentum_extremes():
    """momentum 0 freezes the running statistics; momentum 1 replaces them by the batch's."""
    rng = case_rng(SEED, "test_blocks-momentum")
    x = rng.standard_normal((3, 2, 2, 2)) * 2 + 1
    frozen = BatchNorm2d(2, momentum=0.0, dtype=np.float64)
    frozen.forward(x)
    np.testing.assert_array_equal(frozen.buffers["running_mean"], np.zeros(2))
    np.testing.assert_array_equal(frozen.buffers["running_var"], np.ones(2))
    replaced = BatchNorm2d(2, momentum=1.0, dtype=np.float64)
    replaced.forward(x)
    np.testing.assert_allclose(replaced.buffers["running_mean"], x.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(replaced.buffers["running_var"], x.var(axis=(0, 1, 2), ddof=1))


@pytest.mark.parametrize(("cls", "shape"), [(BatchNorm1d, (8, 3)), (BatchNorm1d, (4, 5, 3)),
                                            (BatchNorm2d, (2, 3, 3, 3)),
                                            (BatchNorm3d, (2, 2, 3, 2, 3))],
                         ids=["1d-NC", "1d-NLC", "2d", "3d"])
def test_batch_norm_cumulative_average_counts_batches_as_torch(cls, shape):
    """momentum=None: the running mean is updated with factor 1/num_batches_tracked (the
    plain average of the batch means, had no batch been empty); the count and the stats
    match torch after 4 steps, an empty batch among them counting but changing nothing (as
    torch's), then eval uses them."""
    dtype = np.dtype(np.float64)
    layer = cls(3, momentum=None, dtype=dtype)
    reference = ref_norm.batch_norm(layer)
    rng = case_rng(SEED, f"test_blocks-cumulative-{cls.__name__}-{len(shape)}")
    means = []
    for step in range(4):
        batch = (0,) + shape[1:] if step == 2 else shape
        x = (rng.standard_normal(batch) * 2 + step).astype(dtype)
        dy = rng.standard_normal(batch).astype(dtype)
        numpy_step(layer, x, dy)
        torch_step(reference, x, dy)
        means.append(x.reshape(-1, 3).mean(axis=0) if x.size else None)
        assert layer.num_batches_tracked == int(reference.module.num_batches_tracked) == step + 1
        for name, link in reference.buffers.items():
            assert_close(f"step {step} {name}", layer.buffers[name], link.value(), dtype)
    expected = np.zeros(3)
    for count, mean in enumerate(means, start=1):
        expected = expected if mean is None else expected + (mean - expected) / count
    np.testing.assert_allclose(layer.buffers["running_mean"], expected, rtol=1e-12)
    layer.eval()
    reference.module.eval()
    x = rng.standard_normal(shape).astype(dtype)
    y, y_t = numpy_step(layer, x, x)[0], torch_step(reference, x, x)[0]
    assert_close("eval output", y, y_t, dtype)
    assert layer.num_batches_tracked == 4


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_without_running_stats_normalizes_with_the_batch_in_eval(dtype):
    layer, module, reference, rng = bn_pair(dtype, track_running_stats=False)
    assert layer.buffers == {} and dict(module.named_buffers()) == {}
    layer.eval()
    module.eval()
    x = (rng.standard_normal((4, 3, 3, 4)) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    y, dx = numpy_step(layer, x, dy)
    y_t, dx_t = torch_step(reference, x, dy)
    assert_close("output", y, y_t, dtype)
    assert_close("input_grad", dx, dx_t, dtype, guard=True)
    np.testing.assert_allclose(y.reshape(-1, 4).mean(axis=0),
                               layer.params["bias"].astype(np.float64), atol=1e-4)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        layer.forward(x[:1, :1, :1])  # batch statistics of one value, eval or not


def test_batch_norm_float32_statistics_keep_their_digits_at_mean_100_std_1():
    """The corrected two-pass statistics at mean/std = 100 over M = 8192 values: the float32
    output is within a few ulps of the float64 result, at least 5x closer than the former
    statistics (Σx/M in float32, then x − mean) and no further than torch's own float32
    kernel (y = x·α + (β − μα)). (dγ sums 8192 products in float32 here, torch in double:
    its error, ~5e-6 relative, is the summation slack of the error model.)"""
    rng = case_rng(SEED, "test_blocks-mean100")
    x32 = (rng.standard_normal((32, 16, 16, 2)) + 100.0).astype(np.float32)
    exact = BatchNorm2d(2, dtype=np.float64).forward(x32.astype(np.float64))
    ours = differ(BatchNorm2d(2, dtype=np.float32).forward(x32), exact)

    rows = x32.reshape(-1, 2)
    mean = column_sums(rows) / np.float32(rows.shape[0])  # the former statistics
    centered = rows - mean
    var = np.einsum("ij,ij->j", centered, centered) / np.float32(rows.shape[0])
    former = differ(centered / np.sqrt(var + np.float32(1e-5)), exact.reshape(-1, 2))

    module = torch.nn.BatchNorm2d(2)
    with torch.no_grad():
        y_t = module(torch.from_numpy(x32).permute(0, 3, 1, 2).contiguous())
    torch_error = differ(y_t.permute(0, 2, 3, 1).numpy(), exact)
    assert ours < 4e-6, ours
    assert 5 * ours < former, (ours, former)
    assert ours < 2 * torch_error, (ours, torch_error)


def _forward_peak(layer: BatchNorm2d, x: np.ndarray) -> tuple[np.ndarray, int]:
    """The output of ``layer.forward(x)`` and the peak of the memory it allocated."""
    tracemalloc.start()
    try:
        y = layer.forward(x)
        return y, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shift", [0.0, 100.0], ids=["unshifted", "mean100"])
def test_batch_norm_training_keeps_its_output_not_a_copy_of_x(shift):
    """With |β| <= |γ| (and without affine parameters) training-mode forward allocates y
    and nothing of x's size besides (the shifted statistics use y's buffer), and keeps y,
    returned read-only; with γ = 1e-3, β = 10 in a channel it keeps c·γ/s, computed in
    the product y's sweep makes anyway (two arrays of x's size, y writable, no copy of x);
    with γ = 0 in a channel, a private copy of x. Memory is counted with tracemalloc
    (NumPy reports its buffers to it), not timed."""
    rng = case_rng(SEED, "test_blocks-keeps-output")
    x = (rng.standard_normal((64, 16, 16, 16)) + shift).astype(np.float32)  # 1 MB
    for affine in (True, False):
        layer = BatchNorm2d(16, affine=affine)
        y, peak = _forward_peak(layer, x)
        kept = layer._cache[0]
        assert np.shares_memory(kept, y) and not y.flags.writeable, affine
        assert peak < 1.6 * x.nbytes, (affine, peak / x.nbytes)  # y and small vectors
        _assert_gives_xhat(layer, x)
    layer = BatchNorm2d(16)
    layer.params["weight"][0], layer.params["bias"][0] = 1e-3, 10.0
    y, peak = _forward_peak(layer, x)
    kept = layer._cache[0]
    assert not np.shares_memory(kept, y) and not np.shares_memory(kept, x)
    assert y.flags.writeable and 2 * x.nbytes <= peak < 2.6 * x.nbytes
    _assert_gives_xhat(layer, x)
    layer.params["weight"][1] = 0.0
    y, peak = _forward_peak(layer, x)
    kept = layer._cache[0]
    assert not np.shares_memory(kept, y) and not np.shares_memory(kept, x)
    assert y.flags.writeable and peak >= 2 * x.nbytes
    _assert_gives_xhat(layer, x)


def _assert_gives_xhat(layer: BatchNorm2d, x: np.ndarray) -> None:
    """The cache's (v, o_b, f) give x̂ = (v − o_b)·f back to a few float32 ulps (one block)."""
    kept, offsets, factor = layer._cache[:3]
    assert offsets.shape[0] == 1
    exact = x.astype(np.float64).reshape(kept.shape)
    exact = (exact - exact.mean(axis=0)) / np.sqrt(exact.var(axis=0) + layer.eps)
    error = np.abs((kept - offsets[0]) * factor - exact)
    assert np.all(error <= 1e-6 * (np.abs(exact) + 1)), error.max()


def test_batch_norm_takes_xhat_from_where_it_is_exact():
    """The edges of ``BatchNorm._xhat_source``: the output needs SMALLEST_GAMMA <= |γ| <
    inf and |β| <= |γ| in every channel, the kept c·γ/s the first only; else the copy."""
    layer = BatchNorm2d(3)
    assert layer._xhat_source() == "output"
    # where c·γ/s and (y − β)/γ hold nothing of x̂: 1/γ = 0 (inf), NaN, γ below
    # SMALLEST_GAMMA (γ·x̂ subnormal or zero)
    for gamma in (np.inf, -np.inf, np.nan, 2.0 ** -25, 0.0, -0.0):
        layer.params["weight"][0], layer.params["bias"][0] = gamma, 0.0
        assert layer._xhat_source() == "copy", gamma
    for gamma in (2.0 ** -24, -(2.0 ** -24)):
        layer.params["weight"][0] = gamma
        assert layer._xhat_source() == "output", gamma
        layer.params["bias"][0] = 2.0 ** -23
        assert layer._xhat_source() == "scaled", gamma
        layer.params["bias"][0] = 0.0
    layer.params["weight"][0], layer.params["bias"][0] = -0.5, 0.5  # |β| = |γ|: still
    assert layer._xhat_source() == "output"
    layer.params["bias"][0] = np.nextafter(np.float32(0.5), np.float32(1))
    assert layer._xhat_source() == "scaled"
    layer.params["weight"][2] = np.float32(2.0 ** -25)  # another channel's γ decides
    assert layer._xhat_source() == "copy"
    assert BatchNorm2d(3, affine=False)._xhat_source() == "output"
    nobias = BatchNorm2d(3, bias=False)
    nobias.params["weight"][...] = 1e-3
    assert nobias._xhat_source() == "output"


@pytest.mark.parametrize("layer", ["batch_norm1d", "batch_norm2d", "batch_norm3d"])
def test_batch_norm_threshold_measures_count_what_the_sweeps_work_on(layer):
    """test_thresholds.py trusts these measures to say which side of BLOCK_ELEMENTS and
    WIDE_ELEMENTS a sample lies on: every value of the input, and its channels (last axis)."""
    for sample in BY_NAME[layer].samples:
        kwargs = dict(sample.kwargs)
        assert _elements(kwargs, sample.shape) == int(np.prod(sample.shape)), sample.name
        assert _channels(kwargs, sample.shape) == kwargs["num_features"], sample.name


# --------------------------------------------------------------------------- SE blocks
BN = ["weight", "bias"]
SE_NAMES = ["se.fc1.weight", "se.fc2.weight"]
MAIN_NAMES = (["conv1.weight"] + [f"bn1.{n}" for n in BN] + ["conv2.weight"]
              + [f"bn2.{n}" for n in BN] + SE_NAMES)
PROJECTION_NAMES = ["shortcut.conv.weight"] + [f"shortcut.bn.{n}" for n in BN]
STATS = ["running_mean", "running_var"]


def block_buffers(prefixes: list[str]) -> list[str]:
    return [f"{p}.{s}" for p in prefixes for s in STATS]


NAME_CASES = [
    pytest.param(lambda: SEBlock(16, 4, rng=0), ref_blocks.se_block_module,
                 ["fc1.weight", "fc2.weight"], [], id="se_block"),
    pytest.param(lambda: SEResNetBlock(8, 8, reduction=2, rng=0),
                 ref_blocks.se_resnet_block_module, MAIN_NAMES, block_buffers(["bn1", "bn2"]),
                 id="se_resnet-identity"),
    pytest.param(lambda: SEResNetBlock(8, 8, stride=2, reduction=2, rng=0),
                 ref_blocks.se_resnet_block_module, MAIN_NAMES + PROJECTION_NAMES,
                 block_buffers(["bn1", "bn2", "shortcut.bn"]), id="se_resnet-stride2"),
    pytest.param(lambda: SEResNetBlock(4, 8, reduction=2, rng=0),
                 ref_blocks.se_resnet_block_module, MAIN_NAMES + PROJECTION_NAMES,
                 block_buffers(["bn1", "bn2", "shortcut.bn"]), id="se_resnet-widen"),
]


@pytest.mark.parametrize(("make", "make_module", "params", "buffers"), NAME_CASES)
def test_names_map_onto_the_seed_module(make, make_module, params, buffers):
    """The NumPy block has exactly the readable names expected, and mapped through
    ``torch_name`` they are the seed module's ``named_parameters()`` / ``named_buffers()``
    (``num_batches_tracked`` aside), all of them, in the same order, with the same shapes
    once the layout is converted."""
    layer = make()
    module = make_module(layer)
    assert list(layer.params) == params
    assert list(layer.buffers) == buffers
    torch_params = dict(module.named_parameters())
    torch_buffers = {n: b for n, b in module.named_buffers()
                     if not n.endswith("num_batches_tracked")}
    assert [ref_blocks.torch_name(n) for n in layer.params] == list(torch_params)
    assert [ref_blocks.torch_name(n) for n in layer.buffers] == list(torch_buffers)
    layouts = layouts_of(layer)
    torch_tensors = {**torch_params, **torch_buffers}
    for name, array in {**layer.params, **layer.buffers}.items():
        converted = torch.from_numpy(array)
        if name in layouts:
            converted = layouts[name].to_torch(converted)
        target = torch_tensors[ref_blocks.torch_name(name)]
        assert tuple(converted.shape) == tuple(target.shape), name


SE_CHILDREN = [("squeeze", "GlobalAvgPool2D"), ("fc1", "Linear"), ("relu", "ReLU"),
               ("fc2", "Linear"), ("sigmoid", "Sigmoid")]
RESNET_CHILDREN = [("conv1", "Conv2D"), ("bn1", "BatchNorm2d"), ("relu1", "ReLU"),
                   ("conv2", "Conv2D"), ("bn2", "BatchNorm2d"), ("se", "SEBlock"),
                   *[(f"se.{name}", kind) for name, kind in SE_CHILDREN]]


@pytest.mark.parametrize(("block", "children"), [
    pytest.param(lambda: SEBlock(8, 2), SE_CHILDREN, id="se_block"),
    pytest.param(lambda: SEResNetBlock(8, 8, 1, 1), RESNET_CHILDREN + [
        ("shortcut", "Identity"), ("relu", "ReLU")], id="se_resnet-identity"),
    pytest.param(lambda: SEResNetBlock(4, 8, 2, 1), RESNET_CHILDREN + [
        ("shortcut", "Projection"), ("shortcut.conv", "Conv2D"), ("shortcut.bn", "BatchNorm2d"),
        ("relu", "ReLU")], id="se_resnet-projection"),
])
def test_every_child_has_its_documented_name(block, children):
    """The children the docstrings name, parameterless ones too (their names appear only in
    ``named_layers()``, which train()/eval() walk; no parameter or buffer carries them)."""
    tree = [(name, type(layer).__name__) for name, layer in block().named_layers()]
    assert tree == [("", tree[0][1]), *children]


@pytest.mark.parametrize("dtype", DTYPES)
def test_se_squeeze_path_carries_a_real_part_of_the_input_gradient(dtype):
    """dx = dy·s (scale path) + the squeeze path's term. The squeeze term must be far above
    the tolerance, so that the parity tests would notice it missing, and the sum must match
    torch."""
    # reduction 1 and 4 images: 32 bottleneck ReLU inputs, so the bottleneck (and with it the
    # squeeze path) is never dead for a whole batch, whatever PARITY_SEED is.
    layer = SEBlock(8, reduction=1, dtype=dtype, rng=case_rng(SEED, "test_blocks-se"))
    rng = case_rng(SEED, f"test_blocks-se-{dtype}")
    x = rng.standard_normal((4, 4, 4, 8)).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    y, dx = numpy_step(layer, x, dy)
    _, dx_t = torch_step(ref_blocks.se_block(layer), x, dy)
    scale = y / x  # s broadcast over H, W (x has no zeros here)
    floor = GRADIENT_GUARD * PARITY[dtype].atol
    assert_differ(dx_t, dy * scale, floor, "torch: no squeeze-path term in dx")
    assert_differ(dx, dy * scale, floor,
                  "numpy: the squeeze path adds nothing to dx; is its gradient dropped?")
    assert_close("input_grad", dx, dx_t, dtype, guard=True, tolerances=None)  # se_block: none


def test_se_block_keeps_its_output_unless_a_gate_is_shut():
    """SEBlock keeps y (returned read-only; backward divides Σ dy ⊙ y by s), not a copy of
    x; with a gate below SEBlock.SMALLEST_SCALE (the shut-gate sample's setup) it keeps a
    private copy of x and y stays writable."""
    rng = case_rng(SEED, "test_blocks-se-keeps")
    layer = SEBlock(16, 4, rng=rng)
    x = rng.standard_normal((4, 3, 3, 16)).astype(np.float32)
    y = layer.forward(x)
    assert np.shares_memory(layer._cache[0], y) and not y.flags.writeable
    shut_first_gate(layer, rng)
    x = (0.5 + 0.25 * rng.standard_normal((4, 3, 3, 16))).astype(np.float32)
    y = layer.forward(x)
    kept = layer._cache[0]
    assert not np.shares_memory(kept, y) and not np.shares_memory(kept, x)
    assert y.flags.writeable and np.array_equal(kept, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_se_resnet_train_steps_then_eval(dtype):
    """Three training steps (forward + backward, projection shortcut so three batch norms)
    on both sides: every output, input gradient, parameter gradient and running statistic
    matches after each. Then eval on both sides: the same input gives an output clearly
    different from the train-mode one (the mode reaches every batch norm), matching torch,
    and the running statistics stay put."""
    layer = SEResNetBlock(4, 8, stride=2, reduction=1, dtype=dtype,
                          rng=case_rng(SEED, "test_blocks-resnet"))
    rng = case_rng(SEED, f"test_blocks-resnet-{dtype}")
    spread_constant_params(layer, rng)  # BN γ = 1, β = 0 would hide swapped parameters
    reference = ref_blocks.se_resnet_block(layer)
    module = reference.module
    onednn = torch.backends.mkldnn.enabled
    tolerances = RESNET_TOLERANCES

    def both(x: np.ndarray, dy: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        y, dx = numpy_step(layer, x, dy)
        y_t, dx_t = torch_step(reference, x, dy)
        assert_close(f"{what} output", y, y_t, dtype, tolerances=tolerances)
        assert_close(f"{what} input_grad", dx, dx_t, dtype, guard=True,
                     tolerances=tolerances)
        for name, link in reference.params.items():
            assert_close(f"{what} grad[{name}]", layer.grads[name], link.grad(), dtype,
                         guard=True, tolerances=tolerances)
        for name, link in reference.buffers.items():
            assert_close(f"{what} {name}", layer.buffers[name], link.value(), dtype,
                         tolerances=tolerances)
        assert torch.backends.mkldnn.enabled == onednn, "the reference left oneDNN switched"
        return y, y_t

    for step in range(3):
        x = (rng.standard_normal((2, 6, 6, 4)) * 2 + 1).astype(dtype)
        y_train, y_train_t = both(x, rng.standard_normal((2, 3, 3, 8)).astype(dtype),
                                  f"step {step}")
    frozen = {name: value.copy() for name, value in layer.buffers.items()}

    layer.eval()
    module.eval()
    assert not any(sub.training for _, sub in layer.named_layers())
    y_eval, y_eval_t = both(x, rng.standard_normal((2, 3, 3, 8)).astype(dtype), "eval")
    assert_differ(y_train, y_eval, 0.1, "numpy: eval output equals train output")
    assert_differ(y_train_t, y_eval_t, 0.1, "torch: eval output equals train output")
    for name, value in layer.buffers.items():
        np.testing.assert_array_equal(value, frozen[name], err_msg=f"eval changed {name}")


def test_per_image_channel_is_the_plain_broadcast_and_refuses_views_it_would_copy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    v = rng.standard_normal((2, 5)).astype(np.float32)
    out = np.empty_like(a)
    per_image_channel(np.multiply, a, v, out)
    np.testing.assert_array_equal(out, a * v[:, None, None, :])
    message = r"^per_image_channel: a and out must be C-contiguous$"
    with pytest.raises(ValueError, match=message):  # a strided input
        per_image_channel(np.multiply, a[:, :, ::2], v, out[:, :, :2])
    with pytest.raises(ValueError, match=message):  # a strided output: writes would be lost
        per_image_channel(np.multiply, a[:, :, :2].copy(), v, out[:, :, ::2])
