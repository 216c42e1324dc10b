"""Stock torch counterparts of :mod:`numpy_impl.normalization` (channels last ↔ first)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from numpy_impl import normalization as np_norm
from torch_ref.base import Reference, link_module

#: NumPy class -> torch class.
MODULES: dict[type, type[nn.Module]] = {
    np_norm.BatchNorm1d: nn.BatchNorm1d,
    np_norm.BatchNorm2d: nn.BatchNorm2d,
    np_norm.BatchNorm3d: nn.BatchNorm3d,
}


def batch_norm_module(layer: np_norm.BatchNorm) -> nn.Module:
    """The stock ``nn.BatchNorm{1,2,3}d`` with the NumPy layer's config, built from the same
    positional arguments (nothing copied yet but the update count ``num_batches_tracked``)."""
    extra = {} if layer.use_bias else {"bias": False}  # torch's keyword-only bias
    module = MODULES[type(layer)](layer.num_features, layer.eps, layer.momentum,
                                  layer.affine, layer.track_running_stats, **extra)
    if module.num_batches_tracked is not None:
        module.num_batches_tracked.fill_(layer.num_batches_tracked)
    return module


def channels_first(module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """Call a channels-first torch module on channels-last tensors: (N, …, C) → (N, C, …)
    in, contiguous, back out ((N, C) is both).

    Contiguous, not a permuted view: torch's CPU batch norm picks its channels-last kernel
    for a permuted NHWC tensor, and that kernel computes y = x·α + (β − μα) and Σ dy·x − μΣdy
    in float32, so with mean/std ~ 100 it is off from the exact result by ~5e-5 in y and
    ~1e-3 in dγ; the kernel for torch's default (contiguous) layout accumulates in double
    and is off by the float32 rounding of μ only (see the batch norm error model in
    parity_tests/entries/blocks.py)."""

    def call(x: torch.Tensor) -> torch.Tensor:
        return module(x.movedim(-1, 1).contiguous()).movedim(1, -1)

    return call


COUNT = "num_batches_tracked"


def batch_norm(layer: np_norm.BatchNorm) -> Reference:
    """The torch batch norm on channels-last tensors; ``weight``/``bias`` and the running
    statistics (``running_mean``, ``running_var``) copied from the NumPy layer, in its
    train/eval mode (``reference.module`` is the module itself, e.g. to switch it to eval
    mode later). With ``momentum=None`` the NumPy layer's float ``num_batches_tracked``
    buffer is linked to torch's int64 one."""
    module = batch_norm_module(layer)
    return link_module(layer, module, forward=channels_first(module))


#: The reference of BatchNorm2d by its layer's name (the benchmarks import this one).
batch_norm2d = batch_norm
