"""The async pool (``sandboxres.aio.Pool``): the sync pool's engine, driven off the event loop.

Creating, recycling and deleting run in the pool's threads (boto3), so no recycling logic is written twice and a
pool outlives any one event loop (pytest-asyncio gives each test its own). Each holder gets a handle on aioboto3
clients opened in its own loop for the block. Giving a resource back is shielded from cancellation: a cancelled
holder's resource is discarded, never handed out dirty.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from sandboxres._doors.cancellation import shielded
from sandboxres._doors.pool import PoolDoor, PoolEngine, _spec, _warm
from sandboxres._doors.pool_state import Pooled
from sandboxres._kinds import Spec
from sandboxres._kinds.base import RecycleLimits
from sandboxres._runtime.clients import AioClients, shared_aio
from sandboxres._runtime.drivers import AsyncDriver


class Pool(PoolDoor[contextlib.AbstractAsyncContextManager[Any]]):
    """The async twin of :class:`sandboxres.Pool`: ``async with Pool() as pool: async with pool.table("users") as
    t: ...``, with handles on aioboto3 clients. Same names, options, shapes, recycling and guarantees."""

    def __init__(self, *, limits: RecycleLimits | None = None, max_workers: int = 8, warm: bool = False) -> None:
        self._engine = PoolEngine(limits, max_workers, _warm(warm))

    @classmethod
    def _sharing(cls, engine: PoolEngine) -> Pool:
        """An async pool on the engine of a sync one (the pytest plugin's session pool): the same resources."""
        pool = cls.__new__(cls)
        pool._engine = engine
        return pool

    @contextlib.asynccontextmanager
    async def _lease(
        self, factory: Callable[..., Spec], public: str, label: str, options: dict[str, Any]
    ) -> AsyncIterator[Any]:
        spec = _spec(factory, public, label, options)
        # In the pool's threads, so that closing the pool waits for it (and for its discard, if cancelled)
        acquiring = self._engine._acquirers.submit(self._engine.acquire, spec)
        try:
            pooled = await asyncio.shield(asyncio.wrap_future(acquiring))
        except asyncio.CancelledError:
            acquiring.add_done_callback(self._discard_acquired)
            raise
        try:
            async with contextlib.AsyncExitStack() as stack:
                handle = await _handle(pooled, stack)
                yield handle
        except Exception:
            await shielded(asyncio.to_thread(self._engine.give_back, pooled), propagating=True)
            raise
        except BaseException:  # cancelled, Ctrl-C: discarded at once
            await shielded(asyncio.to_thread(self._engine.give_back, pooled, True), propagating=True)
            raise
        await shielded(asyncio.to_thread(self._engine.give_back, pooled), propagating=False)

    def _discard_acquired(self, acquiring: Future[Pooled]) -> None:
        if not acquiring.cancelled() and acquiring.exception() is None:
            if self._engine.state.closed:  # the closing pool waits for this thread: delete now
                self._engine.give_back(acquiring.result(), interrupted=True)
            else:
                self._engine.discard_later(acquiring.result())

    async def close(self) -> None:
        """Delete everything the pool holds."""
        await asyncio.to_thread(self._engine.close)

    async def __aenter__(self) -> Pool:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await shielded(asyncio.to_thread(self._engine.close, exc), propagating=exc is not None)


async def _handle(pooled: Pooled, stack: contextlib.AsyncExitStack) -> Any:
    """The handle of a pooled resource on aioboto3 clients of the running loop, open until ``stack`` closes."""
    lifecycle = pooled.resource.lifecycle
    target = lifecycle.target
    client = await stack.enter_async_context(shared_aio(target, lifecycle.service))
    made_by = lifecycle.resource_kind.resource
    resource_object = None
    if made_by is not None:
        service, factory = made_by
        resource = await stack.enter_async_context(shared_aio(target, service, resource=True))
        resource_object = await getattr(resource, factory)(lifecycle.name)
    helpers = AsyncDriver(AioClients(target, stack), refused_is_final=target.kind != "aws")
    return lifecycle.handle(client, lambda: resource_object, helpers.run, is_async=True)
