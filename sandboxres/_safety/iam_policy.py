"""The least-privilege IAM policy for a sandbox account, generated from one table of operations.

:data:`OPERATIONS` maps every SDK operation this library performs (create, wait, tag, empty, delete, sweep,
doctor) and every data operation tests typically perform inside a block (items, objects, messages) to the IAM
actions it needs and the kind of resource each action is checked against. :func:`build_policy` groups those
actions into one statement per resource kind, each scoped to the library's name prefixes:

- tables ``table/test_*``, their indexes ``table/test_*/index/*`` and streams ``table/test_*/stream/*``;
- buckets ``test-*`` and their objects ``test-*/*``;
- queues ``test_*``;
- actions that AWS cannot scope to a resource (the listings, ``sts:GetCallerIdentity``) in a statement of
  their own with ``"Resource": "*"``. Scoping ``dynamodb:ListTables`` to ``table/test_*`` looks tidier but
  AWS does not honour it: the listing is then denied.

IAM action names are not always the operation's name: ``HeadBucket`` and ``ListObjectsV2`` need
``s3:ListBucket``, ``ListObjectVersions`` needs ``s3:ListBucketVersions``, ``DeleteObjects`` needs
``s3:DeleteObject`` (and ``s3:DeleteObjectVersion`` for versions) on each object, ``CreateTable`` with tags
also needs ``dynamodb:TagResource``, ``CreateBucket`` with tags ``s3:TagResource``, and ``CreateQueue`` with
tags ``sqs:TagQueue``. DynamoDB Streams operations use the ``dynamodb:`` action prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sandboxres._engine.errors import SpecError
from sandboxres._kinds.bucket import BUCKET_PREFIX
from sandboxres._kinds.queue import QUEUE_PREFIX
from sandboxres._kinds.table import TABLE_PREFIX

ResourceKind = Literal["table", "index", "stream", "bucket", "object", "queue", "*"]
PolicyService = Literal["dynamodb", "s3", "sqs"]
POLICY_SERVICES: tuple[PolicyService, ...] = ("dynamodb", "s3", "sqs")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True)
class Permission:
    """One IAM action, and the kind of resource AWS checks it against."""

    action: str
    resource: ResourceKind


def _p(*pairs: tuple[str, ResourceKind]) -> tuple[Permission, ...]:
    return tuple(Permission(action, resource) for action, resource in pairs)


# (botocore service name, botocore operation name) -> the permissions the call needs.
OPERATIONS: Mapping[tuple[str, str], tuple[Permission, ...]] = {
    # DynamoDB: lifecycle (create with tags, wait, TTL, delete), sweeper (list, tags), then item operations.
    ("dynamodb", "CreateTable"): _p(("dynamodb:CreateTable", "table"), ("dynamodb:TagResource", "table")),
    ("dynamodb", "DescribeTable"): _p(("dynamodb:DescribeTable", "table")),
    ("dynamodb", "DeleteTable"): _p(("dynamodb:DeleteTable", "table")),
    ("dynamodb", "UpdateTimeToLive"): _p(("dynamodb:UpdateTimeToLive", "table")),
    ("dynamodb", "DescribeTimeToLive"): _p(("dynamodb:DescribeTimeToLive", "table")),
    ("dynamodb", "TagResource"): _p(("dynamodb:TagResource", "table")),
    ("dynamodb", "ListTagsOfResource"): _p(("dynamodb:ListTagsOfResource", "table")),
    ("dynamodb", "ListTables"): _p(("dynamodb:ListTables", "*")),
    ("dynamodb", "GetItem"): _p(("dynamodb:GetItem", "table")),
    ("dynamodb", "PutItem"): _p(("dynamodb:PutItem", "table")),
    ("dynamodb", "UpdateItem"): _p(("dynamodb:UpdateItem", "table")),
    ("dynamodb", "DeleteItem"): _p(("dynamodb:DeleteItem", "table")),
    ("dynamodb", "BatchGetItem"): _p(("dynamodb:BatchGetItem", "table")),
    ("dynamodb", "BatchWriteItem"): _p(("dynamodb:BatchWriteItem", "table")),
    ("dynamodb", "Query"): _p(("dynamodb:Query", "table"), ("dynamodb:Query", "index")),
    ("dynamodb", "Scan"): _p(("dynamodb:Scan", "table"), ("dynamodb:Scan", "index")),
    ("dynamodb", "TransactGetItems"): _p(("dynamodb:GetItem", "table")),
    ("dynamodb", "TransactWriteItems"): _p(
        ("dynamodb:PutItem", "table"),
        ("dynamodb:UpdateItem", "table"),
        ("dynamodb:DeleteItem", "table"),
        ("dynamodb:ConditionCheckItem", "table"),
    ),
    # DynamoDB Streams (its own endpoint, the dynamodb: action prefix).
    ("dynamodbstreams", "DescribeStream"): _p(("dynamodb:DescribeStream", "stream")),
    ("dynamodbstreams", "GetShardIterator"): _p(("dynamodb:GetShardIterator", "stream")),
    ("dynamodbstreams", "GetRecords"): _p(("dynamodb:GetRecords", "stream")),
    ("dynamodbstreams", "ListStreams"): _p(("dynamodb:ListStreams", "*")),
    # S3: lifecycle (create, wait, tag, versioning, empty every version and upload, delete), sweeper, objects.
    ("s3", "CreateBucket"): _p(("s3:CreateBucket", "bucket"), ("s3:TagResource", "bucket")),
    ("s3", "HeadBucket"): _p(("s3:ListBucket", "bucket")),
    ("s3", "GetBucketLocation"): _p(("s3:GetBucketLocation", "bucket")),
    ("s3", "PutBucketTagging"): _p(("s3:PutBucketTagging", "bucket")),
    ("s3", "GetBucketTagging"): _p(("s3:GetBucketTagging", "bucket")),
    ("s3", "PutBucketVersioning"): _p(("s3:PutBucketVersioning", "bucket")),
    ("s3", "GetBucketVersioning"): _p(("s3:GetBucketVersioning", "bucket")),
    ("s3", "ListObjects"): _p(("s3:ListBucket", "bucket")),
    ("s3", "ListObjectsV2"): _p(("s3:ListBucket", "bucket")),
    ("s3", "ListObjectVersions"): _p(("s3:ListBucketVersions", "bucket")),
    ("s3", "ListMultipartUploads"): _p(("s3:ListBucketMultipartUploads", "bucket")),
    ("s3", "DeleteBucket"): _p(("s3:DeleteBucket", "bucket")),
    ("s3", "ListBuckets"): _p(("s3:ListAllMyBuckets", "*")),
    ("s3", "DeleteObjects"): _p(
        ("s3:DeleteObject", "object"),
        ("s3:DeleteObjectVersion", "object"),
        ("s3:BypassGovernanceRetention", "object"),
    ),
    ("s3", "DeleteObject"): _p(("s3:DeleteObject", "object"), ("s3:DeleteObjectVersion", "object")),
    ("s3", "AbortMultipartUpload"): _p(("s3:AbortMultipartUpload", "object")),
    ("s3", "PutObject"): _p(("s3:PutObject", "object")),
    ("s3", "GetObject"): _p(("s3:GetObject", "object"), ("s3:GetObjectVersion", "object")),
    ("s3", "HeadObject"): _p(("s3:GetObject", "object"), ("s3:GetObjectVersion", "object")),
    ("s3", "CopyObject"): _p(("s3:PutObject", "object"), ("s3:GetObject", "object")),
    ("s3", "CreateMultipartUpload"): _p(("s3:PutObject", "object")),
    ("s3", "UploadPart"): _p(("s3:PutObject", "object")),
    ("s3", "CompleteMultipartUpload"): _p(("s3:PutObject", "object")),
    ("s3", "ListParts"): _p(("s3:ListMultipartUploadParts", "object")),
    ("s3", "GetObjectTagging"): _p(("s3:GetObjectTagging", "object")),
    ("s3", "PutObjectTagging"): _p(("s3:PutObjectTagging", "object")),
    # SQS: lifecycle (create with tags, wait, delete by URL or name), sweeper, messages.
    ("sqs", "CreateQueue"): _p(("sqs:CreateQueue", "queue"), ("sqs:TagQueue", "queue")),
    ("sqs", "GetQueueAttributes"): _p(("sqs:GetQueueAttributes", "queue")),
    ("sqs", "SetQueueAttributes"): _p(("sqs:SetQueueAttributes", "queue")),
    ("sqs", "GetQueueUrl"): _p(("sqs:GetQueueUrl", "queue")),
    ("sqs", "DeleteQueue"): _p(("sqs:DeleteQueue", "queue")),
    ("sqs", "TagQueue"): _p(("sqs:TagQueue", "queue")),
    ("sqs", "ListQueueTags"): _p(("sqs:ListQueueTags", "queue")),
    ("sqs", "ListDeadLetterSourceQueues"): _p(("sqs:ListDeadLetterSourceQueues", "queue")),
    ("sqs", "ListQueues"): _p(("sqs:ListQueues", "*")),
    ("sqs", "SendMessage"): _p(("sqs:SendMessage", "queue")),
    ("sqs", "SendMessageBatch"): _p(("sqs:SendMessage", "queue")),
    ("sqs", "ReceiveMessage"): _p(("sqs:ReceiveMessage", "queue")),
    ("sqs", "DeleteMessage"): _p(("sqs:DeleteMessage", "queue")),
    ("sqs", "DeleteMessageBatch"): _p(("sqs:DeleteMessage", "queue")),
    ("sqs", "ChangeMessageVisibility"): _p(("sqs:ChangeMessageVisibility", "queue")),
    ("sqs", "ChangeMessageVisibilityBatch"): _p(("sqs:ChangeMessageVisibility", "queue")),
    ("sqs", "PurgeQueue"): _p(("sqs:PurgeQueue", "queue")),
    # STS: the account check of the real-AWS guards and `sandboxres doctor`.
    ("sts", "GetCallerIdentity"): _p(("sts:GetCallerIdentity", "*")),
}

# Which policy service each SDK service belongs to (None: always included).
_POLICY_SERVICE_OF: dict[str, PolicyService | None] = {
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodb",
    "s3": "s3",
    "sqs": "sqs",
    "sts": None,
}

# Statement order and names (a Sid is letters and digits only).
_STATEMENTS: tuple[tuple[ResourceKind, str], ...] = (
    ("table", "DynamoDBTestTables"),
    ("index", "DynamoDBTestTableIndexes"),
    ("stream", "DynamoDBTestTableStreams"),
    ("bucket", "S3TestBuckets"),
    ("object", "S3TestBucketObjects"),
    ("queue", "SQSTestQueues"),
    ("*", "UnscopedListingAndIdentity"),
)

_PREFIX_RULES: dict[str, tuple[str, re.Pattern[str]]] = {
    "table": (TABLE_PREFIX, re.compile(r"^[A-Za-z0-9_.-]+$")),
    "bucket": (BUCKET_PREFIX, re.compile(r"^[a-z0-9.-]+$")),
    "queue": (QUEUE_PREFIX, re.compile(r"^[A-Za-z0-9_-]+$")),
}
_REGION_RE = re.compile(r"^(\*|[a-z]{2}(-[a-z]+)+-\d+)$")
_ACCOUNT_RE = re.compile(r"^(\*|\d{12})$")


def iam_action_service(service: str) -> str:
    """The IAM action prefix of a botocore service (DynamoDB Streams shares ``dynamodb``)."""
    return "dynamodb" if service == "dynamodbstreams" else service


def permissions_for(service: str, operation: str) -> tuple[Permission, ...]:
    """The permissions of one SDK call; KeyError when the operation is not in :data:`OPERATIONS`."""
    return OPERATIONS[(service, operation)]


def _check_prefix(kind: str, prefix: str) -> str:
    required, allowed = _PREFIX_RULES[kind]
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


def resource_patterns(
    *,
    table_prefix: str = TABLE_PREFIX,
    bucket_prefix: str = BUCKET_PREFIX,
    queue_prefix: str = QUEUE_PREFIX,
    partition: str = "aws",
    region: str = "*",
    account: str = "*",
) -> dict[ResourceKind, str]:
    """The ARN pattern of each resource kind under the given prefixes and scope."""
    table = f"arn:{partition}:dynamodb:{region}:{account}:table/{table_prefix}*"
    return {
        "table": table,
        "index": f"{table}/index/*",
        "stream": f"{table}/stream/*",
        "bucket": f"arn:{partition}:s3:::{bucket_prefix}*",
        "object": f"arn:{partition}:s3:::{bucket_prefix}*/*",
        "queue": f"arn:{partition}:sqs:{region}:{account}:{queue_prefix}*",
        "*": "*",
    }


def build_policy(
    services: Iterable[str] = POLICY_SERVICES,
    *,
    table_prefix: str = TABLE_PREFIX,
    bucket_prefix: str = BUCKET_PREFIX,
    queue_prefix: str = QUEUE_PREFIX,
    partition: str = "aws",
    region: str = "*",
    account: str = "*",
) -> dict[str, Any]:
    """The least-privilege IAM policy document for ``services`` (any of ``dynamodb``, ``s3``, ``sqs``).

    Prefixes must start with the library's own (``test_`` for tables and queues, ``test-`` for buckets) and
    may narrow them (``table_prefix="test_billing_"``). ``partition``, ``region`` and ``account`` scope the
    ARNs (``*`` by default). Raises :class:`~sandboxres.SpecError` on bad input.
    """
    chosen = list(dict.fromkeys(services))
    unknown = [s for s in chosen if s not in POLICY_SERVICES]
    if unknown or not chosen:
        raise SpecError(f"services must be some of {', '.join(POLICY_SERVICES)}, got {chosen!r}")
    _check_scope(partition, region, account)
    patterns = resource_patterns(
        table_prefix=_check_prefix("table", table_prefix),
        bucket_prefix=_check_prefix("bucket", bucket_prefix),
        queue_prefix=_check_prefix("queue", queue_prefix),
        partition=partition,
        region=region,
        account=account,
    )
    actions: dict[ResourceKind, set[str]] = {kind: set() for kind, _ in _STATEMENTS}
    for (service, _operation), permissions in OPERATIONS.items():
        owner = _POLICY_SERVICE_OF[service]
        if owner is not None and owner not in chosen:
            continue
        for permission in permissions:
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
    return {"Version": POLICY_VERSION, "Statement": statements}
