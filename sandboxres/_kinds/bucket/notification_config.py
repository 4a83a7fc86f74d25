"""S3 event notification configurations, pure: the checks of ``bucket.notify``'s input (SpecError before any
call), the request they make, and the configuration documents (our entry added or taken out, overlaps found as S3
finds them, the destinations the library wired). The plans are in ``notifications``, the ``s3:TestEvent`` in
``test_events``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandboxres._engine.deadlines import helper_timeout
from sandboxres._engine.errors import SpecError
from sandboxres._kinds.queue.handle import QueueHandle
from sandboxres._kinds.topic.handle import TopicHandle

if TYPE_CHECKING:
    from sandboxres._kinds.bucket.handle import BucketHandle

S3_PRINCIPAL = "s3.amazonaws.com"
SID_PURPOSE = "S3Events"
ID_PREFIX = "sandboxres-"
TEST_EVENT = "s3:TestEvent"
UNABLE_TO_VALIDATE = "Unable to validate the following destination configurations"
MAX_KEY_FILTER = 1024  # an object key is at most 1,024 bytes

# The event types S3 publishes to SQS and SNS (botocore's ``Event`` enum; tests compare the two).
S3_EVENTS = frozenset(
    {
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
    }
)

_SECTIONS = {"queue": ("QueueConfigurations", "QueueArn"), "topic": ("TopicConfigurations", "TopicArn")}
_ARN_KEYS = {
    "QueueConfigurations": "QueueArn",
    "TopicConfigurations": "TopicArn",
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
}


# -- the checks and the configuration documents (pure) -----------------------------------------------------------


def check_events(events: object) -> tuple[str, ...]:
    """The event names, each once, in the given order; SpecError for anything else."""
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise SpecError(
            f'events must be a list or tuple of S3 event names (e.g. ("s3:ObjectCreated:*",)), got {events!r}'
        )
    names = list(events)
    if not names:
        raise SpecError("events must name at least one S3 event (e.g. s3:ObjectCreated:*)")
    unknown = [name for name in names if name not in S3_EVENTS]
    if unknown:
        raise SpecError(f"unknown S3 event names {unknown!r}; known ones: {', '.join(sorted(S3_EVENTS))}")
    return tuple(dict.fromkeys(names))


def check_key_filter(what: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SpecError(f"{what} must be a non-empty string (or None for every key), got {value!r}")
    if len(value.encode()) > MAX_KEY_FILTER:
        raise SpecError(f"{what} is longer than an object key can be ({MAX_KEY_FILTER} bytes)")
    return value


@dataclass(frozen=True)
class NotificationRequest:
    """A checked ``notify`` call."""

    bucket: str
    bucket_arn: str
    kind: str  # "queue" or "topic"
    target_name: str
    target_arn: str
    target_url: str | None  # a queue's
    events: tuple[str, ...]
    prefix: str | None
    suffix: str | None
    timeout: float

    def entry(self, entry_id: str) -> dict[str, Any]:
        """Our entry of the configuration."""
        entry: dict[str, Any] = {"Id": entry_id, _SECTIONS[self.kind][1]: self.target_arn, "Events": list(self.events)}
        rules = [
            {"Name": n, "Value": v} for n, v in (("prefix", self.prefix), ("suffix", self.suffix)) if v is not None
        ]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        return entry


def notification_request(
    bucket: BucketHandle[Any, Any],
    target: object,
    events: object,
    prefix: object,
    suffix: object,
    timeout: float | None,
) -> NotificationRequest:
    """Check every argument of ``bucket.notify`` (SpecError, before any call)."""
    kind_of_target = bucket.context.target_kind if bucket.context is not None else "aws"
    deadline = helper_timeout(kind_of_target, timeout)
    checked_events = check_events(events)
    checked_prefix = check_key_filter("prefix", prefix)
    checked_suffix = check_key_filter("suffix", suffix)
    if isinstance(target, QueueHandle):
        kind, url = "queue", target.url
        if not target.arn or not target.url:
            raise SpecError(f"the queue {target.name!r} has no ARN or URL: give a queue handle sandboxres made")
    elif isinstance(target, TopicHandle):
        kind, url = "topic", None
    else:
        raise SpecError(f"notify sends to a queue or a topic handle (ephemeral_queue, ephemeral_topic), got {target!r}")
    if target.name.endswith(".fifo"):
        raise SpecError(f"S3 event notifications cannot go to a FIFO {kind} ({target.name}): use a standard one")
    return NotificationRequest(
        bucket.name,
        bucket.arn,
        kind,
        target.name,
        target.arn,
        url,
        checked_events,
        checked_prefix,
        checked_suffix,
        deadline,
    )


def configuration_of(response: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a GetBucketNotificationConfiguration answered, as PutBucketNotificationConfiguration
    takes it."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def entries(configuration: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(section, entry) for every queue, topic and function entry."""
    return [(section, entry) for section in _ARN_KEYS for entry in configuration.get(section) or []]


def _filter_values(entry: Mapping[str, Any]) -> tuple[str, str]:
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    values = {str(rule.get("Name", "")).lower(): str(rule.get("Value", "")) for rule in rules}
    return values.get("prefix", ""), values.get("suffix", "")


def _events_overlap(first: Iterable[str], second: Iterable[str]) -> bool:
    def covers(a: str, b: str) -> bool:
        return a == b or (a.endswith(":*") and b.startswith(a[:-1]))

    return any(covers(a, b) or covers(b, a) for a in first for b in second)


def overlapping(configuration: Mapping[str, Any], request: NotificationRequest) -> str | None:
    """The Id of an entry S3 would find ambiguous with ours (events overlapping, prefixes overlapping and suffixes
    overlapping), or None."""
    prefix, suffix = request.prefix or "", request.suffix or ""
    for _section, entry in entries(configuration):
        other_prefix, other_suffix = _filter_values(entry)
        if not _events_overlap(request.events, entry.get("Events") or []):
            continue
        if (prefix.startswith(other_prefix) or other_prefix.startswith(prefix)) and (
            suffix.endswith(other_suffix) or other_suffix.endswith(suffix)
        ):
            return str(entry.get("Id") or "(no Id)")
    return None


def with_entry(configuration: Mapping[str, Any], request: NotificationRequest, entry_id: str) -> dict[str, Any]:
    section = _SECTIONS[request.kind][0]
    merged = dict(configuration)
    merged[section] = [*(configuration.get(section) or []), request.entry(entry_id)]
    return merged


def without_entry(configuration: Mapping[str, Any], entry_id: str) -> dict[str, Any] | None:
    """The configuration without the entry ``entry_id``; None when it has no such entry."""
    if not any(entry.get("Id") == entry_id for _section, entry in entries(configuration)):
        return None
    trimmed = dict(configuration)
    for section in _ARN_KEYS:
        if section in trimmed:
            kept = [entry for entry in trimmed[section] or [] if entry.get("Id") != entry_id]
            if kept:
                trimmed[section] = kept
            else:
                del trimmed[section]
    return trimmed


def wired_destinations(configuration: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The queue ARNs and topic ARNs of the library's entries (``Id`` ``sandboxres-...``), each once."""
    queues: dict[str, None] = {}
    topics: dict[str, None] = {}
    for section, entry in entries(configuration):
        if not str(entry.get("Id", "")).startswith(ID_PREFIX):
            continue
        if section == "QueueConfigurations":
            queues[str(entry["QueueArn"])] = None
        elif section == "TopicConfigurations":
            topics[str(entry["TopicArn"])] = None
    return list(queues), list(topics)
