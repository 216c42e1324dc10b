"""Torch references for :mod:`numpy_impl.blocks`: the seed's SE modules, stock nn layers only.

``SEBlock`` and ``SEResNetBlock`` below are seed 003's torch modules as given (NCHW). The
NumPy blocks use readable child names; :func:`torch_name` maps each NumPy parameter or
buffer name onto the seed module's name, and :func:`torch_ref.base.link_module` copies
every tensor across through that mapping (layouts converted as each child layer declares),
checking that every torch tensor is covered.

The seed modules run on NHWC tensors through :func:`nhwc_without_onednn`: like
:func:`torch_ref.base.nhwc`, but torch's oneDNN (mkldnn) convolution kernels are switched
off for the forward pass and for the backward pass through the block. torch 2.13.0's CPU
oneDNN backward of a float32 1×1 convolution with stride 2 and few input channels (the
projection shortcut, e.g. 4 → 8 channels on a 6×6 map) corrupts the heap ("corrupted
double-linked list", then an abort, sometimes much later); switching oneDNN off
(``torch.backends.mkldnn.enabled = False``) for the backward alone removes it. The native
kernels are stock torch too.

=========================  ===========================  ===============
NumPy name                 torch (seed) name            layout
=========================  ===========================  ===============
``fc1.weight``             ``excitation.0.weight``      (in,out)↔(out,in)
``fc2.weight``             ``excitation.2.weight``      (in,out)↔(out,in)
``conv1.weight``           ``conv1.weight``             HWIO↔OIHW
``bn1.weight`` ...         ``bn1.weight`` ...           same
``se.fc1.weight``          ``se.excitation.0.weight``   (in,out)↔(out,in)
``shortcut.conv.weight``   ``shortcut.0.weight``        HWIO↔OIHW
``shortcut.bn.*``          ``shortcut.1.*``             same
=========================  ===========================  ===============
"""

from __future__ import annotations

import torch
from torch import nn

from numpy_impl.base import Layer
from numpy_impl.blocks import SEBlock as NumpySEBlock
from numpy_impl.blocks import SEResNetBlock as NumpySEResNetBlock
from torch_ref.base import Reference, link_module, nhwc_without_onednn


# --------------------------------------------------------------------------- seed 003
class SEBlock(nn.Module):
    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.squeeze = nn.AdaptiveAvgPool2d(1)  # Global average pooling
        self.excitation = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x shape: (batch, channels, height, width)
        b, c, _h, _w = x.size()
        y = self.squeeze(x)  # (batch, channels, 1, 1)
        y = y.view(b, c)  # (batch, channels)
        y = self.excitation(y)  # (batch, channels)
        y = y.view(b, c, 1, 1)  # (batch, channels, 1, 1)
        return x * y.expand_as(x)


class SEResNetBlock(nn.Module):
    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, reduction: int = 16
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

        # SE block added here
        self.se = SEBlock(out_channels, reduction)

        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))

        # Apply SE attention
        out = self.se(out)

        out += self.shortcut(x)
        return torch.relu(out)


# --------------------------------------------------------------------------- name mapping
#: NumPy child-name prefixes → the seed module's, longest first.
PREFIXES: tuple[tuple[str, str], ...] = (
    ("shortcut.conv.", "shortcut.0."),
    ("shortcut.bn.", "shortcut.1."),
    ("fc1.", "excitation.0."),
    ("fc2.", "excitation.2."),
)


def torch_name(name: str) -> str:
    """The seed module's name for a NumPy block parameter/buffer name.

    ``se.fc1.weight`` → ``se.excitation.0.weight``; ``shortcut.bn.running_var`` →
    ``shortcut.1.running_var``; ``conv1.weight`` and ``bn2.bias`` are unchanged.
    """
    parts = name.split(".")
    for i in range(len(parts)):
        rest = ".".join(parts[i:]) + "."
        for numpy_prefix, torch_prefix in PREFIXES:
            if rest.startswith(numpy_prefix):
                head = ".".join(parts[:i])
                mapped = torch_prefix + rest[len(numpy_prefix):-1]
                return f"{head}.{mapped}" if head else mapped
    return name


def renames(layer: Layer) -> dict[str, str]:
    """NumPy name → seed-module name for every parameter and buffer of ``layer``."""
    return {name: torch_name(name) for name in [*layer.params, *layer.buffers]}


# --------------------------------------------------------------------------- references
def se_block_module(layer: NumpySEBlock) -> SEBlock:
    """The seed's ``SEBlock`` with the NumPy block's config (nothing copied yet)."""
    return SEBlock(layer.channels, layer.reduction)


def se_block(layer: NumpySEBlock) -> Reference:
    """The seed's ``SEBlock`` on NHWC tensors, weights copied (and transposed) across."""
    module = se_block_module(layer)
    return link_module(layer, module, nhwc_without_onednn(module), renames(layer))


def se_resnet_block_module(layer: NumpySEResNetBlock) -> SEResNetBlock:
    """The seed's ``SEResNetBlock`` with the NumPy block's config (nothing copied yet)."""
    return SEResNetBlock(layer.in_channels, layer.out_channels, layer.stride, layer.reduction)


def se_resnet_block(layer: NumpySEResNetBlock) -> Reference:
    """The seed's ``SEResNetBlock`` on NHWC tensors; every conv, batch-norm and SE tensor
    (running statistics included) copied across, in the NumPy block's train/eval mode."""
    module = se_resnet_block_module(layer)
    return link_module(layer, module, nhwc_without_onednn(module), renames(layer))
