"""The seed's NumPy ↔ PyTorch operation table, run case by case (see parity_tests/op_table/).

One test per (case, input sample), e.g. ``op-std-float64-shape3x4``: the NumPy expression, the
table's torch expression (which must do exactly what the sample documents: agree, differ in a
stated way, or raise) and every fix (which must agree). Then: the generated page
docs/op_table.md is current, every seed row is present in order, verdicts match their cases,
and the comparison machinery itself catches the differences it exists to catch.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from parity_tests import op_table
from parity_tests.op_table import (
    AGREE,
    REGISTRY,
    Fix,
    OpCase,
    OpEntry,
    case_id,
    check_id,
    compare_outputs,
    iter_cases,
    iter_checks,
    run_sample,
)
from parity_tests.op_table import __main__ as op_table_cli
from parity_tests.op_table.model import _s
from parity_tests.op_table.rows_basics import _compare_uniform
from parity_tests.op_table.rows_linalg import _compare_eig

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "op_table.md"
SEED_TABLE = ROOT.parent / "shared" / "seeds" / "001_c5f55479cb841195.txt"

# The row names of the seed's "Pytorch / Numpy Operations" table, in its order.
SEED_ROWS = (
    "Array Creation",
    "Zeros/Ones",
    "Random Arrays",
    "Arange/Linspace",
    "Shape/Reshape",
    "Indexing/Slicing",
    "Mathematical Ops",
    "Matrix Multiplication",
    "Transpose",
    "Concatenation",
    "Reduction Ops",
    "Broadcasting",
    "Boolean Indexing",
    "Data Types",
    "Axis Operations",
    "Squeeze/Unsqueeze",
    "Flatten/Ravel",
    "Clipping",
    "Sorting",
    "Unique Values",
    "Array Comparison",
    "NaN Handling",
    "Copying",
    "Memory Layout",
    "Splitting",
    "Padding",
    "Meshgrid",
    "Linear Algebra - Norm",
    "Linear Algebra - Inverse",
    "Linear Algebra - Eigenvalues",
    "Advanced Indexing - Take",
    "Advanced Indexing - Put",
    "Advanced Indexing - Choose",
    "Statistics - Std Dev",
    "Statistics - Variance",
    "Statistics - Percentiles",
    "Statistics - Histogram",
    "Einstein Summation",
    "Roll Elements",
    "Flip Arrays",
    "Numerical Gradient",
    "1D Convolution",
    "FFT",
    "Polynomial Operations",
    "Save/Load Arrays",
)

CASES = [
    pytest.param(entry, case, sample, id=case_id(case, sample))
    for entry, case, sample in iter_cases(REGISTRY)
]
CHECKS = [pytest.param(check, id=check_id(check)) for _, check in iter_checks(REGISTRY)]


@pytest.mark.parametrize(("entry", "case", "sample"), CASES)
def test_op_case(entry, case, sample):
    run_sample(entry, case, sample)


@pytest.mark.parametrize("check", CHECKS)
def test_op_check(check):
    check.fn()


# ---------------------------------------------------------------------------------------------
# The registry against the seed, the verdicts, the generated page
# ---------------------------------------------------------------------------------------------


def test_every_seed_row_is_present_in_order():
    assert len(SEED_ROWS) == 45
    assert tuple(entry.row for entry in REGISTRY) == SEED_ROWS


def test_rows_keep_the_seed_syntax():
    """When the seed is beside the checkout (as in CI), its syntax columns are kept verbatim."""
    if not SEED_TABLE.exists():
        pytest.skip(f"{SEED_TABLE} not present")
    text = SEED_TABLE.read_text(encoding="utf-8").split("## Pytorch / Numpy Operations", 1)[1]
    rows = []
    for line in text.splitlines()[3:]:
        if not line.startswith("|"):
            break
        name, _, numpy_col, torch_col = (c.strip() for c in line.strip("|").split("|"))
        rows.append((name.strip("*"), numpy_col.replace("`", ""), torch_col.replace("`", "")))
    assert [(e.row, e.numpy_syntax, e.torch_syntax) for e in REGISTRY] == rows


def test_ids_are_unique_and_readable():
    ids = [p.id for p in CASES] + [p.id for p in CHECKS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"op-[A-Za-z0-9_.+\-]+", i) for i in ids), ids
    assert "op-std-float64-shape3x4" in ids


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.row)
def test_verdict_matches_the_cases(entry):
    assert op_table.verdict_problems(entry) == []


def test_every_documented_divergence_of_the_brief_is_a_case():
    slugs = {case.slug for entry in REGISTRY for case in entry.cases}
    required = {
        "std", "var", "split3", "hsplit2", "convolve", "eig", "histogram", "percentile-q50",
        "percentile-nearest", "put", "choose", "gradient", "polyval", "polyval-decreasing",
        "rand", "meshgrid", "unique", "max-axis", "argmax-axis1", "where1", "flatten-aliasing",
        "allclose", "nanmean", "norm-ord2", "pad-2d", "flip", "roll", "take", "fft", "T",
        "save-load",
    }
    assert required <= slugs, sorted(required - slugs)


def test_docs_page_is_current():
    diff = op_table.doc_differences(DOC, op_table.render_markdown(REGISTRY))
    assert not diff, (
        "\n".join(diff[:60]) + f"\n{DOC} is stale: run `{op_table.DOC_COMMAND}`"
    )


def test_check_command_exit_codes(tmp_path, monkeypatch):
    """--check: 0 on a current page (versions line ignored), 1 on a stale one or a failing
    case; --write writes the rendering. Cases are run by the tests above, so stub them here."""
    monkeypatch.setattr(op_table_cli, "run_all", lambda entries: [])
    page = tmp_path / "op_table.md"
    assert op_table_cli.main(["--write", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == op_table.render_markdown(REGISTRY)

    text = page.read_text(encoding="utf-8")
    versions = next(line for line in text.splitlines() if line.startswith("Versions"))
    page.write_text(text.replace(versions, "Versions when generated: NumPy 0, PyTorch 0."))
    assert op_table_cli.main(["--check", str(page)]) == 0

    page.write_text(text.replace("| diverges |", "| equivalent |", 1))
    assert op_table_cli.main(["--check", str(page)]) == 1
    assert op_table_cli.main(["--check", str(tmp_path / "missing.md")]) == 1

    monkeypatch.setattr(op_table_cli, "run_all", lambda entries: ["op-x: failed"])
    page.write_text(text)
    assert op_table_cli.main(["--check", str(page)]) == 1


def test_markdown_has_one_row_per_entry():
    page = op_table.render_markdown(REGISTRY)
    assert "must not be edited by hand" in page and op_table.DOC_COMMAND in page
    assert f"NumPy {np.__version__}" in page and f"PyTorch {torch.__version__}" in page
    table_rows = [line for line in page.splitlines() if line.startswith("| ")][2:]
    rows = table_rows[: len(REGISTRY)]
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == list(SEED_ROWS)
    assert {r.split(" | ")[3] for r in rows} <= set(op_table.VERDICTS)


# ---------------------------------------------------------------------------------------------
# The machinery can fail: each check below feeds it a wrong equivalence
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numpy_value", "torch_value", "kind"),
    [
        (np.zeros(3), torch.zeros(3, dtype=torch.float32), "dtype"),
        (np.zeros(3), torch.zeros(4, dtype=torch.float64), "shape"),
        (np.zeros(()), torch.zeros(1, dtype=torch.float64), "shape"),
        (np.arange(3), torch.tensor([0, 1, 3]), "values"),
        (np.array([1.0]), torch.tensor([1.0 + 1e-6], dtype=torch.float64), "values"),
        (np.array([np.nan]), torch.tensor([0.0], dtype=torch.float64), "values"),
        (np.zeros(3), (torch.zeros(3, dtype=torch.float64),), "type"),
        ((np.zeros(3), np.zeros(3)), (torch.zeros(3, dtype=torch.float64),), "length"),
        (np.dtype(np.float64), torch.float32, "dtype"),
        (True, torch.tensor(True), "type"),
        (1, 1.0, "type"),
    ],
)
def test_compare_outputs_catches(numpy_value, torch_value, kind):
    mismatch = compare_outputs(numpy_value, torch_value)
    assert mismatch is not None and mismatch.kind == kind, mismatch


def test_compare_outputs_accepts_true_equivalents():
    assert compare_outputs(np.float64(2.0), torch.tensor(2.0, dtype=torch.float64)) is None
    assert compare_outputs((np.arange(2),), [torch.arange(2)]) is None
    assert compare_outputs(np.array([np.nan, 1.0]), torch.tensor([np.nan, 1.0 + 1e-9],
                                                                 dtype=torch.float64)) is None
    assert compare_outputs((3, 4), torch.Size([3, 4])) is None
    assert compare_outputs(np.dtype(np.int32), torch.int32) is None


def _fake(torch_fn, sample, fixes=()):
    case = OpCase("fake", "np.std(a)", "fake", np.std, torch_fn, (sample,), fixes=fixes)
    entry = OpEntry("Fake", "np.std(arr)", "fake", "diverges", "", (case,))
    return entry, case, sample


def test_run_sample_fails_when_a_claimed_agreement_is_false():
    with pytest.raises(AssertionError, match="expected to agree"):
        run_sample(*_fake(torch.std, _s((3, 4), naive=AGREE)))


def test_run_sample_fails_when_a_documented_divergence_does_not_happen():
    fixed = lambda t: torch.std(t, correction=0)  # noqa: E731
    with pytest.raises(AssertionError, match="documented divergence"):
        run_sample(*_fake(fixed, _s((3, 4), naive="values")))
    with pytest.raises(AssertionError, match="expected dtype to differ first"):
        run_sample(*_fake(torch.std, _s((3, 4), naive="dtype")))
    with pytest.raises(AssertionError, match="did not raise"):
        run_sample(*_fake(torch.std, _s((3, 4), naive=RuntimeError)))


def test_run_sample_fails_on_a_wrong_fix_and_names_the_repro():
    wrong_fix = Fix("torch.std(t)", torch.std)
    with pytest.raises(AssertionError, match=r"(?s)disagrees with NumPy.*repro: python -m pytest"):
        run_sample(*_fake(torch.std, _s((3, 4), naive="values"), (wrong_fix,)))


def test_run_sample_fails_on_undeclared_or_missing_warnings():
    def warns(t):
        warnings.warn("surprise", UserWarning, stacklevel=1)
        return torch.std(t, correction=0)

    with pytest.raises(AssertionError, match="unexpected UserWarning"):
        run_sample(*_fake(warns, _s((3, 4))))
    with pytest.raises(AssertionError, match="expected a UserWarning"):
        run_sample(*_fake(lambda t: torch.std(t, correction=0),
                          _s((3, 4), naive_warns=UserWarning)))


def test_uniform_comparator_rejects_identical_and_non_uniform_draws():
    draws = np.random.default_rng(0).random(4000)
    same = torch.from_numpy(draws.copy())
    assert _compare_uniform(draws, same, ()).kind == "values"
    skewed = torch.from_numpy(draws**2)
    assert _compare_uniform(draws, skewed, ()).kind == "values"
    other = torch.from_numpy(np.random.default_rng(1).random(4000))
    assert _compare_uniform(draws, other, ()) is None


def test_eig_comparator_rejects_wrong_eigenvectors():
    a = np.random.default_rng(0).standard_normal((4, 4))
    lam, vec = torch.linalg.eig(torch.from_numpy(a))
    assert _compare_eig(np.linalg.eig(a), (lam, vec), (a,)) is None
    assert _compare_eig(np.linalg.eig(a), (lam, vec.flip(1)), (a,)).kind == "values"
    assert _compare_eig(np.linalg.eig(a), (lam * 1.01, vec), (a,)).kind == "values"
