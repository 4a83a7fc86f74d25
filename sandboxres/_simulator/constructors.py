"""Rule constructors: the common AWS fault scenarios as ready-made :class:`Rule` objects.

Every constructor takes the window keywords of :class:`Window` (``resource``, ``times``, ``for_seconds``) and,
where a :class:`Scope` is accepted, an anchor (``after``); they are handed to :class:`Rule` unchanged.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, cast

from sandboxres._simulator.aws_errors import AwsError, FaultKind, ServiceError
from sandboxres._simulator.faults import Chaos, Delay, FakeDeletingTable, Fault, ResetConnection, SetTableStatus
from sandboxres._simulator.rules import Operations, ResourceMatch, Rule, Scope, Window

if TYPE_CHECKING:
    from typing_extensions import Unpack

CONCURRENT_TABLE_LIMIT_MESSAGE = (
    "Subscriber limit exceeded: Only 10 tables can be created, updated, or deleted simultaneously"
)
TABLE_QUOTA_MESSAGE = "Subscriber limit exceeded: There is a limit of 2500 tables per subscriber"
TABLE_NOT_FOUND_MESSAGE = "Requested resource not found: Table: {resource} not found"
TABLE_IN_USE_MESSAGE = "Attempt to change a resource which is still in use: Table is being {what}: {{resource}}"

TRANSIENT_FAULTS: tuple[str, ...] = ("throttling", "internal", "unavailable", "reset", "latency")


def latency(seconds: float, service: str = "*", operations: Operations = None, **scope: Unpack[Scope]) -> Rule:
    """Delay matching requests by ``seconds`` (then other rules still apply, and the request is forwarded)."""
    return Rule(Delay(seconds), service=service, operations=operations, **scope)


def aws_error(
    service: str,
    operations: Operations,
    code: str,
    message: str,
    status: int = 400,
    *,
    type_name: str | None = None,
    query_code: str | None = None,
    after_upstream: bool = False,
    **scope: Unpack[Scope],
) -> Rule:
    """Any AWS error (see :class:`AwsError`)."""
    fault = AwsError(code, message, status, type_name=type_name, query_code=query_code, after_upstream=after_upstream)
    return Rule(fault, service=service, operations=operations, **scope)


def _service_error(
    kind: FaultKind,
    service: str,
    operations: Operations,
    scope: Scope,
    *,
    status: int | None = None,
    after_upstream: bool = False,
) -> Rule:
    fault = ServiceError(kind, status=status, after_upstream=after_upstream)
    return Rule(fault, service=service, operations=operations, **scope)


def throttling(service: str = "*", operations: Operations = None, **scope: Unpack[Scope]) -> Rule:
    """DynamoDB ThrottlingException (400), S3 SlowDown (503), SQS RequestThrottled (400)."""
    return _service_error("throttling", service, operations, scope)


def server_error(
    service: str = "*",
    operations: Operations = None,
    *,
    status: int = 500,
    after_upstream: bool = False,
    **scope: Unpack[Scope],
) -> Rule:
    """A 500 (DynamoDB InternalServerError, S3 InternalError, SQS InternalError / InternalFailure).

    ``after_upstream=True``: the request is carried out upstream, the client still gets the 500.
    """
    return _service_error("internal", service, operations, scope, status=status, after_upstream=after_upstream)


def service_unavailable(service: str = "*", operations: Operations = None, **scope: Unpack[Scope]) -> Rule:
    """A 503 ServiceUnavailable."""
    return _service_error("unavailable", service, operations, scope)


def access_denied(service: str = "*", operations: Operations = None, **scope: Unpack[Scope]) -> Rule:
    """DynamoDB AccessDeniedException (400), S3 AccessDenied (403), SQS AccessDenied (403)."""
    return _service_error("access_denied", service, operations, scope)


def connection_reset(
    service: str = "*", operations: Operations = None, *, after_upstream: bool = False, **scope: Unpack[Scope]
) -> Rule:
    """Reset the connection without a response (``after_upstream=True``: after the upstream did the work)."""
    return Rule(ResetConnection(after_upstream=after_upstream), service=service, operations=operations, **scope)


def table_creating(seconds: float, *, resource: ResourceMatch = None, tags_not_found: bool = True) -> list[Rule]:
    """Make DynamoDB tables look CREATING for ``seconds`` after CreateTable, like AWS.

    CreateTable answers ``TableStatus: CREATING``; DescribeTable reports CREATING; DeleteTable and
    UpdateTable raise ResourceInUseException; with ``tags_not_found`` TagResource / UntagResource /
    ListTagsOfResource raise ResourceNotFoundException (AWS does that on CREATING tables).
    """
    while_creating = functools.partial(
        Rule, service="dynamodb", resource=resource, for_seconds=seconds, after="CreateTable"
    )
    rules = [
        Rule(SetTableStatus("CREATING"), service="dynamodb", operations="CreateTable", resource=resource),
        while_creating(SetTableStatus("CREATING"), operations="DescribeTable"),
        while_creating(
            AwsError("ResourceInUseException", TABLE_IN_USE_MESSAGE.format(what="created")),
            operations=("DeleteTable", "UpdateTable", "UpdateTimeToLive"),
        ),
    ]
    if tags_not_found:
        rules.append(
            while_creating(
                AwsError("ResourceNotFoundException", TABLE_NOT_FOUND_MESSAGE),
                operations=("TagResource", "UntagResource", "ListTagsOfResource"),
            )
        )
    return rules


def table_not_found_after_create(times: int, *, resource: ResourceMatch = None) -> Rule:
    """The first ``times`` DescribeTable calls after each CreateTable raise ResourceNotFoundException."""
    fault = AwsError("ResourceNotFoundException", TABLE_NOT_FOUND_MESSAGE)
    return Rule(
        fault, service="dynamodb", operations="DescribeTable", resource=resource, times=times, after="CreateTable"
    )


def table_deleting(seconds: float, *, resource: ResourceMatch = None) -> list[Rule]:
    """Make DynamoDB tables look DELETING for ``seconds`` after DeleteTable, then gone.

    DeleteTable answers ``TableStatus: DELETING``; for ``seconds`` DescribeTable answers DELETING (made up
    from the DeleteTable reply), a repeated DeleteTable succeeds with DELETING (as on AWS), and CreateTable of
    the same name raises ResourceInUseException. Afterwards the upstream answers (ResourceNotFoundException).
    """
    while_deleting = functools.partial(
        Rule, service="dynamodb", resource=resource, for_seconds=seconds, after="DeleteTable"
    )
    return [
        # First: a repeated DeleteTable inside the window is answered here, not forwarded.
        while_deleting(FakeDeletingTable(), operations=("DescribeTable", "DeleteTable")),
        Rule(SetTableStatus("DELETING"), service="dynamodb", operations="DeleteTable", resource=resource),
        while_deleting(
            AwsError("ResourceInUseException", TABLE_IN_USE_MESSAGE.format(what="deleted")), operations="CreateTable"
        ),
    ]


def table_limit_exceeded(
    kind: Literal["concurrent", "quota"] = "concurrent",
    *,
    operations: Operations = "CreateTable",
    **window: Unpack[Window],
) -> Rule:
    """LimitExceededException: ``concurrent`` (retryable, "...simultaneously") or ``quota`` (table count)."""
    message = CONCURRENT_TABLE_LIMIT_MESSAGE if kind == "concurrent" else TABLE_QUOTA_MESSAGE
    return Rule(AwsError("LimitExceededException", message), service="dynamodb", operations=operations, **window)


def bucket_not_found_after_create(
    seconds: float, *, operations: Operations = None, resource: ResourceMatch = None
) -> Rule:
    """For ``seconds`` after CreateBucket, calls on the bucket fail: HeadBucket 404, others NoSuchBucket.

    ``operations=None`` means every bucket/object call except CreateBucket.
    """
    return Rule(
        AwsError("NoSuchBucket", "The specified bucket does not exist", 404),
        service="s3",
        operations=operations,
        exclude=("CreateBucket", "ListBuckets"),
        resource=resource,
        for_seconds=seconds,
        after="CreateBucket",
    )


def bucket_operation_aborted(*, operations: Operations = "CreateBucket", **window: Unpack[Window]) -> Rule:
    """409 OperationAborted (a conflicting conditional operation is in progress)."""
    fault = AwsError(
        "OperationAborted",
        "A conflicting conditional operation is currently in progress against this resource. Please try again.",
        409,
    )
    return Rule(fault, service="s3", operations=operations, **window)


def queue_deleted_recently(**window: Unpack[Window]) -> Rule:
    """CreateQueue raises QueueDeletedRecently (Code ``AWS.SimpleQueueService.QueueDeletedRecently``)."""
    fault = AwsError(
        "QueueDeletedRecently",
        "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        query_code="AWS.SimpleQueueService.QueueDeletedRecently",
    )
    return Rule(fault, service="sqs", operations="CreateQueue", **window)


def queue_not_ready(seconds: float = 1.0, *, resource: ResourceMatch = None) -> Rule:
    """For ``seconds`` after CreateQueue, every call on that queue (but CreateQueue / ListQueues) raises
    QueueDoesNotExist (Code ``AWS.SimpleQueueService.NonExistentQueue``), like local-aws-sqs's lazy queues."""
    fault = AwsError(
        "QueueDoesNotExist",
        "The specified queue does not exist.",
        query_code="AWS.SimpleQueueService.NonExistentQueue",
    )
    return Rule(
        fault,
        service="sqs",
        exclude=("CreateQueue", "ListQueues"),
        resource=resource,
        for_seconds=seconds,
        after="CreateQueue",
    )


def random_faults(
    rate: float,
    seed: int,
    *,
    service: str = "*",
    operations: Operations = None,
    kinds: Sequence[str] = TRANSIENT_FAULTS,
    latency_seconds: float = 0.2,
    **window: Unpack[Window],
) -> Rule:
    """A soak-test mix: each matching request has probability ``rate`` to get one transient fault, chosen
    (with ``seed``) among ``kinds``: throttling, internal (500), unavailable (503), reset (before upstream),
    latency (``latency_seconds``, then forwarded). Reproducible for a given order of requests."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    for kind in kinds:
        if kind == "reset":
            faults.append(ResetConnection())
        elif kind == "latency":
            faults.append(Delay(latency_seconds))
        elif kind in ("throttling", "internal", "unavailable", "access_denied"):
            faults.append(ServiceError(cast(FaultKind, kind)))
        else:
            raise ValueError(f"unknown fault kind {kind!r}; expected some of {', '.join(TRANSIENT_FAULTS)}")
    return Rule(
        Chaos(faults, rng),
        service=service,
        operations=operations,
        probability=rate,
        seed=rng.randrange(2**32),
        name=f"random faults {rate:.0%}",
        **window,
    )
