"""Bad input refused before any call, the same on every tier: index names and keys, capacity, ``create_args``
checked against the SDK model's enums and ranges, queue attributes by the SQS API reference, the library's own
tags, NaN and infinite durations, typos in keyword arguments.

Each case runs against a moto server behind the fault proxy: the proxy's request log proves that not one
request was sent, and the registry that nothing was registered (so no exit handler can report a leak).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import sandboxres
from sandboxres import Index, SpecError

BAD_TABLES: list[dict[str, Any]] = [
    {"global_indexes": [Index("by email", hash_key="email")]},  # AWS: [A-Za-z0-9_.-]{3,255}
    {"global_indexes": [Index("by/email", hash_key="email")]},
    {"global_indexes": [Index("by_email", hash_key="email", range_key="email")]},
    {"range_key": "sk", "local_indexes": [Index("by_pk", range_key="pk")]},  # the table's hash key
    {"range_key": "sk", "local_indexes": [Index("by_sk", range_key="sk")]},  # the table's range key
    {"capacity": (5, 5)},  # PAY_PER_REQUEST has no provisioned capacity
    {"billing_mode": "PAY_PER_REQUEST", "capacity": (1, 1)},
    {"billing_mode": "PROVISIONED", "capacity": (10**9, 1)},
    {"billing_mode": "PROVISIONED", "capacity": (1, 40_001)},
    {"billing_mode": "PROVISIONED", "capacity": "1,1"},
    {"create_args": {"TableClass": "NOPE"}},
    {"create_args": {"SSESpecification": {"Enabled": True, "SSEType": "PGP"}}},
    {"create_args": {"BillingMode": "PROVISIONED"}},  # a named parameter's job
    {"create_args": {"Tags": [{"Key": "k" * 129, "Value": "v"}]}},
    {"create_args": {"Tags": [{"Key": "team", "Value": "v" * 257}]}},
    {"create_args": {"Tags": [{"Key": "team", "Value": "a|b"}]}},
    {"create_args": {"Tags": [{"Key": "aws:team", "Value": "qa"}]}},
    {"create_args": {"Tags": [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]}},
    {"create_args": "TableClass=STANDARD"},
    {"timeout": math.nan},
    {"timeout": math.inf},
    {"timeout": -math.inf},
]


@pytest.mark.parametrize("options", BAD_TABLES, ids=repr)
def test_bad_table_options_send_nothing(run: Any, counted: Any, options: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        with run.lifecycle("table", "bad", **options):
            pytest.fail("the block must not run")


@pytest.mark.parametrize("value", ["false", "true", "FALSE"])
@pytest.mark.parametrize("key", [sandboxres.TAG_MANAGED, sandboxres.TAG_RUN_ID, sandboxres.TAG_CREATED])
def test_create_args_may_not_set_the_managed_tags(run: Any, counted: Any, key: str, value: str) -> None:
    """The sweeper and the delete-only-our-own check rely on these tags: a user value would make the table
    unsweepable (managed=false) or claim another run's identity."""
    with pytest.raises(SpecError, match="sandboxres:"):
        with run.lifecycle("table", "tagged", create_args={"Tags": [{"Key": key, "Value": value}]}):
            pytest.fail("the block must not run")


BAD_QUEUES: list[dict[str, Any]] = [
    {"attributes": {"Bogus": "1"}},
    {"attributes": {"VisibilityTimeout": "-5"}},
    {"attributes": {"VisibilityTimeout": "abc"}},  # moto answers 500 to it: retried as transient before
    {"attributes": {"VisibilityTimeout": "43201"}},
    {"attributes": {"DelaySeconds": "99999"}},
    {"attributes": {"DelaySeconds": "1.5"}},
    {"attributes": {"MaximumMessageSize": "1023"}},
    {"attributes": {"MaximumMessageSize": "1048577"}},
    {"attributes": {"MessageRetentionPeriod": "59"}},
    {"attributes": {"MessageRetentionPeriod": "1209601"}},
    {"attributes": {"ReceiveMessageWaitTimeSeconds": "21"}},
    {"attributes": {"KmsDataKeyReusePeriodSeconds": "59"}},
    {"attributes": {"KmsDataKeyReusePeriodSeconds": "86401"}},
    {"attributes": {"KmsMasterKeyId": " "}},
    {"attributes": {"SqsManagedSseEnabled": "yes"}},
    {"attributes": {"Policy": "not json"}},
    {"attributes": {"Policy": "[]"}},
    {"attributes": {"RedriveAllowPolicy": json.dumps({"redrivePermission": "some"})}},
    {"attributes": {"RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue"})}},
    {"attributes": {"ContentBasedDeduplication": "true"}},  # FIFO only
    {"attributes": {"ContentBasedDeduplication": "false"}},
    {"attributes": {"DeduplicationScope": "messageGroup"}},
    {"attributes": {"FifoThroughputLimit": "perQueue"}},
    {"fifo": True, "attributes": {"DeduplicationScope": "everything"}},
    {"fifo": True, "attributes": {"FifoThroughputLimit": "perGroup"}},
    {"fifo": True, "attributes": {"ContentBasedDeduplication": "maybe"}},
    {"attributes": {"ApproximateNumberOfMessages": "0"}},  # read-only
    {"timeout": math.nan},
    {"timeout": math.inf},
]


@pytest.mark.parametrize("options", BAD_QUEUES, ids=repr)
def test_bad_queue_options_send_nothing(run: Any, counted: Any, options: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        with run.lifecycle("queue", "bad", **options):
            pytest.fail("the block must not run")


@pytest.mark.parametrize("options", [{"timeout": math.nan}, {"timeout": math.inf}], ids=repr)
def test_bad_bucket_options_send_nothing(run: Any, counted: Any, options: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        with run.lifecycle("bucket", "bad", **options):
            pytest.fail("the block must not run")


GOOD_QUEUE_ATTRIBUTES: list[tuple[bool, dict[str, str]]] = [
    (
        False,
        {
            "DelaySeconds": "900",
            "MaximumMessageSize": "1048576",
            "MessageRetentionPeriod": "1209600",
            "ReceiveMessageWaitTimeSeconds": "20",
            "VisibilityTimeout": "0",
            "SqsManagedSseEnabled": "true",
            "RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"}),
        },
    ),
    (
        True,
        {
            "ContentBasedDeduplication": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    ),
]


@pytest.mark.parametrize(("fifo", "attributes"), GOOD_QUEUE_ATTRIBUTES, ids=["standard", "fifo"])
def test_attributes_within_the_rules_reach_the_queue(run: Any, fifo: bool, attributes: dict[str, str]) -> None:
    with run.lifecycle("queue", "ok", fifo=fifo, attributes=attributes) as q:
        got = run.call(q.client.get_queue_attributes(QueueUrl=q.url, AttributeNames=["All"]))["Attributes"]
        for key in ("DelaySeconds", "VisibilityTimeout", "ContentBasedDeduplication", "DeduplicationScope"):
            if key in attributes:
                assert got[key] == attributes[key]


def test_user_tags_within_the_rules_sit_beside_the_managed_ones(run: Any, managed_tags: Any) -> None:
    tags = [{"Key": "team", "Value": "qa: nightly/eu = 1+1"}]
    with run.lifecycle("table", "usertags", create_args={"Tags": tags}) as t:
        found = run.call(t.client.list_tags_of_resource(ResourceArn=t.arn))
        found = {tag["Key"]: tag["Value"] for tag in found["Tags"]}
        assert found["team"] == "qa: nightly/eu = 1+1"
        managed_tags(found)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda api: api.ephemeral_table("x", rangekey="sk"),
            "ephemeral_table() got an unexpected keyword argument 'rangekey' (did you mean 'range_key'?)",
        ),
        (
            lambda api: api.ephemeral_queue("x", dead_leter=3),
            "ephemeral_queue() got an unexpected keyword argument 'dead_leter' (did you mean 'dead_letter'?)",
        ),
        (lambda api: api.ephemeral_bucket("x", "y"), "ephemeral_bucket() too many positional arguments"),
    ],
)
def test_keyword_typos_name_the_public_function(run: Any, call: Any, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        call(run.api)
    assert str(caught.value) == message
    assert "_spec" not in str(caught.value)


def test_fixture_declarations_name_the_public_function() -> None:
    from sandboxres.pytest_plugin import async_queue_fixture, table_fixture

    with pytest.raises(TypeError, match=r"^table_fixture\(\) got an unexpected keyword argument 'hashkey' \(did you"):
        table_fixture("users", hashkey="id")
    with pytest.raises(TypeError, match=r"^async_queue_fixture\(\) got an unexpected keyword argument 'fifoo'"):
        async_queue_fixture("jobs", fifoo=True)


@pytest.mark.parametrize("age", [math.nan, math.inf, float("-nan")])
def test_sweep_refuses_a_nan_or_infinite_age(counted: Any, age: float) -> None:
    """NaN compares false with every age, so it selected every tagged resource, a running run's included."""
    with pytest.raises(SpecError, match="older_than"):
        sandboxres.sweep(older_than=age)


@pytest.mark.parametrize("age", ["nan", "inf", "9" * 400 + "s"])
def test_sweep_command_refuses_a_nan_or_infinite_age(counted: Any, age: str, capsys: Any) -> None:
    from sandboxres._doors.cli import main

    assert main(["sweep", "--older-than", age]) == 2
    assert "older_than" in capsys.readouterr().err
