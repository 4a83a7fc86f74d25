"""The building blocks every kind's plans share: tags, progress, the create call, "not found" at deletion.

A plan is a generator of :class:`~sandboxres._engine.steps.Call` / :class:`~sandboxres._engine.steps.Poll`
steps; it receives each step's result, or has the step's exception thrown in. The sync and async drivers run the
same plans. Plans never sleep and never touch a client. Each kind's plans live in its home under
``sandboxres._kinds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sandboxres._engine.classify import answered_without_effect
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.settings import unseen_grace
from sandboxres._engine.steps import Call, Plan, RetryPolicy

TAG_MANAGED = "sandboxres:managed"
TAG_RUN_ID = "sandboxres:run-id"
TAG_CREATED = "sandboxres:created-at"
TAG_POOLED = "sandboxres:pooled"  # set on the resources of a Pool, besides the three above
DELETE_DEADLINE = 300.0


def resource_tags(run_id: str, now: datetime | None = None) -> dict[str, str]:
    """The tags every resource gets at creation: marker, run id, creation time (UTC, ISO 8601)."""
    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    return {TAG_MANAGED: "true", TAG_RUN_ID: run_id, TAG_CREATED: moment.isoformat().replace("+00:00", "Z")}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """``{"k": "v"}`` as the ``[{"Key": "k", "Value": "v"}]`` list DynamoDB and S3 take."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def partition(region: str | None) -> str:
    region = region or ""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def label_of(kind: str, name: str) -> str:
    return f"{kind} {name}"


@dataclass
class Progress:
    """How far the creation of each name got, as the cleanup needs to know it.

    ``sent``: its create call left (answered or not); ``created``: the call succeeded; ``confirmed``: seen
    ready; ``foreign``: the name turned out to be someone else's (never delete it).
    """

    sent: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)
    foreign: set[str] = field(default_factory=set)

    def started(self) -> bool:
        """Whether anything may exist: a create call left, or succeeded."""
        return bool(self.sent or self.created)

    def in_doubt(self, name: str) -> bool:
        """True when ``name``'s create call was sent and never answered: it may exist, or appear later."""
        return name in self.sent and name not in self.created

    def unseen(self, name: str) -> bool:
        """True when ``name`` may exist unseen: created but never seen ready, or its create never answered."""
        return (name in self.created and name not in self.confirmed) or self.in_doubt(name)


def create_call(call: Call, name: str, progress: Progress) -> Plan[Any]:
    """Send a create call, recording it as "sent" first: until it is answered, the resource may exist.

    An answer that proves nothing was created (a permanent error; a refused connection) takes the mark back.
    An interruption (Ctrl-C, SIGTERM, cancellation: the plan is closed), a lost answer or a timeout leave it:
    the cleanup then treats the resource as possibly landed (see :func:`not_found_policy`).
    """
    progress.sent.add(name)
    try:
        response = yield call
    except Exception as exc:
        if answered_without_effect(exc):
            progress.sent.discard(name)
        raise
    return response


def not_found_policy(policy: RetryPolicy, name: str, progress: Progress, code: str) -> RetryPolicy:
    """``policy``, retrying ``code`` (not found) for the unseen grace when ``name`` may exist unseen."""
    if not progress.unseen(name):
        return policy
    return policy.retrying_also(code, unseen_grace())


def not_found(kind: str, name: str, progress: Progress) -> None:
    """A delete met "not found" (past any grace). Fine, unless the create was never answered: then the resource
    may still appear, and it is reported as possibly left behind, never counted as deleted."""
    if progress.in_doubt(name):
        raise CleanupError(
            label_of(kind, name),
            [
                RuntimeError(
                    f"its create call was interrupted before the answer and it was not seen within "
                    f"{unseen_grace():g} s: it may still appear"
                )
            ],
        )
