"""The async front door, on aioboto3: ``async with ephemeral_table(...) as t:`` and friends.

Same names, parameters, defaults, handles and errors as the sync API; the same lifecycle plans run on an async
driver. Handles carry aioboto3 clients and resources that stay open for the block. Cleanup is shielded from
cancellation: a task cancelled or timed out during create, wait or use still deletes what it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from sandboxres._doors.async_pool import Pool
from sandboxres._doors.cancellation import shielded
from sandboxres._doors.eventually import eventually_async as eventually
from sandboxres._doors.lifecycle import ResourceLifecycle, front_door, report_many
from sandboxres._doors.sync import check_served, guard_target
from sandboxres._engine.errors import CleanupError
from sandboxres._kinds import Spec
from sandboxres._kinds.bucket import bucket_spec
from sandboxres._kinds.bucket.handle import AsyncBucketHandle
from sandboxres._kinds.queue import queue_spec
from sandboxres._kinds.queue.handle import AsyncQueueHandle
from sandboxres._kinds.table import table_spec
from sandboxres._kinds.table.handle import AsyncTableHandle
from sandboxres._kinds.topic import topic_spec
from sandboxres._kinds.topic.handle import AsyncTopicHandle
from sandboxres._runtime.clients import AioClients, active_target, aio_session, merged_client_kwargs, shared_aio
from sandboxres._runtime.drivers import AsyncDriver
from sandboxres._runtime.table_slots import TABLE_SLOTS

__all__ = [
    "AsyncBucketHandle",
    "AsyncEphemeral",
    "AsyncQueueHandle",
    "AsyncTableHandle",
    "AsyncTopicHandle",
    "Pool",
    "client",
    "ephemeral_all",
    "ephemeral_bucket",
    "ephemeral_queue",
    "ephemeral_table",
    "ephemeral_topic",
    "eventually",
]

log = logging.getLogger("sandboxres")
H = TypeVar("H")
T = TypeVar("T")


async def _guard(target: Any) -> None:
    """The safety guards, off the event loop the first time (the STS call takes up to seconds)."""
    from sandboxres._safety.guards import guards_decided

    if guards_decided(target):
        guard_target(target)  # emulators, or the outcome is remembered: answers at once
    else:
        await asyncio.to_thread(guard_target, target)


class AsyncEphemeral(Generic[H]):
    """The async twin of :class:`sandboxres.Ephemeral`: ``async with`` or ``await create()`` / ``await delete()``."""

    def __init__(self, spec: Spec) -> None:
        self.lifecycle = ResourceLifecycle(spec)
        self.handle: H | None = None
        self._driver: AsyncDriver | None = None
        self._stack: contextlib.AsyncExitStack | None = None

    def __repr__(self) -> str:
        return f"<AsyncEphemeral {self.lifecycle.resource} {self.lifecycle.state.value}>"

    def _slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        return TABLE_SLOTS.hold_async() if self.lifecycle.resource_kind.bounded else contextlib.nullcontext()

    async def create(self) -> H:
        """Create the resource, wait until it is usable, and return its handle."""
        target = active_target()
        await _guard(target)
        lifecycle = self.lifecycle
        check_served(target, lifecycle)
        plan = lifecycle.begin(target)  # first: a second entry is refused before it touches the first's state
        self._stack = stack = contextlib.AsyncExitStack()
        try:
            # The lifecycle calls go through clients with botocore's retries off (the library retries them);
            # the handle gets a client with botocore's standard retries for the user's own calls.
            # Each service's client opened on first use: the deletion also undoes the handle's wirings (a
            # subscription, a notification), which call the services of the other resources involved.
            self._driver = AsyncDriver(AioClients(target, stack), refused_is_final=target.kind != "aws")
            async with self._slot():
                facts = await self._driver.run(plan)
            lifecycle.created(facts)
            client = await stack.enter_async_context(shared_aio(target, lifecycle.service))
            resource_object = None
            if lifecycle.resource_kind.resource is not None:
                service, factory = lifecycle.resource_kind.resource
                resource = await stack.enter_async_context(shared_aio(target, service, resource=True))
                resource_object = await getattr(resource, factory)(lifecycle.name)
        except BaseException as exc:
            lifecycle.create_failed(exc, await shielded(self._delete_now(), propagating=True))
        self.handle = lifecycle.handle(client, lambda: resource_object, self._driver.run, is_async=True)
        return self.handle

    async def _delete_now(self) -> CleanupError | None:
        try:
            driver, error = self._driver, None
            plan = self.lifecycle.deletion(can_run=driver is not None)
            if plan is None or driver is None:
                return None
            try:
                async with self._slot():
                    await driver.run(plan)
            except Exception as exc:
                error = exc
            return self.lifecycle.delete_ran(error)
        finally:
            stack, self._stack = self._stack, None
            if stack is not None:
                try:
                    await stack.aclose()
                except Exception:  # closing HTTP sessions leaks no resource
                    log.debug("closing the clients of %s failed", self.lifecycle.resource, exc_info=True)

    async def delete(self) -> None:
        """Delete the resource (a no-op when it was never created, is kept, or is already gone)."""
        self.lifecycle.report(None, await shielded(self._delete_now(), propagating=False))

    async def __aenter__(self) -> H:
        return await self.create()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        cleanup = await shielded(self._delete_now(), propagating=exc is not None)
        self.lifecycle.report(exc, cleanup)


ephemeral_table = front_door(
    table_spec,
    AsyncEphemeral[AsyncTableHandle[Any, Any]],
    "ephemeral_table",
    __name__,
    "AsyncEphemeral[AsyncTableHandle]",
)
ephemeral_bucket = front_door(
    bucket_spec,
    AsyncEphemeral[AsyncBucketHandle[Any, Any]],
    "ephemeral_bucket",
    __name__,
    "AsyncEphemeral[AsyncBucketHandle]",
)
ephemeral_queue = front_door(
    queue_spec, AsyncEphemeral[AsyncQueueHandle[Any]], "ephemeral_queue", __name__, "AsyncEphemeral[AsyncQueueHandle]"
)
ephemeral_topic = front_door(
    topic_spec, AsyncEphemeral[AsyncTopicHandle[Any]], "ephemeral_topic", __name__, "AsyncEphemeral[AsyncTopicHandle]"
)


@contextlib.asynccontextmanager
async def ephemeral_all(*resources: AsyncEphemeral[Any]) -> AsyncIterator[list[Any]]:
    """Create several resources concurrently and delete them all at the end.

    ``async with ephemeral_all(ephemeral_table("a"), ephemeral_queue("b")) as (table, queue): ...``
    If any creation fails (or the task is cancelled), every resource is deleted and the first error raised.
    """

    async def delete_all(propagating: bool) -> list[CleanupError | None]:
        work = asyncio.gather(*(resource._delete_now() for resource in resources))
        return await shielded(work, propagating=propagating)

    try:
        outcomes = await asyncio.gather(*(resource.create() for resource in resources), return_exceptions=True)
    except BaseException as exc:
        report_many(exc, await delete_all(True))
        raise
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if errors:
        report_many(errors[0], await delete_all(True))
        raise errors[0]
    try:
        yield list(outcomes)
    except BaseException as exc:
        report_many(exc, await delete_all(True))
        raise
    report_many(None, await delete_all(False))


@contextlib.asynccontextmanager
async def client(service: str, **overrides: Any) -> AsyncIterator[Any]:
    """``async with client("sqs") as sqs:`` an aioboto3 client of ``service`` on the target in force.

    The async twin of :func:`sandboxres.client`: same endpoint, region, credentials and guards; closed when the
    block ends.
    """
    target = active_target()
    await _guard(target)  # off the event loop, like the context managers
    kwargs = merged_client_kwargs(target, service, dict(overrides))
    async with aio_session(target).client(service, **kwargs) as made:
        yield made


for _public in (Pool, AsyncTableHandle, AsyncBucketHandle, AsyncQueueHandle, AsyncTopicHandle):
    _public.__module__ = __name__  # where users import it from
eventually.__module__ = __name__
