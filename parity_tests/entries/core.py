"""Registry entries for the core family: activations, softmax, losses, Linear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numpy_impl import (
    CrossEntropyLoss,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MSELoss,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropyLoss,
    Tanh,
)
from parity_tests.pairing import (
    F32,
    ErrorInput,
    PairInfo,
    Sample,
    class_labels,
    common_layer_errors,
    extreme,
    integers,
    normal,
    one_hot_targets,
    probabilities,
    regression_targets,
    soft_targets,
    zeros,
)
from torch_ref import activations as ref_act
from torch_ref import linear as ref_linear
from torch_ref import losses as ref_losses
from torch_ref import softmax as ref_softmax

# --------------------------------------------------------------------------- activations
ACTIVATION_SAMPLES = (
    Sample("b64d32", (64, 32)),
    Sample("b4h5w5c3", (4, 5, 5, 3), note="image-shaped input"),
    Sample("b1d1", (1, 1)),
)
KINK_SAMPLES = (
    Sample("ties-at-zero", (32, 16), make_input=integers(-2, 3), gradcheck=False,
           note="integer inputs, a fifth of them exactly 0: torch's subgradient at the kink"),
)
SATURATING_SAMPLES = (
    Sample("extreme-1e4", (64, 32), make_input=extreme(1e4),
           note="half the inputs near ±1e4: no overflow, exact 0/1 tails"),
)


def activation(
    name: str, factory: Callable[..., Any], reference: Callable[[Any], Any],
    extra_samples: tuple[Sample, ...] = (), extra_errors: tuple[ErrorInput, ...] = (),
) -> PairInfo:
    return PairInfo(
        name=name,
        numpy_factory=factory,
        torch_factory=reference,
        samples=ACTIVATION_SAMPLES + extra_samples,
        error_inputs=common_layer_errors(factory, zeros(4, 3))
        + (ErrorInput("0-d-input", lambda: factory().forward(np.array(1.0, dtype=F32)),
                      ValueError, r"x must have at least 1 dimension"),)
        + extra_errors,
        description=(factory.__doc__ or "").strip().splitlines()[0],
    )


ACTIVATIONS = (
    activation("identity", Identity, ref_act.identity),
    activation("relu", ReLU, ref_act.relu, KINK_SAMPLES),
    activation(
        "leaky_relu", LeakyReLU, ref_act.leaky_relu,
        (*KINK_SAMPLES,
         Sample("slope0.2-b64d32", (64, 32), kwargs={"negative_slope": 0.2}),
         Sample("slope0.2-ties-at-zero", (32, 16), kwargs={"negative_slope": 0.2},
                make_input=integers(-2, 3), gradcheck=False)),
        (ErrorInput("slope-not-a-number", lambda: LeakyReLU("0.1"), TypeError,
                    r"negative_slope must be a real number"),
         ErrorInput("slope-nan", lambda: LeakyReLU(float("nan")), ValueError,
                    r"negative_slope must be finite")),
    ),
    activation("sigmoid", Sigmoid, ref_act.sigmoid, SATURATING_SAMPLES),
    activation("tanh", Tanh, ref_act.tanh, SATURATING_SAMPLES),
)


# --------------------------------------------------------------------------- softmax
SOFTMAX_SAMPLES = (
    Sample("b256c10", (256, 10)),
    Sample("b8c1000", (8, 1000), make_input=normal(3.0)),
    Sample("b4t3c7", (4, 3, 7), note="softmax over the last of three axes"),
    Sample("ties-b32c8", (32, 8), make_input=integers(0, 3), note="equal logits in a row"),
    Sample("extreme-b64c10", (64, 10), make_input=extreme(1e4),
           note="logits near ±1e4: the max-shift keeps exp() finite"),
    Sample("b1c1", (1, 1), guard=False,
           note="one class: softmax is exactly 1 and its gradient exactly 0"),
)


def softmax_errors(factory: Callable[[], Any]) -> tuple[ErrorInput, ...]:
    return common_layer_errors(factory, zeros(4, 3)) + (
        ErrorInput("1-d-input", lambda: factory().forward(zeros(5)), ValueError,
                   r"x must have at least 2 dimension\(s\) \(batch, \.\.\., classes\)"),
        ErrorInput("no-classes", lambda: factory().forward(zeros(4, 0)), ValueError,
                   r"x must have at least one class"),
    )


SOFTMAX = (
    PairInfo(
        name="softmax",
        numpy_factory=Softmax,
        torch_factory=ref_softmax.softmax,
        samples=SOFTMAX_SAMPLES,
        error_inputs=softmax_errors(Softmax)
        + (ErrorInput("unknown-impl", lambda: Softmax(impl="fast"), ValueError,
                      r"impl must be one of 'loop', 'vectorized', got 'fast'"),),
        impls=("loop", "vectorized"),
        description="softmax over the last axis; loop (Jacobian) and vectorized backward",
    ),
    PairInfo(
        name="log_softmax",
        numpy_factory=LogSoftmax,
        torch_factory=ref_softmax.log_softmax,
        samples=SOFTMAX_SAMPLES[:-2]
        + (
            Sample("extreme-b64c10", (64, 10), make_input=extreme(1e4), gradcheck=False,
                   note="logits near ±1e4; outputs ≈ −2e4 make central differences "
                   "round-off bound"),
            Sample("b1c1", (1, 1), guard=False, note="one class: output 0, gradient 0"),
        ),
        error_inputs=softmax_errors(LogSoftmax),
        description="log-softmax over the last axis",
    ),
)


# --------------------------------------------------------------------------- losses
def loss_errors(
    factory: Callable[..., Any], prediction: np.ndarray, target: np.ndarray
) -> tuple[ErrorInput, ...]:
    """Bad calls every loss must refuse."""
    n = prediction.shape[0]
    return (
        ErrorInput("prediction-int-dtype",
                   lambda: factory().forward(prediction.astype(np.int64), target), TypeError,
                   r"prediction must have dtype float32 or float64"),
        ErrorInput("prediction-list", lambda: factory().forward(prediction.tolist(), target),
                   TypeError, r"prediction must be a numpy\.ndarray"),
        ErrorInput("batch-mismatch", lambda: factory().forward(prediction, target[: n - 1]),
                   ValueError, r"target .*(has 3 labels|has shape)"),
        ErrorInput("unknown-reduction", lambda: factory(reduction="avg"), ValueError,
                   r"reduction must be one of 'mean', 'sum', got 'avg'"),
        ErrorInput("backward-before-forward", lambda: factory().backward(), RuntimeError,
                   r"backward: called before forward"),
    )


def classification_errors(factory: Callable[..., Any], prediction: np.ndarray
                          ) -> tuple[ErrorInput, ...]:
    labels = np.array([0, 1, 2, 1], dtype=np.int64)
    return loss_errors(factory, prediction, labels) + (
        ErrorInput("label-too-large", lambda: factory().forward(prediction, labels + 2),
                   ValueError, r"target labels must lie in \[0, 3\) for 3 classes, got \[3, 4"),
        ErrorInput("label-negative", lambda: factory().forward(prediction, labels - 1),
                   ValueError, r"target labels must lie in \[0, 3\).*got \[-1\]"),
        ErrorInput("labels-2d", lambda: factory().forward(prediction, labels[:, None]),
                   ValueError, r"target must have 1 dimensions \(batch,\) of class indices"),
        ErrorInput("prediction-1d", lambda: factory().forward(prediction[0], labels[:1]),
                   ValueError, r"prediction must have 2 dimensions \(batch, classes\)"),
        ErrorInput("target-shape-mismatch",
                   lambda: factory().forward(prediction, zeros(4, 4) + 0.25), ValueError,
                   r"target has shape \(4, 4\), expected \(4, 3\)"),
        ErrorInput("target-dtype-mismatch",
                   lambda: factory().forward(prediction, (prediction * 0).astype(np.float64)),
                   TypeError, r"target has dtype float64 but the layer computes in float32"),
        ErrorInput("target-bool", lambda: factory().forward(prediction, prediction > 0),
                   TypeError, r"target must hold integer labels or float probabilities"),
        ErrorInput("negative-probability-target",
                   lambda: factory().forward(prediction, prediction * 0 - 1), ValueError,
                   r"probability targets must be finite and >= 0"),
    )


PROBS_4x3 = np.full((4, 3), 1 / 3, dtype=F32)
CLASSIFICATION_SAMPLES = (
    Sample("labels-b64c10", (64, 10), make_target=class_labels),
    Sample("onehot-b64c10", (64, 10), make_target=one_hot_targets),
    Sample("soft-b32c5", (32, 5), make_target=soft_targets),
    Sample("sum-labels-b16c10", (16, 10), kwargs={"reduction": "sum"}, make_target=class_labels),
    Sample("sum-soft-b16c10", (16, 10), kwargs={"reduction": "sum"}, make_target=soft_targets),
)

LOSSES = (
    PairInfo(
        name="cross_entropy",
        numpy_factory=CrossEntropyLoss,
        torch_factory=ref_losses.cross_entropy_on_probabilities,
        samples=tuple(
            Sample(s.name, s.shape, s.kwargs, probabilities(), s.make_target)
            for s in CLASSIFICATION_SAMPLES
        )
        + (Sample("peaked-b32c10", (32, 10), make_input=probabilities(0.1),
                  make_target=class_labels, gradcheck=False,
                  note="confident predictions, p down to ~1e-26 (below the step h)"),),
        error_inputs=classification_errors(CrossEntropyLoss, PROBS_4x3)
        + (ErrorInput("not-probabilities", lambda: CrossEntropyLoss().forward(
            PROBS_4x3 * 4, np.array([0, 1, 2, 1])), ValueError,
            r"prediction must hold probabilities in \[0, 1\]"),),
        is_loss=True,
        description="cross-entropy on probabilities (labels, one-hot or soft targets)",
    ),
    PairInfo(
        name="softmax_cross_entropy",
        numpy_factory=SoftmaxCrossEntropyLoss,
        torch_factory=ref_losses.softmax_cross_entropy,
        samples=CLASSIFICATION_SAMPLES + (
            Sample("extreme-labels-b64c10", (64, 10), make_input=extreme(1e4),
                   make_target=class_labels, gradcheck=False,
                   note="logits near ±1e4; f ≈ 1e4 makes central differences round-off bound"),
            Sample("labels-b128c1000", (128, 1000), make_target=class_labels),
        ),
        error_inputs=classification_errors(SoftmaxCrossEntropyLoss, PROBS_4x3),
        is_loss=True,
        description="softmax + cross-entropy fused, on logits",
    ),
    PairInfo(
        name="mse",
        numpy_factory=MSELoss,
        torch_factory=ref_losses.mse,
        samples=(
            Sample("b32d8", (32, 8), make_target=regression_targets),
            Sample("b4h5w5c3", (4, 5, 5, 3), make_target=regression_targets),
            Sample("sum-b32d8", (32, 8), kwargs={"reduction": "sum"},
                   make_target=regression_targets),
        ),
        error_inputs=loss_errors(MSELoss, zeros(4, 3), zeros(4, 3)) + (
            ErrorInput("shape-mismatch", lambda: MSELoss().forward(zeros(4, 3), zeros(3, 4)),
                       ValueError, r"target has shape \(3, 4\), expected \(4, 3\)"),
            ErrorInput("no-broadcast", lambda: MSELoss().forward(zeros(4, 3), zeros(4, 1)),
                       ValueError, r"target has shape \(4, 1\), expected \(4, 3\)"),
            ErrorInput("target-int", lambda: MSELoss().forward(zeros(4, 3), np.zeros((4, 3),
                       dtype=np.int64)), TypeError, r"target must have dtype float32 or float64"),
            ErrorInput("dtype-mismatch", lambda: MSELoss().forward(zeros(4, 3),
                       zeros(4, 3, dtype=np.float64)), TypeError, r"target has dtype float64"),
            ErrorInput("empty", lambda: MSELoss().forward(zeros(0, 3), zeros(0, 3)), ValueError,
                       r"prediction must have at least one element"),
        ),
        is_loss=True,
        description="mean squared error, torch's definition",
    ),
)


# --------------------------------------------------------------------------- linear
def linear_f32() -> Linear:
    return Linear(3, 2, dtype=np.float32, rng=0)


LINEAR = (
    PairInfo(
        name="linear",
        numpy_factory=Linear,
        torch_factory=ref_linear.linear,
        samples=(
            Sample("b32i64o16", (32, 64), {"in_features": 64, "out_features": 16}),
            Sample("b1i1o1", (1, 1), {"in_features": 1, "out_features": 1}),
            Sample("b64i784o10", (64, 784), {"in_features": 784, "out_features": 10}),
            Sample("nobias-b8i5o3", (8, 5), {"in_features": 5, "out_features": 3,
                                             "bias": False}),
            Sample("kaiming-b16i20o30", (16, 20), {"in_features": 20, "out_features": 30,
                                                   "weight_init": "kaiming_normal",
                                                   "bias_init": "torch_default"}),
        ),
        error_inputs=common_layer_errors(linear_f32, zeros(4, 3)) + (
            ErrorInput("wrong-rank-3d", lambda: linear_f32().forward(zeros(4, 1, 3)),
                       ValueError, r"x must have 2 dimensions \(batch, in_features\), got 3"),
            ErrorInput("wrong-rank-1d", lambda: linear_f32().forward(zeros(3)),
                       ValueError, r"x must have 2 dimensions \(batch, in_features\), got 1"),
            ErrorInput("wrong-feature-size", lambda: linear_f32().forward(zeros(4, 5)),
                       ValueError, r"x has 5 features \(in_features\) on axis 1 .* expected 3"),
            ErrorInput("float64-into-float32", lambda: linear_f32().forward(
                zeros(4, 3, dtype=np.float64)), TypeError,
                r"x has dtype float64 but the layer computes in float32"),
            ErrorInput("in-features-zero", lambda: Linear(0, 2), ValueError,
                       r"in_features must be >= 1, got 0"),
            ErrorInput("out-features-float", lambda: Linear(3, 2.5), TypeError,
                       r"out_features must be an int, got float"),
            ErrorInput("unknown-init", lambda: Linear(3, 2, weight_init="glorot"), ValueError,
                       r"name must be one of .*'xavier_uniform'.*got 'glorot'"),
            ErrorInput("int-dtype", lambda: Linear(3, 2, dtype=np.int32), TypeError,
                       r"dtype must be float32 or float64, got int32"),
            ErrorInput("bad-rng", lambda: Linear(3, 2, rng="seed"), TypeError,
                       r"rng must be a numpy\.random\.Generator, an int seed or None"),
        ),
        has_params=True,
        description="y = x W + b, W stored (in, out)",
    ),
)

ENTRIES = ACTIVATIONS + SOFTMAX + LOSSES + LINEAR
