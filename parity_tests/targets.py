"""Where outside targets come from: ``--target MODULE:ATTR --as ENTRY``, ``--plugin FILE.py``
and installed packages (the entry-point group ``numpy_torch_parity``).

A plugin file (or an entry point's object) provides ``TARGETS``: a list of
:class:`parity_tests.adapters.Target` (outside classes checked like a registry entry) and/or
``ENTRIES``: a list of :class:`parity_tests.entry.Entry` (new pairs with their own torch
reference). Each loaded entry remembers the option that brought it in, so the repro lines of
its failures run as printed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from parity_tests.entry import Entry

ENTRY_POINT_GROUP = "numpy_torch_parity"


class TargetError(Exception):
    """A target, plugin or entry point that cannot be loaded (a usage error)."""


def import_attribute(spec: str) -> Any:
    """``"package.module:Attr"`` (or ``"package.module.Attr"``) → the object."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        module_name, _, attribute = spec.rpartition(".")
    if not module_name or not attribute:
        raise TargetError(f"--target {spec!r}: expected MODULE:ATTR, e.g. mypkg.layers:Dense")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise TargetError(f"--target {spec!r}: cannot import {module_name!r} ({error}); is it "
                          f"installed, or run from the folder that holds it") from None
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise TargetError(f"--target {spec!r}: {module_name} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    return obj


def load_plugin_file(path: str | Path) -> Any:
    """Import a plugin file by path (its folder goes on sys.path, for its own imports)."""
    path = Path(path)
    if not path.is_file():
        raise TargetError(f"--plugin {path}: no such file")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    name = f"parity_plugin_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise TargetError(f"--plugin {path}: importing it raised {type(error).__name__}: "
                          f"{error}") from error
    return module


def entries_from(source: Any, origin: str, where: str) -> list[Entry]:
    """The entries a plugin module or an entry point's object provides."""
    from parity_tests.adapters import Target, target_entry

    if callable(source) and not isinstance(source, type):
        source = source()
    if isinstance(source, (list, tuple)):
        items: Iterable[Any] = source
    else:
        items = [*getattr(source, "TARGETS", ()), *getattr(source, "ENTRIES", ())]
    found = []
    for item in items:
        if isinstance(item, Target):
            try:
                found.append(target_entry(item, origin))
            except KeyError as error:
                raise TargetError(f"{where}: {error.args[0]}") from None
        elif isinstance(item, Entry):
            found.append(item if item.origin or not origin else
                         dataclasses.replace(item, origin=origin))
        else:
            raise TargetError(f"{where}: expected Target or Entry objects, got "
                              f"{type(item).__name__}")
    if not found:
        raise TargetError(f"{where}: defines no TARGETS or ENTRIES")
    return found


def load_targets(targets: Sequence[str] = (), as_entries: Sequence[str] = (),
                 plugins: Sequence[str] = ()) -> list[Entry]:
    """The entries of ``--target``/``--as`` pairs and ``--plugin`` files, in that order."""
    from parity_tests.adapters import Target, target_entry

    if targets and not as_entries:
        raise TargetError("--target needs --as ENTRY: the registry entry whose samples and "
                          "torch reference apply (see parity check --list)")
    if as_entries and not targets:
        raise TargetError("--as applies to a --target MODULE:ATTR, and none was given")
    if len(as_entries) not in (len(targets), 1) and targets:
        raise TargetError(f"--as: give one --as ENTRY per --target (or one for all), got "
                          f"{len(as_entries)} for {len(targets)} targets")
    found: list[Entry] = []
    for k, spec in enumerate(targets):
        like = as_entries[k] if len(as_entries) > 1 else as_entries[0]
        origin = f"--target {shlex.quote(spec)} --as {shlex.quote(like)}"
        try:
            found.append(target_entry(Target(import_attribute(spec), like,
                                              name=f"{like}:{spec}"), origin))
        except KeyError as error:
            raise TargetError(f"--as {like}: {error.args[0]}") from None
    for path in plugins:
        # the origin is pasted into repro lines, so a path with a blank stays one word
        found += entries_from(load_plugin_file(path), f"--plugin {shlex.quote(str(path))}",
                              f"--plugin {path}")
    names = [entry.name for entry in found]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TargetError(f"two targets are called {repeated[0]!r}: give them names")
    return found


def installed_entries() -> list[Entry]:
    """The entries installed packages register under the entry-point group
    ``numpy_torch_parity`` (each entry point: a module, a list, or a callable returning one)."""
    from importlib.metadata import entry_points

    found: list[Entry] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {point.name} ({point.value})"
        try:
            source = point.load()
        except Exception as error:
            raise TargetError(f"{where}: loading it raised {type(error).__name__}: "
                              f"{error}") from error
        found += entries_from(source, "", where)
    return found
