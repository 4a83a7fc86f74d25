"""An evaluation of resource policies (SQS queue and SNS topic policies) of the tests' own, independent of the
library and of the simulator: does a policy let an AWS service principal perform an action on a resource, for a
request whose context holds ``aws:SourceArn`` and ``aws:SourceAccount``?

Conservative: only ``Effect``, ``Principal`` (``*``, ``{"AWS": "*"}``, ``{"Service": ...}``), ``Action`` and
``Resource`` (IAM wildcards) and the conditions ``StringEquals``, ``StringLike``, ``ArnEquals``, ``ArnLike`` are
understood; a statement with anything else allows nothing, and an explicit Deny wins.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["Delivery", "allows"]

_OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}
_UNDERSTOOD = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    pattern = pattern.replace("[", "[[]")  # IAM has only * and ?
    if ignore_case:
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return fnmatch.fnmatchcase(value, pattern)


class Delivery:
    """One delivery by a service: who sends (``principal``), what (``action``) to what (``resource``), and for
    which source (``source_arn``, ``source_account``)."""

    def __init__(self, principal: str, action: str, resource: str, source_arn: str, source_account: str) -> None:
        self.principal = principal
        self.action = action
        self.resource = resource
        self.context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}

    def replace(self, **changes: str) -> Delivery:
        fields = {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "source_arn": self.context["aws:sourcearn"],
            "source_account": self.context["aws:sourceaccount"],
        }
        fields.update(changes)
        return Delivery(**fields)

    def matched_by(self, statement: Mapping[str, Any]) -> bool:
        if set(statement) - _UNDERSTOOD:
            return False
        principal = statement.get("Principal")
        if principal != "*":
            if not isinstance(principal, Mapping):
                return False
            if "*" not in _as_list(principal.get("AWS", [])) and self.principal not in _as_list(
                principal.get("Service", [])
            ):
                return False
        if not any(_wildcard(str(a), self.action, ignore_case=True) for a in _as_list(statement.get("Action", []))):
            return False
        resources = _as_list(statement.get("Resource", []))
        if not any(_wildcard(str(r), self.resource) for r in resources):
            return False
        for operator, tests in (statement.get("Condition") or {}).items():
            if operator not in _OPERATORS or not isinstance(tests, Mapping):
                return False
            for key, expected in tests.items():
                actual = self.context.get(str(key).lower())
                if actual is None:
                    return False
                like = operator.endswith("Like")
                if not any(_wildcard(str(e), actual) if like else str(e) == actual for e in _as_list(expected)):
                    return False
        return True


def allows(policy: str | None, delivery: Delivery) -> bool:
    """Whether the policy document (JSON text) allows ``delivery``."""
    if not policy:
        return False
    allowed = False
    for statement in _as_list(json.loads(policy).get("Statement", [])):
        if not isinstance(statement, Mapping) or not delivery.matched_by(statement):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
