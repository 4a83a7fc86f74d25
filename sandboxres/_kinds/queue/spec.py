"""The options of a throw-away SQS queue (checked by the SQS API reference's rules), and the rules of its name."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandboxres._engine.errors import SpecError
from sandboxres._engine.naming import NameRules, fifo_name_problem
from sandboxres._engine.validation import check_keep, check_timeout
from sandboxres._kinds.base import Spec

QUEUE_PREFIX = "test_"
DEFAULT_TIMEOUT = 120.0
queue_name_problem = fifo_name_problem("queue", 80)  # why a name is not a valid SQS queue name, or None


QUEUE_NAMES = NameRules("queue", QUEUE_PREFIX, "_", 80, queue_name_problem)


@dataclass(frozen=True)
class QueueSpec(Spec):
    kind: str = field(init=False, default="queue")
    fifo: bool = False
    dead_letter: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def new_name(self, scope: str = "") -> str:
        return QUEUE_NAMES.make(self.label, suffix=self.suffix, scope=scope)

    def dead_letter_name(self, scope: str = "") -> str:
        return QUEUE_NAMES.make(f"{self.label}_dlq", suffix=self.suffix, scope=scope)

    @property
    def suffix(self) -> str:
        return ".fifo" if self.fifo else ""

    def queue_attributes(self, dead_letter_arn: str | None = None) -> dict[str, str]:
        attrs = dict(self.attributes)
        if self.fifo:
            attrs["FifoQueue"] = "true"
        if dead_letter_arn is not None and self.dead_letter is not None:
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(self.dead_letter)}
            )
        return attrs

    def dead_letter_attributes(self) -> dict[str, str]:
        return {"FifoQueue": "true"} if self.fifo else {}


_QUEUE_RESERVED = {"FifoQueue", "RedrivePolicy"}

# The attributes CreateQueue takes, by the SQS API reference: whole seconds/bytes within a range, booleans, JSON.
QUEUE_INT_ATTRIBUTES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
QUEUE_BOOL_ATTRIBUTES = ("SqsManagedSseEnabled", "ContentBasedDeduplication")
QUEUE_ENUM_ATTRIBUTES = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
QUEUE_FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
_REDRIVE_PERMISSIONS = ("allowAll", "denyAll", "byQueue")


def _check_queue_attribute(key: str, value: str, fifo: bool) -> None:
    """One queue attribute, by the SQS API reference's rules (CreateQueue)."""
    if key in QUEUE_FIFO_ONLY and not fifo:
        raise SpecError(f"the queue attribute {key} is for FIFO queues only: set fifo=True or drop it")
    if key in QUEUE_INT_ATTRIBUTES:
        low, high = QUEUE_INT_ATTRIBUTES[key]
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            raise SpecError(f"the queue attribute {key} must be a whole number from {low} to {high}, got {value!r}")
    elif key in QUEUE_BOOL_ATTRIBUTES:
        if value.lower() not in ("true", "false"):
            raise SpecError(f"the queue attribute {key} must be 'true' or 'false', got {value!r}")
    elif key in QUEUE_ENUM_ATTRIBUTES:
        if value not in QUEUE_ENUM_ATTRIBUTES[key]:
            raise SpecError(
                f"the queue attribute {key} must be one of {', '.join(QUEUE_ENUM_ATTRIBUTES[key])}, got {value!r}"
            )
    elif key == "KmsMasterKeyId":
        if not value.strip():
            raise SpecError("the queue attribute KmsMasterKeyId must name a KMS key (id, alias or ARN)")
    elif key == "Policy":
        _json_object(key, value)
    elif key == "RedriveAllowPolicy":
        policy = _json_object(key, value)
        permission = policy.get("redrivePermission")
        if permission not in _REDRIVE_PERMISSIONS:
            raise SpecError(
                f"RedriveAllowPolicy: redrivePermission must be one of {', '.join(_REDRIVE_PERMISSIONS)}, "
                f"got {permission!r}"
            )
        arns = policy.get("sourceQueueArns")
        if permission == "byQueue" and not (isinstance(arns, list) and 1 <= len(arns) <= 10):
            raise SpecError("RedriveAllowPolicy: byQueue needs sourceQueueArns, a list of 1-10 queue ARNs")
        if permission != "byQueue" and arns:
            raise SpecError(f"RedriveAllowPolicy: sourceQueueArns goes with byQueue only, not {permission}")
    else:
        known = [
            *QUEUE_INT_ATTRIBUTES,
            *QUEUE_BOOL_ATTRIBUTES,
            *QUEUE_ENUM_ATTRIBUTES,
            "KmsMasterKeyId",
            "Policy",
            "RedriveAllowPolicy",
        ]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(sorted(known))}"
        raise SpecError(f"{key!r} is not a queue attribute SQS accepts at creation{hint}")


def _json_object(key: str, value: str) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SpecError(f"the queue attribute {key} must be a JSON object (a string), got {value[:60]!r}")
    return document


def queue_spec(
    label: str = "queue",
    *,
    fifo: bool = False,
    dead_letter: int | None = None,
    attributes: Mapping[str, str] | None = None,
    timeout: float | None = None,
    keep: bool | None = None,
) -> QueueSpec:
    """A throw-away SQS queue: ``with ephemeral_queue("jobs") as q:`` gives a :class:`QueueHandle`.

    The queue is named ``test_<label>_<unique>`` (``.fifo`` for FIFO queues), tagged and answering when the block
    starts, and deleted (with its dead-letter queue) when it ends. Every option is checked here, before any call:
    bad input raises :class:`SpecError`.

    :param label: readable part of the name (letters and digits; anything else becomes ``_``).
    :param fifo: a FIFO queue (the name ends in ``.fifo``).
    :param dead_letter: create a dead-letter queue ``test_<label>_dlq_<unique>`` first and move a message there
        after this many receives (1-1000); its handle is ``q.dead_letter``.
    :param attributes: further queue attributes (``VisibilityTimeout``, ``ContentBasedDeduplication``...), as
        strings, checked by the SQS API reference's rules (names, ranges, FIFO-only attributes);
        ``FifoQueue`` and ``RedrivePolicy`` come from ``fifo`` and ``dead_letter``.
    :param timeout: readiness deadline in seconds (default ``SANDBOXRES_QUEUE_TIMEOUT``, else 120).
    :param keep: keep the queue after the block (default ``SANDBOXRES_KEEP``, else delete it).
    """
    suffix = ".fifo" if fifo is True else ""
    QUEUE_NAMES.make(label, suffix=suffix)
    QUEUE_NAMES.make(f"{label}_dlq", suffix=suffix)
    if not isinstance(fifo, bool):
        raise SpecError(f"fifo must be True or False, got {fifo!r}")
    if dead_letter is not None and (
        isinstance(dead_letter, bool) or not isinstance(dead_letter, int) or not 1 <= dead_letter <= 1000
    ):
        raise SpecError(f"dead_letter is the max receive count, 1-1000, got {dead_letter!r}")
    attrs = dict(attributes or {})
    for key, value in attrs.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise SpecError(f"queue attributes must map strings to strings, got {key!r}: {value!r}")
    clash = _QUEUE_RESERVED & set(attrs)
    if clash:
        raise SpecError(f"attributes may not set {', '.join(sorted(clash))}: use fifo= and dead_letter=")
    for key, value in attrs.items():
        _check_queue_attribute(key, value, fifo)
    return QueueSpec(
        label=label,
        timeout=check_timeout("queue", timeout, DEFAULT_TIMEOUT),
        keep=check_keep(keep),
        fifo=fifo,
        dead_letter=dead_letter,
        attributes=attrs,
    )
