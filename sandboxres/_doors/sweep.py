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
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import ConfigurationError, SpecError
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._kinds import KINDS, Listed
from sandboxres._kinds.bucket import BUCKET
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
    ``"0s"``, seconds or a timedelta); ``run_id``: only that run's; ``kinds``: some of table, bucket, queue.
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

    target = active_target()
    guard_target(target)
    _check_reachable(target, chosen)
    driver = SyncDriver(client_pool(target))
    report = SweepReport(target.kind, dry_run, age_limit, run_id, chosen)
    tell = _Progress(progress)
    now = datetime.now(timezone.utc)

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
        if age_limit is not None and age < age_limit:
            return Ignored(kind, name, f"only {age:.0f} s old")
        created = verdict.created_at.isoformat().replace("+00:00", "Z")
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
                    else:
                        existed = driver.run(delete_owned(kind, facts))
                resource.status = "deleted" if existed else "gone"
            except Exception as exc:
                resource.status, resource.error = "failed", _describe(exc)
            return resource

        doomed = [*report.resources, *report.untagged]
        for done, resource in enumerate(pool.map(delete, doomed), start=1):
            tell(SweepProgress("delete", done, len(doomed), resource.kind, resource.name))
    return report


CONNECT_SECONDS = 3.0


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
