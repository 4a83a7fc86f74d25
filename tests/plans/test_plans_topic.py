"""SNS topic plans (sandboxres._kinds.topic.plans and .recycling), every branch, through the scripted driver."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandboxres._engine.errors import CleanupError, ReadinessTimeoutError
from sandboxres._engine.plans import Progress
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.topic.plans import (
    TopicFacts,
    create_topic,
    delete_topic,
    list_topics,
    read_topic_tags,
)
from sandboxres._kinds.topic.recycling import recycle_topic, topic_baseline
from sandboxres._kinds.topic.spec import TopicSpec
from tests.support.scripted import ABSENT, Fail, Script, call, client_error, poll, run

NAME = "test_events_0123456789abcdef"
ARN = f"arn:aws:sns:us-east-1:123456789012:{NAME}"
OTHER = "arn:aws:sns:us-east-1:123456789012:prod_events"
SUB = f"{ARN}:11111111-2222-3333-4444-555555555555"
TAGS = {"sandboxres:managed": "true"}
TAG_LIST = [{"Key": "sandboxres:managed", "Value": "true"}]
NOT_FOUND = client_error("NotFound", status=404)
RESOURCE_NOT_FOUND = client_error("ResourceNotFound", status=404)
DENIED = client_error("AuthorizationError", status=403)
THROTTLED = client_error("Throttling", status=400)


def spec(**options: Any) -> TopicSpec:
    return TopicSpec(label="events", timeout=15.0, keep=None, **options)


# ---------------------------------------------------------------------------------------------------------
# create


def test_create_a_tagged_topic_and_wait_until_it_answers() -> None:
    progress = Progress()
    script = Script(
        call("sns", "create_topic", {"Name": NAME, "Tags": TAG_LIST, "Attributes": ABSENT}, {"TopicArn": ARN},
             deadline=15.0),
        poll("sns", "get_topic_attributes", {"TopicArn": ARN}, Fail(NOT_FOUND, retry=True), {},
             {"Attributes": {"TopicArn": ARN}}, timeout=15.0),
    )  # fmt: skip
    facts = script.run(create_topic(spec(), TopicFacts(NAME), TAGS, "us-east-1", progress))
    assert facts.arn == ARN
    assert progress.sent == progress.created == progress.confirmed == {NAME}


def test_create_a_fifo_topic_with_attributes() -> None:
    fifo = spec(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    attributes = {"ContentBasedDeduplication": "true", "FifoTopic": "true"}
    facts = run(
        create_topic(fifo, TopicFacts(NAME + ".fifo"), TAGS, None, Progress()),
        call("sns", "create_topic", {"Name": NAME + ".fifo", "Attributes": attributes}, {"TopicArn": ARN + ".fifo"}),
        poll("sns", "get_topic_attributes", {"TopicArn": ARN + ".fifo"}, {"Attributes": {}}),
    )
    assert facts.arn == ARN + ".fifo"


def test_a_topic_that_never_answers_times_out_created_but_unconfirmed() -> None:
    progress = Progress()
    with pytest.raises(ReadinessTimeoutError):
        run(
            create_topic(spec(), TopicFacts(NAME), TAGS, None, progress),
            call("sns", "create_topic", None, {"TopicArn": ARN}),
            poll("sns", "get_topic_attributes", None, Fail(NOT_FOUND, retry=True), times_out=True),
        )
    assert progress.created == {NAME} and not progress.confirmed


def test_a_refused_create_takes_its_sent_mark_back() -> None:
    progress = Progress()
    with pytest.raises(ClientError):
        run(create_topic(spec(), TopicFacts(NAME), TAGS, None, progress),
            call("sns", "create_topic", None, Fail(DENIED, retry=False)))  # fmt: skip
    assert not progress.started()


# ---------------------------------------------------------------------------------------------------------
# delete


def _subscriptions(*arns: str, token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"Subscriptions": [{"SubscriptionArn": arn, "TopicArn": ARN} for arn in arns]}
    if token:
        page["NextToken"] = token
    return page


def test_delete_unsubscribes_every_page_skips_pending_then_deletes() -> None:
    run(
        delete_topic(TopicFacts(NAME, ARN), Progress(), 30.0),
        call("sns", "list_subscriptions_by_topic", {"TopicArn": ARN, "NextToken": ABSENT},
             _subscriptions(SUB, "PendingConfirmation", token="t"), deadline=30.0),
        call("sns", "list_subscriptions_by_topic", {"TopicArn": ARN, "NextToken": "t"}, _subscriptions(SUB + "b")),
        call("sns", "unsubscribe", {"SubscriptionArn": SUB}, Fail(THROTTLED, retry=True), {}),
        call("sns", "unsubscribe", {"SubscriptionArn": SUB + "b"}, Fail(NOT_FOUND, retry=False)),  # gone: fine
        call("sns", "delete_topic", {"TopicArn": ARN}),
    )  # fmt: skip


def test_a_failed_unsubscribe_is_raised() -> None:
    with pytest.raises(ClientError):
        run(
            delete_topic(TopicFacts(NAME, ARN), Progress(), 30.0),
            call("sns", "list_subscriptions_by_topic", None, _subscriptions(SUB)),
            call("sns", "unsubscribe", None, Fail(DENIED, retry=False)),
        )


def test_delete_of_a_topic_gone_meanwhile_is_fine_and_a_denial_is_raised() -> None:
    run(delete_topic(TopicFacts(NAME, ARN), Progress()),
        call("sns", "list_subscriptions_by_topic", None, Fail(NOT_FOUND, retry=False)))  # fmt: skip
    with pytest.raises(ClientError):
        run(delete_topic(TopicFacts(NAME, ARN), Progress()),
            call("sns", "list_subscriptions_by_topic", None, _subscriptions()),
            call("sns", "delete_topic", None, Fail(DENIED, retry=False)))  # fmt: skip


def test_delete_by_name_finds_the_arn_by_listing_every_page() -> None:
    run(
        delete_topic(TopicFacts(NAME), Progress()),
        call("sns", "list_topics", {"NextToken": ABSENT}, {"Topics": [{"TopicArn": OTHER}], "NextToken": "n"}),
        call("sns", "list_topics", {"NextToken": "n"}, {"Topics": [{"TopicArn": ARN}]}),
        call("sns", "list_subscriptions_by_topic", {"TopicArn": ARN}, _subscriptions()),
        call("sns", "delete_topic", {"TopicArn": ARN}),
    )


def test_delete_by_name_of_an_unlisted_topic_is_fine_unless_its_create_was_in_doubt() -> None:
    run(delete_topic(TopicFacts(NAME), Progress()), call("sns", "list_topics", None, {"Topics": []}))
    doubt = Progress(sent={NAME})
    with pytest.raises(CleanupError, match="may still appear"):
        run(delete_topic(TopicFacts(NAME), doubt), call("sns", "list_topics", None, {}))


def test_delete_refuses_a_name_without_the_prefix_before_any_call() -> None:
    with pytest.raises(Exception, match="lacks the topic prefix"):
        run(delete_topic(TopicFacts("prod_events", OTHER), Progress()))


# ---------------------------------------------------------------------------------------------------------
# tags and listing


def test_read_tags() -> None:
    tags = run(read_topic_tags(TopicFacts(NAME, ARN)),
               call("sns", "list_tags_for_resource", {"ResourceArn": ARN}, {"Tags": TAG_LIST}))  # fmt: skip
    assert tags == TAGS
    assert run(read_topic_tags(TopicFacts(NAME, ARN)),
               call("sns", "list_tags_for_resource", None, {})) == {}  # fmt: skip
    gone = run(read_topic_tags(TopicFacts(NAME, ARN)),
               call("sns", "list_tags_for_resource", None, Fail(RESOURCE_NOT_FOUND, retry=False)))  # fmt: skip
    assert gone is None
    assert run(read_topic_tags(TopicFacts(NAME)), call("sns", "list_topics", None, {})) is None
    with pytest.raises(ClientError):
        run(
            read_topic_tags(TopicFacts(NAME, ARN)),
            call("sns", "list_tags_for_resource", None, Fail(DENIED, retry=False)),
        )


def test_listing_keeps_the_prefixed_topics_of_every_page_with_their_region() -> None:
    found = run(
        list_topics(),
        call("sns", "list_topics", {"NextToken": ABSENT},
             {"Topics": [{"TopicArn": ARN}, {"TopicArn": OTHER}, {}], "NextToken": "n"}),
        call("sns", "list_topics", {"NextToken": "n"},
             {"Topics": [{"TopicArn": f"arn:aws:sns:eu-west-1:123456789012:{NAME}.fifo"}]}),
    )  # fmt: skip
    assert [(listed.facts.name, getattr(listed.facts, "arn", None), listed.region) for listed in found] == [
        (NAME, ARN, "us-east-1"),
        (NAME + ".fifo", f"arn:aws:sns:eu-west-1:123456789012:{NAME}.fifo", "eu-west-1"),
    ]


# ---------------------------------------------------------------------------------------------------------
# recycling


ATTRIBUTES = {"TopicArn": ARN, "DisplayName": "", "SubscriptionsConfirmed": "0", "SubscriptionsPending": "0"}


def _read(attributes: dict[str, str] = ATTRIBUTES, tags: list[dict[str, str]] = TAG_LIST) -> list[Any]:
    return [
        call("sns", "get_topic_attributes", {"TopicArn": ARN}, {"Attributes": attributes}),
        call("sns", "list_tags_for_resource", {"ResourceArn": ARN}, {"Tags": tags}),
    ]


BASELINE = {"attributes": {"TopicArn": ARN, "DisplayName": ""}, "tags": TAGS}


def test_baseline_reads_attributes_without_counters_and_tags() -> None:
    assert run(topic_baseline(TopicFacts(NAME, ARN)), *_read()) == BASELINE
    by_name = run(topic_baseline(TopicFacts(NAME)), call("sns", "list_topics", None, {"Topics": [{"TopicArn": ARN}]}),
                  *_read())  # fmt: skip
    assert by_name == BASELINE
    with pytest.raises(LookupError, match="not listed"):
        run(topic_baseline(TopicFacts(NAME)), call("sns", "list_topics", None, {}))


def _recycle(*steps: Any) -> str | None:
    result: str | None = run(recycle_topic(spec(), TopicFacts(NAME, ARN), BASELINE, RecycleLimits()), *steps)
    return result


def test_recycling_unsubscribes_and_proves_the_topic_unchanged() -> None:
    assert (
        _recycle(
            call("sns", "list_subscriptions_by_topic", None, _subscriptions(SUB)),
            call("sns", "unsubscribe", {"SubscriptionArn": SUB}),
            *_read({**ATTRIBUTES, "SubscriptionsDeleted": "1"}),
        )
        is None
    )


def test_recycling_discards_a_topic_with_a_pending_subscription_a_changed_attribute_or_tags() -> None:
    pending = _recycle(call("sns", "list_subscriptions_by_topic", None, _subscriptions("PendingConfirmation")))
    assert pending is not None and "pending confirmation" in pending
    changed = _recycle(
        call("sns", "list_subscriptions_by_topic", None, _subscriptions()),
        *_read({**ATTRIBUTES, "DisplayName": "left", "DeliveryPolicy": "{}"}),
    )
    assert changed == "its attributes changed since its creation (DeliveryPolicy, DisplayName)"
    retagged = _recycle(
        call("sns", "list_subscriptions_by_topic", None, _subscriptions()),
        *_read(tags=[*TAG_LIST, {"Key": "owner", "Value": "someone"}]),
    )
    assert retagged == "its tags were changed"
