"""The async front door, on aioboto3: ``async with ephemeral_table(...) as t:`` and friends.

Same names, parameters, defaults, handles and errors as the sync API; the same lifecycle plans run on an async
driver. Handles carry aioboto3 clients and resources that stay open for the block. Cleanup is shielded from
cancellation: a task cancelled or timed out during create, wait or use still deletes what it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

from sandboxres._doors.lifecycle import ResourceLifecycle, report_many
from sandboxres._doors.sync import guard_target
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.handles import CLIENT_OF, RESOURCE_OF, BucketHandle, QueueHandle, TableHandle, build_handle
from sandboxres._engine.specs import Spec, TableSpec, bucket_spec, call_spec, queue_spec, table_spec
from sandboxres._runtime.clients import active_target, aio_session, merged_client_kwargs, shared_aio
from sandboxres._runtime.drivers import AsyncDriver
from sandboxres._runtime.table_slots import TABLE_SLOTS

__all__ = ["AsyncEphemeral", "client", "ephemeral_all", "ephemeral_bucket", "ephemeral_queue", "ephemeral_table"]

log = logging.getLogger("sandboxres")
H = TypeVar("H")
P = ParamSpec("P")
T = TypeVar("T")


async def shielded(work: Awaitable[T], *, propagating: bool) -> T:
    """Run ``work`` to the end even if the calling task is cancelled meanwhile.

    A cancellation that arrived during ``work`` is re-raised afterwards, unless the caller is already
    propagating an exception (``propagating=True``), which then wins.
    """
    task = asyncio.ensure_future(work)
    interrupted = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            interrupted = True
    if interrupted and not propagating:
        raise asyncio.CancelledError
    return task.result()


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
        return f"<AsyncEphemeral {self.lifecycle.resource} {self.lifecycle.state}>"

    def _slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        return TABLE_SLOTS.hold_async() if self.lifecycle.kind == "table" else contextlib.nullcontext()

    async def create(self) -> H:
        """Create the resource, wait until it is usable, and return its handle."""
        target = active_target()
        await _guard(target)
        kind, spec = self.lifecycle.kind, self.lifecycle.spec
        plan = self.lifecycle.begin(target)  # first: a second entry is refused before it touches the first's state
        self._stack = stack = contextlib.AsyncExitStack()
        services = [CLIENT_OF[kind]]
        if isinstance(spec, TableSpec) and spec.stream:
            services.append("dynamodbstreams")
        try:
            # The lifecycle calls go through clients with botocore's retries off (the library retries them);
            # the handle gets a client with botocore's standard retries for the user's own calls.
            lifecycle_clients = {
                service: await stack.enter_async_context(shared_aio(target, service, lifecycle=True))
                for service in services
            }
            self._driver = AsyncDriver(lifecycle_clients, refused_is_final=target.kind != "aws")
            async with self._slot():
                facts = await self._driver.run(plan)
            self.lifecycle.created(facts)
            client = await stack.enter_async_context(shared_aio(target, CLIENT_OF[kind]))
            resource_object = None
            if kind in RESOURCE_OF:
                service, factory = RESOURCE_OF[kind]
                resource = await stack.enter_async_context(shared_aio(target, service, resource=True))
                resource_object = await getattr(resource, factory)(self.lifecycle.name)
        except BaseException as exc:
            self.lifecycle.create_failed(exc, await shielded(self._delete_now(), propagating=True))
        self.handle = build_handle(kind, self.lifecycle.name, facts, client, lambda: resource_object)
        return self.handle

    async def _delete_now(self) -> CleanupError | None:
        try:
            plan = self.lifecycle.delete_plan()
            if plan is None:
                return None
            if self._driver is None:  # failed before its first call: nothing can exist
                plan.close()
                self.lifecycle.abandoned()
                return None
            try:
                async with self._slot():
                    await self._driver.run(plan)
            except Exception as exc:
                return self.lifecycle.cleanup_failed(exc)
            self.lifecycle.deleted()
            return None
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


def _front_door(spec_factory: Callable[P, Spec], handle: type[H], name: str) -> Callable[P, AsyncEphemeral[H]]:
    @functools.wraps(spec_factory)
    def door(*args: P.args, **kwargs: P.kwargs) -> AsyncEphemeral[H]:
        return AsyncEphemeral(call_spec(spec_factory, name, args, kwargs))

    door.__name__ = door.__qualname__ = name
    door.__module__ = __name__
    door.__signature__ = inspect.signature(spec_factory).replace(  # type: ignore[attr-defined]
        return_annotation=f"AsyncEphemeral[{handle.__name__}]"
    )
    return door


ephemeral_table = _front_door(table_spec, TableHandle[Any, Any], "ephemeral_table")
ephemeral_bucket = _front_door(bucket_spec, BucketHandle[Any, Any], "ephemeral_bucket")
ephemeral_queue = _front_door(queue_spec, QueueHandle[Any], "ephemeral_queue")


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
