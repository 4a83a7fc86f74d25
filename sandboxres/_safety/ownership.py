"""Whether a resource found by name belongs to this library: its prefix AND its tags, read from the service.

A resource this process created is deleted by name (``_plans.delete_plan`` refuses names without the prefix).
Anything else -- what the sweeper finds by listing -- is deleted only through :func:`delete_owned`, which
reads the resource's tags first and refuses unless they carry ``sandboxres:managed=true``, a run id and a
valid creation time. Tag reads are plan steps too, so the sync and async drivers can run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.errors import ForeignResourceError
from sandboxres._engine.naming import Kind, has_prefix, is_generated_bucket_name
from sandboxres._engine.plans import TAG_CREATED, TAG_MANAGED, TAG_RUN_ID, check_own_name, delete_plan, label_of
from sandboxres._engine.steps import Call, Plan, RetryPolicy, error_code

_READ = RetryPolicy(deadline=60.0)
_GONE = frozenset({"ResourceNotFoundException", "NoSuchBucket", "404", "QueueDoesNotExist"})
_NO_TAGS = frozenset({"NoSuchTagSet", "NoSuchTagSetError"})


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


def _tag_dict(pairs: Any, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {str(pair[key]): str(pair.get(value, "")) for pair in pairs or []}


def read_tags(kind: Kind, name: str, facts: Mapping[str, Any]) -> Plan[dict[str, str] | None]:
    """The tags of the resource (``{}`` when it has none), or None when it does not exist (anymore)."""
    try:
        if kind == "table":
            described = yield Call("dynamodb", "describe_table", {"TableName": name}, _READ)
            arn = described["Table"]["TableArn"]
            tags: dict[str, str] = {}
            params: dict[str, Any] = {"ResourceArn": arn}
            while True:
                page = yield Call("dynamodb", "list_tags_of_resource", params, _READ)
                tags.update(_tag_dict(page.get("Tags")))
                if not page.get("NextToken"):
                    return tags
                params = {"ResourceArn": arn, "NextToken": page["NextToken"]}
        if kind == "bucket":
            try:
                response = yield Call("s3", "get_bucket_tagging", {"Bucket": name}, _READ)
            except ClientError as exc:
                if error_code(exc) in _NO_TAGS:
                    return {}
                raise
            return _tag_dict(response.get("TagSet"))
        url = facts.get("url")
        if not url:
            response = yield Call("sqs", "get_queue_url", {"QueueName": name}, _READ)
            url = response["QueueUrl"]
        response = yield Call("sqs", "list_queue_tags", {"QueueUrl": url}, _READ)
        return {str(k): str(v) for k, v in (response.get("Tags") or {}).items()}
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise


def delete_owned(kind: Kind, name: str, facts: Mapping[str, Any]) -> Plan[bool]:
    """Delete a resource this process did not create, only when prefix and tags say it is ours.

    Returns True when it was deleted, False when it was already gone; raises ForeignResourceError (before
    any deleting call) for a resource without the prefix or the tags.
    """
    check_own_name(kind, name)
    tags = yield from read_tags(kind, name, facts)
    if tags is None:
        return False
    verdict = ownership(tags)
    if not verdict.ours:
        raise ForeignResourceError(label_of(kind, name), f"not deleted: {verdict.problem} of this library")
    yield from delete_plan(kind, name, facts)
    return True


def delete_untagged_bucket(name: str, facts: Mapping[str, Any]) -> Plan[bool]:
    """Delete a bucket of this library's exact name format that carries no tags at all (created, then the
    process was killed before it was tagged, on an endpoint that ignores tags in CreateBucket). The sweeper
    offers it only on an explicit opt-in and past an age. Tags read again right before: a bucket with any
    tag that is not ours is refused (before any deleting call). Returns False when it was already gone."""
    check_own_name("bucket", name)
    if not is_generated_bucket_name(name):
        raise ForeignResourceError(label_of("bucket", name), "not deleted: not this library's exact name format")
    tags = yield from read_tags("bucket", name, facts)
    if tags is None:
        return False
    if tags and not ownership(tags).ours:
        raise ForeignResourceError(label_of("bucket", name), "not deleted: it carries tags that are not ours")
    yield from delete_plan("bucket", name, facts)
    return True


def looks_ours(kind: Kind, name: str) -> bool:
    """The cheap first filter of a listing: the name carries this library's prefix (case-sensitive)."""
    return has_prefix(kind, name)
