"""Buckets used right after CreateBucket, queue names reused right after DeleteQueue, long polls expected to bring
every message at once: naive, each beside the version written for AWS.

On AWS a new bucket can answer NoSuchBucket for a moment; a deleted queue's name is blocked for 60 s; a long poll
returns as soon as some messages are there, maybe fewer than are queued.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def bucket_name() -> Iterator[str]:
    s3 = boto3.client("s3")
    name = f"naive-{uuid.uuid4().hex[:12]}"
    yield name
    for _ in range(100):
        try:
            for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
                s3.delete_object(Bucket=name, Key=item["Key"])
            s3.delete_bucket(Bucket=name)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucket":
                time.sleep(0.1)  # not visible yet, or never created
                continue
            raise


def put_object(name: str, seconds: float) -> None:
    s3 = boto3.client("s3")
    deadline = time.monotonic() + seconds
    while True:
        try:
            s3.put_object(Bucket=name, Key="a.txt", Body=b"a")
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket" or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_naive_put_right_after_create_bucket(bucket_name: str) -> None:
    boto3.client("s3").create_bucket(Bucket=bucket_name)
    put_object(bucket_name, 0)


def test_put_retried_until_the_bucket_is_seen(bucket_name: str) -> None:
    boto3.client("s3").create_bucket(Bucket=bucket_name)
    put_object(bucket_name, 30)


@pytest.fixture
def queue_name() -> Iterator[str]:
    sqs = boto3.client("sqs")
    name = f"naive-{uuid.uuid4().hex[:12]}"
    yield name
    try:
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except ClientError:
        pass


def test_naive_queue_name_reused_right_after_delete(queue_name: str) -> None:
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=queue_name)["QueueUrl"])
    sqs.create_queue(QueueName=queue_name)


def test_a_fresh_queue_name_after_delete(queue_name: str) -> None:
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=queue_name)["QueueUrl"])
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=f"{queue_name}-2")["QueueUrl"])


def send_five(queue: Any) -> None:
    entries = [{"Id": str(n), "MessageBody": f"m{n}"} for n in range(5)]
    queue.client.send_message_batch(QueueUrl=queue.url, Entries=entries)


def receive(queue: Any) -> list[str]:
    reply = queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=2, MaxNumberOfMessages=10)
    for message in reply.get("Messages", []):
        queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(m["Body"] for m in reply.get("Messages", []))


def test_naive_one_long_poll_brings_every_message(sandboxres_queue: Any) -> None:
    queue = sandboxres_queue("batch")
    for _ in range(5):
        send_five(queue)
        assert receive(queue) == [f"m{n}" for n in range(5)]


def test_long_polls_until_every_message_is_in(sandboxres_queue: Any) -> None:
    queue = sandboxres_queue("batch")
    for _ in range(5):
        send_five(queue)
        bodies: list[str] = []
        deadline = time.monotonic() + 30
        while len(bodies) < 5 and time.monotonic() < deadline:
            bodies += receive(queue)
        assert sorted(bodies) == [f"m{n}" for n in range(5)]
