"""Weight initializers, selected by name and drawn from a ``numpy.random.Generator``.

Fans follow ``torch.nn.init`` for the NumPy layouts: for a weight of shape
``(*kernel, in, out)`` (Linear ``(in, out)``, Conv2D ``(kh, kw, c_in, c_out)``),
receptive = Π kernel, fan_in = in · receptive, fan_out = out · receptive.

| name (alias)                        | distribution                                       |
|-------------------------------------|----------------------------------------------------|
| ``xavier_uniform`` (glorot_uniform) | U(−a, a),  a = √(6 / (fan_in + fan_out))           |
| ``xavier_normal`` (glorot_normal)   | N(0, σ²),  σ = √(2 / (fan_in + fan_out))           |
| ``kaiming_uniform`` (he_uniform)    | U(−a, a),  a = √(6 / fan_in)   (ReLU gain √2)      |
| ``kaiming_normal`` (he_normal)      | N(0, σ²),  σ = √(2 / fan_in)                       |
| ``torch_default``                   | U(−a, a),  a = 1 / √fan_in  (torch's Linear/Conv)  |
| ``zeros``                           | 0                                                  |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numpy_impl.validation import check_choice


def as_generator(rng: np.random.Generator | int | None,
                 where: str = "as_generator") -> np.random.Generator:
    """A ``Generator`` from a generator, a seed, or None (fresh entropy); ``where`` (the
    caller) opens the error message."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"{where}: rng must be a numpy.random.Generator, an int seed or None, "
                    f"got {rng!r}")


Initializer = Callable[[tuple[int, ...], np.random.Generator, np.dtype], np.ndarray]


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight in the NumPy layout ``(*kernel, in, out)``."""
    if len(shape) < 2:
        raise ValueError(f"fans: shape must have at least 2 dimensions (in, out), got {shape}")
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _uniform(bound: Callable[[int, int], float]) -> Initializer:
    def draw(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
        a = bound(*fans(shape))
        return rng.uniform(-a, a, size=shape).astype(dtype)

    return draw


def _normal(std: Callable[[int, int], float]) -> Initializer:
    def draw(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
        return (rng.standard_normal(size=shape) * std(*fans(shape))).astype(dtype)

    return draw


def _zeros(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "xavier_uniform": _uniform(lambda fan_in, fan_out: np.sqrt(6 / (fan_in + fan_out))),
    "xavier_normal": _normal(lambda fan_in, fan_out: np.sqrt(2 / (fan_in + fan_out))),
    "kaiming_uniform": _uniform(lambda fan_in, fan_out: np.sqrt(6 / fan_in)),
    "kaiming_normal": _normal(lambda fan_in, fan_out: np.sqrt(2 / fan_in)),
    "torch_default": _uniform(lambda fan_in, fan_out: 1 / np.sqrt(fan_in)),
    "zeros": _zeros,
}
ALIASES = {
    "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal",
    "he_uniform": "kaiming_uniform",
    "he_normal": "kaiming_normal",
}


def get_initializer(name: str, where: str = "get_initializer",
                    argument: str = "name") -> Initializer:
    """The initializer called ``name`` (or one of its aliases); an unknown name is a
    ValueError from ``where`` (the caller) naming its ``argument``."""
    check_choice(where, argument, name, [*INITIALIZERS, *ALIASES])
    return INITIALIZERS[ALIASES.get(name, name)]


def initialize(
    name: str, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    """Draw a weight of ``shape`` and ``dtype`` with the initializer ``name``."""
    return get_initializer(name)(shape, rng, dtype)


def bias_bound(weight_shape: tuple[int, ...]) -> float:
    """torch's default bias range U(−1/√fan_in, 1/√fan_in)."""
    fan_in, _ = fans(weight_shape)
    return 1 / np.sqrt(fan_in) if fan_in > 0 else 0.0
