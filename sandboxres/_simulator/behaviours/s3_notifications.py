"""S3 event notifications: the destinations of a PutBucketNotificationConfiguration, the refusal AWS answers when
a destination's policy does not let S3 deliver, and the ``s3:TestEvent`` message AWS sends each destination."""

from __future__ import annotations

import datetime
import json
import re
import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from xml.sax.saxutils import escape

from sandboxres._simulator.aws_errors import AwsError
from sandboxres._simulator.behaviours.sqs_policy import allows
from sandboxres._simulator.behaviours.sqs_support import region_of, upstream_client
from sandboxres._simulator.messages import ProxyRequest, Reply, new_request_id

UNABLE_TO_VALIDATE = "Unable to validate the following destination configurations"


@dataclass(frozen=True)
class Destination:
    kind: str  # "queue" or "topic"
    arn: str

    @property
    def name(self) -> str:
        return self.arn.split(":")[5] if self.arn.count(":") >= 5 else self.arn

    @property
    def account(self) -> str:
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 4 else ""


def destinations(request: ProxyRequest) -> list[Destination]:
    """The queue and topic destinations of a PutBucketNotificationConfiguration body (Lambda ones are not)."""
    if not request.body:
        return []
    try:
        root = ElementTree.fromstring(request.body)
    except ElementTree.ParseError:
        return []
    found: list[Destination] = []
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in ("Queue", "Topic") and element.text and element.text.strip().startswith("arn:"):
            destination = Destination(local.lower(), element.text.strip())
            if destination not in found:
                found.append(destination)
    return found


class NotificationRefused(AwsError):
    """400 InvalidArgument naming each destination S3 could not validate, as S3 answers it."""

    def __init__(self) -> None:
        super().__init__("InvalidArgument", UNABLE_TO_VALIDATE, 400)

    @property
    def label(self) -> str:
        return "InvalidArgument: destination policy"

    def refuse(self, request: ProxyRequest, refused: list[Destination]) -> Reply:
        reply = self.render(request)
        arguments = "".join(
            f"<ArgumentName{i}>{escape(d.arn)}</ArgumentName{i}><ArgumentValue{i}>Permissions on the destination "
            f"{d.kind} do not allow S3 to publish notifications from this bucket</ArgumentValue{i}>"
            for i, d in enumerate(refused, 1)
        )
        body = re.sub(rb"<BucketName>.*?</BucketName>", b"", reply.body)
        body = body.replace(b"</Message>", b"</Message>" + arguments.encode(), 1)
        return Reply(reply.status, reply.headers, body, reply.reason)


def destination_policy(upstream_url: str, destination: Destination) -> str | None:
    """The destination's policy, read from the upstream; None when it has none or does not exist."""
    region = region_of(destination.arn)
    try:
        if destination.kind == "queue":
            sqs = upstream_client(upstream_url, "sqs", region)
            url = sqs.get_queue_url(QueueName=destination.name)["QueueUrl"]
            got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        else:
            got = upstream_client(upstream_url, "sns", region).get_topic_attributes(TopicArn=destination.arn)
    except Exception:  # no such destination: S3 cannot validate it either
        return None
    policy = got.get("Attributes", {}).get("Policy")
    return policy if isinstance(policy, str) else None


def refused_destinations(upstream_url: str, request: ProxyRequest) -> list[Destination]:
    """The destinations whose policy does not let S3 deliver events of this bucket."""
    bucket_arn = f"arn:aws:s3:::{request.resource}"
    refused = []
    for destination in destinations(request):
        action = "sqs:SendMessage" if destination.kind == "queue" else "sns:Publish"
        context = {"aws:SourceArn": bucket_arn, "aws:SourceAccount": destination.account}
        policy = destination_policy(upstream_url, destination)
        if not allows(policy, service="s3.amazonaws.com", action=action, resource=destination.arn, context=context):
            refused.append(destination)
    return refused


def test_event(bucket: str) -> str:
    """The message S3 sends a destination when its notification configuration is set (AWS's exact fields)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "Bucket": bucket,
            "RequestId": new_request_id()[:16],
            "HostId": uuid.uuid4().hex + uuid.uuid4().hex,
        },
        separators=(",", ":"),
    )


def queue_message_count(upstream_url: str, destination: Destination) -> int | None:
    """Every message the queue holds (visible, in flight, delayed); None when it cannot be read."""
    sqs = upstream_client(upstream_url, "sqs", region_of(destination.arn))
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    try:
        url = sqs.get_queue_url(QueueName=destination.name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    except Exception:
        return None
    return sum(int(attributes.get(name, 0)) for name in names)


def send_test_event(upstream_url: str, destination: Destination, bucket: str) -> None:
    sqs = upstream_client(upstream_url, "sqs", region_of(destination.arn))
    url = sqs.get_queue_url(QueueName=destination.name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=test_event(bucket))
