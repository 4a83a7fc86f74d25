"""Pools: resources recycled between holders, so that isolation per test costs an emptying, not a creation.

    with Pool() as pool:
        pool.prepare_table("users", count=8, range_key="sk")    # created concurrently, in the background
        with pool.table("users", range_key="sk") as t:          # a clean table of that shape: recycled, or new
            t.table.put_item(Item={"pk": "a", "sk": "b"})
        with pool.table("users", range_key="sk") as t:          # the same table again, emptied
            ...

When a holder's block ends, the kind's recycling plan empties the resource and proves it clean (see the
``recycling`` module of each kind); a resource that cannot be proven clean cheaply is discarded (deleted in the
background) and never handed out again. An interrupted block (Ctrl-C, SIGTERM, cancellation) discards at once.
The pool deletes everything it holds when it closes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from sandboxres._doors.pool_engine import PoolEngine
from sandboxres._doors.pool_state import KindCounters
from sandboxres._engine.validation import call_spec
from sandboxres._kinds import Spec
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.bucket import bucket_spec
from sandboxres._kinds.queue import queue_spec
from sandboxres._kinds.table import table_spec
from sandboxres._kinds.topic import topic_spec

__all__ = ["Pool", "PoolDoor", "PoolEngine"]


LeaseT = TypeVar("LeaseT")


class PoolDoor(Generic[LeaseT]):
    """What both pools offer, written once: a lease per kind (a context manager, sync or async) and the
    preparations. Each pool supplies ``_engine`` and ``_lease``."""

    _engine: PoolEngine

    def _lease(self, factory: Callable[..., Spec], public: str, label: str, options: dict[str, Any]) -> LeaseT:
        raise NotImplementedError

    @property
    def counters(self) -> dict[str, KindCounters]:
        """Per kind: created, recycled, discarded, creation seconds and the provisioning time saved."""
        return dict(self._engine.state.counters)

    def table(self, label: str = "table", **options: Any) -> LeaseT:
        """A clean table of this shape for the block (options of ``ephemeral_table``)."""
        return self._lease(table_spec, "Pool.table", label, options)

    def bucket(self, label: str = "bucket", **options: Any) -> LeaseT:
        """A clean bucket of this shape for the block (options of ``ephemeral_bucket``)."""
        return self._lease(bucket_spec, "Pool.bucket", label, options)

    def queue(self, label: str = "queue", **options: Any) -> LeaseT:
        """A clean queue of this shape for the block (options of ``ephemeral_queue``)."""
        return self._lease(queue_spec, "Pool.queue", label, options)

    def topic(self, label: str = "topic", **options: Any) -> LeaseT:
        """A clean topic of this shape for the block (options of ``ephemeral_topic``)."""
        return self._lease(topic_spec, "Pool.topic", label, options)

    def prepare_table(self, label: str = "table", count: int = 1, **options: Any) -> None:
        """Create ``count`` tables of this shape in the background."""
        self._engine.prepare(_spec(table_spec, "Pool.prepare_table", label, options), _count(count))

    def prepare_bucket(self, label: str = "bucket", count: int = 1, **options: Any) -> None:
        """Create ``count`` buckets of this shape in the background."""
        self._engine.prepare(_spec(bucket_spec, "Pool.prepare_bucket", label, options), _count(count))

    def prepare_queue(self, label: str = "queue", count: int = 1, **options: Any) -> None:
        """Create ``count`` queues of this shape in the background."""
        self._engine.prepare(_spec(queue_spec, "Pool.prepare_queue", label, options), _count(count))

    def prepare_topic(self, label: str = "topic", count: int = 1, **options: Any) -> None:
        """Create ``count`` topics of this shape in the background."""
        self._engine.prepare(_spec(topic_spec, "Pool.prepare_topic", label, options), _count(count))


class Pool(PoolDoor[contextlib.AbstractContextManager[Any]]):
    """Resources that recycle between holders: ``with Pool() as pool: with pool.table("users") as t: ...``.

    ``table``/``bucket``/``queue``/``topic(label, **options)`` take exactly the options of ``ephemeral_table``/...
    and yield the same handles; ``prepare_table``/.../``prepare_topic(label, count=N, **options)``
    create resources of that shape in the background. Resources are matched by label and options. When a block
    ends its resource is emptied and proven clean for the next holder, or discarded (deleted) when that cannot be
    proven cheaply. Closing the pool deletes everything it holds (``keep=True`` / ``SANDBOXRES_KEEP=1`` keep).

    ``warm=True``: the pool outlives the run. It first leases idle resources that earlier runs (on any machine,
    same account and region) left in the lease table, creates only what is missing, and when it closes it
    releases its clean resources there for the next run instead of deleting them (see docs/pools.md).
    """

    def __init__(self, *, limits: RecycleLimits | None = None, max_workers: int = 8, warm: bool = False) -> None:
        self._engine = PoolEngine(limits, max_workers, _warm(warm))

    @contextlib.contextmanager
    def _lease(self, factory: Callable[..., Spec], public: str, label: str, options: dict[str, Any]) -> Iterator[Any]:
        pooled = self._engine.acquire(_spec(factory, public, label, options))
        try:
            yield pooled.resource.handle
        except Exception:
            self._engine.give_back(pooled)
            raise
        except BaseException:  # Ctrl-C, SIGTERM: no time for recycling
            self._engine.give_back(pooled, interrupted=True)
            raise
        self._engine.give_back(pooled)

    def close(self) -> None:
        """Delete everything the pool holds."""
        self._engine.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._engine.close(exc)


def _spec(factory: Callable[..., Spec], public: str, label: str, options: dict[str, Any]) -> Spec:
    return call_spec(factory, public, (label,), options)  # type: ignore[no-any-return]


def _warm(warm: bool) -> bool:
    from sandboxres._engine.errors import SpecError

    if not isinstance(warm, bool):
        raise SpecError(f"warm must be True or False, got {warm!r}")
    return warm


def _count(count: int) -> int:
    from sandboxres._engine.errors import SpecError

    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecError(f"count must be a positive integer, got {count!r}")
    return count
