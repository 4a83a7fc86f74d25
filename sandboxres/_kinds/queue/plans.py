"""The plans of an SQS queue (and its dead-letter queue): create and wait until it answers, delete (the queue,
then its dead-letter queue), read its tags, list the library's queues."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.plans import DELETE_DEADLINE, Progress, create_call, label_of, not_found, not_found_policy
from sandboxres._engine.steps import Call, NotReady, Outcome, Plan, Poll, RetryPolicy
from sandboxres._kinds.base import Facts, Listed
from sandboxres._kinds.queue.spec import QUEUE_NAMES, QUEUE_PREFIX, QueueSpec

# A name deleted in the last 60 s is refused with QueueDeletedRecently: retried for up to 3 minutes.
_CREATE = RetryPolicy(180.0, {"QueueDeletedRecently": None})
_DELETE = RetryPolicy(deadline=DELETE_DEADLINE)
_READ = RetryPolicy(deadline=60.0)
_LIST = RetryPolicy(deadline=120.0)


@dataclass
class QueueFacts(Facts):
    """A queue: its name, its URL and ARN once known, and its dead-letter queue's facts (``dead_letter=``)."""

    url: str | None = None
    arn: str | None = None
    dead_letter: QueueFacts | None = None


def _queue_arn(response: Mapping[str, Any]) -> str:
    arn = response.get("Attributes", {}).get("QueueArn")
    if not arn:
        raise NotReady("no QueueArn yet")
    return str(arn)


def _create_one(
    facts: QueueFacts, attributes: Mapping[str, str], tags: Mapping[str, str], timeout: float, progress: Progress
) -> Plan[QueueFacts]:
    name = facts.name
    params: dict[str, Any] = {"QueueName": name, "tags": dict(tags)}
    if attributes:
        params["Attributes"] = dict(attributes)
    response = yield from create_call(Call("sqs", "create_queue", params, _CREATE.cut_to(timeout)), name, progress)
    facts.url = url = response["QueueUrl"]
    progress.created.add(name)
    facts.arn = yield Poll(
        Call("sqs", "get_queue_attributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
        _queue_arn,
        label_of("queue", name),
        timeout,
        {"QueueDoesNotExist": Outcome.NOT_READY},
    )
    progress.confirmed.add(name)
    return facts


def create_queue(
    spec: QueueSpec, facts: QueueFacts, tags: Mapping[str, str], region: str | None, progress: Progress
) -> Plan[QueueFacts]:
    """Create the dead-letter queue (if any), then the queue, each until it answers (``region``: in the URL SQS
    returns)."""
    dead_letter = facts.dead_letter
    if dead_letter is not None:
        yield from _create_one(dead_letter, spec.dead_letter_attributes(), tags, spec.timeout, progress)
    attributes = spec.queue_attributes(dead_letter.arn if dead_letter else None)
    yield from _create_one(facts, attributes, tags, spec.timeout, progress)
    return facts


def _delete_one(facts: QueueFacts, progress: Progress, timeout: float) -> Plan[None]:
    name, url = facts.name, facts.url
    QUEUE_NAMES.check_own(name)
    policy = not_found_policy(_DELETE.cut_to(timeout), name, progress, "QueueDoesNotExist")
    try:
        if url is None:
            response = yield Call("sqs", "get_queue_url", {"QueueName": name}, policy)
            url = response["QueueUrl"]
        yield Call("sqs", "delete_queue", {"QueueUrl": url}, policy)
    except ClientError as exc:
        if error_code(exc) != "QueueDoesNotExist":
            raise
        not_found("queue", name, progress)


def delete_queue(facts: QueueFacts, progress: Progress, timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Delete the queue, then its dead-letter queue (each by URL when known, else by name). A queue that cannot be
    deleted (or may still appear) does not keep its dead-letter queue from being deleted; the queue's own failure
    is raised afterwards."""
    pending: Exception | None = None
    try:
        yield from _delete_one(facts, progress, timeout)
    except Exception as exc:
        if facts.dead_letter is None:
            raise
        pending = exc
    if facts.dead_letter is not None:
        yield from _delete_one(facts.dead_letter, progress, timeout)
    if pending is not None:
        raise pending


def read_queue_tags(facts: QueueFacts) -> Plan[dict[str, str] | None]:
    """The queue's tags; None when it does not exist (anymore)."""
    try:
        url = facts.url
        if not url:
            response = yield Call("sqs", "get_queue_url", {"QueueName": facts.name}, _READ)
            url = response["QueueUrl"]
        response = yield Call("sqs", "list_queue_tags", {"QueueUrl": url}, _READ)
    except ClientError as exc:
        if error_code(exc) == "QueueDoesNotExist":
            return None
        raise
    return {str(k): str(v) for k, v in (response.get("Tags") or {}).items()}


def list_queues() -> Plan[list[Listed]]:
    """The library's queues (by prefix), every page, with their URLs."""
    found: list[Listed] = []
    params: dict[str, Any] = {"QueueNamePrefix": QUEUE_PREFIX, "MaxResults": 1000}
    while True:
        page = yield Call("sqs", "list_queues", params, _LIST)
        for url in page.get("QueueUrls", []):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            if QUEUE_NAMES.owns(name):
                found.append(Listed(QueueFacts(name, url)))
        token = page.get("NextToken")
        if not token:
            return found
        params = {"QueueNamePrefix": QUEUE_PREFIX, "MaxResults": 1000, "NextToken": token}
