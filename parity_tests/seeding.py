"""The one seed of the harness and the per-case random generators drawn from it.

Every case draws its data from ``default_rng([seed, crc32(key)])``: the same seed and key
always give the same numbers, whatever else runs, and a different seed gives new data
without changing any verdict. ``PARITY_SEED`` (tests) and ``--seed`` (``parity check``)
choose the seed; :data:`DEFAULT_SEED` is the one used when nothing is said.
"""

from __future__ import annotations

import os
import zlib

import numpy as np

DEFAULT_SEED = 0
SEED_ENV = "PARITY_SEED"


def case_rng(seed: int, key: str) -> np.random.Generator:
    """A generator per (seed, key): the same pair always draws the same numbers."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def seed_from_env() -> int:
    """``PARITY_SEED`` as a non-negative int, or :data:`DEFAULT_SEED` when it is unset."""
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return DEFAULT_SEED
    if not text.isdigit():
        raise ValueError(f"{SEED_ENV} must be a non-negative integer, got {text!r}")
    return int(text)


def seeds_from_env(name: str) -> list[int]:
    """The seeds an environment variable names, ``"A-B"`` (inclusive) or ``"N"``; unset, the
    session's seed (:func:`seed_from_env`)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return [seed_from_env()]
    low, _, high = text.partition("-")
    if not (low.isdigit() and (high.isdigit() or not high)) or int(high or low) < int(low):
        raise ValueError(f"{name} must be a seed N or a range A-B with A <= B, got {text!r}")
    return list(range(int(low), int(high or low) + 1))
