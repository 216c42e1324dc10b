"""Window geometry shared by convolution and pooling on NHWC images.

A layer with kh × kw windows and stride (sh, sw) over an input padded to (Hp, Wp) has
OH = ⌊(Hp − kh) / sh⌋ + 1 output rows (torch's rule, no ceil mode), and kernel offset
(i, j) touches padded rows i, i + sh, …, i + sh·(OH − 1) and the matching columns: the
strided slice :func:`window_slice` names. The helpers below normalise the size arguments,
check that a kernel fits and pad or crop images.
"""

from __future__ import annotations

import numpy as np

from numpy_impl.validation import check_positive_int, check_rank

NHWC = "(batch, height, width, channels), NHWC"


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
    """Rank 4 NHWC with a non-empty spatial extent."""
    check_rank(where, "x", x, 4, NHWC)
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(
            f"{where}: x must have height and width >= 1, got shape {x.shape} {NHWC}"
        )


def check_kernel_fits(
    where: str, x_shape: tuple[int, ...], kernel: tuple[int, int],
    pads: tuple[int, int, int, int],
) -> tuple[int, int]:
    """The padded spatial size (Hp, Wp); ``ValueError`` if the kernel does not fit in it."""
    top, bottom, left, right = pads
    padded = (x_shape[1] + top + bottom, x_shape[2] + left + right)
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"{where}: kernel_size {kernel} is larger than the padded input {padded} "
            f"(x height, width {tuple(x_shape[1:3])} plus padding top/bottom {(top, bottom)}, "
            f"left/right {(left, right)}); use a smaller kernel, more padding or a larger input"
        )
    return padded


def output_size(padded: int, kernel: int, stride: int) -> int:
    """⌊(padded − kernel) / stride⌋ + 1 (torch's rule, no ceil mode)."""
    return (padded - kernel) // stride + 1


def window_slice(start: int, count: int, stride: int) -> slice:
    """The padded-input rows (or columns) that kernel offset ``start`` touches in each of
    ``count`` output positions: ``start, start + stride, …`` (count of them)."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def pad_images(x: np.ndarray, pads: tuple[int, int, int, int], value: float = 0.0
               ) -> np.ndarray:
    """``x`` padded on H (top, bottom) and W (left, right) with ``value``; ``x`` itself if
    there is nothing to pad."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def crop_padding(dxp: np.ndarray, pads: tuple[int, int, int, int],
                 x_shape: tuple[int, ...]) -> np.ndarray:
    """The gradient w.r.t. the unpadded input: the interior of the padded gradient."""
    if not any(pads):
        return dxp
    top, _, left, _ = pads
    return np.ascontiguousarray(dxp[:, top:top + x_shape[1], left:left + x_shape[2], :])
