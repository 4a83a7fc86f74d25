"""Recycling an SQS queue (and its dead-letter queue) between tests: prove it as it was created, or discard it.

Nothing is emptied here: PurgeQueue may run once per 60 s per queue and takes up to 60 s, which costs more than
creating a queue anew, so a queue is handed out again only when it is *proven* untouched and empty:

1. configuration (each queue, the dead-letter queue too): ``GetQueueAttributes(All)`` equals the baseline read
   after creation, but for the message counters; ``LastModifiedTimestamp`` moving while every other attribute
   is equal means an attribute was changed and set back (a trace the next holder could read). ``ListQueueTags``
   equals the baseline's tags. ``ListDeadLetterSourceQueues`` names no queue but its own (a foreign queue
   redriving into it would keep delivering messages).
2. messages (the queue, then its dead-letter queue): no receive can see a message in flight (invisible for the
   visibility timeout) or delayed, and short polling may miss visible ones; the counters
   (``ApproximateNumberOfMessages``, ``...NotVisible``, ``...Delayed``) see all three but are approximate and
   lag. So the counters are polled for ``limits.settle_seconds``: the judge raises ``NotReady`` on every zero
   reading, so that the poll can only *end* by its deadline -- its ``ReadinessTimeoutError`` is the proof that
   every reading of the whole settle time was zero (no sleep, no clock in the plan). Any non-zero reading ends
   the poll at once with a discard reason. Then one long-polling receive (``WaitTimeSeconds=1``, which queries
   every server, ``VisibilityTimeout=0``, one message) must return nothing.

A dirty dead-letter queue discards both queues (one reason); so does a dirty queue. A failed call raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandboxres._engine.errors import ReadinessTimeoutError
from sandboxres._engine.plans import label_of
from sandboxres._engine.steps import Call, NotReady, Plan, Poll, RetryPolicy
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.queue.plans import QueueFacts
from sandboxres._kinds.queue.spec import QueueSpec

_READ = RetryPolicy(deadline=60.0)
COUNTERS = (
    ("ApproximateNumberOfMessages", "visible"),
    ("ApproximateNumberOfMessagesNotVisible", "in flight"),
    ("ApproximateNumberOfMessagesDelayed", "delayed"),
)
MODIFIED = "LastModifiedTimestamp"
_ZERO = "every message counter at 0"  # the NotReady status of a zero reading: the poll must last the settle time


def _url(facts: QueueFacts) -> Plan[str]:
    if facts.url:
        return facts.url
    response = yield Call("sqs", "get_queue_url", {"QueueName": facts.name}, _READ)
    return str(response["QueueUrl"])


def _read(url: str) -> Plan[dict[str, Any]]:
    """What a test could observe of one queue's configuration: its attributes (not the counters) and tags."""
    response = yield Call("sqs", "get_queue_attributes", {"QueueUrl": url, "AttributeNames": ["All"]}, _READ)
    counters = {name for name, _ in COUNTERS}
    attributes = {k: str(v) for k, v in (response.get("Attributes") or {}).items() if k not in counters}
    response = yield Call("sqs", "list_queue_tags", {"QueueUrl": url}, _READ)
    tags = {str(k): str(v) for k, v in (response.get("Tags") or {}).items()}
    return {"attributes": attributes, "tags": tags}


def queue_baseline(facts: QueueFacts) -> Plan[dict[str, Any]]:
    """The queue's attributes (all but the message counters) and tags right after creation, and its dead-letter
    queue's under ``dead_letter``."""
    baseline = yield from _read((yield from _url(facts)))
    if facts.dead_letter is not None:
        baseline["dead_letter"] = yield from _read((yield from _url(facts.dead_letter)))
    return baseline


def _changed(now: Mapping[str, Any], then: Mapping[str, Any]) -> str | None:
    """How the configuration differs from the baseline: SetQueueAttributes, AddPermission (the Policy
    attribute), TagQueue/UntagQueue all persist and are visible to the next holder."""
    attributes, before = now["attributes"], then["attributes"]
    keys = sorted(k for k in set(attributes) | set(before) if k != MODIFIED and attributes.get(k) != before.get(k))
    if keys:
        return f"its attributes were changed: {', '.join(keys)}"
    if attributes.get(MODIFIED) != before.get(MODIFIED):
        return "its attributes were changed and set back (LastModifiedTimestamp moved)"
    if now["tags"] != then["tags"]:
        return "its tags were changed"
    return None


def _sources(url: str, owner: str | None) -> Plan[str | None]:
    """A queue whose RedrivePolicy targets this one keeps moving messages into it: only ``owner`` (the queue
    this dead-letter queue was made for) may; the list lags, so the owner's absence is no trace."""
    response = yield Call("sqs", "list_dead_letter_source_queues", {"QueueUrl": url}, _READ)
    foreign = sorted(str(u) for u in response.get("queueUrls") or [] if u != owner)
    if foreign:
        return f"another queue redrives into it: {', '.join(foreign)}"
    return None


def _counted(response: Mapping[str, Any]) -> str:
    """Judge one reading of the counters: a discard reason when any is non-zero (or missing: unproven), else
    NotReady, so that only the deadline ends a poll that saw nothing but zeros."""
    attributes = response.get("Attributes") or {}
    missing = [name for name, _ in COUNTERS if name not in attributes]
    if missing:
        return f"SQS did not report {', '.join(missing)}: its emptiness cannot be proven"
    counts = {what: int(attributes[name]) for name, what in COUNTERS}
    if any(counts.values()):
        listed = ", ".join(f"{n} {what}" for what, n in counts.items())
        return f"messages are still counted in it ({listed}): a purge costs a minute, creating anew is cheaper"
    raise NotReady(_ZERO)


def _messages(facts: QueueFacts, url: str, limits: RecycleLimits) -> Plan[str | None]:
    """Counters at zero for the whole settle time, then one long-polling receive that returns nothing."""
    attribute_names = [name for name, _ in COUNTERS]
    params = {"QueueUrl": url, "AttributeNames": attribute_names}
    probe = Call("sqs", "get_queue_attributes", params, _READ)
    try:
        reason: str = yield Poll(probe, _counted, label_of("queue", facts.name), limits.settle_seconds)
        return reason
    except ReadinessTimeoutError:
        pass  # only _counted raises NotReady, on zeros: every reading of the settle time was zero
    receive = {"QueueUrl": url, "WaitTimeSeconds": 1, "VisibilityTimeout": 0, "MaxNumberOfMessages": 1}
    response = yield Call("sqs", "receive_message", receive, _READ)
    if response.get("Messages"):
        return "a message was still received from it"
    return None


def recycle_queue(
    spec: QueueSpec, facts: QueueFacts, baseline: Mapping[str, Any], limits: RecycleLimits
) -> Plan[str | None]:
    """None when the queue (and its dead-letter queue) is proven as created and empty, else why to discard both:
    first the configuration of each (cheap), then the messages of the queue, then of its dead-letter queue."""
    url = yield from _url(facts)
    queues: list[tuple[str, QueueFacts, str, Mapping[str, Any], str | None]] = [("", facts, url, baseline, None)]
    if facts.dead_letter is not None:
        dead_url = yield from _url(facts.dead_letter)
        queues.append(("its dead-letter queue: ", facts.dead_letter, dead_url, baseline["dead_letter"], url))
    for prefix, _, queue_url, then, owner in queues:
        reason = _changed((yield from _read(queue_url)), then) or (yield from _sources(queue_url, owner))
        if reason is not None:
            return prefix + reason
    for prefix, queue, queue_url, _, _ in queues:
        reason = yield from _messages(queue, queue_url, limits)
        if reason is not None:
            return prefix + reason
    return None
