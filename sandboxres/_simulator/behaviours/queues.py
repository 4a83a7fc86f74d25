"""Simulated behaviours: queues (a deleted queue's name blocked for 60 s, PurgeQueue once a minute, short polls
that miss messages, long polls that return early with fewer messages)."""

from __future__ import annotations

from collections.abc import Sequence

from sandboxres._simulator.aws_errors import AwsError
from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.behaviours.sqs_support import (
    DecidingRule,
    QueueWaitTimes,
    decision_of,
    empty_receive,
    int_param,
    set_sqs_param,
)
from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import Action, ProxyRequest
from sandboxres._simulator.rules import Rule

SQS_POLLING_SOURCE = "Amazon SQS Developer Guide, 'Amazon SQS short and long polling'"


def _queue_deleted_recently(ctx: Context) -> Sequence[Rule]:
    fault = AwsError(
        "QueueDeletedRecently",
        "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        query_code="AWS.SimpleQueueService.QueueDeletedRecently",
    )
    return [
        Rule(
            fault,
            service="sqs",
            operations="CreateQueue",
            for_seconds=ctx.seconds("seconds"),
            after="DeleteQueue",
            name="queue_deleted_recently",
        )
    ]


def _purge_once_a_minute(ctx: Context) -> Sequence[Rule]:
    fault = AwsError(
        "PurgeQueueInProgress",
        "Only one PurgeQueue operation on {resource} is allowed every 60 seconds.",
        query_code="AWS.SimpleQueueService.PurgeQueueInProgress",
    )
    return [
        Rule(
            fault,
            service="sqs",
            operations="PurgeQueue",
            for_seconds=ctx.seconds("seconds"),
            after="PurgeQueue",
            name="purge_once_a_minute",
        )
    ]


class EmptyShortPoll(Fault):
    """Answer a ReceiveMessage with no message, without forwarding it (no message turns invisible)."""

    @property
    def label(self) -> str:
        return "short poll: empty"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return empty_receive(request)


class FewerMessages(Fault):
    """Forward a ReceiveMessage asking for fewer messages (the trigger's decision): a long poll that returns as
    soon as some messages are there. Not terminal: the rules after it still see the request."""

    terminal = False

    @property
    def label(self) -> str:
        return "long poll: fewer messages"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        fewer = decision_of(trigger)
        if isinstance(fewer, int):
            set_sqs_param(request, "MaxNumberOfMessages", fewer)
        return None


def _short_poll_empty(ctx: Context) -> Sequence[Rule]:
    waits = QueueWaitTimes(ctx.upstream_url)
    return [
        waits.observer(),
        DecidingRule(
            EmptyShortPoll(),
            lambda request: True if waits.wait_seconds(request) <= 0 else None,
            service="sqs",
            operations="ReceiveMessage",
            probability=ctx.settings["probability"],
            seed=ctx.rule_seed("short polls"),
            name="short_poll_empty",
        ),
    ]


def _long_poll_partial(ctx: Context) -> Sequence[Rule]:
    waits = QueueWaitTimes(ctx.upstream_url)
    rng = ctx.rng("fewer")

    def decide(request: ProxyRequest) -> int | None:
        most = int_param(request, "MaxNumberOfMessages") or 1
        return most if most > 1 and waits.wait_seconds(request) > 0 else None

    return [
        waits.observer(),
        DecidingRule(
            FewerMessages(),
            decide,
            choose=lambda request, most: rng.randint(1, most - 1),
            service="sqs",
            operations="ReceiveMessage",
            probability=ctx.settings["probability"],
            seed=ctx.rule_seed("long polls"),
            name="long_poll_partial",
        ),
    ]


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        name="queue_deleted_recently",
        imitates=(
            "After DeleteQueue, CreateQueue of the same name raises QueueDeletedRecently for 60 seconds. (AWS also "
            "says calls on the deleted queue 'might succeed' during that minute; the simulator lets them fail at "
            "once, which AWS allows too.)"
        ),
        source="Amazon SQS API Reference, DeleteQueue",
        settings={"seconds": 60.0},
        install=_queue_deleted_recently,
    ),
    Behaviour(
        name="purge_once_a_minute",
        imitates="A queue can be purged once every 60 seconds: a second PurgeQueue raises PurgeQueueInProgress.",
        source="Amazon SQS API Reference, PurgeQueue",
        settings={"seconds": 60.0},
        install=_purge_once_a_minute,
    ),
    Behaviour(
        name="short_poll_empty",
        imitates=(
            "A short poll (ReceiveMessage without WaitTimeSeconds on a queue without ReceiveMessageWaitTimeSeconds) "
            "samples a subset of the servers and may return no message while messages are available. Answered "
            "empty with `probability`, without reaching the queue."
        ),
        source=SQS_POLLING_SOURCE,
        settings={"probability": 0.5},
        install=_short_poll_empty,
    ),
    Behaviour(
        name="long_poll_partial",
        imitates=(
            "A long poll returns as soon as at least one message is available, possibly fewer than "
            "MaxNumberOfMessages while more are queued. With `probability` the poll asks the queue for a random "
            "smaller number (at least one): no message is lost, the rest stays for the next receive."
        ),
        source=SQS_POLLING_SOURCE,
        settings={"probability": 0.5},
        install=_long_poll_partial,
    ),
)
