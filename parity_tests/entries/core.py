"""Registry entries for the core family: activations, softmax, losses, Linear.

Every torch option of these layers has samples in both dtypes (and both impl paths of
Softmax), edge shapes where torch accepts them (0-d, 1-D, zero-size batches, K-dimensional
losses), and non-finite inputs wherever torch's answer is defined: the harness compares NaN
and ±inf positions exactly (``gradcheck=False`` there: a finite difference through NaN
means nothing). ``guard=False`` only where the true gradient is exactly zero by
construction (a zero-size batch, one class, every label ignored). Samples whose true
gradient could be exactly zero for an unlucky draw (one ReLU input below 0) are drawn away
from that region instead.
"""

from __future__ import annotations

import warnings
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
    VECTORIZED_ONLY,
    InputMaker,
    Sample,
    TargetMaker,
    away_from_zero,
    extreme,
    integers,
    mixed_signs,
    near_max,
    normal,
    probabilities,
    regression_targets,
    uniform_weights,
    weights_at_least_one,
    with_values,
)
from torch_ref import activations as ref_act
from torch_ref import linear as ref_linear
from torch_ref import losses as ref_losses
from torch_ref import softmax as ref_softmax

NAN, INF = float("nan"), float("inf")


# --------------------------------------------------------------------------- input makers
def probabilities_with_zeros(rng: np.random.Generator, shape: tuple[int, ...],
                             dtype: np.dtype) -> np.ndarray:
    """Probability rows (last axis) with about a third of the entries exactly 0 (never all of
    a row): the p >= 0 boundary, where torch's log p is −inf."""
    raw = rng.random(shape) * (rng.random(shape) < 0.65)
    raw[..., 0] += 0.05
    return (raw / raw.sum(axis=-1, keepdims=True)).astype(dtype)


#: Elementwise inputs with NaN, ±inf and an exact 0 at fixed places, N(0, 1) elsewhere.
ELEMENTWISE_NONFINITE = with_values({(0, 0): NAN, (0, 1): INF, (1, 2): -INF, (2, 3): NAN,
                                     (3, 0): 0.0, (3, 4): -INF, (5, 5): INF})

#: Row kinds for the max-shift branch of the vectorized softmax forward (which skips the
#: shift where the row sum S = Σ e^x lies in [1, 1/tiny], see numpy_impl.softmax
#: .softmax_rows): (centre, jitter) of every logit of the row. float32 / float64 outcome:
#: N(0, 1) (safe); −120 (S = 0 / S < 1: underflow); −95 (S subnormal / S < 1); +100
#: (overflow / safe); ±800 (overflow and S = 0 in both); 85.5 and 706.5 (S above 1/tiny, a
#: subnormal reciprocal, in float32 / float64); −3 (S < 1 without underflow). The row kind
#: "top" is safe with its other entries underflowed (e^−85 … e^−135): S >= 1 keeps them.
SHIFT_ROW_KINDS = ((0.0, 1.0), (-120.0, 1.0), (-95.0, 1.0), (100.0, 1.0), (800.0, 1.0),
                   (-800.0, 1.0), (85.5, 0.01), (706.5, 0.01), (-3.0, 0.1), "top")


def shift_rows(every: int = 1) -> InputMaker:
    """Softmax logits whose rows (over the last axis) cycle through :data:`SHIFT_ROW_KINDS`
    at every ``every``-th row (N(0, 1) rows between): rows that need the max shift and rows
    that do not, in every row block of a large input."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        x = rng.standard_normal(shape)
        rows = x.reshape(-1, shape[-1])
        for number, row in enumerate(rows[::every]):
            kind = SHIFT_ROW_KINDS[number % len(SHIFT_ROW_KINDS)]
            if kind == "top":
                row[0] = 1.0 + 0.1 * row[0]
                row[1:] = -85.0 - 50.0 * np.linspace(0, 1, shape[-1] - 1) + 0.1 * row[1:]
            else:
                row[...] = kind[0] + kind[1] * row
        return x.astype(dtype)

    return make


#: Softmax rows with −inf (one, all but one, all), NaN and +inf, N(0, 1) elsewhere: rows
#: 0-1 stay finite (−inf is a probability of exactly 0), rows 2-4 are NaN in torch.
SOFTMAX_NONFINITE = with_values({(0, 1): -INF, (1, 0): -INF, (1, 1): -INF, (1, 3): -INF,
                                 (1, 4): -INF, (1, 5): -INF, (2, 2): NAN, (3, 4): INF,
                                 **{(4, c): -INF for c in range(6)}})


# --------------------------------------------------------------------------- target makers
def labels(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """int64 labels in [0, C), one per position of a (*, C) prediction."""
    return rng.integers(0, prediction.shape[-1], size=prediction.shape[:-1]).astype(np.int64)


def ignoring(ignore_index: int, fraction: float = 0.3, keep_first: bool = True) -> TargetMaker:
    """:func:`labels` with about ``fraction`` of them replaced by ``ignore_index`` (the first
    position always kept, with a label that is not ``ignore_index``, unless
    ``keep_first=False``; ``fraction=1``: all ignored)."""

    def make(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
        target = labels(rng, prediction)
        ignored = rng.random(target.shape) < fraction
        if keep_first and target.size and fraction < 1:
            ignored.flat[0] = False
            if target.flat[0] == ignore_index:  # a drawn label may be the ignored class
                target.flat[0] = (ignore_index + 1) % prediction.shape[-1]
        return np.where(ignored, ignore_index, target).astype(np.int64)

    return make


def one_hot(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    return np.eye(prediction.shape[-1], dtype=prediction.dtype)[labels(rng, prediction)]


def soft(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """Probability targets along the last axis (label-smoothing-like), some exactly 0."""
    raw = rng.random(prediction.shape) * (rng.random(prediction.shape) < 0.7)
    raw[..., 0] += 1e-3  # no all-zero row
    return (raw / raw.sum(axis=-1, keepdims=True)).astype(prediction.dtype)


def labels_at_largest(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """The label of each position is its largest entry (never an exact 0 probability nor a
    −inf logit, unless the whole row is)."""
    return np.argmax(np.nan_to_num(prediction, nan=-INF), axis=-1).astype(np.int64)


def labels_at_smallest(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """The label of the first half of the positions is their smallest entry (an exact 0
    probability or a −inf logit where the row has one: the loss is +inf there), of the
    others their largest (so that finite gradients are left to compare)."""
    smallest = np.argmin(prediction, axis=-1)
    largest = labels_at_largest(rng, prediction)
    first_half = np.arange(smallest.size).reshape(smallest.shape) < smallest.size // 2
    return np.where(first_half, smallest, largest).astype(np.int64)


def soft_avoiding_zeros(rng: np.random.Generator, prediction: np.ndarray) -> np.ndarray:
    """:func:`soft` targets that are 0 wherever the prediction is 0 or −inf (and where it is
    not, the mass is spread as in :func:`soft`)."""
    t = soft(rng, prediction) * (prediction > (0 if prediction.min() >= 0 else -INF))
    t[..., 0] += (t.sum(axis=-1) == 0)  # keep every row a distribution
    return (t / t.sum(axis=-1, keepdims=True)).astype(prediction.dtype)


def regression_with_nonfinite(rng: np.random.Generator, prediction: np.ndarray
                              ) -> np.ndarray:
    """Regression targets with ±inf and NaN at fixed places (inf − inf = NaN, inf − x =
    inf, NaN − x = NaN)."""
    target = regression_targets(rng, prediction)
    target[0, 1] = INF  # prediction[0, 1] is +inf too: NaN
    target[1, 0] = -INF
    target[2, 2] = NAN
    return target


# --------------------------------------------------------------------------- shared errors
VECTORS = zeros(4, 3)


def as_matrix(array: object) -> np.matrix:
    """``np.asmatrix(array)``, without NumPy's PendingDeprecationWarning about the class."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(array)


def subclass_errors(good: np.ndarray) -> tuple[ErrorInput, ...]:
    """Array subclasses refused with a TypeError: ``np.matrix`` and a masked array as x,
    a masked array as dy."""
    masked = np.ma.masked_array(good, mask=np.zeros(good.shape, dtype=bool))
    errors = (
        ErrorInput("x-masked-array", "forward", TypeError,
                   r"x must be a plain numpy\.ndarray .*got the subclass "
                   r"numpy\.ma\.MaskedArray", args=(masked,)),
        ErrorInput("dy-masked-array", "backward", TypeError,
                   r"dy must be a plain numpy\.ndarray .*numpy\.ma\.MaskedArray",
                   dy=masked),
    )
    if good.ndim == 2:
        errors += (ErrorInput("x-np-matrix", "forward", TypeError,
                              r"x must be a plain numpy\.ndarray .*got the subclass "
                              r"numpy\.matrix", args=(as_matrix(good),)),)
    return errors


def inplace_errors() -> tuple[ErrorInput, ...]:
    return (ErrorInput("inplace-true", "construct", ValueError, r"inplace must be False, got "
                       r"True; the NumPy layers never write into their input",
                       kwargs={"inplace": True}),)


# --------------------------------------------------------------------------- activations
ACTIVATION_SAMPLES = (
    Sample("b64d32", (64, 32)),
    Sample("b4h5w5c3", (4, 5, 5, 3), note="image-shaped input"),
    Sample("b1d1", (1, 1), make_input=away_from_zero(), make_upstream=mixed_signs(),
           note="one value in (0.25, 1) and |dy| in (0.25, 2): its gradient can never be "
           "exactly 0 (a negative ReLU input would make it so) nor too small for the guard "
           "(an N(0, 1) dy of 3e-4 did at 2 of 200 seeds)"),
    Sample("0d", (), make_input=away_from_zero(), make_upstream=mixed_signs(),
           note="a 0-d input, as torch accepts (dy as in b1d1)"),
    Sample("vector-d7", (7,), make_input=mixed_signs(),
           note="a 1-D input, signs alternating (never all negative)"),
    Sample("b0d5", (0, 5), guard=False, note="a zero-size batch: the gradient is empty"),
    Sample("nonfinite-b6d6", (6, 6), make_input=ELEMENTWISE_NONFINITE, gradcheck=False,
           note="NaN, ±inf and an exact 0 among normal values: torch's outputs and "
           "gradients there (ReLU passes dy at NaN)"),
)
KINK_SAMPLES = (
    Sample("ties-at-zero", (32, 16), make_input=integers(-2, 3), gradcheck=False,
           note="integer inputs, a fifth of them exactly 0: torch's subgradient at the kink"),
)
SATURATING_SAMPLES = (
    Sample("extreme-1e4", (64, 32), make_input=extreme(1e4),
           note="half the inputs near ±1e4: no overflow, exact 0/1 tails"),
)
ACTIVATION_ERRORS = layer_errors(VECTORS) + subclass_errors(VECTORS)


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
    activation("relu", ReLU, KINK_SAMPLES, inplace_errors()),
    activation(
        "leaky_relu", LeakyReLU,
        (*KINK_SAMPLES,
         Sample("slope0.2-b64d32", (64, 32), kwargs={"negative_slope": 0.2}),
         Sample("slope0.2-ties-at-zero", (32, 16), kwargs={"negative_slope": 0.2},
                make_input=integers(-2, 3), gradcheck=False),
         Sample("negslope-b16d8", (16, 8), kwargs={"negative_slope": -0.5},
                note="a negative slope, which torch accepts"),
         Sample("slope0-nonfinite-b6d6", (6, 6), kwargs={"negative_slope": 0.0},
                make_input=ELEMENTWISE_NONFINITE, gradcheck=False,
                note="slope 0: −inf·0 is NaN in torch's forward")),
        (ErrorInput("slope-not-a-number", "construct", TypeError,
                    r"negative_slope must be a real number", kwargs={"negative_slope": "0.1"}),
         ErrorInput("slope-nan", "construct", ValueError, r"negative_slope must be finite",
                    kwargs={"negative_slope": NAN}),
         *inplace_errors()),
    ),
    activation("sigmoid", Sigmoid, SATURATING_SAMPLES),
    activation("tanh", Tanh, SATURATING_SAMPLES),
)


# --------------------------------------------------------------------------- softmax
def softmax_samples(log: bool) -> tuple[Sample, ...]:
    """The samples Softmax and LogSoftmax share; log-softmax's extreme outputs (≈ −2e4) make
    central differences round-off bound, so that one skips them."""
    rows = 8200 if log else 16400  # three row blocks of each layer's BLOCK_ELEMENTS
    return (
        Sample("b256c10", (256, 10)),
        Sample("b8c1000", (8, 1000), make_input=normal(3.0)),
        Sample("b4t3c7", (4, 3, 7), note="over the last of three axes"),
        Sample("ties-b32c8", (32, 8), make_input=integers(0, 3), note="equal logits in a row"),
        Sample("extreme-b64c10", (64, 10), make_input=extreme(1e4), gradcheck=not log,
               note="logits near ±1e4: the max-shift keeps exp() finite"),
        Sample("b1c1", (1, 1), guard=False,
               note="one class: softmax is exactly 1 (log-softmax 0), its gradient exactly 0"),
        Sample("dim0-b6c5", (6, 5), {"dim": 0}, note="over the batch axis"),
        Sample("dim1-b4t3c7", (4, 3, 7), {"dim": 1}, note="over the middle axis"),
        Sample("dimneg3-b4t3c7", (4, 3, 7), {"dim": -3}, note="a negative dim, the first"),
        Sample("vector-c7", (7,), note="a 1-D input"),
        Sample("dim0-vector-c7", (7,), {"dim": 0}),
        Sample("0d", (), make_input=away_from_zero(), guard=False,
               note="a 0-d input (torch: dim -1 or 0): output 1 (0), gradient exactly 0"),
        Sample("dim0-0d", (), {"dim": 0}, make_input=away_from_zero(), guard=False),
        Sample("b0c5", (0, 5), guard=False, note="a zero-size batch"),
        Sample("b3c0", (3, 0), guard=False, note="no classes, as torch accepts: empty"),
        Sample("dim0-b0c5", (0, 5), {"dim": 0}, guard=False,
               note="softmax over an empty axis"),
        Sample("nonfinite-b8c6", (8, 6), make_input=SOFTMAX_NONFINITE, gradcheck=False,
               note="−inf (one, all but one, all of a row), NaN and +inf: rows 0-1 finite, "
               "rows 2-4 NaN, as torch"),
        Sample("dim0-nonfinite-b6c8", (6, 8), {"dim": 0},
               make_input=with_values({(1, 0): -INF, (2, 1): NAN, (3, 2): INF}),
               gradcheck=False, note="non-finite logits over the batch axis"),
        Sample("shift-rows-b10c12", (10, 12), make_input=shift_rows(),
               note="one row of each kind of SHIFT_ROW_KINDS: overflow, underflow, a sum "
               "above 1/tiny or below 1, and safe rows (one with underflowed entries)"),
        Sample(f"blocks3-shift-rows-b{rows}c16", (rows, 16), make_input=shift_rows(every=7),
               impls=() if log else VECTORIZED_ONLY,
               note=f"{rows * 16:,} elements (three row blocks of "
               f"{'LogSoftmax' if log else 'Softmax'}.BLOCK_ELEMENTS, the last partial) "
               "with rows that need the max shift in every block"),
        Sample("huge-b6c3", (6, 3),
               make_input=with_values({(0, 0): 3e38, (0, 1): -3e38, (1, 2): -3e38,
                                       (2, 1): 3e38, (2, 2): 3e38}),
               gradcheck=False,
               note="finite logits of ±3e38: x − max overflows to −inf in float32, which is "
               "harmless (e^−inf = 0), as in torch"),
    )


SOFTMAX_ERRORS = layer_errors(VECTORS) + subclass_errors(VECTORS) + (
    ErrorInput("dim-out-of-range", "forward", ValueError,
               r"dim=2 is out of range for x with 2 dimension\(s\) \(shape \(4, 3\)\); "
               r"expected -2 <= dim < 2", kwargs={"dim": 2}),
    ErrorInput("dim-below-range", "forward", ValueError, r"dim=-3 is out of range",
               kwargs={"dim": -3}),
    ErrorInput("dim1-on-0d", "forward", ValueError,
               r"dim=1 is out of range for x with 0 dimension\(s\) .*expected -1 <= dim < 1",
               kwargs={"dim": 1}, args=(np.array(0.5, dtype=np.float32),)),
    ErrorInput("dim-none", "construct", TypeError, r"dim must be an int, got None",
               kwargs={"dim": None}),
    ErrorInput("dim-float", "construct", TypeError, r"dim must be an int, got float",
               kwargs={"dim": 1.0}),
)

SOFTMAX = (
    Entry(
        name="softmax",
        layer=Softmax,
        reference=ref_softmax.softmax,
        samples=softmax_samples(log=False) + (
            Sample("blocks3-b16400c16", (16400, 16), impls=VECTORIZED_ONLY,
                   note="262,400 elements: three row blocks of the vectorized forward and "
                   "backward (Softmax.BLOCK_ELEMENTS), the last one partial"),),
        errors=SOFTMAX_ERRORS + impl_errors(),
        error_args=(VECTORS,),
        error_model=error_models.SOFTMAX,
        description="softmax over any dim; loop (Jacobian) and vectorized backward",
    ),
    Entry(
        name="log_softmax",
        layer=LogSoftmax,
        reference=ref_softmax.log_softmax,
        samples=softmax_samples(log=True) + (
            Sample("blocks3-b8200c16", (8200, 16),
                   note="131,200 elements: three row blocks of the forward and backward "
                   "(LogSoftmax.BLOCK_ELEMENTS), the last one partial"),),
        errors=SOFTMAX_ERRORS,
        error_args=(VECTORS,),
        error_model=error_models.LOG_SOFTMAX,
        description="log-softmax over any dim",
    ),
)


# --------------------------------------------------------------------------- losses
def loss_errors(prediction: np.ndarray, target: np.ndarray) -> tuple[ErrorInput, ...]:
    """Bad calls every loss must refuse, given a valid (prediction, target)."""
    n = prediction.shape[0]
    masked = np.ma.masked_array(target, mask=np.zeros(target.shape, dtype=bool))
    return (
        ErrorInput("prediction-int64", "forward", TypeError,
                   r"prediction must have dtype float32 or float64",
                   args=(prediction.astype(np.int64), target)),
        ErrorInput("prediction-list", "forward", TypeError, r"prediction must be a numpy\.ndarray",
                   args=(prediction.tolist(), target)),
        ErrorInput("prediction-np-matrix", "forward", TypeError,
                   r"prediction must be a plain numpy\.ndarray .*numpy\.matrix",
                   args=(as_matrix(prediction), target)),
        ErrorInput("target-masked-array", "forward", TypeError,
                   r"target must be a plain numpy\.ndarray .*MaskedArray",
                   args=(prediction, masked)),
        ErrorInput("batch-mismatch", "forward", ValueError, r"target has shape \(3,?",
                   args=(prediction, target[: n - 1])),
        ErrorInput("reduction-unknown", "construct", ValueError,
                   r"reduction must be one of 'mean', 'sum', 'none', got 'avg'",
                   kwargs={"reduction": "avg"}),
        ErrorInput("size-average-given", "construct", ValueError,
                   r"size_average is deprecated in torch and not supported; pass None",
                   kwargs={"size_average": True}),
        ErrorInput("reduce-given", "construct", ValueError,
                   r"reduce is deprecated in torch and not supported", kwargs={"reduce": False}),
        ErrorInput("backward-before-forward", "backward", RuntimeError,
                   r"backward: called before forward", forward_first=False),
        ErrorInput("none-backward-without-dy", "backward", TypeError,
                   r"dy is required with reduction='none': the upstream gradient of the "
                   r"per-element loss, shape \(4,?", kwargs={"reduction": "none"}),
    )


PROBS_4x3 = np.full((4, 3), 1 / 3, dtype=np.float32)
LABELS_4 = np.array([0, 1, 2, 1], dtype=np.int64)
CLASSIFICATION_ERRORS = loss_errors(PROBS_4x3, LABELS_4) + (
    ErrorInput("label-too-large", "forward", ValueError,
               r"target labels must lie in \[0, 3\) for 3 classes \(or equal "
               r"ignore_index=-100\), got \[3, 4", args=(PROBS_4x3, LABELS_4 + 2)),
    ErrorInput("label-equals-classes", "forward", ValueError,
               r"target labels must lie in \[0, 3\).*got \[3\]",
               args=(PROBS_4x3, np.array([0, 1, 3, 1]))),
    ErrorInput("label-negative", "forward", ValueError,
               r"target labels must lie in \[0, 3\).*got \[-1\]", args=(PROBS_4x3, LABELS_4 - 1)),
    ErrorInput("label-ignored-elsewhere", "forward", ValueError,
               r"\(or equal ignore_index=1\), got \[-100\]", kwargs={"ignore_index": 1},
               args=(PROBS_4x3, np.array([0, 1, -100, 2]))),
    ErrorInput("labels-2d", "forward", ValueError,
               r"target has shape \(4, 1\), expected \(4,\) \(the shape of prediction without "
               r"its class axis", args=(PROBS_4x3, LABELS_4[:, None])),
    ErrorInput("prediction-0d", "forward", ValueError,
               r"prediction must have at least 1 dimension\(s\) \(\*, classes\)",
               args=(np.array(0.5, dtype=np.float32), np.array(0))),
    ErrorInput("no-classes", "forward", ValueError,
               r"prediction must have at least one class on its last axis",
               args=(zeros(4, 0), LABELS_4)),
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
    ErrorInput("ignore-index-with-probabilities", "forward", ValueError,
               r"ignore_index=0 is not supported with probability targets",
               kwargs={"ignore_index": 0}, args=(PROBS_4x3, PROBS_4x3)),
    ErrorInput("ignore-index-float", "construct", TypeError, r"ignore_index must be an int",
               kwargs={"ignore_index": 1.0}),
    ErrorInput("weight-wrong-length", "forward", ValueError,
               r"weight has 2 entries, expected one per class \(3",
               kwargs={"weight": [1.0, 2.0]}),
    ErrorInput("weight-2d", "construct", ValueError,
               r"weight must be a 1-D array with one entry per class, got shape \(1, 3\)",
               kwargs={"weight": [[1.0, 2.0, 3.0]]}),
    ErrorInput("weight-empty", "construct", ValueError, r"weight must be a 1-D array",
               kwargs={"weight": []}),
    ErrorInput("weight-nan", "construct", ValueError, r"weight must be finite",
               kwargs={"weight": [1.0, NAN, 1.0]}),
    ErrorInput("weight-str", "construct", TypeError, r"weight must be None or a 1-D array",
               kwargs={"weight": "balanced"}),
    ErrorInput("weight-bool", "construct", TypeError, r"weight must hold real numbers",
               kwargs={"weight": np.array([True, False, True])}),
    ErrorInput("weight-np-matrix", "construct", TypeError,
               r"weight must be a plain numpy\.ndarray .*numpy\.matrix",
               kwargs={"weight": as_matrix([1.0, 2.0, 3.0])}),
)
W5 = [0.5, 2.0, 1.0, 0.25, 3.0]


def classification_samples() -> tuple[Sample, ...]:
    """Targets × reductions × options both cross-entropies share (the prediction's input
    maker is each loss's own)."""
    return (
        Sample("labels-b64c10", (64, 10), make_target=labels),
        Sample("onehot-b64c10", (64, 10), make_target=one_hot),
        Sample("soft-b32c5", (32, 5), make_target=soft),
        Sample("sum-labels-b16c10", (16, 10), {"reduction": "sum"}, make_target=labels),
        Sample("sum-soft-b16c10", (16, 10), {"reduction": "sum"}, make_target=soft),
        Sample("none-labels-b16c10", (16, 10), {"reduction": "none"}, make_target=labels),
        Sample("none-soft-b8c5", (8, 5), {"reduction": "none"}, make_target=soft),
        Sample("weight-labels-b32c5", (32, 5), {"weight": W5}, make_target=labels,
               note="class weights: the mean divides by Σ w[label]"),
        Sample("weight-sum-labels-b16c5", (16, 5), {"weight": W5, "reduction": "sum"},
               make_target=labels),
        Sample("weight-none-labels-b16c5", (16, 5), {"weight": W5, "reduction": "none"},
               make_target=labels),
        Sample("ignore-labels-b32c5", (32, 5), make_target=ignoring(-100),
               note="about 30 % of the labels are ignore_index=-100 (the default)"),
        Sample("ignore1-labels-b32c5", (32, 5), {"ignore_index": 1}, make_target=ignoring(1),
               note="ignore_index inside [0, C): that class never counts"),
        Sample("weight-ignore-none-b16c5", (16, 5),
               {"weight": W5, "ignore_index": 3, "reduction": "none"},
               make_target=ignoring(3)),
        Sample("all-ignored-b4c3", (4, 3), make_target=ignoring(-100, 1.0), guard=False,
               gradcheck=False,
               note="every label ignored: the mean is 0/0 = NaN and the gradient exactly 0, "
               "as torch"),
        Sample("all-ignored-sum-b4c3", (4, 3), {"reduction": "sum"},
               make_target=ignoring(-100, 1.0), guard=False),
        Sample("one-class-ignore-labels-b8c1", (8, 1),
               make_target=lambda rng, p: np.tile(np.array([0, -100], np.int64), 4),
               guard=False, gradcheck=False,
               note="one class, every other label ignored (at every seed): each kept label "
               "is 0 and no placeholder may index past it (softmax: loss 0, gradient 0)"),
        Sample("kdim-labels-b4t3c5", (4, 3, 5), make_target=labels,
               note="K-dimensional (N, d1, C), classes last; torch's (N, C, d1)"),
        Sample("kdim-none-labels-b2h3w4c5", (2, 3, 4, 5), {"reduction": "none"},
               make_target=labels, note="(N, H, W, C) with labels (N, H, W)"),
        Sample("kdim-weight-ignore-b4t3c5", (4, 3, 5), {"weight": W5, "ignore_index": 2},
               make_target=ignoring(2)),
        Sample("kdim-soft-b4t3c5", (4, 3, 5), make_target=soft),
        Sample("kdim-none-soft-b2t3c5", (2, 3, 5), {"reduction": "none"}, make_target=soft),
        Sample("vector-labels-c5", (5,), make_target=labels,
               note="one sample (C,) with a 0-d label, as torch accepts"),
        Sample("vector-soft-c5", (5,), make_target=soft),
        Sample("b0c5-labels", (0, 5), make_target=labels, guard=False, gradcheck=False,
               note="an empty batch: mean NaN (torch), gradient empty"),
        Sample("b0c5-sum-soft", (0, 5), {"reduction": "sum"}, make_target=soft, guard=False),
        Sample("b0c5-none-labels", (0, 5), {"reduction": "none"}, make_target=labels,
               guard=False),
    )


LOGIT_SAMPLES = classification_samples() + (
    Sample("soft-b4c1", (4, 1), make_target=soft, guard=False,
           note="one class, probability targets (all 1): loss 0, gradient exactly 0"),
    Sample("weight-float32-array-labels-b16c5", (16, 5),
           {"weight": np.array(W5, dtype=np.float32)}, make_target=labels,
           note="the class weight as a float32 ndarray (the other samples pass a list)"),
    Sample("weight-int-array-labels-b16c5", (16, 5), {"weight": np.array([1, 2, 1, 1, 3])},
           make_target=labels, note="integer class weights as an int64 ndarray"),
    Sample("extreme-labels-b64c10", (64, 10), make_input=extreme(1e4), make_target=labels,
           gradcheck=False,
           note="logits near ±1e4; f ≈ 1e4 makes central differences round-off bound"),
    Sample("labels-b128c1000", (128, 1000), make_target=labels),
    Sample("weight-soft-b16c5", (16, 5), {"weight": W5}, make_target=soft,
           note="weights with probability targets: the mean divides by N, as torch"),
    Sample("weight-none-soft-b8c5", (8, 5), {"weight": W5, "reduction": "none"},
           make_target=soft),
    Sample("smooth0.1-labels-b32c5", (32, 5), {"label_smoothing": 0.1}, make_target=labels),
    Sample("smooth0.1-soft-b32c5", (32, 5), {"label_smoothing": 0.1}, make_target=soft),
    Sample("smooth1-labels-b16c5", (16, 5), {"label_smoothing": 1.0}, make_target=labels,
           note="label_smoothing=1: only the uniform part is left"),
    Sample("smooth0.2-weight-ignore-b32c5", (32, 5),
           {"label_smoothing": 0.2, "weight": W5, "ignore_index": 4},
           make_target=ignoring(4), note="every option at once"),
    Sample("smooth0.2-weight-none-soft-b8c5", (8, 5),
           {"label_smoothing": 0.2, "weight": W5, "reduction": "none"}, make_target=soft),
    Sample("smooth0.3-kdim-none-b2t3c4", (2, 3, 4),
           {"label_smoothing": 0.3, "reduction": "none", "ignore_index": 0},
           make_target=ignoring(0)),
    Sample("smooth0.1-all-ignored-b4c3", (4, 3), {"label_smoothing": 0.1},
           make_target=ignoring(-100, 1.0), guard=False, gradcheck=False,
           note="the smoothing term is ignored too: NaN mean, zero gradient"),
    Sample("neginf-nontarget-b8c5", (8, 5),
           make_input=with_values({(0, 1): -INF, (1, 0): -INF, (1, 4): -INF,
                                   **{(2, c): -INF for c in range(4)}}),
           make_target=labels_at_largest, gradcheck=False,
           note="−inf at classes that are not the label: finite loss and gradient (torch's "
           "[[0, −inf, 1]], label 0 gives 1.3133, not the NaN of a one-hot product)"),
    Sample("neginf-target-none-b8c5", (8, 5), {"reduction": "none"},
           make_input=with_values({(0, 1): -INF, (1, 0): -INF, (1, 4): -INF}),
           make_target=labels_at_smallest, gradcheck=False,
           note="−inf at the label: that position's loss is +inf, its gradient finite"),
    Sample("nonfinite-none-b6c4", (6, 4), {"reduction": "none"},
           make_input=with_values({(0, 1): -INF, (1, 2): INF, (2, 0): NAN}),
           make_target=labels_at_largest, gradcheck=False,
           note="+inf or NaN logits: that position's loss and gradient are NaN, the others "
           "not"),
    Sample("neginf-soft-none-b6c5", (6, 5), {"reduction": "none"},
           make_input=with_values({(0, 1): -INF, (1, 0): -INF, (1, 3): -INF}),
           make_target=soft_avoiding_zeros, gradcheck=False,
           note="probability targets: torch multiplies, so 0·(−inf) is NaN there (rows 0-1) "
           "while the gradient stays finite"),
    Sample("huge-labels-b6c3", (6, 3),
           make_input=with_values({(0, 0): 3e38, (0, 1): -3e38, (1, 2): -3e38,
                                   (2, 1): 3e38, (2, 2): -3e38}),
           make_target=labels, gradcheck=False,
           note="finite logits of ±3e38 (torch: [[3e38, −3e38, 0]], label 0 gives 0.0): the "
           "float32 shift overflows to −inf harmlessly"),
)

PROBABILITY_SAMPLES = tuple(
    Sample(s.name, s.shape, s.kwargs, probabilities(), s.make_target, guard=s.guard,
           gradcheck=s.gradcheck, note=s.note)
    for s in classification_samples()
) + (
    Sample("peaked-b32c10", (32, 10), make_input=probabilities(0.1), make_target=labels,
           gradcheck=False, note="confident predictions, p down to ~1e-26 (below the step h)"),
    Sample("soft-b4c1", (4, 1), make_input=probabilities(), make_target=soft,
           gradcheck=False,
           note="one class, probability targets: p = t = 1, loss 0, gradient −t/(N·p) "
           "(no finite differences: p + h leaves [0, 1])"),
    Sample("zeros-labels-b16c6", (16, 6), make_input=probabilities_with_zeros,
           make_target=labels_at_largest, gradcheck=False,
           note="p exactly 0 at classes that are not the label (the p >= 0 boundary): loss "
           "finite; gradient 0/0 = NaN there, as torch's log backward gives"),
    Sample("zero-at-target-none-b16c6", (16, 6), {"reduction": "none"},
           make_input=probabilities_with_zeros, make_target=labels_at_smallest,
           gradcheck=False, note="p = 0 at the label: loss +inf, gradient −inf, as torch"),
    Sample("zeros-soft-b16c6", (16, 6), make_input=probabilities_with_zeros,
           make_target=soft_avoiding_zeros, gradcheck=False,
           note="p = 0 under t = 0: contributes 0 to the loss (0·log 0 = 0, not NaN)"),
    Sample("zeros-soft-none-b16c6", (16, 6), {"reduction": "none"},
           make_input=probabilities_with_zeros, make_target=soft, gradcheck=False,
           note="p = 0 under t > 0 in some rows: +inf there"),
)

MSE_4x3 = (zeros(4, 3), zeros(4, 3))


def with_entry(array: np.ndarray, value: float) -> np.ndarray:
    """A copy of ``array`` with its first entry set to ``value``."""
    changed = array.copy()
    changed.flat[0] = value
    return changed

LOSSES = (
    Entry(
        name="cross_entropy",
        layer=CrossEntropyLoss,
        reference=ref_losses.cross_entropy_on_probabilities,
        samples=PROBABILITY_SAMPLES,
        errors=CLASSIFICATION_ERRORS + (
            ErrorInput("not-probabilities", "forward", ValueError,
                       r"prediction must hold probabilities in \[0, 1\]",
                       args=(PROBS_4x3 * 4, LABELS_4)),
            ErrorInput("probability-below-zero", "forward", ValueError,
                       r"prediction must hold probabilities in \[0, 1\].*got values in "
                       r"\[-1e-0?8", args=(with_entry(PROBS_4x3, -1e-8), LABELS_4)),
            ErrorInput("probability-nan", "forward", ValueError,
                       r"prediction must hold probabilities in \[0, 1\].* and NaN",
                       args=(with_entry(PROBS_4x3, NAN), LABELS_4)),
            ErrorInput("weight-with-probability-targets", "forward", ValueError,
                       r"weight is supported with integer labels only",
                       kwargs={"weight": [1.0, 2.0, 3.0]}, args=(PROBS_4x3, PROBS_4x3)),
        ),
        error_args=(PROBS_4x3, LABELS_4),
        description="cross-entropy on probabilities: nll_loss(log p) (labels, weight, "
        "ignore_index) or −Σ t log p",
    ),
    Entry(
        name="softmax_cross_entropy",
        layer=SoftmaxCrossEntropyLoss,
        reference=ref_losses.softmax_cross_entropy,
        samples=LOGIT_SAMPLES,
        errors=CLASSIFICATION_ERRORS + (
            ErrorInput("label-smoothing-above-one", "construct", ValueError,
                       r"label_smoothing must lie in \[0, 1\], got 1.5",
                       kwargs={"label_smoothing": 1.5}),
            ErrorInput("label-smoothing-negative", "construct", ValueError,
                       r"label_smoothing must lie in \[0, 1\], got -0.1",
                       kwargs={"label_smoothing": -0.1}),
            ErrorInput("label-smoothing-str", "construct", TypeError,
                       r"label_smoothing must be a real number",
                       kwargs={"label_smoothing": "0.1"}),
        ),
        error_args=(PROBS_4x3, LABELS_4),
        description="softmax + cross-entropy fused, on logits: nn.CrossEntropyLoss",
    ),
    Entry(
        name="mse",
        layer=MSELoss,
        reference=ref_losses.mse,
        samples=(
            Sample("b32d8", (32, 8), make_target=regression_targets),
            Sample("b4h5w5c3", (4, 5, 5, 3), make_target=regression_targets),
            Sample("sum-b32d8", (32, 8), {"reduction": "sum"}, make_target=regression_targets),
            Sample("none-b8d4", (8, 4), {"reduction": "none"}, make_target=regression_targets),
            Sample("0d", (), make_input=away_from_zero(),
                   make_target=lambda rng, p: np.asarray(p - 1, dtype=p.dtype),
                   note="0-d prediction and target, 1 apart: gradient 2·(p − t) = 2"),
            Sample("vector-d7", (7,), make_target=regression_targets),
            Sample("b0d3", (0, 3), make_target=regression_targets, guard=False,
                   gradcheck=False,
                   note="no elements: the mean is NaN (torch), the gradient empty"),
            Sample("sum-b0d3", (0, 3), {"reduction": "sum"}, make_target=regression_targets,
                   guard=False),
            Sample("nonfinite-none-b4d3", (4, 3), {"reduction": "none"},
                   make_input=with_values({(0, 1): INF, (3, 0): NAN}),
                   make_target=regression_with_nonfinite, gradcheck=False,
                   note="inf − inf and NaN give NaN, inf − x gives inf, as torch"),
            Sample("inf-zero-dy-none-b4d3", (4, 3), {"reduction": "none"},
                   make_input=with_values({(0, 1): INF}), make_target=regression_targets,
                   make_upstream=with_values({(0, 1): 0.0}), gradcheck=False,
                   note="dy = 0 where p − t = +inf: the gradient 2·inf·0 is NaN (torch's "
                   "too), with no NumPy warning"),
            Sample("nonfinite-b4d3", (4, 3),
                   make_input=with_values({(3, 2): -INF}),
                   make_target=lambda rng, p: regression_targets(rng, p), gradcheck=False,
                   note="one −inf prediction: mean +inf, gradient −inf there"),
            Sample("huge-sum-b4d3", (4, 3), {"reduction": "sum"},
                   make_input=near_max(((0, 0),)), make_target=regression_targets,
                   gradcheck=False,
                   note="a finite prediction of 0.75·finfo.max: its square and 2·(p − t) "
                   "overflow to +inf (torch's too) without a NumPy overflow warning"),
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
        ),
        error_args=MSE_4x3,
        description="mean squared error, torch's definition",
    ),
)


# --------------------------------------------------------------------------- linear
def linear_kwargs(i: int, o: int, **extra: Any) -> dict[str, Any]:
    return {"in_features": i, "out_features": o, **extra}


LINEAR = (
    Entry(
        name="linear",
        layer=Linear,
        reference=ref_linear.linear,
        samples=(
            Sample("b32i64o16", (32, 64), linear_kwargs(64, 16)),
            Sample("b1i1o1", (1, 1), linear_kwargs(1, 1), make_input=away_from_zero(),
                   make_upstream=mixed_signs(), setup=uniform_weights(2.0, 3.0),
                   note="x in (0.25, 1), |dy| in (0.25, 2), W from U[2, 3) + N(0, 0.5²) "
                   "(the harness spreads a one-element weight): dx = dy·W, dW = x·dy and db "
                   "= dy cannot be ~0 at any seed (with dy ~ N(0, 1) and W ~ U(−1, 1), "
                   "dx = dy·W missed float32's guard at seed 1744)"),
            Sample("b64i784o10", (64, 784), linear_kwargs(784, 10)),
            Sample("nobias-b8i5o3", (8, 5), linear_kwargs(5, 3, bias=False)),
            Sample("kaiming-b16i20o30", (16, 20),
                   linear_kwargs(20, 30, weight_init="kaiming_normal",
                                 bias_init="torch_default")),
            Sample("b2t3i5o4", (2, 3, 5), linear_kwargs(5, 4),
                   note="x (N, L, in): torch's (*, in_features)"),
            Sample("b2h3w2i4o3", (2, 3, 2, 4), linear_kwargs(4, 3, bias=False)),
            Sample("vector-i6o3", (6,), linear_kwargs(6, 3), note="a 1-D x (in,) -> (out,)"),
            Sample("b0i4o3", (0, 4), linear_kwargs(4, 3), guard=False,
                   note="a zero-size batch: empty y and dx, zero dW and db"),
            Sample("nonfinite-b6i4o3", (6, 4), linear_kwargs(4, 3),
                   make_input=with_values({(0, 0): INF, (1, 1): NAN, (2, 0): INF,
                                           (2, 1): -INF, (3, 0): -INF}),
                   gradcheck=False,
                   note="±inf and NaN in features 0-1: inf·w sums to ±inf, inf − inf and NaN "
                   "to NaN in y and in dW's rows 0-1, as torch; dW's rows 2-3 stay finite"),
            Sample("huge-b4i3o2", (4, 3), linear_kwargs(3, 2),
                   make_input=near_max(((0, 0), (0, 1))),
                   make_upstream=with_values({(0, 0): 2.0, (0, 1): 2.0}),
                   setup=weights_at_least_one, gradcheck=False,
                   note="finite input whose sums overflow: y's row 0 is +inf and dW's rows 0-1 "
                   "too (0.75·max·2), as torch, with no NumPy overflow warning"),
        ),
        errors=parametrized_layer_errors(VECTORS) + subclass_errors(VECTORS) + (
            ErrorInput("x-0d", "forward", ValueError,
                       r"x must have at least 1 dimension\(s\) \(\*, in_features\)",
                       args=(np.array(1.0, dtype=np.float32),)),
            ErrorInput("wrong-feature-size", "forward", ValueError,
                       r"x has 5 features \(in_features\) on axis 1 .* expected 3",
                       args=(zeros(4, 5),)),
            ErrorInput("wrong-feature-size-3d", "forward", ValueError,
                       r"x has 5 features \(in_features\) on axis 2 .* expected 3",
                       args=(zeros(2, 4, 5),)),
            ErrorInput("in-features-zero", "construct", ValueError,
                       r"in_features must be >= 1, got 0", kwargs={"in_features": 0}),
            ErrorInput("out-features-float", "construct", TypeError,
                       r"out_features must be an int, got float", kwargs={"out_features": 2.5}),
            ErrorInput("init-unknown", "construct", ValueError,
                       r"weight_init must be one of .*'xavier_uniform'.*got 'glorot'",
                       kwargs={"weight_init": "glorot"}),
            ErrorInput("bias-init-unknown", "construct", ValueError,
                       r"bias_init must be one of 'zeros', 'torch_default', got 'ones'",
                       kwargs={"bias_init": "ones"}),
            ErrorInput("rng-str", "construct", TypeError,
                       r"rng must be a numpy\.random\.Generator, an int seed or None",
                       kwargs={"rng": "seed"}),
        ),
        error_kwargs={"in_features": 3, "out_features": 2},
        error_args=(VECTORS,),
        error_model=error_models.multilinear,
        description="y = x W + b on (*, in), W stored (in, out)",
    ),
)

ENTRIES = ACTIVATIONS + SOFTMAX + LOSSES + LINEAR
