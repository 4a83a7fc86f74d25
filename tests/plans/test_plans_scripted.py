"""The scripted driver itself (tests/support/scripted.py): it fails a test whenever a plan strays from its script."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxres._engine.errors import ReadinessTimeoutError
from sandboxres._engine.steps import Call, NotReady, Outcome, Plan, Poll, RetryPolicy
from tests.support.scripted import ABSENT, Fail, Script, ScriptError, call, client_error, poll

POLICY = RetryPolicy(10.0, {"ResourceInUseException": 300.0})
IN_USE = client_error("ResourceInUseException")
INVALID = client_error("ValidationException")
THROTTLED = client_error("ThrottlingException")


def one_call(params: dict[str, Any] | None = None) -> Plan[Any]:
    return (yield Call("dynamodb", "delete_table", params or {"TableName": "t"}, POLICY))


def ready(response: Any) -> Any:
    if response.get("Status") != "READY":
        raise NotReady(str(response.get("Status")))
    return response["Status"]


def one_poll(known: Any = None) -> Plan[Any]:
    check = Call("dynamodb", "describe_table", {"TableName": "t"}, POLICY)
    return (yield Poll(check, ready, "table t", 30.0, {"ResourceNotFoundException": Outcome.NOT_READY}, known))


def swallowing() -> Plan[str]:
    try:
        yield Call("s3", "head_bucket", {})
    except Exception:
        return "swallowed"
    return "answered"


def test_a_plan_that_follows_its_script() -> None:
    assert Script(call("dynamodb", "delete_table", {"TableName": "t"}, {"ok": 1}, deadline=10.0)).run(one_call()) == {
        "ok": 1
    }
    retried = Script(call("dynamodb", "delete_table", None, Fail(IN_USE, retry=True, limit=300.0), Fail(THROTTLED,
                     retry=True, limit=10.0), "done"))  # fmt: skip
    assert retried.run(one_call()) == "done"
    (step,) = retried.steps
    assert isinstance(step, Call) and step.operation == "delete_table"


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        (call("dynamodb", "create_table"), "expected Call dynamodb.create_table"),
        (call("s3", "delete_table"), "expected Call s3.delete_table"),
        (call("dynamodb", "delete_table", {"TableName": "u"}), "TableName should be 'u'"),
        (call("dynamodb", "delete_table", {"Other": 1}), "Other should be 1, got '.absent.'"),
        (call("dynamodb", "delete_table", {"TableName": ABSENT}), "TableName should be absent"),
        (call("dynamodb", "delete_table", None, deadline=5.0), "deadline 10.0, expected 5.0"),
        (poll("dynamodb", "delete_table"), "the plan yielded a Call"),
        (call("dynamodb", "delete_table", None, Fail(IN_USE, retry=False)), "retried=True, expected False"),
        (call("dynamodb", "delete_table", None, Fail(INVALID, retry=True)), "retried=False, expected True"),
        (call("dynamodb", "delete_table", None, Fail(IN_USE, retry=True, limit=10.0)), "for 300.0 s, expected 10.0"),
        (call("dynamodb", "delete_table", None, {}, {}), "a reply must be the last outcome"),
        (call("dynamodb", "delete_table", None, Fail(INVALID, retry=False), {}), "must be the last outcome"),
    ],
)
def test_a_step_other_than_the_expected_one_fails_the_test(expect: Any, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        Script(expect).run(one_call())


def test_steps_left_over_or_beyond_the_script_fail_the_test() -> None:
    with pytest.raises(ScriptError, match=r"returned before Call s3\.delete_bucket"):
        Script(call("dynamodb", "delete_table"), call("s3", "delete_bucket")).run(one_call())
    with pytest.raises(ScriptError, match=r"raised .*ValidationException.* before Call s3\.delete_bucket"):
        Script(call("dynamodb", "delete_table", None, Fail(INVALID, retry=False)), call("s3", "delete_bucket")).run(
            one_call()
        )
    with pytest.raises(ScriptError, match="unexpected step after the script's end"):
        Script().run(one_call())


def test_a_plan_yielding_something_else_fails_the_test() -> None:
    def odd() -> Plan[None]:
        yield "not a step"  # type: ignore[misc]

    with pytest.raises(ScriptError, match="not a step"):
        Script(call("s3", "head_bucket")).run(odd())


def test_script_errors_never_reach_the_plan() -> None:
    assert Script(call("s3", "head_bucket", None, Fail(INVALID, retry=False))).run(swallowing()) == "swallowed"
    with pytest.raises(ScriptError):
        Script(call("s3", "delete_bucket")).run(swallowing())


def test_polls_apply_first_and_settle() -> None:
    assert Script(poll("dynamodb", "describe_table", None, timeout=30.0)).run(one_poll({"Status": "READY"})) == "READY"
    probes = (
        Fail(client_error("ResourceNotFoundException"), retry=True),
        Fail(THROTTLED, retry=True),
        {"Status": "READY"},
    )
    assert Script(poll("dynamodb", "describe_table", None, *probes)).run(one_poll({"Status": "NEW"})) == "READY"
    with pytest.raises(ReadinessTimeoutError, match="last status: NEW"):
        Script(poll("dynamodb", "describe_table", None, times_out=True)).run(one_poll({"Status": "NEW"}))
    with pytest.raises(type(THROTTLED)):
        Script(poll("dynamodb", "describe_table", None, Fail(THROTTLED, retry=True), times_out=True)).run(one_poll())
    with pytest.raises(type(INVALID)):
        Script(poll("dynamodb", "describe_table", None, Fail(INVALID, retry=False))).run(one_poll())


@pytest.mark.parametrize(
    ("probes", "options", "message"),
    [
        ((), {}, "wants another probe after 0"),
        (({"Status": "NEW"},), {}, "wants another probe after 1"),
        (({"Status": "READY"}, {}), {}, "returned 'READY', with probes"),
        (({"Status": "READY"},), {"times_out": True}, "returned 'READY'"),
        ((Fail(INVALID, retry=False), {}), {}, "ended with .*ValidationException.* before probes"),
        ((Fail(INVALID, retry=True),), {}, "retried=False, expected True"),
        ((Fail(THROTTLED, retry=False),), {}, "retried=True, expected False"),
        ((), {"timeout": 5.0}, "deadline 30.0, expected 5.0"),
    ],
)
def test_a_poll_off_its_script_fails_the_test(probes: tuple[Any, ...], options: dict[str, Any], message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        Script(poll("dynamodb", "describe_table", None, *probes, **options)).run(one_poll())


def test_a_done_outcome_is_not_a_retry() -> None:
    def deleted() -> Plan[Any]:
        check = Call("dynamodb", "describe_table", {}, POLICY)
        return (yield Poll(check, ready, "table t", 30.0, {"ResourceNotFoundException": Outcome.DONE}))

    gone = client_error("ResourceNotFoundException")
    assert Script(poll("dynamodb", "describe_table", None, Fail(gone, retry=False))).run(deleted()) is None
    with pytest.raises(ScriptError, match="retried=False, expected True"):
        Script(poll("dynamodb", "describe_table", None, Fail(gone, retry=True))).run(deleted())
