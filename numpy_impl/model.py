"""``Sequential``: layers applied in order, itself a :class:`~numpy_impl.base.Layer`.

The seeds' ``Model``/``NeuralNetwork`` (a list of layers with ``add``, ``forward``,
``backward``) as a composite layer: the children are named ``"0"``, ``"1"``, … so the
parameters come out as ``0.weight``, ``2.bias``, ``3.fc1.weight`` — exactly the names of
``torch.nn.Sequential.named_parameters()`` for the same stack (blocks keep their own
dotted names below the index). ``train()``/``eval()``, ``params``, ``grads``, ``buffers``
and ``zero_grad()`` come from :class:`~numpy_impl.base.Layer` and reach every layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from numpy_impl.base import Layer, Loss


class Sequential(Layer):
    """y = f_{L−1}(… f_1(f_0(x)))  and, backward, dx = J_0ᵀ(J_1ᵀ(… J_{L−1}ᵀ dy)).

    ``forward`` runs each layer's forward in order (each caches what its backward needs);
    ``backward(dy)`` runs the backwards in reverse order, so after it every layer's
    ``grads`` holds dL/dθ for the loss whose gradient dy = dL/dy was passed in, and the
    return value is dL/dx.

    The model's ``dtype`` is the common dtype of the layers that have one (Linear, Conv2D,
    BatchNorm2d, blocks); mixing float32 and float64 layers is refused when the layer is
    added. Parameter-free layers (activations, pooling, Flatten) compute in their input's
    dtype, so a float64 model is float64 end to end and a float32 one float32.
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        for layer in layers:
            self.add(layer)

    # ----------------------------------------------------------------- building
    def add(self, layer: Layer) -> Sequential:
        """Append ``layer`` under the next index name (``"0"``, ``"1"``, …); returns self."""
        where = f"{self.where}.add"
        if isinstance(layer, Loss):
            raise TypeError(
                f"{where}: layer must be a Layer, got the loss {type(layer).__name__}; "
                f"pass the loss to fit()/predict() instead of adding it to the model"
            )
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{where}: layer must be a numpy_impl Layer (with forward/backward), "
                f"got {type(layer).__name__}"
            )
        layer_dtype = getattr(layer, "dtype", None)
        if layer_dtype is not None:
            if self.dtype is not None and layer_dtype != self.dtype:
                raise TypeError(
                    f"{where}: layer {len(self)} ({type(layer).__name__}) computes in "
                    f"{layer_dtype} but the model's earlier layers compute in {self.dtype}; "
                    f"build every layer with the same dtype"
                )
            self.dtype = layer_dtype
        self.add_child(str(len(self._children)), layer)
        return self

    @property
    def layers(self) -> list[Layer]:
        """The layers in order."""
        return list(self._children.values())

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def config(self) -> dict[str, Any]:
        return {"layers": [repr(layer) for layer in self]}

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({name}): {layer!r}" for name, layer in self._children.items())
        return f"Sequential({inner}\n)" if inner else "Sequential()"

    # ----------------------------------------------------------------- passes
    def forward(self, x: np.ndarray) -> np.ndarray:
        """x → f_{L−1}(… f_0(x)); each layer caches its input for backward."""
        if not self._children:
            raise RuntimeError(f"{self.where}.forward: the model has no layers; add() some")
        y = self._check_input(x)
        for layer in self:
            y = layer.forward(y)
        return self._remember_output(y, None)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy = dL/dy → dL/dx, filling every layer's ``grads`` on the way."""
        self._take_cache(dy)
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def predict(
        self, x: np.ndarray, y: np.ndarray, loss: Loss
    ) -> tuple[np.ndarray, float]:
        """(predictions, loss value) for inputs ``x`` and targets ``y``: forward + loss.

        The seed's ``NeuralNetwork.predict`` returned the same pair but also ran the
        backward pass (its ``backward`` computed the loss); prediction needs no gradient,
        so this one does not touch ``grads``. Call ``eval()`` first for models with batch
        norm so the running statistics are used (and not updated).
        """
        predictions = self.forward(x)
        return predictions, loss.forward(predictions, y)
