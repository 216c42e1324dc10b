# ruff: noqa: ANN001, ANN201 - written as a submission in the seeds' style, without annotations
"""A third-party submission in the API style of seed 002 (not the seed's code).

Activations take ``forward(Z)`` and ``backward(Z, dY)``; layers create their parameters on
the first forward (``parameters["W"]``, ``parameters["b"]`` of shape (1, n), the same keys in
``gradients``) and apply an activation by name; images are NHWC, conv weights
(kh, kw, in, out); the loss is called target first, ``forward(Y, Y_hat)`` with one-hot
``Y``. Three of the seeds' bugs are kept on purpose, where the seed had them (see
docs/outside.md):

- ``FullyConnected`` and ``Conv2D`` draw float64 weights from ``np.random``, so float32
  input comes out float64;
- ``Conv2D(pad="same")`` pads (k - 1) // 2 on each side, one short for an even kernel;
- ``Pool2D`` pads with 0, so in max pooling the padding can win over negative inputs.

Everything else is meant to be right.
"""

import numpy as np


class Activation:
    def __call__(self, Z):
        return self.forward(Z)


class Linear(Activation):
    def forward(self, Z):
        return Z

    def backward(self, Z, dY):
        return dY


class Sigmoid(Activation):
    def forward(self, Z):
        return np.exp(np.minimum(Z, 0)) / (1 + np.exp(-np.abs(Z)))

    def backward(self, Z, dY):
        s = self.forward(Z)
        return dY * s * (1 - s)


class ReLU(Activation):
    def forward(self, Z):
        return np.maximum(Z, 0)

    def backward(self, Z, dY):
        return dY * ~(Z <= 0)  # NaN passes dY on, as in torch


class SoftMax(Activation):
    def forward(self, Z):
        Z1 = np.atleast_1d(Z)
        with np.errstate(invalid="ignore", over="ignore"):
            e = np.exp(Z1 - np.max(Z1, axis=-1, keepdims=True, initial=-np.inf))
        return (e / np.sum(e, axis=-1, keepdims=True)).reshape(np.shape(Z))

    def backward(self, Z, dY):
        """dY times the Jacobian diag(s) - s s^T, one row at a time."""
        s = np.atleast_1d(self.forward(Z))
        rows = s.reshape(int(np.prod(s.shape[:-1])), s.shape[-1])
        grads = np.atleast_1d(dY).reshape(rows.shape)
        dZ = np.zeros_like(grads)
        for i, r in enumerate(rows):
            dZ[i] = grads[i] @ (np.diagflat(r) - np.outer(r, r))
        return dZ.reshape(np.shape(dY))


ACTIVATIONS = {"linear": Linear, "sigmoid": Sigmoid, "relu": ReLU, "softmax": SoftMax}


def xavier_uniform(shape):
    fan_in = int(np.prod(shape[:-1]))
    limit = np.sqrt(6 / (fan_in + shape[-1]))
    return np.random.uniform(-limit, limit, shape)  # float64, whatever the input


class FullyConnected:
    def __init__(self, n_out, activation):
        self.n_in, self.n_out = None, n_out
        self.activation = ACTIVATIONS[activation]()

    def _init_parameters(self, X_shape):
        self.n_in = X_shape[-1]
        W = xavier_uniform((self.n_in, self.n_out))
        b = np.zeros((1, self.n_out))
        self.parameters = {"W": W, "b": b}
        self.gradients = {"W": np.zeros_like(W), "b": np.zeros_like(b)}

    def forward(self, X):
        if self.n_in is None:
            self._init_parameters(X.shape)
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a sum is NaN, as in torch
            Z = X @ self.parameters["W"] + self.parameters["b"][0]
        self.cache = {"X": X, "Z": Z}
        return self.activation(Z)

    def backward(self, dLdY):
        X, Z = self.cache["X"], self.cache["Z"]
        dZ = self.activation.backward(Z, dLdY)
        X2, dZ2 = X.reshape(-1, self.n_in), dZ.reshape(-1, self.n_out)
        with np.errstate(invalid="ignore", over="ignore"):
            self.gradients["W"] = X2.T @ dZ2
        self.gradients["b"] = dZ2.sum(axis=0, keepdims=True)
        return dZ @ self.parameters["W"].T


def padding(pad, kernel_shape):
    if pad == "same":
        return ((kernel_shape[0] - 1) // 2, (kernel_shape[1] - 1) // 2)  # the seed's formula
    if pad == "valid":
        return (0, 0)
    return (pad, pad)


def windows(X_shape, kernel_shape, stride, pad):
    """(row, col, top, left) of every output position of a padded NHWC input."""
    out_rows = (X_shape[1] + 2 * pad[0] - kernel_shape[0]) // stride + 1
    out_cols = (X_shape[2] + 2 * pad[1] - kernel_shape[1]) // stride + 1
    return [(r, c, r * stride, c * stride) for r in range(out_rows) for c in range(out_cols)
            ], (out_rows, out_cols)


def pad_images(X, pad):
    return np.pad(X, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]), (0, 0)))  # zeros


def unpad(dX_pad, pad, X_shape):
    return dX_pad[:, pad[0]:pad[0] + X_shape[1], pad[1]:pad[1] + X_shape[2], :]


class Conv2D:
    def __init__(self, n_out, kernel_shape, activation, stride=1, pad="same"):
        self.n_in, self.n_out = None, n_out
        self.kernel_shape, self.stride = kernel_shape, stride
        self.pad = padding(pad, kernel_shape)
        self.activation = ACTIVATIONS[activation]()

    def _init_parameters(self, X_shape):
        self.n_in = X_shape[3]
        W = xavier_uniform((*self.kernel_shape, self.n_in, self.n_out))
        b = np.zeros((1, self.n_out))
        self.parameters = {"W": W, "b": b}
        self.gradients = {"W": np.zeros_like(W), "b": np.zeros_like(b)}

    def forward(self, X):
        if self.n_in is None:
            self._init_parameters(X.shape)
        W, (kh, kw) = self.parameters["W"], self.kernel_shape
        X_pad = pad_images(X, self.pad)
        positions, (rows, cols) = windows(X.shape, self.kernel_shape, self.stride, self.pad)
        Z = np.zeros((X.shape[0], rows, cols, self.n_out), dtype=np.result_type(X, W))
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a sum is NaN, as in torch
            for r, c, y, x in positions:
                Z[:, r, c, :] = np.tensordot(X_pad[:, y:y + kh, x:x + kw, :], W, axes=3)
        Z += self.parameters["b"][0]
        self.cache = {"X": X, "Z": Z}
        return self.activation(Z)

    def backward(self, dLdY):
        X, Z, W = self.cache["X"], self.cache["Z"], self.parameters["W"]
        (kh, kw) = self.kernel_shape
        dZ = self.activation.backward(Z, dLdY)
        X_pad = pad_images(X, self.pad)
        dX_pad = np.zeros(X_pad.shape, dtype=np.result_type(X, W))
        dW = np.zeros_like(W)
        # inf - inf (in X or dY) is NaN, an overflowing sum inf, silently, as in torch
        with np.errstate(invalid="ignore", over="ignore"):
            for r, c, y, x in windows(X.shape, self.kernel_shape, self.stride, self.pad)[0]:
                dW += np.tensordot(X_pad[:, y:y + kh, x:x + kw, :], dZ[:, r, c, :], axes=(0, 0))
                dX_pad[:, y:y + kh, x:x + kw, :] += np.tensordot(dZ[:, r, c, :], W, axes=(1, 3))
            self.gradients["b"] = dZ.sum(axis=(0, 1, 2)).reshape(1, -1)
        self.gradients["W"] = dW
        return unpad(dX_pad, self.pad, X.shape)


class Pool2D:
    def __init__(self, kernel_shape, mode="max", stride=1, pad=0):
        self.kernel_shape, self.mode, self.stride = kernel_shape, mode, stride
        self.pad = padding(pad, kernel_shape)
        self.parameters, self.gradients = {}, {}

    def forward(self, X):
        (kh, kw) = self.kernel_shape
        X_pad = pad_images(X, self.pad)  # zeros, for max pooling too: the seed's bug
        positions, (rows, cols) = windows(X.shape, self.kernel_shape, self.stride, self.pad)
        out = np.zeros((X.shape[0], rows, cols, X.shape[3]), dtype=X.dtype)
        pool = np.max if self.mode == "max" else np.mean
        with np.errstate(invalid="ignore"):  # inf - inf in a mean is NaN, as in torch
            for r, c, y, x in positions:
                out[:, r, c, :] = pool(X_pad[:, y:y + kh, x:x + kw, :], axis=(1, 2))
        self.cache = {"X": X, "X_pad": X_pad}
        return out

    def backward(self, dLdY):
        X, X_pad = self.cache["X"], self.cache["X_pad"]
        (kh, kw) = self.kernel_shape
        n, _, _, channels = X.shape
        dX_pad = np.zeros_like(X_pad)
        for r, c, y, x in windows(X.shape, self.kernel_shape, self.stride, self.pad)[0]:
            window = X_pad[:, y:y + kh, x:x + kw, :]
            if self.mode == "max":  # all of dY to the first maximum (row-major) ...
                flat = window.reshape(n, kh * kw, channels)
                nan = np.isnan(flat)  # ... or, as torch, to the last NaN of the window
                pick = np.where(nan.any(axis=1), kh * kw - 1 - nan[:, ::-1].argmax(axis=1),
                                np.where(nan, -np.inf, flat).argmax(axis=1))
                mask = np.zeros((n, kh * kw, channels), dtype=X.dtype)
                np.put_along_axis(mask, pick[:, None, :], 1, axis=1)
                share = mask.reshape(window.shape)
            else:
                share = np.full(window.shape, 1 / (kh * kw), dtype=X.dtype)
            with np.errstate(invalid="ignore"):  # inf - inf from dY is NaN, as in torch
                dX_pad[:, y:y + kh, x:x + kw, :] += share * dLdY[:, r:r + 1, c:c + 1, :]
        return unpad(dX_pad, self.pad, X.shape)


class CrossEntropy:
    """On probabilities; ``Y`` one-hot or soft, classes on the last axis."""

    def __init__(self, name):
        self.name = name

    def __call__(self, Y, Y_hat):
        return self.forward(Y, Y_hat)

    @staticmethod
    def rows(Y):
        return Y.size // Y.shape[-1] if Y.ndim else 1

    def forward(self, Y, Y_hat):
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf; no rows: NaN
            terms = np.where(Y > 0, Y * np.log(Y_hat), 0.0)  # 0 log 0 = 0
            return float(-np.sum(terms) / self.rows(Y))

    def backward(self, Y, Y_hat):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is NaN, as in torch
            return -Y / (Y_hat * max(self.rows(Y), 1))
