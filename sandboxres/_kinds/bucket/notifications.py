"""S3 event notifications the way AWS delivers them: ``bucket.notify(target, events, prefix, suffix)``.

1. The input is checked (SpecError, before any call): a queue or topic handle (not FIFO: S3 does not deliver to
   FIFO queues or topics), known event names, prefix and suffix.
2. The bucket's notification configuration is read; a new entry whose events and key filter overlap an entry there
   is refused as S3 refuses it ("Configuration is ambiguously defined"), before any change.
3. A :class:`~sandboxres._engine.wiring.Wiring` is registered with the bucket and the target; the first of them to
   end undoes it.
4. The target's policy gets a statement of ours: ``s3.amazonaws.com`` may ``sqs:SendMessage`` (a queue) or
   ``sns:Publish`` (a topic) for this bucket only (``aws:SourceArn``, and ``aws:SourceAccount`` = the target's
   account). S3 refuses the configuration without it ("Unable to validate the following destination
   configurations"); emulators accept it.
5. ``PutBucketNotificationConfiguration`` with the entries already there plus ours (``Id``: ``sandboxres-...``),
   retried while S3 cannot validate a destination yet (a policy just written takes a moment to apply on AWS).
6. Every PUT makes S3 send an ``s3:TestEvent`` to each queue and topic of the configuration: it is received (long
   polling) and deleted from every queue the library wired (our entries' queues, and the queues subscribed
   through ``topic.subscribe`` to our entries' topics, unless a filter policy keeps it out), so a test never
   sees it. Other messages met meanwhile stay in their queue (received with a visibility timeout of 0: it counts
   as a receive for a redrive policy's ``maxReceiveCount``).

It returns the entry's Id. The undoing: the configuration without our entry (the test events that PUT sends to the
library's other queues are consumed, without failing the undoing when one does not come), then our statement out
of the target's policy. A bucket, queue or topic already gone counts as undone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code, error_message
from sandboxres._engine.deadlines import helper_timeout
from sandboxres._engine.errors import AWSCallError, ReadinessTimeoutError, SpecError
from sandboxres._engine.steps import Call, NotReady, Plan, Poll
from sandboxres._kinds.queue.access_policy import (
    account_of,
    call_policy,
    grant_send,
    new_sid,
    revoke_send,
    send_statement,
)
from sandboxres._kinds.queue.handle import QueueHandle
from sandboxres._kinds.topic.access_policy import grant_publish, publish_statement, revoke_publish
from sandboxres._kinds.topic.handle import TopicHandle
from sandboxres._kinds.topic.subscriptions import SubscribedQueue, subscribed_queues, wired

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


def find_test_events(messages: Sequence[Mapping[str, Any]], bucket: str) -> list[Mapping[str, Any]]:
    """The messages that are this bucket's ``s3:TestEvent``: as S3 sends it to a queue, or wrapped in an SNS
    envelope (a topic's subscription without raw delivery)."""
    found = []
    for message in messages:
        try:
            body = json.loads(str(message.get("Body", "")))
            if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
                body = json.loads(str(body["Message"]))
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("Event") == TEST_EVENT and body.get("Bucket") == bucket:
            found.append(message)
    return found


# -- the plans ----------------------------------------------------------------------------------------------------


def notify(
    bucket: BucketHandle[Any, Any],
    target: object,
    events: object = ("s3:ObjectCreated:*",),
    prefix: object = None,
    suffix: object = None,
    timeout: float | None = None,
) -> Plan[str]:
    """The plan of ``bucket.notify`` (see the module's docstring); checks its input at once."""
    request = notification_request(bucket, target, events, prefix, suffix, timeout)
    contexts = (bucket.context, getattr(target, "context", None))
    entry_id = f"{ID_PREFIX}{uuid.uuid4().hex[:16]}"
    sid = new_sid(SID_PURPOSE)
    what = f"notification of bucket {request.bucket} to {request.kind} {request.target_name}"
    return wired(what, lambda: denotify(request, entry_id, sid), contexts, _notify(request, entry_id, sid))


def _read_configuration(request: NotificationRequest) -> Plan[dict[str, Any]]:
    params = {"Bucket": request.bucket}
    response = yield Call("s3", "get_bucket_notification_configuration", params, call_policy(request.timeout))
    return configuration_of(response)


def _refused(bucket: str, patient: bool) -> Callable[[BaseException], BaseException]:
    """What a refused PUT means: "Unable to validate" is polled again when ``patient`` (a destination's policy
    just written takes a moment to apply on AWS); anything else is final."""

    def meaning(exc: BaseException) -> BaseException:
        message = error_message(exc)
        if patient and UNABLE_TO_VALIDATE.lower() in message.lower():
            return NotReady("S3 cannot validate the destination yet")
        if UNABLE_TO_VALIDATE.lower() in message.lower():
            message += (
                " (a destination left in the configuration, not ours, is gone or its policy no longer lets S3 "
                "send: our entry stays until the bucket is deleted)"
            )
        return AWSCallError(f"bucket {bucket}", "PutBucketNotificationConfiguration", error_code(exc), message)

    return meaning


def _put_configuration(request: NotificationRequest, configuration: Mapping[str, Any], *, patient: bool) -> Plan[None]:
    params = {"Bucket": request.bucket, "NotificationConfiguration": dict(configuration)}
    try:
        yield Poll(
            Call("s3", "put_bucket_notification_configuration", params, call_policy(request.timeout)),
            lambda response: None,
            f"the notification configuration of bucket {request.bucket}",
            request.timeout,
            {"InvalidArgument": _refused(request.bucket, patient)},
        )
    except ReadinessTimeoutError as exc:
        raise AWSCallError(
            f"bucket {request.bucket}",
            "PutBucketNotificationConfiguration",
            "InvalidArgument",
            f"{UNABLE_TO_VALIDATE} for {exc.waited:.1f} s: a destination's policy does not let S3 send there "
            "(every destination of the configuration is checked, not only ours). Raise timeout= if the policy was "
            "just written, or fix the other destinations' policies",
        ) from None


def _grant(request: NotificationRequest, sid: str) -> Plan[None]:
    account = account_of(request.target_arn)
    if request.kind == "queue":
        assert request.target_url is not None
        statement = send_statement(sid, S3_PRINCIPAL, request.target_arn, request.bucket_arn, account)
        yield from grant_send(request.target_url, statement, request.timeout, f"queue {request.target_name}")
    else:
        statement = publish_statement(sid, S3_PRINCIPAL, request.target_arn, request.bucket_arn, account)
        yield from grant_publish(request.target_arn, statement, request.timeout, f"topic {request.target_name}")


def _revoke(request: NotificationRequest, sid: str) -> Plan[None]:
    if request.kind == "queue":
        assert request.target_url is not None
        yield from revoke_send(request.target_url, sid, request.timeout, f"queue {request.target_name}")
    else:
        yield from revoke_publish(request.target_arn, sid, request.timeout, f"topic {request.target_name}")


def _notify(request: NotificationRequest, entry_id: str, sid: str) -> Plan[str]:
    configuration = yield from _read_configuration(request)
    other = overlapping(configuration, request)
    if other is not None:
        raise SpecError(
            f"bucket {request.bucket}: its notification entry {other} already covers these events for keys this "
            "one would match too; S3 refuses overlapping entries (Configuration is ambiguously defined): give "
            "each notify its own prefix or suffix, or events that do not overlap"
        )
    yield from _grant(request, sid)
    for _ in range(3):  # a concurrent notify on the same bucket may replace ours: merge again
        merged = with_entry(configuration, request, entry_id)
        yield from _put_configuration(request, merged, patient=True)
        configuration = yield from _read_configuration(request)
        if any(entry.get("Id") == entry_id for _section, entry in entries(configuration)):
            break
    else:
        raise AWSCallError(
            f"bucket {request.bucket}",
            "PutBucketNotificationConfiguration",
            "ConcurrentModification",
            "its notification configuration kept changing under us: set notifications on one bucket one at a time",
        )
    yield from consume_test_events(request, merged, required=True)
    return entry_id


def denotify(request: NotificationRequest, entry_id: str, sid: str) -> Plan[None]:
    """Our entry out of the configuration (the test events this sends to the library's other queues consumed),
    then our statement out of the target's policy; each even when the other failed."""
    pending: Exception | None = None
    try:
        configuration = yield from _read_configuration(request)
        rest = without_entry(configuration, entry_id)
        if rest is not None:
            yield from _put_configuration(request, rest, patient=False)
            yield from consume_test_events(request, rest, required=False)
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucket":
            pending = exc
    except Exception as exc:
        pending = exc
    yield from _revoke(request, sid)
    if pending is not None:
        raise pending


# -- the s3:TestEvent -------------------------------------------------------------------------------------------


def _long_poll(timeout: float) -> int:
    """A long poll's wait: a few per deadline, 1 to 20 s (SQS's maximum)."""
    return max(1, min(20, int(timeout / 3)))


def _judge(bucket: str) -> Any:
    def judge(response: Any) -> list[Mapping[str, Any]]:
        messages = response.get("Messages") or []
        found = find_test_events(messages, bucket)
        if not found:
            raise NotReady(f"no s3:TestEvent of bucket {bucket} yet ({len(messages)} other message(s) received)")
        return found

    return judge


def consume_test_event(queue_url: str, queue_name: str, bucket: str, timeout: float) -> Plan[int]:
    """Receive (long polling, visibility timeout 0: other messages stay where they are) until the bucket's
    ``s3:TestEvent`` comes, then delete it; how many were deleted. ReadinessTimeoutError when none came."""
    policy = call_policy(timeout)
    receive = {
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": 10,
        "WaitTimeSeconds": _long_poll(timeout),
        "VisibilityTimeout": 0,
    }
    try:
        found = yield Poll(
            Call("sqs", "receive_message", receive, policy),
            _judge(bucket),
            f"queue {queue_name}",
            timeout,
        )
    except ReadinessTimeoutError as exc:
        raise ReadinessTimeoutError(
            f"queue {queue_name}",
            exc.waited,
            f"{exc.last_status}; S3 sends one to each destination when a bucket's notification configuration is "
            "set, seconds later at most on AWS",
        ) from None
    for message in found:
        try:
            yield Call(
                "sqs", "delete_message", {"QueueUrl": queue_url, "ReceiptHandle": message["ReceiptHandle"]}, policy
            )
        except ClientError as exc:
            if error_code(exc) not in {"ReceiptHandleIsInvalid", "InvalidParameterValue"}:
                raise
    return len(found)


def _queue_url(queue_arn: str, timeout: float) -> Plan[str | None]:
    lookup: dict[str, Any] = {"QueueName": queue_arn.split(":")[5]}
    account = account_of(queue_arn)
    if account:
        lookup["QueueOwnerAWSAccountId"] = account
    try:
        response = yield Call("sqs", "get_queue_url", lookup, call_policy(timeout))
    except ClientError as exc:
        if error_code(exc) == "QueueDoesNotExist":
            return None
        raise
    return str(response["QueueUrl"])


def consume_test_events(
    request: NotificationRequest, configuration: Mapping[str, Any], *, required: bool
) -> Plan[None]:
    """The ``s3:TestEvent`` a PUT of ``configuration`` sent, out of every queue the library wired: the queues of
    its entries, and the queues subscribed (through ``subscribe``, unfiltered) to the topics of its entries.
    ``required``: a test event that does not come is an error (else it is let go)."""
    queue_arns, topic_arns = wired_destinations(configuration)
    targets: list[tuple[str, str]] = []  # (url, name)
    for queue_arn in queue_arns:
        if queue_arn == request.target_arn and request.target_url is not None:
            targets.append((request.target_url, request.target_name))
            continue
        url = yield from _queue_url(queue_arn, request.timeout)
        if url is not None:
            targets.append((url, queue_arn.split(":")[5]))
    for topic_arn in topic_arns:
        subscribed: list[SubscribedQueue] = yield from subscribed_queues(topic_arn, request.timeout)
        targets.extend((queue.url, queue.name) for queue in subscribed)
    for url, name in dict.fromkeys(targets):
        try:
            yield from consume_test_event(url, name, request.bucket, request.timeout)
        except (ReadinessTimeoutError, ClientError):
            if required:
                raise
