"""Stock torch counterparts of :mod:`numpy_impl.losses`.

Each reference is called as ``ref(prediction, target)`` with torch tensors in the NumPy
layout (classes LAST); it moves the class axis to dim 1 where torch wants it (K-dimensional
inputs (N, d1, …, C) → (N, C, d1, …)), casts integer labels to int64 (torch takes int64 or
uint8 only) and the class weight to the prediction's dtype.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from numpy_impl import losses as np_losses
from torch_ref.base import Reference


def _class_weight(layer: Any, like: torch.Tensor) -> torch.Tensor | None:
    return None if layer.weight is None else torch.from_numpy(layer.weight.copy()).to(like.dtype)


def _classes_first(t: torch.Tensor) -> torch.Tensor:
    """(N, d1, …, C) → (N, C, d1, …), contiguous (torch's nll_loss2d backward refuses a
    strided input: "grad_input must be contiguous"); (C,) and (N, C) are torch's layout
    already."""
    return t.movedim(-1, 1).contiguous() if t.dim() > 2 else t


def cross_entropy_on_probabilities(layer: np_losses.CrossEntropyLoss) -> Reference:
    """CE on probabilities: ``F.nll_loss(log p, labels, weight, ignore_index, reduction)``
    for labels; for probability targets −Σ_c ``torch.special.xlogy(t, p)`` per position,
    then torch's reduction.

    torch has no loss on probabilities with probability targets, and
    ``cross_entropy(log p, t)`` would add a log Σp term whose gradient is not that of CE, while
    ``F.kl_div`` (KL(t ‖ p) + H(t) has CE's value and gradient) gives NaN at p = 0 under
    t = 0 (it multiplies 0·log 0). ``xlogy`` is torch's own x·log y with 0·log y = 0.
    """
    reduction = layer.reduction

    def loss(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if not t.is_floating_point():
            return F.nll_loss(_classes_first(torch.log(p)), t.long(),
                              weight=_class_weight(layer, p), ignore_index=layer.ignore_index,
                              reduction=reduction)
        per = -torch.special.xlogy(t, p).sum(-1)
        return {"mean": torch.mean, "sum": torch.sum}.get(reduction, lambda v: v)(per)

    return Reference(loss)


def softmax_cross_entropy(layer: np_losses.SoftmaxCrossEntropyLoss) -> Reference:
    """``nn.CrossEntropyLoss(weight, ignore_index=, reduction=, label_smoothing=)`` on logits
    (labels or class probabilities), classes moved to dim 1."""

    def loss(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        module = nn.CrossEntropyLoss(_class_weight(layer, z), ignore_index=layer.ignore_index,
                                     reduction=layer.reduction,
                                     label_smoothing=layer.label_smoothing)
        target = _classes_first(t) if t.is_floating_point() else t.long()
        return module(_classes_first(z), target)

    return Reference(loss)


def mse(layer: np_losses.MSELoss) -> Reference:
    return Reference(nn.MSELoss(reduction=layer.reduction))
