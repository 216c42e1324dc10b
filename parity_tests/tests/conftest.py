"""Test-session set-up: one torch thread, the seed, hypothesis profiles."""

from __future__ import annotations

import os

import torch
from hypothesis import HealthCheck, settings

from parity_tests.seeding import seed_from_env

# torch's OpenMP pool does not survive a fork (forked workers hang), and on a shared
# 2-core machine more threads only add noise.
torch.set_num_threads(1)

#: Every case draws from default_rng([PARITY_SEED, crc32(case id)]); set it to replay a run.
SEED = seed_from_env()

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=40,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=400, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_report_header(config: object) -> str:
    import numpy as np

    return (f"parity: PARITY_SEED={SEED}, numpy {np.__version__}, torch {torch.__version__}, "
            f"torch threads {torch.get_num_threads()}, "
            f"hypothesis profile {os.environ.get('HYPOTHESIS_PROFILE', 'ci')}")


def pytest_collection_modifyitems(items: list) -> None:
    """Tests marked ``slow`` (child processes, training runs: 1-9 s each) run first, in their
    collected order: with pytest-xdist's work stealing (``make test``) a worker's last tests
    are then short ones, so the two workers finish together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
