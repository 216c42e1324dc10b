"""``parity``: the command-line entry point.

``parity bench`` times the benchmark suites and writes the report (see ``benchmarks/``).
``parity check`` runs every registry pair over its sample configs, dtypes and impl paths —
against torch, against float64 finite differences, and loop path against vectorized path —
prints one table per layer, writes the same as Markdown and JSON, and exits 1 on any
mismatch (2 on a usage error).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks import cli as bench_cli
from parity_tests import registry
from parity_tests.harness import (
    CaseResult,
    Comparison,
    finite_difference_case,
    impl_agreement_case,
    run_case,
)

#: torch: NumPy vs the torch reference; finite-difference: NumPy backward vs central
#: differences in float64; impl-agreement: loop path vs vectorized path.
CHECKS = ("torch", "finite-difference", "impl-agreement")


@dataclass
class Job:
    check: str
    case: registry.Case

    def run(self, seed: int) -> CaseResult:
        entry, sample, dtype, impl = self.case
        if self.check == "torch":
            return run_case(entry, sample, dtype, impl, seed)
        if self.check == "finite-difference":
            return finite_difference_case(entry, sample, impl, seed)
        first, second = entry.impls[:2]
        return impl_agreement_case(entry, sample, dtype, (first, second), seed)


def plan(args: argparse.Namespace) -> list[Job]:
    """Every job the filters select, in registry order."""
    jobs = []
    for case in registry.cases(args.layer, args.dtype, args.impl, args.config):
        if "torch" in args.checks:
            jobs.append(Job("torch", case))
        if ("finite-difference" in args.checks and case.dtype == np.float64
                and case.sample.gradcheck):
            jobs.append(Job("finite-difference", case))
        if ("impl-agreement" in args.checks and len(case.entry.impls) > 1
                and case.impl == case.entry.impls[0]):
            jobs.append(Job("impl-agreement", case))
    return jobs


def worst(result: CaseResult) -> Comparison:
    """The failing comparison if any, else the one with the least headroom."""
    failing = [c for c in result.comparisons if not c.ok]
    return failing[0] if failing else max(result.comparisons, key=lambda c: c.headroom)


def comparison_record(comparison: Comparison) -> dict[str, Any]:
    return {
        "tensor": comparison.tensor,
        "ok": comparison.ok,
        "max_abs": comparison.max_abs,
        "max_rel": comparison.max_rel,
        "rtol": comparison.tolerance.rtol,
        "atol": comparison.tolerance.atol,
        "headroom": comparison.headroom,
        "index": list(comparison.index) if comparison.index is not None else None,
        "reference_scale": comparison.reference_scale,
        "problem": comparison.problem,
    }


def result_record(check: str, result: CaseResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "check": check,
        "layer": result.entry.name,
        "config": result.sample.name,
        "dtype": np.dtype(result.dtype).name,
        "impl": result.impl,
        "ok": result.ok,
        "headroom": result.headroom,
        "tensors": [comparison_record(c) for c in result.comparisons],
        "failures": [result.message(c) for c in result.comparisons if not c.ok],
    }


def environment(seed: int) -> dict[str, Any]:
    return {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads(),
    }


def _fmt(value: float) -> str:
    return f"{value:.2e}" if np.isfinite(value) else str(value)


ROW_HEADERS = ("config", "dtype", "impl", "check", "worst tensor", "max abs", "max rel",
               "rtol / atol", "headroom", "result")


def table_rows(records: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows = []
    for record in records:
        tensor = next((t for t in record["tensors"] if not t["ok"]),
                      max(record["tensors"], key=lambda t: t["headroom"]))
        rows.append((
            record["config"], record["dtype"], record["impl"] or "-", record["check"],
            tensor["tensor"], _fmt(tensor["max_abs"]), _fmt(tensor["max_rel"]),
            f"{tensor['rtol']:.1e} / {tensor['atol']:.1e}",
            f"{tensor['headroom']:.3g}", "pass" if record["ok"] else "FAIL",
        ))
    return rows


def markdown_report(env: dict[str, Any], records: list[dict[str, Any]]) -> str:
    passed = sum(r["ok"] for r in records)
    lines = [
        "# Parity report",
        "",
        f"{passed}/{len(records)} checks passed. Generated {env['generated']} with numpy "
        f"{env['numpy']}, torch {env['torch']}, Python {env['python']} on {env['platform']}, "
        f"{env['torch_threads']} torch thread(s), seed {env['seed']}.",
        "",
        "Headroom = worst error / allowed error (allowed = atol + rtol·|expected|); "
        "it must be ≤ 1.",
    ]
    for layer in dict.fromkeys(r["layer"] for r in records):
        lines += ["", f"## {layer}", "", "| " + " | ".join(ROW_HEADERS) + " |",
                  "|" + "---|" * len(ROW_HEADERS)]
        layer_records = [r for r in records if r["layer"] == layer]
        lines += ["| " + " | ".join(row) + " |" for row in table_rows(layer_records)]
    failures = [f for r in records for f in r["failures"]]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"```\n{failure}\n```" for failure in failures]
    return "\n".join(lines) + "\n"


def print_tables(console: Console, records: list[dict[str, Any]]) -> None:
    for layer in dict.fromkeys(r["layer"] for r in records):
        layer_records = [r for r in records if r["layer"] == layer]
        ok = all(r["ok"] for r in layer_records)
        table = Table(title=f"{layer}  [{'green' if ok else 'red'}]"
                            f"{'pass' if ok else 'FAIL'}[/]", title_justify="left")
        for header in ROW_HEADERS:
            table.add_column(header, no_wrap=True,
                             justify="right" if header.startswith("max") else "left")
        for row in table_rows(layer_records):
            style = None if row[-1] == "pass" else "bold red"
            table.add_row(*(escape(cell) for cell in row), style=style)
        console.print(table)


def run_check(args: argparse.Namespace) -> int:
    # rich assumes 80 columns when not on a terminal (CI logs); the table needs more.
    width = max(170, shutil.get_terminal_size().columns)
    console = Console(stderr=False, highlight=False, width=width)
    try:
        jobs = plan(args)
    except KeyError as error:
        console.print(f"[red]parity check: {error.args[0]}[/]")
        return 2
    if not jobs:
        console.print("[red]parity check: the filters select no case[/]")
        return 2
    records = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                  disable=args.no_progress) as progress:
        task = progress.add_task("parity check", total=len(jobs))
        for job in jobs:
            progress.update(task, description=f"{job.check:<17} {job.case.id}")
            records.append(result_record(job.check, job.run(args.seed)))
            progress.advance(task)
    env = environment(args.seed)
    print_tables(console, records)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parity.md").write_text(markdown_report(env, records))
    (args.out / "parity.json").write_text(
        json.dumps({"environment": env, "results": records}, indent=1)
    )
    failed = [r for r in records if not r["ok"]]
    for record in failed:
        for failure in record["failures"]:
            console.print(failure, markup=False)
    verdict = (f"[green]{len(records)} checks passed[/]" if not failed
               else f"[red]{len(failed)} of {len(records)} checks FAILED[/]")
    console.print(f"{verdict}; report written to {args.out / 'parity.md'} and "
                  f"{args.out / 'parity.json'}")
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="parity", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run every registry pair against torch")
    check.add_argument("--layer", action="append", metavar="NAME",
                       help="only this layer (repeatable); see --list")
    check.add_argument("--dtype", action="append", choices=("float32", "float64"))
    check.add_argument("--impl", action="append", metavar="IMPL", help="loop or vectorized")
    check.add_argument("--config", action="append", metavar="SAMPLE",
                       help="only this sample config (repeatable), e.g. b256c10")
    check.add_argument("--check", dest="checks", action="append", choices=CHECKS,
                       help="which checks to run (default: all)")
    check.add_argument("--seed", type=int, default=0, help="base seed of every case (default 0)")
    check.add_argument("--out", type=Path, default=Path("reports/parity"),
                       help="folder for parity.md and parity.json (default reports/parity)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.add_argument("--list", action="store_true", help="list layers and configs, then exit")
    bench = commands.add_parser(
        "bench", help="time loop vs vectorized vs torch; Markdown + PNG report",
        description="Run the pytest-benchmark suites in a subprocess with pinned threads and "
                    "write report.md, report.png and the JSON to --out.")
    bench_cli.add_arguments(bench)
    return root


def list_registry() -> int:
    for entry in registry.REGISTRY:
        impls = f" impl: {', '.join(i for i in entry.impls if i)}" if entry.impls != (None,) else ""
        print(f"{entry.name:<24} {entry.description}{impls}")
        print(f"{'':<24} configs: {', '.join(s.name for s in entry.samples)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    torch.set_num_threads(1)
    args = parser().parse_args(argv)
    if args.command == "bench":
        return bench_cli.run(args)
    if args.command == "check":
        if args.list:
            return list_registry()
        args.checks = args.checks or list(CHECKS)
        return run_check(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
