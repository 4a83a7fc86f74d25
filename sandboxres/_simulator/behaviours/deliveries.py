"""Simulated behaviours: deliveries into queues by S3 event notifications and SNS (late, refused without the
queue policy AWS requires, and the ``s3:TestEvent`` message)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.behaviours.s3_notifications import (
    NotificationRefused,
    destinations,
    queue_message_count,
    refused_destinations,
    send_test_event,
)
from sandboxres._simulator.behaviours.sqs_policy import allows
from sandboxres._simulator.behaviours.sqs_support import (
    DecidingRule,
    decision_of,
    queue_url,
    region_of,
    upstream_client,
)
from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import Action, ProxyRequest, Reply, ResetType
from sandboxres._simulator.proxy import send_upstream
from sandboxres._simulator.rules import Rule

S3_NOTIFICATIONS_SOURCE = "Amazon S3 User Guide, 'Amazon S3 Event Notifications'"


def delivered_by(body: str) -> str | None:
    """ "s3" or "sns" when a message body is an S3 event, the S3 test event or an SNS envelope."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    if document.get("Event") == "s3:TestEvent":
        return "s3"
    records = document.get("Records")
    if isinstance(records, list) and any(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records):
        return "s3"
    if document.get("Type") == "Notification" and "TopicArn" in document:
        return "sns"
    return None


def _delete_or_release(upstream_url: str, url: str, messages: list[dict[str, Any]], *, delete: bool) -> None:
    """Delete the messages upstream, or make them visible again at once."""
    sqs = upstream_client(upstream_url, "sqs")
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        if delete:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        else:
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(batch)
            ]
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def _with_messages(reply: Reply, document: dict[str, Any], messages: list[dict[str, Any]]) -> Reply:
    if messages:
        document["Messages"] = messages
    else:
        document.pop("Messages", None)
    return reply.with_json(document)


# -- delivery_delay ---------------------------------------------------------------------------------------------


class HideFreshDeliveries(Fault):
    """On a ReceiveMessage (JSON protocol): messages S3 or SNS delivered less than ``seconds`` ago are taken out
    of the reply and made visible again upstream at once; a long poll waits for them (within its WaitTimeSeconds).
    ``SentTimestamp`` is asked for, and taken out of the reply when the client did not ask for it."""

    def __init__(self, seconds: float, upstream_url: str) -> None:
        self.seconds = seconds
        self.upstream_url = upstream_url

    @property
    def label(self) -> str:
        return "deliveries: not yet"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        state = decision_of(trigger)
        document = json.loads(request.body or b"{}")
        asked = [*document.get("AttributeNames", []), *document.get("MessageSystemAttributeNames", [])]
        if "All" not in asked and "SentTimestamp" not in asked:
            document["MessageSystemAttributeNames"] = [
                *document.get("MessageSystemAttributeNames", []),
                "SentTimestamp",
            ]
            request.body = json.dumps(document).encode()
            request.params = document
            state["strip"] = True
        wait = document.get("WaitTimeSeconds")
        state["deadline"] = time.monotonic() + (int(wait) if isinstance(wait, int) else 0)
        return None

    def _due(self, message: dict[str, Any]) -> float | None:
        """When a delivered message becomes receivable (epoch seconds); None for any other message."""
        if delivered_by(str(message.get("Body", ""))) is None:
            return None
        sent = (message.get("Attributes") or {}).get("SentTimestamp")
        try:
            return int(str(sent)) / 1000.0 + self.seconds
        except (TypeError, ValueError):
            return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        state = decision_of(trigger)
        url = queue_url(request)
        while True:
            document = reply.json()
            if reply.status != 200 or document is None or url is None:
                return reply
            keep: list[dict[str, Any]] = []
            hidden: list[dict[str, Any]] = []
            now = time.time()
            for message in document.get("Messages") or []:
                due = self._due(message)
                (hidden if due is not None and due > now else keep).append(message)
            if hidden:
                _delete_or_release(self.upstream_url, url, hidden, delete=False)
            left = state["deadline"] - time.monotonic()
            if keep or not hidden or left <= 0:
                break
            # A long poll: wait for the first hidden delivery to become receivable, then ask again.
            earliest = min(due for due in map(self._due, hidden) if due is not None)
            time.sleep(max(0.0, min(earliest - time.time(), left)))
            again = json.loads(request.body)
            again["WaitTimeSeconds"] = max(0, int(state["deadline"] - time.monotonic()))
            request.body = json.dumps(again).encode()
            reply = send_upstream(self.upstream_url, request)
        if state.get("strip"):
            for message in keep:
                attributes = message.get("Attributes") or {}
                attributes.pop("SentTimestamp", None)
                if not attributes:
                    message.pop("Attributes", None)
        return _with_messages(reply, document, keep)


def _delivery_delay(ctx: Context) -> Sequence[Rule]:
    return [
        DecidingRule(
            HideFreshDeliveries(ctx.seconds("seconds"), ctx.upstream_url),
            lambda request: {} if request.protocol == "json" else None,
            service="sqs",
            operations="ReceiveMessage",
            name="delivery_delay",
        )
    ]


# -- delivery_policy --------------------------------------------------------------------------------------------


class RefuseNotification(Fault):
    """Answer the refusal (the trigger's decision: the destinations S3 could not validate)."""

    def __init__(self) -> None:
        self.error = NotificationRefused()

    @property
    def label(self) -> str:
        return self.error.label

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return self.error.refuse(request, decision_of(trigger))


class UndeliverableSns:
    """The SNS deliveries the queues' policies refuse: found at Publish, dropped from the queue when received."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url
        self._lock = threading.Lock()
        self._pending: dict[str, set[tuple[str, str]]] = {}  # queue name -> ("id", SNS MessageId) / ("body", raw)

    def refused_queues(self, request: ProxyRequest) -> list[tuple[str, bool]] | None:
        """At a Publish: the (queue name, raw delivery) of each SQS subscription whose queue refuses the topic."""
        topic = request.params.get("TopicArn") or request.params.get("TargetArn")
        if not isinstance(topic, str):
            return None
        region = region_of(topic)
        sns = upstream_client(self.upstream_url, "sns", region)
        sqs = upstream_client(self.upstream_url, "sqs", region)
        refused: list[tuple[str, bool]] = []
        try:
            subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])
            for subscription in subscriptions:
                if subscription.get("Protocol") != "sqs":
                    continue
                queue_arn = subscription["Endpoint"]
                name = queue_arn.split(":")[5]
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
                policy = (
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                    .get("Attributes", {})
                    .get("Policy")
                )
                context = {"aws:SourceArn": topic, "aws:SourceAccount": topic.split(":")[4]}
                if allows(
                    policy, service="sns.amazonaws.com", action="sqs:SendMessage", resource=queue_arn, context=context
                ):
                    continue
                attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
                raw = attributes.get("Attributes", {}).get("RawMessageDelivery", "false").lower() == "true"
                refused.append((name, raw))
        except Exception:  # the topic or a queue is gone: nothing to drop
            return None
        return refused or None

    def published(self, request: ProxyRequest, reply: Reply, refused: list[tuple[str, bool]]) -> None:
        found = re.search(rb"<MessageId>([^<]+)</MessageId>", reply.body)
        if reply.status != 200 or found is None:
            return
        message_id = found.group(1).decode()
        with self._lock:
            for name, raw in refused:
                key = ("body", str(request.params.get("Message", ""))) if raw else ("id", message_id)
                self._pending.setdefault(name, set()).add(key)

    def has_pending(self, request: ProxyRequest) -> bool | None:
        with self._lock:
            return True if request.protocol == "json" and self._pending.get(request.resource or "") else None

    def drop(self, request: ProxyRequest, reply: Reply) -> Reply:
        document = reply.json()
        url = queue_url(request)
        name = request.resource or ""
        if reply.status != 200 or document is None or url is None:
            return reply
        keep: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        with self._lock:
            pending = self._pending.get(name, set())
            for message in document.get("Messages") or []:
                body = str(message.get("Body", ""))
                key = ("body", body)
                if delivered_by(body) == "sns":
                    key = ("id", str(json.loads(body).get("MessageId")))
                if key in pending:
                    pending.discard(key)
                    dropped.append(message)
                else:
                    keep.append(message)
            if not pending:
                self._pending.pop(name, None)
        if not dropped:
            return reply
        _delete_or_release(self.upstream_url, url, dropped, delete=True)
        return _with_messages(reply, document, keep)


class _AfterUpstream(Fault):
    def __init__(self, label: str, after: Any) -> None:
        self._label = label
        self._after = after

    @property
    def label(self) -> str:
        return self._label

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        result: Reply = self._after(request, reply, trigger)
        return result


def _delivery_policy(ctx: Context) -> Sequence[Rule]:
    undeliverable = UndeliverableSns(ctx.upstream_url)

    def published(request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply:
        undeliverable.published(request, reply, decision_of(trigger))
        return reply

    return [
        DecidingRule(
            RefuseNotification(),
            lambda request: refused_destinations(ctx.upstream_url, request) or None,
            service="s3",
            operations="PutBucketNotificationConfiguration",
            name="delivery_policy: S3 notifications",
        ),
        DecidingRule(
            _AfterUpstream("SNS deliveries refused by the queue policy", published),
            undeliverable.refused_queues,
            service="sns",
            operations="Publish",
            name="delivery_policy: SNS publish",
        ),
        DecidingRule(
            _AfterUpstream(
                "SNS deliveries dropped", lambda request, reply, trigger: undeliverable.drop(request, reply)
            ),
            undeliverable.has_pending,
            service="sqs",
            operations="ReceiveMessage",
            name="delivery_policy: SNS deliveries",
        ),
    ]


# -- s3_test_event ----------------------------------------------------------------------------------------------


class SendTestEvent(Fault):
    """After a successful PutBucketNotificationConfiguration, the ``s3:TestEvent`` message to each queue
    destination, unless the upstream sent one itself (its queue grew meanwhile)."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url

    @property
    def label(self) -> str:
        return "s3:TestEvent"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        counts = decision_of(trigger)
        for destination in destinations(request):
            if destination.kind == "queue":
                counts[destination] = queue_message_count(self.upstream_url, destination)
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        if reply.status != 200:
            return reply
        for destination, before in decision_of(trigger).items():
            after = queue_message_count(self.upstream_url, destination)
            if before is not None and after is not None and after <= before:
                send_test_event(self.upstream_url, destination, request.resource or "")
        return reply


def _s3_test_event(ctx: Context) -> Sequence[Rule]:
    return [
        DecidingRule(
            SendTestEvent(ctx.upstream_url),
            lambda request: {},
            service="s3",
            operations="PutBucketNotificationConfiguration",
            name="s3_test_event",
        )
    ]


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        name="delivery_policy",
        imitates=(
            "PutBucketNotificationConfiguration fails with 400 InvalidArgument ('Unable to validate the following "
            "destination configurations') unless each queue's (topic's) policy lets s3.amazonaws.com "
            "sqs:SendMessage (sns:Publish) for this bucket (aws:SourceArn). SNS accepts a subscription of a queue "
            "whatever its policy but does not deliver to a queue whose policy does not let sns.amazonaws.com "
            "sqs:SendMessage for the topic: such deliveries are dropped (checked at each Publish)."
        ),
        source=(
            "Amazon S3 User Guide, 'Walkthrough: Configuring a bucket for notifications (SNS topic or SQS queue)' and "
            "'Granting permissions to publish event notification messages to a destination'; Amazon SNS Developer "
            "Guide, 'Subscribing an Amazon SQS queue to an Amazon SNS topic' (step 2: give permission to the topic)"
        ),
        settings={},
        install=_delivery_policy,
    ),
    Behaviour(
        name="s3_test_event",
        imitates=(
            "Once a notification configuration is set, S3 sends each destination one s3:TestEvent message "
            "(Service, Event, Time, Bucket, RequestId, HostId). Sent unless the emulator sent one itself (moto does)."
        ),
        source="Amazon S3 User Guide, 'Event message structure' (the test message)",
        settings={},
        install=_s3_test_event,
    ),
    Behaviour(
        name="delivery_delay",
        imitates=(
            "Event notifications and SNS deliveries reach a queue asynchronously: typically within seconds, "
            "sometimes a minute or longer. Messages they deliver become receivable `seconds` after they were sent."
        ),
        source=S3_NOTIFICATIONS_SOURCE + "; Amazon SNS Developer Guide, 'Fanout to Amazon SQS queues'",
        settings={"seconds": 3.0},
        install=_delivery_delay,
    ),
)
