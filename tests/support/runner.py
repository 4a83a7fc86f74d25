"""Run one piece of test code through the sync front door (``sandboxres``) or the async one (``sandboxres.aio``).

:class:`SyncRunner` / :class:`AsyncRunner` (see :func:`runner`, and the ``run`` fixture of ``tests/conftest.py``
that parametrises a test over both): ``with run.lifecycle("table", "users", range_key="sk") as handle:`` enters
``sandboxres.ephemeral_table`` or ``sandboxres.aio.ephemeral_table``. The async runner keeps an event loop on a
thread of its own: the test body stays plain code, and ``run.call(handle.client.put_item(...))`` works in both
modes (it awaits on that loop what the aioboto3 client returns). ``run.make(...)`` + ``run.enter(resource)`` do
the same in two steps, for tests that need the ``Ephemeral`` object (the name it drew) when creation fails;
``run.api`` is the front door's module (``run.api.ephemeral_queue(...)``, ``run.api.ephemeral_table``).

What the target holds is seen with :class:`tests.support.inventory.Inventory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from types import ModuleType
from typing import Any, Literal, TypeVar

import sandboxres
from sandboxres import aio

__all__ = ["MODES", "AsyncRunner", "Mode", "Runner", "SyncRunner", "runner"]

Mode = Literal["sync", "async"]
MODES: tuple[Mode, ...] = ("sync", "async")
T = TypeVar("T")


class Runner:
    """Runs lifecycles through one of the two front doors; see the module docstring."""

    mode: Mode
    api: ModuleType

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.mode})"

    def make(self, kind: str, label: str, **options: Any) -> Any:
        """The front door's ephemeral object (not entered yet)."""
        return getattr(self.api, f"ephemeral_{kind}")(label, **options)

    def enter(self, resource: Any) -> contextlib.AbstractContextManager[Any]:
        """Enter ``resource`` (create, wait), yield its handle, delete it on the way out."""
        raise NotImplementedError

    def call(self, value: T | Awaitable[T]) -> T:
        """The result of a handle client's call: awaited on the runner's loop in async mode."""
        raise NotImplementedError

    def lifecycle(self, kind: str, label: str, **options: Any) -> contextlib.AbstractContextManager[Any]:
        return self.enter(self.make(kind, label, **options))

    def close(self) -> None:
        """Release what the runner holds (the async runner's loop)."""


class SyncRunner(Runner):
    mode: Mode = "sync"
    api = sandboxres

    def enter(self, resource: Any) -> contextlib.AbstractContextManager[Any]:
        assert isinstance(resource, contextlib.AbstractContextManager), f"{resource!r} is not a sync resource"
        return resource

    def call(self, value: T | Awaitable[T]) -> T:
        assert not inspect.isawaitable(value), "a sync handle's client returned an awaitable"
        return value


class AsyncRunner(Runner):
    """Runs ``sandboxres.aio`` on an event loop owned by a daemon thread; the caller blocks on each step."""

    mode: Mode = "async"
    api = aio

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="async-runner", daemon=True)
        self._thread.start()

    def run(self, awaitable: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await awaitable

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result()

    @contextlib.contextmanager
    def enter(self, resource: Any) -> Iterator[Any]:
        handle = self.run(resource.__aenter__())
        try:
            yield handle
        except BaseException as exc:
            self.run(resource.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        self.run(resource.__aexit__(None, None, None))

    def call(self, value: T | Awaitable[T]) -> T:
        assert inspect.isawaitable(value), "an async handle's client returned a plain value"
        result: T = self.run(value)
        return result

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5.0)
        self.loop.close()


def runner(mode: str) -> Runner:
    """A runner for ``mode`` ("sync" or "async"); close it when done."""
    if mode == "sync":
        return SyncRunner()
    if mode == "async":
        return AsyncRunner()
    raise ValueError(f"mode must be sync or async, got {mode!r}")
