"""The IAM permissions of a DynamoDB table: lifecycle, sweeper, the item operations tests perform, the stream.

``CreateTable`` with tags also needs ``dynamodb:TagResource``; DynamoDB Streams has its own endpoint but the
``dynamodb:`` action prefix. Tables are scoped as ``table/<prefix>*``, their indexes ``.../index/*`` and
streams ``.../stream/*``; ``ListTables`` and ``ListStreams`` cannot be scoped to a resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sandboxres._kinds.permissions import ArnKind, Operations, PolicyScope, Scope
from sandboxres._kinds.permissions import permissions as _p

TABLE_OPERATIONS: Operations = {
    # Lifecycle (create with tags, wait, TTL, delete), sweeper (list, tags), then item operations.
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
}


def _arns(prefix: str, scope: Scope) -> Mapping[ArnKind, str]:
    table = f"arn:{scope.partition}:dynamodb:{scope.region}:{scope.account}:table/{prefix}*"
    return {"table": table, "index": f"{table}/index/*", "stream": f"{table}/stream/*"}


TABLE_POLICY = PolicyScope(
    statements=(
        ("table", "DynamoDBTestTables"),
        ("index", "DynamoDBTestTableIndexes"),
        ("stream", "DynamoDBTestTableStreams"),
    ),
    prefix_chars=re.compile(r"^[A-Za-z0-9_.-]+$"),
    arns=_arns,
)
