"""Error models: how many terms each element of a tensor sums, and their magnitude.

An entry's ``error_model(case, built, run)`` returns, for the tensors whose elements are sums, the
summation slack :func:`parity_tests.tolerances.summation_slack` allows them (``run`` is the
NumPy side's run of the case: its tensors and its upstream gradient). Tensors it does not
name get no slack (element-wise work is covered by rtol/atol).

- :func:`multilinear`: for layers that are linear in the input and in each parameter
  (Linear, Conv2D, average pooling), the magnitude of the terms of every sum is the same
  computation run on absolute values — y(|x|; |W|, |b|), and backward with |dy| — and the
  number of terms is the same computation run on ones. Both run through the torch reference
  in float64, so they are exact and cost two extra reference runs.
- :func:`softmax_rows`: softmax and log-softmax over an axis of C classes: the input
  gradient sums C terms per row (⟨s, dy⟩ or Σ dy), of magnitude s_i·Σ_j s_j|dy_j| and
  s_i·Σ_j |dy_j| respectively.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from parity_tests.tolerances import summation_slack

#: (case, built, run) -> {tensor name: slack array}
ErrorModel = Callable[[Any, Any, Any], Mapping[str, np.ndarray]]


def _reference_run(case: Any, layer: Any, x: np.ndarray,
                   dy: np.ndarray | None, transform: Callable[[torch.Tensor], torch.Tensor]
                   ) -> dict[str, np.ndarray]:
    """The reference in float64 with ``transform`` (abs, or ones) applied to the input, every
    parameter and the upstream gradient."""
    from parity_tests.engine import reference_for

    reference = reference_for(case, layer)
    module = reference.module
    if isinstance(module, torch.nn.Module):
        module.double()
        with torch.no_grad():
            for parameter in module.parameters():
                parameter.copy_(transform(parameter))
    xt = transform(torch.from_numpy(np.array(x, dtype=np.float64))).requires_grad_(True)
    y = reference(xt)
    y = y[0] if isinstance(y, tuple) else y
    tensors = {"output": y.detach().numpy()}
    if dy is not None:
        y.backward(transform(torch.from_numpy(np.array(dy, dtype=np.float64))))
        tensors["input_grad"] = xt.grad.numpy()
        for name, link in reference.params.items():
            grad = link.grad()
            if grad is not None:
                tensors[f"grad[{name}]"] = grad
    return tensors


def multilinear(case: Any, built: Any, run: Any) -> dict[str, np.ndarray]:
    """The error model of a layer multilinear in its input and parameters."""
    magnitude = _reference_run(case, built.layer, built.x, run.upstream, torch.abs)
    terms = _reference_run(case, built.layer, built.x, run.upstream, torch.ones_like)
    return {name: summation_slack(built.x.dtype, terms[name], magnitude[name])
            for name in magnitude if name in terms}


def softmax_rows(log: bool) -> ErrorModel:
    """The input gradient of softmax (``log=False``) or log-softmax over ``layer.dim``."""

    def model(case: Any, built: Any, run: Any) -> dict[str, np.ndarray]:
        if run.upstream is None or "output" not in run.tensors:
            return {}
        axis = getattr(built.layer, "dim", -1)
        y = np.asarray(run.tensors["output"], dtype=np.float64)
        s = np.exp(y) if log else y
        dy = np.abs(np.asarray(run.upstream, dtype=np.float64))
        weighted = dy if log else s * dy
        magnitude = s * (np.sum(weighted, axis=axis, keepdims=True) + dy)
        classes = y.shape[axis] if y.ndim else 1
        return {"input_grad": summation_slack(built.x.dtype, classes, magnitude)}

    return model


SOFTMAX = softmax_rows(log=False)
LOG_SOFTMAX = softmax_rows(log=True)
