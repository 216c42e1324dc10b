"""Thread pinning for the benchmarks. Imports nothing heavy: it must run before NumPy/torch.

The thread count comes from ``PARITY_BENCH_THREADS`` (default 1). :func:`pin_environment`
writes it into every BLAS/OpenMP variable, overriding what the shell had, so that NumPy's
BLAS and torch's OpenMP pool start with that many threads. ``benchmarks/conftest.py`` calls
it first thing; ``benchmarks/cli.py`` passes the same variables to its pytest subprocess.
On a shared 2-core machine two threads make timings swing 5–10×, hence the default of 1.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

THREADS_ENV = "PARITY_BENCH_THREADS"
DEFAULT_THREADS = 1
#: Read by OpenMP (torch, OpenBLAS built with OpenMP), OpenBLAS, MKL, numexpr, Accelerate, BLIS.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)


def parse_threads(value: object) -> int:
    """A thread count >= 1 from an int or a decimal string; ``ValueError`` otherwise."""
    text = str(value).strip()
    if not text.isdecimal() or int(text) < 1:
        raise ValueError(f"{THREADS_ENV} / --threads must be an integer >= 1, got {value!r}")
    return int(text)


def thread_environment(threads: int) -> dict[str, str]:
    """The variables to set (before NumPy is imported) for ``threads`` threads."""
    return {THREADS_ENV: str(threads), **{name: str(threads) for name in THREAD_VARS}}


def pin_environment(environ: MutableMapping[str, str] | None = None) -> int:
    """Read the requested count from ``PARITY_BENCH_THREADS`` and write it into every thread
    variable of ``environ`` (default ``os.environ``); returns the count."""
    environ = os.environ if environ is None else environ
    threads = parse_threads(environ.get(THREADS_ENV, DEFAULT_THREADS))
    environ.update(thread_environment(threads))
    return threads
