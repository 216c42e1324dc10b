# ruff: noqa: ANN001, ANN201 - written as a submission in the seeds' style, without annotations
"""A third-party submission in the API style of seed 004 (not the seed's code).

Layers keep their input (``self.input``) or output and take ``backward(grad_output)``;
``Dense(input_dim, output_dim)`` stores ``w`` as (out, in) and ``b`` as (1, out) and fills
``dw`` / ``db``; losses take ``forward(predicted, target)`` and ``backward()``. Four of the
seed's bugs are kept on purpose, where the seed had them (see docs/outside.md):

- ``Dense`` draws float64 weights from ``np.random``, so float32 input comes out float64;
- ``LeakyReLU`` has slope 1 at x = 0 (torch: ``negative_slope``);
- ``CrossEntropywithSoftmax`` clips the probabilities to [1e-10, 1 - 1e-10] in the loss;
- ``MSELoss.backward`` returns (target - predicted) / batch size: the wrong sign, no factor
  2 and the batch size instead of the number of elements (torch: 2 (p - t) / M).

Everything else is meant to be right.
"""

import numpy as np


def softmax(x):
    x = np.atleast_1d(x)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, as in torch
        shifted = x - np.max(x, axis=-1, keepdims=True, initial=-np.inf)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)


class ReLU:
    def forward(self, x):
        self.input = x
        return np.maximum(0, x)

    def backward(self, grad_output):
        return grad_output * np.logical_not(self.input <= 0)  # NaN passes, as in torch


class Sigmoid:
    def forward(self, x):
        self.output = 0.5 * (1 + np.tanh(0.5 * x))  # the same function, without overflow
        return self.output

    def backward(self, grad_output):
        return grad_output * self.output * (1 - self.output)


class Tanh:
    def forward(self, x):
        self.output = np.tanh(x)
        return self.output

    def backward(self, grad_output):
        return grad_output * (1 - self.output ** 2)


class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def forward(self, x):
        self.input = x
        with np.errstate(invalid="ignore"):  # alpha = 0 at -inf: NaN, as in torch
            return np.where(x > 0, x, self.alpha * x)

    def backward(self, grad_output):
        # the seed's slope at 0: x >= 0 passes dy on (torch: x > 0)
        return np.where(self.input >= 0, grad_output, self.alpha * grad_output)


class Softmax:
    """Over the last axis; the backward applies every row's Jacobian at once."""

    def forward(self, x):
        self.output = softmax(x).reshape(np.shape(x))
        return self.output

    def backward(self, grad_output):
        s = np.atleast_1d(self.output)
        jacobians = s[..., :, None] * (np.eye(s.shape[-1], dtype=s.dtype) - s[..., None, :])
        grad = np.einsum("...ij,...j->...i", jacobians, np.atleast_1d(grad_output))
        return grad.reshape(np.shape(grad_output))


class Dense:
    def __init__(self, input_dim, output_dim):
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.w = np.random.uniform(-limit, limit, (output_dim, input_dim))  # float64
        self.b = np.zeros((1, output_dim))

    def forward(self, x):
        self.input = x
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a sum is NaN, as in torch
            return x @ self.w.T + self.b[0]

    def backward(self, grad_output):
        x = self.input.reshape(-1, self.w.shape[1])
        g = grad_output.reshape(-1, self.w.shape[0])
        with np.errstate(invalid="ignore", over="ignore"):
            self.dw = g.T @ x
        self.db = g.sum(axis=0, keepdims=True)
        return grad_output @ self.w

    def update(self, lr=0.01):
        self.w -= lr * self.dw
        self.b -= lr * self.db


class CrossEntropywithSoftmax:
    """On logits; ``target`` one-hot or soft, classes on the last axis."""

    def forward(self, x, target):
        self.probs, self.target = softmax(x), target
        self.rows = target.size // target.shape[-1]
        eps = 1e-10
        log_probs = np.log(np.clip(self.probs, eps, 1 - eps))  # the seed's clipping
        with np.errstate(invalid="ignore"):  # no rows: the mean is NaN, as in torch
            return float(-np.sum(log_probs * self.target) / self.rows)

    def backward(self):
        return (self.probs - self.target) / max(self.rows, 1)


class MSELoss:
    def forward(self, predicted, target):
        self.predicted, self.target = predicted, target
        with np.errstate(invalid="ignore"):  # inf - inf, or no elements: NaN, as in torch
            diff = predicted - target
            return float(np.sum(diff * diff) / diff.size)

    def backward(self):
        batch = self.target.shape[0] if self.target.ndim else 1
        return (self.target - self.predicted) / batch  # the seed's backward
