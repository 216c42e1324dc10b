"""Input checks shared by every layer.

Each check raises a ``TypeError`` (wrong kind of thing, wrong dtype) or ``ValueError``
(wrong rank, size or value) whose message starts with ``<where>: <argument>`` and states
what was expected and what was given, so a failing call explains itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__}"


def check_plain_array(where: str, name: str, value: object, kind: str) -> np.ndarray:
    """Return ``value`` if it is a plain ``numpy.ndarray``, else raise ``TypeError``.

    Array subclasses are refused, not converted: their operators change the arithmetic
    (``np.matrix`` multiplies as matrices and keeps two axes, so ``diff * diff`` is a matrix
    product; a masked array skips its masked entries in sums and reductions), so a layer
    written for ndarrays would silently compute something else. ``kind`` says what was
    expected (``"of float32 or float64"``).
    """
    if type(value) is np.ndarray:
        return value
    if isinstance(value, np.ndarray):
        cls = type(value)
        hint = (f"{name}.filled(fill_value) or np.asarray({name}) (the mask is dropped)"
                if isinstance(value, np.ma.MaskedArray) else f"np.asarray({name})")
        raise TypeError(
            f"{where}: {name} must be a plain numpy.ndarray {kind}, got the subclass "
            f"{cls.__module__}.{cls.__qualname__}; array subclasses are refused because they "
            f"change the arithmetic (np.matrix multiplies as matrices, a masked array skips "
            f"masked entries); convert it with {hint}"
        )
    raise TypeError(f"{where}: {name} must be a numpy.ndarray {kind}, got {_describe(value)}")


def check_float_array(where: str, name: str, value: object) -> np.ndarray:
    """Return ``value`` if it is a float32/float64 ndarray (a plain one: subclasses such as
    ``np.matrix`` and masked arrays are refused), else raise ``TypeError``."""
    check_plain_array(where, name, value, "of float32 or float64")
    assert isinstance(value, np.ndarray)
    if value.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{where}: {name} must have dtype float32 or float64, got {value.dtype}"
            + (
                "; cast it with .astype(np.float32)"
                if np.issubdtype(value.dtype, np.number)
                else ""
            )
        )
    return value


def check_dtype_matches(where: str, name: str, value: np.ndarray, dtype: np.dtype) -> None:
    """Refuse a float array whose dtype differs from the layer's (no silent up/downcast)."""
    if value.dtype != dtype:
        raise TypeError(
            f"{where}: {name} has dtype {value.dtype} but the layer computes in {dtype}; "
            f"cast it with .astype(np.{dtype.name}) or build the layer with "
            f"dtype=np.{value.dtype.name}"
        )


def check_rank(where: str, name: str, value: np.ndarray, ndim: int, layout: str) -> None:
    """Require exactly ``ndim`` axes, naming the expected layout (``"(batch, features)"``)."""
    if value.ndim != ndim:
        raise ValueError(
            f"{where}: {name} must have {ndim} dimensions {layout}, "
            f"got {value.ndim} dimensions with shape {value.shape}"
        )


def check_min_rank(where: str, name: str, value: np.ndarray, ndim: int, layout: str) -> None:
    if value.ndim < ndim:
        raise ValueError(
            f"{where}: {name} must have at least {ndim} dimension(s) {layout}, "
            f"got shape {value.shape}"
        )


def check_axis_size(
    where: str, name: str, value: np.ndarray, axis: int, size: int, meaning: str
) -> None:
    """Require ``value.shape[axis] == size``; ``meaning`` names the axis (``in_features``)."""
    if value.shape[axis] != size:
        raise ValueError(
            f"{where}: {name} has {value.shape[axis]} {meaning} on axis {axis} "
            f"(shape {value.shape}), expected {size}"
        )


def check_same_shape(
    where: str, name: str, value: np.ndarray, expected: Sequence[int], expected_name: str
) -> None:
    if tuple(value.shape) != tuple(expected):
        raise ValueError(
            f"{where}: {name} has shape {tuple(value.shape)}, expected {tuple(expected)} "
            f"(the shape of {expected_name})"
        )


def check_int(where: str, name: str, value: object) -> int:
    """An int (a NumPy integer too, never a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__}")
    return int(value)


def check_positive_int(where: str, name: str, value: object, minimum: int = 1) -> int:
    number = check_int(where, name, value)
    if number < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value}")
    return number


def check_axis(where: str, name: str, axis: int, value: np.ndarray) -> int:
    """``axis`` as a non-negative axis of ``value``; a 0-d array has one axis (-1 or 0), as
    in torch. ``ValueError`` when it is out of range."""
    rank = max(value.ndim, 1)
    if not -rank <= axis < rank:
        raise ValueError(
            f"{where}: {name}={axis} is out of range for x with {value.ndim} dimension(s) "
            f"(shape {value.shape}); expected {-rank} <= {name} < {rank}"
        )
    return axis % rank


def check_finite_float(where: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value}")
    return float(value)


def check_fraction(where: str, name: str, value: object) -> float:
    """A real number in [0, 1]."""
    number = check_finite_float(where, name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{where}: {name} must lie in [0, 1], got {value}")
    return number


def check_choice(where: str, name: str, value: object, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(
            f"{where}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )
    return str(value)


def resolve_dtype(where: str, dtype: object) -> np.dtype:
    """Accept ``np.float32``/``np.float64`` (or their names); refuse anything else."""
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as error:
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype!r}") from error
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"{where}: dtype must be float32 or float64, got {resolved}")
    return resolved
