"""The side of ``parity bench``'s passes that runs in a process of its own (the bounds pass,
:mod:`benchmarks.bounds`, and the interleaved pass, :mod:`benchmarks.interleaved`): the
command line they share and how they end. ``benchmarks/cli.py`` (``run_module_pass``) is
the other side: it starts the module with ``--json FILE`` and stores what it wrote."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """``python -m benchmarks.<module>``'s parser: the module docstring's first paragraph
    as its description, and ``--json FILE``."""
    found = argparse.ArgumentParser(prog=f"python -m benchmarks.{module}",
                                    description=(doc or "").split("\n\n")[0])
    found.add_argument("--json", type=Path, metavar="FILE",
                       help="also write the records (parity bench stores them in its JSON)")
    return found


def finish(section: dict[str, Any], records: Iterable[dict[str, Any]],
           describe: Callable[[dict[str, Any]], str], json_path: Path | None) -> None:
    """One printed line per record, then the whole section written to ``json_path``."""
    for record in records:
        print(describe(record), flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps(section, indent=1))
