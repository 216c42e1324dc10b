"""Softmax and LogSoftmax over any axis ``dim``, and the stable helpers the losses share.

Like torch's ``nn.Softmax(dim)`` / ``nn.LogSoftmax(dim)``, any input is accepted: 0-d (one
element: softmax 1, log-softmax 0, gradient 0), 1-D, zero-size, any ``dim`` in
[−ndim, ndim). Non-finite logits give torch's values: −inf is an exact zero probability,
+inf or NaN in a slice makes the whole slice NaN (torch's e^(x − max) is NaN there too).

Both layers work on rows: ``dim`` is moved to the last axis (a view, or nothing at all when
``dim`` is already last) and the rows are processed in blocks of ~64 K elements, so that
every pass after the first over a block reads it from cache, not from memory.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numpy_impl.base import Layer, TwoPathLayer
from numpy_impl.buffering import run_buffer
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


def _elements(kwargs: Any, shape: tuple[int, ...]) -> int:
    """The number of elements of a registry sample's input (for the block sizes below)."""
    return math.prod(shape)


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


def row_sums(a: np.ndarray, ones: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Σ over the last axis of a (rows, C) array as a GEMV, a · ones(C): one BLAS call
    instead of a reduction per row (several times faster for short rows)."""
    return np.matmul(a, ones, out=out)


def check_dim(where: str, dim: object) -> int:
    """``dim`` of Softmax/LogSoftmax: an int (torch's implicit ``dim=None`` is deprecated)."""
    if dim is None:
        raise TypeError(f"{where}: dim must be an int, got None (torch's implicit choice of "
                        f"dim is deprecated; name the axis, e.g. dim=-1)")
    return check_int(where, "dim", dim)


def to_last(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` with ``axis`` (non-negative) moved last: ``x`` itself when it already is, a view
    otherwise; a 0-d array becomes shape (1,)."""
    if x.ndim == 0:
        return x.reshape(1)
    return x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1)


def as_rows(a: np.ndarray) -> np.ndarray:
    """``a`` as (rows, C) with C its last axis (zero-size arrays included): a view when the
    memory allows, a copy otherwise (a transposed or strided ``a``)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def from_last(moved: np.ndarray, axis: int, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`to_last` for an array of the original ``shape``."""
    if len(shape) == 0 or axis == len(shape) - 1:
        return moved.reshape(shape)
    return np.moveaxis(moved, -1, axis).reshape(shape)


def _blocks(count: int, classes: int, block_elements: int) -> range:
    """Starts of the row blocks of ~``block_elements`` values each (one row at least)."""
    return range(0, count, max(1, block_elements // max(1, classes)))


def softmax_rows(rows: np.ndarray, block_elements: int) -> np.ndarray:
    """softmax of each row of a (rows, C) array, a new C-contiguous array; the fast path of
    :class:`Softmax`, equal to :func:`stable_softmax` to a few ulps.

    The max shift only guards against overflow and underflow: softmax(x) = e^x / Σ e^x for
    any row whose sum S = Σ e^x lies in [1, 1/tiny] (tiny = the smallest normal number).
    Each block is therefore exponentiated as it is, its row sums come from one GEMV, and
    s = e·(1/S): the max reduction and the subtraction (two passes of five) are skipped.
    The reciprocals of all the rows are tested once, at the end: 1/S in [tiny, 1].
    With S ≥ 1 every s_i = e_i/S ≤ e_i, so an e_i that lost digits to underflow is an
    output that lost as many in torch's shifted form; with S ≤ 1/tiny the reciprocal is a
    normal number. Every other row (an e_i or S overflowed to inf; S < 1, where shifted
    values could have survived underflow; or the row holds NaN, +inf or only −inf, where S
    is NaN, inf or 0) is recomputed afterwards with :func:`stable_softmax`, torch's shifted
    form, which gives torch's non-finite semantics. One class takes the shifted form too
    (e^x/e^x must be exactly 1, and NaN at a non-finite x).
    """
    count, classes = rows.shape
    if classes <= 1 or count == 0:
        return np.ascontiguousarray(stable_softmax(rows))
    out = np.empty((count, classes), dtype=rows.dtype)
    ones = np.ones(classes, dtype=rows.dtype)
    reciprocals = np.empty(count, dtype=rows.dtype)  # 1/S of every row
    step = _blocks(count, classes, block_elements).step
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), run_buffer(classes):
        for start in range(0, count, step):
            e, r = out[start:start + step], reciprocals[start:start + step]
            np.exp(rows[start:start + step], out=e)
            row_sums(e, ones, out=r)
            np.divide(1, r, out=r)
            e *= r[:, None]
    # S in [1, 1/tiny] <=> 1/S in [tiny, 1] (False at NaN); one test for all the rows.
    unsafe = reciprocals < np.finfo(rows.dtype).tiny
    unsafe |= ~(reciprocals <= 1)
    if unsafe.any():  # outside the errstate: the shifted form warns about nothing
        redo = np.flatnonzero(unsafe)
        out[redo] = stable_softmax(rows[redo])
    return out


def log_softmax_rows(rows: np.ndarray, block_elements: int) -> np.ndarray:
    """log softmax of each row of a (rows, C) array, a new C-contiguous array: per block of
    rows, y = x − m (m = the row max, into the output), e^y into a block buffer, its row
    sums S by one GEMV, then y −= log S in place. The same formula and shift as
    :func:`stable_log_softmax` (the shift stays: without it the log of a row's top entry
    would cancel, x − log Σ e^x, and lose digits), in fewer passes and allocations."""
    count, classes = rows.shape
    out = np.empty((count, classes), dtype=rows.dtype)
    if out.size == 0:
        return out
    ones = np.ones(classes, dtype=rows.dtype)
    blocks = _blocks(count, classes, block_elements)
    exps = np.empty((min(count, blocks.step), classes), dtype=rows.dtype)
    sums = np.empty(exps.shape[0], dtype=rows.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), run_buffer(classes):
        for start in blocks:
            x_b = rows[start:start + blocks.step]
            y_b, e_b, s_b = out[start:start + x_b.shape[0]], exps[:x_b.shape[0]], sums[
                :x_b.shape[0]]
            np.max(x_b, axis=1, initial=-np.inf, out=s_b)
            np.subtract(x_b, s_b[:, None], out=y_b)
            np.exp(y_b, out=e_b)
            row_sums(e_b, ones, out=s_b)
            np.log(s_b, out=s_b)
            y_b -= s_b[:, None]
    return out


class Softmax(TwoPathLayer):
    """s = softmax(x) over axis ``dim`` (default the last, torch's ``nn.Softmax(dim)``).

    Backward, for each slice along ``dim``:  dx = J dy  with the Jacobian  J = diag(s) − s sᵀ.

    - ``impl="loop"``: the forward is the textbook shifted form (:func:`stable_softmax`),
      the backward builds J row by row (the seeds' form, O(C²) per row);
    - ``impl="vectorized"``: the forward is :func:`softmax_rows` (no max shift where none
      is needed, the other rows recomputed shifted), the backward uses
      J dy = s ⊙ (dy − ⟨s, dy⟩)  (O(C) per row): the row dots ⟨s, dy⟩ come from
      :func:`row_dots` (no s ⊙ dy temporary), then dx = dy − ⟨s, dy⟩ and dx ⊙= s in
      place, per block of rows of ~BLOCK_ELEMENTS values.

    After forward the layer keeps only s (the output, which is returned read-only) and the
    axis: the backward needs nothing else.
    """

    #: Elements per row block of the vectorized forward and backward (256 KB per float32
    #: array: the backward's s, dy and dx of a block within a 1 MB L2). Measured at
    #: 4096×1000 fwd+bwd (float32, one process, interleaved) on a Zen 4 core: 2¹⁴ 7.1 ms,
    #: 2¹⁵ 6.3, 2¹⁶ 5.7-5.9, 2¹⁷ 5.45-5.56, 2¹⁸ 5.44-5.50, 2¹⁹ 5.62, 2²¹ 6.26 (fewer
    #: blocks: fewer NumPy calls; past L2 each pass reads memory); on a Zen 5 core 2¹⁶
    #: against 2¹⁷: 3.96 against 4.10 ms (0.969), 1024×4096 0.965, 4096×10000 0.999,
    #: 256×1000 213 against 207 µs (1.028).
    BLOCK_ELEMENTS = size_threshold(
        "Softmax.BLOCK_ELEMENTS", 1 << 16, entries=("softmax",), measure=_elements,
        blocks=True, doc="elements per row block of the vectorized forward and backward")

    def __init__(self, dim: int = -1, *, impl: str = "vectorized") -> None:
        super().__init__(impl)
        self.dim = check_dim(self.where, dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "impl": self.impl}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        axis = check_axis(f"{self.where}.forward", "dim", self.dim, x)
        moved = to_last(x, axis)
        if self.impl == "loop":
            s = np.asarray(stable_softmax(moved))
        else:
            s = softmax_rows(as_rows(moved), self.BLOCK_ELEMENTS).reshape(moved.shape)
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
        step = _blocks(*rows_s.shape, cls.BLOCK_ELEMENTS).step
        with run_buffer(rows_s.shape[1]):
            for start in range(0, rows_s.shape[0], step):
                s_b, dy_b, dx_b = (rows_s[start:start + step], rows_dy[start:start + step],
                                   dx[start:start + step])
                np.subtract(dy_b, row_dots(s_b, dy_b)[:, None], out=dx_b)
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
    dx = dy − softmax(x) · Σ dy  (sums along ``dim``), with softmax(x) = e^y.

    Forward :func:`log_softmax_rows`, backward per block of rows of ~BLOCK_ELEMENTS values:
    Σ dy by one GEMV, dx = e^y, dx ⊙= Σ dy, dx = dy − dx in place. After forward the layer
    keeps only y (the output, returned read-only, as torch's autograd keeps it) and the
    axis; e^y is recomputed in backward rather than kept beside y.
    """

    #: Elements per row block of the forward and backward (256 KB per float32 array).
    BLOCK_ELEMENTS = size_threshold(
        "LogSoftmax.BLOCK_ELEMENTS", 1 << 16, entries=("log_softmax",), measure=_elements,
        blocks=True, doc="elements per row block of the forward and backward")

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = check_dim(self.where, dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        axis = check_axis(f"{self.where}.forward", "dim", self.dim, x)
        moved = to_last(x, axis)
        y = log_softmax_rows(as_rows(moved), self.BLOCK_ELEMENTS).reshape(moved.shape)
        return self._remember_output(from_last(y, axis, x.shape), (y, axis))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y, axis = self._take_cache(dy)
        rows_y = as_rows(y)
        rows_dy = as_rows(to_last(dy, axis))
        count, classes = rows_y.shape
        dx = np.empty((count, classes), dtype=dy.dtype)
        ones = np.ones(classes, dtype=dy.dtype)
        step = _blocks(count, classes, self.BLOCK_ELEMENTS).step
        # NaN rows, inf·0
        with np.errstate(over="ignore", invalid="ignore"), run_buffer(classes):
            for start in range(0, count, step):
                dy_b, dx_b = rows_dy[start:start + step], dx[start:start + step]
                sums = row_sums(dy_b, ones)
                np.exp(rows_y[start:start + step], out=dx_b)
                dx_b *= sums[:, None]
                np.subtract(dy_b, dx_b, out=dx_b)
        return from_last(dx.reshape(y.shape), axis, dy.shape)
