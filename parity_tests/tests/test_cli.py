"""``parity check``: exit codes, the printed tables and the Markdown/JSON reports."""

from __future__ import annotations

import json

import pytest

from numpy_impl import softmax
from parity_tests.checks import CHECK_NAMES
from parity_tests.cli import main


def test_check_writes_reports_and_exits_zero(tmp_path, capsys):
    code = main(["check", "--layer", "softmax", "--layer", "linear", "--dtype", "float64",
                 "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "softmax" in out and "linear" in out and "checks passed" in out
    report = json.loads((tmp_path / "parity.json").read_text())
    assert report["environment"]["seed"] == 0
    assert {"numpy", "torch", "platform", "python"} <= set(report["environment"])
    checks = {r["check"] for r in report["results"]}
    assert checks == set(CHECK_NAMES) - {"buffers"}  # all but buffers: neither layer has any
    assert all(r["dtype"] in ("float64", None) for r in report["results"])
    assert all(r["ok"] for r in report["results"])
    markdown = (tmp_path / "parity.md").read_text()
    assert "## softmax" in markdown and "## linear" in markdown
    assert "| b256c10 | float64 | loop | forward |" in markdown


def test_check_fails_with_the_message_on_a_bug(tmp_path, capsys, monkeypatch):
    original = softmax.Softmax.backward
    monkeypatch.setattr(softmax.Softmax, "backward", lambda self, dy: 2 * original(self, dy))
    code = main(["check", "--layer", "softmax", "--config", "b256c10", "--impl", "vectorized",
                 "--check", "input-grad", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out
    assert ("repro      parity check --layer softmax --config b256c10 --dtype float32 "
            "--impl vectorized --check input-grad --seed 0") in out
    report = json.loads((tmp_path / "parity.json").read_text())
    assert not any(r["ok"] for r in report["results"])
    assert "## Failures" in (tmp_path / "parity.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--layer", "nonsense"], "unknown layer 'nonsense'"),
        (["check", "--layer", "relu", "--config", "nonsense"], "select no case"),
    ],
)
def test_bad_selection_exits_two(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().out


def test_seed_changes_the_data_but_not_the_verdict(tmp_path):
    runs = []
    for seed in (0, 1):
        out = tmp_path / str(seed)
        assert main(["check", "--layer", "tanh", "--check", "forward", "--seed", str(seed),
                     "--out", str(out), "--no-progress"]) == 0
        runs.append(json.loads((out / "parity.json").read_text())["results"])
    assert [r["tensors"][0]["max_abs"] for r in runs[0]] != [
        r["tensors"][0]["max_abs"] for r in runs[1]]


def test_list(capsys):
    assert main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    assert "softmax" in out and "impl: loop, vectorized" in out
    assert all(name in out for name in CHECK_NAMES)
