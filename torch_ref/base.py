"""What every torch reference shares: layouts, parameter linking, the ``Reference`` record.

A reference is a stock ``torch.nn`` module (or functional call) built from a NumPy layer's
config. Its parameters are copied from the NumPy layer through a :class:`Layout`, which
knows how to turn a NumPy-layout array into torch's layout and a torch gradient back, so a
gradient is always compared in the NumPy layer's own layout and under its own name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_dtype(dtype: np.dtype | type) -> torch.dtype:
    """The torch dtype of a NumPy float dtype."""
    return TORCH_DTYPES[np.dtype(dtype)]


@dataclass(frozen=True)
class Layout:
    """How a NumPy-layout array maps onto a torch tensor and back."""

    name: str
    to_torch: Callable[[torch.Tensor], torch.Tensor]
    to_numpy: Callable[[torch.Tensor], torch.Tensor]


SAME = Layout("same", lambda t: t, lambda t: t)
#: Linear weight: NumPy (in, out) ↔ torch (out, in).
TRANSPOSED = Layout("(in,out)<->(out,in)", lambda t: t.T, lambda t: t.T)
#: Conv weight: NumPy HWIO (kh, kw, c_in, c_out) ↔ torch OIHW (c_out, c_in, kh, kw).
HWIO_TO_OIHW = Layout(
    "HWIO<->OIHW", lambda t: t.permute(3, 2, 0, 1), lambda t: t.permute(2, 3, 1, 0)
)


@dataclass
class TensorLink:
    """A torch parameter or buffer standing for one NumPy array."""

    tensor: torch.Tensor
    layout: Layout

    def value(self) -> np.ndarray:
        """The torch tensor's current value, in the NumPy layout."""
        return self.layout.to_numpy(self.tensor.detach()).contiguous().numpy()

    def grad(self) -> np.ndarray | None:
        """The torch gradient in the NumPy layout (None if autograd left none)."""
        if self.tensor.grad is None:
            return None
        return self.layout.to_numpy(self.tensor.grad.detach()).contiguous().numpy()


@dataclass
class Reference:
    """A stock torch module ready to compare with a NumPy layer.

    ``module`` is the plain torch module (NCHW for image layers) with the NumPy layer's
    parameters and buffers copied in, so benchmarks can time it as is; calling the
    reference runs ``forward``, which takes and returns NumPy-layout tensors (NHWC).
    ``params`` and ``buffers`` map each NumPy name onto its torch tensor.
    """

    module: Callable[..., torch.Tensor]
    forward: Callable[..., torch.Tensor] | None = None
    params: dict[str, TensorLink] = field(default_factory=dict)
    buffers: dict[str, TensorLink] = field(default_factory=dict)

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        return (self.forward or self.module)(*inputs)


def nhwc(module: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Call an NCHW torch module on NHWC tensors: permute in, run, permute back out."""

    def call(x: torch.Tensor) -> torch.Tensor:
        y = module(x.permute(0, 3, 1, 2))
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y

    return call


def nhwc_without_onednn(module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """Like :func:`nhwc`, with torch's oneDNN kernels off for the forward and the backward.

    Why: in torch 2.13.0 on CPU the backward of a float32 1×1 ``Conv2d`` with stride 2 and
    a few input channels corrupts the heap ("double free or corruption", an abort that may
    come much later) when oneDNN is on, for NCHW and NHWC input alike; the native kernels
    (still stock torch) are correct. Every convolution reference goes through this.

    The forward runs with ``torch.backends.mkldnn.enabled = False``. The backward
    runs later, outside this call, so a hook on the output switches oneDNN off when the
    gradient reaches the block and a hook on the (permuted) input restores the previous
    setting once the gradient has left it, i.e. after every convolution's backward ran.
    """

    def call(x: torch.Tensor) -> torch.Tensor:
        x_nchw = x.permute(0, 3, 1, 2)
        if torch.is_grad_enabled() and not x_nchw.requires_grad:
            # An input gradient nobody reads, so that the restoring hook has a place to run.
            x_nchw = x_nchw.detach().requires_grad_(True)
        previous_forward = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False  # not mkldnn.flags(): it warns about TF32
        try:
            y = module(x_nchw)
        finally:
            torch.backends.mkldnn.enabled = previous_forward
        if y.requires_grad:
            previous: list[bool] = []

            def switch_off(grad: torch.Tensor) -> torch.Tensor:
                previous.append(torch.backends.mkldnn.enabled)
                torch.backends.mkldnn.enabled = False
                return grad

            def restore(grad: torch.Tensor) -> torch.Tensor:
                if previous:
                    torch.backends.mkldnn.enabled = previous.pop()
                return grad

            y.register_hook(switch_off)
            x_nchw.register_hook(restore)
        return y.permute(0, 2, 3, 1)

    return call


def link_tensors(
    where: str,
    arrays: Mapping[str, np.ndarray],
    tensors: Mapping[str, torch.Tensor],
    layouts: Mapping[str, Layout] | None = None,
    rename: Mapping[str, str] | None = None,
) -> dict[str, TensorLink]:
    """Copy each NumPy array into the torch tensor of the same (or ``rename``d) name.

    ``layouts`` gives the layout per NumPy name (default :data:`SAME`). Every NumPy array
    must find its tensor with the converted shape, and every torch tensor must be covered,
    so a parameter cannot be silently left out of the comparison.
    """
    layouts = layouts or {}
    rename = rename or {}
    links: dict[str, TensorLink] = {}
    for name, array in arrays.items():
        torch_name = rename.get(name, name)
        if torch_name not in tensors:
            raise KeyError(f"{where}: torch module has no tensor {torch_name!r} for {name!r}; "
                           f"it has {sorted(tensors)}")
        tensor = tensors[torch_name]
        layout = layouts.get(name, SAME)
        value = layout.to_torch(torch.from_numpy(np.array(array, order="C")))  # 0-d stays 0-d
        if tuple(value.shape) != tuple(tensor.shape):
            raise ValueError(f"{where}: {name!r} becomes shape {tuple(value.shape)} in torch "
                             f"layout but {torch_name!r} has shape {tuple(tensor.shape)}")
        with torch.no_grad():
            tensor.copy_(value.to(tensor.dtype))
        links[name] = TensorLink(tensor, layout)
    covered = {rename.get(name, name) for name in arrays}
    missing = sorted(set(tensors) - covered)
    if missing:
        raise KeyError(f"{where}: torch tensors {missing} have no NumPy counterpart")
    return links


#: Parameter layouts a NumPy layer may declare (``PARAM_LAYOUTS``), by name.
LAYOUTS: dict[str, Layout] = {
    "same": SAME,
    "(in, out)": TRANSPOSED,
    "(kh, kw, in, out)": HWIO_TO_OIHW,
}


def layouts_of(layer: object) -> dict[str, Layout]:
    """The layout of every parameter of ``layer`` by dotted NumPy name, from the
    ``PARAM_LAYOUTS`` each (sub)layer declares (a block's children included)."""
    named = layer.named_layers() if hasattr(layer, "named_layers") else [("", layer)]
    layouts: dict[str, Layout] = {}
    for prefix, sub in named:
        for name, layout_name in getattr(sub, "PARAM_LAYOUTS", {}).items():
            if layout_name not in LAYOUTS:
                raise KeyError(f"{type(sub).__name__}: unknown parameter layout "
                               f"{layout_name!r}; known: {sorted(LAYOUTS)}")
            layouts[f"{prefix}.{name}" if prefix else name] = LAYOUTS[layout_name]
    return layouts


def link_module(
    layer: object,
    module: torch.nn.Module,
    forward: Callable[..., torch.Tensor] | None = None,
    rename: Mapping[str, str] | None = None,
) -> Reference:
    """A :class:`Reference` for ``module`` with the NumPy ``layer``'s params and buffers copied.

    ``layer`` follows :class:`numpy_impl.base.Layer` (``params``, ``buffers``, ``dtype``,
    ``training``, and ``PARAM_LAYOUTS`` for layouts other than torch's). The module is cast
    to the layer's dtype and put in the same train/eval mode. ``forward`` wraps the call
    when layouts differ (NHWC ↔ NCHW); ``rename`` maps NumPy names onto torch names where
    they differ (blocks). Every torch tensor must be covered by a NumPy one and vice versa.
    """
    where = type(layer).__name__
    dtype = getattr(layer, "dtype", None)
    if dtype is not None:
        module = module.to(torch_dtype(dtype))
    module.train(getattr(layer, "training", True))
    layouts = layouts_of(layer)
    params = link_tensors(where, getattr(layer, "params", {}), dict(module.named_parameters()),
                          layouts, rename)
    numpy_buffers = getattr(layer, "buffers", {})
    counted = {(rename or {}).get(name, name) for name in numpy_buffers}
    # torch's batch counters are linked only where the NumPy layer keeps one (momentum=None).
    torch_buffers = {n: b for n, b in module.named_buffers()
                     if "num_batches_tracked" not in n or n in counted}
    buffers = link_tensors(where, numpy_buffers, torch_buffers, layouts, rename)
    return Reference(module, forward, params, buffers)
