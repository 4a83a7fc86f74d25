"""Recycling an S3 bucket between tests: prove its configuration unchanged since creation, empty it within a
bound, and prove it empty; anything not proven sends the bucket to be discarded (deleted and made anew).

The baseline, read right after the creation, holds what the endpoint answered to every configuration read and to
three one-key listings. Emulators and real S3 differ in defaults (real S3 answers a default SSE-S3 encryption and
BucketOwnerEnforced ownership controls; moto and others may answer "not found" or not implement a read at all),
so a recycled bucket is compared with its own baseline, never with assumed defaults. Bucket configuration
persists until deleted, so a configuration that differs is a trace of the previous holder: the bucket is
discarded. Resetting each configuration (``DeleteBucketPolicy``, ``DeleteBucketCors``, ...) instead is a later
refinement; versioning could not be reset anyway (an enabled bucket only goes back to Suspended).

S3 listings are strongly consistent (since December 2020): the proof is one read of each listing, never a poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.steps import Call, Plan, RetryPolicy
from sandboxres._kinds.base import RecycleLimits, tag_dict
from sandboxres._kinds.bucket.emptying import NOT_SUPPORTED, empty_bucket, listing_pages
from sandboxres._kinds.bucket.plans import BucketFacts
from sandboxres._kinds.bucket.spec import BucketSpec

# Reads retry concurrent configuration calls (409 OperationAborted); the baseline also retries NoSuchBucket,
# which S3 may answer for a while right after CreateBucket.
_READ = RetryPolicy(deadline=60.0, racy={"OperationAborted": None})
_BASELINE = _READ.retrying_also("NoSuchBucket")

# (baseline key, what the discard reason calls it, read operation, codes meaning "none set").
# Versioning, notifications, request payment and acceleration always answer (an empty answer when never set).
CONFIGURATIONS: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    ("versioning", "versioning status", "get_bucket_versioning", frozenset()),
    ("policy", "bucket policy", "get_bucket_policy", frozenset({"NoSuchBucketPolicy"})),
    ("cors", "CORS configuration", "get_bucket_cors", frozenset({"NoSuchCORSConfiguration"})),
    ("lifecycle", "lifecycle configuration", "get_bucket_lifecycle_configuration",
     frozenset({"NoSuchLifecycleConfiguration"})),
    ("notification", "notification configuration", "get_bucket_notification_configuration", frozenset()),
    ("encryption", "default encryption", "get_bucket_encryption",
     frozenset({"ServerSideEncryptionConfigurationNotFoundError"})),
    ("public_access_block", "public access block", "get_public_access_block",
     frozenset({"NoSuchPublicAccessBlockConfiguration"})),
    ("ownership", "ownership controls", "get_bucket_ownership_controls",
     frozenset({"OwnershipControlsNotFoundError"})),
    ("website", "website configuration", "get_bucket_website", frozenset({"NoSuchWebsiteConfiguration"})),
    ("tagging", "tag set", "get_bucket_tagging", frozenset({"NoSuchTagSet", "NoSuchTagSetError"})),
    ("object_lock", "object lock configuration", "get_object_lock_configuration",
     frozenset({"ObjectLockConfigurationNotFoundError"})),
    ("request_payment", "request payment configuration", "get_bucket_request_payment", frozenset()),
    ("accelerate", "transfer acceleration", "get_bucket_accelerate_configuration", frozenset()),
)  # fmt: skip

# (baseline key, listing operation, its page-size parameter, what a page lists, its (answer, request) markers).
LISTINGS: tuple[tuple[str, str, str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("versions", "list_object_versions", "MaxKeys", ("Versions", "DeleteMarkers"),
     (("NextKeyMarker", "KeyMarker"), ("NextVersionIdMarker", "VersionIdMarker"))),
    ("uploads", "list_multipart_uploads", "MaxUploads", ("Uploads",),
     (("NextKeyMarker", "KeyMarker"), ("NextUploadIdMarker", "UploadIdMarker"))),
    ("objects", "list_objects_v2", "MaxKeys", ("Contents",), (("NextContinuationToken", "ContinuationToken"),)),
)  # fmt: skip

UNSUPPORTED = {"state": "unsupported"}
ABSENT = {"state": "absent"}
EMPTY, NOT_EMPTY, LACKED = "empty", "not empty", "unsupported"


def _read(name: str, key: str, operation: str, absent: frozenset[str], policy: RetryPolicy) -> Plan[dict[str, Any]]:
    """One configuration as a comparable value: what was set (without the response metadata; tags as a mapping,
    whatever their order), ``ABSENT`` when none is set, ``UNSUPPORTED`` when the endpoint lacks the read."""
    try:
        response = yield Call("s3", operation, {"Bucket": name}, policy)
    except ClientError as exc:
        code = error_code(exc)
        if code in absent:
            return ABSENT
        if code in NOT_SUPPORTED:
            return UNSUPPORTED
        raise
    value = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if key == "tagging":
        value = {"TagSet": tag_dict(value.get("TagSet"))}
    return {"state": "set", "value": value}


def _first_key(name: str, operation: str, size: str, entries: tuple[str, ...], policy: RetryPolicy) -> Plan[str]:
    """One listing limited to one entry: ``EMPTY``, ``NOT_EMPTY``, or ``LACKED`` (the endpoint lacks it)."""
    try:
        page = yield Call("s3", operation, {"Bucket": name, size: 1}, policy)
    except ClientError as exc:
        if error_code(exc) in NOT_SUPPORTED:
            return LACKED
        raise
    return NOT_EMPTY if any(page.get(entry) for entry in entries) else EMPTY


def read_bucket_baseline(facts: BucketFacts) -> Plan[dict[str, Any]]:
    """What a new bucket looks like on this endpoint: each configuration, and what each listing answers."""
    configuration: dict[str, Any] = {}
    for key, _label, operation, absent in CONFIGURATIONS:
        configuration[key] = yield from _read(facts.name, key, operation, absent, _BASELINE)
    listings: dict[str, str] = {}
    for key, operation, size, entries, _markers in LISTINGS:
        listings[key] = yield from _first_key(facts.name, operation, size, entries, _BASELINE)
    return {"configuration": configuration, "listings": listings}


def _count(name: str, operation: str, entries: tuple[str, ...], markers: tuple[tuple[str, str], ...],
           limit: int, policy: RetryPolicy) -> Plan[int]:  # fmt: skip
    """How many entries the listing shows, page after page, stopping as soon as there are more than ``limit``;
    0 where the endpoint lacks the listing (the emptying skips it too)."""

    def shown(pages: list[dict[str, Any]]) -> int:
        return sum(len(page.get(entry) or []) for page in pages for entry in entries)

    pages = yield from listing_pages(name, operation, markers, policy, enough=lambda pages: shown(pages) > limit)
    return shown(pages)


def _changed(name: str, baseline: Mapping[str, Any], policy: RetryPolicy) -> Plan[str | None]:
    """The first configuration that differs from the baseline's (an operation the endpoint lacks now counts as
    unchanged only if it lacked it in the baseline too), or None."""
    before = baseline.get("configuration") or {}
    for key, label, operation, absent in CONFIGURATIONS:
        now = yield from _read(name, key, operation, absent, policy)
        if now != before.get(key):
            return f"its {label} changed since its creation"
    return None


def recycle_bucket(
    spec: BucketSpec, facts: BucketFacts, baseline: Mapping[str, Any], limits: RecycleLimits
) -> Plan[str | None]:
    """Make a used bucket as new, or say why it must be discarded. In order:

    1. every configuration read again and compared with the baseline (bucket configuration persists until
       deleted): any change discards, before anything is deleted;
    2. the object versions and delete markers (or the plain objects where the endpoint lists no versions), and the
       multipart uploads, counted from the listings: more than ``limits.max_deletions`` discards without deleting;
    3. ``empty_bucket``: every version, marker and upload deleted; objects still refused with the governance
       bypass (compliance retention, legal hold) discard;
    4. the proof: one-entry listings of versions, uploads and objects all empty. A versions or uploads listing
       the endpoint lacks counts as empty only if it lacked it in the baseline too; the objects listing must
       answer (without it, a key the previous holder wrote could be read back unseen).
    """
    name = facts.name
    policy = _READ.cut_to(spec.timeout)
    reason = yield from _changed(name, baseline, policy)
    if reason:
        return reason
    counts: dict[str, int] = {}
    for key, operation, _size, entries, markers in LISTINGS:
        counts[key] = yield from _count(name, operation, entries, markers, limits.max_deletions, policy)
        if counts[key] > limits.max_deletions:
            break
    # On S3 every current object is also a version: the plain objects add to the count only where no version is
    # listed (an emulator without versioning).
    total = max(counts.get("versions", 0), counts.get("objects", 0)) + counts.get("uploads", 0)
    if total > limits.max_deletions:
        return (
            f"more than {limits.max_deletions:,} object versions, delete markers and uploads: creating anew is cheaper"
        )
    if total:
        try:
            yield from empty_bucket(name, spec.timeout)
        except CleanupError as exc:
            return f"objects it holds cannot be deleted (retention or legal hold): {exc.errors[0]}"
    seen = baseline.get("listings") or {}
    for key, operation, size, entries, _markers in LISTINGS:
        state = yield from _first_key(name, operation, size, entries, policy)
        if state == EMPTY or (state == LACKED == seen.get(key) and key != "objects"):
            continue
        return f"its {key} listing answers {state!r} after the emptying (the baseline: {seen.get(key)!r})"
    return None
