"""Benchmark session set-up: threads pinned BEFORE NumPy and torch are imported.

``PARITY_BENCH_THREADS`` (default 1) goes into every BLAS/OpenMP variable first; then
``threadpoolctl`` caps any BLAS/OpenMP pool already loaded (a plugin may have imported NumPy
before this file) and ``torch.set_num_threads`` sets torch's intra-op pool. The machine,
versions and thread count are written into the pytest-benchmark JSON (``machine_info``),
where the report reads them, with the commit, the date and the peer library.

Cases marked ``memory_only`` (``BenchCase.memory_only``) are deselected unless
``--parity-memory-plan=FILE`` is given: then ``parity bench``'s memory pass runs pytest with
``--collect-only`` and this file writes the selected (case, variant) pairs it should measure
into FILE (:func:`benchmarks.memory.plan_entry`).
"""

from __future__ import annotations

import sys

from benchmarks.threads import pin_environment

#: Whether something imported NumPy before the variables could be set (threadpoolctl then
#: still caps its BLAS; recorded in the JSON).
NUMPY_PREIMPORTED = "numpy" in sys.modules
THREADS = pin_environment()

import numpy  # noqa: E402, F401  (loaded under the pinned variables)
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

_LIMITS = threadpool_limits(limits=THREADS)  # kept alive for the whole session
torch.set_num_threads(THREADS)


def pytest_report_header(config) -> str:
    from benchmarks.common import environment_info

    info = environment_info(THREADS)
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['num_threads']} thr)"
                     for b in info["threadpools"])
    return (f"parity bench: {THREADS} thread(s) (PARITY_BENCH_THREADS); "
            f"torch threads {torch.get_num_threads()}; pools: {blas}")


def pytest_benchmark_update_machine_info(config, machine_info) -> None:
    from benchmarks.common import environment_info

    info = environment_info(THREADS)
    info["numpy_preimported"] = NUMPY_PREIMPORTED
    machine_info["parity"] = info


def pytest_addoption(parser) -> None:
    parser.addoption("--parity-memory-plan", default=None, metavar="FILE",
                     help="parity bench's memory pass: write the selected cases to FILE "
                          "(with --collect-only) instead of deselecting memory-only cases")


def _case(item):
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("case")


def pytest_collection_modifyitems(config, items) -> None:
    if config.getoption("parity_memory_plan"):
        return
    memory_only = [item for item in items if getattr(_case(item), "memory_only", False)]
    if memory_only:
        config.hook.pytest_deselected(items=memory_only)
        items[:] = [item for item in items if item not in memory_only]


def pytest_collection_finish(session) -> None:
    path = session.config.getoption("parity_memory_plan")
    if not path:
        return
    import json

    from benchmarks.memory import plan_entry

    plan = [entry for item in session.items
            if (case := _case(item)) is not None
            if (entry := plan_entry(item.module.__name__, case,
                                    item.callspec.params["variant"])) is not None]
    with open(path, "w") as handle:
        json.dump(plan, handle, indent=1)
