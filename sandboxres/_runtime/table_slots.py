"""The process-wide bound on DynamoDB table operations in flight (create..ACTIVE, delete..gone).

One counter shared by threads and event loops (:data:`TABLE_SLOTS`); its limit is ``SANDBOXRES_TABLE_CONCURRENCY``
(of the environment or ``SANDBOXRES_ENV_FILE``), read when first needed, or what :func:`set_table_concurrency` sets.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any


class TableSlots:
    """A counter shared by threads and event loops: at most ``limit`` table operations at once."""

    def __init__(self, limit: int | None = None) -> None:
        self._cond = threading.Condition()
        self._limit = limit  # None: read SANDBOXRES_TABLE_CONCURRENCY when first needed (after the env file)
        self.in_use = 0
        # Slots held in event loops, by holder: a loop closed while holding one (its async generators never
        # finalized) cannot give it back; such slots are reclaimed by the next holder that finds none free.
        self._in_loops: dict[object, weakref.ref[Any]] = {}

    @property
    def limit(self) -> int:
        if self._limit is None:
            self._limit = _initial_table_concurrency()
        return self._limit

    @limit.setter
    def limit(self, limit: int) -> None:
        self._limit = limit

    def set_limit(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"table concurrency must be a positive integer, got {limit!r}")
        with self._cond:
            self.limit = limit
            self._cond.notify_all()

    def try_acquire(self) -> bool:
        with self._cond:
            if self.in_use < self.limit:
                self.in_use += 1
                return True
            return False

    def release(self) -> None:
        with self._cond:
            self.in_use -= 1
            self._cond.notify_all()

    def _free(self) -> bool:
        """Whether a slot is free, after giving back those held in event loops closed (or gone) since; under
        ``self._cond``. Only called when none looked free: the common path does no more than before."""
        if self.in_use < self.limit:
            return True
        closed = [holder for holder, ref in self._in_loops.items() if (loop := ref()) is None or loop.is_closed()]
        for holder in closed:
            del self._in_loops[holder]
        self.in_use -= len(closed)
        return self.in_use < self.limit

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._cond:
            while not self._free():
                self._cond.wait(0.2)  # a slot of a closed loop is given back without a notification
            self.in_use += 1
        try:
            yield
        finally:
            self.release()

    @asynccontextmanager
    async def hold_async(self) -> AsyncIterator[None]:
        import asyncio  # imported when first used: `import sandboxres` stays light

        loop = weakref.ref(asyncio.get_running_loop())
        holder = object()
        delay = 0.005
        while True:
            with self._cond:
                if self._free():
                    self.in_use += 1
                    self._in_loops[holder] = loop
                    break
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        try:
            yield
        finally:
            with self._cond:
                if self._in_loops.pop(holder, None) is not None:  # not reclaimed meanwhile
                    self.in_use -= 1
                    self._cond.notify_all()


def _initial_table_concurrency() -> int:
    """``SANDBOXRES_TABLE_CONCURRENCY`` (of the environment or ``SANDBOXRES_ENV_FILE``), read when first needed."""
    from sandboxres._runtime.settings import apply_env_file, table_concurrency_from_env

    apply_env_file()
    return table_concurrency_from_env()


TABLE_SLOTS = TableSlots()


def set_table_concurrency(limit: int) -> None:
    """Bound the DynamoDB table operations this process runs at once (default 100, or
    ``SANDBOXRES_TABLE_CONCURRENCY``). DynamoDB allows 500 per account (250 with secondary indexes)."""
    TABLE_SLOTS.set_limit(limit)
