"""Optimizers with torch's exact update rules: :class:`SGD` and :class:`Adam`.

An optimizer holds the parameter arrays (by name) and a *gradient provider*, and
``step()`` updates every parameter **in place**, in the parameter's own dtype (float32
stays float32). Build it from a model — anything with ``params`` and ``grads`` mappings,
such as :class:`~numpy_impl.model.Sequential` or any layer::

    optimizer = SGD(model, lr=0.1, momentum=0.9)
    model.backward(loss.backward())
    optimizer.step()

or from a mapping of arrays plus ``grads=``: a mapping (re-read at every step) or a
zero-argument callable returning one.

As in torch, a parameter without a gradient (its layer never ran backward) is skipped,
and the operations follow torch's single-tensor CPU kernels in the same order
(``torch/optim/sgd.py::_single_tensor_sgd``, ``torch/optim/adam.py::_single_tensor_adam``)
so the two stay within rounding of each other step after step.

Parameters are updated in place: to set a value from outside, write into the array
(``p[...] = value``); rebinding a layer's parameter to a new array detaches it from the
optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from numpy_impl.validation import check_finite_float, check_float_array

GradProvider = Mapping[str, np.ndarray] | Callable[[], Mapping[str, np.ndarray]]


@runtime_checkable
class HasParams(Protocol):
    """A model or layer: ``params`` and ``grads`` mappings keyed by the same names."""

    @property
    def params(self) -> Mapping[str, np.ndarray]: ...

    @property
    def grads(self) -> Mapping[str, np.ndarray]: ...


def _non_negative(where: str, name: str, value: object) -> float:
    number = check_finite_float(where, name, value)
    if number < 0:
        raise ValueError(f"{where}: {name} must be >= 0, got {value}")
    return number


def _beta(where: str, name: str, value: object) -> float:
    number = check_finite_float(where, name, value)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"{where}: {name} must lie in [0, 1), got {value}")
    return number


class Optimizer:
    """Shared machinery: parameter and gradient bookkeeping, per-parameter ``state``.

    ``state[name]`` holds the per-parameter buffers under torch's names
    (``momentum_buffer``; ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``).
    ``lr`` is a plain attribute: change it between steps for a schedule (as torch's
    ``param_groups[0]["lr"]``).
    """

    lr: float

    def __init__(
        self,
        params: HasParams | Mapping[str, np.ndarray],
        grads: GradProvider | None = None,
    ) -> None:
        where = type(self).__name__
        if isinstance(params, Mapping):
            if grads is None:
                raise TypeError(
                    f"{where}: grads is required when params is a mapping of arrays; pass "
                    f"the model itself (it has .params and .grads) or grads=<mapping or "
                    f"callable returning one>"
                )
            arrays = dict(params)
            self._grads: Callable[[], Mapping[str, np.ndarray]] = (
                grads if callable(grads) else (lambda: grads)  # type: ignore[return-value]
            )
        elif isinstance(params, HasParams):
            if grads is not None:
                raise TypeError(f"{where}: grads must be None when params is a model "
                                f"(its .grads are used)")
            arrays = dict(params.params)
            model = params
            self._grads = lambda: model.grads
        else:
            raise TypeError(
                f"{where}: params must be a model/layer with .params and .grads or a "
                f"mapping name -> ndarray, got {type(params).__name__}"
            )
        if not arrays:
            raise ValueError(f"{where}: params is empty; the optimizer has nothing to update")
        for name, array in arrays.items():
            check_float_array(where, f"params[{name!r}]", array)
            if not array.flags.writeable:
                raise ValueError(f"{where}: params[{name!r}] is read-only; it is updated "
                                 f"in place")
        self.params: dict[str, np.ndarray] = arrays
        self.state: dict[str, dict[str, Any]] = {name: {} for name in arrays}

    def _gradients(self) -> dict[str, np.ndarray]:
        """The current gradient of every parameter that has one, checked against it."""
        where = f"{type(self).__name__}.step"
        provided = self._grads()
        found: dict[str, np.ndarray] = {}
        for name, param in self.params.items():
            grad = provided.get(name)
            if grad is None:
                continue
            check_float_array(where, f"grads[{name!r}]", grad)
            if grad.shape != param.shape:
                raise ValueError(f"{where}: grads[{name!r}] has shape {grad.shape}, expected "
                                 f"{param.shape} (the parameter's)")
            if grad.dtype != param.dtype:
                raise TypeError(f"{where}: grads[{name!r}] has dtype {grad.dtype} but the "
                                f"parameter is {param.dtype}")
            found[name] = grad
        if not found:
            raise RuntimeError(
                f"{where}: no parameter has a gradient; run model.backward(loss.backward()) "
                f"before step()"
            )
        return found

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for name, grad in self._gradients().items():
            self._update(name, self.params[name], grad, self.state[name])

    def _update(
        self, name: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, torch's ``torch.optim.SGD``.

    For each parameter p with gradient g, at step t (t = 1, 2, …)::

        d  = g + λ·p                                  weight decay λ (L2, added to g)
        b₁ = d;   b_t = μ·b_{t−1} + (1 − τ)·d          momentum μ, dampening τ
                                                      (the first buffer is d itself,
                                                      NOT (1 − τ)·d)
        d  = d + μ·b_t   (nesterov)   or   d = b_t    (μ > 0)
        p  = p − η·d                                  learning rate η

    With μ = 0 this is plain p −= η (g + λ p). Nesterov needs μ > 0 and τ = 0, as in torch.
    """

    def __init__(
        self,
        params: HasParams | Mapping[str, np.ndarray],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        grads: GradProvider | None = None,
    ) -> None:
        where = type(self).__name__
        self.lr = _non_negative(where, "lr", lr)
        self.momentum = _non_negative(where, "momentum", momentum)
        self.dampening = check_finite_float(where, "dampening", dampening)
        self.weight_decay = _non_negative(where, "weight_decay", weight_decay)
        if not isinstance(nesterov, bool):
            raise TypeError(f"{where}: nesterov must be a bool, got {type(nesterov).__name__}")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                f"{where}: nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        self.nesterov = nesterov
        super().__init__(params, grads)

    def _update(
        self, name: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        d = grad
        if self.weight_decay != 0:
            d = d + self.weight_decay * param
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d, copy=True)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * d
            d = d + self.momentum * buf if self.nesterov else buf
        param -= self.lr * d


class Adam(Optimizer):
    """Adam (Kingma & Ba), torch's ``torch.optim.Adam`` (L2 weight decay, optional AMSGrad).

    For each parameter p with gradient g, at step t = 1, 2, … (m₀ = v₀ = 0)::

        g  = g + λ·p                                  weight decay λ (L2, added to g;
                                                      this is Adam, not AdamW)
        m_t = β₁·m_{t−1} + (1 − β₁)·g                 (torch: m.lerp_(g, 1 − β₁))
        v_t = β₂·v_{t−1} + (1 − β₂)·g²
        v̂max_t = max(v̂max_{t−1}, v_t)   (amsgrad; then used in place of v_t below)
        m̂_t = m_t / (1 − β₁ᵗ)                          bias corrections
        p  = p − η · m̂_t / (√v_t / √(1 − β₂ᵗ) + ε)

    i.e. p −= η·m̂/(√v̂ + ε) with v̂ = v/(1 − β₂ᵗ): ε is added *after* the square root and
    after the bias correction of v, exactly as torch computes it
    (denom = √v / √(1−β₂ᵗ) + ε;  p.addcdiv_(m, denom, value=−η/(1−β₁ᵗ))).
    """

    def __init__(
        self,
        params: HasParams | Mapping[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        grads: GradProvider | None = None,
    ) -> None:
        where = type(self).__name__
        self.lr = _non_negative(where, "lr", lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_beta(where, "betas[0]", betas[0]), _beta(where, "betas[1]", betas[1]))
        self.eps = _non_negative(where, "eps", eps)
        self.weight_decay = _non_negative(where, "weight_decay", weight_decay)
        if not isinstance(amsgrad, bool):
            raise TypeError(f"{where}: amsgrad must be a bool, got {type(amsgrad).__name__}")
        self.amsgrad = amsgrad
        super().__init__(params, grads)

    def _update(
        self, name: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = grad if self.weight_decay == 0 else grad + self.weight_decay * param
        m += (1 - beta1) * (g - m)  # lerp, as torch: m + w·(g − m)
        v *= beta2
        v += (1 - beta2) * (g * g)
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        step_size = self.lr / bias_correction1
        denom = np.sqrt(v) / bias_correction2_sqrt + self.eps
        param -= step_size * (m / denom)
