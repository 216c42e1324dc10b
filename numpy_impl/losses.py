"""Losses: cross-entropy on probabilities, fused softmax + cross-entropy on logits, MSE.

``forward(prediction, target)`` returns a Python float for ``reduction="mean"`` (torch's
default) and ``"sum"``, and the per-element loss array for ``"none"``; ``backward()``
(``backward(dy)`` with ``"none"``, dy shaped like the per-element loss) returns
dL/dprediction in the prediction's dtype. The constructors take torch's arguments in torch's
positional order; torch's deprecated ``size_average`` and ``reduce`` keep their positions
but only accept None (use ``reduction``), so a torch call translated argument by argument
can never land a value in the wrong parameter.

The classification losses take predictions (*, C) with the classes on the LAST axis: (C,)
for one sample, (N, C), or (N, d1, …, C) (torch's K-dimensional (N, C, d1, …), channels
last), and either integer labels of the leading shape (N, d1, …) (0-d for a (C,)
prediction) or probability targets of the prediction's shape. Non-finite values follow
torch: an ignored or a class-weight-0 position with log p = −inf is NaN (0·∞, as torch's
``−w·log p``), a mean over no (unignored) elements is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from numpy_impl.base import Loss
from numpy_impl.softmax import stable_log_softmax
from numpy_impl.validation import (
    check_dtype_matches,
    check_float_array,
    check_fraction,
    check_int,
    check_min_rank,
    check_plain_array,
    check_same_shape,
)


def check_deprecated(where: str, name: str, value: object) -> None:
    """Torch's deprecated ``size_average`` / ``reduce``: their positions are kept so that
    positional calls line up with torch's, but only None is accepted."""
    if value is not None:
        raise ValueError(f"{where}: {name} is deprecated in torch and not supported; pass "
                         f"None and use reduction='mean' | 'sum' | 'none' (got {value!r})")


def check_class_weight(where: str, weight: object) -> np.ndarray | None:
    """A rescaling weight per class: None, or a 1-D sequence/array of finite reals (stored as
    a read-only float64 copy; each forward uses it in the prediction's dtype)."""
    if weight is None:
        return None
    if isinstance(weight, np.ndarray):
        check_plain_array(where, "weight", weight, "of one real number per class")
    try:
        values = np.array(weight, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: weight must be None or a 1-D array of one real number per "
                        f"class, got {type(weight).__name__}") from error
    if isinstance(weight, np.ndarray) and not (np.issubdtype(weight.dtype, np.floating)
                                               or np.issubdtype(weight.dtype, np.integer)):
        raise TypeError(f"{where}: weight must hold real numbers, got dtype {weight.dtype}")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{where}: weight must be a 1-D array with one entry per class, got "
                         f"shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{where}: weight must be finite, got {values.tolist()}")
    values.flags.writeable = False
    return values


def check_predictions(where: str, prediction: object) -> np.ndarray:
    """Predictions (*, C): at least one axis, at least one class on the last."""
    array = check_float_array(where, "prediction", prediction)
    check_min_rank(where, "prediction", array, 1, "(*, classes), classes last")
    if array.shape[-1] == 0:
        raise ValueError(f"{where}: prediction must have at least one class on its last axis, "
                         f"got shape {array.shape}")
    return array


@dataclass(frozen=True)
class Labels:
    """Integer targets: ``index`` (int64, ignored positions set to class 0), ``keep`` (False
    where the label is ``ignore_index``)."""

    index: np.ndarray
    keep: np.ndarray


def parse_targets(where: str, prediction: np.ndarray, target: object, ignore_index: int
                  ) -> Labels | np.ndarray:
    """Integer labels of shape ``prediction.shape[:-1]``, each in [0, C) or equal to
    ``ignore_index`` (→ :class:`Labels`), or float probabilities shaped and typed like the
    prediction, finite and >= 0 (returned as they are; ``ignore_index`` must then be
    negative, as torch requires)."""
    kind = "of integer labels (*,) or probabilities (*, C)"
    target = check_plain_array(where, "target", target, kind)
    classes = prediction.shape[-1]
    if np.issubdtype(target.dtype, np.integer):
        check_same_shape(where, "target", target, prediction.shape[:-1],
                         "prediction without its class axis: one label per position")
        labels = target.astype(np.int64)
        keep = labels != ignore_index
        valid = ((labels >= 0) & (labels < classes)) | ~keep
        if not valid.all():
            raise ValueError(
                f"{where}: target labels must lie in [0, {classes}) for {classes} classes "
                f"(or equal ignore_index={ignore_index}), got {labels[~valid][:5].tolist()}")
        return Labels(np.where(keep, labels, 0), keep)
    if not np.issubdtype(target.dtype, np.floating):
        raise TypeError(f"{where}: target must hold integer labels or float probabilities, "
                        f"got dtype {target.dtype}")
    check_same_shape(where, "target", target, prediction.shape, "prediction")
    check_dtype_matches(where, "target", target, prediction.dtype)
    if not np.all(np.isfinite(target)) or np.any(target < 0):
        raise ValueError(f"{where}: probability targets must be finite and >= 0")
    if ignore_index >= 0:
        raise ValueError(f"{where}: ignore_index={ignore_index} is not supported with "
                         f"probability targets (torch refuses it too); use integer labels")
    return target


def _per_class(where: str, weight: np.ndarray | None, classes: int, dtype: np.dtype
               ) -> np.ndarray | None:
    """The class weight in ``dtype``, checked against the number of classes."""
    if weight is None:
        return None
    if weight.size != classes:
        raise ValueError(f"{where}: weight has {weight.size} entries, expected one per class "
                         f"({classes}, the size of the prediction's last axis)")
    return weight.astype(dtype)


def _at_labels(values: np.ndarray, labels: Labels) -> np.ndarray:
    """values[..., label] at every position (shape (*,))."""
    return np.take_along_axis(values, labels.index[..., None], axis=-1)[..., 0]


def _label_weights(weight: np.ndarray | None, labels: Labels, dtype: np.dtype) -> np.ndarray:
    """w[label] per position, 0 where ignored (1 per kept position without a weight)."""
    w = np.ones(labels.index.shape, dtype) if weight is None else weight[labels.index]
    return np.where(labels.keep, w, 0).astype(dtype, copy=False)


def _coefficient(loss: Loss, dy: object, denominator: Any, keep: np.ndarray | None,
                 dtype: np.dtype) -> np.ndarray:
    """dL/d(per-element loss) per position: dy ("none"), 1 ("sum") or 1/denominator
    ("mean"), zero where ``keep`` is False (even when the denominator is 0, as torch)."""
    upstream = loss._upstream(dy)
    if loss.reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            upstream = np.divide(upstream, denominator, dtype=np.float64)
    coefficient = np.asarray(upstream, dtype=dtype)
    if keep is not None:
        coefficient = np.where(keep, coefficient, 0).astype(dtype, copy=False)
    return coefficient


def _scatter_subtract(grad: np.ndarray, labels: Labels, values: np.ndarray) -> None:
    """grad[..., label] −= values, in place."""
    index = labels.index[..., None]
    picked = np.take_along_axis(grad, index, axis=-1)
    np.put_along_axis(grad, index, picked - values[..., None], axis=-1)


class _ClassificationLoss(Loss):
    """What the two cross-entropies share: class weights, ``ignore_index``, targets."""

    def __init__(self, weight: object = None, size_average: object = None,
                 ignore_index: int = -100, reduce: object = None, reduction: str = "mean"
                 ) -> None:
        check_deprecated(self.where, "size_average", size_average)
        check_deprecated(self.where, "reduce", reduce)
        super().__init__(reduction)
        self.weight = check_class_weight(self.where, weight)
        self.ignore_index = check_int(self.where, "ignore_index", ignore_index)

    def config(self) -> dict[str, Any]:
        return {"weight": self.weight, "ignore_index": self.ignore_index,
                "reduction": self.reduction}


class CrossEntropyLoss(_ClassificationLoss):
    """Cross-entropy on probabilities p (the seeds' semantics): torch's
    ``nll_loss(log p, target, weight, ignore_index, reduction)`` for integer labels, and
    −Σ_c t_c log p_c (with 0·log 0 = 0) for probability targets.

    Labels y: ℓ = −w_y log p_y per position (0 where y = ignore_index);
    ``"mean"`` = Σ ℓ / Σ w_y over the kept positions (NaN when none is kept, as torch);
    dL/dp = −(coefficient·w_y) / p at the label and 0 / p elsewhere.
    Probability targets t: ℓ = −Σ_c t_c log p_c, ``"mean"`` = Σ ℓ / (number of positions),
    dL/dp = −coefficient · t / p. A class ``weight`` goes with labels only (torch's
    nll_loss takes no probability targets; no torch equivalent exists for the rest), and so
    does ``ignore_index``.

    Unlike the seeds this does not clip p at 1e-12 (torch does not): p = 0 under a positive
    target gives L = +inf and gradient −inf, as ``nll_loss(log p)``; a term with t = 0
    contributes 0 to the loss, never NaN. Its gradient is IEEE's 0/p: 0, and NaN at p = 0
    exactly, which is what torch's autograd gives (log's backward divides by p). p must lie
    in [0, 1].

    Signature: torch's ``nn.NLLLoss`` (weight, size_average, ignore_index, reduce,
    reduction), the module this loss is ``log`` + away from.
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        where = f"{self.where}.forward"
        p = check_predictions(where, prediction)
        if not np.all((p >= 0) & (p <= 1)):
            raise ValueError(
                f"{where}: prediction must hold probabilities in [0, 1] (apply Softmax first, "
                f"or use SoftmaxCrossEntropyLoss on logits); got values in "
                f"[{np.nanmin(p)!s}, {np.nanmax(p)!s}]"
                + (" and NaN" if np.isnan(p).any() else "")
            )
        targets = parse_targets(where, p, target, self.ignore_index)
        weight = _per_class(where, self.weight, p.shape[-1], p.dtype)
        if isinstance(targets, Labels):
            w = _label_weights(weight, targets, p.dtype)
            with np.errstate(divide="ignore", invalid="ignore"):  # log 0; 0·∞ at w = 0
                per = np.where(targets.keep, -w * np.log(_at_labels(p, targets)), 0)
            self._remember((p, targets, w), prediction, target)
            return self._reduced(per.astype(p.dtype, copy=False), np.sum(w))
        if weight is not None:
            raise ValueError(f"{where}: weight is supported with integer labels only (torch's "
                             f"equivalent, nll_loss(log p, weight=...), takes labels)")
        positive = targets > 0
        with np.errstate(divide="ignore"):
            log_p = np.log(p, out=np.zeros_like(p), where=positive)
        per = -np.sum(targets * log_p, axis=-1)
        self._remember((p, targets, None), prediction, target)
        return self._reduced(per, per.size)

    def backward(self, dy: object = None) -> np.ndarray:
        p, targets, w = self._take_cache()
        if isinstance(targets, Labels):
            coefficient = _coefficient(self, dy, np.sum(w), targets.keep, p.dtype)
            numerator = np.zeros_like(p)
            _scatter_subtract(numerator, targets, -coefficient * w)
        else:
            coefficient = _coefficient(self, dy, p[..., 0].size, None, p.dtype)
            numerator = coefficient[..., None] * targets
        with np.errstate(divide="ignore", invalid="ignore"):  # t/0 = inf, 0/0 = NaN as torch
            return (-numerator / p).astype(p.dtype, copy=False)


class SoftmaxCrossEntropyLoss(_ClassificationLoss):
    """Softmax fused with cross-entropy on logits z: torch's ``nn.CrossEntropyLoss``, with
    its signature (weight, size_average, ignore_index, reduce, reduction, label_smoothing).

    With log s = log softmax(z) over the class (last) axis, class weights w (1 without),
    label smoothing ε and C classes, per position:

    - labels y:  ℓ = (1 − ε)·(−w_y log s_y) + (ε/C)·(−Σ_c w_c log s_c), 0 where
      y = ignore_index; ``"mean"`` = Σ ℓ / Σ w_y over the kept positions (NaN when none is);
      dℓ/dz = (1 − ε)·w_y·(s − e_y) + (ε/C)·(Σ_c w_c · s − w);
    - probability targets t:  t' = (1 − ε)·t + ε/C,  ℓ = −Σ_c w_c t'_c log s_c,
      ``"mean"`` = Σ ℓ / (number of positions);  dℓ/dz = (Σ_c w_c t'_c)·s − w ⊙ t'.

    log softmax is computed with the max shift, so logits of ±1e4 are exact, and with
    labels only the target column is read: a −inf logit elsewhere (an impossible class)
    gives a finite loss, where a one-hot product would give 0·(−inf) = NaN. Torch's
    probability-target formula does multiply, so there a −inf logit under t = 0 is NaN.
    """

    def __init__(self, weight: object = None, size_average: object = None,
                 ignore_index: int = -100, reduce: object = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = check_fraction(self.where, "label_smoothing", label_smoothing)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "label_smoothing": self.label_smoothing}

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        where = f"{self.where}.forward"
        z = check_predictions(where, prediction)
        targets = parse_targets(where, z, target, self.ignore_index)
        classes, dtype = z.shape[-1], z.dtype
        weight = _per_class(where, self.weight, classes, dtype)
        eps = dtype.type(self.label_smoothing)
        log_s = np.asarray(stable_log_softmax(z))
        with np.errstate(invalid="ignore"):  # 0·(−inf) = NaN, as torch's products give
            if isinstance(targets, Labels):
                w = _label_weights(weight, targets, dtype)
                per = np.where(targets.keep, -w * _at_labels(log_s, targets), 0)
                if eps:
                    weighted = log_s if weight is None else log_s * weight
                    smooth = np.where(targets.keep, -np.sum(weighted, axis=-1), 0)
                    per = (1 - eps) * per + (eps / classes) * smooth
                self._remember((log_s, targets, w, weight), prediction, target)
                return self._reduced(per.astype(dtype, copy=False), np.sum(w))
            smoothed = targets if not eps else targets * (1 - eps) + eps / classes
            weighted_t = smoothed if weight is None else smoothed * weight
            per = -np.sum(weighted_t * log_s, axis=-1)
        self._remember((log_s, weighted_t, None, None), prediction, target)
        return self._reduced(per.astype(dtype, copy=False), per.size)

    def backward(self, dy: object = None) -> np.ndarray:
        log_s, targets, w, weight = self._take_cache()
        dtype, classes = log_s.dtype, log_s.shape[-1]
        s = np.exp(log_s)
        with np.errstate(invalid="ignore"):  # ∞·0 when the mean's denominator is 0: NaN
            if isinstance(targets, Labels):
                eps = dtype.type(self.label_smoothing)
                coefficient = _coefficient(self, dy, np.sum(w), targets.keep, dtype)
                at_label = coefficient * (1 - eps) * w
                per_class = np.ones(classes, dtype) if weight is None else weight
                on_s = at_label + coefficient * (eps / classes) * np.sum(per_class)
                dz = s * on_s[..., None]
                _scatter_subtract(dz, targets, at_label)
                if eps:
                    dz -= (coefficient * (eps / classes))[..., None] * per_class
                return dz.astype(dtype, copy=False)
            coefficient = _coefficient(self, dy, log_s[..., 0].size, None, dtype)
            total = np.sum(targets, axis=-1, keepdims=True)
            dz = coefficient[..., None] * (s * total - targets)
        return dz.astype(dtype, copy=False)


class MSELoss(Loss):
    """Mean squared error with torch's definition (no ½ factor), torch's signature
    (size_average, reduce, reduction).

    ℓ = (ŷ − y)² per element;  ``"mean"`` = (1/M) Σ ℓ over all M elements (NaN for M = 0, as
    torch), ``"sum"`` = Σ ℓ;  dL/dŷ = 2 (ŷ − y) · coefficient (1/M, 1 or dy).

    Shapes must agree exactly: torch broadcasts a (4, 1) target against (4, 3) with a
    warning, which is almost always a bug; here it is refused. The seed's version returns
    0.5·mean and a backward of (y − ŷ)/N: the wrong sign, a spurious ½ and the batch size
    instead of the element count.
    """

    def __init__(self, size_average: object = None, reduce: object = None,
                 reduction: str = "mean") -> None:
        check_deprecated(self.where, "size_average", size_average)
        check_deprecated(self.where, "reduce", reduce)
        super().__init__(reduction)

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        where = f"{self.where}.forward"
        prediction = check_float_array(where, "prediction", prediction)
        target = check_float_array(where, "target", target)
        check_same_shape(where, "target", target, prediction.shape, "prediction")
        check_dtype_matches(where, "target", target, prediction.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # inf − inf, overflowing squares
            diff = np.asarray(prediction - target)
            per = np.asarray(diff * diff)
        scale = 1 / diff.size if self.reduction == "mean" and diff.size else 1.0
        self._cache = (diff, scale)
        return self._reduced(per)

    def backward(self, dy: object = None) -> np.ndarray:
        diff, scale = self._take_cache()
        upstream = self._upstream(dy)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(2 * scale * diff * upstream).astype(diff.dtype, copy=False)
