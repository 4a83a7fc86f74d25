"""The residues a pool holder can leave in a table, a bucket or a queue, and each kind's observer: what the next
holder runs to look for anything a previous holder left (see :mod:`tests.support.pool_residues`).

An observer leaves out the reads the target cannot answer (``SANDBOXRES_EMULATOR_LACKS``,
:mod:`tests.support.target_env`); the residues that need them are skipped on that target."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sandboxres import Index
from tests.support.inventory import Inventory
from tests.support.pool_residues import ADDED_INDEX, HOLDER_TAG, Residue
from tests.support.runner import Runner
from tests.support.target_env import lacks


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# ---------------------------------------------------------------------------------------------------------
# tables


def _put(run: Runner, t: Any, **attributes: str) -> None:
    item = {"pk": {"S": "from-holder"}, **{k: {"S": v} for k, v in attributes.items()}}
    run.call(t.client.put_item(TableName=t.name, Item=item))


def _enable_ttl(run: Runner, t: Any) -> None:
    spec = {"Enabled": True, "AttributeName": "expires"}
    run.call(t.client.update_time_to_live(TableName=t.name, TimeToLiveSpecification=spec))


def _provisioned(run: Runner, t: Any) -> None:
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    run.call(t.client.update_table(TableName=t.name, BillingMode="PROVISIONED", ProvisionedThroughput=throughput))


def _add_index(run: Runner, t: Any) -> None:
    create = {
        "IndexName": ADDED_INDEX,
        "KeySchema": [{"AttributeName": "extra", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    run.call(
        t.client.update_table(
            TableName=t.name,
            AttributeDefinitions=[{"AttributeName": "extra", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": create}],
        )
    )


def _table_arn(run: Runner, t: Any) -> str:
    return str(run.call(t.client.describe_table(TableName=t.name))["Table"]["TableArn"])


def _tag_table(run: Runner, t: Any) -> None:
    run.call(t.client.tag_resource(ResourceArn=_table_arn(run, t), Tags=[{"Key": HOLDER_TAG, "Value": "1"}]))


def _protect(run: Runner, t: Any) -> None:
    run.call(t.client.update_table(TableName=t.name, DeletionProtectionEnabled=True))


def _stream_records(look: Inventory, arn: str | None) -> int:
    if not arn:
        return 0
    stream = look.streams.describe_stream(StreamArn=arn)["StreamDescription"]
    records = 0
    for shard in stream.get("Shards", []):
        iterator = look.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += len(look.streams.get_records(ShardIterator=iterator).get("Records", []))
    return records


def observe_table(run: Runner, t: Any, look: Inventory) -> list[str]:
    """Everything of a previous holder a table could show."""
    seen: list[str] = []
    table = run.call(t.client.describe_table(TableName=t.name))["Table"]
    if run.call(t.client.scan(TableName=t.name, ConsistentRead=True)).get("Items"):
        seen.append("items")
    for index in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", []):
        if run.call(t.client.scan(TableName=t.name, IndexName=index["IndexName"])).get("Items"):
            seen.append(f"items in index {index['IndexName']}")
        if index["IndexName"] == ADDED_INDEX:
            seen.append("an added index")
    ttl = run.call(t.client.describe_time_to_live(TableName=t.name))["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus", "DISABLED") != "DISABLED":
        seen.append("a time to live")
    if (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED") != "PAY_PER_REQUEST":
        seen.append("provisioned billing")
    if table.get("DeletionProtectionEnabled"):
        seen.append("deletion protection")
    tags = run.call(t.client.list_tags_of_resource(ResourceArn=table["TableArn"])).get("Tags", [])
    if any(tag["Key"] == HOLDER_TAG for tag in tags):
        seen.append("a holder's tag")
    if not lacks("streams") and t.stream_arn != table.get("LatestStreamArn"):
        seen.append("a stream the handle does not name")
    if not lacks("streams") and _stream_records(look, t.stream_arn):
        seen.append("stream records")
    return seen


GSI = {"global_indexes": [Index("by_g", hash_key="g")]}
LSI = {"range_key": "sk", "local_indexes": [Index("by_l", range_key="l")]}
TABLE_RESIDUES = [
    Residue("items", "table", lambda run, t: _put(run, t), "recycled"),
    Residue("gsi-items", "table", lambda run, t: _put(run, t, g="x"), "recycled", GSI),
    Residue("lsi-items", "table", lambda run, t: _put(run, t, sk="s", l="x"), "recycled", LSI),
    Residue("ttl", "table", _enable_ttl, "discarded", needs="ttl"),
    Residue("billing-mode", "table", _provisioned, "discarded"),
    Residue("new-index", "table", _add_index, "discarded", needs="index_updates"),
    Residue("tag", "table", _tag_table, "discarded"),
    Residue("deletion-protection", "table", _protect, "discarded", needs="deletion_protection"),
    Residue("stream", "table", lambda run, t: _put(run, t), "discarded", {"stream": "NEW_IMAGE"}, "streams"),
]


# ---------------------------------------------------------------------------------------------------------
# buckets


def _versions(run: Runner, b: Any) -> None:
    for body in (b"1", b"2"):
        run.call(b.client.put_object(Bucket=b.name, Key="k", Body=body))


def _delete_marker(run: Runner, b: Any) -> None:
    run.call(b.client.put_object(Bucket=b.name, Key="gone", Body=b"x"))
    run.call(b.client.delete_object(Bucket=b.name, Key="gone"))
    versions = run.call(b.client.list_object_versions(Bucket=b.name))
    for version in versions.get("Versions", []):  # leave the marker alone
        run.call(b.client.delete_object(Bucket=b.name, Key=version["Key"], VersionId=version["VersionId"]))


def _upload(run: Runner, b: Any) -> None:
    run.call(b.client.create_multipart_upload(Bucket=b.name, Key="big"))


def _cors(run: Runner, b: Any) -> None:
    rules = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    run.call(b.client.put_bucket_cors(Bucket=b.name, CORSConfiguration=rules))


def _policy(run: Runner, b: Any) -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b.name}/*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    run.call(b.client.put_bucket_policy(Bucket=b.name, Policy=policy))


def _lifecycle(run: Runner, b: Any) -> None:
    rule = {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    run.call(b.client.put_bucket_lifecycle_configuration(Bucket=b.name, LifecycleConfiguration={"Rules": [rule]}))


def _tag_bucket(run: Runner, b: Any) -> None:
    tags = run.call(b.client.get_bucket_tagging(Bucket=b.name))["TagSet"]
    tagging = {"TagSet": [*tags, {"Key": HOLDER_TAG, "Value": "1"}]}
    run.call(b.client.put_bucket_tagging(Bucket=b.name, Tagging=tagging))


def _configured(run: Runner, call: Callable[[], Any], absent: str) -> bool:
    try:
        run.call(call())
    except ClientError as exc:
        if _error_code(exc) == absent:
            return False
        raise
    return True


def observe_bucket(run: Runner, b: Any, look: Inventory) -> list[str]:
    """Everything of a previous holder a bucket could show."""
    seen: list[str] = []
    versions = {} if lacks("versioning") else run.call(b.client.list_object_versions(Bucket=b.name))
    if versions.get("Versions"):
        seen.append("object versions")
    if versions.get("DeleteMarkers"):
        seen.append("delete markers")
    if run.call(b.client.list_objects_v2(Bucket=b.name)).get("Contents"):
        seen.append("objects")
    if not lacks("multipart_listing") and run.call(b.client.list_multipart_uploads(Bucket=b.name)).get("Uploads"):
        seen.append("multipart uploads")
    if _configured(run, lambda: b.client.get_bucket_cors(Bucket=b.name), "NoSuchCORSConfiguration"):
        seen.append("a CORS configuration")
    policy = lambda: b.client.get_bucket_policy(Bucket=b.name)  # noqa: E731
    if not lacks("bucket_policy") and _configured(run, policy, "NoSuchBucketPolicy"):
        seen.append("a bucket policy")
    lifecycle = lambda: b.client.get_bucket_lifecycle_configuration(Bucket=b.name)  # noqa: E731
    if not lacks("bucket_lifecycle") and _configured(run, lifecycle, "NoSuchLifecycleConfiguration"):
        seen.append("a lifecycle configuration")
    tags = [] if lacks("bucket_tags") else run.call(b.client.get_bucket_tagging(Bucket=b.name)).get("TagSet", [])
    if any(tag["Key"] == HOLDER_TAG for tag in tags):
        seen.append("a holder's tag")
    return seen


VERSIONED = {"versioning": True}
BUCKET_RESIDUES = [
    Residue("versions", "bucket", _versions, "recycled", VERSIONED, "versioning"),
    Residue("delete-marker", "bucket", _delete_marker, "recycled", VERSIONED, "versioning"),
    Residue("objects", "bucket", _versions, "recycled"),
    Residue("multipart-upload", "bucket", _upload, "recycled", needs="multipart_listing"),
    Residue("cors", "bucket", _cors, "discarded"),
    Residue("policy", "bucket", _policy, "discarded", needs="bucket_policy"),
    Residue("lifecycle", "bucket", _lifecycle, "discarded", needs="bucket_lifecycle"),
    Residue("tagging", "bucket", _tag_bucket, "discarded", needs="bucket_tags"),
]


# ---------------------------------------------------------------------------------------------------------
# queues

COUNTERS = {
    "ApproximateNumberOfMessages": "visible messages",
    "ApproximateNumberOfMessagesNotVisible": "in-flight messages",
    "ApproximateNumberOfMessagesDelayed": "delayed messages",
}
DEFAULTS = {"VisibilityTimeout": "30", "DelaySeconds": "0", "MessageRetentionPeriod": "345600"}


def _send(run: Runner, q: Any, **options: Any) -> None:
    run.call(q.client.send_message(QueueUrl=q.url, MessageBody="from a holder", **options))


def _in_flight(run: Runner, q: Any) -> None:
    _send(run, q)
    got = run.call(q.client.receive_message(QueueUrl=q.url, VisibilityTimeout=300))
    assert got.get("Messages"), "the message was not received"


def _attribute(run: Runner, q: Any) -> None:
    run.call(q.client.set_queue_attributes(QueueUrl=q.url, Attributes={"VisibilityTimeout": "45"}))


def _dead_lettered(run: Runner, q: Any) -> None:
    assert q.dead_letter is not None
    _send(run, q.dead_letter)


def _observe_one(run: Runner, q: Any, where: str) -> list[str]:
    seen: list[str] = []
    attributes = run.call(q.client.get_queue_attributes(QueueUrl=q.url, AttributeNames=["All"]))["Attributes"]
    seen += [f"{what}{where}" for name, what in COUNTERS.items() if int(attributes.get(name, "0"))]
    seen += [f"{name} changed{where}" for name, value in DEFAULTS.items() if attributes.get(name) != value]
    got = run.call(q.client.receive_message(QueueUrl=q.url, VisibilityTimeout=0, MaxNumberOfMessages=10))
    if got.get("Messages"):
        seen.append(f"a received message{where}")
    return seen


def observe_queue(run: Runner, q: Any, look: Inventory) -> list[str]:
    """Everything of a previous holder a queue (and its dead-letter queue) could show."""
    seen = _observe_one(run, q, "")
    if q.dead_letter is not None:
        seen += _observe_one(run, q.dead_letter, " in the dead-letter queue")
    return seen


QUEUE_RESIDUES = [
    Residue("visible", "queue", _send, "discarded"),
    Residue("in-flight", "queue", _in_flight, "discarded"),
    Residue("delayed", "queue", lambda run, q: _send(run, q, DelaySeconds=600), "discarded"),
    Residue("attribute", "queue", _attribute, "discarded"),
    Residue("dead-letter", "queue", _dead_lettered, "discarded", {"dead_letter": 3}),
]

RESIDUES = TABLE_RESIDUES + BUCKET_RESIDUES + QUEUE_RESIDUES
OBSERVE: dict[str, Callable[[Runner, Any, Inventory], list[str]]] = {
    "table": observe_table,
    "bucket": observe_bucket,
    "queue": observe_queue,
}
