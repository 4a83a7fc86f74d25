"""The plans of an S3 bucket: create (tagged from birth) and wait until visible, delete (emptying it only when
S3 says it is not empty), read its tags, list the library's buckets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import CleanupError, ForeignResourceError
from sandboxres._engine.plans import (
    DELETE_DEADLINE,
    Progress,
    create_call,
    label_of,
    not_found,
    not_found_policy,
    partition,
    tag_list,
)
from sandboxres._engine.steps import Call, ErrorMeaning, Outcome, Plan, Poll, RetryPolicy
from sandboxres._kinds.base import Facts, Listed, tag_dict
from sandboxres._kinds.bucket.emptying import NOT_SUPPORTED, empty_bucket
from sandboxres._kinds.bucket.spec import BUCKET_NAMES, BUCKET_PREFIX, BucketSpec

log = logging.getLogger("sandboxres")

_CREATE = RetryPolicy(racy={"OperationAborted": None})
_CONFIGURE = RetryPolicy(racy={"NoSuchBucket": None, "OperationAborted": None})
_DELETE = RetryPolicy(DELETE_DEADLINE, {"OperationAborted": DELETE_DEADLINE})
_READ = RetryPolicy(deadline=60.0)
_LIST = RetryPolicy(deadline=120.0)
_EMPTYING_ROUNDS = 10
# What an emulator may answer to CreateBucketConfiguration.Tags it does not know (real S3 accepts them).
_CREATE_TAGS_REJECTED = frozenset({"MalformedXML", "InvalidArgument", "InvalidRequest", "NotImplemented", "501"})
_GONE = frozenset({"NoSuchBucket", "404"})
_NO_TAGS = frozenset({"NoSuchTagSet", "NoSuchTagSetError"})


@dataclass
class BucketFacts(Facts):
    """A bucket: its name, and once created its ARN."""

    arn: str = ""


def _foreign(name: str, why: str) -> Callable[[BaseException], BaseException]:
    def make(exc: BaseException) -> BaseException:
        return ForeignResourceError(label_of("bucket", name), why)

    return make


_TAKEN = "the name belongs to another AWS account (BucketAlreadyExists); a new unique name is drawn on the next attempt"
# After a create that succeeded, 403 on the probe means the name is someone else's, or these credentials may not
# tag buckets: never "ready" either way (the cleanup still deletes the bucket the create call made, by name).
_DENIED = (
    "access denied to the new bucket (HTTP 403): the name belongs to another AWS account, or these credentials may "
    "not tag it (s3:PutBucketTagging, granted by the policy of `sandboxres policy`)"
)


def _probe_errors(name: str) -> dict[str, ErrorMeaning]:
    """What a bucket readiness probe's errors mean: not visible yet, or not ours to use (403 is never ready)."""
    return {
        "404": Outcome.NOT_READY,
        "NoSuchBucket": Outcome.NOT_READY,
        "NotFound": Outcome.NOT_READY,
        "403": _foreign(name, _DENIED),
    }


def create_bucket(
    spec: BucketSpec, facts: BucketFacts, tags: Mapping[str, str], region: str | None, progress: Progress
) -> Plan[BucketFacts]:
    name = facts.name
    resource = label_of("bucket", name)
    configuration: dict[str, Any] = {"Tags": tag_list(tags)}  # tagged from birth on S3: no untagged window
    if region and region != "us-east-1":
        configuration["LocationConstraint"] = region
    params: dict[str, Any] = {"Bucket": name, "CreateBucketConfiguration": configuration}
    for attempt in range(2):  # pragma: no branch - the second attempt always breaks or raises
        try:
            yield from create_call(Call("s3", "create_bucket", params, _CREATE.cut_to(spec.timeout)), name, progress)
            break
        except ClientError as exc:
            code = error_code(exc)
            if code == "BucketAlreadyExists":
                progress.foreign.add(name)  # someone else's: the cleanup must not touch it
                raise _foreign(name, _TAKEN)(exc) from exc
            if code == "BucketAlreadyOwnedByYou":
                break
            if attempt or code not in _CREATE_TAGS_REJECTED:
                raise
            # An emulator that lacks create-time bucket tags: create without them; the tagging below tags it.
            log.info("%s: the endpoint refuses tags in CreateBucket (%s); tagging after the create", resource, code)
            configuration = {key: value for key, value in configuration.items() if key != "Tags"}
            params = {"Bucket": name, **({"CreateBucketConfiguration": configuration} if configuration else {})}
    progress.created.add(name)
    tagging = {"Bucket": name, "Tagging": {"TagSet": tag_list(tags)}}
    try:
        # PutBucketTagging is the readiness probe: it succeeds only once the bucket is visible (NoSuchBucket
        # before), and it tags the bucket where the endpoint ignored the create-time tags (moto). 403: foreign.
        yield Poll(Call("s3", "put_bucket_tagging", tagging), _accept, resource, spec.timeout, _probe_errors(name))
    except ClientError as exc:
        if error_code(exc) not in NOT_SUPPORTED:
            raise
        # Only emulators lack bucket tagging (s3rver); real S3 always has it.
        log.warning("%s: the endpoint does not support bucket tags; `sandboxres sweep` cannot find it", resource)
        head = Call("s3", "head_bucket", {"Bucket": name})
        yield Poll(head, _accept, resource, spec.timeout, _probe_errors(name))
    progress.confirmed.add(name)
    if spec.versioning:
        versioning = {"Bucket": name, "VersioningConfiguration": {"Status": "Enabled"}}
        yield Call("s3", "put_bucket_versioning", versioning, _CONFIGURE.cut_to(spec.timeout))
    facts.arn = f"arn:{partition(region)}:s3:::{name}"
    return facts


def _accept(response: Any) -> None:
    return None


def delete_bucket(facts: BucketFacts, progress: Progress, timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Delete at once; only a non-empty bucket pays for emptying (then delete again)."""
    name = facts.name
    BUCKET_NAMES.check_own(name)
    if name in progress.foreign:
        return
    for _ in range(_EMPTYING_ROUNDS):
        try:
            policy = not_found_policy(_DELETE.cut_to(timeout), name, progress, "NoSuchBucket")
            yield Call("s3", "delete_bucket", {"Bucket": name}, policy)
            return
        except ClientError as exc:
            code = error_code(exc)
            if code in _GONE:
                not_found("bucket", name, progress)
                return
            if code != "BucketNotEmpty":
                raise
        yield from empty_bucket(name, timeout)
    raise CleanupError(
        label_of("bucket", name), [RuntimeError(f"still not empty after {_EMPTYING_ROUNDS} rounds of emptying")]
    )


def read_bucket_tags(facts: BucketFacts) -> Plan[dict[str, str] | None]:
    """The bucket's tags (``{}`` without a tag set); None when it does not exist (anymore)."""
    try:
        response = yield Call("s3", "get_bucket_tagging", {"Bucket": facts.name}, _READ)
    except ClientError as exc:
        if error_code(exc) in _NO_TAGS:
            return {}
        if error_code(exc) in _GONE:
            return None
        raise
    return tag_dict(response.get("TagSet"))


def list_buckets() -> Plan[list[Listed]]:
    """The library's buckets (by prefix), every page, with their region and creation date."""
    found: list[Listed] = []
    params: dict[str, Any] = {"Prefix": BUCKET_PREFIX}
    while True:
        page = yield Call("s3", "list_buckets", params, _LIST)
        for bucket in page.get("Buckets", []):
            if BUCKET_NAMES.owns(bucket["Name"]):
                facts = BucketFacts(bucket["Name"])
                found.append(Listed(facts, bucket.get("BucketRegion"), bucket.get("CreationDate")))
        token = page.get("ContinuationToken")
        if not token:
            return found
        params = {"Prefix": BUCKET_PREFIX, "ContinuationToken": token}
