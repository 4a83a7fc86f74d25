"""``bucket.notify(queue, ...)`` on a moto server and on the ``simulated`` target, through both front doors: the
event arrives, the ``s3:TestEvent`` never shows, the queue policy statement allows this bucket and nothing else,
several notifications add up, every way out leaves nothing of the wiring, bad input makes no call.

What is left is seen with plain boto3 clients on the emulator itself (behind the simulator on the simulated tier).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import pytest

from sandboxres import AWSCallError, SpecError
from sandboxres._kinds.bucket import notifications
from tests.support.resource_policy import Delivery, allows
from tests.support.runner import Runner
from tests.support.tiers import TIERS, Tier, enter_tier

CREATED = "s3:ObjectCreated:*"


@pytest.fixture(params=TIERS)
def tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, run: Runner) -> Tier:
    return enter_tier(request.param, monkeypatch, lambda: str(request.getfixturevalue("emulator")), run)


def receive(run: Runner, queue: Any, enough: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Long polls (the receipts deleted) until ``enough(bodies)`` or ten polls; the decoded bodies."""
    bodies: list[dict[str, Any]] = []
    for _ in range(10):
        got = run.call(queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=2, MaxNumberOfMessages=10))
        for message in got.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            run.call(queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"]))
        if enough(bodies):
            break
    return bodies


def keys_of(bodies: list[dict[str, Any]]) -> list[str]:
    """The object keys of the S3 events among ``bodies`` (S3 sends them URL-encoded)."""
    return [unquote_plus(record["s3"]["object"]["key"]) for body in bodies for record in body.get("Records", [])]


def s3_test_events(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [body for body in bodies if body.get("Event") == "s3:TestEvent"]


def held(tier: Tier, queue: Any) -> int:
    """Every message the queue holds (visible, in flight, delayed), seen on the emulator."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = tier.raw("sqs").get_queue_attributes(QueueUrl=queue.url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def queue_policy(tier: Tier, queue: Any) -> str | None:
    attributes = (
        tier.raw("sqs").get_queue_attributes(QueueUrl=queue.url, AttributeNames=["Policy"]).get("Attributes", {})
    )
    policy = attributes.get("Policy")
    return policy or None


def configuration(tier: Tier, bucket: str) -> dict[str, Any]:
    got = tier.raw("s3").get_bucket_notification_configuration(Bucket=bucket)
    return {key: value for key, value in got.items() if key != "ResponseMetadata" and value}


def ours(policy: str | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    return [s for s in json.loads(policy)["Statement"] if str(s.get("Sid", "")).startswith("Sandboxres")]


def test_an_upload_arrives_and_the_test_event_never_shows(tier: Tier, run: Runner) -> None:
    with run.lifecycle("bucket", "notify") as bucket, run.lifecycle("queue", "notify") as queue:
        entry = run.call(bucket.notify(queue, prefix="in/"))
        assert entry.startswith("sandboxres-")
        assert held(tier, queue) == 0  # the test event S3 sent was consumed
        run.call(bucket.client.put_object(Bucket=bucket.name, Key="in/a.txt", Body=b"a"))
        bodies = receive(run, queue, lambda got: "in/a.txt" in keys_of(got))
        assert keys_of(bodies) == ["in/a.txt"]
        assert s3_test_events(bodies) == []
        assert held(tier, queue) == 0
        [entry_seen] = configuration(tier, bucket.name)["QueueConfigurations"]
        assert entry_seen["Id"] == entry and entry_seen["Events"] == [CREATED]
    if tier.proxy is not None:  # S3 checked the destination's policy on the way, as on AWS, and let it through
        puts = tier.proxy.seen("s3", "PutBucketNotificationConfiguration")
        assert puts and [str(put.fault) for put in puts if "destination policy" in str(put.fault)] == []


def test_the_statement_lets_this_bucket_send_and_nothing_else(tier: Tier, run: Runner) -> None:
    with run.lifecycle("queue", "grant") as queue:
        mine = {"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:GetQueueUrl"}
        existing = json.dumps({"Version": "2012-10-17", "Statement": [{**mine, "Resource": queue.arn}]})
        tier.raw("sqs").set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": existing})
        with run.lifecycle("bucket", "grant") as bucket:
            run.call(bucket.notify(queue))
            policy = queue_policy(tier, queue)
            [statement] = ours(policy)
            assert statement["Sid"].startswith("SandboxresS3Events")
            assert [s["Sid"] for s in json.loads(policy or "{}")["Statement"]] == ["Mine", statement["Sid"]]
            account = queue.arn.split(":")[4]
            delivery = Delivery("s3.amazonaws.com", "sqs:SendMessage", queue.arn, bucket.arn, account)
            assert allows(policy, delivery)
            assert not allows(policy, delivery.replace(source_arn="arn:aws:s3:::another-bucket"))
            assert not allows(policy, delivery.replace(source_account="210987654321"))
            assert not allows(policy, delivery.replace(principal="sns.amazonaws.com"))
            assert not allows(policy, delivery.replace(action="sqs:ReceiveMessage"))
            assert not allows(policy, delivery.replace(resource=queue.arn + "_other"))
        # The bucket ended first: our statement is gone, the queue's own stays as it was
        assert [s["Sid"] for s in json.loads(queue_policy(tier, queue) or "{}")["Statement"]] == ["Mine"]


@pytest.mark.parametrize("first", ["queue", "bucket", "raising bucket block"])
def test_whichever_ends_first_nothing_of_the_wiring_is_left(tier: Tier, run: Runner, first: str) -> None:
    class Boom(Exception):
        pass

    if first == "queue":
        with run.lifecycle("bucket", "order") as bucket:
            with run.lifecycle("queue", "order") as queue:
                run.call(bucket.notify(queue))
            assert configuration(tier, bucket.name) == {}
        return
    with run.lifecycle("queue", "order") as queue:
        with pytest.raises(Boom) if first.startswith("raising") else _nothing():
            with run.lifecycle("bucket", "order") as bucket:
                run.call(bucket.notify(queue))
                assert ours(queue_policy(tier, queue))
                if first.startswith("raising"):
                    raise Boom
        assert queue_policy(tier, queue) is None  # the last statement gone: the attribute too
        assert held(tier, queue) == 0


def _nothing() -> Any:
    import contextlib

    return contextlib.nullcontext()


def test_several_notifications_add_up_and_each_goes_alone(tier: Tier, run: Runner) -> None:
    s3, sqs = tier.raw("s3"), tier.raw("sqs")
    with (
        run.lifecycle("queue", "several_user") as user,  # outlives the bucket: S3 validates its entry at each PUT
        run.lifecycle("bucket", "several") as bucket,
        run.lifecycle("queue", "several_a") as first,
    ):
        # An entry of the user's own, to a queue whose policy lets S3 send: kept through everything
        allow_s3 = {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": user.arn,
            "Condition": {"ArnLike": {"aws:SourceArn": bucket.arn}},
        }
        sqs.set_queue_attributes(
            QueueUrl=user.url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [allow_s3]})}
        )
        user_entry = {"Id": "users-own", "QueueArn": user.arn, "Events": ["s3:ObjectRemoved:*"]}
        s3.put_bucket_notification_configuration(
            Bucket=bucket.name, NotificationConfiguration={"QueueConfigurations": [user_entry]}
        )
        first_id = run.call(bucket.notify(first, prefix="a/"))
        with run.lifecycle("queue", "several_b") as second:
            second_id = run.call(bucket.notify(second, prefix="b/", suffix=".txt"))
            ids = [entry["Id"] for entry in configuration(tier, bucket.name)["QueueConfigurations"]]
            assert ids == ["users-own", first_id, second_id]
            # The second PUT sent the first queue a test event too: consumed as well
            assert held(tier, first) == 0 and held(tier, second) == 0
            for key in ("a/1", "b/2.txt", "b/3.csv"):
                run.call(bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"x"))
            assert keys_of(receive(run, first, lambda got: bool(keys_of(got)))) == ["a/1"]
            got = receive(run, second, lambda got: bool(keys_of(got)))
            assert keys_of(got) == ["b/2.txt"] and s3_test_events(got) == []
        # The second queue ended: its entry went, the others stay, the first queue got no test event from it
        ids = [entry["Id"] for entry in configuration(tier, bucket.name)["QueueConfigurations"]]
        assert ids == ["users-own", first_id]
        assert held(tier, first) == 0
    assert tier.raw("sqs").list_queues(QueueNamePrefix="test_several").get("QueueUrls", []) == []


def test_an_overlapping_entry_is_refused_before_any_change(tier: Tier, run: Runner) -> None:
    with (
        run.lifecycle("bucket", "overlap") as bucket,
        run.lifecycle("queue", "overlap_a") as first,
        run.lifecycle("queue", "overlap_b") as second,
    ):
        run.call(bucket.notify(first, events=["s3:ObjectCreated:Put"], prefix="data/"))
        with pytest.raises(SpecError, match="ambiguously defined"):
            run.call(bucket.notify(second, prefix="data/2024/"))
        assert len(configuration(tier, bucket.name)["QueueConfigurations"]) == 1
        assert queue_policy(tier, second) is None
        run.call(bucket.notify(second, events=["s3:ObjectRemoved:*"], prefix="data/"))  # other events: fine
        assert len(configuration(tier, bucket.name)["QueueConfigurations"]) == 2


# -- the simulated tier refuses what AWS refuses -----------------------------------------------------------------


def test_on_simulated_the_entry_without_our_statement_is_refused(monkeypatch: pytest.MonkeyPatch, run: Runner) -> None:
    tier = enter_tier("simulated", monkeypatch, lambda: "", run)
    with run.lifecycle("bucket", "refused") as bucket, run.lifecycle("queue", "refused") as queue:
        entry = {"QueueArn": queue.arn, "Events": [CREATED]}
        with pytest.raises(Exception, match="Unable to validate"):  # the naive call, as AWS answers it
            run.call(
                bucket.client.put_bucket_notification_configuration(
                    Bucket=bucket.name, NotificationConfiguration={"QueueConfigurations": [entry]}
                )
            )

        def no_statement(request: Any, sid: str) -> Any:
            yield from ()

        monkeypatch.setattr(notifications, "_grant", no_statement)
        with pytest.raises(AWSCallError, match="Unable to validate"):
            run.call(bucket.notify(queue, timeout=1))
        assert configuration(tier, bucket.name) == {}
        assert queue_policy(tier, queue) is None
