"""The hand-worked backpropagation example at the end of seed 004, number by number.

Network: x (1, 2) → Linear W1 (2, 4) → ReLU → Linear W2 (4, 3) → ReLU → Linear W3 (3, 1)
→ Sigmoid, zero biases, target y = 1, loss L = ½·mean((a3 − y)²).

Every value the seed printed is reproduced three ways: with the ``numpy_impl`` layers
(float64, parameters set to the seed's values), with torch autograd on stock ``nn``
modules, and against the seed's printed digits (8 decimals, so to within half a unit of
the 8th decimal). The NumPy layers are also checked against torch at float64 tolerance for
every intermediate, every parameter gradient (the biases too, which the seed never
computed) and dL/dx.

Our ``MSELoss`` is torch's mean of squares, without the seed's ½, so the seed's loss is
``0.5 * MSELoss()(a3, y)`` and its gradient ``0.5 * MSELoss().backward()``.

The seed's values are right; several of its *names* are not (see docs/backprop_example.md):
each ``u_wrt_v`` variable holds the chain product dL/d(something), not the local ∂u/∂v.
``SEED`` below maps the correct name to the seed's variable name and printed value.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from numpy_impl.activations import ReLU, Sigmoid
from numpy_impl.linear import Linear
from numpy_impl.losses import MSELoss
from numpy_impl.model import Sequential
from parity_tests.compare import compare
from parity_tests.tolerances import PARITY
from torch_ref.base import TRANSPOSED, link_tensors

# --------------------------------------------------------------------------- the seed's data
X = np.array([[1.0, 2.0]])
Y = np.array([[1.0]])
W1 = np.array([[-0.25091976, 0.90142861, 0.46398788, 0.19731697],
               [-0.68796272, -0.68801096, -0.88383278, 0.73235229]])
W2 = np.array([[0.18722862, 0.38527555, -0.88770502],
               [0.87010397, 0.61556416, -0.53264447],
               [-0.58914568, -0.58622094, -0.36247293],
               [0.04584, -0.12601334, -0.38656852]])
W3 = np.array([[0.27398252], [-0.88305609], [-0.50913955]])

#: The loss exactly as the seed printed it (repr of a float64: all 17 significant digits).
SEED_LOSS = 0.12240446941668841

#: correct name -> (the seed's variable name, the value it printed to 8 decimals).
SEED: dict[str, tuple[str, np.ndarray]] = {
    "z1": ("z1", np.array([[-1.6268452, -0.47459331, -1.30367768, 1.66202155]])),
    "a1": ("a1", np.array([[0.0, 0.0, 0.0, 1.66202155]])),
    "z2": ("z2", np.array([[0.07618707, -0.20943689, -0.64248521]])),
    "a2": ("a2", np.array([[0.07618707, 0.0, 0.0]])),
    "z3": ("z3", np.array([[0.02087392]])),
    "a3": ("a3", np.array([[0.50521829]])),
    "dL/da3": ("loss_wrt_a3", np.array([[-0.49478171]])),
    "dL/dz3": ("a3_wrt_z3", np.array([[-0.12368195]])),
    "dL/dW3": ("z3_wrt_a2", np.array([[-0.00942297], [0.0], [0.0]])),
    "dL/da2": ("z3_wrt_a2_we", np.array([[-0.03388669, 0.1092181, 0.06297137]])),
    "dL/dz2": ("a2_wrt_z2", np.array([[-0.03388669, 0.0, 0.0]])),
    "dL/dW2": ("z2_wrt_a1", np.array([[0.0, 0.0, 0.0],
                                      [0.0, 0.0, 0.0],
                                      [0.0, 0.0, 0.0],
                                      [-0.05632041, 0.0, 0.0]])),
    "dL/da1": ("z2_wrt_a1_we", np.array([[-0.00634456, -0.02948495, 0.0199642, -0.00155337]])),
    "dL/dz1": ("a1_wrt_z1", np.array([[-0.0, -0.0, 0.0, -0.00155337]])),
    "dL/dW1": ("z1_wrt_w1", np.array([[0.0, 0.0, 0.0, -0.00155337],
                                      [0.0, 0.0, 0.0, -0.00310673]])),
}

#: Printed with 8 decimals: a correct value lies within half a unit of the 8th decimal
#: (plus float64 round-off of the 8-decimal literals themselves).
PRINTED = 0.5e-8 + 1e-15
F64 = PARITY[np.dtype(np.float64)]


def build_numpy_model() -> Sequential:
    """The seed's network with the numpy_impl layers, float64, the seed's weights."""
    model = Sequential(
        Linear(2, 4, dtype=np.float64), ReLU(),
        Linear(4, 3, dtype=np.float64), ReLU(),
        Linear(3, 1, dtype=np.float64), Sigmoid(),
    )
    for name, weight in (("0", W1), ("2", W2), ("4", W3)):
        model.params[f"{name}.weight"][...] = weight
        model.params[f"{name}.bias"][...] = 0.0
    return model


def numpy_values() -> tuple[dict[str, np.ndarray], float, np.ndarray, dict[str, np.ndarray]]:
    """Every intermediate and gradient from the numpy_impl layers, layer by layer.

    Returns (values by correct name, loss, dL/dx, parameter gradients by model name).
    """
    model = build_numpy_model()
    names = ["z1", "a1", "z2", "a2", "z3", "a3"]
    values: dict[str, np.ndarray] = {}
    h = X
    for layer, name in zip(model, names, strict=True):
        h = layer.forward(h)
        values[name] = h
    mse = MSELoss()
    loss = 0.5 * mse.forward(values["a3"], Y)  # the seed's ½·mean((a3 − y)²)
    grad = 0.5 * mse.backward()  # d(½·MSE)/da3 = ½ · 2(a3 − y)/M = a3 − y  (M = 1)
    for layer, name in zip(reversed(model.layers), reversed(names), strict=True):
        values[f"dL/d{name}"] = grad
        grad = layer.backward(grad)
    for layer_index, w in (("0", "1"), ("2", "2"), ("4", "3")):
        values[f"dL/dW{w}"] = model.grads[f"{layer_index}.weight"]
        values[f"dL/db{w}"] = model.grads[f"{layer_index}.bias"]
    return values, loss, grad, model.grads


def torch_values() -> tuple[dict[str, np.ndarray], float, np.ndarray]:
    """The same with stock torch modules and autograd (weights copied, transposed)."""
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(),
                        nn.Linear(3, 1), nn.Sigmoid()).double()
    arrays = {"0.weight": W1, "0.bias": np.zeros(4), "2.weight": W2, "2.bias": np.zeros(3),
              "4.weight": W3, "4.bias": np.zeros(1)}
    layouts = {name: TRANSPOSED for name in arrays if name.endswith("weight")}
    links = link_tensors("seed 004", arrays, dict(net.named_parameters()), layouts)
    x = torch.from_numpy(X.copy()).requires_grad_(True)
    names = ["z1", "a1", "z2", "a2", "z3", "a3"]
    tensors: dict[str, torch.Tensor] = {}
    h = x
    for module, name in zip(net, names, strict=True):
        h = module(h)
        h.retain_grad()
        tensors[name] = h
    loss = 0.5 * nn.MSELoss()(tensors["a3"], torch.from_numpy(Y.copy()))
    loss.backward()
    values = {name: t.detach().numpy() for name, t in tensors.items()}
    values.update({f"dL/d{name}": t.grad.numpy() for name, t in tensors.items()})
    for layer_index, w in (("0", "1"), ("2", "2"), ("4", "3")):
        values[f"dL/dW{w}"] = links[f"{layer_index}.weight"].grad()
        values[f"dL/db{w}"] = links[f"{layer_index}.bias"].grad()
    assert x.grad is not None
    return values, float(loss.detach()), x.grad.numpy()


NUMPY = numpy_values()
TORCH = torch_values()


# --------------------------------------------------------------------------- the seed's digits
@pytest.mark.parametrize("name", list(SEED))
@pytest.mark.parametrize("side", ["numpy_impl", "torch"])
def test_printed_value(side: str, name: str) -> None:
    """Each printed number, to its 8 printed decimals, under its correct name."""
    values = NUMPY[0] if side == "numpy_impl" else TORCH[0]
    seed_name, printed = SEED[name]
    ours = values[name]
    assert ours.shape == printed.shape, f"{name}: shape {ours.shape} vs {printed.shape}"
    error = np.max(np.abs(ours - printed))
    assert error <= PRINTED, (
        f"{side}: {name} (seed variable {seed_name}) = {ours.tolist()} but the seed printed "
        f"{printed.tolist()} (max abs error {error:.2e} > {PRINTED:.1e})"
    )


@pytest.mark.parametrize("side", ["numpy_impl", "torch"])
def test_loss_all_digits(side: str) -> None:
    """L = ½·mean((a3 − y)²) = 0.12240446941668841, the seed's full float64 repr."""
    loss = NUMPY[1] if side == "numpy_impl" else TORCH[1]
    assert loss == pytest.approx(SEED_LOSS, rel=1e-15, abs=0), f"{side}: loss {loss!r}"


def test_printed_a3_digits() -> None:
    """a3 = σ(z3) = 0.50521829… (the brief quotes it; z3 = 0.02087392…)."""
    assert f"{NUMPY[0]['a3'][0, 0]:.8f}" == "0.50521829"
    assert f"{NUMPY[0]['z3'][0, 0]:.8f}" == "0.02087392"


def test_dead_units_get_no_gradient() -> None:
    """Only unit 4 of layer 1 and unit 1 of layer 2 are active (z > 0): every gradient
    through the dead ReLUs is exactly zero, which is why dW1, dW2, dW3 have one live column,
    row, entry each. A backward that leaked gradient through ReLU(z ≤ 0) fails here."""
    values = NUMPY[0]
    np.testing.assert_array_equal(values["dL/dz1"][0, :3], 0.0)
    np.testing.assert_array_equal(values["dL/dz2"][0, 1:], 0.0)
    assert np.count_nonzero(values["dL/dW1"]) == 2
    assert np.count_nonzero(values["dL/dW2"]) == 1
    assert np.count_nonzero(values["dL/dW3"]) == 1
    # ... while dL/da1 and dL/da2 (before the ReLU mask) are non-zero everywhere.
    assert np.all(values["dL/da1"] != 0) and np.all(values["dL/da2"] != 0)


def test_seed_names_are_chain_products_not_local_derivatives() -> None:
    """The seed's ``a3_wrt_z3`` reads as ∂a3/∂z3 = σ'(z3) = a3(1 − a3) ≈ 0.24997, but it
    holds dL/dz3 = (a3 − y)·σ'(z3); ``z3_wrt_a2`` reads as ∂z3/∂a2 = W3ᵀ but holds
    dL/dW3 = a2ᵀ·dL/dz3; ``z3_wrt_a2_we`` is dL/da2 = dL/dz3·W3ᵀ. Pin that down."""
    values = NUMPY[0]
    a3 = values["a3"]
    local_sigmoid = a3 * (1 - a3)
    printed_a3_wrt_z3 = SEED["dL/dz3"][1]
    assert abs(local_sigmoid[0, 0] - 0.24997) < 1e-5
    assert not np.allclose(printed_a3_wrt_z3, local_sigmoid, atol=1e-3)
    np.testing.assert_allclose(printed_a3_wrt_z3, (a3 - Y) * local_sigmoid, atol=PRINTED)
    printed_z3_wrt_a2 = SEED["dL/dW3"][1]
    assert printed_z3_wrt_a2.shape == W3.shape  # a weight gradient's shape, not a2's (1, 3)
    assert not np.allclose(printed_z3_wrt_a2, W3, atol=1e-3)
    np.testing.assert_allclose(printed_z3_wrt_a2, values["a2"].T @ values["dL/dz3"],
                               atol=PRINTED)


def test_seed_mse_class_gradient_has_the_wrong_sign() -> None:
    """The hand-worked cells use dL/da3 = a3 − y (right for ½·mean with one element), but
    the seed's ``MSELoss.backward`` class returns (y − ŷ)/N: the negative. Ours, scaled by
    ½, gives the hand-worked value."""
    a3 = NUMPY[0]["a3"]
    seed_class_backward = (Y - a3) / Y.shape[0]
    mse = MSELoss()
    mse.forward(a3, Y)
    ours = 0.5 * mse.backward()
    np.testing.assert_allclose(ours, SEED["dL/da3"][1], atol=PRINTED)
    np.testing.assert_allclose(seed_class_backward, -ours, rtol=1e-15)


# --------------------------------------------------------------------------- numpy vs torch
def numpy_vs_torch_names() -> list[str]:
    return sorted(TORCH[0])


@pytest.mark.parametrize("name", numpy_vs_torch_names())
def test_numpy_matches_torch(name: str) -> None:
    """Every intermediate and gradient (biases included) at float64 parity tolerance."""
    result = compare(name, NUMPY[0][name], TORCH[0][name], F64)
    assert result.ok, f"numpy_impl vs torch autograd, seed 004 example:\n{result.describe()}"


def test_input_gradient_matches_torch() -> None:
    """dL/dx (the seed stops at dW1) agrees with torch and is the chain product
    dL/dz1 · W1ᵀ."""
    result = compare("dL/dx", NUMPY[2], TORCH[2], F64, guard=True)
    assert result.ok, result.describe()
    np.testing.assert_allclose(NUMPY[2], NUMPY[0]["dL/dz1"] @ W1.T, rtol=1e-15)


def test_bias_gradients_equal_pre_activation_gradients() -> None:
    """With a batch of one, dL/db_k = dL/dz_k (the seed never printed the bias gradients)."""
    values = NUMPY[0]
    for k in ("1", "2", "3"):
        np.testing.assert_array_equal(values[f"dL/db{k}"], values[f"dL/dz{k}"][0])


def test_sequential_backward_matches_layer_by_layer() -> None:
    """Sequential.forward/backward gives the same output, dL/dx and grads (keyed
    ``0.weight`` … ``4.bias`` like torch) as the layer-by-layer run above."""
    model = build_numpy_model()
    mse = MSELoss()
    a3 = model.forward(X)
    loss = 0.5 * mse.forward(a3, Y)
    dx = model.backward(0.5 * mse.backward())
    assert loss == NUMPY[1]
    np.testing.assert_array_equal(a3, NUMPY[0]["a3"])
    np.testing.assert_array_equal(dx, NUMPY[2])
    assert list(model.grads) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                 "4.bias"]
    for name, grad in model.grads.items():
        np.testing.assert_array_equal(grad, NUMPY[3][name])
        assert grad.dtype == np.float64
