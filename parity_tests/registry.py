"""The registry: every NumPy/torch pair the harness knows, assembled from ``entries/``.

To add a layer: write it in ``numpy_impl/``, its reference in ``torch_ref/``, and one
:class:`~parity_tests.entry.Entry` in the family's ``entries`` module. Every check then
covers it, in the tests and in ``parity check``.

A :class:`Case` is one entry × sample × dtype × impl path; an :class:`ErrorCase` is one
entry × error input. At load time the registry checks that entry, sample and error names
are unique and that every sample's name agrees with its shape and kwargs
(``b2h5w6c3o4-k2x3`` must have shape (2, 5, 6, 3), out_channels 4 and kernel (2, 3)).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity_tests import entries as _families
from parity_tests.entry import Entry, ErrorInput
from parity_tests.samples import Sample


@dataclass(frozen=True, eq=False)
class Case:
    """One entry × sample config × dtype × impl path (``impl`` None: a single-path layer)."""

    entry: Entry
    sample: Sample
    dtype: np.dtype
    impl: str | None

    @property
    def id(self) -> str:
        """Readable id: ``softmax-loop-float32-b256c10``."""
        parts = [self.entry.name, self.impl, np.dtype(self.dtype).name, self.sample.name]
        return "-".join(p for p in parts if p)

    @property
    def data_key(self) -> str:
        """The id without the impl path: both paths of a case draw the same data."""
        parts = [self.entry.name, np.dtype(self.dtype).name, self.sample.name]
        return "-".join(parts)

    def with_impl(self, impl: str | None) -> Case:
        return Case(self.entry, self.sample, self.dtype, impl)

    def with_dtype(self, dtype: np.dtype) -> Case:
        return Case(self.entry, self.sample, np.dtype(dtype), self.impl)


@dataclass(frozen=True, eq=False)
class ErrorCase:
    """One entry × error input: the bad call must raise the documented error."""

    entry: Entry
    error: ErrorInput

    @property
    def id(self) -> str:
        return f"{self.entry.name}-{self.error.name}"


# --------------------------------------------------------------------------- validation
_SHAPE_TOKEN = re.compile(r"^b\d+(?:[a-z]\d+)*$")
_LETTER_VALUE = re.compile(r"([a-z])(\d+)")
_GEOMETRY = re.compile(r"^(?:k(\d+)(?:x(\d+))?)?(?:s(\d+)(?:x(\d+))?)?(?:p(\d+)(?:x(\d+))?)?$")


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list, np.ndarray)) and np.shape(value) == (2,):
        return int(value[0]), int(value[1])
    return None


def sample_name_problems(sample: Sample) -> list[str]:
    """Where the sample's name contradicts its shape or kwargs (empty if it does not).

    Shape tokens ``b<N>h<H>w<W>c<C>`` (also ``t`` for a middle axis, ``d``/``i`` for the
    feature axis, ``o`` for out_channels/out_features) and geometry tokens ``k<kh>x<kw>``,
    ``s<sh>x<sw>``, ``p<ph>x<pw>`` are read; other tokens are free text.
    """
    problems = []
    shape, kwargs = sample.shape, dict(sample.kwargs)
    for token in sample.name.split("-"):
        if _SHAPE_TOKEN.match(token):
            for letter, text in _LETTER_VALUE.findall(token):
                value = int(text)
                axis = {"b": 0, "h": 1, "w": 2, "t": 1, "c": -1, "d": -1, "i": -1}.get(letter)
                if letter == "o":
                    out = kwargs.get("out_channels", kwargs.get("out_features"))
                    if out is not None and out != value:
                        problems.append(f"'o{value}' but out channels/features {out}")
                elif axis is not None and not (-len(shape) <= axis < len(shape)
                                               and shape[axis] == value):
                    problems.append(f"'{letter}{value}' but shape {shape}")
            continue
        geometry = _GEOMETRY.match(token)
        if geometry and token:
            k1, k2, s1, s2, p1, p2 = geometry.groups()
            for key, first, second in (("kernel_size", k1, k2), ("stride", s1, s2),
                                       ("padding", p1, p2)):
                if first is None or key not in kwargs:
                    continue
                named = (int(first), int(second if second is not None else first))
                actual = _pair(kwargs[key])
                if actual is not None and actual != named:
                    problems.append(f"'{token}' but {key}={kwargs[key]!r}")
    return problems


def validate(entries: Iterable[Entry]) -> None:
    """Refuse duplicate entry/sample/error names, sample names that contradict shapes and
    sample impls the layer does not have."""
    entries = tuple(entries)
    names = [entry.name for entry in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"registry: duplicate entry names {duplicates}")
    for entry in entries:
        for kind, items in (("sample", [s.name for s in entry.samples]),
                            ("error input", [e.name for e in entry.errors])):
            repeated = sorted({n for n in items if items.count(n) > 1})
            if repeated:
                raise ValueError(f"registry: {entry.name} has duplicate {kind} names {repeated}")
        for sample in entry.samples:
            unknown = sorted(set(sample.impls) - set(entry.impls))
            if unknown and entry.impls != (None,):
                raise ValueError(f"registry: {entry.name} sample {sample.name!r}: impls "
                                 f"{unknown} are not paths of the layer {list(entry.impls)}")
            problems = sample_name_problems(sample)
            if problems:
                raise ValueError(f"registry: {entry.name} sample {sample.name!r}: the name "
                                 f"disagrees with its config: {'; '.join(problems)}")


def _discover() -> tuple[Entry, ...]:
    """``ENTRIES`` of every module in ``parity_tests/entries/``, ``core`` first."""
    names = sorted(m.name for m in pkgutil.iter_modules(_families.__path__))
    names.sort(key=lambda name: name != "core")
    found: list[Entry] = []
    for name in names:
        found += importlib.import_module(f"parity_tests.entries.{name}").ENTRIES
    return tuple(found)


BUILTIN: tuple[Entry, ...] = _discover()
validate(BUILTIN)
BY_NAME: Mapping[str, Entry] = {entry.name: entry for entry in BUILTIN}


def _installed() -> tuple[Entry, ...]:
    """Entries and targets that installed packages register (entry-point group
    ``numpy_torch_parity``); one that cannot be loaded, reuses another entry's name or
    fails :func:`validate` is reported and left out (the built-in registry still runs)."""
    from parity_tests.targets import TargetError, installed_entries

    try:
        found = tuple(installed_entries())
    except TargetError as error:
        print(f"parity: an installed plugin was left out: {error}", file=sys.stderr)
        return ()
    kept: list[Entry] = []
    taken = {entry.name for entry in BUILTIN}
    for entry in found:
        origin = f" ({entry.origin})" if entry.origin else ""
        problem = (f"its name {entry.name!r} is taken by another entry"
                   if entry.name in taken else None)
        if problem is None:
            try:
                validate((entry,))
            except (ValueError, TypeError) as error:
                problem = str(error)
        if problem is not None:
            print(f"parity: an installed entry was left out{origin}: {problem}",
                  file=sys.stderr)
            continue
        taken.add(entry.name)
        kept.append(entry)
    return tuple(kept)


REGISTRY: tuple[Entry, ...] = BUILTIN + _installed()
validate(REGISTRY)
BY_NAME = {entry.name: entry for entry in REGISTRY}


# --------------------------------------------------------------------------- selection
def select_entries(names: Iterable[str] | None = None,
                   entries: Iterable[Entry] | None = None) -> tuple[Entry, ...]:
    """The entries called ``names`` (all of them for None), each once, from ``entries``
    (default: the registry)."""
    pool = REGISTRY if entries is None else tuple(entries)
    if names is None:
        return pool
    by_name = {entry.name: entry for entry in pool}
    chosen = []
    for name in dict.fromkeys(names):
        if name not in by_name:
            raise KeyError(f"unknown layer {name!r}; known: {', '.join(by_name)}")
        chosen.append(by_name[name])
    return tuple(chosen)


def cases(
    layers: Iterable[str] | None = None,
    dtypes: Iterable[str] | None = None,
    impls: Iterable[str] | None = None,
    configs: Iterable[str] | None = None,
    entries: Iterable[Entry] | None = None,
) -> Iterator[Case]:
    """Every (entry, sample, dtype, impl) selected by the filters (None = no filter), from
    ``entries`` (default: the registry)."""
    wanted_dtypes = None if dtypes is None else {np.dtype(d) for d in dtypes}
    wanted_impls = None if impls is None else set(impls)
    wanted_configs = None if configs is None else set(configs)
    for entry in select_entries(layers, entries):
        for sample in entry.samples:
            if wanted_configs is not None and sample.name not in wanted_configs:
                continue
            for dtype in entry.dtypes:
                if wanted_dtypes is not None and np.dtype(dtype) not in wanted_dtypes:
                    continue
                for impl in entry.impls:
                    if wanted_impls is not None and impl not in wanted_impls:
                        continue
                    if sample.impls and impl is not None and impl not in sample.impls:
                        continue  # (a single-path layer, an outside target's, runs it all)
                    yield Case(entry, sample, np.dtype(dtype), impl)


def error_cases(layers: Iterable[str] | None = None,
                entries: Iterable[Entry] | None = None) -> Iterator[ErrorCase]:
    """Every (entry, error input) of the selected entries."""
    for entry in select_entries(layers, entries):
        for error in entry.errors:
            yield ErrorCase(entry, error)
