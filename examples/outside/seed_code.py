"""The seeds' own layer code, extracted from their documents so that it can be checked
through the same adapters as the examples beside this file.

A seed document is Markdown with fenced ``python`` blocks, a notebook dump with ``In [n]:``
cells (code, then its printed output), or both. :func:`pieces` finds the code: every fenced
block, and every cell cut to the longest run of its paragraphs that parses (the output after
it does not). Blocks that are methods of a class shown in parts (headed "Implementation of
`layers.Conv2D.forward`") are put together into that class. :func:`load` runs each piece in
one namespace, in document order, and keeps the classes; a piece that cannot run is skipped
with the reason (it imports tensorflow or torch, it uses a name that is not defined, it is an
unfinished exercise whose method returns ``...``, it defines nothing: a worked example is
not run).

The course framework of seed 002 is not in the document: its layers subclass ``Layer`` and
``Activation`` and call ``initialize_activation`` and ``initialize_weights``. :data:`FRAMEWORK`
gives minimal stand-ins (empty base classes, the document's own activations by name, Xavier
initialisation drawn from ``np.random`` as the framework's), plus the ``typing`` and
``collections`` names the documents use without importing them. Nothing else is added.

    python examples/outside/seed_code.py ../shared/seeds/002_*.txt   # what is found and skipped
"""

from __future__ import annotations

import ast
import collections
import contextlib
import io
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)
CELL = re.compile(r"^In \[\d*\]:[ \t]*$", re.M)
#: The heading of a block that is one method of a class shown in parts.
METHOD_HEADING = re.compile(r"Implementation of `(?:\w+\.)*(\w+)\.(\w+)`:\s*$")
#: Imports the seeds use for code that is not a NumPy layer (data loading, torch modules).
FOREIGN = ("tensorflow", "keras", "torch")


@dataclass
class Piece:
    """One piece of code of a document: where it starts (line), its source, and why it was
    skipped (empty when it ran)."""

    line: int
    source: str
    skipped: str = ""


@dataclass
class Seed:
    """What :func:`load` found in one document: the classes and every piece's outcome."""

    path: Path
    classes: dict[str, type] = field(default_factory=dict)
    pieces: list[Piece] = field(default_factory=list)

    @property
    def skipped(self) -> list[Piece]:
        return [piece for piece in self.pieces if piece.skipped]


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _cell_code(cell: str) -> str:
    """The longest run of a cell's leading paragraphs that parses: its code without the
    output printed after it."""
    paragraphs = re.split(r"\n[ \t]*\n", cell.strip("\n"))
    for end in range(len(paragraphs), 0, -1):
        source = "\n\n".join(paragraphs[:end])
        if _parses(source):
            return source
    return ""


def pieces(text: str) -> list[Piece]:
    """Every piece of code in a seed document, in document order."""
    found: list[Piece] = []
    parts: dict[str, list[tuple[int, str]]] = {}  # class name -> its methods' blocks
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        block = match.group(1)
        heading = METHOD_HEADING.search(text[:match.start()].rstrip().rsplit("\n", 1)[-1])
        if heading and block[:1].isspace():
            parts.setdefault(heading.group(1), []).append((line, block))
        else:
            found.append(Piece(line, block))
    for name, blocks in parts.items():
        body = "\n".join(block for _, block in blocks)
        found.append(Piece(blocks[0][0], f"class {name}(Layer):\n{body}"))
    outside_fences = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    cells = list(CELL.finditer(outside_fences))
    ends = [m.start() for m in cells[1:]] + [len(outside_fences)]
    for start, end in zip((m.end() for m in cells), ends, strict=False):
        cell = outside_fences[start:end].split("\n## ", 1)[0]  # up to the next heading
        code = _cell_code(cell)
        if code.strip():
            found.append(Piece(outside_fences.count("\n", 0, start) + 2, code))
    return sorted(found, key=lambda piece: piece.line)


# --------------------------------------------------------------------------- the namespace
class Activation:
    """Stand-in for the framework's activation base class: calling it is ``forward``."""

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        return self.forward(Z)  # type: ignore[attr-defined]


class Layer:
    """Stand-in for the framework's layer base class (nothing in it)."""


class Loss:
    """Stand-in for the framework's loss base class (nothing in it)."""


def initialize_weights(name: str = "xavier_uniform", activation: str | None = None) -> Any:
    """Stand-in for the framework's initialiser: Xavier uniform over (fan_in, fan_out) from
    ``np.random`` (float64), whatever ``name`` asks for."""

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = int(np.prod(shape[:-1])), shape[-1]
        limit = np.sqrt(6 / (fan_in + fan_out))
        return np.random.uniform(-limit, limit, shape)

    return draw


def framework(namespace: dict[str, Any]) -> dict[str, Any]:
    """The names the documents use but do not define (see the module docstring)."""

    def initialize_activation(name: str) -> Any:
        classes = {key.lower(): value for key, value in namespace.items()
                   if isinstance(value, type) and issubclass(value, Activation)}
        return classes[name.lower()]()

    typing_names = {name: getattr(typing, name) for name in ("Tuple", "Union", "Literal",
                                                              "Optional", "List", "Dict")}
    return {**typing_names, "OrderedDict": collections.OrderedDict, "Activation": Activation,
            "Layer": Layer, "Loss": Loss, "initialize_weights": initialize_weights,
            "initialize_activation": initialize_activation}


FRAMEWORK = tuple(framework({}))


def _unfinished(source: str) -> str:
    """The methods of an exercise left unfinished (a ``return ...``), by name."""
    tree = ast.parse(source)
    return ", ".join(
        f"{cls.name}.{fn.name}" for cls in tree.body if isinstance(cls, ast.ClassDef)
        for fn in cls.body if isinstance(fn, ast.FunctionDef)
        and any(isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
                and node.value.value is Ellipsis for node in ast.walk(fn)))


def _why_not(piece: Piece, namespace: dict[str, Any]) -> str:
    """Run ``piece`` in ``namespace`` (its printing silenced); the reason it was skipped,
    or ''."""
    definitions = (ast.ClassDef, ast.FunctionDef, ast.Import, ast.ImportFrom)
    if not any(isinstance(node, definitions) for node in ast.parse(piece.source).body):
        return "defines nothing (a worked example, not run)"
    imported = re.findall(r"^\s*(?:from|import)\s+(\w+)", piece.source, re.M)
    foreign = sorted(set(imported) & set(FOREIGN) | (
        {"torch"} if re.search(r"\bnn\.Module\b|\btorch\.", piece.source) else set()))
    if foreign:
        return f"imports {', '.join(foreign)} (not a NumPy layer, or data loading)"
    unfinished = _unfinished(piece.source)
    if unfinished:
        return f"an unfinished exercise: {unfinished} returns ..."
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(piece.source, f"<seed line {piece.line}>", "exec"), namespace)
    except NameError as error:
        return f"needs {error.name!r}, which the document does not define"
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"
    return ""


def load(path: str | Path) -> Seed:
    """The classes a seed document defines (see the module docstring)."""
    path = Path(path)
    seed = Seed(path)
    namespace: dict[str, Any] = {"np": np, "__name__": f"seed_{path.stem}"}
    namespace.update(framework(namespace))
    for piece in pieces(path.read_text(encoding="utf-8")):
        before = {key: value for key, value in namespace.items() if isinstance(value, type)}
        piece.skipped = _why_not(piece, namespace)
        seed.pieces.append(piece)
        for key, value in namespace.items():
            if (isinstance(value, type) and before.get(key) is not value
                    and key not in FRAMEWORK):
                seed.classes[key] = value
    return seed


if __name__ == "__main__":  # pragma: no cover - a look at what a document holds
    for name in sys.argv[1:]:
        found = load(name)
        print(f"{name}: classes {', '.join(found.classes) or '-'}")
        for skipped in found.skipped:
            first = skipped.source.strip().splitlines()[0][:60]
            print(f"  skipped line {skipped.line} ({first}): {skipped.skipped}")
