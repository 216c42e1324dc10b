"""``parity``: the command-line entry point.

``parity check`` runs every check of the harness (see ``parity check --list``) over the
registry's sample configs, dtypes and impl paths, prints one table per layer, writes the
same as Markdown and JSON, and exits 1 on any failure (2 on a usage error).
``parity bench`` times the benchmark suites and writes the report (a source checkout's
``benchmarks/``, found when the command runs).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

CHECK_HELP = "which checks to run (repeatable; default: all); see --list"


def parser() -> argparse.ArgumentParser:
    from parity_tests.checks import CHECK_NAMES

    root = argparse.ArgumentParser(prog="parity", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run every check of every registry pair")
    check.add_argument("--layer", action="append", metavar="NAME",
                       help="only this layer (repeatable); see --list")
    check.add_argument("--dtype", action="append", choices=("float32", "float64"))
    check.add_argument("--impl", action="append", metavar="IMPL", help="loop or vectorized")
    check.add_argument("--config", action="append", metavar="SAMPLE",
                       help="only this sample config or error input (repeatable), e.g. b256c10")
    check.add_argument("--check", dest="checks", action="append", choices=CHECK_NAMES,
                       help=CHECK_HELP)
    check.add_argument("--seed", type=int, default=0, help="base seed of every case (default 0)")
    check.add_argument("--out", type=Path, default=Path("reports/parity"),
                       help="folder for parity.md and parity.json (default reports/parity)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.add_argument("--list", action="store_true",
                       help="list the checks, layers and configs, then exit")
    commands.add_parser("bench", add_help=False,
                        help="time loop vs vectorized vs torch; Markdown + PNG report "
                             "(parity bench --help for its options)")
    return root


def list_registry() -> int:
    from parity_tests import registry
    from parity_tests.checks import CHECKS

    print("checks:")
    for check in CHECKS:
        print(f"  {check.name:<18} {check.title}")
    print("layers:")
    for entry in registry.REGISTRY:
        impls = [i for i in entry.impls if i]
        print(f"  {entry.name:<22} {entry.description}"
              + (f" (impl: {', '.join(impls)})" if impls else ""))
        print(f"  {'':<22} configs: {', '.join(s.name for s in entry.samples)}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from parity_tests.checks import plan
    from parity_tests.engine import RunCache
    from parity_tests.report import (
        ROW_HEADERS,
        environment,
        markdown_report,
        result_record,
        table_row,
    )

    width = max(170, shutil.get_terminal_size().columns)
    console = Console(stderr=False, highlight=False, width=width)
    try:
        jobs = plan(args.checks, args.layer, args.dtype, args.impl, args.config)
    except KeyError as error:
        console.print(f"[red]parity check: {error.args[0]}[/]")
        return 2
    if not jobs:
        console.print("[red]parity check: the filters select no case[/]")
        return 2
    records = []
    cache = RunCache()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                  disable=args.no_progress) as progress:
        task = progress.add_task("parity check", total=len(jobs))
        for job in jobs:
            progress.update(task, description=f"{job.check.name:<17} {job.case.id}")
            records.append(result_record(job.run(args.seed, cache)))
            progress.advance(task)
    env = environment(args.seed)
    for layer in dict.fromkeys(r["layer"] for r in records):
        layer_records = [r for r in records if r["layer"] == layer]
        ok = all(r["ok"] for r in layer_records)
        table = Table(title=f"{layer}  [{'green' if ok else 'red'}]{'pass' if ok else 'FAIL'}[/]",
                      title_justify="left")
        for header in ROW_HEADERS:
            table.add_column(header, no_wrap=True,
                             justify="right" if header.startswith("max") else "left")
        for record in layer_records:
            table.add_row(*(escape(cell) for cell in table_row(record)),
                          style=None if record["ok"] else "bold red")
        console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parity.md").write_text(markdown_report(env, records))
    (args.out / "parity.json").write_text(
        json.dumps({"environment": env, "results": records}, indent=1))
    failed = [r for r in records if not r["ok"]]
    for record in failed:
        for failure in record["failures"]:
            console.print(failure, markup=False)
    verdict = (f"[green]{len(records)} checks passed[/]" if not failed
               else f"[red]{len(failed)} of {len(records)} checks FAILED[/]")
    console.print(f"{verdict}; report written to {args.out / 'parity.md'} and "
                  f"{args.out / 'parity.json'}")
    return 1 if failed else 0


def bench_module() -> object:
    """``benchmarks.cli`` of the source checkout (the benchmarks are not installed)."""
    try:
        return importlib.import_module("benchmarks.cli")
    except ImportError:
        checkout = Path(__file__).resolve().parent.parent
        if not (checkout / "benchmarks" / "cli.py").is_file():
            raise
        sys.path.insert(0, str(checkout))
        return importlib.import_module("benchmarks.cli")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        try:
            bench = bench_module()
        except ImportError as error:
            print(f"parity bench: the benchmarks live in the project's source checkout "
                  f"(benchmarks/), which was not found ({error})", file=sys.stderr)
            return 2
        return bench.main(argv[1:])  # type: ignore[attr-defined]
    args = parser().parse_args(argv)
    if args.list:
        return list_registry()
    import torch

    torch.set_num_threads(1)
    return run_check(args)


if __name__ == "__main__":
    sys.exit(main())
