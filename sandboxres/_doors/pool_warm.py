"""The warm side of a pool (``Pool(warm=True)``): resources leased from earlier runs before any is created, new
ones recorded, clean ones released for later runs when the pool closes instead of deleted, discarded ones
forgotten, and idle ones past ``SANDBOXRES_POOL_IDLE`` deleted. See ``warm_leases`` for the lease table.

On the embedded emulator a warm pool cannot outlive its process (the emulator ends with it): it is then an in-run
pool, said once in a log line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sandboxres._doors.pool_state import KindCounters, Pooled, PoolState, shape_of
from sandboxres._doors.sync import Ephemeral, guard_target
from sandboxres._doors.warm_leases import WarmLeases
from sandboxres._engine.plans import TAG_POOLED
from sandboxres._kinds import Spec, kind_of
from sandboxres._leases.records import LeaseRecord, facts_as_dict, facts_from_dict
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver

log = logging.getLogger("sandboxres")
_said_embedded = threading.Event()


class WarmSide:
    """What a pool does differently when warm; every method is a no-op (or None) for an in-run pool."""

    def __init__(self, wanted: bool, state: PoolState) -> None:
        self.wanted = wanted
        self._state = state
        self._lock = threading.Lock()
        self._checked = False
        self.leases: WarmLeases | None = None

    def open(self) -> WarmLeases | None:
        """The lease table of the target in force, at first use; None for an in-run pool (or on the embedded
        emulator). ``expire`` receives the idle records past their age, leased for deletion."""
        if not self.wanted:
            return None
        with self._lock:
            if not self._checked:
                self._checked = True
                target = active_target()
                guard_target(target)
                if target.in_process:
                    if not _said_embedded.is_set():
                        _said_embedded.set()
                        log.info("warm pool on the embedded emulator: it ends with this process, like its resources")
                else:
                    self.leases = WarmLeases(target, SyncDriver(client_pool(target), refused_is_final=True))
            return self.leases

    def lease(
        self, spec: Spec, verdict: Callable[[Pooled], str | None], discard: Callable[[Pooled, str], None]
    ) -> Pooled | None:
        """A resource of ``spec``'s shape leased from the warm pool and adopted, or None (create one). A resource
        whose last holder did not release it clean (its lease expired) is recycled first (``verdict``), and
        discarded when that does not prove it clean."""
        leases = self.open()
        if leases is None:
            return None
        shape = shape_of(spec)
        kind = kind_of(spec)
        while (record := leases.lease(shape[1])) is not None:
            resource: Ephemeral[Any] = Ephemeral(spec)
            resource.lifecycle.extra_tags[TAG_POOLED] = "true"
            try:
                resource.adopt(facts_from_dict(kind.facts_type, record.facts))
            except Exception as exc:  # a record this version cannot use: leave its resource to the sweeper
                log.warning("cannot use %s %s from the warm pool (%s): forgetting it", record.kind, record.name, exc)
                leases.forget(record)
                continue
            pooled = Pooled(resource, shape, baseline=record.baseline, lease=record)
            pooled.creation_seconds = record.creation_seconds
            if record.creation_seconds:  # what a creation of this shape costs, for the pool's wait-or-create choice
                self._state.measured(shape, False, record.creation_seconds)
            reason = None if record.clean else verdict(pooled)
            if reason is not None:
                discard(pooled, f"its last holder did not release it clean, and {reason}")
                continue

            def leased(counters: KindCounters) -> None:
                counters.leased += 1
                counters.leased_creation_seconds += record.creation_seconds

            self._state.count(spec.kind, leased)
            return pooled
        return None

    def record(self, pooled: Pooled) -> None:
        """Record a resource the pool created, leased by this run (a failure leaves it an in-run resource)."""
        leases = self.open()
        if leases is None:
            return
        lifecycle = pooled.resource.lifecycle
        try:
            pooled.lease = leases.record(
                lifecycle.kind,
                lifecycle.name,
                pooled.shape[1],
                facts_as_dict(lifecycle.facts),
                pooled.baseline,
                pooled.creation_seconds,
            )
        except Exception as exc:
            log.warning(
                "recording %s in the warm pool failed (%s): it is deleted with the pool", lifecycle.resource, exc
            )

    def lost(self, pooled: Pooled) -> bool:
        """The lease was taken over (it expired): the resource is another run's; drop it, delete nothing."""
        if self.leases is None or pooled.lease is None or not self.leases.lost(pooled.lease):
            return False
        pooled.resource.lifecycle.released()
        return True

    def forget(self, pooled: Pooled) -> None:
        """After the resource's deletion: its record goes too."""
        if self.leases is not None and pooled.lease is not None:
            try:
                self.leases.forget(pooled.lease)
            except Exception as exc:  # the record's lease expires; the next run finds the resource gone
                log.warning("forgetting %s in the warm pool failed: %s", pooled.resource.lifecycle.resource, exc)

    def release(self, pooled: Pooled) -> bool:
        """At close: True when the resource stays in the warm pool (released, clean or to be recycled by the next
        run); False when it must be deleted (an in-run pool, no record, or the release failed)."""
        if self.leases is None or pooled.lease is None:
            return False
        lifecycle = pooled.resource.lifecycle
        try:
            kept = self.leases.release(pooled.lease, facts_as_dict(lifecycle.facts), pooled.clean)
        except Exception as exc:
            log.warning("releasing %s to the warm pool failed (%s): deleting it", lifecycle.resource, exc)
            return False
        lifecycle.released()
        if kept:
            self._state.count(lifecycle.spec.kind, _released)
        return True

    def expire_idle(self) -> None:
        """Delete the idle resources older than ``SANDBOXRES_POOL_IDLE`` (in the pool's background)."""
        leases = self.open()
        if leases is None:
            return
        for record in leases.expired_idle():
            try:
                leases.delete_resource(record)
                log.info("deleted %s %s: idle in the warm pool for too long", record.kind, record.name)
            except Exception as exc:
                log.warning("deleting the idle %s %s failed: %s", record.kind, record.name, exc)

    def close(self) -> None:
        if self.leases is not None:
            self.leases.close()


def _released(counters: KindCounters) -> None:
    counters.released += 1


__all__ = ["LeaseRecord", "WarmSide"]
