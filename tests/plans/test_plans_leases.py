"""The lease table's records and plans (sandboxres._leases), every branch, through the scripted driver.

A write whose answer was lost is retried by the driver (here: a reset, a throttle or a 500 first, then the
retry's answer); its retry may meet the earlier attempt's own effect as a failed condition. The plans never take
that failure at its word: they read the record back, and its token (a release: its ``released`` token) decides.

Every request is checked exactly: the scripted driver checks the parameters an expectation names, and :func:`run`
here also fails on any parameter the expectation does not name.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ConnectionClosedError

from sandboxres._engine.steps import Plan, Poll
from sandboxres._kinds.queue.plans import QueueFacts
from sandboxres._kinds.table.plans import TableFacts
from sandboxres._leases.plans import (
    FAILED_CONDITION,
    TABLE_TIMEOUT,
    LeaseConflict,
    ensure_lease_table,
    forget,
    lease_table_spec,
    read_record,
    read_records,
    register,
    release,
    renew,
    take_lease,
)
from sandboxres._leases.records import (
    IDLE,
    KEY,
    LEASE_TABLE,
    LEASED,
    SHAPE,
    LeaseRecord,
    facts_as_dict,
    facts_from_dict,
    key_of,
)
from tests.support.scripted import ABSENT, Expect, Fail, Script, ScriptError, call, client_error, poll

T = TypeVar("T")

NAME = "test_users_0123456789abcdef"
KEY_OF = f"table#{NAME}"
SHAPED = "table:{}"
ITEM_KEY = {SHAPE: {"S": SHAPED}, KEY: {"S": KEY_OF}}
BY_KEY = {"TableName": LEASE_TABLE, "Key": ITEM_KEY}
READ = {**BY_KEY, "ConsistentRead": True}
CONDITION = client_error(FAILED_CONDITION, "The conditional request failed")
THROTTLED = client_error("ThrottlingException")
INTERNAL = client_error("InternalServerError", status=500)
DENIED = client_error("AccessDeniedException")
NOT_FOUND = client_error("ResourceNotFoundException")
IN_USE = client_error("ResourceInUseException", "Table is being created")
RESET = ConnectionClosedError(endpoint_url="http://127.0.0.1:1")
MINE, THEIRS, EARLIER = "a" * 32, "b" * 32, "c" * 32
TAGS = {"sandboxres:managed": "true", "sandboxres:role": "pool-leases"}


def run(plan: Plan[T], *expected: Expect) -> T:
    """Drive ``plan`` through ``expected`` (as ``tests.support.scripted.run``); every request whose parameters an
    expectation gives must be exactly those: a parameter it does not name fails the test."""
    script = Script(*expected)
    try:
        return script.run(plan)
    finally:
        for done in script.done:
            if done.params is None or done.step is None:
                continue
            made = done.step.call if isinstance(done.step, Poll) else done.step
            params = made.request()
            extra = sorted(set(params) - set(done.params))
            if extra:
                raise ScriptError(f"{done}: unexpected parameters {extra} in {dict(params)}")


def lost(error: Any = RESET) -> Fail:
    """A transient failure the driver retries (the attempt may or may not have landed)."""
    return Fail(error, retry=True)


def refused(error: Any = CONDITION) -> Fail:
    """A final failure, thrown into the plan."""
    return Fail(error, retry=False)


def record(**changes: Any) -> LeaseRecord:
    values: dict[str, Any] = {
        "kind": "table",
        "name": NAME,
        "shape": SHAPED,
        "state": IDLE,
        "holder": "run-1",
        "token": MINE,
        "expires": 100.0,
        "idle_since": 50.0,
        "created": 10.0,
        "creation_seconds": 2.5,
        "clean": True,
        "version": 3,
        "facts": {"name": NAME, "arn": ""},
        "baseline": {"tags": {"team": "a"}},
    }
    values.update(changes)
    return LeaseRecord(**values)


def item(**changes: Any) -> dict[str, Any]:
    return {"Item": record(**changes).to_item()}


def brief_item(**changes: Any) -> dict[str, Any]:
    """A record's item as a brief read projects it (no facts, no baseline, no token...)."""
    whole = record(**changes).to_item()
    return {name: whole[name] for name in BRIEF_ATTRIBUTES}


# ---------------------------------------------------------------------------------------------------------
# records


def test_a_record_round_trips_through_its_item() -> None:
    original = record(state=LEASED, released=EARLIER, facts={"name": NAME, "nested": {"a": 1}}, baseline={"when": 1.5})
    assert LeaseRecord.from_item(original.to_item()) == original
    assert original.key == key_of("table", NAME) == KEY_OF
    assert original.to_item()["expires"] == {"N": "100.000"}
    assert original.to_item()["creation_seconds"] == {"N": "2.500"}
    assert original.to_item()["released"] == {"S": EARLIER}


def test_a_record_is_keyed_by_its_shape_and_resource() -> None:
    assert record().item_key() == ITEM_KEY
    assert {name: record().to_item()[name] for name in (SHAPE, KEY)} == ITEM_KEY


def test_empty_holder_token_and_released_are_written_as_a_dash_and_read_back_empty() -> None:
    item_ = record(holder="", token="", released="").to_item()
    assert item_["holder"] == item_["token"] == item_["released"] == {"S": "-"}
    back = LeaseRecord.from_item(item_)
    assert (back.holder, back.token, back.released) == ("", "", "")


def test_an_item_missing_attributes_reads_as_leased_unclean_and_empty() -> None:
    back = LeaseRecord.from_item({KEY: {"S": KEY_OF}, "kind": {"S": "table"}, "name": {"S": NAME}})
    assert back == LeaseRecord(kind="table", name=NAME, shape="", state=LEASED)
    assert (back.facts, back.baseline, back.version, back.clean) == ({}, {}, 0, False)
    assert (back.creation_seconds, back.released) == (0.0, "")


@pytest.mark.parametrize(
    ("state", "expires", "available"),
    [(IDLE, 0.0, True), (IDLE, 500.0, True), (LEASED, 500.0, False), (LEASED, 99.0, True)],
    ids=["idle", "idle-unexpired", "leased-live", "leased-expired"],
)
def test_available_means_idle_or_an_expired_lease(state: str, expires: float, available: bool) -> None:
    assert record(state=state, expires=expires).available(now=100.0) is available


def test_facts_go_to_a_dict_and_back_nested_ones_included_unknown_fields_dropped() -> None:
    facts = QueueFacts("q", url="u", arn="a", dead_letter=QueueFacts("dlq", url="du"))
    values = json.loads(json.dumps(facts_as_dict(facts)))
    assert facts_from_dict(QueueFacts, values) == facts
    assert facts_from_dict(TableFacts, {"name": NAME, "arn": "x", "from_a_later_version": 1}) == TableFacts(NAME, "x")


# ---------------------------------------------------------------------------------------------------------
# the table


DESCRIBE = {"TableName": LEASE_TABLE}
CREATE = {
    "TableName": LEASE_TABLE,
    "KeySchema": [{"AttributeName": "shape", "KeyType": "HASH"}, {"AttributeName": "resource", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "shape", "AttributeType": "S"},
        {"AttributeName": "resource", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
}


def test_the_lease_table_is_keyed_by_shape_and_resource_with_a_long_readiness_deadline() -> None:
    spec = lease_table_spec()
    assert (spec.hash_key, spec.range_key, spec.timeout, spec.keep) == ("shape", "resource", TABLE_TIMEOUT, None)


def test_an_active_lease_table_is_used_as_it_is() -> None:
    described = {"Table": {"TableName": LEASE_TABLE, "TableStatus": "ACTIVE"}}
    assert run(ensure_lease_table(TAGS, None), call("dynamodb", "describe_table", DESCRIBE, described)) is False


def test_a_missing_lease_table_is_created_tagged_and_awaited() -> None:
    created = {"TableDescription": {"TableName": LEASE_TABLE, "TableStatus": "CREATING"}}
    active = {"Table": {"TableName": LEASE_TABLE, "TableStatus": "ACTIVE", "TableArn": "arn"}}
    assert run(
        ensure_lease_table(TAGS, None),
        call("dynamodb", "describe_table", DESCRIBE, refused(NOT_FOUND)),
        call("dynamodb", "create_table", CREATE, created),
        poll("dynamodb", "describe_table", DESCRIBE, active, timeout=TABLE_TIMEOUT),
    )


def test_a_lease_table_another_run_is_creating_is_awaited_not_created_twice() -> None:
    creating = {"Table": {"TableName": LEASE_TABLE, "TableStatus": "CREATING"}}
    active = {"Table": {"TableName": LEASE_TABLE, "TableStatus": "ACTIVE"}}
    assert (
        run(
            ensure_lease_table(TAGS, None),
            call("dynamodb", "describe_table", DESCRIBE, creating),
            call("dynamodb", "create_table", CREATE, refused(IN_USE)),
            poll("dynamodb", "describe_table", DESCRIBE, active),
        )
        is False
    )


def test_a_lease_table_that_cannot_be_described_is_an_error() -> None:
    with pytest.raises(type(DENIED)) as raised:
        run(ensure_lease_table(TAGS, None), call("dynamodb", "describe_table", DESCRIBE, refused(DENIED)))
    assert raised.value is DENIED


# ---------------------------------------------------------------------------------------------------------
# reading


BRIEF_ATTRIBUTES = ("shape", "resource", "kind", "name", "state", "holder", "expires", "idle_since", "clean", "version")
BRIEF_NAMES = {f"#b{i}": name for i, name in enumerate(BRIEF_ATTRIBUTES)}
PROJECTION = "#b0, #b1, #b2, #b3, #b4, #b5, #b6, #b7, #b8, #b9"
QUERY = {
    "TableName": LEASE_TABLE,
    "ConsistentRead": True,
    "KeyConditionExpression": "#shape = :shape",
    "ExpressionAttributeNames": {"#shape": "shape"},
    "ExpressionAttributeValues": {":shape": {"S": SHAPED}},
}
SCAN = {"TableName": LEASE_TABLE, "ConsistentRead": True}
FIRST_PAGE = ABSENT  # the first page's request has no ExclusiveStartKey


def test_read_record_is_consistent_by_its_shape_and_resource_and_none_when_absent() -> None:
    assert run(read_record(record()), call("dynamodb", "get_item", READ, item())) == record()
    assert run(read_record(record(state=LEASED)), call("dynamodb", "get_item", READ, {})) is None


def test_read_records_of_a_shape_queries_its_partition_every_page() -> None:
    other = record(name="test_users_fedcba9876543210", token=THEIRS)
    first = {"Items": [record().to_item()], "LastEvaluatedKey": ITEM_KEY}
    found = run(
        read_records(SHAPED),
        call("dynamodb", "query", {**QUERY, "ExclusiveStartKey": FIRST_PAGE}, lost(THROTTLED), first),
        call("dynamodb", "query", {**QUERY, "ExclusiveStartKey": ITEM_KEY}, {"Items": [other.to_item()]}),
    )
    assert found == [record(), other]


def test_read_records_without_a_shape_scans_everything_every_page() -> None:
    first = {"Items": [record().to_item()], "LastEvaluatedKey": ITEM_KEY}
    found = run(
        read_records(),
        call("dynamodb", "scan", {**SCAN, "ExclusiveStartKey": FIRST_PAGE}, first),
        call("dynamodb", "scan", {**SCAN, "ExclusiveStartKey": ITEM_KEY}, {}),
    )
    assert found == [record()]


def test_a_brief_read_of_a_shape_projects_the_brief_attributes_only() -> None:
    brief = {
        **QUERY,
        "ProjectionExpression": PROJECTION,
        "ExpressionAttributeNames": {"#shape": "shape", **BRIEF_NAMES},
        "ExclusiveStartKey": FIRST_PAGE,
    }
    (found,) = run(read_records(SHAPED, brief=True), call("dynamodb", "query", brief, {"Items": [brief_item()]}))
    assert found == record(token="", creation_seconds=0.0, created=0.0, facts={}, baseline={})


def test_a_brief_read_of_everything_scans_with_the_projection_and_no_key_condition() -> None:
    brief = {
        **SCAN,
        "ProjectionExpression": PROJECTION,
        "ExpressionAttributeNames": BRIEF_NAMES,
        "ExclusiveStartKey": FIRST_PAGE,
    }
    assert run(read_records(brief=True), call("dynamodb", "scan", brief, {"Items": []})) == []


def test_the_brief_attributes_leave_out_facts_baseline_and_tokens() -> None:
    assert {"facts", "baseline", "token", "released"}.isdisjoint(BRIEF_ATTRIBUTES)


# ---------------------------------------------------------------------------------------------------------
# taking a lease


def taking(seen: LeaseRecord | None = None) -> Any:
    return take_lease(seen or record(token=THEIRS), "run-2", MINE, 1000.0, 120.0)


def take_request(clean: bool = True) -> dict[str, Any]:
    return {
        **BY_KEY,
        "UpdateExpression": "SET #a0 = :a0, #a1 = :a1, #a2 = :a2, #a3 = :a3, #a4 = :a4, #a5 = :a5",
        "ReturnValues": "ALL_NEW",
        "ConditionExpression": "#version = :seen",
        "ExpressionAttributeNames": {
            "#a0": "state",
            "#a1": "holder",
            "#a2": "token",
            "#a3": "expires",
            "#a4": "clean",
            "#a5": "version",
            "#version": "version",
        },
        "ExpressionAttributeValues": {
            ":a0": {"S": LEASED},
            ":a1": {"S": "run-2"},
            ":a2": {"S": MINE},
            ":a3": {"N": "1120.000"},
            ":a4": {"BOOL": clean},
            ":a5": {"N": "4"},
            ":seen": {"N": "3"},
        },
    }


TAKE = take_request()
TAKEN = record(state=LEASED, holder="run-2", token=MINE, expires=1120.0, version=4)


def test_a_lease_is_taken_on_the_version_read_and_the_whole_record_comes_back_with_the_write() -> None:
    got = run(taking(), call("dynamodb", "update_item", TAKE, {"Attributes": TAKEN.to_item()}))
    assert got == TAKEN


def test_a_lease_taken_on_a_brief_read_returns_the_facts_and_baseline_the_write_returned() -> None:
    seen = LeaseRecord.from_item(brief_item(token=THEIRS))
    assert (seen.facts, seen.baseline) == ({}, {})
    got = run(taking(seen), call("dynamodb", "update_item", TAKE, {"Attributes": TAKEN.to_item()}))
    assert got is not None and (got.facts, got.baseline) == (TAKEN.facts, TAKEN.baseline)


def test_an_expired_lease_taken_over_is_written_unclean_whatever_it_said() -> None:
    expired = record(state=LEASED, token=THEIRS, expires=10.0, clean=True)
    won = record(state=LEASED, holder="run-2", token=MINE, expires=1120.0, clean=False, version=4)
    got = run(
        taking(expired), call("dynamodb", "update_item", take_request(clean=False), {"Attributes": won.to_item()})
    )
    assert got == won


def test_a_lease_another_run_took_first_is_none() -> None:
    assert (
        run(
            taking(),
            call("dynamodb", "update_item", TAKE, refused()),
            call("dynamodb", "get_item", READ, item(state=LEASED, token=THEIRS, version=4)),
        )
        is None
    )


def test_a_lease_whose_answer_was_lost_and_that_landed_is_ours() -> None:
    got = run(
        taking(),
        call("dynamodb", "update_item", TAKE, lost(), lost(INTERNAL), refused()),
        call("dynamodb", "get_item", READ, lost(THROTTLED), {"Item": TAKEN.to_item()}),
    )
    assert got == TAKEN


def test_a_lease_whose_answer_was_lost_and_that_another_run_beat_is_none() -> None:
    assert (
        run(
            taking(),
            call("dynamodb", "update_item", TAKE, lost(), refused()),
            call("dynamodb", "get_item", READ, item(state=LEASED, token=THEIRS, version=4)),
        )
        is None
    )


@pytest.mark.parametrize(
    "now_there", [{}, item(state=IDLE, token=MINE, version=5)], ids=["record-gone", "ours-but-idle-again"]
)
def test_a_failed_lease_whose_record_is_gone_or_idle_again_is_none(now_there: dict[str, Any]) -> None:
    assert (
        run(taking(), call("dynamodb", "update_item", TAKE, refused()), call("dynamodb", "get_item", READ, now_there))
        is None
    )


def test_a_lease_refused_for_another_reason_is_an_error() -> None:
    with pytest.raises(type(DENIED)):
        run(taking(), call("dynamodb", "update_item", TAKE, refused(DENIED)))


# ---------------------------------------------------------------------------------------------------------
# registering a new resource


def registered() -> LeaseRecord:
    return record(state=LEASED, holder="run-2", token=MINE, version=0, clean=False)


PUT = {
    "TableName": LEASE_TABLE,
    "Item": registered().to_item(),
    "ConditionExpression": "attribute_not_exists(#key)",
    "ExpressionAttributeNames": {"#key": KEY},
}


def test_register_puts_the_record_unless_it_exists() -> None:
    assert run(register(registered()), call("dynamodb", "put_item", PUT)) is None


def test_register_whose_answer_was_lost_and_that_landed_is_done() -> None:
    run(
        register(registered()),
        call("dynamodb", "put_item", PUT, lost(), refused()),
        call("dynamodb", "get_item", READ, {"Item": registered().to_item()}),
    )


@pytest.mark.parametrize("now_there", [item(token=THEIRS), {}], ids=["another-lease", "gone-again"])
def test_register_meeting_another_record_is_a_conflict(now_there: dict[str, Any]) -> None:
    with pytest.raises(LeaseConflict, match=KEY_OF):
        run(
            register(registered()),
            call("dynamodb", "put_item", PUT, refused()),
            call("dynamodb", "get_item", READ, now_there),
        )


def test_register_refused_for_another_reason_is_an_error() -> None:
    with pytest.raises(type(DENIED)):
        run(register(registered()), call("dynamodb", "put_item", PUT, refused(DENIED)))


# ---------------------------------------------------------------------------------------------------------
# renewing


HELD = {":token": {"S": MINE}, ":leased": {"S": LEASED}}
RENEW = {
    **BY_KEY,
    "UpdateExpression": "SET #a0 = :a0",
    "ReturnValues": "ALL_NEW",
    "ConditionExpression": "#token = :token AND #state = :leased",
    "ExpressionAttributeNames": {"#a0": "expires", "#token": "token", "#state": "state"},
    "ExpressionAttributeValues": {":a0": {"N": "2120.000"}, **HELD},
}


def test_renew_pushes_the_expiry_of_our_lease() -> None:
    held = registered()
    renewed = {"Attributes": record(state=LEASED, holder="run-2", expires=2120.0, version=0, clean=False).to_item()}
    assert run(renew(held, 2000.0, 120.0), call("dynamodb", "update_item", RENEW, lost(), renewed)) is True
    assert held.expires == 2120.0


def test_renew_of_a_lease_taken_over_is_false_and_changes_nothing() -> None:
    held = registered()
    assert run(renew(held, 2000.0, 120.0), call("dynamodb", "update_item", RENEW, refused())) is False
    assert held.expires == 100.0


def test_renew_refused_for_another_reason_is_an_error() -> None:
    with pytest.raises(type(DENIED)):
        run(renew(registered(), 2000.0, 120.0), call("dynamodb", "update_item", RENEW, refused(DENIED)))


# ---------------------------------------------------------------------------------------------------------
# releasing


def release_request(clean: bool = True) -> dict[str, Any]:
    return {
        **BY_KEY,
        "UpdateExpression": "SET #a0 = :a0, #a1 = :a1, #a2 = :a2, #a3 = :a3, #a4 = :a4, #a5 = :a5, #a6 = :a6",
        "ReturnValues": "ALL_NEW",
        "ConditionExpression": "#token = :token AND #state = :leased",
        "ExpressionAttributeNames": {
            "#a0": "state",
            "#a1": "idle_since",
            "#a2": "clean",
            "#a3": "facts",
            "#a4": "baseline",
            "#a5": "version",
            "#a6": "released",
            "#token": "token",
            "#state": "state",
        },
        "ExpressionAttributeValues": {
            ":a0": {"S": IDLE},
            ":a1": {"N": "3000.000"},
            ":a2": {"BOOL": clean},
            ":a3": {"S": json.dumps(record().facts, sort_keys=True)},
            ":a4": {"S": json.dumps(record().baseline, sort_keys=True)},
            ":a5": {"N": "4"},
            ":a6": {"S": MINE},
            **HELD,
        },
    }


RELEASE = release_request()
RELEASED = record(state=IDLE, holder="run-2", token=MINE, idle_since=3000.0, version=4, released=MINE)


def held() -> LeaseRecord:
    return record(state=LEASED, holder="run-2", token=MINE, version=3, released=EARLIER)


def test_release_makes_our_lease_idle_and_records_our_token_as_the_release() -> None:
    released = {"Attributes": RELEASED.to_item()}
    assert run(release(held(), 3000.0, clean=True), call("dynamodb", "update_item", RELEASE, released)) is True


def test_release_after_an_unproven_recycling_is_written_unclean() -> None:
    unclean = release_request(clean=False)
    assert run(release(held(), 3000.0, clean=False), call("dynamodb", "update_item", unclean)) is True


def test_release_whose_answer_was_lost_and_that_landed_is_done() -> None:
    assert run(
        release(held(), 3000.0, clean=True),
        call("dynamodb", "update_item", RELEASE, lost(), refused()),
        call("dynamodb", "get_item", READ, lost(THROTTLED), {"Item": RELEASED.to_item()}),
    )


def test_release_that_landed_before_another_run_leased_it_is_done() -> None:
    # The answer was lost, and another run leased the idle resource before the retry: the retry's condition
    # fails on that lease, but "released" (a takeover leaves it alone) still names ours.
    assert run(
        release(held(), 3000.0, clean=True),
        call("dynamodb", "update_item", RELEASE, lost(), refused()),
        call("dynamodb", "get_item", READ, item(state=LEASED, holder="run-3", token=THEIRS, version=5, released=MINE)),
    )


@pytest.mark.parametrize(
    "now_there",
    [
        item(state=LEASED, token=THEIRS, version=4, released=EARLIER),
        item(state=LEASED, token=THEIRS, version=4),
        item(state=IDLE, token=THEIRS, version=5, released=THEIRS),
        item(state=LEASED, token=MINE, version=3, released=EARLIER),
        {},
    ],
    ids=["taken-over", "taken-over-never-released", "taken-over-and-released-by-it", "still-leased", "gone"],
)
def test_release_of_a_lease_lost_before_is_false(now_there: dict[str, Any]) -> None:
    assert (
        run(
            release(held(), 3000.0, clean=True),
            call("dynamodb", "update_item", RELEASE, refused()),
            call("dynamodb", "get_item", READ, now_there),
        )
        is False
    )


def test_release_refused_for_another_reason_is_an_error() -> None:
    with pytest.raises(type(DENIED)):
        run(release(held(), 3000.0, clean=True), call("dynamodb", "update_item", RELEASE, refused(DENIED)))


# ---------------------------------------------------------------------------------------------------------
# forgetting


DELETE = {
    **BY_KEY,
    "ConditionExpression": "#token = :token",
    "ExpressionAttributeNames": {"#token": "token"},
    "ExpressionAttributeValues": {":token": {"S": MINE}},
}


def test_forget_deletes_the_record_of_our_lease() -> None:
    assert run(forget(held()), call("dynamodb", "delete_item", DELETE)) is True


def test_forget_whose_answer_was_lost_and_that_landed_is_done() -> None:
    assert run(
        forget(held()),
        call("dynamodb", "delete_item", DELETE, lost(), refused()),
        call("dynamodb", "get_item", READ, {}),
    )


def test_forget_of_a_lease_taken_over_is_false() -> None:
    assert (
        run(
            forget(held()),
            call("dynamodb", "delete_item", DELETE, refused()),
            call("dynamodb", "get_item", READ, item(state=LEASED, token=THEIRS)),
        )
        is False
    )


def test_forget_refused_for_another_reason_is_an_error() -> None:
    with pytest.raises(type(DENIED)):
        run(forget(held()), call("dynamodb", "delete_item", DELETE, refused(DENIED)))


# ---------------------------------------------------------------------------------------------------------
# the exact-request check itself


def test_a_request_with_a_parameter_the_expectation_does_not_name_fails() -> None:
    with pytest.raises(ScriptError, match="unexpected parameters \\['ConsistentRead'\\]"):
        run(read_record(record()), call("dynamodb", "get_item", BY_KEY, item()))
