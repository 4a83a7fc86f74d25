"""S3 bucket plans (sandboxres._kinds.bucket.plans), every branch, through the scripted driver."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from sandboxres._engine.errors import CleanupError, ForeignResourceError, SpecError
from sandboxres._engine.plans import DELETE_DEADLINE, Progress, tag_list
from sandboxres._engine.settings import UNSEEN_GRACE
from sandboxres._kinds.bucket.plans import BucketFacts, create_bucket, delete_bucket, list_buckets, read_bucket_tags
from sandboxres._kinds.bucket.spec import BucketSpec
from tests.support.scripted import ABSENT, Expect, Fail, Script, call, client_error, poll, run

NAME = "test-uploads-0123456789abcdef"
TAGS = {"sandboxres:managed": "true", "sandboxres:run-id": "r1"}
BY_NAME = {"Bucket": NAME}
NO_SUCH_BUCKET = client_error("NoSuchBucket", status=404)
HEAD_404 = client_error("404", "Not Found", status=404)
ABORTED = client_error("OperationAborted", status=409)
NOT_EMPTY = client_error("BucketNotEmpty", status=409)
TAGGING = {**BY_NAME, "Tagging": {"TagSet": tag_list(TAGS)}}


def spec(versioning: bool = False) -> BucketSpec:
    return BucketSpec(label="uploads", timeout=20.0, keep=None, versioning=versioning)


def tagged(*probes: object) -> Expect:
    """The readiness probe: PutBucketTagging (answered at once unless probes are given)."""
    return poll("s3", "put_bucket_tagging", TAGGING, *(probes or ({},)), timeout=20.0)


# ---------------------------------------------------------------------------------------------------------
# create


@pytest.mark.parametrize("region", [None, "us-east-1"])
def test_create_tagged_from_birth_and_probed_by_tagging(region: str | None) -> None:
    progress = Progress()
    script = Script(
        call("s3", "create_bucket", {**BY_NAME, "CreateBucketConfiguration": {"Tags": tag_list(TAGS)}}, deadline=20.0),
        tagged(Fail(NO_SUCH_BUCKET, retry=True), Fail(HEAD_404, retry=True), {}),
    )
    facts = script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, region, progress))
    assert facts.arn == f"arn:aws:s3:::{NAME}"
    assert progress.sent == progress.created == progress.confirmed == {NAME}


def test_create_in_a_region_with_versioning() -> None:
    configuration = {"Tags": tag_list(TAGS), "LocationConstraint": "cn-north-1"}
    script = Script(
        call("s3", "create_bucket", {**BY_NAME, "CreateBucketConfiguration": configuration},
             Fail(ABORTED, retry=True, limit=20.0), {}),
        tagged(Fail(client_error("NotFound", status=404), retry=True), Fail(client_error("SlowDown", status=503),
               retry=True), {}),
        call("s3", "put_bucket_versioning", {**BY_NAME, "VersioningConfiguration": {"Status": "Enabled"}},
             Fail(NO_SUCH_BUCKET, retry=True, limit=20.0), Fail(ABORTED, retry=True), {}, deadline=20.0),
    )  # fmt: skip
    assert script.run(create_bucket(spec(True), BucketFacts(NAME), TAGS, "cn-north-1", Progress())).arn == (
        f"arn:aws-cn:s3:::{NAME}"
    )


def test_create_meeting_someone_elses_bucket_marks_it_foreign() -> None:
    progress = Progress()
    taken = client_error("BucketAlreadyExists", status=409)
    with pytest.raises(ForeignResourceError, match="another AWS account") as caught:
        run(
            create_bucket(spec(), BucketFacts(NAME), TAGS, None, progress),
            call("s3", "create_bucket", BY_NAME, Fail(taken, retry=False)),
        )
    assert caught.value.__cause__ is taken
    assert progress.foreign == {NAME} and not progress.sent and not progress.created
    assert run(delete_bucket(BucketFacts(NAME), progress)) is None, "the cleanup leaves it alone"


def test_create_meeting_its_own_bucket_goes_on() -> None:
    owned = client_error("BucketAlreadyOwnedByYou", status=409)
    progress = Progress()
    script = Script(call("s3", "create_bucket", BY_NAME, Fail(owned, retry=False)), tagged())
    assert script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, "eu-west-1", progress)).arn
    assert progress.created == progress.confirmed == {NAME}


@pytest.mark.parametrize("code", ["MalformedXML", "InvalidArgument", "InvalidRequest", "NotImplemented"])
def test_create_retried_without_tags_where_the_endpoint_refuses_them(
    code: str, caplog: pytest.LogCaptureFixture
) -> None:
    status = 501 if code == "NotImplemented" else 400
    script = Script(
        call("s3", "create_bucket", {**BY_NAME, "CreateBucketConfiguration": {"Tags": tag_list(TAGS)}},
             Fail(client_error(code, status=status), retry=False)),
        call("s3", "create_bucket", {**BY_NAME, "CreateBucketConfiguration": ABSENT}),
        tagged(),  # tags it after all
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="sandboxres"):
        script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, None, Progress()))
    assert "refuses tags in CreateBucket" in caplog.text


def test_create_without_tags_keeps_the_location_constraint() -> None:
    script = Script(
        call("s3", "create_bucket", None, Fail(client_error("MalformedXML"), retry=False)),
        call("s3", "create_bucket", {**BY_NAME, "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
        tagged(),
    )
    script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, "eu-west-1", Progress()))


def test_create_refused_twice_is_raised() -> None:
    progress = Progress()
    script = Script(
        call("s3", "create_bucket", None, Fail(client_error("MalformedXML"), retry=False)),
        call("s3", "create_bucket", None, Fail(client_error("InvalidRequest"), retry=False)),
    )
    with pytest.raises(ClientError, match="InvalidRequest"):
        script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, None, progress))
    assert not progress.started()


@pytest.mark.parametrize(
    ("error", "sent"),
    [
        (Fail(client_error("InvalidBucketName"), retry=False), set()),
        (Fail(client_error("TooManyBuckets"), retry=False), set()),
        (Fail(client_error("InternalError", status=500), retry=True), {NAME}),
    ],
)
def test_create_failures_are_raised(error: Fail, sent: set[str]) -> None:
    progress = Progress()
    with pytest.raises(ClientError) as caught:
        run(create_bucket(spec(), BucketFacts(NAME), TAGS, None, progress), call("s3", "create_bucket", None, error))
    assert caught.value is error.error and progress.sent == sent


def test_create_probe_answered_403_is_a_foreign_bucket() -> None:
    denied = client_error("AccessDenied", status=403)
    script = Script(call("s3", "create_bucket"), tagged(Fail(NO_SUCH_BUCKET, retry=True), Fail(denied, retry=False)))
    with pytest.raises(ForeignResourceError, match=r"another AWS account.*s3:PutBucketTagging") as caught:
        script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, None, Progress()))
    assert caught.value.__cause__ is denied


def test_create_on_an_endpoint_without_bucket_tagging_probes_with_head_bucket(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress()
    script = Script(
        call("s3", "create_bucket"),
        tagged(Fail(client_error("NotImplemented", status=501), retry=False)),
        poll("s3", "head_bucket", BY_NAME, Fail(HEAD_404, retry=True), {}, timeout=20.0),
    )
    with caplog.at_level(logging.WARNING, logger="sandboxres"):
        script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, None, progress))
    assert "does not support bucket tags" in caplog.text
    assert progress.confirmed == {NAME}


def test_create_tagging_failing_otherwise_is_raised() -> None:
    progress = Progress()
    bad = client_error("MalformedXML")
    script = Script(call("s3", "create_bucket"), tagged(Fail(bad, retry=False)))
    with pytest.raises(ClientError) as caught:
        script.run(create_bucket(spec(), BucketFacts(NAME), TAGS, None, progress))
    assert caught.value is bad and progress.unseen(NAME)


# ---------------------------------------------------------------------------------------------------------
# delete


def _listings_of_nothing() -> list[Expect]:
    ops = ("list_object_versions", "list_objects_v2", "list_multipart_uploads")
    return [call("s3", op, BY_NAME, {}, deadline=5.0) for op in ops]


def test_delete_refuses_a_name_without_the_prefix() -> None:
    with pytest.raises(SpecError):
        run(delete_bucket(BucketFacts("uploads"), Progress()))


def test_delete_an_empty_bucket_at_once() -> None:
    aborted = Fail(ABORTED, retry=True, limit=DELETE_DEADLINE)
    assert (
        run(
            delete_bucket(BucketFacts(NAME), Progress(), 5.0),
            call("s3", "delete_bucket", BY_NAME, aborted, {}, deadline=5.0),
        )
        is None
    )


@pytest.mark.parametrize("gone", [NO_SUCH_BUCKET, HEAD_404])
def test_delete_of_a_missing_bucket_is_done(gone: ClientError) -> None:
    assert (
        run(delete_bucket(BucketFacts(NAME), Progress()), call("s3", "delete_bucket", BY_NAME, Fail(gone, retry=False)))
        is None
    )


def test_delete_of_a_bucket_never_seen_retries_not_found_for_the_grace() -> None:
    graced = Fail(NO_SUCH_BUCKET, retry=True, limit=UNSEEN_GRACE)
    unseen = Progress(sent={NAME}, created={NAME})
    assert run(delete_bucket(BucketFacts(NAME), unseen), call("s3", "delete_bucket", BY_NAME, graced)) is None
    with pytest.raises(CleanupError, match="may still appear"):
        run(delete_bucket(BucketFacts(NAME), Progress(sent={NAME})), call("s3", "delete_bucket", BY_NAME, graced))


def test_delete_other_errors_are_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError) as caught:
        run(
            delete_bucket(BucketFacts(NAME), Progress()),
            call("s3", "delete_bucket", BY_NAME, Fail(denied, retry=False)),
        )
    assert caught.value is denied


def test_delete_empties_a_bucket_that_is_not_empty_then_deletes_it() -> None:
    script = Script(
        call("s3", "delete_bucket", BY_NAME, Fail(NOT_EMPTY, retry=False)),
        *_listings_of_nothing(),
        call("s3", "delete_bucket", BY_NAME),
    )
    assert script.run(delete_bucket(BucketFacts(NAME), Progress(), 5.0)) is None


def test_delete_gives_up_after_ten_rounds_of_emptying() -> None:
    rounds = []
    for _ in range(10):
        rounds += [call("s3", "delete_bucket", BY_NAME, Fail(NOT_EMPTY, retry=False)), *_listings_of_nothing()]
    with pytest.raises(CleanupError, match="still not empty after 10 rounds"):
        run(delete_bucket(BucketFacts(NAME), Progress(), 5.0), *rounds)


# ---------------------------------------------------------------------------------------------------------
# tags and listing


def test_read_tags() -> None:
    reply = {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b"}]}
    assert run(
        read_bucket_tags(BucketFacts(NAME)), call("s3", "get_bucket_tagging", BY_NAME, reply, deadline=60.0)
    ) == {"a": "1", "b": ""}
    assert run(read_bucket_tags(BucketFacts(NAME)), call("s3", "get_bucket_tagging", BY_NAME, {})) == {}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("NoSuchTagSet", status=404), {}),
        (client_error("NoSuchTagSetError", status=404), {}),
        (NO_SUCH_BUCKET, None),
        (HEAD_404, None),
    ],
)
def test_read_tags_without_a_tag_set_or_a_bucket(error: ClientError, expected: object) -> None:
    assert (
        run(read_bucket_tags(BucketFacts(NAME)), call("s3", "get_bucket_tagging", BY_NAME, Fail(error, retry=False)))
        == expected
    )


def test_read_tags_other_errors_are_raised() -> None:
    with pytest.raises(ClientError):
        run(
            read_bucket_tags(BucketFacts(NAME)),
            call("s3", "get_bucket_tagging", BY_NAME, Fail(client_error("AccessDenied", status=403), retry=False)),
        )


def test_list_buckets_every_page_ours_only() -> None:
    created = datetime(2024, 5, 1, tzinfo=timezone.utc)
    first = {
        "Buckets": [{"Name": "test-a-1", "BucketRegion": "eu-west-1", "CreationDate": created}, {"Name": "prod"}],
        "ContinuationToken": "t2",
    }
    script = Script(
        call("s3", "list_buckets", {"Prefix": "test-", "ContinuationToken": ABSENT}, first, deadline=120.0),
        call("s3", "list_buckets", {"Prefix": "test-", "ContinuationToken": "t2"}, {"Buckets": [{"Name": "test-b-2"}]}),
    )
    found = script.run(list_buckets())
    assert [(f.facts.name, f.region, f.created) for f in found] == [
        ("test-a-1", "eu-west-1", created),
        ("test-b-2", None, None),
    ]
    assert run(list_buckets(), call("s3", "list_buckets")) == []
