"""Every call the helpers make is in the generated IAM policy: each helper runs once against a moto server behind a
proxy that records the requests, and every (service, operation) recorded has its permissions in the policy's
table (``sandboxres._safety.iam_policy.OPERATIONS``, assembled from the kinds' ``permissions.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sandboxres
from sandboxres._safety.iam_policy import OPERATIONS
from sandboxres._simulator import FaultProxy


def test_the_policy_covers_every_call_of_the_helpers(
    proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    (tmp_path / "f.txt").write_text("f")
    with (
        sandboxres.ephemeral_table("perm", stream="NEW_IMAGE") as table,
        sandboxres.ephemeral_bucket("perm") as bucket,
        sandboxres.ephemeral_queue("perm") as queue,
    ):
        proxy.clear_records()
        table.put_items([{"pk": "a"}])
        table.stream_records(count=1)
        bucket.upload(tmp_path)
        queue.send_all(["x", "y"])
        queue.receive()
        queue.events()
        queue.send_all(["z"])
        queue.drain()
        made = {(seen.service, seen.operation) for seen in proxy.requests}
    assert made == {
        ("dynamodb", "BatchWriteItem"),
        ("dynamodbstreams", "DescribeStream"),
        ("dynamodbstreams", "GetShardIterator"),
        ("dynamodbstreams", "GetRecords"),
        ("s3", "PutObject"),
        ("sqs", "SendMessageBatch"),
        ("sqs", "ReceiveMessage"),
        ("sqs", "DeleteMessageBatch"),
    }
    assert made - set(OPERATIONS) == set()
