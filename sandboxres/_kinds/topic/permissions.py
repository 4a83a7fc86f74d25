"""The IAM permissions of an SNS topic: lifecycle (create with tags, wait, unsubscribe everything, delete),
sweeper, and what tests typically do (publish, subscribe). ``CreateTopic`` with tags also needs
``sns:TagResource``. Topics are scoped as ``arn:<partition>:sns:<region>:<account>:<prefix>*`` (a FIFO topic's
``.fifo`` is inside the ``*``). ``ListTopics``, ``Unsubscribe`` and the subscription attribute actions cannot be
scoped to a resource (the Service Authorization Reference lists no resource type for them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import cast

from sandboxres._kinds.permissions import ArnKind, Operations, PolicyScope, Scope
from sandboxres._kinds.permissions import permissions as _p

TOPIC = cast("ArnKind", "topic")  # the ARN kind of topics

TOPIC_OPERATIONS: Operations = {
    ("sns", "CreateTopic"): _p(("sns:CreateTopic", TOPIC), ("sns:TagResource", TOPIC)),
    ("sns", "GetTopicAttributes"): _p(("sns:GetTopicAttributes", TOPIC)),
    ("sns", "SetTopicAttributes"): _p(("sns:SetTopicAttributes", TOPIC)),
    ("sns", "DeleteTopic"): _p(("sns:DeleteTopic", TOPIC)),
    ("sns", "TagResource"): _p(("sns:TagResource", TOPIC)),
    ("sns", "ListTagsForResource"): _p(("sns:ListTagsForResource", TOPIC)),
    ("sns", "ListSubscriptionsByTopic"): _p(("sns:ListSubscriptionsByTopic", TOPIC)),
    ("sns", "Subscribe"): _p(("sns:Subscribe", TOPIC)),
    ("sns", "ConfirmSubscription"): _p(("sns:ConfirmSubscription", TOPIC)),
    ("sns", "Publish"): _p(("sns:Publish", TOPIC)),
    ("sns", "PublishBatch"): _p(("sns:Publish", TOPIC)),
    ("sns", "Unsubscribe"): _p(("sns:Unsubscribe", "*")),
    ("sns", "GetSubscriptionAttributes"): _p(("sns:GetSubscriptionAttributes", "*")),
    ("sns", "SetSubscriptionAttributes"): _p(("sns:SetSubscriptionAttributes", "*")),
    ("sns", "ListTopics"): _p(("sns:ListTopics", "*")),
}


def _arns(prefix: str, scope: Scope) -> Mapping[ArnKind, str]:
    return {TOPIC: f"arn:{scope.partition}:sns:{scope.region}:{scope.account}:{prefix}*"}


TOPIC_POLICY = PolicyScope(
    statements=((TOPIC, "SNSTestTopics"),),
    prefix_chars=re.compile(r"^[A-Za-z0-9_-]+$"),
    arns=_arns,
)
