"""Tests of the interleaved pass (:mod:`benchmarks.interleaved`) and its report section. No
test here asserts a time."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import cli, common, interleaved, report
from benchmarks.cli import main
from benchmarks.test_report import synthetic, write

CONV = "Conv2D fwd+bwd N=32 28² 16→32"
SOFTMAX = "Softmax fwd+bwd 4096×1000"
LINEAR = "Linear fwd+bwd 256×784→512"


def record(target, group, ours_ms, torch_ms, pairs=100, against="torch_cl"):
    return {"target": target, "group": group, "against": against, "pairs": pairs,
            "ours": ours_ms * 1e-3, "torch": torch_ms * 1e-3, "ratio": ours_ms / torch_ms,
            "pair_ratios": {"p10": 0.9 * ours_ms / torch_ms, "p50": ours_ms / torch_ms,
                            "p90": 1.1 * ours_ms / torch_ms}}


def section(*records, smoke=False):
    return {"method": "alternated (test)", "threads": 1, "seconds": 1.0, "smoke": smoke,
            "records": list(records)}


def interleaved_rows(text: str) -> dict[str, list[str]]:
    """The interleaved table of a report: {target: its cells}."""
    part = text.split("## Interleaved cross-check of the time targets", 1)[1].split("\n## ")[0]
    rows = [line.split(" | ") for line in part.splitlines() if line.startswith("| ")]
    return {cells[0].lstrip("| "): cells for cells in rows[1:]}


def test_the_section_shows_each_targets_worst_case_beside_the_benchmarks_verdict():
    data = synthetic()  # conv 16→32: 0.05 / 0.02 s = 2.5× in the benchmarks, NOT met
    data["parity_interleaved"] = section(
        record(CONV, "conv2d a", 4.0, 4.0),  # 1.0×: the goal met interleaved
        record(CONV, "conv2d b", 3.0, 4.0),  # 0.75×: not the worst of the two
        record(LINEAR, "linear", 3.0, 2.0, against="torch"))  # 1.5×: over its 1×
    rows = interleaved_rows(report.render_markdown(data))
    assert rows[CONV][2:] == ["2.5× (**NOT met**)", "1×", "met", "0.9×–1.1×",
                              "4 ms / 4 ms (torch_cl)", "100 |"]
    assert rows[LINEAR][3:5] == ["1.5×", "**NOT met**"]
    assert set(rows) == {CONV, LINEAR}  # targets without a record have no row
    assert "Smoke sizes" not in report.render_markdown(data)


def test_a_case_that_failed_shows_its_error_and_smoke_figures_say_so():
    data = synthetic()
    data["parity_interleaved"] = section(
        record(CONV, "conv2d a", 4.0, 4.0),
        {"target": CONV, "group": "conv2d b", "against": "torch_cl",
         "error": "AssertionError: vectorized failed its check"}, smoke=True)
    text = report.render_markdown(data)
    assert interleaved_rows(text)[CONV][3] == (
        "ERROR (conv2d b: AssertionError: vectorized failed its check)")
    assert "**Smoke sizes**" in text


@pytest.mark.parametrize("broken", [None, "junk", {}, {"records": ["junk", {"x": 1}]},
                                    {"records": [{"target": CONV, "ours": 0.0, "torch": 1.0,
                                                  "ratio": 0.0}]}],
                         ids=["missing", "not-a-dict", "empty", "junk-records", "zero-time"])
def test_missing_or_broken_sections_say_not_measured(tmp_path, broken):
    data = synthetic()
    if broken is not None:
        data["parity_interleaved"] = broken
    source = write(tmp_path / "in.json", data)
    out = tmp_path / "out"
    assert main(["--from-json", str(source), "--out", str(out), "--no-chart"]) == 0
    assert report.INTERLEAVED_MISSING in (out / "report.md").read_text()


def test_alternate_runs_ours_then_theirs_until_the_time_and_the_pair_counts():
    calls: list[str] = []

    def side(name: str, seconds: float):
        def call() -> float:
            calls.append(name)
            return seconds
        return call

    ours, theirs = interleaved.alternate(side("ours", 2.0), side("torch", 1.0), seconds=0.0,
                                         min_pairs=3)
    assert calls == ["ours", "torch"] * 3
    assert list(ours) == [2.0] * 3 and list(theirs) == [1.0] * 3
    calls.clear()
    interleaved.alternate(side("ours", 2.0), side("torch", 1.0), seconds=60.0, min_pairs=1,
                          max_pairs=4)
    assert calls == ["ours", "torch"] * 4  # the cap ends it long before the minute


def test_summary_is_the_ratio_of_the_medians_and_the_spread_of_the_pairs():
    target = next(t for t in interleaved.time_targets() if t.title == CONV)
    case = interleaved.cases_of(target)[0]
    ours = np.array([4.0, 5.0, 6.0, 100.0, 5.0])  # one slow outlier leaves the medians
    theirs = np.array([2.0, 2.0, 3.0, 2.0, 2.0])
    got = interleaved.summarize(target, case, ours, theirs)
    assert (got["ours"], got["torch"], got["ratio"]) == (5.0, 2.0, 2.5)
    assert got["pairs"] == 5 and got["group"] == case.group
    assert got["pair_ratios"]["p50"] == 2.5
    assert got["pair_ratios"]["p10"] < got["pair_ratios"]["p50"] < got["pair_ratios"]["p90"]


def test_every_time_target_has_a_case_and_only_its_own():
    for target in interleaved.time_targets():
        cases = interleaved.cases_of(target)
        assert cases, target.title
        for case in cases:
            assert case.layer == target.layer and case.dtype.name == "float32"
            assert target.against in case.variants


def test_a_case_that_cannot_be_built_is_a_record_with_its_error(monkeypatch):
    target = next(t for t in interleaved.time_targets() if t.title == SOFTMAX)
    case = interleaved.cases_of(target)[0]

    def broken(case, variant):
        raise AssertionError(f"{case.group} [{variant}] failed its check against torch")

    monkeypatch.setitem(interleaved.PREPARE, "vectorized", broken)
    got = interleaved.measure_case(target, case, seconds=0.0, min_pairs=1)
    assert got["error"] == (f"AssertionError: {case.group} [vectorized] failed its check "
                            "against torch")
    assert (got["target"], got["group"]) == (SOFTMAX, case.group)


def test_the_cli_pass_lists_the_records_that_hold_an_error(tmp_path):
    written = section(record(CONV, "conv2d a", 4.0, 4.0),
                      {"target": CONV, "group": "conv2d b", "error": "ValueError: no"})

    def command(path):
        return [sys.executable, "-c",
                f"import pathlib; pathlib.Path({str(path)!r}).write_text({json.dumps(written)!r})"]

    args = cli.parser().parse_args(["--out", str(tmp_path)])
    found, problems = cli.run_module_pass("interleaved", "test", command, args,
                                          tmp_path / "log.txt")
    assert found == written
    assert problems == ["the interleaved pass could not measure conv2d b: ValueError: no"]
    found, problems = cli.run_module_pass("interleaved", "test", lambda path: [
        sys.executable, "-c", "raise SystemExit(3)"], args, tmp_path / "log.txt")
    assert found is None and problems == [
        f"the interleaved pass failed (exit 3); see `{cli.LOG_NAME}`."]


@pytest.mark.slow
def test_the_pass_measures_every_time_target_once(tmp_path):
    """The smoke of the pass (as every benchmark runs once): its own command at the smoke
    sizes, two pairs a case, in a process of its own; no time asserted."""
    path = tmp_path / "interleaved.json"
    done = subprocess.run([*cli.interleaved_command(path), "--smoke", "--seconds", "0",
                           "--min-pairs", "2"], cwd=cli.ROOT, env=cli.bench_environment(1),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(path.read_text())
    assert found["smoke"] and found["threads"] == 1
    records = found["records"]
    assert {r["target"] for r in records} == {t.title for t in interleaved.time_targets()}
    smoke_sizes = (common.SMOKE_IMAGES, common.SMOKE_ROWS)
    for got in records:
        assert "error" not in got, got
        assert got["shape"][0] in smoke_sizes, got
        assert got["pairs"] == 2 and got["ratio"] == pytest.approx(got["ours"] / got["torch"])
    assert len(done.stdout.splitlines()) == len(records)
