"""Recycling a DynamoDB table (sandboxres._kinds.table.recycling), every branch, through the scripted driver."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandboxres._kinds import KINDS
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.table.indexes import Index
from sandboxres._kinds.table.plans import TableFacts
from sandboxres._kinds.table.recycling import recycle_table, table_baseline
from sandboxres._kinds.table.spec import TableSpec
from tests.support.scripted import ABSENT, Expect, Fail, call, client_error, poll, run

NAME = "test_users_0123456789abcdef"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{NAME}"
BY_NAME = {"TableName": NAME}
BY_ARN = {"ResourceArn": ARN}
TAGS = {"sandboxres:managed": "true", "team": "a"}
TAG_LIST = [{"Key": k, "Value": v} for k, v in TAGS.items()]
LIMITS = RecycleLimits(max_deletions=100, settle_seconds=2.5)
KEYS_ONLY: dict[str, Any] = {"ProjectionExpression": "#k0", "ExpressionAttributeNames": {"#k0": "pk"}}
BOTH_KEYS: dict[str, Any] = {"ProjectionExpression": "#k0, #k1", "ExpressionAttributeNames": {"#k0": "pk", "#k1": "sk"}}
DISABLED = {"TimeToLiveStatus": "DISABLED"}
BY_EMAIL = Index("by_email", "email")
BY_AGE = Index("by_age", "pk", "age")


def spec(**options: Any) -> TableSpec:
    return TableSpec(label="users", timeout=30.0, keep=None, **options)


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"item{n}"}}


def table(status: str = "ACTIVE", **more: Any) -> dict[str, Any]:
    return {
        "TableName": NAME,
        "TableArn": ARN,
        "TableStatus": status,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0},
        "ItemCount": 0,
        **more,
    }


def gsi(name: str = "by_email", status: str = "ACTIVE", **more: Any) -> dict[str, Any]:
    return {
        "IndexName": name,
        "IndexStatus": status,
        "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        **more,
    }


def lsi(name: str = "by_age") -> dict[str, Any]:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "age", "KeyType": "RANGE"}]
    return {
        "IndexName": name,
        "KeySchema": keys,
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["b", "a"]},
    }


def baseline_of(described: dict[str, Any], tags: dict[str, str] | None = None) -> dict[str, Any]:
    """The baseline of a table DescribeTable shows as ``described``."""
    page = {"Tags": [{"Key": k, "Value": v} for k, v in (TAGS if tags is None else tags).items()]}
    return run(
        table_baseline(TableFacts(NAME, ARN)),
        call("dynamodb", "describe_table", BY_NAME, {"Table": described}),
        call("dynamodb", "list_tags_of_resource", BY_ARN, page),
    )


BASELINE = baseline_of(table())


def checks(described: dict[str, Any] | None = None, ttl: dict[str, Any] | None = None) -> list[Expect]:
    """DescribeTable, DescribeTimeToLive and ListTagsOfResource of an unchanged table."""
    return [
        call("dynamodb", "describe_table", BY_NAME, {"Table": described or table()}, deadline=60.0),
        call("dynamodb", "describe_time_to_live", BY_NAME, ttl or {"TimeToLiveDescription": DISABLED}),
        call("dynamodb", "list_tags_of_resource", BY_ARN, {"Tags": TAG_LIST}),
    ]  # fmt: skip


def scan(*items: dict[str, Any], last: dict[str, Any] | None = None, **params: Any) -> Expect:
    """One page of the consistent, keys-only Scan of the table."""
    page: dict[str, Any] = {"Items": list(items), **({"LastEvaluatedKey": last} if last else {})}
    expected = {**BY_NAME, "ConsistentRead": True, **KEYS_ONLY, **params}
    return call("dynamodb", "scan", expected, page, deadline=60.0)


def delete(*keys: dict[str, Any], unprocessed: list[dict[str, Any]] | None = None) -> Expect:
    requests = [{"DeleteRequest": {"Key": k}} for k in keys]
    reply = {"UnprocessedItems": {NAME: unprocessed}} if unprocessed else {"UnprocessedItems": {}}
    return call("dynamodb", "batch_write_item", {"RequestItems": {NAME: requests}}, reply, deadline=60.0)


def proof(*items: dict[str, Any]) -> Expect:
    return scan(*items, Limit=1, ExclusiveStartKey=ABSENT)


def recycle(table_spec: TableSpec, baseline: dict[str, Any], *expected: Expect, limits: RecycleLimits = LIMITS) -> Any:
    return run(recycle_table(table_spec, TableFacts(NAME, ARN), baseline, limits), *expected)


# ---------------------------------------------------------------------------------------------------------
# baseline


def test_the_baseline_holds_the_definition_and_every_page_of_tags_and_survives_json() -> None:
    baseline = run(
        table_baseline(TableFacts(NAME, ARN)),
        call("dynamodb", "describe_table", BY_NAME, {"Table": table()}, deadline=60.0),
        call("dynamodb", "list_tags_of_resource", BY_ARN, {"Tags": TAG_LIST[:1], "NextToken": "t1"}),
        call("dynamodb", "list_tags_of_resource", {**BY_ARN, "NextToken": "t1"}, {"Tags": TAG_LIST[1:]}),
    )
    assert baseline["tags"] == TAGS
    assert baseline["definition"]["billing mode"] == "PAY_PER_REQUEST"
    assert json.loads(json.dumps(baseline)) == baseline


def test_the_table_kind_recycles_with_these_plans() -> None:
    assert KINDS["table"].baseline is table_baseline
    assert KINDS["table"].recycle is recycle_table


# ---------------------------------------------------------------------------------------------------------
# a clean recycling


def test_an_untouched_empty_table_is_clean_after_the_checks_and_one_empty_scan() -> None:
    assert recycle(spec(), BASELINE, *checks(), scan(), proof()) is None


def test_counters_dynamodb_updates_by_itself_do_not_discard() -> None:
    moved = table(ItemCount=3, TableSizeBytes=99, WarmThroughput={"ReadUnitsPerSecond": 12000, "Status": "ACTIVE"})
    moved["ProvisionedThroughput"] = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 2}
    assert recycle(spec(), BASELINE, *checks(moved), scan(), proof()) is None


def test_items_of_every_page_are_deleted_in_batches_of_25_then_the_table_is_proven_empty() -> None:
    keys = [key(n) for n in range(30)]
    assert (
        recycle(
            spec(),
            BASELINE,
            *checks(),
            scan(*keys[:20], last=key(19), ExclusiveStartKey=ABSENT),
            call("dynamodb", "scan", {"ExclusiveStartKey": key(19), "ConsistentRead": True}, {"Items": keys[20:]}),
            delete(*keys[:25]),
            delete(*keys[25:]),
            proof(),
        )
        is None
    )


def test_deletions_left_unprocessed_are_sent_again() -> None:
    keys = [key(1), key(2)]
    requests = [{"DeleteRequest": {"Key": k}} for k in keys]
    assert (
        recycle(
            spec(),
            BASELINE,
            *checks(),
            scan(*keys),
            delete(*keys, unprocessed=requests[1:]),
            call("dynamodb", "batch_write_item", {"RequestItems": {NAME: requests[1:]}}, {}),
            proof(),
        )
        is None
    )


def test_a_table_with_indexes_ttl_and_provisioned_capacity_is_proven_empty_in_every_index() -> None:
    capacity = {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}
    described = table(
        BillingModeSummary=None,
        ProvisionedThroughput=capacity,
        GlobalSecondaryIndexes=[gsi(ProvisionedThroughput=capacity)],
        LocalSecondaryIndexes=[lsi()],
    )
    ttl = {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}}
    table_spec = spec(
        range_key="sk",
        global_indexes=(BY_EMAIL,),
        local_indexes=(BY_AGE,),
        ttl_attribute="expires",
        billing_mode="PROVISIONED",
        capacity=(2, 3),
    )
    keys_only = BOTH_KEYS
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    script = [
        *checks(described, ttl),
        scan(item, **keys_only),
        delete(item),
        scan(Limit=1, **keys_only),
        scan(Limit=1, IndexName="by_age", **keys_only),
        poll(
            "dynamodb",
            "scan",
            {**BY_NAME, "IndexName": "by_email", "Limit": 1, "ConsistentRead": ABSENT, **keys_only},
            {"Items": [item]},  # the index still shows the deleted item for a moment
            Fail(client_error("ProvisionedThroughputExceededException"), retry=True),
            {"Items": []},
            timeout=2.5,
        ),
    ]
    assert recycle(table_spec, baseline_of(described), *script) is None


# ---------------------------------------------------------------------------------------------------------
# discarded


def test_a_table_with_a_stream_is_discarded_before_any_call() -> None:
    reason = recycle(spec(stream="NEW_IMAGE"), BASELINE)
    assert "stream" in reason and "24 h" in reason


@pytest.mark.parametrize(
    ("described", "expected"),
    [
        (table("UPDATING"), "the table is UPDATING, not ACTIVE"),
        (table(GlobalSecondaryIndexes=[gsi(status="CREATING")]), "its index by_email is CREATING, not ACTIVE"),
        (table(GlobalSecondaryIndexes=[gsi()]), "its global indexes changed since its creation"),
        (table(BillingModeSummary={"BillingMode": "PROVISIONED"}), "its billing mode changed since its creation"),
        (table(DeletionProtectionEnabled=True), "its deletion protection changed since its creation"),
        (table(LatestStreamArn=f"{ARN}/stream/1"), "its stream changed since its creation"),
        (table(SSEDescription={"Status": "ENABLED", "SSEType": "KMS"}), "its encryption changed since its creation"),
        (table(Replicas=[{"RegionName": "eu-west-1"}]), "its replicas changed since its creation"),
    ],
    ids=["updating", "index-creating", "index-added", "billing", "protection", "stream", "encryption", "replica"],
)
def test_a_table_not_active_or_changed_since_its_creation_is_discarded(
    described: dict[str, Any], expected: str
) -> None:
    assert recycle(spec(), BASELINE, call("dynamodb", "describe_table", BY_NAME, {"Table": described})) == expected


def test_a_changed_provisioned_capacity_is_discarded() -> None:
    described = table(BillingModeSummary=None, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    raised = table(BillingModeSummary=None, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 1})
    reason = recycle(spec(), baseline_of(described), call("dynamodb", "describe_table", BY_NAME, {"Table": raised}))
    assert reason == "its provisioned capacity changed since its creation"


@pytest.mark.parametrize(
    ("ttl_attribute", "described", "expected"),
    [
        (None, {"TimeToLiveStatus": "ENABLING", "AttributeName": "x"}, "is ENABLING"),
        ("expires", {"TimeToLiveStatus": "DISABLING"}, "is DISABLING on None, not 'expires'"),
        ("expires", {"TimeToLiveStatus": "ENABLED", "AttributeName": "x"}, "is ENABLED on 'x', not 'expires'"),
    ],
    ids=["enabled-unasked", "disabled", "other-attribute"],
)  # fmt: skip
def test_a_time_to_live_other_than_the_spec_asks_is_discarded(
    ttl_attribute: str | None, described: dict[str, Any], expected: str
) -> None:
    script = checks(ttl={"TimeToLiveDescription": described})[:2]
    assert recycle(spec(ttl_attribute=ttl_attribute), BASELINE, *script) == f"its time to live {expected}"


def test_a_missing_time_to_live_description_counts_as_disabled() -> None:
    script = checks(ttl={})
    assert recycle(spec(), BASELINE, script[0], call("dynamodb", "describe_time_to_live", BY_NAME, {}), *script[2:],
                   scan(), proof()) is None  # fmt: skip


def test_a_tag_added_on_a_later_page_is_discarded() -> None:
    script = [
        *checks()[:2],
        call("dynamodb", "list_tags_of_resource", BY_ARN, {"Tags": TAG_LIST, "NextToken": "t1"}),
        call("dynamodb", "list_tags_of_resource", {**BY_ARN, "NextToken": "t1"}, {"Tags": [{"Key": "x"}]}),
    ]  # fmt: skip
    assert recycle(spec(), BASELINE, *script) == "its tags changed since its creation"


def test_more_items_than_max_deletions_discards_without_deleting_or_reading_further_pages() -> None:
    limits = RecycleLimits(max_deletions=3, settle_seconds=1.0)
    script = [*checks(), scan(key(1), key(2), key(3), key(4), last=key(4))]
    assert recycle(spec(), BASELINE, *script, limits=limits) == "more than 3 items: creating anew is cheaper"


def test_deletions_still_unprocessed_after_the_bounded_retries_discard() -> None:
    requests = [{"DeleteRequest": {"Key": key(1)}}]
    script = [*checks(), scan(key(1))]
    script += [delete(key(1), unprocessed=requests) for _ in range(5)]
    assert recycle(spec(), BASELINE, *script) == "1 deletions stayed unprocessed after 5 attempts"


@pytest.mark.parametrize("page", [{"Items": [key(9)]}, {"Items": [], "LastEvaluatedKey": key(9)}], ids=["item", "more"])
def test_an_item_written_again_after_emptying_discards(page: dict[str, Any]) -> None:
    script = [*checks(), scan(), call("dynamodb", "scan", {"Limit": 1, "ConsistentRead": True}, page)]
    assert recycle(spec(), BASELINE, *script) == "an item is still there after emptying (something still writes to it)"


def test_an_item_still_in_a_local_index_discards() -> None:
    described = table(LocalSecondaryIndexes=[lsi()])
    script = [
        *checks(described),
        scan(**BOTH_KEYS),
        scan(Limit=1, **BOTH_KEYS),
        scan(key(1), Limit=1, IndexName="by_age", **BOTH_KEYS),
    ]
    reason = recycle(spec(range_key="sk", local_indexes=(BY_AGE,)), baseline_of(described), *script)
    assert reason == "an item is still visible in index by_age"


def test_an_item_still_in_the_global_index_after_the_settle_time_discards() -> None:
    described = table(GlobalSecondaryIndexes=[gsi()])
    stale = poll("dynamodb", "scan", {"IndexName": "by_email", "Limit": 1}, {"Items": [key(1)]}, {"Items": [key(1)]},
                 timeout=2.5, times_out=True)  # fmt: skip
    script = [*checks(described), scan(), proof(), stale]
    reason = recycle(spec(global_indexes=(BY_EMAIL,)), baseline_of(described), *script)
    assert reason == "an item is still visible in index by_email"


def test_a_failed_call_raises_for_the_pool_to_discard() -> None:
    denied = client_error("AccessDeniedException", status=400)
    with pytest.raises(type(denied)):
        recycle(spec(), BASELINE, *checks(), call("dynamodb", "scan", BY_NAME, Fail(denied, retry=False)))
