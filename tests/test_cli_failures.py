"""``check`` results and ``doctor`` findings from typed fields: the cause of a failure is read from the exception
(classes, error codes, HTTP status, what it chains), never parsed back from a rendered line; the probes, checks
and fixtures come from the kinds."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from sandboxres._doors import fixtures, sync
from sandboxres._doors.cli import check, doctor
from sandboxres._doors.cli.check import CHECKS, CheckStatus, KindResult, Stage, check_kind
from sandboxres._doors.cli.failures import Cause, failure_of, hint_for
from sandboxres._engine.classify import as_resource_error
from sandboxres._engine.errors import (
    CleanupError,
    ConfigurationError,
    EndpointUnreachableError,
    GuardError,
    ReadinessTimeoutError,
)
from sandboxres._kinds import KINDS
from sandboxres._runtime.target import Target


def _client_error(code: str, message: str = "m", status: int = 400, operation: str = "ListTables") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


def _named(exc: BaseException, resource: str = "table test_x_1") -> BaseException:
    """``exc`` as the lifecycle raises it: wrapped in the library's error, chained from the SDK's."""
    try:
        try:
            raise exc
        except Exception as inner:
            raise as_resource_error(inner, resource) from inner
    except Exception as outer:
        return outer


CASES: list[tuple[BaseException, Cause]] = [
    (ConfigurationError("SANDBOXRES_TARGET='staging' is not a target"), Cause.CONFIGURATION),
    (GuardError("refusing real AWS in CI"), Cause.GUARD),
    (NoCredentialsError(), Cause.NO_CREDENTIALS),
    (NoRegionError(), Cause.NO_REGION),
    (_client_error("ExpiredTokenException"), Cause.EXPIRED),
    (_client_error("InvalidAccessKeyId"), Cause.BAD_CREDENTIALS),
    (_client_error("Other", "The security token included in the request is invalid."), Cause.BAD_CREDENTIALS),
    (_client_error("AccessDeniedException"), Cause.ACCESS_DENIED),
    (_client_error("Other", "User: x is not authorized to perform: sqs:ListQueues"), Cause.ACCESS_DENIED),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Cause.CONNECTION),
    (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), Cause.CONNECTION),
    (EndpointUnreachableError("http://127.0.0.1:1", "dynamodb"), Cause.CONNECTION),
    (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), Cause.TIMEOUT),
    (ReadinessTimeoutError("table test_x", 3.0, "CREATING"), Cause.READINESS),
    (_client_error("InvalidAction"), Cause.NOT_IMPLEMENTED),
    (_client_error("InternalFailure", "API action not yet implemented", status=500), Cause.NOT_IMPLEMENTED),
    (_client_error("Whatever", status=501), Cause.NOT_IMPLEMENTED),
    (AssertionError("read back None instead of the item written"), Cause.MISMATCH),
    (_client_error("ValidationException"), Cause.OTHER),
    (RuntimeError("boom"), Cause.OTHER),
]


@pytest.mark.parametrize(("exc", "cause"), CASES, ids=lambda value: getattr(value, "value", type(value).__name__))
def test_the_cause_is_read_from_the_exception_and_what_it_chains(exc: BaseException, cause: Cause) -> None:
    assert failure_of(exc).cause is cause
    assert failure_of(_named(exc)).cause is cause  # behind the library's error, as the lifecycle raises it
    assert failure_of(CleanupError("table test_x", [exc])).cause is cause


def test_a_failure_carries_code_operation_and_message() -> None:
    failure = failure_of(_named(_client_error("AccessDeniedException", "no", operation="CreateTable")))
    assert (failure.exception, failure.code, failure.operation) == ("AWSCallError", "AWSCallError", "CreateTable")
    assert failure.summary == "AWSCallError: table test_x_1: CreateTable failed with AccessDeniedException: no"
    raw = failure_of(_client_error("AccessDeniedException", "no\n  more", operation="ListQueues"))
    assert (raw.code, raw.operation, raw.message) == ("AccessDeniedException", "ListQueues", "no\n  more")
    assert raw.described == "ClientError: AccessDeniedException: no more"


def test_hints_name_the_service_endpoint_variable() -> None:
    emulator = Target(kind="emulator", endpoints={"s3": "http://127.0.0.1:9"}, region="us-east-1", run_id="r")
    hint = hint_for(Cause.CONNECTION, emulator, "s3")
    assert "nothing answers at http://127.0.0.1:9" in hint and "AWS_ENDPOINT_URL_S3" in hint
    assert "AWS_ENDPOINT_URL_SQS" in hint_for(Cause.NOT_IMPLEMENTED, emulator, "sqs")
    assert "correct AWS_ENDPOINT_URL /" in hint_for(Cause.CONNECTION, emulator, "sts")
    aws = Target(kind="aws", endpoints={}, region="eu-west-1", run_id="r")
    assert "AWS rejected the credentials" in hint_for(Cause.BAD_CREDENTIALS, aws)
    assert "s3rver" in hint_for(Cause.BAD_CREDENTIALS, emulator)


def test_a_failed_check_keeps_its_stage_and_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(handle: Any) -> None:
        raise AssertionError("read back nothing")

    make, _verify = CHECKS["queue"]
    monkeypatch.setitem(CHECKS, "queue", (make, wrong))
    result = check_kind("queue")
    assert result.status is CheckStatus.FAILED and not result.ok and result.stage is Stage.VERIFY
    assert result.failure is not None and result.failure.cause is Cause.MISMATCH
    assert result.error == "AssertionError: read back nothing"
    assert result.delete_s is not None, "the queue was deleted all the same"
    finding = doctor.check_lifecycle(Target(kind="embedded", endpoints={}, region="us-east-1", run_id="r"), "queue")
    assert (finding.status, finding.error) == ("failed", "AssertionError: read back nothing")
    assert "does not emulate the service faithfully" in finding.hint


def test_the_json_of_a_result_has_the_same_keys_as_before() -> None:
    result = KindResult("table", name="test_check_x", ready_s=0.1)
    assert list(result.as_dict()) == [
        "kind",
        "name",
        "ready_s",
        "verify_s",
        "delete_s",
        "error",
        "ok",
        "kept",
        "details",
    ]
    assert result.as_dict()["ok"] is False and result.as_dict()["error"] == ""


def test_probes_checks_and_fixtures_come_from_the_kinds() -> None:
    assert list(CHECKS) == list(KINDS) == ["table", "bucket", "queue", "topic"]
    assert doctor.PROBES == {kind.service: kind.probe for kind in KINDS.values()}
    assert doctor.SERVICE_OF_KIND == {"table": "dynamodb", "bucket": "s3", "queue": "sqs", "topic": "sns"}
    assert all(CHECKS[name][1] == kind.verify for name, kind in KINDS.items())
    assert fixtures._SYNC == {name: getattr(sync, f"ephemeral_{name}") for name in KINDS}
    assert fixtures._SPEC == {name: kind.spec_factory for name, kind in KINDS.items()}
    assert set(fixtures._ASYNC) == set(KINDS)
    assert "re" not in vars(doctor) and "re" not in vars(check)
