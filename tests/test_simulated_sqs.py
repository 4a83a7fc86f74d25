"""The simulator's queue behaviours, each on and off in front of a moto server: a deleted queue's name blocked,
PurgeQueue once a minute, short polls that come back empty, long polls that return fewer messages; replay by seed;
the library's queue lifecycle with them all on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

import sandboxres
from sandboxres._simulator.profile import Profile
from sandboxres._simulator.simulator import Simulator, start_simulator
from tests.support.inventory import InventoryAt
from tests.support.moto_server import moto_process

pytestmark = pytest.mark.slow

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
QUEUE_BEHAVIOURS = frozenset({"queue_deleted_recently", "purge_once_a_minute", "short_poll_empty", "long_poll_partial"})
_new_client: Callable[..., Any] = boto3.client

Simulate = Callable[..., Simulator]


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    """This module's moto server, without moto's own PurgeQueue minute (moto 5.2 enforces one, in real time): the
    simulator's minute, at its speed, is the one shown here."""
    with moto_process({"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}) as url:
        yield url


@pytest.fixture
def simulate(emulator: str) -> Iterator[Simulate]:
    """``simulate({"behaviour"}, seed=..., speed=..., behaviour={"setting": value})``: a simulator in front of the
    emptied moto server with only those behaviours on (none: the plain emulator behind a pass-through proxy)."""
    started: list[Simulator] = []

    def make(enabled: frozenset[str] | set[str], *, seed: int = 7, speed: float = 100, **settings: Any) -> Simulator:
        profile = Profile(speed=speed, seed=seed, enabled=frozenset(enabled), settings=settings)
        started.append(start_simulator(emulator, profile))
        return started[-1]

    yield make
    for simulator in started:
        simulator.stop()


def sqs_client(simulator: Simulator) -> Any:
    return _new_client(
        "sqs",
        endpoint_url=simulator.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=NO_RETRIES,
    )


def eventually(call: Callable[[], Any], seconds: float = 15) -> Any:
    """The first success of ``call`` within ``seconds`` (the failures before it are what the behaviour does)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_a_deleted_queue_name_is_blocked_for_a_minute(simulate: Simulate, on: bool) -> None:
    simulator = simulate({"queue_deleted_recently"} if on else set(), queue_deleted_recently={"seconds": 60})
    sqs = sqs_client(simulator)
    url = sqs.create_queue(QueueName="reused")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    if not on:
        sqs.create_queue(QueueName="reused")
        return
    with pytest.raises(sqs.exceptions.QueueDeletedRecently) as raised:
        sqs.create_queue(QueueName="reused")
    assert raised.value.response["Error"]["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert raised.value.response["Error"]["QueryErrorCode"] == "QueueDeletedRecently"
    sqs.create_queue(QueueName="another")  # other names are free
    eventually(lambda: sqs.create_queue(QueueName="reused"))  # and the name again once the minute (0.6 s) is over


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_purge_once_a_minute(simulate: Simulate, on: bool) -> None:
    simulator = simulate({"purge_once_a_minute"} if on else set(), purge_once_a_minute={"seconds": 60})
    sqs = sqs_client(simulator)
    url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    if not on:
        sqs.purge_queue(QueueUrl=url)
        return
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as raised:
        sqs.purge_queue(QueueUrl=url)
    assert raised.value.response["Error"]["QueryErrorCode"] == "PurgeQueueInProgress"
    assert simulator.proxy.seen("sqs", "PurgeQueue", faulted=True)[0].upstream_status is None  # not moto's
    sqs.purge_queue(QueueUrl=other)
    eventually(lambda: sqs.purge_queue(QueueUrl=url))


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_naive_receive_right_after_a_send(simulate: Simulate, on: bool) -> None:
    """The naive probe passes on moto and fails on the simulator (as it may on AWS); long polling passes on both."""
    simulator = simulate({"short_poll_empty"} if on else set(), short_poll_empty={"probability": 1.0})
    sqs = sqs_client(simulator)
    url = sqs.create_queue(QueueName="naive")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    naive = sqs.receive_message(QueueUrl=url)
    assert ("Messages" in naive) is not on
    if not on:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=naive["Messages"][0]["ReceiptHandle"], VisibilityTimeout=0
        )
    # The empty answer never reached the queue: the message did not turn invisible, a long poll gets it at once.
    waited = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["ApproximateReceiveCount"])
    assert [m["Body"] for m in waited["Messages"]] == ["hello"]
    assert waited["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == ("1" if on else "2")


def test_a_queue_that_long_polls_by_default_is_not_short_polled(simulate: Simulate) -> None:
    simulator = simulate({"short_poll_empty"}, short_poll_empty={"probability": 1.0})
    sqs = sqs_client(simulator)
    url = sqs.create_queue(QueueName="waits", Attributes={"ReceiveMessageWaitTimeSeconds": "2"})["QueueUrl"]
    later = sqs.create_queue(QueueName="set-later")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=later, Attributes={"ReceiveMessageWaitTimeSeconds": "2"})
    for queue in (url, later):
        sqs.send_message(QueueUrl=queue, MessageBody="m")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["m"]
    assert simulator.proxy.count("sqs", "ReceiveMessage", faulted=True) == 0


def _short_polls(simulator: Simulator, polls: int) -> list[bool]:
    """Whether each short poll of a queue holding one message saw it (never hidden: VisibilityTimeout=0)."""
    sqs = sqs_client(simulator)
    url = sqs.create_queue(QueueName=f"replay-{simulator.seed}-{time.monotonic_ns()}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    return ["Messages" in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0) for _ in range(polls)]


def test_the_same_seed_replays_the_same_empty_polls(simulate: Simulate) -> None:
    first = _short_polls(simulate({"short_poll_empty"}, seed=1234), 24)
    again = _short_polls(simulate({"short_poll_empty"}, seed=1234), 24)
    other = _short_polls(simulate({"short_poll_empty"}, seed=4321), 24)
    assert first == again
    assert True in first and False in first  # probability 0.5: both kinds
    assert other != first


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_long_polls_return_fewer_messages_and_lose_none(simulate: Simulate, on: bool) -> None:
    simulator = simulate({"long_poll_partial"} if on else set(), long_poll_partial={"probability": 1.0})
    sqs = sqs_client(simulator)
    url = sqs.create_queue(QueueName="partial")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(10)])
    sizes: list[int] = []
    bodies: list[str] = []
    while len(bodies) < 10:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        sizes.append(len(got))
        bodies += [m["Body"] for m in got]
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(bodies, key=int) == [str(i) for i in range(10)]
    assert (sizes[0] < 10) is on
    assert all(size >= 1 for size in sizes)
    # A single-message receive and a short poll are never cut down.
    assert simulator.proxy.count("sqs", "ReceiveMessage", faulted=True) == (len(sizes) if on else 0)


def test_queue_lifecycle_with_every_queue_behaviour_on(
    simulate: Simulate, monkeypatch: pytest.MonkeyPatch, inventory: InventoryAt, emulator: str
) -> None:
    simulator = simulate(QUEUE_BEHAVIOURS | {"delivery_delay", "delivery_policy"}, speed=20, seed=99)
    monkeypatch.setenv("AWS_ENDPOINT_URL", simulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with sandboxres.ephemeral_queue("sim", fifo=True, dead_letter=2) as q:
        q.client.send_message(QueueUrl=q.url, MessageBody="job", MessageGroupId="g", MessageDeduplicationId="1")
        got = q.client.receive_message(QueueUrl=q.url, WaitTimeSeconds=5)
        assert [m["Body"] for m in got["Messages"]] == ["job"]
        assert q.dead_letter is not None
    assert not inventory(emulator).queues()
