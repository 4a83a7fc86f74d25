"""What the cleanup after a failed create may and may not assume.

A resource created but never seen ready is not believed gone on the first "not found". Right after a create,
AWS may answer ResourceNotFoundException / NoSuchBucket / QueueDoesNotExist for a while (eventual consistency).
When the readiness wait gives up inside that window, the cleanup that follows meets the same answer; taking it
for "already deleted" would leave the resource behind. The proxy in front of the suite's moto_server process
replays that window; the library's deadline is shorter than the window, so the create fails, and the test checks
that the cleanup kept trying until the resource was visible, then deleted it.

A bucket name that turned out to be someone else's (BucketAlreadyExists) is never sent a delete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

import sandboxres
from sandboxres import ForeignResourceError, ReadinessTimeoutError
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._simulator import (
    AwsError,
    FaultProxy,
    Rule,
    SetTableStatus,
    aws_error,
    bucket_not_found_after_create,
    queue_not_ready,
    start_fault_proxy,
)

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

WINDOW = 1.5  # seconds the new resource stays invisible
DEADLINE = "0.4"  # the library's readiness deadline: shorter than the window


@pytest.fixture(scope="module")
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    with start_fault_proxy(moto_server) as started:
        yield started


@pytest.fixture
def upstream_url(moto_server: str) -> str:
    """The moto server process itself (``moto_server`` in the conftest), not through the proxy."""
    return moto_server


@pytest.fixture(autouse=True)
def through_proxy(monkeypatch: pytest.MonkeyPatch, proxy: FaultProxy) -> Iterator[None]:
    for name in (*ENDPOINT_VARIABLES, "SANDBOXRES_TARGET", "SANDBOXRES_ENV_FILE", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for kind in ("TABLE", "BUCKET", "QUEUE"):
        monkeypatch.setenv(f"SANDBOXRES_{kind}_TIMEOUT", DEADLINE)
    proxy.clear()
    yield
    proxy.clear()


def upstream_client(url: str, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    # Session.client, seen as taking any keywords: its typed overloads want the service name as a literal.
    new_client: Callable[..., Any] = session.client
    return new_client(service, endpoint_url=url, config=Config(s3={"addressing_style": "path"}))


def statuses(proxy: FaultProxy, service: str, operation: str, name: str) -> list[int | None]:
    return [r.status for r in proxy.seen(service, operation, name)]


def test_table_invisible_after_create_is_still_deleted(proxy: FaultProxy, upstream_url: str) -> None:
    proxy.add(
        Rule(SetTableStatus("CREATING"), service="dynamodb", operations="CreateTable"),
        Rule(
            AwsError("ResourceNotFoundException", "Requested resource not found"),
            service="dynamodb",
            operations=("DescribeTable", "DeleteTable"),
            for_seconds=WINDOW,
            after="CreateTable",
        ),
    )
    resource = sandboxres.ephemeral_table("unseen")
    with pytest.raises(ReadinessTimeoutError), resource:
        pytest.fail("the table never became visible before the deadline")
    name = resource.lifecycle.name
    deletes = statuses(proxy, "dynamodb", "DeleteTable", name)
    assert deletes[0] == 400 and deletes[-1] == 200, f"cleanup believed the first 'not found': {deletes}"
    tables = upstream_client(upstream_url, "dynamodb").list_tables()["TableNames"]
    assert name not in tables


def test_bucket_invisible_after_create_is_still_deleted(proxy: FaultProxy, upstream_url: str) -> None:
    proxy.add(bucket_not_found_after_create(WINDOW))
    resource = sandboxres.ephemeral_bucket("unseen")
    with pytest.raises(ReadinessTimeoutError), resource:
        pytest.fail("the bucket never became visible before the deadline")
    name = resource.lifecycle.name
    deletes = statuses(proxy, "s3", "DeleteBucket", name)
    assert deletes[0] == 404 and deletes[-1] == 204, f"cleanup believed the first NoSuchBucket: {deletes}"
    buckets = upstream_client(upstream_url, "s3").list_buckets()["Buckets"]
    assert name not in [b["Name"] for b in buckets]


def test_queue_invisible_after_create_is_still_deleted(proxy: FaultProxy, upstream_url: str) -> None:
    proxy.add(queue_not_ready(WINDOW))
    resource = sandboxres.ephemeral_queue("unseen")
    with pytest.raises(ReadinessTimeoutError), resource:
        pytest.fail("the queue never became visible before the deadline")
    name = resource.lifecycle.name
    seen = [r.status for r in proxy.seen("sqs", resource=name) if r.operation in ("GetQueueUrl", "DeleteQueue")]
    assert 400 in seen and seen[-1] == 200, f"cleanup believed the first QueueDoesNotExist: {seen}"
    urls = upstream_client(upstream_url, "sqs").list_queues().get("QueueUrls", [])
    assert not [u for u in urls if u.endswith("/" + name)]


def test_someone_elses_bucket_is_never_deleted(proxy: FaultProxy) -> None:
    proxy.add(aws_error("s3", "CreateBucket", "BucketAlreadyExists", "The requested bucket name is not available", 409))
    resource = sandboxres.ephemeral_bucket("taken")
    with pytest.raises(ForeignResourceError), resource:
        pytest.fail("the name is taken")
    name = resource.lifecycle.name
    assert statuses(proxy, "s3", "CreateBucket", name) == [409]
    touched = [r.operation for r in proxy.seen("s3", resource=name) if r.operation != "CreateBucket"]
    assert touched == [], f"a foreign bucket was touched: {touched}"
