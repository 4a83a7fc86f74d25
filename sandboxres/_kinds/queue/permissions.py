"""The IAM permissions of an SQS queue: lifecycle (create with tags, wait, delete by URL or name), sweeper,
messages. ``CreateQueue`` with tags also needs ``sqs:TagQueue``. Queues are scoped as ``<prefix>*`` (a
dead-letter queue is itself a ``test_`` queue); ``ListQueues`` cannot be scoped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sandboxres._kinds.permissions import ArnKind, Operations, PolicyScope, Scope
from sandboxres._kinds.permissions import permissions as _p

QUEUE_OPERATIONS: Operations = {
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
}


def _arns(prefix: str, scope: Scope) -> Mapping[ArnKind, str]:
    return {"queue": f"arn:{scope.partition}:sqs:{scope.region}:{scope.account}:{prefix}*"}


QUEUE_POLICY = PolicyScope(
    statements=(("queue", "SQSTestQueues"),),
    prefix_chars=re.compile(r"^[A-Za-z0-9_-]+$"),
    arns=_arns,
)
