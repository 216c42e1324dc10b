"""Tests of the memory pass and the peer variant (not of timings: no test asserts a time).

The measurements here run on the smallest conv case in fresh processes (a few seconds);
the peer tests that need mygrad skip when it is not installed (``pip install -e
'.[peer]'``), the ones about its absence fake it away."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from benchmarks import cli, common, memory, peer, report
from benchmarks.test_bench_conv import cases as conv_cases
from benchmarks.test_bench_conv import memory_cases
from benchmarks.test_bench_softmax import cases as softmax_cases
from benchmarks.test_report import synthetic, synthetic_bounds

needs_peer = pytest.mark.skipif(peer.load() is None, reason=peer.not_installed_reason())
needs_proc = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(),
                                reason="needs Linux's /proc/self/clear_refs")


def small_conv(step: str = "fwd+bwd", dtype: str = "float32") -> common.BenchCase:
    return next(c for c in conv_cases() if c.size == report.CONV_28 and c.step == step
                and c.dtype.name == dtype)


def small_softmax() -> common.BenchCase:
    return next(c for c in softmax_cases() if c.size == "256x10" and c.dtype.name == "float32")


# --------------------------------------------------------------------------- peer
def test_peer_absent_is_skipped_with_the_reason(monkeypatch):
    monkeypatch.setattr(peer, "load", lambda: None)
    case = small_conv()
    layer = common.make_layer(case, "vectorized")
    reason = peer.skip_reason("conv2d", layer)
    assert reason == "peer mygrad is not installed (pip install -e '.[peer]')"
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        common.prepare_peer(case, "peer")
    info = peer.info()
    assert info["available"] is False and info["version"] is None
    assert memory.measure(case, "peer", check=False) == {"skipped": reason}


def test_report_says_the_peer_is_missing():
    data = synthetic()
    data["benchmarks"] = [b for b in data["benchmarks"] if b["extra_info"]["variant"] != "peer"]
    data["machine_info"]["parity"]["peer"] = {
        "library": "mygrad", "version": None, "available": False,
        "reason": peer.not_installed_reason(), "missing": {}}
    text = report.render_markdown(data)
    assert "| Peer library | peer mygrad is not installed (pip install -e '.[peer]') |" in text
    groups = report.all_groups_of(data)
    assert all(g.vs_peer is None for g in groups)


@needs_peer
def test_peer_lacks_an_op_is_skipped_with_the_reason():
    layer = common.make_layer(small_conv(), "vectorized")
    assert peer.skip_reason("avgpool", layer) == "mygrad has no average pooling"
    assert "squeeze-and-excitation" in (peer.skip_reason("se", layer) or "")
    assert peer.skip_reason("conv2d", layer) is None


@needs_peer
@pytest.mark.parametrize("step", ["fwd", "fwd+bwd"])
def test_peer_is_checked_against_torch_before_it_is_timed(step):
    prepared = common.prepare_peer(small_conv(step), "peer")
    names = {c.tensor for c in prepared.comparisons}
    assert "output" in names
    if step == "fwd+bwd":
        assert {"input_grad", "grad[weight]", "grad[bias]"} <= names
    assert all(c.ok for c in prepared.comparisons)


@needs_peer
def test_a_wrong_peer_is_not_timed(monkeypatch):
    def wrong(mg, layer, x_shape):  # softmax off by a factor
        return peer.Mapping({}, lambda nnet, x: nnet.softmax(x, axis=-1) * 1.01)

    monkeypatch.setitem(peer.BUILDERS, "softmax", wrong)
    with pytest.raises(AssertionError, match=r"\[peer\] disagrees with the torch reference"):
        common.prepare_peer(small_softmax(), "peer")


@needs_peer
def test_peer_backward_alone_runs_on_a_fresh_forward_each_round():
    prepared = common.prepare_peer(small_softmax(), "peer")  # step "bwd"
    assert prepared.setup is not None
    for _ in range(2):  # mygrad frees its graph in backward: each round needs its own
        args, kwargs = prepared.setup()
        prepared.run(*args, **kwargs)


@needs_peer
def test_peer_conv_without_exact_tiling_pads_outside_the_call():
    """N=64 32² k3 s2 p1: mygrad refuses windows that do not tile the padded input; the
    input is padded and cut outside, and the gradient comes back to the input's shape."""
    case = next(c for c in conv_cases() if c.size == report.CONV_32 and c.step == "fwd+bwd"
                and c.dtype.name == "float64")
    prepared = common.prepare_peer(case, "peer")
    assert all(c.ok for c in prepared.comparisons)


# --------------------------------------------------------------------------- memory
@needs_proc
def test_rss_peak_sees_a_large_temporary():
    # 128 MiB: above glibc's largest dynamic mmap threshold (32 MiB), so it is a fresh
    # mapping even in this process, which runs without the children's MALLOC_ setting.
    def call():
        block = np.ones(128 << 18, dtype=np.float32)  # touched, then freed
        return float(block[-1])

    result = memory.measure_rss(call)
    assert result["peak_bytes"] >= 120 << 20
    assert result["retained_bytes"] < 8 << 20


def test_plan_entry_measures_backward_groups_and_checks_memory_only_cases():
    assert memory.plan_entry("m", small_conv("fwd"), "vectorized") is None
    entry = memory.plan_entry("m", small_conv(), "torch")
    assert entry["group"] == small_conv().group and entry["check"] is False
    only = memory_cases()[0]
    assert only.memory_only and only.size == report.CONV_64_MEMORY
    assert memory.plan_entry("m", only, "vectorized")["check"] is True
    assert memory.plan_entry("m", only, "torch")["check"] is False  # torch is the reference


def test_crosscheck_prefers_the_memory_target_case():
    plan = [{"layer": "conv2d", "group": "a", "memory_only": False, "dtype": "float32"},
            {"layer": "conv2d", "group": "b", "memory_only": True, "dtype": "float32"}]
    assert memory.crosscheck_group(plan) == "b"
    assert memory.crosscheck_group(plan[:1]) == "a"
    assert memory.crosscheck_group([{**plan[0], "layer": "softmax"}]) is None


class FakeItem:
    def __init__(self, case, variant):
        self.callspec = type("CallSpec", (), {"params": {"case": case, "variant": variant}})
        self.module = type("Module", (), {"__name__": "benchmarks.test_bench_conv"})


class FakeConfig:
    def __init__(self, plan=None):
        self.plan, self.deselected = plan, []
        self.hook = type("Hook", (), {"pytest_deselected": lambda _, items: self.deselected
                                      .extend(items)})()

    def getoption(self, name):
        assert name == "parity_memory_plan"
        return self.plan


def test_memory_only_cases_are_deselected_outside_the_memory_pass(tmp_path):
    from benchmarks import conftest

    timed, only = FakeItem(small_conv(), "torch"), FakeItem(memory_cases()[0], "torch")
    config, items = FakeConfig(), [timed, only]
    conftest.pytest_collection_modifyitems(config, items)
    assert items == [timed] and config.deselected == [only]
    plan_path = tmp_path / "plan.json"
    config, items = FakeConfig(str(plan_path)), [timed, only, FakeItem(small_conv("fwd"),
                                                                       "torch")]
    conftest.pytest_collection_modifyitems(config, items)
    assert len(items) == 3 and not config.deselected  # the memory pass keeps them
    conftest.pytest_collection_finish(type("Session", (), {"config": config,
                                                           "items": items})())
    plan = json.loads(plan_path.read_text())
    assert [(e["size"], e["memory_only"]) for e in plan] == [
        (report.CONV_28, False), (report.CONV_64_MEMORY, True)]  # the fwd group: no entry


@pytest.mark.slow
def test_the_memory_plan_follows_the_k_selection(tmp_path):
    args = cli.parser().parse_args(["-k", "conv and float32 and not peer"])
    plan_path = tmp_path / "plan.json"
    done = subprocess.run(cli.memory_plan_command(args, plan_path), cwd=cli.ROOT,
                          capture_output=True, text=True, env=cli.bench_environment(1))
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(plan_path.read_text())
    assert {e["variant"] for e in plan} == {"loop", "vectorized", "torch", "torch_cl"}
    assert all(e["step"] == "fwd+bwd" and e["dtype"] == "float32" for e in plan)
    only = [e for e in plan if e["memory_only"]]
    assert {e["variant"] for e in only} == {"vectorized", "torch", "torch_cl"}
    assert {e["size"] for e in only} == {report.CONV_64_MEMORY}


@pytest.mark.slow
@needs_proc
def test_memory_pass_measures_in_fresh_processes_and_crosschecks():
    case = small_conv()
    plan = [memory.plan_entry("benchmarks.test_bench_conv", case, variant)
            for variant in ("vectorized", "torch")]
    lines: list[str] = []
    section = memory.run_pass(plan, cli.bench_environment(1), cli.ROOT, log=lines.append)
    assert section["method"] == memory.RSS and section["crosscheck_group"] == case.group
    by_variant = {r["variant"]: r for r in section["records"]}
    for variant in ("vectorized", "torch"):
        record = by_variant[variant]
        assert "error" not in record, record
        assert record["peak_bytes"] > 1 << 20 and record["method"] == "rss"
    instruments = {r["variant"]: r["instrument"] for r in section["crosscheck"]}
    assert instruments == {"vectorized": "tracemalloc peak",
                           "torch": "torch.profiler allocation peak"}
    assert all(r["peak_bytes"] > 1 << 20 for r in section["crosscheck"])
    assert len(lines) == 2 and all("MiB" in line for line in lines)


def test_a_failed_child_is_an_error_record(tmp_path):
    entry = {**memory.plan_entry("benchmarks.test_bench_conv", small_conv(), "vectorized"),
             "module": "benchmarks.no_such_suite"}
    record = memory.run_child(entry, False, cli.bench_environment(1), cli.ROOT)
    assert record["error"].startswith("exit 1") and "no_such_suite" in record["error"]
    assert record["group"] == small_conv().group


# --------------------------------------------------------------------------- cli flow
def fake_run(tmp_path, monkeypatch, section, problems=(), bounds=None, bound_problems=(),
             extra=(), interleaved=None, interleaved_problems=()):
    """``parity bench`` with the timing, memory, bounds and interleaved passes replaced by
    fakes; the bounds and interleaved passes record their calls in ``fake_run.bounds_calls``
    and ``fake_run.interleaved_calls``."""
    def timing(args, json_path, log_path):
        data = synthetic()
        del data["parity_memory"], data["parity_bounds"]
        json_path.write_text(json.dumps(data))
        return 0

    def faked(calls, found, found_problems):
        def run_pass(args, log_path):
            calls.append(args)
            return found, list(found_problems)
        return run_pass

    fake_run.bounds_calls, fake_run.interleaved_calls = [], []
    monkeypatch.setattr(cli, "run_benchmarks", timing)
    monkeypatch.setattr(cli, "run_memory", lambda args, log: (section, list(problems)))
    monkeypatch.setattr(cli, "run_bounds", faked(fake_run.bounds_calls, bounds, bound_problems))
    monkeypatch.setattr(cli, "run_interleaved", faked(fake_run.interleaved_calls, interleaved,
                                                      interleaved_problems))
    out = tmp_path / "out"
    return cli.main(["--out", str(out), "--no-chart", *extra]), out


def test_the_memory_section_lands_in_the_json_and_the_report(tmp_path, monkeypatch):
    section = synthetic()["parity_memory"]
    code, out = fake_run(tmp_path, monkeypatch, section)
    assert code == 0
    assert json.loads((out / "benchmarks.json").read_text())["parity_memory"] == section
    text = (out / "report.md").read_text()
    assert "| 1,284 | 256 |" in text and "Cross-check of the method" in text


def test_a_failed_memory_measurement_fails_the_run(tmp_path, monkeypatch):
    section = synthetic()["parity_memory"]
    code, out = fake_run(tmp_path, monkeypatch, section, ["memory of x [vectorized] failed"])
    assert code == 1
    assert "memory of x [vectorized] failed" in (out / "report.md").read_text()


def test_the_bounds_section_lands_in_the_json_and_the_report(tmp_path, monkeypatch):
    section = synthetic_bounds()
    code, out = fake_run(tmp_path, monkeypatch, None, bounds=section)
    assert code == 0 and len(fake_run.bounds_calls) == 1
    assert json.loads((out / "benchmarks.json").read_text())["parity_bounds"] == section
    text = (out / "report.md").read_text()
    assert "## What bounds the unmet goals" in text and "**bounded**" in text
    # Re-rendered from the files alone: the same section.
    again = tmp_path / "again"
    assert cli.main(["--from-json", str(out / "benchmarks.json"), "--out", str(again),
                     "--no-chart"]) == 0
    section_of = lambda t: t.split("## What bounds")[1].split("\n## ")[0]  # noqa: E731
    assert section_of((again / "report.md").read_text()) == section_of(text)


def test_a_failed_bounds_pass_fails_the_run_and_no_bounds_skips_it(tmp_path, monkeypatch):
    code, out = fake_run(tmp_path, monkeypatch, None,
                         bound_problems=["the bounds pass failed (exit 1)"])
    text = (out / "report.md").read_text()
    assert code == 1 and "the bounds pass failed (exit 1)" in text
    assert report.BOUNDS_MISSING in text
    code, out = fake_run(tmp_path, monkeypatch, None, extra=["--no-bounds"])
    assert code == 0 and fake_run.bounds_calls == []
    assert report.BOUNDS_MISSING in (out / "report.md").read_text()


def test_the_interleaved_section_lands_in_the_json_and_no_interleaved_skips_it(
        tmp_path, monkeypatch):
    from benchmarks.test_interleaved import CONV, record
    from benchmarks.test_interleaved import section as interleaved_section

    found = interleaved_section(record(CONV, "conv2d a", 4.0, 4.0))
    code, out = fake_run(tmp_path, monkeypatch, None, interleaved=found)
    assert code == 0 and len(fake_run.interleaved_calls) == 1
    assert json.loads((out / "benchmarks.json").read_text())["parity_interleaved"] == found
    assert report.INTERLEAVED_MISSING not in (out / "report.md").read_text()
    code, out = fake_run(tmp_path, monkeypatch, None, extra=["--no-interleaved"])
    assert code == 0 and fake_run.interleaved_calls == []
    assert report.INTERLEAVED_MISSING in (out / "report.md").read_text()
    code, out = fake_run(tmp_path, monkeypatch, None, interleaved=found,
                         interleaved_problems=["the interleaved pass could not measure x"])
    assert code == 1 and "the interleaved pass could not measure x" in (
        out / "report.md").read_text()
