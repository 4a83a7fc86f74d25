"""Uploads announced on a queue by S3 event notifications: configured without a queue policy (naive), or with the
policy AWS requires, received by long polling until a deadline (correct).

AWS refuses the notification configuration (400 InvalidArgument, "Unable to validate the following destination
configurations") unless the queue's policy lets ``s3.amazonaws.com`` send messages for this bucket
(``aws:SourceArn``). It then sends an ``s3:TestEvent`` message, and delivers the events asynchronously.
"""

from __future__ import annotations

import json
import time
from typing import Any


def notify_on_upload(bucket: Any, queue: Any) -> None:
    bucket.client.put_bucket_notification_configuration(
        Bucket=bucket.name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"]}],
        },
    )


def uploaded_keys(queue: Any, seconds: float) -> list[str]:
    """The keys of the ObjectCreated events received within ``seconds`` (long polls; test events skipped)."""
    keys: list[str] = []
    deadline = time.monotonic() + seconds
    while not keys and time.monotonic() < deadline:
        reply = queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=2, MaxNumberOfMessages=10)
        for message in reply.get("Messages", []):
            body = json.loads(message["Body"])
            keys += [record["s3"]["object"]["key"] for record in body.get("Records", [])]
            queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    return keys


def test_naive_notification_without_a_queue_policy(sandboxres_bucket: Any, sandboxres_queue: Any) -> None:
    bucket, queue = sandboxres_bucket("uploads"), sandboxres_queue("uploads")
    notify_on_upload(bucket, queue)
    bucket.client.put_object(Bucket=bucket.name, Key="report.csv", Body=b"a,b\n")
    assert uploaded_keys(queue, 30) == ["report.csv"]


def test_notification_with_the_queue_policy(sandboxres_bucket: Any, sandboxres_queue: Any) -> None:
    bucket, queue = sandboxres_bucket("uploads"), sandboxres_queue("uploads")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue.arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": bucket.arn}},
            }
        ],
    }
    queue.client.set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(policy)})
    notify_on_upload(bucket, queue)
    bucket.client.put_object(Bucket=bucket.name, Key="report.csv", Body=b"a,b\n")
    assert uploaded_keys(queue, 30) == ["report.csv"]
