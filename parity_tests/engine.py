"""Run one case on the NumPy side and on the torch side, the same way for every consumer.

:func:`build_case` builds the seeded NumPy layer and draws its input (and target); both impl
paths of a case draw the same data. :func:`run_numpy` runs forward and backward with a
*random* upstream gradient, recording NumPy RuntimeWarnings and any exception per stage
instead of raising; :func:`run_torch` runs the torch reference on the same input and
upstream gradient through autograd. :func:`parity_run` does both for a case (memoized in a
:class:`RunCache` when the caller passes one), and every check of :mod:`parity_tests.checks`
reads from it. Nothing here decides a verdict.
"""

from __future__ import annotations

import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from numpy_impl.base import Loss
from parity_tests.registry import Case
from parity_tests.samples import InputMaker
from parity_tests.seeding import case_rng

#: Scale of the perturbation added to constant parameters (zero bias, unit scale).
SPREAD_SCALE = 0.5


def spread_constant_params(layer: Any, rng: np.random.Generator) -> None:
    """A constant parameter (zero bias, unit batch-norm scale) cannot reveal a forward or
    backward that drops or swaps it, so spread it out with N(0, 0.5²) noise, in place."""
    for value in layer.params.values():
        if value.size and np.all(value == value.flat[0]):
            value += rng.standard_normal(value.shape).astype(value.dtype) * SPREAD_SCALE


def is_loss(layer: Any) -> bool:
    """Losses take ``forward(prediction, target)`` and ``backward()`` with no argument."""
    return isinstance(layer, Loss)


@dataclass
class Built:
    """A built NumPy layer with its input (and target), before anything has run."""

    layer: Any
    x: np.ndarray
    target: np.ndarray | None
    rng: np.random.Generator
    warmup: list[np.ndarray]
    #: How the sample draws the upstream gradient from the output's shape (None: N(0, 1)).
    make_upstream: InputMaker | None = None

    @property
    def is_loss(self) -> bool:
        return is_loss(self.layer)


def build_case(case: Case, seed: int, impl: str | None = None) -> Built:
    """Build the layer (for ``impl``, default the case's) and draw its input; identical
    data for every impl path of the same case."""
    sample = case.sample
    rng = case_rng(seed, case.data_key)
    layer = case.entry.build(sample.kwargs, case.dtype, rng, impl or case.impl, sample.shape)
    if sample.setup is not None:
        sample.setup(layer, rng)
    if not is_loss(layer):
        layer.train(sample.training)
    spread_constant_params(layer, rng)
    warmup = [sample.make_input(rng, sample.shape, case.dtype) for _ in range(sample.steps - 1)]
    x = sample.make_input(rng, sample.shape, case.dtype)
    target = sample.make_target(rng, x) if sample.make_target else None
    return Built(layer, x, target, rng, warmup, sample.make_upstream)


@dataclass
class CaughtError:
    """An exception raised by one side at one stage (``numpy forward``, ``torch backward``)."""

    stage: str
    type: str
    message: str
    traceback: str

    @classmethod
    def of(cls, stage: str, error: BaseException) -> CaughtError:
        return cls(stage, type(error).__name__, str(error),
                   "".join(traceback.format_exception(type(error), error, error.__traceback__)))

    def __str__(self) -> str:
        return f"{self.stage} raised {self.type}: {self.message}"


@dataclass
class SideRun:
    """What one side produced: every tensor (``output``, ``input_grad``, ``grad[name]``,
    ``buffer[name]``), the upstream gradient, warnings, and the first exception if any."""

    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    upstream: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    error: CaughtError | None = None
    #: The type of the (first) output the forward returned, before it was recorded.
    output_type: type | None = None
    #: Why the backward was not run although the forward was (torch side: the NumPy output
    #: has another shape, so the NumPy upstream gradient does not fit torch's output).
    backward_skipped: str = ""
    #: The arrays the caller passed in (x, target, dy): a copy taken before each call and
    #: the array itself after it, for the inputs-untouched check.
    inputs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def failed_at(self, stage: str) -> bool:
        """Whether the run raised at ``stage`` ("forward") or before it."""
        if self.error is None:
            return False
        order = ("forward", "backward")
        raised = self.error.stage.split()[-1]
        if raised not in order:  # construction: before anything ran
            return True
        return order.index(raised) <= order.index(stage)


def _warning_texts(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})"
            for w in caught if issubclass(w.category, RuntimeWarning)]


#: The upstream gradient: an array, or a function of the output's shape that draws one.
Upstream = np.ndarray | Callable[[tuple[int, ...]], np.ndarray] | None


def run_numpy(built: Built, upstream: Upstream = None, backward: bool = True) -> SideRun:
    """Forward (after the warm-up steps) and, with ``backward``, backward on the NumPy side,
    recording RuntimeWarnings and the first exception instead of raising. The upstream
    gradient is drawn from the case's generator unless given."""
    layer, x, run = built.layer, built.x, SideRun()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        stage = "numpy forward"
        run.inputs["x"] = (x.copy(), x)
        if built.target is not None:
            run.inputs["target"] = (built.target.copy(), built.target)
        try:
            if built.is_loss:
                out = layer.forward(x, built.target)
            else:
                for earlier in built.warmup:
                    layer.forward(earlier)
                out = layer.forward(x)
            run.output_type = type(out[0] if isinstance(out, tuple) and out else out)
            y = _record_outputs(run.tensors, out, x.dtype)
            if not (built.is_loss and np.ndim(y) == 0):  # a reduced loss takes no upstream
                if upstream is None and built.make_upstream is not None:
                    # np.asarray: a maker drawing shape () returns a NumPy scalar
                    run.upstream = np.asarray(built.make_upstream(built.rng, np.shape(y),
                                                                  x.dtype))
                elif upstream is None:
                    run.upstream = built.rng.standard_normal(np.shape(y)).astype(x.dtype)
                else:
                    run.upstream = upstream(np.shape(y)) if callable(upstream) else upstream
            stage = "numpy backward"
            if backward:
                if run.upstream is not None:
                    run.inputs["dy"] = (np.array(run.upstream, copy=True), run.upstream)
                run.tensors["input_grad"] = (layer.backward() if run.upstream is None
                                             else layer.backward(run.upstream))
                for name in layer.params:
                    run.tensors[f"grad[{name}]"] = layer.grads.get(name)
            for name, value in layer.buffers.items():
                run.tensors[f"buffer[{name}]"] = np.array(value, copy=True)
        except Exception as error:  # the layer's exception is a result, not a crash
            run.error = CaughtError.of(stage, error)
    run.warnings = _warning_texts(caught)
    return run


def _record_outputs(tensors: dict[str, Any], out: Any, dtype: np.dtype) -> Any:
    """Store a forward's result as ``output`` (and ``output[1]``, … for a tuple such as
    max pooling's ``(y, indices)``); returns the differentiable first output. A reduced
    loss's Python float becomes a 0-d array of the input's dtype; a NumPy scalar keeps its
    own (a float64 scalar from a float32 0-d input is the dtype check's failure)."""
    outputs = list(out) if isinstance(out, tuple) else [out]
    first = outputs[0]
    if isinstance(first, np.generic):
        first = np.asarray(first)
    elif not isinstance(first, (np.ndarray, torch.Tensor)):
        first = np.asarray(first, dtype=dtype)
    for k, value in enumerate(outputs):
        value = first if k == 0 else value
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        tensors["output" if k == 0 else f"output[{k}]"] = value
    return outputs[0]


def run_torch(built: Built, reference: Any, upstream: Upstream, backward: bool = True
              ) -> SideRun:
    """Forward and (with ``backward``) autograd backward of the torch reference, in the
    NumPy layouts: ``upstream`` is the NumPy side's upstream gradient (None for a loss), or
    a function of the output's shape that draws one."""
    run = SideRun()
    stage = "torch forward"
    try:
        x = torch.from_numpy(built.x.copy()).requires_grad_(True)
        with torch.no_grad():
            for earlier in built.warmup:
                reference(torch.from_numpy(earlier.copy()))
        inputs = [x]
        if built.target is not None:
            inputs.append(torch.from_numpy(built.target.copy()))
        y = _record_outputs(run.tensors, reference(*inputs), built.x.dtype)
        if callable(upstream):
            upstream = upstream(tuple(y.shape))
        run.upstream = upstream
        if backward:
            stage = "torch backward"
            if upstream is not None and tuple(upstream.shape) != tuple(y.shape):
                run.backward_skipped = (f"the NumPy output has shape {tuple(upstream.shape)}, "
                                        f"torch's {tuple(y.shape)}: gradients not compared")
                return run
            if upstream is None:
                y.backward()
            else:
                y.backward(torch.from_numpy(upstream))
            run.tensors["input_grad"] = (x.grad.numpy() if x.grad is not None
                                         else np.zeros_like(built.x))
            for name, link in reference.params.items():
                grad = link.grad()
                run.tensors[f"grad[{name}]"] = (grad if grad is not None
                                                else np.zeros_like(link.value()))
        for name, link in reference.buffers.items():
            run.tensors[f"buffer[{name}]"] = link.value()
    except Exception as error:
        run.error = CaughtError.of(stage, error)
    return run


@dataclass
class ParityRun:
    """A case run on both sides: the built layer, the NumPy run, the torch run, and the
    summation slack of the entry's error model per tensor."""

    built: Built
    numpy: SideRun
    torch: SideRun
    reference_error: CaughtError | None = None
    slack: dict[str, np.ndarray] = field(default_factory=dict)


def error_slack(case: Case, built: Built, run: SideRun) -> dict[str, np.ndarray]:
    """The entry's error model on this run (nothing when the entry has none or the run
    raised)."""
    model = case.entry.error_model
    if model is None or run.error is not None:
        return {}
    # On non-finite samples the model's own arithmetic meets inf − inf (not a warning). A
    # NaN or inf slack would let any error through (error / NaN > 1 is False), so there the
    # comparison falls back to the base tolerance; non-finite values are matched anyway.
    with np.errstate(all="ignore"):
        slack = dict(model(case, built, run))
    return {name: np.nan_to_num(np.asarray(value, dtype=np.float64), nan=0.0, posinf=0.0,
                                neginf=0.0) for name, value in slack.items()}


def reference_for(case: Case, layer: Any) -> Any:
    """The entry's torch reference for ``layer`` (an outside target's wrapper hands over
    the project layer that mirrors it, see parity_tests.adapters)."""
    source = layer.reference_layer() if hasattr(layer, "reference_layer") else layer
    return case.entry.reference(source)


def parity_run(case: Case, seed: int, cache: RunCache | None = None) -> ParityRun:
    """NumPy vs torch for one case (from ``cache`` when it holds this case and seed)."""

    def compute() -> ParityRun:
        built = build_case(case, seed)
        try:
            reference = reference_for(case, built.layer)  # before NumPy runs: fresh buffers
        except Exception as error:
            failed = CaughtError.of("torch reference construction", error)
            return ParityRun(built, run_numpy(built), SideRun(error=failed), failed)
        numpy_run = run_numpy(built)
        # torch gets the upstream gradient as drawn, even if the NumPy backward wrote into it
        # (the inputs-untouched check reports that write).
        upstream = numpy_run.inputs["dy"][0] if "dy" in numpy_run.inputs else numpy_run.upstream
        torch_run = run_torch(built, reference, upstream)
        # The error model reruns the reference with the NumPy side's shapes: only when both
        # sides agree on them (a wrong output shape is the forward check's failure).
        comparable = torch_run.error is None and not torch_run.backward_skipped
        slack = error_slack(case, build_case(case, seed), numpy_run) if comparable else {}
        return ParityRun(built, numpy_run, torch_run, slack=slack)

    if cache is None:
        return compute()
    return cache.get(("parity", case.id, seed), compute)


class RunCache:
    """Memoized runs, so that the forward, gradient and buffer checks of one case share one
    run. Bounded (the oldest runs are dropped); pass one per session, never a global one,
    so a test that patches a layer never reads a run from before the patch."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._runs: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        value = compute()
        self._runs[key] = value
        while len(self._runs) > self.size:
            self._runs.popitem(last=False)
        return value
