"""The step vocabulary (sandboxres._engine.steps) and the shared plan helpers (sandboxres._engine.plans).

tenacity is run with its own arguments where a step builds them, but never waits: the loops stop on the first
failure (a deadline of 0) or are driven with a no-op sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
import tenacity

from sandboxres._engine.errors import CleanupError, ReadinessTimeoutError
from sandboxres._engine.plans import (
    TAG_CREATED,
    TAG_MANAGED,
    TAG_RUN_ID,
    Progress,
    create_call,
    label_of,
    not_found,
    not_found_policy,
    partition,
    resource_tags,
    tag_list,
)
from sandboxres._engine.settings import UNSEEN_GRACE
from sandboxres._engine.steps import Call, NotReady, Outcome, Poll, RetryPolicy, poll_wait, retry_wait
from tests.support.scripted import Fail, call, client_error, run

THROTTLED = client_error("ThrottlingException")
IN_USE = client_error("ResourceInUseException")
INVALID = client_error("ValidationException")


def _state(exc: BaseException | None, elapsed: float) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    if exc is not None:
        state.set_exception((type(exc), exc, None))
        state.start_time -= elapsed
        state.outcome_timestamp = state.start_time + elapsed
    return state


def _attempt(number: int) -> Any:
    return SimpleNamespace(retry_state=SimpleNamespace(attempt_number=number))


# ---------------------------------------------------------------------------------------------------------
# RetryPolicy


def test_policy_retries_transient_errors_and_its_racy_codes_only() -> None:
    policy = RetryPolicy(10.0, {"ResourceInUseException": None})
    assert policy.should_retry(THROTTLED)
    assert policy.should_retry(IN_USE)
    assert not policy.should_retry(INVALID)
    assert not policy.should_retry(ValueError("ResourceInUseException"))


def test_policy_limits_one_deadline_per_code() -> None:
    policy = RetryPolicy(10.0, {"ResourceInUseException": 300.0, "OperationAborted": None})
    assert policy.limit(IN_USE) == 300.0
    assert policy.limit(client_error("OperationAborted")) == 10.0, "None: as long as the deadline"
    assert policy.limit(INVALID) == 10.0
    assert policy.limit(client_error("ResourceInUseException", status=500)) == 10.0, "transient: the deadline"
    assert policy.limit(ValueError()) == 10.0
    assert policy.limit(None) == 10.0


def test_policy_derivations() -> None:
    base = RetryPolicy(10.0, {"A": 300.0})
    also = base.retrying_also("B", 60.0).retrying_also("C")
    assert also.racy == {"A": 300.0, "B": 60.0, "C": None} and also.deadline == 10.0
    assert base.racy == {"A": 300.0}, "derivations leave the original alone"
    assert base.cut_to(2.0) == RetryPolicy(2.0, {"A": 300.0})
    assert base.cut_to(50.0).deadline == 10.0


def test_policy_stop_follows_the_last_errors_deadline() -> None:
    policy = RetryPolicy(10.0, {"ResourceInUseException": 300.0})
    assert not policy.stop(_state(IN_USE, 299.0))
    assert policy.stop(_state(IN_USE, 300.0))
    assert not policy.stop(_state(THROTTLED, 9.0))
    assert policy.stop(_state(THROTTLED, 10.0))
    assert not policy.stop(_state(None, 0.0)), "no outcome yet: the deadline, not yet reached"
    assert RetryPolicy(0.0).stop(_state(None, 0.0))


def test_call_retrying_arguments_retry_what_the_policy_says_and_reraise() -> None:
    step = Call("dynamodb", "delete_table", {}, RetryPolicy(0.0, {"ResourceInUseException": None}))
    kwargs = step.retrying()
    assert kwargs["reraise"] is True and kwargs["stop"] == step.policy.stop
    answers: Iterator[Exception | str] = iter([THROTTLED, IN_USE, "done"])

    def attempt() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    never_stop = {**kwargs, "stop": tenacity.stop_never, "sleep": lambda seconds: None}
    assert tenacity.Retrying(**never_stop)(attempt) == "done"
    with pytest.raises(type(INVALID)) as caught:
        tenacity.Retrying(**kwargs)(lambda: (_ for _ in ()).throw(INVALID))
    assert caught.value is INVALID, "the permanent error, unchanged"


def test_backoffs() -> None:
    first = _state(THROTTLED, 0.0)
    assert 0.05 <= retry_wait()(first) <= 0.1
    assert poll_wait()(first) == pytest.approx(0.07)
    first.attempt_number = 100
    assert retry_wait()(first) <= 5.05 and poll_wait()(first) == 2.0


# ---------------------------------------------------------------------------------------------------------
# Poll


def _poll(**overrides: Any) -> Poll:
    arguments: dict[str, Any] = {
        "call": Call("dynamodb", "describe_table", {"TableName": "t"}),
        "judge": lambda response: response["value"],
        "resource": "table t",
        "timeout": 0.0,
        "when_error": {
            "ResourceNotFoundException": Outcome.NOT_READY,
            "Gone": Outcome.DONE,
            "403": lambda exc: PermissionError("foreign"),
        },
    }
    arguments.update(overrides)
    return Poll(**arguments)


def test_poll_first_uses_a_known_response_for_the_first_probe_only() -> None:
    assert _poll().first(_attempt(1)) is None
    known = _poll(known={"value": 1})
    assert known.first(_attempt(1)) == ({"value": 1}, None)
    assert known.first(_attempt(2)) is None


def test_poll_settle_each_meaning() -> None:
    poll = _poll()
    assert poll.settle({"value": 7}, None) == 7
    with pytest.raises(NotReady) as waiting:
        poll.settle(None, client_error("ResourceNotFoundException"))
    assert waiting.value.status == "ResourceNotFoundException"
    assert poll.settle(None, client_error("Gone")) is None
    with pytest.raises(PermissionError) as foreign:
        poll.settle(None, client_error("AccessDenied", status=403))  # matched by HTTP status
    assert isinstance(foreign.value.__cause__, type(INVALID))
    with pytest.raises(type(INVALID)) as other:
        poll.settle(None, INVALID)
    assert other.value is INVALID


def test_poll_retrying_gives_up_with_a_readiness_timeout_after_not_ready() -> None:
    def probe() -> Any:
        raise NotReady("CREATING")

    with pytest.raises(ReadinessTimeoutError) as caught:
        tenacity.Retrying(**_poll().retrying())(probe)
    assert caught.value.last_status == "CREATING" and caught.value.resource == "table t"


def test_poll_retrying_gives_up_with_the_last_transient_error_and_stops_at_a_permanent_one() -> None:
    retrying = _poll(call=Call("dynamodb", "describe_table", {"TableName": "t"}, RetryPolicy(0.0))).retrying()
    with pytest.raises(type(THROTTLED)) as transient:
        tenacity.Retrying(**retrying)(lambda: (_ for _ in ()).throw(THROTTLED))
    assert transient.value is THROTTLED
    assert retrying["retry"].predicate(NotReady("x")) and retrying["retry"].predicate(THROTTLED)
    assert not retrying["retry"].predicate(INVALID)
    with pytest.raises(type(INVALID)):
        tenacity.Retrying(**_poll(timeout=60.0).retrying())(lambda: (_ for _ in ()).throw(INVALID))
    assert tenacity.Retrying(**_poll().retrying())(lambda: "ready") == "ready"


def test_poll_retries_a_transient_failure_at_its_deadline_within_the_calls_own() -> None:
    """A probe throttled when the poll's time is up is retried (up to its call's deadline): the next real answer
    decides; a not-ready answer past the poll's deadline ends it."""
    poll = _poll(timeout=5.0, call=Call("dynamodb", "describe_table", {"TableName": "t"}, RetryPolicy(30.0)))
    stop = poll.retrying()["stop"]
    assert not stop(_state(NotReady("CREATING"), 4.9)) and stop(_state(NotReady("CREATING"), 5.0))
    assert not stop(_state(THROTTLED, 5.0)) and not stop(_state(THROTTLED, 29.9)) and stop(_state(THROTTLED, 30.0))
    longer = _poll(timeout=60.0, call=Call("dynamodb", "describe_table", {"TableName": "t"}, RetryPolicy(30.0)))
    assert not longer.retrying()["stop"](_state(THROTTLED, 59.0))  # the poll's own deadline when it is the longer


# ---------------------------------------------------------------------------------------------------------
# shared plan helpers


def test_resource_tags_and_tag_lists() -> None:
    moment = datetime(2024, 5, 1, 12, 0, 0, 999, tzinfo=timezone.utc)
    tags = resource_tags("run-1", moment)
    assert tags == {TAG_MANAGED: "true", TAG_RUN_ID: "run-1", TAG_CREATED: "2024-05-01T12:00:00Z"}
    assert resource_tags("run-2")[TAG_CREATED].endswith("Z")
    assert tag_list({"a": "1", "b": "2"}) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


@pytest.mark.parametrize(
    ("region", "expected"),
    [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("eu-west-1", "aws"), (None, "aws"), ("", "aws")],
)
def test_partition(region: str | None, expected: str) -> None:
    assert partition(region) == expected


def test_progress_states() -> None:
    progress = Progress()
    assert not progress.started() and not progress.in_doubt("a") and not progress.unseen("a")
    progress.sent.add("a")
    assert progress.started() and progress.in_doubt("a") and progress.unseen("a")
    progress.created.add("a")
    assert not progress.in_doubt("a") and progress.unseen("a"), "created, never seen ready"
    progress.confirmed.add("a")
    assert not progress.unseen("a")
    assert Progress(created={"b"}).started()
    assert label_of("queue", "q") == "queue q"


def test_create_call_marks_the_name_sent_until_an_answer_proves_nothing_was_created() -> None:
    step = Call("sqs", "create_queue", {"QueueName": "q"})
    progress = Progress()
    assert run(
        create_call(step, "q", progress), call("sqs", "create_queue", {"QueueName": "q"}, {"QueueUrl": "u"})
    ) == {"QueueUrl": "u"}
    assert progress.sent == {"q"}
    refused = Progress()
    with pytest.raises(type(INVALID)):
        run(create_call(step, "q", refused), call("sqs", "create_queue", None, Fail(INVALID, retry=False)))
    assert refused.sent == set(), "a permanent error proves nothing was created"
    lost = Progress()
    with pytest.raises(type(THROTTLED)):
        run(create_call(step, "q", lost), call("sqs", "create_queue", None, Fail(THROTTLED, retry=True)))
    assert lost.sent == {"q"}, "throttled until the deadline: the call may have landed"


def test_closing_an_interrupted_create_keeps_it_sent() -> None:
    progress = Progress()
    plan = create_call(Call("sqs", "create_queue", {}), "q", progress)
    next(plan)
    plan.close()  # Ctrl-C / cancellation while the call was in flight
    assert progress.in_doubt("q")


def test_not_found_policy_and_not_found() -> None:
    base = RetryPolicy(5.0)
    assert not_found_policy(base, "t", Progress(), "NotFound") is base
    graced = not_found_policy(base, "t", Progress(sent={"t"}), "NotFound")
    assert graced.racy == {"NotFound": UNSEEN_GRACE}
    not_found("table", "t", Progress())  # never created: nothing to say
    not_found("table", "t", Progress(sent={"t"}, created={"t"}))  # answered: gone is gone
    with pytest.raises(CleanupError, match="may still appear") as caught:
        not_found("table", "t", Progress(sent={"t"}))
    assert caught.value.resource == "table t"


def test_unseen_grace_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXRES_UNSEEN_GRACE", "2.5")
    assert not_found_policy(RetryPolicy(5.0), "t", Progress(created={"t"}), "X").racy == {"X": 2.5}
    with pytest.raises(CleanupError, match=r"within 2\.5 s"):
        not_found("bucket", "t", Progress(sent={"t"}))
