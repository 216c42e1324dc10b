"""Outside layers in the seeds' three API styles (examples/outside/), checked through adapters.

Pinned here: each known bug fails exactly the checks it should on exactly its samples (and
the checks it does not touch still pass there), the correct layers pass, every SKIP has its
reason; the ``parity check --plugin`` route with its repro line run as printed; the pytest
plugin selecting one job by its id; the seeds' own classes (extracted from
``../shared/seeds/``) through the same adapters, with the same verdicts where they have the
same bug and the differences docs/outside.md lists; and docs/outside.md itself, rendered from
these pins (``render``) and compared. Every test runs only the jobs its assertion needs.

After a change of the registry (a new sample) or of the examples, regenerate the page; with
``--verify`` the whole plan of every style runs first (a minute or two) and any verdict the pins
do not predict is printed and the page is not written::

    .venv/bin/python -m parity_tests.tests.test_outside --verify --write
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parity_tests import cli
from parity_tests.adapters import target_entry
from parity_tests.check_names import CHECK_NAMES
from parity_tests.checks import ERROR, FAIL, PASS, SKIP, CheckResult, Job, iter_results, plan
from parity_tests.engine import build_case
from parity_tests.entry import Entry, Unsupported
from parity_tests.targets import entries_from, load_plugin_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "outside"
DOC = ROOT / "docs" / "outside.md"
SEEDS = ROOT.parent / "shared" / "seeds"
STYLES = ("style000", "style002", "style004")
#: The seed documents written in each style (000, 001 and 003 hold the same layer code).
SEED_DOCS = {"style000": ("000", "001", "003"), "style002": ("002",), "style004": ("004",)}
STYLE_TITLES = {"style000": "seeds 000/001", "style002": "seed 002", "style004": "seed 004"}
F32, F64, BOTH = ("float32",), ("float64",), ("float32", "float64")
REGENERATE = ".venv/bin/python -m parity_tests.tests.test_outside --verify --write"

# --------------------------------------------------------------------------- the targets
def plugin(style: str) -> str:
    """The plugin file as the commands of docs/outside.md name it (from the checkout)."""
    return f"examples/outside/{style}_plugin.py"


@functools.cache
def plugin_module(style: str) -> Any:
    return load_plugin_file(EXAMPLES / f"{style}_plugin.py")


@functools.cache
def style_entries(style: str) -> dict[str, Entry]:
    """The style's targets as entries, by name, with the origin the CLI gives them."""
    found = entries_from(plugin_module(style), f"--plugin {plugin(style)}", plugin(style))
    return {entry.name: entry for entry in found}


def entry(target: str) -> Entry:
    return style_entries(target.split(".")[0])[target]


def job_id(check: str, target: str, dtype: str, config: str) -> str:
    return f"{check}-{target}-{dtype}-{config}"


# --------------------------------------------------------------------------- the pins
@dataclass(frozen=True)
class Bug:
    """A known bug of the seeds, reproduced in one example target: ``fails`` maps each check
    it breaks to the (configs, dtypes) where it does, configs :data:`EVERY` for every config
    the target runs (not SKIPped, not another bug's ERROR), of which the test runs ``runs``;
    ``passes`` are checks that still pass on those cases; ``controls`` configs where every
    selected check passes. ``seed`` gives the verdicts in which the seed's own class differs
    inside this selection (job id without the target → status) and ``seed_note`` why."""

    key: str
    title: str
    seeds: str
    target: str
    what: str
    fails: Mapping[str, tuple[tuple[str, ...] | str, tuple[str, ...]]]
    runs: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    status: str = FAIL
    example: str = ""
    seed: Mapping[str, str] = field(default_factory=dict)
    seed_note: str = ""

    @property
    def checks(self) -> tuple[str, ...]:
        wanted = set(self.fails) | set(self.passes)
        return tuple(name for name in CHECK_NAMES if name in wanted)

    @property
    def configs(self) -> tuple[str, ...]:
        """The configs the test runs."""
        found = [c for configs, _ in self.fails.values() if configs != EVERY for c in configs]
        return tuple(dict.fromkeys([*found, *self.runs, *self.controls]))

    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(d for d in BOTH if any(d in dts for _, dts in self.fails.values()))

    def failing(self, target: str | None = None, every: bool = True) -> set[str]:
        """The job ids this bug fails (on ``target``, default its example); with ``every``
        False, of :data:`EVERY` only the configs the test runs."""
        target = target or self.target
        return {job_id(check, target, dtype, config)
                for check, (configs, dtypes) in self.fails.items()
                for config in (configs if configs != EVERY else
                               self.every() if every else self.runs)
                for dtype in dtypes}

    def every(self) -> tuple[str, ...]:
        errors = {config for bug in BUGS if bug.target == self.target and bug.status == ERROR
                  for configs, _ in bug.fails.values() for config in configs}
        return tuple(config for config in runnable(self.target) if config not in errors)


#: Every config the target runs (see :class:`Bug`).
EVERY = "every"


LINEAR_CONFIGS = ("b32i64o16", "b2t3i5o4", "vector-i6o3", "b0i4o3", "nonfinite-b6i4o3")
CONV_CONFIGS = ("b2h5w6c3o4-k2x3", "b2h7w7c3o2-k3-s2", "b2h6w7c2o2-same-s2-k4",
                "b0h5w5c3o4-k3-p1-empty", "nonfinite-b2h6w6c3o2-k3-p1")
UPCAST = ("The layer draws float64 weights from np.random, so its product with float32 "
          "input, and every gradient, is float64; the values are right except where float32 "
          "overflows (Linear's `huge-b4i3o2`: finite in float64 where torch's float32 is inf)")
HUGE_LINEAR = "huge-b4i3o2"
HUGE_CONV = "huge-b2h5w5c3o2-k3-p1"
#: overflows in the loop backward's accumulation over positions, not inside one product
HUGE_CONV_PAIR = "huge-pair-b2h5w5c3o2-k3-p1"
SHAPES_2D = ("the seed's backward handles 2-D input only (x.T @ grad): (N, L, in) and 1-D "
             "input raise")
PEAKED = ("peaked-b32c10",)
ZEROS = ("zeros-labels-b16c6", "zeros-soft-b16c6")
NONFINITE_DY = ("nonfinite-dy-b2h6w6c2-k3-s1-p1", "nonfinite-dy-b2h6w6c2-k2")
MAX_PADDED = ("neg-b2h6w6c2-k3s2-p1", "ties-constant-b2h5w5c2-k3s1-p1",
              "neginf-b2h6w6c2-k2-s2-p1")
LEAKY_ZEROS = ("ties-at-zero", "slope0.2-ties-at-zero", "nonfinite-b6d6", "slope0-nonfinite-b6d6")
MSE_CONFIGS = ("b32d8", "b4h5w5c3", "0d", "vector-d7")

BUGS: tuple[Bug, ...] = (
    Bug("upcast-linear", "float32 in, float64 out", "000/001", "style000.Linear", UPCAST,
        {"dtype": (EVERY, F32), "forward": ((HUGE_LINEAR,), F32)}, runs=LINEAR_CONFIGS,
        passes=("forward", "input-grad", "param-grads"), example="b32i64o16",
        seed={f"{check}-float32-{config}": ERROR for check in ("input-grad", "param-grads")
              for config in ("b2t3i5o4", "vector-i6o3")}, seed_note=SHAPES_2D),
    Bug("clipping-000", "cross-entropy clipping", "000/001", "style000.CrossEntropyLoss",
        "The probabilities are clipped to [1e-12, 1 - 1e-12] in the loss and its gradient: a "
        "probability below 1e-12 at a label changes the loss, and p = 0 gets the gradient 0 "
        "where torch's is NaN (0/0)",
        {"forward": (PEAKED, BOTH), "input-grad": (PEAKED + ZEROS, BOTH)},
        controls=("labels-b64c10", "soft-b32c5"), example="peaked-b32c10"),
    Bug("upcast-fully-connected", "float32 in, float64 out", "002", "style002.FullyConnected",
        UPCAST, {"dtype": (EVERY, F32), "forward": ((HUGE_LINEAR,), F32)}, runs=LINEAR_CONFIGS,
        passes=("forward", "input-grad", "param-grads"), example="b32i64o16",
        seed={f"{check}-float32-{config}": ERROR for check in ("forward", "input-grad", "dtype")
              for config in ("b2t3i5o4", "vector-i6o3")},
        seed_note="the seed reads in_features from X.shape[1]: (N, L, in) and 1-D input "
        "raise while the layer is built (so no param-grads job either)"),
    Bug("upcast-conv", "float32 in, float64 out", "002", "style002.Conv2D", UPCAST,
        {"dtype": (EVERY, F32), "forward": ((HUGE_CONV, HUGE_CONV_PAIR), F32),
         "param-grads": ((HUGE_CONV_PAIR,), F32)}, runs=CONV_CONFIGS,
        passes=("forward", "input-grad", "param-grads"), example="b2h5w6c3o4-k2x3"),
    Bug("same-even-kernel", "'same' padding one short for an even kernel", "002",
        "style002.Conv2D",
        "With pad='same' the layer pads (k - 1) // 2 on each side, one row or column short of "
        "torch's k - 1 when k is even: a (5, 6) input with a (2, 4) kernel gives a (4, 5) "
        "output instead of (5, 6)",
        {**{check: (("b2h5w6c2o2-same-s1-k2x4", "b2h3w1c2o2-k2-same"), BOTH)
            for check in ("forward", "input-grad", "param-grads")},
         # W = 1 and k = 2 leave the layer's output empty: its gradient is zero whatever
         # backward does, and the gradient guard says the comparison cannot catch anything
         "finite-diff": (("b2h3w1c2o2-k2-same",), F64)},
        passes=("finite-diff", "warnings", "inputs-untouched", "memory-layout",
                "cache-freshness"),
        controls=("b2h5w5c2o3-same-s1-k3", "b2h6w7c2o2-same-s2-k4"),
        example="b2h5w6c2o2-same-s1-k2x4"),
    Bug("max-pool-zero-padding", "max pooling padded with 0", "002", "style002.Pool2D[max]",
        "The padding is 0, so next to it a window of negative (or −inf) inputs outputs 0 and "
        "sends its gradient into the padding; a window of zeros (ReLU output) sends it to the "
        "padding too, not to the first real zero; torch pads with −inf",
        {"forward": (MAX_PADDED, BOTH),
         "input-grad": (MAX_PADDED + ("ties-relu-b2h6w6c3-k3s2-p1",), BOTH)},
        passes=("finite-diff",), controls=("b2h6w6c3-k2", "ties-int-b2h6w6c3-k2"),
        example="neg-b2h6w6c2-k3s2-p1"),
    Bug("max-pool-mask-times-dy", "a non-finite dY spread over its window", "002",
        "style002.Pool2D[max]",
        "The backward multiplies dY by a 0/1 mask of the window, so an inf or NaN in dY "
        "becomes 0·inf = NaN in every other cell of its window; torch routes dY to the one "
        "cell the window picked",
        {"input-grad": (NONFINITE_DY, BOTH)},
        passes=("forward", "finite-diff"), controls=("b2h6w6c3-k2",),
        example=NONFINITE_DY[0]),
    Bug("upcast-dense", "float32 in, float64 out", "004", "style004.Dense", UPCAST,
        {"dtype": (EVERY, F32), "forward": ((HUGE_LINEAR,), F32)}, runs=LINEAR_CONFIGS,
        passes=("forward", "input-grad", "param-grads"), example="b32i64o16",
        seed={**{f"{check}-float32-b2t3i5o4": ERROR for check in ("input-grad", "param-grads")},
              **{f"{check}-float32-vector-i6o3": FAIL
                 for check in ("forward", "input-grad", "param-grads", "dtype")}},
        seed_note="the seed's backward handles 2-D input only (np.dot(grad.T, input)) and "
        "np.atleast_2d makes a 1-D input's output (1, out), a wrong shape"),
    Bug("leaky-relu-slope-at-0", "LeakyReLU's slope 1 at x = 0", "004", "style004.LeakyReLU",
        "The backward passes dy on where x >= 0: slope 1 at x = 0, where torch's is "
        "negative_slope; only samples with exact zeros show it",
        {"input-grad": (LEAKY_ZEROS, BOTH)}, passes=("forward",),
        controls=("b64d32", "slope0.2-b64d32"), example="ties-at-zero"),
    Bug("clipping-004", "cross-entropy clipping", "004", "style004.CrossEntropywithSoftmax",
        "The loss takes log p of p clipped to [1e-10, 1 - 1e-10]: with extreme logits a "
        "label's probability underflows and its term saturates at −log 1e-10 ≈ 23 where "
        "torch's is about 1e4; the gradient (p − t)/N is not clipped and passes",
        {"forward": (("extreme-labels-b64c10", "huge-labels-b6c3"), BOTH)},
        passes=("input-grad",), controls=("labels-b64c10",), example="extreme-labels-b64c10"),
    Bug("mse-backward", "MSE backward: sign, factor and divisor", "004", "style004.MSELoss",
        "The backward returns (target − prediction) / batch size: the wrong sign, no factor 2 "
        "and the batch size instead of the number of elements (torch: 2 (p − t) / M); the "
        "forward, mean((p − t)²), is right",
        {"input-grad": (MSE_CONFIGS + ("nonfinite-b4d3",), BOTH),
         "finite-diff": (MSE_CONFIGS, F64)}, passes=("forward",), example="b32d8",
        seed={**{f"forward-{dtype}-{config}": FAIL for dtype in BOTH for config in MSE_CONFIGS},
              **{f"{check}-{dtype}-0d": ERROR for check in ("input-grad", "finite-diff")
                 for dtype in BOTH if check != "finite-diff" or dtype == "float64"}},
        seed_note="the seed's forward is ½·mean((p − t)²), so its forward fails too (not on "
        "the −inf sample: ½·inf is inf), and its backward reads target.shape[0], which a 0-d "
        "target does not have"),
)
BUG_BY_KEY = {bug.key: bug for bug in BUGS}

#: Layers with no known bug: every check passes on these configs (both dtypes).
CORRECT: dict[str, tuple[str, ...]] = {
    "style000.Sigmoid": ("b64d32", "extreme-1e4", "nonfinite-b6d6"),
    "style000.Softmax": ("b256c10", "b4t3c7", "nonfinite-b8c6", "b3c0", "0d"),
    "style002.Linear": ("b64d32",),
    "style002.ReLU": ("ties-at-zero", "nonfinite-b6d6"),
    "style002.Sigmoid": ("extreme-1e4", "0d"),
    "style002.SoftMax": ("b4t3c7", "vector-c7", "huge-b6c3"),
    "style002.Pool2D[average]": ("neg-b2h6w6c2-k3s2-p1", "b2h8w9c2-k3s2"),
    "style002.CrossEntropy": ("labels-b64c10", "zeros-labels-b16c6", "ignore-labels-b32c5",
                              "all-ignored-b4c3", "kdim-soft-b4t3c5"),
    "style004.ReLU": ("nonfinite-b6d6",),
    "style004.Sigmoid": ("extreme-1e4",),
    "style004.Tanh": ("b64d32", "extreme-1e4"),
    "style004.Softmax": ("b8c1000", "0d", "vector-c7"),
    "style004.CrossEntropywithSoftmax": ("ignore-labels-b32c5", "kdim-labels-b4t3c5",
                                         "neginf-nontarget-b8c5"),
}

#: Configs an API cannot express: SKIP with this reason (target, config, reason).
SKIPS = (
    ("style000.Linear", "nobias-b8i5o3", "Linear takes no bias (give an Adapter with args= or "
     "construct= to map them)"),
    ("style000.Softmax", "dim0-b6c5", "Softmax takes no dim (give an Adapter with args= or "
     "construct= to map them)"),
    ("style000.CrossEntropyLoss", "sum-labels-b16c10", "CrossEntropyLoss takes no reduction "
     "(give an Adapter with args= or construct= to map them)"),
    ("style002.Conv2D", "b2h8w9c2o3-k3x2-s2x3-p1x0", "this API cannot express stride=(2, 3)"),
    ("style002.Conv2D", "b2h5w5c3o4-k3-p1-nobias", "this API cannot express bias=False"),
    ("style002.Pool2D[max]", "b2h6w7c2-k2x3-s1x2", "this API cannot express stride=(1, 2)"),
    ("style002.Pool2D[average]", "neg-b2h5w6c2-k2x3-s1-p1x0",
     "this API cannot express padding=(1, 0)"),
    ("style002.CrossEntropy", "none-labels-b16c10", "this API cannot express reduction='none'"),
    ("style004.Dense", "nobias-b8i5o3", "this API cannot express bias=False"),
    ("style004.CrossEntropywithSoftmax", "smooth0.1-labels-b32c5",
     "this API cannot express label_smoothing=0.1"),
    ("style004.MSELoss", "none-b8d4", "this API cannot express reduction='none'"),
)
ERROR_INPUTS_SKIP = ("error inputs are the project's own contract (its messages), not an "
                     "outside target's")


# --------------------------------------------------------------------------- running
def select(target_entry_: Entry, checks: Iterable[str], configs: Iterable[str],
           dtypes: Iterable[str]) -> list[Job]:
    return plan(list(checks), dtypes=list(dtypes), configs=list(configs),
                entries=[target_entry_])


@functools.cache
def _run(target: str, checks: tuple[str, ...], configs: tuple[str, ...],
         dtypes: tuple[str, ...], seed: bool = False) -> dict[str, CheckResult]:
    """The jobs of the selection on the example ``target`` (or, with ``seed``, on the seed's
    own class of the same name)."""
    chosen = seed_entries(target.split(".")[0])[seed_target(target)] if seed else entry(target)
    return {r.id: r for r in iter_results(select(chosen, checks, configs, dtypes), 0)}


def statuses(results: Mapping[str, CheckResult]) -> dict[str, str]:
    return {job: result.status for job, result in results.items()}


def bug_results(bug: Bug) -> dict[str, CheckResult]:
    return _run(bug.target, bug.checks, bug.configs, bug.dtypes)


def pinned(target: str, as_target: str | None = None) -> dict[str, str]:
    """The job ids every known bug of ``target`` fails (named for ``as_target``), with the
    status."""
    return {job: bug.status for bug in BUGS if bug.target == target
            for job in bug.failing(as_target or target)}


def expected_bug_statuses(bug: Bug, jobs: Iterable[str], target: str | None = None,
                          seed: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every job of the bug's selection: the status of the target's known bugs where they
    fail (two bugs may share a layer), else PASS; then the seed's own differences."""
    target = target or bug.target
    failing = pinned(bug.target, target)
    expected = {job: failing.get(job, PASS) for job in jobs}
    for suffix, status in (seed or {}).items():
        check, _, rest = suffix.partition("-float")
        expected[f"{check}-{target}-float{rest}"] = status
    return expected


# --------------------------------------------------------------------------- known bugs
@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[bug.key for bug in BUGS])
def test_each_known_bug_fails_exactly_its_checks(bug: Bug) -> None:
    results = bug_results(bug)
    got = statuses(results)
    assert got == expected_bug_statuses(bug, got), {
        job: status for job, status in got.items()
        if status != expected_bug_statuses(bug, got)[job]}
    assert bug.failing(every=False) <= set(got)  # every pinned failure was run
    example = results[job_id(next(iter(bug.fails)), bug.target,
                             bug.dtypes[0], bug.example)]
    assert example.status == bug.status


def test_the_failures_say_what_differs() -> None:
    """One look at the messages: the bug shows where it should."""
    mse = bug_results(BUG_BY_KEY["mse-backward"])
    worst = mse[job_id("input-grad", "style004.MSELoss", "float64", "b32d8")].failures()[0]
    assert worst.tensor == "input_grad" and worst.expected_name == "torch"
    upcast = bug_results(BUG_BY_KEY["upcast-linear"])
    dtype = upcast[job_id("dtype", "style000.Linear", "float32", "b32i64o16")]
    problems = {c.tensor: c.problem for c in dtype.failures()}
    assert problems["output"] == "dtype float64, expected float32"
    assert problems["input_grad"] == "dtype float64, expected float32"
    pool = bug_results(BUG_BY_KEY["max-pool-zero-padding"])
    forward = pool[job_id("forward", "style002.Pool2D[max]", "float64", "neg-b2h6w6c2-k3s2-p1")]
    assert forward.failures()[0].tensor == "output"


def test_a_wrong_conv_output_shape_is_a_forward_failure() -> None:
    bug = BUG_BY_KEY["same-even-kernel"]
    result = bug_results(bug)[job_id("forward", bug.target, "float64", bug.example)]
    assert result.status == FAIL and "shape (2, 4, 5, 2)" in result.message()


@pytest.mark.parametrize("target", sorted(CORRECT))
def test_the_correct_layers_pass_every_check(target: str) -> None:
    got = statuses(_run(target, CHECK_NAMES, CORRECT[target], BOTH))
    assert got and set(got.values()) == {PASS}, {j: s for j, s in got.items() if s != PASS}


# --------------------------------------------------------------------------- skips
def test_configs_an_api_cannot_express_are_skips_with_their_reason() -> None:
    for target, config, reason in SKIPS:
        results = _run(target, ("forward", "input-grad"), (config,), BOTH)
        assert {r.status for r in results.values()} == {SKIP}, (target, config)
        assert {r.skipped for r in results.values()} == {reason}, (target, config)
    bad = plan(["bad-input"], entries=[entry("style004.MSELoss")])[0].run(0)
    assert bad.status == SKIP and bad.skipped == ERROR_INPUTS_SKIP


@functools.cache
def runnable(target: str) -> tuple[str, ...]:
    """The configs of ``target`` that are not SKIPped."""
    skipped = skip_reasons(target.split(".")[0])
    jobs = plan(["forward"], dtypes=["float64"], entries=[entry(target)])
    return tuple(job.case.sample.name for job in jobs if job.id not in skipped)


@functools.cache
def skip_reasons(style: str) -> dict[str, str]:
    """Every SKIP of the style's plan, by job id, found without running a check: the error
    inputs, and the cases whose layer cannot be built (the adapter's reason)."""
    reasons: dict[str, str] = {}
    built: dict[str, str] = {}
    for job in plan(entries=list(style_entries(style).values())):
        if job.check.on_errors:
            reasons[job.id] = ERROR_INPUTS_SKIP
            continue
        if job.case.id not in built:
            try:
                build_case(job.case, 0)
                built[job.case.id] = ""
            except Unsupported as why:
                built[job.case.id] = str(why)
        if built[job.case.id]:
            reasons[job.id] = built[job.case.id]
    return reasons


@pytest.mark.parametrize("style", STYLES)
def test_every_skip_has_a_reason_and_no_pinned_failure_is_a_skip(style: str) -> None:
    reasons = skip_reasons(style)
    assert reasons and all(reasons.values())
    pinned = set().union(*(bug.failing() for bug in BUGS if bug.target.startswith(style)))
    assert not pinned & set(reasons)


def test_one_hot_targets_leave_ignored_labels_out() -> None:
    """The adapter's one-hot conversion drops rows labelled ignore_index (torch's mean runs
    over the others) and gives them a zero gradient."""
    loss = entry("style004.CrossEntropywithSoftmax").build({}, np.dtype(np.float64))
    logits = np.random.default_rng(0).standard_normal((4, 3))
    loss.forward(logits, np.array([2, -100, 0, -100]))
    assert loss.outside.target.shape == (2, 3)
    grad = loss.backward()
    assert grad.shape == (4, 3) and not grad[[1, 3]].any() and grad[[0, 2]].all()


def test_the_readme_adapter_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """README's "Check your own layers" example, with style004's Dense as ``mylayers``."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(
        "## Check your own layers", 1)[1].split("\n## ", 1)[0]
    code = textwrap.dedent(re.search(r"```python\n(.*?)```", section, re.S).group(1))
    assert len(code.strip().splitlines()) == 6
    monkeypatch.setitem(sys.modules, "mylayers", plugin_module("style004").layers)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    [target] = namespace["TARGETS"]
    checked = target_entry(target, "")
    got = statuses({r.id: r for r in iter_results(select(
        checked, ("forward", "param-grads", "dtype"), ("b32i64o16", "nobias-b8i5o3"), BOTH), 0)})
    name = checked.name
    assert got[job_id("dtype", name, "float32", "b32i64o16")] == FAIL  # the seed's upcast
    assert {got[job_id(c, name, d, "b32i64o16")] for c in ("forward", "param-grads")
            for d in BOTH} == {PASS}
    assert {s for job, s in got.items() if "nobias" in job} == {SKIP}


# --------------------------------------------------------------------------- routes
def test_the_cli_route_fails_on_a_bug_and_passes_a_correct_layer(tmp_path: Path,
                                                                   capsys: Any) -> None:
    base = ["check", "--plugin", str(EXAMPLES / "style004_plugin.py"), "--seed", "0",
            "--no-progress"]
    bad = ["--layer", "style004.MSELoss", "--check", "input-grad", "--config", "b32d8",
           "--dtype", "float64"]
    assert cli.main([*base, *bad, "--out", str(tmp_path / "bad")]) == cli.EXIT_FAIL
    assert "FAIL input-grad-style004.MSELoss-float64-b32d8" in capsys.readouterr().out
    good = ["--layer", "style004.Tanh", "--check", "forward", "--config", "b64d32"]
    assert cli.main([*base, *good, "--out", str(tmp_path / "good")]) == cli.EXIT_OK


def _parity_command(repro: str) -> list[str]:
    """A printed ``parity check ...`` line as an argv for this interpreter's environment."""
    argv = shlex.split(repro)
    executable = Path(sys.executable).with_name("parity")
    head = [str(executable)] if executable.exists() else [sys.executable, "-m",
                                                          "parity_tests.cli"]
    return head + argv[1:]


@pytest.mark.slow
def test_the_repro_line_and_the_pytest_plugin_give_the_same_verdict(tmp_path: Path) -> None:
    bug = BUG_BY_KEY["max-pool-zero-padding"]
    job = job_id("forward", bug.target, "float64", bug.example)
    result = bug_results(bug)[job]
    assert result.repro() == (f"parity check --plugin {plugin('style002')} --layer "
                              f"'{bug.target}' --config {bug.example} --dtype float64 --check "
                              f"forward --seed 0")
    assert result.pytest_repro() == (f"PARITY_SEED=0 pytest --parity-plugin={plugin('style002')}"
                                     f" --parity-job '{job}'")
    repro = subprocess.Popen(  # run as printed, from the checkout
        [*_parity_command(result.repro()), "--out", str(tmp_path / "repro"), "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The printed pytest line (the plugin is the package's pytest11 entry point), with the
    # checkout's own configuration kept out: the job id selects exactly one item.
    printed = shlex.split(result.pytest_repro())[2:]  # after "PARITY_SEED=0 pytest"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    node = subprocess.Popen(
        [sys.executable, "-m", "pytest", *printed, "-q", "-p", "no:cacheprovider", "-p",
         "no:randomly", "-c", str(tmp_path / "pytest.ini"), str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PARITY_SEED": "0"})
    repro_out, _ = repro.communicate(timeout=300)
    node_out, _ = node.communicate(timeout=300)
    assert repro.returncode == cli.EXIT_FAIL, repro_out[-3000:]
    assert f"FAIL {job}: output differs from torch" in repro_out
    assert "1 of 1 checks passed" not in repro_out and "0 of 1 checks passed" in repro_out
    assert re.search(r"^1 failed in ", node_out, re.M), node_out[-3000:]
    assert f"FAIL {job}: output differs from torch" in node_out


# --------------------------------------------------------------------------- the seeds
def seed_code() -> Any:
    """examples/outside/seed_code.py (a script beside the examples, not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import seed_code as module

    return module


def seed_document(number: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not present (the seeds live beside the checkout)")
    found = sorted(SEEDS.glob(f"{number}_*.txt"))
    if not found:
        pytest.skip(f"no seed document {number}_*.txt in {SEEDS}")
    return found[0]


@functools.cache
def seed_classes(number: str) -> Any:
    return seed_code().load(seed_document(number))


@functools.cache
def seed_entries(style: str) -> dict[str, Entry]:
    """The first seed document of the style through the style's own adapters
    (``targets(ns, prefix)``), target names ``seed<NNN>.<Class>``."""
    number = SEED_DOCS[style][0]
    classes = seed_classes(number).classes
    found = plugin_module(style).targets(_Classes(classes), f"seed{number}")
    return {t.name: target_entry(t, "") for t in found if t.layer is not None}


class _Classes:
    """A namespace of a seed's classes where a class it lacks is None (not a crash)."""

    def __init__(self, classes: Mapping[str, type]) -> None:
        self._classes = classes

    def __getattr__(self, name: str) -> type | None:
        return self._classes.get(name)


def seed_target(target: str) -> str:
    style, _, name = target.partition(".")
    return f"seed{SEED_DOCS[style][0]}.{name}"


#: Seed pieces that are expected: classes found and pieces skipped with their reason.
SEED_CLASSES = {
    "000": ("Sigmoid", "Softmax", "CrossEntropyLoss", "Linear"),
    "001": ("Sigmoid", "Softmax", "CrossEntropyLoss", "Linear"),
    "003": ("Sigmoid", "Softmax", "CrossEntropyLoss", "Linear"),
    "002": ("Linear", "ReLU", "SoftMax", "FullyConnected", "Pool2D", "Conv2D", "CrossEntropy",
            "NeuralNetwork"),
    "004": ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax", "CrossEntropywithSoftmax",
            "Dense", "Model", "MSELoss"),
}
SEED_SKIPS = {
    "002": ("an unfinished exercise: Sigmoid.backward returns ...",),
    "003": ("imports torch (not a NumPy layer, or data loading)",),
    "004": ("imports tensorflow (not a NumPy layer, or data loading)",),
}


@dataclass(frozen=True)
class Difference:
    """Where a seed's own class differs from the example of its style, beyond the known
    bugs: ``job`` (without the target) gets ``status`` on the seed's class and passes on
    the example's."""

    target: str
    job: str
    status: str
    what: str


DIFFERENCES = (
    Difference("style000.Sigmoid", "warnings-float32-extreme-1e4", FAIL,
               "clips x to ±500, which does not keep exp(−x) finite in float32: overflow "
               "warnings"),
    Difference("style000.Softmax", "forward-float64-b4t3c7", FAIL,
               "normalises over axis 1, not the last axis: wrong for 3-D input"),
    Difference("style000.Softmax", "forward-float64-vector-c7", ERROR,
               "axis 1 does not exist for 1-D (and 0-d) input"),
    Difference("style000.Softmax", "warnings-float64-nonfinite-b8c6", FAIL,
               "inf − inf warns (the values match torch's NaN)"),
    Difference("style000.Linear", "warnings-float64-nonfinite-b6i4o3", FAIL,
               "inf − inf in the matmul warns (the values match torch's NaN)"),
    Difference("style000.CrossEntropyLoss", "dtype-float64-labels-b64c10", FAIL,
               "returns a NumPy scalar, not a Python float"),
    Difference("style000.CrossEntropyLoss", "forward-float64-kdim-labels-b4t3c5", FAIL,
               "divides by the batch size N, not the N·T positions of (N, T, C) input"),
    Difference("style000.CrossEntropyLoss", "forward-float64-vector-labels-c5", ERROR,
               "reads predictions.shape[1], which a 1-D prediction does not have"),
    Difference("style000.CrossEntropyLoss", "warnings-float64-b0c5-labels", FAIL,
               "the mean of an empty batch warns (the value matches torch's NaN)"),
    Difference("style002.ReLU", "input-grad-float64-nonfinite-b6d6", FAIL,
               "dY * (Z > 0) drops dY at NaN, where torch passes it on"),
    Difference("style002.SoftMax", "input-grad-float64-b4t3c7", ERROR,
               "the Jacobian loop handles 2-D input only"),
    Difference("style002.SoftMax", "forward-float64-b3c0", ERROR,
               "np.max of an empty axis raises (torch returns the empty array)"),
    Difference("style002.Pool2D[max]", "dtype-float32-b2h6w6c3-k2", FAIL,
               "the output is np.zeros(...) filled in: float64 for float32 input"),
    Difference("style002.Pool2D[max]", "input-grad-float64-nonfinite-b2h6w6c3-k2", FAIL,
               "np.argmax sends a NaN window's gradient to its first NaN, torch to its last"),
    Difference("style002.Pool2D[average]", "dtype-float32-b2h6w6c3-k2", FAIL,
               "the output is np.zeros(...) filled in: float64 for float32 input"),
    Difference("style002.CrossEntropy", "forward-float32-zeros-labels-b16c6", FAIL,
               "log(Y_hat + 5e-324): 5e-324 is 0 in float32, so 0·log 0 is NaN"),
    Difference("style002.CrossEntropy", "dtype-float64-labels-b64c10", FAIL,
               "returns a NumPy scalar, not a Python float"),
    Difference("style002.CrossEntropy", "forward-float64-kdim-labels-b4t3c5", FAIL,
               "divides by Y.shape[0], not the number of positions"),
    Difference("style002.Conv2D", "warnings-float32-nonfinite-b2h6w6c3o2-k3-p1", FAIL,
               "inf − inf in the sums warns (the values match torch's NaN)"),
    Difference("style004.ReLU", "input-grad-float64-nonfinite-b6d6", FAIL,
               "grad * (input > 0) drops the gradient at NaN, where torch passes it on"),
    Difference("style004.LeakyReLU", "dtype-float32-b64d32", FAIL,
               "np.where(input >= 0, 1, alpha) is float64: the gradient is upcast"),
    Difference("style004.Sigmoid", "warnings-float64-extreme-1e4", FAIL,
               "1 / (1 + exp(−x)) overflows for x < −709 (the value is still 0)"),
    Difference("style004.Softmax", "forward-float64-vector-c7", FAIL,
               "np.atleast_2d makes a 1-D input's output (1, C)"),
    Difference("style004.Softmax", "forward-float64-b4t3c7", FAIL,
               "normalises over axis 1, not the last axis"),
    Difference("style004.CrossEntropywithSoftmax", "dtype-float64-labels-b64c10", FAIL,
               "returns a NumPy scalar, not a Python float"),
    Difference("style004.CrossEntropywithSoftmax", "forward-float64-kdim-labels-b4t3c5", FAIL,
               "softmax over axis 1 and a mean over the batch only: wrong for (N, T, C)"),
    Difference("style004.MSELoss", "dtype-float64-b32d8", FAIL,
               "returns a NumPy scalar, not a Python float"),
    Difference("style004.MSELoss", "warnings-float64-b0d3", FAIL,
               "np.mean of no elements warns (the value matches torch's NaN)"),
)


def difference_results(difference: Difference) -> tuple[CheckResult, CheckResult]:
    """The job on the seed's class and on the example's."""
    check, _, rest = difference.job.partition("-float")
    dtype, _, config = f"float{rest}".partition("-")
    style = difference.target.split(".")[0]
    seed = seed_entries(style)[seed_target(difference.target)]
    args = (difference.target, (check,), (config,), (dtype,))
    ours = _run(*args)[job_id(check, difference.target, dtype, config)]
    theirs = _run(*args, seed=True)[job_id(check, seed.name, dtype, config)]
    return theirs, ours


@pytest.mark.parametrize("number", sorted(SEED_CLASSES))
def test_the_seed_documents_layer_code_is_found(number: str) -> None:
    seed = seed_classes(number)
    assert tuple(seed.classes) == SEED_CLASSES[number]
    reasons = {piece.skipped for piece in seed.skipped}
    assert set(SEED_SKIPS.get(number, ())) <= reasons
    assert all(piece.skipped for piece in seed.pieces if "class Sigmoid(Activation)"
               in piece.source)  # seed 002's unfinished exercise never runs


def test_seeds_000_001_and_003_hold_the_same_layer_code() -> None:
    first = [seed_classes(number).pieces[0].source for number in ("000", "001", "003")]
    assert first[0] == first[1] == first[2] and "class Linear" in first[0]


@pytest.mark.parametrize("bug", BUGS, ids=[bug.key for bug in BUGS])
def test_the_seeds_own_classes_show_the_same_bug(bug: Bug) -> None:
    style = bug.target.split(".")[0]
    seed_name = seed_target(bug.target)
    seed = seed_entries(style).get(seed_name)
    if seed is None:
        pytest.skip(f"{seed_name}: not in the seed document")
    got = statuses(_run(bug.target, bug.checks, bug.configs, bug.dtypes, seed=True))
    expected = expected_bug_statuses(bug, got, seed_name, bug.seed)
    assert set(expected) == set(got), set(expected) ^ set(got)  # every seed pin was run
    assert got == expected, {job: (status, expected[job]) for job, status in got.items()
                             if status != expected[job]}


@pytest.mark.parametrize("difference", DIFFERENCES,
                         ids=[f"{d.target}:{d.job}" for d in DIFFERENCES])
def test_where_the_seeds_own_classes_differ_from_the_examples(difference: Difference) -> None:
    theirs, ours = difference_results(difference)
    assert theirs.status == difference.status, theirs.message()
    assert ours.status == PASS, ours.message()


# --------------------------------------------------------------------------- docs/outside.md
def predicted(style: str) -> dict[str, str]:
    """The verdict of every job of the style's plan that the pins predict: the skips, the
    known bugs' failures, and PASS for everything else."""
    verdicts = {job.id: PASS for job in plan(entries=list(style_entries(style).values()))}
    verdicts.update(dict.fromkeys(skip_reasons(style), SKIP))
    for name in style_entries(style):
        verdicts.update(pinned(name))
    return verdicts


def _masked(text: str) -> str:
    """The page with its measured numbers masked (they may differ in the last digits on
    another machine's BLAS), for the comparison."""
    return re.sub(r"-?\d+\.\d+(e[+-]?\d+)?|-?\d(e[+-]?\d+)", "<number>", text)


def _message(bug: Bug) -> str:
    result = bug_results(bug)[job_id(next(iter(bug.fails)), bug.target, bug.dtypes[-1],
                                     bug.example)]
    lines = result.message().splitlines()
    if result.status == ERROR:  # the traceback names this machine's paths: its last line
        start = next(k for k, line in enumerate(lines) if line.startswith("  traceback"))
        end = next(k for k, line in enumerate(lines) if line.startswith("  seed"))
        lines = [*lines[:start], "  traceback  ... " + lines[end - 1].strip(), *lines[end:]]
    return "\n".join(lines)


def render_style(style: str) -> list[str]:
    verdicts = predicted(style)
    reasons = skip_reasons(style)
    lines = [f"### {style}: the API of {STYLE_TITLES[style]}", "",
             f"`examples/outside/{style}_layers.py`, adapters in `{plugin(style)}`.", "",
             "| target | checked like | checks | pass | fail | error | skip | fails |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for name, target_entry_ in style_entries(style).items():
        mine = {job: status for job, status in verdicts.items()
                if job.partition(f"-{name}-")[1]}
        counts = collections.Counter(mine.values())
        bugs = [f"{bug.title} ([↓](#{bug.key}))" for bug in BUGS if bug.target == name]
        lines.append(f"| `{name}` | `{target_entry_.description.split(', checked like ')[-1]}`"
                     f" | {len(mine)} | {counts[PASS]} | {counts[FAIL]} | {counts[ERROR]} | "
                     f"{counts[SKIP]} | {'; '.join(bugs) or '—'} |")
    lines += ["", "SKIP, by reason (checks):", ""]
    by_reason: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter)
    for job, reason in reasons.items():
        target = next(name for name in style_entries(style) if f"-{name}-" in job)
        by_reason[target][reason] += 1
    for target, counter in by_reason.items():
        listed = "; ".join(f"{reason} ({n})" for reason, n in counter.most_common())
        lines.append(f"- `{target}`: {listed}")
    return [*lines, ""]


def render_bug(bug: Bug) -> list[str]:
    kept = f"; still passing there: {', '.join(bug.passes)}" if bug.passes else ""
    controls = (f"; untouched by it: {', '.join(bug.controls)}" if bug.controls else "")
    note: list[str] = []
    lines = [f'<a id="{bug.key}"></a>', f"### {bug.title} (`{bug.target}`, seed {bug.seeds})",
             "", bug.what + ".", "", *note,
             f"{bug.status.upper()}s (checks × configs){kept}{controls}:", "",
             "| checks | dtypes | configs |", "|---|---|---|"]
    rows: dict[tuple[Any, tuple[str, ...]], list[str]] = collections.defaultdict(list)
    for check, (configs, dtypes) in bug.fails.items():
        rows[(configs, dtypes)].append(f"`{check}`")
    for (configs, dtypes), checks in rows.items():
        if configs == EVERY:
            left_out = set(runnable(bug.target)) - set(bug.every())
            but = f", but {', '.join(sorted(left_out))} (ERROR)" if left_out else ""
            listed = f"every config that is not SKIPped{but}: {len(bug.every())}"
        else:
            listed = ", ".join(configs)
        lines.append(f"| {', '.join(checks)} | {', '.join(dtypes)} | {listed} |")
    return [*lines, "", "```text", _message(bug), "```", ""]


def render_seeds() -> list[str]:
    lines = ["## The seeds' own code", "",
             "`parity_tests/tests/test_outside.py` extracts the layer classes from the seed "
             "documents in `../shared/seeds/` with `examples/outside/seed_code.py` (fenced "
             "blocks and notebook cells; seed 002's methods shown one by one are put back "
             "together into their class; its unshown course framework, `Layer`, "
             "`Activation`, `initialize_activation` and `initialize_weights`, gets minimal "
             "stand-ins) and checks them through the same adapters (`targets(ns, prefix)` of "
             "each plugin), skipped when the seeds are absent.", "",
             "| document | classes | pieces skipped (reason) |", "|---|---|---|"]
    for number in sorted(SEED_CLASSES):
        seed = seed_classes(number)
        skipped = collections.Counter(piece.skipped for piece in seed.skipped)
        listed = "; ".join(f"{reason} ({n})" for reason, n in skipped.most_common()) or "—"
        lines.append(f"| {seed.path.name} | {', '.join(seed.classes)} | {listed} |")
    lines += ["", "Seeds 000, 001 and 003 hold the same layer code; it is checked once, as "
              "`seed000.*`.", "", "### The known bugs in the seeds' classes", "",
              "| bug | seed class | same verdicts as the example? |", "|---|---|---|"]
    for bug in BUGS:
        same = "yes" if not bug.seed else (
            "the same failures; besides, " + bug.seed_note + ": "
            + ", ".join(f"`{job}` {status.upper()}" for job, status in bug.seed.items()))
        lines.append(f"| {bug.title} ([↑](#{bug.key})) | `{seed_target(bug.target)}` | "
                     f"{same} |")
    lines += ["", "### Where the seeds' classes differ from the examples", "",
              "Each row: the job FAILs (or ERRORs) on the seed's class and passes on the "
              "example's (`test_where_the_seeds_own_classes_differ_from_the_examples`).", "",
              "| seed class | job | seed | why |", "|---|---|---|---|"]
    for d in DIFFERENCES:
        lines.append(f"| `{seed_target(d.target)}` | `{d.job}` | {d.status.upper()} | "
                     f"{d.what} |")
    lines += ["", "`seed002.Linear` (the identity activation) and `seed004.Tanh` pass "
              "everything the examples pass; seed 002's `Sigmoid` is an unfinished exercise "
              "and is not checked.", ""]
    return lines


SEEDS_HEADING = "## The seeds' own code"


def render(with_seeds: bool = True) -> str:
    """docs/outside.md from the pins (the seed section only when the seeds are present)."""
    lines = [
        "# Checking outside layers: the seeds' three API styles", "",
        "<!-- Generated by `" + REGENERATE + "`; "
        "parity_tests/tests/test_outside.py fails when it is stale. -->", "",
        "`examples/outside/` holds three small third-party submissions, one per API style of "
        "the seeds, written afresh: correct, except for the seeds' known bugs, each kept "
        "where the seed had it. Each plugin file declares one adapter per kind of layer "
        "(`parity_tests.adapters.Adapter`: how to build it from the torch-named config, "
        "where its parameters and gradients live, how its forward and backward are "
        "called) and one `Target` line per layer; what an API cannot express (no bias, a "
        "stride pair, dilation, a reduction other than the mean ...) is SKIP with the "
        "reason, never a failure.", "",
        "## Running them", "",
        "```bash",
        *[f".venv/bin/parity check --plugin {plugin(style)}" for style in STYLES],
        ".venv/bin/parity check --plugin examples/outside/style004_plugin.py --layer "
        "style004.MSELoss --check input-grad",
        ".venv/bin/pytest --parity-plugin=examples/outside/style002_plugin.py examples/outside",
        ".venv/bin/pytest --parity-plugin=examples/outside/style002_plugin.py --parity-job "
        "'forward-style002.Pool2D[max]-float64-neg-b2h6w6c2-k3s2-p1'",
        "```", "",
        "Each `parity check` exits 1: every style has a known bug. A failure's message ends "
        "with its `repro` line (a `parity check` command) and its `pytest` line (the plugin "
        "with `--parity-job`), which rerun exactly that check. The pytest plugin comes with "
        "the installed package (the `pytest11` entry point; from a checkout that is not "
        "installed add `-p parity_tests.pytest_plugin`); `--parity-job` runs the named jobs "
        "and nothing else; a whole run in this checkout gives a path without tests "
        "(`examples/outside`), or pytest also collects the project's own suite (its "
        "`testpaths`). Write `--parity-plugin=PATH`: pytest "
        "takes a separate path argument into account when it looks for the rootdir and "
        "would read this checkout's `pyproject.toml` (and its `addopts`).", "",
        "## Verdicts", "",
        "Seed 0, every check of every sample of the entry each target is checked like "
        "(float32 and float64); every verdict is the same at seeds 1-9 and 123 (`--verify "
        "--seed N`).", "",
        *[line for style in STYLES for line in render_style(style)],
        "## The known bugs", "",
        "Every failure above is one of these; `test_each_known_bug_fails_exactly_its_checks` "
        "runs each bug's checks on its samples and pins the verdict of every job.", "",
        *[line for bug in BUGS for line in render_bug(bug)],
    ]
    if with_seeds:
        lines += render_seeds()
    lines += ["## Keeping this page honest", "",
              "`parity_tests/tests/test_outside.py` holds the pins this page is rendered from "
              "and runs only what each assertion needs (a few seconds): every known bug's "
              "checks on its samples, every correct layer on a few samples, the SKIP "
              "reasons (built, not run), the CLI and pytest-plugin routes, and the seeds' "
              "classes. The counts above are the pins' prediction for the whole plan; "
              f"`{REGENERATE}` runs the whole plan of every style first (a minute or two) and "
              "refuses to write the page while any verdict differs from the prediction.", ""]
    return "\n".join(lines)


def test_docs_outside_md_is_current() -> None:
    with_seeds = SEEDS.is_dir()
    text = DOC.read_text(encoding="utf-8")
    expected = render(with_seeds)
    if not with_seeds:  # CI without the seeds beside the checkout: the rest of the page
        text = text.split(SEEDS_HEADING)[0] + text.split("## Keeping this page honest")[-1]
        expected = expected.split("## Keeping this page honest")[0] + expected.split(
            "## Keeping this page honest")[-1]
    assert _masked(text) == _masked(expected), f"docs/outside.md is stale: run {REGENERATE}"


# --------------------------------------------------------------------------- regenerate
def verify(seed: int = 0) -> list[str]:
    """Run the whole plan of every style at ``seed``; the jobs whose verdict the pins do not
    predict."""
    wrong = []
    for style in STYLES:
        expected = predicted(style)
        jobs = plan(entries=list(style_entries(style).values()))
        for result in iter_results(jobs, seed):
            if result.status != expected.get(result.id):
                wrong.append(f"{result.id} at seed {seed}: {result.status}, predicted "
                             f"{expected.get(result.id)}\n{result.message()}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parity_tests.tests.test_outside",
                                     description="Render docs/outside.md from the pins.")
    parser.add_argument("--verify", action="store_true",
                        help="first run every job of every style against the pins")
    parser.add_argument("--seed", type=int, action="append", default=None, metavar="N",
                        help="with --verify: the seed (repeatable; default 0)")
    parser.add_argument("--write", action="store_true", help="write docs/outside.md")
    args = parser.parse_args(argv)
    if args.verify:
        wrong = [line for seed in args.seed or [0] for line in verify(seed)]
        if wrong:
            print("\n\n".join(wrong[:20]), f"\n\n{len(wrong)} verdict(s) differ from the pins",
                  file=sys.stderr)
            return 1
        print("every verdict is the predicted one")
    text = render(SEEDS.is_dir())
    if args.write:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    import os

    os.chdir(ROOT)
    sys.exit(main())
