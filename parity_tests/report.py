"""What ``parity check`` writes: records, a summary, the console lines, Markdown, JSON, JUnit
and the CI job summary, every one of them from the same records.

A record is the JSON-ready form of one :class:`~parity_tests.checks.CheckResult`. Files are
written atomically (:func:`atomic_write`): a reader sees the old report or the new one,
never a mix or a truncation.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from parity_tests.checks import ERROR, FAIL, PASS, SKIP, CheckResult
from parity_tests.compare import Comparison
from parity_tests.registry import ErrorCase

STATUSES = (PASS, FAIL, ERROR, SKIP)
#: How many failures the console prints in full (all of them go to parity.md / .json).
CONSOLE_FAILURES = 10
CLOSEST = 5
WIDTH = 100


# --------------------------------------------------------------------------- records
def comparison_record(comparison: Comparison) -> dict[str, Any]:
    tolerance = comparison.tolerance
    return {
        "tensor": comparison.tensor,
        "ok": comparison.ok,
        "expected": comparison.expected_name,
        "max_abs": comparison.max_abs,
        "max_abs_index": _list(comparison.max_abs_index),
        "max_rel": comparison.max_rel,
        "rtol": tolerance.rtol if tolerance else None,
        "atol": tolerance.atol if tolerance else None,
        "headroom": _finite(comparison.headroom),
        "index": _list(comparison.index),
        "mismatched": comparison.mismatched,
        "total": comparison.total,
        "reference_scale": comparison.reference_scale,
        "guard_failed": comparison.guard_failed,
        "problem": comparison.problem,
    }


def _list(index: tuple[int, ...] | None) -> list[int] | None:
    return None if index is None else list(index)


def _finite(value: float) -> float | None:
    """JSON has no inf: an infinite headroom (a non-numeric failure) is written as null."""
    return value if math.isfinite(value) else None


def result_record(result: CheckResult, seconds: float = 0.0) -> dict[str, Any]:
    case = result.case
    on_sample = not isinstance(case, ErrorCase)
    worst = _worst_comparison(result)
    return {
        "id": result.id,
        "case": case.id,
        "check": result.check,
        "layer": case.entry.name,
        "config": case.sample.name if on_sample else case.error.name,
        "dtype": str(case.dtype) if on_sample else None,
        "impl": case.impl if on_sample else None,
        "status": result.status,
        "headroom": _finite(result.headroom),
        "worst_tensor": worst.tensor if worst else None,
        "worst_expected": worst.expected_name if worst else None,
        "seconds": round(seconds, 4),
        "tensors": [comparison_record(c) for c in result.comparisons],
        "error": None if result.error is None else {
            "stage": result.error.stage, "type": result.error.type,
            "message": result.error.message, "traceback": result.error.traceback},
        "skipped": result.skipped or None,
        "message": None if result.ok else result.message(),
        "repro": result.repro(),
        "pytest": result.pytest_repro(),
    }


def _worst_comparison(result: CheckResult) -> Comparison | None:
    failures = result.failures()
    if failures:
        return failures[0]
    return max(result.comparisons, key=lambda c: c.headroom, default=None)


def environment(seed: int, shard: str | None = None) -> dict[str, Any]:
    import numpy as np
    import torch

    return {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "shard": shard,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads(),
    }


# --------------------------------------------------------------------------- summary
def headroom_of(record: dict[str, Any]) -> float:
    return record["headroom"] if record["headroom"] is not None else math.inf


def closest_to_failing(records: Iterable[dict[str, Any]], count: int = CLOSEST
                       ) -> list[dict[str, Any]]:
    """The passing records with the least headroom (largest worst error / allowed error)."""
    passed = [r for r in records if r["status"] == PASS and r["headroom"]]
    return sorted(passed, key=headroom_of, reverse=True)[:count]


def exit_code(records: Iterable[dict[str, Any]]) -> int:
    """0 all passed (skips allowed), 1 any failure, 3 errors but no failure."""
    statuses = {r["status"] for r in records}
    if FAIL in statuses:
        return 1
    return 3 if ERROR in statuses else 0


def summary(records: list[dict[str, Any]], seconds: float | None = None) -> dict[str, Any]:
    counts = {status: sum(r["status"] == status for r in records) for status in STATUSES}
    layers: dict[str, dict[str, Any]] = {}
    for record in records:
        row = layers.setdefault(record["layer"], {
            "layer": record["layer"], "checks": 0, **dict.fromkeys(STATUSES, 0),
            "worst_headroom": 0.0, "worst_id": None})
        row["checks"] += 1
        row[record["status"]] += 1
        if record["status"] == PASS and (record["headroom"] or 0.0) > row["worst_headroom"]:
            row["worst_headroom"], row["worst_id"] = record["headroom"], record["id"]
    return {
        "total": len(records),
        "counts": counts,
        "exit_code": exit_code(records),
        "seconds": None if seconds is None else round(seconds, 1),
        "failed": [r["id"] for r in records if r["status"] == FAIL],
        "errored": [r["id"] for r in records if r["status"] == ERROR],
        "skipped": [r["id"] for r in records if r["status"] == SKIP],
        "closest_to_failing": [
            {"id": r["id"], "headroom": r["headroom"], "tensor": r["worst_tensor"],
             "expected": r["worst_expected"]} for r in closest_to_failing(records)],
        "layers": list(layers.values()),
    }


def verdict_line(info: dict[str, Any]) -> str:
    counts = info["counts"]
    word = {0: "PASS", 1: "FAIL", 3: "ERROR"}[info["exit_code"]]
    took = f" in {info['seconds']:g} s" if info["seconds"] is not None else ""
    return (f"{word}: {counts[PASS]} of {info['total']} checks passed, {counts[FAIL]} failed, "
            f"{counts[ERROR]} errors, {counts[SKIP]} skipped{took}")


# --------------------------------------------------------------------------- console
def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def layer_table(info: dict[str, Any]) -> list[str]:
    """One row per layer: counts, the worst headroom among its passing checks and where."""
    lines = [f"{'layer':<22} {'checks':>6} {'pass':>5} {'fail':>5} {'error':>5} {'skip':>4}"
             f" {'worst':>6}  where"]
    for row in info["layers"]:
        where = row["worst_id"] or "-"
        line = (f"{row['layer']:<22} {row['checks']:>6} {row[PASS]:>5} {row[FAIL]:>5} "
                f"{row[ERROR]:>5} {row[SKIP]:>4} {row['worst_headroom']:>6.3f}  ")
        lines.append(line + _short(where, WIDTH - len(line)))
    return lines


def console_lines(info: dict[str, Any], records: list[dict[str, Any]],
                  reports: list[str]) -> list[str]:
    """The default console output: layers, failures in full, the closest cases, a verdict."""
    lines = layer_table(info)
    bad = [r for r in records if r["status"] in (FAIL, ERROR)]
    if bad:
        lines += ["", f"{len(bad)} failing check(s); the first {min(len(bad), CONSOLE_FAILURES)}"
                  " in full (all of them are in the reports):", ""]
        for record in bad[:CONSOLE_FAILURES]:
            lines += [record["message"], ""]
    closest = info["closest_to_failing"]
    if closest:
        lines += ["", "closest to failing (headroom = worst error / allowed error, fails > 1):"]
        for item in closest:
            lines.append(_short(f"  {item['headroom']:.3f}  {item['id']}  ({item['tensor']} "
                                f"vs {item['expected']})", WIDTH))
    listed = "reports: " + ", ".join(reports)
    lines += ["", verdict_line(info)]
    lines += [listed] if len(listed) <= WIDTH else ["reports:", *(f"  {p}" for p in reports)]
    return lines


# --------------------------------------------------------------------------- Markdown
def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if math.isfinite(value) else str(value)


ROW_HEADERS = ("config", "dtype", "impl", "check", "worst tensor", "max abs", "max rel",
               "rtol / atol", "headroom", "result")


def detail_row(record: dict[str, Any]) -> tuple[str, ...]:
    tensors = record["tensors"]
    tensor = next((t for t in tensors if not t["ok"]), None) or max(
        tensors, key=lambda t: t["headroom"] or 0.0, default={})
    rtol, atol = tensor.get("rtol"), tensor.get("atol")
    return (
        record["config"], record["dtype"] or "-", record["impl"] or "-", record["check"],
        tensor.get("tensor", "-"), _fmt(tensor.get("max_abs")), _fmt(tensor.get("max_rel")),
        "-" if rtol is None else f"{rtol:.1e} / {atol:.1e}",
        _fmt(record["headroom"]) if record["headroom"] is not None else "inf",
        record["status"] if record["status"] == PASS else record["status"].upper(),
    )


def detail_tables(records: list[dict[str, Any]], heading: str = "##") -> list[str]:
    lines: list[str] = []
    for layer in dict.fromkeys(r["layer"] for r in records):
        lines += ["", f"{heading} {layer}", "", "| " + " | ".join(ROW_HEADERS) + " |",
                  "|" + "---|" * len(ROW_HEADERS)]
        lines += ["| " + " | ".join(detail_row(r)) + " |" for r in records
                  if r["layer"] == layer]
    return lines


def summary_markdown(env: dict[str, Any], info: dict[str, Any],
                     records: list[dict[str, Any]], failures: int | None = None) -> list[str]:
    """The summary block: verdict, the per-layer counts, failures, the closest cases."""
    lines = [f"**{verdict_line(info)}** (seed {env['seed']}"
             + (f", shard {env['shard']}" if env.get("shard") else "")
             + f"; numpy {env['numpy']}, torch {env['torch']}, Python {env['python']})", "",
             "| layer | checks | pass | fail | error | skip | worst headroom | where |",
             "|---|---|---|---|---|---|---|---|"]
    for row in info["layers"]:
        lines.append(f"| {row['layer']} | {row['checks']} | {row[PASS]} | {row[FAIL]} | "
                     f"{row[ERROR]} | {row[SKIP]} | {row['worst_headroom']:.3f} | "
                     f"`{row['worst_id'] or '-'}` |")
    bad = [r for r in records if r["status"] in (FAIL, ERROR)]
    if bad:
        shown = bad if failures is None else bad[:failures]
        lines += ["", f"### Failures ({len(bad)})", ""]
        for record in shown:
            lines += ["```", record["message"], "```"]
        if len(shown) < len(bad):
            lines.append(f"... and {len(bad) - len(shown)} more in parity.md")
    if info["closest_to_failing"]:
        lines += ["", "### Closest to failing", "", "| headroom | check | tensor |",
                  "|---|---|---|"]
        lines += [f"| {item['headroom']:.3f} | `{item['id']}` | {item['tensor']} vs "
                  f"{item['expected']} |" for item in info["closest_to_failing"]]
    return lines


def markdown_report(env: dict[str, Any], info: dict[str, Any],
                    records: list[dict[str, Any]]) -> str:
    lines = ["# Parity report", "", *summary_markdown(env, info, records), "",
             "## Every check", "",
             f"Generated {env['generated']} on {env['platform']}, {env['torch_threads']} torch "
             f"thread(s). Headroom = worst error / allowed error (allowed = atol + "
             f"rtol·|expected|); above 1 fails.", *detail_tables(records, "###")]
    return "\n".join(lines) + "\n"


def step_summary(env: dict[str, Any], info: dict[str, Any],
                 records: list[dict[str, Any]]) -> str:
    """The Markdown appended to a CI job summary (GitHub's ``GITHUB_STEP_SUMMARY``)."""
    return "\n".join(["## parity check", "", *summary_markdown(env, info, records, 20)]) + "\n"


# --------------------------------------------------------------------------- JSON, JUnit
def json_report(env: dict[str, Any], info: dict[str, Any],
                records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"summary": info, "environment": env, "results": records}


def junit_xml(env: dict[str, Any], info: dict[str, Any], records: list[dict[str, Any]]
              ) -> str:
    """JUnit XML: one testcase per check × case, failures with their message."""
    counts = info["counts"]
    suites = ET.Element("testsuites", name="parity check", tests=str(info["total"]),
                        failures=str(counts[FAIL]), errors=str(counts[ERROR]),
                        skipped=str(counts[SKIP]), time=str(info["seconds"] or 0))
    suite = ET.SubElement(suites, "testsuite", name="parity check", tests=str(info["total"]),
                          failures=str(counts[FAIL]), errors=str(counts[ERROR]),
                          skipped=str(counts[SKIP]), time=str(info["seconds"] or 0),
                          timestamp=env["generated"])
    properties = ET.SubElement(suite, "properties")
    for key in ("seed", "shard", "numpy", "torch", "python", "platform"):
        ET.SubElement(properties, "property", name=key, value=str(env.get(key)))
    for record in records:
        case = ET.SubElement(suite, "testcase", classname=f"parity.{record['layer']}",
                             name=record["id"], time=str(record["seconds"]))
        if record["status"] in (FAIL, ERROR):
            tag = "failure" if record["status"] == FAIL else "error"
            first = record["message"].splitlines()[0]
            element = ET.SubElement(case, tag, message=first,
                                    type=record["error"]["type"] if record["error"] else tag)
            element.text = record["message"]
        elif record["status"] == SKIP:
            ET.SubElement(case, "skipped", message=record["skipped"] or "")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- files
def atomic_write(files: dict[Path, str]) -> None:
    """Write every file to a temporary file beside it, then rename them all into place: a
    reader sees the old reports or the new ones, never a mix or a truncation. If any write
    fails (or is interrupted), every temporary file is removed and nothing is replaced."""
    temporaries: dict[Path, str] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                                 dir=path.parent)
            temporaries[path] = temporary
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
        for path, temporary in temporaries.items():
            os.replace(temporary, path)
    except BaseException:
        for temporary in temporaries.values():
            Path(temporary).unlink(missing_ok=True)
        raise


def append_text(path: Path, text: str) -> None:
    """Append (a CI job summary accumulates the steps' sections)."""
    with path.open("a", encoding="utf-8") as stream:
        stream.write(text)


# --------------------------------------------------------------------------- seed sweeps
#: A verdict must hold at every seed with a 2x margin: worst headroom <= MARGIN.
MARGIN = 0.5


def sweep_summary(seeds: list[int], runs: dict[int, list[dict[str, Any]]],
                  seconds: float | None = None) -> dict[str, Any]:
    """Per job over every seed: the worst headroom and its seed, and the failing seeds."""
    jobs: dict[str, dict[str, Any]] = {}
    for seed in seeds:
        for record in runs[seed]:
            row = jobs.setdefault(record["id"], {
                "id": record["id"], "layer": record["layer"], "check": record["check"],
                "worst_headroom": 0.0, "worst_seed": None, "worst_tensor": None,
                "failing_seeds": [], "first_failure": None})
            if record["status"] in (FAIL, ERROR):
                row["failing_seeds"].append(seed)
                row["first_failure"] = row["first_failure"] or record["message"]
            headroom = headroom_of(record)
            if record["status"] != SKIP and headroom > row["worst_headroom"]:
                row["worst_headroom"], row["worst_seed"] = headroom, seed
                row["worst_tensor"] = record["worst_tensor"]
    rows = list(jobs.values())
    for row in rows:
        if not math.isfinite(row["worst_headroom"]):
            row["worst_headroom"] = None
    failing = [r for r in rows if r["failing_seeds"]]
    over = [r for r in rows if not r["failing_seeds"] and (r["worst_headroom"] or 0) > MARGIN]
    return {
        "seeds": [seeds[0], seeds[-1]], "seed_count": len(seeds), "jobs": len(rows),
        "seconds": None if seconds is None else round(seconds, 1),
        "failing": [{"id": r["id"], "seeds": r["failing_seeds"]} for r in failing],
        "over_margin": [{"id": r["id"], "headroom": r["worst_headroom"], "seed": r["worst_seed"]}
                        for r in sorted(over, key=lambda r: -r["worst_headroom"])],
        "worst": sorted((r for r in rows if not r["failing_seeds"]),
                        key=lambda r: -(r["worst_headroom"] or 0))[:CLOSEST],
        "rows": rows,
        "exit_code": 1 if failing else 0,
    }


def sweep_lines(info: dict[str, Any]) -> list[str]:
    """Console lines of a sweep: per layer the worst headroom over the seeds, the checks over
    the 2x margin, the failing seeds, a verdict."""
    layers: dict[str, dict[str, Any]] = {}
    for row in info["rows"]:
        worst = layers.setdefault(row["layer"], {"headroom": 0.0, "row": None, "failing": 0})
        worst["failing"] += bool(row["failing_seeds"])
        if not row["failing_seeds"] and (row["worst_headroom"] or 0) > worst["headroom"]:
            worst["headroom"], worst["row"] = row["worst_headroom"], row
    first, last = info["seeds"]
    lines = [f"{'layer':<22} {'failing':>7} {'worst':>6} {'seed':>5}  where"]
    for layer, worst in layers.items():
        row = worst["row"]
        line = (f"{layer:<22} {worst['failing']:>7} {worst['headroom']:>6.3f} "
                f"{row['worst_seed'] if row else '-':>5}  ")
        lines.append(line + _short(row["id"] if row else "-", WIDTH - len(line)))
    if info["over_margin"]:
        lines += ["", f"passing but over the 2x margin (headroom > {MARGIN}):"]
        lines += [_short(f"  {r['headroom']:.3f} at seed {r['seed']:<4} {r['id']}", WIDTH)
                  for r in info["over_margin"][:15]]
    if info["failing"]:
        lines += ["", "failing:"]
        for item in info["failing"][:15]:
            seeds = ", ".join(map(str, item["seeds"][:12])) + (
                " ..." if len(item["seeds"]) > 12 else "")
            lines.append(_short(f"  {item['id']}  seeds {seeds}", WIDTH))
    worst = info["worst"][0] if info["worst"] else None
    verdict = "FAIL" if info["failing"] else "PASS"
    lines += ["", f"{verdict}: sweep of seeds {first}-{last} ({info['seed_count']} seeds, "
              f"{info['jobs']} checks each): {len(info['failing'])} checks fail at some seed, "
              f"{len(info['over_margin'])} over the 2x margin"
              + (f"; worst headroom {worst['worst_headroom']:.3f}" if worst else "")
              + (f" in {info['seconds']:g} s" if info["seconds"] is not None else "")]
    return lines


def sweep_markdown(env: dict[str, Any], info: dict[str, Any]) -> str:
    first, last = info["seeds"]
    lines = ["# Parity seed sweep", "", f"**{sweep_lines(info)[-1]}**", "",
             f"numpy {env['numpy']}, torch {env['torch']}, Python {env['python']}, "
             f"{env['platform']}.", "", "## Worst headroom per check over the seeds", "",
             "| check | worst headroom | at seed | tensor | failing seeds |",
             "|---|---|---|---|---|"]
    def worst_first(row: dict[str, Any]) -> float:
        return -math.inf if row["worst_headroom"] is None else -row["worst_headroom"]

    for row in sorted(info["rows"], key=worst_first):
        failing = ", ".join(map(str, row["failing_seeds"])) or "-"
        headroom = "inf" if row["worst_headroom"] is None else f"{row['worst_headroom']:.3f}"
        seed = "-" if row["worst_seed"] is None else row["worst_seed"]
        lines.append(f"| `{row['id']}` | {headroom} | {seed} | "
                     f"{row['worst_tensor'] or '-'} | {failing} |")
    failures = [r for r in info["rows"] if r["first_failure"]]
    if failures:
        lines += ["", "## First failure of each failing check", ""]
        lines += [f"```\n{r['first_failure']}\n```" for r in failures]
    return "\n".join(lines) + f"\n\nSeeds {first}-{last}.\n"
