"""What a message delivered to a queue by another service carries: the decoded payloads of ``queue.events()``.

The shapes are AWS's (Amazon SNS Developer Guide, "Amazon SNS message and JSON formats"; Amazon S3 User Guide,
"Event message structure"):

- the body is parsed as JSON when it is JSON, else kept as the text it is;
- an SNS envelope (``Type`` ``Notification``, with ``TopicArn`` and ``Message``: a queue subscribed without raw
  delivery) gives its ``Message``, itself decoded the same way (an S3 event published to a topic is unwrapped
  twice);
- an S3 event notification (``Records`` whose ``eventSource`` is ``aws:s3``) gives its records one by one (the
  object key in ``s3.object.key`` is URL-encoded, as S3 sends it);
- the ``s3:TestEvent`` message S3 sends once a notification configuration is set gives nothing: it is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def decode_body(body: str) -> list[Any]:
    """The payloads one message body carries (none for an ``s3:TestEvent``)."""
    return decode(_parsed(body))


def decode(value: Any) -> list[Any]:
    """The payloads of an already parsed body (see the module's docstring)."""
    if not isinstance(value, Mapping):
        return [value]
    if is_test_event(value):
        return []
    if value.get("Type") == "Notification" and "TopicArn" in value and "Message" in value:
        message = value["Message"]
        return decode(_parsed(message) if isinstance(message, str) else message)
    records = value.get("Records")
    if isinstance(records, list) and records and all(_from_s3(record) for record in records):
        return list(records)
    return [dict(value)]


def is_test_event(value: Any) -> bool:
    """Whether ``value`` is the ``s3:TestEvent`` message S3 sends to a new notification destination."""
    return isinstance(value, Mapping) and value.get("Event") == "s3:TestEvent" and value.get("Service") == "Amazon S3"


def _from_s3(record: Any) -> bool:
    return isinstance(record, Mapping) and record.get("eventSource") == "aws:s3"


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
