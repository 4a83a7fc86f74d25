"""The options of a throw-away SNS topic (checked by the SNS API reference's rules), and the rules of its name."""

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

TOPIC_PREFIX = "test_"
DEFAULT_TIMEOUT = 60.0
topic_name_problem = fifo_name_problem("topic", 256)  # why a name is not a valid SNS topic name, or None


TOPIC_NAMES = NameRules("topic", TOPIC_PREFIX, "_", 256, topic_name_problem)

# The attributes CreateTopic takes, by the SNS API reference (CreateTopic, SetTopicAttributes).
TOPIC_JSON_ATTRIBUTES = ("DeliveryPolicy", "Policy", "ArchivePolicy")
TOPIC_BOOL_ATTRIBUTES = ("ContentBasedDeduplication",)
TOPIC_ENUM_ATTRIBUTES = {
    "SignatureVersion": ("1", "2"),
    "TracingConfig": ("PassThrough", "Active"),
    "FifoThroughputScope": ("Topic", "MessageGroup"),
}
TOPIC_FIFO_ONLY = ("ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope")
DISPLAY_NAME_MAX = 100
# Delivery status logging: <Protocol>SuccessFeedbackRoleArn, ...SuccessFeedbackSampleRate, ...FailureFeedbackRoleArn.
FEEDBACK_PROTOCOLS = ("Application", "Firehose", "HTTP", "Lambda", "SQS")
_FEEDBACK_ROLES = tuple(
    f"{protocol}{outcome}FeedbackRoleArn" for protocol in FEEDBACK_PROTOCOLS for outcome in ("Success", "Failure")
)
_FEEDBACK_RATES = tuple(f"{protocol}SuccessFeedbackSampleRate" for protocol in FEEDBACK_PROTOCOLS)
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
_TOPIC_RESERVED = ("FifoTopic",)
_PARAMETERS = ("fifo", "timeout", "keep")  # topic_spec's own, besides the attributes
KNOWN_ATTRIBUTES = (
    "DisplayName",
    "KmsMasterKeyId",
    *TOPIC_JSON_ATTRIBUTES,
    *TOPIC_BOOL_ATTRIBUTES,
    *TOPIC_ENUM_ATTRIBUTES,
    *_FEEDBACK_ROLES,
    *_FEEDBACK_RATES,
)


@dataclass(frozen=True)
class TopicSpec(Spec):
    kind: str = field(init=False, default="topic")
    fifo: bool = False
    attributes: Mapping[str, str] = field(default_factory=dict)

    def new_name(self, scope: str = "") -> str:
        return TOPIC_NAMES.make(self.label, suffix=self.suffix, scope=scope)

    @property
    def suffix(self) -> str:
        return ".fifo" if self.fifo else ""

    def topic_attributes(self) -> dict[str, str]:
        """The ``Attributes`` of CreateTopic: the given ones, and ``FifoTopic`` for a FIFO topic."""
        attrs = dict(self.attributes)
        if self.fifo:
            attrs["FifoTopic"] = "true"
        return attrs


def _json_object(key: str, value: str) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SpecError(f"the topic attribute {key} must be a JSON object (a string), got {value[:60]!r}")
    return document


def _check_topic_attribute(key: str, value: str, fifo: bool) -> None:
    """One topic attribute, by the SNS API reference's rules (CreateTopic)."""
    if key in TOPIC_FIFO_ONLY and not fifo:
        raise SpecError(f"the topic attribute {key} is for FIFO topics only: set fifo=True or drop it")
    if key in TOPIC_JSON_ATTRIBUTES:
        _json_object(key, value)
    elif key in TOPIC_BOOL_ATTRIBUTES:
        if value.lower() not in ("true", "false"):
            raise SpecError(f"the topic attribute {key} must be 'true' or 'false', got {value!r}")
    elif key in TOPIC_ENUM_ATTRIBUTES:
        if value not in TOPIC_ENUM_ATTRIBUTES[key]:
            raise SpecError(
                f"the topic attribute {key} must be one of {', '.join(TOPIC_ENUM_ATTRIBUTES[key])}, got {value!r}"
            )
    elif key == "DisplayName":
        if len(value) > DISPLAY_NAME_MAX:
            raise SpecError(
                f"the topic attribute DisplayName is at most {DISPLAY_NAME_MAX} characters, got {len(value)}"
            )
    elif key == "KmsMasterKeyId":
        if not value.strip():
            raise SpecError("the topic attribute KmsMasterKeyId must name a KMS key (id, alias or ARN)")
    elif key in _FEEDBACK_ROLES:
        if not _ROLE_ARN_RE.match(value):
            raise SpecError(f"the topic attribute {key} must be an IAM role ARN, got {value!r}")
    elif key in _FEEDBACK_RATES and (not re.fullmatch(r"[0-9]+", value) or not 0 <= int(value) <= 100):
        raise SpecError(f"the topic attribute {key} must be a whole percentage from 0 to 100, got {value!r}")


def topic_spec(
    label: str = "topic",
    fifo: bool = False,
    *,
    timeout: float | None = None,
    keep: bool | None = None,
    **attributes: str,
) -> TopicSpec:
    """A throw-away SNS topic: ``with ephemeral_topic("events") as t:`` gives a :class:`TopicHandle`.

    The topic is named ``test_<label>_<unique>`` (``.fifo`` for FIFO topics), tagged and answering when the block
    starts; when it ends, its subscriptions are deleted, then the topic. Every option is checked here, before any
    call: bad input raises :class:`SpecError`.

    :param label: readable part of the name (letters and digits; anything else becomes ``_``).
    :param fifo: a FIFO topic (the name ends in ``.fifo``; it delivers to FIFO queues only).
    :param timeout: readiness deadline in seconds (default ``SANDBOXRES_TOPIC_TIMEOUT``, else 60).
    :param keep: keep the topic after the block (default ``SANDBOXRES_KEEP``, else delete it).
    :param attributes: topic attributes as strings (``DisplayName``, ``DeliveryPolicy``, ``KmsMasterKeyId``,
        ``ContentBasedDeduplication`` for FIFO topics...), checked by the SNS API reference's rules (names,
        values, FIFO-only attributes); ``FifoTopic`` comes from ``fifo``.
    """
    TOPIC_NAMES.make(label, suffix=".fifo" if fifo is True else "")
    if not isinstance(fifo, bool):
        raise SpecError(f"fifo must be True or False, got {fifo!r}")
    clash = set(_TOPIC_RESERVED) & set(attributes)
    if clash:
        raise SpecError(f"attributes may not set {', '.join(sorted(clash))}: use fifo=True")
    for key, value in attributes.items():
        if key not in KNOWN_ATTRIBUTES:  # a misspelt parameter lands here too: suggest both
            close = difflib.get_close_matches(key, [*KNOWN_ATTRIBUTES, *_PARAMETERS], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(sorted(KNOWN_ATTRIBUTES))}"
            raise SpecError(f"{key!r} is not a topic attribute SNS accepts at creation{hint}")
        if not isinstance(value, str):
            raise SpecError(f"topic attributes are strings, got {key}={value!r}")
    for key, value in attributes.items():
        _check_topic_attribute(key, value, fifo)
    return TopicSpec(
        label=label,
        timeout=check_timeout("topic", timeout, DEFAULT_TIMEOUT),
        keep=check_keep(keep),
        fifo=fifo,
        attributes=dict(attributes),
    )
