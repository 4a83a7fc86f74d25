"""Emptying a bucket (sandboxres._kinds.bucket.emptying), every branch, through the scripted driver."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from botocore.exceptions import ClientError

from sandboxres._engine.errors import CleanupError
from sandboxres._engine.plans import DELETE_DEADLINE
from sandboxres._engine.steps import Call
from sandboxres._kinds.bucket.emptying import empty_bucket
from tests.support.scripted import ABSENT, Expect, Fail, Script, call, client_error, run

NAME = "test-uploads-0123456789abcdef"
BY_NAME = {"Bucket": NAME}
ABORTED = client_error("OperationAborted", status=409)


def delete(objects: list[dict[str, str]], *outcomes: object, bypass: bool = False) -> Expect:
    params: dict[str, object] = {**BY_NAME, "Delete": {"Objects": objects, "Quiet": True}}
    params["BypassGovernanceRetention"] = True if bypass else ABSENT
    return call("s3", "delete_objects", params, *outcomes)


def listing(operation: str, *pages: Mapping[str, object], **markers: Mapping[str, object]) -> list[Expect]:
    """The calls of one listing: the first without markers, each further one with ``markers[n]``."""
    expected = []
    for n, page in enumerate(pages):
        params = {**BY_NAME, **(markers.get(f"p{n}") or {})}
        expected.append(call("s3", operation, params, page))
    return expected


def nothing(operation: str) -> list[Expect]:
    return listing(operation, {})


def test_empty_bucket_removes_versions_markers_objects_and_uploads() -> None:
    versions = {
        "Versions": [{"Key": "a", "VersionId": "1"}, {"Key": "a", "VersionId": "2"}],
        "DeleteMarkers": [{"Key": "b", "VersionId": "3"}],
    }
    uploads = {"Uploads": [{"Key": "big", "UploadId": "u1"}, {"Key": "gone", "UploadId": "u2"}]}
    no_upload = client_error("NoSuchUpload", status=404)
    script = Script(
        *listing("list_object_versions", versions),
        delete([{"Key": "a", "VersionId": "1"}, {"Key": "a", "VersionId": "2"}, {"Key": "b", "VersionId": "3"}]),
        *listing("list_objects_v2", {"Contents": [{"Key": "c"}]}),
        delete([{"Key": "c"}], Fail(ABORTED, retry=True, limit=DELETE_DEADLINE), {"Deleted": [{"Key": "c"}]}),
        *listing("list_multipart_uploads", uploads),
        call("s3", "abort_multipart_upload", {**BY_NAME, "Key": "big", "UploadId": "u1"}),
        call("s3", "abort_multipart_upload", {**BY_NAME, "Key": "gone", "UploadId": "u2"},
             Fail(no_upload, retry=False)),
    )  # fmt: skip
    assert script.run(empty_bucket(NAME)) is None
    calls = [step for step in script.steps if isinstance(step, Call)]
    assert calls == script.steps and {step.policy.deadline for step in calls} == {DELETE_DEADLINE}


def test_empty_bucket_follows_every_listings_markers() -> None:
    script = Script(
        *listing(
            "list_object_versions",
            {"IsTruncated": True, "NextKeyMarker": "k1", "NextVersionIdMarker": "v1", "Versions": []},
            {"IsTruncated": True, "NextKeyMarker": "k2"},  # no version marker on this page
            {"IsTruncated": False},
            p1={"KeyMarker": "k1", "VersionIdMarker": "v1"},
            p2={"KeyMarker": "k2", "VersionIdMarker": ABSENT},
        ),
        *listing(
            "list_objects_v2",
            {"IsTruncated": True, "NextContinuationToken": "c1"},
            {},
            p1={"ContinuationToken": "c1"},
        ),
        *listing(
            "list_multipart_uploads",
            {"IsTruncated": True, "NextKeyMarker": "k", "NextUploadIdMarker": "u"},
            {},
            p1={"KeyMarker": "k", "UploadIdMarker": "u"},
        ),
    )
    assert script.run(empty_bucket(NAME)) is None


def test_empty_bucket_deletes_in_batches_of_a_thousand() -> None:
    keys = [{"Key": f"k{n:04}"} for n in range(1001)]
    script = Script(
        *nothing("list_object_versions"),
        *listing("list_objects_v2", {"Contents": keys}),
        delete(keys[:1000]),
        delete(keys[1000:]),
        *nothing("list_multipart_uploads"),
    )
    assert script.run(empty_bucket(NAME, timeout=7.0)) is None
    calls = [step for step in script.steps if isinstance(step, Call)]
    assert calls == script.steps and {step.policy.deadline for step in calls} == {7.0}


def test_retained_objects_are_deleted_again_with_the_governance_bypass() -> None:
    locked = {"Key": "a", "VersionId": "1", "Code": "AccessDenied", "Message": "retention"}
    script = Script(
        *listing(
            "list_object_versions", {"Versions": [{"Key": "a", "VersionId": "1"}, {"Key": "b", "VersionId": "2"}]}
        ),
        delete([{"Key": "a", "VersionId": "1"}, {"Key": "b", "VersionId": "2"}], {"Errors": [locked]}),
        delete([{"Key": "a", "VersionId": "1"}], {"Errors": []}, bypass=True),
        *nothing("list_objects_v2"),
        *nothing("list_multipart_uploads"),
    )
    assert script.run(empty_bucket(NAME)) is None


def test_objects_still_not_deletable_with_the_bypass_give_up_with_a_cleanup_error() -> None:
    failed = [{"Key": f"k{n}", "Code": "AccessDenied"} for n in range(7)]
    keys = [{"Key": f"k{n}"} for n in range(7)]
    script = Script(
        *nothing("list_object_versions"),
        *listing("list_objects_v2", {"Contents": keys}),
        delete(keys, {"Errors": failed}),
        delete(keys, {"Errors": failed}, bypass=True),
    )
    with pytest.raises(CleanupError, match="objects not deletable: k0: AccessDenied") as caught:
        script.run(empty_bucket(NAME))
    assert "k4: AccessDenied" in str(caught.value) and "k5" not in str(caught.value), "the first five only"


def test_listings_an_emulator_lacks_count_as_empty() -> None:
    script = Script(
        call("s3", "list_object_versions", BY_NAME, Fail(client_error("NotImplemented", status=501), retry=False)),
        *listing("list_objects_v2", {"IsTruncated": True, "NextContinuationToken": "c1", "Contents": [{"Key": "x"}]}),
        call("s3", "list_objects_v2", {**BY_NAME, "ContinuationToken": "c1"},
             Fail(client_error("InvalidArgument"), retry=False)),
        delete([{"Key": "x"}]),  # the pages listed before the refusal are still emptied
        call("s3", "list_multipart_uploads", BY_NAME, Fail(client_error("MethodNotAllowed", status=405), retry=False)),
    )  # fmt: skip
    assert script.run(empty_bucket(NAME)) is None


def test_listing_errors_are_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError) as caught:
        run(empty_bucket(NAME), call("s3", "list_object_versions", BY_NAME, Fail(denied, retry=False)))
    assert caught.value is denied
    transient = client_error("InternalError", status=500)
    with pytest.raises(ClientError):
        run(empty_bucket(NAME), call("s3", "list_object_versions", BY_NAME, Fail(transient, retry=True)))


def test_abort_errors_other_than_no_such_upload_are_raised() -> None:
    script = Script(
        *nothing("list_object_versions"),
        *nothing("list_objects_v2"),
        *listing("list_multipart_uploads", {"Uploads": [{"Key": "big", "UploadId": "u1"}]}),
        call("s3", "abort_multipart_upload", None, Fail(client_error("AccessDenied", status=403), retry=False)),
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        script.run(empty_bucket(NAME))


def test_a_truncated_page_without_a_marker_ends_the_listing() -> None:
    """An emulator saying "truncated" with no marker would otherwise have the first page asked for forever."""
    page = {"IsTruncated": True, "Contents": [{"Key": "a"}]}
    script = Script(
        *nothing("list_object_versions"),
        call("s3", "list_objects_v2", BY_NAME, page),
        delete([{"Key": "a"}]),
        *nothing("list_multipart_uploads"),
    )
    assert script.run(empty_bucket(NAME)) is None
