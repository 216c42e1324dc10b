"""Registry entries for the block family: BatchNorm2d, SEBlock, SEResNetBlock (NHWC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numpy_impl.blocks import SEBlock, SEResNetBlock
from numpy_impl.normalization import BatchNorm2d
from parity_tests.pairing import ErrorInput, PairInfo, Sample, common_layer_errors, normal, zeros
from parity_tests.tolerances import Tolerance
from torch_ref import blocks as ref_blocks
from torch_ref import normalization as ref_norm


def randomize_running_stats(layer: Any, rng: np.random.Generator) -> None:
    """Give every batch norm of ``layer`` non-trivial running statistics (mean N(0, 0.5²),
    variance U(0.5, 2)), in place. The torch reference copies buffers from the NumPy layer,
    so both sides start from them; an eval pass that normalized with the batch statistics
    (or with mean 0, variance 1) instead could then not pass. (Wider spreads give every
    image in an SE-ResNet batch the same large channel offsets, which can leave the SE
    bottleneck ReLU dead for the whole batch and its gradients exactly 0.)"""
    for name, buffer in layer.buffers.items():
        if name.endswith("running_mean"):
            buffer[...] = rng.standard_normal(buffer.shape) * 0.5
        elif name.endswith("running_var"):
            buffer[...] = rng.uniform(0.5, 2.0, buffer.shape)


def with_running_stats(factory: Callable[..., Any]) -> Callable[..., Any]:
    """``factory`` plus a ``running_stats`` keyword: ``"fresh"`` (0 and 1, as constructed) or
    ``"random"`` (see :func:`randomize_running_stats`, drawn from the case's ``rng``)."""

    def build(running_stats: str = "fresh", **kwargs: Any) -> Any:
        if running_stats not in ("fresh", "random"):
            raise ValueError(f"running_stats must be 'fresh' or 'random', got {running_stats!r}")
        layer = factory(**kwargs)
        if running_stats == "random":
            randomize_running_stats(layer, kwargs["rng"])
        return layer

    build.__doc__ = factory.__doc__
    return build


# --------------------------------------------------------------------------- batch norm
def make_batch_norm2d(
    rng: np.random.Generator | None = None, **kwargs: Any
) -> BatchNorm2d:
    """BatchNorm2d takes no ``rng`` (its init is deterministic); the harness passes one."""
    return BatchNorm2d(**kwargs)


def bn3() -> BatchNorm2d:
    return BatchNorm2d(3)


BN_SAMPLES = (
    Sample("train-b4h5w5c3", (4, 5, 5, 3), {"num_features": 3}),
    Sample("train-steps4-b8h4w4c6", (8, 4, 4, 6), {"num_features": 6},
           make_input=normal(2.0, 1.5), steps=4,
           note="running statistics compared after 4 updates from inputs N(1.5, 4)"),
    Sample("train-steps3-m0.5-eps1e-3", (4, 3, 3, 5),
           {"num_features": 5, "momentum": 0.5, "eps": 1e-3}, steps=3,
           make_input=normal(3.0, -1.0), note="non-default momentum and eps"),
    Sample("eval-random-stats-b4h5w5c3", (4, 5, 5, 3),
           {"num_features": 3, "running_stats": "random"}, make_input=normal(2.0, 1.0),
           training=False,
           note="running stats N(0,0.25)/U(0.5,2), inputs N(1,4): normalizing with the batch "
           "statistics or with 0/1 would fail"),
    Sample("noaffine-train-b4h4w4c3", (4, 4, 4, 3), {"num_features": 3, "affine": False},
           steps=2),
    Sample("noaffine-eval-random-stats", (4, 4, 4, 3),
           {"num_features": 3, "affine": False, "running_stats": "random"}, training=False),
    Sample("train-b1h3w4c2", (1, 3, 4, 2), {"num_features": 2}, steps=2,
           note="a single image: statistics over H·W = 12 values"),
    Sample("train-b6h1w1c4", (6, 1, 1, 4), {"num_features": 4}, steps=2,
           note="1x1 maps: statistics over the batch only"),
    Sample("train-b3h1w1c3", (3, 1, 1, 3), {"num_features": 3}, steps=2,
           note="three values per channel: unbiased factor M/(M-1) = 1.5 (with M = 2 the "
           "input gradient is ~0, see test_blocks for that case)"),
    Sample("eval-b1h1w1c3", (1, 1, 1, 3), {"num_features": 3, "running_stats": "random"},
           training=False, note="one value per channel is fine in eval mode"),
)

BN_ERRORS = common_layer_errors(bn3, zeros(2, 4, 4, 3)) + (
    ErrorInput("wrong-rank-2d", lambda: bn3().forward(zeros(4, 3)), ValueError,
               r"x must have 4 dimensions \(batch, height, width, channels\), got 2"),
    ErrorInput("wrong-rank-5d", lambda: bn3().forward(zeros(2, 2, 2, 2, 3)), ValueError,
               r"x must have 4 dimensions .*got 5"),
    ErrorInput("channel-mismatch", lambda: bn3().forward(zeros(2, 4, 4, 5)), ValueError,
               r"x has 5 channels \(num_features\) on axis 3 .*expected 3"),
    ErrorInput("nchw-input", lambda: bn3().forward(zeros(2, 3, 4, 4)), ValueError,
               r"x has 4 channels \(num_features\) on axis 3 \(shape \(2, 3, 4, 4\)\)"),
    ErrorInput("float64-into-float32", lambda: bn3().forward(zeros(2, 4, 4, 3,
               dtype=np.float64)), TypeError,
               r"x has dtype float64 but the layer computes in float32"),
    ErrorInput("one-value-per-channel-training", lambda: bn3().forward(zeros(1, 1, 1, 3)),
               ValueError, r"Expected more than 1 value per channel when training"),
    ErrorInput("eps-zero", lambda: BatchNorm2d(3, eps=0.0), ValueError,
               r"eps must be > 0, got 0"),
    ErrorInput("eps-negative", lambda: BatchNorm2d(3, eps=-1e-5), ValueError,
               r"eps must be > 0, got -1e-05"),
    ErrorInput("momentum-negative", lambda: BatchNorm2d(3, momentum=-0.1), ValueError,
               r"momentum must lie in \[0, 1\], got -0.1"),
    ErrorInput("momentum-above-one", lambda: BatchNorm2d(3, momentum=1.5), ValueError,
               r"momentum must lie in \[0, 1\], got 1.5"),
    ErrorInput("momentum-none", lambda: BatchNorm2d(3, momentum=None), TypeError,
               r"momentum must be a real number, got NoneType"),
    ErrorInput("num-features-zero", lambda: BatchNorm2d(0), ValueError,
               r"num_features must be >= 1, got 0"),
    ErrorInput("num-features-float", lambda: BatchNorm2d(2.0), TypeError,
               r"num_features must be an int, got float"),
    ErrorInput("int-dtype", lambda: BatchNorm2d(3, dtype=np.int32), TypeError,
               r"dtype must be float32 or float64, got int32"),
)

#: float32 only, atol only. dγ = Σ dy·x̂ sums M = N·H·W (≤ 128) terms per channel; in eval
#: mode with shifted inputs |x̂| reaches ~7, so Σ|dy·x̂| is ~100× the result and float32
#: rounding in a different summation order than torch's reaches ~1.1e-5 absolute (headroom
#: up to 0.94 against the default over PARITY_SEED 0..249; 0.37 against this).
BN_FLOAT32 = Tolerance(
    rtol=1.3e-6, atol=3e-5,
    reason="per-channel float32 sums over N·H·W values with cancellation (dγ = Σ dy·x̂)",
)

BATCH_NORM = (
    PairInfo(
        name="batch_norm2d",
        numpy_factory=with_running_stats(make_batch_norm2d),
        torch_factory=ref_norm.batch_norm2d,
        samples=BN_SAMPLES,
        error_inputs=BN_ERRORS,
        has_params=True,
        tolerances={np.dtype(np.float32): BN_FLOAT32},
        description="batch norm over (N, H, W) of NHWC input; running stats, train and eval",
    ),
)


# --------------------------------------------------------------------------- SE block
def se16() -> SEBlock:
    return SEBlock(16, reduction=4, rng=0)


# The SE bottleneck is a ReLU over N·(C//r) values: if all of them are negative, both fc
# gradients are exactly 0 and the gradient guard (rightly) fails the case. Inputs are
# zero-mean (a shared offset makes the samples' signs agree) and N·(C//r) >= 12, so a dead
# bottleneck has odds of about 2^-12 per case whatever PARITY_SEED is.
SE_SAMPLES = (
    Sample("b4h5w5c16-r4", (4, 5, 5, 16), {"channels": 16, "reduction": 4}),
    Sample("b8h3w3c32-r16", (8, 3, 3, 32), {"channels": 32, "reduction": 16},
           note="the seed's default reduction: bottleneck of 2"),
    Sample("b4h4w4c8-r2-scaled", (4, 4, 4, 8), {"channels": 8, "reduction": 2},
           make_input=normal(3.0)),
    Sample("b16h1w1c16-r16", (16, 1, 1, 16), {"channels": 16, "reduction": 16},
           note="1x1 maps and a bottleneck of 1"),
    Sample("b1h7w5c12-r1", (1, 7, 5, 12), {"channels": 12, "reduction": 1},
           note="one image, non-square map, C not a power of 2, no reduction"),
)

SE_ERRORS = common_layer_errors(se16, zeros(2, 3, 3, 16)) + (
    ErrorInput("channels-below-reduction", lambda: SEBlock(8, reduction=16), ValueError,
               r"SEBlock: channels // reduction must be >= 1 .*got 8 // 16 = 0"),
    ErrorInput("reduction-zero", lambda: SEBlock(8, reduction=0), ValueError,
               r"reduction must be >= 1, got 0"),
    ErrorInput("channels-zero", lambda: SEBlock(0, reduction=1), ValueError,
               r"channels must be >= 1, got 0"),
    ErrorInput("wrong-rank-2d", lambda: se16().forward(zeros(2, 16)), ValueError,
               r"x must have 4 dimensions \(batch, height, width, channels\), got 2"),
    ErrorInput("channel-mismatch", lambda: se16().forward(zeros(2, 3, 3, 8)), ValueError,
               r"x has 8 channels on axis 3 .*expected 16"),
    ErrorInput("float64-into-float32", lambda: se16().forward(zeros(2, 3, 3, 16,
               dtype=np.float64)), TypeError,
               r"x has dtype float64 but the layer computes in float32"),
)

SE_BLOCK = (
    PairInfo(
        name="se_block",
        numpy_factory=SEBlock,
        torch_factory=ref_blocks.se_block,
        samples=SE_SAMPLES,
        error_inputs=SE_ERRORS,
        has_params=True,
        description="squeeze-and-excitation (seed 003): GAP, FC-ReLU-FC-sigmoid, x * s",
    ),
)


# --------------------------------------------------------------------------- SE-ResNet block
def block4() -> SEResNetBlock:
    return SEResNetBlock(4, 4, reduction=2, rng=0)


# Tiny sizes: the conv loop path runs too, and the float64 finite-difference check probes
# up to 96 coordinates of every tensor with two block forwards each. reduction=1 keeps the
# SE bottleneck wide (N·C = 16 ReLU inputs), see SE_SAMPLES: in eval mode the running
# statistics give every image's channel means a shared offset, which makes a narrow
# bottleneck die for whole batches.
RESNET_SAMPLES = (
    Sample("identity-train-b2h5w5c8", (2, 5, 5, 8),
           {"in_channels": 8, "out_channels": 8, "reduction": 1},
           note="identity shortcut"),
    Sample("stride2-train-b2h6w6c8", (2, 6, 6, 8),
           {"in_channels": 8, "out_channels": 8, "stride": 2, "reduction": 1}, steps=2,
           note="projection shortcut because of the stride; buffers after 2 updates"),
    Sample("widen-train-b2h5w5c4to8", (2, 5, 5, 4),
           {"in_channels": 4, "out_channels": 8, "reduction": 1},
           note="projection shortcut because the channels change"),
    Sample("stride2-widen-eval-random-stats", (2, 6, 6, 4),
           {"in_channels": 4, "out_channels": 16, "stride": 2, "reduction": 1,
            "running_stats": "random"}, training=False,
           note="eval mode, all three batch norms with non-trivial running statistics"),
    Sample("identity-eval-random-stats", (2, 4, 4, 16),
           {"in_channels": 16, "out_channels": 16, "reduction": 1, "running_stats": "random"},
           training=False),
)

RESNET_ERRORS = common_layer_errors(block4, zeros(2, 4, 4, 4)) + (
    ErrorInput("out-channels-below-reduction", lambda: SEResNetBlock(4, 8), ValueError,
               r"SEResNetBlock: out_channels // reduction must be >= 1 .*got 8 // 16 = 0"),
    ErrorInput("stride-zero", lambda: SEResNetBlock(4, 4, stride=0, reduction=2), ValueError,
               r"stride must be >= 1, got 0"),
    ErrorInput("unknown-impl", lambda: SEResNetBlock(4, 4, reduction=2, impl="fast"),
               ValueError, r"impl must be one of 'loop', 'vectorized', got 'fast'"),
    ErrorInput("wrong-rank-3d", lambda: block4().forward(zeros(4, 4, 4)), ValueError,
               r"x must have 4 dimensions \(batch, height, width, channels\), got 3"),
    ErrorInput("channel-mismatch", lambda: block4().forward(zeros(2, 4, 4, 3)), ValueError,
               r"x has 3 channels \(in_channels\) on axis 3 .*expected 4"),
    ErrorInput("one-value-per-channel-training", lambda: block4().forward(zeros(1, 1, 1, 4)),
               ValueError, r"Expected more than 1 value per channel when training"),
    ErrorInput("float64-into-float32", lambda: block4().forward(zeros(2, 4, 4, 4,
               dtype=np.float64)), TypeError,
               r"x has dtype float64 but the layer computes in float32"),
)

#: float32 only (float64 keeps the default). A conv weight gradient here sums N·OH·OW = 50
#: products whose upstream factor has passed through ReLU, SE and a training-mode batch norm
#: backward, γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)): three O(1) terms cancel, so a few float32
#: ulps of the inputs become ~1.5e-5 absolute on entries ~0.8 (headroom up to 1.25 against
#: the default over PARITY_SEED 0..59; 0.3 against this).
RESNET_FLOAT32 = Tolerance(
    rtol=1e-5, atol=4e-5,
    reason="conv grads summed over 50 positions after training-mode batch-norm backward",
)

SE_RESNET_BLOCK = (
    PairInfo(
        name="se_resnet_block",
        numpy_factory=with_running_stats(SEResNetBlock),
        torch_factory=ref_blocks.se_resnet_block,
        samples=RESNET_SAMPLES,
        error_inputs=RESNET_ERRORS,
        impls=("loop", "vectorized"),
        has_params=True,
        tolerances={np.dtype(np.float32): RESNET_FLOAT32},
        description="SE-ResNet basic block (seed 003): conv-BN-ReLU-conv-BN, SE, shortcut, ReLU",
    ),
)

ENTRIES = BATCH_NORM + SE_BLOCK + SE_RESNET_BLOCK
