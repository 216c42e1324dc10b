"""``python -m parity_tests.op_table --write PATH`` / ``--check PATH`` (see the package doc)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from parity_tests import op_table
from parity_tests.op_table.render import DOC_COMMAND, doc_differences, render_markdown
from parity_tests.op_table.runner import run_all


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``--write PATH`` runs every case and writes the page; ``--check PATH`` exits 1
    when the page differs from what would be generated (or a case fails)."""
    parser = argparse.ArgumentParser(prog="python -m parity_tests.op_table",
                                     description=op_table.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, metavar="PATH", help="run the cases, write PATH")
    group.add_argument("--check", type=Path, metavar="PATH", help="exit 1 if PATH is stale")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    failures = run_all(op_table.REGISTRY)
    if failures:
        print(f"{len(failures)} op-table case(s) failed:", file=sys.stderr)
        print("\n".join(failures), file=sys.stderr)
        return 1
    rendered = render_markdown(op_table.REGISTRY)
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(rendered, encoding="utf-8")
        print(f"wrote {args.write}")
        return 0
    diff = doc_differences(args.check, rendered)
    if diff:
        print("\n".join(diff))
        print(f"{args.check} is stale: regenerate with `{DOC_COMMAND}`", file=sys.stderr)
        return 1
    print(f"{args.check} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
