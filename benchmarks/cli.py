"""``parity bench``: run the benchmark suites and write the report.

Runs ``python -m pytest benchmarks --benchmark-enable --benchmark-json=...`` in a
SUBPROCESS whose environment pins the BLAS/OpenMP thread count before anything imports
NumPy (this process may already have NumPy and torch loaded with their own pools), streams
pytest's progress, keeps the JSON and writes ``report.md`` and ``report.png`` beside it.

Exit status: 0; 1 if a benchmark failed (a check against torch, say) or ``--compare`` found
a regression; 2 on a usage error.

    parity bench                                # everything, 1 thread, benchmarks/results/
    parity bench --threads 2 -k "conv or pool"  # a subset (the GEMM peak is always kept)
    parity bench --from-json old/benchmarks.json --out /tmp/r   # re-render, no run
    parity bench --compare baseline.json --threshold 0.2        # CI: exit 1 on regressions
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.threads import DEFAULT_THREADS, parse_threads, thread_environment

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_OUT = BENCH_DIR / "results"
JSON_NAME = "benchmarks.json"
LOG_NAME = "pytest.log"


def _threads(text: str) -> int:
    try:
        return parse_threads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
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
                             f"{LOG_NAME} (default: benchmarks/results/)")
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
                        help="mark benchmarks whose median is slower than in this baseline "
                             "JSON by more than --threshold; exit 1 if any")
    parser.add_argument("--threshold", type=_fraction, default=0.2,
                        help="regression threshold for --compare, a fraction (default 0.2 "
                             "= 20%% slower)")
    parser.add_argument("--max-time", type=_fraction, default=1.0, metavar="SECONDS",
                        help="pytest-benchmark --benchmark-max-time per benchmark "
                             "(default 1.0; the whole run then takes about 3 minutes)")
    parser.add_argument("--min-rounds", type=_positive_int, default=7, metavar="N",
                        help="pytest-benchmark --benchmark-min-rounds (default 7)")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    return parser


def parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(
        prog="parity bench",
        description="Time loop, vectorized and torch variants of every layer (each checked "
                    "against torch first) and write a Markdown + PNG report.",
    ))


def pytest_command(args: argparse.Namespace, json_path: Path) -> list[str]:
    """The pytest invocation of the subprocess."""
    command = [
        sys.executable, "-m", "pytest", str(BENCH_DIR),
        "--benchmark-enable", f"--benchmark-json={json_path}",
        f"--benchmark-max-time={args.max_time}", f"--benchmark-min-rounds={args.min_rounds}",
        "--benchmark-columns=median,iqr,rounds", "--benchmark-sort=name",
        "-p", "no:randomly", "-p", "no:cacheprovider", "-v",
        # The report never needs pytest's own test-report tables of the parity suite.
        "--ignore", str(BENCH_DIR / "test_report.py"),
    ]
    if args.keyword:
        command += ["-k", f"({args.keyword}) or gemm_peak"]
    return command


def run_benchmarks(args: argparse.Namespace, json_path: Path, log_path: Path) -> int:
    """Run pytest in a subprocess with the thread variables set; stream its output to the
    console and to ``log_path``; return its exit code."""
    env = dict(os.environ)
    env.update(thread_environment(args.threads))
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


def run(args: argparse.Namespace) -> int:
    """``parity bench`` with parsed arguments."""
    from benchmarks import report

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / JSON_NAME
    problems: list[str] = []
    status = 0
    if args.from_json is not None:
        if not args.from_json.is_file():
            print(f"parity bench: --from-json {args.from_json}: no such file", file=sys.stderr)
            return 2
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
    try:
        data = report.load(json_path)
        baseline = None
        if args.compare is not None:
            baseline = (str(args.compare), report.entries(report.load(args.compare)),
                        args.threshold)
    except (OSError, ValueError) as error:
        print(f"parity bench: {error}", file=sys.stderr)
        return 2
    md_path, deltas = report.write_report(data, out, JSON_NAME, baseline,
                                          chart=not args.no_chart, problems=problems)
    print_summary(data, md_path)
    regressions = [d for d in deltas or [] if d.regression]
    if regressions:
        print(f"parity bench: {len(regressions)} regression(s) over "
              f"+{args.threshold:.0%} against {args.compare}:", file=sys.stderr)
        for delta in regressions:
            print(f"  {delta.entry.fullname}: {report.fmt_time(delta.baseline)} -> "
                  f"{report.fmt_time(delta.entry.median)} ({delta.change:+.0%})",
                  file=sys.stderr)
        status = 1
    return status


def print_summary(data: dict, md_path: Path) -> None:
    """The targets, as a rich table, and where the report is."""
    from rich.console import Console
    from rich.table import Table

    from benchmarks import report

    all_groups = report.groups(report.entries(data))
    table = Table(title="targets (float32, vectorized NumPy)")
    for column in ("target", "goal", "measured", "status"):
        table.add_column(column)
    for target in report.TARGETS:
        result = report.evaluate(target, all_groups)
        colour = {"met": "green", "NOT met": "red"}.get(result.status, "yellow")
        table.add_row(target.title, target.goal_text, report.fmt_ratio(result.value),
                      f"[{colour}]{result.status}[/{colour}]")
    console = Console()
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
