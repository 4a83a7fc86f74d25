"""Simulated behaviours: control_plane (throttling and server errors on the calls that manage resources).

Each call of a listed operation is throttled with probability ``throttle_probability``, else answered with a 5xx
(500 or 503) with probability ``error_probability``, before reaching the upstream. The decisions for an operation
come from a random stream of its own (seeded by the profile's seed): the same calls in the same order get the same
faults, whatever other operations come in between.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from sandboxres._simulator.aws_errors import ServiceError
from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.behaviours.dynamodb_state import When
from sandboxres._simulator.faults import Chaos
from sandboxres._simulator.messages import ProxyRequest
from sandboxres._simulator.rules import Rule

CONTROL_PLANE: dict[str, tuple[str, ...]] = {
    "dynamodb": (
        "CreateTable",
        "DeleteTable",
        "DescribeTable",
        "UpdateTable",
        "UpdateTimeToLive",
        "DescribeTimeToLive",
        "TagResource",
        "UntagResource",
        "ListTagsOfResource",
        "ListTables",
    ),
    "s3": (
        "CreateBucket",
        "DeleteBucket",
        "ListBuckets",
        "PutBucketTagging",
        "GetBucketTagging",
        "DeleteBucketTagging",
        "PutBucketVersioning",
        "GetBucketVersioning",
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "PutBucketNotificationConfiguration",
        "PutBucketLifecycleConfiguration",
        "PutBucketCors",
        "PutBucketEncryption",
        "PutPublicAccessBlock",
        "PutBucketOwnershipControls",
    ),
    "sqs": (
        "CreateQueue",
        "DeleteQueue",
        "GetQueueUrl",
        "ListQueues",
        "GetQueueAttributes",
        "SetQueueAttributes",
        "TagQueue",
        "UntagQueue",
        "ListQueueTags",
    ),
}


class Draws:
    """One seeded random stream per service and operation; ``hit`` draws the next decision."""

    def __init__(self, ctx: Context, stream: str, probability: float) -> None:
        self.ctx = ctx
        self.stream = stream
        self.probability = probability
        self._lock = threading.Lock()
        self._streams: dict[tuple[str, str], random.Random] = {}

    def hit(self, request: ProxyRequest) -> bool:
        if self.probability <= 0.0:
            return False
        key = (request.service, request.operation)
        with self._lock:
            rng = self._streams.get(key)
            if rng is None:
                rng = self._streams[key] = self.ctx.rng(f"{self.stream}:{key[0]}:{key[1]}")
            return rng.random() < self.probability


def _install_control_plane_faults(ctx: Context) -> list[Rule]:
    throttled = Draws(ctx, "throttle", ctx.settings["throttle_probability"])
    failed = Draws(ctx, "error", ctx.settings["error_probability"])
    server_errors = Chaos([ServiceError("internal"), ServiceError("unavailable")], ctx.rng("5xx"))
    rules: list[Rule] = []
    for service, operations in CONTROL_PLANE.items():
        for fault, draws in ((ServiceError("throttling"), throttled), (server_errors, failed)):
            hit: Callable[[ProxyRequest], bool] = draws.hit
            rules.append(When(fault, service=service, operations=operations, when=hit))
    return rules


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "control_plane_faults",
        "Control-plane calls (creating, describing, tagging, deleting tables, buckets and queues) are throttled "
        "now and then (DynamoDB ThrottlingException, S3 503 SlowDown, SQS RequestThrottled) and fail at a low rate "
        "with a 500 or 503; the SDKs retry them.",
        "Amazon DynamoDB Developer Guide: Error handling with DynamoDB (ThrottlingException, 5xx); Amazon S3 API "
        "Reference: Error responses (SlowDown, InternalError); Amazon SQS API Reference: Common errors "
        "(RequestThrottled, InternalFailure, ServiceUnavailable); AWS SDKs and Tools Reference Guide: Retry behavior",
        {"throttle_probability": 0.02, "error_probability": 0.02},
        _install_control_plane_faults,
    ),
)
