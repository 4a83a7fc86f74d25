"""The part of IAM policy evaluation that AWS applies when a service delivers into a queue or topic: does the
resource policy let ``s3.amazonaws.com`` (or ``sns.amazonaws.com``) perform an action on the resource, with the
request context of that delivery (``aws:SourceArn``, ``aws:SourceAccount``)?

Evaluated: ``Effect`` (an explicit Deny wins), ``Principal`` (``*``, ``{"AWS": "*"}`` or ``{"Service": ...}``),
``Action`` (wildcards), ``Resource`` (wildcards; absent means this resource), and ``Condition`` with the String
and Arn operators (``Equals``, ``NotEquals``, ``Like``, ``NotLike``, ``StringEqualsIgnoreCase``, ``...IfExists``).
A statement with ``NotPrincipal``, ``NotAction``, ``NotResource`` or another condition operator does not allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one character."""
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _principal_matches(statement: Mapping[str, Any], service: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return "*" in _list(principal.get("AWS")) or service in _list(principal.get("Service"))


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    return any(isinstance(a, str) and like(a, action, ignore_case=True) for a in _list(statement.get("Action")))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "Resource" not in statement:
        return True
    return any(isinstance(r, str) and like(r, resource) for r in _list(statement.get("Resource")))


def _operator_holds(operator: str, values: list[str], actual: str) -> bool | None:
    base = operator
    negated = False
    for positive in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"):
        if base == positive:
            negated = True
            base = base.replace("Not", "")
    if base in ("StringEquals", "ArnEquals"):
        found = actual in values
    elif base == "StringEqualsIgnoreCase":
        found = actual.lower() in (v.lower() for v in values)
    elif base in ("StringLike", "ArnLike"):
        found = any(like(v, actual) for v in values)
    else:
        return None
    return not found if negated else found


def _conditions_hold(statement: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, dict):
        return False
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, tests in conditions.items():
        if not isinstance(tests, dict):
            return False
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        for key, raw in tests.items():
            actual = lowered.get(str(key).lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            holds = _operator_holds(base, [str(v) for v in _list(raw)], actual)
            if not holds:
                return False
    return True


def allows(policy: str | None, *, service: str, action: str, resource: str, context: Mapping[str, str]) -> bool:
    """Whether the resource policy (JSON text) lets ``service`` (``s3.amazonaws.com``) perform ``action``
    (``sqs:SendMessage``) on ``resource`` (an ARN) in ``context`` (``aws:SourceArn`` ...)."""
    if not policy:
        return False
    try:
        document = json.loads(policy)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    allowed = False
    for statement in _list(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
            continue
        if not (
            _principal_matches(statement, service)
            and _action_matches(statement, action)
            and _resource_matches(statement, resource)
            and _conditions_hold(statement, context)
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed
