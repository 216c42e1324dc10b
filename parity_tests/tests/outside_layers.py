"""Small outside layers for the target tests: each one is built for one verdict.

They are written as a third party would (no numpy_impl base class): ``ContractLinear``
follows the project's contract exactly (zero glue), the others each break one thing.
"""

from __future__ import annotations

import numpy as np


class ContractLinear:
    """y = x W + b with ``params``/``grads`` under torch's names, W stored (in, out)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: object = np.float64) -> None:
        scale = 1 / np.sqrt(in_features)
        weight = np.random.uniform(-scale, scale, (in_features, out_features))
        self.params = {"weight": weight.astype(dtype)}
        if bias:
            self.params["bias"] = np.random.uniform(-scale, scale, out_features).astype(dtype)
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        y = x @ self.params["weight"]
        return y + self.params["bias"] if "bias" in self.params else y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.grads = {"weight": self.x.T @ dy}
        if "bias" in self.params:
            self.grads["bias"] = dy.sum(axis=0)
        return dy @ self.params["weight"].T


class CrashingBackwardTanh:
    """A correct forward and a backward that raises: forward passes, gradients are ERROR."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise IndexError("backward: list index out of range")


class UpcastingSigmoid:
    """Correct values, computed and returned in float64 whatever the input: dtype fails."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.y * (1 - self.y)


class FlatteningReLU:
    """Returns a flattened output: a wrong shape, caught before the torch side's backward."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.maximum(x, 0).reshape(-1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return (dy.reshape(self.x.shape) * (self.x > 0)).astype(self.x.dtype)


class LazyChannelsFirstConv:
    """A 1×1 convolution in NCHW, weight (out, in) and bias (1, out) created on the first
    forward (the input fixes the channel count)."""

    def __init__(self, out_channels: int, stride: int = 1, bias: bool = True) -> None:
        self.out_channels, self.stride, self.use_bias = out_channels, stride, bias
        self.w: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.w is None:
            self.w = np.random.standard_normal((self.out_channels, x.shape[1])).astype(x.dtype)
            self.b = np.zeros((1, self.out_channels), dtype=x.dtype)
        self.x = x[:, :, ::self.stride, ::self.stride]
        y = np.einsum("oc,nchw->nohw", self.w, self.x)
        return y + self.b.reshape(1, -1, 1, 1) if self.use_bias else y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.dw = np.einsum("nohw,nchw->oc", dy, self.x)
        self.db = dy.sum(axis=(0, 2, 3)).reshape(1, -1)
        dx = np.zeros((*self.x.shape[:2], dy.shape[2] * self.stride, dy.shape[3] * self.stride),
                      dtype=dy.dtype)
        dx[:, :, ::self.stride, ::self.stride] = np.einsum("oc,nohw->nchw", self.w, dy)
        return dx


class TargetFirstMSE:
    """ℓᵢ = (pᵢ − tᵢ)², reduced by ``reduction``; called target first, and its backward takes
    no upstream gradient: ∂(reduced loss)/∂p, which under "none" is ∂(Σ ℓ)/∂p = 2(p − t).
    ``mean_under_none`` is the bug of dividing by the count under "none" as well."""

    def __init__(self, reduction: str = "mean", mean_under_none: bool = False) -> None:
        self.reduction, self.mean_under_none = reduction, mean_under_none

    def forward(self, target: np.ndarray, prediction: np.ndarray) -> np.ndarray:
        self.p, self.t = prediction, target
        loss = (prediction - target) ** 2
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()

    def backward(self, target: np.ndarray, prediction: np.ndarray) -> np.ndarray:
        grad = 2 * (prediction - target)
        count = max(prediction.size, 1)
        divide = self.reduction == "mean" or (self.reduction == "none" and self.mean_under_none)
        return (grad / count).astype(prediction.dtype) if divide else grad


class OneHotCrossEntropy:
    """ℓᵢ = −Σ_c tᵢc log softmax(pᵢ)_c over the last axis, one-hot (or soft) targets; its
    backward takes no argument: ∂(reduced loss)/∂p = (softmax(p) − t) per row, divided by
    the row count for the mean."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
        shifted = prediction - prediction.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        self.softmax, self.t = np.exp(log_p), target
        loss = -(target * log_p).sum(axis=-1)
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()

    def backward(self) -> np.ndarray:
        grad = self.softmax - self.t
        rows = max(grad.size // max(grad.shape[-1], 1), 1)
        return grad / rows if self.reduction == "mean" else grad
