"""The ``s3:TestEvent`` S3 sends to every destination when a bucket's notification configuration is written:
found (as sent to a queue, or in an SNS envelope), received by long polling and deleted from every queue the
library wired, so that a test never sees it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import ReadinessTimeoutError
from sandboxres._engine.steps import Call, NotReady, Plan, Poll
from sandboxres._kinds.bucket.notification_config import TEST_EVENT, NotificationRequest, wired_destinations
from sandboxres._kinds.queue.access_policy import account_of, call_policy
from sandboxres._kinds.topic.subscriptions import SubscribedQueue, subscribed_queues


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
