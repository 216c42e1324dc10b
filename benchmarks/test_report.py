"""Tests of the benchmark machinery (not of timings): the report from a synthetic
pytest-benchmark JSON, ``--compare`` on ratios, thread pinning, the check tolerance.
No test here asserts a time."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from benchmarks import cli, common, report
from benchmarks.cli import main, pytest_command
from benchmarks.cli import parser as cli_parser
from benchmarks.threads import THREAD_VARS, THREADS_ENV, parse_threads, pin_environment

MIB = 1 << 20


def bench(layer, step, size, dtype, variant, median, *, scale=1.0, flops=None, label=None):
    label = label or size
    group = f"{layer} {step} | {label} | {dtype}"
    info = {"layer": layer, "step": step, "size": size, "label": label, "dtype": dtype,
            "variant": variant, "scale": scale, "check_headroom": 0.1,
            "subset": f"scaled from {4096 / scale:g} of 4096 rows" if scale != 1 else None}
    if flops is not None:
        info["flops"] = flops
    name = f"test_{layer}[{step}-{size}-{dtype}-{variant}]"
    return {"group": group, "name": name, "fullname": f"benchmarks/x.py::{name}",
            "extra_info": info,
            "stats": {"median": median, "iqr": median / 10, "rounds": 7, "min": median,
                      "max": median, "mean": median}}


def memory(group, layer, size, variant, mib, *, memory_only=False, **extra):
    label = group.split(" | ")[1]
    return {"group": group, "layer": layer, "step": "fwd+bwd", "size": size, "label": label,
            "dtype": "float32", "variant": variant, "memory_only": memory_only,
            "peak_bytes": int(mib * MIB), "retained_bytes": 0, "method": "rss", **extra}


MEM64 = "conv2d fwd+bwd | N=64 64x64 64->64 k3 s1 p1 | float32"
CONV28 = f"conv2d fwd+bwd | {report.CONV_28} | float32"


def part(name, ms, how="np.matmul", flops=None, in_layer=False):
    return {"name": name, "seconds": ms * 1e-3, "how": how, "flops": flops,
            "in_layer": in_layer}


def bound(target, parts, torch_ms, combine="sum", context=(), layer_ms=None):
    layer = None if layer_ms is None else part("the layer itself", layer_ms, "x vectorized")
    return {"target": target, "least": f"least work of {target}", "combine": combine,
            "parts": parts, "torch": part("torch's whole op", torch_ms, "nn.X, autograd"),
            "context": list(context), "layer": layer}


def synthetic_bounds() -> dict:
    """The bounds pass's section: softmax bounded (4 ms of passes vs torch's 2 ms, goal
    1.3×); conv's least work open (the cheaper formulation 10 ms vs 20 ms) but the
    layer's own passes bounded (those GEMMs and 14 ms of transforms: 1.2× > 1.1×), the
    layer itself 30 ms; Linear exactly at its goal (1.0×: open, a bound must EXCEED the
    goal), the layer 10 ms; the met softmax backward."""
    return {
        "method": "least work alone (test)", "threads": 1, "repeat": 3,
        "bounds": [
            bound("Softmax fwd+bwd 4096×1000",
                  [part("exp", 2.0, "np.exp"), part("sums", 1.0), part("dx", 1.0)], 2.0,
                  context=[part("row max (not in the bound)", 0.5, "np.max")]),
            bound("Conv2D fwd+bwd N=32 28² 16→32",
                  [part("im2col GEMMs", 30.0, flops=3e9),
                   part("Winograd GEMMs", 10.0, flops=1.5e9, in_layer=True)],
                  20.0, combine="min",
                  context=[part("torch forward", 5.0, "no_grad"),
                           part("transforms", 14.0, "the layer's", in_layer=True)],
                  layer_ms=30.0),
            bound("Linear fwd+bwd 256×784→512", [part("three GEMMs", 8.0)], 8.0,
                  layer_ms=10.0),
            bound("Softmax backward 256×10 vs autograd", [part("dots", 0.001)], 0.01),
        ],
    }


def synthetic(slow_conv: float = 1.0, machine: float = 1.0) -> dict:
    """Softmax (loop scaled ×64), conv (one target met, one not), linear, the GEMM peak, the
    peer, and the memory pass. ``machine`` scales every time (a slower machine that day);
    ``slow_conv`` only the vectorized conv (a real regression)."""
    conv28, m = report.CONV_28, machine
    benchmarks = [
        bench("softmax", "bwd", "256x10", "float32", "loop", 2e-3 * m),
        bench("softmax", "bwd", "256x10", "float32", "vectorized", 1e-5 * m),
        bench("softmax", "bwd", "256x10", "float32", "torch", 2e-5 * m),
        bench("softmax", "bwd", "256x10", "float32", "peer", 4e-5 * m),
        bench("softmax", "bwd", "4096x1000", "float32", "loop", 0.1 * m, scale=64.0),
        bench("softmax", "bwd", "4096x1000", "float32", "vectorized", 0.02 * m),
        bench("softmax", "bwd", "4096x1000", "float32", "torch", 0.01 * m),
        bench("conv2d", "fwd+bwd", conv28, "float32", "loop", 0.5 * m, flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "vectorized", 0.05 * slow_conv * m,
              flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "torch", 0.04 * m, flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "torch_cl", 0.02 * m, flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "peer", 0.2 * m, flops=3e9),
        bench("linear", "fwd+bwd", "256x784to512", "float64", "vectorized", 0.01 * m),
        bench("linear", "fwd+bwd", "256x784to512", "float64", "torch", 0.02 * m),
        bench("gemm", "fwd", "2048x2048x2048", "float32", "numpy", 0.5 * m,
              flops=2 * 2048.0**3, label="np.matmul 2048³"),
    ]
    mem64 = report.CONV_64_MEMORY
    return {
        "machine_info": {"parity": {
            "threads": 1, "cpu_model": "Test CPU 9000", "logical_cores": 2,
            "affinity_cores": 2, "python": "3.11", "numpy": "2.x", "torch": "2.13.0+cpu",
            "torch_threads": 1, "torch_mkldnn": True, "env": {"OMP_NUM_THREADS": "1"},
            "threadpools": [{"user_api": "blas", "internal_api": "openblas",
                             "version": "0.3.31", "num_threads": 1,
                             "architecture": "Haswell"}],
            "commit": "abc1234", "date": "2026-01-02T03:04:05+00:00",
            "peer": {"library": "mygrad", "version": "2.5.0", "available": True,
                     "reason": None, "missing": {"avgpool": "mygrad has no average pooling"}},
        }},
        "commit_info": {"id": "0123456789abcdef", "dirty": False},
        "datetime": "2026-01-01T00:00:00", "version": "5.3.1",
        "benchmarks": benchmarks,
        "parity_memory": {
            "method": "rss", "description": "peak RSS increase (test)", "why": "same meter",
            "records": [
                memory(CONV28, "conv2d", conv28, "vectorized", 30.0),
                memory(CONV28, "conv2d", conv28, "torch", 10.0),
                memory(CONV28, "conv2d", conv28, "torch_cl", 5.0),
                memory(CONV28, "conv2d", conv28, "peer", 0, skipped="mygrad is absent"),
                memory(MEM64, "conv2d", mem64, "vectorized", 1284.0, memory_only=True),
                memory(MEM64, "conv2d", mem64, "torch", 256.0, memory_only=True),
            ],
            "crosscheck_group": MEM64,
            "crosscheck": [
                memory(MEM64, "conv2d", mem64, "vectorized", 1284.5, memory_only=True,
                       instrument="tracemalloc peak"),
                memory(MEM64, "conv2d", mem64, "torch", 256.1, memory_only=True,
                       instrument="torch.profiler allocation peak"),
            ],
        },
        "parity_bounds": synthetic_bounds(),
    }


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


# --------------------------------------------------------------------------- report
def test_groups_ratios_and_loop_scaling():
    groups = {g.size: g for g in report.all_groups_of(synthetic())}
    small, large = groups["256x10"], groups["4096x1000"]
    assert small.speedup == pytest.approx(200.0)
    assert small.vs_torch == pytest.approx(0.5)
    assert small.vs_peer == pytest.approx(0.25)
    assert large.median("loop") == pytest.approx(6.4)  # 0.1 s on 64 rows, ×64
    assert large.speedup == pytest.approx(320.0)
    conv = groups[report.CONV_28]
    assert conv.vs_torch_cl == pytest.approx(2.5)
    assert conv.variants["vectorized"].gflops == pytest.approx(60.0)
    assert conv.memory_ratio("vectorized", "torch") == pytest.approx(3.0)
    assert "gemm" not in {g.layer for g in groups.values()}
    only = groups[report.CONV_64_MEMORY]  # memory only: a group without timings
    assert not only.timed and only.memory_ratio("vectorized", "torch") == pytest.approx(
        1284 / 256)


def test_spread_carries_both_iqrs_into_the_ratio():
    conv = next(g for g in report.all_groups_of(synthetic()) if g.size == report.CONV_28)
    low, high = conv.spread("vectorized", "torch")  # IQR = median / 10 on both sides
    assert low == pytest.approx(0.05 * 0.95 / (0.04 * 1.05))
    assert high == pytest.approx(0.05 * 1.05 / (0.04 * 0.95))
    assert low < conv.vs_torch < high


def test_targets_met_and_not_met():
    groups = report.all_groups_of(synthetic())
    results = {r.target.title: r for r in (report.evaluate(t, groups) for t in report.TARGETS)}
    assert results["Softmax backward 256×10 vs autograd"].status == "met"
    # Only the backward of 4096x1000 was timed (2x torch): the fwd+bwd target needs its step.
    assert results["Softmax fwd+bwd 4096×1000"].status == "not measured"
    assert results["Conv2D fwd+bwd N=32 28² 16→32"].status == "NOT met"  # 2.5× vs cl
    assert results["Softmax loop → vectorized backward (every size)"].value == pytest.approx(200.0)
    assert results["SE block fwd+bwd N=32 16² C=64"].status == "not measured"
    assert results["Linear fwd+bwd 256×784→512"].status == "not measured"  # float64 only
    conv = results["Conv2D fwd+bwd N=32 28² 16→32"]
    assert conv.versus("torch") == pytest.approx(1.25)
    assert conv.versus("peer") == pytest.approx(0.25)
    mem = results["Conv2D peak memory fwd+bwd N=64 64² 64→64"]
    assert mem.target.goal_text == "≤ 1.5× torch peak memory"
    assert mem.value == pytest.approx(1284 / 256) and mem.status == "NOT met"


@pytest.mark.slow
def test_markdown_and_chart_from_json(tmp_path):
    source = write(tmp_path / "in.json", synthetic())
    out = tmp_path / "out"
    assert main(["--from-json", str(source), "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert (out / "benchmarks.json").is_file()
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![" in text and "report.png" in text
    assert "Test CPU 9000" in text and "**1** (" in text and "openblas 0.3.31" in text
    assert "34.4 GFLOP/s" in text  # 2·2048³ / 0.5 s
    assert "scaled from 64 of 4096 rows (×64)" in text
    assert ("| softmax | bwd | 256x10 | float32 | 2 ms | 10 µs | 20 µs | – | 40 µs | 200× "
            "| 0.5× | – | 0.25× | – |") in text
    assert "**NOT met**" in text and "| met |" in text
    # GFLOP/s always beside the GEMM peak of the same run.
    assert ("GFLOP/s: vectorized 60.0, torch 75.0, torch_cl 150.0, peer 15.0 "
            "(GEMM peak 34.4)") in text
    assert "GFLOP/s vec / torch / cl / peer (GEMM peak 34.4)" in text
    assert "| Peer library | mygrad 2.5.0 |" in text
    assert "peer – for avgpool" not in text  # no avgpool group in this run


def test_report_and_chart_carry_commit_and_date():
    data = synthetic()
    text = report.render_markdown(data)
    assert "Commit **abc1234**, 2026-01-02 03:04:05 UTC" in text
    assert "| Run | 2026-01-02 03:04:05 UTC, commit abc1234," in text
    fig = report.chart_figure(data)
    try:
        title = fig._suptitle.get_text()
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    assert "commit abc1234" in title and "2026-01-02 03:04:05 UTC" in title
    bare = {"benchmarks": data["benchmarks"]}  # a JSON from elsewhere: no commit, no date
    assert report.run_stamp(bare) == ("unknown", "unknown")
    assert "Commit **unknown**, unknown" in report.render_markdown(bare)


def test_the_cpu_model_names_the_vector_extension():
    # Two hosts named "AMD EPYC" (AVX-512 one day, AVX2 the next) gave different verdicts.
    model = common.cpu_model()
    assert re.fullmatch(r".+ \((family \d+, model \d+, )?"
                        r"(AVX-512|AVX2|SVE|NEON|SSE4\.2|SIMD unknown)\)", model), model


def test_a_forced_blas_kernel_is_flagged_in_the_machine_table():
    """OPENBLAS_CORETYPE pins every GEMM to one kernel (Haswell's AVX2 halves the peak of an
    AVX-512 CPU): the report must say so, and say nothing alarming when no variable is set."""
    data = synthetic()
    plain = report.render_markdown(data)
    assert "| Kernel variables | none set (each library picks its kernels" in plain
    data["machine_info"]["parity"]["kernel_env"] = {"OPENBLAS_CORETYPE": "Haswell",
                                                    "OPENBLAS_L2_SIZE": "512"}
    forced = report.render_markdown(data)
    assert ("| Kernel variables | **OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512: OpenBLAS "
            "runs the Haswell kernel whatever the CPU; unset it") in forced
    data["machine_info"]["parity"]["kernel_env"] = {"OPENBLAS_L2_SIZE": "512"}
    assert "| Kernel variables | OPENBLAS_L2_SIZE=512 |" in report.render_markdown(data)


def test_git_commit_is_unknown_outside_a_checkout(tmp_path):
    from benchmarks.common import ROOT, git_commit

    assert git_commit(tmp_path) == "unknown"
    if (ROOT / ".git").exists():
        expected = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.strip()
        assert git_commit(ROOT) == expected


def test_memory_figures_in_the_report():
    text = report.render_markdown(synthetic())
    assert "## Peak memory (one forward+backward call)" in text
    assert (f"| conv2d | fwd+bwd | {report.CONV_28} | float32 | – | 30 | 10 | 5 | skipped "
            "| 3× | 6× | – |") in text
    assert ("| conv2d | fwd+bwd | N=64 64x64 64->64 k3 s1 p1 ‡ | float32 | – | 1,284 | 256 "
            "| – | – | 5.02× | – | – |") in text
    assert "skipped: mygrad is absent." in text
    assert "**Cross-check of the method**" in text
    assert "they agree with the RSS figures within 0.0%" in text  # 1,284.5 vs 1,284 MiB
    assert "| vectorized | 1,284 | 1,284 | tracemalloc peak | 1× |" in text
    assert ("| Conv2D peak memory fwd+bwd N=64 64² 64→64 | ≤ 1.5× torch peak memory | 5.02× "
            "| **NOT met** | 5.02× | – |") in text
    without = synthetic()
    del without["parity_memory"]
    assert "Not measured in this run" in report.render_markdown(without)


def bounds_rows(text: str) -> dict[str, list[str]]:
    """The bounds table of a report: {target: its cells}."""
    section = text.split("## What bounds the unmet goals", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].lstrip("| "): cells for cells in rows[1:]}


def test_bounds_section_renders_the_stored_bounds_and_their_verdicts():
    text = report.render_markdown(synthetic())
    rows = bounds_rows(text)
    # Softmax: 2 + 1 + 1 ms of passes over torch's 2 ms = 2× > 1.3×: bounded.
    assert rows["Softmax fwd+bwd 4096×1000"][3:] == [
        "not measured", "least work of Softmax fwd+bwd 4096×1000", "4 ms", "2 ms", "2×",
        "–", "–", "**bounded** |"]
    # Conv: the cheaper formulation (10 ms) over 20 ms = 0.5× <= 1.1×, but the layer's
    # own passes (its GEMMs 10 + its transforms 14, not torch's forward) 1.2× > 1.1×.
    assert rows["Conv2D fwd+bwd N=32 28² 16→32"][3:] == [
        "**NOT met**", "least work of Conv2D fwd+bwd N=32 28² 16→32", "10 ms", "20 ms",
        "0.5×", "1.2×", "1.5×", "**bounded (this formulation)** |"]
    # Exactly at the goal is not beyond it: open; the layer's time shown, no passes.
    assert rows["Linear fwd+bwd 256×784→512"][-4:] == ["1×", "–", "1.25×", "**open** |"]
    assert rows["Softmax backward 256×10 vs autograd"][-1] == "– (goal met) |"
    # No row for a time target without a bound that is met or not measured, nor for a
    # speedup target.
    assert "Max pool fwd+bwd k3 s1" not in rows and "SE block fwd+bwd N=32 16² C=64" not in rows
    assert not any("loop → vectorized" in title for title in rows)
    # Every measurement, with GFLOP/s beside the GEMM peak of the run (34.4).
    assert "beside the GEMM peak of this run, 34.4" in text
    assert ("im2col GEMMs 30 ms (`np.matmul`, 100.0 GFLOP/s); Winograd GEMMs 10 ms "
            "(`np.matmul`, 150.0 GFLOP/s); = 10 ms") in text
    assert "Beside, not in the bound: row max (not in the bound) 500 µs (`np.max`)." in text
    assert ("The layer's own passes (Winograd GEMMs, transforms): = 24 ms (1.2× torch). "
            "The layer itself 30 ms (`x vectorized`): 1.5× torch; 6 ms beyond its passes.") in text
    assert "The layer itself 10 ms (`x vectorized`): 1.25× torch." in text
    softmax_line = next(line for line in text.splitlines() if "**Softmax fwd+bwd" in line)
    assert "layer" not in softmax_line  # neither measured
    assert "Method: least work alone (test)." in text


def test_bound_verdicts_follow_from_the_numbers():
    data = synthetic()
    softmax, conv = data["parity_bounds"]["bounds"][:2]
    assert report.bound_least(softmax) == pytest.approx(4e-3)
    assert report.bound_least(conv) == pytest.approx(10e-3)  # "min": the cheaper
    assert report.bound_ratio(softmax) == pytest.approx(2.0)
    assert report.bound_verdict(2.0, 1.3) == "bounded"
    assert report.bound_verdict(1.3, 1.3) == "open"
    assert report.bound_verdict(0.5, 1.1, 1.2) == "bounded (this formulation)"
    assert report.bound_verdict(0.5, 1.1, 1.1) == "open"  # at the goal is not beyond it
    assert report.bound_verdict(2.0, 1.1, 0.5) == "bounded"  # the least work decides first
    assert report.bound_passes(conv) == pytest.approx(24e-3)  # marked parts and context
    assert report.bound_passes(softmax) is None  # none marked
    assert report.bound_layer_ratio(conv) == pytest.approx(1.5)
    softmax["torch"]["seconds"] = 4e-3  # torch slower: the same passes are now 1×
    conv["torch"]["seconds"] = 5e-3  # torch faster: 10 / 5 = 2× > 1.1×
    rows = bounds_rows(report.render_markdown(data))
    assert rows["Softmax fwd+bwd 4096×1000"][-4:] == ["1×", "–", "–", "**open** |"]
    assert rows["Conv2D fwd+bwd N=32 28² 16→32"][-4:] == ["2×", "4.8×", "6×", "**bounded** |"]
    transforms = conv["context"][1]
    transforms["in_layer"] = "yes"  # only True marks a pass as the layer's
    assert report.bound_passes(conv) == pytest.approx(10e-3)
    transforms["in_layer"], transforms["seconds"] = True, None  # a marked pass untimed:
    assert report.bound_passes(conv) is None  # no sum, and the least work alone decides
    rows = bounds_rows(report.render_markdown(data))
    assert rows["Conv2D fwd+bwd N=32 28² 16→32"][-4:] == ["2×", "–", "6×", "**bounded** |"]
    conv["torch"]["seconds"], conv["layer"] = 20e-3, "junk"  # back to 0.5×; a broken layer
    rows = bounds_rows(report.render_markdown(data))
    assert rows["Conv2D fwd+bwd N=32 28² 16→32"][-4:] == ["0.5×", "–", "–", "**open** |"]
    conv["parts"][1]["seconds"] = None  # a part without its time: no verdict
    assert report.bound_least(conv) is None
    assert bounds_rows(report.render_markdown(data))[
        "Conv2D fwd+bwd N=32 28² 16→32"][-1] == "not measured |"
    data["parity_bounds"]["bounds"].remove(conv)  # an unmet target without a bound says so
    assert bounds_rows(report.render_markdown(data))["Conv2D fwd+bwd N=32 28² 16→32"][4:] == [
        "no bound measured", "–", "–", "–", "–", "–", "– |"]


@pytest.mark.parametrize("section", [None, "junk", {}, {"bounds": ["junk", {"x": 1}]}],
                         ids=["missing", "not-a-dict", "empty", "junk-records"])
def test_missing_or_broken_bounds_say_not_measured(tmp_path, section):
    data = synthetic()
    if section is None:
        del data["parity_bounds"]
    else:
        data["parity_bounds"] = section
    source = write(tmp_path / "in.json", data)
    out = tmp_path / "out"
    assert main(["--from-json", str(source), "--out", str(out), "--no-chart"]) == 0
    text = (out / "report.md").read_text()
    assert "## What bounds the unmet goals" in text
    if section in (None, "junk", {}):
        assert report.BOUNDS_MISSING in text
    else:  # a section without usable records: the unmet targets, none with a bound
        rows = bounds_rows(text)
        assert rows["Conv2D fwd+bwd N=32 28² 16→32"][4] == "no bound measured"


@pytest.mark.slow
def test_every_bound_measures_once_and_names_a_time_target(tmp_path):
    """The smoke of the bounds pass (as every benchmark runs once): the pass's own command,
    one call per measurement, in a process of its own (its full-size arrays would leave
    this one's heap resident for the RSS test); no time asserted; every bound belongs to a
    time target and is stored as the report reads it."""
    path = tmp_path / "bounds.json"
    done = subprocess.run([*cli.bounds_command(path), "--repeat", "1"], cwd=cli.ROOT,
                          env=cli.bench_environment(1), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    section = json.loads(path.read_text())
    titles = {t.title for t in report.TARGETS if t.metric == "ratio"}
    records = section["bounds"]
    assert [r["target"] for r in records if r["target"] not in titles] == []
    assert len(records) == len({r['target'] for r in records}) == 8
    assert section["repeat"] == 1 and section["threads"] == 1
    for record in records:
        assert report.bound_ratio(record) is not None, record["target"]
        assert report.bound_layer_ratio(record) is not None, record["target"]
        assert all(p["how"] for p in record["parts"])
        assert record["combine"] in ("sum", "min")
    with_passes = {r["target"] for r in records if report.bound_passes(r) is not None}
    own_least = {"Conv2D fwd+bwd N=32 28² 16→32", "BatchNorm2d train fwd+bwd N=32 16² C=64"}
    assert with_passes == {*own_least, "Max pool fwd+bwd k2 s2", "Max pool fwd+bwd k3 s1"}
    for record in records:  # those two layers' passes start from the least work they run
        assert any(p["in_layer"] for p in record["parts"]) == (record["target"] in own_least)
    printed = done.stdout.splitlines()
    assert len(printed) == len(records) and all(" -> " in line for line in printed)
    assert "Warning" not in done.stderr, done.stderr


def test_report_survives_a_json_without_our_extra_info(tmp_path):
    data = synthetic()
    data["benchmarks"].append({"group": None, "name": "test_other", "fullname": "x::other",
                               "extra_info": {}, "stats": {"median": 1.0}})
    data["machine_info"] = {}
    data["parity_memory"] = {"records": [{"bad": 1}, "junk"]}
    text = report.render_markdown(data)
    assert "unknown" in text and "test_other" not in text


def test_every_markdown_table_row_has_its_header_column_count():
    import re

    baseline = report.load_baseline_data(synthetic(), "base.json")
    comparison = report.compare(synthetic(slow_conv=2.0), baseline)
    text = report.render_markdown(synthetic(), "report.png", "benchmarks.json", comparison)
    pipes = re.compile(r"(?<!\\)\|")
    widths: list[int] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            widths.append(len(pipes.findall(line)))
            continue
        assert len(set(widths)) <= 1, f"ragged table before {line!r}: {widths}"
        widths = []


# --------------------------------------------------------------------------- --compare
def compare_cli(tmp_path, current: dict, baseline: dict, *extra: str) -> tuple[int, str]:
    base = write(tmp_path / "base.json", baseline)
    now = write(tmp_path / "now.json", current)
    out = tmp_path / "out"
    code = main(["--from-json", str(now), "--out", str(out), "--compare", str(base),
                 "--no-chart", *extra])
    return code, (out / "report.md").read_text()


def test_compare_passes_when_the_machine_got_slower_but_the_ratios_held(tmp_path, capsys):
    # Every median 3× slower (a loaded machine, torch's own softmax +200 %): no ratio moved.
    code, text = compare_cli(tmp_path, synthetic(machine=3.0), synthetic())
    assert code == 0
    assert "REGRESSION" not in text and "No regression." in text
    assert "ratio(s) compared" in text and "absolute times are not compared" in text
    assert "none worse" in capsys.readouterr().err


def test_compare_ignores_torch_getting_slower_on_its_own(tmp_path):
    # The case that used to be flagged: torch's softmax +307 % between runs. Ours is the
    # same, so vectorized / torch got BETTER: not a regression of this project.
    current = synthetic()
    for b in current["benchmarks"]:
        if b["extra_info"]["layer"] == "softmax" and b["extra_info"]["variant"] == "torch":
            b["stats"]["median"] *= 4.07
    code, text = compare_cli(tmp_path, current, synthetic())
    assert code == 0 and "REGRESSION" not in text


def test_compare_fails_on_a_ratio_regression(tmp_path, capsys):
    code, text = compare_cli(tmp_path, synthetic(slow_conv=1.5), synthetic(),
                             "--threshold", "0.2")
    assert code == 1
    assert "## Comparison with the baseline" in text
    assert f"| {report.cell(CONV28)} | vec/torch | 1.25× | 1.88× | +50% **REGRESSION** |" \
        in text
    err = capsys.readouterr().err
    assert "ratio regression(s)" in err and "conv2d fwd+bwd" in err and "vec/torch_cl" in err


def test_compare_flags_a_speedup_that_fell(tmp_path):
    current = synthetic()
    for b in current["benchmarks"]:  # the loop got 2× faster: loop → vec halves
        if b["extra_info"]["layer"] == "softmax" and b["extra_info"]["variant"] == "loop":
            b["stats"]["median"] /= 2
    code, text = compare_cli(tmp_path, current, synthetic())
    assert code == 1 and "| loop→vec | 200× | 100× | +100% **REGRESSION** |" in text


def test_compare_within_threshold_passes(tmp_path):
    code, text = compare_cli(tmp_path, synthetic(slow_conv=1.15), synthetic())
    assert code == 0
    assert "REGRESSION" not in text and "+15%" in text


def test_compare_threshold_applies_to_the_ratio(tmp_path):
    code, _ = compare_cli(tmp_path, synthetic(slow_conv=1.15), synthetic(),
                          "--threshold", "0.1")
    assert code == 1


def test_compare_warns_about_another_machine_blas_and_threads(tmp_path, capsys):
    baseline = synthetic()
    info = baseline["machine_info"]["parity"]
    info["cpu_model"] = "Other CPU 1"
    info["threadpools"][0]["architecture"] = "SkylakeX"
    info["threads"] = 2
    code, text = compare_cli(tmp_path, synthetic(), baseline)
    assert code == 0  # warnings, not failures
    err = capsys.readouterr().err
    for expected in ("another machine: CPU model Other CPU 1 there, Test CPU 9000 here",
                     "another BLAS: BLAS library / kernel openblas 0.3.31 (SkylakeX) there, "
                     "openblas 0.3.31 (Haswell) here",
                     "another thread count: thread count 2 there, 1 here"):
        assert expected in err
        assert expected in text
    same = report.environment_warnings(synthetic(), synthetic())
    assert same == []
    unknown = report.environment_warnings(synthetic(), {"benchmarks": []})
    assert len(unknown) == 1 and "records no machine" in unknown[0]


def test_compare_fails_when_nothing_matched(tmp_path, capsys):
    baseline = synthetic()
    for b in baseline["benchmarks"]:
        b["group"] = "renamed " + b["group"]
    code, text = compare_cli(tmp_path, synthetic(), baseline)
    assert code == 1
    assert "No benchmark of this run matched the baseline" in text
    assert "no benchmark of this run matched the baseline" in capsys.readouterr().err


@pytest.mark.parametrize("content", [
    "",  # empty
    "   \n",  # blank
    '{"benchmarks": [{"name": ',  # truncated
    "not json at all",
    json.dumps({"something": "else"}),  # not pytest-benchmark
    json.dumps({"benchmarks": []}),  # no benchmark
    json.dumps({"benchmarks": [{"name": "x", "stats": {"median": 1}}]}),  # not ours
    "unreadable",  # a directory, not a file
    "missing",
], ids=["empty", "blank", "truncated", "not-json", "foreign", "no-benchmarks", "not-ours",
        "directory", "missing"])
def test_bad_baseline_is_rejected_before_anything_runs(tmp_path, monkeypatch, capsys,
                                                       content):
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError("a benchmark subprocess was started")

    monkeypatch.setattr(cli, "run_benchmarks", refuse)
    monkeypatch.setattr(cli, "run_memory", refuse)
    monkeypatch.setattr(cli.subprocess, "Popen", refuse)
    monkeypatch.setattr(cli.subprocess, "run", refuse)
    path = tmp_path / "baseline.json"
    if content == "unreadable":
        path.mkdir()
    elif content != "missing":
        path.write_text(content)
    out = tmp_path / "out"
    assert main(["--compare", str(path), "--out", str(out)]) == 2
    assert started == []
    assert not out.exists()  # rejected before even the output folder was made
    err = capsys.readouterr().err
    assert str(path) in err and "--compare" in err


def test_baseline_without_ratios_is_rejected():
    only_torch = {"benchmarks": [bench("softmax", "bwd", "256x10", "float32", "torch", 1.0)]}
    with pytest.raises(report.BaselineError, match="no ratio to compare"):
        report.load_baseline_data(only_torch, "b.json")


# --------------------------------------------------------------------------- cli, threads
def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["--from-json", str(tmp_path / "missing.json"), "--out", str(tmp_path)]) == 2
    assert main(["--threads", "0"]) == 2
    assert main(["--threshold", "-1"]) == 2
    bad = write(tmp_path / "bad.json", {"not": "benchmarks"})
    assert main(["--from-json", str(bad), "--out", str(tmp_path / "o")]) == 2
    good = write(tmp_path / "good.json", synthetic())
    assert main(["--from-json", str(good), "--out", str(good)]) == 2  # --out is a file
    capsys.readouterr()


def test_help_documents_the_exit_codes():
    text = cli_parser().format_help()
    assert "exit status:" in text
    for line in ("  0  the run finished", "  1  a benchmark failed", "  2  usage error"):
        assert line in text
    assert "no benchmark of this run against the baseline" in " ".join(text.split())


def test_default_output_is_an_untracked_folder():
    assert cli.DEFAULT_OUT == cli.ROOT / "reports" / "bench"
    assert cli_parser().parse_args([]).out == cli.DEFAULT_OUT
    if not (cli.ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(cli.DEFAULT_OUT / "report.md")],
                             cwd=cli.ROOT)
    assert ignored.returncode == 0, "reports/bench/ must be ignored by .gitignore"
    committed = subprocess.run(["git", "check-ignore", "-q",
                                str(cli.COMMITTED_OUT / "report.md")], cwd=cli.ROOT)
    assert committed.returncode == 1  # --out benchmarks/results: the committed report


def test_pytest_command_enables_benchmarks_and_keeps_the_peak(tmp_path):
    args = cli_parser().parse_args(["-k", "conv", "--threads", "2"])
    command = pytest_command(args, tmp_path / "b.json")
    assert "--benchmark-enable" in command
    assert f"--benchmark-json={tmp_path / 'b.json'}" in command
    assert command[command.index("-k") + 1] == "(conv) or gemm_peak"
    assert command[command.index("-p") + 1] == "no:randomly"
    files = [Path(c).name for c in command if c.endswith(".py")]
    assert "test_bench_conv.py" in files and "test_bench_gemm.py" in files
    assert all(name.startswith("test_bench_") for name in files)  # not the tooling's tests


def test_pin_environment_overrides_every_thread_variable():
    env = {THREADS_ENV: "3", "OMP_NUM_THREADS": "8"}
    assert pin_environment(env) == 3
    assert all(env[name] == "3" for name in THREAD_VARS)
    assert pin_environment({}) == 1
    for bad in ("0", "-1", "two", "1.5", "²"):  # "²".isdigit(), but int() refuses it
        with pytest.raises(ValueError, match="PARITY_BENCH_THREADS"):
            parse_threads(bad)


def test_summed_gradient_tolerance_accepts_rounding_not_bugs():
    from benchmarks.common import summed_gradient_tolerance
    from parity_tests.compare import compare
    from parity_tests.tolerances import PARITY

    base = PARITY[np.dtype(np.float32)]
    rng = np.random.default_rng(0)
    expected = (rng.standard_normal(1000) * 300).astype(np.float32)
    tol = summed_gradient_tolerance(base, 25_088, expected)
    rounding = expected + (rng.standard_normal(1000) * 5e-6 * 300).astype(np.float32)
    assert compare("g", rounding, expected, tol, guard=True).ok
    wrong = expected * np.float32(1.001)  # a 0.1 % error: a real bug
    assert not compare("g", wrong, expected, tol).ok
    assert "M=25088 terms" in tol.reason


def test_kinked_comparison_passes_flips_and_fails_bugs():
    from benchmarks.common import KINKED
    from parity_tests.compare import compare

    rng = np.random.default_rng(1)
    expected = rng.standard_normal(100_000).astype(np.float32)
    flipped = expected.copy()
    flipped[[5, 500]] = 0.0  # two ReLU kinks rounded the other way
    assert compare("input_grad", flipped, expected, KINKED).ok
    assert not compare("input_grad", expected * np.float32(0.9), expected, KINKED).ok


def test_benchmark_check_rejects_another_dtype():
    """An upcast float32 path is not a float32 timing, whatever the harness's compare says
    about dtypes (it leaves them to its own dtype check)."""
    from benchmarks.common import KINKED, compare_checked

    expected = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    same = compare_checked({"input_grad": expected.copy()}, {"input_grad": expected},
                           lambda name, e: KINKED)
    assert all(c.ok for c in same)
    upcast = compare_checked({"input_grad": expected.astype(np.float64)},
                             {"input_grad": expected}, lambda name, e: KINKED)
    assert not upcast[0].ok and "dtype float64 != torch dtype float32" in upcast[0].problem


def test_synthetic_data_is_not_mutated_by_rendering():
    data = synthetic()
    before = copy.deepcopy(data)
    report.render_markdown(data)
    assert data == before
