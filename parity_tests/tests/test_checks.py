"""Every check of the harness on every registry case: one test per case, which runs every
job of the plan on that case.

Nothing here names a layer or a check: :func:`parity_tests.checks.plan` decides which
check applies to which case (the same plan ``parity check`` runs), so a new registry entry
is covered by every check with no test code. The checks of one case share one run (a
:class:`~parity_tests.engine.RunCache` of its own). A failing test names each failing check
with its full message and its one-check repro line (``parity check ... --check NAME``).

Why one test per case and not per check: the plan holds ~10,600 jobs on ~1,700 cases, and
pytest's own cost per test (hooks, reports, xdist's traffic) was half of this module's time:
on 2 cores, 38.7 s per check against 28.3 s per case, the checks' work being the same.
"""

from __future__ import annotations

import pytest

from parity_tests.checks import Job, assert_all_ok, plan_by_case
from parity_tests.engine import RunCache
from parity_tests.seeding import seed_from_env

SEED = seed_from_env()
CASES = plan_by_case()


@pytest.mark.parametrize(
    "jobs", [pytest.param(jobs, id=case_id) for case_id, jobs in CASES.items()])
def test_case(jobs: list[Job]):
    __tracebackhide__ = True  # the failure message says it all; no harness traceback noise
    runs = RunCache()
    assert_all_ok([job.run(SEED, runs) for job in jobs])
