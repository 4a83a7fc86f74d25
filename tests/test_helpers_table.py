"""The table helpers (``put_items``, ``stream_records``) through both front doors: on a moto server behind a fault
proxy (which holds back batch entries as AWS's ``UnprocessedItems``), on a stream of split shards served by a fake
client (moto keeps one shard), and on the ``simulated`` target, where the naive read of the stream right after the
write finds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

import sandboxres
from sandboxres import AWSCallError, ReceiveTimeoutError, SpecError
from sandboxres._kinds.table.items import attribute_value, serialise_items
from sandboxres._kinds.table.stream_reader import read_stream
from sandboxres._runtime.clients import active_target
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._runtime.target import Target
from sandboxres._simulator import FaultProxy, Rule
from tests.support.batch_faults import HoldBack
from tests.support.runner import Runner

STREAM = {"stream": "NEW_AND_OLD_IMAGES"}


@pytest.fixture
def proxied(proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    proxy.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    yield proxy
    proxy.clear()


def keys_of(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]


# ---------------------------------------------------------------------------------------------------------
# serialisation: boto3's rules without boto3


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -12,
        Decimal("1.50"),
        "text",
        "",
        b"\x00bytes",
        bytearray(b"ba"),
        {"a", "b"},
        {1, Decimal("2.5")},
        {b"x", b"y"},
        [1, "two", None, [True]],
        ("tuple", 1),
        {"nested": {"deep": [Decimal("3"), {"s"}]}},
    ],
    ids=lambda value: type(value).__name__,
)
def test_values_are_serialised_as_boto3_does(value: Any) -> None:
    expected: dict[str, Any] = dict(TypeSerializer().serialize(value))
    actual = attribute_value(value)
    for kind in ("SS", "NS", "BS"):  # sets have no order
        if kind in expected:
            expected, actual = {kind: sorted(expected[kind])}, {kind: sorted(actual[kind])}
    assert actual == expected


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"pk": 1.5}], r"items\[0\]\['pk'\] is a float"),
        ([{"pk": set()}], "empty set"),
        ([{"pk": {1, "a"}}], "mixing"),
        ([{"pk": Decimal("NaN")}], "finite"),
        ([{"pk": object()}], "cannot store"),
        ([{1: "a"}], "not a str"),
        ([{}], "non-empty mapping"),
        (["pk"], "non-empty mapping"),
        ({"pk": "a"}, "list"),
        ("items", "list"),
    ],
)
def test_bad_items_are_refused(items: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        serialise_items(items)


# ---------------------------------------------------------------------------------------------------------
# on moto, behind the fault proxy


def test_put_items_in_batches_then_read_the_stream(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("table", f"items_{run.mode}", **STREAM) as table:
        items = [{"pk": f"k{i:02}", "n": i, "tags": {"t"}} for i in range(30)]
        assert run.call(table.put_items(items)) == 30
        assert proxied.count("dynamodb", "BatchWriteItem") == 2  # 25 + 5
        item = run.call(table.client.get_item(TableName=table.name, Key={"pk": {"S": "k07"}}, ConsistentRead=True))
        assert item["Item"] == {"pk": {"S": "k07"}, "n": {"N": "7"}, "tags": {"SS": ["t"]}}
        records = run.call(table.stream_records(count=30))
        assert keys_of(records) == [("INSERT", f"k{i:02}") for i in range(30)]
        assert {"dynamodbstreams"} <= {r.service for r in proxied.requests}


def test_records_come_in_order_per_key_and_all_of_them_without_count(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("table", f"order_{run.mode}", **STREAM) as table:
        for n in range(3):
            run.call(table.client.put_item(TableName=table.name, Item={"pk": {"S": "a"}, "n": {"N": str(n)}}))
        run.call(table.client.delete_item(TableName=table.name, Key={"pk": {"S": "a"}}))
        records = run.call(table.stream_records())
        assert keys_of(records) == [("INSERT", "a"), ("MODIFY", "a"), ("MODIFY", "a"), ("REMOVE", "a")]
        assert [r["dynamodb"].get("NewImage", {}).get("n") for r in records] == [
            {"N": "0"},
            {"N": "1"},
            {"N": "2"},
            None,
        ]


def test_stream_records_time_out_saying_how_many_arrived(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("table", f"late_{run.mode}", **STREAM) as table:
        run.call(table.put_items([{"pk": "only"}]))
        with pytest.raises(ReceiveTimeoutError) as caught:
            run.call(table.stream_records(count=2, timeout=1))
        assert f"table {table.name}: 1 of 2 stream records arrived within" in str(caught.value)
        assert "INSERT {'pk': {'S': 'only'}}" in str(caught.value)
        assert len(caught.value.received) == 1


def test_unprocessed_items_are_sent_again(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("table", f"unprocessed_{run.mode}") as table:
        proxied.add(Rule(HoldBack(4), service="dynamodb", operations="BatchWriteItem", times=2))
        assert run.call(table.put_items([{"pk": f"k{i}"} for i in range(10)])) == 10
        assert proxied.count("dynamodb", "BatchWriteItem") == 3  # 6 of 10 written, then 1 of the 4, then 3
        scan = run.call(table.client.scan(TableName=table.name, ConsistentRead=True))
        assert sorted(i["pk"]["S"] for i in scan["Items"]) == sorted(f"k{i}" for i in range(10))


def test_items_left_unprocessed_end_with_a_clear_error(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("table", f"stuck_{run.mode}") as table:
        proxied.add(Rule(HoldBack(every=True), service="dynamodb", operations="BatchWriteItem"))
        with pytest.raises(AWSCallError, match=r"3 of 3 entries still not processed after .*UnprocessedItems"):
            run.call(table.put_items([{"pk": "a"}, {"pk": "b"}, {"pk": "c"}], timeout=1))


def test_bad_input_is_refused_before_any_call(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("table", f"bad_{run.mode}") as table:
        proxied.clear_records()
        with pytest.raises(SpecError, match="has no stream"):
            run.call(table.stream_records())
        with pytest.raises(SpecError, match="float"):
            run.call(table.put_items([{"pk": "a", "price": 9.99}]))
        with pytest.raises(SpecError, match="timeout"):
            run.call(table.put_items([{"pk": "a"}], timeout="soon"))
        assert proxied.requests == []
    with run.lifecycle("table", f"bad_count_{run.mode}", **STREAM) as table:
        proxied.clear_records()
        with pytest.raises(SpecError, match="count"):
            run.call(table.stream_records(count=0))
        assert proxied.requests == []


# ---------------------------------------------------------------------------------------------------------
# split shards: a parent read to its end, then its children (a fake streams client: moto never splits)


class SplitStream:
    """A stream whose first shard closed and split in two; DescribeStream in pages of two; one record per read.
    The child ``c2`` gets its record only on the third read of it (a late record)."""

    SHARDS = [
        {"ShardId": "c1", "ParentShardId": "p", "SequenceNumberRange": {"StartingSequenceNumber": "300"}},
        {"ShardId": "p", "SequenceNumberRange": {"StartingSequenceNumber": "100", "EndingSequenceNumber": "299"}},
        {"ShardId": "c2", "ParentShardId": "p", "SequenceNumberRange": {"StartingSequenceNumber": "200"}},
    ]
    RECORDS = {"p": ["p1", "p2"], "c1": ["c1a", "c1b"], "c2": ["c2a"]}

    def __init__(self) -> None:
        self.reads = {"c2": 0}

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        start = 0 if ExclusiveStartShardId is None else [s["ShardId"] for s in self.SHARDS].index("c1") + 1
        page = self.SHARDS[start : start + 2]
        last = {"LastEvaluatedShardId": page[-1]["ShardId"]} if start + 2 < len(self.SHARDS) else {}
        return {"StreamDescription": {"Shards": page, **last}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> dict[str, Any]:
        assert ShardIteratorType == "TRIM_HORIZON"
        return {"ShardIterator": f"{ShardId}:0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, position = ShardIterator.split(":")
        at = int(position)
        records = self.RECORDS[shard]
        if shard == "c2":
            self.reads["c2"] += 1
            if self.reads["c2"] < 3:
                return {"Records": [], "NextShardIterator": ShardIterator}
        got = [{"eventName": "INSERT", "id": r} for r in records[at : at + 1]]
        following = {} if shard == "p" and at + 1 >= len(records) else {"NextShardIterator": f"{shard}:{at + len(got)}"}
        return {"Records": got, **following}


@pytest.mark.parametrize("count", [5, None])
def test_every_shard_is_read_parents_first_then_children_by_sequence(count: int | None) -> None:
    stream = SplitStream()
    plan = read_stream(None, "test_split", "arn:aws:dynamodb:us-east-1:1:table/test_split/stream/x", count, 5)
    records = SyncDriver({"dynamodbstreams": stream}, refused_is_final=False).run(plan)
    assert [r["id"] for r in records] == ["p1", "p2", "c2a", "c1a", "c1b"]


# ---------------------------------------------------------------------------------------------------------
# on the simulated target: stream records come late, index reads lag


@pytest.fixture
def simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    """``simulated``, every behaviour on; stream records come 1 s after the write (20 AWS seconds at speed 20)."""
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"seed": 4343, "stream_delay": {"seconds": 20}}))
    monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_PROFILE", str(profile))
    return active_target()


def naive_stream_read(run: Runner, table: Any) -> list[dict[str, Any]]:
    """What a test writes without the helper: the first shard, one GetRecords, right after the write."""
    streams = run.call(table.client.describe_table(TableName=table.name))["Table"]["LatestStreamArn"]
    raw = sandboxres.client("dynamodbstreams")
    shard = raw.describe_stream(StreamArn=streams)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = raw.get_shard_iterator(StreamArn=streams, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return list(raw.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_on_simulated_the_naive_stream_read_is_empty_where_stream_records_waits(simulated: Target, run: Runner) -> None:
    with run.lifecycle("table", f"simstream_{run.mode}", **STREAM) as table:
        assert run.call(table.put_items([{"pk": f"k{i}"} for i in range(3)])) == 3
        assert naive_stream_read(run, table) == []  # written, but not readable yet
        assert keys_of(run.call(table.stream_records(count=3))) == [("INSERT", f"k{i}") for i in range(3)]
        assert len(run.call(table.stream_records())) == 3
