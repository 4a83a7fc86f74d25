"""The AWS behaviour simulator's engine: a scriptable, fault-injecting HTTP reverse proxy for AWS emulators.

The proxy listens on a free 127.0.0.1 port and forwards every request to an upstream emulator (typically a
moto server). It understands enough of the AWS wire protocols to name each request:

* DynamoDB -- JSON protocol, ``X-Amz-Target: DynamoDB_20120810.<Operation>``, table in ``TableName``
  (or in ``ResourceArn`` for the tagging calls);
* SQS -- JSON protocol (``X-Amz-Target: AmazonSQS.<Operation>``, queue in ``QueueName`` / ``QueueUrl``)
  and the older query protocol (``Action=<Operation>`` form);
* S3 -- REST with path-style addressing; the operation (CreateBucket, HeadBucket, PutBucketTagging,
  ListObjectVersions, DeleteObjects, PutObject, ...) is derived from method, path and query.

Tests script it with :class:`Rule` objects, usually built by the constructors in
:mod:`~sandboxres._simulator.constructors`, and read back what it saw from :attr:`FaultProxy.requests`::

    with start_fault_proxy(moto_url) as proxy:
        proxy.add(table_creating(seconds=1.5))
        proxy.add(throttling("sqs", "CreateQueue", times=2))
        ...
        assert proxy.count("dynamodb", "DescribeTable", faulted=True) >= 1

Every injected error is answered in the real AWS wire format of the request's protocol, so botocore raises
the same exception class, ``Error.Code`` and ``Error.QueryErrorCode`` as against AWS.

Matching: rules are consulted in the order they were added. Delay rules add latency and let matching go on;
the first other rule that matches decides the request. A rule applies to requests of its ``service`` and
``operations`` (``None``: all but ``exclude``), optionally only to resource names accepted by ``resource``,
and for a bounded window: ``times=N`` (the first N matching requests) and/or ``for_seconds=T``. The window
starts when the rule first applies -- or, with ``after="CreateTable"`` (an *anchor*), separately for every
resource name, when that operation last succeeded upstream for that name (the rule ignores names without
such an event). ``probability`` applies a rule to only a fraction of the requests (seeded).

The package holds one module a job: ``messages`` (requests, replies, records), ``parsing`` and ``parsing_s3``
(naming a request per service and protocol), ``faults`` and ``aws_errors`` (what is done to a request), ``rules``
(when), ``http_server`` and ``proxy`` (serving), ``constructors`` (ready-made rules). This module re-exports them.
"""

from __future__ import annotations

from sandboxres._simulator.aws_errors import AwsError, FaultKind, ServiceError
from sandboxres._simulator.constructors import (
    CONCURRENT_TABLE_LIMIT_MESSAGE,
    TABLE_QUOTA_MESSAGE,
    TRANSIENT_FAULTS,
    access_denied,
    aws_error,
    bucket_not_found_after_create,
    bucket_operation_aborted,
    connection_reset,
    latency,
    queue_deleted_recently,
    queue_not_ready,
    random_faults,
    server_error,
    service_unavailable,
    table_creating,
    table_deleting,
    table_limit_exceeded,
    table_not_found_after_create,
    throttling,
)
from sandboxres._simulator.faults import (
    Chaos,
    Delay,
    FakeDeletingTable,
    Fault,
    HeldRequest,
    ResetConnection,
    SetTableStatus,
    SlowReply,
    Trigger,
)
from sandboxres._simulator.messages import RESET, ProxyRequest, Reply, SeenRequest
from sandboxres._simulator.parsing import parse_request
from sandboxres._simulator.parsing_s3 import s3_operation
from sandboxres._simulator.proxy import FaultProxy, start_fault_proxy
from sandboxres._simulator.rules import Operations, ResourceMatch, Rule, Scope, Window

__all__ = [
    "CONCURRENT_TABLE_LIMIT_MESSAGE",
    "RESET",
    "TABLE_QUOTA_MESSAGE",
    "TRANSIENT_FAULTS",
    "AwsError",
    "Chaos",
    "Delay",
    "FakeDeletingTable",
    "Fault",
    "FaultKind",
    "FaultProxy",
    "HeldRequest",
    "Operations",
    "ProxyRequest",
    "Reply",
    "ResetConnection",
    "ResourceMatch",
    "Rule",
    "Scope",
    "SeenRequest",
    "ServiceError",
    "SetTableStatus",
    "SlowReply",
    "Trigger",
    "Window",
    "access_denied",
    "aws_error",
    "bucket_not_found_after_create",
    "bucket_operation_aborted",
    "connection_reset",
    "latency",
    "parse_request",
    "queue_deleted_recently",
    "queue_not_ready",
    "random_faults",
    "s3_operation",
    "server_error",
    "service_unavailable",
    "start_fault_proxy",
    "table_creating",
    "table_deleting",
    "table_limit_exceeded",
    "table_not_found_after_create",
    "throttling",
]
