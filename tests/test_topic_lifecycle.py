"""SNS topics through the sync and the async front door: handle, unique names, tags, FIFO, attributes, and the
deletion of the topic and of its subscriptions on every way out."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from sandboxres import TOPIC_PREFIX, TopicHandle
from sandboxres.aio import AsyncTopicHandle
from tests.support.runner import Runner


def topic_names(raw: Callable[..., Any], url: str | None = None) -> set[str]:
    """The names of every topic the emulator holds (a plain client of the test's own, every page)."""
    pages = raw("sns", url).get_paginator("list_topics").paginate()
    return {topic["TopicArn"].rsplit(":", 1)[-1] for page in pages for topic in page.get("Topics", [])}


def _tags(run: Runner, t: Any) -> dict[str, str]:
    listed = run.call(t.client.list_tags_for_resource(ResourceArn=t.arn))["Tags"]
    return {tag["Key"]: tag["Value"] for tag in listed}


def _subscribe_queue(raw: Callable[..., Any], arn: str) -> str:
    sqs = raw("sqs")
    url = sqs.create_queue(QueueName=f"subscriber_{arn.rsplit('_', 1)[-1].replace('.', '_')}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    raw("sns").subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return str(url)


def test_defaults_and_handle(run: Runner, raw: Callable[..., Any], managed_tags: Callable[..., None]) -> None:
    with run.lifecycle("topic", "events") as t:
        assert isinstance(t, TopicHandle)
        assert isinstance(t, AsyncTopicHandle) == (run.mode == "async")
        assert t.name.startswith(f"{TOPIC_PREFIX}events_") and not t.name.endswith(".fifo")
        assert t.arn.startswith("arn:aws:sns:us-east-1:") and t.arn.endswith(":" + t.name)
        attributes = run.call(t.client.get_topic_attributes(TopicArn=t.arn))["Attributes"]
        assert attributes["TopicArn"] == t.arn and attributes.get("FifoTopic", "false") == "false"
        answer = run.call(t.client.publish(TopicArn=t.arn, Message="hello"))
        assert answer["MessageId"]
        managed_tags(_tags(run, t))
        assert "client" not in repr(t) and t.name in repr(t)
        assert t.name in topic_names(raw)
        name = t.name
    assert name not in topic_names(raw)


def test_names_are_unique(run: Runner, raw: Callable[..., Any]) -> None:
    with run.lifecycle("topic", "same") as first, run.lifecycle("topic", "same") as second:
        assert first.name != second.name and first.arn != second.arn
        assert {first.name, second.name} <= topic_names(raw)
    assert not {first.name, second.name} & topic_names(raw)


def test_fifo_and_attributes(run: Runner) -> None:
    options = {"ContentBasedDeduplication": "true", "DisplayName": "Orders"}
    with run.lifecycle("topic", "orders", fifo=True, **options) as t:
        assert t.name.endswith(".fifo")
        attributes = run.call(t.client.get_topic_attributes(TopicArn=t.arn))["Attributes"]
        assert attributes["FifoTopic"] == "true"
        assert attributes["ContentBasedDeduplication"] == "true"
        assert attributes["DisplayName"] == "Orders"
        answer = run.call(t.client.publish(TopicArn=t.arn, Message="one", MessageGroupId="g"))
        assert answer["MessageId"]


@pytest.mark.parametrize("fails", [False, True], ids=["block-ends", "block-raises"])
def test_subscriptions_are_deleted_with_the_topic(run: Runner, raw: Callable[..., Any], fails: bool) -> None:
    sns = raw("sns")
    queue_url = ""
    with pytest.raises(RuntimeError, match="boom") if fails else contextlib.nullcontext():
        with run.lifecycle("topic", "fanout") as t:
            queue_url = _subscribe_queue(raw, t.arn)
            sns.subscribe(TopicArn=t.arn, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
            assert len(sns.list_subscriptions_by_topic(TopicArn=t.arn)["Subscriptions"]) == 2
            arn = t.arn
            if fails:
                raise RuntimeError("boom")
    assert arn.rsplit(":", 1)[-1] not in topic_names(raw)
    assert [s for s in sns.list_subscriptions()["Subscriptions"] if s["TopicArn"] == arn] == []
    raw("sqs").delete_queue(QueueUrl=queue_url)


def test_keep_leaves_the_topic(run: Runner, raw: Callable[..., Any]) -> None:
    with run.lifecycle("topic", "kept", keep=True) as t:
        arn = t.arn
    try:
        assert t.name in topic_names(raw)
    finally:
        raw("sns").delete_topic(TopicArn=arn)
