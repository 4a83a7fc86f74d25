"""What a ``with ephemeral_topic(...)`` block receives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sandboxres._engine.wiring import HandleContext, run_helper
from sandboxres._kinds.topic.subscriptions import subscribe

if TYPE_CHECKING:
    from sandboxres._kinds.queue.handle import QueueHandle

ClientT = TypeVar("ClientT")


@dataclass(frozen=True, repr=False)
class TopicHandle(Generic[ClientT]):
    """A live SNS topic. Attributes: ``name``, ``arn``, ``client`` (SNS client)."""

    name: str
    arn: str
    client: ClientT
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    def __repr__(self) -> str:
        return f"TopicHandle(name={self.name!r}, arn={self.arn!r})"

    def subscribe(
        self,
        queue: QueueHandle[Any],
        raw: bool = True,
        filter_policy: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> str:
        """Subscribe ``queue`` to the topic as AWS needs it, confirmed before returning: the queue policy statement
        that lets SNS send (``aws:SourceArn`` = this topic), then the subscription (``raw``: the message body
        alone, else SNS's JSON envelope; ``filter_policy``: a filter on message attributes, as a dict). Returns
        the subscription ARN. Both are undone when the topic or the queue ends, whichever is first."""
        return run_helper(self.context, subscribe(self, queue, raw, filter_policy, timeout))  # type: ignore[no-any-return]


@dataclass(frozen=True, repr=False)
class AsyncTopicHandle(TopicHandle[ClientT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""

    async def subscribe(  # type: ignore[override]
        self,
        queue: QueueHandle[Any],
        raw: bool = True,
        filter_policy: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> str:
        return await run_helper(self.context, subscribe(self, queue, raw, filter_policy, timeout))  # type: ignore[no-any-return]
