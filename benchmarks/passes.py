"""The side of ``parity bench``'s passes that runs in a process of its own (the bounds pass,
:mod:`benchmarks.bounds`, and the interleaved pass, :mod:`benchmarks.interleaved`): the
command line they share, how they end, and the benchmark cases they time. Import it after
:func:`benchmarks.threads.pin_environment` (the suites import NumPy and torch).
``benchmarks/cli.py`` (``run_module_pass``) is the other side: it starts the module with
``--json FILE`` and stores what it wrote."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks import (
    report,
    test_bench_batchnorm,
    test_bench_conv,
    test_bench_linear,
    test_bench_pool,
    test_bench_se,
    test_bench_softmax,
)
from benchmarks.common import BenchCase, TimedVariant

SUITES = (test_bench_conv, test_bench_pool, test_bench_softmax, test_bench_batchnorm,
          test_bench_linear, test_bench_se)


def time_targets() -> list[report.Target]:
    """The targets that are a time ratio of ours over a torch variant."""
    return [t for t in report.TARGETS if t.metric == "ratio"]


def cases_of(target: report.Target) -> list[BenchCase]:
    """The benchmark cases the target judges (its layer, size, step and dtype)."""
    return [case for suite in SUITES for case in suite.cases()
            if target.matches(SimpleNamespace(
                layer=case.layer, dtype=case.dtype.name, size=case.size, step=case.step))]


def timed_call(prepared: TimedVariant) -> Callable[[], float]:
    """One timed call of a prepared variant (its untimed set-up first, if it has one)."""
    def call() -> float:
        args, kwargs = prepared.setup() if prepared.setup is not None else ((), {})
        start = time.perf_counter()
        prepared.run(*args, **kwargs)
        return time.perf_counter() - start
    return call


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
