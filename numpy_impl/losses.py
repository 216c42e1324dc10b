"""Losses: cross-entropy on probabilities, fused softmax + cross-entropy on logits, MSE.

Each ``forward(prediction, target)`` returns a Python float; ``backward()`` returns
dL/dprediction in the prediction's dtype. ``reduction="mean"`` averages over the batch
(cross-entropy) or over every element (MSE), exactly as torch's defaults do.
"""

from __future__ import annotations

import numpy as np

from numpy_impl.base import Loss
from numpy_impl.softmax import stable_log_softmax
from numpy_impl.validation import (
    check_axis_size,
    check_dtype_matches,
    check_float_array,
    check_rank,
    check_same_shape,
)


def _targets_as_distribution(
    where: str, prediction: np.ndarray, target: object
) -> np.ndarray:
    """Integer labels (N,) in [0, C) → one-hot (N, C); (N, C) float targets pass through.

    Labels must be an integer array; probability targets must match the prediction's shape
    and dtype and be non-negative.
    """
    n, c = prediction.shape
    if not isinstance(target, np.ndarray):
        raise TypeError(
            f"{where}: target must be a numpy.ndarray of integer labels (N,) or "
            f"probabilities (N, C), got {type(target).__name__}"
        )
    if np.issubdtype(target.dtype, np.integer):
        check_rank(where, "target", target, 1, "(batch,) of class indices")
        check_axis_size(where, "target", target, 0, n, "labels (batch size of prediction)")
        if target.size and (target.min() < 0 or target.max() >= c):
            bad = target[(target < 0) | (target >= c)]
            raise ValueError(
                f"{where}: target labels must lie in [0, {c}) for {c} classes, "
                f"got {bad[:5].tolist()}"
            )
        one_hot = np.zeros_like(prediction)
        one_hot[np.arange(n), target] = 1
        return one_hot
    if not np.issubdtype(target.dtype, np.floating):
        raise TypeError(
            f"{where}: target must hold integer labels or float probabilities, "
            f"got dtype {target.dtype}"
        )
    check_same_shape(where, "target", target, prediction.shape, "prediction")
    check_dtype_matches(where, "target", target, prediction.dtype)
    if np.any(target < 0) or not np.all(np.isfinite(target)):
        raise ValueError(f"{where}: probability targets must be finite and >= 0")
    return target


def _check_prediction_2d(where: str, prediction: object) -> np.ndarray:
    prediction = check_float_array(where, "prediction", prediction)
    check_rank(where, "prediction", prediction, 2, "(batch, classes)")
    if prediction.shape[1] == 0:
        raise ValueError(f"{where}: prediction must have at least one class, got shape "
                         f"{prediction.shape}")
    return prediction


class CrossEntropyLoss(Loss):
    """Cross-entropy on probabilities p (the seeds' semantics), targets t one-hot or soft.

    L = −(1/N) Σₙ Σ_c t_nc log p_nc   (``"sum"`` drops the 1/N);
    dL/dp = −t / p · (1/N), and 0 wherever t = 0.

    Unlike the seeds this does not clip p at 1e-12 (torch does not): p = 0 under a positive
    target gives L = +inf, as ``nll_loss(log p)`` does; terms with t = 0 contribute 0, never
    NaN. p must lie in [0, 1].
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        where = f"{self.where}.forward"
        p = _check_prediction_2d(where, prediction)
        if np.any(~((p >= 0) & (p <= 1))):
            raise ValueError(
                f"{where}: prediction must hold probabilities in [0, 1] (apply Softmax first, "
                f"or use SoftmaxCrossEntropyLoss on logits); got values in "
                f"[{np.nanmin(p)}, {np.nanmax(p)}]"
                + (" and NaN" if np.isnan(p).any() else "")
            )
        t = _targets_as_distribution(where, p, target)
        positive = t > 0
        with np.errstate(divide="ignore"):
            log_p = np.log(p, out=np.zeros_like(p), where=positive)
        scale = 1 / p.shape[0] if self.reduction == "mean" else 1.0
        self._cache = (p, t, positive, scale)
        return float(-np.sum(t * log_p) * scale)

    def backward(self) -> np.ndarray:
        p, t, positive, scale = self._take_cache()
        with np.errstate(divide="ignore"):
            quotient = np.divide(t, p, out=np.zeros_like(p), where=positive)
        return (-quotient * scale).astype(p.dtype, copy=False)


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax fused with cross-entropy, on logits z; targets are labels or probabilities.

    L = −(1/N) Σₙ Σ_c t_nc log softmax(z)_nc;
    dL/dz = (softmax(z) · Σ_c t_nc − t) · (1/N)   (= softmax(z) − t for one-hot rows).

    log softmax is computed with the max shift, so logits of ±1e4 are exact.
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        where = f"{self.where}.forward"
        z = _check_prediction_2d(where, prediction)
        t = _targets_as_distribution(where, z, target)
        log_s = stable_log_softmax(z)
        scale = 1 / z.shape[0] if self.reduction == "mean" else 1.0
        self._cache = (log_s, t, scale)
        return float(-np.sum(t * log_s) * scale)

    def backward(self) -> np.ndarray:
        log_s, t, scale = self._take_cache()
        dz = (np.exp(log_s) * np.sum(t, axis=1, keepdims=True) - t) * scale
        return dz.astype(log_s.dtype, copy=False)


class MSELoss(Loss):
    """Mean squared error with torch's definition (no ½ factor).

    L = (1/M) Σ (ŷ − y)²  over all M elements (``"sum"`` drops the 1/M);
    dL/dŷ = 2 (ŷ − y) / M.

    The seed's version returns 0.5·mean and a backward of (y − ŷ)/N: the wrong sign, a
    spurious ½ and the batch size instead of the element count.
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        where = f"{self.where}.forward"
        prediction = check_float_array(where, "prediction", prediction)
        target = check_float_array(where, "target", target)
        check_same_shape(where, "target", target, prediction.shape, "prediction")
        check_dtype_matches(where, "target", target, prediction.dtype)
        if prediction.size == 0:
            # torch returns NaN for the mean over no elements; refuse instead.
            raise ValueError(f"{where}: prediction must have at least one element, got shape "
                             f"{prediction.shape}")
        diff = prediction - target
        scale = 1 / diff.size if self.reduction == "mean" else 1.0
        self._cache = (diff, scale)
        return float(np.sum(diff * diff) * scale)

    def backward(self) -> np.ndarray:
        diff, scale = self._take_cache()
        return (2 * scale * diff).astype(diff.dtype, copy=False)
