"""``parity check``: exit codes, options checked first, errors as results, atomic reports,
the console, JUnit XML and the CI job summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from numpy_impl import conv, softmax
from parity_tests import cli, report
from parity_tests.checks import CHECK_NAMES, Job, plan
from parity_tests.registry import REGISTRY

QUIET = ["--no-progress"]


def check(tmp_path: Path, *argv: str) -> int:
    return cli.main(["check", *argv, "--out", str(tmp_path / "out"), *QUIET])


def read_json(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "parity.json").read_text())


# --------------------------------------------------------------------------- reports
@pytest.mark.slow
def test_check_writes_reports_and_exits_zero(tmp_path, capsys):
    assert check(tmp_path, "--layer", "softmax", "--layer", "linear", "--dtype", "float64") == 0
    out = capsys.readouterr().out
    assert "softmax" in out and "linear" in out and "PASS:" in out
    data = read_json(tmp_path)
    assert data["environment"]["seed"] == 0
    assert {"numpy", "torch", "platform", "python"} <= set(data["environment"])
    assert set(data["summary"]) >= {"counts", "failed", "errored", "closest_to_failing"}
    checks = {r["check"] for r in data["results"]}
    assert checks == set(CHECK_NAMES) - {"buffers"}  # all but buffers: neither layer has any
    assert all(r["dtype"] in ("float64", None) for r in data["results"])
    assert all(r["status"] == "pass" for r in data["results"])
    markdown = (tmp_path / "out" / "parity.md").read_text()
    assert markdown.startswith("# Parity report\n\n**PASS:")
    assert "### softmax" in markdown and "### linear" in markdown
    assert "| b256c10 | float64 | loop | forward |" in markdown


def test_a_failure_exits_one_with_the_message_first_in_the_reports(tmp_path, capsys,
                                                                    monkeypatch):
    original = softmax.Softmax.backward
    monkeypatch.setattr(softmax.Softmax, "backward", lambda self, dy: 2 * original(self, dy))
    code = check(tmp_path, "--layer", "softmax", "--config", "b256c10", "--impl",
                 "vectorized", "--check", "input-grad")
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL input-grad-softmax-vectorized-float32-b256c10" in out
    assert ("repro      parity check --layer softmax --config b256c10 --dtype float32 "
            "--impl vectorized --check input-grad --seed 0") in out
    data = read_json(tmp_path)
    assert data["summary"]["failed"] == ["input-grad-softmax-vectorized-float32-b256c10",
                                         "input-grad-softmax-vectorized-float64-b256c10"]
    markdown = (tmp_path / "out" / "parity.md").read_text()
    assert markdown.index("### Failures") < markdown.index("## Every check")


def test_a_layer_that_raises_is_error_the_others_still_run_and_reports_are_written(
        tmp_path, capsys, monkeypatch):
    def swapped_strides(self: conv.Conv2D, cache: object, dy: object) -> None:
        raise ValueError("col2im: strides swapped")

    monkeypatch.setattr(conv.Conv2D, "_backward_vectorized", swapped_strides)
    junit = tmp_path / "junit.xml"
    code = check(tmp_path, "--layer", "relu", "--layer", "conv2d", "--config", "b64d32",
                 "--config", "b2h5w6c3o4-k2x3", "--junit", str(junit))
    out = capsys.readouterr().out
    assert code == 3  # errors, no failure
    assert "ERROR input-grad-conv2d-vectorized-float32-b2h5w6c3o4-k2x3: numpy backward " \
           "raised ValueError: col2im: strides swapped" in out
    data = read_json(tmp_path)
    statuses = {r["id"]: r["status"] for r in data["results"]}
    assert statuses["forward-conv2d-vectorized-float32-b2h5w6c3o4-k2x3"] == "pass"
    assert statuses["forward-relu-float32-b64d32"] == "pass"
    assert "input-grad-conv2d-vectorized-float32-b2h5w6c3o4-k2x3" in data["summary"]["errored"]
    assert "impl-agreement-conv2d-loop-float32-b2h5w6c3o4-k2x3" in data["summary"]["errored"]
    errors = ET.parse(junit).getroot().findall(".//testcase/error")
    assert errors and all("col2im" in e.text for e in errors)


def test_exit_codes_are_documented_in_help(capsys):
    assert cli.main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    for text in ("0 all passed", "1 a check failed", "3 a check raised", "2 a usage error",
                 "130 interrupted"):
        assert text in out


# --------------------------------------------------------------------------- options first
BAD_OPTIONS = [
    (["--out", "{file}"], "--out {file}: is a file"),
    (["--seed", "-1"], "argument --seed: expected a non-negative integer"),
    (["--seed", "²"], "argument --seed: expected a non-negative integer"),  # isdigit, not int
    (["--seeds", "0-²"], "argument --seeds: expected A-B such as 0-199"),
    (["--jobs", "²"], "argument --jobs: expected an integer >= 1"),
    (["--shard", "1/²"], "argument --shard: expected K/N"),
    (["--config", "bogus"], "--config bogus: no sample config or error input"),
    (["--impl", "fast"], "--impl fast: unknown impl path; valid: loop, vectorized"),
    (["--layer", "relu", "--impl", "vectorized"], "relu has no impl paths"),
    (["--layer", "bogus"], "--layer bogus: not a registry layer; known: identity"),
    (["--check", "torch"], "argument --check: invalid choice: 'torch'"),
    (["--shard", "3/2"], "argument --shard: K must lie in 1..N"),
    (["--shard", "x"], "argument --shard: expected K/N"),
    (["--junit", "{dir}"], "--junit {dir}: is a directory"),
    (["--layer", "relu", "--check", "impl-agreement"], "the filters select no check"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_OPTIONS,
                         ids=[" ".join(argv) for argv, _ in BAD_OPTIONS])
def test_a_bad_option_is_refused_before_any_case_runs(argv, message, capsys, monkeypatch,
                                                      tmp_path):
    ran = []
    monkeypatch.setattr(Job, "run", lambda self, *args: ran.append(self))
    places = {"file": tmp_path / "a_file", "dir": tmp_path}
    places["file"].write_text("")
    argv = [a.format(**places) for a in argv]
    message = message.format(**places)
    out = [] if "--out" in argv else ["--out", str(tmp_path / "out")]
    code = cli.main(["check", *argv, *out])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not ran


def test_repeated_filters_count_once(tmp_path):
    assert check(tmp_path, "--layer", "relu", "--layer", "relu", "--check", "forward",
                 "--check", "forward") == 0
    ids = [r["id"] for r in read_json(tmp_path)["results"]]
    assert len(ids) == len(set(ids)) == len(plan(["forward"], ["relu"]))


@pytest.mark.slow
def test_list_is_safe_in_a_pipe_and_help_imports_nothing_heavy():
    command = [sys.executable, "-m", "parity_tests.cli", "check", "--list"]
    listing = subprocess.run(f"{' '.join(command)} | head -1", shell=True, text=True,
                             capture_output=True, check=False)
    assert listing.returncode == 0 and listing.stdout == "checks:\n"
    assert "Traceback" not in listing.stderr and "BrokenPipe" not in listing.stderr
    probe = ("import sys; from parity_tests.cli import main\n"
             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "check" in result.stdout and "bench" in result.stdout


def test_ctrl_c_gives_a_clean_message_and_130(tmp_path, capsys, monkeypatch):
    def interrupt(self: Job, *args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Job, "run", interrupt)
    assert check(tmp_path, "--layer", "relu") == 130
    assert "interrupted" in capsys.readouterr().err


# --------------------------------------------------------------------------- atomic reports
def test_a_failed_write_leaves_the_previous_reports_intact(tmp_path, capsys, monkeypatch):
    assert check(tmp_path, "--layer", "tanh", "--check", "forward") == 0
    before = {p.name: p.read_text() for p in (tmp_path / "out").iterdir()}
    real_fdopen = os.fdopen
    calls = []

    def failing_second_file(fd: int, *args: object, **kwargs: object) -> object:
        calls.append(fd)
        if len(calls) == 2:  # parity.json was written to its temporary file; now fail
            raise OSError(28, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(report.os, "fdopen", failing_second_file)
    assert check(tmp_path, "--layer", "relu", "--check", "forward") == 3
    assert "could not write the reports" in capsys.readouterr().err
    after = {p.name: p.read_text() for p in (tmp_path / "out").iterdir()}
    assert after == before  # both old files, no temporary file left behind


def test_an_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "parity.json"
    target.write_text("old")
    real_fdopen = os.fdopen

    def interrupted(fd: int, *args: object, **kwargs: object) -> object:
        stream = real_fdopen(fd, *args, **kwargs)
        stream.write("{ half")
        raise KeyboardInterrupt

    monkeypatch.setattr(report.os, "fdopen", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.atomic_write({target: "new"})
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


# --------------------------------------------------------------------------- console and CI
def _records(layers: int) -> tuple[dict, list[dict]]:
    records = []
    for entry in REGISTRY[:layers]:
        for job in plan(layers=[entry.name], checks=["forward"])[:3]:
            records.append(report.result_record(job.run(0)))
    return report.summary(records, 1.0), records


def test_a_green_console_fits_in_40_lines_of_100_columns():
    info, records = _records(len(REGISTRY))
    lines = report.console_lines(info, records, ["reports/parity/parity.json",
                                                 "reports/parity/parity.md"])
    assert len(lines) < 40
    assert max(len(line) for line in lines) <= 100
    assert lines[-2].startswith("PASS:")


def test_junit_xml_has_one_testcase_per_check_and_the_failures(tmp_path, monkeypatch):
    original = softmax.Softmax.backward
    monkeypatch.setattr(softmax.Softmax, "backward", lambda self, dy: 2 * original(self, dy))
    junit = tmp_path / "junit.xml"
    assert check(tmp_path, "--layer", "softmax", "--config", "b256c10", "--junit",
                 str(junit)) == 1
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    results = read_json(tmp_path)["results"]
    assert len(cases) == len(results) == int(suite.get("tests"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == int(suite.get("failures")) == sum(
        r["status"] == "fail" for r in results)
    assert failures[0].find("failure").get("message").startswith("FAIL input-grad-softmax")


def test_step_summary_appends_markdown_with_a_table(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("## an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert check(tmp_path, "--layer", "tanh", "--check", "forward") == 0
    text = summary.read_text()
    assert text.startswith("## an earlier step\n## parity check\n")
    tokens = MarkdownIt().enable("table").parse(text)
    assert any(t.type == "table_open" for t in tokens)
    assert "**PASS:" in text


def test_shards_partition_the_cases(tmp_path):
    ids = []
    for k in (1, 2, 3):
        out = tmp_path / str(k)
        assert cli.main(["check", "--layer", "relu", "--check", "forward", "--shard",
                         f"{k}/3", "--out", str(out), *QUIET]) == 0
        ids.append({r["id"] for r in json.loads((out / "parity.json").read_text())["results"]})
    assert not (ids[0] & ids[1] or ids[1] & ids[2] or ids[0] & ids[2])
    assert set().union(*ids) == {job.id for job in plan(["forward"], ["relu"])}


def test_seed_changes_the_data_but_not_the_verdict(tmp_path):
    runs = []
    for seed in (0, 1):
        out = tmp_path / str(seed)
        assert cli.main(["check", "--layer", "tanh", "--check", "forward", "--seed", str(seed),
                         "--out", str(out), *QUIET]) == 0
        runs.append(json.loads((out / "parity.json").read_text())["results"])
    assert [r["tensors"][0]["max_abs"] for r in runs[0]] != [
        r["tensors"][0]["max_abs"] for r in runs[1]]


def test_list_names_every_check_and_layer(capsys):
    assert cli.main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    assert "softmax" in out and "impl: loop, vectorized" in out
    assert all(name in out for name in CHECK_NAMES)
