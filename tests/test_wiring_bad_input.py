"""Bad input to ``bucket.notify`` and ``topic.subscribe`` is refused with SpecError before any call: the fault
proxy in front of the moto server sees no request, through both front doors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandboxres import SpecError
from sandboxres._simulator import FaultProxy
from tests.support.runner import Runner


@pytest.fixture
def through_proxy(proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The target is the module's moto server, reached through the proxy (records cleared)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    for variable, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(variable, value)
    proxy.clear()
    yield proxy
    proxy.clear()


NOTIFY: dict[str, dict[str, Any]] = {
    "events as one string": {"events": "s3:ObjectCreated:*"},
    "no events": {"events": []},
    "unknown event": {"events": ["s3:ObjectCreated:Upload"]},
    "the test event": {"events": ["s3:TestEvent"]},
    "empty prefix": {"prefix": ""},
    "suffix not a string": {"suffix": 5},
    "too long a prefix": {"prefix": "p" * 1025},
    "negative timeout": {"timeout": -1},
}


@pytest.mark.parametrize("case", list(NOTIFY))
def test_notify_with_bad_options_makes_no_call(through_proxy: FaultProxy, run: Runner, case: str) -> None:
    with run.lifecycle("bucket", "bad") as bucket, run.lifecycle("queue", "bad") as queue:
        through_proxy.clear_records()
        with pytest.raises(SpecError):
            run.call(bucket.notify(queue, **NOTIFY[case]))
        assert through_proxy.requests == []
        assert len(bucket.context.wirings) == 0 and len(queue.context.wirings) == 0


@pytest.mark.parametrize("target", ["the bucket itself", "a FIFO queue", "a queue name", "a FIFO topic"])
def test_notify_to_what_is_no_standard_queue_or_topic_makes_no_call(
    through_proxy: FaultProxy, run: Runner, target: str
) -> None:
    with (
        run.lifecycle("bucket", "bad") as bucket,
        run.lifecycle("queue", "bad", fifo=True) as fifo,
        run.lifecycle("topic", "bad", fifo=True) as fifo_topic,
    ):
        chosen = {
            "the bucket itself": bucket,
            "a FIFO queue": fifo,
            "a queue name": fifo.name,
            "a FIFO topic": fifo_topic,
        }[target]
        through_proxy.clear_records()
        with pytest.raises(SpecError, match=r"FIFO|queue or a topic"):
            run.call(bucket.notify(chosen))
        assert through_proxy.requests == []


SUBSCRIBE: dict[str, dict[str, Any]] = {
    "raw not a bool": {"raw": "yes"},
    "filter policy a list": {"filter_policy": [{"kind": ["a"]}]},
    "empty filter policy": {"filter_policy": {}},
    "a condition that is no list": {"filter_policy": {"kind": "a"}},
    "an empty list of conditions": {"filter_policy": {"kind": []}},
    "a body filter policy": {"filter_policy": {"detail": {"kind": ["a"]}}},
    "a key that is no name": {"filter_policy": {1: ["a"]}},
    "not JSON": {"filter_policy": {"kind": [object()]}},
    "too large": {"filter_policy": {"kind": ["x" * 1024] * 300}},
    "negative timeout": {"timeout": -1},
}


@pytest.mark.parametrize("case", list(SUBSCRIBE))
def test_subscribe_with_bad_options_makes_no_call(through_proxy: FaultProxy, run: Runner, case: str) -> None:
    with run.lifecycle("topic", "bad") as topic, run.lifecycle("queue", "bad") as queue:
        through_proxy.clear_records()
        with pytest.raises(SpecError):
            run.call(topic.subscribe(queue, **SUBSCRIBE[case]))
        assert through_proxy.requests == []
        assert len(topic.context.wirings) == 0 and len(queue.context.wirings) == 0


@pytest.mark.parametrize("what", ["a bucket", "a queue URL", "a standard queue to a FIFO topic"])
def test_subscribe_what_is_no_fitting_queue_makes_no_call(through_proxy: FaultProxy, run: Runner, what: str) -> None:
    with (
        run.lifecycle("topic", "bad", fifo=True) as fifo_topic,
        run.lifecycle("queue", "bad") as queue,
        run.lifecycle("bucket", "bad") as bucket,
    ):
        chosen = {"a bucket": bucket, "a queue URL": queue.url, "a standard queue to a FIFO topic": queue}[what]
        through_proxy.clear_records()
        with pytest.raises(SpecError, match=r"queue handle|FIFO"):
            run.call(fifo_topic.subscribe(chosen))
        assert through_proxy.requests == []
