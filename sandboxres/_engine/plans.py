"""Lifecycle plans: the create, readiness and delete steps of each resource kind, written once.

Each plan is a generator of :class:`~sandboxres._engine.steps.Call` / :class:`~sandboxres._engine.steps.Poll` steps; it
receives each step's result, or has the step's exception thrown in. The sync and async drivers run the same
plans. Plans never sleep and never touch a client.

Create plans return a ``facts`` dict (``arn``, ``url``, ``stream_arn``, ``dead_letter``...) from which the
front doors build handles; delete plans take the resource name (plus facts when known) so that a resource whose
create call was sent but never answered can still be deleted by name.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.errors import (
    CleanupError,
    ConfigurationError,
    ForeignResourceError,
    ReadinessTimeoutError,
    SpecError,
)
from sandboxres._engine.naming import Kind, has_prefix
from sandboxres._engine.specs import BucketSpec, QueueSpec, Spec, TableSpec
from sandboxres._engine.steps import (
    Call,
    NotReady,
    Plan,
    Poll,
    RetryPolicy,
    answered_without_effect,
    error_code,
    error_message,
)

log = logging.getLogger("sandboxres")

TAG_MANAGED = "sandboxres:managed"
TAG_RUN_ID = "sandboxres:run-id"
TAG_CREATED = "sandboxres:created-at"
DELETE_DEADLINE = 300.0
_DELETE_BATCH = 1000


def resource_tags(run_id: str, now: datetime | None = None) -> dict[str, str]:
    """The tags every resource gets at creation: marker, run id, creation time (UTC, ISO 8601)."""
    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    return {TAG_MANAGED: "true", TAG_RUN_ID: run_id, TAG_CREATED: moment.isoformat().replace("+00:00", "Z")}


def partition(region: str | None) -> str:
    region = region or ""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def label_of(kind: Kind, name: str) -> str:
    return f"{kind} {name}"


def within(policy: RetryPolicy, timeout: float) -> RetryPolicy:
    """``policy`` with its deadline cut to the resource's timeout (``timeout=`` / ``SANDBOXRES_<KIND>_TIMEOUT``),
    so that no step of a create or delete retries for longer than the resource may take."""
    return replace(policy, deadline=min(policy.deadline, timeout))


# A resource whose create call succeeded but whose readiness was never seen may still be invisible (eventual
# consistency: ResourceNotFoundException, NoSuchBucket, QueueDoesNotExist right after create); so may one whose
# create call was sent and never answered (interrupted by Ctrl-C, SIGTERM, a cancellation or a timeout): it may
# land after the cleanup began. Its deletion treats "not found" as "not visible yet" for this long (seconds,
# SANDBOXRES_UNSEEN_GRACE) before believing it.
UNSEEN_GRACE = 60.0
UNSEEN_GRACE_VARIABLE = "SANDBOXRES_UNSEEN_GRACE"
Progress = MutableMapping[str, set[str]]


def unseen_grace() -> float:
    """How long a delete keeps retrying "not found" for a resource that may still appear (``UNSEEN_GRACE``, or
    ``SANDBOXRES_UNSEEN_GRACE`` seconds: a finite number >= 0)."""
    raw = os.environ.get(UNSEEN_GRACE_VARIABLE, "").strip()
    if not raw:
        return UNSEEN_GRACE
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigurationError(f"{UNSEEN_GRACE_VARIABLE}={raw!r} must be a finite number of seconds >= 0")
    return value


def mark(progress: Progress | None, stage: str, name: str) -> None:
    """Record that ``name`` reached ``stage``: "sent" (its create call left, answered or not), "created" (its
    create call succeeded), "confirmed" (seen ready) or "foreign" (the name turned out to be someone else's:
    never delete it)."""
    if progress is not None:
        progress.setdefault(stage, set()).add(name)


def unmark(progress: Progress | None, stage: str, name: str) -> None:
    if progress is not None:
        progress.get(stage, set()).discard(name)


def create_call(call: Call, name: str, progress: Progress | None) -> Plan[Any]:
    """Send a create call, recording it as "sent" first: until it is answered, the resource may exist.

    An answer that proves nothing was created (a permanent error; a refused connection) takes the mark back.
    An interruption (Ctrl-C, SIGTERM, cancellation: the plan is closed), a lost answer or a timeout leave it:
    the cleanup then treats the resource as possibly landed (see :func:`not_found_policy`).
    """
    mark(progress, "sent", name)
    try:
        response = yield call
    except Exception as exc:
        if answered_without_effect(exc):
            unmark(progress, "sent", name)
        raise
    return response


def in_doubt(name: str, facts: Mapping[str, Any]) -> bool:
    """True when ``name``'s create call was sent and never answered: it may exist, or appear later."""
    return name in facts.get("sent", ()) and name not in facts.get("created", ())


def not_found_policy(policy: RetryPolicy, name: str, facts: Mapping[str, Any], code: str) -> RetryPolicy:
    """``policy``, retrying ``code`` (not found) for the unseen grace when ``name`` may exist unseen: created but
    never seen ready, or its create call never answered."""
    unseen = name in facts.get("created", ()) and name not in facts.get("confirmed", ())
    if not unseen and not in_doubt(name, facts):
        return policy
    grace = unseen_grace()
    return replace(policy, racy=policy.racy | {code}, code_deadlines=(*policy.code_deadlines, (code, grace)))


def not_found(kind: Kind, name: str, facts: Mapping[str, Any]) -> None:
    """A delete met "not found" (past any grace). Fine, unless the create was never answered: then the resource
    may still appear, and it is reported as possibly left behind, never counted as deleted."""
    if in_doubt(name, facts):
        raise CleanupError(
            label_of(kind, name),
            [
                RuntimeError(
                    f"its create call was interrupted before the answer and it was not seen within "
                    f"{unseen_grace():g} s: it may still appear"
                )
            ],
        )


def check_own_name(kind: Kind, name: str) -> None:
    """The deletion layer's first rule: never touch a name without this library's prefix."""
    if not has_prefix(kind, name):
        raise SpecError(f"refusing to delete {kind} {name!r}: it lacks the {kind} prefix of this library")


# ---------------------------------------------------------------------------------------------------------
# DynamoDB tables

_TABLE_CREATE = RetryPolicy()
# Deletes wait out racy states for DELETE_DEADLINE even when the resource's timeout is shorter.
_TABLE_DELETE = RetryPolicy(
    racy=frozenset({"ResourceInUseException"}), deadline=DELETE_DEADLINE, racy_deadline=DELETE_DEADLINE
)
_TABLE_UPDATE = RetryPolicy(racy=frozenset({"ResourceInUseException"}))


def _table_active(response: Mapping[str, Any]) -> dict[str, Any]:
    table = response["Table"]
    status = table.get("TableStatus", "UNKNOWN")
    if status != "ACTIVE":
        raise NotReady(status)
    for index in table.get("GlobalSecondaryIndexes", []):
        if index.get("IndexStatus", "ACTIVE") != "ACTIVE":
            raise NotReady(f"index {index.get('IndexName')} {index.get('IndexStatus')}")
    return dict(table)


def _ttl_enabled(response: Mapping[str, Any]) -> None:
    status = response.get("TimeToLiveDescription", {}).get("TimeToLiveStatus", "UNKNOWN")
    if status != "ENABLED":
        raise NotReady(f"TTL {status}")


def _stream_enabled(response: Mapping[str, Any]) -> None:
    status = response.get("StreamDescription", {}).get("StreamStatus", "UNKNOWN")
    if status != "ENABLED":
        raise NotReady(f"stream {status}")


def _still_there(response: Mapping[str, Any]) -> None:
    raise NotReady(response.get("Table", {}).get("TableStatus", "present"))


def create_table(
    spec: TableSpec, name: str, tags: Mapping[str, str], progress: Progress | None = None
) -> Plan[dict[str, Any]]:
    resource = label_of("table", name)
    created = None
    try:
        request = spec.create_request(name, tags)
        call = Call("dynamodb", "create_table", request, within(_TABLE_CREATE, spec.timeout))
        response = yield from create_call(call, name, progress)
        created = {"Table": response["TableDescription"]}  # its status is the first readiness probe
    except ClientError as exc:
        # Names are unique: "in use" here means an earlier attempt of this very call succeeded.
        if error_code(exc) != "ResourceInUseException":
            raise
    mark(progress, "created", name)
    table = yield Poll(
        Call("dynamodb", "describe_table", {"TableName": name}),
        _table_active,
        resource,
        spec.timeout,
        {"ResourceNotFoundException": "not ready"},
        known=created,
    )
    mark(progress, "confirmed", name)
    if spec.ttl_attribute:
        yield Call(
            "dynamodb",
            "update_time_to_live",
            {"TableName": name, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": spec.ttl_attribute}},
            within(_TABLE_UPDATE, spec.timeout),
        )
        yield Poll(Call("dynamodb", "describe_time_to_live", {"TableName": name}), _ttl_enabled, resource, spec.timeout)
    stream_arn = table.get("LatestStreamArn")
    if spec.stream and stream_arn:
        yield Poll(
            Call("dynamodbstreams", "describe_stream", {"StreamArn": stream_arn}),
            _stream_enabled,
            resource,
            spec.timeout,
            {"ResourceNotFoundException": "not ready"},
        )
    return {"arn": table.get("TableArn", ""), "stream_arn": stream_arn}


def delete_table(name: str, facts: Mapping[str, Any], timeout: float = DELETE_DEADLINE) -> Plan[None]:
    check_own_name("table", name)
    for attempt in range(2):
        try:
            # ResourceInUseException while the table is still CREATING or UPDATING: retried until it settles.
            policy = not_found_policy(within(_TABLE_DELETE, timeout), name, facts, "ResourceNotFoundException")
            yield Call("dynamodb", "delete_table", {"TableName": name}, policy)
            break
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                not_found("table", name, facts)
                return
            if attempt or error_code(exc) != "ValidationException" or "protect" not in error_message(exc).lower():
                raise
        # Deletion protection (DeletionProtectionEnabled in create_args): turn it off, then delete.
        params = {"TableName": name, "DeletionProtectionEnabled": False}
        yield Call("dynamodb", "update_table", params, within(_TABLE_UPDATE, timeout))
    try:
        yield Poll(
            Call("dynamodb", "describe_table", {"TableName": name}),
            _still_there,
            label_of("table", name),
            timeout,
            {"ResourceNotFoundException": "done"},
        )
    except ReadinessTimeoutError as exc:
        if exc.last_status != "DELETING":
            raise
        # DeleteTable was accepted and the table is on its way out: not a leak, only slower than the deadline.
        log.info("table %s is still DELETING after %.1f s; it will disappear on its own", name, exc.waited)


# ---------------------------------------------------------------------------------------------------------
# S3 buckets

_BUCKET_CREATE = RetryPolicy(racy=frozenset({"OperationAborted"}))
_BUCKET_CONFIGURE = RetryPolicy(racy=frozenset({"NoSuchBucket", "OperationAborted"}))
_BUCKET_DELETE = RetryPolicy(
    racy=frozenset({"OperationAborted"}), deadline=DELETE_DEADLINE, racy_deadline=DELETE_DEADLINE
)
_BUCKET_EMPTY = RetryPolicy(
    racy=frozenset({"OperationAborted"}), deadline=DELETE_DEADLINE, racy_deadline=DELETE_DEADLINE
)
_NOT_SUPPORTED = frozenset({"NotImplemented", "MethodNotAllowed", "InvalidRequest", "InvalidArgument", "501"})
# What an emulator may answer to CreateBucketConfiguration.Tags it does not know (real S3 accepts them).
_CREATE_TAGS_REJECTED = frozenset({"MalformedXML", "InvalidArgument", "InvalidRequest", "NotImplemented", "501"})


def _foreign_bucket(name: str) -> Any:
    def make(exc: BaseException) -> BaseException:
        return ForeignResourceError(
            label_of("bucket", name),
            "the name belongs to another AWS account (HTTP 403 / BucketAlreadyExists); "
            "a new unique name is drawn on the next attempt",
        )

    return make


def _bucket_probe(name: str) -> dict[str, Any]:
    """What a bucket readiness probe's errors mean: not visible yet, or someone else's (403 is never ready)."""
    return {"404": "not ready", "NoSuchBucket": "not ready", "NotFound": "not ready", "403": _foreign_bucket(name)}


def create_bucket(
    spec: BucketSpec, name: str, tags: Mapping[str, str], region: str | None, progress: Progress | None = None
) -> Plan[dict[str, Any]]:
    resource = label_of("bucket", name)
    tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
    configuration: dict[str, Any] = {"Tags": tag_set}  # tagged from birth on S3: no untagged window
    if region and region != "us-east-1":
        configuration["LocationConstraint"] = region
    params: dict[str, Any] = {"Bucket": name, "CreateBucketConfiguration": configuration}
    for attempt in range(2):
        try:
            yield from create_call(
                Call("s3", "create_bucket", params, within(_BUCKET_CREATE, spec.timeout)), name, progress
            )
            break
        except ClientError as exc:
            code = error_code(exc)
            if code == "BucketAlreadyExists":
                mark(progress, "foreign", name)  # someone else's: the cleanup must not touch it
                raise _foreign_bucket(name)(exc) from exc
            if code == "BucketAlreadyOwnedByYou":
                break
            if attempt or code not in _CREATE_TAGS_REJECTED:
                raise
            # An emulator that lacks create-time bucket tags: create without them; the tagging below tags it.
            log.info("%s: the endpoint refuses tags in CreateBucket (%s); tagging after the create", resource, code)
            configuration.pop("Tags")
            if not configuration:
                params.pop("CreateBucketConfiguration")
    mark(progress, "created", name)
    tagging = {"Bucket": name, "Tagging": {"TagSet": tag_set}}
    try:
        # PutBucketTagging is the readiness probe: it succeeds only once the bucket is visible (NoSuchBucket
        # before), and it tags the bucket where the endpoint ignored the create-time tags (moto). 403: foreign.
        yield Poll(
            Call("s3", "put_bucket_tagging", tagging),
            lambda response: None,
            resource,
            spec.timeout,
            _bucket_probe(name),
        )
    except ClientError as exc:
        if error_code(exc) not in _NOT_SUPPORTED:
            raise
        # Only emulators lack bucket tagging (s3rver); real S3 always has it.
        log.warning("%s: the endpoint does not support bucket tags; `sandboxres sweep` cannot find it", resource)
        yield Poll(
            Call("s3", "head_bucket", {"Bucket": name}),
            lambda response: None,
            resource,
            spec.timeout,
            _bucket_probe(name),
        )
    mark(progress, "confirmed", name)
    if spec.versioning:
        yield Call(
            "s3",
            "put_bucket_versioning",
            {"Bucket": name, "VersioningConfiguration": {"Status": "Enabled"}},
            within(_BUCKET_CONFIGURE, spec.timeout),
        )
    return {"arn": f"arn:{partition(region)}:s3:::{name}"}


def _delete_keys(name: str, keys: list[dict[str, str]], policy: RetryPolicy) -> Plan[None]:
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        params: dict[str, Any] = {"Bucket": name, "Delete": {"Objects": batch, "Quiet": True}}
        response = yield Call("s3", "delete_objects", params, policy)
        failed = response.get("Errors") or []
        if failed:
            # Governance-mode retention needs the bypass flag; try once more with it, then give up loudly.
            retry = [{k: v for k, v in e.items() if k in ("Key", "VersionId")} for e in failed]
            params = {"Bucket": name, "Delete": {"Objects": retry, "Quiet": True}, "BypassGovernanceRetention": True}
            response = yield Call("s3", "delete_objects", params, policy)
            still = response.get("Errors") or []
            if still:
                details = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in still[:5])
                raise CleanupError(label_of("bucket", name), [RuntimeError(f"objects not deletable: {details}")])


def _listing(
    name: str, operation: str, markers: tuple[tuple[str, str], ...], policy: RetryPolicy
) -> Plan[list[dict[str, Any]]]:
    """All pages of a listing; returns [] where the emulator does not implement the operation."""
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"Bucket": name}
    while True:
        try:
            page = yield Call("s3", operation, params, policy)
        except ClientError as exc:
            if error_code(exc) in _NOT_SUPPORTED:
                return pages
            raise
        pages.append(page)
        if not page.get("IsTruncated"):
            return pages
        params = {"Bucket": name}
        for out_key, in_key in markers:
            if page.get(out_key):
                params[in_key] = page[out_key]


def empty_bucket(name: str, timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Remove every object version, delete marker and open multipart upload, across all pages."""
    policy = within(_BUCKET_EMPTY, timeout)
    version_pages = yield from _listing(
        name,
        "list_object_versions",
        (("NextKeyMarker", "KeyMarker"), ("NextVersionIdMarker", "VersionIdMarker")),
        policy,
    )
    for page in version_pages:
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        yield from _delete_keys(name, keys, policy)
    # Emulators without versioning answer the versions listing with nothing: list the plain objects too.
    object_pages = yield from _listing(
        name, "list_objects_v2", (("NextContinuationToken", "ContinuationToken"),), policy
    )
    for page in object_pages:
        yield from _delete_keys(name, [{"Key": o["Key"]} for o in page.get("Contents", [])], policy)
    upload_pages = yield from _listing(
        name,
        "list_multipart_uploads",
        (("NextKeyMarker", "KeyMarker"), ("NextUploadIdMarker", "UploadIdMarker")),
        policy,
    )
    for page in upload_pages:
        for upload in page.get("Uploads", []):
            try:
                yield Call(
                    "s3",
                    "abort_multipart_upload",
                    {"Bucket": name, "Key": upload["Key"], "UploadId": upload["UploadId"]},
                    policy,
                )
            except ClientError as exc:
                if error_code(exc) != "NoSuchUpload":
                    raise


def delete_bucket(name: str, facts: Mapping[str, Any], timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Delete at once; only a non-empty bucket pays for emptying (then delete again)."""
    check_own_name("bucket", name)
    if name in facts.get("foreign", ()):
        return
    for _ in range(10):
        try:
            policy = not_found_policy(within(_BUCKET_DELETE, timeout), name, facts, "NoSuchBucket")
            yield Call("s3", "delete_bucket", {"Bucket": name}, policy)
            return
        except ClientError as exc:
            code = error_code(exc)
            if code in ("NoSuchBucket", "404"):
                not_found("bucket", name, facts)
                return
            if code != "BucketNotEmpty":
                raise
        yield from empty_bucket(name, timeout)
    raise CleanupError(label_of("bucket", name), [RuntimeError("still not empty after 10 rounds of emptying")])


# ---------------------------------------------------------------------------------------------------------
# SQS queues

_QUEUE_CREATE = RetryPolicy(racy=frozenset({"QueueDeletedRecently"}), deadline=180.0)
_QUEUE_DELETE = RetryPolicy(deadline=DELETE_DEADLINE)


def _queue_arn(response: Mapping[str, Any]) -> str:
    arn = response.get("Attributes", {}).get("QueueArn")
    if not arn:
        raise NotReady("no QueueArn yet")
    return str(arn)


def _create_one_queue(
    name: str, attributes: Mapping[str, str], tags: Mapping[str, str], timeout: float, progress: Progress | None
) -> Plan[dict[str, Any]]:
    params: dict[str, Any] = {"QueueName": name, "tags": dict(tags)}
    if attributes:
        params["Attributes"] = dict(attributes)
    response = yield from create_call(
        Call("sqs", "create_queue", params, within(_QUEUE_CREATE, timeout)), name, progress
    )
    url = response["QueueUrl"]
    mark(progress, "created", name)
    arn = yield Poll(
        Call("sqs", "get_queue_attributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
        _queue_arn,
        label_of("queue", name),
        timeout,
        {"QueueDoesNotExist": "not ready"},
    )
    mark(progress, "confirmed", name)
    return {"name": name, "url": url, "arn": arn}


def create_queue(
    spec: QueueSpec,
    name: str,
    tags: Mapping[str, str],
    dead_letter_name: str | None,
    progress: Progress | None = None,
) -> Plan[dict[str, Any]]:
    dead_letter = None
    if dead_letter_name is not None:
        dead_letter = yield from _create_one_queue(
            dead_letter_name, spec.dead_letter_attributes(), tags, spec.timeout, progress
        )
    facts = yield from _create_one_queue(
        name, spec.queue_attributes(dead_letter["arn"] if dead_letter else None), tags, spec.timeout, progress
    )
    facts["dead_letter"] = dead_letter
    return facts


def _delete_one_queue(name: str, url: str | None, facts: Mapping[str, Any], timeout: float) -> Plan[None]:
    check_own_name("queue", name)
    policy = not_found_policy(within(_QUEUE_DELETE, timeout), name, facts, "QueueDoesNotExist")
    try:
        if url is None:
            response = yield Call("sqs", "get_queue_url", {"QueueName": name}, policy)
            url = response["QueueUrl"]
        yield Call("sqs", "delete_queue", {"QueueUrl": url}, policy)
    except ClientError as exc:
        if error_code(exc) != "QueueDoesNotExist":
            raise
        not_found("queue", name, facts)


def delete_queue(name: str, facts: Mapping[str, Any], timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Delete the queue, then its dead-letter queue (each by URL when known, else by name). A queue that may
    still appear does not keep its dead-letter queue from being deleted; it is reported afterwards."""
    pending: CleanupError | None = None
    try:
        yield from _delete_one_queue(name, facts.get("url"), facts, timeout)
    except CleanupError as exc:
        pending = exc
    dead_letter = facts.get("dead_letter")
    dead_letter_name = facts.get("dead_letter_name")
    if dead_letter:
        yield from _delete_one_queue(dead_letter["name"], dead_letter["url"], facts, timeout)
    elif dead_letter_name:
        yield from _delete_one_queue(dead_letter_name, None, facts, timeout)
    if pending is not None:
        raise pending


# ---------------------------------------------------------------------------------------------------------


def create_plan(
    spec: Spec,
    name: str,
    tags: Mapping[str, str],
    region: str | None,
    extra_names: Mapping[str, str],
    progress: Progress | None = None,
) -> Plan[dict[str, Any]]:
    """The create plan of any spec; it records in ``progress`` which names were created and seen ready."""
    if isinstance(spec, TableSpec):
        return create_table(spec, name, tags, progress)
    if isinstance(spec, BucketSpec):
        return create_bucket(spec, name, tags, region, progress)
    if isinstance(spec, QueueSpec):
        return create_queue(spec, name, tags, extra_names.get("dead_letter_name"), progress)
    raise TypeError(f"unknown spec {type(spec).__name__}")  # pragma: no cover


DELETE_PLANS = {"table": delete_table, "bucket": delete_bucket, "queue": delete_queue}


def delete_plan(kind: Kind, name: str, facts: Mapping[str, Any], timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """The delete plan of a resource of ``kind`` called ``name``; no step retries or waits beyond ``timeout``."""
    return DELETE_PLANS[kind](name, facts, timeout)
