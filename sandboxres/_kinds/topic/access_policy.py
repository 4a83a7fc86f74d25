"""A topic's resource policy: the statement that lets S3 publish a bucket's event notifications to the topic
(``sns:Publish`` for ``s3.amazonaws.com``, scoped by ``aws:SourceArn`` and ``aws:SourceAccount``), merged into the
topic's ``Policy`` attribute and taken out again.

A topic always has a policy (AWS and moto give a new topic a default statement for its owner), so taking ours out
leaves the others; the documents are the queue's (``sandboxres._kinds.queue.access_policy``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.steps import Call, Plan
from sandboxres._kinds.queue.access_policy import (
    POLICY_VERSION,
    Statement,
    call_policy,
    edit_policy,
    has_statement,
    service_statement,
    with_statement,
    without_statement,
)

TOPIC_GONE = frozenset({"NotFound", "NotFoundException"})


def publish_statement(sid: str, service: str, topic_arn: str, source_arn: str, source_account: str | None) -> Statement:
    """The statement letting ``service`` publish to the topic ``topic_arn`` for ``source_arn``."""
    return service_statement(
        sid,
        service=service,
        action="sns:Publish",
        resource=topic_arn,
        source_arn=source_arn,
        source_account=source_account,
    )


def _topic_policy(response: Any) -> str | None:
    policy = (response.get("Attributes") or {}).get("Policy")
    return policy if isinstance(policy, str) and policy else None


def _topic_edit(topic_arn: str, timeout: float) -> tuple[Call, Callable[[str | None], Call]]:
    policy = call_policy(timeout)
    read = Call("sns", "get_topic_attributes", {"TopicArn": topic_arn}, policy)

    def write(text: str | None) -> Call:
        value = text or f'{{"Version":"{POLICY_VERSION}","Statement":[]}}'
        params = {"TopicArn": topic_arn, "AttributeName": "Policy", "AttributeValue": value}
        return Call("sns", "set_topic_attributes", params, policy)

    return read, write


def grant_publish(topic_arn: str, statement: Statement, timeout: float, resource: str) -> Plan[None]:
    """Merge ``statement`` into the topic's policy."""
    read, write = _topic_edit(topic_arn, timeout)
    sid = str(statement["Sid"])
    yield from edit_policy(
        read, _topic_policy, write, lambda p: with_statement(p, statement), lambda p: has_statement(p, sid), resource
    )


def revoke_publish(topic_arn: str, sid: str, timeout: float, resource: str) -> Plan[None]:
    """Take the statement ``sid`` out of the topic's policy; a topic already gone counts as done."""
    read, write = _topic_edit(topic_arn, timeout)
    try:
        yield from edit_policy(
            read,
            _topic_policy,
            write,
            lambda p: without_statement(p, sid),
            lambda p: not has_statement(p, sid),
            resource,
        )
    except ClientError as exc:
        if error_code(exc) not in TOPIC_GONE:
            raise
