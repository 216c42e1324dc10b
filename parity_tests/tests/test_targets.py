"""Outside targets: the routes that load them and the outcomes they get (SKIP, a forward-only
verdict, a dtype failure with the values still compared, a wrong output shape)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parity_tests import checks, cli, targets
from parity_tests.adapters import Adapter, Param, Target, Unsupported, read, target_entry
from parity_tests.pytest_plugin import check_layer
from parity_tests.tests import outside_layers

HERE = Path(__file__).resolve().parent
MODULE = "parity_tests.tests.outside_layers"


def statuses(entry: object, **selection: object) -> dict[str, str]:
    return {job.id: job.run(0).status for job in checks.plan(entries=[entry], **selection)}


def only(results: dict[str, str], check: str) -> set[str]:
    return {status for job_id, status in results.items() if job_id.startswith(check + "-")}


# --------------------------------------------------------------------------- routes
def test_a_contract_following_class_needs_no_glue(tmp_path):
    flat = [f"--config={name}" for name in ("b32i64o16", "b1i1o1", "nobias-b8i5o3")]
    code = cli.main(["check", "--target", f"{MODULE}:ContractLinear", "--as", "linear",
                     "--dtype", "float64", *flat, "--out", str(tmp_path), "--no-progress"])
    data = json.loads((tmp_path / "parity.json").read_text())
    counts = data["summary"]["counts"]
    assert code == 0, data["summary"]
    assert counts["pass"] > 0 and counts["fail"] == counts["error"] == 0
    skipped = [r for r in data["results"] if r["status"] == "skip"]
    assert all(r["check"] == "bad-input" for r in skipped)  # error messages: not its contract


def test_target_options_are_checked_before_anything_runs(capsys):
    for argv, message in [
        (["--target", f"{MODULE}:ContractLinear"], "--target needs --as ENTRY"),
        (["--target", "nowhere.module:X", "--as", "linear"], "cannot import 'nowhere.module'"),
        (["--target", f"{MODULE}:Missing", "--as", "linear"], "has no attribute 'Missing'"),
        (["--target", f"{MODULE}:ContractLinear", "--as", "lenear"],
         "like='lenear' is not a registry entry"),
        (["--plugin", "no/such/file.py"], "--plugin no/such/file.py: no such file"),
    ]:
        assert cli.main(["check", *argv, "--no-progress"]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_a_plugin_file_and_its_repro_line(tmp_path):
    (tmp_path / "my plugins").mkdir()  # a blank in the path: the repro line quotes it
    plugin = tmp_path / "my plugins" / "my_plugin.py"
    plugin.write_text(
        "from parity_tests.adapters import Target\n"
        f"from {MODULE} import CrashingBackwardTanh\n"
        "TARGETS = [Target(CrashingBackwardTanh, like='tanh', name='mine.Tanh')]\n")
    out = tmp_path / "out"
    code = cli.main(["check", "--plugin", str(plugin), "--check", "input-grad", "--dtype",
                     "float32", "--config", "b64d32", "--out", str(out), "--no-progress"])
    assert code == 3  # the backward raised: ERROR, not FAIL
    record = json.loads((out / "parity.json").read_text())["results"][0]
    assert record["repro"] == (f"parity check --plugin '{plugin}' --layer mine.Tanh --config "
                               "b64d32 --dtype float32 --check input-grad --seed 0")
    rerun = subprocess.run([sys.executable, "-m", "parity_tests.cli",
                            *shlex.split(record["repro"])[1:], "--out", str(tmp_path / "again"),
                            "--no-progress"], capture_output=True, text=True, check=False)
    assert rerun.returncode == 3 and "ERROR input-grad-mine.Tanh" in rerun.stdout


def test_installed_packages_register_through_entry_points(monkeypatch):
    class Point:
        name, value = "demo", "demo.plugin:TARGETS"

        @staticmethod
        def load() -> list:
            return [Target(outside_layers.UpcastingSigmoid, like="sigmoid", name="demo.Sigmoid")]

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [Point()])
    entries = targets.installed_entries()
    assert [e.name for e in entries] == ["demo.Sigmoid"] and entries[0].outside


@pytest.mark.slow
def test_the_pytest_plugin_selects_one_job_by_its_exact_id(tmp_path):
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "from parity_tests.adapters import Target\n"
        f"from {MODULE} import UpcastingSigmoid\n"
        "TARGETS = [Target(UpcastingSigmoid, like='sigmoid', name='up.Sigmoid')]\n")
    job = "dtype-up.Sigmoid-float32-b64d32"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--parity-plugin",
         str(plugin), "--parity-job", job, "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=tmp_path)
    assert "1 failed" in result.stdout, result.stdout[-2000:]
    assert f"FAIL {job}" in result.stdout


def test_check_layer_raises_with_every_failure_and_returns_results_when_clean():
    with pytest.raises(AssertionError, match="dtype-"):
        check_layer(outside_layers.UpcastingSigmoid, like="sigmoid", checks=["dtype"])
    results = check_layer(outside_layers.ContractLinear, like="linear", checks=["forward"])
    assert results and all(r.status in ("pass", "skip") for r in results)


# --------------------------------------------------------------------------- outcomes
def test_an_unsupported_config_is_skip_with_the_reason_never_pass():
    adapter = Adapter(supports=lambda config: "no bias" if config.get("bias") is False else None)
    entry = target_entry(Target(outside_layers.ContractLinear, "linear", adapter), "")
    results = statuses(entry, configs=["nobias-b8i5o3"], dtypes=["float64"])
    assert set(results.values()) == {"skip"}
    result = checks.plan(["forward"], configs=["nobias-b8i5o3"], dtypes=["float64"],
                         entries=[entry])[0].run(0)
    assert result.skipped == "no bias"


def test_a_crashing_backward_still_gets_a_forward_verdict():
    entry = target_entry(Target(outside_layers.CrashingBackwardTanh, "tanh"), "")
    results = statuses(entry, configs=["b64d32"], dtypes=["float32"])
    assert only(results, "forward") == {"pass"}
    assert only(results, "input-grad") == {"error"}
    message = checks.plan(["input-grad"], configs=["b64d32"], dtypes=["float32"],
                          entries=[entry])[0].run(0).message()
    assert "numpy backward raised IndexError: backward: list index out of range" in message


def test_an_upcasting_layer_has_its_values_compared_and_its_dtype_failed():
    entry = target_entry(Target(outside_layers.UpcastingSigmoid, "sigmoid"), "")
    results = statuses(entry, configs=["b64d32"], dtypes=["float32"])
    assert only(results, "forward") == only(results, "input-grad") == {"pass"}
    assert only(results, "dtype") == {"fail"}


def test_a_wrong_output_shape_fails_before_torch_runs_backward():
    entry = target_entry(Target(outside_layers.FlatteningReLU, "relu"), "")
    results = statuses(entry, configs=["b64d32"], dtypes=["float64"])
    assert only(results, "forward") == {"fail"}
    assert only(results, "input-grad") == {"fail"}  # not an ERROR from torch's backward
    grad = checks.plan(["input-grad"], configs=["b64d32"], dtypes=["float64"],
                       entries=[entry])[0].run(0)
    assert "gradients not compared" in grad.failures()[0].problem


def _mse(mean_under_none: bool = False) -> object:
    adapter = Adapter(construct=lambda c: outside_layers.TargetFirstMSE(
        c.get("reduction", "mean"), mean_under_none), forward="target, prediction",
        backward="target, prediction")
    return target_entry(Target(outside_layers.TargetFirstMSE, "mse", adapter), "")


def test_a_loss_whose_backward_takes_no_upstream_gradient_is_checked_under_reduction_none():
    # ∂(Σ ℓ)/∂p from the outside loss, dy applied by the adapter: exact for the right loss,
    # and a "none" gradient divided by the count (the mean's) still fails
    verdicts = ["forward", "input-grad"]
    mse = statuses(_mse(), checks=verdicts, configs=["none-b8d4", "b32d8", "sum-b32d8"])
    assert len(mse) == 12 and set(mse.values()) == {"pass"}
    wrong = statuses(_mse(mean_under_none=True), checks=["input-grad"],
                     configs=["none-b8d4", "b32d8"])
    assert len(wrong) == 4
    assert all(status == ("fail" if "none-" in job else "pass") for job, status in wrong.items())
    # a per-row loss over the class axis, one-hot targets, ignored rows left out
    entry = target_entry(Target(outside_layers.OneHotCrossEntropy, "softmax_cross_entropy",
                                Adapter(targets="one-hot", backward="none")), "")
    configs = ["none-labels-b16c10", "none-soft-b8c5", "kdim-none-labels-b2h3w4c5",
               "kdim-none-soft-b2t3c5", "labels-b64c10", "ignore-labels-b32c5"]
    results = statuses(entry, checks=verdicts, configs=configs)
    assert len(results) == 24 and set(results.values()) == {"pass"}


def test_a_lazy_channels_first_layer_through_an_adapter():
    def supports(config: dict) -> str | None:
        if config.get("kernel_size") not in (1, (1, 1)) or config.get("padding", 0) != 0:
            return "1x1 kernels without padding only"
        if isinstance(config.get("stride", 1), tuple):
            return "one stride for both axes"
        return None

    adapter = Adapter(
        construct=lambda c: outside_layers.LazyChannelsFirstConv(
            c["out_channels"], c.get("stride", 1), c.get("bias", True)),
        supports=supports, lazy=True, data_format="NCHW",
        params={"weight": Param("w", grad="dw", layout="(out, in)"),
                "bias": Param("b", grad="db", layout="(1, n)")})
    entry = target_entry(Target(outside_layers.LazyChannelsFirstConv, "conv2d", adapter), "")
    results = statuses(entry, configs=["b3h4w4c5o2-k1", "b2h6w6c4o8-k1-s2"],
                       dtypes=["float64"])
    failing = {job: status for job, status in results.items()
               if status != "pass" and not job.startswith("bad-input")}
    assert not failing and only(results, "param-grads") == {"pass"}
    assert only(statuses(entry, configs=["b2h5w6c3o4-k2x3"], dtypes=["float64"]),
                "forward") == {"skip"}


def test_attribute_paths_and_layout_views_are_live():
    class Holder:
        def __init__(self) -> None:
            self.parameters = {"W": np.arange(6.0).reshape(2, 3)}

    holder = Holder()
    assert read(holder, "parameters[W]") is holder.parameters["W"]
    entry = target_entry(Target(outside_layers.ContractLinear, "linear"), "")
    layer = entry.build({"in_features": 3, "out_features": 2}, np.dtype(np.float64),
                        np.random.default_rng(0))
    layer.params["weight"][0, 0] = 42.0  # the harness perturbs parameters in place
    assert layer.outside.params["weight"][0, 0] == 42.0
    with pytest.raises(Unsupported, match="takes no weight_init"):
        entry.build({"in_features": 3, "out_features": 2, "weight_init": "zeros"},
                    np.dtype(np.float64), np.random.default_rng(0))
