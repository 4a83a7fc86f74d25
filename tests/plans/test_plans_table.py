"""DynamoDB table plans (sandboxres._kinds.table.plans), every branch, through the scripted driver."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandboxres._engine.errors import CleanupError, ReadinessTimeoutError, SpecError
from sandboxres._engine.plans import DELETE_DEADLINE, Progress
from sandboxres._engine.settings import UNSEEN_GRACE
from sandboxres._engine.steps import Call, Poll
from sandboxres._kinds.table.indexes import Index
from sandboxres._kinds.table.plans import TableFacts, create_table, delete_table, list_tables, read_table_tags
from sandboxres._kinds.table.spec import TableSpec
from tests.support.scripted import ABSENT, Expect, Fail, Script, call, client_error, poll, run

NAME = "test_users_0123456789abcdef"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{NAME}"
STREAM = f"{ARN}/stream/2024-01-01T00:00:00.000"
TAGS = {"sandboxres:managed": "true"}
BY_NAME = {"TableName": NAME}
IN_USE = client_error("ResourceInUseException", "Table is being created")
NOT_FOUND = client_error("ResourceNotFoundException", "Requested resource not found")
THROTTLED = client_error("ThrottlingException")
PROTECTED = client_error("ValidationException", "Resource cannot be deleted as it is currently protected")


def spec(**options: Any) -> TableSpec:
    return TableSpec(label="users", timeout=30.0, keep=None, **options)


def table(status: str = "ACTIVE", **more: object) -> dict[str, object]:
    return {"TableName": NAME, "TableStatus": status, "TableArn": ARN, **more}


# ---------------------------------------------------------------------------------------------------------
# create


def test_create_uses_the_create_response_as_the_first_readiness_probe() -> None:
    progress = Progress()
    script = Script(
        call("dynamodb", "create_table", {**BY_NAME, "Tags": [{"Key": "sandboxres:managed", "Value": "true"}]},
             {"TableDescription": table()}, deadline=30.0),
        poll("dynamodb", "describe_table", BY_NAME, timeout=30.0),  # no probe: the create response was ACTIVE
    )  # fmt: skip
    facts = TableFacts(NAME)
    assert script.run(create_table(spec(), facts, TAGS, None, progress)) is facts
    assert (facts.arn, facts.stream_arn) == (ARN, None)
    assert progress.sent == progress.created == progress.confirmed == {NAME}


def test_create_polls_until_the_table_and_its_indexes_are_active() -> None:
    progress = Progress()
    creating = [{"IndexName": "by_email", "IndexStatus": "CREATING"}]
    active = [{"IndexName": "by_email", "IndexStatus": "ACTIVE"}, {"IndexName": "by_age"}]
    script = Script(
        call("dynamodb", "create_table", BY_NAME, {"TableDescription": table("CREATING")}),
        poll(
            "dynamodb",
            "describe_table",
            BY_NAME,
            Fail(NOT_FOUND, retry=True),  # eventual consistency: not visible yet
            Fail(THROTTLED, retry=True),
            {"Table": {"TableName": NAME}},  # no status: UNKNOWN
            {"Table": table(GlobalSecondaryIndexes=creating)},
            {"Table": table(GlobalSecondaryIndexes=active)},
        ),
    )
    indexes = (Index("by_email", "email"), Index("by_age", "age"))
    assert script.run(create_table(spec(global_indexes=indexes), TableFacts(NAME), TAGS, None, progress)).arn == ARN
    assert progress.confirmed == {NAME}


def test_create_meeting_its_own_earlier_attempt_waits_for_that_table() -> None:
    progress = Progress()
    script = Script(
        call("dynamodb", "create_table", BY_NAME, Fail(IN_USE, retry=False)),
        poll("dynamodb", "describe_table", BY_NAME, {"Table": table()}),  # no known response: a real probe
    )
    assert script.run(create_table(spec(), TableFacts(NAME), TAGS, None, progress)).arn == ARN
    assert progress.created == progress.confirmed == {NAME}
    probe = script.steps[1]
    assert isinstance(probe, Poll) and probe.known is None


@pytest.mark.parametrize(
    ("error", "sent"),
    [
        (Fail(client_error("ValidationException", "bad schema"), retry=False), set()),
        (Fail(client_error("LimitExceededException", "table quota"), retry=False), set()),
        (Fail(THROTTLED, retry=True, limit=30.0), {NAME}),  # throttled past the deadline: it may have landed
        (Fail(client_error("InternalServerError", status=500), retry=True), {NAME}),
    ],
)
def test_create_failures_are_raised_and_only_an_answer_clears_sent(error: Fail, sent: set[str]) -> None:
    progress = Progress()
    with pytest.raises(ClientError) as caught:
        run(
            create_table(spec(), TableFacts(NAME), TAGS, None, progress),
            call("dynamodb", "create_table", BY_NAME, error),
        )
    assert caught.value is error.error
    assert progress.sent == sent and not progress.created


def test_create_cut_short_keeps_the_name_sent() -> None:
    progress = Progress()
    plan = create_table(spec(), TableFacts(NAME), TAGS, None, progress)
    step = next(plan)
    assert isinstance(step, Call) and step.operation == "create_table"
    plan.close()
    assert progress.in_doubt(NAME)


def test_create_enables_ttl_and_waits_for_the_stream() -> None:
    progress = Progress()
    described = table(LatestStreamArn=STREAM)
    script = Script(
        call("dynamodb", "create_table", BY_NAME, {"TableDescription": described}),
        poll("dynamodb", "describe_table", BY_NAME),
        call("dynamodb", "update_time_to_live",
             {**BY_NAME, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}},
             Fail(IN_USE, retry=True, limit=30.0), {}, deadline=30.0),
        poll("dynamodb", "describe_time_to_live", BY_NAME,
             {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLING"}}, {},
             {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED"}}),
        poll("dynamodbstreams", "describe_stream", {"StreamArn": STREAM},
             Fail(NOT_FOUND, retry=True), {"StreamDescription": {"StreamStatus": "ENABLING"}}, {},
             {"StreamDescription": {"StreamStatus": "ENABLED"}}, timeout=30.0),
    )  # fmt: skip
    facts = script.run(
        create_table(spec(ttl_attribute="expires", stream="NEW_IMAGE"), TableFacts(NAME), TAGS, None, progress)
    )
    assert (facts.arn, facts.stream_arn) == (ARN, STREAM)


def test_create_without_a_stream_arn_does_not_wait_for_a_stream() -> None:
    script = Script(
        call("dynamodb", "create_table", BY_NAME, {"TableDescription": table()}),
        poll("dynamodb", "describe_table", BY_NAME),
    )
    assert (
        script.run(create_table(spec(stream="KEYS_ONLY"), TableFacts(NAME), TAGS, None, Progress())).stream_arn is None
    )


def test_create_not_ready_in_time_is_a_readiness_timeout_with_the_last_status() -> None:
    progress = Progress()
    script = Script(
        call("dynamodb", "create_table", BY_NAME, {"TableDescription": table("CREATING")}),
        poll("dynamodb", "describe_table", BY_NAME, {"Table": table("CREATING")}, times_out=True),
    )
    with pytest.raises(ReadinessTimeoutError) as caught:
        script.run(create_table(spec(), TableFacts(NAME), TAGS, None, progress))
    assert caught.value.last_status == "CREATING"
    assert progress.unseen(NAME) and not progress.in_doubt(NAME)


# ---------------------------------------------------------------------------------------------------------
# delete


def _gone(*before: object) -> Expect:
    return poll("dynamodb", "describe_table", BY_NAME, *before, Fail(NOT_FOUND, retry=False), timeout=5.0)


def test_delete_refuses_a_name_without_the_prefix_before_any_call() -> None:
    with pytest.raises(SpecError, match="refusing to delete"):
        run(delete_table(TableFacts("users"), Progress()))


def test_delete_waits_out_creating_for_its_own_deadline_then_until_gone() -> None:
    script = Script(
        # still CREATING: retried for the delete deadline even though this delete's timeout is 5 s
        call("dynamodb", "delete_table", BY_NAME, Fail(IN_USE, retry=True, limit=DELETE_DEADLINE), {}, deadline=5.0),
        _gone({"Table": table("DELETING")}, {"Table": {}}, {}),
    )
    assert script.run(delete_table(TableFacts(NAME), Progress(), 5.0)) is None


def test_delete_of_a_missing_table_is_done() -> None:
    not_retried = Fail(NOT_FOUND, retry=False)
    assert (
        run(delete_table(TableFacts(NAME), Progress()), call("dynamodb", "delete_table", BY_NAME, not_retried)) is None
    )


def test_delete_of_a_table_never_seen_ready_retries_not_found_for_the_grace() -> None:
    progress = Progress(sent={NAME}, created={NAME})
    graced = Fail(NOT_FOUND, retry=True, limit=UNSEEN_GRACE)
    assert run(delete_table(TableFacts(NAME), progress), call("dynamodb", "delete_table", BY_NAME, graced)) is None


def test_delete_of_a_table_whose_create_was_never_answered_is_reported() -> None:
    progress = Progress(sent={NAME})
    graced = Fail(NOT_FOUND, retry=True, limit=UNSEEN_GRACE)
    with pytest.raises(CleanupError, match="may still appear"):
        run(delete_table(TableFacts(NAME), progress), call("dynamodb", "delete_table", BY_NAME, graced))


def test_delete_turns_deletion_protection_off_then_deletes() -> None:
    script = Script(
        call("dynamodb", "delete_table", BY_NAME, Fail(PROTECTED, retry=False)),
        call("dynamodb", "update_table", {**BY_NAME, "DeletionProtectionEnabled": False},
             Fail(IN_USE, retry=True), {}, deadline=5.0),
        call("dynamodb", "delete_table", BY_NAME),
        _gone(),
    )  # fmt: skip
    assert script.run(delete_table(TableFacts(NAME), Progress(), 5.0)) is None


def test_delete_still_protected_after_turning_it_off_is_raised() -> None:
    script = Script(
        call("dynamodb", "delete_table", BY_NAME, Fail(PROTECTED, retry=False)),
        call("dynamodb", "update_table", BY_NAME),
        call("dynamodb", "delete_table", BY_NAME, Fail(PROTECTED, retry=False)),
    )
    with pytest.raises(ClientError, match="protected"):
        script.run(delete_table(TableFacts(NAME), Progress()))


@pytest.mark.parametrize(
    "error",
    [
        client_error("ValidationException", "1 validation error detected"),
        client_error("AccessDeniedException", status=400),
    ],
)
def test_delete_other_errors_are_raised(error: ClientError) -> None:
    with pytest.raises(ClientError) as caught:
        run(
            delete_table(TableFacts(NAME), Progress()),
            call("dynamodb", "delete_table", BY_NAME, Fail(error, retry=False)),
        )
    assert caught.value is error


def test_delete_still_deleting_past_the_deadline_is_not_a_leak(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(
        call("dynamodb", "delete_table", BY_NAME),
        poll("dynamodb", "describe_table", BY_NAME, {"Table": table("DELETING")}, times_out=True),
    )
    with caplog.at_level(logging.INFO, logger="sandboxres"):
        assert script.run(delete_table(TableFacts(NAME), Progress())) is None
    assert "still DELETING" in caplog.text


def test_delete_stuck_in_another_state_is_a_readiness_timeout() -> None:
    script = Script(
        call("dynamodb", "delete_table", BY_NAME),
        poll("dynamodb", "describe_table", BY_NAME, {"Table": table("ACTIVE")}, times_out=True),
    )
    with pytest.raises(ReadinessTimeoutError) as caught:
        script.run(delete_table(TableFacts(NAME), Progress()))
    assert caught.value.last_status == "ACTIVE"


# ---------------------------------------------------------------------------------------------------------
# tags and listing


def test_read_tags_every_page() -> None:
    script = Script(
        call("dynamodb", "describe_table", BY_NAME, {"Table": table()}, deadline=60.0),
        call("dynamodb", "list_tags_of_resource", {"ResourceArn": ARN, "NextToken": ABSENT},
             {"Tags": [{"Key": "a", "Value": "1"}], "NextToken": "p2"}),
        call("dynamodb", "list_tags_of_resource", {"ResourceArn": ARN, "NextToken": "p2"}, {"NextToken": ""}),
    )  # fmt: skip
    assert script.run(read_table_tags(TableFacts(NAME))) == {"a": "1"}


def test_read_tags_of_a_missing_table_is_none() -> None:
    assert (
        run(
            read_table_tags(TableFacts(NAME)), call("dynamodb", "describe_table", BY_NAME, Fail(NOT_FOUND, retry=False))
        )
        is None
    )
    script = Script(
        call("dynamodb", "describe_table", BY_NAME, {"Table": table()}),
        call("dynamodb", "list_tags_of_resource", {"ResourceArn": ARN}, Fail(NOT_FOUND, retry=False)),
    )
    assert script.run(read_table_tags(TableFacts(NAME))) is None


def test_read_tags_other_errors_are_raised() -> None:
    denied = client_error("AccessDeniedException")
    with pytest.raises(ClientError):
        run(read_table_tags(TableFacts(NAME)), call("dynamodb", "describe_table", BY_NAME, Fail(denied, retry=False)))
    script = Script(
        call("dynamodb", "describe_table", BY_NAME, {"Table": table()}),
        call("dynamodb", "list_tags_of_resource", None, Fail(THROTTLED, retry=True, limit=60.0)),
    )
    with pytest.raises(ClientError):
        script.run(read_table_tags(TableFacts(NAME)))


def test_list_tables_every_page_ours_only() -> None:
    script = Script(
        call("dynamodb", "list_tables", {}, {"TableNames": ["test_a_1", "prod_users"], "LastEvaluatedTableName": "p"},
             deadline=120.0),
        call("dynamodb", "list_tables", {"ExclusiveStartTableName": "p"}, {"TableNames": ["test_b_2"]}),
    )  # fmt: skip
    assert [listed.facts.name for listed in script.run(list_tables())] == ["test_a_1", "test_b_2"]
    assert run(list_tables(), call("dynamodb", "list_tables")) == []
