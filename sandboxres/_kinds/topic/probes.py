"""The topic's checks for ``sandboxres doctor`` and ``check``: does SNS answer, does a topic take a message."""

from __future__ import annotations

from typing import Any


def probe_topics(client: Any) -> None:
    """ListTopics (one page): proves SNS answers, granted by the policy."""
    client.list_topics()


def verify_topic(handle: Any) -> None:
    """Publish a message and read the topic back; AssertionError when SNS does not answer as it should."""
    answer = handle.client.publish(
        TopicArn=handle.arn,
        Message="sandboxres",
        **(
            {"MessageGroupId": "sandboxres", "MessageDeduplicationId": "check"} if handle.name.endswith(".fifo") else {}
        ),
    )
    if not answer.get("MessageId"):
        raise AssertionError(f"Publish answered {answer!r} without a MessageId")
    attributes = handle.client.get_topic_attributes(TopicArn=handle.arn).get("Attributes") or {}
    if attributes.get("TopicArn") != handle.arn:
        raise AssertionError(
            f"GetTopicAttributes answered the topic {attributes.get('TopicArn')!r}, not {handle.arn!r}"
        )
