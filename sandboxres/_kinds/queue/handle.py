"""What a ``with ephemeral_queue(...)`` block receives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from sandboxres._engine.wiring import HandleContext, run_helper
from sandboxres._kinds.queue.messages import drain_queue, receive_events, receive_messages, send_messages

ClientT = TypeVar("ClientT")


@dataclass(frozen=True, repr=False)
class QueueHandle(Generic[ClientT]):
    """A live SQS queue.

    Attributes: ``name``, ``url``, ``arn``, ``client`` (SQS client), ``dead_letter`` (the dead-letter queue's
    handle when ``dead_letter=`` was given, else None).
    """

    name: str
    url: str
    arn: str
    client: ClientT
    dead_letter: QueueHandle[ClientT] | None = field(default=None)
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    def __repr__(self) -> str:
        return f"QueueHandle(name={self.name!r}, url={self.url!r}, dead_letter={self.dead_letter!r})"

    def receive(self, count: int = 1, timeout: float | None = None, delete: bool = True) -> list[dict[str, Any]]:
        """Long-poll until ``count`` messages arrived (the SQS message dicts, in the order they came), else
        ReceiveTimeoutError after ``timeout`` seconds (default: the target's, or SANDBOXRES_HELPER_TIMEOUT). They
        are deleted unless ``delete=False``."""
        plan = receive_messages(self.context, self.url, self.name, count, timeout, delete)
        return cast("list[dict[str, Any]]", run_helper(self.context, plan))

    def events(self, count: int = 1, timeout: float | None = None, delete: bool = True) -> list[Any]:
        """As :meth:`receive`, but the decoded payloads (at least ``count``): bodies parsed as JSON, SNS envelopes
        unwrapped, S3 event records one by one; ``s3:TestEvent`` messages skipped (and deleted)."""
        plan = receive_events(self.context, self.url, self.name, count, timeout, delete)
        return cast("list[Any]", run_helper(self.context, plan))

    def drain(self, timeout: float | None = None) -> int:
        """Receive and delete until the queue stays empty for one long poll; how many messages were removed."""
        plan = drain_queue(self.context, self.url, self.name, timeout)
        return cast("int", run_helper(self.context, plan))

    def send_all(
        self,
        bodies: Iterable[str | Mapping[str, Any] | list[Any]],
        *,
        group_id: str | None = None,
        dedup_ids: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> list[str]:
        """Send ``bodies`` (str; dicts and lists as JSON) ten per SendMessageBatch, failed entries sent again;
        the message ids in order. A FIFO queue needs ``group_id``; ``dedup_ids`` default to one drawn per message."""
        plan = send_messages(self.context, self.url, self.name, bodies, group_id, dedup_ids, timeout)
        return cast("list[str]", run_helper(self.context, plan))


@dataclass(frozen=True, repr=False)
class AsyncQueueHandle(QueueHandle[ClientT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""

    async def receive(  # type: ignore[override]
        self, count: int = 1, timeout: float | None = None, delete: bool = True
    ) -> list[dict[str, Any]]:
        plan = receive_messages(self.context, self.url, self.name, count, timeout, delete)
        return cast("list[dict[str, Any]]", await run_helper(self.context, plan))

    async def events(  # type: ignore[override]
        self, count: int = 1, timeout: float | None = None, delete: bool = True
    ) -> list[Any]:
        plan = receive_events(self.context, self.url, self.name, count, timeout, delete)
        return cast("list[Any]", await run_helper(self.context, plan))

    async def drain(self, timeout: float | None = None) -> int:  # type: ignore[override]
        plan = drain_queue(self.context, self.url, self.name, timeout)
        return cast("int", await run_helper(self.context, plan))

    async def send_all(  # type: ignore[override]
        self,
        bodies: Iterable[str | Mapping[str, Any] | list[Any]],
        *,
        group_id: str | None = None,
        dedup_ids: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> list[str]:
        plan = send_messages(self.context, self.url, self.name, bodies, group_id, dedup_ids, timeout)
        return cast("list[str]", await run_helper(self.context, plan))
