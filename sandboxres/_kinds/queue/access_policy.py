"""A queue's resource policy: the statement that lets a service (S3, SNS) send into the queue for one source,
merged into the queue's ``Policy`` attribute and taken out again (exactly ours: the other statements stay, the
attribute goes when none is left).

AWS delivers S3 event notifications and SNS messages to a queue only when the queue's policy allows the service's
principal ``sqs:SendMessage`` on the queue, scoped to the sender by ``aws:SourceArn`` (and ``aws:SourceAccount``);
emulators deliver without it. The documents are built by pure functions (the topic's policy, an SNS ``Policy``
attribute, uses the same ones); the edits are plans: read, change, write, read back until the change holds (a
concurrent edit of the same policy by another helper is met by doing it again, a few times at most).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import ResourceError
from sandboxres._engine.steps import Call, Plan, RetryPolicy

POLICY_VERSION = "2012-10-17"
SID_PREFIX = "Sandboxres"
EDIT_ROUNDS = 3  # read-change-write rounds before a policy edited concurrently is given up
TRANSIENT_FLOOR = 30.0  # a wiring's calls retry throttling, 5xx, lost connections this long at least


def call_policy(timeout: float) -> RetryPolicy:
    """The retries of a wiring's calls: transient failures for the helper's deadline, and never less than
    :data:`TRANSIENT_FLOOR` (a helper's deadline bounds the wait for what AWS does eventually, not the retries
    of a throttled call)."""
    return RetryPolicy(deadline=max(timeout, TRANSIENT_FLOOR))


Statement = dict[str, Any]


def new_sid(purpose: str) -> str:
    """A statement id of the library's, unique to one wiring: ``Sandboxres<purpose><16 hex digits>``."""
    return f"{SID_PREFIX}{purpose}{uuid.uuid4().hex[:16]}"


def account_of(arn: str) -> str | None:
    """The account id in an ARN (``arn:aws:sqs:us-east-1:123456789012:name``), or None when it has none."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def service_statement(
    sid: str, *, service: str, action: str, resource: str, source_arn: str, source_account: str | None = None
) -> Statement:
    """Allow ``service`` (``s3.amazonaws.com``) ``action`` on ``resource`` for the sender ``source_arn`` only
    (``ArnEquals aws:SourceArn``), and only from ``source_account`` when given (``StringEquals aws:SourceAccount``)."""
    condition: dict[str, dict[str, str]] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    if source_account:
        condition["StringEquals"] = {"aws:SourceAccount": source_account}
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
        "Condition": condition,
    }


def send_statement(
    sid: str, service: str, queue_arn: str, source_arn: str, source_account: str | None = None
) -> Statement:
    """The statement letting ``service`` send into the queue ``queue_arn`` for ``source_arn``."""
    return service_statement(
        sid,
        service=service,
        action="sqs:SendMessage",
        resource=queue_arn,
        source_arn=source_arn,
        source_account=source_account,
    )


def statements(policy: str | None) -> list[Statement]:
    """The statements of a policy document (JSON text; None or empty: no policy)."""
    if not policy:
        return []
    document = json.loads(policy)
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def has_statement(policy: str | None, sid: str) -> bool:
    return any(statement.get("Sid") == sid for statement in statements(policy))


def with_statement(policy: str | None, statement: Mapping[str, Any]) -> str:
    """The policy with ``statement`` added (replacing a statement of the same Sid); the rest is kept as it is."""
    document: dict[str, Any] = json.loads(policy) if policy else {}
    if not isinstance(document, dict):
        document = {}
    document.setdefault("Version", POLICY_VERSION)
    kept = [s for s in statements(policy) if s.get("Sid") != statement.get("Sid")]
    document["Statement"] = [*kept, dict(statement)]
    return json.dumps(document, separators=(",", ":"))


def without_statement(policy: str | None, sid: str) -> str | None:
    """The policy without the statement ``sid``; None when no statement is left."""
    kept = [s for s in statements(policy) if s.get("Sid") != sid]
    if not kept:
        return None
    document = json.loads(policy) if policy else {}
    document["Statement"] = kept
    return json.dumps(document, separators=(",", ":"))


def edit_policy(
    read: Call,
    policy_of: Callable[[Any], str | None],
    write: Callable[[str | None], Call],
    change: Callable[[str | None], str | None],
    holds: Callable[[str | None], bool],
    resource: str,
) -> Plan[None]:
    """Read the policy (``read``, ``policy_of`` the response), write ``change(policy)`` unless the change already
    ``holds``, read it back; again while another writer's edit undid ours (a few rounds, then ResourceError)."""
    for _ in range(EDIT_ROUNDS):
        current = policy_of((yield read))
        if holds(current):
            return
        yield write(change(current))
    if holds(policy_of((yield read))):
        return
    raise ResourceError(resource, f"its policy kept changing under us ({EDIT_ROUNDS} edits lost); edit it alone")


def _queue_policy(response: Any) -> str | None:
    policy = (response.get("Attributes") or {}).get("Policy")
    return policy if isinstance(policy, str) and policy else None


def _queue_edit(queue_url: str, timeout: float) -> tuple[Call, Callable[[str | None], Call]]:
    policy = call_policy(timeout)
    read = Call("sqs", "get_queue_attributes", {"QueueUrl": queue_url, "AttributeNames": ["Policy"]}, policy)

    def write(text: str | None) -> Call:  # an empty Policy removes the attribute
        return Call(
            "sqs", "set_queue_attributes", {"QueueUrl": queue_url, "Attributes": {"Policy": text or ""}}, policy
        )

    return read, write


def grant_send(queue_url: str, statement: Statement, timeout: float, resource: str) -> Plan[None]:
    """Merge ``statement`` into the queue's policy."""
    read, write = _queue_edit(queue_url, timeout)
    sid = str(statement["Sid"])
    yield from edit_policy(
        read, _queue_policy, write, lambda p: with_statement(p, statement), lambda p: has_statement(p, sid), resource
    )


def revoke_send(queue_url: str, sid: str, timeout: float, resource: str) -> Plan[None]:
    """Take the statement ``sid`` out of the queue's policy (the attribute goes when it was the last one); a queue
    already gone counts as done."""
    read, write = _queue_edit(queue_url, timeout)
    try:
        yield from edit_policy(
            read,
            _queue_policy,
            write,
            lambda p: without_statement(p, sid),
            lambda p: not has_statement(p, sid),
            resource,
        )
    except ClientError as exc:
        if error_code(exc) != "QueueDoesNotExist":
            raise
