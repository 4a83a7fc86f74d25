"""Tables used right after CreateTable, DeleteTable and UpdateTable, items read right after a write, stream records
read right after a write: naive, each beside the version that waits as AWS requires.

On AWS a table is CREATING for seconds after CreateTable, DELETING for seconds after DeleteTable and UPDATING after
UpdateTable; reads without ``ConsistentRead`` may miss a write of a moment ago; stream records come a little later.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

KEY = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}
FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture
def ddb() -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def name(ddb: Any) -> Iterator[str]:
    """A table name of this test's own; whatever table has it at the end is deleted."""
    name = f"naive-{uuid.uuid4().hex[:12]}"
    yield name
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
        except ddb.exceptions.ResourceNotFoundException:
            return
        if status == "ACTIVE":
            ddb.delete_table(TableName=name)
        time.sleep(0.2)


def test_naive_put_right_after_create_table(ddb: Any, name: str) -> None:
    ddb.create_table(TableName=name, **KEY)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})


def test_put_after_waiting_for_the_table(ddb: Any, name: str) -> None:
    ddb.create_table(TableName=name, **KEY)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=FAST)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})


def test_naive_create_again_right_after_delete_table(ddb: Any, name: str) -> None:
    ddb.create_table(TableName=name, **KEY)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=FAST)
    ddb.delete_table(TableName=name)
    ddb.create_table(TableName=name, **KEY)


def test_create_again_after_waiting_for_the_deletion(ddb: Any, name: str) -> None:
    ddb.create_table(TableName=name, **KEY)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=FAST)
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=FAST)
    ddb.create_table(TableName=name, **KEY)


def test_naive_two_table_updates_in_a_row(sandboxres_table: Any) -> None:
    table = sandboxres_table("settings")
    table.client.update_table(TableName=table.name, DeletionProtectionEnabled=False)
    table.client.update_table(TableName=table.name, BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=False)


def test_two_table_updates_with_a_wait_between(sandboxres_table: Any) -> None:
    table = sandboxres_table("settings")
    table.client.update_table(TableName=table.name, DeletionProtectionEnabled=False)
    table.client.get_waiter("table_exists").wait(TableName=table.name, WaiterConfig=FAST)  # ACTIVE again
    table.client.update_table(TableName=table.name, BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=False)


def test_naive_get_right_after_a_put(sandboxres_table: Any) -> None:
    table = sandboxres_table("items").table
    table.put_item(Item={"pk": "a", "n": 1})
    assert table.get_item(Key={"pk": "a"}).get("Item") == {"pk": "a", "n": 1}


def test_consistent_get_right_after_a_put(sandboxres_table: Any) -> None:
    table = sandboxres_table("items").table
    table.put_item(Item={"pk": "a", "n": 1})
    assert table.get_item(Key={"pk": "a"}, ConsistentRead=True).get("Item") == {"pk": "a", "n": 1}


def stream_reader(table: Any) -> tuple[Any, str]:
    """A DynamoDB Streams client and an iterator at the start of the table's only shard."""
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=table.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=table.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return streams, iterator["ShardIterator"]


def stream_records(streams: Any, position: str | None, seconds: float) -> list[str]:
    """The keys of the records read from ``position`` on, until some come or ``seconds`` have passed."""
    keys: list[str] = []
    deadline = time.monotonic() + seconds
    while position:
        reply = streams.get_records(ShardIterator=position)
        keys += [r["dynamodb"]["Keys"]["pk"]["S"] for r in reply["Records"]]
        position = reply.get("NextShardIterator")
        if keys or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return keys


def test_naive_stream_read_right_after_a_write(sandboxres_table: Any) -> None:
    table = sandboxres_table("events", stream="NEW_IMAGE")
    streams, position = stream_reader(table)
    table.table.put_item(Item={"pk": "a"})
    assert stream_records(streams, position, 0) == ["a"]


def test_stream_read_until_a_deadline(sandboxres_table: Any) -> None:
    table = sandboxres_table("events", stream="NEW_IMAGE")
    streams, position = stream_reader(table)
    table.table.put_item(Item={"pk": "a"})
    assert stream_records(streams, position, 30) == ["a"]
