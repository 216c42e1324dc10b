"""``parity bench``: run the benchmark suites and write the report.

Runs ``python -m pytest benchmarks/test_bench_*.py --benchmark-enable --benchmark-json=...``
in a SUBPROCESS whose environment pins the BLAS/OpenMP thread count before anything imports
NumPy (this process may already have NumPy and torch loaded with their own pools), streams
pytest's progress, keeps the JSON, then measures peak memory in a pass of its own
(:mod:`benchmarks.memory`, one fresh process per variant), what bounds the goals in
another (:mod:`benchmarks.bounds`, one process) and each time target with our call and
torch's alternated in a third (:mod:`benchmarks.interleaved`), stores them in the JSON and
writes ``report.md`` and ``report.png`` beside it (the bounds and interleaved passes
ignore ``-k``: they always measure every target).

The output goes to ``reports/bench/`` (untracked: ``.gitignore`` ignores ``/reports/``);
committing a report is explicit: ``--out benchmarks/results``.

    parity bench                                # everything, 1 thread, reports/bench/
    parity bench --threads 2 -k "conv or pool"  # a subset (the GEMM peak is always kept)
    parity bench -k gemm --no-memory            # the GEMM peak and the bounds alone
    parity bench --from-json old/benchmarks.json --out /tmp/r   # re-render, no run
    parity bench --compare baseline.json --threshold 0.2        # gate on ratio regressions
    parity bench --out benchmarks/results       # the committed report
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.threads import DEFAULT_THREADS, parse_threads, thread_environment

if TYPE_CHECKING:
    from benchmarks.report import Comparison

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
#: Untracked (``/reports/`` is in .gitignore): a run never dirties the checkout.
DEFAULT_OUT = ROOT / "reports" / "bench"
#: Where the committed report lives (``--out benchmarks/results`` writes it there).
COMMITTED_OUT = BENCH_DIR / "results"
JSON_NAME = "benchmarks.json"
LOG_NAME = "pytest.log"
SUITE_GLOB = "test_bench_*.py"

EPILOG = """\
exit status:
  0  the run finished: every variant passed its check against torch before it was timed
     (a peer variant may be skipped when the library is missing or lacks the op) and,
     with --compare, no ratio got worse than --threshold
  1  a benchmark failed (a check against torch, or an error) or pytest wrote no JSON;
     a memory measurement or the bounds pass failed; --compare found a ratio
     regression; or --compare matched no benchmark of this run against the baseline
  2  usage error: a bad option, a missing --from-json file, or a --compare baseline that
     is missing, unreadable, empty, corrupt or has no ratio to compare (checked before
     any benchmark runs)

--compare gates on ratios measured within one run (vectorized / torch, vectorized /
torch channels_last, loop -> vectorized speedup per group), never on absolute times, and
warns when the baseline comes from another CPU model, BLAS library or kernel, thread
count, torch or NumPy version.
"""


def _threads(text: str) -> int:
    try:
        return parse_threads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    if not text.strip().isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.2, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``bench`` options (for wiring into ``parity``'s sub-commands)."""
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"directory for {JSON_NAME}, report.md, report.png and "
                             f"{LOG_NAME} (default: reports/bench/, untracked; "
                             f"--out benchmarks/results writes the committed report)")
    parser.add_argument("--threads", type=_threads, default=DEFAULT_THREADS,
                        help="BLAS/OpenMP/torch threads, set before NumPy is imported "
                             "(default 1; written into the report)")
    parser.add_argument("-k", dest="keyword", metavar="EXPR",
                        help="pytest -k expression selecting benchmarks, e.g. 'conv and "
                             "float32' (the float32 GEMM peak is always run)")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="re-render the report from an existing pytest-benchmark JSON "
                             "without running anything")
    parser.add_argument("--compare", type=Path, metavar="BASELINE.json",
                        help="compare the ratios of this run (vectorized / torch, loop -> "
                             "vectorized speedup, per group) with those of a baseline JSON; "
                             "exit 1 if one got worse by more than --threshold or nothing "
                             "matched")
    parser.add_argument("--threshold", type=_fraction, default=0.2,
                        help="regression threshold for --compare, a fraction of the ratio "
                             "(default 0.2 = a ratio 20%% worse)")
    parser.add_argument("--max-time", type=_fraction, default=1.0, metavar="SECONDS",
                        help="pytest-benchmark --benchmark-max-time per benchmark "
                             "(default 1.0; the whole run then takes about 3 minutes)")
    parser.add_argument("--min-rounds", type=_positive_int, default=7, metavar="N",
                        help="pytest-benchmark --benchmark-min-rounds (default 7)")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak-memory pass (one fresh process per variant)")
    parser.add_argument("--no-bounds", action="store_true",
                        help="skip the bounds pass (the least work behind each goal timed "
                             "against torch, benchmarks/bounds.py; ~10 s)")
    parser.add_argument("--no-interleaved", action="store_true",
                        help="skip the interleaved pass (each time target's two variants "
                             "alternated call by call, benchmarks/interleaved.py; ~30 s)")
    return parser


def parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(
        prog="parity bench",
        description="Time loop, vectorized, torch and peer variants of every layer (each "
                    "checked against torch first), measure their peak memory and write a "
                    "Markdown + PNG report.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    ))


def suite_files() -> list[str]:
    """The benchmark suites (not the tooling's own tests)."""
    return [str(path) for path in sorted(BENCH_DIR.glob(SUITE_GLOB))]


def pytest_command(args: argparse.Namespace, json_path: Path) -> list[str]:
    """The pytest invocation of the timing subprocess."""
    command = [
        sys.executable, "-m", "pytest", *suite_files(),
        "--benchmark-enable", f"--benchmark-json={json_path}",
        f"--benchmark-max-time={args.max_time}", f"--benchmark-min-rounds={args.min_rounds}",
        "--benchmark-columns=median,iqr,rounds", "--benchmark-sort=name",
        "-p", "no:randomly", "-p", "no:cacheprovider", "-v",
    ]
    if args.keyword:
        command += ["-k", f"({args.keyword}) or gemm_peak"]
    return command


def memory_plan_command(args: argparse.Namespace, plan_path: Path) -> list[str]:
    """pytest collecting (not running) what the memory pass measures: the same -k
    selection, memory-only cases included (``benchmarks/conftest.py``)."""
    command = [sys.executable, "-m", "pytest", *suite_files(), "--collect-only", "-q",
               f"--parity-memory-plan={plan_path}", "-p", "no:randomly",
               "-p", "no:cacheprovider"]
    if args.keyword:
        command += ["-k", args.keyword]
    return command


def bench_environment(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(thread_environment(threads))
    return env


def run_benchmarks(args: argparse.Namespace, json_path: Path, log_path: Path) -> int:
    """Run pytest in a subprocess with the thread variables set; stream its output to the
    console and to ``log_path``; return its exit code."""
    env = bench_environment(args.threads)
    command = pytest_command(args, json_path)
    print(f"parity bench: {args.threads} thread(s); running\n  {' '.join(command)}",
          flush=True)
    with log_path.open("w") as log, subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
        return process.wait()


def run_memory(args: argparse.Namespace, log_path: Path) -> tuple[dict | None, list[str]]:
    """The memory pass: collect the plan with pytest, then one fresh process per variant.
    Returns the JSON's ``parity_memory`` section (None when nothing was selected) and the
    problems to report."""
    from benchmarks import memory

    env = bench_environment(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        plan_path = Path(scratch) / "plan.json"
        done = subprocess.run(memory_plan_command(args, plan_path), cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        with log_path.open("a") as log:
            log.write("\n# memory pass: collecting the plan\n" + done.stdout + done.stderr)
        if done.returncode not in (0, 5) or not plan_path.exists():  # 5: nothing selected
            return None, [f"the memory pass could not collect its cases (pytest exit "
                          f"{done.returncode}); see `{LOG_NAME}`."]
        plan = json.loads(plan_path.read_text())
    if not plan:
        return None, []
    print(f"parity bench: memory pass, {len(plan)} measurement(s), one fresh process each",
          flush=True)
    with log_path.open("a") as log:
        def say(line: str) -> None:
            print(line, flush=True)
            log.write(line + "\n")

        section = memory.run_pass(plan, env, ROOT, log=say)
    failed = [r for r in section["records"] + section["crosscheck"] if r.get("error")]
    problems = [f"memory of {r['group']} [{r['variant']}] could not be measured: "
                f"{r['error']}" for r in failed]
    return section, problems


def bounds_command(json_path: Path) -> list[str]:
    """The bounds pass: :mod:`benchmarks.bounds` in a process of its own (threads pinned
    before NumPy loads), writing its records to ``json_path``."""
    return [sys.executable, "-m", "benchmarks.bounds", "--json", str(json_path)]


def interleaved_command(json_path: Path) -> list[str]:
    """The interleaved pass: :mod:`benchmarks.interleaved` in a process of its own,
    writing its records to ``json_path``."""
    return [sys.executable, "-m", "benchmarks.interleaved", "--json", str(json_path)]


def run_module_pass(name: str, what: str, command: Callable[[Path], list[str]],
                    args: argparse.Namespace, log_path: Path) -> tuple[dict | None, list[str]]:
    """A pass that is a module of its own writing a JSON section (bounds, interleaved):
    run it, log its output, return the section (None when it wrote none) and the problems
    to report (its failure, or its records that hold an error)."""
    print(f"parity bench: {name} pass ({what}, one process)", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{name}.json"
        done = subprocess.run(command(path), cwd=ROOT, env=bench_environment(args.threads),
                              capture_output=True, text=True, check=False)
        with log_path.open("a") as log:
            log.write(f"\n# {name} pass\n" + done.stdout + done.stderr)
        sys.stdout.write(done.stdout)
        try:
            section = json.loads(path.read_text())
        except (OSError, ValueError):
            section = None
    if not isinstance(section, dict):
        return None, [f"the {name} pass failed (exit {done.returncode}); see `{LOG_NAME}`."]
    failed = [r for r in section.get("records") or [] if isinstance(r, dict) and "error" in r]
    return section, [f"the {name} pass could not measure {r.get('group', '?')}: {r['error']}"
                     for r in failed]


def run_bounds(args: argparse.Namespace, log_path: Path) -> tuple[dict | None, list[str]]:
    """The bounds pass; returns the JSON's ``parity_bounds`` section (None when it failed)
    and the problems to report."""
    return run_module_pass("bounds", "the least work behind each goal", bounds_command, args,
                           log_path)


def run_interleaved(args: argparse.Namespace, log_path: Path
                    ) -> tuple[dict | None, list[str]]:
    """The interleaved pass; returns the JSON's ``parity_interleaved`` section (None when it
    failed) and the problems to report."""
    return run_module_pass("interleaved", "each time target, ours and torch alternated",
                           interleaved_command, args, log_path)


def run(args: argparse.Namespace) -> int:
    """``parity bench`` with parsed arguments."""
    from benchmarks import report

    comparison_base = None
    if args.compare is not None:  # before anything runs: a bad baseline wastes no run
        try:
            comparison_base = report.load_baseline(args.compare, args.threshold)
        except report.BaselineError as error:
            print(f"parity bench: --compare: {error}", file=sys.stderr)
            return 2
    if args.from_json is not None and not args.from_json.is_file():
        print(f"parity bench: --from-json {args.from_json}: no such file", file=sys.stderr)
        return 2
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"parity bench: --out {out}: cannot make the folder ({error})", file=sys.stderr)
        return 2
    json_path = out / JSON_NAME
    problems: list[str] = []
    status = 0
    if args.from_json is not None:
        if args.from_json.resolve() != json_path.resolve():
            shutil.copyfile(args.from_json, json_path)
    else:
        if json_path.exists():
            json_path.unlink()  # never report a previous run's numbers as this run's
        code = run_benchmarks(args, json_path, out / LOG_NAME)
        if code != 0:
            status = 1
            problems.append(f"pytest exited with status {code}: some benchmarks failed (a "
                            f"check against torch, or an error) and are missing below; see "
                            f"`{LOG_NAME}`.")
        if not json_path.exists():
            print(f"parity bench: pytest wrote no JSON (exit {code}); see {out / LOG_NAME}",
                  file=sys.stderr)
            return 1
        # The passes after the timings, each in a process of its own, each stored as a
        # section of the JSON the report is rendered from.
        for key, skipped, run_pass in (("parity_memory", args.no_memory, run_memory),
                                       ("parity_bounds", args.no_bounds, run_bounds),
                                       ("parity_interleaved", args.no_interleaved,
                                        run_interleaved)):
            if skipped:
                continue
            section, pass_problems = run_pass(args, out / LOG_NAME)
            if section is not None:
                data = json.loads(json_path.read_text())
                data[key] = section
                json_path.write_text(json.dumps(data, indent=1))
            if pass_problems:
                status = 1
                problems += pass_problems
    try:
        data = report.load(json_path)
    except (OSError, ValueError) as error:
        print(f"parity bench: {error}", file=sys.stderr)
        return 2
    comparison = (report.compare(data, comparison_base)
                  if comparison_base is not None else None)
    if comparison is not None and not comparison.matched:
        problems.append(f"--compare: no benchmark of this run matched the baseline "
                        f"{comparison_base.name}")
    md_path = report.write_report(data, out, JSON_NAME, comparison,
                                  chart=not args.no_chart, problems=problems)
    print_summary(data, md_path)
    if comparison is not None:
        status = max(status, report_comparison(comparison, args.threshold))
    return status


def report_comparison(comparison: Comparison, threshold: float) -> int:
    """Print the ``--compare`` outcome to stderr; 1 on a regression or no match."""
    from benchmarks.report import fmt_ratio

    name = comparison.baseline.name
    for warning in comparison.warnings:
        print(f"parity bench: warning: {warning}", file=sys.stderr)
    if not comparison.matched:
        print(f"parity bench: --compare: no benchmark of this run matched the baseline "
              f"{name} (different selection or suite?)", file=sys.stderr)
        return 1
    regressions = comparison.regressions
    if not regressions:
        print(f"parity bench: --compare: {len(comparison.deltas)} ratio(s) compared with "
              f"{name}, none worse by more than {threshold:.0%}", file=sys.stderr)
        return 0
    print(f"parity bench: {len(regressions)} ratio regression(s) over +{threshold:.0%} "
          f"against {name}:", file=sys.stderr)
    for delta in regressions:
        print(f"  {delta.group} {delta.ratio}: {fmt_ratio(delta.baseline)} -> "
              f"{fmt_ratio(delta.now)} ({delta.change:+.0%} worse)", file=sys.stderr)
    return 1


def print_summary(data: dict, md_path: Path) -> None:
    """The targets, as a rich table, and where the report is."""
    from rich.console import Console
    from rich.table import Table

    from benchmarks import report

    all_groups = report.all_groups_of(data)
    table = Table(title="targets (float32, vectorized NumPy)")
    for column in ("target", "goal", "measured", "status", "ours / torch", "ours / peer"):
        table.add_column(column)
    for target in report.TARGETS:
        result = report.evaluate(target, all_groups)
        colour = {"met": "green", "NOT met": "red"}.get(result.status, "yellow")
        table.add_row(target.title, target.goal_text, report.fmt_ratio(result.value),
                      f"[{colour}]{result.status}[/{colour}]",
                      report.fmt_ratio(result.versus("torch")),
                      report.fmt_ratio(result.versus("peer")))
    console = Console()
    if not console.is_terminal:  # a log or CI: no 80-column wrap of the targets table
        console = Console(width=max(console.width, 140))
    console.print(table)
    console.print(f"report: {md_path}  (chart and JSON beside it)")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
