"""No blind spots: every size at which a layer changes code path is crossed by the registry.

Each threshold is declared with :func:`numpy_impl.thresholds.size_threshold`; for each one a
registry sample of its entries must sit below it and one at or above it (two blocks at least
for a block size). A scan of numpy_impl's source refuses integer constants that are not
declared, so a new threshold cannot slip in unnoticed.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import numpy_impl
from numpy_impl.thresholds import THRESHOLDS, size_threshold
from parity_tests.registry import BY_NAME

for module in pkgutil.iter_modules(numpy_impl.__path__):
    importlib.import_module(f"numpy_impl.{module.name}")  # every declaration runs

#: Integer constants that are not size thresholds, with the reason.
NOT_THRESHOLDS: dict[str, str] = {
    "buffering.DEFAULT_BUFFER": "NumPy's default ufunc buffer: a speed setting, not a path",
    "buffering.LONG_RUN": "picks a ufunc buffer size: the same code and results either side",
    "buffering.WIDE_IMAGE_RUN": "the wide views' longest run: every shape takes the same code",
    "pooling.STAGE_BUFFER": "the stages' ufunc buffer: the same code runs at any value",
}


def sizes(threshold: object) -> list[int]:
    measured = []
    for name in threshold.entries:
        assert name in BY_NAME, f"{threshold.name}: no registry entry {name!r}"
        for sample in BY_NAME[name].samples:
            try:
                measured.append(int(threshold.measure(dict(sample.kwargs), sample.shape)))
            except (KeyError, TypeError, ValueError, IndexError):
                continue  # the measure does not apply to this sample's config
    return measured


@pytest.mark.parametrize("threshold", THRESHOLDS, ids=lambda t: t.name)
def test_registry_samples_cross_each_threshold(threshold):
    measured = sizes(threshold)
    needed = 2 * threshold.value if threshold.blocks else threshold.value
    assert any(size >= needed for size in measured), (
        f"{threshold.name} = {threshold.value} ({threshold.doc}): no sample of "
        f"{threshold.entries} reaches {needed}; largest {max(measured, default=None)}")
    assert any(size < threshold.value for size in measured), (
        f"{threshold.name}: no sample of {threshold.entries} stays below {threshold.value}")


OPERATORS = {ast.LShift: lambda a, b: a << b, ast.Mult: lambda a, b: a * b,
             ast.Add: lambda a, b: a + b, ast.Pow: lambda a, b: a**b}


def _integer(node: ast.AST) -> int | None:
    """The value of an integer literal or of a literal expression such as ``1 << 16``."""
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _integer(node.left), _integer(node.right)
        if left is not None and right is not None:
            return OPERATORS[type(node.op)](left, right)
    return None


def _integer_constants(path: Path) -> list[tuple[str, int]]:
    """UPPER_CASE names assigned a plain integer expression, at module or class level."""
    tree = ast.parse(path.read_text())
    found = []
    bodies = [tree.body] + [node.body for node in tree.body if isinstance(node, ast.ClassDef)]
    for body in bodies:
        for node in body:
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            value = getattr(node, "value", None)
            for target in targets:
                if not (isinstance(target, ast.Name) and target.id.isupper() and value):
                    continue
                constant = _integer(value)
                if constant is not None and constant > 1:
                    found.append((f"{path.stem}.{target.id}", constant))
    return found


def test_every_integer_constant_in_the_layers_is_a_declared_threshold():
    undeclared = [
        f"{name} = {value}"
        for path in sorted(Path(numpy_impl.__file__).parent.glob("*.py"))
        for name, value in _integer_constants(path)
        if name not in NOT_THRESHOLDS
    ]
    assert not undeclared, (
        f"integer constants in numpy_impl that are not declared with size_threshold (a size "
        f"threshold is a code path a registry sample must cross): {undeclared}")


def test_each_threshold_is_named_once_says_what_it_is_and_whether_it_blocks():
    names = [t.name for t in THRESHOLDS]
    assert all(isinstance(name, str) and name for name in names)
    assert len(set(names)) == len(names)
    assert all(isinstance(t.blocks, bool) for t in THRESHOLDS)
    assert all(isinstance(t.doc, str) and t.doc for t in THRESHOLDS)
    assert any(t.blocks for t in THRESHOLDS) and not all(t.blocks for t in THRESHOLDS)
    first = THRESHOLDS[0]
    count = len(THRESHOLDS)
    with pytest.raises(ValueError, match=rf"^size_threshold: '{re.escape(first.name)}' is "
                                         r"declared twice$"):
        size_threshold(first.name, first.value, first.entries, first.measure, first.blocks,
                       first.doc)
    assert len(THRESHOLDS) == count
