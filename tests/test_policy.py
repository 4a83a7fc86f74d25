"""The generated IAM policy allows every call the library makes, and nothing on names without its prefixes.

Every SDK call made during full lifecycles of all kinds and options (sync and async, deletion by name, the
`check` and `doctor` probes, a sweep that deletes kept resources) and during typical use inside the blocks is
recorded with botocore event hooks on the embedded emulator (a real moto server over HTTP). Each call is mapped
to its IAM actions and the ARN of the resource it touches, and a small IAM evaluator checks the generated policy
against it: every call allowed, the same actions on ``table/prod_users``, bucket ``prod-bucket`` and queue
``prod_queue`` denied.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import botocore.client
import botocore.session
import pytest

import sandboxres
import sandboxres.aio
from sandboxres import Index
from sandboxres._doors.cli.check import CHECKS, check_kind
from sandboxres._doors.cli.doctor import PROBES, diagnose
from sandboxres._doors.sweep import sweep
from sandboxres._doors.warm_status import drain, warm_status
from sandboxres._engine.errors import SpecError
from sandboxres._engine.plans import Progress
from sandboxres._kinds import KINDS
from sandboxres._kinds.bucket import BUCKET
from sandboxres._kinds.queue import QUEUE, QueueFacts
from sandboxres._kinds.table import TABLE
from sandboxres._kinds.topic import TOPIC
from sandboxres._leases.records import LEASE_TABLE
from sandboxres._runtime.clients import active_target, aio_session, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._safety.iam_policy import (
    LEASE_OPERATIONS,
    LEASE_STATEMENT_SID,
    OPERATIONS,
    build_policy,
    iam_action_service,
    permissions_for,
)
from tests.support.moto_server import reset

HOOK_ID = "sandboxres-policy-test"

# ---------------------------------------------------------------------------------------------------------
# A small IAM evaluator: Allow statements, Action wildcards (case-insensitive), Resource ARN globs.


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    """True when an Allow statement of ``policy`` matches ``action`` on ``resource`` (no Deny statements)."""
    assert all(s["Effect"] == "Allow" for s in policy["Statement"]), "the evaluator only knows Allow statements"
    return any(
        any(_glob(a, action, ignore_case=True) for a in _as_list(s["Action"]))
        and any(_glob(r, resource) for r in _as_list(s["Resource"]))
        for s in policy["Statement"]
    )


def test_evaluator_matches_like_iam() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": ["arn:aws:s3:::test-*/*"]}]}
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::test-a/k/x")
    assert allowed(policy, "S3:getobject", "arn:aws:s3:::test-a/k")
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::test-a/k")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::prod-a/k")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::Test-a/k")


# ---------------------------------------------------------------------------------------------------------
# The generator itself.

LISTING_ACTIONS = {
    "dynamodb:ListTables",
    "dynamodb:ListStreams",
    "s3:ListAllMyBuckets",
    "sqs:ListQueues",
    "sns:ListTopics",
    "sns:Unsubscribe",  # like the subscription attribute actions: no resource type to scope it to
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
    "sts:GetCallerIdentity",
}


def test_policy_shape_and_scoping() -> None:
    policy = build_policy()
    assert policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)
    unscoped = [s for s in policy["Statement"] if s["Resource"] == "*"]
    assert len(unscoped) == 1
    assert set(unscoped[0]["Action"]) == LISTING_ACTIONS
    for statement in policy["Statement"]:
        if statement is unscoped[0]:
            continue
        assert not LISTING_ACTIONS & set(statement["Action"]), "listing actions must not be scoped"
        for resource in statement["Resource"]:
            assert re.search(r"(table/test_\*|:::test-\*|:test_\*)", resource), resource
    resources = {r for s in policy["Statement"] if s["Resource"] != "*" for r in s["Resource"]}
    assert resources == {
        "arn:aws:dynamodb:*:*:table/test_*",
        "arn:aws:dynamodb:*:*:table/test_*/index/*",
        "arn:aws:dynamodb:*:*:table/test_*/stream/*",
        "arn:aws:s3:::test-*",
        "arn:aws:s3:::test-*/*",
        "arn:aws:sqs:*:*:test_*",
        "arn:aws:sns:*:*:test_*",
    }


def test_policy_for_chosen_services_prefixes_and_scope() -> None:
    policy = build_policy(
        ["sqs"], queue_prefix="test_billing_", partition="aws-cn", region="cn-north-1", account="210987654321"
    )
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions and all(a.startswith(("sqs:", "sts:")) for a in actions)
    assert "sqs:CreateQueue" in actions and "sqs:TagQueue" in actions
    queue_statement = next(s for s in policy["Statement"] if "sqs:CreateQueue" in s["Action"])
    assert queue_statement["Resource"] == ["arn:aws-cn:sqs:cn-north-1:210987654321:test_billing_*"]
    assert allowed(policy, "sqs:SendMessage", "arn:aws-cn:sqs:cn-north-1:210987654321:test_billing_x_1")
    assert not allowed(policy, "sqs:SendMessage", "arn:aws-cn:sqs:cn-north-1:210987654321:test_other_1")
    assert not allowed(policy, "sqs:SendMessage", "arn:aws-cn:sqs:cn-north-1:123456789012:test_billing_x_1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"services": ["ec2"]},
        {"services": []},
        {"table_prefix": "prod_"},
        {"bucket_prefix": "test_"},
        {"queue_prefix": "test_*"},
        {"region": "eu west 1"},
        {"account": "12345"},
        {"partition": "aws-mars"},
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, Any]) -> None:
    services = kwargs.pop("services", ["dynamodb", "s3", "sqs"])
    with pytest.raises(SpecError):
        build_policy(services, **kwargs)


def test_every_operation_exists_in_botocore_and_uses_its_service_prefix() -> None:
    session = botocore.session.get_session()
    for (service, operation), permissions in OPERATIONS.items():
        assert operation in session.get_service_model(service).operation_names, (service, operation)
        assert permissions
        for permission in permissions:
            assert permission.action.split(":")[0] == iam_action_service(service), permission


@pytest.mark.parametrize(
    ("service", "operation", "actions"),
    [
        # The IAM actions that are not named after the operation (AWS's service authorization reference).
        ("s3", "HeadBucket", {"s3:ListBucket"}),
        ("s3", "ListObjectsV2", {"s3:ListBucket"}),
        ("s3", "ListObjectVersions", {"s3:ListBucketVersions"}),
        ("s3", "ListMultipartUploads", {"s3:ListBucketMultipartUploads"}),
        ("s3", "ListBuckets", {"s3:ListAllMyBuckets"}),
        ("s3", "DeleteObjects", {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"}),
        ("dynamodb", "CreateTable", {"dynamodb:CreateTable", "dynamodb:TagResource"}),
        ("s3", "CreateBucket", {"s3:CreateBucket", "s3:TagResource"}),
        ("dynamodbstreams", "DescribeStream", {"dynamodb:DescribeStream"}),
        ("sqs", "CreateQueue", {"sqs:CreateQueue", "sqs:TagQueue"}),
        ("sqs", "SendMessageBatch", {"sqs:SendMessage"}),
        ("sns", "CreateTopic", {"sns:CreateTopic", "sns:TagResource"}),
        ("sns", "PublishBatch", {"sns:Publish"}),
    ],
)
def test_operations_whose_action_has_another_name(service: str, operation: str, actions: set[str]) -> None:
    assert {p.action for p in permissions_for(service, operation)} == actions


# ---------------------------------------------------------------------------------------------------------
# Recording what the library really does.


class Recorder:
    """Records (service, operation, params) of every SDK call made by clients of the hooked emitters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.iterator_streams: dict[str, str] = {}
        self._lock = threading.Lock()

    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        if service == "dynamodbstreams" and "StreamArn" in params:
            context["sandboxres_stream_arn"] = params["StreamArn"]
        if model.name == "GetRecords":
            context["sandboxres_stream_arn"] = self.iterator_streams.get(params.get("ShardIterator", ""), "")
        with self._lock:
            self.calls.append((service, model.name, dict(params)))

    def after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        stream_arn = context.get("sandboxres_stream_arn")
        if not stream_arn:
            return
        for key in ("ShardIterator", "NextShardIterator"):
            if parsed.get(key):
                self.iterator_streams[parsed[key]] = stream_arn

    def attach(self, events: Any) -> None:
        events.register("before-parameter-build", self.before, unique_id=HOOK_ID + "-before")
        events.register("after-call", self.after, unique_id=HOOK_ID + "-after")

    def detach(self, events: Any) -> None:
        events.unregister("before-parameter-build", self.before, unique_id=HOOK_ID + "-before")
        events.unregister("after-call", self.after, unique_id=HOOK_ID + "-after")

    def operations(self) -> set[tuple[str, str]]:
        return {(service, operation) for service, operation, _ in self.calls}


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in (*ENDPOINT_VARIABLES, "SANDBOXRES_TARGET", "SANDBOXRES_ENV_FILE", "SANDBOXRES_KEEP"):
        monkeypatch.delenv(name, raising=False)
    target = active_target()
    assert target.kind == "embedded"
    return target


@pytest.fixture
def recorder(embedded: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Hooks on the shared boto3 pool (its session, for clients made later, and every client made already)
    and on the aioboto3 session of the embedded target."""
    rec = Recorder()
    pool = client_pool(embedded)
    emitters = [pool._session.events, aio_session(embedded).events]
    emitters += [client.meta.events for client in pool._clients.values()]
    emitters += [resource.meta.client.meta.events for resource in pool._resources.values()]
    for events in emitters:
        rec.attach(events)
    # Clients made outside the pool (the doctor's probes, with their own short timeouts) are hooked as made.
    create_client = botocore.client.ClientCreator.create_client

    def create_hooked_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        rec.attach(client.meta.events)
        emitters.append(client.meta.events)
        return client

    monkeypatch.setattr(botocore.client.ClientCreator, "create_client", create_hooked_client)
    try:
        yield rec
    finally:
        for events in emitters:
            rec.detach(events)


def _use_table(t: Any, streams: Any) -> None:
    """What tests do with a table: items, batches, transactions, index queries, the stream."""
    t.table.put_item(Item={"pk": "a", "sk": "1", "email": "a@example.com", "ttl": 1})
    t.table.get_item(Key={"pk": "a", "sk": "1"})
    t.table.update_item(Key={"pk": "a", "sk": "1"}, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": 2})
    t.client.query(
        TableName=t.name,
        IndexName="by_email",
        KeyConditionExpression="email = :e",
        ExpressionAttributeValues={":e": {"S": "a@example.com"}},
    )
    t.client.query(TableName=t.name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})
    t.client.scan(TableName=t.name)
    t.client.batch_write_item(RequestItems={t.name: [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}]})
    t.client.batch_get_item(RequestItems={t.name: {"Keys": [{"pk": {"S": "b"}, "sk": {"S": "1"}}]}})
    t.client.transact_write_items(
        TransactItems=[{"Put": {"TableName": t.name, "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}}}}]
    )
    t.client.transact_get_items(
        TransactItems=[{"Get": {"TableName": t.name, "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}}}}]
    )
    t.table.delete_item(Key={"pk": "a", "sk": "1"})
    shards = streams.describe_stream(StreamArn=t.stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=t.stream_arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert streams.get_records(ShardIterator=iterator)["Records"], "the stream recorded the writes"


def _use_bucket(b: Any) -> None:
    """Versions, a delete marker and an open multipart upload: deletion must remove all of them."""
    b.client.put_object(Bucket=b.name, Key="dir/a.txt", Body=b"1")
    b.client.put_object(Bucket=b.name, Key="dir/a.txt", Body=b"2")
    b.client.get_object(Bucket=b.name, Key="dir/a.txt")
    b.client.head_object(Bucket=b.name, Key="dir/a.txt")
    b.client.delete_object(Bucket=b.name, Key="dir/a.txt")
    b.client.put_object(Bucket=b.name, Key="b.txt", Body=b"3")
    b.client.list_objects_v2(Bucket=b.name)
    b.client.get_bucket_tagging(Bucket=b.name)
    b.client.create_multipart_upload(Bucket=b.name, Key="big.bin")


def _use_queue(q: Any, fifo: bool) -> None:
    extra = {"MessageGroupId": "g", "MessageDeduplicationId": "d1"} if fifo else {}
    q.client.send_message(QueueUrl=q.url, MessageBody="one", **extra)
    batch_extra = {"MessageGroupId": "g", "MessageDeduplicationId": "d2"} if fifo else {}
    q.client.send_message_batch(QueueUrl=q.url, Entries=[{"Id": "1", "MessageBody": "two", **batch_extra}])
    got = q.client.receive_message(QueueUrl=q.url, MaxNumberOfMessages=1, WaitTimeSeconds=1)["Messages"]
    q.client.change_message_visibility(QueueUrl=q.url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    q.client.delete_message(QueueUrl=q.url, ReceiptHandle=got[0]["ReceiptHandle"])
    q.client.list_queue_tags(QueueUrl=q.url)
    if q.dead_letter is not None:
        q.client.list_dead_letter_source_queues(QueueUrl=q.dead_letter.url)


def _use_topic(t: Any, queue_arn: str) -> None:
    """A subscription (deleted with the topic), a message, the tags."""
    t.client.subscribe(TopicArn=t.arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    t.client.publish(TopicArn=t.arn, Message="one")
    t.client.list_tags_for_resource(ResourceArn=t.arn)


async def _async_lifecycles() -> None:
    async with sandboxres.aio.ephemeral_all(
        sandboxres.aio.ephemeral_table("apolicy", range_key="sk", stream="NEW_IMAGE", ttl_attribute="ttl"),
        sandboxres.aio.ephemeral_bucket("apolicy", versioning=True),
        sandboxres.aio.ephemeral_queue("apolicy", fifo=True, dead_letter=2),
        sandboxres.aio.ephemeral_topic("apolicy", fifo=True),
    ) as (table, bucket, queue, topic):
        await table.client.put_item(TableName=table.name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
        await bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
        await queue.client.send_message(
            QueueUrl=queue.url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d"
        )
        await topic.client.subscribe(TopicArn=topic.arn, Protocol="sqs", Endpoint=queue.arn)


def _delete_by_name(embedded: Any) -> None:
    """Resources whose create was sent but never answered are deleted by name, without facts."""
    driver = SyncDriver(client_pool(embedded))
    resources: list[sandboxres.Ephemeral[Any]] = [
        sandboxres.ephemeral_table("byname"),
        sandboxres.ephemeral_bucket("byname", versioning=True),
        sandboxres.ephemeral_queue("byname", dead_letter=1),
        sandboxres.ephemeral_topic("byname"),
    ]
    table, bucket, queue, topic = (resource.create() for resource in resources)
    try:
        bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
        driver.run(TABLE.delete(TABLE.named(table.name), Progress(), 300.0))
        driver.run(BUCKET.delete(BUCKET.named(bucket.name), Progress(), 300.0))
        assert queue.dead_letter is not None
        driver.run(
            QUEUE.delete(QueueFacts(queue.name, dead_letter=QueueFacts(queue.dead_letter.name)), Progress(), 300.0)
        )
        driver.run(TOPIC.delete(TOPIC.named(topic.name), Progress(), 300.0))  # its ARN found by listing
    finally:
        for resource in resources:  # already gone: each delete finds nothing and only updates the registry
            resource.delete()


def _sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resources kept by a run of their own, then listed, inspected and deleted by the sweeper."""
    run_id = f"policy-sweep-{secrets.token_hex(4)}"
    monkeypatch.setenv("SANDBOXRES_RUN_ID", run_id)
    with (
        sandboxres.ephemeral_table("swept", keep=True),
        sandboxres.ephemeral_bucket("swept", versioning=True, keep=True) as bucket,
        sandboxres.ephemeral_queue("swept", dead_letter=2, keep=True),
        sandboxres.ephemeral_topic("swept", keep=True),
    ):
        bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
    monkeypatch.delenv("SANDBOXRES_RUN_ID")
    assert sweep(run_id=run_id, dry_run=True).found == 5
    report = sweep(run_id=run_id, dry_run=False)
    assert report.ok and report.deleted == 5, report.as_dict()


def _record_everything(embedded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = client_pool(embedded)
    indexes: dict[str, Any] = {
        "global_indexes": [Index("by_email", hash_key="email")],
        "local_indexes": [Index("by_ttl", range_key="ttl")],
        "attribute_types": {"ttl": "N"},
    }
    with (
        sandboxres.ephemeral_table(
            "policy", range_key="sk", stream="NEW_AND_OLD_IMAGES", ttl_attribute="ttl", **indexes
        ) as table,
        sandboxres.ephemeral_bucket("policy", versioning=True) as bucket,
        sandboxres.ephemeral_bucket("policy_plain") as plain_bucket,
        sandboxres.ephemeral_queue("policy", fifo=True, dead_letter=3) as fifo_queue,
        sandboxres.ephemeral_queue("policy_std", attributes={"VisibilityTimeout": "5"}) as queue,
        sandboxres.ephemeral_topic("policy", DisplayName="Policy") as topic,
        sandboxres.ephemeral_topic("policy_fifo", fifo=True, ContentBasedDeduplication="true") as fifo_topic,
    ):
        _use_table(table, pool.client("dynamodbstreams"))
        _use_bucket(bucket)
        plain_bucket.client.put_object(Bucket=plain_bucket.name, Key="k", Body=b"x")
        _use_queue(fifo_queue, fifo=True)
        _use_queue(queue, fifo=False)
        _use_topic(topic, queue.arn)
        fifo_topic.client.publish(TopicArn=fifo_topic.arn, Message="one", MessageGroupId="g")
    with sandboxres.ephemeral_all(
        sandboxres.ephemeral_table("policy_prov", billing_mode="PROVISIONED", capacity=(2, 2)),
        sandboxres.ephemeral_queue("policy_all"),
    ):
        pass
    _delete_by_name(embedded)
    asyncio.run(_async_lifecycles())
    for kind in KINDS:
        assert check_kind(kind).ok
    # `sandboxres doctor` itself: its reachability probes and one lifecycle per kind, each call recorded.
    _, findings = diagnose(list(CHECKS))
    assert {f.check for f in findings if f.status == "ok"} >= {f"reachability {s}" for s in PROBES}, findings
    assert all(f.status == "ok" for f in findings), findings
    pool.client("sts").get_caller_identity()
    _sweep(monkeypatch)


# The ARN of the resource one permission of a call is checked against, derived from the call's parameters.


def _arns(service: str, params: dict[str, Any], kind: str, region: str, account: str, rec: Recorder) -> list[str]:
    if kind == "*":
        return ["*"]
    if service == "dynamodb":
        base = f"arn:aws:dynamodb:{region}:{account}:table/"
        if "ResourceArn" in params:
            return [params["ResourceArn"]]
        names = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
        for item in params.get("TransactItems", []):
            names += [op["TableName"] for op in item.values()]
        if kind == "index":
            return [f"{base}{params['TableName']}/index/{params['IndexName']}"] if "IndexName" in params else []
        return [base + name for name in names]
    if service == "dynamodbstreams":
        return [params["StreamArn"]] if "StreamArn" in params else [rec.iterator_streams[params["ShardIterator"]]]
    if service == "s3":
        if kind == "bucket":
            return [f"arn:aws:s3:::{params['Bucket']}"]
        keys = [params["Key"]] if "Key" in params else [o["Key"] for o in params["Delete"]["Objects"]]
        return [f"arn:aws:s3:::{params['Bucket']}/{key}" for key in keys]
    if service == "sqs":
        name = params.get("QueueName") or urlparse(params["QueueUrl"]).path.rsplit("/", 1)[-1]
        return [f"arn:aws:sqs:{region}:{account}:{name}"]
    if service == "sns":
        arn = params.get("TopicArn") or params.get("ResourceArn")
        return [arn or f"arn:aws:sns:{region}:{account}:{params['Name']}"]
    raise AssertionError(f"no ARN rule for {service} {kind}")


_FOREIGN = (
    (re.compile(r"(:table/)[^/]+"), r"\1prod_users"),
    (re.compile(r"(:s3:::)[^/]+"), r"\1prod-bucket"),
    (re.compile(r"(:sqs:[^:]*:[^:]*:).+"), r"\1prod_queue"),
    (re.compile(r"(:sns:[^:]*:[^:]*:).+"), r"\1prod_topic"),
)


def foreign(arn: str) -> str:
    """The same ARN with the resource renamed to one without the library's prefix."""
    for pattern, replacement in _FOREIGN:
        if pattern.search(arn):
            return pattern.sub(replacement, arn, count=1)
    raise AssertionError(f"not a table, bucket, queue or topic ARN: {arn}")


EXPECTED_OPERATIONS = {
    ("dynamodb", "CreateTable"),
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "UpdateTimeToLive"),
    ("dynamodb", "DescribeTimeToLive"),
    ("dynamodb", "DeleteTable"),
    ("dynamodbstreams", "DescribeStream"),
    ("s3", "CreateBucket"),
    ("s3", "PutBucketTagging"),  # also the readiness probe: no HeadBucket any more
    ("s3", "PutBucketVersioning"),
    ("s3", "ListObjectVersions"),
    ("s3", "ListMultipartUploads"),
    ("s3", "AbortMultipartUpload"),
    ("s3", "DeleteObjects"),
    ("s3", "DeleteBucket"),
    ("sqs", "CreateQueue"),
    ("sqs", "GetQueueAttributes"),
    ("sqs", "GetQueueUrl"),
    ("sqs", "DeleteQueue"),
    ("dynamodb", "ListTables"),
    ("s3", "GetBucketLocation"),
    ("s3", "ListBuckets"),
    ("sqs", "ListQueues"),
    ("sts", "GetCallerIdentity"),
    ("dynamodb", "ListTagsOfResource"),
    ("s3", "GetBucketTagging"),
    ("sqs", "ListQueueTags"),
    ("sns", "CreateTopic"),
    ("sns", "GetTopicAttributes"),
    ("sns", "ListSubscriptionsByTopic"),
    ("sns", "Unsubscribe"),
    ("sns", "DeleteTopic"),
    ("sns", "ListTopics"),
    ("sns", "ListTagsForResource"),
    ("sns", "Publish"),
}


def test_policy_allows_every_recorded_call_and_nothing_on_foreign_names(
    embedded: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record_everything(embedded, monkeypatch)
    missing = EXPECTED_OPERATIONS - recorder.operations()
    assert not missing, f"these lifecycle operations were not observed: {sorted(missing)}"
    unmapped = recorder.operations() - set(OPERATIONS)
    assert not unmapped, f"operations the policy generator does not know: {sorted(unmapped)}"

    account = client_pool(embedded).client("sts").get_caller_identity()["Account"]
    region = embedded.region
    policy = build_policy(account=account, region=region)
    wildcard_policy = build_policy()
    checked: set[tuple[str, str]] = set()
    for service, operation, params in recorder.calls:
        for permission in permissions_for(service, operation):
            for arn in _arns(service, params, permission.resource, region, account, recorder):
                checked.add((permission.action, arn))
    assert len(checked) > 100, "the recording is too small to prove anything"
    denied = [(action, arn) for action, arn in sorted(checked) if not allowed(policy, action, arn)]
    assert not denied, f"the generated policy denies calls the library makes: {denied[:10]}"
    assert all(allowed(wildcard_policy, action, arn) for action, arn in checked)
    prefixed = [(action, arn) for action, arn in checked if arn != "*"]
    leaks = [(a, foreign(arn)) for a, arn in prefixed if allowed(policy, a, foreign(arn))]
    assert not leaks, f"the policy allows these on names without the prefix: {leaks[:10]}"
    unscoped = {action for action, arn in checked if arn == "*"}
    assert unscoped == {
        "dynamodb:ListTables",
        "s3:ListAllMyBuckets",
        "sqs:ListQueues",
        "sns:ListTopics",
        "sns:Unsubscribe",
        "sts:GetCallerIdentity",
    }
    star_statement = next(s for s in policy["Statement"] if s["Resource"] == "*")
    assert unscoped <= set(star_statement["Action"])


@pytest.mark.parametrize("service", ["dynamodb", "s3", "sqs", "sns"])
def test_service_pages_show_the_generated_policy(service: str) -> None:
    """The policy printed in each sandbox set-up page is exactly what `sandboxres policy --service` prints."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "services" / f"{service}.md").read_text()
    block = re.search(r"```json\n(.*?)\n```", page, re.DOTALL)
    assert block is not None, f"docs/services/{service}.md has no JSON policy block"
    assert json.loads(block.group(1)) == build_policy([service])


def test_whole_policy_fits_a_managed_policy() -> None:
    """AWS counts a managed policy's characters without whitespace: at most 6,144 (inline user policies: 2,048,
    which is why the set-up pages attach a managed policy)."""
    size = len(re.sub(r"\s", "", json.dumps(build_policy())))
    assert 2048 < size <= 6144


# ---------------------------------------------------------------------------------------------------------
# Warm pools: their lease table under a narrower table prefix.


def test_lease_table_statement_only_where_the_table_prefix_does_not_cover_it() -> None:
    lease_arn = f"arn:aws:dynamodb:*:*:table/{LEASE_TABLE}"
    default = build_policy()
    assert LEASE_STATEMENT_SID not in {s["Sid"] for s in default["Statement"]}
    assert all(allowed(default, f"dynamodb:{op}", lease_arn) for _service, op in LEASE_OPERATIONS)
    assert LEASE_STATEMENT_SID not in {s["Sid"] for s in build_policy(table_prefix="test_sandboxres_")["Statement"]}
    assert LEASE_STATEMENT_SID not in {s["Sid"] for s in build_policy(["s3", "sqs"])["Statement"]}

    narrow = build_policy(["dynamodb"], table_prefix="test_billing_")
    statement = next(s for s in narrow["Statement"] if s["Sid"] == LEASE_STATEMENT_SID)
    assert statement["Resource"] == [lease_arn]
    assert set(statement["Action"]) == {
        "dynamodb:DescribeTable",
        "dynamodb:CreateTable",
        "dynamodb:TagResource",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ListTagsOfResource",
        "dynamodb:DeleteTable",
    }
    assert not allowed(narrow, "dynamodb:DeleteTable", f"{lease_arn}_other")
    assert not allowed(narrow, "dynamodb:GetItem", f"{lease_arn}_other")
    assert not allowed(narrow, "dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/test_other")


@pytest.fixture
def warm_target(upstream_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The module's moto server, empty, as the target (warm pools outlive a run only on an external emulator)."""
    reset(upstream_url)
    for name, value in {
        "AWS_ENDPOINT_URL": upstream_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield active_target()
    reset(upstream_url)


@pytest.mark.slow  # about ten seconds, not Python-version specific
def test_policy_with_a_narrow_prefix_allows_what_warm_pools_do(
    warm_target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two warm-pool runs (the second leases the table the first left), `pool status` and `pool drain --yes`, each call
    recorded: a policy narrowed to the pooled resources' label allows all of them, the lease table's included."""
    rec = Recorder()
    pool = client_pool(warm_target)
    emitters = [pool._session.events, *(c.meta.events for c in pool._clients.values())]
    create_client = botocore.client.ClientCreator.create_client

    def create_hooked_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        rec.attach(client.meta.events)
        emitters.append(client.meta.events)
        return client

    monkeypatch.setattr(botocore.client.ClientCreator, "create_client", create_hooked_client)
    for events in emitters:
        rec.attach(events)
    try:
        for run in range(2):
            with sandboxres.Pool(warm=True) as warm:
                with warm.table("policywarm") as table:
                    table.table.put_item(Item={"pk": "a"})
                if run == 0:  # left idle, not clean (a later lease would recycle it first): drained below
                    with warm.queue("policywarm", dead_letter=1):
                        pass
        assert warm.counters["table"].leased == 1
        assert warm_status().ok
        assert drain(dry_run=False).ok
    finally:
        for events in emitters:
            rec.detach(events)
    assert {("dynamodb", "Scan"), ("dynamodb", "UpdateItem"), ("dynamodb", "PutItem")} <= rec.operations()
    account = pool.client("sts").get_caller_identity()["Account"]
    region = warm_target.region
    policy = build_policy(
        ["dynamodb", "sqs"],
        table_prefix="test_policywarm_",
        queue_prefix="test_policywarm_",
        account=account,
        region=region,
    )
    checked = {
        (permission.action, arn)
        for service, operation, params in rec.calls
        for permission in permissions_for(service, operation)
        for arn in _arns(service, params, permission.resource, region, account, rec)
    }
    assert ("dynamodb:Scan", f"arn:aws:dynamodb:{region}:{account}:table/{LEASE_TABLE}") in checked
    denied = sorted((action, arn) for action, arn in checked if not allowed(policy, action, arn))
    assert not denied, f"the narrowed policy denies calls warm pools make: {denied[:10]}"
