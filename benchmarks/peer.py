"""The peer column: a maintained NumPy deep-learning library timed on the same work.

The peer is `mygrad <https://github.com/rsokl/MyGrad>`_ (``pip install -e '.[peer]'``): a
NumPy-only autodiff library, released in 2026 (2.5.0), whose ``mygrad.nnet`` has the ops
the suites time: ``conv_nd`` (strided, padded, dilated), ``max_pool``, ``softmax``,
``batchnorm`` and, for Linear, ``matmul``. It is what a reader would reach for to get
gradients of this work without torch, so it tells whether our vectorized paths are good
*for NumPy*, next to the torch ratio. (Chainer has the same ops but is unmaintained since
2020; autograd has no convolution or pooling; thinc no 2-D convolution.)

mygrad works in NCHW with ``(C_out, C_in, kh, kw)`` filters: the layer's weights and the
benchmark's input and upstream gradient are converted to that once, outside the timed
call, like for torch's NCHW run. Every peer variant is checked against the project's torch
reference (output, input gradient, every parameter gradient) before it is timed. mygrad's
``batchnorm`` keeps no running statistics, so buffers are not compared there. mygrad wants
its windows to tile the (padded) input exactly, where torch ignores the rows and columns no
window reaches (a 32-pixel side, k3 s2 p1): there the input is padded and cut to the rows
reached outside the timed call, and mygrad convolves it without padding. Where mygrad
has no such op (average pooling, the SE blocks) or not with the layer's options (asymmetric
or non-zero padding, groups, padded or dilated pooling), the variant is skipped with the
reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PEER = "mygrad"
INSTALL_HINT = "pip install -e '.[peer]'"

#: Layers of the suites that mygrad has no op for.
MISSING = {
    "avgpool": "mygrad has no average pooling",
    "se": "mygrad has no squeeze-and-excitation block (a composite of several layers)",
    "se_resnet": "mygrad has no SE-ResNet block (a composite of several layers)",
}


def load() -> Any | None:
    """The ``mygrad`` module, or None when it is not installed."""
    try:
        return importlib.import_module(PEER)
    except ImportError:
        return None


def not_installed_reason() -> str:
    return f"peer {PEER} is not installed ({INSTALL_HINT})"


def info() -> dict[str, Any]:
    """For the report: which library, which version, what it lacks (JSON-safe)."""
    module = load()
    return {
        "library": PEER,
        "version": getattr(module, "__version__", None) if module is not None else None,
        "available": module is not None,
        "reason": None if module is not None else not_installed_reason(),
        "missing": dict(MISSING),
    }


def skip_reason(layer_name: str, layer: Any) -> str | None:
    """Why the peer cannot run this layer (None: it can)."""
    if load() is None:
        return not_installed_reason()
    if layer_name in MISSING:
        return MISSING[layer_name]
    if layer_name == "conv2d":
        top, bottom, left, right = layer.pads
        if top != bottom or left != right:
            return f"mygrad pads symmetrically; the layer pads {layer.pads}"
        if getattr(layer, "groups", 1) != 1:
            return "mygrad's conv_nd has no groups"
        if getattr(layer, "padding_mode", "zeros") != "zeros":
            return f"mygrad pads with zeros only, not {layer.padding_mode!r}"
    if layer_name == "maxpool":
        if any(layer.padding) or getattr(layer, "ceil_mode", False):
            return "mygrad's max_pool takes no padding and no ceil_mode"
        if tuple(getattr(layer, "dilation", (1, 1)) or (1, 1)) != (1, 1):
            return "mygrad's max_pool has no dilation"
        if getattr(layer, "return_indices", False):
            return "mygrad's max_pool returns no indices"
    if layer_name == "batchnorm2d" and not layer.training:
        return "mygrad's batchnorm has training-mode statistics only"
    if layer_name not in BUILDERS:
        return f"no mygrad op mapped for {layer_name!r}"
    return None


# --------------------------------------------------------------------------- calls
@dataclass
class PeerCall:
    """The peer's calls and how to read a result back in the NumPy layouts for the check:
    ``run`` is forward (without a graph) or forward+backward; ``forward`` builds the graph
    that ``backward(y)`` consumes (mygrad frees it in backward, so a backward alone is timed
    with a fresh ``forward`` as untimed set-up)."""

    run: Callable[[], Any]
    forward: Callable[[], Any]
    backward: Callable[[Any], Any]
    tensors: Callable[[Any], dict[str, np.ndarray]]


def _nchw(array: np.ndarray, images: bool) -> np.ndarray:
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if images else array


def _nhwc(array: np.ndarray, images: bool) -> np.ndarray:
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)) if images else array


@dataclass
class Mapping:
    """A layer in mygrad: its parameters as mygrad leaves (in mygrad's layouts), the forward
    on the input leaf, each parameter gradient back in the NumPy layout, and optionally
    how the NCHW input becomes the input leaf (and its gradient comes back)."""

    leaves: dict[str, Any]
    forward: Callable[[Any, Any], Any]
    grads_back: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)
    input_leaf: Callable[[np.ndarray], np.ndarray] = lambda x: x
    input_grad_back: Callable[[np.ndarray], np.ndarray] = lambda g: g


def _conv2d(mg: Any, layer: Any, x_shape: tuple[int, ...]) -> Mapping:
    params = layer.params
    leaves = {"weight": mg.Tensor(np.ascontiguousarray(params["weight"].transpose(3, 2, 0, 1)))}
    if "bias" in params:
        leaves["bias"] = mg.Tensor(params["bias"].reshape(1, -1, 1, 1))
    top, _, left, _ = layer.pads
    dilation = tuple(getattr(layer, "dilation", (1, 1)) or (1, 1))
    stride = tuple(layer.stride)
    # mygrad wants the windows to tile the padded input exactly; torch (and we) ignore the
    # surplus rows/columns no window reaches. Then the input is padded and cut to the rows
    # reached OUTSIDE the timed call, and mygrad convolves it without padding.
    reached = [(extent + 2 * pad - (dilation[k] * (layer.kernel_size[k] - 1) + 1))
               // stride[k] * stride[k] + dilation[k] * (layer.kernel_size[k] - 1) + 1
               for k, (extent, pad) in enumerate(zip(x_shape[2:], (top, left), strict=True))]
    exact = all(r == extent + 2 * pad for r, extent, pad
                in zip(reached, x_shape[2:], (top, left), strict=True))
    padding = (top, left) if exact else (0, 0)

    def forward(nnet: Any, x: Any) -> Any:
        y = nnet.conv_nd(x, leaves["weight"], stride=stride, padding=padding,
                         dilation=dilation)
        return y + leaves["bias"] if "bias" in leaves else y

    mapping = Mapping(leaves, forward, {"weight": lambda g: g.transpose(2, 3, 1, 0),
                                        "bias": lambda g: g.reshape(-1)})
    if not exact:
        h, w = x_shape[2:]

        def input_leaf(x: np.ndarray) -> np.ndarray:
            padded = np.pad(x, ((0, 0), (0, 0), (top, top), (left, left)))
            return np.ascontiguousarray(padded[:, :, :reached[0], :reached[1]])

        def input_grad_back(g: np.ndarray) -> np.ndarray:
            full = np.zeros((*g.shape[:2], h + 2 * top, w + 2 * left), dtype=g.dtype)
            full[:, :, :reached[0], :reached[1]] = g
            return full[:, :, top:top + h, left:left + w]

        mapping.input_leaf, mapping.input_grad_back = input_leaf, input_grad_back
    return mapping


def _linear(mg: Any, layer: Any, x_shape: tuple[int, ...]) -> Mapping:
    leaves = {name: mg.Tensor(value) for name, value in layer.params.items()}

    def forward(nnet: Any, x: Any) -> Any:
        y = mg.matmul(x, leaves["weight"])
        return y + leaves["bias"] if "bias" in leaves else y

    return Mapping(leaves, forward)


def _softmax(mg: Any, layer: Any, x_shape: tuple[int, ...]) -> Mapping:
    return Mapping({}, lambda nnet, x: nnet.softmax(x, axis=-1))


def _maxpool(mg: Any, layer: Any, x_shape: tuple[int, ...]) -> Mapping:
    kernel, stride = tuple(layer.kernel_size), tuple(layer.stride)
    mapping = Mapping({}, lambda nnet, x: nnet.max_pool(x, kernel, stride))
    reached = [(extent - k) // s * s + k
               for extent, k, s in zip(x_shape[2:], kernel, stride, strict=True)]
    if tuple(reached) != tuple(x_shape[2:]):  # mygrad wants exact tiling: cut, untimed
        h, w = x_shape[2:]
        mapping.input_leaf = lambda x: np.ascontiguousarray(x[:, :, :reached[0], :reached[1]])

        def input_grad_back(g: np.ndarray) -> np.ndarray:
            full = np.zeros((*g.shape[:2], h, w), dtype=g.dtype)
            full[:, :, :reached[0], :reached[1]] = g
            return full

        mapping.input_grad_back = input_grad_back
    return mapping


def _batchnorm2d(mg: Any, layer: Any, x_shape: tuple[int, ...]) -> Mapping:
    leaves = {name: mg.Tensor(value) for name, value in layer.params.items()}

    def forward(nnet: Any, x: Any) -> Any:
        return nnet.batchnorm(x, gamma=leaves.get("weight"), beta=leaves.get("bias"),
                              eps=layer.eps)

    return Mapping(leaves, forward)


BUILDERS: dict[str, Callable[[Any, Any, tuple[int, ...]], Mapping]] = {
    "conv2d": _conv2d,
    "linear": _linear,
    "softmax": _softmax,
    "maxpool": _maxpool,
    "batchnorm2d": _batchnorm2d,
}


def build(layer_name: str, layer: Any, x: np.ndarray, dy: np.ndarray | None, images: bool,
          ) -> PeerCall:
    """The peer's call on the layer's weights, ``x`` (NumPy layout) and the upstream
    gradient ``dy`` (None: forward only). Raises RuntimeError if :func:`skip_reason` says
    the peer cannot run it."""
    reason = skip_reason(layer_name, layer)
    if reason is not None:
        raise RuntimeError(reason)
    mg = load()
    nnet = importlib.import_module(f"{PEER}.nnet")
    x_nchw = _nchw(x, images)
    mapping = BUILDERS[layer_name](mg, layer, x_nchw.shape)
    leaves, forward = mapping.leaves, mapping.forward
    x_peer = mg.Tensor(mapping.input_leaf(x_nchw))
    dy_peer = None if dy is None else _nchw(dy, images)

    def forward_graph() -> Any:
        return forward(nnet, x_peer)

    def backward(y: Any) -> Any:
        y.backward(dy_peer)
        return y

    if dy_peer is None:
        def run() -> Any:  # like torch's no_grad: no graph
            with mg.no_autodiff:
                return forward(nnet, x_peer)
    else:
        def run() -> Any:
            return backward(forward_graph())

    def tensors(y: Any) -> dict[str, np.ndarray]:
        found = {"output": _nhwc(np.asarray(y.data), images)}
        if dy_peer is not None:
            found["input_grad"] = _nhwc(mapping.input_grad_back(np.asarray(x_peer.grad)),
                                        images)
            for name, leaf in leaves.items():
                grad = np.asarray(leaf.grad)
                found[f"grad[{name}]"] = mapping.grads_back.get(name, lambda g: g)(
                    grad).reshape(layer.params[name].shape)
        return found

    return PeerCall(run, forward_graph, backward, tensors)
