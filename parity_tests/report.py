"""Records of check results, and the Markdown and JSON reports of ``parity check``.

A record is the JSON-ready form of one :class:`~parity_tests.checks.CheckResult`; the
Markdown page and the JSON file are both written from the records, so they always agree.
"""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

import numpy as np
import torch

from parity_tests.checks import CheckResult
from parity_tests.compare import Comparison
from parity_tests.registry import ErrorCase


def comparison_record(comparison: Comparison) -> dict[str, Any]:
    tolerance = comparison.tolerance
    return {
        "tensor": comparison.tensor,
        "ok": comparison.ok,
        "expected": comparison.expected_name,
        "max_abs": comparison.max_abs,
        "max_rel": comparison.max_rel,
        "rtol": tolerance.rtol if tolerance else None,
        "atol": tolerance.atol if tolerance else None,
        "headroom": comparison.headroom,
        "index": list(comparison.index) if comparison.index is not None else None,
        "mismatched": comparison.mismatched,
        "total": comparison.total,
        "reference_scale": comparison.reference_scale,
        "problem": comparison.problem,
    }


def result_record(result: CheckResult) -> dict[str, Any]:
    case = result.case
    sample_case = not isinstance(case, ErrorCase)
    return {
        "id": result.id,
        "case": case.id,
        "check": result.check,
        "layer": case.entry.name,
        "config": case.sample.name if sample_case else case.error.name,
        "dtype": np.dtype(case.dtype).name if sample_case else None,
        "impl": case.impl if sample_case else None,
        "status": result.status,
        "ok": result.ok,
        "headroom": result.headroom,
        "tensors": [comparison_record(c) for c in result.comparisons],
        "error": None if result.error is None else {
            "stage": result.error.stage, "type": result.error.type,
            "message": result.error.message, "traceback": result.error.traceback},
        "skipped": result.skipped or None,
        "failures": [] if result.ok else [result.message()],
        "repro": result.repro(),
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


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if np.isfinite(value) else str(value)


ROW_HEADERS = ("config", "dtype", "impl", "check", "worst tensor", "max abs", "max rel",
               "rtol / atol", "headroom", "result")


def worst_tensor(record: dict[str, Any]) -> dict[str, Any] | None:
    """The failing tensor of a record if any, else the one with the least headroom."""
    tensors = record["tensors"]
    if not tensors:
        return None
    return next((t for t in tensors if not t["ok"]), max(tensors, key=lambda t: t["headroom"]))


def table_row(record: dict[str, Any]) -> tuple[str, ...]:
    tensor = worst_tensor(record) or {}
    rtol, atol = tensor.get("rtol"), tensor.get("atol")
    return (
        record["config"], record["dtype"] or "-", record["impl"] or "-", record["check"],
        tensor.get("tensor", "-"), _fmt(tensor.get("max_abs")), _fmt(tensor.get("max_rel")),
        "-" if rtol is None else f"{rtol:.1e} / {atol:.1e}",
        f"{record['headroom']:.3g}", record["status"] if record["ok"] else
        record["status"].upper(),
    )


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
        lines += ["| " + " | ".join(table_row(r)) + " |" for r in records if r["layer"] == layer]
    failures = [f for r in records for f in r["failures"]]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"```\n{failure}\n```" for failure in failures]
    return "\n".join(lines) + "\n"
