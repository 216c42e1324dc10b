"""Size thresholds: sizes at which a layer changes code path (row blocks, chunks, branches).

A threshold is a code path like any other, and a parity gate is blind to a path no sample
takes: the test suite reads :data:`THRESHOLDS` and requires, for each one, a registry sample
of its entries on each side (and, for a block size, one that needs two blocks at least).
Declare every such constant here, where it is defined::

    BLOCK_ELEMENTS = size_threshold(
        "Softmax.BLOCK_ELEMENTS", 1 << 16, entries=("softmax",),
        measure=lambda kwargs, shape: math.prod(shape), blocks=True,
        doc="elements per row block of the vectorized backward")

``measure(kwargs, input_shape)`` is the size a sample presents to the threshold (the
registry calls it with each sample's constructor kwargs and input shape).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Measure = Callable[[Mapping[str, Any], tuple[int, ...]], int]


@dataclass(frozen=True)
class SizeThreshold:
    """A size at which a layer takes another code path.

    ``blocks=True``: work is split into blocks of ``value`` (a sample must need at least two
    blocks, ``measure >= 2 * value``); ``False``: a branch taken when ``measure >= value``.
    """

    name: str
    value: int
    entries: tuple[str, ...]
    measure: Measure
    blocks: bool
    doc: str


THRESHOLDS: list[SizeThreshold] = []


def size_threshold(name: str, value: int, entries: tuple[str, ...], measure: Measure,
                   blocks: bool, doc: str) -> int:
    """Register a threshold and return its value (assign it to the module constant)."""
    if any(t.name == name for t in THRESHOLDS):
        raise ValueError(f"size_threshold: {name!r} is declared twice")
    THRESHOLDS.append(SizeThreshold(name, value, tuple(entries), measure, blocks, doc))
    return value
