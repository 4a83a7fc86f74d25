"""SQS queues: ``test_<label>_<unique>`` (``.fifo``), with an optional dead-letter queue, deleted after use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandboxres._engine.wiring import HandleContext
from sandboxres._kinds.base import RecycleLimits, ResourceKind
from sandboxres._kinds.queue.handle import AsyncQueueHandle, QueueHandle
from sandboxres._kinds.queue.permissions import QUEUE_OPERATIONS, QUEUE_POLICY
from sandboxres._kinds.queue.plans import QueueFacts, create_queue, delete_queue, list_queues, read_queue_tags
from sandboxres._kinds.queue.probes import probe_queues, verify_queue
from sandboxres._kinds.queue.recycling import queue_baseline, recycle_queue
from sandboxres._kinds.queue.spec import DEFAULT_TIMEOUT, QUEUE_NAMES, QUEUE_PREFIX, QueueSpec, queue_spec

__all__ = ["QUEUE", "QUEUE_PREFIX", "QueueFacts", "QueueHandle", "QueueKind", "QueueSpec", "queue_spec"]


class QueueKind(ResourceKind[QueueSpec, QueueFacts]):
    name = "queue"
    service = "sqs"
    names = QUEUE_NAMES
    default_timeout = DEFAULT_TIMEOUT
    spec_factory = staticmethod(queue_spec)
    facts_type = QueueFacts
    operations = QUEUE_OPERATIONS
    policy = QUEUE_POLICY

    def expected(self, spec: QueueSpec, scope: str) -> QueueFacts:
        dead_letter = QueueFacts(spec.dead_letter_name(scope)) if spec.dead_letter is not None else None
        return QueueFacts(spec.new_name(scope), dead_letter=dead_letter)

    create = staticmethod(create_queue)
    delete = staticmethod(delete_queue)
    read_tags = staticmethod(read_queue_tags)
    listing = staticmethod(list_queues)
    baseline = staticmethod(queue_baseline)
    recycle = staticmethod(recycle_queue)

    probe = staticmethod(probe_queues)
    verify = staticmethod(verify_queue)

    def handle(
        self, facts: QueueFacts, client: Any, make_resource: Callable[[], Any], context: HandleContext | None = None
    ) -> QueueHandle[Any]:
        cls = AsyncQueueHandle if context is not None and context.is_async else QueueHandle
        dead = facts.dead_letter
        dead_handle = cls(dead.name, dead.url or "", dead.arn or "", client, context=context) if dead else None
        return cls(facts.name, facts.url or "", facts.arn or "", client, dead_handle, context=context)

    def count(self, facts: QueueFacts) -> int:
        return 2 if facts.dead_letter is not None else 1

    def recycle_estimate(self, spec: QueueSpec, limits: RecycleLimits) -> float:
        """The counters must read zero for ``settle_seconds``, then a one-second long poll; the dead-letter queue
        too."""
        return (limits.settle_seconds + 1.0) * (2 if spec.dead_letter is not None else 1)

    def new_name(self, label: str, scope: str = "", *, fifo: bool = False, **options: Any) -> str:
        return QUEUE_NAMES.make(label, suffix=".fifo" if fifo else "", scope=scope)


QUEUE = QueueKind()
