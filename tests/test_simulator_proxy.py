"""The fault proxy: every fault reaches botocore as the exception AWS would cause."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from sandboxres._simulator import (
    CONCURRENT_TABLE_LIMIT_MESSAGE,
    TABLE_QUOTA_MESSAGE,
    FaultProxy,
    Rule,
    SetTableStatus,
    access_denied,
    aws_error,
    bucket_not_found_after_create,
    bucket_operation_aborted,
    connection_reset,
    latency,
    parse_request,
    queue_deleted_recently,
    queue_not_ready,
    random_faults,
    server_error,
    service_unavailable,
    start_fault_proxy,
    table_creating,
    table_deleting,
    table_limit_exceeded,
    table_not_found_after_create,
    throttling,
)

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

# Config(retries={"max_attempts": N}) counts *retries* (botocore adds one); total_max_attempts counts attempts.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{time.monotonic_ns() % 10**8}"


@pytest.fixture(scope="module")
def moto(upstream_url: str) -> str:
    """moto in a process of its own: an in-process server would share its state with the embedded emulator."""
    return upstream_url


@pytest.fixture
def proxy(moto: str) -> Iterator[FaultProxy]:
    with start_fault_proxy(moto) as running:
        yield running


# boto3.client, seen as taking any keywords: its typed overloads want the service name as a literal.
_new_client: Callable[..., Any] = boto3.client


def client(proxy: FaultProxy, service: str, config: Config = NO_RETRIES) -> Any:
    return _new_client(
        service,
        endpoint_url=proxy.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


@pytest.fixture
def ddb(proxy: FaultProxy) -> Any:
    return client(proxy, "dynamodb")


@pytest.fixture
def s3(proxy: FaultProxy) -> Any:
    return client(proxy, "s3")


@pytest.fixture
def sqs(proxy: FaultProxy) -> Any:
    return client(proxy, "sqs")


def create_table(ddb: Any, name: str) -> dict[str, Any]:
    created: dict[str, Any] = ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return created


def query_request(proxy: FaultProxy, params: dict[str, str]) -> urllib.request.Request:
    """An SQS query-protocol request (moto needs the SigV4 credential scope to route it; it checks nothing else)."""
    body = urllib.parse.urlencode({**params, "Version": "2012-11-05"}).encode()
    authorization = (
        "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": authorization}
    return urllib.request.Request(proxy.url + "/", data=body, headers=headers)


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str | None, int]:
    response: Any = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("QueryErrorCode"),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# ---------------------------------------------------------------------------------------------------------
# forwarding and naming


def test_forwards_and_records_dynamodb(proxy: FaultProxy, ddb: Any) -> None:
    name = unique("tbl")
    assert create_table(ddb, name)["TableDescription"]["TableName"] == name
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.list_tags_of_resource(ResourceArn=arn)
    ddb.delete_table(TableName=name)
    seen = [(r.service, r.operation, r.resource, r.status, r.fault) for r in proxy.requests]
    assert seen == [
        ("dynamodb", "CreateTable", name, 200, None),
        ("dynamodb", "DescribeTable", name, 200, None),
        ("dynamodb", "ListTagsOfResource", name, 200, None),
        ("dynamodb", "DeleteTable", name, 200, None),
    ]


def test_forwards_and_names_s3_operations(proxy: FaultProxy, s3: Any) -> None:
    bucket = unique("test-b")
    s3.create_bucket(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.put_object(Bucket=bucket, Key="dir/a b.txt", Body=b"hello")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.list_multipart_uploads(Bucket=bucket)
    s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]},
    )
    s3.list_objects_v2(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)
    operations = [(r.operation, r.resource) for r in proxy.seen("s3")]
    assert [op for op, _ in operations] == [
        "CreateBucket",
        "HeadBucket",
        "PutBucketVersioning",
        "PutBucketTagging",
        "GetBucketTagging",
        "PutObject",
        "CreateMultipartUpload",
        "ListMultipartUploads",
        "AbortMultipartUpload",
        "ListObjectVersions",
        "DeleteObjects",
        "ListObjectsV2",
        "DeleteBucket",
    ]
    assert {resource for _, resource in operations} == {bucket}
    assert proxy.seen("s3", "PutObject")[0].key == "dir/a b.txt"
    assert all(r.status is not None and r.status < 300 for r in proxy.requests)


def test_forwards_and_records_sqs_json_and_query(proxy: FaultProxy, sqs: Any) -> None:
    name = unique("q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.startswith(proxy.url)  # moto builds queue URLs from the Host header: they point at the proxy
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert [(r.operation, r.resource) for r in proxy.seen("sqs")] == [
        ("CreateQueue", name),
        ("SendMessage", name),
        ("GetQueueAttributes", name),
    ]
    # The older query protocol is understood too.
    with urllib.request.urlopen(query_request(proxy, {"Action": "GetQueueUrl", "QueueName": name}), timeout=10) as resp:
        assert b"<QueueUrl>" in resp.read()
    record = proxy.seen("sqs", "GetQueueUrl")[0]
    assert (record.resource, record.status) == (name, 200)


def test_parse_request_names_without_a_server() -> None:
    def s3_op(method: str, target: str, headers: list[tuple[str, str]] | None = None) -> tuple[str, Any]:
        request = parse_request(method, target, headers or [], b"")
        return request.operation, request.resource

    assert s3_op("GET", "/") == ("ListBuckets", None)
    assert s3_op("GET", "/b?versions") == ("ListObjectVersions", "b")
    assert s3_op("GET", "/b?uploads") == ("ListMultipartUploads", "b")
    assert s3_op("GET", "/b?list-type=2&prefix=x") == ("ListObjectsV2", "b")
    assert s3_op("DELETE", "/b?tagging") == ("DeleteBucketTagging", "b")
    assert s3_op("PUT", "/b/k", [("x-amz-copy-source", "/a/k")]) == ("CopyObject", "b")
    assert s3_op("PUT", "/b/k?partNumber=1&uploadId=u") == ("UploadPart", "b")
    assert s3_op("POST", "/b/k?uploadId=u") == ("CompleteMultipartUpload", "b")
    tagging = parse_request(
        "POST",
        "/",
        [("X-Amz-Target", "DynamoDB_20120810.TagResource")],
        json.dumps({"ResourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t1", "Tags": []}).encode(),
    )
    assert (tagging.service, tagging.operation, tagging.resource) == ("dynamodb", "TagResource", "t1")
    query = parse_request(
        "POST",
        "/123456789012/q1",
        [("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=SendMessage&MessageBody=x",
    )
    assert (query.service, query.operation, query.resource, query.protocol) == ("sqs", "SendMessage", "q1", "query")


# ---------------------------------------------------------------------------------------------------------
# generic faults


def test_latency_delays_then_forwards(proxy: FaultProxy, ddb: Any) -> None:
    proxy.add(latency(0.3, "dynamodb", "ListTables", times=1))
    started = time.monotonic()
    ddb.list_tables()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    ddb.list_tables()
    assert time.monotonic() - started < 0.3
    assert [r.fault for r in proxy.requests] == ["delay 0.3s", None]


def test_throttling_per_service(proxy: FaultProxy, ddb: Any, s3: Any, sqs: Any) -> None:
    proxy.add(throttling(times=3))
    with pytest.raises(ddb.exceptions.ThrottlingException) as ddb_error:
        ddb.list_tables()
    assert error_of(ddb_error) == ("ThrottlingException", None, 400)
    with pytest.raises(ClientError) as s3_error:
        s3.list_buckets()
    assert error_of(s3_error) == ("SlowDown", None, 503)
    with pytest.raises(sqs.exceptions.RequestThrottled) as sqs_error:
        sqs.list_queues()
    assert error_of(sqs_error) == ("RequestThrottled", "RequestThrottled", 400)
    ddb.list_tables()  # times=3 used up
    assert [r.status for r in proxy.requests] == [400, 503, 400, 200]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (server_error(), {"dynamodb": "InternalServerError", "s3": "InternalError", "sqs": "InternalError"}),
        (
            service_unavailable(),
            {"dynamodb": "ServiceUnavailable", "s3": "ServiceUnavailable", "sqs": "ServiceUnavailable"},
        ),
    ],
    ids=["500", "503"],
)
def test_server_errors(proxy: FaultProxy, ddb: Any, s3: Any, sqs: Any, rule: Rule, expected: dict[str, str]) -> None:
    proxy.add(rule)
    status = 500 if "InternalError" in expected.values() else 503
    for service, call in (("dynamodb", ddb.list_tables), ("s3", s3.list_buckets), ("sqs", sqs.list_queues)):
        with pytest.raises(ClientError) as error:
            call()
        code, _, http_status = error_of(error)
        assert (code, http_status) == (expected[service], status)
    with pytest.raises(ddb.exceptions.InternalServerError if status == 500 else ClientError):
        ddb.list_tables()


def test_internal_error_after_upstream_still_does_the_work(proxy: FaultProxy, ddb: Any) -> None:
    name = unique("tbl")
    proxy.add(server_error("dynamodb", "CreateTable", after_upstream=True, times=1))
    with pytest.raises(ddb.exceptions.InternalServerError):
        create_table(ddb, name)
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name
    assert proxy.seen("dynamodb", "CreateTable")[0].upstream_status == 200


def test_connection_reset(proxy: FaultProxy, ddb: Any, s3: Any, sqs: Any) -> None:
    proxy.add(connection_reset(times=3))
    for call in (ddb.list_tables, s3.list_buckets, sqs.list_queues):
        with pytest.raises(ConnectionClosedError):
            call()
    assert [r.status for r in proxy.requests] == [None, None, None]
    assert [r.upstream_status for r in proxy.requests] == [None, None, None]
    ddb.list_tables()  # the client recovers on a new connection


def test_connection_reset_after_upstream_loses_the_response(proxy: FaultProxy, sqs: Any) -> None:
    name = unique("q")
    proxy.add(connection_reset("sqs", "CreateQueue", after_upstream=True, times=1))
    with pytest.raises(ConnectionClosedError):
        sqs.create_queue(QueueName=name)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"].endswith("/" + name)


def test_access_denied_per_service(proxy: FaultProxy, ddb: Any, s3: Any, sqs: Any) -> None:
    proxy.add(access_denied())
    with pytest.raises(ClientError) as ddb_error:
        ddb.list_tables()
    assert error_of(ddb_error) == ("AccessDeniedException", None, 400)
    with pytest.raises(ClientError) as s3_error:
        s3.create_bucket(Bucket=unique("test-denied"))
    assert error_of(s3_error) == ("AccessDenied", None, 403)
    with pytest.raises(ClientError) as head_error:
        s3.head_bucket(Bucket="test-any")
    assert error_of(head_error) == ("403", None, 403)  # HEAD has no body: botocore reports the status
    with pytest.raises(ClientError) as sqs_error:
        sqs.create_queue(QueueName=unique("q"))
    assert error_of(sqs_error) == ("AccessDenied", "AccessDeniedException", 403)


def test_rule_windows_resource_predicates_and_clear(proxy: FaultProxy, ddb: Any) -> None:
    proxy.add(throttling("dynamodb", "DescribeTable", resource=lambda name: name.startswith("hot-"), times=2))
    cold, hot = unique("cold"), unique("hot")
    create_table(ddb, cold)
    create_table(ddb, hot)
    ddb.describe_table(TableName=cold)
    for _ in range(2):
        with pytest.raises(ddb.exceptions.ThrottlingException):
            ddb.describe_table(TableName=hot)
    ddb.describe_table(TableName=hot)
    assert proxy.count("dynamodb", "DescribeTable", hot, faulted=True) == 2

    (rule,) = proxy.add(throttling("dynamodb", "ListTables", for_seconds=0.3))
    with pytest.raises(ddb.exceptions.ThrottlingException):
        ddb.list_tables()
    time.sleep(0.35)
    ddb.list_tables()
    assert rule.hits == 1 and rule.exhausted

    proxy.add(throttling("dynamodb"))
    proxy.clear()
    ddb.list_tables()
    assert len(proxy.requests) == 1 and proxy.rules == []


def test_retry_configuration_semantics(proxy: FaultProxy) -> None:
    """``max_attempts`` in Config counts retries, ``total_max_attempts`` counts attempts."""
    proxy.add(throttling("dynamodb", "ListTables"))
    for config, attempts in (
        (Config(retries={"max_attempts": 1, "mode": "standard"}), 2),
        (Config(retries={"total_max_attempts": 1}), 1),
    ):
        proxy.clear_records()
        ddb = client(proxy, "dynamodb", config)
        with pytest.raises(ddb.exceptions.ThrottlingException):
            ddb.list_tables()
        assert proxy.count("dynamodb", "ListTables") == attempts


# ---------------------------------------------------------------------------------------------------------
# DynamoDB lifecycle faults


def test_table_creating_window(proxy: FaultProxy, ddb: Any) -> None:
    proxy.add(table_creating(0.5))
    name = unique("tbl")
    created = create_table(ddb, name)
    started = time.monotonic()
    assert created["TableDescription"]["TableStatus"] == "CREATING"
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "CREATING"
    with pytest.raises(ddb.exceptions.ResourceInUseException) as in_use:
        ddb.delete_table(TableName=name)
    assert "being created" in in_use.value.response["Error"]["Message"]
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.list_tags_of_resource(ResourceArn=created["TableDescription"]["TableArn"])
    while ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "CREATING":
        time.sleep(0.05)
    assert 0.45 <= time.monotonic() - started < 1.5
    ddb.delete_table(TableName=name)


def test_table_creating_window_is_per_table(proxy: FaultProxy, ddb: Any) -> None:
    early = unique("tbl")
    create_table(ddb, early)  # created before the rule: never CREATING
    proxy.add(table_creating(5.0))
    late = unique("tbl")
    create_table(ddb, late)
    assert ddb.describe_table(TableName=early)["Table"]["TableStatus"] == "ACTIVE"
    assert ddb.describe_table(TableName=late)["Table"]["TableStatus"] == "CREATING"


def test_table_not_found_for_first_describes(proxy: FaultProxy, ddb: Any) -> None:
    proxy.add(table_not_found_after_create(2))
    name = unique("tbl")
    create_table(ddb, name)
    for _ in range(2):
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.describe_table(TableName=name)
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


def test_table_deleting_window(proxy: FaultProxy, ddb: Any) -> None:
    proxy.add(table_deleting(0.5))
    name = unique("tbl")
    create_table(ddb, name)
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    started = time.monotonic()
    described = ddb.describe_table(TableName=name)["Table"]
    assert (described["TableName"], described["TableStatus"]) == (name, "DELETING")
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    with pytest.raises(ddb.exceptions.ResourceInUseException):
        create_table(ddb, name)
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        while True:
            ddb.describe_table(TableName=name)
            time.sleep(0.05)
    assert 0.45 <= time.monotonic() - started < 1.5


def test_table_status_rewrite_keeps_crc32_valid(proxy: FaultProxy, ddb: Any) -> None:
    proxy.add(Rule(SetTableStatus("UPDATING"), service="dynamodb", operations="DescribeTable"))
    name = unique("tbl")
    create_table(ddb, name)
    # botocore verifies x-amz-crc32 on DynamoDB responses: a stale checksum would raise here.
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "UPDATING"


@pytest.mark.parametrize(
    ("kind", "message"), [("concurrent", CONCURRENT_TABLE_LIMIT_MESSAGE), ("quota", TABLE_QUOTA_MESSAGE)]
)
def test_table_limit_exceeded(proxy: FaultProxy, ddb: Any, kind: Any, message: str) -> None:
    proxy.add(table_limit_exceeded(kind, times=1))
    with pytest.raises(ddb.exceptions.LimitExceededException) as error:
        create_table(ddb, unique("tbl"))
    assert error.value.response["Error"]["Message"] == message
    assert ("simultaneously" in message) == (kind == "concurrent")
    create_table(ddb, unique("tbl"))


# ---------------------------------------------------------------------------------------------------------
# S3 lifecycle faults


def test_bucket_not_found_after_create(proxy: FaultProxy, s3: Any) -> None:
    proxy.add(bucket_not_found_after_create(0.5))
    bucket = unique("test-b")
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as head:
        s3.head_bucket(Bucket=bucket)
    assert error_of(head) == ("404", None, 404)
    with pytest.raises(s3.exceptions.NoSuchBucket) as tagging:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    assert tagging.value.response["Error"]["BucketName"] == bucket
    time.sleep(0.5)
    s3.head_bucket(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)


def test_create_bucket_operation_aborted(proxy: FaultProxy, s3: Any) -> None:
    proxy.add(bucket_operation_aborted(times=1))
    bucket = unique("test-b")
    with pytest.raises(ClientError) as error:
        s3.create_bucket(Bucket=bucket)
    assert error_of(error) == ("OperationAborted", None, 409)
    s3.create_bucket(Bucket=bucket)


# ---------------------------------------------------------------------------------------------------------
# SQS lifecycle faults


def test_queue_deleted_recently(proxy: FaultProxy, sqs: Any) -> None:
    proxy.add(queue_deleted_recently(times=1))
    with pytest.raises(sqs.exceptions.QueueDeletedRecently) as error:
        sqs.create_queue(QueueName=unique("q"))
    assert error_of(error) == ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently", 400)


def test_queue_not_ready_after_create(proxy: FaultProxy, sqs: Any) -> None:
    proxy.add(queue_not_ready(0.4))
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    started = time.monotonic()
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as attributes:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert error_of(attributes) == ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    while True:
        try:
            sqs.send_message(QueueUrl=url, MessageBody="x")
            break
        except sqs.exceptions.QueueDoesNotExist:
            time.sleep(0.05)
    assert 0.35 <= time.monotonic() - started < 1.5


def test_sqs_query_protocol_error_format(proxy: FaultProxy) -> None:
    proxy.add(queue_not_ready(5.0))
    name = unique("q")
    client(proxy, "sqs").create_queue(QueueName=name)
    request = query_request(proxy, {"Action": "GetQueueAttributes", "QueueUrl": f"{proxy.url}/123456789012/{name}"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400
    assert b"<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in error.value.read()


def test_custom_aws_error(proxy: FaultProxy, sqs: Any) -> None:
    proxy.add(
        aws_error(
            "sqs",
            "CreateQueue",
            "QueueNameExists",
            "A queue already exists with the same name and a different value for attribute {resource}",
            query_code="QueueAlreadyExists",
            times=1,
        )
    )
    with pytest.raises(sqs.exceptions.QueueNameExists) as error:
        sqs.create_queue(QueueName="named")
    assert error_of(error) == ("QueueAlreadyExists", "QueueNameExists", 400)
    assert error.value.response["Error"]["Message"].endswith("attribute named")


# ---------------------------------------------------------------------------------------------------------
# random fault mix


def _soak(proxy: FaultProxy, ddb: Any, requests: int) -> list[str | None]:
    for _ in range(requests):
        try:
            ddb.list_tables()
        except (ClientError, ConnectionClosedError):
            pass
    return [r.fault for r in proxy.requests]


def test_random_fault_mix_is_seeded(moto: str) -> None:
    runs = []
    for _ in range(2):
        with start_fault_proxy(moto) as proxy:
            proxy.add(random_faults(0.3, seed=42, service="dynamodb", latency_seconds=0.01))
            runs.append(_soak(proxy, client(proxy, "dynamodb"), 60))
    assert runs[0] == runs[1]
    faulted = [label for label in runs[0] if label]
    assert 8 <= len(faulted) <= 30
    assert {"throttling", "internal", "unavailable", "reset", "delay 0.01s"} <= set(faulted)


def test_aioboto3_sees_the_same_faults(proxy: FaultProxy) -> None:
    aioboto3 = pytest.importorskip("aioboto3")
    import asyncio

    async def scenario() -> tuple[str, str]:
        session = aioboto3.Session()
        async with session.client(
            "dynamodb",
            endpoint_url=proxy.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=NO_RETRIES,
        ) as ddb:
            try:
                await ddb.list_tables()
            except ClientError as error:
                throttled = error.response["Error"]["Code"]
            try:
                await ddb.list_tables()
            except (BotoConnectionError, HTTPClientError) as error:
                reset = type(error).__name__
            return throttled, reset

    proxy.add(throttling("dynamodb", times=1), connection_reset("dynamodb", times=1))
    throttled, reset = asyncio.run(scenario())
    assert throttled == "ThrottlingException"
    # botocore says ConnectionClosedError (an HTTPClientError), aiobotocore EndpointConnectionError (a
    # ConnectionError): their only common base is BotoCoreError.
    assert reset in ("ConnectionClosedError", "EndpointConnectionError")


# ---------------------------------------------------------------------------------------------------------
# serialized forwarding


class _Upstream(http.server.ThreadingHTTPServer):
    """An upstream that answers 200 and counts the most requests it had in hand at once; a request waits (a second
    at most) for another one to arrive while it is in hand."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.lock = threading.Lock()
        self.in_hand = 0
        self.most = 0
        self.another = threading.Event()


class _UpstreamHandler(http.server.BaseHTTPRequestHandler):
    server: _Upstream

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = self.server
        with upstream.lock:
            upstream.in_hand += 1
            upstream.most = max(upstream.most, upstream.in_hand)
            if upstream.in_hand > 1:
                upstream.another.set()
        upstream.another.wait(1.0)
        with upstream.lock:
            upstream.in_hand -= 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _get_items(url: str, table: str, count: int) -> None:
    body = json.dumps({"TableName": table}).encode()
    headers = {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"}

    def one() -> None:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=30) as reply:
            reply.read()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


@pytest.mark.parametrize(("table", "most"), [("serialized", 1), ("free", 2)])
def test_serialized_requests_reach_the_upstream_one_at_a_time(table: str, most: int) -> None:
    upstream = _Upstream()
    threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with start_fault_proxy(f"http://127.0.0.1:{upstream.server_port}") as proxy:
            proxy.serialize(lambda request: request.resource == "serialized")
            _get_items(proxy.url + "/", table, 2)
            assert [(r.operation, r.resource, r.status) for r in proxy.requests] == [("GetItem", table, 200)] * 2
            proxy.clear()
            assert proxy._serialized == []
    finally:
        upstream.shutdown()
        upstream.server_close()
    assert upstream.most == most
