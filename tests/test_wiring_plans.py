"""The wiring's pure parts and plans without I/O: policy documents merged and trimmed, S3 event names and entry
overlaps as S3 judges them, the test event recognised in both shapes, and the plans' edges through the scripted
driver (a policy edit lost to a concurrent writer, a test event that never comes, undoing what is already gone)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from sandboxres._engine.errors import AWSCallError, ReadinessTimeoutError, ResourceError, SpecError
from sandboxres._engine.wiring import HandleContext, Wirings
from sandboxres._kinds.bucket import notifications
from sandboxres._kinds.bucket.handle import BucketHandle
from sandboxres._kinds.bucket.notification_config import (
    S3_EVENTS,
    check_events,
    notification_request,
    overlapping,
    with_entry,
    without_entry,
)
from sandboxres._kinds.bucket.notifications import denotify
from sandboxres._kinds.bucket.test_events import consume_test_event, find_test_events
from sandboxres._kinds.queue.access_policy import (
    grant_send,
    revoke_send,
    send_statement,
    with_statement,
    without_statement,
)
from sandboxres._kinds.queue.handle import QueueHandle
from sandboxres._kinds.topic.handle import TopicHandle
from sandboxres._kinds.topic.subscriptions import SubscriptionRequest, _Subscribed, check_filter_policy, unsubscribe
from tests.support.scripted import Fail, Script, call, client_error, poll

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:test_q"
QUEUE_URL = "http://sqs.local/123456789012/test_q"
BUCKET = "test-b"


def test_the_event_names_are_botocores() -> None:
    model = botocore.session.get_session().get_service_model("s3")
    assert set(model.shape_for("Event").enum) == S3_EVENTS  # type: ignore[attr-defined]


def test_event_names_are_checked_and_kept_once_in_order() -> None:
    assert check_events(("s3:ObjectRemoved:*", "s3:ObjectCreated:Put", "s3:ObjectRemoved:*")) == (
        "s3:ObjectRemoved:*",
        "s3:ObjectCreated:Put",
    )
    with pytest.raises(SpecError, match="known ones"):
        check_events(["s3:ObjectCreated"])


# -- policy documents ------------------------------------------------------------------------------------------


def test_a_statement_is_merged_into_a_policy_and_taken_out_exactly() -> None:
    theirs = {"Sid": "Theirs", "Effect": "Allow", "Principal": "*", "Action": "sqs:GetQueueUrl", "Resource": QUEUE_ARN}
    existing = json.dumps({"Version": "2008-10-17", "Id": "their-policy", "Statement": theirs})  # one, not a list
    ours = send_statement("SandboxresS3Events1", "s3.amazonaws.com", QUEUE_ARN, "arn:aws:s3:::test-b", "123456789012")
    merged = json.loads(with_statement(existing, ours))
    assert merged == {"Version": "2008-10-17", "Id": "their-policy", "Statement": [theirs, ours]}
    assert json.loads(with_statement(json.dumps(merged), ours))["Statement"] == [theirs, ours]  # once
    left = without_statement(json.dumps(merged), "SandboxresS3Events1")
    assert left is not None and json.loads(left)["Statement"] == [theirs]
    assert without_statement(with_statement(None, ours), "SandboxresS3Events1") is None
    assert ours["Condition"] == {
        "ArnEquals": {"aws:SourceArn": "arn:aws:s3:::test-b"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }


# -- notification entries -----------------------------------------------------------------------------------------


def request(**options: Any) -> Any:
    context = HandleContext(run=lambda plan: None, wirings=Wirings(), target_kind="embedded")
    bucket = BucketHandle(BUCKET, f"arn:aws:s3:::{BUCKET}", None, lambda: None, context=context)
    queue = QueueHandle("test_q", QUEUE_URL, QUEUE_ARN, None, context=context)
    return notification_request(
        bucket,
        options.pop("target", queue),
        options.pop("events", ("s3:ObjectCreated:*",)),
        options.pop("prefix", None),
        options.pop("suffix", None),
        None,
    )


def entry(entry_id: str, events: list[str], prefix: str = "", suffix: str = "") -> dict[str, Any]:
    rules = [{"Name": "Prefix", "Value": prefix}] if prefix else []  # S3 answers with capitalised names
    rules += [{"Name": "Suffix", "Value": suffix}] if suffix else []
    made: dict[str, Any] = {"Id": entry_id, "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Events": events}
    if rules:
        made["Filter"] = {"Key": {"FilterRules": rules}}
    return made


@pytest.mark.parametrize(
    ("existing", "options", "clash"),
    [
        (entry("a", ["s3:ObjectCreated:*"]), {}, "a"),
        (entry("a", ["s3:ObjectCreated:Put"]), {"prefix": "x/"}, "a"),
        (entry("a", ["s3:ObjectCreated:*"], prefix="x/"), {"prefix": "x/y/"}, "a"),
        (entry("a", ["s3:ObjectCreated:*"], prefix="x/"), {"prefix": "y/"}, None),
        (entry("a", ["s3:ObjectCreated:*"], suffix=".csv"), {"suffix": ".txt"}, None),
        (entry("a", ["s3:ObjectCreated:*"], suffix=".csv"), {"suffix": "a.csv"}, "a"),
        (entry("a", ["s3:ObjectRemoved:*"]), {}, None),
    ],
)
def test_entries_overlap_as_s3_judges_them(
    existing: dict[str, Any], options: dict[str, Any], clash: str | None
) -> None:
    assert overlapping({"TopicConfigurations": [existing]}, request(**options)) == clash


def test_our_entry_is_added_and_taken_out_alone() -> None:
    checked = request(prefix="in/", suffix=".json")
    theirs = {"QueueConfigurations": [{"Id": "theirs", "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectRemoved:*"]}]}
    merged = with_entry({**theirs, "EventBridgeConfiguration": {}}, checked, "sandboxres-1")
    assert merged["QueueConfigurations"][1] == {
        "Id": "sandboxres-1",
        "QueueArn": QUEUE_ARN,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".json"}]}},
    }
    assert without_entry(merged, "sandboxres-1") == {**theirs, "EventBridgeConfiguration": {}}
    assert without_entry(theirs, "sandboxres-1") is None
    assert without_entry(with_entry({}, checked, "sandboxres-1"), "sandboxres-1") == {}


def test_the_test_event_is_known_as_s3_sends_it_and_in_an_sns_envelope() -> None:
    event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    other_bucket = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "test-other"})
    envelope = json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:x:1:t", "Message": event})
    messages = [{"Body": body} for body in (event, other_bucket, envelope, "not json", '{"Records": []}')]
    assert find_test_events(messages, BUCKET) == [messages[0], messages[2]]


def test_a_filter_policy_is_sent_as_compact_json() -> None:
    policy = {"kind": ["a", {"prefix": "b"}], "size": [{"numeric": [">", 10]}], "$or": [{"x": ["1"]}, {"y": ["2"]}]}
    assert json.loads(check_filter_policy(policy) or "") == policy
    assert check_filter_policy(None) is None


def test_a_topic_target_is_checked_like_a_queue() -> None:
    topic = TopicHandle("test_t", "arn:aws:sns:us-east-1:123456789012:test_t", None)
    assert request(target=topic).kind == "topic"


# -- plans through the scripted driver ----------------------------------------------------------------------------


def _policy_of(*sids: str) -> dict[str, Any]:
    statements = [{"Sid": sid, "Effect": "Allow"} for sid in sids]
    return {"Attributes": {"Policy": json.dumps({"Version": "2012-10-17", "Statement": statements})}}


def test_a_grant_lost_to_a_concurrent_writer_is_made_again_then_given_up() -> None:
    statement = {"Sid": "Ours", "Effect": "Allow"}
    read = ("sqs", "get_queue_attributes", {"QueueUrl": QUEUE_URL, "AttributeNames": ["Policy"]})
    script = Script(
        call(*read, {}),
        call("sqs", "set_queue_attributes", None),
        call(*read, _policy_of("Theirs")),  # their write replaced ours: again, kept theirs
        call("sqs", "set_queue_attributes", None),
        call(*read, _policy_of("Theirs", "Ours")),
    )
    script.run(grant_send(QUEUE_URL, statement, 5.0, "queue test_q"))
    written = json.loads(script.steps[3].request()["Attributes"]["Policy"])  # type: ignore[union-attr]
    assert [s["Sid"] for s in written["Statement"]] == ["Theirs", "Ours"]
    endless = Script(
        *[step for _ in range(3) for step in (call(*read, {}), call("sqs", "set_queue_attributes", None))],
        call(*read, {}),
    )
    with pytest.raises(ResourceError, match="kept changing"):
        endless.run(grant_send(QUEUE_URL, statement, 5.0, "queue test_q"))


def test_revoking_from_a_queue_already_gone_is_done() -> None:
    gone = client_error("AWS.SimpleQueueService.NonExistentQueue", query_code="QueueDoesNotExist")
    Script(call("sqs", "get_queue_attributes", None, Fail(gone, retry=False))).run(
        revoke_send(QUEUE_URL, "Ours", 5.0, "queue test_q")
    )
    last = Script(call("sqs", "get_queue_attributes", None, _policy_of("Ours")),
                  call("sqs", "set_queue_attributes", {"Attributes": {"Policy": ""}}),
                  call("sqs", "get_queue_attributes", None, {}))  # fmt: skip
    last.run(revoke_send(QUEUE_URL, "Ours", 5.0, "queue test_q"))


def test_unsubscribing_what_is_gone_still_revokes_the_statement() -> None:
    checked = SubscriptionRequest("arn:t", "test_t", QUEUE_ARN, QUEUE_URL, "test_q", True, None, 5.0)
    gone = client_error("NotFound", status=404)
    Script(
        call("sns", "unsubscribe", {"SubscriptionArn": "arn:t:1"}, Fail(gone, retry=False)),
        call("sqs", "get_queue_attributes", None, _policy_of("Other")),
    ).run(unsubscribe(checked, _Subscribed("Ours", "arn:t:1")))
    broken = client_error("AuthorizationError", status=403)
    with pytest.raises(Exception, match="AuthorizationError"):  # raised after the statement was revoked
        Script(
            call("sns", "unsubscribe", None, Fail(broken, retry=False)),
            call("sqs", "get_queue_attributes", None, _policy_of("Ours")),
            call("sqs", "set_queue_attributes", None),
            call("sqs", "get_queue_attributes", None, {}),
        ).run(unsubscribe(checked, _Subscribed("Ours", "arn:t:1")))


def test_a_test_event_that_never_comes_times_out_saying_what_came() -> None:
    other = {"Messages": [{"Body": "{}", "ReceiptHandle": "r"}]}
    script = Script(
        poll(
            "sqs",
            "receive_message",
            {"VisibilityTimeout": 0, "WaitTimeSeconds": 2},
            {},
            other,
            timeout=6.0,
            times_out=True,
        )
    )
    with pytest.raises(ReadinessTimeoutError, match=r"no s3:TestEvent of bucket test-b yet \(1 other message"):
        script.run(consume_test_event(QUEUE_URL, "test_q", BUCKET, 6.0))


def test_undoing_a_notification_of_a_bucket_already_gone_still_revokes_the_statement() -> None:
    checked = request()
    gone = client_error("NoSuchBucket", status=404)
    Script(
        call("s3", "get_bucket_notification_configuration", {"Bucket": BUCKET}, Fail(gone, retry=False)),
        call("sqs", "get_queue_attributes", None, {}),
    ).run(denotify(checked, "sandboxres-1", "Ours"))


UNABLE = client_error("InvalidArgument", "Unable to validate the following destination configurations")


def test_a_put_s3_cannot_validate_is_polled_while_notifying_and_final_while_undoing() -> None:
    checked = request()
    put = ("s3", "put_bucket_notification_configuration", {"Bucket": BUCKET})
    plan = notifications._put_configuration(checked, {}, patient=True)
    Script(poll(*put, Fail(UNABLE, retry=True), {}, timeout=10.0)).run(plan)
    with pytest.raises(AWSCallError, match=r"Unable to validate .* for 10\.0 s"):
        Script(poll(*put, Fail(UNABLE, retry=True), times_out=True)).run(
            notifications._put_configuration(checked, {}, patient=True)
        )
    with pytest.raises(AWSCallError, match="our entry stays until the bucket is deleted"):
        Script(poll(*put, Fail(UNABLE, retry=False))).run(notifications._put_configuration(checked, {}, patient=False))
    ambiguous = client_error("InvalidArgument", "Configuration is ambiguously defined")
    with pytest.raises(AWSCallError, match="ambiguously defined"):
        Script(poll(*put, Fail(ambiguous, retry=False))).run(
            notifications._put_configuration(checked, {}, patient=True)
        )
