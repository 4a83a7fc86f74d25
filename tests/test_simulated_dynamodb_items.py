"""The simulator's DynamoDB item behaviours (eventually consistent reads, late stream records), and the library's
own table lifecycles through a simulator with every DynamoDB behaviour on."""

from __future__ import annotations

from typing import Any

import pytest

import sandboxres
from sandboxres._simulator import latency
from tests.test_simulated_dynamodb_tables import client, create, simulate, unique, until

pytestmark = pytest.mark.slow

LAGGING = {"eventual_reads": {"lag_seconds": 100, "index_lag_seconds": 200}}  # 1 s and 2 s at speed 100
DYNAMODB_BEHAVIOURS = (
    "table_creating",
    "table_updating",
    "table_deleting",
    "eventual_reads",
    "stream_delay",
    "control_plane_faults",
)


@pytest.fixture
def plain(emulator: str) -> Any:
    return client(emulator)


@pytest.fixture
def table(plain: Any) -> Any:
    """A table with a global index on ``email``, made on the emulator directly; deleted afterwards."""
    name = unique()
    create(plain, name, index=True, stream=True)
    yield name
    plain.delete_table(TableName=name)


def user(pk: str, email: str, **more: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "email": {"S": email}, **{k: {"S": v} for k, v in more.items()}}


def by_email(ddb: Any, table: str, email: str) -> list[str]:
    found = ddb.query(
        TableName=table,
        IndexName="by_email",
        KeyConditionExpression="email = :e",
        ExpressionAttributeValues={":e": {"S": email}},
    )
    return [item["pk"]["S"] for item in found["Items"]]


def naive_probe(ddb: Any, table: str) -> list[str]:
    """The test a user writes first: write, then read the index at once."""
    email = unique("mail")
    ddb.put_item(TableName=table, Item=user("u1", email))
    return by_email(ddb, table, email)


# ---------------------------------------------------------------------------------------------------------
# eventual_reads


def test_naive_index_read_passes_plain_and_fails_simulated(emulator: str, plain: Any, table: str) -> None:
    assert naive_probe(plain, table) == ["u1"]
    with simulate(emulator, "eventual_reads", settings=LAGGING) as sim:
        assert naive_probe(client(sim.url), table) == []
    with simulate(emulator, "table_creating", "stream_delay", settings=LAGGING) as sim:  # the behaviour off
        assert naive_probe(client(sim.url), table) == ["u1"]


def test_index_read_after_a_wait_sees_the_write(emulator: str, table: str) -> None:
    with simulate(emulator, "eventual_reads", settings=LAGGING) as sim:
        ddb = client(sim.url)
        email = unique("mail")
        ddb.put_item(TableName=table, Item=user("u2", email))
        assert by_email(ddb, table, email) == []
        until(lambda: by_email(ddb, table, email) == ["u2"])


def test_consistent_reads_see_the_write_eventual_ones_the_old_item(emulator: str, plain: Any, table: str) -> None:
    plain.put_item(TableName=table, Item=user("u3", "old@x", name="old"))
    key = {"pk": {"S": "u3"}}
    with simulate(emulator, "eventual_reads", settings=LAGGING) as sim:
        ddb = client(sim.url)
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #n = :n",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":n": {"S": "new"}},
        )
        assert ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["name"]["S"] == "new"
        assert ddb.get_item(TableName=table, Key=key)["Item"]["name"]["S"] == "old"
        projected = ddb.get_item(
            TableName=table, Key=key, ProjectionExpression="#n", ExpressionAttributeNames={"#n": "name"}
        )
        assert projected["Item"] == {"name": {"S": "old"}}
        scanned = ddb.scan(TableName=table)["Items"]
        assert [item["name"]["S"] for item in scanned if item["pk"]["S"] == "u3"] == ["old"]
        assert [item["name"]["S"] for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]] == ["new"]
        batch = ddb.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table]
        assert [item["name"]["S"] for item in batch] == ["old"]

        ddb.delete_item(TableName=table, Key=key)
        assert "Item" not in ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
        assert ddb.get_item(TableName=table, Key=key)["Item"]["name"]["S"] == "old"  # neither write is visible yet
        until(lambda: "Item" not in ddb.get_item(TableName=table, Key=key))


def test_new_item_unseen_by_eventual_reads_until_the_lag_ends(emulator: str, table: str) -> None:
    with simulate(emulator, "eventual_reads", settings=LAGGING) as sim:
        ddb = client(sim.url)
        key = {"pk": {"S": "u4"}}
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": user("u4", "u4@x")}}]})
        assert "Item" not in ddb.get_item(TableName=table, Key=key)
        assert ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["pk"]["S"] == "u4"
        assert ddb.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table] == []
        until(lambda: "Item" in ddb.get_item(TableName=table, Key=key))


def test_stale_reads_follow_the_probability(emulator: str, table: str) -> None:
    never = {"eventual_reads": {"lag_seconds": 100, "index_lag_seconds": 200, "probability": 0.0}}
    with simulate(emulator, "eventual_reads", settings=never) as sim:
        assert naive_probe(client(sim.url), table) == ["u1"]


# ---------------------------------------------------------------------------------------------------------
# stream_delay


def first_iterator(streams: Any, stream_arn: str) -> str:
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator: str = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    return iterator


def test_stream_records_come_late_and_none_is_lost(emulator: str, plain: Any, table: str) -> None:
    stream_arn = plain.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with simulate(emulator, "stream_delay", settings={"stream_delay": {"seconds": 100}}) as sim:
        ddb, streams = client(sim.url), client(sim.url, "dynamodbstreams")
        iterator = first_iterator(streams, stream_arn)
        ddb.put_item(TableName=table, Item=user("s1", "s1@x"))
        early = streams.get_records(ShardIterator=iterator)
        assert early["Records"] == []
        assert early["NextShardIterator"] == iterator  # nothing skipped: the same position again
        records: list[dict[str, Any]] = []

        def read() -> bool:
            nonlocal iterator
            page = streams.get_records(ShardIterator=iterator)
            records.extend(page["Records"])
            iterator = page["NextShardIterator"]
            return bool(records)

        until(read)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["s1"]


def test_stream_delay_runs_from_the_writes_answer(emulator: str, plain: Any, table: str) -> None:
    """A write answered slowly (longer than the delay) does not use the delay up: it runs from the answer."""
    stream_arn = plain.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with simulate(emulator, "stream_delay", settings={"stream_delay": {"seconds": 50}}) as sim:
        sim.proxy.add(latency(1.0, "dynamodb", "PutItem"))  # twice the delay (0.5 s at speed 100)
        ddb, streams = client(sim.url), client(sim.url, "dynamodbstreams")
        iterator = first_iterator(streams, stream_arn)
        ddb.put_item(TableName=table, Item=user("s3", "s3@x"))
        assert streams.get_records(ShardIterator=iterator)["Records"] == []


def test_stream_records_at_once_without_the_behaviour(emulator: str, plain: Any, table: str) -> None:
    stream_arn = plain.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with simulate(emulator, "eventual_reads", settings={"stream_delay": {"seconds": 100}}) as sim:
        ddb, streams = client(sim.url), client(sim.url, "dynamodbstreams")
        iterator = first_iterator(streams, stream_arn)
        ddb.put_item(TableName=table, Item=user("s2", "s2@x"))
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["s2"]


# ---------------------------------------------------------------------------------------------------------
# the library's lifecycles on the simulator


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ephemeral_table_lifecycle_on_the_simulator(
    emulator: str, plain: Any, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    with simulate(emulator, *DYNAMODB_BEHAVIOURS, speed=50, seed=seed) as sim:
        monkeypatch.setenv("AWS_ENDPOINT_URL", sim.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        with sandboxres.ephemeral_table(
            "sim",
            global_indexes=[sandboxres.Index("by_email", hash_key="email")],
            stream="NEW_IMAGE",
            ttl_attribute="expires",
        ) as handle:
            assert plain.describe_table(TableName=handle.name)["Table"]["TableStatus"] == "ACTIVE"
            handle.client.put_item(TableName=handle.name, Item=user("l1", "l1@x"))
            got = handle.client.get_item(TableName=handle.name, Key={"pk": {"S": "l1"}}, ConsistentRead=True)
            assert got["Item"]["email"]["S"] == "l1@x"
            assert handle.stream_arn
        seen = {(r.operation, r.fault) for r in sim.proxy.requests}
        assert ("CreateTable", "TableStatus=CREATING") in seen
        assert ("DeleteTable", "TableStatus=DELETING") in seen
    assert plain.list_tables()["TableNames"] == []
