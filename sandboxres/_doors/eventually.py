"""``sandboxres.eventually`` and ``sandboxres.aio.eventually``: an assertion retried until it holds or its deadline
passes (the policy is ``sandboxres._engine.eventually``'s; these are its two drivers)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from sandboxres._engine.deadlines import helper_timeout
from sandboxres._engine.eventually import retrying
from sandboxres._runtime.target import resolve_target

T = TypeVar("T")


def _deadline(timeout: float | None) -> float:
    # The target's kind alone: resolving it starts nothing (no emulator is needed to retry an assertion)
    return helper_timeout(resolve_target().kind, timeout)


def eventually(fn: Callable[[], T], timeout: float | None = None) -> T:
    """Call ``fn()`` until it returns without AssertionError, and return what it returned.

    For what AWS makes true only eventually (an index read after a write, a delivery): the assertion is retried
    (70 ms apart, growing by 10 %) until it holds or ``timeout`` seconds passed (default: the target's, or
    SANDBOXRES_HELPER_TIMEOUT); then the last AssertionError is raised, with a note saying how long and how many
    attempts. Any other exception propagates at once::

        def owner_is_indexed():
            items = t.table.query(IndexName="by_owner", KeyConditionExpression=Key("owner").eq("ann"))["Items"]
            assert [i["pk"] for i in items] == ["u1"]

        sandboxres.eventually(owner_is_indexed)
    """
    import tenacity

    for attempt in tenacity.Retrying(**retrying(_deadline(timeout))):
        with attempt:
            return fn()
    raise AssertionError("unreachable")  # pragma: no cover


@overload
async def eventually_async(fn: Callable[[], Awaitable[T]], timeout: float | None = None) -> T: ...


@overload
async def eventually_async(fn: Callable[[], T], timeout: float | None = None) -> T: ...


async def eventually_async(fn: Callable[[], Any], timeout: float | None = None) -> Any:
    """The async twin of :func:`eventually`: ``fn`` may be a coroutine function (or return an awaitable)."""
    import tenacity

    async for attempt in tenacity.AsyncRetrying(**retrying(_deadline(timeout))):
        with attempt:
            result = fn()
            if inspect.isawaitable(result):
                return await result
            return result
    raise AssertionError("unreachable")  # pragma: no cover


eventually_async.__name__ = eventually_async.__qualname__ = "eventually"  # sandboxres.aio.eventually
