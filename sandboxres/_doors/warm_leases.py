"""A warm pool's side of the lease table: leasing idle resources of a shape, recording new ones, keeping the
leases alive (a heartbeat thread), releasing them at the end of a run, and deleting what stayed idle too long.

The plans (``sandboxres._leases.plans``) make every write conditional; this module runs them with the sync driver
and keeps this run's leases. Settings: ``SANDBOXRES_POOL_IDLE`` (default ``24h``: an idle resource older than that
is deleted by the next run that sees it) and ``SANDBOXRES_POOL_LEASE`` (default ``120`` seconds: how long a lease
holds without a renewal; renewed every third of it).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sandboxres._doors.sweep_report import parse_age
from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import ConfigurationError, SpecError
from sandboxres._engine.plans import Progress, resource_tags
from sandboxres._kinds import KINDS
from sandboxres._leases.plans import (
    ensure_lease_table,
    forget,
    read_records,
    register,
    release,
    renew,
    take_lease,
)
from sandboxres._leases.records import IDLE, LEASE_SECONDS, ROLE, TAG_ROLE, LeaseRecord, facts_from_dict
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._runtime.target import Target

log = logging.getLogger("sandboxres")

IDLE_DEFAULT = "24h"


def idle_limit(environ: Mapping[str, str] | None = None) -> float:
    """``SANDBOXRES_POOL_IDLE`` in seconds (default 24 h)."""
    raw = (os.environ if environ is None else environ).get("SANDBOXRES_POOL_IDLE", "").strip() or IDLE_DEFAULT
    try:
        seconds = parse_age(raw)
    except SpecError as exc:
        raise ConfigurationError(f"SANDBOXRES_POOL_IDLE={raw!r}: {exc}") from None
    assert seconds is not None
    return seconds


def lease_seconds(environ: Mapping[str, str] | None = None) -> float:
    """``SANDBOXRES_POOL_LEASE`` in seconds (default 120)."""
    raw = (os.environ if environ is None else environ).get("SANDBOXRES_POOL_LEASE", "").strip()
    if not raw:
        return LEASE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = raw  # type: ignore[assignment]
    return check_duration("SANDBOXRES_POOL_LEASE", value, error=ConfigurationError)


class WarmLeases:
    """This run's leases in the lease table of the target in force (one per pool)."""

    def __init__(self, target: Target, driver: SyncDriver) -> None:
        self.target = target
        self.run_id = target.run_id
        self.lease_seconds = lease_seconds()
        self.idle_seconds = idle_limit()
        self._driver = driver
        self._lock = threading.Lock()
        # One lease of a shape at a time in this process: its preparations would otherwise read the same idle
        # records and race for one (the conditional write lets one win; the others' reads and writes are wasted)
        self._leasing: dict[str, threading.Lock] = {}
        self._opened = False
        self._held: dict[str, LeaseRecord] = {}
        self._lost: set[str] = set()  # the tokens of leases found taken over (a lease, not a resource: this run may
        # lease the same record again, and a stale renewal of the earlier lease must not condemn the later one)
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def open(self) -> None:
        """Make sure the lease table exists (once) and start the heartbeat."""
        with self._lock:
            if self._opened:
                return
            tags = {**resource_tags(self.run_id), TAG_ROLE: ROLE}
            if self._driver.run(ensure_lease_table(tags, self.target.region)):
                log.info("created the warm pool's lease table")
            self._heartbeat = threading.Thread(target=self._beat, name="sandboxres-pool-heartbeat", daemon=True)
            self._heartbeat.start()
            self._opened = True

    def lease(self, shape: str) -> LeaseRecord | None:
        """A record of ``shape`` now leased by this run (idle ones first, then expired leases), or None."""
        self.open()
        with self._lock:
            leasing = self._leasing.setdefault(shape, threading.Lock())
        with leasing:
            return self._lease(shape)

    def _lease(self, shape: str) -> LeaseRecord | None:
        now = time.time()
        records = self._driver.run(read_records(shape, brief=True))
        candidates = sorted(
            (r for r in records if r.available(now) and not self._too_old(r, now)),
            key=lambda r: (r.state != IDLE, not r.clean, random.random()),  # spread concurrent leases
        )
        for record in candidates:
            got = self._driver.run(take_lease(record, self.run_id, uuid.uuid4().hex, time.time(), self.lease_seconds))
            if got is not None:
                self._hold(got)
                if record.state != IDLE:
                    log.info("took over the expired lease of %s %s (held by run %s)", got.kind, got.name, record.holder)
                else:
                    log.debug("leased %s %s (version %d)", got.kind, got.name, got.version)
                return got
        return None

    def _too_old(self, record: LeaseRecord, now: float) -> bool:
        return record.state == IDLE and now - record.idle_since > self.idle_seconds

    def record(
        self,
        kind: str,
        name: str,
        shape: str,
        facts: dict[str, Any],
        baseline: dict[str, Any],
        creation_seconds: float = 0.0,
    ) -> LeaseRecord:
        """Record a resource this run created, leased by this run."""
        self.open()
        now = time.time()
        record = LeaseRecord(
            kind=kind,
            name=name,
            shape=shape,
            holder=self.run_id,
            token=uuid.uuid4().hex,
            expires=now + self.lease_seconds,
            created=now,
            creation_seconds=creation_seconds,
            facts=facts,
            baseline=baseline,
        )
        self._driver.run(register(record))
        self._hold(record)
        log.debug("recorded %s %s in the warm pool, leased by this run", kind, name)
        return record

    def release(self, record: LeaseRecord, facts: dict[str, Any], clean: bool) -> bool:
        """Back to idle for a later run; False when the lease had been lost (the resource is another run's)."""
        record.facts = facts
        done = self.lost(record) is False and self._driver.run(release(record, time.time(), clean))
        self._drop(record)
        log.debug("%s %s %s", "released" if done else "did not release (lease lost)", record.kind, record.name)
        return bool(done)

    def forget(self, record: LeaseRecord) -> bool:
        """Remove the record of a resource this run deleted."""
        done = self._driver.run(forget(record))
        self._drop(record)
        return done

    def lost(self, record: LeaseRecord) -> bool:
        """Whether the heartbeat found this lease taken over (the resource is no longer this run's to use)."""
        with self._lock:
            return record.token in self._lost

    def expired_idle(self) -> list[LeaseRecord]:
        """Lease every idle record older than ``SANDBOXRES_POOL_IDLE``, for its deletion (records of kinds this
        version does not know are left alone)."""
        self.open()
        now = time.time()
        taken = []
        for record in self._driver.run(read_records(brief=True)):
            if record.kind in KINDS and self._too_old(record, now):
                got = self._driver.run(take_lease(record, self.run_id, uuid.uuid4().hex, now, self.lease_seconds))
                if got is not None:
                    self._hold(got)
                    taken.append(got)
        return taken

    def delete_resource(self, record: LeaseRecord) -> None:
        """Delete the leased record's resource (never a name without the library's prefix), then the record."""
        kind = KINDS[record.kind]
        kind.names.check_own(record.name)
        facts = facts_from_dict(kind.facts_type, record.facts)
        progress = Progress()
        self._driver.run(kind.delete(facts, progress, kind.default_timeout))
        self.forget(record)

    def close(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5.0)

    def _hold(self, record: LeaseRecord) -> None:
        with self._lock:
            self._held[record.key] = record

    def _drop(self, record: LeaseRecord) -> None:
        with self._lock:
            if (held := self._held.get(record.key)) is not None and held.token == record.token:
                del self._held[record.key]

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            self.renew_all()

    def renew_all(self) -> None:
        """One heartbeat: renew every lease this run holds; a lease found taken over is marked lost."""
        with self._lock:
            held = [r for r in self._held.values() if r.token not in self._lost]
        for record in held:
            try:
                kept = self._driver.run(renew(record, time.time(), self.lease_seconds))
            except Exception as exc:  # the next beat tries again; the lease holds until it expires
                log.warning("renewing the lease of %s %s failed: %s", record.kind, record.name, exc)
                continue
            if kept:
                continue
            with self._lock:
                current = self._held.get(record.key)
                if current is None or current.token != record.token:
                    continue  # released (and maybe leased again) meanwhile: the renewal was of a lease now over
                self._lost.add(record.token)
            log.error(
                "the lease of %s %s expired and another run took it over: this run no longer uses it",
                record.kind,
                record.name,
            )
