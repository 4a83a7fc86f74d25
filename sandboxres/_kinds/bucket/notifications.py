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

import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code, error_message
from sandboxres._engine.errors import AWSCallError, ReadinessTimeoutError, SpecError
from sandboxres._engine.steps import Call, NotReady, Plan, Poll
from sandboxres._engine.wiring import wired
from sandboxres._kinds.queue.access_policy import (
    account_of,
    call_policy,
    grant_send,
    new_sid,
    revoke_send,
    send_statement,
)
from sandboxres._kinds.topic.access_policy import grant_publish, publish_statement, revoke_publish

if TYPE_CHECKING:
    from sandboxres._kinds.bucket.handle import BucketHandle

from sandboxres._kinds.bucket.notification_config import (
    ID_PREFIX,
    S3_PRINCIPAL,
    SID_PURPOSE,
    UNABLE_TO_VALIDATE,
    NotificationRequest,
    configuration_of,
    entries,
    notification_request,
    overlapping,
    with_entry,
    without_entry,
)
from sandboxres._kinds.bucket.test_events import consume_test_events

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
