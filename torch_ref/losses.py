"""Stock torch counterparts of :mod:`numpy_impl.losses`.

Each reference is called as ``ref(prediction, target)`` with torch tensors; integer labels
arrive as int64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from numpy_impl import losses as np_losses
from torch_ref.base import Reference


def cross_entropy_on_probabilities(layer: np_losses.CrossEntropyLoss) -> Reference:
    """CE on probabilities: ``nll_loss(log p)`` for labels; KL + entropy for soft targets.

    torch has no loss on probabilities with soft targets, and ``cross_entropy(log p, t)``
    would add a log Σp term whose gradient is not that of CE. The identity
    CE(t, p) = KL(t ‖ p) + H(t), with H(t) constant in p, gives the same value and the same
    gradient from stock ``F.kl_div`` and ``torch.special.entr``.
    """
    reduction = layer.reduction

    def loss(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if not t.is_floating_point():
            return F.nll_loss(torch.log(p), t, reduction=reduction)
        kl_reduction = "batchmean" if reduction == "mean" else "sum"
        entropy = torch.special.entr(t).sum()
        if reduction == "mean":
            entropy = entropy / p.shape[0]
        return F.kl_div(torch.log(p), t, reduction=kl_reduction) + entropy

    return Reference(loss)


def softmax_cross_entropy(layer: np_losses.SoftmaxCrossEntropyLoss) -> Reference:
    """``nn.CrossEntropyLoss`` on logits (labels or class probabilities)."""
    return Reference(nn.CrossEntropyLoss(reduction=layer.reduction))


def mse(layer: np_losses.MSELoss) -> Reference:
    return Reference(nn.MSELoss(reduction=layer.reduction))
