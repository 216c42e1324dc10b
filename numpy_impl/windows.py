"""Window geometry shared by convolution and pooling on NHWC images.

A layer with kh × kw windows, stride (sh, sw) and dilation (dh, dw) over an input padded to
(Hp, Wp) has OH = ⌊(Hp − dh·(kh − 1) − 1) / sh⌋ + 1 output rows (torch's rule; pooling's
``ceil_mode`` rounds up instead, see :func:`pool_output_size`), and kernel offset (i, j)
touches padded rows i·dh, i·dh + sh, …, i·dh + sh·(OH − 1) and the matching columns: the
strided slice :func:`window_slice` names. The helpers below normalise the size arguments,
check that a kernel fits, and pad images (zeros or a constant, ``reflect``, ``replicate``,
``circular``) and fold a padded gradient back onto the image.
"""

from __future__ import annotations

import itertools

import numpy as np

from numpy_impl.validation import check_positive_int, check_rank

NHWC = "(batch, height, width, channels), NHWC"
#: torch's ``padding_mode`` names and the ``np.pad`` mode that copies the same cells.
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                 "circular": "wrap"}


def as_pair(where: str, name: str, value: object, minimum: int) -> tuple[int, int]:
    """``value`` as a (height, width) pair of ints ``>= minimum``: an int is used for both
    axes, a tuple/list must have exactly two ints. ``TypeError`` for non-ints (floats,
    bools, strings), ``ValueError`` for a wrong length or a value below ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{where}: {name} must be an int or a pair of ints (height, width), "
                f"got {len(value)} values {tuple(value)!r}"
            )
        first, second = (check_positive_int(where, f"{name}[{k}]", v, minimum)
                         for k, v in enumerate(value))
        return first, second
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{where}: {name} must be an int or a pair of ints (height, width), "
            f"got {type(value).__name__} {value!r}"
        )
    single = check_positive_int(where, name, value, minimum)
    return single, single


def check_images(where: str, x: np.ndarray) -> None:
    """Rank 4 NHWC with a non-empty spatial extent (the batch may be empty)."""
    check_rank(where, "x", x, 4, NHWC)
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(
            f"{where}: x must have height and width >= 1, got shape {x.shape} {NHWC}"
        )


def span(kernel: int, dilation: int) -> int:
    """The extent of a dilated kernel: d·(k − 1) + 1 cells from its first to its last."""
    return dilation * (kernel - 1) + 1


def kernel_too_large(
    where: str, x_shape: tuple[int, ...], kernel: tuple[int, int],
    pads: tuple[int, int, int, int], dilation: tuple[int, int] = (1, 1),
) -> ValueError:
    """The error for a (dilated) kernel that does not fit in the padded input."""
    top, bottom, left, right = pads
    padded = (x_shape[1] + top + bottom, x_shape[2] + left + right)
    spans = (span(kernel[0], dilation[0]), span(kernel[1], dilation[1]))
    dilated = "" if dilation == (1, 1) else f" with dilation {dilation} spans {spans} and"
    return ValueError(
        f"{where}: kernel_size {kernel}{dilated} is larger than the padded input {padded} "
        f"(x height, width {tuple(x_shape[1:3])} plus padding top/bottom {(top, bottom)}, "
        f"left/right {(left, right)}); use a smaller kernel, more padding or a larger input"
    )


def check_kernel_fits(
    where: str, x_shape: tuple[int, ...], kernel: tuple[int, int],
    pads: tuple[int, int, int, int], dilation: tuple[int, int] = (1, 1),
) -> tuple[int, int]:
    """The padded spatial size (Hp, Wp); ``ValueError`` if the (dilated) kernel does not
    fit in it."""
    top, bottom, left, right = pads
    padded = (x_shape[1] + top + bottom, x_shape[2] + left + right)
    if span(kernel[0], dilation[0]) > padded[0] or span(kernel[1], dilation[1]) > padded[1]:
        raise kernel_too_large(where, x_shape, kernel, pads, dilation)
    return padded


def output_size(padded: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """⌊(padded − d·(k − 1) − 1) / stride⌋ + 1 (torch's rule, no ceil mode)."""
    return (padded - span(kernel, dilation)) // stride + 1


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """torch's pooling output size along one axis (``pooling_output_shape``):
    (size + 2p − d·(k − 1) − 1) / s + 1, rounded down, or up with ``ceil_mode``; in ceil
    mode the last window must start inside the input or the left padding, so a window that
    would start in the right padding is dropped. Verified against torch for every size ≤ 8,
    kernel ≤ 4, stride ≤ 3, padding ≤ 2 and dilation ≤ 2."""
    room = size + 2 * padding - span(kernel, dilation)
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def window_slice(start: int, count: int, stride: int) -> slice:
    """The padded-input rows (or columns) that kernel offset ``start`` (i·d for offset i
    with dilation d) touches in each of ``count`` output positions: ``start, start +
    stride, …`` (count of them)."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def clipped_offsets(size: int, out: int, kernel: int, stride: int, pad: int,
                    dilation: int = 1) -> list[tuple[int, slice, slice]]:
    """Windows clipped to the input along one axis (torch's pooling windows): for each
    kernel offset t with at least one cell inside the input, ``(t, outputs, cells)``: the
    output positions o whose cell o·stride + t·dilation − pad lies in [0, size), and those
    input cells, both as slices. Offsets whose cells are all padding are left out, so a
    1000-cell kernel with padding 500 on a 1-cell axis has one offset, not 1000."""
    found = []
    for t in range(kernel):
        shift = t * dilation - pad  # the cell of output o is o·stride + shift
        lo, hi = max(0, -(shift // stride)), min(out, (size - 1 - shift) // stride + 1)
        if hi > lo:
            first = lo * stride + shift
            found.append((t, slice(lo, hi), window_slice(first, hi - lo, stride)))
    return found


def pad_images(x: np.ndarray, pads: tuple[int, int, int, int], value: float = 0.0,
               mode: str = "zeros") -> np.ndarray:
    """``x`` padded on H (top, bottom) and W (left, right): with ``value`` for
    ``mode="zeros"`` (a constant), else torch's ``reflect`` (mirror, the edge not repeated),
    ``replicate`` (the edge repeated) or ``circular`` (wrap around); ``x`` itself if there
    is nothing to pad."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    widths = ((0, 0), (top, bottom), (left, right), (0, 0))
    if mode == "zeros":
        return np.pad(x, widths, constant_values=value)
    return np.pad(x, widths, mode=PADDING_MODES[mode])  # type: ignore[call-overload]


def crop_padding(dxp: np.ndarray, pads: tuple[int, int, int, int],
                 x_shape: tuple[int, ...]) -> np.ndarray:
    """The gradient w.r.t. the unpadded input: the interior of the padded gradient."""
    if not any(pads):
        return dxp
    top, _, left, _ = pads
    return np.ascontiguousarray(dxp[:, top:top + x_shape[1], left:left + x_shape[2], :])


def padding_sources(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of an axis padded by (before, after) with ``mode``, the input
    position whose value it holds (np.pad applied to the positions themselves)."""
    return np.pad(np.arange(size), (before, after), mode=PADDING_MODES[mode])  # type: ignore[call-overload]


def fold_padding(dxp: np.ndarray, pads: tuple[int, int, int, int],
                 x_shape: tuple[int, ...], mode: str = "zeros") -> np.ndarray:
    """The gradient w.r.t. the unpadded input of a padded gradient ``dxp``: the interior,
    plus, for ``reflect``/``replicate``/``circular``, every padded row and column added
    into the input row/column it copies (the adjoint of :func:`pad_images`). Loops run over
    the padded rows and columns only."""
    if mode == "zeros":
        return crop_padding(dxp, pads, x_shape)
    top, bottom, left, right = pads
    _, h, w, _ = x_shape
    columns = padding_sources(w, left, right, mode)
    folded = dxp[:, :, left:left + w].copy()
    for p in itertools.chain(range(left), range(left + w, left + w + right)):
        folded[:, :, columns[p]] += dxp[:, :, p]
    rows = padding_sources(h, top, bottom, mode)
    dx = folded[:, top:top + h].copy()
    for p in itertools.chain(range(top), range(top + h, top + h + bottom)):
        dx[:, rows[p]] += folded[:, p]
    return dx


def check_flag(where: str, name: str, value: object) -> bool:
    """A bool (or NumPy bool); ``TypeError`` otherwise, so that a value meant for another
    positional parameter (a dilation pair landing in ``bias``) cannot pass as truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)
