"""The simulator's bucket behaviours, each on and off in front of a moto server: a new bucket invisible for a
moment, a deleted bucket's name blocked; the library's bucket lifecycle with them all on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import sandboxres
from sandboxres._simulator.profile import Profile
from sandboxres._simulator.simulator import Simulator, start_simulator
from tests.support.inventory import InventoryAt

pytestmark = pytest.mark.slow

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
_new_client: Callable[..., Any] = boto3.client
Simulate = Callable[..., Simulator]


@pytest.fixture
def simulate(emulator: str) -> Iterator[Simulate]:
    started: list[Simulator] = []

    def make(enabled: set[str], *, seed: int = 7, speed: float = 100, **settings: Any) -> Simulator:
        profile = Profile(speed=speed, seed=seed, enabled=frozenset(enabled), settings=settings)
        started.append(start_simulator(emulator, profile))
        return started[-1]

    yield make
    for simulator in started:
        simulator.stop()


def s3_client(simulator: Simulator) -> Any:
    return _new_client(
        "s3",
        endpoint_url=simulator.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=NO_RETRIES,
    )


def eventually(call: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_a_new_bucket_is_invisible_for_a_moment(simulate: Simulate, on: bool) -> None:
    simulator = simulate({"bucket_invisible"} if on else set(), bucket_invisible={"seconds": 100})
    s3 = s3_client(simulator)
    s3.create_bucket(Bucket="fresh")
    if not on:
        s3.head_bucket(Bucket="fresh")
        s3.put_object(Bucket="fresh", Key="k", Body=b"v")
        return
    with pytest.raises(ClientError) as head:
        s3.head_bucket(Bucket="fresh")
    assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket="fresh", Key="k", Body=b"v")
    with pytest.raises(ClientError) as tagging:
        s3.put_bucket_tagging(Bucket="fresh", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert _code(tagging) == "NoSuchBucket"
    assert "fresh" in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # it exists: ListBuckets shows it
    eventually(lambda: s3.put_object(Bucket="fresh", Key="k", Body=b"v"))  # visible after 100 s / 100
    assert s3.get_object(Bucket="fresh", Key="k")["Body"].read() == b"v"


def test_a_bucket_deleted_while_invisible_is_deleted(simulate: Simulate, inventory: InventoryAt, emulator: str) -> None:
    simulator = simulate({"bucket_invisible"}, bucket_invisible={"seconds": 1000})
    s3 = s3_client(simulator)
    s3.create_bucket(Bucket="short-lived")
    s3.delete_bucket(Bucket="short-lived")
    assert not inventory(emulator).buckets()


@pytest.mark.parametrize("on", [False, True], ids=["plain", "simulated"])
def test_a_deleted_bucket_name_is_blocked(simulate: Simulate, on: bool) -> None:
    simulator = simulate({"bucket_name_blocked"} if on else set(), bucket_name_blocked={"seconds": 60})
    s3 = s3_client(simulator)
    s3.create_bucket(Bucket="reborn")
    s3.delete_bucket(Bucket="reborn")
    if not on:
        s3.create_bucket(Bucket="reborn")
        return
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket="reborn")
    assert _code(raised) == "OperationAborted"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "conflicting conditional operation" in raised.value.response["Error"]["Message"]
    s3.create_bucket(Bucket="other-name")
    eventually(lambda: s3.create_bucket(Bucket="reborn"))


def test_bucket_lifecycle_with_every_bucket_behaviour_on(
    simulate: Simulate, monkeypatch: pytest.MonkeyPatch, inventory: InventoryAt, emulator: str
) -> None:
    simulator = simulate(
        {"bucket_invisible", "bucket_name_blocked", "delivery_policy", "s3_test_event", "delivery_delay"}, speed=20
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", simulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with sandboxres.ephemeral_bucket("sim") as bucket:
        bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"v")
        assert bucket.client.get_object(Bucket=bucket.name, Key="k")["Body"].read() == b"v"
    assert simulator.proxy.count("s3", faulted=True) >= 1  # the bucket was invisible at first
    assert not inventory(emulator).buckets()
