"""The ownership check before deleting what the sweeper found (sandboxres._safety.ownership), every branch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sandboxres._engine.errors import ForeignResourceError, SpecError
from sandboxres._engine.plans import DELETE_DEADLINE, TAG_CREATED, TAG_MANAGED, TAG_RUN_ID
from sandboxres._kinds import KINDS
from sandboxres._kinds.bucket import BucketFacts
from sandboxres._kinds.queue import QueueFacts
from sandboxres._kinds.table import TableFacts
from sandboxres._safety.ownership import delete_owned, delete_untagged_bucket, ownership, parse_created_at
from tests.support.scripted import Fail, Script, call, client_error, poll, run

OURS = {TAG_MANAGED: "true", TAG_RUN_ID: "run-1", TAG_CREATED: "2024-05-01T12:00:00Z"}
QUEUE = "test_jobs_0123456789abcdef"
QUEUE_URL = f"http://sqs.local/1/{QUEUE}"
TABLE = "test_users_0123456789abcdef"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:1:table/{TABLE}"
BUCKET = "test-uploads-0123456789abcdef"


def test_parse_created_at() -> None:
    utc = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_created_at("2024-05-01T12:00:00Z") == utc
    assert parse_created_at(" 2024-05-01T12:00:00 ") == utc, "no zone: UTC"
    assert parse_created_at("2024-05-01T14:00:00+02:00") == utc
    zoned = parse_created_at("2024-05-01T14:00:00+02:00")
    assert zoned is not None and zoned.utcoffset() == timedelta(hours=2)
    assert parse_created_at("yesterday") is None
    assert parse_created_at("") is None


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({}, f"lacks the tag {TAG_MANAGED}=true"),
        ({**OURS, TAG_MANAGED: "yes"}, f"lacks the tag {TAG_MANAGED}=true"),
        ({TAG_MANAGED: "true", TAG_CREATED: OURS[TAG_CREATED]}, f"lacks the tag {TAG_RUN_ID}"),
        ({**OURS, TAG_RUN_ID: "  "}, f"lacks the tag {TAG_RUN_ID}"),
        ({**OURS, TAG_CREATED: "soon"}, f"lacks a valid {TAG_CREATED} tag"),
        ({TAG_MANAGED: "true", TAG_RUN_ID: "r"}, f"lacks a valid {TAG_CREATED} tag"),
    ],
)
def test_ownership_problems(tags: dict[str, str], problem: str) -> None:
    verdict = ownership(tags)
    assert not verdict.ours and verdict.problem == f"it {problem}"
    assert verdict.run_id is None and verdict.created_at is None


def test_ownership_of_ours() -> None:
    verdict = ownership({**OURS, TAG_RUN_ID: " run-1 ", "other": "x"})
    assert verdict.ours and verdict.run_id == "run-1"
    assert verdict.created_at == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------------------
# delete_owned


def test_delete_owned_refuses_a_name_without_the_prefix_before_any_call() -> None:
    with pytest.raises(SpecError):
        run(delete_owned(KINDS["queue"], QueueFacts("prod_jobs")))


def test_delete_owned_of_a_resource_already_gone() -> None:
    missing = client_error("AWS.SimpleQueueService.NonExistentQueue")
    script = Script(call("sqs", "get_queue_url", {"QueueName": QUEUE}, Fail(missing, retry=False)))
    assert script.run(delete_owned(KINDS["queue"], QueueFacts(QUEUE))) is False


@pytest.mark.parametrize("tags", [{}, {TAG_MANAGED: "true"}, {"team": "payments"}])
def test_delete_owned_refuses_a_resource_without_our_tags_before_any_deleting_call(tags: dict[str, str]) -> None:
    script = Script(
        call("sqs", "get_queue_url", {"QueueName": QUEUE}, {"QueueUrl": QUEUE_URL}),
        call("sqs", "list_queue_tags", {"QueueUrl": QUEUE_URL}, {"Tags": tags}),
    )
    with pytest.raises(ForeignResourceError, match=f"queue {QUEUE}: not deleted: it lacks"):
        script.run(delete_owned(KINDS["queue"], QueueFacts(QUEUE)))


def test_delete_owned_deletes_a_queue_with_our_tags() -> None:
    script = Script(
        call("sqs", "get_queue_url", {"QueueName": QUEUE}, {"QueueUrl": QUEUE_URL}),
        call("sqs", "list_queue_tags", {"QueueUrl": QUEUE_URL}, {"Tags": OURS}),
        call("sqs", "get_queue_url", {"QueueName": QUEUE}, {"QueueUrl": QUEUE_URL}, deadline=DELETE_DEADLINE),
        call("sqs", "delete_queue", {"QueueUrl": QUEUE_URL}),
    )
    assert script.run(delete_owned(KINDS["queue"], QueueFacts(QUEUE))) is True


def test_delete_owned_deletes_a_table_with_our_tags() -> None:
    not_found = client_error("ResourceNotFoundException")
    script = Script(
        call("dynamodb", "describe_table", {"TableName": TABLE}, {"Table": {"TableArn": TABLE_ARN}}),
        call("dynamodb", "list_tags_of_resource", {"ResourceArn": TABLE_ARN},
             {"Tags": [{"Key": k, "Value": v} for k, v in OURS.items()]}),
        call("dynamodb", "delete_table", {"TableName": TABLE}, deadline=DELETE_DEADLINE),
        poll("dynamodb", "describe_table", {"TableName": TABLE}, Fail(not_found, retry=False)),
    )  # fmt: skip
    assert script.run(delete_owned(KINDS["table"], TableFacts(TABLE))) is True


# ---------------------------------------------------------------------------------------------------------
# delete_untagged_bucket


def test_untagged_bucket_deletion_refuses_names_not_of_our_making() -> None:
    with pytest.raises(SpecError):
        run(delete_untagged_bucket(BucketFacts("prod-uploads")))
    with pytest.raises(ForeignResourceError, match="not this library's exact name format"):
        run(delete_untagged_bucket(BucketFacts("test-uploads-mine")))


def test_untagged_bucket_already_gone() -> None:
    gone = client_error("NoSuchBucket", status=404)
    script = Script(call("s3", "get_bucket_tagging", {"Bucket": BUCKET}, Fail(gone, retry=False)))
    assert script.run(delete_untagged_bucket(BucketFacts(BUCKET))) is False


def test_untagged_bucket_carrying_tags_not_ours_is_refused_before_any_deleting_call() -> None:
    script = Script(call("s3", "get_bucket_tagging", {"Bucket": BUCKET}, {"TagSet": [{"Key": "team", "Value": "x"}]}))
    with pytest.raises(ForeignResourceError, match="carries tags that are not ours"):
        script.run(delete_untagged_bucket(BucketFacts(BUCKET)))


@pytest.mark.parametrize(
    "reply",
    [
        Fail(client_error("NoSuchTagSet", status=404), retry=False),  # no tags at all
        {"TagSet": [{"Key": k, "Value": v} for k, v in OURS.items()]},  # tagged after all, by us
    ],
)
def test_untagged_bucket_without_tags_or_with_ours_is_deleted(reply: object) -> None:
    script = Script(
        call("s3", "get_bucket_tagging", {"Bucket": BUCKET}, reply),
        call("s3", "delete_bucket", {"Bucket": BUCKET}, deadline=DELETE_DEADLINE),
    )
    assert script.run(delete_untagged_bucket(BucketFacts(BUCKET))) is True
