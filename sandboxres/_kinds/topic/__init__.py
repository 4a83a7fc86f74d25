"""SNS topics: ``test_<label>_<unique>`` (``.fifo``), tagged from birth, answering before use, deleted with
their subscriptions after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandboxres._engine.wiring import HandleContext
from sandboxres._kinds.base import ResourceKind
from sandboxres._kinds.topic.handle import AsyncTopicHandle, TopicHandle
from sandboxres._kinds.topic.permissions import TOPIC_OPERATIONS, TOPIC_POLICY
from sandboxres._kinds.topic.plans import TopicFacts, create_topic, delete_topic, list_topics, read_topic_tags
from sandboxres._kinds.topic.probes import probe_topics, verify_topic
from sandboxres._kinds.topic.recycling import recycle_topic, topic_baseline
from sandboxres._kinds.topic.spec import DEFAULT_TIMEOUT, TOPIC_NAMES, TOPIC_PREFIX, TopicSpec, topic_spec

__all__ = ["TOPIC", "TOPIC_PREFIX", "TopicFacts", "TopicHandle", "TopicKind", "TopicSpec", "topic_spec"]


class TopicKind(ResourceKind[TopicSpec, TopicFacts]):
    name = "topic"
    service = "sns"
    names = TOPIC_NAMES
    default_timeout = DEFAULT_TIMEOUT
    spec_factory = staticmethod(topic_spec)
    facts_type = TopicFacts
    operations = TOPIC_OPERATIONS
    policy = TOPIC_POLICY

    def expected(self, spec: TopicSpec, scope: str) -> TopicFacts:
        return TopicFacts(spec.new_name(scope))

    create = staticmethod(create_topic)
    delete = staticmethod(delete_topic)
    read_tags = staticmethod(read_topic_tags)
    listing = staticmethod(list_topics)
    baseline = staticmethod(topic_baseline)
    recycle = staticmethod(recycle_topic)

    probe = staticmethod(probe_topics)
    verify = staticmethod(verify_topic)

    def handle(
        self, facts: TopicFacts, client: Any, make_resource: Callable[[], Any], context: HandleContext | None = None
    ) -> TopicHandle[Any]:
        cls = AsyncTopicHandle if context is not None and context.is_async else TopicHandle
        return cls(facts.name, facts.arn or "", client, context=context)

    def new_name(self, label: str, scope: str = "", *, fifo: bool = False, **options: Any) -> str:
        return TOPIC_NAMES.make(label, suffix=".fifo" if fifo else "", scope=scope)


TOPIC = TopicKind()
