"""Recycling a bucket (sandboxres._kinds.bucket.recycling), every branch, through the scripted driver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandboxres._engine.steps import Call
from sandboxres._kinds import KINDS
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.bucket.plans import BucketFacts
from sandboxres._kinds.bucket.recycling import (
    CONFIGURATIONS,
    read_bucket_baseline,
    recycle_bucket,
)
from sandboxres._kinds.bucket.spec import BucketSpec
from tests.support.scripted import ABSENT, Expect, Fail, Script, call, client_error, run

NAME = "test-uploads-0123456789abcdef"
BY_NAME = {"Bucket": NAME}
FACTS = BucketFacts(NAME, f"arn:aws:s3:::{NAME}")
SPEC = BucketSpec(label="uploads", timeout=20.0, keep=None)
LIMITS = RecycleLimits(max_deletions=1000)
META = {"ResponseMetadata": {"RequestId": "r1", "HTTPStatusCode": 200}}
TAGS = [{"Key": "sandboxres:managed", "Value": "true"}, {"Key": "sandboxres:run-id", "Value": "r1"}]
ENCRYPTION = {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault":
              {"SSEAlgorithm": "AES256"}}]}}  # fmt: skip


def missing(code: str, status: int = 404) -> Fail:
    return Fail(client_error(code, status=status), retry=False)


LACKS = Fail(client_error("NotImplemented", status=501), retry=False)
# What a new bucket answers on a typical endpoint: real S3's defaults for some, "none set" or "not implemented".
NEW: dict[str, Any] = {
    "versioning": {**META},
    "policy": missing("NoSuchBucketPolicy"),
    "cors": missing("NoSuchCORSConfiguration"),
    "lifecycle": missing("NoSuchLifecycleConfiguration"),
    "notification": {**META},
    "encryption": {**ENCRYPTION, **META},
    "public_access_block": {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}, **META},
    "ownership": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
    "website": missing("NoSuchWebsiteConfiguration"),
    "tagging": {"TagSet": TAGS, **META},
    "object_lock": missing("ObjectLockConfigurationNotFoundError"),
    "request_payment": {"Payer": "BucketOwner", **META},
    "accelerate": LACKS,
}
SET = "set"
BASELINE: dict[str, Any] = {
    "configuration": {
        "versioning": {"state": SET, "value": {}},
        "policy": {"state": "absent"},
        "cors": {"state": "absent"},
        "lifecycle": {"state": "absent"},
        "notification": {"state": SET, "value": {}},
        "encryption": {"state": SET, "value": ENCRYPTION},
        "public_access_block": {"state": SET, "value": {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}},
        "ownership": {"state": SET, "value": {"OwnershipControls": {"Rules": [{"ObjectOwnership":
                                                                              "BucketOwnerEnforced"}]}}},
        "website": {"state": "absent"},
        "tagging": {"state": SET, "value": {"TagSet": {"sandboxres:managed": "true", "sandboxres:run-id": "r1"}}},
        "object_lock": {"state": "absent"},
        "request_payment": {"state": SET, "value": {"Payer": "BucketOwner"}},
        "accelerate": {"state": "unsupported"},
    },
    "listings": {"versions": "empty", "uploads": "empty", "objects": "empty"},
}  # fmt: skip


def reads(deadline: float = 20.0, **answers: Any) -> list[Expect]:
    """The configuration reads, answered as a new bucket answers them unless ``answers`` say otherwise (a tuple:
    several outcomes of one call)."""
    outcomes = {key: value if isinstance(value, tuple) else (value,) for key, value in {**NEW, **answers}.items()}
    return [call("s3", op, BY_NAME, *outcomes[key], deadline=deadline) for key, _label, op, _absent in CONFIGURATIONS]


def proof(versions: Any = None, uploads: Any = None, objects: Any = None, deadline: float = 20.0) -> list[Expect]:
    """The one-entry listings proving the bucket empty (each answers nothing unless given)."""
    return [
        call("s3", "list_object_versions", {**BY_NAME, "MaxKeys": 1}, versions or {}, deadline=deadline),
        call("s3", "list_multipart_uploads", {**BY_NAME, "MaxUploads": 1}, uploads or {}, deadline=deadline),
        call("s3", "list_objects_v2", {**BY_NAME, "MaxKeys": 1}, objects or {}, deadline=deadline),
    ]


def counted(versions: Any = None, uploads: Any = None, objects: Any = None) -> list[Expect]:
    """One page of each listing, as the count reads them (unbounded size, no markers)."""
    return [
        call("s3", "list_object_versions", {**BY_NAME, "MaxKeys": ABSENT}, versions or {}, deadline=20.0),
        call("s3", "list_multipart_uploads", {**BY_NAME, "MaxUploads": ABSENT}, uploads or {}, deadline=20.0),
        call("s3", "list_objects_v2", {**BY_NAME, "MaxKeys": ABSENT}, objects or {}, deadline=20.0),
    ]


def recycle(baseline: Mapping[str, Any] = BASELINE, limits: RecycleLimits = LIMITS) -> Any:
    return recycle_bucket(SPEC, FACTS, baseline, limits)


# ---------------------------------------------------------------------------------------------------------
# baseline


def test_the_baseline_keeps_what_a_new_bucket_answers_without_response_metadata() -> None:
    aborted = client_error("OperationAborted", status=409)
    gone = client_error("NoSuchBucket", status=404)
    script = Script(
        *reads(
            60.0,
            versioning=(Fail(gone, retry=True), NEW["versioning"]),
            policy=(Fail(aborted, retry=True), NEW["policy"]),
        ),
        *proof(deadline=60.0, uploads=LACKS),
    )
    baseline = script.run(read_bucket_baseline(FACTS))
    assert baseline == {**BASELINE, "listings": {"versions": "empty", "uploads": "unsupported", "objects": "empty"}}


def test_the_bucket_kind_reads_baselines_and_recycles_with_these_plans() -> None:
    assert KINDS["bucket"].baseline is read_bucket_baseline and KINDS["bucket"].recycle is recycle_bucket


def test_a_baseline_read_refused_otherwise_is_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError) as caught:
        run(read_bucket_baseline(FACTS), call("s3", "get_bucket_versioning", BY_NAME, Fail(denied, retry=False)))
    assert caught.value is denied


def test_a_baseline_listing_refused_otherwise_is_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError):
        run(read_bucket_baseline(FACTS), *reads(60.0),
            call("s3", "list_object_versions", None, Fail(denied, retry=False)))  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# configuration


def test_an_untouched_bucket_is_clean_without_deleting_anything() -> None:
    script = Script(*reads(), *counted(), *proof())
    assert script.run(recycle()) is None
    assert not [s for s in script.steps if isinstance(s, Call) and s.operation.startswith(("delete", "abort"))]


def test_tags_answered_in_another_order_are_unchanged() -> None:
    assert run(recycle(), *reads(tagging={"TagSet": TAGS[::-1]}), *counted(), *proof()) is None


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({"cors": {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}}, "CORS configuration"),
        ({"versioning": {"Status": "Suspended"}}, "versioning status"),
        ({"policy": {"Policy": "{}"}}, "bucket policy"),
        ({"encryption": missing("ServerSideEncryptionConfigurationNotFoundError")}, "default encryption"),
        ({"tagging": {"TagSet": [*TAGS, {"Key": "owner", "Value": "a-test"}]}}, "tag set"),
        ({"tagging": missing("NoSuchTagSet")}, "tag set"),
        ({"accelerate": {"Status": "Enabled"}}, "transfer acceleration"),
        ({"request_payment": LACKS}, "request payment configuration"),
    ],
    ids=["cors-set", "versioning-suspended", "policy-set", "encryption-removed", "tag-added", "tags-removed",
         "acceleration-answered-where-lacked", "request-payment-lacked-where-answered"],
)  # fmt: skip
def test_a_configuration_changed_since_creation_discards_before_anything_is_deleted(
    answers: dict[str, Any], reason: str
) -> None:
    expected = reads(**answers)
    changed = next(n for n, (key, *_rest) in enumerate(CONFIGURATIONS) if key in answers)
    assert run(recycle(), *expected[: changed + 1]) == f"its {reason} changed since its creation"


def test_a_baseline_without_a_configuration_discards() -> None:
    assert run(recycle({}), *reads()[:1]) == "its versioning status changed since its creation"


def test_a_configuration_read_refused_otherwise_is_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError):
        run(recycle(), *reads(policy=Fail(denied, retry=False))[:2])


# ---------------------------------------------------------------------------------------------------------
# contents


def versions(n: int, start: int = 0, **page: Any) -> dict[str, Any]:
    return {"Versions": [{"Key": f"k{i}", "VersionId": f"v{i}"} for i in range(start, start + n)], **page}


def test_a_used_bucket_is_counted_page_by_page_emptied_and_proven_empty() -> None:
    first = versions(2, IsTruncated=True, NextKeyMarker="k1", NextVersionIdMarker="v1")
    second = {"DeleteMarkers": [{"Key": "k0", "VersionId": "m0"}]}
    uploads = {"Uploads": [{"Key": "big", "UploadId": "u1"}]}
    objects = {"Contents": [{"Key": "k1"}]}
    script = Script(
        *reads(),
        call("s3", "list_object_versions", BY_NAME, first),
        call("s3", "list_object_versions", {**BY_NAME, "KeyMarker": "k1", "VersionIdMarker": "v1"}, second),
        call("s3", "list_multipart_uploads", BY_NAME, uploads),
        call("s3", "list_objects_v2", BY_NAME, objects),
        # the emptying (empty_bucket, cut to the spec's timeout)
        call("s3", "list_object_versions", BY_NAME, {**versions(2), **second}, deadline=20.0),
        call("s3", "delete_objects", {**BY_NAME, "Delete": {"Objects": [
            {"Key": "k0", "VersionId": "v0"}, {"Key": "k1", "VersionId": "v1"}, {"Key": "k0", "VersionId": "m0"}],
            "Quiet": True}}, deadline=20.0),
        call("s3", "list_objects_v2", BY_NAME, {}),
        call("s3", "list_multipart_uploads", BY_NAME, uploads),
        call("s3", "abort_multipart_upload", {**BY_NAME, "Key": "big", "UploadId": "u1"}),
        *proof(),
    )  # fmt: skip
    assert script.run(recycle()) is None


def test_more_versions_than_the_limit_discards_without_deleting_or_listing_further() -> None:
    first = versions(600, IsTruncated=True, NextKeyMarker="k599", NextVersionIdMarker="v599")
    script = Script(
        *reads(),
        call("s3", "list_object_versions", BY_NAME, first),
        call("s3", "list_object_versions", None, versions(600, 600, IsTruncated=True, NextKeyMarker="k1199")),
    )
    reason = script.run(recycle())
    assert reason == "more than 1,000 object versions, delete markers and uploads: creating anew is cheaper"


def test_versions_and_uploads_over_the_limit_together_discard() -> None:
    uploads = {"Uploads": [{"Key": f"u{i}", "UploadId": f"u{i}"} for i in range(2)]}
    script = Script(*reads(), *counted(versions=versions(3), uploads=uploads, objects={"Contents": [{"Key": "k0"}]}))
    assert "creating anew is cheaper" in script.run(recycle(limits=RecycleLimits(max_deletions=4)))


def test_plain_objects_count_where_the_endpoint_lists_no_versions() -> None:
    objects = {"Contents": [{"Key": f"k{i}"} for i in range(3)]}
    script = Script(*reads(), *counted(versions=LACKS, uploads=LACKS, objects=objects))
    assert "creating anew is cheaper" in script.run(recycle(limits=RecycleLimits(max_deletions=2)))


def test_a_truncated_page_without_a_marker_ends_the_count_and_what_it_hid_fails_the_proof() -> None:
    hidden = {"IsTruncated": True, "Contents": [{"Key": "a"}]}
    script = Script(
        *reads(),
        *counted(objects=hidden),
        call("s3", "list_object_versions", BY_NAME, {}),
        call("s3", "list_objects_v2", BY_NAME, hidden),
        call("s3", "delete_objects", {**BY_NAME, "Delete": {"Objects": [{"Key": "a"}], "Quiet": True}}),
        call("s3", "list_multipart_uploads", BY_NAME, {}),
        *proof(objects={"Contents": [{"Key": "b"}]}),
    )
    assert script.run(recycle()) == "its objects listing answers 'not empty' after the emptying (the baseline: 'empty')"


def test_a_count_listing_refused_otherwise_is_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError):
        run(recycle(), *reads(), call("s3", "list_object_versions", BY_NAME, Fail(denied, retry=False)))


def test_objects_under_legal_hold_or_compliance_retention_discard() -> None:
    held = [{"Key": "k0", "VersionId": "v0", "Code": "AccessDenied"}]
    script = Script(
        *reads(),
        *counted(versions=versions(1)),
        call("s3", "list_object_versions", BY_NAME, versions(1)),
        call("s3", "delete_objects", {**BY_NAME, "BypassGovernanceRetention": ABSENT}, {"Errors": held}),
        call("s3", "delete_objects", {**BY_NAME, "BypassGovernanceRetention": True}, {"Errors": held}),
    )
    reason = script.run(recycle())
    assert (
        reason
        == "objects it holds cannot be deleted (retention or legal hold): objects not deletable: k0: AccessDenied"
    )


# ---------------------------------------------------------------------------------------------------------
# proof


def test_an_upload_still_listed_after_the_emptying_discards() -> None:
    script = Script(*reads(), *counted(), *proof(uploads={"Uploads": [{"Key": "late", "UploadId": "u9"}]})[:2])
    assert script.run(recycle()) == (
        "its uploads listing answers 'not empty' after the emptying (the baseline: 'empty')"
    )


def test_listings_the_endpoint_lacked_in_the_baseline_too_count_as_empty() -> None:
    baseline = {**BASELINE, "listings": {"versions": "unsupported", "uploads": "unsupported", "objects": "empty"}}
    script = Script(*reads(), *counted(versions=LACKS, uploads=LACKS), *proof(versions=LACKS, uploads=LACKS))
    assert script.run(recycle(baseline)) is None


def test_a_listing_lacked_now_but_answered_in_the_baseline_discards() -> None:
    script = Script(*reads(), *counted(), *proof(versions=LACKS)[:1])
    assert script.run(recycle()) == (
        "its versions listing answers 'unsupported' after the emptying (the baseline: 'empty')"
    )


def test_an_endpoint_without_an_objects_listing_never_proves_a_bucket_clean() -> None:
    baseline = {**BASELINE, "listings": {"versions": "empty", "uploads": "empty", "objects": "unsupported"}}
    script = Script(*reads(), *counted(objects=LACKS), *proof(objects=LACKS))
    assert script.run(recycle(baseline)) == (
        "its objects listing answers 'unsupported' after the emptying (the baseline: 'unsupported')"
    )
