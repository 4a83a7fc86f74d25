"""What a ``with ephemeral_bucket(...)`` block receives."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sandboxres._engine.wiring import HandleContext, run_helper
from sandboxres._kinds.bucket.notifications import notify
from sandboxres._kinds.bucket.uploads import upload_objects

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sandboxres._kinds.queue.handle import QueueHandle
    from sandboxres._kinds.topic.handle import TopicHandle

ClientT = TypeVar("ClientT")
ResourceT = TypeVar("ResourceT")


@dataclass(frozen=True, repr=False)
class BucketHandle(Generic[ClientT, ResourceT]):
    """A live S3 bucket. Attributes: ``name``, ``arn``, ``client`` (S3 client), ``bucket`` (``Bucket`` resource)."""

    name: str
    arn: str
    client: ClientT
    make_bucket: Callable[[], ResourceT] = field(compare=False)
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    @cached_property
    def bucket(self) -> ResourceT:
        """The ``Bucket`` resource (built on first use)."""
        return self.make_bucket()

    def __repr__(self) -> str:
        return f"BucketHandle(name={self.name!r}, arn={self.arn!r})"

    def upload(
        self, path_or_mapping: str | os.PathLike[str] | Mapping[str, bytes | str], *, timeout: float | None = None
    ) -> list[str]:
        """Upload a directory (recursively, keys relative to it with ``/``) or a ``{key: bytes | str}`` mapping;
        the keys uploaded, sorted. A missing path or a value neither bytes nor str: SpecError before any call."""
        plan = upload_objects(self.context, self.name, path_or_mapping, timeout)
        return cast("list[str]", run_helper(self.context, plan))

    def notify(
        self,
        target: QueueHandle[Any] | TopicHandle[Any],
        events: Sequence[str] = ("s3:ObjectCreated:*",),
        prefix: str | None = None,
        suffix: str | None = None,
        *,
        timeout: float | None = None,
    ) -> str:
        """Send the bucket's S3 events (``events``, for keys with ``prefix`` / ``suffix``) to a queue or topic
        handle as AWS needs it: the target's policy statement that lets S3 send (``aws:SourceArn`` = this
        bucket), then the notification entry, merged with the bucket's others; the ``s3:TestEvent`` S3 then sends
        is consumed. Returns the entry's Id. Both are undone when the bucket or the target ends, whichever is
        first."""
        return run_helper(self.context, notify(self, target, events, prefix, suffix, timeout))  # type: ignore[no-any-return]


@dataclass(frozen=True, repr=False)
class AsyncBucketHandle(BucketHandle[ClientT, ResourceT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""

    async def upload(  # type: ignore[override]
        self, path_or_mapping: str | os.PathLike[str] | Mapping[str, bytes | str], *, timeout: float | None = None
    ) -> list[str]:
        plan = upload_objects(self.context, self.name, path_or_mapping, timeout)
        return cast("list[str]", await run_helper(self.context, plan))

    async def notify(  # type: ignore[override]
        self,
        target: QueueHandle[Any] | TopicHandle[Any],
        events: Sequence[str] = ("s3:ObjectCreated:*",),
        prefix: str | None = None,
        suffix: str | None = None,
        *,
        timeout: float | None = None,
    ) -> str:
        return await run_helper(self.context, notify(self, target, events, prefix, suffix, timeout))  # type: ignore[no-any-return]
