"""Subscribing a queue to a topic the way AWS delivers: the queue policy statement SNS needs, the subscription,
its confirmation; and the undoing of both.

``topic.subscribe(queue, raw=True, filter_policy=None)``:

1. the input is checked (SpecError, before any call);
2. a :class:`~sandboxres._engine.wiring.Wiring` is registered with the topic and the queue: whichever ends first
   (deleted, or handed back to a pool) undoes it, before its own deletion;
3. the queue's policy gets a statement of ours: ``sns.amazonaws.com`` may ``sqs:SendMessage`` to the queue for this
   topic only (``aws:SourceArn``); without it AWS drops every delivery (emulators deliver anyway);
4. ``Subscribe`` (protocol ``sqs``, ``RawMessageDelivery``, ``FilterPolicy``, ``ReturnSubscriptionArn``);
5. ``GetSubscriptionAttributes`` until ``PendingConfirmation`` is ``false`` (an SQS subscription in the same
   account confirms itself).

It returns the subscription ARN. A failure after step 2 undoes what was done, then raises. The undoing:
``Unsubscribe``, then our statement out of the queue policy; a subscription, topic or queue already gone counts as
undone.

On AWS the queue policy and a filter policy take effect a little after the calls return (up to a minute for the
queue policy, up to 15 minutes for filter policy changes): messages published at once may be dropped or unfiltered
there; read them with a deadline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.deadlines import helper_timeout
from sandboxres._engine.errors import ReadinessTimeoutError, SpecError
from sandboxres._engine.steps import Call, NotReady, Outcome, Plan, Poll
from sandboxres._engine.wiring import wired
from sandboxres._kinds.queue.access_policy import (
    account_of,
    call_policy,
    grant_send,
    new_sid,
    revoke_send,
    send_statement,
    statements,
)
from sandboxres._kinds.queue.handle import QueueHandle
from sandboxres._kinds.topic.access_policy import TOPIC_GONE

if TYPE_CHECKING:
    from sandboxres._kinds.topic.handle import TopicHandle

SNS_PRINCIPAL = "sns.amazonaws.com"
SID_PURPOSE = "SnsDelivery"
FILTER_POLICY_MAX_BYTES = 256 * 1024


def check_filter_policy(filter_policy: object) -> str | None:
    """The filter policy as the JSON text SNS takes, or None; SpecError for anything SNS would refuse.

    A filter policy on message attributes (the scope ``subscribe`` sets) maps attribute names to lists of
    conditions (``{"event": ["created"], "size": [{"numeric": [">", 10]}]}``); ``$or`` takes a list of such
    policies."""
    if filter_policy is None:
        return None
    if not isinstance(filter_policy, Mapping) or not filter_policy:
        raise SpecError(f"filter_policy must be a non-empty dict of attribute name -> list, got {filter_policy!r}")
    for key, value in filter_policy.items():
        if not isinstance(key, str) or not key:
            raise SpecError(f"filter_policy keys must be attribute names (non-empty strings), got {key!r}")
        if isinstance(value, Mapping):
            raise SpecError(
                f"filter_policy[{key!r}] is a nested dict: that is a policy on the message body "
                "(FilterPolicyScope=MessageBody); subscribe filters on message attributes: give each a list"
            )
        if not isinstance(value, (list, tuple)) or not value:
            raise SpecError(f"filter_policy[{key!r}] must be a non-empty list of conditions, got {value!r}")
    try:
        text = json.dumps(filter_policy, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise SpecError(f"filter_policy must be JSON (str, numbers, bools, None, lists, dicts): {exc}") from None
    if len(text.encode()) > FILTER_POLICY_MAX_BYTES:
        raise SpecError(f"filter_policy is {len(text.encode())} bytes as JSON; SNS takes at most 256 KiB")
    return text


@dataclass(frozen=True)
class SubscriptionRequest:
    """A checked ``subscribe`` call."""

    topic_arn: str
    topic_name: str
    queue_arn: str
    queue_url: str
    queue_name: str
    raw: bool
    filter_policy: str | None
    timeout: float


def subscription_request(
    topic: TopicHandle[Any], queue: object, raw: object, filter_policy: object, timeout: float | None
) -> SubscriptionRequest:
    """Check every argument of ``topic.subscribe`` (SpecError, before any call)."""
    if not isinstance(queue, QueueHandle):
        raise SpecError(f"subscribe takes a queue handle (from ephemeral_queue), got {type(queue).__name__}")
    if not queue.arn or not queue.url:
        raise SpecError(f"the queue {queue.name!r} has no ARN or URL: subscribe a queue handle sandboxres made")
    if not isinstance(raw, bool):
        raise SpecError(f"raw must be True or False, got {raw!r}")
    policy = check_filter_policy(filter_policy)
    if topic.name.endswith(".fifo") and not queue.name.endswith(".fifo"):
        raise SpecError(f"the FIFO topic {topic.name} delivers only to FIFO queues; {queue.name} is not one")
    kind = topic.context.target_kind if topic.context is not None else "aws"
    return SubscriptionRequest(
        topic.arn, topic.name, queue.arn, queue.url, queue.name, raw, policy, helper_timeout(kind, timeout)
    )


@dataclass
class _Subscribed:
    """What the undoing needs, learnt as the subscription is made."""

    sid: str
    arn: str | None = None


def _confirmed(response: Any) -> str:
    attributes = response.get("Attributes") or {}
    pending = str(attributes.get("PendingConfirmation", "false")).lower()
    if pending != "false":
        raise NotReady(f"PendingConfirmation={pending}")
    return str(attributes.get("SubscriptionArn", ""))


def subscribe(
    topic: TopicHandle[Any],
    queue: object,
    raw: object = True,
    filter_policy: object = None,
    timeout: float | None = None,
) -> Plan[str]:
    """The plan of ``topic.subscribe`` (see the module's docstring); checks its input at once."""
    request = subscription_request(topic, queue, raw, filter_policy, timeout)
    assert isinstance(queue, QueueHandle)
    return _subscribe(request, topic, queue)


def _subscribe(request: SubscriptionRequest, topic: TopicHandle[Any], queue: QueueHandle[Any]) -> Plan[str]:
    state = _Subscribed(new_sid(SID_PURPOSE))
    what = f"subscription of queue {request.queue_name} to topic {request.topic_name}"
    undo = lambda: unsubscribe(request, state)  # noqa: E731
    return (yield from wired(what, undo, (topic.context, queue.context), _make(request, state)))


def _make(request: SubscriptionRequest, state: _Subscribed) -> Plan[str]:
    policy = call_policy(request.timeout)
    statement = send_statement(state.sid, SNS_PRINCIPAL, request.queue_arn, request.topic_arn)
    yield from grant_send(request.queue_url, statement, request.timeout, f"queue {request.queue_name}")
    attributes = {"RawMessageDelivery": "true" if request.raw else "false"}
    if request.filter_policy is not None:
        attributes["FilterPolicy"] = request.filter_policy
    params = {
        "TopicArn": request.topic_arn,
        "Protocol": "sqs",
        "Endpoint": request.queue_arn,
        "Attributes": attributes,
        "ReturnSubscriptionArn": True,
    }
    response = yield Call("sns", "subscribe", params, policy)
    state.arn = str(response["SubscriptionArn"])
    try:
        yield Poll(
            Call("sns", "get_subscription_attributes", {"SubscriptionArn": state.arn}, policy),
            _confirmed,
            f"the subscription of queue {request.queue_name} to topic {request.topic_name}",
            request.timeout,
            {"NotFound": Outcome.NOT_READY, "NotFoundException": Outcome.NOT_READY},
        )
    except ReadinessTimeoutError as exc:
        raise ReadinessTimeoutError(
            exc.resource,
            exc.waited,
            f"{exc.last_status}: SNS did not confirm it (an SQS subscription in the topic's account confirms "
            "itself; another account's queue must confirm from the message SNS sent it)",
        ) from None
    return state.arn


def unsubscribe(request: SubscriptionRequest, state: _Subscribed) -> Plan[None]:
    """``Unsubscribe``, then our statement out of the queue's policy (each even when the other failed)."""
    pending: Exception | None = None
    if state.arn is not None:
        try:
            yield Call("sns", "unsubscribe", {"SubscriptionArn": state.arn}, call_policy(request.timeout))
        except ClientError as exc:
            if error_code(exc) not in TOPIC_GONE:
                pending = exc
        except Exception as exc:
            pending = exc
    yield from revoke_send(request.queue_url, state.sid, request.timeout, f"queue {request.queue_name}")
    if pending is not None:
        raise pending


# -- the queues a topic delivers to through `subscribe` (for the s3:TestEvent a bucket notification sends) --------


@dataclass(frozen=True)
class SubscribedQueue:
    """A queue subscribed to a topic through ``subscribe``, as a delivery reaches it."""

    url: str
    name: str
    raw: bool


def _is_ours(policy: str | None, topic_arn: str) -> bool:
    for statement in statements(policy):
        sid = str(statement.get("Sid", ""))
        source = (statement.get("Condition") or {}).get("ArnEquals", {}).get("aws:SourceArn")
        if sid.startswith(f"Sandboxres{SID_PURPOSE}") and source == topic_arn:
            return True
    return False


def subscribed_queues(topic_arn: str, timeout: float) -> Plan[list[SubscribedQueue]]:
    """The queues subscribed to the topic through ``subscribe`` (our statement in their policy), confirmed and
    without a filter policy: those every message published to the topic reaches."""
    policy = call_policy(timeout)
    found: list[SubscribedQueue] = []
    params: dict[str, Any] = {"TopicArn": topic_arn}
    while True:
        page = yield Call("sns", "list_subscriptions_by_topic", params, policy)
        for subscription in page.get("Subscriptions", []):
            queue_arn = str(subscription.get("Endpoint", ""))
            if subscription.get("Protocol") != "sqs" or queue_arn.count(":") < 5:
                continue
            try:
                got = yield Call(
                    "sns", "get_subscription_attributes", {"SubscriptionArn": subscription["SubscriptionArn"]}, policy
                )
                attributes = got.get("Attributes") or {}
                if attributes.get("FilterPolicy") or str(attributes.get("PendingConfirmation")).lower() == "true":
                    continue
                name = queue_arn.split(":")[5]
                lookup: dict[str, Any] = {"QueueName": name}
                account = account_of(queue_arn)
                if account:
                    lookup["QueueOwnerAWSAccountId"] = account
                url = str((yield Call("sqs", "get_queue_url", lookup, policy))["QueueUrl"])
                read = {"QueueUrl": url, "AttributeNames": ["Policy"]}
                queue_policy = ((yield Call("sqs", "get_queue_attributes", read, policy)).get("Attributes") or {}).get(
                    "Policy"
                )
            except ClientError as exc:
                if error_code(exc) in {"QueueDoesNotExist", *TOPIC_GONE}:
                    continue  # unsubscribed or deleted meanwhile
                raise
            if _is_ours(queue_policy if isinstance(queue_policy, str) else None, topic_arn):
                raw = str(attributes.get("RawMessageDelivery", "false")).lower() == "true"
                found.append(SubscribedQueue(url, name, raw))
        token = page.get("NextToken")
        if not token:
            return found
        params = {"TopicArn": topic_arn, "NextToken": token}
