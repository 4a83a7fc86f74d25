"""The queue helpers (``receive``, ``events``, ``drain``, ``send_all``) through both front doors: on a moto server
behind a fault proxy (which shows every request and holds back batch entries), and on the ``simulated`` target,
where the naive short poll misses the message the helper receives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandboxres import AWSCallError, ReceiveTimeoutError, SpecError
from sandboxres._runtime.clients import active_target
from sandboxres._runtime.target import Target
from sandboxres._simulator import FaultProxy, Rule
from tests.support.batch_faults import HoldBack
from tests.support.runner import Runner

S3_RECORD = {
    "eventVersion": "2.1",
    "eventSource": "aws:s3",
    "awsRegion": "us-east-1",
    "eventName": "ObjectCreated:Put",
    "s3": {"bucket": {"name": "test-b", "arn": "arn:aws:s3:::test-b"}, "object": {"key": "in/a.txt", "size": 1}},
}


@pytest.fixture
def proxied(proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The target is the module's moto server (emptied) behind the fault proxy (its rules and records cleared)."""
    proxy.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    yield proxy
    proxy.clear()


def test_send_all_then_receive_through_both_doors(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"helpers_{run.mode}") as queue:
        bodies = [f"m{i}" for i in range(23)] + [{"kind": "json"}]
        ids = run.call(queue.send_all(bodies))
        assert len(ids) == 24 and len(set(ids)) == 24
        assert proxied.count("sqs", "SendMessageBatch") == 3  # 10 + 10 + 4
        messages = run.call(queue.receive(count=24))
        assert sorted(m["Body"] for m in messages) == sorted([f"m{i}" for i in range(23)] + ['{"kind": "json"}'])
        assert {m["MessageId"] for m in messages} == set(ids)
        assert proxied.count("sqs", "DeleteMessageBatch") >= 3
        assert run.call(queue.drain()) == 0  # all deleted by receive


def test_receive_without_delete_leaves_the_messages_and_drain_removes_them(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"keep_{run.mode}", attributes={"VisibilityTimeout": "0"}) as queue:
        run.call(queue.send_all(["a", "b", "c"]))
        got = run.call(queue.receive(count=3, delete=False))
        assert sorted(m["Body"] for m in got) == ["a", "b", "c"]  # a message seen twice counts once
        assert proxied.count("sqs", "DeleteMessageBatch") == 0
        assert run.call(queue.drain()) == 3
        assert run.call(queue.drain()) == 0


def test_receive_times_out_saying_how_many_of_how_many_arrived(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"late_{run.mode}") as queue:
        run.call(queue.send_all(["only one"]))
        with pytest.raises(ReceiveTimeoutError) as caught:
            run.call(queue.receive(count=3, timeout=1.5))
        error = caught.value
        assert isinstance(error, TimeoutError)
        assert (error.expected, [m["Body"] for m in error.received]) == (3, ["only one"])
        assert f"queue {queue.name}: 1 of 3 messages arrived within" in str(error)
        assert ": 'only one'." in str(error)
        assert run.call(queue.drain()) == 0  # what arrived was deleted all the same


def test_fifo_queues_need_a_group_and_keep_the_order(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"fifo_{run.mode}", fifo=True) as queue:
        with pytest.raises(SpecError, match="group_id"):
            run.call(queue.send_all(["a"]))
        ids = run.call(queue.send_all(["a", "a", "b", "c"], group_id="g"))  # equal bodies: distinct dedup ids
        assert len(set(ids)) == 4
        assert [m["Body"] for m in run.call(queue.receive(count=4))] == ["a", "a", "b", "c"]
        run.call(queue.send_all(["x", "y"], group_id="g", dedup_ids=["d1", "d1"]))  # deduplicated by SQS
        assert [m["Body"] for m in run.call(queue.receive(count=1))] == ["x"]
        assert run.call(queue.drain()) == 0


def test_failed_entries_are_sent_again_and_permanent_ones_raised(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"failed_{run.mode}") as queue:
        proxied.add(Rule(HoldBack(3), service="sqs", operations="SendMessageBatch", times=2))
        ids = run.call(queue.send_all([f"m{i}" for i in range(10)]))
        assert len(set(ids)) == 10
        assert proxied.count("sqs", "SendMessageBatch") == 3  # 7 of 10 sent, then 1 of the 3, then the last 2
        proxied.add(Rule(HoldBack(2), service="sqs", operations="DeleteMessageBatch", times=1))
        assert sorted(m["Body"] for m in run.call(queue.receive(count=10))) == sorted(f"m{i}" for i in range(10))
        assert run.call(queue.drain()) == 0  # the two held back were deleted on the second try
        proxied.add(Rule(HoldBack(1, code="InvalidMessageContents", sender_fault=True), service="sqs", times=1))
        with pytest.raises(AWSCallError, match="InvalidMessageContents"):
            run.call(queue.send_all(["good", "bad"]))
        assert run.call(queue.drain()) == 1


def test_failed_entries_that_keep_failing_end_with_a_clear_error(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"throttled_{run.mode}") as queue:
        proxied.add(Rule(HoldBack(code="RequestThrottled", every=True), service="sqs", operations="SendMessageBatch"))
        with pytest.raises(AWSCallError, match=r"2 of 2 entries still not processed after .*RequestThrottled"):
            run.call(queue.send_all(["a", "b"], timeout=1))
        proxied.clear_rules()
        run.call(queue.drain())


def test_events_decodes_sns_envelopes_and_s3_records_and_skips_test_events(proxied: FaultProxy, run: Runner) -> None:
    envelope = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:test_topic",
        "Message": json.dumps({"order": 7}),
        "Timestamp": "2012-05-02T00:54:06.655Z",
    }
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "test-b", "RequestId": "5582815E"}
    with run.lifecycle("queue", f"events_{run.mode}") as queue:
        run.call(queue.send_all([test_event, envelope, {"Records": [S3_RECORD, S3_RECORD]}, "plain text"]))
        events = run.call(queue.events(count=4))
        assert sorted(map(json.dumps, events)) == sorted(
            map(json.dumps, [{"order": 7}, S3_RECORD, S3_RECORD, "plain text"])
        )
        assert run.call(queue.drain()) == 0  # the test event was consumed too


def test_bad_input_is_refused_before_any_call(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("queue", f"bad_{run.mode}") as queue:
        proxied.clear_records()
        calls: list[Callable[[], Any]] = [
            lambda: queue.receive(count=0),
            lambda: queue.receive(count=True),
            lambda: queue.receive(timeout=-1),
            lambda: queue.receive(delete="yes"),
            lambda: queue.events(count=1.5),
            lambda: queue.send_all("one string"),
            lambda: queue.send_all([b"bytes"]),
            lambda: queue.send_all([""]),
            lambda: queue.send_all(["a"], dedup_ids=["d"]),
            lambda: queue.drain(timeout=0),
        ]
        for bad in calls:
            with pytest.raises(SpecError):
                run.call(bad())
        assert proxied.requests == []


# ---------------------------------------------------------------------------------------------------------
# on the simulated target: short polls that come back empty


@pytest.fixture
def simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    """``simulated``, every behaviour on; short polls always come back empty (AWS: sometimes)."""
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"seed": 4242, "short_poll_empty": {"probability": 1.0}}))
    monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_PROFILE", str(profile))
    return active_target()


def test_on_simulated_the_naive_short_poll_misses_what_receive_gets(simulated: Target, run: Runner) -> None:
    with run.lifecycle("queue", f"simulated_{run.mode}") as queue:
        run.call(queue.send_all(["hello", "world"]))
        naive = run.call(queue.client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10))
        assert naive.get("Messages", []) == []  # the message is there, the short poll did not see it
        assert sorted(m["Body"] for m in run.call(queue.receive(count=2))) == ["hello", "world"]
        run.call(queue.send_all([{"Records": [S3_RECORD]}]))
        assert run.call(queue.events()) == [S3_RECORD]
        run.call(queue.send_all(["left"]))
        assert run.call(queue.drain()) == 1
