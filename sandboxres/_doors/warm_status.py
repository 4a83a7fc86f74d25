"""What the warm pools of the target in force hold (``sandboxres pool status``), and their deletion
(``sandboxres pool drain``).

:func:`warm_status` reads every record of the lease table and reports each resource: ``idle`` (any run may lease
it), ``leased`` (a run holds it: in use) or ``expired`` (its holder stopped renewing: the next run takes it over),
grouped by shape. :func:`drain` deletes the resources nobody uses: for each record that is idle or whose lease
expired it takes the lease (a conditional write: a run that leased it meanwhile wins, and its resource is left
alone), deletes the resource (prefix and tags checked once more) and forgets the record. Leased resources are
reported as in use and skipped. Dry run by default, like the sweeper. The lease table itself stays (an empty one
is swept by its age like any other table).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from sandboxres._doors.sweep import _check_reachable, _describe
from sandboxres._doors.warm_leases import lease_seconds
from sandboxres._engine.classify import error_code
from sandboxres._kinds import KINDS
from sandboxres._leases.plans import forget, read_records, take_lease
from sandboxres._leases.records import IDLE, LEASE_TABLE, LeaseRecord, facts_from_dict
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._safety.ownership import delete_owned

State = Literal["idle", "leased", "expired"]
DrainStatus = Literal["", "would delete", "deleted", "gone", "in use", "failed"]


def _stamp(seconds: float) -> str | None:
    if seconds <= 0:
        return None
    moment = datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class WarmResource:
    """One resource of a warm pool, as its record says, and (for a drain) what became of it."""

    kind: str
    name: str
    shape: str
    state: State
    holder: str  # the run id of the last lease (the holder, when leased)
    clean: bool  # released right after a recycling proved it clean
    created: str | None  # ISO 8601, UTC
    idle_since: str | None  # ISO 8601, UTC (idle ones)
    idle_seconds: float | None  # how long it has been idle (idle ones)
    expires_in: float | None  # seconds until the lease expires (leased ones; negative: expired that long ago)
    status: DrainStatus = ""
    error: str = ""

    @classmethod
    def of(cls, record: LeaseRecord, now: float) -> WarmResource:
        if record.state == IDLE:
            state: State = "idle"
        else:
            state = "expired" if record.available(now) else "leased"
        idle = state == "idle"
        return cls(
            kind=record.kind,
            name=record.name,
            shape=record.shape,
            state=state,
            holder=record.holder,
            clean=record.clean,
            created=_stamp(record.created),
            idle_since=_stamp(record.idle_since) if idle else None,
            idle_seconds=round(max(0.0, now - record.idle_since), 1) if idle else None,
            expires_in=None if idle else round(record.expires - now, 1),
        )


@dataclass
class WarmShape:
    """The resources of one shape (the kind and the options that make them interchangeable)."""

    kind: str
    shape: str
    resources: list[WarmResource]

    def count(self, state: State) -> int:
        return sum(1 for r in self.resources if r.state == state)


@dataclass
class WarmPoolReport:
    """The warm pools of a target: every recorded resource; for a drain, what became of each."""

    target: str
    lease_table: bool  # whether the lease table was read (it does not exist: no warm pool was used on this target)
    resources: list[WarmResource] = field(default_factory=list)
    dry_run: bool | None = None  # None for a status, True / False for a drain
    errors: list[str] = field(default_factory=list)

    @property
    def shapes(self) -> list[WarmShape]:
        grouped: dict[tuple[str, str], list[WarmResource]] = {}
        for resource in sorted(self.resources, key=lambda r: (r.kind, r.shape, r.name)):
            grouped.setdefault((resource.kind, resource.shape), []).append(resource)
        return [WarmShape(kind, shape, resources) for (kind, shape), resources in grouped.items()]

    @property
    def failed(self) -> int:
        return sum(1 for r in self.resources if r.status == "failed") + len(self.errors)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def _count(self, **wanted: str) -> int:
        return sum(1 for r in self.resources if all(getattr(r, k) == v for k, v in wanted.items()))

    def as_dict(self) -> dict[str, Any]:
        summary: dict[str, int] = {
            "resources": len(self.resources),
            "idle": self._count(state="idle"),
            "leased": self._count(state="leased"),
            "expired": self._count(state="expired"),
        }
        if self.dry_run is not None:
            summary.update(
                would_delete=self._count(status="would delete"),
                deleted=self._count(status="deleted") + self._count(status="gone"),
                in_use=self._count(status="in use"),
                failed=self.failed,
            )
        return {
            "target": self.target,
            "lease_table": LEASE_TABLE if self.lease_table else None,
            "dry_run": self.dry_run,
            "summary": summary,
            "shapes": [
                {
                    "kind": shape.kind,
                    "shape": shape.shape,
                    "idle": shape.count("idle"),
                    "leased": shape.count("leased"),
                    "expired": shape.count("expired"),
                    "resources": [asdict(r) for r in shape.resources],
                }
                for shape in self.shapes
            ],
            "errors": list(self.errors),
        }


def _records(driver: SyncDriver, report: WarmPoolReport) -> list[LeaseRecord]:
    """Every record (``report.lease_table`` set); none when the lease table does not exist or could not be read
    (an error in ``report``)."""
    try:
        records = driver.run(read_records())
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            report.errors.append(f"reading the lease table {LEASE_TABLE} failed: {_describe(exc)}")
        return []
    report.lease_table = True
    return records


def _open() -> tuple[Any, SyncDriver | None]:
    """The target in force (guards checked, the table endpoint reachable) and a driver; no driver on the
    embedded target (its emulator lives as long as this process: no warm pool outlives a run there)."""
    from sandboxres._doors.sync import guard_target

    target = active_target()
    guard_target(target)
    if target.in_process:
        return target, None
    _check_reachable(target, ["table"])
    return target, SyncDriver(client_pool(target), refused_is_final=True)


def warm_status() -> WarmPoolReport:
    """What the warm pools of the target in force hold, per shape. Raises ConfigurationError when the endpoint does
    not answer and GuardError when a guard refuses real AWS."""
    target, driver = _open()
    report = WarmPoolReport(target.kind, lease_table=False)
    if driver is not None:
        now = time.time()
        report.resources = [WarmResource.of(r, now) for r in _records(driver, report)]
    return report


def drain(*, dry_run: bool = True) -> WarmPoolReport:
    """Delete (with ``dry_run=False``) every warm resource nobody uses, and its record; leased ones are reported
    in use and left alone. A dry run lists what would go and changes nothing."""
    target, driver = _open()
    report = WarmPoolReport(target.kind, lease_table=False, dry_run=dry_run)
    if driver is None:
        return report
    seconds = lease_seconds()
    for record in _records(driver, report):
        now = time.time()
        resource = WarmResource.of(record, now)
        report.resources.append(resource)
        if resource.state == "leased":
            resource.status = "in use"
            continue
        if record.kind not in KINDS:
            resource.status, resource.error = "failed", f"a kind this version does not know: {record.kind!r}"
            continue
        if dry_run:
            resource.status = "would delete"
            continue
        _drain_one(driver, target.run_id, record, resource, seconds)
    return report


def _drain_one(driver: SyncDriver, run_id: str, record: LeaseRecord, resource: WarmResource, seconds: float) -> None:
    try:
        held = driver.run(take_lease(record, run_id, uuid.uuid4().hex, time.time(), seconds))
    except Exception as exc:
        resource.status, resource.error = "failed", f"taking its lease failed: {_describe(exc)}"
        return
    if held is None:
        resource.status, resource.error = "in use", "leased by another run meanwhile"
        return
    kind = KINDS[record.kind]
    try:
        existed = driver.run(delete_owned(kind, facts_from_dict(kind.facts_type, record.facts)))
    except Exception as exc:  # its lease expires; a later drain or run tries again
        resource.status, resource.error = "failed", _describe(exc)
        return
    resource.status = "deleted" if existed else "gone"
    try:
        driver.run(forget(held))
    except Exception as exc:
        resource.status, resource.error = "failed", f"deleted, but removing its record failed: {_describe(exc)}"


__all__ = ["WarmPoolReport", "WarmResource", "WarmShape", "drain", "warm_status"]
