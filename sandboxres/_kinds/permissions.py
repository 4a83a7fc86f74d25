"""What a kind needs from IAM: the actions of every SDK operation it performs, and the ARNs they are scoped to.

Each kind's home has a ``permissions`` module giving :data:`Operations` (``(botocore service, operation)`` ->
the :class:`Permission` objects the call needs) and a :class:`PolicyScope` (its statements, the ARN patterns
of its names, the characters a prefix may hold). ``sandboxres._safety.iam_policy`` assembles the policy from
them; nothing here builds a policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

ArnKind = Literal["table", "index", "stream", "bucket", "object", "queue", "topic", "*"]
"""The kind of resource AWS checks an action against (``*``: an action AWS cannot scope to a resource)."""


@dataclass(frozen=True)
class Permission:
    """One IAM action, and the kind of resource AWS checks it against."""

    action: str
    resource: ArnKind


Operations = Mapping[tuple[str, str], tuple[Permission, ...]]
"""(botocore service name, botocore operation name) -> the permissions the call needs."""


def permissions(*pairs: tuple[str, ArnKind]) -> tuple[Permission, ...]:
    """``permissions(("s3:PutObject", "object"), ...)``: the permissions of one call."""
    return tuple(Permission(action, resource) for action, resource in pairs)


@dataclass(frozen=True)
class Scope:
    """Where the policy is scoped: ``partition``, ``region`` and ``account`` of the ARNs (``*`` for any)."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"


@dataclass(frozen=True)
class PolicyScope:
    """How the policy scopes one kind's actions to the library's names."""

    statements: tuple[tuple[ArnKind, str], ...]  # (ARN kind, statement Sid), in the policy's order
    prefix_chars: re.Pattern[str]  # a prefix the policy may narrow to: the characters of the kind's names
    arns: Callable[[str, Scope], Mapping[ArnKind, str]]  # (prefix, scope) -> the ARN pattern of each ARN kind
