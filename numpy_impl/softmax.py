"""Softmax and LogSoftmax over any axis ``dim``, and the stable helpers the losses share.

Like torch's ``nn.Softmax(dim)`` / ``nn.LogSoftmax(dim)``, any input is accepted: 0-d (one
element: softmax 1, log-softmax 0, gradient 0), 1-D, zero-size, any ``dim`` in
[−ndim, ndim). Non-finite logits give torch's values: −inf is an exact zero probability,
+inf or NaN in a slice makes the whole slice NaN (torch's e^(x − max) is NaN there too).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_impl.base import Layer, TwoPathLayer
from numpy_impl.thresholds import size_threshold
from numpy_impl.validation import check_axis, check_int


def _shifted(x: np.ndarray) -> np.ndarray:
    """x − max x over the last axis. Non-finite logits follow IEEE as in torch (+inf − inf
    is NaN, a float32 −3e38 − 3e38 overflows to −inf), without a warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return x - np.max(x, axis=-1, keepdims=True, initial=-np.inf)


def stable_log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax(x) = (x − m) − log Σ e^(x − m) with m = max x over the last axis.

    The shift makes every exponent ≤ 0, so nothing overflows even for logits of ±1e4.
    """
    shifted = _shifted(x)
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 of an empty or NaN slice
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def stable_softmax(x: np.ndarray) -> np.ndarray:
    """softmax(x) = e^(x − m) / Σ e^(x − m) with m = max x over the last axis."""
    exps = np.exp(_shifted(x))
    with np.errstate(invalid="ignore"):  # 0/0 and NaN/NaN of a NaN slice
        return exps / np.sum(exps, axis=-1, keepdims=True)


def _classes(kwargs: Any, shape: tuple[int, ...]) -> int:
    """The length of the softmax axis of a registry sample (for the thresholds below)."""
    return shape[kwargs.get("dim", -1)] if shape else 1


#: Rows at least this long take ``np.vecdot`` in :func:`row_dots`, shorter ones ``einsum``.
VECDOT_CLASSES = size_threshold(
    "row_dots.VECDOT_CLASSES", 64, entries=("softmax",), measure=_classes, blocks=False,
    doc="rows of at least this many classes use np.vecdot, shorter ones einsum")


def row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """⟨a[i], b[i]⟩ for every row of two (rows, C) arrays, without an a ⊙ b temporary:
    ``np.vecdot`` (NumPy ≥ 2) on rows of ≥ VECDOT_CLASSES values, where it is up to 2x
    faster than ``einsum``, and ``einsum`` otherwise (less overhead per row)."""
    if a.shape[1] >= VECDOT_CLASSES and hasattr(np, "vecdot"):
        return np.vecdot(a, b)
    return np.einsum("ij,ij->i", a, b)


def check_dim(where: str, dim: object) -> int:
    """``dim`` of Softmax/LogSoftmax: an int (torch's implicit ``dim=None`` is deprecated)."""
    if dim is None:
        raise TypeError(f"{where}: dim must be an int, got None (torch's implicit choice of "
                        f"dim is deprecated; name the axis, e.g. dim=-1)")
    return check_int(where, "dim", dim)


def to_last(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` with ``axis`` moved last (a view); a 0-d array becomes shape (1,)."""
    return np.moveaxis(x.reshape(x.shape or (1,)), axis, -1)


def as_rows(a: np.ndarray) -> np.ndarray:
    """``a`` as (rows, C) with C its last axis (zero-size arrays included)."""
    return a.reshape(int(np.prod(a.shape[:-1])), a.shape[-1])


def from_last(moved: np.ndarray, axis: int, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`to_last` for an array of the original ``shape``."""
    return np.moveaxis(moved, -1, axis).reshape(shape)


class Softmax(TwoPathLayer):
    """s = softmax(x) over axis ``dim`` (default the last, torch's ``nn.Softmax(dim)``).

    Backward, for each slice along ``dim``:  dx = J dy  with the Jacobian  J = diag(s) − s sᵀ.

    - ``impl="loop"`` builds J row by row (the seeds' textbook form, O(C²) per row);
    - ``impl="vectorized"`` uses  J dy = s ⊙ (dy − ⟨s, dy⟩)  (O(C) per row): the row dots
      ⟨s, dy⟩ come from :func:`row_dots` (no s ⊙ dy temporary), then dx = dy − ⟨s, dy⟩ and
      dx ⊙= s in place. Large inputs go through in blocks of rows of ~64 K elements, so
      the second and third passes read s and dy from cache instead of memory.

    Both paths work on rows: ``dim`` is moved to the last axis (a view) and back.
    """

    #: Elements per row block of the vectorized backward (256 KB per float32 array, L2-sized).
    BLOCK_ELEMENTS = size_threshold(
        "Softmax.BLOCK_ELEMENTS", 1 << 16, entries=("softmax",),
        measure=lambda kwargs, shape: int(np.prod(shape)), blocks=True,
        doc="elements per row block of the vectorized backward")

    def __init__(self, dim: int = -1, *, impl: str = "vectorized") -> None:
        super().__init__(impl)
        self.dim = check_dim(self.where, dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "impl": self.impl}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        axis = check_axis(f"{self.where}.forward", "dim", self.dim, x)
        s = np.asarray(stable_softmax(to_last(x, axis)))
        return self._remember_output(from_last(s, axis, x.shape), (s, axis))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        s, axis = self._take_cache(dy)
        rows_dy = to_last(dy, axis)
        path = self._backward_loop if self.impl == "loop" else self._backward_vectorized
        return from_last(path(s, rows_dy), axis, dy.shape)

    @classmethod
    def _backward_vectorized(cls, s: np.ndarray, dy: np.ndarray) -> np.ndarray:
        rows_s = as_rows(s)
        rows_dy = dy.reshape(rows_s.shape)
        dx = np.empty(rows_s.shape, dtype=dy.dtype)
        step = max(1, cls.BLOCK_ELEMENTS // max(1, rows_s.shape[1]))
        for start in range(0, rows_s.shape[0], step):
            block = slice(start, start + step)
            s_b, dx_b = rows_s[block], dx[block]
            dots = row_dots(s_b, rows_dy[block])
            np.subtract(rows_dy[block], dots[:, None], out=dx_b)
            dx_b *= s_b
        return dx.reshape(s.shape)

    @staticmethod
    def _backward_loop(s: np.ndarray, dy: np.ndarray) -> np.ndarray:
        rows_s = as_rows(s)
        rows_dy = dy.reshape(rows_s.shape)
        dx = np.empty_like(rows_dy)
        for i in range(rows_s.shape[0]):
            jacobian = np.diag(rows_s[i]) - np.outer(rows_s[i], rows_s[i])
            dx[i] = jacobian @ rows_dy[i]
        return dx.reshape(s.shape)


class LogSoftmax(Layer):
    """y = log softmax(x) over axis ``dim`` (default the last, torch's ``nn.LogSoftmax``);
    dx = dy − softmax(x) · Σ dy  (sums along ``dim``)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = check_dim(self.where, dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        axis = check_axis(f"{self.where}.forward", "dim", self.dim, x)
        y = np.asarray(stable_log_softmax(to_last(x, axis)))
        return self._remember_output(from_last(y, axis, x.shape), (y, axis))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y, axis = self._take_cache(dy)
        rows_dy = to_last(dy, axis)
        dx = rows_dy - np.exp(y) * np.sum(rows_dy, axis=-1, keepdims=True)
        return from_last(dx, axis, dy.shape)
