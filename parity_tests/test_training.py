"""Training: Sequential, SGD/Adam, fit — trajectory parity with torch and real digits.

1. **Optimizer steps**: ``numpy_impl.optim`` against ``torch.optim`` on the same arrays and
   the same random gradients, step by step, for every option (momentum, dampening,
   nesterov, weight decay, AMSGrad).
2. **Trajectories**: the same model in torch (stock ``nn`` modules, weights copied through
   ``torch_ref``'s layouts), the same initial weights, the same batches in the same order,
   the same optimizer: the loss agrees at every one of 50 steps (float64: 1e-10
   relative; float32: a bound measured on this machine, with margin, see
   ``FLOAT32_DRIFT``), and so do the parameters and batch-norm statistics at the end.
   For an MLP 64-32-16-10 (ReLU, fused softmax-CE) and a small CNN (Conv2D, BatchNorm2d,
   ReLU, max Pool2D, SEBlock, Flatten, Linear) on 8×8×1 digits.
3. **Real data**: scikit-learn's bundled digits, a fixed stratified 75/25 split, pixels
   scaled to [0, 1]: the MLP reaches ≥ 95 % and the CNN ≥ 97 % test accuracy.

The helpers (:func:`torch_twin`, :func:`run_trajectories`, :func:`digits`, the model
builders) are public: ``examples/train_digits.py`` uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from numpy_impl.activations import Identity, ReLU, Sigmoid, Tanh
from numpy_impl.base import Layer
from numpy_impl.blocks import SEBlock
from numpy_impl.conv import Conv2D
from numpy_impl.linear import Linear
from numpy_impl.losses import MSELoss, SoftmaxCrossEntropyLoss
from numpy_impl.model import Sequential
from numpy_impl.normalization import BatchNorm2d
from numpy_impl.optim import SGD, Adam, Optimizer
from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from numpy_impl.reshape import Flatten
from numpy_impl.training import History, accuracy, batch_indices, evaluate, fit, train_step
from torch_ref.base import TensorLink, link_tensors, torch_dtype
from torch_ref.blocks import layouts_of, renames, se_block_module
from torch_ref.normalization import batch_norm2d_module

torch.set_num_threads(1)

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


# --------------------------------------------------------------------------- torch twin
class ToNHWC(nn.Module):
    """NCHW → NHWC, placed before ``nn.Flatten`` so it flattens in the NumPy Flatten's
    (h, w, c) order and the next Linear's rows line up with the NumPy weight's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


def torch_module(layer: Layer, images: bool) -> nn.Module:
    """The stock torch module for one NumPy layer (NCHW while ``images``)."""
    if isinstance(layer, Linear):
        return nn.Linear(layer.in_features, layer.out_features, bias=layer.use_bias)
    if isinstance(layer, Conv2D):
        padding: Any = layer.padding
        if padding == "same" and layer.stride != (1, 1):
            padding = tuple((k - 1) // 2 for k in layer.kernel_size)
        return nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                         stride=layer.stride, padding=padding, bias=layer.use_bias)
    if isinstance(layer, BatchNorm2d):
        return batch_norm2d_module(layer)
    if isinstance(layer, Pool2D):
        if layer.mode == "max":
            return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)
        return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding,
                            count_include_pad=True)
    if isinstance(layer, SEBlock):
        return se_block_module(layer)
    if isinstance(layer, GlobalAvgPool2D):
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if isinstance(layer, Flatten):
        return nn.Sequential(ToNHWC(), nn.Flatten()) if images else nn.Flatten()
    simple = {ReLU: nn.ReLU, Sigmoid: nn.Sigmoid, Tanh: nn.Tanh, Identity: nn.Identity}
    if type(layer) in simple:
        return simple[type(layer)]()
    raise NotImplementedError(f"torch_twin: no torch module for {type(layer).__name__}")


@dataclass
class TorchTwin:
    """A ``nn.Sequential`` twin of a NumPy ``Sequential`` with every tensor linked."""

    module: nn.Sequential
    params: dict[str, TensorLink]
    buffers: dict[str, TensorLink]
    images: bool

    def __call__(self, x: np.ndarray) -> torch.Tensor:
        """Run on a NumPy batch (NHWC images are permuted to NCHW on the way in)."""
        t = torch.from_numpy(np.array(x))  # a writable copy (the digits arrays are read-only)
        return self.module(t.permute(0, 3, 1, 2) if self.images else t)


def torch_twin(model: Sequential, images: bool) -> TorchTwin:
    """Stock torch modules in a ``nn.Sequential`` (NCHW inside), the NumPy model's
    parameters and buffers copied in: names map one to one (``0.weight`` …; SE blocks
    through :func:`torch_ref.blocks.torch_name`), layouts through
    :func:`torch_ref.blocks.layouts_of` (Linear transposed, conv HWIO → OIHW).
    ``images``: the model's input is NHWC images. Every torch tensor must be covered."""
    modules = []
    spatial = images
    for layer in model:
        modules.append(torch_module(layer, spatial))
        if isinstance(layer, (Flatten, GlobalAvgPool2D)):
            spatial = False
    module = nn.Sequential(*modules)
    if model.dtype is not None:
        module = module.to(torch_dtype(model.dtype))
    module.train(model.training)
    layouts, rename = layouts_of(model), renames(model)
    params = link_tensors("torch_twin", model.params, dict(module.named_parameters()),
                          layouts, rename)
    torch_buffers = {n: b for n, b in module.named_buffers() if "num_batches_tracked" not in n}
    buffers = link_tensors("torch_twin", model.buffers, torch_buffers, layouts, rename)
    return TorchTwin(module, params, buffers, images)


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
        for index in batch_indices(n, batch_size, rng):
            if taken == steps:
                return
            taken += 1
            yield index


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


# --------------------------------------------------------------------------- Sequential
def test_sequential_names_match_torch_nn_sequential():
    model = cnn(np.float32)
    twin = torch_twin(model, images=True)
    assert list(model.params)[:3] == ["0.weight", "1.weight", "1.bias"]
    assert "4.fc1.weight" in model.params and "6.weight" in model.params
    assert list(model.buffers) == ["1.running_mean", "1.running_var"]
    # one NumPy parameter per torch parameter, same element counts
    torch_params = dict(twin.module.named_parameters())
    assert len(torch_params) == len(model.params)
    assert sum(p.numel() for p in torch_params.values()) == sum(
        p.size for p in model.params.values())
    assert [name for name, _ in mlp().named_layers()] == ["", "0", "1", "2", "3", "4"]


def test_sequential_forward_backward_match_torch_float64():
    """One forward/backward of the whole CNN with a random upstream gradient, vs torch."""
    model = cnn(np.float64, seed=3)
    twin = torch_twin(model, images=True)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 8, 8, 1))
    y = model.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = model.backward(dy)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = twin.module(xt.permute(0, 3, 1, 2))
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert xt.grad is not None
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.abs(dx).max() > 1e-3
    for name, grad in model.grads.items():
        expected = twin.params[name].grad()
        np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12, err_msg=name)
        assert np.abs(expected).max() > 1e-6, f"{name}: reference gradient too small to test"


def test_flatten_without_nhwc_permute_would_misalign():
    """The twin's ToNHWC before nn.Flatten is necessary: without it the Linear after the
    flatten sees the features in (c, h, w) order and the outputs differ."""
    model = cnn(np.float64)
    model.eval()
    twin = torch_twin(model, images=True)
    twin.module.eval()
    x = as_images(digits()[0][:8])
    np.testing.assert_allclose(model.forward(x), twin(x).detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    twin.module[5] = nn.Flatten()
    assert not np.allclose(model.forward(x), twin(x).detach().numpy(), atol=1e-3)


def test_sequential_add_refuses_losses_mixed_dtypes_and_non_layers():
    with pytest.raises(TypeError, match="loss SoftmaxCrossEntropyLoss"):
        Sequential(Linear(2, 2), SoftmaxCrossEntropyLoss())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float64 but the model's earlier layers compute in "
                                        "float32"):
        Sequential(Linear(2, 2, dtype=np.float32), ReLU(), Linear(2, 2, dtype=np.float64))
    with pytest.raises(TypeError, match="must be a numpy_impl Layer"):
        Sequential(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="no layers"):
        Sequential().forward(np.zeros((1, 2)))
    with pytest.raises(TypeError, match="dtype float64 but the layer computes in float32"):
        mlp(np.float32).forward(np.zeros((1, 64)))


def test_sequential_train_eval_reach_nested_layers_and_predict_leaves_grads():
    model = cnn(np.float32)
    model.eval()
    assert all(not layer.training for _, layer in model.named_layers())
    model.train()
    assert all(layer.training for _, layer in model.named_layers())
    x, y = as_images(digits("float32")[0][:16]), digits("float32")[2][:16]
    ce = SoftmaxCrossEntropyLoss()
    ce.forward(model.forward(x), y)
    model.backward(ce.backward())
    before = {name: grad.copy() for name, grad in model.grads.items()}
    model.eval()
    running = model.buffers["1.running_mean"].copy()
    predictions, value = model.predict(x[:5], y[:5], ce)
    assert predictions.shape == (5, 10) and predictions.dtype == np.float32
    assert value == pytest.approx(ce.forward(predictions, y[:5]))
    for name, grad in model.grads.items():
        np.testing.assert_array_equal(grad, before[name])
    np.testing.assert_array_equal(model.buffers["1.running_mean"], running)


# --------------------------------------------------------------------------- optimizer steps
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_match_torch(name: str, dtype: np.dtype):
    """Ten steps on the same arrays with fresh random gradients each step; the parameters
    match torch.optim after every step (float64: 1e-14 relative; float32: 2 ulp-ish)."""
    numpy_cls, torch_cls, hyper = OPTIMIZERS[name]
    rng = np.random.default_rng(7)
    params = {"w": rng.standard_normal((4, 5)).astype(dtype),
              "b": rng.standard_normal(5).astype(dtype)}
    grads: dict[str, np.ndarray] = {}
    tensors = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in params.items()}
    numpy_opt = numpy_cls(params, grads=grads, **hyper)
    torch_opt = torch_cls(list(tensors.values()), **hyper)
    tolerance = 1e-14 if dtype == F64 else 2e-6
    for step in range(10):
        for key, value in params.items():
            grads[key] = (rng.standard_normal(value.shape) * 0.5).astype(dtype)
            tensors[key].grad = torch.from_numpy(grads[key].copy())
        start = {k: v.copy() for k, v in params.items()}
        numpy_opt.step()
        torch_opt.step()
        for key, value in params.items():
            assert value.dtype == dtype
            expected = tensors[key].detach().numpy()
            moved = np.max(np.abs(expected - start[key]))
            error = np.max(np.abs(value - expected))
            assert error <= tolerance * max(np.max(np.abs(expected)), 1.0), (
                f"{name} {dtype}: {key} after step {step + 1} differs from torch by "
                f"{error:.2e} (the step moved it by {moved:.2e})")
            assert moved > 100 * tolerance, "the step must move the parameters measurably"


def test_optimizer_state_uses_torch_names_and_keeps_dtype():
    model = mlp(np.float32)
    x, _, y, _ = digits("float32")
    adam = Adam(model, lr=1e-3, amsgrad=True)
    sgd = SGD(mlp(np.float32), lr=0.1, momentum=0.9)
    ids = {name: id(p) for name, p in model.params.items()}
    train_step(model, SoftmaxCrossEntropyLoss(), adam, x[:8], y[:8])
    assert {name: id(p) for name, p in model.params.items()} == ids  # updated in place
    assert set(adam.state["0.weight"]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert adam.state["0.weight"]["step"] == 1
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(s["exp_avg"].dtype == np.float32 for s in adam.state.values())
    assert sgd.state["0.weight"] == {}


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda m: SGD(m, lr=-0.1), ValueError, "lr must be >= 0, got -0.1"),
        (lambda m: SGD(m, lr=float("nan")), ValueError, "lr must be finite"),
        (lambda m: SGD(m, lr=0.1, momentum=-0.5), ValueError, "momentum must be >= 0"),
        (lambda m: SGD(m, lr=0.1, weight_decay=-1), ValueError, "weight_decay must be >= 0"),
        (lambda m: SGD(m, lr=0.1, nesterov=True), ValueError, "nesterov momentum requires"),
        (lambda m: SGD(m, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
         "nesterov momentum requires"),
        (lambda m: SGD(m, lr="0.1"), TypeError, "lr must be a real number"),
        (lambda m: Adam(m, betas=(1.0, 0.999)), ValueError, r"betas\[0\] must lie in \[0, 1\)"),
        (lambda m: Adam(m, betas=(0.9, -0.1)), ValueError, r"betas\[1\] must lie in \[0, 1\)"),
        (lambda m: Adam(m, betas=0.9), TypeError, "betas must be a pair"),
        (lambda m: Adam(m, eps=-1e-8), ValueError, "eps must be >= 0"),
        (lambda m: Adam(m, amsgrad=1), TypeError, "amsgrad must be a bool"),
        (lambda m: SGD(m.params, lr=0.1), TypeError, "grads is required"),
        (lambda m: SGD({}, lr=0.1, grads={}), ValueError, "params is empty"),
        (lambda m: SGD([1, 2], lr=0.1), TypeError, "params must be a model"),
        (lambda m: SGD({"w": np.zeros(3, dtype=int)}, grads={}), TypeError,
         "must have dtype float32 or float64"),
    ],
)
def test_optimizer_arguments_are_validated(make: Callable, error: type, match: str):
    with pytest.raises(error, match=match):
        make(mlp())


def test_optimizer_step_refuses_missing_or_mismatched_gradients():
    model = mlp(np.float32)
    with pytest.raises(RuntimeError, match="no parameter has a gradient"):
        SGD(model, lr=0.1).step()
    params = {"w": np.ones(3, dtype=np.float32)}
    with pytest.raises(TypeError, match="has dtype float64 but the parameter is float32"):
        SGD(params, lr=0.1, grads={"w": np.ones(3)}).step()
    with pytest.raises(ValueError, match=r"has shape \(2,\), expected \(3,\)"):
        SGD(params, lr=0.1, grads=lambda: {"w": np.ones(2, dtype=np.float32)}).step()


# --------------------------------------------------------------------------- fit
def test_fit_batches_cover_every_sample_once_per_epoch_and_replay_with_the_seed():
    first = list(batch_indices(10, 4, np.random.default_rng(5)))
    assert [len(b) for b in first] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(first),
                                  np.random.default_rng(5).permutation(10))
    assert not np.array_equal(np.concatenate(first), np.arange(10))
    assert sorted(np.concatenate(first).tolist()) == list(range(10))
    again = list(batch_indices(10, 4, np.random.default_rng(5)))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert [len(b) for b in batch_indices(10, 4, np.random.default_rng(5), drop_last=True)
            ] == [4, 4]
    assert np.array_equal(np.concatenate(list(batch_indices(5, 2, shuffle=False))),
                          np.arange(5))


def test_fit_follows_the_batches_of_its_rng_and_records_history():
    """fit(rng=seed) takes exactly the steps of training_batches(seed): same step losses
    as the hand-rolled loop, and a per-epoch history of the right length."""
    x, x_val, y, y_val = digits()
    x, y = x[:200], y[:200]
    by_fit = mlp()
    history = fit(by_fit, SoftmaxCrossEntropyLoss(), SGD(by_fit, lr=0.1, momentum=0.9),
                  x, y, epochs=3, batch_size=64, rng=11, validation=(x_val, y_val),
                  progress=False)
    by_hand = mlp()
    optimizer, ce = SGD(by_hand, lr=0.1, momentum=0.9), SoftmaxCrossEntropyLoss()
    steps = [train_step(by_hand, ce, optimizer, x[i], y[i])[0]
             for i in training_batches(len(x), 64, 12, seed=11)]
    assert history.step_loss == steps
    assert history.epochs == 3 and len(history.accuracy) == 3 and len(history.val_loss) == 3
    assert history.loss[0] == pytest.approx(np.average(steps[:4], weights=[64, 64, 64, 8]))
    val_loss, val_accuracy = evaluate(by_fit, SoftmaxCrossEntropyLoss(), x_val, y_val)
    assert history.val_loss[-1] == pytest.approx(val_loss, rel=1e-12)
    assert history.val_accuracy[-1] == val_accuracy
    assert history.loss[-1] < history.loss[0]


def test_fit_regression_has_no_accuracy_and_stops_on_divergence():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    model = Sequential(Linear(3, 1, dtype=np.float64, rng=0))
    history = fit(model, MSELoss(), SGD(model, lr=0.1), x, y, epochs=20, batch_size=16,
                  rng=0, progress=False)
    assert history.accuracy == [None] * 20
    assert history.loss[-1] < 1e-6 * history.loss[0]
    model = Sequential(Linear(3, 1, dtype=np.float64, rng=0))
    with (pytest.raises(FloatingPointError, match="lower the learning rate"),
          np.errstate(over="ignore", invalid="ignore")):
        fit(model, MSELoss(), SGD(model, lr=100.0), x * 1e3, y, epochs=50, batch_size=16,
            rng=0, progress=False)


def test_fit_validates_its_arguments():
    model = mlp()
    x, _, y, _ = digits()
    opt = SGD(model, lr=0.1)
    ce = SoftmaxCrossEntropyLoss()
    with pytest.raises(ValueError, match="x has 1347 samples but y has 10"):
        fit(model, ce, opt, x, y[:10], epochs=1, batch_size=8, rng=0, progress=False)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        fit(model, ce, opt, x, y, epochs=1, batch_size=0, rng=0, progress=False)
    with pytest.raises(TypeError, match="validation must be a pair"):
        fit(model, ce, opt, x, y, epochs=1, batch_size=8, rng=0, validation=x,
            progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lr_schedule\(0\) must be a finite learning rate"):
        fit(model, ce, opt, x, y, epochs=1, batch_size=8, rng=0, progress=False,
            lr_schedule=lambda epoch: -1.0)
    assert accuracy(np.zeros((3, 1)), np.zeros(3, dtype=int)) is None


def test_fit_lr_schedule_sets_the_rate_per_epoch():
    """Epochs 0 and 1 at lr 0.1 move the parameters, epochs 2 and 3 at lr 0 freeze them
    (no weight decay, and SGD's p −= lr·buf with lr 0 is exact)."""
    x, _, y, _ = digits()
    model = mlp()
    optimizer = SGD(model, lr=0.1, momentum=0.9)
    snapshots: list[dict[str, np.ndarray]] = []

    def schedule(epoch: int) -> float:
        snapshots.append({name: p.copy() for name, p in model.params.items()})
        return 0.1 if epoch < 2 else 0.0

    fit(model, SoftmaxCrossEntropyLoss(), optimizer, x[:64], y[:64], epochs=4,
        batch_size=16, rng=0, progress=False, lr_schedule=schedule)
    assert optimizer.lr == 0.0 and len(snapshots) == 4
    assert not np.array_equal(snapshots[1]["0.weight"], snapshots[2]["0.weight"])
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, snapshots[2][name])


# --------------------------------------------------------------------------- trajectory tests
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_mlp_trajectory_float64(optimizer: str):
    """50 steps of the MLP on digits: loss equal to 1e-10 relative at every step, and the
    parameters equal at the end, for every optimizer configuration."""
    model, images, x, y = build("mlp", F64)
    run = run_trajectories(model, images, optimizer, x, y)
    worst = int(np.argmax(run.loss_drift))
    assert run.loss_drift.max() <= FLOAT64_LOSS_RTOL, (
        f"mlp/{optimizer}/float64: the loss differs from torch by {run.loss_drift.max():.2e} "
        f"relative at step {worst + 1} (numpy {run.numpy_loss[worst]!r}, torch "
        f"{run.torch_loss[worst]!r}); first steps' drift {run.loss_drift[:5]}")
    assert run.max_param_error <= FLOAT64_PARAM_RTOL, run.param_error
    assert run.numpy_loss[-10:].mean() < 0.8 * run.numpy_loss[:5].mean(), "it must train"


@pytest.mark.parametrize("optimizer", ["sgd-momentum-wd", "adam"])
def test_cnn_trajectory_float64(optimizer: str):
    """50 steps of Conv-BN-ReLU-MaxPool-SE-Flatten-Linear: losses, parameters and the
    batch-norm running statistics equal to torch's at float64 precision."""
    model, images, x, y = build("cnn", F64)
    run = run_trajectories(model, images, optimizer, x, y)
    assert run.loss_drift.max() <= FLOAT64_LOSS_RTOL, run.loss_drift
    assert run.max_param_error <= FLOAT64_PARAM_RTOL, run.param_error
    assert max(run.buffer_error.values()) <= FLOAT64_PARAM_RTOL, run.buffer_error
    assert run.numpy_loss[-10:].mean() < 0.5 * run.numpy_loss[:5].mean(), "it must train"


@pytest.mark.parametrize("optimizer", ["sgd-momentum-wd", "adam"])
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_trajectory_float32_drift_is_bounded(kind: str, optimizer: str):
    """float32 end to end on both sides: the loss drifts only by round-off, within the
    measured bound FLOAT32_DRIFT[kind] over 50 steps."""
    model, images, x, y = build(kind, F32)
    run = run_trajectories(model, images, optimizer, x, y)
    assert all(p.dtype == np.float32 for p in model.params.values())
    drift = run.loss_drift.max()
    assert drift <= FLOAT32_DRIFT[kind], (
        f"{kind}/{optimizer}/float32: loss drift {drift:.2e} over {TRAJECTORY_STEPS} steps "
        f"exceeds the measured bound {FLOAT32_DRIFT[kind]:.0e}; per step: {run.loss_drift}")
    assert run.max_param_error <= FLOAT32_PARAM_RTOL, run.param_error


# --------------------------------------------------------------------------- real data
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


def test_mlp_reaches_95_percent_on_held_out_digits():
    model, history = train_mlp_on_digits()
    _, x_test, _, y_test = digits("float32")
    _, test_accuracy = evaluate(model, SoftmaxCrossEntropyLoss(), x_test, y_test)
    assert test_accuracy is not None and test_accuracy >= 0.95, history.val_accuracy
    assert history.val_accuracy[-1] == test_accuracy
    assert history.accuracy[-1] is not None and history.accuracy[-1] >= 0.97


def test_cnn_reaches_97_percent_on_held_out_digits():
    model, history = train_cnn_on_digits()
    _, x_test, _, y_test = digits("float32")
    _, test_accuracy = evaluate(model, SoftmaxCrossEntropyLoss(), as_images(x_test), y_test)
    assert test_accuracy is not None and test_accuracy >= 0.97, history.val_accuracy
    assert history.val_accuracy[-1] == test_accuracy


def test_seed_004_setup_stalls_with_dead_relus_and_the_fixes_train():
    """docs/training.md, "Why the seed's MNIST run stalled", on digits: raw 0-255 pixels,
    Glorot init and full-batch steps of lr 0.1 (seed 004's set-up, 64-16-16-10) kill the
    first hidden layer and leave a constant predictor at ~ln 10; pixels in [0, 1], He init
    and mini-batches with momentum train the same network."""
    x, x_test, y, y_test = digits()

    def run(scale: float, init: str, batch_size: int, epochs: int, lr: float,
            momentum: float) -> tuple[float, float, float]:
        rng = np.random.default_rng(0)
        model = Sequential(
            Linear(64, 16, weight_init=init, dtype=np.float64, rng=rng), ReLU(),
            Linear(16, 16, weight_init=init, dtype=np.float64, rng=rng), ReLU(),
            Linear(16, 10, dtype=np.float64, rng=rng),
        )
        history = fit(model, SoftmaxCrossEntropyLoss(), SGD(model, lr=lr, momentum=momentum),
                      x * scale, y, epochs=epochs, batch_size=batch_size, rng=0,
                      validation=(x_test * scale, y_test), progress=False)
        alive = float(np.mean(model[1].forward(model[0].forward(x_test * scale)) > 0))
        spread = float(np.max(np.std(model.forward(x_test * scale), axis=0)))
        return history.val_accuracy[-1], alive, spread

    accuracy_seed, alive_seed, spread_seed = run(255.0, "xavier_uniform", len(x), 60, 0.1,
                                                 0.0)
    assert accuracy_seed < 0.15 and alive_seed == 0.0 and spread_seed < 1e-9
    accuracy_fixed, alive_fixed, _ = run(1.0, "kaiming_uniform", 32, 10, 0.02, 0.9)
    assert accuracy_fixed > 0.9 and alive_fixed > 0.3
