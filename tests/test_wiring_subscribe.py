"""``topic.subscribe(queue, raw, filter_policy)`` and ``bucket.notify(topic)`` on a moto server and on the
``simulated`` target, through both front doors: raw bodies, the SNS envelope, filtering, the queue and topic policy
statements allowing exactly their sender, an S3 event through a topic with no test event left, and nothing of the
wiring left whichever resource ends first, even when the block raises.

What is left is seen with plain boto3 clients on the emulator itself (behind the simulator on the simulated tier).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from tests.support.resource_policy import Delivery, allows
from tests.support.runner import Runner
from tests.support.tiers import TIERS, Tier, enter_tier
from tests.test_wiring_notify import held, keys_of, ours, queue_policy, s3_test_events


@pytest.fixture(params=TIERS)
def tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, run: Runner) -> Tier:
    return enter_tier(request.param, monkeypatch, lambda: str(request.getfixturevalue("emulator")), run)


def bodies(run: Runner, queue: Any, want: int = 1, polls: int = 10) -> list[str]:
    """Long polls (the messages deleted) until ``want`` bodies or ``polls`` polls."""
    found: list[str] = []
    for _ in range(polls):
        got = run.call(queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=2, MaxNumberOfMessages=10))
        for message in got.get("Messages", []):
            found.append(message["Body"])
            run.call(queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"]))
        if len(found) >= want:
            break
    return found


def subscriptions(tier: Tier, topic: Any) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = tier.raw("sns").list_subscriptions_by_topic(TopicArn=topic.arn)["Subscriptions"]
    return listed


def topic_policy(tier: Tier, topic: Any) -> str:
    return str(tier.raw("sns").get_topic_attributes(TopicArn=topic.arn)["Attributes"]["Policy"])


@pytest.mark.parametrize("raw", [True, False])
def test_a_published_message_arrives_raw_or_in_its_envelope(tier: Tier, run: Runner, raw: bool) -> None:
    with run.lifecycle("topic", "sub") as topic, run.lifecycle("queue", "sub") as queue:
        arn = run.call(topic.subscribe(queue, raw=raw))
        assert arn.startswith(topic.arn + ":")
        [subscription] = subscriptions(tier, topic)
        assert subscription["SubscriptionArn"] == arn and subscription["Endpoint"] == queue.arn
        attributes = tier.raw("sns").get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        assert attributes["PendingConfirmation"] == "false"
        assert attributes["RawMessageDelivery"] == ("true" if raw else "false")
        run.call(topic.client.publish(TopicArn=topic.arn, Message="hello"))
        [body] = bodies(run, queue)
        if raw:
            assert body == "hello"
        else:
            envelope = json.loads(body)
            assert (envelope["Type"], envelope["TopicArn"], envelope["Message"]) == ("Notification", topic.arn, "hello")


def test_a_filter_policy_lets_only_matching_messages_through(tier: Tier, run: Runner) -> None:
    with run.lifecycle("topic", "filter") as topic, run.lifecycle("queue", "filter") as queue:
        run.call(topic.subscribe(queue, filter_policy={"kind": ["keep"]}))
        policy = tier.raw("sns").get_subscription_attributes(
            SubscriptionArn=subscriptions(tier, topic)[0]["SubscriptionArn"]
        )
        assert json.loads(policy["Attributes"]["FilterPolicy"]) == {"kind": ["keep"]}
        for kind in ("drop", "keep"):
            attributes = {"kind": {"DataType": "String", "StringValue": kind}}
            run.call(topic.client.publish(TopicArn=topic.arn, Message=kind, MessageAttributes=attributes))
        run.call(topic.client.publish(TopicArn=topic.arn, Message="no attributes"))
        assert bodies(run, queue) == ["keep"]
        assert held(tier, queue) == 0


def test_the_statement_lets_this_topic_send_and_nothing_else(tier: Tier, run: Runner) -> None:
    with run.lifecycle("topic", "grant") as topic, run.lifecycle("queue", "grant") as queue:
        run.call(topic.subscribe(queue))
        policy = queue_policy(tier, queue)
        [statement] = ours(policy)
        assert statement["Sid"].startswith("SandboxresSnsDelivery")
        delivery = Delivery("sns.amazonaws.com", "sqs:SendMessage", queue.arn, topic.arn, topic.arn.split(":")[4])
        assert allows(policy, delivery)
        assert not allows(policy, delivery.replace(source_arn=topic.arn + "_other"))
        assert not allows(policy, delivery.replace(principal="s3.amazonaws.com"))
        assert not allows(policy, delivery.replace(action="sqs:DeleteMessage"))
        assert not allows(policy, delivery.replace(resource=queue.arn + "_other"))


@pytest.mark.parametrize("first", ["queue", "topic", "raising topic block"])
def test_whichever_ends_first_nothing_of_the_subscription_is_left(tier: Tier, run: Runner, first: str) -> None:
    class Boom(Exception):
        pass

    if first == "queue":
        with run.lifecycle("topic", "order") as topic:
            with run.lifecycle("queue", "order") as queue:
                run.call(topic.subscribe(queue))
            assert subscriptions(tier, topic) == []
        return
    with run.lifecycle("queue", "order") as queue:
        with pytest.raises(Boom) if first.startswith("raising") else contextlib.nullcontext():
            with run.lifecycle("topic", "order") as topic:
                run.call(topic.subscribe(queue, raw=False))
                assert ours(queue_policy(tier, queue))
                if first.startswith("raising"):
                    raise Boom
        assert queue_policy(tier, queue) is None
        assert tier.raw("sns").list_subscriptions()["Subscriptions"] == []


def test_on_simulated_a_subscription_without_our_statement_gets_nothing(
    monkeypatch: pytest.MonkeyPatch, run: Runner
) -> None:
    enter_tier("simulated", monkeypatch, lambda: "", run)
    with (
        run.lifecycle("topic", "naive") as topic,
        run.lifecycle("queue", "naive") as naive,
        run.lifecycle("queue", "helped") as helped,
    ):
        # The naive subscription: accepted, confirmed, and SNS delivers nothing (the queue policy does not let it)
        run.call(topic.client.subscribe(TopicArn=topic.arn, Protocol="sqs", Endpoint=naive.arn))
        run.call(topic.subscribe(helped))
        run.call(topic.client.publish(TopicArn=topic.arn, Message="hello"))
        assert bodies(run, helped) == ["hello"]
        assert bodies(run, naive, polls=2) == []


@pytest.mark.parametrize("raw", [True, False])
def test_a_bucket_notifies_a_topic_and_its_subscribed_queue_gets_the_event(tier: Tier, run: Runner, raw: bool) -> None:
    with run.lifecycle("queue", "fanout") as queue, run.lifecycle("topic", "fanout") as topic:
        run.call(topic.subscribe(queue, raw=raw))
        with run.lifecycle("bucket", "fanout") as bucket:
            run.call(bucket.notify(topic, prefix="up/"))
            assert held(tier, queue) == 0  # the test event went through the topic and was consumed
            policy = topic_policy(tier, topic)
            [statement] = ours(policy)
            assert statement["Sid"].startswith("SandboxresS3Events")
            delivery = Delivery("s3.amazonaws.com", "sns:Publish", topic.arn, bucket.arn, topic.arn.split(":")[4])
            assert allows(policy, delivery)
            assert not allows(policy, delivery.replace(source_arn="arn:aws:s3:::another-bucket"))
            assert not allows(policy, delivery.replace(source_account="210987654321"))
            run.call(bucket.client.put_object(Bucket=bucket.name, Key="up/file.bin", Body=b"x"))
            [body] = bodies(run, queue)
            event = json.loads(body if raw else json.loads(body)["Message"])
            assert keys_of([event]) == ["up/file.bin"] and s3_test_events([event]) == []
        # The bucket ended: our statement left the topic policy (its default statement stays), the queue's stays
        assert ours(topic_policy(tier, topic)) == []
        assert json.loads(topic_policy(tier, topic))["Statement"]
        assert len(ours(queue_policy(tier, queue))) == 1
