"""Training-parity helpers: digits, the reference models, torch trajectories, trainers.

Used by ``parity_tests/test_training.py`` and ``examples/train_digits.py``:

- :func:`digits`: scikit-learn's bundled 1,797 8×8 digits, pixels / 16, a fixed split;
- :func:`mlp` / :func:`cnn`: the two NumPy models whose training is compared with torch;
- :func:`run_trajectories`: train a model and its torch twin (:func:`torch_ref.model.torch_twin`)
  side by side on the same batches with the same optimizer and record both losses;
- :func:`train_mlp_on_digits` / :func:`train_cnn_on_digits`: the accuracy runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import torch
from torch import nn

from numpy_impl.activations import ReLU
from numpy_impl.blocks import SEBlock
from numpy_impl.conv import Conv2D
from numpy_impl.linear import Linear
from numpy_impl.losses import SoftmaxCrossEntropyLoss
from numpy_impl.model import Sequential
from numpy_impl.normalization import BatchNorm2d
from numpy_impl.optim import SGD, Adam, Optimizer
from numpy_impl.pooling import Pool2D
from numpy_impl.reshape import Flatten
from numpy_impl.training import History, batch_indices, fit, train_step
from torch_ref.base import TensorLink
from torch_ref.model import torch_twin

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

#: Float64 trajectories: the loss at every step, relative.
FLOAT64_LOSS_RTOL = 1e-10
#: Float32 trajectories over 50 steps: max |L_numpy − L_torch| / |L_torch| over the steps.
#: Measured on this machine (numpy 2 / OpenBLAS vs torch 2.13 CPU, 1 thread) for model and
#: batch seeds 0-9: MLP worst 1.2e-6 (SGD) / 2.7e-7 (Adam), CNN worst 6.1e-6 / 9.5e-7; the
#: bounds are ~8x the worst seed (see docs/training.md). The drift is round-off (other
#: summation orders and FMA in the GEMMs and kernels) carried along by training, not a
#: bug: a wrong update rule is off by 1e-3 .. 1 within a few steps.
FLOAT32_DRIFT = {"mlp": 1e-5, "cnn": 5e-5}
#: Float32 parameters after 50 steps, max |Δ| / max |p| per tensor: worst measured 2.3e-5
#: (MLP + Adam, which turns tiny gradient differences into full-size steps).
FLOAT32_PARAM_RTOL = 2e-4
#: Parameters after 50 float64 steps: max |Δ| relative to the parameter's largest entry.
FLOAT64_PARAM_RTOL = 1e-10

TRAJECTORY_STEPS = 50
BATCH_SIZE = 32


# --------------------------------------------------------------------------- data
@cache
def digits(dtype: str = "float64") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, x_test, y_train, y_test): scikit-learn's bundled 1,797 8×8 digits, pixels
    / 16 → [0, 1], a fixed stratified 75/25 split (random_state=0): 1,347 / 450 samples.
    x is (N, 64) in ``dtype``; y int64 labels. Reshape x to (N, 8, 8, 1) for the CNN."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16.0).astype(dtype)
    y = data.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    for array in (x_train, x_test, y_train, y_test):
        array.setflags(write=False)
    return x_train, x_test, y_train, y_test


def as_images(x: np.ndarray) -> np.ndarray:
    """(N, 64) → (N, 8, 8, 1) NHWC."""
    return x.reshape(-1, 8, 8, 1)


# --------------------------------------------------------------------------- models
def mlp(dtype: np.dtype | type = np.float64, seed: int = 0) -> Sequential:
    """64-32-16-10, ReLU, He-uniform hidden weights, Glorot output, zero biases; logits."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Linear(64, 32, weight_init="kaiming_uniform", dtype=dtype, rng=rng), ReLU(),
        Linear(32, 16, weight_init="kaiming_uniform", dtype=dtype, rng=rng), ReLU(),
        Linear(16, 10, dtype=dtype, rng=rng),
    )


def cnn(dtype: np.dtype | type = np.float64, seed: int = 0) -> Sequential:
    """8×8×1 → Conv 3×3 (16, pad 1) → BN → ReLU → max-pool 2 → SE(16, r=4) → Flatten (256)
    → Linear 10; logits.

    The conv has no bias: batch norm subtracts the per-channel mean right after, so a conv
    bias gets an exactly-zero gradient in exact arithmetic, i.e. pure round-off noise,
    which Adam normalizes into ±lr steps. Such a parameter random-walks differently in
    NumPy and torch (and drags the running mean with it), so it could not be compared.
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2D(1, 16, 3, padding=1, bias=False, weight_init="kaiming_uniform", dtype=dtype,
               rng=rng),
        BatchNorm2d(16, dtype=dtype),
        ReLU(),
        Pool2D(2, mode="max"),
        SEBlock(16, reduction=4, dtype=dtype, rng=rng),
        Flatten(),
        Linear(4 * 4 * 16, 10, dtype=dtype, rng=rng),
    )


# --------------------------------------------------------------------------- trajectories
#: name → (NumPy optimizer, torch optimizer, hyper-parameters shared by both).
OPTIMIZERS: dict[str, tuple[type[Optimizer], type[torch.optim.Optimizer], dict[str, Any]]] = {
    "sgd-momentum-wd": (SGD, torch.optim.SGD,
                        {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}),
    "sgd-nesterov": (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "sgd-dampening": (SGD, torch.optim.SGD,
                      {"lr": 0.05, "momentum": 0.8, "dampening": 0.5, "weight_decay": 1e-3}),
    "sgd-plain": (SGD, torch.optim.SGD, {"lr": 0.1}),
    "adam": (Adam, torch.optim.Adam, {"lr": 0.005}),
    "adam-amsgrad-wd": (Adam, torch.optim.Adam,
                        {"lr": 0.005, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 1e-3,
                         "amsgrad": True}),
}


@dataclass
class Trajectory:
    """Losses of both sides at every step, and the end-of-run tensor disagreements."""

    numpy_loss: np.ndarray
    torch_loss: np.ndarray
    param_error: dict[str, float]  # max |Δ| / max |torch value|, per parameter
    buffer_error: dict[str, float]

    @property
    def loss_drift(self) -> np.ndarray:
        """|L_numpy − L_torch| / |L_torch| per step."""
        return np.abs(self.numpy_loss - self.torch_loss) / np.abs(self.torch_loss)

    @property
    def max_param_error(self) -> float:
        return max(self.param_error.values())


def training_batches(n: int, batch_size: int, steps: int, seed: int) -> Iterator[np.ndarray]:
    """``steps`` batches of indices, epoch after epoch, from ``batch_indices`` with one
    seeded generator: exactly the batches ``fit(..., rng=seed)`` draws."""
    rng = np.random.default_rng(seed)
    taken = 0
    while True:
        epoch_start = taken
        for index in batch_indices(n, batch_size, rng):
            if taken == steps:
                return
            taken += 1
            yield index
        if taken == epoch_start:  # an epoch without batches would loop forever
            raise RuntimeError(f"training_batches: batch_indices({n}, {batch_size}) gave no "
                               f"batch")


def run_trajectories(
    model: Sequential,
    images: bool,
    optimizer: str,
    x: np.ndarray,
    y: np.ndarray,
    steps: int = TRAJECTORY_STEPS,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
) -> Trajectory:
    """Train ``model`` and its torch twin side by side from the same weights, on the same
    batches, with the same optimizer: SoftmaxCrossEntropyLoss vs nn.CrossEntropyLoss."""
    numpy_cls, torch_cls, hyper = OPTIMIZERS[optimizer]
    twin = torch_twin(model, images)
    numpy_opt = numpy_cls(model, **hyper)
    torch_opt = torch_cls(twin.module.parameters(), **hyper)
    numpy_ce, torch_ce = SoftmaxCrossEntropyLoss(), nn.CrossEntropyLoss()
    numpy_losses, torch_losses = [], []
    for index in training_batches(len(x), batch_size, steps, seed):
        xb, yb = x[index], y[index]
        value, _ = train_step(model, numpy_ce, numpy_opt, xb, yb)
        numpy_losses.append(value)
        torch_opt.zero_grad()
        loss = torch_ce(twin(xb), torch.from_numpy(yb))
        loss.backward()
        torch_opt.step()
        torch_losses.append(float(loss.detach()))

    def relative(actual: np.ndarray, link: TensorLink) -> float:
        expected = link.value()
        return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-30))

    return Trajectory(
        np.array(numpy_losses), np.array(torch_losses),
        {name: relative(value, twin.params[name]) for name, value in model.params.items()},
        {name: relative(value, twin.buffers[name]) for name, value in model.buffers.items()},
    )


def build(kind: str, dtype: np.dtype) -> tuple[Sequential, bool, np.ndarray, np.ndarray]:
    """(model, images?, x_train, y_train) for ``kind`` in {"mlp", "cnn"}."""
    x_train, _, y_train, _ = digits(np.dtype(dtype).name)
    if kind == "mlp":
        return mlp(dtype), False, x_train, y_train
    return cnn(dtype), True, as_images(x_train), y_train


# --------------------------------------------------------------------------- accuracy runs
def train_mlp_on_digits(progress: bool = False) -> tuple[Sequential, History]:
    """The MLP with SGD (momentum 0.9, weight decay 1e-4), batches of 32, 30 epochs: lr
    0.02, then 0.002 for the last 5 (a step decay settles the oscillating test accuracy)."""
    x, x_test, y, y_test = digits("float32")
    model = mlp(np.float32, seed=0)
    optimizer = SGD(model, lr=0.02, momentum=0.9, weight_decay=1e-4)
    history = fit(model, SoftmaxCrossEntropyLoss(), optimizer, x, y, epochs=30,
                  batch_size=32, rng=1, validation=(x_test, y_test), progress=progress,
                  lr_schedule=lambda epoch: 0.02 if epoch < 25 else 0.002)
    return model, history


def train_cnn_on_digits(progress: bool = False) -> tuple[Sequential, History]:
    """The CNN with SGD (momentum 0.9, weight decay 1e-4), batches of 32, 10 epochs: lr
    0.05, then 0.005 for the last 2."""
    x, x_test, y, y_test = digits("float32")
    model = cnn(np.float32, seed=0)
    optimizer = SGD(model, lr=0.05, momentum=0.9, weight_decay=1e-4)
    history = fit(model, SoftmaxCrossEntropyLoss(), optimizer, as_images(x), y, epochs=10,
                  batch_size=32, rng=1, validation=(as_images(x_test), y_test),
                  progress=progress, lr_schedule=lambda epoch: 0.05 if epoch < 8 else 0.005)
    return model, history
