"""The seed's NumPy ↔ PyTorch operation table, as executable parity cases.

Every row of the seed table ("Pytorch / Numpy Operations", 45 rows) is one `OpEntry`, in the
seed's order. An entry keeps the seed's NumPy and PyTorch syntax, a verdict and a note, and a
tuple of `OpCase`s: each case runs a NumPy callable and the torch callable the table proposes
on the SAME inputs (built from a seeded `np.random.default_rng`), over `OpSample`s of shapes and
dtypes (0-d and empty where meaningful). Where the table's pairing is wrong the case DOCUMENTS
it (each sample states what the table's pair does: agrees, differs in type / length / shape /
dtype / values, or raises) and gives one or more `Fix`es, torch expressions that must agree.

Comparison (`compare_outputs`) is strict: the container structure, the shape, the dtype (torch
dtypes mapped to NumPy's) and the values (exact for integer and bool results, the project's
per-dtype tolerances for floating ones) must all match.

Verdicts:

- "equivalent": the table's pair agrees on every input tried, as written.
- "equivalent with arguments": the same torch operation agrees once an argument is given
  (``dtype=``, ``correction=``, ``indexing=``, ``dims=``...), the input is cast, or the result
  field is picked; the note says which.
- "diverges": the table's torch expression computes something else, is missing or was
  removed; the agreeing equivalent is another function or a few lines of torch.

The Markdown page ``docs/op_table.md`` is generated from this package:

    python -m parity_tests.op_table --write docs/op_table.md   # runs every case, then writes
    python -m parity_tests.op_table --check docs/op_table.md   # exit 1 if the page is stale
"""

from __future__ import annotations

from parity_tests.op_table import (
    rows_basics,
    rows_indexing,
    rows_linalg,
    rows_manipulation,
    rows_misc,
    rows_statistics,
)
from parity_tests.op_table.compare import TOLERANCES, compare_outputs, numpy_dtype_of, to_numpy
from parity_tests.op_table.model import (
    AGREE,
    MISMATCH_KINDS,
    VERDICTS,
    Check,
    Fix,
    Mismatch,
    OpCase,
    OpEntry,
    OpSample,
)
from parity_tests.op_table.render import (
    DOC_COMMAND,
    VERSIONS_PREFIX,
    doc_differences,
    render_markdown,
)
from parity_tests.op_table.runner import (
    build_inputs,
    case_id,
    check_id,
    describe_expectation,
    iter_cases,
    iter_checks,
    random_array,
    run_all,
    run_sample,
    verdict_problems,
)

# The seed's rows, in its order. The seed table has no headings: its first 27 rows are bold
# (split in two modules for size), then come the "Linear Algebra -", "Advanced Indexing -" and
# "Statistics -" rows, then the rest.
REGISTRY: tuple[OpEntry, ...] = (
    rows_basics.ROWS
    + rows_manipulation.ROWS
    + rows_linalg.ROWS
    + rows_indexing.ROWS
    + rows_statistics.ROWS
    + rows_misc.ROWS
)

__all__ = [
    "AGREE",
    "DOC_COMMAND",
    "MISMATCH_KINDS",
    "REGISTRY",
    "TOLERANCES",
    "VERDICTS",
    "VERSIONS_PREFIX",
    "Check",
    "Fix",
    "Mismatch",
    "OpCase",
    "OpEntry",
    "OpSample",
    "build_inputs",
    "case_id",
    "check_id",
    "compare_outputs",
    "describe_expectation",
    "doc_differences",
    "iter_cases",
    "iter_checks",
    "numpy_dtype_of",
    "random_array",
    "render_markdown",
    "run_all",
    "run_sample",
    "to_numpy",
    "verdict_problems",
]
