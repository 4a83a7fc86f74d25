"""Naive tests and their correct versions.

Each module holds a test as it is first written (``test_naive_*``): it passes on moto, which answers at once and
consistently, and fails on AWS, where reads lag writes, short polls sample and S3 checks queue policies. Beside it,
the same check written for AWS (every other test): it passes on both. On ``SANDBOXRES_TARGET=simulated`` the naive
tests fail as they would on AWS, on every commit, without an account:

    python -m pytest                                          # embedded emulator: everything passes
    SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=7 python -m pytest -p no:randomly
                                                              # the naive tests fail, the others pass
"""

from __future__ import annotations
