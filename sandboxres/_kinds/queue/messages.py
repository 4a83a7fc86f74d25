"""The plans of a queue's message helpers: ``receive``, ``events``, ``drain`` and ``send_all``.

Receiving is right on AWS as well as on emulators:

- every ReceiveMessage long-polls (``WaitTimeSeconds`` up to 20 s, never beyond the deadline left): a short poll
  samples a subset of SQS's servers and can come back empty while messages wait (Amazon SQS Developer Guide,
  "Amazon SQS short and long polling");
- a long poll returns as soon as some messages are there, possibly fewer than asked: receiving goes on until
  ``count`` arrived or the deadline passes, then :class:`~sandboxres.ReceiveTimeoutError` says how many of how many
  arrived;
- what arrived is deleted after each receive (DeleteMessageBatch, failed entries sent again): on a FIFO queue a
  message in flight holds back the rest of its group, so the next receive sees them only once it is deleted. A
  message seen twice (its visibility timeout ran out meanwhile) counts once.

Sending (``send_all``) uses SendMessageBatch, ten at a time; entries that failed on AWS's side (throttled, internal
error) are sent again with backoff, an entry refused as the sender's fault raises AWSCallError at once.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sandboxres._engine.errors import ReadinessTimeoutError, ReceiveTimeoutError, ResourceError, SpecError
from sandboxres._engine.helpers import (
    EntryOutcome,
    check_count,
    chunks,
    helper_deadline,
    send_batch,
)
from sandboxres._engine.plans import label_of
from sandboxres._engine.steps import Call, NotReady, Plan, Poll, RetryPolicy
from sandboxres._engine.wiring import HandleContext
from sandboxres._kinds.queue.events import decode_body

LONG_POLL_MAX = 20  # seconds: SQS's longest WaitTimeSeconds
RECEIVE_MAX = 10  # messages per ReceiveMessage / entries per batch call
VISIBILITY_MARGIN = 30  # seconds a received message stays hidden beyond the helper's deadline (until deleted)
VISIBILITY_MAX = 43_200


def _visibility(deadline: float) -> int:
    return min(VISIBILITY_MAX, math.ceil(deadline) + VISIBILITY_MARGIN)


class Receiving:
    """What a receive has gathered so far, and the parameters of its next ReceiveMessage.

    ``measure(message)`` is how much a message counts towards ``count`` (1 for ``receive``, its payloads for
    ``events``). The clock starts at the first request."""

    def __init__(
        self,
        url: str,
        count: int,
        deadline: float,
        measure: Callable[[Mapping[str, Any]], int],
        visibility: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.count, self.deadline = url, count, deadline
        self.measure, self.visibility, self.clock = measure, visibility, clock
        self.started: float | None = None
        self.arrived: dict[str, dict[str, Any]] = {}  # MessageId -> message, in the order of arrival
        self.amount = 0

    def elapsed(self) -> float:
        if self.started is None:
            self.started = self.clock()
        return self.clock() - self.started

    def left(self) -> float:
        return self.deadline - self.elapsed()

    def params(self) -> dict[str, Any]:
        wait = max(0, min(LONG_POLL_MAX, int(self.left())))
        params: dict[str, Any] = {
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max(1, min(RECEIVE_MAX, self.count - self.amount)),
            "WaitTimeSeconds": wait,
            "AttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if self.visibility is not None:
            params["VisibilityTimeout"] = self.visibility
        return params

    def judge(self, response: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The messages new in this answer; NotReady when there is none."""
        new = []
        for message in response.get("Messages") or []:
            known = self.arrived.get(message["MessageId"])
            if known is not None:  # seen again: only its newest receipt handle deletes it
                known["ReceiptHandle"] = message["ReceiptHandle"]
                continue
            self.arrived[message["MessageId"]] = message
            self.amount += self.measure(message)
            new.append(message)
        if not new:
            raise NotReady(f"{self.amount} of {self.count} arrived")
        return new


def _receiving(
    url: str,
    resource: str,
    count: int,
    deadline: float,
    measure: Callable[[Mapping[str, Any]], int],
    to_delete: Callable[[Mapping[str, Any]], bool],
    visibility: int | None,
    what: str,
    received: Callable[[Receiving], list[Any]],
    show: Callable[[Any], str] = repr,
) -> Plan[Receiving]:
    """Receive until ``count`` (by ``measure``) arrived, deleting after each receive those ``to_delete`` says."""
    state = Receiving(url, count, deadline, measure, visibility)
    call = Call("sqs", "receive_message", state.params, RetryPolicy(deadline))
    while state.amount < count:
        try:
            new = yield Poll(call, state.judge, resource, max(0.0, state.left()))
        except ReadinessTimeoutError:
            got = received(state)
            raise ReceiveTimeoutError(resource, what, count, got, state.elapsed(), [show(g) for g in got]) from None
        yield from delete_messages(url, resource, [m for m in new if to_delete(m)], deadline)
        if state.amount < count and state.left() <= 0:
            got = received(state)
            raise ReceiveTimeoutError(resource, what, count, got, state.elapsed(), [show(g) for g in got])
    return state


def receive_messages(
    context: HandleContext | None, url: str, name: str, count: int, timeout: float | None, delete: bool
) -> Plan[list[dict[str, Any]]]:
    """``queue.receive``: ``count`` messages (the SQS message dicts), deleted unless ``delete=False``."""
    check_count("count", count)
    deadline = helper_deadline(context, timeout)
    _check_flag("delete", delete)
    state = yield from _receiving(
        url,
        label_of("queue", name),
        count,
        deadline,
        lambda _message: 1,
        lambda _message: delete,
        _visibility(deadline) if delete else None,
        "messages",
        lambda state: list(state.arrived.values()),
        lambda message: repr(message.get("Body")),
    )
    return list(state.arrived.values())


def _payloads(message: Mapping[str, Any]) -> list[Any]:
    return decode_body(str(message.get("Body", "")))


def receive_events(
    context: HandleContext | None, url: str, name: str, count: int, timeout: float | None, delete: bool
) -> Plan[list[Any]]:
    """``queue.events``: the decoded payloads of the messages received (at least ``count``; an S3 event message
    with several records gives them all). ``s3:TestEvent`` messages count for nothing and are always deleted."""
    check_count("count", count)
    deadline = helper_deadline(context, timeout)
    _check_flag("delete", delete)

    def payloads(state: Receiving) -> list[Any]:
        return [payload for message in state.arrived.values() for payload in _payloads(message)]

    state = yield from _receiving(
        url,
        label_of("queue", name),
        count,
        deadline,
        lambda message: len(_payloads(message)),
        lambda message: delete or not _payloads(message),
        _visibility(deadline) if delete else None,
        "events",
        payloads,
    )
    return payloads(state)


def drain_queue(context: HandleContext | None, url: str, name: str, timeout: float | None) -> Plan[int]:
    """``queue.drain``: receive and delete until one long poll comes back empty; how many messages were removed.

    The quiet long poll lasts a tenth of the deadline (1 to 20 s: 1 s on emulators, 6 s on AWS by default): long
    polling asks every SQS server, so an empty answer means empty, save deliveries still on their way."""
    deadline = helper_deadline(context, timeout)
    resource = label_of("queue", name)
    quiet = max(1, min(LONG_POLL_MAX, round(deadline / 10)))
    params = {
        "QueueUrl": url,
        "MaxNumberOfMessages": RECEIVE_MAX,
        "WaitTimeSeconds": quiet,
        "VisibilityTimeout": _visibility(deadline),
    }
    removed: set[str] = set()
    started = time.monotonic()
    while True:
        response = yield Call("sqs", "receive_message", params, RetryPolicy(deadline))
        messages = response.get("Messages") or []
        if not messages:
            return len(removed)
        yield from delete_messages(url, resource, messages, deadline)
        removed.update(message["MessageId"] for message in messages)
        if time.monotonic() - started > deadline:
            raise ResourceError(
                resource,
                f"still receiving messages after {deadline:.1f} s ({len(removed)} removed): something keeps "
                "sending to it. Stop the producer first, or raise the timeout",
            )


def delete_messages(url: str, resource: str, messages: Sequence[Mapping[str, Any]], deadline: float) -> Plan[None]:
    """Delete ``messages`` (DeleteMessageBatch, ten at a time, failed entries sent again)."""
    handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    for chunk in chunks(handles, RECEIVE_MAX):
        yield from send_batch(
            "sqs",
            "delete_message_batch",
            chunk,
            lambda entries: {"QueueUrl": url, "Entries": list(entries)},
            _read_entries,
            resource,
            deadline,
        )


def _read_entries(entries: Sequence[Mapping[str, Any]], response: Mapping[str, Any]) -> EntryOutcome[Any]:
    """Sort a SendMessageBatch / DeleteMessageBatch answer: ``Failed`` entries with ``SenderFault`` failed for good,
    the others are sent again; the ``Successful`` ones are the results."""
    by_id = {entry["Id"]: entry for entry in entries}
    outcome: EntryOutcome[Any] = EntryOutcome(results=list(response.get("Successful") or []))
    for failure in response.get("Failed") or []:
        entry = by_id.get(failure.get("Id"), failure)
        code, message = str(failure.get("Code", "")), str(failure.get("Message", ""))
        if failure.get("SenderFault"):
            outcome.failed.append((entry, code, message))
        else:
            outcome.retry.append(entry)
            outcome.retry_codes.add(code)
    return outcome


def message_bodies(bodies: object) -> list[str]:
    """``bodies`` as message bodies: strings as they are, dicts and lists as JSON; else SpecError."""
    if isinstance(bodies, (str, bytes, Mapping)) or not isinstance(bodies, Iterable):
        raise SpecError(f"bodies must be a list (or other iterable) of message bodies, not {type(bodies).__name__}")
    out = []
    for i, body in enumerate(bodies):
        if isinstance(body, (Mapping, list)):
            body = json.dumps(body)
        if not isinstance(body, str):
            raise SpecError(f"bodies[{i}] must be a str (or a dict or list, sent as JSON), not {type(body).__name__}")
        if not body:
            raise SpecError(f"bodies[{i}] is empty: SQS refuses empty messages")
        out.append(body)
    return out


def send_messages(
    context: HandleContext | None,
    url: str,
    name: str,
    bodies: object,
    group_id: str | None,
    dedup_ids: Sequence[str] | None,
    timeout: float | None,
) -> Plan[list[str]]:
    """``queue.send_all``: send ``bodies`` (SendMessageBatch, ten at a time); the message ids, in order.

    A FIFO queue needs ``group_id`` (every message in that group, in order); its deduplication ids are
    ``dedup_ids`` or, without them, drawn per message (so equal bodies are all sent, and a retried entry keeps
    its id)."""
    texts = message_bodies(bodies)
    deadline = helper_deadline(context, timeout)
    fifo = name.endswith(".fifo")
    if group_id is not None and (not isinstance(group_id, str) or not group_id):
        raise SpecError(f"group_id must be a non-empty str, not {group_id!r}")
    if fifo and group_id is None:
        raise SpecError(f"queue {name} is a FIFO queue: send_all needs group_id= (the messages' MessageGroupId)")
    if dedup_ids is not None:
        if not fifo:
            raise SpecError(f"queue {name} is not a FIFO queue: it takes no dedup_ids")
        dedup_ids = list(dedup_ids)
        if len(dedup_ids) != len(texts) or not all(isinstance(d, str) and d for d in dedup_ids):
            raise SpecError(f"dedup_ids must be {len(texts)} non-empty strings, one per body")
    entries: list[dict[str, Any]] = []
    for i, body in enumerate(texts):
        entry: dict[str, Any] = {"Id": str(i), "MessageBody": body}
        if group_id is not None:
            entry["MessageGroupId"] = group_id
        if fifo:
            entry["MessageDeduplicationId"] = dedup_ids[i] if dedup_ids is not None else uuid.uuid4().hex
        entries.append(entry)
    resource = label_of("queue", name)
    ids: dict[str, str] = {}
    for chunk in chunks(entries, RECEIVE_MAX):
        sent = yield from send_batch(
            "sqs",
            "send_message_batch",
            chunk,
            lambda batch: {"QueueUrl": url, "Entries": list(batch)},
            _read_entries,
            resource,
            deadline,
        )
        ids.update({result["Id"]: result["MessageId"] for result in sent})
    return [ids[entry["Id"]] for entry in entries]


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise SpecError(f"{name} must be True or False, not {value!r}")
