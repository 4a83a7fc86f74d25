"""The retry policy's deadlines: a racy code may have a deadline of its own (pure logic, no I/O)."""

from __future__ import annotations

from typing import Any

import tenacity
from botocore.exceptions import ClientError

from sandboxres._engine.plans import Progress, not_found_policy
from sandboxres._engine.settings import UNSEEN_GRACE
from sandboxres._engine.steps import RetryPolicy
from tests.support.scripted import client_error


def _state(code: str, elapsed: float) -> tenacity.RetryCallState:
    error = client_error(code, "x", 400, "Op")
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.set_exception((ClientError, error, None))
    state.start_time -= elapsed
    state.outcome_timestamp = state.start_time + elapsed
    return state


def _stops(policy: RetryPolicy, code: str, elapsed: float) -> Any:
    return policy.stop(_state(code, elapsed))


def test_unseen_grace_applies_to_the_not_found_code_only() -> None:
    base = RetryPolicy(5.0, {"ResourceInUseException": 300.0})
    progress = Progress(created={"test_t_1"})
    policy = not_found_policy(base, "test_t_1", progress, "ResourceNotFoundException")
    assert not _stops(policy, "ResourceNotFoundException", UNSEEN_GRACE - 1)
    assert _stops(policy, "ResourceNotFoundException", UNSEEN_GRACE + 1), "not found is believed after the grace"
    assert not _stops(policy, "ResourceInUseException", UNSEEN_GRACE + 1), "in use keeps its own 300 s"
    assert _stops(policy, "ValidationException", 5.1), "anything else: the plain deadline"


def test_no_grace_for_a_resource_seen_ready_or_never_created() -> None:
    base = RetryPolicy(deadline=5.0)
    seen = Progress(created={"test_t_1"}, confirmed={"test_t_1"})
    assert not_found_policy(base, "test_t_1", seen, "ResourceNotFoundException") is base
    assert not_found_policy(base, "test_t_1", Progress(), "ResourceNotFoundException") is base
