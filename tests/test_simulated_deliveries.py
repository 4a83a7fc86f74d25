"""The simulator's delivery behaviours in front of a moto server (which delivers S3 event notifications and SNS
messages into SQS queues in server mode): the destination policies AWS requires, the s3:TestEvent message, late
deliveries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandboxres._simulator.behaviours.sqs_policy import allows
from sandboxres._simulator.profile import Profile
from sandboxres._simulator.simulator import Simulator, start_simulator

pytestmark = pytest.mark.slow

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
_new_client: Callable[..., Any] = boto3.client
Simulate = Callable[..., Simulator]
BUCKET = "events"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"


@pytest.fixture
def simulate(emulator: str) -> Iterator[Simulate]:
    started: list[Simulator] = []

    def make(enabled: set[str], *, seed: int = 7, speed: float = 100, **settings: Any) -> Simulator:
        profile = Profile(speed=speed, seed=seed, enabled=frozenset(enabled), settings=settings)
        started.append(start_simulator(emulator, profile))
        return started[-1]

    yield make
    for simulator in started:
        simulator.stop()


def client(simulator: Simulator, service: str) -> Any:
    return _new_client(
        service,
        endpoint_url=simulator.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=NO_RETRIES,
    )


def policy(queue_arn: str, service: str, source_arn: str, operator: str = "ArnEquals") -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {operator: {"aws:SourceArn": source_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def queue(sqs: Any, name: str, allow: tuple[str, str] | None = None) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(arn, *allow)})
    return url, arn


def notify(s3: Any, queue_arn: str) -> None:
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )


def drain(sqs: Any, url: str, wait: int = 0, **options: Any) -> list[dict[str, Any]]:
    """Every message receivable now (deleted once received)."""
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, **options)
        messages = got.get("Messages", [])
        if not messages:
            return found
        found += messages
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        wait = 0


def events(messages: list[dict[str, Any]]) -> list[str]:
    names = []
    for message in messages:
        try:
            body = json.loads(message["Body"])
        except ValueError:
            continue
        names += [body["Event"]] if "Event" in body else [r["eventName"] for r in body.get("Records", [])]
    return names


# -- delivery_policy --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_naive_s3_notification_without_a_queue_policy(simulate: Simulate, on: bool) -> None:
    """Passes on moto, fails on the simulator as on AWS."""
    simulator = simulate({"delivery_policy"} if on else set())
    s3, sqs = client(simulator, "s3"), client(simulator, "sqs")
    s3.create_bucket(Bucket=BUCKET)
    _, arn = queue(sqs, "no-policy")
    if not on:
        notify(s3, arn)
        return
    with pytest.raises(ClientError) as raised:
        notify(s3, arn)
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidArgument",
        "Unable to validate the following destination configurations",
    )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.get_bucket_notification_configuration(Bucket=BUCKET).get("QueueConfigurations") is None


@pytest.mark.parametrize(
    ("allow", "accepted"),
    [
        (("s3.amazonaws.com", BUCKET_ARN), True),
        (("s3.amazonaws.com", "arn:aws:s3:::event*"), False),  # ArnEquals takes no wildcard
        (("s3.amazonaws.com", "arn:aws:s3:::another-bucket"), False),
        (("sns.amazonaws.com", BUCKET_ARN), False),
    ],
    ids=["correct", "wildcard-in-equals", "other-bucket", "other-service"],
)
def test_s3_notification_needs_the_policy_aws_requires(
    simulate: Simulate, allow: tuple[str, str], accepted: bool
) -> None:
    simulator = simulate({"delivery_policy"})
    s3, sqs = client(simulator, "s3"), client(simulator, "sqs")
    s3.create_bucket(Bucket=BUCKET)
    _, arn = queue(sqs, "with-policy", allow)
    if accepted:
        notify(s3, arn)
        assert s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"][0]["QueueArn"] == arn
    else:
        with pytest.raises(ClientError, match="Unable to validate"):
            notify(s3, arn)


def test_policy_evaluation() -> None:
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:q"
    context = {"aws:SourceArn": BUCKET_ARN, "aws:SourceAccount": "123456789012"}

    def check(document: str) -> bool:
        return allows(
            document, service="s3.amazonaws.com", action="sqs:SendMessage", resource=queue_arn, context=context
        )

    assert check(policy(queue_arn, "s3.amazonaws.com", "arn:aws:s3:::ev*", "ArnLike"))
    assert check(policy("arn:aws:sqs:*:*:q", "s3.amazonaws.com", BUCKET_ARN))
    assert not check(policy("arn:aws:sqs:*:*:other", "s3.amazonaws.com", BUCKET_ARN))
    wide = {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "*", "Resource": "*"}
    assert check(json.dumps({"Statement": [wide]}))
    assert not check(json.dumps({"Statement": [wide, deny]}))
    assert not check(json.dumps({"Statement": [{**wide, "Condition": {"StringEquals": {"aws:SourceOwner": "1"}}}]}))
    assert not check("") and not check("not json")


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_sns_deliveries_to_a_queue_without_policy_are_dropped(simulate: Simulate, on: bool) -> None:
    simulator = simulate({"delivery_policy"} if on else set())
    sns, sqs = client(simulator, "sns"), client(simulator, "sqs")
    topic = sns.create_topic(Name="news")["TopicArn"]
    bare_url, bare_arn = queue(sqs, "bare")
    allowed_url, allowed_arn = queue(sqs, "allowed", ("sns.amazonaws.com", topic))
    for arn in (bare_arn, allowed_arn):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)  # accepted whatever the policy, as on AWS
    sns.publish(TopicArn=topic, Message="hello")
    assert [json.loads(m["Body"])["Message"] for m in drain(sqs, allowed_url, wait=1)] == ["hello"]
    assert len(drain(sqs, bare_url, wait=1)) == (0 if on else 1)
    attributes = sqs.get_queue_attributes(QueueUrl=bare_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


# -- s3_test_event ----------------------------------------------------------------------------------------------


def test_the_test_event_is_received_once(simulate: Simulate) -> None:
    simulator = simulate({"s3_test_event", "delivery_policy"})
    s3, sqs = client(simulator, "s3"), client(simulator, "sqs")
    s3.create_bucket(Bucket=BUCKET)
    url, arn = queue(sqs, "tested", ("s3.amazonaws.com", BUCKET_ARN))
    notify(s3, arn)
    messages = drain(sqs, url, wait=1)
    assert events(messages) == ["s3:TestEvent"]
    body = json.loads(messages[0]["Body"])
    assert {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}.items() <= body.items()


# -- delivery_delay ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_s3_events_arrive_late(simulate: Simulate, on: bool) -> None:
    """A naive receive right after the upload finds the event on moto and not on the simulator (nor, often, on
    AWS); a long poll finds it on both, without the SentTimestamp it did not ask for. Nothing is lost."""
    simulator = simulate({"delivery_delay"} if on else set(), delivery_delay={"seconds": 100})
    s3, sqs = client(simulator, "s3"), client(simulator, "sqs")
    s3.create_bucket(Bucket=BUCKET)
    url, arn = queue(sqs, "late", ("s3.amazonaws.com", BUCKET_ARN))
    notify(s3, arn)
    drain(sqs, url, wait=2)  # the test event
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    sqs.send_message(QueueUrl=url, MessageBody="plain message")
    naive = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
    assert "plain message" in [m["Body"] for m in naive]  # other messages are not held back
    assert (events(naive) == []) is on
    if not on:
        return
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "1"
    )  # the hidden event is back in the queue
    waited = drain(sqs, url, wait=10)
    assert events(waited) == ["ObjectCreated:Put"]
    assert "Attributes" not in waited[0]
    asked = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, AttributeNames=["SentTimestamp"])
    assert "Messages" not in asked


def test_sns_deliveries_arrive_late(simulate: Simulate) -> None:
    simulator = simulate({"delivery_delay"}, delivery_delay={"seconds": 100})
    sns, sqs = client(simulator, "sns"), client(simulator, "sqs")
    topic = sns.create_topic(Name="late-news")["TopicArn"]
    url, arn = queue(sqs, "late-sns", ("sns.amazonaws.com", topic))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MessageSystemAttributeNames=["SentTimestamp"])
    assert [json.loads(m["Body"])["Message"] for m in got["Messages"]] == ["hello"]
    assert "SentTimestamp" in got["Messages"][0]["Attributes"]  # asked for: kept
