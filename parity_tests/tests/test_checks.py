"""Every check of the harness on every registry case: one test per job of the plan.

Nothing here names a layer or a check: :func:`parity_tests.checks.plan` decides which
check applies to which case (the same plan ``parity check`` runs), so a new registry entry
is covered by every check with no test code. The checks of one case share one run (a
:class:`~parity_tests.engine.RunCache`); they are consecutive in the plan, so pytest-xdist's
default ``--dist load`` hands them to one worker in the same chunk nearly always (a case cut at
a chunk boundary is run twice, never judged differently). ``loadgroup`` with one group per case
was measured slower (30 s vs 21 s for this module on 2 cores): its scheduler, not the checks.
"""

from __future__ import annotations

import pytest

from parity_tests.checks import Job, plan
from parity_tests.engine import RunCache
from parity_tests.seeding import seed_from_env

SEED = seed_from_env()
JOBS = plan()
_RUNS = RunCache()


@pytest.mark.parametrize(
    "job", [pytest.param(job, id=job.id) for job in JOBS])
def test_check(job: Job):
    __tracebackhide__ = True  # the failure message says it all; no harness traceback noise
    job.run(SEED, _RUNS).assert_ok()
