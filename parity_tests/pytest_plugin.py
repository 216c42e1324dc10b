"""The pytest plugin (entry point ``pytest11``): every check of the harness on outside targets.

    pytest --parity-target mypkg.layers:Dense --parity-as linear
    pytest --parity-plugin my_adapters.py          # a file with TARGETS = [Target(...), ...]
    pytest --parity-plugin=my_adapters.py --parity-job forward-linear:...-float32-b32i64o16

Each job of the plan (check × case) becomes one test item named by its job id, under a
collector called ``parity``; ``--parity-job ID`` (repeatable) selects jobs by their exact id,
which is what the failure messages' repro lines use (and then nothing else of the session's
tests runs). Without these options the plugin does nothing. Write ``--parity-plugin=PATH``
with ``=``: a separate PATH argument is also a path pytest collects from. For one's own
tests, :func:`check_layer` runs every check on one class.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from parity_tests.targets import load_targets


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parity", "NumPy-vs-torch parity checks on outside layers")
    group.addoption("--parity-target", action="append", default=[], metavar="MODULE:ATTR",
                    help="an outside class following the layer contract (with --parity-as)")
    group.addoption("--parity-as", action="append", default=[], metavar="ENTRY",
                    help="the registry entry whose samples and reference apply to the "
                         "matching --parity-target")
    group.addoption("--parity-plugin", action="append", default=[], metavar="FILE.py",
                    help="a file defining TARGETS (parity_tests.adapters.Target objects)")
    group.addoption("--parity-job", action="append", default=[], metavar="ID",
                    help="only the job with this exact id (repeatable)")
    group.addoption("--parity-seed", type=int, default=None, metavar="N",
                    help="the seed (default PARITY_SEED or 0)")


class ParityItem(pytest.Item):
    """One job: a check on one case of an outside target."""

    def __init__(self, *, job: Any, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job, self.seed = job, seed

    def runtest(self) -> None:
        __tracebackhide__ = True
        self.job.run(self.seed).assert_ok()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)  # the harness's message says it all
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, f"parity: {self.name}"


class ParityCollector(pytest.Collector):
    def __init__(self, *, jobs: list[Any], seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jobs, self.seed = jobs, seed

    def collect(self) -> Iterator[ParityItem]:
        for job in self.jobs:
            yield ParityItem.from_parent(self, name=job.id, job=job, seed=self.seed)


def _jobs(config: pytest.Config) -> list[Any]:
    from parity_tests.checks import plan

    entries = load_targets(config.getoption("parity_target"), config.getoption("parity_as"),
                           config.getoption("parity_plugin"))
    if not entries:
        return []
    jobs = plan(entries=entries)
    wanted = config.getoption("parity_job")
    if wanted:
        unknown = sorted(set(wanted) - {job.id for job in jobs})
        if unknown:
            raise pytest.UsageError(f"--parity-job: no job {unknown[0]!r} for these targets")
        jobs = [job for job in jobs if job.id in set(wanted)]
    return jobs


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if not (config.getoption("parity_target") or config.getoption("parity_plugin")):
        return
    from parity_tests.seeding import seed_from_env

    seed = config.getoption("parity_seed")
    collector = ParityCollector.from_parent(
        session, name="parity", jobs=_jobs(config),
        seed=seed_from_env() if seed is None else seed)
    if config.getoption("parity_job"):
        # An exact job selection (a printed repro line) runs those jobs and nothing else.
        config.hook.pytest_deselected(items=list(items))
        items.clear()
    items.extend(collector.collect())


def check_layer(layer: Any, like: str, adapter: Any = None, seed: int = 0,
                checks: list[str] | None = None) -> list[Any]:
    """Run every check of entry ``like`` on the outside class ``layer`` (through
    ``adapter``, default: the project's contract); raise ``AssertionError`` listing every
    failure, else return the results. For one's own tests::

        def test_my_conv():
            check_layer(MyConv, like="conv2d", adapter=MY_ADAPTER)
    """
    __tracebackhide__ = True
    from parity_tests.adapters import CONTRACT, Target, target_entry
    from parity_tests.checks import ERROR, FAIL, plan

    entry = target_entry(Target(layer, like, adapter or CONTRACT), origin="")
    results = [job.run(seed) for job in plan(checks, entries=[entry])]
    bad = [r for r in results if r.status in (FAIL, ERROR)]
    if bad:
        raise AssertionError(f"{len(bad)} of {len(results)} checks of {entry.name} failed:\n\n"
                             + "\n\n".join(r.message() for r in bad))
    return results
