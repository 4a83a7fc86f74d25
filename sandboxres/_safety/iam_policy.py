"""The least-privilege IAM policy for a sandbox account, assembled from the kinds' permissions.

Each kind (``sandboxres._kinds.KINDS``) lists in its ``operations`` every SDK operation this library performs on
it (create, wait, tag, empty, delete, sweep, doctor) and every data operation tests typically perform inside a
block (items, objects, messages), with the IAM actions each needs and the kind of resource each action is checked
against (``sandboxres._kinds.<kind>.permissions``). :data:`OPERATIONS` is all of them plus STS, which belongs to
no kind. :func:`build_policy` groups those actions into one statement per resource kind, each scoped to the
library's name prefixes:

- tables ``table/test_*``, their indexes ``table/test_*/index/*`` and streams ``table/test_*/stream/*``;
- buckets ``test-*`` and their objects ``test-*/*``;
- queues ``test_*``;
- actions that AWS cannot scope to a resource (the listings, ``sts:GetCallerIdentity``) in a statement of
  their own with ``"Resource": "*"``. Scoping ``dynamodb:ListTables`` to ``table/test_*`` looks tidier but
  AWS does not honour it: the listing is then denied.

Warm pools keep their leases in one table, ``test_sandboxres_pool_leases_v1`` (``sandboxres._leases``): they
describe, create and tag it, and get, put, update, delete and scan its items. The table statement grants all of
that while the table prefix covers its name (the default ``test_`` does); a narrower prefix
(``table_prefix="test_billing_"``) gets a statement of its own, scoped to that one table
(:data:`LEASE_OPERATIONS`).

IAM action names are not always the operation's name (``HeadBucket`` needs ``s3:ListBucket``, ``CreateTable``
with tags also ``dynamodb:TagResource``...): each kind's permissions module says which. DynamoDB Streams
operations use the ``dynamodb:`` action prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sandboxres._engine.errors import SpecError
from sandboxres._kinds import KINDS
from sandboxres._kinds.permissions import ArnKind, Operations, Permission, Scope, permissions
from sandboxres._leases.records import LEASE_TABLE

PolicyService = str  # the SDK service of a kind's client: "dynamodb", "s3", "sqs"
POLICY_SERVICES: tuple[PolicyService, ...] = tuple(dict.fromkeys(kind.service for kind in KINDS.values()))
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
POLICY_VERSION = "2012-10-17"

# STS: the account check of the real-AWS guards and `sandboxres doctor`; always in the policy.
_STS_OPERATIONS: Operations = {("sts", "GetCallerIdentity"): permissions(("sts:GetCallerIdentity", "*"))}

# (botocore service name, botocore operation name) -> the permissions the call needs.
OPERATIONS: Mapping[tuple[str, str], tuple[Permission, ...]] = {
    **{key: perms for kind in KINDS.values() for key, perms in kind.operations.items()},
    **_STS_OPERATIONS,
}

# Which policy service each SDK service belongs to (None: always included).
_POLICY_SERVICE_OF: dict[str, PolicyService | None] = {
    **{service: kind.service for kind in KINDS.values() for service, _operation in kind.operations},
    **{service: None for service, _operation in _STS_OPERATIONS},
}

# Statement order and names (a Sid is letters and digits only).
_STATEMENTS: tuple[tuple[ArnKind, str], ...] = (
    *(statement for kind in KINDS.values() for statement in kind.policy.statements),
    ("*", "UnscopedListingAndIdentity"),
)

# What warm pools do on their lease table: make sure it exists (tagged), then conditional reads and writes of its
# items, a query per shape and a scan (status, drain, sweep). The table kind's permissions, on the lease table.
LEASE_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "CreateTable"),
    ("dynamodb", "GetItem"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "DeleteItem"),
    ("dynamodb", "Query"),
    ("dynamodb", "Scan"),
    ("dynamodb", "ListTagsOfResource"),  # the sweeper reads its tags, and deletes it once empty
    ("dynamodb", "DeleteTable"),
)
LEASE_STATEMENT_SID = "DynamoDBWarmPoolLeases"

_REGION_RE = re.compile(r"^(\*|[a-z]{2}(-[a-z]+)+-\d+)$")
_ACCOUNT_RE = re.compile(r"^(\*|\d{12})$")
_DEFAULT_PREFIXES = {name: kind.names.prefix for name, kind in KINDS.items()}
_ANY = Scope()


def iam_action_service(service: str) -> str:
    """The IAM action prefix of a botocore service: that of the kind whose operations use it (DynamoDB Streams
    shares ``dynamodb``), else the service's own name (``sts``)."""
    return _POLICY_SERVICE_OF.get(service) or service


def permissions_for(service: str, operation: str) -> tuple[Permission, ...]:
    """The permissions of one SDK call; KeyError when the operation is not in :data:`OPERATIONS`."""
    return OPERATIONS[(service, operation)]


def _check_prefix(kind: str, prefix: str) -> str:
    required, allowed = KINDS[kind].names.prefix, KINDS[kind].policy.prefix_chars
    if not isinstance(prefix, str) or not prefix.startswith(required):
        raise SpecError(
            f"{kind} prefix {prefix!r} must start with {required!r}: this library names every {kind} "
            f"{required}<label>_<unique>, so a policy for other names would let it create nothing"
        )
    if not allowed.match(prefix):
        raise SpecError(f"{kind} prefix {prefix!r} has characters a {kind} name cannot contain (or a wildcard)")
    return prefix


def _check_scope(partition: str, region: str, account: str) -> None:
    if partition not in PARTITIONS:
        raise SpecError(f"partition must be one of {', '.join(PARTITIONS)}, got {partition!r}")
    if not isinstance(region, str) or not _REGION_RE.match(region):
        raise SpecError(f"region must be '*' or a region name such as 'eu-west-1', got {region!r}")
    if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
        raise SpecError(f"account must be '*' or a 12-digit AWS account id, got {account!r}")


def resource_patterns(prefixes: Mapping[str, str] | None = None, scope: Scope = _ANY) -> dict[ArnKind, str]:
    """The ARN pattern of each resource kind under ``prefixes`` (kind name -> prefix; each kind's own by
    default) and ``scope``."""
    chosen = {**_DEFAULT_PREFIXES, **(prefixes or {})}
    patterns: dict[ArnKind, str] = {}
    for name, kind in KINDS.items():
        patterns.update(kind.policy.arns(chosen[name], scope))
    patterns["*"] = "*"
    return patterns


def _prefixes(given: Mapping[str, str]) -> dict[str, str]:
    """Each kind's prefix from the ``<kind>_prefix`` keywords of :func:`build_policy`, checked."""
    known = {f"{name}_prefix": name for name in KINDS}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TypeError(f"build_policy() got an unexpected keyword argument {unknown[0]!r}")
    chosen = {**_DEFAULT_PREFIXES, **{known[key]: value for key, value in given.items()}}
    return {name: _check_prefix(name, prefix) for name, prefix in chosen.items()}


def build_policy(
    services: Iterable[str] = POLICY_SERVICES,
    *,
    partition: str = "aws",
    region: str = "*",
    account: str = "*",
    **prefixes: str,
) -> dict[str, Any]:
    """The least-privilege IAM policy document for ``services`` (any of ``dynamodb``, ``s3``, ``sqs``).

    ``<kind>_prefix`` (``table_prefix``, ``bucket_prefix``, ``queue_prefix``) must start with the library's own
    prefix for the kind (``test_`` for tables and queues, ``test-`` for buckets) and may narrow it
    (``table_prefix="test_billing_"``). ``partition``, ``region`` and ``account`` scope the ARNs (``*`` by
    default). Raises :class:`~sandboxres.SpecError` on bad input.
    """
    chosen = list(dict.fromkeys(services))
    unknown = [s for s in chosen if s not in POLICY_SERVICES]
    if unknown or not chosen:
        raise SpecError(f"services must be some of {', '.join(POLICY_SERVICES)}, got {chosen!r}")
    _check_scope(partition, region, account)
    patterns = resource_patterns(_prefixes(prefixes), Scope(partition, region, account))
    actions: dict[ArnKind, set[str]] = {kind: set() for kind, _ in _STATEMENTS}
    for (service, _operation), needed in OPERATIONS.items():
        owner = _POLICY_SERVICE_OF[service]
        if owner is not None and owner not in chosen:
            continue
        for permission in needed:
            actions[permission.resource].add(permission.action)
    statements = [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": sorted(actions[kind]),
            "Resource": patterns[kind] if kind == "*" else [patterns[kind]],
        }
        for kind, sid in _STATEMENTS
        if actions[kind]
    ]
    table_prefix = _prefixes(prefixes)["table"]
    if "dynamodb" in chosen and not LEASE_TABLE.startswith(table_prefix):
        table_sids = {sid for _kind, sid in KINDS["table"].policy.statements}
        after = max(i for i, statement in enumerate(statements) if statement["Sid"] in table_sids) + 1
        statements.insert(after, _lease_statement(Scope(partition, region, account)))
    return {"Version": POLICY_VERSION, "Statement": statements}


def _lease_statement(scope: Scope) -> dict[str, Any]:
    """The warm pools' lease table, exactly (no wildcard), for a table prefix that does not cover its name."""
    table_arn = KINDS["table"].policy.arns(LEASE_TABLE, scope)["table"].removesuffix("*")
    actions = {p.action for key in LEASE_OPERATIONS for p in OPERATIONS[key] if p.resource == "table"}
    return {"Sid": LEASE_STATEMENT_SID, "Effect": "Allow", "Action": sorted(actions), "Resource": [table_arn]}
