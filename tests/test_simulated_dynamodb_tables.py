"""The simulator's DynamoDB table states (CREATING, UPDATING, DELETING) and control-plane faults: each shown on
(the AWS state observed through the simulator) and off (the same probe on the plain emulator behaviour)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandboxres._simulator.profile import Profile
from sandboxres._simulator.simulator import Simulator, start_simulator

pytestmark = pytest.mark.slow

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
_names = itertools.count()
_new_client: Callable[..., Any] = boto3.client


def unique(prefix: str = "tbl") -> str:
    return f"{prefix}-{next(_names)}-{time.monotonic_ns() % 10**8}"


def client(url: str, service: str = "dynamodb") -> Any:
    return _new_client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRIES,
    )


def simulate(
    upstream: str,
    *behaviours: str,
    speed: float = 100.0,
    seed: int = 7,
    settings: Mapping[str, Mapping[str, float]] | None = None,
) -> Simulator:
    """A simulator with only ``behaviours`` on; ``settings``: ``{behaviour: {setting: value}}``."""
    profile = Profile(speed=speed, seed=seed, enabled=frozenset(behaviours), settings=dict(settings or {}))
    return start_simulator(upstream, profile)


def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the state never came")
        time.sleep(0.02)


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def create(ddb: Any, name: str, *, index: bool = False, stream: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if index:
        params["AttributeDefinitions"].append({"AttributeName": "email", "AttributeType": "S"})
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_email",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    created: dict[str, Any] = ddb.create_table(**params)["TableDescription"]
    return created


def status(ddb: Any, name: str) -> str:
    try:
        return str(ddb.describe_table(TableName=name)["Table"]["TableStatus"])
    except ClientError as error:
        return str(error.response["Error"]["Code"])


@pytest.fixture
def plain(emulator: str) -> Any:
    """A client of the emulator itself (no simulator)."""
    return client(emulator)


# ---------------------------------------------------------------------------------------------------------
# table_creating


def test_creating_table_refuses_items_and_changes_until_active(emulator: str, plain: Any) -> None:
    with simulate(emulator, "table_creating", settings={"table_creating": {"seconds": 100}}) as sim:
        ddb = client(sim.url)
        name = unique()
        assert create(ddb, name)["TableStatus"] == "CREATING"
        assert status(plain, name) == "ACTIVE"  # the emulator has it ready at once
        assert status(ddb, name) == "CREATING"
        arn = plain.describe_table(TableName=name)["Table"]["TableArn"]
        with pytest.raises(ClientError) as put:
            ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        with pytest.raises(ClientError) as scan:
            ddb.scan(TableName=name)
        with pytest.raises(ClientError) as tag:
            ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
        with pytest.raises(ClientError) as delete:
            ddb.delete_table(TableName=name)
        with pytest.raises(ClientError) as update:
            ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
        assert [code(e) for e in (put, scan, tag)] == ["ResourceNotFoundException"] * 3
        assert [code(e) for e in (delete, update)] == ["ResourceInUseException"] * 2
        assert isinstance(put.value, ddb.exceptions.ResourceNotFoundException)
        assert status(plain, name) == "ACTIVE"  # nothing reached the emulator's table

        until(lambda: status(ddb, name) == "ACTIVE")
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        ddb.delete_table(TableName=name)


def test_creating_takes_longer_with_indexes_and_stream_is_enabling(emulator: str, plain: Any) -> None:
    settings = {"table_creating": {"seconds": 0, "per_index_seconds": 3000}}
    with simulate(emulator, "table_creating", settings=settings) as sim:
        ddb = client(sim.url)
        streams = client(sim.url, "dynamodbstreams")
        bare, indexed = unique(), unique()
        create(ddb, bare)
        created = create(ddb, indexed, index=True, stream=True)
        assert created["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
        assert status(ddb, bare) == "ACTIVE"
        described = ddb.describe_table(TableName=indexed)["Table"]
        assert (described["TableStatus"], described["GlobalSecondaryIndexes"][0]["IndexStatus"]) == (
            "CREATING",
            "CREATING",
        )
        stream = streams.describe_stream(StreamArn=created["LatestStreamArn"])["StreamDescription"]
        assert stream["StreamStatus"] == "ENABLING"
        assert plain.describe_table(TableName=indexed)["Table"]["TableStatus"] == "ACTIVE"
    for name in (bare, indexed):
        plain.delete_table(TableName=name)


def test_creating_off_tables_are_ready_at_once(emulator: str) -> None:
    with simulate(emulator, "table_deleting", "table_updating") as sim:
        ddb = client(sim.url)
        name = unique()
        assert create(ddb, name)["TableStatus"] == "ACTIVE"
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------------------
# table_deleting


def test_deleting_table_blocks_its_name_then_is_gone(emulator: str, plain: Any) -> None:
    with simulate(emulator, "table_deleting", settings={"table_deleting": {"seconds": 100}}) as sim:
        ddb = client(sim.url)
        name = unique()
        create(plain, name)
        assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
        assert status(plain, name) == "ResourceNotFoundException"  # gone from the emulator at once
        assert status(ddb, name) == "DELETING"
        assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"  # no error
        with pytest.raises(ClientError) as again:
            create(ddb, name)
        assert code(again) == "ResourceInUseException"
        assert status(plain, name) == "ResourceNotFoundException"

        until(lambda: status(ddb, name) == "ResourceNotFoundException")
        create(ddb, name)
        plain.delete_table(TableName=name)


def test_deleting_off_tables_vanish_at_once(emulator: str) -> None:
    with simulate(emulator, "table_creating", settings={"table_creating": {"seconds": 0}}) as sim:
        ddb = client(sim.url)
        name = unique()
        create(ddb, name)
        assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "ACTIVE"
        assert status(ddb, name) == "ResourceNotFoundException"
        create(ddb, name)
        ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------------------
# table_updating


def test_updating_table_refuses_changes_and_ttl_changes_once_per_cooldown(emulator: str, plain: Any) -> None:
    settings = {"table_updating": {"seconds": 100, "ttl_cooldown_seconds": 100_000}}
    with simulate(emulator, "table_updating", settings=settings) as sim:
        ddb = client(sim.url)
        name = unique()
        create(plain, name)
        updated = ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
        assert updated["TableDescription"]["TableStatus"] == "UPDATING"
        assert status(ddb, name) == "UPDATING"
        with pytest.raises(ClientError) as second:
            ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
        with pytest.raises(ClientError) as delete:
            ddb.delete_table(TableName=name)
        assert [code(second), code(delete)] == ["ResourceInUseException"] * 2
        until(lambda: status(ddb, name) == "ACTIVE")

        ttl = {"Enabled": True, "AttributeName": "expires"}
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        assert status(ddb, name) == "UPDATING"
        described = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert described["TimeToLiveStatus"] == "ENABLING"
        until(lambda: status(ddb, name) == "ACTIVE")
        assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
        with pytest.raises(ClientError) as ttl_again:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={**ttl, "Enabled": False})
        assert code(ttl_again) == "ValidationException"
        assert "modified multiple times within a fixed interval" in str(ttl_again.value)
        ddb.delete_table(TableName=name)


def test_updating_off_changes_apply_at_once(emulator: str, plain: Any) -> None:
    with simulate(emulator, "table_creating", "table_deleting") as sim:
        ddb = client(sim.url)
        name = unique()
        create(plain, name)
        assert ddb.update_table(TableName=name, DeletionProtectionEnabled=False)["TableDescription"]["TableStatus"] == (
            "ACTIVE"
        )
        ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
        ttl = {"Enabled": True, "AttributeName": "expires"}
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={**ttl, "Enabled": False})
        ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------------------
# control_plane_faults


def outcomes(url: str, calls: int = 60) -> list[str]:
    ddb = client(url)
    seen = []
    for _ in range(calls):
        try:
            ddb.list_tables()
            seen.append("ok")
        except ClientError as error:
            seen.append(f"{error.response['Error']['Code']} {error.response['ResponseMetadata']['HTTPStatusCode']}")
    return seen


FAULTY = {"control_plane_faults": {"throttle_probability": 0.2, "error_probability": 0.2}}


def test_control_plane_faults_replay_with_the_seed(emulator: str) -> None:
    runs = {}
    for label, seed in (("a", 11), ("again", 11), ("other", 12)):
        with simulate(emulator, "control_plane_faults", seed=seed, settings=FAULTY) as sim:
            runs[label] = outcomes(sim.url)
    assert runs["a"] == runs["again"]
    assert runs["a"] != runs["other"]
    assert set(runs["a"]) <= {
        "ok",
        "ThrottlingException 400",
        "InternalServerError 500",
        "ServiceUnavailable 503",
    }
    assert "ok" in runs["a"]
    assert "ThrottlingException 400" in runs["a"]
    assert {"InternalServerError 500", "ServiceUnavailable 503"} & set(runs["a"])


def test_control_plane_faults_off_and_data_plane_untouched(emulator: str, plain: Any) -> None:
    with simulate(emulator, "table_creating", settings=FAULTY) as sim:
        assert set(outcomes(sim.url, 30)) == {"ok"}
    always = {"control_plane_faults": {"throttle_probability": 1.0, "error_probability": 0.0}}
    name = unique()
    create(plain, name)
    with simulate(emulator, "control_plane_faults", settings=always) as sim:
        ddb = client(sim.url)
        for _ in range(5):
            ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
            ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
        with pytest.raises(ClientError) as throttled:
            ddb.describe_table(TableName=name)
        assert isinstance(throttled.value, ddb.exceptions.ClientError)
        assert code(throttled) == "ThrottlingException"
    plain.delete_table(TableName=name)


def test_control_plane_faults_speak_each_services_codes(emulator: str) -> None:
    throttled = {"control_plane_faults": {"throttle_probability": 1.0, "error_probability": 0.0}}
    failing = {"control_plane_faults": {"throttle_probability": 0.0, "error_probability": 1.0}}
    with simulate(emulator, "control_plane_faults", settings=throttled) as sim:
        with pytest.raises(ClientError) as s3:
            client(sim.url, "s3").create_bucket(Bucket=unique("bkt"))
        with pytest.raises(ClientError) as sqs:
            client(sim.url, "sqs").create_queue(QueueName=unique("q"))
        assert (code(s3), s3.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("SlowDown", 503)
        assert code(sqs) == "RequestThrottled"
    with simulate(emulator, "control_plane_faults", settings=failing) as sim:
        with pytest.raises(ClientError) as s3_error:
            client(sim.url, "s3").list_buckets()
        with pytest.raises(ClientError) as sqs_error:
            client(sim.url, "sqs").list_queues()
        assert s3_error.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
        assert sqs_error.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
