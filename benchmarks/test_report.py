"""Tests of the benchmark machinery (not of timings): the report from a synthetic
pytest-benchmark JSON, ``--compare`` regressions, thread pinning, the check tolerance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import report
from benchmarks.cli import main, pytest_command
from benchmarks.cli import parser as cli_parser
from benchmarks.threads import THREAD_VARS, THREADS_ENV, parse_threads, pin_environment


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


def synthetic(slow_conv: float = 1.0) -> dict:
    """Softmax (loop scaled ×64), conv (one target met, one not), linear and the GEMM peak."""
    conv28 = report.CONV_28
    benchmarks = [
        bench("softmax", "bwd", "256x10", "float32", "loop", 2e-3),
        bench("softmax", "bwd", "256x10", "float32", "vectorized", 1e-5),
        bench("softmax", "bwd", "256x10", "float32", "torch", 2e-5),
        bench("softmax", "bwd", "4096x1000", "float32", "loop", 0.1, scale=64.0),
        bench("softmax", "bwd", "4096x1000", "float32", "vectorized", 0.02),
        bench("softmax", "bwd", "4096x1000", "float32", "torch", 0.01),
        bench("conv2d", "fwd+bwd", conv28, "float32", "loop", 0.5, flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "vectorized", 0.05 * slow_conv,
              flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "torch", 0.04, flops=3e9),
        bench("conv2d", "fwd+bwd", conv28, "float32", "torch_cl", 0.02, flops=3e9),
        bench("linear", "fwd+bwd", "256x784to512", "float64", "vectorized", 0.01),
        bench("linear", "fwd+bwd", "256x784to512", "float64", "torch", 0.02),
        bench("gemm", "fwd", "2048x2048x2048", "float32", "numpy", 0.5, flops=2 * 2048.0**3,
              label="np.matmul 2048³"),
    ]
    return {
        "machine_info": {"parity": {
            "threads": 1, "cpu_model": "Test CPU 9000", "logical_cores": 2,
            "affinity_cores": 2, "python": "3.11", "numpy": "2.x", "torch": "2.13.0+cpu",
            "torch_threads": 1, "torch_mkldnn": True, "env": {"OMP_NUM_THREADS": "1"},
            "threadpools": [{"user_api": "blas", "internal_api": "openblas",
                             "version": "0.3.31", "num_threads": 1,
                             "architecture": "Haswell"}]}},
        "commit_info": {"id": "0123456789abcdef", "dirty": False},
        "datetime": "2026-01-01T00:00:00", "version": "5.3.1",
        "benchmarks": benchmarks,
    }


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


# --------------------------------------------------------------------------- report
def test_groups_ratios_and_loop_scaling():
    groups = {g.size: g for g in report.groups(report.entries(synthetic()))}
    small, large = groups["256x10"], groups["4096x1000"]
    assert small.speedup == pytest.approx(200.0)
    assert small.vs_torch == pytest.approx(0.5)
    assert large.median("loop") == pytest.approx(6.4)  # 0.1 s on 64 rows, ×64
    assert large.speedup == pytest.approx(320.0)
    conv = groups[report.CONV_28]
    assert conv.vs_torch_cl == pytest.approx(2.5)
    assert conv.variants["vectorized"].gflops == pytest.approx(60.0)
    assert "gemm" not in {g.layer for g in groups.values()}


def test_targets_met_and_not_met():
    groups = report.groups(report.entries(synthetic()))
    results = {r.target.title: r for r in (report.evaluate(t, groups) for t in report.TARGETS)}
    assert results["Softmax backward 256×10 vs autograd"].status == "met"
    assert results["Softmax backward 4096×1000 vs autograd"].status == "NOT met"  # 2×
    assert results["Conv2D fwd+bwd N=32 28² 16→32"].status == "NOT met"  # 2.5× vs cl
    assert results["Softmax loop → vectorized (every size)"].value == pytest.approx(200.0)
    assert results["SE block fwd+bwd N=32 16² C=64"].status == "not measured"
    assert results["Linear fwd+bwd 256×784→512"].status == "not measured"  # float64 only


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
    assert "| softmax | bwd | 256x10 | float32 | 2 ms | 10 µs | 20 µs | – | 200× | 0.5× |" \
        in text
    assert "**NOT met**" in text and "| met |" in text
    assert "GFLOP/s: vectorized 60.0, torch 75.0, torch_cl 150.0 (GEMM peak 34.4)" in text


def test_report_survives_a_json_without_our_extra_info(tmp_path):
    data = synthetic()
    data["benchmarks"].append({"group": None, "name": "test_other", "fullname": "x::other",
                               "extra_info": {}, "stats": {"median": 1.0}})
    data["machine_info"] = {}
    text, _ = report.render_markdown(data)
    assert "unknown" in text and "test_other" not in text


# --------------------------------------------------------------------------- --compare
def test_compare_flags_a_regression_and_exits_1(tmp_path, capsys):
    baseline = write(tmp_path / "base.json", synthetic())
    current = write(tmp_path / "now.json", synthetic(slow_conv=1.5))  # conv 50 % slower
    out = tmp_path / "out"
    code = main(["--from-json", str(current), "--out", str(out), "--compare", str(baseline),
                 "--threshold", "0.2", "--no-chart"])
    assert code == 1
    text = (out / "report.md").read_text()
    assert "## Regressions" in text and "+50% **REGRESSION**" in text
    assert "conv2d[fwd+bwd" in capsys.readouterr().err


def test_compare_within_threshold_passes(tmp_path):
    baseline = write(tmp_path / "base.json", synthetic())
    current = write(tmp_path / "now.json", synthetic(slow_conv=1.15))  # 15 % < 20 %
    out = tmp_path / "out"
    code = main(["--from-json", str(current), "--out", str(out), "--compare", str(baseline),
                 "--no-chart"])
    assert code == 0
    text = (out / "report.md").read_text()
    assert "REGRESSION" not in text and "+15%" in text and "None." in text


def test_compare_new_benchmarks_are_not_regressions():
    now = report.entries(synthetic())
    base = [e for e in report.entries(synthetic(slow_conv=0.1)) if e.layer != "softmax"]
    deltas = report.compare_runs(now, base, 0.2)
    assert {d.entry.layer for d in deltas} == {"conv2d", "linear", "gemm"}
    assert [d.entry.variant for d in deltas if d.regression] == ["vectorized"]


# --------------------------------------------------------------------------- cli, threads
def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["--from-json", str(tmp_path / "missing.json"), "--out", str(tmp_path)]) == 2
    assert main(["--threads", "0"]) == 2
    assert main(["--threshold", "-1"]) == 2
    bad = write(tmp_path / "bad.json", {"not": "benchmarks"})
    assert main(["--from-json", str(bad), "--out", str(tmp_path / "o")]) == 2
    capsys.readouterr()


def test_pytest_command_enables_benchmarks_and_keeps_the_peak(tmp_path):
    args = cli_parser().parse_args(["-k", "conv", "--threads", "2"])
    command = pytest_command(args, tmp_path / "b.json")
    assert "--benchmark-enable" in command
    assert f"--benchmark-json={tmp_path / 'b.json'}" in command
    assert command[command.index("-k") + 1] == "(conv) or gemm_peak"
    assert command[command.index("-p") + 1] == "no:randomly"


def test_pin_environment_overrides_every_thread_variable():
    env = {THREADS_ENV: "3", "OMP_NUM_THREADS": "8"}
    assert pin_environment(env) == 3
    assert all(env[name] == "3" for name in THREAD_VARS)
    assert pin_environment({}) == 1
    for bad in ("0", "-1", "two", "1.5"):
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
    assert not compare("input_grad", expected.astype(np.float64), expected, KINKED).ok


def test_every_markdown_table_row_has_its_header_column_count():
    import re

    text, _ = report.render_markdown(synthetic(), "report.png", "benchmarks.json")
    pipes = re.compile(r"(?<!\\)\|")
    widths: list[int] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            widths.append(len(pipes.findall(line)))
            continue
        assert len(set(widths)) <= 1, f"ragged table before {line!r}: {widths}"
        widths = []
