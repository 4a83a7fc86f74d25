"""Lifecycle tests that must hold on every target: the embedded moto server, third-party emulators (dynalite,
local-aws-sqs, s3rver) and a sandbox AWS account alike.

The target is chosen by the environment alone (``AWS_ENDPOINT_URL_DYNAMODB`` / ``_S3`` / ``_SQS``...); nothing here
knows which emulator answers. The suite's ``clean_env`` fixture clears ``AWS_*`` / ``SANDBOXRES_*`` for every test,
so :mod:`tests.support.target_env` captures them at collection and this module puts them back for each of its
tests: its target is the one the test run was started with. A target that lacks a feature is declared by
``SANDBOXRES_EMULATOR_LACKS``, a comma-separated list of the names in
:data:`tests.support.target_env.FEATURES` (the ``emulators`` session of ``noxfile.py`` sets it for each emulator):
the tests needing that feature are skipped with the reason.

Every test runs through the sync and the async front door (the ``runner`` fixture), checks the resource with
clients of its own (:class:`~tests.support.inventory.Inventory`) while it lives, and checks afterwards that
nothing carrying the test's label is left on the target.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandboxres import TAG_CREATED, TAG_MANAGED, TAG_RUN_ID, Index, describe_target
from sandboxres._runtime.clients import active_target
from tests.support.inventory import Inventory
from tests.support.runner import Runner
from tests.support.target_env import LACKS, needs, restore

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

# A deleted queue may still be listed for up to 60 s on AWS; emulators forget it at once.
GONE_WITHIN = 90.0


@pytest.fixture(autouse=True)
def target_env(monkeypatch: pytest.MonkeyPatch) -> None:
    restore(monkeypatch)


_views: dict[str, Inventory] = {}


@pytest.fixture
def view(target_env: None) -> Inventory:
    key = repr(sorted(active_target().endpoints.items()))
    if key not in _views:
        _views[key] = Inventory()
    return _views[key]


def label_for(run: Runner, case: str) -> str:
    """A label no other test uses at the same time (the mode is part of it: both modes may run in parallel)."""
    return f"tier_{case}_{run.mode}"


def assert_gone(view: Inventory, kind: str, names: list[str], label: str) -> None:
    """Each of ``names`` is gone, and nothing else of ``kind`` carrying ``label`` is left on the target."""
    prefix = f"test_{label}_"
    deadline = time.monotonic() + GONE_WITHIN
    while True:
        present = [name for name in names if view.exists(kind, name)]
        left = view.leftovers(prefix, kinds=(kind,))
        if not present and not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left on the target: {present or left}")
        time.sleep(1.0)


def run_id() -> str:
    return describe_target().run_id


# ---------------------------------------------------------------------------------------------------------
# tables


def test_table_hash_key_write_read(run: Runner, view: Inventory) -> None:
    label = label_for(run, "hash")
    with run.lifecycle("table", label) as table:
        assert view.table_status(table.name) == "ACTIVE"
        assert table.arn.endswith(f":table/{table.name}")
        run.call(table.client.put_item(TableName=table.name, Item={"pk": {"S": "u1"}, "name": {"S": "Alice"}}))
        run.call(table.table.put_item(Item={"pk": "u2", "name": "Bob"}))
        got = view.dynamodb.get_item(TableName=table.name, Key={"pk": {"S": "u1"}}, ConsistentRead=True)
        assert got["Item"]["name"] == {"S": "Alice"}
        got = run.call(table.table.get_item(Key={"pk": "u2"}, ConsistentRead=True))
        assert got["Item"] == {"pk": "u2", "name": "Bob"}
    assert_gone(view, "table", [table.name], label)


def test_table_range_key_and_indexes(run: Runner, view: Inventory) -> None:
    label = label_for(run, "indexes")
    with run.lifecycle(
        "table",
        label,
        range_key="sk",
        attribute_types={"sk": "N"},
        global_indexes=[Index("by_owner", hash_key="owner", range_key="sk")],
        local_indexes=[Index("by_date", range_key="created", projection="KEYS_ONLY")],
    ) as table:
        described = view.dynamodb.describe_table(TableName=table.name)["Table"]
        assert described["TableStatus"] == "ACTIVE"
        assert [i["IndexStatus"] for i in described["GlobalSecondaryIndexes"]] == ["ACTIVE"]
        assert {k["AttributeName"]: k["KeyType"] for k in described["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
        items = [("a", 2, "x", "2024-02"), ("a", 1, "y", "2024-01"), ("b", 1, "x", "2024-03")]
        for pk, sk, owner, created in items:
            item = {"pk": {"S": pk}, "sk": {"N": str(sk)}, "owner": {"S": owner}, "created": {"S": created}}
            run.call(table.client.put_item(TableName=table.name, Item=item))
        by_key = view.dynamodb.query(
            TableName=table.name,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
            ConsistentRead=True,
        )
        assert [i["sk"]["N"] for i in by_key["Items"]] == ["1", "2"]
        by_owner = view.dynamodb.query(
            TableName=table.name,
            IndexName="by_owner",
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": "x"}},
        )
        assert sorted((i["pk"]["S"], i["sk"]["N"]) for i in by_owner["Items"]) == [("a", "2"), ("b", "1")]
        by_date = view.dynamodb.query(
            TableName=table.name,
            IndexName="by_date",
            KeyConditionExpression="pk = :p AND created >= :c",
            ExpressionAttributeValues={":p": {"S": "a"}, ":c": {"S": "2024-02"}},
        )
        assert [i["sk"]["N"] for i in by_date["Items"]] == ["2"]
    assert_gone(view, "table", [table.name], label)


@needs("streams")
def test_table_stream(run: Runner, view: Inventory) -> None:
    label = label_for(run, "stream")
    with run.lifecycle("table", label, stream="NEW_AND_OLD_IMAGES") as table:
        assert table.stream_arn, "a table made with stream= has a stream ARN"
        stream = view.streams.describe_stream(StreamArn=table.stream_arn)["StreamDescription"]
        assert stream["StreamStatus"] == "ENABLED"
        assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert stream["TableName"] == table.name
    assert_gone(view, "table", [table.name], label)


@needs("ttl")
def test_table_ttl(run: Runner, view: Inventory) -> None:
    label = label_for(run, "ttl")
    with run.lifecycle("table", label, ttl_attribute="expires") as table:
        ttl = view.dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
        run.call(table.client.put_item(TableName=table.name, Item={"pk": {"S": "k"}, "expires": {"N": "4102444800"}}))
    assert_gone(view, "table", [table.name], label)


@needs("table_tags")
def test_table_tags(run: Runner, view: Inventory) -> None:
    label = label_for(run, "tags")
    with run.lifecycle("table", label) as table:
        tags = {t["Key"]: t["Value"] for t in view.dynamodb.list_tags_of_resource(ResourceArn=table.arn)["Tags"]}
        assert tags[TAG_MANAGED] == "true"
        assert tags[TAG_RUN_ID] == run_id()
        assert tags[TAG_CREATED].endswith("Z")
    assert_gone(view, "table", [table.name], label)


# ---------------------------------------------------------------------------------------------------------
# buckets


def test_bucket_write_read(run: Runner, view: Inventory) -> None:
    label = label_for(run, "objects")
    with run.lifecycle("bucket", label) as bucket:
        assert view.bucket_exists(bucket.name)
        assert bucket.arn == f"arn:aws:s3:::{bucket.name}"
        run.call(bucket.client.put_object(Bucket=bucket.name, Key="dir/a.txt", Body=b"alpha"))
        assert view.s3.get_object(Bucket=bucket.name, Key="dir/a.txt")["Body"].read() == b"alpha"
        view.s3.put_object(Bucket=bucket.name, Key="b.txt", Body=b"beta")
        got = run.call(bucket.client.get_object(Bucket=bucket.name, Key="b.txt"))
        assert run.call(got["Body"].read()) == b"beta"
    assert_gone(view, "bucket", [bucket.name], label)


@needs("versioning")
def test_bucket_versions_and_delete_markers(run: Runner, view: Inventory) -> None:
    label = label_for(run, "versions")
    with run.lifecycle("bucket", label, versioning=True) as bucket:
        assert view.s3.get_bucket_versioning(Bucket=bucket.name)["Status"] == "Enabled"
        for body in (b"v1", b"v2"):
            run.call(bucket.client.put_object(Bucket=bucket.name, Key="doc", Body=body))
        run.call(bucket.client.delete_object(Bucket=bucket.name, Key="doc"))
        view.s3.put_object(Bucket=bucket.name, Key="kept", Body=b"k")
        listing = view.s3.list_object_versions(Bucket=bucket.name)
        assert sorted(v["Key"] for v in listing.get("Versions", [])) == ["doc", "doc", "kept"]
        assert [m["Key"] for m in listing.get("DeleteMarkers", [])] == ["doc"]
    assert_gone(view, "bucket", [bucket.name], label)


def test_bucket_many_objects_across_pages(run: Runner, view: Inventory) -> None:
    """More than 1,000 keys: emptying must follow every page of the listing and batch its deletes."""
    label = label_for(run, "pages")
    count = 1010
    with run.lifecycle("bucket", label) as bucket:
        run.call(bucket.client.put_object(Bucket=bucket.name, Key="first", Body=b"0"))
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: view.s3.put_object(Bucket=bucket.name, Key=f"k/{i:05d}", Body=b"x"), range(count)))
        page = view.s3.list_objects_v2(Bucket=bucket.name)
        assert page["IsTruncated"] and page["KeyCount"] == 1000, "the listing needs more than one page"
    assert_gone(view, "bucket", [bucket.name], label)


def test_bucket_open_multipart_upload(run: Runner, view: Inventory) -> None:
    label = label_for(run, "multipart")
    with run.lifecycle("bucket", label) as bucket:
        upload = run.call(bucket.client.create_multipart_upload(Bucket=bucket.name, Key="big.bin"))
        part = b"p" * 1024
        run.call(
            bucket.client.upload_part(
                Bucket=bucket.name, Key="big.bin", UploadId=upload["UploadId"], PartNumber=1, Body=part
            )
        )
        view.s3.put_object(Bucket=bucket.name, Key="small.txt", Body=b"s")
        if "multipart_listing" not in LACKS:
            uploads = view.s3.list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])
            assert [u["UploadId"] for u in uploads] == [upload["UploadId"]]
    assert_gone(view, "bucket", [bucket.name], label)


@needs("bucket_tags")
def test_bucket_tags(run: Runner, view: Inventory) -> None:
    label = label_for(run, "tags")
    with run.lifecycle("bucket", label) as bucket:
        tags = {t["Key"]: t["Value"] for t in view.s3.get_bucket_tagging(Bucket=bucket.name)["TagSet"]}
        assert tags[TAG_MANAGED] == "true"
        assert tags[TAG_RUN_ID] == run_id()
    assert_gone(view, "bucket", [bucket.name], label)


# ---------------------------------------------------------------------------------------------------------
# queues


def _receive_one(receive: Callable[..., Any], url: str) -> dict[str, Any]:
    """The first message on the queue (long polls a few times: an emulator may deliver late)."""
    for _ in range(5):
        reply = receive(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1)
        if reply.get("Messages"):
            message: dict[str, Any] = reply["Messages"][0]
            return message
    raise AssertionError(f"no message on {url}")


def test_queue_send_receive(run: Runner, view: Inventory) -> None:
    label = label_for(run, "standard")
    with run.lifecycle("queue", label) as queue:
        assert queue.dead_letter is None
        attributes = view.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["QueueArn"])["Attributes"]
        assert attributes["QueueArn"] == queue.arn
        run.call(queue.client.send_message(QueueUrl=queue.url, MessageBody="hello"))
        assert _receive_one(view.sqs.receive_message, queue.url)["Body"] == "hello"
    assert_gone(view, "queue", [queue.name], label)


def test_queue_fifo(run: Runner, view: Inventory) -> None:
    label = label_for(run, "fifo")
    with run.lifecycle("queue", label, fifo=True) as queue:
        assert queue.name.endswith(".fifo")
        attributes = view.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        assert attributes["FifoQueue"] == "true"
        for body in ("one", "two"):
            run.call(
                queue.client.send_message(
                    QueueUrl=queue.url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=body
                )
            )
        first = _receive_one(lambda **kw: run.call(queue.client.receive_message(**kw)), queue.url)
        assert first["Body"] == "one"
    assert_gone(view, "queue", [queue.name], label)


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_queue_dead_letter(run: Runner, view: Inventory, fifo: bool) -> None:
    label = label_for(run, "dlq_fifo" if fifo else "dlq")
    with run.lifecycle("queue", label, fifo=fifo, dead_letter=3) as queue:
        dead = queue.dead_letter
        assert dead is not None and dead.name != queue.name
        assert dead.name.endswith(".fifo") == fifo
        attributes = view.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["RedrivePolicy"])["Attributes"]
        policy = json.loads(attributes["RedrivePolicy"])
        assert policy["deadLetterTargetArn"] == dead.arn
        assert int(policy["maxReceiveCount"]) == 3
        assert view.queue_exists(dead.name)
    assert_gone(view, "queue", [queue.name, dead.name], label)


def test_queue_tags(run: Runner, view: Inventory) -> None:
    label = label_for(run, "tags")
    with run.lifecycle("queue", label) as queue:
        tags = view.sqs.list_queue_tags(QueueUrl=queue.url).get("Tags", {})
        assert tags[TAG_MANAGED] == "true"
        assert tags[TAG_RUN_ID] == run_id()
    assert_gone(view, "queue", [queue.name], label)


# ---------------------------------------------------------------------------------------------------------
# every kind


@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_error_in_block_still_deletes(run: Runner, view: Inventory, kind: str) -> None:
    label = label_for(run, "raises")
    resource = run.make(kind, label)
    with pytest.raises(RuntimeError, match="boom"), run.enter(resource) as handle:
        assert view.exists(kind, handle.name)
        raise RuntimeError("boom")
    assert resource.lifecycle.state == "deleted"
    assert_gone(view, kind, [handle.name], label)
