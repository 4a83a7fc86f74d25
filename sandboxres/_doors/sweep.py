"""The sweeper: find and delete resources a crashed or killed run left behind.

``sweep()`` lists the resources of every kind (tables, buckets, queues, topics) of the target in force (every
page), keeps the names with the library's prefix, reads their tags and keeps those that carry the library's tags
(``sandboxres:managed=true``, a run id, a creation time), filters them by age (creation-time tag) and/or run id,
and -- only with ``dry_run=False`` -- deletes each through :func:`sandboxres._safety.ownership.delete_owned`,
which checks prefix and tags once more and then runs the same delete plans as the context managers (versioned
buckets are emptied of every version; a dead-letter queue is itself a tagged ``test_`` queue; a topic's
subscriptions go before it). A resource lacking either the prefix
or the tags is never deleted. On ``aws`` the safety guards run first.

Warm pools (``Pool(warm=True)``): when the target holds the warm pools' lease table, a resource it records as
leased by a live run is in use and left alone (``Ignored``, its reason starting with "in use"); one that is idle
(or whose lease expired) is judged by how long it has been idle instead of its creation time, and deleted after
taking its lease (a run that leased it meanwhile wins) and with its record. The lease table itself is left alone
while it holds any record; an empty one is judged by its age like any other table. A lease table that cannot be
read is an error, and every pooled resource is then left alone.

With ``include_untagged=True`` (and an age), buckets of the library's exact name format (prefix, label, 16 hex
digits) that carry no tags at all and were created (S3's CreationDate) at least ``older_than`` ago are listed
apart (``report.untagged``) and deleted too: a process killed between CreateBucket and tagging, on an endpoint
that ignores tags in CreateBucket, leaves such buckets. Look-alikes of another format, or with any tag, are
never touched.

    from sandboxres import sweep
    report = sweep(older_than="2h")            # dry run: what would go
    report = sweep(run_id="1a2b3c4d", dry_run=False)
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from sandboxres._doors.sweep_report import (
    Ignored,
    Kind,
    Status,
    SweepProgress,
    SweepReport,
    SweptResource,
    check_kinds,
    parse_age,
)
from sandboxres._doors.warm_leases import lease_seconds
from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import ConfigurationError, SpecError
from sandboxres._engine.plans import TAG_POOLED
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._kinds import KINDS, Listed
from sandboxres._kinds.bucket import BUCKET
from sandboxres._leases.plans import forget, read_records, take_lease
from sandboxres._leases.records import IDLE, LEASE_TABLE, LeaseRecord, facts_from_dict
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._runtime.reachability import connection_error
from sandboxres._runtime.table_slots import TABLE_SLOTS
from sandboxres._runtime.target import Target
from sandboxres._safety.ownership import delete_owned, delete_untagged_bucket, ownership

__all__ = [
    "Ignored",
    "Kind",
    "Status",
    "SweepProgress",
    "SweepReport",
    "SweptResource",
    "parse_age",
    "same_run",
    "sweep",
]

DEFAULT_WORKERS = 8
IN_USE = "in use"  # the start of the reason of a resource left alone because a warm pool's run holds it


# ---------------------------------------------------------------------------------------------------------
# The sweep


class _Progress:
    """Forwards events to the caller's callback, one at a time (they come from worker threads)."""

    def __init__(self, callback: Callable[[SweepProgress], None] | None) -> None:
        self.callback = callback
        self.lock = threading.Lock()

    def __call__(self, event: SweepProgress) -> None:
        if self.callback is not None:
            with self.lock:
                self.callback(event)


def _age(created: datetime, now: datetime) -> float:
    return max(0.0, (now - created).total_seconds())


def _other_region(listed: Listed, target: Target) -> bool:
    return bool(listed.region and target.region and listed.region != target.region)


_WORKER_SUFFIX = re.compile(r"-gw\d+$")


def same_run(tagged: str, wanted: str) -> bool:
    """``tagged`` is run ``wanted``, or one of its pytest-xdist workers (``<run id>-gw<N>``)."""
    return tagged == wanted or (_WORKER_SUFFIX.search(tagged) is not None and _WORKER_SUFFIX.sub("", tagged) == wanted)


def sweep(
    *,
    older_than: str | float | timedelta | None = None,
    run_id: str | None = None,
    dry_run: bool = True,
    kinds: Sequence[str] | str | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    include_untagged: bool = False,
) -> SweepReport:
    """Find (and with ``dry_run=False`` delete) the library's leftover resources on the target in force.

    ``older_than``: only resources whose ``sandboxres:created-at`` tag is at least that old (``"2h"``,
    ``"0s"``, seconds or a timedelta); ``run_id``: only that run's; ``kinds``: some of table, bucket,
    queue, topic (default: every kind whose service the target has an endpoint for).
    ``progress`` receives a :class:`SweepProgress` per listed, inspected and deleted resource. Bad arguments
    raise SpecError before any API call; on ``aws`` a refused guard raises GuardError.
    ``include_untagged``: also buckets of the library's exact name format that carry no tags at all and are
    at least ``older_than`` old by S3's creation date (listed apart in ``report.untagged``; needs
    ``older_than``; never with ``run_id``, which an untagged bucket cannot show).
    """
    from sandboxres._doors.sync import guard_target

    age_limit = parse_age(older_than)
    chosen = check_kinds(kinds)
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise SpecError(f"run_id must be a non-empty string, got {run_id!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError(f"workers must be a positive integer, got {workers!r}")
    if include_untagged and age_limit is None:
        raise SpecError(
            "include_untagged needs older_than (e.g. '2h'): a younger untagged bucket may be one a running "
            "process is creating right now"
        )

    hold_seconds = lease_seconds()
    target = active_target()
    guard_target(target)
    if kinds is None:  # every kind the target serves: an external emulator without SNS has no topics to sweep
        chosen = [kind for kind in chosen if _serves(target, kind)]
    _check_reachable(target, chosen)
    driver = SyncDriver(client_pool(target))
    report = SweepReport(target.kind, dry_run, age_limit, run_id, chosen)
    tell = _Progress(progress)
    now = datetime.now(timezone.utc)
    warm = _read_warm(driver, target, chosen, report)
    recorded: dict[tuple[Kind, str], LeaseRecord] = {}  # swept resources a warm pool records: deleted with it

    candidates: list[tuple[Kind, Listed]] = []
    for kind in chosen:
        try:
            found = driver.run(KINDS[kind].listing())
        except Exception as exc:
            report.errors.append(f"listing {kind}s failed: {_describe(exc)}")
            continue
        candidates.extend((kind, listed) for listed in found)
        tell(SweepProgress("list", len(candidates), len(candidates), kind))

    def inspect(item: tuple[Kind, Listed]) -> SweptResource | Ignored | str | None:
        kind, listed = item
        name = listed.facts.name
        if _other_region(listed, target):
            return Ignored(kind, name, f"in region {listed.region}, not {target.region}")
        try:
            tags = driver.run(KINDS[kind].read_tags(listed.facts))
        except Exception as exc:
            return f"reading the tags of {kind} {name} failed: {_describe(exc)}"
        if tags is None:
            return None  # gone meanwhile
        verdict = ownership(tags)
        if not verdict.ours and not tags and include_untagged and kind == "bucket" and run_id is None:
            return _untagged_bucket(listed, age_limit or 0.0, now)
        if not verdict.ours or verdict.created_at is None or verdict.run_id is None:
            return Ignored(kind, name, f"not the library's: {verdict.problem}")
        age = _age(verdict.created_at, now)
        if run_id is not None and not same_run(verdict.run_id, run_id):
            return Ignored(kind, name, f"run {verdict.run_id}, not {run_id}")
        created = verdict.created_at.isoformat().replace("+00:00", "Z")
        if kind == "table" and name == LEASE_TABLE:
            if warm is None or warm.records:
                held = "it could not be read" if warm is None else f"it holds {len(warm.records)} record(s)"
                return Ignored(kind, name, f"{IN_USE}: the warm pools' lease table ({held})")
        elif warm is None:
            if tags.get(TAG_POOLED) == "true":
                return Ignored(kind, name, f"{IN_USE} perhaps: pooled, and the warm pools' lease table was not read")
        elif (record := warm.by_name.get((kind, name))) is not None:
            return _judge_warm(kind, name, record, verdict.run_id, created, age_limit, recorded)
        if age_limit is not None and age < age_limit:
            return Ignored(kind, name, f"only {age:.0f} s old")
        return SweptResource(kind, name, verdict.run_id, created, round(age, 1))

    facts_of = {(kind, listed.facts.name): listed.facts for kind, listed in candidates}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandboxres-sweep") as pool:
        for done, outcome in enumerate(pool.map(inspect, candidates), start=1):
            kind, name = candidates[done - 1][0], candidates[done - 1][1].facts.name
            if isinstance(outcome, SweptResource):
                (report.untagged if outcome.untagged else report.resources).append(outcome)
            elif isinstance(outcome, Ignored):
                report.ignored.append(outcome)
            elif isinstance(outcome, str):
                report.errors.append(outcome)
            tell(SweepProgress("inspect", done, len(candidates), kind, name))

        if dry_run or not (report.resources or report.untagged):
            return report

        def delete(resource: SweptResource) -> SweptResource:
            facts = facts_of[(resource.kind, resource.name)]
            kind = KINDS[resource.kind]
            slot = TABLE_SLOTS.hold() if kind.bounded else contextlib.nullcontext()
            try:
                with slot:
                    if resource.untagged:
                        existed = driver.run(delete_untagged_bucket(facts))
                    elif (record := recorded.get((resource.kind, resource.name))) is not None:
                        existed = _delete_warm(driver, record, target.run_id, hold_seconds)
                    else:
                        existed = driver.run(delete_owned(kind, facts))
                resource.status = "deleted" if existed else "gone"
            except _LeasedMeanwhile:
                resource.status, resource.error = "failed", "leased from the warm pool meanwhile: left alone"
            except Exception as exc:
                resource.status, resource.error = "failed", _describe(exc)
            return resource

        doomed = [*report.resources, *report.untagged]
        for done, resource in enumerate(pool.map(delete, doomed), start=1):
            tell(SweepProgress("delete", done, len(doomed), resource.kind, resource.name))
    return report


# ---------------------------------------------------------------------------------------------------------
# Warm pools


@dataclass
class _Warm:
    """The lease table as the sweep read it: every record, and each name it covers (a queue's dead-letter queue
    too) -> its record."""

    records: list[LeaseRecord] = field(default_factory=list)
    by_name: dict[tuple[Kind, str], LeaseRecord] = field(default_factory=dict)


def recorded_names(record: LeaseRecord) -> list[str]:
    """Every resource name a record covers: its own, then those in its facts (a queue's dead-letter queue)."""

    def walk(facts: object) -> Iterator[str]:
        if isinstance(facts, dict):
            if isinstance(facts.get("name"), str):
                yield facts["name"]
            for value in facts.values():
                yield from walk(value)

    return list(dict.fromkeys([record.name, *walk(record.facts)]))


def _read_warm(driver: SyncDriver, target: Target, kinds: Sequence[Kind], report: SweepReport) -> _Warm | None:
    """The lease table's records (none when it does not exist, nor on the embedded emulator, simulated or not, which
    ends with this process); None, with an error in the report, when it could not be read."""
    if target.in_process:
        return _Warm()
    try:
        if "table" not in kinds:
            _check_reachable(target, ["table"])
        records = driver.run(read_records())
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return _Warm()
        report.errors.append(
            f"reading the warm pools' lease table failed: {_describe(exc)}; pooled resources are left alone"
        )
        return None
    warm = _Warm(records)
    for record in records:
        for name in recorded_names(record):
            warm.by_name[(record.kind, name)] = record
    return warm


def _judge_warm(
    kind: Kind,
    name: str,
    record: LeaseRecord,
    run_id: str,
    created: str,
    age_limit: float | None,
    recorded: dict[tuple[Kind, str], LeaseRecord],
) -> SweptResource | Ignored:
    """A resource a warm pool records: in use while leased; else aged by how long nobody has used it (since its
    release, or since its lease expired)."""
    now = time.time()
    if not record.available(now):
        return Ignored(kind, name, f"{IN_USE}: leased from the warm pool by run {record.holder}")
    if name != record.name:
        return Ignored(kind, name, f"goes with {record.kind} {record.name} of the warm pool")
    unused = max(0.0, now - (record.idle_since if record.state == IDLE else record.expires))
    if age_limit is not None and unused < age_limit:
        return Ignored(kind, name, f"idle in the warm pool for only {unused:.0f} s")
    recorded[(kind, name)] = record
    return SweptResource(kind, name, run_id, created, round(unused, 1))


class _LeasedMeanwhile(Exception):
    """A run leased the resource between the sweep's reading and its deletion."""


def _delete_warm(driver: SyncDriver, record: LeaseRecord, run_id: str, hold_seconds: float) -> bool:
    """Take the record's lease (conditional on the record as read), delete the resource as recorded (its
    dead-letter queue with it; prefix and tags checked once more), then forget the record."""
    held = driver.run(take_lease(record, run_id, uuid.uuid4().hex, time.time(), hold_seconds))
    if held is None:
        raise _LeasedMeanwhile
    kind = KINDS[record.kind]
    existed = driver.run(delete_owned(kind, facts_from_dict(kind.facts_type, record.facts)))
    driver.run(forget(held))
    return existed


log = logging.getLogger("sandboxres")
CONNECT_SECONDS = 3.0


def _serves(target: Target, kind: Kind) -> bool:
    """Whether the target has an endpoint for the service of ``kind`` (real AWS and the embedded emulator have
    every one; an external emulator those its endpoint variables set)."""
    try:
        target.endpoint(KINDS[kind].service)
    except ConfigurationError:
        log.info("sweep: no %s on the %s target, %ss are not swept", KINDS[kind].service, target.kind, kind)
        return False
    return True


def _check_reachable(target: Target, kinds: Sequence[Kind]) -> None:
    """ConfigurationError, within seconds, when an emulator endpoint of ``kinds`` refuses connections: the
    listings would otherwise retry it until their deadline."""
    if target.kind == "aws":
        return
    for url in dict.fromkeys(target.endpoints.get(KINDS[kind].service) or "" for kind in kinds):
        if not urlsplit(url).hostname:
            continue
        exc = connection_error(url, timeout=CONNECT_SECONDS)
        if exc is not None:
            raise ConfigurationError(
                f"the emulator at {redact_url(url)} does not answer ({type(exc).__name__}: {exc}): nothing was "
                "swept. Start it (for example `sandboxres emulator`) or point AWS_ENDPOINT_URL at a running one"
            ) from None


def _untagged_bucket(listed: Listed, age_limit: float, now: datetime) -> SweptResource | Ignored:
    """An untagged bucket with the prefix: a candidate only in our exact name format and old enough."""
    name = listed.facts.name
    if not BUCKET.names.generated(name):
        return Ignored("bucket", name, "not the library's: no tags, and not its exact name format")
    created = listed.created
    if not isinstance(created, datetime):
        return Ignored("bucket", name, "not the library's: no tags, and no creation date to judge its age")
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    age = _age(created, now)
    if age < age_limit:
        return Ignored("bucket", name, f"untagged, only {age:.0f} s old")
    stamp = created.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return SweptResource("bucket", name, "", stamp, round(age, 1), untagged=True)


def _describe(exc: BaseException) -> str:
    code = error_code(exc)
    return redact(f"{code}: {exc}" if code != type(exc).__name__ else f"{type(exc).__name__}: {exc}")
