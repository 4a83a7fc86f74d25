"""SQS queue plans (sandboxres._kinds.queue.plans), every branch, through the scripted driver."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandboxres._engine.errors import CleanupError, ReadinessTimeoutError, SpecError
from sandboxres._engine.plans import Progress
from sandboxres._engine.settings import UNSEEN_GRACE
from sandboxres._kinds.queue.plans import QueueFacts, create_queue, delete_queue, list_queues, read_queue_tags
from sandboxres._kinds.queue.spec import QueueSpec
from tests.support.scripted import ABSENT, Expect, Fail, Script, call, client_error, poll, run

NAME = "test_jobs_0123456789abcdef"
DLQ = "test_jobs_dlq_0123456789abcdef"
URL = f"http://sqs.local/123456789012/{NAME}"
DLQ_URL = f"http://sqs.local/123456789012/{DLQ}"
ARN = f"arn:aws:sqs:us-east-1:123456789012:{NAME}"
DLQ_ARN = f"arn:aws:sqs:us-east-1:123456789012:{DLQ}"
TAGS = {"sandboxres:managed": "true"}
MISSING = client_error("QueueDoesNotExist", status=400)
MISSING_LEGACY = client_error("AWS.SimpleQueueService.NonExistentQueue", status=400)
DELETED_RECENTLY = client_error("AWS.SimpleQueueService.QueueDeletedRecently", status=400)


def spec(**options: Any) -> QueueSpec:
    return QueueSpec(label="jobs", timeout=15.0, keep=None, **options)


def arn_of(url: str, arn: str, *before: object) -> Expect:
    params = {"QueueUrl": url, "AttributeNames": ["QueueArn"]}
    return poll("sqs", "get_queue_attributes", params, *before, {"Attributes": {"QueueArn": arn}}, timeout=15.0)


# ---------------------------------------------------------------------------------------------------------
# create


def test_create_a_queue_and_wait_for_its_arn() -> None:
    progress = Progress()
    script = Script(
        call("sqs", "create_queue", {"QueueName": NAME, "tags": TAGS, "Attributes": ABSENT},
             Fail(DELETED_RECENTLY, retry=True, limit=15.0), {"QueueUrl": URL}, deadline=15.0),
        arn_of(URL, ARN, Fail(MISSING_LEGACY, retry=True), {"Attributes": {}}, {}),
    )  # fmt: skip
    facts = script.run(create_queue(spec(), QueueFacts(NAME), TAGS, None, progress))
    assert (facts.url, facts.arn, facts.dead_letter) == (URL, ARN, None)
    assert progress.sent == progress.created == progress.confirmed == {NAME}


def test_create_waits_out_a_recently_deleted_name_for_three_minutes_at_most() -> None:
    long = QueueSpec(label="jobs", timeout=600.0, keep=None)
    recently = client_error("QueueDeletedRecently")
    script = Script(call("sqs", "create_queue", None, Fail(recently, retry=True, limit=180.0), deadline=180.0))
    with pytest.raises(ClientError):
        script.run(create_queue(long, QueueFacts(NAME), TAGS, None, Progress()))


def test_create_a_fifo_queue_with_its_dead_letter_queue_first() -> None:
    progress = Progress()
    facts = QueueFacts(NAME + ".fifo", dead_letter=QueueFacts(DLQ + ".fifo"))
    redrive = json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": "3"})
    script = Script(
        call("sqs", "create_queue", {"QueueName": DLQ + ".fifo", "Attributes": {"FifoQueue": "true"}},
             {"QueueUrl": DLQ_URL}),
        arn_of(DLQ_URL, DLQ_ARN),
        call("sqs", "create_queue",
             {"QueueName": NAME + ".fifo", "Attributes": {"FifoQueue": "true", "RedrivePolicy": redrive}},
             {"QueueUrl": URL}),
        arn_of(URL, ARN),
    )  # fmt: skip
    assert script.run(create_queue(spec(fifo=True, dead_letter=3), facts, TAGS, None, progress)) is facts
    assert facts.dead_letter is not None and (facts.dead_letter.url, facts.dead_letter.arn) == (DLQ_URL, DLQ_ARN)
    assert progress.confirmed == {NAME + ".fifo", DLQ + ".fifo"}


def test_create_failing_after_the_dead_letter_queue_leaves_that_one_to_the_cleanup() -> None:
    progress = Progress()
    facts = QueueFacts(NAME, dead_letter=QueueFacts(DLQ))
    script = Script(
        call("sqs", "create_queue", {"QueueName": DLQ}, {"QueueUrl": DLQ_URL}),
        arn_of(DLQ_URL, DLQ_ARN),
        call("sqs", "create_queue", {"QueueName": NAME}, Fail(client_error("InvalidAttributeValue"), retry=False)),
    )
    with pytest.raises(ClientError, match="InvalidAttributeValue"):
        script.run(create_queue(spec(dead_letter=2), facts, TAGS, None, progress))
    assert progress.created == {DLQ} and NAME not in progress.sent


def test_create_not_answering_in_time_is_a_readiness_timeout() -> None:
    params = {"QueueUrl": URL}
    script = Script(
        call("sqs", "create_queue", None, {"QueueUrl": URL}),
        poll("sqs", "get_queue_attributes", params, Fail(MISSING, retry=True), {"Attributes": {}}, times_out=True),
    )
    with pytest.raises(ReadinessTimeoutError) as caught:
        script.run(create_queue(spec(), QueueFacts(NAME), TAGS, None, Progress()))
    assert caught.value.last_status == "no QueueArn yet"


def test_create_poll_throttled_until_the_deadline_raises_the_throttling() -> None:
    throttled = client_error("RequestThrottled", status=403)
    script = Script(
        call("sqs", "create_queue", None, {"QueueUrl": URL}),
        poll("sqs", "get_queue_attributes", None, Fail(throttled, retry=True), times_out=True),
    )
    with pytest.raises(ClientError) as caught:
        script.run(create_queue(spec(), QueueFacts(NAME), TAGS, None, Progress()))
    assert caught.value is throttled


# ---------------------------------------------------------------------------------------------------------
# delete


def test_delete_by_url_when_known_else_by_name() -> None:
    assert (
        run(
            delete_queue(QueueFacts(NAME, URL), Progress(), 4.0),
            call("sqs", "delete_queue", {"QueueUrl": URL}, deadline=4.0),
        )
        is None
    )
    script = Script(
        call("sqs", "get_queue_url", {"QueueName": NAME}, {"QueueUrl": URL}, deadline=4.0),
        call("sqs", "delete_queue", {"QueueUrl": URL}),
    )
    assert script.run(delete_queue(QueueFacts(NAME), Progress(), 4.0)) is None


def test_delete_refuses_a_name_without_the_prefix() -> None:
    with pytest.raises(SpecError):
        run(delete_queue(QueueFacts("jobs", URL), Progress()))


@pytest.mark.parametrize("missing", [MISSING, MISSING_LEGACY])
def test_delete_of_a_missing_queue_is_done(missing: ClientError) -> None:
    assert (
        run(delete_queue(QueueFacts(NAME), Progress()), call("sqs", "get_queue_url", None, Fail(missing, retry=False)))
        is None
    )
    assert (
        run(
            delete_queue(QueueFacts(NAME, URL), Progress()),
            call("sqs", "delete_queue", None, Fail(missing, retry=False)),
        )
        is None
    )


def test_delete_other_errors_are_raised() -> None:
    denied = client_error("AccessDenied", status=403)
    with pytest.raises(ClientError) as caught:
        run(
            delete_queue(QueueFacts(NAME, URL), Progress()),
            call("sqs", "delete_queue", None, Fail(denied, retry=False)),
        )
    assert caught.value is denied


def test_delete_the_dead_letter_queue_after_the_queue() -> None:
    script = Script(
        call("sqs", "delete_queue", {"QueueUrl": URL}),
        call(
            "sqs",
            "get_queue_url",
            {"QueueName": DLQ},
            Fail(client_error("Throttling"), retry=True),
            {"QueueUrl": DLQ_URL},
        ),
        call("sqs", "delete_queue", {"QueueUrl": DLQ_URL}),
    )
    assert script.run(delete_queue(QueueFacts(NAME, URL, dead_letter=QueueFacts(DLQ)), Progress())) is None


def test_a_queue_in_doubt_does_not_keep_its_dead_letter_queue_from_being_deleted() -> None:
    progress = Progress(sent={NAME, DLQ}, created={DLQ}, confirmed={DLQ})
    graced = Fail(MISSING, retry=True, limit=UNSEEN_GRACE)
    script = Script(
        call("sqs", "get_queue_url", {"QueueName": NAME}, graced),
        call("sqs", "delete_queue", {"QueueUrl": DLQ_URL}, Fail(MISSING, retry=False)),
    )
    with pytest.raises(CleanupError, match=f"queue {NAME}: .*may still appear"):
        script.run(delete_queue(QueueFacts(NAME, dead_letter=QueueFacts(DLQ, DLQ_URL)), progress))


def test_a_dead_letter_queue_in_doubt_is_reported() -> None:
    progress = Progress(sent={DLQ})
    script = Script(
        call("sqs", "delete_queue", {"QueueUrl": URL}),
        call("sqs", "get_queue_url", {"QueueName": DLQ}, Fail(MISSING_LEGACY, retry=True, limit=UNSEEN_GRACE)),
    )
    with pytest.raises(CleanupError, match=f"queue {DLQ}"):
        script.run(delete_queue(QueueFacts(NAME, URL, dead_letter=QueueFacts(DLQ)), progress))


# ---------------------------------------------------------------------------------------------------------
# tags and listing


def test_read_tags() -> None:
    script = Script(
        call("sqs", "get_queue_url", {"QueueName": NAME}, {"QueueUrl": URL}, deadline=60.0),
        call("sqs", "list_queue_tags", {"QueueUrl": URL}, {"Tags": {"a": "1"}}, deadline=60.0),
    )
    assert script.run(read_queue_tags(QueueFacts(NAME))) == {"a": "1"}
    known = Script(call("sqs", "list_queue_tags", {"QueueUrl": URL}, {"Tags": None}))
    assert known.run(read_queue_tags(QueueFacts(NAME, URL))) == {}


def test_read_tags_of_a_missing_queue_is_none_other_errors_are_raised() -> None:
    assert (
        run(read_queue_tags(QueueFacts(NAME)), call("sqs", "get_queue_url", None, Fail(MISSING_LEGACY, retry=False)))
        is None
    )
    assert (
        run(read_queue_tags(QueueFacts(NAME, URL)), call("sqs", "list_queue_tags", None, Fail(MISSING, retry=False)))
        is None
    )
    with pytest.raises(ClientError):
        run(
            read_queue_tags(QueueFacts(NAME, URL)),
            call("sqs", "list_queue_tags", None, Fail(client_error("AccessDenied", status=403), retry=False)),
        )


def test_list_queues_every_page_ours_only() -> None:
    first = {"QueueUrls": [URL, "http://sqs.local/1/prod_jobs", "http://sqs.local/1/test_b_2/"], "NextToken": "n"}
    script = Script(
        call("sqs", "list_queues", {"QueueNamePrefix": "test_", "MaxResults": 1000, "NextToken": ABSENT}, first,
             deadline=120.0),
        call("sqs", "list_queues", {"QueueNamePrefix": "test_", "NextToken": "n"}, {}),
    )  # fmt: skip
    found = script.run(list_queues())
    assert [(f.facts.name, f.facts.url) for f in found if isinstance(f.facts, QueueFacts)] == [
        (NAME, URL),
        ("test_b_2", "http://sqs.local/1/test_b_2/"),
    ]


def test_a_queue_that_cannot_be_deleted_does_not_keep_its_dead_letter_queue_from_being_deleted() -> None:
    denied = client_error("AccessDenied", status=403)
    script = Script(
        call("sqs", "delete_queue", {"QueueUrl": URL}, Fail(denied, retry=False)),
        call("sqs", "delete_queue", {"QueueUrl": DLQ_URL}),
    )
    with pytest.raises(ClientError) as caught:
        script.run(delete_queue(QueueFacts(NAME, URL, dead_letter=QueueFacts(DLQ, DLQ_URL)), Progress()))
    assert caught.value is denied, "the queue's own failure is what the cleanup reports"
