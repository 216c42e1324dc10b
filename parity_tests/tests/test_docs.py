"""The README states facts the code owns; these tests keep the two from drifting apart."""

from __future__ import annotations

from pathlib import Path

from parity_tests.registry import REGISTRY
from parity_tests.tolerances import markdown_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_prints_the_tolerance_table_of_the_code():
    overrides = {entry.name: dict(entry.tolerances) for entry in REGISTRY if entry.tolerances}
    table = markdown_table(overrides)
    assert table in README, f"README's tolerance table is stale; it should read:\n{table}"


def test_readme_names_every_registry_layer():
    missing = [entry.name for entry in REGISTRY if f"`{entry.name}`" not in README]
    assert not missing, f"README does not mention {missing}"


def test_readme_two_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make check" in README and "make test" in README
    assert "make test" in ci and "make check" in ci


def test_readme_lists_every_check_by_its_name():
    from parity_tests.checks import CHECK_NAMES

    missing = [name for name in CHECK_NAMES if f"| `{name}` |" not in README]
    assert not missing, f"README's check table does not list {missing}"
