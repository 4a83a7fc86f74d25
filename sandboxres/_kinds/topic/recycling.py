"""Recycling an SNS topic between tests: delete every subscription, then prove the topic as it was created.

A topic holds no messages: what a holder can leave behind is subscriptions (deleted here), attributes
(``SetTopicAttributes``: a display name, a delivery policy, a policy statement) and tags. Attributes and tags are
compared with the baseline read right after the creation, but for the subscription counters; any difference
discards the topic (deleted and made anew). A subscription still pending confirmation cannot be deleted (SNS
only lets it expire, or go with the topic): it discards the topic too, since it could be confirmed later and
deliver to the next holder's surprise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandboxres._engine.steps import Call, Plan, RetryPolicy
from sandboxres._kinds.base import RecycleLimits, tag_dict
from sandboxres._kinds.topic.plans import TopicFacts, find_topic_arn, unsubscribe_all
from sandboxres._kinds.topic.spec import TopicSpec

_READ = RetryPolicy(deadline=60.0)
# What GetTopicAttributes counts rather than configures: it moves with every subscription.
COUNTERS = frozenset({"SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted"})


def _arn(facts: TopicFacts) -> Plan[str]:
    arn = facts.arn or (yield from find_topic_arn(facts.name, _READ))
    if arn is None:
        raise LookupError(f"topic {facts.name} is not listed")
    return arn


def _read(arn: str) -> Plan[dict[str, Any]]:
    """What a test could observe of the topic's configuration: its attributes (not the counters) and tags."""
    response = yield Call("sns", "get_topic_attributes", {"TopicArn": arn}, _READ)
    attributes = {k: str(v) for k, v in (response.get("Attributes") or {}).items() if k not in COUNTERS}
    response = yield Call("sns", "list_tags_for_resource", {"ResourceArn": arn}, _READ)
    return {"attributes": attributes, "tags": tag_dict(response.get("Tags"))}


def topic_baseline(facts: TopicFacts) -> Plan[dict[str, Any]]:
    """What the new topic looks like: its attributes (but the counters) and its tags."""
    return (yield from _read((yield from _arn(facts))))


def recycle_topic(
    spec: TopicSpec, facts: TopicFacts, baseline: Mapping[str, Any], limits: RecycleLimits
) -> Plan[str | None]:
    """None when the topic is as created and without subscriptions, else why to discard it."""
    arn = yield from _arn(facts)
    pending = yield from unsubscribe_all(arn, _READ.cut_to(spec.timeout))
    if pending:
        return f"{pending} subscription(s) still pending confirmation: SNS cannot delete them"
    now = yield from _read(arn)
    changed = sorted(
        key
        for key in set(now["attributes"]) | set(baseline.get("attributes") or {})
        if now["attributes"].get(key) != (baseline.get("attributes") or {}).get(key)
    )
    if changed:
        return f"its attributes changed since its creation ({', '.join(changed)})"
    if now["tags"] != baseline.get("tags"):
        return "its tags were changed"
    return None
