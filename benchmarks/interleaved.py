"""The time targets measured a second way: our vectorized call and torch's alternated call
by call in one process, so that neither runs on caches its own previous call warmed.

In the benchmarks (pytest-benchmark) each variant loops on its own arrays, round after
round, and a ratio divides two such medians taken seconds apart. That is the issue's
method and the report's verdicts stay on it. Two things it does not show are measured
here: how much of a ratio is one side's warm caches (a layer inside a network runs after
other layers, on data they have just evicted or written), and how far the ratio moves with
the machine's drift, which hits both sides of a pair alike.

For each float32 case of each time-ratio target (``benchmarks.report.TARGETS``), both
variants are built and checked against torch exactly as the benchmarks do
(``benchmarks.common.PREPARE``), warmed up, then timed in pairs for ``--seconds`` (at least
``MIN_PAIRS`` pairs), ours then torch's, so that every call follows one of the other
side's. A record holds both medians, their
ratio and the 10th/50th/90th percentiles of the per-pair ratios. ``parity bench`` runs this
in a process of its own after the bounds pass (``python -m benchmarks.interleaved --json
FILE``) and stores the records as the JSON's ``parity_interleaved``, from which
:mod:`benchmarks.report` renders "Interleaved cross-check". A case that fails to build,
check or run is a record with its ``error``, never a traceback.
"""

from __future__ import annotations

from benchmarks.threads import pin_environment

THREADS = pin_environment()  # before NumPy and torch are imported

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks import passes, report  # noqa: E402
from benchmarks.common import PREPARE, BenchCase, smoke  # noqa: E402
from benchmarks.passes import cases_of, time_targets, timed_call  # noqa: E402

SECONDS = 3.0
MIN_PAIRS = 20
MAX_PAIRS = 5000
WARMUP = 3
METHOD = ("our vectorized call and torch's alternated call by call in one process of their "
          "own (`benchmarks/interleaved.py`), so that every call follows one of the other "
          "side's, for {seconds:g} s per case and at least {pairs} pairs, after {warmup} "
          "warm-up calls each, {threads} thread(s); both checked against torch first, as in "
          "the benchmarks; medians of each side's calls")


def alternate(ours: Callable[[], float], theirs: Callable[[], float], seconds: float,
              min_pairs: int = MIN_PAIRS, max_pairs: int = MAX_PAIRS
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per-call times of both, ours then theirs, pair after pair (so that every call
    follows one of the other side's) until ``seconds`` have passed (at least ``min_pairs``,
    at most ``max_pairs``)."""
    mine: list[float] = []
    other: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(mine) < max_pairs and (len(mine) < min_pairs or time.perf_counter() < deadline):
        mine.append(ours())
        other.append(theirs())
    return np.array(mine), np.array(other)


def summarize(target: report.Target, case: BenchCase, ours: np.ndarray, theirs: np.ndarray
              ) -> dict[str, Any]:
    """The record of one measured case."""
    per_pair = ours / theirs
    return {"target": target.title, "group": case.group, "against": target.against,
            "shape": list(case.shape), "pairs": int(ours.size), "ours": float(np.median(ours)),
            "torch": float(np.median(theirs)),
            "ratio": float(np.median(ours) / np.median(theirs)),
            "pair_ratios": {f"p{q}": float(np.percentile(per_pair, q)) for q in (10, 50, 90)}}


def measure_case(target: report.Target, case: BenchCase, seconds: float, min_pairs: int
                 ) -> dict[str, Any]:
    """One case's record, or its error."""
    try:
        ours = timed_call(PREPARE["vectorized"](case, "vectorized"))
        theirs = timed_call(PREPARE[target.against](case, target.against))
        for _ in range(WARMUP):
            ours()
            theirs()
        return summarize(target, case, *alternate(ours, theirs, seconds, min_pairs))
    except Exception as error:  # a failure is a result: the record says what it was
        return {"target": target.title, "group": case.group, "against": target.against,
                "shape": list(case.shape), "error": f"{type(error).__name__}: {error}"}


def measure(seconds: float = SECONDS, min_pairs: int = MIN_PAIRS, small: bool = False
            ) -> dict[str, Any]:
    """Every time target's cases, as the JSON section ``parity_interleaved``; ``small``
    runs the smoke sizes (``benchmarks.common.smoke``), for the tests."""
    torch.set_num_threads(THREADS)
    records = []
    for target in time_targets():
        for case in cases_of(target):
            records.append(measure_case(target, smoke(case) if small else case, seconds,
                                        min_pairs))
    return {"method": METHOD.format(seconds=seconds, pairs=min_pairs, warmup=WARMUP,
                                    threads=THREADS),
            "threads": THREADS, "seconds": seconds, "smoke": small, "records": records}


def describe(record: dict[str, Any]) -> str:
    """One printed line per record."""
    if "error" in record:
        return f"{record['target']} [{record['group']}]: ERROR {record['error']}"
    spread = record["pair_ratios"]
    return (f"{record['target']} [{record['group']}]: ours {report.fmt_time(record['ours'])}, "
            f"{record['against']} {report.fmt_time(record['torch'])}: "
            f"{report.fmt_ratio(record['ratio'])} (pairs {record['pairs']}, p10-p90 "
            f"{report.fmt_ratio(spread['p10'])}-{report.fmt_ratio(spread['p90'])})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = passes.parser("interleaved", __doc__)
    parser.add_argument("--seconds", type=float, default=SECONDS,
                        help=f"time per case, both variants together (default {SECONDS:g})")
    parser.add_argument("--min-pairs", type=int, default=MIN_PAIRS,
                        help=f"pairs per case at least (default {MIN_PAIRS})")
    parser.add_argument("--smoke", action="store_true",
                        help="the smoke sizes (a few images or rows), as the tests run it")
    args = parser.parse_args(argv)
    if args.seconds < 0 or args.min_pairs < 1:
        parser.error(f"--seconds must be >= 0 and --min-pairs >= 1, got {args.seconds:g} "
                     f"and {args.min_pairs}")
    section = measure(args.seconds, args.min_pairs, args.smoke)
    passes.finish(section, section["records"], describe, args.json)
    return 1 if any("error" in r for r in section["records"]) else 0  # the JSON says which


if __name__ == "__main__":
    sys.exit(main())
