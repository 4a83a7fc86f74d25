"""Queues through the sync and the async front door: handle, tags, FIFO, dead-letter queues, attributes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sandboxres import SpecError
from tests.support.inventory import InventoryAt
from tests.support.runner import Runner


def _attributes(run: Runner, q: Any, url: str | None = None) -> dict[str, str]:
    got = run.call(q.client.get_queue_attributes(QueueUrl=url or q.url, AttributeNames=["All"]))
    attributes: dict[str, str] = got["Attributes"]
    return attributes


def _tags(run: Runner, q: Any, url: str) -> dict[str, str]:
    tags: dict[str, str] = run.call(q.client.list_queue_tags(QueueUrl=url)).get("Tags", {})
    return tags


def _queue_names(inventory: InventoryAt) -> set[str]:
    return set(inventory().queues())


def test_defaults_and_handle(run: Runner, inventory: InventoryAt, managed_tags: Callable[..., None]) -> None:
    with run.lifecycle("queue", "jobs") as q:
        assert q.name.startswith("test_jobs_") and not q.name.endswith(".fifo")
        assert q.url.endswith("/" + q.name)
        attributes = _attributes(run, q)
        assert q.arn == attributes["QueueArn"] and q.arn.endswith(":" + q.name)
        assert "FifoQueue" not in attributes and "RedrivePolicy" not in attributes
        assert q.dead_letter is None
        run.call(q.client.send_message(QueueUrl=q.url, MessageBody="hi"))
        got = run.call(q.client.receive_message(QueueUrl=q.url, WaitTimeSeconds=1))
        assert [m["Body"] for m in got["Messages"]] == ["hi"]
        managed_tags(_tags(run, q, q.url))
        assert "client" not in repr(q) and q.name in repr(q)
        name = q.name
    assert name not in _queue_names(inventory)


def test_fifo(run: Runner) -> None:
    with run.lifecycle("queue", "orders", fifo=True, attributes={"ContentBasedDeduplication": "true"}) as q:
        assert q.name.endswith(".fifo")
        attributes = _attributes(run, q)
        assert attributes["FifoQueue"] == "true"
        assert attributes["ContentBasedDeduplication"] == "true"
        for body in ("1", "2", "2"):  # the repeated body is deduplicated by content
            run.call(q.client.send_message(QueueUrl=q.url, MessageBody=body, MessageGroupId="g"))
        got = run.call(q.client.receive_message(QueueUrl=q.url, MaxNumberOfMessages=10))
        assert [m["Body"] for m in got["Messages"]] == ["1", "2"]


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_dead_letter_queue_is_created_wired_and_deleted(
    run: Runner, inventory: InventoryAt, managed_tags: Callable[..., None], fifo: bool
) -> None:
    with run.lifecycle("queue", "work", fifo=fifo, dead_letter=2, attributes={"VisibilityTimeout": "0"}) as q:
        dlq = q.dead_letter
        assert dlq is not None
        assert dlq.name.startswith("test_work_dlq_") and dlq.name.endswith(".fifo") == fifo
        assert dlq.url.endswith("/" + dlq.name) and dlq.client is q.client
        dlq_attributes = _attributes(run, q, dlq.url)
        assert dlq.arn == dlq_attributes["QueueArn"]
        assert (dlq_attributes.get("FifoQueue") == "true") == fifo
        policy = json.loads(_attributes(run, q)["RedrivePolicy"])
        assert policy["deadLetterTargetArn"] == dlq.arn
        assert int(policy["maxReceiveCount"]) == 2
        managed_tags(_tags(run, q, dlq.url))
        assert {q.name, dlq.name} <= _queue_names(inventory)

        # The wiring works: a message received twice without being deleted moves to the dead-letter queue.
        extra = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if fifo else {}
        run.call(q.client.send_message(QueueUrl=q.url, MessageBody="poison", **extra))
        for _ in range(2):
            got = run.call(q.client.receive_message(QueueUrl=q.url))
            assert [m["Body"] for m in got.get("Messages", [])] == ["poison"]
        got = run.call(q.client.receive_message(QueueUrl=q.url))
        assert got.get("Messages", []) == []
        got = run.call(q.client.receive_message(QueueUrl=dlq.url))
        assert [m["Body"] for m in got.get("Messages", [])] == ["poison"]
        names = {q.name, dlq.name}
    assert not names & _queue_names(inventory)


def test_further_attributes(run: Runner) -> None:
    wanted = {"VisibilityTimeout": "45", "DelaySeconds": "2", "MessageRetentionPeriod": "3600"}
    with run.lifecycle("queue", "tuned", attributes=wanted) as q:
        attributes = _attributes(run, q)
        assert {k: attributes[k] for k in wanted} == wanted


def test_explicit_create_and_delete(run: Runner, inventory: InventoryAt) -> None:
    resource = run.api.ephemeral_queue("explicit", dead_letter=5)
    handle = run.call(resource.create())
    assert {handle.name, handle.dead_letter.name} <= _queue_names(inventory)
    run.call(resource.delete())
    assert not {handle.name, handle.dead_letter.name} & _queue_names(inventory)
    run.call(resource.delete())  # idempotent


BAD_QUEUE_OPTIONS = [
    {"label": "!!!"},
    {"label": ""},
    {"fifo": "yes"},
    {"dead_letter": 0},
    {"dead_letter": 1001},
    {"dead_letter": True},
    {"dead_letter": "3"},
    {"attributes": {"FifoQueue": "true"}},
    {"attributes": {"RedrivePolicy": "{}"}},
    {"attributes": {"VisibilityTimeout": 30}},
    {"attributes": {"ContentBasedDeduplication": "true"}},  # needs fifo=True
    {"timeout": -5},
    {"keep": 1},
]


@pytest.mark.parametrize("options", BAD_QUEUE_OPTIONS, ids=repr)
def test_bad_options_raise_spec_error_and_create_nothing(
    run: Runner, inventory: InventoryAt, options: dict[str, Any]
) -> None:
    before = inventory().snapshot()
    options = dict(options)
    label = options.pop("label", "bad")
    with pytest.raises(SpecError):
        with run.lifecycle("queue", label, **options):
            pytest.fail("the block must not run")
    assert inventory().snapshot() == before
