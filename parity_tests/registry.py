"""The registry: every NumPy/torch pair the harness knows, assembled from ``entries/``.

To add a layer: write it in ``numpy_impl/``, its reference in ``torch_ref/``, and one
:class:`~parity_tests.pairing.PairInfo` in the family's ``entries`` module. Every generic
test and ``parity check`` then covers it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from parity_tests import entries as _families
from parity_tests.pairing import PairInfo, Sample, case_id


def _discover() -> tuple[PairInfo, ...]:
    """``ENTRIES`` of every module in ``parity_tests/entries/``, ``core`` first."""
    names = sorted(m.name for m in pkgutil.iter_modules(_families.__path__))
    names.sort(key=lambda name: name != "core")
    found: list[PairInfo] = []
    for name in names:
        found += importlib.import_module(f"parity_tests.entries.{name}").ENTRIES
    return tuple(found)


REGISTRY: tuple[PairInfo, ...] = _discover()


def _check_unique(entries: Iterable[PairInfo]) -> None:
    names = [entry.name for entry in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"registry: duplicate entry names {duplicates}")
    for entry in entries:
        samples = [s.name for s in entry.samples]
        if len(set(samples)) != len(samples):
            raise ValueError(f"registry: {entry.name} has duplicate sample names {samples}")


_check_unique(REGISTRY)
BY_NAME = {entry.name: entry for entry in REGISTRY}


class Case(NamedTuple):
    entry: PairInfo
    sample: Sample
    dtype: np.dtype
    impl: str | None

    @property
    def id(self) -> str:
        return case_id(self.entry, self.sample, self.dtype, self.impl)


def entries(names: Iterable[str] | None = None) -> tuple[PairInfo, ...]:
    """The registry entries called ``names`` (all of them for None)."""
    if names is None:
        return REGISTRY
    chosen = []
    for name in names:
        if name not in BY_NAME:
            raise KeyError(f"unknown layer {name!r}; known: {', '.join(BY_NAME)}")
        chosen.append(BY_NAME[name])
    return tuple(chosen)


def cases(
    layers: Iterable[str] | None = None,
    dtypes: Iterable[str] | None = None,
    impls: Iterable[str] | None = None,
    configs: Iterable[str] | None = None,
) -> Iterator[Case]:
    """Every (entry, sample, dtype, impl) selected by the filters (None = no filter)."""
    wanted_dtypes = None if dtypes is None else {np.dtype(d) for d in dtypes}
    wanted_impls = None if impls is None else set(impls)
    wanted_configs = None if configs is None else set(configs)
    for entry in entries(layers):
        for sample in entry.samples:
            if wanted_configs is not None and sample.name not in wanted_configs:
                continue
            for dtype in entry.dtypes:
                if wanted_dtypes is not None and np.dtype(dtype) not in wanted_dtypes:
                    continue
                for impl in entry.impls:
                    if wanted_impls is not None and impl not in wanted_impls:
                        continue
                    yield Case(entry, sample, np.dtype(dtype), impl)
