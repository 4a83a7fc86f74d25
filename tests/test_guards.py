"""The real-AWS guards: each refusal, and a pass, for ``SANDBOXRES_TARGET=aws``.

Real AWS is never reachable from the tests: where the guards need an account, STS is a moto server process
(started with ``MOTO_ACCOUNT_ID``, so the account id really comes from STS), handed to
:func:`sandboxres._guards.check_aws` as its STS client. The endpoint checks ask botocore how it resolves
endpoints, which makes no network call.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import sandboxres
import sandboxres.aio
from sandboxres import GuardError, _registry
from sandboxres._guards import (
    check_aws,
    check_endpoint_hosts,
    check_target,
    is_aws_host,
    reset_guards,
    resolved_endpoints,
    sts_client,
)
from sandboxres._target import Target, resolve_target
from tests.safety_fixtures import moto_process, raw

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

ACCOUNT = "210987654321"
OK_ENV = {"SANDBOXRES_AWS_ACCOUNTS": ACCOUNT}


@pytest.fixture(scope="module")
def sts_url() -> Iterator[str]:
    with moto_process({"MOTO_ACCOUNT_ID": ACCOUNT}) as url:
        yield url


@pytest.fixture(autouse=True)
def no_aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No AWS config or credentials file of this machine takes part; the guard cache starts empty."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    reset_guards()
    yield
    reset_guards()


class StsOn:
    """An STS client factory on a given URL that counts how often it is asked for a client."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.options = options
        self.calls = 0

    def __call__(self, target: Target) -> Any:
        self.calls += 1
        return raw("sts", self.url, **self.options)


def aws(region: str | None = "us-east-1") -> Target:
    environ = {"SANDBOXRES_TARGET": "aws"}
    if region:
        environ["AWS_REGION"] = region
    return resolve_target(environ)


# ---------------------------------------------------------------------------------------------------------
# CI


@pytest.mark.parametrize(
    "variable",
    [("CI", "true"), ("CI", "1"), ("GITHUB_ACTIONS", "true"), ("GITLAB_CI", "true"), ("JENKINS_URL", "http://ci/")],
)
def test_refused_in_ci(sts_url: str, variable: tuple[str, str]) -> None:
    sts = StsOn(sts_url)
    with pytest.raises(GuardError, match="refusing real AWS in CI") as refused:
        check_aws(aws(), {**OK_ENV, variable[0]: variable[1]}, sts_client_factory=sts)
    assert "SANDBOXRES_ALLOW_CI=1" in str(refused.value)
    assert f"{variable[0]}={variable[1]}" in str(refused.value)
    assert sts.calls == 0  # refused before anything else


@pytest.mark.parametrize("value", ["false", "0", "", "no"])
def test_false_ci_values_are_not_ci(sts_url: str, value: str) -> None:
    assert check_aws(aws(), {**OK_ENV, "CI": value}, sts_client_factory=StsOn(sts_url)) == ACCOUNT


def test_allow_ci_passes_with_a_loud_warning(sts_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sandboxres")
    environ = {**OK_ENV, "CI": "true", "SANDBOXRES_ALLOW_CI": "1"}
    assert check_aws(aws(), environ, sts_client_factory=StsOn(sts_url)) == ACCOUNT
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings, "no warning logged"
    assert "SANDBOXRES_ALLOW_CI=1" in warnings[0].getMessage()
    assert "REAL AWS" in warnings[0].getMessage() and "CI=true" in warnings[0].getMessage()


# ---------------------------------------------------------------------------------------------------------
# the account allow-list and STS


def test_accounts_variable_is_required(sts_url: str) -> None:
    sts = StsOn(sts_url)
    with pytest.raises(GuardError, match="needs SANDBOXRES_AWS_ACCOUNTS"):
        check_aws(aws(), {}, sts_client_factory=sts)
    assert sts.calls == 0


@pytest.mark.parametrize("value", ["12345", "21098765432a", "210987654321,nope", " , "])
def test_malformed_accounts_are_refused(sts_url: str, value: str) -> None:
    with pytest.raises(GuardError, match="SANDBOXRES_AWS_ACCOUNTS"):
        check_aws(aws(), {"SANDBOXRES_AWS_ACCOUNTS": value}, sts_client_factory=StsOn(sts_url))


def test_account_from_sts_must_be_listed(sts_url: str) -> None:
    with pytest.raises(GuardError) as refused:
        check_aws(aws(), {"SANDBOXRES_AWS_ACCOUNTS": "111111111111"}, sts_client_factory=StsOn(sts_url))
    message = str(refused.value)
    assert f"account {ACCOUNT}" in message and "111111111111" in message and "SANDBOXRES_AWS_ACCOUNTS" in message


def test_listed_account_passes(sts_url: str) -> None:
    environ = {"SANDBOXRES_AWS_ACCOUNTS": f"111111111111, {ACCOUNT}"}
    assert check_aws(aws("eu-west-1"), environ, sts_client_factory=StsOn(sts_url)) == ACCOUNT


def test_unreachable_sts_is_refused() -> None:
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sts = StsOn(f"http://127.0.0.1:{port}", config=Config(retries={"total_max_attempts": 1}, connect_timeout=2))
    with pytest.raises(GuardError, match="could not ask STS"):
        check_aws(aws(), OK_ENV, sts_client_factory=sts)


# ---------------------------------------------------------------------------------------------------------
# endpoints


def test_endpoint_variables_are_refused(sts_url: str) -> None:
    sts = StsOn(sts_url)
    with pytest.raises(GuardError, match="AWS_ENDPOINT_URL_SQS"):
        check_aws(aws(), {**OK_ENV, "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566"}, sts_client_factory=sts)
    assert sts.calls == 0


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://dynamodb.us-east-1.amazonaws.com", True),
        ("https://s3.amazonaws.com", True),
        ("https://sqs.cn-north-1.amazonaws.com.cn", True),
        ("https://dynamodb.us-east-1.api.aws", True),
        ("http://dynamodb.us-east-1.amazonaws.com", False),
        ("https://127.0.0.1:4566", False),
        ("http://localhost:4566", False),
        ("https://amazonaws.com.example.net", False),
        ("https://dynamodb.us-east-1.amazonaws.com.example.net", False),
        (None, False),
    ],
)
def test_aws_hosts(url: str | None, ok: bool) -> None:
    assert is_aws_host(url) is ok
    if ok:
        check_endpoint_hosts({"dynamodb": url})
    else:
        with pytest.raises(GuardError, match="endpoints outside AWS"):
            check_endpoint_hosts({"dynamodb": url, "s3": "https://s3.amazonaws.com"})


@pytest.mark.parametrize(("region", "suffix"), [("eu-west-1", ".amazonaws.com"), ("cn-north-1", ".amazonaws.com.cn")])
def test_resolved_endpoints_are_aws_hosts(region: str, suffix: str) -> None:
    endpoints = resolved_endpoints(aws(region))
    assert set(endpoints) == {"dynamodb", "s3", "sqs"}
    for url in endpoints.values():
        assert url.startswith("https://") and url.endswith(suffix), endpoints
    check_endpoint_hosts(endpoints)


def test_configured_endpoints_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``services`` section of the config file and AWS_ENDPOINT_URL_STS would send plain clients to a local
    server; the library's clients for ``aws`` and the guard's STS client ignore them."""
    config = tmp_path / "config"
    config.write_text(
        "[default]\nservices = local\n\n[services local]\n"
        "dynamodb =\n  endpoint_url = http://127.0.0.1:9\nsqs =\n  endpoint_url = http://127.0.0.1:9\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    plain = boto3.session.Session(region_name="us-east-1")
    assert plain.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:9"  # the setting is in force
    assert plain.client("sts").meta.endpoint_url == "http://127.0.0.1:9"

    target = aws()
    check_endpoint_hosts(resolved_endpoints(target))
    assert is_aws_host(sts_client(target).meta.endpoint_url)


def test_region_is_required() -> None:
    with pytest.raises(GuardError, match="needs a region: set AWS_REGION"):
        check_aws(aws(region=None), OK_ENV, sts_client_factory=StsOn("http://127.0.0.1:9"))


# ---------------------------------------------------------------------------------------------------------
# once per process and target; the front doors


def test_a_pass_is_remembered_per_target(
    sts_url: str, fault_proxy: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = fault_proxy(sts_url)
    sts = StsOn(proxy.url)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", ACCOUNT)
    check_target(aws(), sts_client_factory=sts)
    check_target(aws(), sts_client_factory=sts)
    assert len(proxy.requests) == 1  # one GetCallerIdentity
    check_target(aws("eu-west-1"), sts_client_factory=sts)  # another target: checked again
    assert len(proxy.requests) == 2
    reset_guards()
    check_target(aws(), sts_client_factory=sts)
    assert len(proxy.requests) == 3
    check_target(resolve_target({}), sts_client_factory=sts)  # the embedded target needs no guard
    assert len(proxy.requests) == 3 and sts.calls == 3


def test_a_refusal_is_checked_again(sts_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsOn(sts_url)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", "111111111111")
    with pytest.raises(GuardError):
        check_target(aws(), sts_client_factory=sts)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", ACCOUNT)
    check_target(aws(), sts_client_factory=sts)
    assert sts.calls == 2


@pytest.mark.parametrize("door", ["sync", "async"])
@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "SANDBOXRES_AWS_ACCOUNTS"), ({"CI": "true", "SANDBOXRES_AWS_ACCOUNTS": ACCOUNT}, "in CI")],
)
async def test_front_doors_refuse_before_anything_is_registered(
    monkeypatch: pytest.MonkeyPatch, door: str, env: dict[str, str], expected: str
) -> None:
    monkeypatch.setenv("SANDBOXRES_TARGET", "aws")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    live_before = _registry.live_count()
    with pytest.raises(GuardError, match=expected):
        if door == "sync":
            sandboxres.ephemeral_table("guarded").create()
        else:
            await sandboxres.aio.ephemeral_queue("guarded").create()
    assert _registry.live_count() == live_before
