"""SQS queue recycling (sandboxres._kinds.queue.recycling), every branch, through the scripted driver."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandboxres._kinds import KINDS
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.queue.plans import QueueFacts
from sandboxres._kinds.queue.recycling import queue_baseline, recycle_queue
from sandboxres._kinds.queue.spec import QueueSpec
from tests.support.scripted import Expect, Fail, Script, call, client_error, poll

NAME = "test_jobs_0123456789abcdef"
DLQ = "test_jobs_dlq_0123456789abcdef"
URL = f"http://sqs.local/123456789012/{NAME}"
DLQ_URL = f"http://sqs.local/123456789012/{DLQ}"
OTHER_URL = "http://sqs.local/123456789012/test_other_0123456789abcdef"
TAGS = {"sandboxres:managed": "true"}
ATTRIBUTES = {"VisibilityTimeout": "30", "CreatedTimestamp": "1700000000", "LastModifiedTimestamp": "1700000000"}
ZERO = {
    "ApproximateNumberOfMessages": "0",
    "ApproximateNumberOfMessagesNotVisible": "0",
    "ApproximateNumberOfMessagesDelayed": "0",
}
COUNTER_NAMES = list(ZERO)
LIMITS = RecycleLimits(settle_seconds=5.0)
SPEC = QueueSpec(label="jobs", timeout=15.0, keep=None)
DLQ_SPEC = QueueSpec(label="jobs", timeout=15.0, keep=None, dead_letter=3)
BASELINE: dict[str, Any] = {"attributes": ATTRIBUTES, "tags": TAGS}
RECEIVE = {"QueueUrl": URL, "WaitTimeSeconds": 1, "VisibilityTimeout": 0, "MaxNumberOfMessages": 1}


def facts(dead_letter: bool = False, url: str | None = URL) -> QueueFacts:
    dead = QueueFacts(DLQ, DLQ_URL) if dead_letter else None
    return QueueFacts(NAME, url, dead_letter=dead)


def read(url: str, attributes: dict[str, str] | None = None, tags: dict[str, str] | None = None) -> list[Expect]:
    """GetQueueAttributes(All) (counters included, as SQS answers) and ListQueueTags."""
    answer = {**ZERO, **(ATTRIBUTES if attributes is None else attributes)}
    return [
        call("sqs", "get_queue_attributes", {"QueueUrl": url, "AttributeNames": ["All"]}, {"Attributes": answer}),
        call("sqs", "list_queue_tags", {"QueueUrl": url}, {"Tags": TAGS if tags is None else tags}),
    ]


def sources(url: str, *urls: str) -> Expect:
    return call("sqs", "list_dead_letter_source_queues", {"QueueUrl": url}, {"queueUrls": list(urls)})


def counters(url: str, *readings: Any, times_out: bool = True) -> Expect:
    params = {"QueueUrl": url, "AttributeNames": COUNTER_NAMES}
    probes = [{"Attributes": r} if isinstance(r, dict) else r for r in readings]
    return poll("sqs", "get_queue_attributes", params, *probes, timeout=5.0, times_out=times_out)


def receive(url: str, *messages: dict[str, str]) -> Expect:
    reply = {"Messages": list(messages)} if messages else {}
    return call("sqs", "receive_message", {**RECEIVE, "QueueUrl": url}, reply)


def clean(url: str, *owner: str) -> list[Expect]:
    return [*read(url), sources(url, *owner)]


def recycle(queue: QueueFacts, *expected: Expect, baseline: dict[str, Any] | None = None) -> str | None:
    spec = DLQ_SPEC if queue.dead_letter else SPEC
    return Script(*expected).run(recycle_queue(spec, queue, baseline or BASELINE, LIMITS))


# ---------------------------------------------------------------------------------------------------------
# baseline


def test_the_kind_declares_the_queue_recycling_plans() -> None:
    assert KINDS["queue"].baseline is queue_baseline and KINDS["queue"].recycle is recycle_queue


def test_the_baseline_keeps_attributes_and_tags_but_not_the_message_counters() -> None:
    baseline = Script(*read(URL)).run(queue_baseline(facts()))
    assert baseline == {"attributes": ATTRIBUTES, "tags": TAGS}


def test_the_baseline_of_a_queue_known_by_name_only_asks_its_url_and_reads_its_dead_letter_queue() -> None:
    queue = QueueFacts(NAME, dead_letter=QueueFacts(DLQ))
    script = Script(
        call("sqs", "get_queue_url", {"QueueName": NAME}, {"QueueUrl": URL}, deadline=60.0),
        call("sqs", "get_queue_attributes", {"QueueUrl": URL}, {}),
        call("sqs", "list_queue_tags", {"QueueUrl": URL}, {}),
        call("sqs", "get_queue_url", {"QueueName": DLQ}, {"QueueUrl": DLQ_URL}),
        *read(DLQ_URL, {"RedriveAllowPolicy": "{}"}),
    )
    baseline = script.run(queue_baseline(queue))
    assert baseline == {
        "attributes": {},
        "tags": {},
        "dead_letter": {"attributes": {"RedriveAllowPolicy": "{}"}, "tags": TAGS},
    }


# ---------------------------------------------------------------------------------------------------------
# clean


def test_an_untouched_queue_whose_counters_stay_zero_for_the_settle_time_and_receives_nothing_is_clean() -> None:
    assert recycle(facts(), *clean(URL), counters(URL, ZERO, ZERO, ZERO), receive(URL)) is None


def test_a_clean_queue_and_dead_letter_queue_are_checked_configuration_first_then_messages() -> None:
    baseline = {**BASELINE, "dead_letter": BASELINE}
    script = [
        *clean(URL),
        *clean(DLQ_URL, URL),  # its own queue redriving into the dead-letter queue is no trace
        counters(URL, ZERO, ZERO),
        receive(URL),
        counters(DLQ_URL, ZERO, ZERO),
        receive(DLQ_URL),
    ]
    assert recycle(facts(dead_letter=True), *script, baseline=baseline) is None


def test_a_queue_known_by_name_only_is_looked_up_first() -> None:
    script = [
        call("sqs", "get_queue_url", {"QueueName": NAME}, {"QueueUrl": URL}),
        *clean(URL),
        counters(URL, ZERO),
        receive(URL),
    ]
    assert recycle(facts(url=None), *script) is None


def test_a_throttled_counter_reading_polls_on_and_zeros_until_the_deadline_are_clean() -> None:
    throttled = client_error("RequestThrottled", status=403)
    script = [*clean(URL), counters(URL, ZERO, Fail(throttled, retry=True), ZERO), receive(URL)]
    assert recycle(facts(), *script) is None


# ---------------------------------------------------------------------------------------------------------
# configuration changed


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({**ATTRIBUTES, "VisibilityTimeout": "60"}, "its attributes were changed: VisibilityTimeout"),
        ({**ATTRIBUTES, "Policy": "{}"}, "its attributes were changed: Policy"),
        ({"CreatedTimestamp": "1700000000"}, "its attributes were changed: VisibilityTimeout"),
        (
            {**ATTRIBUTES, "VisibilityTimeout": "60", "LastModifiedTimestamp": "1700000099"},
            "its attributes were changed: VisibilityTimeout",
        ),
        (
            {**ATTRIBUTES, "LastModifiedTimestamp": "1700000099"},
            "its attributes were changed and set back (LastModifiedTimestamp moved)",
        ),
    ],
)
def test_an_attribute_changed_added_removed_or_set_back_discards(attributes: dict[str, str], reason: str) -> None:
    assert recycle(facts(), *read(URL, attributes)) == reason


def test_a_tag_added_or_removed_discards() -> None:
    assert recycle(facts(), *read(URL, tags={**TAGS, "team": "x"})) == "its tags were changed"
    assert recycle(facts(), *read(URL, tags={})) == "its tags were changed"


def test_another_queue_redriving_into_the_queue_discards() -> None:
    reason = recycle(facts(), *read(URL), sources(URL, OTHER_URL))
    assert reason == f"another queue redrives into it: {OTHER_URL}"


def test_a_foreign_queue_redriving_into_the_dead_letter_queue_discards_both() -> None:
    baseline = {**BASELINE, "dead_letter": BASELINE}
    script = [*clean(URL), *read(DLQ_URL), sources(DLQ_URL, URL, OTHER_URL)]
    reason = recycle(facts(dead_letter=True), *script, baseline=baseline)
    assert reason == f"its dead-letter queue: another queue redrives into it: {OTHER_URL}"


def test_a_changed_dead_letter_queue_discards_both_before_any_message_check() -> None:
    baseline = {**BASELINE, "dead_letter": BASELINE}
    script = [*clean(URL), *read(DLQ_URL, {**ATTRIBUTES, "MessageRetentionPeriod": "60"})]
    reason = recycle(facts(dead_letter=True), *script, baseline=baseline)
    assert reason == "its dead-letter queue: its attributes were changed: MessageRetentionPeriod"


# ---------------------------------------------------------------------------------------------------------
# messages


@pytest.mark.parametrize(
    ("reading", "listed"),
    [
        ({**ZERO, "ApproximateNumberOfMessages": "2"}, "2 visible, 0 in flight, 0 delayed"),
        ({**ZERO, "ApproximateNumberOfMessagesNotVisible": "1"}, "0 visible, 1 in flight, 0 delayed"),
        ({**ZERO, "ApproximateNumberOfMessagesDelayed": "3"}, "0 visible, 0 in flight, 3 delayed"),
    ],
)
def test_a_counter_turning_non_zero_within_the_settle_time_discards(reading: dict[str, str], listed: str) -> None:
    reason = recycle(facts(), *clean(URL), counters(URL, ZERO, reading, times_out=False))
    assert reason == f"messages are still counted in it ({listed}): a purge costs a minute, creating anew is cheaper"


def test_counters_sqs_does_not_report_cannot_prove_emptiness_and_discard() -> None:
    reading = {"ApproximateNumberOfMessages": "0"}
    reason = recycle(facts(), *clean(URL), counters(URL, reading, times_out=False))
    assert reason == (
        "SQS did not report ApproximateNumberOfMessagesNotVisible, ApproximateNumberOfMessagesDelayed: "
        "its emptiness cannot be proven"
    )


def test_a_message_the_long_polling_receive_still_sees_discards() -> None:
    reason = recycle(facts(), *clean(URL), counters(URL, ZERO), receive(URL, {"MessageId": "m1"}))
    assert reason == "a message was still received from it"


def test_a_message_left_in_the_dead_letter_queue_discards_both() -> None:
    baseline = {**BASELINE, "dead_letter": BASELINE}
    script = [
        *clean(URL),
        *clean(DLQ_URL),
        counters(URL, ZERO),
        receive(URL),
        counters(DLQ_URL, {**ZERO, "ApproximateNumberOfMessages": "1"}, times_out=False),
    ]
    reason = recycle(facts(dead_letter=True), *script, baseline=baseline)
    assert reason is not None
    assert reason.startswith("its dead-letter queue: messages are still counted in it (1 visible")


def test_a_queue_gone_meanwhile_raises_and_the_pool_discards_it() -> None:
    missing = client_error("QueueDoesNotExist")
    script = [call("sqs", "get_queue_attributes", {"QueueUrl": URL}, Fail(missing, retry=False))]
    with pytest.raises(ClientError):
        recycle(facts(), *script)
