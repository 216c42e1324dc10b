"""``parity bench``'s memory pass: the peak memory of ONE forward+backward call per variant.

Method (``rss``, the figures in the report): every measurement runs in a FRESH Python
process (``python -m benchmarks.memory --module M --case ID --variant V``), which

1. builds the variant (layer, input, upstream gradient; for torch the stock module and
   tensors in its layout; for the peer its tensors) and runs one forward+backward as a
   warm-up, so one-time costs are paid outside the measurement: BLAS and oneDNN buffers,
   oneDNN's JIT kernels, library code pages faulted in on first use;
2. drops all of it and builds it again, fresh (a NumPy layer without the warm-up's cache,
   a torch module without ``.grad``s), then collects garbage;
3. reads the resident set size (``VmRSS``), resets the kernel's peak counter (writing 5 to
   ``/proc/self/clear_refs`` resets ``VmHWM``), runs ONE forward+backward, and reports
   ``VmHWM − VmRSS before``: the largest increase of resident memory during the call.

glibc's malloc is started with ``MALLOC_MMAP_THRESHOLD_=131072``: every block of 128 KiB or
more (every array that matters) is its own mapping, given back to the system when freed,
so the warm-up's freed buffers cannot be reused unseen and each byte the call touches is
counted. It is comparable between NumPy and torch because it is the same instrument for
both: the kernel counts every resident page whichever allocator asked for it (NumPy's data
allocator, torch's c10 CPU allocator, oneDNN's scratchpads, OpenBLAS's buffers), in the
same process state, on the same work. tracemalloc sees NumPy's allocations only, and
torch.profiler sees only torch's c10 allocator: each is blind to the other side.

The cross-check (``trace``) measures one conv case both ways: tracemalloc's peak for the
NumPy variants (and mygrad, also NumPy) and the peak of torch.profiler's allocation events
(``profile_memory=True``, sizes summed in time order) for torch, after the same warm-up
and fresh rebuild. The report shows both next to each other.

Memory is measured only here, never inside the timed loop; the loop path runs on the full
batch (its warm-up on the timing subset). Cases the timing pass checked are not checked
again; the NumPy and peer variants of a memory-only case (``BenchCase.memory_only``) are
checked against the torch reference in their process first (``--check``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

RSS = "rss"
TRACE = "trace"
#: glibc: blocks of at least this size are mmap'ed (and returned on free); fixed, so glibc
#: does not raise it after the warm-up's frees (its dynamic threshold would).
MMAP_THRESHOLD = 128 * 1024
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
#: Measurements run side by side (memory, not time: the cores they share do not matter).
JOBS = 2
CHILD_TIMEOUT = 1800.0
MIB = float(1 << 20)

METHOD_TEXT = (
    "peak resident-memory increase (VmHWM − VmRSS, reset through /proc/self/clear_refs) of "
    "one forward+backward call, each variant in a fresh process after a warm-up call and a "
    "fresh rebuild, glibc with MALLOC_MMAP_THRESHOLD_=131072"
)
WHY_TEXT = (
    "The kernel counts every resident page whichever allocator asked for it (NumPy's, "
    "torch's c10 allocator, oneDNN's scratchpads, OpenBLAS's buffers), so NumPy and torch "
    "are measured by the same instrument in the same process state on the same work; "
    "tracemalloc sees NumPy's allocations only and torch.profiler torch's only."
)
TRACE_NAMES = {"numpy": "tracemalloc peak", "torch": "torch.profiler allocation peak"}


def plan_entry(module: str, case: Any, variant: str) -> dict[str, Any] | None:
    """What the memory pass measures for one collected (case, variant): a fwd+bwd call,
    for the groups whose step includes a backward (a ``fwd`` group's size is measured
    through its ``fwd+bwd`` sibling)."""
    if case.step == "fwd":
        return None
    return {"module": module, "case": case.id, "variant": variant, "group": case.group,
            "layer": case.layer, "step": case.step, "size": case.size, "label": case.label,
            "dtype": case.dtype.name, "memory_only": bool(case.memory_only),
            # Never timed, so never checked: check ours and the peer (torch IS the reference).
            "check": bool(case.memory_only) and variant not in ("torch", "torch_cl")}


# --------------------------------------------------------------------------- child
def find_case(module_name: str, case_id: str) -> Any:
    module = importlib.import_module(module_name)
    found = list(module.cases()) + list(getattr(module, "memory_cases", list)())
    for case in found:
        if case.id == case_id:
            return case
    raise LookupError(f"{module_name} has no case {case_id!r}")


def _status(key: str) -> int:
    """A ``/proc/self/status`` size field (kB) in bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"/proc/self/status has no {key}")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def output_shape(case: Any) -> tuple[int, ...]:
    """The output's shape at the full batch, from a one-row forward of the vectorized path."""
    from benchmarks.common import make_input, make_layer

    layer = make_layer(case, "vectorized")
    y = layer.forward(make_input(case, None)[:1])
    y = y[0] if isinstance(y, tuple) else y
    return (case.shape[0], *y.shape[1:])


def build_call(case: Any, variant: str, out_shape: tuple[int, ...], subset: Any = None
               ) -> tuple[Callable[[], object], list[Any]]:
    """A fresh, unchecked forward+backward call of ``variant`` (on the first ``subset.keep``
    rows if given) and the objects it keeps alive."""
    from benchmarks import common

    x = common.make_input(case, subset)
    dy = common.make_upstream(case, (x.shape[0], *out_shape[1:]))
    if variant in common.NUMPY_VARIANTS:
        layer = common.make_layer(case, variant)
        return common.numpy_runner(layer, x, dy, "fwd+bwd"), [layer, x, dy]
    layer = common.make_layer(case, "vectorized")
    if variant in common.TORCH_VARIANTS:
        return common.torch_call(case, variant, layer, x, dy, "fwd+bwd"), [layer, x, dy]
    call = common.peer_call(case, layer, x, dy, "fwd+bwd")
    return call.run, [layer, x, dy, call]


def measure_rss(call: Callable[[], object]) -> dict[str, Any]:
    gc.collect()
    before = _status("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    after = _status("VmRSS")
    del result
    return {"peak_bytes": max(0, peak - before), "retained_bytes": after - before,
            "baseline_bytes": before, "seconds": seconds}


def measure_trace(call: Callable[[], object], side: str) -> dict[str, Any]:
    """tracemalloc's peak (``side`` "numpy") or torch.profiler's allocation peak."""
    gc.collect()
    start = time.perf_counter()
    if side == "numpy":
        import tracemalloc

        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    else:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            result = call()
        peak = profiler_peak(prof)
    seconds = time.perf_counter() - start
    del result
    return {"peak_bytes": max(0, int(peak)), "seconds": seconds}


def profiler_peak(prof: Any) -> int:
    """The largest running sum of torch.profiler's allocation events (frees negative), in
    time order: the peak of what torch's allocator handed out during the profile."""
    from torch._C._profiler import _EventType

    allocations, pending = [], list(prof.profiler.kineto_results.experimental_event_tree())
    while pending:
        node = pending.pop()
        if node.tag == _EventType.Allocation:
            allocations.append(node)
        pending.extend(node.children)
    allocations.sort(key=lambda node: node.start_time_ns)
    live = peak = 0
    for node in allocations:
        live += node.extra_fields.alloc_size
        peak = max(peak, live)
    return peak


def side_of(variant: str) -> str:
    return "torch" if variant in ("torch", "torch_cl") else "numpy"


def measure(case: Any, variant: str, check: bool, crosscheck: bool = False
            ) -> dict[str, Any]:
    """Warm up, rebuild, measure one forward+backward of ``variant`` (RSS); with
    ``crosscheck``, rebuild once more and measure it with tracemalloc / torch.profiler
    (``result["trace"]``)."""
    from benchmarks import common, peer

    if variant == "peer":
        reason = peer.skip_reason(case.layer, common.make_layer(case, "vectorized"))
        if reason is not None:
            return {"skipped": reason}
    if check:
        common.PREPARE[variant](case, variant)  # raises when it disagrees with torch
        gc.collect()
    out_shape = output_shape(case)
    call, keep = build_call(case, variant, out_shape, case.subset(variant))
    call()  # warm-up (the loop on its timing subset)
    del call, keep
    gc.collect()
    call, keep = build_call(case, variant, out_shape)
    result = measure_rss(call)
    result.update(method=RSS, checked=check)
    del call, keep
    if crosscheck:
        gc.collect()
        call, keep = build_call(case, variant, out_shape)
        side = side_of(variant)
        result["trace"] = {**measure_trace(call, side), "method": TRACE,
                           "instrument": TRACE_NAMES[side]}
        del call, keep
    return result


def child_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory",
                                     description="Measure one variant (see the module doc).")
    parser.add_argument("--module", required=True)
    parser.add_argument("--case", required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--check", action="store_true",
                        help="check the variant against torch first (memory-only cases)")
    parser.add_argument("--crosscheck", action="store_true",
                        help="also measure with tracemalloc / torch.profiler")
    args = parser.parse_args(argv)
    from benchmarks.threads import pin_environment

    threads = pin_environment()  # before the suite module imports NumPy and torch
    case = find_case(args.module, args.case)
    import torch

    torch.set_num_threads(threads)
    result = measure(case, args.variant, args.check, args.crosscheck)
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- parent
def child_command(entry: dict[str, Any], crosscheck: bool = False) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.memory", "--module", entry["module"],
               "--case", entry["case"], "--variant", entry["variant"]]
    return (command + (["--check"] if entry.get("check") else [])
            + (["--crosscheck"] if crosscheck else []))


def run_child(entry: dict[str, Any], crosscheck: bool, env: dict[str, str], cwd: Path
              ) -> dict[str, Any]:
    """One measurement in a fresh process: the child's result, or ``error``."""
    record = {k: entry[k] for k in ("group", "layer", "step", "size", "label", "dtype",
                                    "variant", "memory_only")}
    try:
        done = subprocess.run(child_command(entry, crosscheck), cwd=cwd, env=env, text=True,
                              capture_output=True, timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {**record, "error": f"timed out after {CHILD_TIMEOUT:g} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return {**record, "error": f"exit {done.returncode}: {tail}"}
    try:
        return {**record, **json.loads(lines[-1])}
    except json.JSONDecodeError:
        return {**record, "error": f"unreadable result {lines[-1][:200]!r}"}


def crosscheck_group(plan: list[dict[str, Any]]) -> str | None:
    """The conv case measured both ways: the memory-only one (the issue's target) if
    selected, else the first float32 conv fwd+bwd case."""
    conv = [e for e in plan if e["layer"] == "conv2d"]
    for wanted in (lambda e: e["memory_only"], lambda e: e["dtype"] == "float32",
                   lambda e: True):
        picked = [e for e in conv if wanted(e)]
        if picked:
            return picked[0]["group"]
    return None


def fmt_mib(value: float | None) -> str:
    return "–" if value is None else f"{value / MIB:,.1f} MiB"


def run_pass(plan: list[dict[str, Any]], env: dict[str, str], cwd: Path,
             log: Callable[[str], None] = print, jobs: int = JOBS) -> dict[str, Any]:
    """Measure every plan entry, ``jobs`` processes at a time (and the cross-check in the
    same processes); the ``parity_memory`` section of the benchmark JSON."""
    env = {**env, **MEMORY_ENV}
    cross = crosscheck_group(plan)
    # The slowest first, so the two workers finish together.
    work = sorted(plan, key=lambda e: (not e["memory_only"], e["variant"] == "loop"))

    def one(entry: dict[str, Any]) -> dict[str, Any]:
        crosscheck = entry["group"] == cross and entry["variant"] != "loop"
        record = run_child(entry, crosscheck, env, cwd)
        outcome = record.get("error") or record.get("skipped") or fmt_mib(
            record.get("peak_bytes"))
        if "trace" in record:
            trace = record["trace"]
            outcome += f"; {trace['instrument']} {fmt_mib(trace.get('peak_bytes'))}"
        log(f"memory: {entry['group']} [{entry['variant']}]: {outcome}")
        return record

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        records = list(pool.map(one, work))
    crosscheck = []
    for record in records:
        if "trace" in record:
            trace = record.pop("trace")
            crosscheck.append({**record, **trace})
    return {"method": RSS, "description": METHOD_TEXT, "why": WHY_TEXT,
            "mmap_threshold": MMAP_THRESHOLD, "records": records,
            "crosscheck_group": cross, "crosscheck": crosscheck}


if __name__ == "__main__":
    sys.exit(child_main())
