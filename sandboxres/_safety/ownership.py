"""Whether a resource found by name belongs to this library: its prefix AND its tags, read from the service.

A resource this process created is deleted by name (each kind's delete plan refuses names without the prefix).
Anything else -- what the sweeper finds by listing -- is deleted only through :func:`delete_owned`, which
reads the resource's tags first and refuses unless they carry ``sandboxres:managed=true``, a run id and a
valid creation time. Tag reads are plan steps too, so the sync and async drivers can run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sandboxres._engine.errors import ForeignResourceError
from sandboxres._engine.plans import DELETE_DEADLINE, TAG_CREATED, TAG_MANAGED, TAG_RUN_ID, Progress, label_of
from sandboxres._engine.steps import Plan
from sandboxres._kinds import AnyKind, Facts
from sandboxres._kinds.bucket import BUCKET


@dataclass(frozen=True)
class Ownership:
    """What the tags of a resource say: ``run_id`` and ``created_at`` when it is ours, else ``problem``."""

    run_id: str | None = None
    created_at: datetime | None = None
    problem: str | None = None

    @property
    def ours(self) -> bool:
        return self.problem is None


def parse_created_at(value: str) -> datetime | None:
    """The ``sandboxres:created-at`` tag (``2024-05-01T12:00:00Z``) as an aware datetime, or None."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def ownership(tags: Mapping[str, str]) -> Ownership:
    """Judge a resource by its tags: all three library tags, with valid values, make it ours."""
    if tags.get(TAG_MANAGED) != "true":
        return Ownership(problem=f"it lacks the tag {TAG_MANAGED}=true")
    run_id = tags.get(TAG_RUN_ID, "").strip()
    if not run_id:
        return Ownership(problem=f"it lacks the tag {TAG_RUN_ID}")
    created = parse_created_at(tags.get(TAG_CREATED, ""))
    if created is None:
        return Ownership(problem=f"it lacks a valid {TAG_CREATED} tag")
    return Ownership(run_id=run_id, created_at=created)


def delete_owned(kind: AnyKind, facts: Facts) -> Plan[bool]:
    """Delete a resource this process did not create, only when prefix and tags say it is ours.

    Returns True when it was deleted, False when it was already gone; raises ForeignResourceError (before
    any deleting call) for a resource without the prefix or the tags.
    """
    kind.names.check_own(facts.name)
    tags = yield from kind.read_tags(facts)
    if tags is None:
        return False
    verdict = ownership(tags)
    if not verdict.ours:
        raise ForeignResourceError(label_of(kind.name, facts.name), f"not deleted: {verdict.problem} of this library")
    yield from kind.delete(facts, Progress(), DELETE_DEADLINE)
    return True


def delete_untagged_bucket(found: Facts) -> Plan[bool]:
    """Delete a bucket of this library's exact name format that carries no tags at all (created, then the
    process was killed before it was tagged, on an endpoint that ignores tags in CreateBucket). The sweeper
    offers it only on an explicit opt-in and past an age. Tags read again right before: a bucket with any
    tag that is not ours is refused (before any deleting call). Returns False when it was already gone."""
    name = found.name
    facts = BUCKET.named(name)
    BUCKET.names.check_own(name)
    if not BUCKET.names.generated(name):
        raise ForeignResourceError(label_of("bucket", name), "not deleted: not this library's exact name format")
    tags = yield from BUCKET.read_tags(facts)
    if tags is None:
        return False
    if tags and not ownership(tags).ours:
        raise ForeignResourceError(label_of("bucket", name), "not deleted: it carries tags that are not ours")
    yield from BUCKET.delete(facts, Progress(), DELETE_DEADLINE)
    return True
