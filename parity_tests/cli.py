"""parity: the command-line entry point.

  parity check   run every check of the harness on the registry (see parity check --list)
  parity bench   time the benchmark suites and write the report (a source checkout)

Exit status of parity check: 0 every check passed (skips allowed), 1 a check failed,
3 a check raised (ERROR) and none failed, 2 a usage error (nothing ran), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity_tests.check_names import CHECK_NAMES, CHECK_TITLES
from parity_tests.seeding import seed_range

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEFAULT_OUT = Path("reports/parity")


class UsageError(Exception):
    """A bad option: reported before any case runs, exit status 2."""


# --------------------------------------------------------------------------- options
def _seed(text: str) -> int:
    if not text.strip().isdecimal():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``: every ``count``-th case of the plan."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _seed_range(text: str) -> range:
    try:
        return seed_range(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    if not text.strip().isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def _shard(text: str) -> Shard:
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdecimal() for p in parts):
        raise argparse.ArgumentTypeError(f"expected K/N such as 1/4, got {text!r}")
    index, count = int(parts[0]), int(parts[1])
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"K must lie in 1..N, got {text!r}")
    return Shard(index, count)


EPILOG = """\
exit status: 0 all passed (skips allowed), 1 a check failed, 3 a check raised (ERROR) and
none failed, 2 a usage error (nothing ran), 130 interrupted.

checks: """ + ", ".join(CHECK_NAMES)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="parity", description="NumPy layers checked against stock PyTorch.",
        epilog="parity check --help and parity bench --help give each command's options.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check", help="run every check of the harness on the registry",
        description="Run the harness's checks over the registry's sample configs, dtypes "
                    "and impl paths; print a summary, write parity.md, parity.json (and "
                    "JUnit XML / a CI job summary on request).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    outside = check.add_argument_group(
        "outside targets", "check your own NumPy layers instead of the registry's (see the "
        "README's 'Check your own layers')")
    outside.add_argument("--target", action="append", metavar="MODULE:ATTR",
                         help="a class following the layer contract (repeatable; with --as)")
    outside.add_argument("--as", dest="as_entries", action="append", metavar="ENTRY",
                         help="the registry entry whose samples and torch reference apply to "
                              "the --target (one per --target, or one for all)")
    outside.add_argument("--plugin", action="append", metavar="FILE.py",
                         help="a file defining TARGETS (adapted classes) and/or ENTRIES")
    check.add_argument("--layer", action="append", metavar="NAME",
                       help="only this layer (repeatable); see --list")
    check.add_argument("--dtype", action="append", choices=("float32", "float64"))
    check.add_argument("--impl", action="append", metavar="IMPL",
                       help="only this impl path (repeatable): loop or vectorized")
    check.add_argument("--config", action="append", metavar="NAME",
                       help="only this sample config or error input (repeatable)")
    check.add_argument("--check", dest="checks", action="append", metavar="CHECK",
                       choices=CHECK_NAMES, help="only this check (repeatable): "
                       + ", ".join(CHECK_NAMES))
    seeds = check.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_seed, default=0,
                       help="base seed of every case (default 0)")
    seeds.add_argument("--seeds", type=_seed_range, metavar="A-B",
                       help="a seed sweep: run every check at each seed A..B and report per "
                            "check the worst headroom and the failing seeds")
    check.add_argument("--jobs", type=_positive, default=1, metavar="N",
                       help="with --seeds: run N seeds at a time in worker processes")
    check.add_argument("--shard", type=_shard, metavar="K/N",
                       help="run the K-th of N deterministic slices of the cases (CI matrix)")
    check.add_argument("--out", type=Path, default=DEFAULT_OUT,
                       help="folder for parity.md and parity.json (default reports/parity)")
    check.add_argument("--junit", type=Path, metavar="FILE",
                       help="also write JUnit XML (one testcase per check x case)")
    check.add_argument("--step-summary", type=Path, metavar="FILE",
                       help="append the Markdown summary to FILE (default: "
                            "$GITHUB_STEP_SUMMARY when set)")
    check.add_argument("--verbose", action="store_true",
                       help="also print the full table of every check")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.add_argument("--list", action="store_true",
                       help="list the checks, layers and their configs, then exit")
    commands.add_parser("bench", add_help=False,
                        help="time loop vs vectorized vs torch; Markdown + PNG report")
    return root


def _output_file(option: str, path: Path | None) -> None:
    if path is not None and path.is_dir():
        raise UsageError(f"{option} {path}: is a directory, expected a file path")
    if path is not None and path.parent.exists() and not path.parent.is_dir():
        raise UsageError(f"{option} {path}: {path.parent} is not a directory")


def validate_paths(args: argparse.Namespace) -> None:
    """Refuse output paths that cannot be written, before anything runs."""
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file, expected a folder for parity.md and "
                         f"parity.json")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {args.out}: cannot create the folder ({error})") from None
    if not os.access(args.out, os.W_OK):
        raise UsageError(f"--out {args.out}: the folder is not writable")
    _output_file("--junit", args.junit)
    _output_file("--step-summary", args.step_summary)


def load_entries(args: argparse.Namespace) -> list | None:
    """The outside targets' entries (``--target``/``--as``, ``--plugin``), or None for the
    registry."""
    if not (args.target or args.plugin or args.as_entries):
        return None
    from parity_tests.targets import TargetError, load_targets

    try:
        return load_targets(args.target or (), args.as_entries or (), args.plugin or ())
    except TargetError as error:
        raise UsageError(str(error)) from None


def validate_selection(args: argparse.Namespace, pool: list | None) -> None:
    """Each filter must name something that exists, with the valid values in the message."""
    from parity_tests import registry

    for option in ("layer", "dtype", "impl", "config", "checks"):
        values = getattr(args, option)
        if values is not None:
            setattr(args, option, list(dict.fromkeys(values)))  # repeated values count once
    entries = registry.REGISTRY if pool is None else tuple(pool)
    by_name = {entry.name: entry for entry in entries}
    if args.layer:
        unknown = [name for name in args.layer if name not in by_name]
        if unknown:
            what = "a registry layer" if pool is None else "one of the loaded targets"
            raise UsageError(f"--layer {', '.join(unknown)}: not {what}; known: "
                             f"{', '.join(by_name)}")
    chosen = registry.select_entries(args.layer, entries)
    if args.impl:
        known = sorted({impl for entry in entries for impl in entry.impls if impl})
        unknown = [impl for impl in args.impl if impl not in known]
        if unknown:
            raise UsageError(f"--impl {', '.join(unknown)}: unknown impl path; valid: "
                             f"{', '.join(known)}")
        single = [entry.name for entry in chosen if entry.impls == (None,)]
        if args.layer and single:
            two_path = [e.name for e in entries if e.impls != (None,)]
            raise UsageError(f"--impl: {', '.join(single)} has no impl paths (one "
                             f"implementation); layers with loop/vectorized paths: "
                             f"{', '.join(two_path)}")
    if args.config:
        names = {s.name for e in chosen for s in e.samples} | {
            err.name for e in chosen for err in e.errors}
        unknown = [config for config in args.config if config not in names]
        if unknown:
            where = ", ".join(e.name for e in chosen) if args.layer else "any layer"
            raise UsageError(f"--config {', '.join(unknown)}: no sample config or error "
                             f"input of that name in {where}; see parity check --list")


def shard_jobs(jobs: list, shard: Shard | None) -> list:
    """The jobs of every ``count``-th case (all checks of a case stay in one shard)."""
    if shard is None:
        return jobs
    cases = list(dict.fromkeys(job.case.id for job in jobs))
    mine = {case for k, case in enumerate(cases) if k % shard.count == shard.index - 1}
    return [job for job in jobs if job.case.id in mine]


# --------------------------------------------------------------------------- commands
def list_registry(pool: list | None = None) -> int:
    from parity_tests import registry

    lines = ["checks:"]
    lines += [f"  {name:<18} {title}" for name, title in CHECK_TITLES.items()]
    lines.append("layers:" if pool is None else "targets:")
    for entry in registry.REGISTRY if pool is None else pool:
        impls = [i for i in entry.impls if i]
        lines.append(f"  {entry.name:<22} {entry.description}"
                     + (f" (impl: {', '.join(impls)})" if impls else ""))
        lines.append(f"  {'':<22} configs: {', '.join(s.name for s in entry.samples)}")
        lines.append(f"  {'':<22} error inputs: {', '.join(e.name for e in entry.errors)}")
    print("\n".join(lines))
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    validate_paths(args)
    pool = load_entries(args)
    validate_selection(args, pool)
    from parity_tests.checks import plan

    jobs = shard_jobs(plan(args.checks, args.layer, args.dtype, args.impl, args.config, pool),
                      args.shard)
    if not jobs:
        raise UsageError("the filters select no check: the chosen checks do not apply to the "
                         "chosen cases (e.g. finite-diff runs in float64 only, "
                         "impl-agreement on layers with two paths)")
    import torch

    from parity_tests import report
    from parity_tests.engine import RunCache

    torch.set_num_threads(1)
    if args.seeds is not None:
        return run_sweep(args, jobs)
    records = []
    cache = RunCache()
    started = time.perf_counter()
    progress = _progress(args, len(jobs))
    for job in jobs:
        progress(job.id)
        job_started = time.perf_counter()
        result = job.run(args.seed, cache)
        records.append(report.result_record(result, time.perf_counter() - job_started))
    progress(None)
    env = report.environment(args.seed, str(args.shard) if args.shard else None)
    info = report.summary(records, time.perf_counter() - started)
    try:
        paths = write_reports(args, env, info, records)
    except OSError as error:
        _console(args, info, records, [])
        print(f"parity check: could not write the reports ({error}); the previous reports "
              f"are untouched", file=sys.stderr)
        return EXIT_FAIL if info["exit_code"] == EXIT_FAIL else EXIT_ERROR
    _console(args, info, records, paths)
    return info["exit_code"]


#: The jobs of the running sweep (worker processes are forked and inherit them).
_SWEEP_JOBS: list = []


def _seed_records(seed: int) -> tuple[int, list[dict[str, Any]]]:
    """One seed of a sweep: every job at that seed, with one run cache."""
    from parity_tests import report
    from parity_tests.engine import RunCache

    cache = RunCache()
    return seed, [report.result_record(job.run(seed, cache)) for job in _SWEEP_JOBS]


def run_sweep(args: argparse.Namespace, jobs: list) -> int:
    import json
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from parity_tests import report

    seeds = list(args.seeds)
    _SWEEP_JOBS[:] = jobs
    started = time.perf_counter()
    runs: dict[int, list[dict[str, Any]]] = {}
    progress = _progress(args, len(seeds))
    if args.jobs == 1:
        for seed in seeds:
            progress(f"seed {seed}")
            runs[seed] = _seed_records(seed)[1]
    else:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("fork")) as pool:
            for seed, records in pool.map(_seed_records, seeds):
                progress(f"seed {seed}")
                runs[seed] = records
    progress(None)
    env = report.environment(seeds[0], str(args.shard) if args.shard else None)
    info = report.sweep_summary(seeds, runs, time.perf_counter() - started)
    files = {args.out / "sweep.json": json.dumps({"sweep": info, "environment": env},
                                                 indent=1) + "\n",
             args.out / "sweep.md": report.sweep_markdown(env, info)}
    report.atomic_write(files)
    for line in report.sweep_lines(info):
        print(line)
    print(f"reports: {', '.join(map(str, files))}")
    return info["exit_code"]


def write_reports(args: argparse.Namespace, env: dict[str, Any], info: dict[str, Any],
                  records: list[dict[str, Any]]) -> list[Path]:
    """parity.json, parity.md and the JUnit XML, all replaced together or not at all; then
    the job summary appended. Returns the paths written."""
    import json

    from parity_tests import report

    files = {args.out / "parity.json": json.dumps(report.json_report(env, info, records),
                                                  indent=1) + "\n",
             args.out / "parity.md": report.markdown_report(env, info, records)}
    if args.junit is not None:
        files[args.junit] = report.junit_xml(env, info, records)
    report.atomic_write(files)
    written = list(files)
    step_summary = args.step_summary or (
        Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY")
        else None)
    if step_summary is not None:
        report.append_text(step_summary, report.step_summary(env, info, records))
        written.append(step_summary)
    return written


def _console(args: argparse.Namespace, info: dict[str, Any], records: list[dict[str, Any]],
             paths: list[Path]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from parity_tests import report

    console = Console(highlight=False, width=report.WIDTH, soft_wrap=True)
    if args.verbose:
        for line in report.detail_tables(records):
            console.print(escape(line))
        console.print()
    colours = {0: "green", 1: "red", 3: "red"}
    for line in report.console_lines(info, records, [str(path) for path in paths]):
        if line.startswith(("PASS:", "FAIL:", "ERROR:")):
            console.print(f"[bold {colours[info['exit_code']]}]{escape(line)}[/]")
        else:
            console.print(escape(line))


def _progress(args: argparse.Namespace, total: int) -> Any:
    """A progress line on stderr (a terminal only); call with a job id, then with None."""
    if args.no_progress or not sys.stderr.isatty():
        return lambda job_id: None
    done = [0]

    def show(job_id: str | None) -> None:
        if job_id is None:
            sys.stderr.write("\r" + " " * 99 + "\r")
            return
        done[0] += 1
        sys.stderr.write(f"\r{done[0]:>5}/{total} {job_id[:85]:<85}")
        sys.stderr.flush()

    return show


def bench_module() -> Any:
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
    try:
        if argv[:1] == ["bench"]:
            try:
                bench = bench_module()
            except ImportError as error:
                print(f"parity bench: the benchmarks live in the project's source checkout "
                      f"(benchmarks/), which was not found ({error})", file=sys.stderr)
                return EXIT_USAGE
            return bench.main(argv[1:])
        try:
            args = parser().parse_args(argv)
        except SystemExit as exit_:  # --help (0) or an argparse usage error (2)
            return int(exit_.code or 0)
        if args.list:
            return list_registry(load_entries(args))
        return run_check(args)
    except UsageError as error:
        print(f"parity check: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nparity: interrupted; no report was written (any earlier report is intact)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (parity check --list | head): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
