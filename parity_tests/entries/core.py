"""Registry entries for the core family: activations, softmax, losses, Linear."""

from __future__ import annotations

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
from parity_tests import error_models
from parity_tests.entry import (
    Entry,
    ErrorInput,
    impl_errors,
    layer_errors,
    parametrized_layer_errors,
    zeros,
)
from parity_tests.samples import (
    Sample,
    class_labels,
    extreme,
    integers,
    normal,
    one_hot_targets,
    probabilities,
    regression_targets,
    soft_targets,
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
VECTORS = zeros(4, 3)
ACTIVATION_ERRORS = layer_errors(VECTORS) + (
    ErrorInput("x-0d", "forward", ValueError, r"x must have at least 1 dimension",
               args=(np.array(1.0, dtype=np.float32),)),
)


def activation(name: str, layer: type, extra_samples: tuple[Sample, ...] = (),
               extra_errors: tuple[ErrorInput, ...] = ()) -> Entry:
    return Entry(
        name=name,
        layer=layer,
        reference=ref_act.activation,
        samples=ACTIVATION_SAMPLES + extra_samples,
        errors=ACTIVATION_ERRORS + extra_errors,
        error_args=(VECTORS,),
        description=(layer.__doc__ or "").strip().splitlines()[0],
    )


ACTIVATIONS = (
    activation("identity", Identity),
    activation("relu", ReLU, KINK_SAMPLES),
    activation(
        "leaky_relu", LeakyReLU,
        (*KINK_SAMPLES,
         Sample("slope0.2-b64d32", (64, 32), kwargs={"negative_slope": 0.2}),
         Sample("slope0.2-ties-at-zero", (32, 16), kwargs={"negative_slope": 0.2},
                make_input=integers(-2, 3), gradcheck=False)),
        (ErrorInput("slope-not-a-number", "construct", TypeError,
                    r"negative_slope must be a real number", kwargs={"negative_slope": "0.1"}),
         ErrorInput("slope-nan", "construct", ValueError, r"negative_slope must be finite",
                    kwargs={"negative_slope": float("nan")})),
    ),
    activation("sigmoid", Sigmoid, SATURATING_SAMPLES),
    activation("tanh", Tanh, SATURATING_SAMPLES),
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
SOFTMAX_ERRORS = layer_errors(VECTORS) + (
    ErrorInput("x-1d", "forward", ValueError,
               r"x must have at least 2 dimension\(s\) \(batch, \.\.\., classes\)",
               args=(zeros(5),)),
    ErrorInput("no-classes", "forward", ValueError, r"x must have at least one class",
               args=(zeros(4, 0),)),
)

SOFTMAX = (
    Entry(
        name="softmax",
        layer=Softmax,
        reference=ref_softmax.softmax,
        samples=SOFTMAX_SAMPLES,
        errors=SOFTMAX_ERRORS + impl_errors(),
        error_args=(VECTORS,),
        error_model=error_models.SOFTMAX,
        description="softmax over the last axis; loop (Jacobian) and vectorized backward",
    ),
    Entry(
        name="log_softmax",
        layer=LogSoftmax,
        reference=ref_softmax.log_softmax,
        samples=SOFTMAX_SAMPLES[:-2]
        + (
            Sample("extreme-b64c10", (64, 10), make_input=extreme(1e4), gradcheck=False,
                   note="logits near ±1e4; outputs ≈ −2e4 make central differences "
                   "round-off bound"),
            Sample("b1c1", (1, 1), guard=False, note="one class: output 0, gradient 0"),
        ),
        errors=SOFTMAX_ERRORS,
        error_args=(VECTORS,),
        error_model=error_models.LOG_SOFTMAX,
        description="log-softmax over the last axis",
    ),
)


# --------------------------------------------------------------------------- losses
def loss_errors(prediction: np.ndarray, target: np.ndarray) -> tuple[ErrorInput, ...]:
    """Bad calls every loss must refuse, given a valid (prediction, target)."""
    n = prediction.shape[0]
    return (
        ErrorInput("prediction-int64", "forward", TypeError,
                   r"prediction must have dtype float32 or float64",
                   args=(prediction.astype(np.int64), target)),
        ErrorInput("prediction-list", "forward", TypeError, r"prediction must be a numpy\.ndarray",
                   args=(prediction.tolist(), target)),
        ErrorInput("batch-mismatch", "forward", ValueError, r"target .*(has 3 labels|has shape)",
                   args=(prediction, target[: n - 1])),
        ErrorInput("reduction-unknown", "construct", ValueError,
                   r"reduction must be one of 'mean', 'sum', got 'avg'",
                   kwargs={"reduction": "avg"}),
        ErrorInput("backward-before-forward", "backward", RuntimeError,
                   r"backward: called before forward", forward_first=False),
    )


PROBS_4x3 = np.full((4, 3), 1 / 3, dtype=np.float32)
LABELS_4 = np.array([0, 1, 2, 1], dtype=np.int64)
CLASSIFICATION_ERRORS = loss_errors(PROBS_4x3, LABELS_4) + (
    ErrorInput("label-too-large", "forward", ValueError,
               r"target labels must lie in \[0, 3\) for 3 classes, got \[3, 4",
               args=(PROBS_4x3, LABELS_4 + 2)),
    ErrorInput("label-negative", "forward", ValueError,
               r"target labels must lie in \[0, 3\).*got \[-1\]", args=(PROBS_4x3, LABELS_4 - 1)),
    ErrorInput("labels-2d", "forward", ValueError,
               r"target must have 1 dimensions \(batch,\) of class indices",
               args=(PROBS_4x3, LABELS_4[:, None])),
    ErrorInput("prediction-1d", "forward", ValueError,
               r"prediction must have 2 dimensions \(batch, classes\)",
               args=(PROBS_4x3[0], LABELS_4[:1])),
    ErrorInput("target-shape-mismatch", "forward", ValueError,
               r"target has shape \(4, 4\), expected \(4, 3\)",
               args=(PROBS_4x3, zeros(4, 4) + 0.25)),
    ErrorInput("target-dtype-mismatch", "forward", TypeError,
               r"target has dtype float64 but the layer computes in float32",
               args=(PROBS_4x3, PROBS_4x3.astype(np.float64))),
    ErrorInput("target-bool", "forward", TypeError,
               r"target must hold integer labels or float probabilities",
               args=(PROBS_4x3, PROBS_4x3 > 0)),
    ErrorInput("target-negative-probability", "forward", ValueError,
               r"probability targets must be finite and >= 0", args=(PROBS_4x3, PROBS_4x3 - 1)),
)
CLASSIFICATION_SAMPLES = (
    Sample("labels-b64c10", (64, 10), make_target=class_labels),
    Sample("onehot-b64c10", (64, 10), make_target=one_hot_targets),
    Sample("soft-b32c5", (32, 5), make_target=soft_targets),
    Sample("sum-labels-b16c10", (16, 10), kwargs={"reduction": "sum"}, make_target=class_labels),
    Sample("sum-soft-b16c10", (16, 10), kwargs={"reduction": "sum"}, make_target=soft_targets),
)
MSE_4x3 = (zeros(4, 3), zeros(4, 3))

LOSSES = (
    Entry(
        name="cross_entropy",
        layer=CrossEntropyLoss,
        reference=ref_losses.cross_entropy_on_probabilities,
        samples=tuple(
            Sample(s.name, s.shape, s.kwargs, probabilities(), s.make_target)
            for s in CLASSIFICATION_SAMPLES
        )
        + (Sample("peaked-b32c10", (32, 10), make_input=probabilities(0.1),
                  make_target=class_labels, gradcheck=False,
                  note="confident predictions, p down to ~1e-26 (below the step h)"),),
        errors=CLASSIFICATION_ERRORS + (
            ErrorInput("not-probabilities", "forward", ValueError,
                       r"prediction must hold probabilities in \[0, 1\]",
                       args=(PROBS_4x3 * 4, LABELS_4)),),
        error_args=(PROBS_4x3, LABELS_4),
        description="cross-entropy on probabilities (labels, one-hot or soft targets)",
    ),
    Entry(
        name="softmax_cross_entropy",
        layer=SoftmaxCrossEntropyLoss,
        reference=ref_losses.softmax_cross_entropy,
        samples=CLASSIFICATION_SAMPLES + (
            Sample("extreme-labels-b64c10", (64, 10), make_input=extreme(1e4),
                   make_target=class_labels, gradcheck=False,
                   note="logits near ±1e4; f ≈ 1e4 makes central differences round-off bound"),
            Sample("labels-b128c1000", (128, 1000), make_target=class_labels),
        ),
        errors=CLASSIFICATION_ERRORS,
        error_args=(PROBS_4x3, LABELS_4),
        description="softmax + cross-entropy fused, on logits",
    ),
    Entry(
        name="mse",
        layer=MSELoss,
        reference=ref_losses.mse,
        samples=(
            Sample("b32d8", (32, 8), make_target=regression_targets),
            Sample("b4h5w5c3", (4, 5, 5, 3), make_target=regression_targets),
            Sample("sum-b32d8", (32, 8), kwargs={"reduction": "sum"},
                   make_target=regression_targets),
        ),
        errors=loss_errors(*MSE_4x3) + (
            ErrorInput("shape-mismatch", "forward", ValueError,
                       r"target has shape \(3, 4\), expected \(4, 3\)",
                       args=(zeros(4, 3), zeros(3, 4))),
            ErrorInput("no-broadcast", "forward", ValueError,
                       r"target has shape \(4, 1\), expected \(4, 3\)",
                       args=(zeros(4, 3), zeros(4, 1))),
            ErrorInput("target-int64", "forward", TypeError,
                       r"target must have dtype float32 or float64",
                       args=(zeros(4, 3), np.zeros((4, 3), dtype=np.int64))),
            ErrorInput("target-dtype-mismatch", "forward", TypeError, r"target has dtype float64",
                       args=(zeros(4, 3), zeros(4, 3, dtype=np.float64))),
            ErrorInput("empty", "forward", ValueError,
                       r"prediction must have at least one element",
                       args=(zeros(0, 3), zeros(0, 3))),
        ),
        error_args=MSE_4x3,
        description="mean squared error, torch's definition",
    ),
)


# --------------------------------------------------------------------------- linear
LINEAR = (
    Entry(
        name="linear",
        layer=Linear,
        reference=ref_linear.linear,
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
        errors=parametrized_layer_errors(VECTORS) + (
            ErrorInput("x-3d", "forward", ValueError,
                       r"x must have 2 dimensions \(batch, in_features\), got 3",
                       args=(zeros(4, 1, 3),)),
            ErrorInput("x-1d", "forward", ValueError,
                       r"x must have 2 dimensions \(batch, in_features\), got 1",
                       args=(zeros(3),)),
            ErrorInput("wrong-feature-size", "forward", ValueError,
                       r"x has 5 features \(in_features\) on axis 1 .* expected 3",
                       args=(zeros(4, 5),)),
            ErrorInput("in-features-zero", "construct", ValueError,
                       r"in_features must be >= 1, got 0", kwargs={"in_features": 0}),
            ErrorInput("out-features-float", "construct", TypeError,
                       r"out_features must be an int, got float", kwargs={"out_features": 2.5}),
            ErrorInput("init-unknown", "construct", ValueError,
                       r"name must be one of .*'xavier_uniform'.*got 'glorot'",
                       kwargs={"weight_init": "glorot"}),
            ErrorInput("rng-str", "construct", TypeError,
                       r"rng must be a numpy\.random\.Generator, an int seed or None",
                       kwargs={"rng": "seed"}),
        ),
        error_kwargs={"in_features": 3, "out_features": 2},
        error_args=(VECTORS,),
        error_model=error_models.multilinear,
        description="y = x W + b, W stored (in, out)",
    ),
)

ENTRIES = ACTIVATIONS + SOFTMAX + LOSSES + LINEAR
