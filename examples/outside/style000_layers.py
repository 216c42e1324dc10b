# ruff: noqa: ANN001, ANN201 - written as a submission in the seeds' style, without annotations
"""A third-party submission in the API style of seeds 000/001 (not the seeds' code).

Classes with ``forward(x)`` and ``backward(grad_in)``; ``Linear`` keeps ``W`` (in, out), ``b``
and fills ``grad_W`` / ``grad_b``; the loss takes ``forward(predictions, targets)`` and a
``backward()`` with no argument. Two of the seeds' bugs are kept on purpose, where the seeds
had them (see docs/outside.md):

- ``Linear`` draws float64 weights from ``np.random``, so float32 input comes out float64;
- ``CrossEntropyLoss`` clips the probabilities to [1e-12, 1 - 1e-12] (torch does not).

Everything else is meant to be right.
"""

import numpy as np


class Linear:
    def __init__(self, in_features, out_features):
        self.W = np.random.randn(in_features, out_features) / np.sqrt(in_features)
        self.b = np.zeros(out_features)

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a sum is NaN, as in torch
            return x @ self.W + self.b

    def backward(self, grad_in):
        rows = self.x.reshape(-1, self.W.shape[0])
        grads = grad_in.reshape(-1, self.W.shape[1])
        with np.errstate(invalid="ignore", over="ignore"):
            self.grad_W = rows.T @ grads
        self.grad_b = grads.sum(axis=0)
        return grad_in @ self.W.T


class Sigmoid:
    def forward(self, x):
        small = np.exp(-np.abs(x))  # never overflows
        self.output = np.where(x >= 0, 1 / (1 + small), small / (1 + small))
        return self.output

    def backward(self, grad_in):
        return grad_in * self.output * (1 - self.output)


class Softmax:
    """Over the last axis; the backward multiplies by each row's Jacobian."""

    def forward(self, x):
        rows = np.atleast_1d(x)
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, as in torch
            shifted = rows - rows.max(axis=-1, keepdims=True, initial=-np.inf)
        exp = np.exp(shifted)
        self.output = (exp / exp.sum(axis=-1, keepdims=True)).reshape(np.shape(x))
        return self.output

    def backward(self, grad_in):
        shape = np.atleast_1d(self.output).shape
        rows = int(np.prod(shape[:-1]))
        s = self.output.reshape(rows, shape[-1])
        g = grad_in.reshape(rows, shape[-1])
        grad_out = np.empty_like(g)
        for i in range(len(s)):
            jacobian = np.diag(s[i]) - np.outer(s[i], s[i])
            grad_out[i] = jacobian @ g[i]
        return grad_out.reshape(np.shape(grad_in))


class CrossEntropyLoss:
    """On probabilities; ``targets`` one-hot or soft, classes on the last axis."""

    def forward(self, predictions, targets):
        self.targets = targets
        self.predictions = np.clip(predictions, 1e-12, 1.0 - 1e-12)  # the seeds' clipping
        self.rows = targets.size // targets.shape[-1] if targets.ndim else 1
        with np.errstate(invalid="ignore"):  # no rows: the mean is NaN, as in torch
            return float(-np.sum(self.targets * np.log(self.predictions)) / self.rows)

    def backward(self):
        return -self.targets / self.predictions / max(self.rows, 1)
