"""The emulator launchers: each emulator starts on a free port, answers a real call and stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.emulators.launch import (
    EMULATORS_DIR,
    S3RVER_ACCESS_KEY_ID,
    S3RVER_SECRET_ACCESS_KEY,
    Emulator,
    EmulatorUnavailable,
    ensure_node_packages,
    start_emulator,
)

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
KEY_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture(scope="module")
def node_packages() -> None:
    try:
        ensure_node_packages()
    except EmulatorUnavailable as error:
        pytest.skip(f"node emulators unavailable: {error}")


# boto3.client, seen as taking any keywords: its typed overloads want the service name as a literal.
_new_client: Callable[..., Any] = boto3.client


def client(emulator: Emulator, service: str) -> Any:
    s3rver = emulator.name == "s3rver"
    return _new_client(
        service,
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id=S3RVER_ACCESS_KEY_ID if s3rver else "testing",
        aws_secret_access_key=S3RVER_SECRET_ACCESS_KEY if s3rver else "testing",
        config=NO_RETRIES,
    )


def assert_gone(pid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A zombie still answers kill(0); it is gone once its state is Z or it disappears.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
                return
        except (OSError, IndexError):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} is still running")


@pytest.fixture
def started() -> Iterator[list[Emulator]]:
    emulators: list[Emulator] = []
    yield emulators
    for emulator in emulators:
        emulator.stop()


def test_moto_process(started: list[Emulator]) -> None:
    emulator = start_emulator("moto")
    started.append(emulator)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.url)
    ddb = client(emulator, "dynamodb")
    created = ddb.create_table(TableName="moto-table", **KEY_SCHEMA)
    assert created["TableDescription"]["TableStatus"] == "ACTIVE"  # moto: no CREATING phase
    emulator.stop()
    assert not emulator.running
    assert_gone(emulator.pid)


def test_dynalite_keeps_tables_creating(node_packages: None, started: list[Emulator]) -> None:
    with start_emulator("dynalite", create_ms=300, delete_ms=200) as emulator:
        ddb = client(emulator, "dynamodb")
        began = time.monotonic()
        assert ddb.create_table(TableName="dyn-table", **KEY_SCHEMA)["TableDescription"]["TableStatus"] == "CREATING"
        with pytest.raises(ddb.exceptions.ResourceInUseException):
            ddb.delete_table(TableName="dyn-table")
        while ddb.describe_table(TableName="dyn-table")["Table"]["TableStatus"] == "CREATING":
            time.sleep(0.02)
        assert 0.25 <= time.monotonic() - began < 2.0
        assert ddb.delete_table(TableName="dyn-table")["TableDescription"]["TableStatus"] == "DELETING"
        pid = emulator.pid
    assert_gone(pid)


def test_local_aws_sqs_lazy_queue(node_packages: None) -> None:
    with start_emulator("sqs") as emulator:
        sqs = client(emulator, "sqs")
        url = sqs.create_queue(QueueName="lazy-queue")["QueueUrl"]
        assert url == f"{emulator.url}/123456789012/lazy-queue"
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as error:
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        assert error.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
        pid = emulator.pid
    assert_gone(pid)


def test_local_aws_sqs_without_lifecycle(node_packages: None) -> None:
    with start_emulator("sqs", lazy_queues=False, deletion_lifecycle=False) as emulator:
        sqs = client(emulator, "sqs")
        url = sqs.create_queue(QueueName="eager")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x")
        sqs.delete_queue(QueueUrl=url)
        sqs.create_queue(QueueName="eager")  # no QueueDeletedRecently


def test_s3rver(node_packages: None) -> None:
    with start_emulator("s3rver") as emulator:
        s3 = client(emulator, "s3")
        s3.create_bucket(Bucket="test-s3rver")
        s3.head_bucket(Bucket="test-s3rver")
        s3.put_object(Bucket="test-s3rver", Key="k", Body=b"x")
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="test-s3rver")["Contents"]] == ["k"]
        workdir = emulator._workdir
        assert workdir is not None and Path(workdir.name).is_dir()
        pid = emulator.pid
    assert_gone(pid)
    assert not Path(workdir.name).exists()


def test_start_emulator_rejects_options_of_other_emulators() -> None:
    with pytest.raises(ValueError, match="only apply to dynalite"):
        start_emulator("moto", create_ms=10)
    with pytest.raises(ValueError, match="unknown emulator"):
        start_emulator("minio")


def test_command_line_runs_until_sigterm(node_packages: None, tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    process = subprocess.Popen(
        [
            sys.executable,
            str(EMULATORS_DIR / "launch.py"),
            "dynalite",
            "--create-ms",
            "100",
            "--url-file",
            str(url_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert url_file.read_text().strip() == url
        announced = re.search(r"pid (\d+)", process.stderr.readline())
        assert announced is not None
        child = int(announced.group(1))
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=NO_RETRIES,
        )
        assert ddb.list_tables()["TableNames"] == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert_gone(child)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
