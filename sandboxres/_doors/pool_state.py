"""What a pool holds, without I/O: resources by shape, idle or being prepared, and its counters.

A resource's *shape* is its kind and every option of its spec but the readiness deadline and ``keep``: a caller
asking for a table with ``range_key="sk"`` is never handed one without it, nor one with another label. Shared by
the sync pool (``_doors.pool``) and the async one (``sandboxres.aio.Pool``), which only differ in where the
resource's I/O runs.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sandboxres._kinds import Spec

Shape = tuple[str, str]
FACTOR, GRACE = 2.0, 1.0  # wait for a recycling unless it should take longer than 2 creations and 1 s


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
    leased: int = 0  # taken from the warm pool (left by an earlier run): each a creation avoided
    leased_creation_seconds: float = 0.0  # what the leased resources' creations took, as their creators measured
    released: int = 0  # left in the warm pool for a later run when the pool closed

    @property
    def saved_seconds(self) -> float:
        """Provisioning time saved: creations avoided by recycled hand-outs x the measured mean creation time, plus
        the creation times of the leased resources."""
        mean = self.creation_seconds / self.created if self.created else 0.0
        return self.recycled * mean + self.leased_creation_seconds

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
    creation_seconds: float = 0.0  # how long its creation took (create + ready + baseline)
    lease: Any = None  # its record in a warm pool's lease table (a LeaseRecord), if any
    clean: bool = True  # proven clean since its last holder (False from give-back until its recycling proves it)


@dataclass(eq=False)
class Coming:
    """A resource on its way to the idle list: being created (a preparation), or being recycled after its holder
    (``recycling``; the future then gives None when the resource was discarded instead)."""

    future: Future[Pooled | None]
    recycling: bool
    started: float  # time.monotonic()
    estimate: float = 0.0  # the least a recycling of this shape takes, before any was measured


@dataclass
class _Mean:
    count: int = 0
    total: float = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


class PoolState:
    """The idle resources by shape, the resources on their way (creations and recyclings in progress) by shape,
    the measured costs, the counters. Thread-safe.

    ``take`` decides, for each caller, between what is idle, what is coming and a new creation, by measured costs:
    a preparation in progress is always worth waiting for (it started before any new creation could); a
    recycling in progress is worth it unless its expected remaining time (the shape's mean recycling time, or the
    kind's estimate before any was measured, less its elapsed time) exceeds ``FACTOR`` times the shape's mean
    creation time plus ``GRACE``. The bias keeps reusing what exists when both cost about the same (a creation
    adds a resource to the pool and load to the account); a queue whose recycling needs seconds of settled
    counters is replaced by a new one where creating takes milliseconds, while a table that takes 10 s to create
    waits 20 ms for its recycling.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[Shape, list[Pooled]] = defaultdict(list)
        self._coming: dict[Shape, list[Coming]] = defaultdict(list)
        self._creating: dict[Shape, _Mean] = defaultdict(_Mean)
        self._recycling: dict[Shape, _Mean] = defaultdict(_Mean)
        self.counters: dict[str, KindCounters] = defaultdict(KindCounters)
        self.closed = False

    def take(self, shape: Shape, now: float | None = None) -> Pooled | Coming | None:
        """An idle resource of ``shape``; else a creation or recycling of that shape worth waiting for (claimed:
        nobody else gets it); else None (create one)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._idle[shape]:
                return self._idle[shape].pop()
            coming = self._coming[shape]
            chosen = next((c for c in coming if not c.recycling), None)
            if chosen is None and coming:
                chosen = min(coming, key=lambda c: self._remaining(shape, c, now))
                creation = self._creating[shape].value
                if creation is not None and self._remaining(shape, chosen, now) > creation * FACTOR + GRACE:
                    return None
            if chosen is not None:
                coming.remove(chosen)
            return chosen

    def _remaining(self, shape: Shape, coming: Coming, now: float) -> float:
        mean = self._recycling[shape].value
        return max(0.0, (coming.estimate if mean is None else mean) - (now - coming.started))

    def measured(self, shape: Shape, recycling: bool, seconds: float) -> None:
        """A creation (with its baseline) or a recycling of ``shape`` took ``seconds``."""
        with self._lock:
            (self._recycling if recycling else self._creating)[shape].add(seconds)

    def expect(self, shape: Shape, coming: Coming) -> None:
        with self._lock:
            self._coming[shape].append(coming)

    def arrived(self, shape: Shape, coming: Coming) -> bool:
        """A creation or recycling ended: True when nobody had claimed it (its resource, if any, is idle now;
        unless the pool is closed: then whoever closes it has its future)."""
        with self._lock:
            if coming not in self._coming[shape]:
                return False
            self._coming[shape].remove(coming)
            if coming.future.exception() is None:
                pooled = coming.future.result()
                if pooled is not None:
                    self._idle[shape].append(pooled)
            return True

    def drain(self) -> tuple[list[Pooled], list[Coming]]:
        """Close the pool: everything idle and everything coming, for deletion."""
        with self._lock:
            self.closed = True
            idle = [pooled for items in self._idle.values() for pooled in items]
            coming = [c for items in self._coming.values() for c in items]
            self._idle.clear()
            self._coming.clear()
            return idle, coming

    def count(self, kind: str, change: Callable[[KindCounters], None]) -> None:
        with self._lock:
            change(self.counters[kind])
