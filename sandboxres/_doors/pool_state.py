"""What a pool holds, without I/O: resources by shape, idle or being prepared, and its counters.

A resource's *shape* is its kind and every option of its spec but the readiness deadline and ``keep``: a caller
asking for a table with ``range_key="sk"`` is never handed one without it, nor one with another label. Shared by
the sync pool (``_doors.pool``) and the async one (``sandboxres.aio.Pool``), which only differ in where the
resource's I/O runs.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sandboxres._kinds import Spec

Shape = tuple[str, str]


def shape_of(spec: Spec) -> Shape:
    """The kind and the options that make two resources interchangeable (all but the deadline and ``keep``)."""
    return spec.kind, repr(dataclasses.replace(spec, timeout=0.0, keep=None))


@dataclass
class KindCounters:
    """Per kind: resources created, handed out again after recycling, discarded (deleted, not reused)."""

    created: int = 0
    recycled: int = 0  # hand-outs of a resource a previous holder used (each a creation avoided)
    discarded: int = 0
    creation_seconds: float = 0.0  # the creations' total time (create + ready)

    @property
    def saved_seconds(self) -> float:
        """Provisioning time saved: creations avoided (recycled hand-outs) x the measured mean creation time."""
        return self.recycled * self.creation_seconds / self.created if self.created else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "saved_seconds": round(self.saved_seconds, 3)}


@dataclass
class Pooled:
    """One resource of a pool: its ``Ephemeral`` (sync; the async pool runs it off the event loop), its shape and
    the baseline read right after its creation."""

    resource: Any
    shape: Shape
    baseline: dict[str, Any] = field(default_factory=dict)
    holders: int = 0  # how many times it was handed out


class PoolState:
    """The idle resources by shape, the creations in progress by shape, the counters. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[Shape, list[Pooled]] = defaultdict(list)
        self._preparing: dict[Shape, list[Future[Pooled]]] = defaultdict(list)
        self.counters: dict[str, KindCounters] = defaultdict(KindCounters)
        self.demand: dict[Shape, int] = defaultdict(int)  # leases asked per shape (the plugin records it)
        self.closed = False

    def take(self, shape: Shape) -> Pooled | Future[Pooled] | None:
        """An idle resource of ``shape``, else a creation of that shape in progress, else None."""
        with self._lock:
            self.demand[shape] += 1
            if self._idle[shape]:
                return self._idle[shape].pop()
            if self._preparing[shape]:
                return self._preparing[shape].pop(0)
            return None

    def preparing(self, shape: Shape, future: Future[Pooled]) -> None:
        with self._lock:
            self._preparing[shape].append(future)

    def prepared(self, shape: Shape, future: Future[Pooled]) -> bool:
        """A preparation finished: True when nobody took it meanwhile (its resource is idle now)."""
        with self._lock:
            if future not in self._preparing[shape]:
                return False
            self._preparing[shape].remove(future)
            if future.exception() is None:
                self._idle[shape].append(future.result())
            return True

    def put(self, pooled: Pooled) -> None:
        with self._lock:
            self._idle[pooled.shape].append(pooled)

    def drain(self) -> tuple[list[Pooled], list[Future[Pooled]]]:
        """Close the pool: everything idle and every creation in progress, for deletion."""
        with self._lock:
            self.closed = True
            idle = [pooled for items in self._idle.values() for pooled in items]
            preparing = [future for futures in self._preparing.values() for future in futures]
            self._idle.clear()
            self._preparing.clear()
            return idle, preparing

    def count(self, kind: str, change: Callable[[KindCounters], None]) -> None:
        with self._lock:
            change(self.counters[kind])
