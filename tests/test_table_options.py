"""Every table option, through the sync and the async front door (``door``), over HTTP on the embedded emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandboxres import Index, SpecError


async def _describe(door, t) -> dict:
    return (await door.call(t.client.describe_table, TableName=t.name))["Table"]


async def test_defaults_and_handle(door, inventory, managed_tags) -> None:
    async with door.table("users") as t:
        assert t.name.startswith("test_users_")
        table = await _describe(door, t)
        assert table["TableStatus"] == "ACTIVE"
        assert t.arn == table["TableArn"] and t.arn.endswith(f":table/{t.name}")
        assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert "StreamSpecification" not in table or not table["StreamSpecification"].get("StreamEnabled")
        assert t.stream_arn is None
        await door.call(t.table.put_item, Item={"pk": "u1", "name": "Alice"})
        got = await door.call(t.table.get_item, Key={"pk": "u1"}, ConsistentRead=True)
        assert got["Item"] == {"pk": "u1", "name": "Alice"}
        tags = await door.call(t.client.list_tags_of_resource, ResourceArn=t.arn)
        managed_tags({tag["Key"]: tag["Value"] for tag in tags["Tags"]})
        assert "client" not in repr(t) and t.name in repr(t)
        name = t.name
    assert name not in inventory().tables()


async def test_range_key_and_attribute_types(door) -> None:
    async with door.table("events", range_key="sk", attribute_types={"sk": "N"}) as t:
        table = await _describe(door, t)
        assert table["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {"pk": "S", "sk": "N"}
        for sk in (3, 1, 2):
            await door.call(t.table.put_item, Item={"pk": "a", "sk": sk})
        got = await door.call(
            t.client.query,
            TableName=t.name,
            KeyConditionExpression="pk = :p AND sk > :s",
            ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"N": "1"}},
        )
        assert [item["sk"]["N"] for item in got["Items"]] == ["2", "3"]


async def test_custom_hash_key_of_binary_type(door) -> None:
    async with door.table("blobs", hash_key="id", attribute_types={"id": "B"}) as t:
        table = await _describe(door, t)
        assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "B"}]
        await door.call(t.client.put_item, TableName=t.name, Item={"id": {"B": b"\x00\x01"}})
        got = await door.call(t.client.get_item, TableName=t.name, Key={"id": {"B": b"\x00\x01"}})
        assert got["Item"]["id"]["B"] == b"\x00\x01"


async def test_global_and_local_secondary_indexes(door) -> None:
    async with door.table(
        "orders",
        range_key="sk",
        attribute_types={"score": "N"},
        global_indexes=[
            Index("by_email", hash_key="email"),
            Index("by_status", hash_key="status", range_key="created", projection=["title"]),
        ],
        local_indexes=[Index("by_score", range_key="score", projection="KEYS_ONLY")],
    ) as t:
        table = await _describe(door, t)
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
        await door.call(t.table.put_item, Item=item)
        got = await door.call(
            t.table.query,
            IndexName="by_email",
            KeyConditionExpression="email = :e",
            ExpressionAttributeValues={":e": "a@b.c"},
        )
        assert [i["pk"] for i in got["Items"]] == ["o1"]
        got = await door.call(
            t.table.query,
            IndexName="by_score",
            KeyConditionExpression="pk = :p AND score > :s",
            ExpressionAttributeValues={":p": "o1", ":s": Decimal(5)},
        )
        assert [i["sk"] for i in got["Items"]] == ["1"]


@pytest.mark.parametrize("view", ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"])
async def test_stream_view_type(door, raw, view: str) -> None:
    async with door.table("streamed", stream=view) as t:
        table = await _describe(door, t)
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
        assert t.stream_arn and t.stream_arn == table["LatestStreamArn"]
        stream = raw("dynamodbstreams").describe_stream(StreamArn=t.stream_arn)["StreamDescription"]
        assert stream["StreamStatus"] == "ENABLED"
        assert stream["StreamViewType"] == view
        assert stream["TableName"] == t.name


async def test_ttl_attribute(door) -> None:
    async with door.table("sessions", ttl_attribute="expires_at") as t:
        ttl = (await door.call(t.client.describe_time_to_live, TableName=t.name))["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


async def test_provisioned_billing_mode(door) -> None:
    async with door.table(
        "provisioned", billing_mode="PROVISIONED", capacity=(2, 3), global_indexes=[Index("by_x", hash_key="x")]
    ) as t:
        table = await _describe(door, t)
        assert table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
        (gsi,) = table["GlobalSecondaryIndexes"]
        assert gsi["ProvisionedThroughput"]["ReadCapacityUnits"] == 2


async def test_create_args_are_passed_through(door, managed_tags) -> None:
    create_args = {
        "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
        "Tags": [{"Key": "team", "Value": "qa"}],
    }
    async with door.table("passthrough", create_args=create_args) as t:
        table = await _describe(door, t)
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert table["SSEDescription"]["SSEType"] == "KMS"
        tags = await door.call(t.client.list_tags_of_resource, ResourceArn=t.arn)
        tags = {tag["Key"]: tag["Value"] for tag in tags["Tags"]}
        assert tags["team"] == "qa"
        managed_tags(tags)


async def test_deletion_protection_does_not_leave_the_table_behind(door, inventory) -> None:
    async with door.table("protected", create_args={"DeletionProtectionEnabled": True}) as t:
        assert (await _describe(door, t))["DeletionProtectionEnabled"] is True
        name = t.name
    assert name not in inventory().tables()


async def test_explicit_create_and_delete(door, inventory) -> None:
    resource = door.api.ephemeral_table("explicit", range_key="sk")
    handle = await door.call(resource.create)
    assert handle.name in inventory().tables()
    await door.call(handle.table.put_item, Item={"pk": "a", "sk": "b"})
    await door.call(resource.delete)
    assert handle.name not in inventory().tables()
    await door.call(resource.delete)  # a second delete is a no-op
    never_created = door.api.ephemeral_table("never")
    await door.call(never_created.delete)  # deleting what was never created is a no-op too


async def test_entering_twice_is_refused_and_leaves_the_table_alone(door, inventory) -> None:
    resource = door.api.ephemeral_table("once")
    handle = await door.call(resource.create)
    try:
        with pytest.raises(RuntimeError, match="entered once"):
            await door.call(resource.create)
        assert handle.name in inventory().tables()
        await door.call(handle.table.put_item, Item={"pk": "still usable"})
    finally:
        await door.call(resource.delete)
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
async def test_bad_options_raise_spec_error_and_create_nothing(door, inventory, options: dict) -> None:
    before = inventory().snapshot()
    options = dict(options)
    label = options.pop("label", "bad")
    with pytest.raises(SpecError):
        async with door.table(label, **options):
            pytest.fail("the block must not run")
    assert inventory().snapshot() == before
