"""The sweeper: find and delete resources a crashed or killed run left behind.

``sweep()`` lists the tables, buckets and queues of the target in force (every page), keeps the names with the
library's prefix, reads their tags and keeps those that carry the library's tags (``sandboxres:managed=true``,
a run id, a creation time), filters them by age (creation-time tag) and/or run id, and -- only with
``dry_run=False`` -- deletes each through :func:`sandboxres._safety.ownership.delete_owned`, which checks prefix and
tags once more and then runs the same delete plans as the context managers (versioned buckets are emptied of
every version; a dead-letter queue is itself a tagged ``test_`` queue). A resource lacking either the prefix
or the tags is never deleted. On ``aws`` the safety guards run first.

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
import re
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import ConfigurationError, SpecError
from sandboxres._engine.naming import BUCKET_PREFIX, QUEUE_PREFIX, Kind, is_generated_bucket_name
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._engine.steps import Call, Plan, RetryPolicy, error_code
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._runtime.table_slots import TABLE_SLOTS
from sandboxres._runtime.target import Target
from sandboxres._safety.ownership import delete_owned, delete_untagged_bucket, looks_ours, ownership, read_tags

KINDS: tuple[Kind, ...] = ("table", "bucket", "queue")
DEFAULT_WORKERS = 8
_LIST = RetryPolicy(deadline=120.0)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE_RE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")

Status = Literal["would delete", "deleted", "gone", "failed"]


@dataclass
class SweptResource:
    """One resource the sweep found (prefix, tags and filters matched) and what became of it."""

    kind: Kind
    name: str
    run_id: str
    created_at: str
    age_seconds: float
    status: Status = "would delete"
    error: str = ""
    untagged: bool = False  # an untagged bucket of our exact name format (``include_untagged``)


@dataclass
class Ignored:
    """A resource with the prefix that the sweep left alone, and why (no tags, too young, other run...)."""

    kind: Kind
    name: str
    reason: str


@dataclass
class SweepProgress:
    """Reported to the ``progress`` callback: ``phase`` is list, inspect or delete; ``done`` of ``total``."""

    phase: Literal["list", "inspect", "delete"]
    done: int
    total: int
    kind: Kind | None = None
    name: str = ""


@dataclass
class SweepReport:
    """The outcome of a sweep. ``found``: resources that matched; ``deleted`` / ``failed`` among them."""

    target: str
    dry_run: bool
    older_than_seconds: float | None
    run_id: str | None
    kinds: list[Kind]
    resources: list[SweptResource] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # listing or inspection failures (nothing deleted)
    untagged: list[SweptResource] = field(default_factory=list)  # include_untagged: listed apart

    @property
    def found(self) -> int:
        return len(self.resources)

    @property
    def deleted(self) -> int:
        return sum(1 for r in self.resources if r.status in ("deleted", "gone"))

    @property
    def failed(self) -> int:
        failures = sum(1 for r in [*self.resources, *self.untagged] if r.status == "failed")
        return failures + len(self.errors)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "dry_run": self.dry_run,
            "older_than_seconds": self.older_than_seconds,
            "run_id": self.run_id,
            "kinds": list(self.kinds),
            "summary": {
                "found": self.found,
                "deleted": self.deleted,
                "failed": self.failed,
                "ignored": len(self.ignored),
            },
            "resources": [asdict(r) for r in self.resources],
            "ignored": [asdict(i) for i in self.ignored],
            "errors": list(self.errors),
            "untagged": [asdict(r) for r in self.untagged],
        }


def parse_age(value: str | float | timedelta | None) -> float | None:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"0s"``, ``"7d"``, ``"2w"``, a number of seconds or a timedelta ->
    seconds; None stays None. SpecError for anything else."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        elif text and _AGE_RE.sub("", text) == "":
            seconds = sum(float(number) * _UNITS[unit] for number, unit in _AGE_RE.findall(text))
        else:
            raise SpecError(
                f"older_than {value!r} is not an age: use a number with a unit s, m, h, d or w "
                "(e.g. 0s, 90m, 2h, 1h30m, 7d)"
            )
    else:
        raise SpecError(f"older_than must be a string such as '2h', seconds or a timedelta, got {value!r}")
    check_duration("older_than", seconds, allow_zero=True)  # NaN would select every resource
    return seconds


def _check_kinds(kinds: Iterable[str] | None) -> list[Kind]:
    if kinds is None:
        return list(KINDS)
    if isinstance(kinds, str):
        kinds = [kinds]
    chosen = list(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen:
        raise SpecError(f"kinds must be among table, bucket, queue, got {list(kinds)!r}")
    return chosen  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------------
# Listing (every page), as plans


def list_tables() -> Plan[list[tuple[str, dict[str, Any]]]]:
    names: list[tuple[str, dict[str, Any]]] = []
    params: dict[str, Any] = {}
    while True:
        page = yield Call("dynamodb", "list_tables", params, _LIST)
        names.extend((name, {}) for name in page.get("TableNames", []))
        last = page.get("LastEvaluatedTableName")
        if not last:
            return names
        params = {"ExclusiveStartTableName": last}


def list_buckets() -> Plan[list[tuple[str, dict[str, Any]]]]:
    names: list[tuple[str, dict[str, Any]]] = []
    params: dict[str, Any] = {"Prefix": BUCKET_PREFIX}
    while True:
        page = yield Call("s3", "list_buckets", params, _LIST)
        for bucket in page.get("Buckets", []):
            names.append(
                (bucket["Name"], {"region": bucket.get("BucketRegion"), "creation_date": bucket.get("CreationDate")})
            )
        token = page.get("ContinuationToken")
        if not token:
            return names
        params = {"Prefix": BUCKET_PREFIX, "ContinuationToken": token}


def list_queues() -> Plan[list[tuple[str, dict[str, Any]]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    params: dict[str, Any] = {"QueueNamePrefix": QUEUE_PREFIX, "MaxResults": 1000}
    while True:
        page = yield Call("sqs", "list_queues", params, _LIST)
        for url in page.get("QueueUrls", []):
            found.append((url.rstrip("/").rsplit("/", 1)[-1], {"url": url}))
        token = page.get("NextToken")
        if not token:
            return found
        params = {"QueueNamePrefix": QUEUE_PREFIX, "MaxResults": 1000, "NextToken": token}


def listing(kind: Kind) -> Plan[list[tuple[str, dict[str, Any]]]]:
    """(name, facts) of every resource of ``kind`` whose name has the library's prefix, all pages."""
    if kind == "table":
        found = yield from list_tables()
    elif kind == "bucket":
        found = yield from list_buckets()
    else:
        found = yield from list_queues()
    return [(name, facts) for name, facts in found if looks_ours(kind, name)]


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


def _other_region(facts: dict[str, Any], target: Target) -> bool:
    region = facts.get("region")
    return bool(region and target.region and region != target.region)


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
    ``"0s"``, seconds or a timedelta); ``run_id``: only that run's; ``kinds``: some of table, bucket, queue.
    ``progress`` receives a :class:`SweepProgress` per listed, inspected and deleted resource. Bad arguments
    raise SpecError before any API call; on ``aws`` a refused guard raises GuardError.
    ``include_untagged``: also buckets of the library's exact name format that carry no tags at all and are
    at least ``older_than`` old by S3's creation date (listed apart in ``report.untagged``; needs
    ``older_than``; never with ``run_id``, which an untagged bucket cannot show).
    """
    from sandboxres._doors.sync import guard_target

    age_limit = parse_age(older_than)
    chosen = _check_kinds(kinds)
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise SpecError(f"run_id must be a non-empty string, got {run_id!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError(f"workers must be a positive integer, got {workers!r}")
    if include_untagged and age_limit is None:
        raise SpecError(
            "include_untagged needs older_than (e.g. '2h'): a younger untagged bucket may be one a running "
            "process is creating right now"
        )

    target = active_target()
    guard_target(target)
    _check_reachable(target, chosen)
    driver = SyncDriver(client_pool(target))
    report = SweepReport(target.kind, dry_run, age_limit, run_id, chosen)
    tell = _Progress(progress)
    now = datetime.now(timezone.utc)

    candidates: list[tuple[Kind, str, dict[str, Any]]] = []
    for kind in chosen:
        try:
            found = driver.run(listing(kind))
        except Exception as exc:
            report.errors.append(f"listing {kind}s failed: {_describe(exc)}")
            continue
        candidates.extend((kind, name, facts) for name, facts in found)
        tell(SweepProgress("list", len(candidates), len(candidates), kind))

    def inspect(item: tuple[Kind, str, dict[str, Any]]) -> SweptResource | Ignored | str | None:
        kind, name, facts = item
        if _other_region(facts, target):
            return Ignored(kind, name, f"in region {facts['region']}, not {target.region}")
        try:
            tags = driver.run(read_tags(kind, name, facts))
        except Exception as exc:
            return f"reading the tags of {kind} {name} failed: {_describe(exc)}"
        if tags is None:
            return None  # gone meanwhile
        verdict = ownership(tags)
        if not verdict.ours and not tags and include_untagged and kind == "bucket" and run_id is None:
            return _untagged_bucket(name, facts, age_limit or 0.0, now)
        if not verdict.ours or verdict.created_at is None or verdict.run_id is None:
            return Ignored(kind, name, f"not the library's: {verdict.problem}")
        age = _age(verdict.created_at, now)
        if run_id is not None and not same_run(verdict.run_id, run_id):
            return Ignored(kind, name, f"run {verdict.run_id}, not {run_id}")
        if age_limit is not None and age < age_limit:
            return Ignored(kind, name, f"only {age:.0f} s old")
        created = verdict.created_at.isoformat().replace("+00:00", "Z")
        return SweptResource(kind, name, verdict.run_id, created, round(age, 1))

    facts_of = {(kind, name): facts for kind, name, facts in candidates}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandboxres-sweep") as pool:
        for done, outcome in enumerate(pool.map(inspect, candidates), start=1):
            kind, name, _ = candidates[done - 1]
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
            slot = TABLE_SLOTS.hold() if resource.kind == "table" else contextlib.nullcontext()
            try:
                with slot:
                    if resource.untagged:
                        existed = driver.run(delete_untagged_bucket(resource.name, facts))
                    else:
                        existed = driver.run(delete_owned(resource.kind, resource.name, facts))
                resource.status = "deleted" if existed else "gone"
            except Exception as exc:
                resource.status, resource.error = "failed", _describe(exc)
            return resource

        doomed = [*report.resources, *report.untagged]
        for done, resource in enumerate(pool.map(delete, doomed), start=1):
            tell(SweepProgress("delete", done, len(doomed), resource.kind, resource.name))
    return report


_SERVICE_OF: dict[Kind, str] = {"table": "dynamodb", "bucket": "s3", "queue": "sqs"}
CONNECT_SECONDS = 3.0


def _check_reachable(target: Target, kinds: Sequence[Kind]) -> None:
    """ConfigurationError, within seconds, when an emulator endpoint of ``kinds`` refuses connections: the
    listings would otherwise retry it until their deadline."""
    if target.kind == "aws":
        return
    for url in dict.fromkeys(target.endpoints.get(_SERVICE_OF[kind]) or "" for kind in kinds):
        split = urlsplit(url)
        if not split.hostname:
            continue
        port = split.port or (443 if split.scheme == "https" else 80)
        try:
            socket.create_connection((split.hostname, port), timeout=CONNECT_SECONDS).close()
        except OSError as exc:
            raise ConfigurationError(
                f"the emulator at {redact_url(url)} does not answer ({type(exc).__name__}: {exc}): nothing was "
                "swept. Start it (for example `sandboxres emulator`) or point AWS_ENDPOINT_URL at a running one"
            ) from None


def _untagged_bucket(name: str, facts: dict[str, Any], age_limit: float, now: datetime) -> SweptResource | Ignored:
    """An untagged bucket with the prefix: a candidate only in our exact name format and old enough."""
    if not is_generated_bucket_name(name):
        return Ignored("bucket", name, "not the library's: no tags, and not its exact name format")
    created = facts.get("creation_date")
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
