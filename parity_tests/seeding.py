"""The one seed of the harness and the per-case random generators drawn from it.

Every case draws its data from ``default_rng([seed, crc32(key)])``: the same seed and key
always give the same numbers, whatever else runs, and a different seed gives new data
without changing any verdict. ``PARITY_SEED`` (tests) and ``--seed`` (``parity check``)
choose the seed; :data:`DEFAULT_SEED` is the one used when nothing is said.
"""

from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `parity --help` reads seed_range and must not import NumPy
    import numpy as np

DEFAULT_SEED = 0
SEED_ENV = "PARITY_SEED"


def case_rng(seed: int, key: str) -> np.random.Generator:
    """A generator per (seed, key): the same pair always draws the same numbers."""
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def seed_from_env() -> int:
    """``PARITY_SEED`` as a non-negative int, or :data:`DEFAULT_SEED` when it is unset."""
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return DEFAULT_SEED
    if not text.isdecimal():  # isdigit() also takes "²", which int() refuses
        raise ValueError(f"{SEED_ENV} must be a non-negative integer, got {text!r}")
    return int(text)


def seed_range(text: str) -> range:
    """The seeds ``"A-B"`` names, A..B inclusive; ``ValueError`` for anything else."""
    parts = text.split("-")
    if len(parts) != 2 or not all(p.strip().isdecimal() for p in parts):
        raise ValueError(f"expected A-B such as 0-199, got {text!r}")
    first, last = int(parts[0]), int(parts[1])
    if last < first:
        raise ValueError(f"the range {text!r} is empty (B < A)")
    return range(first, last + 1)


def seeds_from_env(name: str) -> list[int]:
    """The seeds an environment variable names, ``"A-B"`` (:func:`seed_range`) or ``"N"``;
    unset, the session's seed (:func:`seed_from_env`)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return [seed_from_env()]
    if text.isdecimal():
        return [int(text)]
    try:
        return list(seed_range(text))
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
