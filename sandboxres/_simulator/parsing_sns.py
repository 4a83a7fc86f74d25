"""SNS requests (query protocol): the resource is the topic's name, from ``TopicArn`` / ``TargetArn`` (Publish,
Subscribe, GetTopicAttributes, ...), ``Name`` (CreateTopic) or a ``SubscriptionArn`` (the topic's ARN and an id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def sns_resource(params: Mapping[str, Any]) -> str | None:
    for key in ("TopicArn", "TargetArn", "ResourceArn"):
        arn = params.get(key)
        if isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 5:
            return arn.split(":")[5]
    name = params.get("Name")
    if isinstance(name, str) and name:
        return name
    subscription = params.get("SubscriptionArn")
    if isinstance(subscription, str) and subscription.count(":") >= 6:
        return subscription.split(":")[5]
    return None
