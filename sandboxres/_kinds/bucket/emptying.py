"""Emptying an S3 bucket before its deletion: every object version, delete marker and unfinished multipart
upload, across all pages, in batches of 1,000 keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.plans import DELETE_DEADLINE, label_of
from sandboxres._engine.steps import Call, Plan, RetryPolicy

_DELETE_BATCH = 1000
# Each listing's (marker in the answer, parameter of the next request) pairs.
_VERSION_MARKERS = (("NextKeyMarker", "KeyMarker"), ("NextVersionIdMarker", "VersionIdMarker"))
_OBJECT_MARKERS = (("NextContinuationToken", "ContinuationToken"),)
_UPLOAD_MARKERS = (("NextKeyMarker", "KeyMarker"), ("NextUploadIdMarker", "UploadIdMarker"))
_EMPTY = RetryPolicy(DELETE_DEADLINE, {"OperationAborted": DELETE_DEADLINE})
# What emulators answer to an operation they do not implement (real S3 implements them all).
NOT_SUPPORTED = frozenset({"NotImplemented", "MethodNotAllowed", "InvalidRequest", "InvalidArgument", "501"})


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


def listing_pages(
    name: str,
    operation: str,
    markers: tuple[tuple[str, str], ...],
    policy: RetryPolicy,
    enough: Callable[[list[dict[str, Any]]], bool] = lambda pages: False,
) -> Plan[list[dict[str, Any]]]:
    """The pages of a listing, until the last one or until ``enough(pages)``; [] where the emulator does not
    implement the operation. A page that says it is truncated but gives no marker to go on from ends the listing
    (asking again would return the same first page forever); what it missed is found by the next round of
    emptying, or fails a recycling's proof."""
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"Bucket": name}
    while True:
        try:
            page = yield Call("s3", operation, params, policy)
        except ClientError as exc:
            if error_code(exc) in NOT_SUPPORTED:
                return pages
            raise
        pages.append(page)
        following = {request: page[answer] for answer, request in markers if page.get(answer)}
        if enough(pages) or not page.get("IsTruncated") or not following:
            return pages
        params = {"Bucket": name, **following}


def empty_bucket(name: str, timeout: float = DELETE_DEADLINE) -> Plan[None]:
    """Remove every object version, delete marker and open multipart upload, across all pages."""
    policy = _EMPTY.cut_to(timeout)
    version_pages = yield from listing_pages(name, "list_object_versions", _VERSION_MARKERS, policy)
    for page in version_pages:
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        yield from _delete_keys(name, keys, policy)
    # Emulators without versioning answer the versions listing with nothing: list the plain objects too.
    object_pages = yield from listing_pages(name, "list_objects_v2", _OBJECT_MARKERS, policy)
    for page in object_pages:
        yield from _delete_keys(name, [{"Key": o["Key"]} for o in page.get("Contents", [])], policy)
    upload_pages = yield from listing_pages(name, "list_multipart_uploads", _UPLOAD_MARKERS, policy)
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
