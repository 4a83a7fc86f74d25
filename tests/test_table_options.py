"""Every table option, through the sync and the async front door (the ``run`` fixture), over HTTP on the embedded
emulator."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from sandboxres import Index, SpecError
from tests.support.inventory import InventoryAt
from tests.support.runner import Runner


def _describe(run: Runner, t: Any) -> dict[str, Any]:
    table: dict[str, Any] = run.call(t.client.describe_table(TableName=t.name))["Table"]
    return table


def test_defaults_and_handle(run: Runner, inventory: InventoryAt, managed_tags: Callable[..., None]) -> None:
    with run.lifecycle("table", "users") as t:
        assert t.name.startswith("test_users_")
        table = _describe(run, t)
        assert table["TableStatus"] == "ACTIVE"
        assert t.arn == table["TableArn"] and t.arn.endswith(f":table/{t.name}")
        assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert "StreamSpecification" not in table or not table["StreamSpecification"].get("StreamEnabled")
        assert t.stream_arn is None
        run.call(t.table.put_item(Item={"pk": "u1", "name": "Alice"}))
        got = run.call(t.table.get_item(Key={"pk": "u1"}, ConsistentRead=True))
        assert got["Item"] == {"pk": "u1", "name": "Alice"}
        tags = run.call(t.client.list_tags_of_resource(ResourceArn=t.arn))
        managed_tags({tag["Key"]: tag["Value"] for tag in tags["Tags"]})
        assert "client" not in repr(t) and t.name in repr(t)
        name = t.name
    assert name not in inventory().tables()


def test_range_key_and_attribute_types(run: Runner) -> None:
    with run.lifecycle("table", "events", range_key="sk", attribute_types={"sk": "N"}) as t:
        table = _describe(run, t)
        assert table["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {"pk": "S", "sk": "N"}
        for sk in (3, 1, 2):
            run.call(t.table.put_item(Item={"pk": "a", "sk": sk}))
        got = run.call(
            t.client.query(
                TableName=t.name,
                KeyConditionExpression="pk = :p AND sk > :s",
                ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"N": "1"}},
            )
        )
        assert [item["sk"]["N"] for item in got["Items"]] == ["2", "3"]


def test_custom_hash_key_of_binary_type(run: Runner) -> None:
    with run.lifecycle("table", "blobs", hash_key="id", attribute_types={"id": "B"}) as t:
        table = _describe(run, t)
        assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "B"}]
        run.call(t.client.put_item(TableName=t.name, Item={"id": {"B": b"\x00\x01"}}))
        got = run.call(t.client.get_item(TableName=t.name, Key={"id": {"B": b"\x00\x01"}}))
        assert got["Item"]["id"]["B"] == b"\x00\x01"


def test_global_and_local_secondary_indexes(run: Runner) -> None:
    with run.lifecycle(
        "table",
        "orders",
        range_key="sk",
        attribute_types={"score": "N"},
        global_indexes=[
            Index("by_email", hash_key="email"),
            Index("by_status", hash_key="status", range_key="created", projection=["title"]),
        ],
        local_indexes=[Index("by_score", range_key="score", projection="KEYS_ONLY")],
    ) as t:
        table = _describe(run, t)
        gsis = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
        assert gsis["by_email"]["KeySchema"] == [{"AttributeName": "email", "KeyType": "HASH"}]
        assert gsis["by_email"]["Projection"]["ProjectionType"] == "ALL"
        assert gsis["by_status"]["KeySchema"] == [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "created", "KeyType": "RANGE"},
        ]
        assert gsis["by_status"]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}
        (lsi,) = table["LocalSecondaryIndexes"]
        assert lsi["IndexName"] == "by_score"
        assert lsi["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "score", "KeyType": "RANGE"},
        ]
        assert lsi["Projection"]["ProjectionType"] == "KEYS_ONLY"
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert types == {"pk": "S", "sk": "S", "email": "S", "status": "S", "created": "S", "score": "N"}
        item = {"pk": "o1", "sk": "1", "email": "a@b.c", "status": "open", "created": "2024", "score": 7}
        run.call(t.table.put_item(Item=item))
        got = run.call(
            t.table.query(
                IndexName="by_email",
                KeyConditionExpression="email = :e",
                ExpressionAttributeValues={":e": "a@b.c"},
            )
        )
        assert [i["pk"] for i in got["Items"]] == ["o1"]
        got = run.call(
            t.table.query(
                IndexName="by_score",
                KeyConditionExpression="pk = :p AND score > :s",
                ExpressionAttributeValues={":p": "o1", ":s": Decimal(5)},
            )
        )
        assert [i["sk"] for i in got["Items"]] == ["1"]


@pytest.mark.parametrize("view", ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"])
def test_stream_view_type(run: Runner, raw: Callable[..., Any], view: str) -> None:
    with run.lifecycle("table", "streamed", stream=view) as t:
        table = _describe(run, t)
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
        assert t.stream_arn and t.stream_arn == table["LatestStreamArn"]
        stream = raw("dynamodbstreams").describe_stream(StreamArn=t.stream_arn)["StreamDescription"]
        assert stream["StreamStatus"] == "ENABLED"
        assert stream["StreamViewType"] == view
        assert stream["TableName"] == t.name


def test_ttl_attribute(run: Runner) -> None:
    with run.lifecycle("table", "sessions", ttl_attribute="expires_at") as t:
        ttl = run.call(t.client.describe_time_to_live(TableName=t.name))["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_provisioned_billing_mode(run: Runner) -> None:
    with run.lifecycle(
        "table",
        "provisioned",
        billing_mode="PROVISIONED",
        capacity=(2, 3),
        global_indexes=[Index("by_x", hash_key="x")],
    ) as t:
        table = _describe(run, t)
        assert table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
        (gsi,) = table["GlobalSecondaryIndexes"]
        assert gsi["ProvisionedThroughput"]["ReadCapacityUnits"] == 2


def test_create_args_are_passed_through(run: Runner, managed_tags: Callable[..., None]) -> None:
    create_args = {
        "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
        "Tags": [{"Key": "team", "Value": "qa"}],
    }
    with run.lifecycle("table", "passthrough", create_args=create_args) as t:
        table = _describe(run, t)
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert table["SSEDescription"]["SSEType"] == "KMS"
        tags = run.call(t.client.list_tags_of_resource(ResourceArn=t.arn))
        tags = {tag["Key"]: tag["Value"] for tag in tags["Tags"]}
        assert tags["team"] == "qa"
        managed_tags(tags)


def test_deletion_protection_does_not_leave_the_table_behind(run: Runner, inventory: InventoryAt) -> None:
    with run.lifecycle("table", "protected", create_args={"DeletionProtectionEnabled": True}) as t:
        assert _describe(run, t)["DeletionProtectionEnabled"] is True
        name = t.name
    assert name not in inventory().tables()


def test_explicit_create_and_delete(run: Runner, inventory: InventoryAt) -> None:
    resource = run.api.ephemeral_table("explicit", range_key="sk")
    handle = run.call(resource.create())
    assert handle.name in inventory().tables()
    run.call(handle.table.put_item(Item={"pk": "a", "sk": "b"}))
    run.call(resource.delete())
    assert handle.name not in inventory().tables()
    run.call(resource.delete())  # a second delete is a no-op
    never_created = run.api.ephemeral_table("never")
    run.call(never_created.delete())  # deleting what was never created is a no-op too


def test_entering_twice_is_refused_and_leaves_the_table_alone(run: Runner, inventory: InventoryAt) -> None:
    resource = run.api.ephemeral_table("once")
    handle = run.call(resource.create())
    try:
        with pytest.raises(RuntimeError, match="entered once"):
            run.call(resource.create())
        assert handle.name in inventory().tables()
        run.call(handle.table.put_item(Item={"pk": "still usable"}))
    finally:
        run.call(resource.delete())
    assert handle.name not in inventory().tables()


BAD_TABLE_OPTIONS = [
    {"label": "!!!"},
    {"label": ""},
    {"hash_key": ""},
    {"hash_key": 5},
    {"range_key": "pk"},
    {"attribute_types": {"pk": "X"}},
    {"attribute_types": {"not_a_key": "S"}},
    {"billing_mode": "ON_DEMAND"},
    {"billing_mode": "PROVISIONED", "capacity": (0, 1)},
    {"capacity": (1,)},
    {"stream": "NEW"},
    {"ttl_attribute": ""},
    {"global_indexes": [Index("ix")]},
    {"global_indexes": [Index("by_a", hash_key="a"), Index("by_a", hash_key="b")]},
    {"global_indexes": ["by_a"]},
    {"global_indexes": [Index("by_a", hash_key="a", projection="SOME")]},
    {"global_indexes": [Index(f"ix{i:02}", hash_key="a") for i in range(21)]},
    {"local_indexes": [Index("by_b", range_key="b")]},  # no range key on the table
    {"range_key": "sk", "local_indexes": [Index("by_b", hash_key="other", range_key="b")]},
    {"create_args": {"TableName": "mine"}},
    {"create_args": {"KeySchema": []}},
    {"create_args": {"NoSuchParameter": 1}},
    {"create_args": {"SSESpecification": "yes"}},
    {"create_args": {"TableClass": 3}},
    {"timeout": 0},
    {"timeout": -1},
    {"timeout": "10"},
    {"timeout": True},
    {"keep": "no"},
]


@pytest.mark.parametrize("options", BAD_TABLE_OPTIONS, ids=repr)
def test_bad_options_raise_spec_error_and_create_nothing(
    run: Runner, inventory: InventoryAt, options: dict[str, Any]
) -> None:
    before = inventory().snapshot()
    options = dict(options)
    label = options.pop("label", "bad")
    with pytest.raises(SpecError):
        with run.lifecycle("table", label, **options):
            pytest.fail("the block must not run")
    assert inventory().snapshot() == before
