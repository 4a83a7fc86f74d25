"""Soak, small: 30 lifecycles of every kind and main option, sync and async, with a seeded 20 % random mix of
transient faults (throttling, 500, 503, connection resets, latency) on every request, and AccessDenied scripted
on the creates of a few. Nothing may fail but those, and nothing may be left. ``benchmarks/soak.py`` runs 1,000.
"""

from __future__ import annotations

import pytest

from tests.support.soak import DENY_EVERY, plan_cases, run_soak, soak_target

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

N = 30
SEED = 20240601


def test_soak_with_random_faults() -> None:
    with soak_target() as target:
        report = run_soak(target, n=N, seed=SEED, rate=0.2)
    print("\n".join(report.lines()))
    planned = plan_cases(N, SEED)
    assert report.total == N
    assert {case.kind for case in planned} == {"table", "bucket", "queue"}
    assert report.lifecycles["sync"] and report.lifecycles["async"]
    assert report.failures == []
    assert report.denied == sum(case.denied for case in planned) == N // DENY_EVERY
    assert report.leaked == []
    # The mix really was injected: about a fifth of the requests, of several kinds.
    assert 0.1 * report.requests <= report.injected <= 0.3 * report.requests
    assert len([label for label in report.faults if label != "access_denied"]) >= 3
