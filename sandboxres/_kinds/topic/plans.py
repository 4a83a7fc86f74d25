"""The plans of an SNS topic: create (tagged from birth) and wait until it answers, delete (its subscriptions
first, then the topic), read its tags, list the library's topics.

SNS names a topic by its ARN in every call but CreateTopic. A resource known by name alone (a create call whose
answer was lost) is found by listing the topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.plans import DELETE_DEADLINE, Progress, create_call, label_of, not_found, tag_list
from sandboxres._engine.steps import Call, NotReady, Outcome, Plan, Poll, RetryPolicy
from sandboxres._kinds.base import Facts, Listed, tag_dict
from sandboxres._kinds.topic.spec import TOPIC_NAMES, TopicSpec

_CREATE = RetryPolicy(deadline=120.0)
_DELETE = RetryPolicy(deadline=DELETE_DEADLINE)
_READ = RetryPolicy(deadline=60.0)
_LIST = RetryPolicy(deadline=120.0)
# A topic that does not exist: NotFound (GetTopicAttributes, ListSubscriptionsByTopic, DeleteTopic on emulators),
# ResourceNotFound (ListTagsForResource).
GONE = frozenset({"NotFound", "NotFoundException", "ResourceNotFound", "ResourceNotFoundException"})
PENDING = "PendingConfirmation"  # the SubscriptionArn of a subscription not confirmed yet: it cannot be deleted


@dataclass
class TopicFacts(Facts):
    """A topic: its name, and its ARN once known."""

    arn: str | None = None


def arn_name(arn: str) -> str:
    """The topic name at the end of a topic ARN."""
    return arn.rsplit(":", 1)[-1]


def _region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 5 else None


def _answers(response: Mapping[str, Any]) -> None:
    if "Attributes" not in response:
        raise NotReady("no attributes yet")


def create_topic(
    spec: TopicSpec, facts: TopicFacts, tags: Mapping[str, str], region: str | None, progress: Progress
) -> Plan[TopicFacts]:
    """CreateTopic with the library's tags (and ``FifoTopic`` for FIFO topics), then GetTopicAttributes until the
    topic answers."""
    name = facts.name
    params: dict[str, Any] = {"Name": name, "Tags": tag_list(tags)}
    attributes = spec.topic_attributes()
    if attributes:
        params["Attributes"] = attributes
    response = yield from create_call(Call("sns", "create_topic", params, _CREATE.cut_to(spec.timeout)), name, progress)
    facts.arn = arn = str(response["TopicArn"])
    progress.created.add(name)
    yield Poll(
        Call("sns", "get_topic_attributes", {"TopicArn": arn}),
        _answers,
        label_of("topic", name),
        spec.timeout,
        {code: Outcome.NOT_READY for code in GONE},
    )
    progress.confirmed.add(name)
    return facts


def find_topic_arn(name: str, policy: RetryPolicy = _READ) -> Plan[str | None]:
    """The ARN of the topic called ``name``, from the listing (every page); None when there is none."""
    params: dict[str, Any] = {}
    while True:
        page = yield Call("sns", "list_topics", params, policy)
        for topic in page.get("Topics") or []:
            arn = str(topic.get("TopicArn") or "")
            if arn_name(arn) == name:
                return arn
        token = page.get("NextToken")
        if not token:
            return None
        params = {"NextToken": token}


def subscriptions(arn: str, policy: RetryPolicy = _READ) -> Plan[list[dict[str, Any]]]:
    """Every subscription of the topic (ListSubscriptionsByTopic, all pages), pending ones included."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TopicArn": arn}
    while True:
        page = yield Call("sns", "list_subscriptions_by_topic", params, policy)
        found.extend(page.get("Subscriptions") or [])
        token = page.get("NextToken")
        if not token:
            return found
        params = {"TopicArn": arn, "NextToken": token}


def unsubscribe_all(arn: str, policy: RetryPolicy = _DELETE) -> Plan[int]:
    """Delete every confirmed subscription of the topic; how many are left pending (SNS skips those: they
    cannot be deleted, and end with the topic or expire). A subscription gone meanwhile counts as deleted."""
    pending = 0
    for subscription in (yield from subscriptions(arn, policy)):
        subscription_arn = str(subscription.get("SubscriptionArn") or "")
        if not subscription_arn.startswith("arn:"):
            pending += 1
            continue
        try:
            yield Call("sns", "unsubscribe", {"SubscriptionArn": subscription_arn}, policy)
        except ClientError as exc:
            if error_code(exc) not in GONE:
                raise
    return pending


def delete_topic(facts: TopicFacts, progress: Progress, timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Delete the topic's subscriptions, then the topic (by ARN; found by listing when only its name is known)."""
    name = facts.name
    TOPIC_NAMES.check_own(name)
    policy = _DELETE.cut_to(timeout)
    arn = facts.arn or (yield from find_topic_arn(name, policy))
    if arn is None:
        not_found("topic", name, progress)
        return
    try:
        yield from unsubscribe_all(arn, policy)
        yield Call("sns", "delete_topic", {"TopicArn": arn}, policy)
    except ClientError as exc:
        if error_code(exc) not in GONE:
            raise
        not_found("topic", name, progress)


def read_topic_tags(facts: TopicFacts) -> Plan[dict[str, str] | None]:
    """The topic's tags; None when it does not exist (anymore)."""
    arn = facts.arn or (yield from find_topic_arn(facts.name))
    if arn is None:
        return None
    try:
        response = yield Call("sns", "list_tags_for_resource", {"ResourceArn": arn}, _READ)
    except ClientError as exc:
        if error_code(exc) in GONE:
            return None
        raise
    return tag_dict(response.get("Tags"))


def list_topics() -> Plan[list[Listed]]:
    """The library's topics (by prefix), every page, with their ARNs and regions."""
    found: list[Listed] = []
    params: dict[str, Any] = {}
    while True:
        page = yield Call("sns", "list_topics", params, _LIST)
        for topic in page.get("Topics") or []:
            arn = str(topic.get("TopicArn") or "")
            name = arn_name(arn)
            if arn and TOPIC_NAMES.owns(name):
                found.append(Listed(TopicFacts(name, arn), _region(arn)))
        token = page.get("NextToken")
        if not token:
            return found
        params = {"NextToken": token}
