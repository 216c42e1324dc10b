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

The helpers live in :mod:`parity_tests.training_parity` (shared with
``examples/train_digits.py``) and the torch twin in :mod:`torch_ref.model`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from numpy_impl.activations import ReLU
from numpy_impl.linear import Linear
from numpy_impl.losses import MSELoss, SoftmaxCrossEntropyLoss
from numpy_impl.model import Sequential
from numpy_impl.optim import SGD, Adam
from numpy_impl.training import accuracy, batch_indices, evaluate, fit, train_step
from parity_tests.training_parity import (
    F32,
    F64,
    FLOAT32_DRIFT,
    FLOAT32_PARAM_RTOL,
    FLOAT64_LOSS_RTOL,
    FLOAT64_PARAM_RTOL,
    OPTIMIZERS,
    TRAJECTORY_STEPS,
    as_images,
    build,
    cnn,
    digits,
    mlp,
    run_trajectories,
    train_cnn_on_digits,
    train_mlp_on_digits,
    training_batches,
)
from torch_ref.model import torch_twin


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


@pytest.mark.slow
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
    with pytest.raises(TypeError, match=r"^Sequential\.add: layer must be a numpy_impl Layer "
                                        r"\(with forward/backward\), got function"):
        Sequential(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^Sequential\.add: layer 2 \(Linear\) computes in "
                                        "float64 but the model's earlier layers compute in "
                                        "float32"):
        Sequential(Linear(2, 2, dtype=np.float32), ReLU(), Linear(2, 2, dtype=np.float64))
    with pytest.raises(TypeError, match=r"^Sequential\.add: layer must be a Layer, got the "
                                        "loss MSELoss"):
        Sequential(MSELoss())  # type: ignore[arg-type]
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
def _assert_steps_match_torch(label: str, numpy_cls: type, torch_cls: type,
                              hyper: dict[str, Any], dtype: np.dtype) -> None:
    """Ten steps on the same arrays with fresh random gradients each step; the parameters
    match torch.optim after every step (float64: 1e-14 relative; float32: 2 ulp-ish)."""
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
                f"{label} {dtype}: {key} after step {step + 1} differs from torch by "
                f"{error:.2e} (the step moved it by {moved:.2e})")
            assert moved > 100 * tolerance, "the step must move the parameters measurably"


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_match_torch(name: str, dtype: np.dtype):
    _assert_steps_match_torch(name, *OPTIMIZERS[name], dtype)


#: Hyperparameters at values a mutation run showed untested (an optimizer comparing a
#: setting with 1 instead of 0, refusing β₁ = 0): each must still step as torch.optim does.
EDGE_HYPERPARAMETERS: dict[str, tuple[type, type, dict[str, Any]]] = {
    "sgd-weight-decay-1": (SGD, torch.optim.SGD, {"lr": 0.05, "weight_decay": 1.0}),
    "sgd-momentum-0-dampening": (SGD, torch.optim.SGD,
                                 {"lr": 0.05, "momentum": 0.0, "dampening": 0.5}),
    "sgd-momentum-1": (SGD, torch.optim.SGD, {"lr": 0.01, "momentum": 1.0}),
    "adam-weight-decay-1": (Adam, torch.optim.Adam, {"lr": 0.005, "weight_decay": 1.0}),
    "adam-beta1-0": (Adam, torch.optim.Adam, {"lr": 0.005, "betas": (0.0, 0.999)}),
}


@pytest.mark.parametrize("name", list(EDGE_HYPERPARAMETERS))
def test_optimizer_edge_hyperparameters_match_torch(name: str):
    _assert_steps_match_torch(name, *EDGE_HYPERPARAMETERS[name], F64)


def test_optimizer_skips_only_the_parameters_without_a_gradient():
    """A parameter with no gradient (a frozen one) is left alone; the ones after it still
    move (the search for gradients must not stop at the first missing one)."""
    params = {name: np.ones(3, dtype=np.float32) for name in ("a", "b", "c")}
    grads = {"a": np.ones(3, dtype=np.float32), "c": np.ones(3, dtype=np.float32)}
    SGD(params, lr=0.5, grads=grads).step()
    assert np.all(params["a"] == 0.5) and np.all(params["c"] == 0.5)
    assert np.all(params["b"] == 1.0)


def test_sgd_momentum_buffer_is_a_copy_of_the_first_gradient():
    """torch's first momentum buffer is a clone of d: a gradient array changed in place after
    step() (a layer accumulating into it) must not move the buffer."""
    params = {"w": np.zeros(3, dtype=np.float64)}
    grads = {"w": np.ones(3)}
    sgd = SGD(params, lr=0.1, momentum=0.9, grads=grads)
    sgd.step()
    grads["w"] += 100.0
    assert np.all(sgd.state["w"]["momentum_buffer"] == 1.0)


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


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda m: SGD(m, lr=-0.1), ValueError, "SGD: lr must be >= 0, got -0.1"),
        (lambda m: SGD(m, lr=float("nan")), ValueError, "SGD: lr must be finite"),
        (lambda m: SGD(m, lr="0.1"), TypeError, "SGD: lr must be a real number, got str"),
        (lambda m: SGD(m, lr=0.1, momentum=-0.5), ValueError,
         "SGD: momentum must be >= 0, got -0.5"),
        (lambda m: SGD(m, lr=0.1, dampening=float("nan")), ValueError,
         "SGD: dampening must be finite, got nan"),
        (lambda m: SGD(m, lr=0.1, weight_decay=-1), ValueError,
         "SGD: weight_decay must be >= 0, got -1"),
        (lambda m: SGD(m, lr=0.1, nesterov=1), TypeError,
         "SGD: nesterov must be a bool, got int"),
        (lambda m: SGD(m, lr=0.1, nesterov=True), ValueError,
         "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum=0.0, "
         "dampening=0.0"),
        (lambda m: SGD(m, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
         "SGD: nesterov momentum requires"),
        (lambda m: Adam(m, lr=-1), ValueError, "Adam: lr must be >= 0, got -1"),
        (lambda m: Adam(m, betas=(float("nan"), 0.999)), ValueError,
         "Adam: betas[0] must be finite"),
        (lambda m: Adam(m, betas=(1.0, 0.999)), ValueError,
         "Adam: betas[0] must lie in [0, 1), got 1.0"),
        (lambda m: Adam(m, betas=(0.9, -0.1)), ValueError,
         "Adam: betas[1] must lie in [0, 1), got -0.1"),
        (lambda m: Adam(m, betas=0.9), TypeError, "Adam: betas must be a pair"),
        (lambda m: Adam(m, eps=-1e-8), ValueError, "Adam: eps must be >= 0, got -1e-08"),
        (lambda m: Adam(m, weight_decay=-1), ValueError,
         "Adam: weight_decay must be >= 0, got -1"),
        (lambda m: Adam(m, amsgrad=1), TypeError, "Adam: amsgrad must be a bool, got int"),
        (lambda m: SGD(m.params, lr=0.1), TypeError, "SGD: grads is required"),
        (lambda m: SGD(m, lr=0.1, grads={}), TypeError,
         "SGD: grads must be None when params is a model (its .grads are used)"),
        (lambda m: SGD({}, lr=0.1, grads={}), ValueError, "SGD: params is empty"),
        (lambda m: SGD([1, 2], lr=0.1), TypeError,
         "SGD: params must be a model/layer with .params and .grads or a mapping name -> "
         "ndarray, got list"),
        (lambda m: SGD({"w": np.zeros(3, dtype=int)}, grads={}), TypeError,
         "SGD: params['w'] must have dtype float32 or float64, got int64"),
        (lambda m: Adam({"w": _read_only(np.ones(3))}, grads={}), ValueError,
         "Adam: params['w'] is read-only; it is updated in place"),
    ],
)
def test_optimizer_arguments_are_validated(make: Callable, error: type, message: str):
    """Each message starts with the class and names the argument (and what it got)."""
    with pytest.raises(error, match="^" + re.escape(message)):
        make(mlp())


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimizer_defaults_are_torchs(name: str):
    ours = {"SGD": SGD, "Adam": Adam}[name](mlp())
    theirs = getattr(torch.optim, name)(nn.Linear(2, 2).parameters()).defaults
    for key in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "betas", "eps",
                "amsgrad"):
        if key in theirs:
            assert getattr(ours, key) == pytest.approx(theirs[key]), key


def test_optimizer_step_refuses_missing_or_mismatched_gradients():
    model = mlp(np.float32)
    with pytest.raises(RuntimeError, match="no parameter has a gradient"):
        SGD(model, lr=0.1).step()
    params = {"w": np.ones(3, dtype=np.float32)}
    with pytest.raises(TypeError, match=r"^SGD\.step: grads\['w'\] has dtype float64 but the "
                                         r"parameter is float32"):
        SGD(params, lr=0.1, grads={"w": np.ones(3)}).step()
    with pytest.raises(ValueError, match=r"has shape \(2,\), expected \(3,\)"):
        SGD(params, lr=0.1, grads=lambda: {"w": np.ones(2, dtype=np.float32)}).step()
    with pytest.raises(TypeError, match=r"^SGD\.step: grads\['w'\] must be a numpy\.ndarray"):
        SGD(params, lr=0.1, grads={"w": [1.0, 2.0, 3.0]}).step()  # type: ignore[dict-item]


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
    with (pytest.raises(FloatingPointError, match=r"^fit: the loss became inf at epoch 5, "
                                                  r"step 20; lower the learning rate"),
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
    with pytest.raises(ValueError, match=r"^fit: x has no samples"):
        fit(model, ce, opt, x[:0], y[:0], epochs=1, batch_size=8, rng=0, progress=False)
    with pytest.raises(TypeError, match=r"^fit: x must be a numpy\.ndarray"):
        fit(model, ce, opt, x.tolist(), y, epochs=1, batch_size=8, rng=0, progress=False)
    with pytest.raises(TypeError, match=r"^fit: y must be a numpy\.ndarray, got list"):
        fit(model, ce, opt, x, y.tolist(), epochs=1, batch_size=8, rng=0, progress=False)
    one = fit(model, ce, opt, x[:1], y[:1], epochs=1, batch_size=8, rng=0, progress=False)
    assert len(one.loss) == 1  # a single sample is a batch
    bad_arguments = [
        (dict(epochs=0), ValueError, "fit: epochs must be >= 1, got 0"),
        (dict(batch_size=0), ValueError, "fit: batch_size must be >= 1, got 0"),
        (dict(batch_size=1348, drop_last=True), ValueError,
         "fit: batch_size 1348 > 1347 samples with drop_last=True leaves no batch"),
        (dict(validation=x), TypeError, "fit: validation must be a pair (x_val, y_val)"),
        (dict(validation=[x, y]), TypeError, "fit: validation must be a pair (x_val, y_val)"),
        (dict(validation=(x, y[:3])), ValueError, "fit: x_val has 1347 samples but y_val has 3"),
        (dict(validation=(x.tolist(), y)), TypeError, "fit: x_val must be a numpy.ndarray"),
        (dict(rng="a"), TypeError, "fit: rng must be a numpy.random.Generator"),
    ]
    for changed, error, message in bad_arguments:
        arguments = dict(epochs=1, batch_size=8, rng=0, progress=False) | changed
        with pytest.raises(error, match="^" + re.escape(message)):
            fit(model, ce, opt, x, y, **arguments)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lr_schedule\(0\) must be a finite learning rate"):
        fit(model, ce, opt, x, y, epochs=1, batch_size=8, rng=0, progress=False,
            lr_schedule=lambda epoch: -1.0)
    assert accuracy(np.zeros((3, 1)), np.zeros(3, dtype=int)) is None


def test_fit_history_without_learning_is_the_full_batch_loss_and_accuracy():
    """With lr = 0 the model never changes, so an epoch's loss (the batches' losses weighted
    by their sizes) and accuracy are those of the whole training set; drop_last drops the
    short batch and nothing else."""
    x, _, y, _ = digits()
    model = mlp()
    history = fit(model, SoftmaxCrossEntropyLoss(), SGD(model, lr=0.0), x, y, epochs=2,
                  batch_size=500, rng=3, progress=False)
    loss, hits = evaluate(model, SoftmaxCrossEntropyLoss(), x, y)
    assert len(history.step_loss) == 6  # 1347 = 500 + 500 + 347, twice
    assert history.loss == pytest.approx([loss, loss], rel=1e-12)
    assert history.accuracy == pytest.approx([hits, hits], rel=1e-12)
    dropped = fit(model, SoftmaxCrossEntropyLoss(), SGD(model, lr=0.0), x, y, epochs=1,
                  batch_size=500, rng=3, drop_last=True, progress=False)
    assert dropped.step_loss == history.step_loss[:2]
    whole = fit(model, SoftmaxCrossEntropyLoss(), SGD(model, lr=0.0), x, y, epochs=1,
                batch_size=1347, rng=3, drop_last=True, progress=False)
    assert whole.loss == pytest.approx([loss], rel=1e-12)


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
@pytest.mark.slow
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


@pytest.mark.slow
def test_mlp_reaches_95_percent_on_held_out_digits():
    model, history = train_mlp_on_digits()
    _, x_test, _, y_test = digits("float32")
    _, test_accuracy = evaluate(model, SoftmaxCrossEntropyLoss(), x_test, y_test)
    assert test_accuracy is not None and test_accuracy >= 0.95, history.val_accuracy
    assert history.val_accuracy[-1] == test_accuracy
    assert history.accuracy[-1] is not None and history.accuracy[-1] >= 0.97


@pytest.mark.slow
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


def test_batch_indices_cut_the_order_into_batches_and_name_bad_arguments():
    """Without shuffle: 0 … n−1 in chunks of batch_size, the last one short unless
    drop_last; the errors name the function and the argument."""
    chunks = [list(b) for b in batch_indices(10, 4, shuffle=False)]
    assert chunks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(b) for b in batch_indices(10, 4, shuffle=False, drop_last=True)] == [4, 4]
    assert [list(b) for b in batch_indices(3, 8, shuffle=False)] == [[0, 1, 2]]
    with pytest.raises(ValueError, match=r"^batch_indices: n must be >= 1, got 0"):
        list(batch_indices(0, 4, shuffle=False))
    with pytest.raises(ValueError, match=r"^batch_indices: batch_size must be >= 1, got 0"):
        list(batch_indices(10, 0, shuffle=False))
    with pytest.raises(ValueError, match=r"^batch_indices: shuffle=True needs rng \(a numpy "
                       r"Generator\)$"):
        list(batch_indices(10, 4))


@pytest.mark.parametrize("batch_size", [None, 7], ids=["whole", "batches-of-7"])
@pytest.mark.parametrize("training", [True, False], ids=["from-train", "from-eval"])
def test_evaluate_returns_the_full_batch_loss_and_accuracy_and_restores_the_mode(
        batch_size: int | None, training: bool):
    """evaluate's loss is the full-batch mean loss whatever the batches (here 40 samples
    in batches of 7, the last one of 5), its accuracy the fraction of arg-max hits, both
    in eval mode; the model comes back in the mode it was in."""
    model = mlp(np.float64)
    x, _, y, _ = digits("float64")
    x, y = x[:40], y[:40]
    model.train(training)
    loss, hits = evaluate(model, SoftmaxCrossEntropyLoss(), x, y, batch_size=batch_size)
    assert model.training is training
    model.eval()
    scores = model.forward(x)
    expected = SoftmaxCrossEntropyLoss().forward(scores, y)
    assert abs(loss - expected) <= 1e-12 * abs(expected)
    assert hits == np.mean(np.argmax(scores, axis=1) == y)
    with pytest.raises(ValueError, match=r"^evaluate: batch_size must be >= 1, got 0"):
        evaluate(model, SoftmaxCrossEntropyLoss(), x, y, batch_size=0)


def test_accuracy_takes_labels_or_one_hot_rows_and_needs_two_classes():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    labels = np.array([1, 1, 1])
    assert accuracy(scores, labels) == pytest.approx(2 / 3)
    assert accuracy(scores, np.eye(2)[labels]) == pytest.approx(2 / 3)  # one-hot rows
    assert accuracy(scores, np.eye(2)[[0, 0, 1]]) == pytest.approx(2 / 3)  # each row's arg-max
    assert accuracy(scores[:1], labels[:1]) == 1.0  # one row
    assert accuracy(scores, labels.astype(float)) is None  # float labels: not classes
    assert accuracy(scores, np.eye(3)[labels]) is None  # rows of another width
    assert accuracy(scores[:, :1], labels) is None  # one column: not a classification
    assert accuracy(scores[:0], labels[:0]) is None


def test_sequential_repr_and_config_list_the_layers_as_torch_prints_them():
    model = Sequential(Linear(2, 3, dtype=np.float32, rng=0), ReLU())
    linear = ("Linear(in_features=2, out_features=3, bias=True, weight_init='xavier_uniform', "
              "bias_init='zeros', dtype='float32')")
    assert repr(model) == f"Sequential(\n  (0): {linear}\n  (1): ReLU()\n)"
    assert repr(Sequential()) == "Sequential()"
    assert model.config() == {"layers": [linear, "ReLU()"]}
